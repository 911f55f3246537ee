#include "components/external.hpp"

#include <algorithm>
#include <cmath>

#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

// --- Parameters ---------------------------------------------------------------------------

void ProviderRateLimitSpec::describe(ParamVisitor& v) {
  v.rate({"rate", "rate", "Tokens added per second (the provider's sustained rate).", true}, rate);
  v.count({"burst", "count", "Bucket size: calls admitted at once after a quiet spell.", true},
          burst, 1, 1'000'000);
}

std::string ProviderRateLimitSpec::check() {
  if (rate <= 0) return "rate must be above zero (a bucket that never refills)";
  return {};
}

void ProviderQuotaSpec::describe(ParamVisitor& v) {
  v.count({"limit", "count", "Calls admitted per period.", true}, limit, 0, INT64_MAX);
  v.duration({"period", "duration",
              "Length of a quota period. Periods are fixed and start at time 0; 1d means per "
              "simulated day.",
              true},
             period);
}

std::string ProviderQuotaSpec::check() {
  if (period <= Time::zero()) return "period must be longer than zero";
  return {};
}

void ExternalParams::describe(ParamVisitor& v) {
  v.distribution({"latency", "distribution",
                  "Time the provider takes to answer an admitted call (no queueing: calls do not "
                  "wait for each other).",
                  true, true},
                 latency);
  v.number(
      {"error_rate", "fraction",
       "Share of admitted calls answered, after their latency, with reason error.", false, true},
      error_rate, 0, 1);
  v.count({"concurrency", "count",
           "Calls in progress at once; beyond it calls are refused at once with rate_limited "
           "(no retry-after). `unbounded` for no limit."},
          concurrency, 1, INT64_MAX);
  v.group({"rate_limit", "block",
           "The provider's rate limit, a token bucket `{rate, burst}`, full at the start. A call "
           "finding it empty is refused at once with rate_limited and a retry-after of the time "
           "until the next token."},
          rate_limit);
  v.group({"quota", "block",
           "A quota `{limit, period}`: at most limit admitted calls per fixed period. Beyond it "
           "calls are refused with quota_exceeded and a retry-after of the time until the next "
           "period."},
          quota);
}

// --- Token bucket -------------------------------------------------------------------------

void External::TokenBucket::configure(double rate_per_second, int64_t burst, Time now) {
  rate_ = rate_per_second;
  capacity_ = static_cast<double>(burst) * kToken;
  level_ = capacity_;
  last_ = now;
}

bool External::TokenBucket::take(Time now, Time& wait) {
  level_ = std::min(capacity_, level_ + rate_ * static_cast<double>((now - last_).count_ns()));
  last_ = now;
  if (level_ >= kToken) {
    level_ -= kToken;
    return true;
  }
  // Rounded up, so that after `wait` the token is there.
  wait = Time::ns(static_cast<int64_t>(std::ceil((kToken - level_) / rate_)));
  return false;
}

// --- The provider -------------------------------------------------------------------------

External::External(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "external", std::move(params)),
      p_(static_cast<ExternalParams&>(this->params())) {}

void External::start(Simulation& sim) {
  latency_rng_ = sim.make_rng(*this, "latency");
  error_rng_ = sim.make_rng(*this, "errors");
  if (p_.rate_limit.present) bucket_.configure(p_.rate_limit.rate, p_.rate_limit.burst, sim.now());
  if (p_.concurrency != INT64_MAX) metrics().capacity().set(sim.now(), p_.concurrency);
}

void External::refuse(Simulation& sim, CallHandle h, Reason reason, Time retry_after) {
  if (reason == Reason::rate_limited) metrics().count(Counter::rate_limited);
  metrics().on_lost(sim.now(), outcome_of(reason), reason);
  Reply r = Reply::failure(reason);
  r.retry_after = retry_after;
  sim.reply(h, r);
}

void External::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  const Time now = sim.now();
  metrics().on_arrival(now);
  if (in_flight_ >= p_.concurrency) {
    refuse(sim, h, Reason::rate_limited, Time::zero());
    return;
  }
  if (p_.rate_limit.present) {
    Time wait;
    if (!bucket_.take(now, wait)) {
      refuse(sim, h, Reason::rate_limited, wait);
      return;
    }
  }
  if (p_.quota.present) {
    const int64_t period = p_.quota.period.count_ns();
    const int64_t k = now.count_ns() / period;
    if (k != quota_period_) {
      quota_period_ = k;
      quota_used_ = 0;
    }
    if (quota_used_ >= p_.quota.limit) {
      refuse(sim, h, Reason::quota_exceeded, Time::ns((k + 1) * period) - now);
      return;
    }
    ++quota_used_;
  }
  ++in_flight_;
  metrics().busy().set(now, in_flight_);
  Time latency = p_.latency.sample(latency_rng_);
  if (faults().active) [[unlikely]]
    latency = faults().stretch(latency, sim.call(h).caller);
  uint32_t slot = free_calls_.take(calls_);
  InProgress& c = calls_[slot];
  c.call = h;
  c.live = true;
  sim.schedule(now + latency, *this, kAnswer, pack_handle(slot, c.serial));
}

void External::on_event(Simulation& sim, const Event& e) {
  const uint32_t slot = payload_handle(e.payload);
  InProgress& c = calls_[slot];
  if (!c.live || c.serial != payload_serial(e.payload)) return;  // lost in a crash
  const CallHandle h = c.call;
  c.live = false;
  ++c.serial;
  free_calls_.push_back(slot);
  --in_flight_;
  metrics().busy().set(sim.now(), in_flight_);
  // Drawn for every answer, so that a live change of error_rate does not shift later draws.
  const bool error = error_rng_.uniform01() < p_.error_rate;
  if (error) {
    metrics().on_lost(sim.now(), outcome_of(Reason::error), Reason::error);
    sim.reply(h, Reply::failure(Reason::error));
  } else {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
    sim.reply(h, Reply::success());
  }
}

// The calls in progress are lost with the process, in slot order. The state is cleared first:
// an answer may bring a new call at once, which the crashed provider refuses at its door.
void External::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (!faults().crashed || before.crashed) return;
  std::vector<CallHandle> held;
  for (uint32_t slot = 0; slot < calls_.size(); ++slot) {
    InProgress& c = calls_[slot];
    if (!c.live) continue;
    held.push_back(c.call);
    c.live = false;
    ++c.serial;
    free_calls_.push_back(slot);
  }
  in_flight_ = 0;
  metrics().busy().set(sim.now(), 0);
  for (CallHandle h : held) {
    if (left_hanging_by_crash(sim, *this, h)) continue;
    metrics().on_lost(sim.now(), outcome_of(Reason::unavailable), Reason::unavailable);
    sim.reply(h, Reply::failure(Reason::unavailable));
  }
}

}  // namespace dsim
