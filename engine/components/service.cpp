#include "components/service.hpp"

#include <algorithm>
#include <cassert>

#include "components/kv_store.hpp"
#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

void ServiceParams::describe(ParamVisitor& v) {
  v.count(
      {"workers", "count", "Parallel workers (c); each serves one request at a time.", false, true},
      workers, 1, 1'000'000);
  v.count({"queue_capacity", "count",
           "Requests that may wait for a worker (not counting those in service); beyond it new "
           "arrivals are refused with reason queue_full. `unbounded` for no limit.",
           false, true},
          queue_capacity, 0, INT64_MAX);
  v.choice({"discipline", "choice",
            "Order in which waiting requests are served: fifo, lifo, or priority (higher "
            "request priority first, FIFO among equals)."},
           discipline, kDisciplineNames);
  v.distribution({"service_time", "distribution",
                  "Time a worker spends on one request (the simple form; give this or "
                  "`handler`).",
                  false, true},
                 service_time);
  v.list({"handler", "steps",
          "What a worker does for each request, step by step: compute, call, publish, "
          "parallel, if (see below). Give this or `service_time`."},
         handler);
  v.route({"next", "route",
           "Where served requests go next (the next component answers the caller): a component "
           "name, {split: ...} or {cycle: [...]}. Absent: requests are answered here."},
          next);
  v.group({"idempotency", "block",
           "Recognise repeats by the request's idempotency key and answer them without running "
           "the handler again: `{store, key_prefix, lease, latency, store_timeout, "
           "on_store_failure, capacity, ttl}`."},
          idempotency);
}

std::string ServiceParams::check(const std::vector<std::string>& given) {
  const bool time = std::find(given.begin(), given.end(), "service_time") != given.end();
  const bool steps = std::find(given.begin(), given.end(), "handler") != given.end();
  if (time == steps) {
    return time ? "give service_time or handler, not both (put the time in a compute step)"
                : "missing 'service_time' or 'handler': what does a worker do with a request?";
  }
  if (steps && handler.empty()) return "handler: needs at least one step";
  return {};
}

Service::Service(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "service", std::move(params)),
      p_(static_cast<ServiceParams&>(this->params())),
      waiting_(static_cast<Discipline>(p_.discipline)),
      router_(p_.next),
      processed_(p_.idempotency.capacity, p_.idempotency.ttl) {
  std::vector<SiteNeed> sites;
  compile_handler(p_.handler, program_, sites);
  if (p_.idempotency.present) {
    // The check runs first; the simple form becomes a one-step program behind it.
    if (program_.empty()) {
      Instruction compute;
      compute.distribution = &p_.service_time;
      program_.push_back(compute);
    }
    Instruction check;
    check.op = Instruction::Op::idempotency_check;
    program_.insert(program_.begin(), check);
    for (Instruction& in : program_) {
      if (in.op == Instruction::Op::branch_probability || in.op == Instruction::Op::branch_class ||
          in.op == Instruction::Op::jump) {
        ++in.jump;  // everything moved one place down
      }
    }
  }
  for (size_t i = 0; i < sites.size(); ++i) {
    const TargetRef& t = sites[i].step->target();
    out_.add_site(sites[i].step->policy, t.index, t.op_index,
                  "step" + std::to_string(i) + ":" + t.name);
  }
  if (p_.idempotency.present && !p_.idempotency.store.name.empty()) {
    // The run's success is written to the store before the answer leaves; the jumps to the end
    // of the handler now reach this step.
    Instruction complete;
    complete.op = Instruction::Op::idempotency_complete;
    program_.push_back(complete);
  }
}

void Service::start(Simulation& sim) {
  service_rng_ = sim.make_rng(*this, "service_time");
  routing_rng_ = sim.make_rng(*this, "routing");
  branch_rng_ = sim.make_rng(*this, "branches");
  if (p_.idempotency.present && !p_.idempotency.store.name.empty()) {
    // The store keeps the keys; it tells which operations claim, complete and release them.
    const TargetRef& s = p_.idempotency.store;
    auto* store = dynamic_cast<KvStore*>(sim.components()[s.index].get());
    if (!store) {
      throw std::logic_error("service '" + name() + "': idempotency store '" + s.name +
                             "' is not a kv_store");
    }
    const std::string& prefix =
        p_.idempotency.key_prefix.empty() ? name() : p_.idempotency.key_prefix;
    const uint16_t claim =
        store->attach_idempotency(prefix, p_.idempotency.ttl, p_.idempotency.lease);
    const CallPolicy& policy = p_.idempotency.store_policy;
    claim_site_ = out_.add_site(policy, s.index, claim + KvStore::kClaim, "idempotency:" + s.name);
    complete_site_ = out_.add_site(policy, s.index, claim + KvStore::kComplete,
                                   "idempotency-complete:" + s.name);
    release_site_ =
        out_.add_site(policy, s.index, claim + KvStore::kRelease, "idempotency-release:" + s.name);
  }
  out_.start(sim);
  for (Instruction& in : program_) {
    if (in.op == Instruction::Op::branch_class) in.workload_index = sim.add_workload(in.workload);
  }
  metrics().capacity().set(sim.now(), p_.workers);
}

// Available workers for utilisation: after a live decrease the surplus busy workers still count
// until they finish, so utilisation never exceeds 100 %.
void Service::update_capacity(Simulation& sim) {
  metrics().capacity().set(sim.now(), std::max(p_.workers, busy_));
}

bool Service::expired(Simulation& sim, CallHandle h) {
  return sim.call(h).deadline <= sim.now();
}

void Service::respond(Simulation& sim, CallHandle h, Reason reason, bool degraded) {
  if (reason == Reason::none) {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
  } else {
    metrics().on_lost(sim.now(), outcome_of(reason), reason);
  }
  sim.reply(h, Reply{reason, degraded, Time::zero()});
}

void Service::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  metrics().on_arrival(sim.now());
  if (expired(sim, h)) {
    respond(sim, h, Reason::deadline_exceeded, false);
  } else if (busy_ < p_.workers && waiting_.empty()) {
    begin_service(sim, h);
  } else if (static_cast<int64_t>(waiting_.size()) < p_.queue_capacity || busy_ < p_.workers) {
    // (A free worker with others still waiting happens only while they are being started: the
    // newcomer queues behind them.)
    waiting_.push(h, sim.request(sim.call(h).request).priority);
    metrics().queue().set(sim.now(), static_cast<int64_t>(waiting_.size()));
    if (busy_ < p_.workers) pull_from_queue(sim);
  } else {
    respond(sim, h, Reason::queue_full, false);
  }
}

void Service::begin_service(Simulation& sim, CallHandle h) {
  ++busy_;
  metrics().busy().set(sim.now(), busy_);
  metrics().on_service_start(sim.now() - sim.call(h).received);
  if (program_.empty()) {
    Time t = p_.service_time.sample(service_rng_);
    if (faults().active) [[unlikely]]
      t = faults().stretch(t, sim.call(h).caller);
    // The call's serial: after a crash failed it, the slot may hold another call.
    sim.schedule(sim.now() + t, *this, kServed, pack_handle(h, sim.call(h).serial));
    return;
  }
  uint32_t slot = free_tasks_.take(tasks_);
  Task& t = tasks_[slot];
  t.call = h;
  t.pc = 0;
  ++t.serial;
  t.pending = t.successes = t.failures = 0;
  t.failure = Reason::none;
  t.degraded = false;
  t.recorded_key = false;
  t.suppressed = false;
  t.running = false;
  t.live = true;
  t.exchanges.clear();
  advance(sim, slot);
}

void Service::pull_from_queue(Simulation& sim) {
  if (pulling_) return;  // the loop further up the stack carries on
  pulling_ = true;
  while (busy_ < p_.workers && !waiting_.empty()) {
    const CallHandle h = waiting_.pop();
    metrics().queue().set(sim.now(), static_cast<int64_t>(waiting_.size()));
    if (expired(sim, h)) {
      respond(sim, h, Reason::deadline_exceeded, false);
      continue;
    }
    begin_service(sim, h);
  }
  pulling_ = false;
}

void Service::release_worker(Simulation& sim) {
  --busy_;
  metrics().busy().set(sim.now(), busy_);
  if (busy_ >= p_.workers) update_capacity(sim);  // a surplus worker retires
  // Start the next waiting request before answering this one: a request fed back to this
  // service must join the back of the queue, not jump into the worker it just freed.
  pull_from_queue(sim);
}

// A call handled successfully moves on along `next` or is answered here.
void Service::on_event(Simulation& sim, const Event& e) {
  if (out_.owns(e)) {
    out_.on_event(sim, e);
    return;
  }
  if (e.kind == kStepDone || e.kind == kCheckDone) {
    const uint32_t slot = payload_handle(e.payload);
    Task& t = tasks_[slot];
    if (!t.live || t.serial != payload_serial(e.payload)) return;
    if (e.kind == kStepDone) {
      ++t.pc;
    } else {
      t.running = true;
      check_idempotency(
          sim, slot,
          processed_.claim(sim.request(sim.call(t.call).request).idempotency_key, sim.now()));
      if (tasks_[slot].serial != payload_serial(e.payload)) return;  // a repeat: answered
      tasks_[slot].running = false;
    }
    advance(sim, slot);
    return;
  }
  const CallHandle h = payload_handle(e.payload);
  // Failed by a crash (released, or its answer still on the wire), or left hanging by one (mode
  // hang: the call lives on, unanswered).
  if (!sim.calls().is_current(h, payload_serial(e.payload)) || !sim.calls().held_by(h, index()))
    return;
  release_worker(sim);
  count_side_effect(sim, h);
  const uint32_t to = router_.next(routing_rng_);
  if (to == kNoComponent) {
    respond(sim, h, Reason::none, false);
  } else {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
    sim.forward(h, to);
  }
}

void Service::advance(Simulation& sim, uint32_t slot) {
  tasks_[slot].running = true;
  for (;;) {
    Task& t = tasks_[slot];  // (re-read: starting calls may grow tasks_)
    if (t.pc >= program_.size()) {
      end_task(sim, slot, Reason::none);
      return;
    }
    const Instruction& in = program_[t.pc];
    // (The handler's work is done once only the completion is left: a caller that gave up
    // meanwhile does not undo it, and the key must still be marked completed.)
    if (in.op != Instruction::Op::idempotency_complete && expired(sim, t.call)) {
      end_task(sim, slot, Reason::deadline_exceeded);
      return;
    }
    switch (in.op) {
      case Instruction::Op::compute: {
        t.running = false;
        Time d = in.distribution->sample(service_rng_);
        if (faults().active) [[unlikely]]
          d = faults().stretch(d, sim.call(t.call).caller);
        sim.schedule(sim.now() + d, *this, kStepDone, pack_handle(slot, t.serial));
        return;
      }
      case Instruction::Op::call:
      case Instruction::Op::parallel: {
        const uint32_t count = in.op == Instruction::Op::call ? 1 : in.count;
        t.pending = count;
        t.successes = t.failures = 0;
        t.exchanges.clear();
        const uint64_t token = pack_handle(slot, t.serial);
        const RequestHandle request = sim.call(t.call).request;
        const Time deadline = sim.call(t.call).deadline;
        for (uint32_t i = 0; i < count; ++i) {
          const uint64_t id = out_.call(sim, in.site + i, request, deadline, token);
          Task& now_t = tasks_[slot];
          now_t.exchanges.push_back(id);
          const uint32_t need = in.op == Instruction::Op::call ? 1 : in.need;
          if (now_t.successes >= need || now_t.failures > count - need) {
            now_t.pending -= count - 1 - i;  // the rest are not needed
            break;
          }
        }
        const uint32_t serial = tasks_[slot].serial;
        if (!step_settled(sim, slot)) {
          tasks_[slot].running = false;
          return;
        }
        // The step failed the task (and the slot may already serve another call).
        if (tasks_[slot].serial != serial) return;
        break;
      }
      case Instruction::Op::branch_probability:
        t.pc = branch_rng_.uniform01() < in.probability ? t.pc + 1 : in.jump;
        break;
      case Instruction::Op::branch_class:
        t.pc = sim.request(sim.call(t.call).request).workload == in.workload_index ? t.pc + 1
                                                                                   : in.jump;
        break;
      case Instruction::Op::jump:
        t.pc = in.jump;
        break;
      case Instruction::Op::idempotency_check: {
        const Request& r = sim.request(sim.call(t.call).request);
        if (r.idempotency_key == 0) {
          ++t.pc;
          break;
        }
        const uint32_t serial = t.serial;
        if (claim_site_ != UINT32_MAX) {
          t.pending = 1;
          t.successes = t.failures = 0;
          out_.call(sim, claim_site_, sim.call(t.call).request, sim.call(t.call).deadline,
                    pack_handle(slot, serial));
          if (!step_settled(sim, slot)) {
            tasks_[slot].running = false;
            return;
          }
        } else if (p_.idempotency.latency.mean() > 0) {
          t.running = false;
          sim.schedule(sim.now() + p_.idempotency.latency.sample(service_rng_), *this, kCheckDone,
                       pack_handle(slot, serial));
          return;
        } else {
          check_idempotency(sim, slot, processed_.claim(r.idempotency_key, sim.now()));
        }
        if (tasks_[slot].serial != serial) return;  // a repeat, answered already
        break;
      }
      case Instruction::Op::idempotency_complete: {
        if (!t.recorded_key) {  // no key, or the store could not be asked (proceed)
          ++t.pc;
          break;
        }
        t.pending = 1;
        t.successes = t.failures = 0;
        const uint32_t serial = t.serial;
        out_.call(sim, complete_site_, sim.call(t.call).request, Time::max(),
                  pack_handle(slot, serial));
        if (!step_settled(sim, slot)) {
          tasks_[slot].running = false;
          return;
        }
        if (tasks_[slot].serial != serial) return;
        break;
      }
    }
  }
}

// The store has answered the claim (or the table was looked up): a completed key is a repeat,
// answered at once as a success without running the handler; one still in progress is refused
// with conflict (its first run may yet fail); a new one is now claimed and the handler runs.
void Service::check_idempotency(Simulation& sim, uint32_t slot, IdempotencyState before) {
  Task& t = tasks_[slot];
  switch (before) {
    case IdempotencyState::completed:
      metrics().count(Counter::duplicates_suppressed);
      t.suppressed = true;
      end_task(sim, slot, Reason::none);
      return;
    case IdempotencyState::in_progress:
      metrics().count(Counter::idempotency_conflicts);
      t.suppressed = true;
      end_task(sim, slot, Reason::conflict);
      return;
    case IdempotencyState::absent:
      t.recorded_key = true;
      ++t.pc;
      return;
  }
}

// Ground truth for duplicates: a handler that completes for a key that already completed here
// repeated its side effects.
void Service::count_side_effect(Simulation& sim, CallHandle h) {
  const uint64_t key = sim.request(sim.call(h).request).idempotency_key;
  if (key != 0 && completed_.complete(key)) metrics().count(Counter::duplicates);
}

// After an answer to the current call or parallel step: has the step reached its outcome? Moves
// the program counter on (or ends the task) and returns true if so.
bool Service::step_settled(Simulation& sim, uint32_t slot) {
  Task& t = tasks_[slot];
  const Instruction& in = program_[t.pc];
  const uint32_t count = in.op != Instruction::Op::parallel ? 1 : in.count;
  const uint32_t need = in.op != Instruction::Op::parallel ? 1 : in.need;
  const bool succeeded = t.successes >= need;
  const bool failed = t.failures > count - need;
  if (!succeeded && !failed) return false;
  if (in.op == Instruction::Op::parallel) {
    t.exchanges.for_each([&](uint64_t id) { out_.cancel(sim, id); });  // finished ones ignore it
    tasks_[slot].exchanges.clear();
  }
  Task& u = tasks_[slot];
  if (in.op == Instruction::Op::idempotency_complete) {
    // A completion the store could not record does not undo the work: the answer is still a
    // success (the claim stays in progress until its lease runs out).
    ++u.pc;
    return true;
  }
  if (in.op == Instruction::Op::idempotency_check) {
    if (succeeded) {
      check_idempotency(sim, slot, static_cast<IdempotencyState>(u.claimed));
    } else if (p_.idempotency.on_store_failure == 1) {  // proceed unchecked
      ++u.pc;
    } else {
      end_task(sim, slot, u.failure);
    }
    return true;
  }
  if (succeeded || in.continue_on_error) {
    ++u.pc;
    return true;
  }
  end_task(sim, slot, u.failure);
  return true;
}

void Service::on_call_done(Simulation& sim, uint64_t token, const Reply& reply) {
  const uint32_t slot = payload_handle(token);
  if (slot >= tasks_.size()) return;  // a release sent to the store: nobody waits for it
  Task& t = tasks_[slot];
  if (!t.live || t.serial != payload_serial(token)) return;
  if (t.pending > 0) --t.pending;
  if (reply.ok()) {
    t.claimed = reply.result & 3;
    ++t.successes;
    t.degraded |= reply.degraded;
  } else {
    ++t.failures;
    t.failure = reply.reason;
  }
  if (t.running) return;  // advance() is on the stack and looks at the step itself
  // Only calls and fan-outs (and the idempotency store's answer) wait for answers.
  assert(program_[t.pc].op == Instruction::Op::call ||
         program_[t.pc].op == Instruction::Op::parallel ||
         program_[t.pc].op == Instruction::Op::idempotency_check ||
         program_[t.pc].op == Instruction::Op::idempotency_complete);
  const uint32_t serial = t.serial;
  if (step_settled(sim, slot) && tasks_[slot].serial == serial) advance(sim, slot);
}

void Service::on_reply(Simulation& sim, CallHandle h, const Reply& r) {
  out_.on_reply(sim, h, r);
}

void Service::end_task(Simulation& sim, uint32_t slot, Reason reason) {
  Task& t = tasks_[slot];
  const CallHandle h = t.call;
  const bool degraded = t.degraded;
  if (t.recorded_key) {
    const uint64_t key = sim.request(sim.call(h).request).idempotency_key;
    if (reason != Reason::none) {
      // A failed run must not block the retry that will try again. The store is told without
      // waiting for its answer: the failure goes back to the caller at once.
      if (release_site_ == UINT32_MAX) {
        processed_.forget(key);
      } else {
        out_.call(sim, release_site_, sim.call(h).request, Time::max(), kNoTask);
      }
    } else if (release_site_ == UINT32_MAX) {
      processed_.complete(key, sim.now());
    }
  }
  if (reason == Reason::none && !t.suppressed) count_side_effect(sim, h);
  t.live = false;
  t.running = false;
  ++t.serial;
  free_tasks_.push_back(tasks_, slot);
  release_worker(sim);
  if (reason != Reason::none) {
    respond(sim, h, reason, false);
    return;
  }
  const uint32_t to = router_.next(routing_rng_);
  if (to == kNoComponent) {
    respond(sim, h, Reason::none, degraded);
  } else {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
    sim.forward(h, to);
  }
}

void Service::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (!faults().crashed || before.crashed) return;
  // Every call this service holds - waiting, in service, or in a handler (whose own calls are
  // abandoned) - fails now, in handle order. The state is cleared first: the answers may bring
  // new calls at once, which the crashed service refuses at its door.
  // (Neither a call the network is still carrying here or back to its caller, nor one left
  // hanging by an earlier crash in mode hang, is held: see CallPool::held_by.)
  std::vector<CallHandle> held;
  for (CallHandle h = 0; h < sim.calls().capacity(); ++h) {
    if (sim.calls().held_by(h, index())) held.push_back(h);
  }
  while (!waiting_.empty()) waiting_.pop();
  for (uint32_t slot = 0; slot < tasks_.size(); ++slot) {
    Task& t = tasks_[slot];
    if (!t.live) continue;
    t.exchanges.for_each([&](uint64_t id) { out_.cancel(sim, id); });
    t.exchanges.clear();
    if (t.recorded_key) processed_.forget(sim.request(sim.call(t.call).request).idempotency_key);
    t.live = false;
    t.running = false;
    ++t.serial;
    free_tasks_.push_back(tasks_, slot);
  }
  // (Also abandons an idempotency store's check in progress, and forgets the handler's circuit
  // breakers and retry budgets: process memory.)
  out_.reset(sim);
  busy_ = 0;
  metrics().queue().set(sim.now(), 0);
  metrics().busy().set(sim.now(), 0);
  update_capacity(sim);
  for (CallHandle h : held) {
    if (!left_hanging_by_crash(sim, *this, h)) respond(sim, h, Reason::unavailable, false);
  }
}

void Service::on_params_changed(Simulation& sim, const std::string& param) {
  if (param == "workers") {
    // More workers start on the queue now; fewer take effect as busy workers finish.
    update_capacity(sim);
    pull_from_queue(sim);
  } else if (param == "queue_capacity") {
    // Requests already waiting beyond a lowered capacity keep their place; new arrivals see it.
  }
}

}  // namespace dsim
