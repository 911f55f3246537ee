// Simulated time: a strong 64-bit integer count of nanoseconds.
//
// One type serves for instants and for durations (as OMNeT++'s simtime_t does): the arithmetic
// a model needs is "now + delay" and "t1 - t0", and a second type would add ceremony without
// catching real bugs. What the type does catch is mixing simulated time with plain numbers or
// with wall-clock time: there is no implicit conversion from or to an integer or a double.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

namespace dsim {

class Time {
 public:
  constexpr Time() = default;

  static constexpr Time ns(int64_t v) { return Time(v); }
  static constexpr Time us(int64_t v) { return Time(v * 1'000); }
  static constexpr Time ms(int64_t v) { return Time(v * 1'000'000); }
  static constexpr Time s(int64_t v) { return Time(v * 1'000'000'000); }
  // Rounds to the nearest nanosecond; saturates instead of overflowing.
  static constexpr Time from_seconds(double seconds) {
    const double ns = seconds * 1e9;
    if (!(ns < 9.2e18)) return max();  // also catches NaN and +inf
    if (ns < -9.2e18) return Time(std::numeric_limits<int64_t>::min());
    return Time(static_cast<int64_t>(ns < 0 ? ns - 0.5 : ns + 0.5));
  }
  static constexpr Time zero() { return Time(0); }
  // "Never": later than every reachable instant. Used instead of -1 sentinels.
  static constexpr Time max() { return Time(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t count_ns() const { return ns_; }
  constexpr double seconds() const { return static_cast<double>(ns_) * 1e-9; }
  constexpr bool is_max() const { return ns_ == std::numeric_limits<int64_t>::max(); }

  constexpr auto operator<=>(const Time&) const = default;

  // Saturates at max(): "never" plus a delay is still never, and no sum wraps into the past.
  constexpr Time operator+(Time d) const {
    int64_t sum = 0;
    if (is_max() || d.is_max() || __builtin_add_overflow(ns_, d.ns_, &sum)) {
      return (ns_ < 0 && d.ns_ < 0) ? Time(std::numeric_limits<int64_t>::min()) : max();
    }
    return Time(sum);
  }
  constexpr Time operator-(Time d) const { return Time(ns_ - d.ns_); }
  constexpr Time& operator+=(Time d) { return *this = *this + d; }
  constexpr Time& operator-=(Time d) { return *this = *this - d; }
  constexpr Time operator*(int64_t k) const { return Time(ns_ * k); }

 private:
  constexpr explicit Time(int64_t v) : ns_(v) {}
  int64_t ns_ = 0;
};

}  // namespace dsim
