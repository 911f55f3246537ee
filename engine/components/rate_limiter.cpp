#include "components/rate_limiter.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

namespace dsim {
namespace {

__extension__ typedef __int128 Wide;  // products of counts and nanoseconds
constexpr int64_t kMaxNs = std::numeric_limits<int64_t>::max();

int64_t saturate(Wide v) {
  return v > static_cast<Wide>(kMaxNs) ? kMaxNs : static_cast<int64_t>(v);
}

// floor(a / b) for a >= 0, b > 0.
Wide floor_div(Wide a, Wide b) {
  return a / b;
}

}  // namespace

std::unique_ptr<RateLimiter> make_rate_limiter(const RateLimitConfig& c) {
  switch (c.algorithm) {
    case RateAlgorithm::token_bucket:
      return std::make_unique<TokenBucket>(c.rate, c.burst);
    case RateAlgorithm::fixed_window:
      return std::make_unique<FixedWindow>(c.limit, c.window);
    case RateAlgorithm::sliding_window_log:
      return std::make_unique<SlidingWindowLog>(c.limit, c.window);
    case RateAlgorithm::sliding_window_counter:
      return std::make_unique<SlidingWindowCounter>(c.limit, c.window);
  }
  return nullptr;
}

// --- Token bucket (as GCRA) -------------------------------------------------------------------

// 1e9 / rate, rounded up so that the configured rate is never exceeded. A quotient within 1e-6 ns
// of a whole number is that number: 1e9 / 10 must give exactly 1e8, whatever the last bit of the
// division says.
int64_t TokenBucket::interval_for(double rate_per_second) {
  const double x = 1e9 / rate_per_second;
  if (!(x < 9.2e18)) return kMaxNs;
  const double nearest = std::round(x);
  const double chosen = std::fabs(x - nearest) < 1e-6 ? nearest : std::ceil(x);
  return std::max<int64_t>(1, static_cast<int64_t>(chosen));
}

TokenBucket::TokenBucket(double rate_per_second, int64_t burst)
    : interval_ns_(interval_for(rate_per_second)),
      tolerance_ns_(saturate(static_cast<Wide>(std::max<int64_t>(burst, 1) - 1) * interval_ns_)) {}

// tokens(now) = burst - max(0, V - now) / I. A request needs one token: max(0, V - now) <=
// (burst - 1) I. Taking it moves V one interval later.
bool TokenBucket::admit(Time now, uint64_t key, Time& retry_after) {
  State& s = state_[key];  // a new key: V = 0 <= now, a full bucket
  if (now < s.seen) {
    // The clock went back: keep the debt the bucket had at its last reading (no time passed).
    s.full = now + (s.full > s.seen ? s.full - s.seen : Time::zero());
  }
  s.seen = now;
  const int64_t debt = s.full > now ? (s.full - now).count_ns() : 0;
  if (debt <= tolerance_ns_) {
    s.full = std::max(s.full, now) + Time::ns(interval_ns_);
    return true;
  }
  retry_after = Time::ns(debt - tolerance_ns_);
  return false;
}

Time TokenBucket::forget_at(uint64_t key) const {
  auto it = state_.find(key);
  return it == state_.end() ? Time::zero() : it->second.full;
}

// --- Fixed window ------------------------------------------------------------------------------

bool FixedWindow::admit(Time now, uint64_t key, Time& retry_after) {
  assert(now >= Time::zero());
  State& s = state_[key];
  // A reading in an earlier window than the key's latest counts in the latest (high-water).
  const int64_t index = std::max(s.index, now.count_ns() / window_ns_);
  if (s.index != index) s = State{index, 0};
  if (s.count < limit_) {
    ++s.count;
    return true;
  }
  retry_after = Time::ns(saturate(static_cast<Wide>(index + 1) * window_ns_) - now.count_ns());
  return false;
}

Time FixedWindow::forget_at(uint64_t key) const {
  auto it = state_.find(key);
  if (it == state_.end() || it->second.count == 0) return Time::zero();
  return Time::ns(saturate(static_cast<Wide>(it->second.index + 1) * window_ns_));
}

// --- Sliding window log ------------------------------------------------------------------------

// An admission at t counts while now < t + W, i.e. the window is (now - W, now]. `now` is the
// key's high-water reading, so the log stays in order when the clock steps back.
bool SlidingWindowLog::admit(Time reading, uint64_t key, Time& retry_after) {
  Log& l = log_[key];
  const Time now = l.seen = std::max(l.seen, reading);
  std::deque<Time>& log = l.admitted;
  while (!log.empty() && log.front() + window_ <= now) log.pop_front();
  if (static_cast<int64_t>(log.size()) < limit_) {
    log.push_back(now);
    return true;
  }
  // Exactly `limit` entries: the oldest leaving the window lets the next request in.
  retry_after = (log.front() + window_) - reading;
  return false;
}

Time SlidingWindowLog::forget_at(uint64_t key) const {
  auto it = log_.find(key);
  if (it == log_.end() || it->second.admitted.empty()) return Time::zero();
  return it->second.admitted.back() + window_;
}

// --- Sliding window counter --------------------------------------------------------------------

void SlidingWindowCounter::roll(State& s, int64_t index) const {
  if (s.index == index) return;
  s.previous = s.index + 1 == index ? s.current : 0;
  s.current = 0;
  s.index = index;
}

// Admit iff previous * (W - e) / W + current + 1 <= limit, multiplied out by W so that it is
// decided in integers: previous * (W - e) + (current + 1) * W <= limit * W. `now` is the key's
// high-water reading.
bool SlidingWindowCounter::admit(Time reading, uint64_t key, Time& retry_after) {
  assert(reading >= Time::zero());
  const Wide w = window_ns_;
  State& s = state_[key];
  const Time now = s.seen = std::max(s.seen, reading);
  const int64_t index = now.count_ns() / window_ns_;
  roll(s, index);
  const Wide elapsed = now.count_ns() - static_cast<Wide>(index) * w;
  const Wide lhs = static_cast<Wide>(s.previous) * (w - elapsed) + (s.current + 1) * w;
  if (lhs <= static_cast<Wide>(limit_) * w) {
    ++s.current;
    return true;
  }
  // The earliest e' in this window with previous * (W - e') <= (limit - 1 - current) * W, i.e.
  // e' = W - floor((limit - 1 - current) W / previous); if that is not inside this window, the
  // next one starts with previous' = current, current' = 0 and needs
  // e'' = W - floor((limit - 1) W / current) (e'' = W when limit is 1: the window after that).
  const Wide start = static_cast<Wide>(index) * w;
  Wide at = 0;
  const int64_t room = limit_ - 1 - s.current;
  bool found = false;
  if (room >= 0 && s.previous > 0) {
    const Wide e = w - floor_div(room * w, s.previous);
    if (e < w) {
      at = start + e;
      found = true;
    }
  }
  if (!found) {
    const Wide e =
        s.current == 0 ? 0 : std::max<Wide>(0, w - floor_div((limit_ - 1) * w, s.current));
    at = start + w + e;
  }
  retry_after = Time::ns(saturate(at) - reading.count_ns());
  return false;
}

Time SlidingWindowCounter::forget_at(uint64_t key) const {
  auto it = state_.find(key);
  if (it == state_.end()) return Time::zero();
  const State& s = it->second;
  if (s.current > 0) return Time::ns(saturate(static_cast<Wide>(s.index + 2) * window_ns_));
  if (s.previous > 0) return Time::ns(saturate(static_cast<Wide>(s.index + 1) * window_ns_));
  return Time::zero();
}

}  // namespace dsim
