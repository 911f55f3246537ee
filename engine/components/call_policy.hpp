// How a component calls another: timeout, retries with backoff and jitter, a retry budget,
// deadline propagation, a circuit breaker, a bulkhead and a fallback.
//
// These are the parameters only; Outbound (outbound.hpp) carries them out. Every kind that makes
// calls (source, service steps, gateway, load balancer, cache, queue consumers...) embeds one
// CallPolicy and describes its fields inline, so a policy reads the same everywhere:
//
//   timeout: 200ms
//   retry: {max_attempts: 3, backoff: exponential, base: 10ms, cap: 1s, jitter: full}
//   circuit_breaker: {failure_rate: 0.5, window: 20, minimum_calls: 10, open_duration: 5s}
//   bulkhead: 50
//   fallback: {latency: 1ms}
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

#include "core/params.hpp"
#include "core/request.hpp"

namespace dsim {

// A set of failure reasons, written as "timeout, error, rate_limited" or "all".
using ReasonMask = uint32_t;
inline constexpr ReasonMask kAllReasons = ~ReasonMask{0} & ~ReasonMask{1};  // every failure
inline bool contains(ReasonMask m, Reason r) {
  return m & (ReasonMask{1} << static_cast<int>(r));
}
constexpr ReasonMask mask_of(std::initializer_list<Reason> reasons) {
  ReasonMask m = 0;
  for (Reason r : reasons) m |= ReasonMask{1} << static_cast<int>(r);
  return m;
}
// Parses a reason list; on error returns false and says why.
bool parse_reasons(const std::string& text, ReasonMask& out, std::string& error);

// Retries at most `ratio` of the calls made in the last `window` (plus `min_per_second` so that a
// quiet caller can still retry), as in Finagle's and Envoy's retry budgets.
struct RetryBudgetSpec : ParamGroup {
  const char* shared_doc_title() const override { return "retry.budget"; }
  std::unique_ptr<ParamGroup> fresh() const override { return std::make_unique<RetryBudgetSpec>(); }
  double ratio = 0.1;
  double min_per_second = 0;
  Time window = Time::from_seconds(10);
  void describe(ParamVisitor& v) override;
};

// Backoff and jitter follow the AWS Architecture Blog's "Exponential Backoff And Jitter":
// with n = 0 for the first retry, t = min(cap, base * 2^n) (or base, constant backoff), and
//   none: t;  full: uniform(0, t);  equal: t/2 + uniform(0, t/2);
//   decorrelated: min(cap, uniform(base, 3 * previous sleep)), the previous sleep starting at base.
struct RetrySpec : ParamGroup {
  const char* shared_doc_title() const override { return "retry"; }
  std::unique_ptr<ParamGroup> fresh() const override { return std::make_unique<RetrySpec>(); }
  int64_t max_attempts = 3;  // including the first
  int backoff = 1;           // kBackoffNames
  Time base = Time::from_seconds(0.01);
  Time cap = Time::from_seconds(1);
  int jitter = 1;  // kJitterNames
  std::string on =
      "timeout, error, unavailable, rate_limited, queue_full, pool_exhausted, "
      "pool_timeout, lock_timeout, connection_refused, conflict";
  bool respect_retry_after = true;
  RetryBudgetSpec budget;
  ReasonMask retry_on =
      mask_of({Reason::timeout, Reason::error, Reason::unavailable, Reason::rate_limited,
               Reason::queue_full, Reason::pool_exhausted, Reason::pool_timeout,
               Reason::lock_timeout, Reason::connection_refused, Reason::conflict});  // from `on`

  enum Backoff { constant, exponential };
  enum Jitter { none, full, equal, decorrelated };
  static constexpr const char* kBackoffNames[] = {"constant", "exponential", nullptr};
  static constexpr const char* kJitterNames[] = {"none", "full", "equal", "decorrelated", nullptr};
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// Closed -> open when, over the last `window` calls (at least `minimum_calls` of them), the share
// of failures reaches failure_rate or the share of calls slower than slow_call_duration reaches
// slow_call_rate. Open refuses calls (circuit_open) for open_duration, then half-open lets
// half_open_calls probes through: if they fail at the same thresholds it opens again, otherwise it
// closes. (Resilience4j's count-based breaker.)
struct CircuitBreakerSpec : ParamGroup {
  const char* shared_doc_title() const override { return "circuit_breaker"; }
  std::unique_ptr<ParamGroup> fresh() const override {
    return std::make_unique<CircuitBreakerSpec>();
  }
  double failure_rate = 0.5;
  double slow_call_rate = 1.0;
  Time slow_call_duration = Time::from_seconds(60);
  int64_t window = 100;
  int64_t minimum_calls = 100;
  Time open_duration = Time::from_seconds(60);
  int64_t half_open_calls = 10;
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// After the last attempt fails (for one of the listed reasons), answer success anyway - a cached
// or default response - after `latency`, and count the answer as degraded.
struct FallbackSpec : ParamGroup {
  const char* shared_doc_title() const override { return "fallback"; }
  std::unique_ptr<ParamGroup> fresh() const override { return std::make_unique<FallbackSpec>(); }
  Time latency = Time::zero();
  std::string on = "all";
  ReasonMask reasons = kAllReasons;
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

class Rng;
// The wait before retry number `retry_index` (0 for the first retry); `previous` is the previous
// wait (the base before the first), used by decorrelated jitter.
Time backoff_wait(const RetrySpec& r, int retry_index, Time previous, Rng& rng);

struct CallPolicy {
  // What every attempt reads comes first, in one cache line; the rest only matters when an
  // attempt fails (or for a breaker).
  Time timeout = Time::zero();   // zero: wait for ever
  int64_t bulkhead = INT64_MAX;  // concurrent calls
  bool propagate_deadline = false;
  RetrySpec retry;  // used when retry.present
  CircuitBreakerSpec circuit_breaker;
  FallbackSpec fallback;
  // Adds the policy's fields to the enclosing block (a step, a source, a gateway...).
  void describe(ParamVisitor& v);
};

}  // namespace dsim
