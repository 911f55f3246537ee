#include "components/source.hpp"

#include <algorithm>
#include <cmath>

#include "core/simulation.hpp"

namespace dsim {

void SourceParams::describe(ParamVisitor& v) {
  v.target({"target", "component", "Component that receives every generated request.", true},
           target);
  v.arrivals({"arrivals", "arrivals",
              "How requests are generated: {poisson: RATE}, {constant: RATE}, "
              "{on_off: {rate, on, off}}, {schedule: [{at, rate}...]} or "
              "{closed_loop: {users, think_time}}.",
              true, true},
             arrivals);
  v.text({"workload", "name",
          "Workload (request class) name used in end-to-end results; defaults to the source's "
          "name. Sources may share a workload."},
         workload);
  v.text({"path", "path",
          "Request path of every request, e.g. /orders/checkout, for gateways that route by "
          "path. Absent: requests have no path. A mix of endpoints is several sources."},
         path);
  v.keys({"keys", "keys",
          "Key (user, tenant, cache key) of each request: {uniform: K} or {zipf: {keys: K, s: "
          "S}}. Absent: every request has key 0."},
         keys);
  v.count({"priority", "count",
           "Priority of generated requests (higher first under the priority "
           "discipline)."},
          priority, -32768, 32767);
  call.describe(v);
  v.flag({"idempotency_keys", "bool",
          "Give each request a unique idempotency key (kept by its retries and by the messages "
          "it publishes), so that components with an idempotency store can recognise repeats."},
         idempotency_keys);
  v.count({"max_requests", "count", "Stop generating after this many requests (`unbounded`)."},
          max_requests, 0, INT64_MAX);
}

KeySampler::KeySampler(const KeySpec& spec) : spec_(spec) {
  if (spec_.mode == KeySpec::Mode::zipf) {
    cumulative_.resize(static_cast<size_t>(spec_.keys));
    double total = 0;
    for (int64_t k = 0; k < spec_.keys; ++k) {
      total += std::pow(static_cast<double>(k + 1), -spec_.exponent);
      cumulative_[static_cast<size_t>(k)] = total;
    }
    for (double& c : cumulative_) c /= total;
    cumulative_.back() = 1.0;
    const size_t g = std::min<size_t>(cumulative_.size(), size_t{1} << 20);
    guide_.resize(g + 1);
    for (size_t j = 0; j <= g; ++j) {
      const double u = static_cast<double>(j) / static_cast<double>(g);
      guide_[j] = static_cast<uint32_t>(
          std::upper_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
    }
  }
}

uint64_t KeySampler::next(Rng& rng) {
  switch (spec_.mode) {
    case KeySpec::Mode::none:
      return 0;
    case KeySpec::Mode::uniform:
      return rng.below(static_cast<uint64_t>(spec_.keys));
    case KeySpec::Mode::zipf: {
      if (!primed_) {
        ahead_[0] = rng.uniform01();
        ahead_[1] = rng.uniform01();
        primed_ = true;
      }
      const double u = ahead_[0];
      ahead_[0] = ahead_[1];
      ahead_[1] = rng.uniform01();
      __builtin_prefetch(&guide_[bucket(ahead_[1])]);
      __builtin_prefetch(&cumulative_[guide_[bucket(ahead_[0])]]);
      const size_t j = bucket(u);
      auto lo = cumulative_.begin() + guide_[j];
      auto hi = cumulative_.begin() + std::min<size_t>(guide_[j + 1] + 1, cumulative_.size());
      // Rounding in u * G can put u just outside bucket j: then search everything. Either way
      // the answer is exactly std::upper_bound over the whole table.
      if ((lo != cumulative_.begin() && *(lo - 1) > u) || (hi != cumulative_.end() && *hi <= u)) {
        lo = cumulative_.begin();
        hi = cumulative_.end();
      }
      auto it = std::upper_bound(lo, hi, u);
      return std::min<uint64_t>(static_cast<uint64_t>(it - cumulative_.begin()),
                                cumulative_.size() - 1);
    }
  }
  return 0;
}

size_t KeySampler::bucket(double u) const {
  const size_t g = guide_.size() - 1;
  return std::min(static_cast<size_t>(u * static_cast<double>(g)), g - 1);
}

double KeySampler::probability(uint64_t key) const {
  switch (spec_.mode) {
    case KeySpec::Mode::none:
      return key == 0 ? 1.0 : 0.0;
    case KeySpec::Mode::uniform:
      return key < static_cast<uint64_t>(spec_.keys) ? 1.0 / static_cast<double>(spec_.keys) : 0;
    case KeySpec::Mode::zipf:
      if (key >= cumulative_.size()) return 0;
      return cumulative_[key] - (key == 0 ? 0.0 : cumulative_[key - 1]);
  }
  return 0;
}

Source::Source(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "source", std::move(params)),
      p_(static_cast<SourceParams&>(this->params())),
      key_sampler_(p_.keys) {
  out_.add_site(p_.call, p_.target.index, 0, "target");
}

void Source::start(Simulation& sim) {
  workload_ = sim.add_workload(p_.workload.empty() ? name() : p_.workload);
  arrival_rng_ = sim.make_rng(*this, "arrivals");
  key_rng_ = sim.make_rng(*this, "keys");
  out_.start(sim);
  if (p_.arrivals.mode == ArrivalSpec::Mode::closed_loop) {
    wake_idle_users(sim);
  } else {
    reset_arrival_state(sim);
    schedule_next_arrival(sim);
  }
}

// Every user starts by thinking, so that users do not fire in lockstep at time zero.
void Source::wake_idle_users(Simulation& sim) {
  const auto n = static_cast<size_t>(p_.arrivals.users);
  if (users_.size() < n) users_.resize(n, UserState::idle);
  for (size_t u = 0; u < n; ++u) {
    if (users_[u] != UserState::idle) continue;
    users_[u] = UserState::thinking;
    sim.schedule(sim.now() + p_.arrivals.think_time.sample(arrival_rng_), *this, kUserReady, u);
  }
}

bool Source::user_active(size_t u) const {
  return p_.arrivals.mode == ArrivalSpec::Mode::closed_loop &&
         u < static_cast<size_t>(p_.arrivals.users);
}

void Source::accept(Simulation& sim, CallHandle h) {
  // The topology check rejects calls into a source; reaching here is an engine bug.
  sim.reply(h, Reply::failure(Reason::unavailable));
}

void Source::emit(Simulation& sim, uint32_t client) {
  const RequestHandle h = sim.create_request(*this, workload_);
  Request& r = sim.request(h);
  r.client = client;
  r.key = key_sampler_.next(key_rng_);
  r.priority = static_cast<int16_t>(p_.priority);
  if (p_.idempotency_keys) r.idempotency_key = r.id;
  ++generated_;
  metrics().on_pass_through();
  out_.call(sim, 0, h, Time::max(), h);
}

// The client's final answer ends the request: success (possibly degraded by a fallback), or the
// reason of the last failed attempt.
void Source::on_call_done(Simulation& sim, uint64_t token, const Reply& reply) {
  const auto h = static_cast<RequestHandle>(token);
  sim.finish(h, outcome_of(reply.reason), reply.reason,
             reply.origin == kNoComponent ? index() : reply.origin);
}

void Source::on_reply(Simulation& sim, CallHandle h, const Reply& r) {
  out_.on_reply(sim, h, r);
}

void Source::on_event(Simulation& sim, const Event& e) {
  if (out_.owns(e)) {
    out_.on_event(sim, e);
    return;
  }
  if (e.kind == kArrival) {
    if (e.payload != generation_) return;  // superseded by a live change
    if (generated_ >= static_cast<uint64_t>(p_.max_requests)) return;
    // Schedule the next arrival first: emitting may run a long chain of zero-delay hand-offs.
    schedule_next_arrival(sim);
    emit(sim, kOpenLoopClient);
  } else if (e.kind == kPhaseEnd) {
    if (e.payload != phase_generation_) return;  // the source left on_off mode
    begin_phase(sim, !on_);
    if (on_) {
      ++generation_;  // nothing was pending during the off phase; plan the first arrival
      schedule_next_arrival(sim);
    }
  } else {
    const auto u = static_cast<size_t>(e.payload);
    if (!user_active(u) || generated_ >= static_cast<uint64_t>(p_.max_requests)) {
      users_[u] = UserState::idle;  // retired by a live change, or the request budget is spent
      return;
    }
    users_[u] = UserState::waiting;
    emit(sim, static_cast<uint32_t>(u));
  }
}

void Source::on_request_finished(Simulation& sim, const Request& r, Outcome) {
  if (r.client >= users_.size() || users_[r.client] != UserState::waiting) return;  // open loop
  if (!user_active(r.client)) {
    users_[r.client] = UserState::idle;
    return;
  }
  users_[r.client] = UserState::thinking;
  sim.schedule(sim.now() + p_.arrivals.think_time.sample(arrival_rng_), *this, kUserReady,
               r.client);
}

void Source::on_params_changed(Simulation& sim, const std::string& param) {
  if (param != "arrivals" || sim.state() == Lifecycle::created) return;  // start() plans anew
  ++generation_;  // the pending open-loop arrival, if any, no longer counts
  if (p_.arrivals.mode == ArrivalSpec::Mode::closed_loop) {
    running_mode_ = ArrivalSpec::Mode::closed_loop;
    wake_idle_users(sim);  // users beyond a lowered count retire when their request ends
  } else {
    reset_arrival_state(sim);
    schedule_next_arrival(sim);  // closed-loop users, if any, retire as their requests end
  }
}

void Source::reset_arrival_state(Simulation& sim) {
  anchor_ = sim.now();
  constant_k_ = 0;
  const bool was_on_off = running_mode_ == ArrivalSpec::Mode::on_off;
  running_mode_ = p_.arrivals.mode;
  if (p_.arrivals.mode != ArrivalSpec::Mode::on_off) {
    ++phase_generation_;  // pending phase changes no longer count
    return;
  }
  // An on_off source whose rate changes live stays in the phase it is in: a new rate must not
  // start a burst in the middle of an off period. Otherwise it starts with an on phase.
  if (!was_on_off) begin_phase(sim, true);
}

// Phase changes are events of their own, so the phase is always known at the current instant
// (a live change sees it) and arbitrarily short phases cost events rather than a hidden loop.
void Source::begin_phase(Simulation& sim, bool on) {
  on_ = on;
  ++phase_generation_;
  const Distribution& d = on ? p_.arrivals.on_period : p_.arrivals.off_period;
  phase_end_ = sim.now() + d.sample(arrival_rng_);
  if (phase_end_ <= sim.end_time()) sim.schedule(phase_end_, *this, kPhaseEnd, phase_generation_);
}

void Source::schedule_next_arrival(Simulation& sim) {
  const Time t = next_open_loop_arrival(sim.now());
  if (t.is_max() || t > sim.end_time()) return;
  sim.schedule(t, *this, kArrival, generation_);
}

// Exponential gaps are memoryless, so when a gap would cross a rate change (an on/off phase end
// or a schedule step) it is exact to drop it and draw afresh from the boundary at the new rate.
Time Source::next_open_loop_arrival(Time now) {
  const ArrivalSpec& a = p_.arrivals;
  auto exp_gap = [&](double rate) { return Time::from_seconds(arrival_rng_.exponential() / rate); };
  switch (a.mode) {
    case ArrivalSpec::Mode::poisson:
      return a.rate > 0 ? now + exp_gap(a.rate) : Time::max();
    case ArrivalSpec::Mode::constant: {
      if (a.rate <= 0) return Time::max();
      ++constant_k_;
      return anchor_ + Time::from_seconds(static_cast<double>(constant_k_) / a.rate);
    }
    case ArrivalSpec::Mode::on_off: {
      // Within the current on phase only; the next on phase plans its own first arrival.
      if (!on_ || a.rate <= 0) return Time::max();
      const Time candidate = now + exp_gap(a.rate);
      return candidate < phase_end_ ? candidate : Time::max();
    }
    case ArrivalSpec::Mode::schedule: {
      Time t = now;
      for (;;) {
        // The step in force at t and the next boundary.
        size_t i = 0;
        while (i + 1 < a.schedule.size() && a.schedule[i + 1].at <= t) ++i;
        const double rate = (a.schedule.empty() || a.schedule[0].at > t) ? 0 : a.schedule[i].rate;
        const Time boundary = (!a.schedule.empty() && a.schedule[0].at > t) ? a.schedule[0].at
                              : i + 1 < a.schedule.size()                   ? a.schedule[i + 1].at
                                                                            : Time::max();
        if (rate > 0) {
          const Time candidate = t + exp_gap(rate);
          if (candidate < boundary) return candidate;
        }
        if (boundary.is_max()) return Time::max();
        t = boundary;
      }
    }
    case ArrivalSpec::Mode::closed_loop:
      break;
  }
  return Time::max();
}

}  // namespace dsim
