#include "components/outbound.hpp"

#include <algorithm>
#include <cmath>

#include "core/simulation.hpp"

namespace dsim {

// --- Circuit breaker ------------------------------------------------------------------------

bool CircuitBreaker::permit(Time now, StationMetrics& m) {
  if (state_ == State::open) {
    if (now < opened_at_ + spec_.open_duration) return false;
    transition(now, State::half_open, m);
  }
  if (state_ == State::half_open) {
    if (probes_started_ >= spec_.half_open_calls) return false;
    ++probes_started_;
  }
  return true;
}

void CircuitBreaker::record(Time now, uint32_t epoch, bool failed, bool slow, StationMetrics& m) {
  if (epoch != epoch_) return;  // permitted under an earlier state
  // Shares, not rate x n: 0.28 x 25 is a little above 7 in floating point, so 7 failures of 25
  // would not reach a failure_rate of 0.28, while 7.0 / 25 rounds to the same double as 0.28.
  const auto over = [&](int64_t fail, int64_t slow_n, int64_t n) {
    const double calls = static_cast<double>(n);
    return static_cast<double>(fail) / calls >= spec_.failure_rate ||
           static_cast<double>(slow_n) / calls >= spec_.slow_call_rate;
  };
  if (state_ == State::half_open) {
    ++probes_done_;
    probe_failures_ += failed;
    probe_slow_ += slow;
    if (probes_done_ >= spec_.half_open_calls) {
      transition(now,
                 over(probe_failures_, probe_slow_, probes_done_) ? State::open : State::closed, m);
    }
    return;
  }
  if (state_ != State::closed) return;
  if (ring_.empty()) ring_.assign(static_cast<size_t>(spec_.window), 0);
  if (recorded_ == spec_.window) {  // the oldest outcome leaves the window
    failures_ -= ring_[next_] & 1;
    slow_ -= (ring_[next_] >> 1) & 1;
  } else {
    ++recorded_;
  }
  ring_[next_] = static_cast<uint8_t>((failed ? 1 : 0) | (slow ? 2 : 0));
  failures_ += failed;
  slow_ += slow;
  next_ = (next_ + 1) % ring_.size();
  if (recorded_ >= spec_.minimum_calls && over(failures_, slow_, recorded_)) {
    transition(now, State::open, m);
  }
}

void CircuitBreaker::transition(Time now, State to, StationMetrics& m) {
  state_ = to;
  ++epoch_;
  switch (to) {
    case State::open:
      opened_at_ = now;
      m.count(Counter::breaker_opened);
      break;
    case State::half_open:
      probes_started_ = probes_done_ = probe_failures_ = probe_slow_ = 0;
      m.count(Counter::breaker_half_opened);
      break;
    case State::closed:
      std::fill(ring_.begin(), ring_.end(), 0);
      next_ = 0;
      recorded_ = failures_ = slow_ = 0;
      m.count(Counter::breaker_closed);
      break;
  }
  m.gauge(Gauge::breaker_state).set(now, static_cast<int64_t>(to));
}

// --- Retry budget ---------------------------------------------------------------------------

RetryBudget::Bucket& RetryBudget::bucket(Time now) {
  const int64_t width = std::max<int64_t>(1, spec_.window.count_ns() / 10);
  const int64_t index = now.count_ns() / width;
  Bucket& b = buckets_[index % 10];
  if (b.index != index) b = Bucket{index, 0, 0};
  return b;
}

bool RetryBudget::allow_retry(Time now) {
  Bucket& current = bucket(now);
  const int64_t width = std::max<int64_t>(1, spec_.window.count_ns() / 10);
  const int64_t index = now.count_ns() / width;
  uint64_t calls = 0, retries = 0;
  for (const Bucket& b : buckets_) {
    if (b.index > index - 10 && b.index <= index) {
      calls += b.calls;
      retries += b.retries;
    }
  }
  const double allowed =
      spec_.ratio * static_cast<double>(calls) + spec_.min_per_second * spec_.window.seconds();
  if (static_cast<double>(retries + 1) > allowed) return false;
  ++current.retries;
  return true;
}

// --- Outbound -------------------------------------------------------------------------------

uint32_t Outbound::add_site(const CallPolicy& policy, uint32_t target, uint16_t op,
                            std::string name) {
  Site s;
  s.policy = &policy;
  s.copy_policy();
  s.target = target;
  s.op = op;
  s.name = std::move(name);
  const bool breaker = policy.circuit_breaker.present;
  const bool budget = policy.retry.present && policy.retry.budget.present;
  if (breaker || budget) {
    s.guards = std::make_unique<Guards>();
    if (breaker) s.guards->breaker = std::make_unique<CircuitBreaker>(policy.circuit_breaker);
    if (budget) s.guards->budget = std::make_unique<RetryBudget>(policy.retry.budget);
  }
  decorrelated_ |= policy.retry.jitter == RetrySpec::decorrelated;
  sites_.push_back(std::move(s));
  return static_cast<uint32_t>(sites_.size() - 1);
}

void Outbound::Site::copy_policy() {
  timeout = policy->timeout;
  bulkhead = static_cast<int32_t>(std::min<int64_t>(policy->bulkhead, INT32_MAX));
  propagate_deadline = policy->propagate_deadline;
}

void Outbound::reload_params() {
  const auto wait = [](Time timeout) { return timeout > Time::zero() ? timeout : Time::max(); };
  for (Site& s : sites_) {
    const Time before = s.timeout;
    s.copy_policy();
    if (wait(s.timeout) < wait(before)) s.timeout_lowered = true;
  }
}

void Outbound::start(Simulation& sim) {
  for (Site& s : sites_) s.rng = sim.make_rng(owner_, "calls:" + s.name);
}

uint64_t Outbound::call(Simulation& sim, uint32_t site, RequestHandle request, Time parent_deadline,
                        uint64_t token) {
  uint32_t slot = free_.take(exchanges_);
  Exchange& ex = exchanges_[slot];
  const uint32_t serial = ex.serial + 1;
  const uint32_t generation = ex.generation + 1;
  ex = Exchange{};
  ex.serial = serial;
  ex.generation = generation;
  ex.live = true;
  ex.request = request;
  ex.token = token;
  ex.parent_deadline = parent_deadline;
  ex.site = site;
  ex.attempt = 1;
  ++live_;
  sim.retain_request(request);
  Site& s = sites_[site];
  if (decorrelated_) [[unlikely]] {
    if (last_sleep_.size() < exchanges_.size()) last_sleep_.resize(exchanges_.size());
    last_sleep_[slot] = s.policy->retry.base;
  }
  owner_.metrics().count(Counter::calls);
  if (RetryBudget* budget = s.budget()) budget->on_call(sim.now());
  const uint64_t id = pack_handle(slot, generation);
  attempt(sim, slot);
  return id;
}

void Outbound::cancel(Simulation& sim, uint64_t id) {
  const uint32_t slot = payload_handle(id);
  if (slot >= exchanges_.size()) return;
  Exchange& ex = exchanges_[slot];
  if (!ex.live || ex.generation != payload_serial(id)) return;  // already over
  if (ex.waiting) {
    sim.abandon(ex.call);
    ex.waiting = false;
    set_outstanding(sim, sites_[ex.site], -1);
    drop_answered_timeouts(sites_[ex.site], slot, ex.serial);
  }
  release(sim, slot);
}

void Outbound::reset(Simulation& sim) {
  for (uint32_t slot = 0; slot < exchanges_.size(); ++slot) {
    if (exchanges_[slot].live) cancel(sim, pack_handle(slot, exchanges_[slot].generation));
  }
  // Fresh objects: with no exchange left, no result of an attempt made before can reach them.
  for (Site& s : sites_) {
    if (s.breaker()) {
      if (s.breaker()->state() != CircuitBreaker::State::closed) {
        owner_.metrics()
            .gauge(Gauge::breaker_state)
            .set(sim.now(), static_cast<int64_t>(CircuitBreaker::State::closed));
      }
      s.guards->breaker = std::make_unique<CircuitBreaker>(s.policy->circuit_breaker);
    }
    if (s.budget()) s.guards->budget = std::make_unique<RetryBudget>(s.policy->retry.budget);
  }
}

void Outbound::set_outstanding(Simulation& sim, Site& site, int64_t delta) {
  site.outstanding += static_cast<int32_t>(delta);
  total_outstanding_ += delta;
  owner_.metrics().gauge(Gauge::outstanding_calls).set(sim.now(), total_outstanding_);
}

void Outbound::attempt(Simulation& sim, uint32_t slot) {
  Exchange& ex = exchanges_[slot];
  Site& s = sites_[ex.site];
  StationMetrics& m = owner_.metrics();
  if (ex.parent_deadline <= sim.now()) {
    failed(sim, slot, Reason::deadline_exceeded, Time::zero(), true, owner_.index());
    return;
  }
  CircuitBreaker* breaker = s.breaker();
  if (breaker && !breaker->permit(sim.now(), m)) {
    m.count(Counter::breaker_rejected);
    failed(sim, slot, Reason::circuit_open, Time::zero(), true, owner_.index());
    return;
  }
  if (s.outstanding >= s.bulkhead) {
    m.count(Counter::bulkhead_rejected);
    failed(sim, slot, Reason::bulkhead_full, Time::zero(), true, owner_.index());
    return;
  }
  const uint32_t serial = ++ex.serial;
  const CallHandle h = sim.open_call(owner_, s.target, ex.request, pack_handle(slot, serial));
  Call& c = sim.call(h);
  c.op = s.op;
  c.attempt = ex.attempt;
  if (s.propagate_deadline) {
    c.deadline = s.timeout > Time::zero() ? std::min(ex.parent_deadline, sim.now() + s.timeout)
                                          : ex.parent_deadline;
  }
  ex.call = h;
  ex.waiting = true;
  ex.breaker_epoch = breaker ? breaker->epoch() : 0;
  set_outstanding(sim, s, +1);
  sim.deliver(h);
  // The callee may have answered already; only a still-pending attempt needs its timer.
  Exchange& now_ex = exchanges_[slot];
  if (now_ex.live && now_ex.serial == serial && now_ex.waiting && s.timeout > Time::zero()) {
    const uint32_t site = now_ex.site;
    Site& st = sites_[site];
    const Time at = sim.now() + st.timeout;
    if (st.timeouts.empty() || st.last_timeout_at <= at) {
      st.timeouts.push_back({at, slot, serial});
      st.last_timeout_at = at;
      if (!st.timer_armed) {
        arm_site_timer(sim, site);
      } else if (st.timeout_lowered && at < st.timer_at) [[unlikely]] {
        schedule_site_timer(sim, site, at);
      }
    } else {
      // Out of order (the timeout was lowered live): a timer of its own.
      sim.schedule(at, owner_, kTimeout, pack_handle(slot, serial));
    }
  }
}

void Outbound::on_reply(Simulation& sim, CallHandle h, const Reply& r) {
  const uint64_t token = sim.call(h).token;
  const uint32_t slot = payload_handle(token);
  if (slot >= exchanges_.size()) return;
  Exchange& ex = exchanges_[slot];
  if (!ex.live || !ex.waiting || ex.serial != payload_serial(token)) return;
  attempt_ended(sim, slot, !r.ok());
  if (r.ok()) {
    complete(sim, slot, r);
  } else {
    failed(sim, slot, r.reason, r.retry_after, false, r.origin);
  }
}

// Answered attempts leave the front of the timeout FIFO at once when answers come in order, so
// that it holds about the attempts still waiting. Only when the attempt that ended is the front
// one: looking at the front's exchange otherwise would be a likely cache miss on every answer,
// and an older attempt still waiting keeps everything behind it in the FIFO anyway.
void Outbound::drop_answered_timeouts(Site& s, uint32_t slot, uint32_t serial) {
  if (s.timeouts.empty() || s.timeouts.front().slot != slot ||
      s.timeouts.front().serial != serial) {
    return;
  }
  s.timeouts.pop_front();
  while (!s.timeouts.empty() && !still_waiting(s.timeouts.front())) s.timeouts.pop_front();
}

void Outbound::attempt_ended(Simulation& sim, uint32_t slot, bool failed_attempt) {
  Exchange& ex = exchanges_[slot];
  Site& s = sites_[ex.site];
  ex.waiting = false;
  set_outstanding(sim, s, -1);
  drop_answered_timeouts(s, slot, ex.serial);
  if (CircuitBreaker* breaker = s.breaker()) {
    // (The attempt's call is still live here - answered or abandoned, not yet released - and
    // its `received` is when the attempt started.)
    const bool slow =
        sim.now() - sim.call(ex.call).received > s.policy->circuit_breaker.slow_call_duration;
    breaker->record(sim.now(), ex.breaker_epoch, failed_attempt, slow, owner_.metrics());
  }
}

void Outbound::arm_site_timer(Simulation& sim, uint32_t site) {
  Site& st = sites_[site];
  while (!st.timeouts.empty() && !still_waiting(st.timeouts.front())) st.timeouts.pop_front();
  if (st.timeouts.empty()) return;
  st.timer_armed = true;
  schedule_site_timer(sim, site, st.timeouts.front().at);
}

// The site's timer event, due at `at`; one pending before (if any) is now stale.
void Outbound::schedule_site_timer(Simulation& sim, uint32_t site, Time at) {
  Site& st = sites_[site];
  st.timer_at = at;
  sim.schedule(at, owner_, kSiteTimeouts, pack_handle(site, ++st.timer_generation));
}

void Outbound::expire_site_timeouts(Simulation& sim, uint32_t site) {
  // timer_armed stays set meanwhile: attempts made by the handlers below only queue their
  // timeouts, and the timer is armed once, at the end.
  while (!sites_[site].timeouts.empty() && sites_[site].timeouts.front().at <= sim.now()) {
    const PendingTimeout t = sites_[site].timeouts.front();
    sites_[site].timeouts.pop_front();
    if (still_waiting(t)) time_out(sim, t.slot);
  }
  sites_[site].timer_armed = false;
  arm_site_timer(sim, site);
}

void Outbound::time_out(Simulation& sim, uint32_t slot) {
  Exchange& ex = exchanges_[slot];
  sim.abandon(ex.call);
  owner_.metrics().count(Counter::timeouts);
  attempt_ended(sim, slot, true);
  failed(sim, slot, Reason::timeout, Time::zero(), false, owner_.index());
}

void Outbound::on_event(Simulation& sim, const Event& e) {
  if (e.kind == kSiteTimeouts) {
    const uint32_t site = payload_handle(e.payload);
    if (payload_serial(e.payload) == sites_[site].timer_generation) expire_site_timeouts(sim, site);
    return;
  }
  const uint32_t slot = payload_handle(e.payload);
  if (slot >= exchanges_.size()) return;
  Exchange& ex = exchanges_[slot];
  if (!ex.live || ex.serial != payload_serial(e.payload)) return;  // answered or cancelled since
  switch (e.kind) {
    case kTimeout:
      if (ex.waiting) time_out(sim, slot);
      break;
    case kRetry: {
      const uint32_t site = callback_.retry_site(sim, ex.token, ex.site);
      if (site == CallOwner::kNoSite) {
        failed(sim, slot, Reason::unavailable, Time::zero(), true, owner_.index());
        return;
      }
      exchanges_[slot].site = site;
      attempt(sim, slot);
      break;
    }
    case kFallback:
      complete(sim, slot, Reply{Reason::none, true, Time::zero(), owner_.index()});
      break;
  }
}

Time Outbound::backoff(uint32_t slot, Site& s) {
  const int retry_index = exchanges_[slot].attempt - 1;
  if (!decorrelated_) return backoff_wait(s.policy->retry, retry_index, Time::zero(), s.rng);
  last_sleep_[slot] = backoff_wait(s.policy->retry, retry_index, last_sleep_[slot], s.rng);
  return last_sleep_[slot];
}

void Outbound::failed(Simulation& sim, uint32_t slot, Reason reason, Time retry_after,
                      bool own_refusal, uint32_t origin) {
  Exchange& ex = exchanges_[slot];
  Site& s = sites_[ex.site];
  const CallPolicy& p = *s.policy;
  StationMetrics& m = owner_.metrics();
  // This caller's own refusals (breaker, bulkhead, expired deadline) are not retried: retrying
  // them would only spin.
  const bool retryable = !own_refusal && p.retry.present && ex.attempt < p.retry.max_attempts &&
                         contains(p.retry.retry_on, reason);
  if (retryable) {
    bool allowed = true;
    if (s.budget() && !s.budget()->allow_retry(sim.now())) {
      m.count(Counter::retry_budget_denied);
      allowed = false;
    }
    if (allowed) {
      Time wait = backoff(slot, s);
      if (p.retry.respect_retry_after) wait = std::max(wait, retry_after);
      if (sim.now() + wait < ex.parent_deadline) {
        m.count(Counter::retries);
        ++ex.attempt;
        sim.schedule(sim.now() + wait, owner_, kRetry, pack_handle(slot, ex.serial));
        return;
      }
    }
  }
  if (p.fallback.present && contains(p.fallback.reasons, reason)) {
    m.count(Counter::degraded);
    if (p.fallback.latency > Time::zero()) {
      sim.schedule(sim.now() + p.fallback.latency, owner_, kFallback, pack_handle(slot, ex.serial));
    } else {
      complete(sim, slot, Reply{Reason::none, true, Time::zero(), owner_.index()});
    }
    return;
  }
  Reply r = Reply::failure(reason);
  r.retry_after = retry_after;  // a 429's hint travels on to the caller's own caller
  r.origin = origin;
  complete(sim, slot, r);
}

void Outbound::complete(Simulation& sim, uint32_t slot, const Reply& reply) {
  const uint64_t token = exchanges_[slot].token;
  release(sim, slot);
  callback_.on_call_done(sim, token, reply);
}

void Outbound::release(Simulation& sim, uint32_t slot) {
  Exchange& ex = exchanges_[slot];
  const RequestHandle request = ex.request;
  ex.live = false;
  ++ex.serial;
  --live_;
  free_.push_back(exchanges_, slot);
  sim.release_request(request);
}

}  // namespace dsim
