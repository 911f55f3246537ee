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
           "arrivals are dropped with reason queue_full. `unbounded` for no limit.",
           false, true},
          queue_capacity, 0, INT64_MAX);
  v.choice({"discipline", "choice",
            "Order in which waiting requests are served: fifo, lifo, or priority (higher "
            "request priority first, FIFO among equals)."},
           discipline, kDisciplineNames);
  v.distribution(
      {"service_time", "distribution", "Time a worker spends on one request.", true, true},
      service_time);
  v.route({"next", "route",
           "Where served requests go: a component name, {split: ...} or {cycle: [...]}. "
           "Absent: requests complete here."},
          next);
  v.flag({"shed_expired", "bool",
          "Drop (reason deadline_exceeded) a waiting request whose deadline has passed instead of "
          "serving it."},
         shed_expired);
}

Service::Service(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "service", std::move(params)),
      p_(static_cast<ServiceParams&>(this->params())),
      waiting_(static_cast<Discipline>(p_.discipline)),
      router_(p_.next) {}

void Service::start(Simulation& sim) {
  service_rng_ = sim.make_rng(*this, "service_time");
  routing_rng_ = sim.make_rng(*this, "routing");
  metrics().capacity().set(sim.now(), p_.workers);
}

// Available workers for utilisation: after a live decrease the surplus busy workers still count
// until they finish, so utilisation never exceeds 100 %.
void Service::update_capacity(Simulation& sim) {
  metrics().capacity().set(sim.now(), std::max(p_.workers, busy_));
}

void Service::accept(Simulation& sim, RequestHandle h) {
  metrics().on_arrival(sim.now());
  if (busy_ < p_.workers) {
    begin_service(sim, h);
  } else if (static_cast<int64_t>(waiting_.size()) < p_.queue_capacity) {
    waiting_.push(h, sim.request(h).priority);
    metrics().queue().set(sim.now(), static_cast<int64_t>(waiting_.size()));
  } else {
    metrics().on_lost(sim.now(), Outcome::dropped, Reason::queue_full);
    sim.finish(h, Outcome::dropped, Reason::queue_full, *this);
  }
}

void Service::begin_service(Simulation& sim, RequestHandle h) {
  ++busy_;
  metrics().busy().set(sim.now(), busy_);
  metrics().on_service_start(sim.now() - sim.request(h).hop_arrival);
  sim.schedule(sim.now() + p_.service_time.sample(service_rng_), *this, 0, h);
}

void Service::pull_from_queue(Simulation& sim) {
  while (busy_ < p_.workers && !waiting_.empty()) {
    const RequestHandle h = waiting_.pop();
    metrics().queue().set(sim.now(), static_cast<int64_t>(waiting_.size()));
    if (p_.shed_expired && sim.request(h).deadline < sim.now()) {
      metrics().on_lost(sim.now(), Outcome::dropped, Reason::deadline_exceeded);
      sim.finish(h, Outcome::dropped, Reason::deadline_exceeded, *this);
      continue;
    }
    begin_service(sim, h);
  }
}

void Service::on_event(Simulation& sim, const Event& e) {
  const auto h = static_cast<RequestHandle>(e.payload);
  --busy_;
  metrics().busy().set(sim.now(), busy_);
  if (busy_ >= p_.workers) update_capacity(sim);  // a surplus worker retires
  metrics().on_served(sim.now(), sim.now() - sim.request(h).hop_arrival);
  // Start the next waiting request before routing this one: a request fed back to this service
  // must join the back of the queue, not jump into the worker it just freed.
  pull_from_queue(sim);
  const uint32_t to = router_.next(routing_rng_);
  if (to == kNoComponent) {
    sim.finish(h, Outcome::completed, Reason::none, *this);
  } else {
    sim.send(h, to);
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
