// Rate limiters: token bucket, fixed window, sliding window log and sliding window counter.
//
// Each algorithm is a small class behind one interface, `admit(now, key, retry_after)`, and keeps
// its per-key state in an ordered map, so that no iteration order can reach a result. All of them
// compute in integer nanoseconds (128-bit where products could overflow), so boundary cases are
// decided exactly, the same way on every machine:
//
//   token_bucket            a token every I = 1e9 / rate ns (rounded up to a whole ns), at most
//                           `burst` tokens; a request takes one. Kept as GCRA's "full again
//                           at" instant V: admit iff V - now <= (burst - 1) I, then
//                           V = max(V, now) + I. Any closed interval of length t admits at most
//                           burst + floor(t / I).
//   fixed_window            windows [kW, (k+1)W) aligned on time zero; at most `limit` per window.
//   sliding_window_log      the admitted instants of the last W: admit iff fewer than `limit`
//                           lie in (now - W, now]. Any half-open interval of length W holds at
//                           most `limit`.
//   sliding_window_counter  aligned windows as above, weighted: with p requests in the previous
//                           window, c in the current one and e ns of it elapsed, admit iff
//                           p (W - e) / W + c + 1 <= limit (the request itself included, `<=`).
//
// Only admitted requests are counted. `retry_after` of a refusal is exact: the earliest instant
// at which this limiter would admit the key if nothing else were admitted in between (a client
// that waits exactly that long gets in; one nanosecond less does not), as a duration on the
// limiter's clock.
//
// `now` is the limiter's own clock (a gateway's, core/local_clock.hpp), which clock_skew can step
// backwards. Nothing may then go negative, overflow or re-open what was used up:
//   token_bucket  time before the key's last reading counts as no time at all, as in
//                 golang.org/x/time/rate: the bucket keeps the tokens it held, gains or loses
//                 none for the step, and refills from the new reading on. (A bucket whose
//                 "full again" instant lies in the future simply has a debt, never below zero.)
//   the windows   each key keeps the latest reading it has seen and counts an earlier one as
//                 that (a high-water mark): a window never re-opens and the log stays in order,
//                 so every window still admits at most `limit`; a clock stepped back by d
//                 stalls the key until it has caught up (retry_after says how long).
// Either way a step back admits nothing the forward run of the clock would not have.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>

#include "core/time.hpp"

namespace dsim {

enum class RateAlgorithm : uint8_t {
  token_bucket,
  fixed_window,
  sliding_window_log,
  sliding_window_counter
};

struct RateLimitConfig {
  RateAlgorithm algorithm = RateAlgorithm::token_bucket;
  double rate = 1;           // token_bucket: tokens per second
  int64_t burst = 1;         // token_bucket: bucket size
  int64_t limit = 1;         // the windows: requests per window
  Time window = Time::s(1);  // the windows
  bool operator==(const RateLimitConfig&) const = default;
};

// Which requests share a limit. Requests carry one key, the user (Request::key); API keys and
// client addresses are derived from it deterministically:
//   global   every request counts against one key (0)
//   user     the request's key
//   api_key  user % api_keys         (users are issued api_keys keys round robin)
//   ip       user / users_per_ip     (consecutive users sit behind one address, as behind a NAT)
enum class LimitKey : uint8_t { global, user, api_key, ip };

struct KeyMapping {
  LimitKey by = LimitKey::user;
  int64_t api_keys = INT64_MAX;  // used by api_key only
  int64_t users_per_ip = 1;      // used by ip only
  uint64_t operator()(uint64_t user) const {
    switch (by) {
      case LimitKey::global:
        return 0;
      case LimitKey::user:
        return user;
      case LimitKey::api_key:
        return user % static_cast<uint64_t>(api_keys);
      case LimitKey::ip:
        return user / static_cast<uint64_t>(users_per_ip);
    }
    return 0;
  }
  // Equal when they map every user alike (the unused field does not matter).
  bool operator==(const KeyMapping& o) const {
    return by == o.by && (by != LimitKey::api_key || api_keys == o.api_keys) &&
           (by != LimitKey::ip || users_per_ip == o.users_per_ip);
  }
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Admits (and counts) one request of `key` at `now`, or refuses it and sets `retry_after` to
  // the time until it would be admitted. `now` may go back between calls (see above).
  virtual bool admit(Time now, uint64_t key, Time& retry_after) = 0;
  // From this instant on, `key`'s state is that of a key never seen (a store may forget it then;
  // it is also the expiry a Redis implementation would set).
  virtual Time forget_at(uint64_t key) const = 0;
  // Drops `key`'s state, as a store does when the key expires (early, if its clock is ahead).
  virtual void forget(uint64_t key) = 0;
  virtual std::unique_ptr<RateLimiter> clone() const = 0;
};

std::unique_ptr<RateLimiter> make_rate_limiter(const RateLimitConfig& config);

class TokenBucket final : public RateLimiter {
 public:
  TokenBucket(double rate_per_second, int64_t burst);
  bool admit(Time now, uint64_t key, Time& retry_after) override;
  Time forget_at(uint64_t key) const override;
  void forget(uint64_t key) override { state_.erase(key); }
  std::unique_ptr<RateLimiter> clone() const override {
    return std::make_unique<TokenBucket>(*this);
  }
  // Nanoseconds per token: 1e9 / rate, rounded up (a rate is never exceeded).
  int64_t interval_ns() const { return interval_ns_; }
  static int64_t interval_for(double rate_per_second);

 private:
  struct State {
    Time full;  // when the bucket is full again (GCRA's TAT)
    Time seen;  // the latest reading of the clock for this key
  };
  int64_t interval_ns_;
  int64_t tolerance_ns_;  // (burst - 1) * interval, saturated
  std::map<uint64_t, State> state_;
};

class FixedWindow final : public RateLimiter {
 public:
  FixedWindow(int64_t limit, Time window) : limit_(limit), window_ns_(window.count_ns()) {}
  bool admit(Time now, uint64_t key, Time& retry_after) override;
  Time forget_at(uint64_t key) const override;
  void forget(uint64_t key) override { state_.erase(key); }
  std::unique_ptr<RateLimiter> clone() const override {
    return std::make_unique<FixedWindow>(*this);
  }

 private:
  struct State {
    int64_t index = -1;  // which window the count belongs to: the latest the key has seen
    int64_t count = 0;
  };
  int64_t limit_;
  int64_t window_ns_;
  std::map<uint64_t, State> state_;
};

class SlidingWindowLog final : public RateLimiter {
 public:
  SlidingWindowLog(int64_t limit, Time window) : limit_(limit), window_(window) {}
  bool admit(Time now, uint64_t key, Time& retry_after) override;
  Time forget_at(uint64_t key) const override;
  void forget(uint64_t key) override { log_.erase(key); }
  std::unique_ptr<RateLimiter> clone() const override {
    return std::make_unique<SlidingWindowLog>(*this);
  }

 private:
  struct Log {
    std::deque<Time> admitted;  // oldest first
    Time seen;                  // the latest reading of the clock for this key
  };
  int64_t limit_;
  Time window_;
  std::map<uint64_t, Log> log_;
};

class SlidingWindowCounter final : public RateLimiter {
 public:
  SlidingWindowCounter(int64_t limit, Time window) : limit_(limit), window_ns_(window.count_ns()) {}
  bool admit(Time now, uint64_t key, Time& retry_after) override;
  Time forget_at(uint64_t key) const override;
  void forget(uint64_t key) override { state_.erase(key); }
  std::unique_ptr<RateLimiter> clone() const override {
    return std::make_unique<SlidingWindowCounter>(*this);
  }

 private:
  struct State {
    int64_t index = 0;     // the current window
    int64_t previous = 0;  // admitted in window index - 1
    int64_t current = 0;   // admitted in window index
    Time seen;             // the latest reading of the clock for this key
  };
  void roll(State& s, int64_t index) const;
  int64_t limit_;
  int64_t window_ns_;
  std::map<uint64_t, State> state_;
};

}  // namespace dsim
