// external: a third-party API (an email, SMS or push provider such as SES, Twilio or FCM).
//
//   email-provider:
//     kind: external
//     latency: {lognormal: {median: 80ms, p99: 400ms}}
//     error_rate: 0.01                     # answered with reason error, after the latency
//     rate_limit: {rate: 14/s, burst: 14}  # the provider's limit: 429 + retry-after
//     quota: {limit: 50k, period: 1d}      # per fixed period from time 0
//     concurrency: 100                     # optional: more at once get a 429
//
// The provider is a black box with unbounded capacity: every admitted call just waits its
// latency (no queueing), then succeeds or fails with the error rate. Admission is checked in the
// order a provider's front door would: the concurrency limit, the rate limit (a token bucket),
// then the quota. Refusals are answered at once; a rate-limit refusal carries the time until the
// next token (Retry-After), a quota refusal the time until the next period. A rate-limited call
// does not count against the quota; a quota refusal has used a token.
//
// A crash loses the calls in progress (the provider's process died under them): with the crash's
// default mode reset their callers get `unavailable` at the crash instant, as a connection reset;
// with mode hang nobody answers and the callers time out. The rate limit and the quota live in
// the provider's account systems, not in the process that died: they carry on across the crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/component.hpp"
#include "core/distribution.hpp"
#include "core/params.hpp"
#include "core/random.hpp"
#include "core/slot_stack.hpp"

namespace dsim {

// A token bucket: `burst` tokens, refilled at `rate` per second, full at the start.
struct ProviderRateLimitSpec : ParamGroup {
  double rate = 0;  // tokens per second
  int64_t burst = 1;
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// At most `limit` admitted calls in each period [k * period, (k + 1) * period).
struct ProviderQuotaSpec : ParamGroup {
  int64_t limit = 0;
  Time period = Time::s(86'400);
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

struct ExternalParams : ParamsOf<ExternalParams> {
  Distribution latency;
  double error_rate = 0;
  int64_t concurrency = INT64_MAX;
  ProviderRateLimitSpec rate_limit;
  ProviderQuotaSpec quota;
  void describe(ParamVisitor& v) override;
};

class External final : public Component {
 public:
  External(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;

  const ExternalParams& config() const { return p_; }
  int64_t in_flight() const { return in_flight_; }

 private:
  enum EventKind : uint32_t { kAnswer = 0 };

  // Exact for whole-number rates: the level is kept in billionths of a token, so a rate of r
  // tokens per second adds exactly r units every nanosecond and every sum is an integer (held in
  // a double, exact below 2^53: bursts are at most 10^6 tokens).
  class TokenBucket {
   public:
    void configure(double rate_per_second, int64_t burst, Time now);
    // Takes a token if one is there; otherwise sets `wait` to the time until one will be.
    bool take(Time now, Time& wait);

   private:
    static constexpr double kToken = 1e9;
    double rate_ = 0;  // units per nanosecond = tokens per second
    double capacity_ = 0;
    double level_ = 0;
    Time last_;
  };

  // A call in progress, waiting for its answer event; the event carries the slot and its serial,
  // so that after a crash has ended the call the event finds it stale.
  struct InProgress {
    CallHandle call = 0;
    uint32_t serial = 0;
    bool live = false;
  };

  void refuse(Simulation& sim, CallHandle h, Reason reason, Time retry_after);

  ExternalParams& p_;
  TokenBucket bucket_;
  int64_t in_flight_ = 0;
  std::vector<InProgress> calls_;  // a slab; in_flight_ of them are live
  SlotStack free_calls_;
  int64_t quota_period_ = -1;  // index of the period quota_used_ counts
  int64_t quota_used_ = 0;
  Rng latency_rng_;
  Rng error_rng_;
};

}  // namespace dsim
