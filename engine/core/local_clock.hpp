// A component's own clock, as clock_skew makes it: the clock its absolute timers are read on
// (a kv_store's key expiry, a cache's entry expiry, a rate limiter's windows and buckets).
//
// It reads the true (simulated) time, plus the offset of the clock_skew faults acting on the
// component, plus a drift: while their rate r is not 1, the clock runs r times as fast as true
// time, so it gains (r - 1) x elapsed. The fault controller retunes it whenever the faults change:
//   - under a rate the reading is continuous: a new rate bends it, it does not jump;
//   - when the rate is back to exactly 1 (no rate skew acts any more) the drift is dropped: the
//     clock is set right, as NTP steps a clock that has gone far off;
//   - an offset steps the reading at once, forward or back, when it starts, changes or ends.
// So the clock may step backwards; what reads it must cope (rate_limiter, kv_store, cache_store).
//
// Exact and deterministic: a rate is held in parts per billion, readings are integer ns computed
// in 128 bits. A clock never reads before zero (the start of the run): one set behind by more
// than the time elapsed reads zero until true time catches up.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/time.hpp"

namespace dsim {

class LocalClock {
 public:
  static constexpr int64_t kOne = 1'000'000'000;  // a rate of 1 in parts per billion

  // The reading at true time `now` (now >= the last retune).
  Time read(Time now) const { return clamp(drifting(now) + offset_.count_ns()); }

  // The first true instant at or after `now` at which the clock reads `local` or later (for
  // scheduling a local deadline); Time::max() if it never does within the range of Time.
  Time when(Time local, Time now) const {
    if (read(now) >= local) return now;
    // local > read(now) >= 0, so the clamp plays no part: solve
    // base + floor((t - since) ppb / 1e9) + offset >= local for the least t.
    const Wide need = static_cast<Wide>(local.count_ns()) - offset_.count_ns() - base_.count_ns();
    const Wide steps = (need * kOne + ppb_ - 1) / ppb_;  // ceil; need > 0
    const Wide t = static_cast<Wide>(since_.count_ns()) + steps;
    return t >= static_cast<Wide>(kMax) ? Time::max()
                                        : std::max(now, Time::ns(static_cast<int64_t>(t)));
  }

  // From true time `now` on, the clock runs at `rate` and reads `offset` ahead (negative:
  // behind) of its drifting part. See the top of the file for what is kept and what steps.
  void retune(Time now, double rate, Time offset) {
    const int64_t ppb = to_ppb(rate);
    if (ppb == kOne) {
      base_ = now;  // no rate skew: the drift is dropped
    } else {
      base_ = Time::ns(saturate(drifting(now)));
    }
    since_ = now;
    ppb_ = ppb;
    offset_ = offset;
  }

  // True when it reads the true time (no skew, no drift left).
  bool exact() const { return ppb_ == kOne && offset_ == Time::zero() && base_ == since_; }

 private:
  __extension__ typedef __int128 Wide;
  static constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

  static int64_t to_ppb(double rate) {
    const double p = std::round(rate * static_cast<double>(kOne));
    if (!(p >= 1)) return 1;
    if (!(p < 9e18)) return 9'000'000'000'000'000'000;
    return static_cast<int64_t>(p);
  }
  static int64_t saturate(Wide v) {
    if (v >= kMax) return kMax - 1;  // below Time::max(), which means "never"
    if (v <= -kMax) return -kMax;
    return static_cast<int64_t>(v);
  }
  static Time clamp(Wide v) { return Time::ns(std::max<int64_t>(0, saturate(v))); }
  // base + floor((now - since) ppb / 1e9): the reading without the offset.
  Wide drifting(Time now) const {
    const Wide elapsed = (now - since_).count_ns();
    return static_cast<Wide>(base_.count_ns()) + elapsed * ppb_ / kOne;
  }

  Time since_;  // true time of the last retune
  Time base_;   // the drifting part's reading at since_ (true time plus the drift gathered)
  int64_t ppb_ = kOne;
  Time offset_;
};

}  // namespace dsim
