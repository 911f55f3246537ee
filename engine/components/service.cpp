#include "components/service.hpp"

#include <algorithm>

#include "core/simulation.hpp"

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
      router_(p_.next) {
  std::vector<SiteNeed> sites;
  compile_handler(p_.handler, program_, sites);
  for (size_t i = 0; i < sites.size(); ++i) {
    const TargetRef& t = sites[i].step->target();
    out_.add_site(sites[i].step->policy, t.index, t.op_index,
                  "step" + std::to_string(i) + ":" + t.name);
  }
}

void Service::start(Simulation& sim) {
  service_rng_ = sim.make_rng(*this, "service_time");
  routing_rng_ = sim.make_rng(*this, "routing");
  branch_rng_ = sim.make_rng(*this, "branches");
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
    sim.schedule(sim.now() + p_.service_time.sample(service_rng_), *this, kServed, h);
    return;
  }
  uint32_t slot;
  if (!free_tasks_.empty()) {
    slot = free_tasks_.back();
    free_tasks_.pop_back();
  } else {
    slot = static_cast<uint32_t>(tasks_.size());
    tasks_.emplace_back();
  }
  Task& t = tasks_[slot];
  t.call = h;
  t.pc = 0;
  ++t.serial;
  t.pending = t.successes = t.failures = 0;
  t.failure = Reason::none;
  t.degraded = false;
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
  if (e.kind == kStepDone) {
    const uint32_t slot = payload_handle(e.payload);
    Task& t = tasks_[slot];
    if (!t.live || t.serial != payload_serial(e.payload)) return;
    ++t.pc;
    advance(sim, slot);
    return;
  }
  const auto h = static_cast<CallHandle>(e.payload);
  release_worker(sim);
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
    if (expired(sim, t.call)) {
      end_task(sim, slot, Reason::deadline_exceeded);
      return;
    }
    const Instruction& in = program_[t.pc];
    switch (in.op) {
      case Instruction::Op::compute:
        t.running = false;
        sim.schedule(sim.now() + in.distribution->sample(service_rng_), *this, kStepDone,
                     pack_handle(slot, t.serial));
        return;
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
    }
  }
}

// After an answer to the current call or parallel step: has the step reached its outcome? Moves
// the program counter on (or ends the task) and returns true if so.
bool Service::step_settled(Simulation& sim, uint32_t slot) {
  Task& t = tasks_[slot];
  const Instruction& in = program_[t.pc];
  const uint32_t count = in.op == Instruction::Op::call ? 1 : in.count;
  const uint32_t need = in.op == Instruction::Op::call ? 1 : in.need;
  const bool succeeded = t.successes >= need;
  const bool failed = t.failures > count - need;
  if (!succeeded && !failed) return false;
  if (in.op == Instruction::Op::parallel) {
    for (uint64_t id : t.exchanges) out_.cancel(sim, id);  // finished ones ignore it
    tasks_[slot].exchanges.clear();
  }
  Task& u = tasks_[slot];
  if (succeeded || in.continue_on_error) {
    ++u.pc;
    return true;
  }
  end_task(sim, slot, u.failure);
  return true;
}

void Service::on_call_done(Simulation& sim, uint64_t token, const Reply& reply) {
  const uint32_t slot = payload_handle(token);
  Task& t = tasks_[slot];
  if (!t.live || t.serial != payload_serial(token)) return;
  if (t.pending > 0) --t.pending;
  if (reply.ok()) {
    ++t.successes;
    t.degraded |= reply.degraded;
  } else {
    ++t.failures;
    t.failure = reply.reason;
  }
  if (t.running) return;  // advance() is on the stack and looks at the step itself
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
  t.live = false;
  t.running = false;
  ++t.serial;
  free_tasks_.push_back(slot);
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
