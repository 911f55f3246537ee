#include "core/simulation.hpp"

#include <algorithm>
#include <cassert>
#include <stdexcept>

#include "core/format.hpp"

#include "components/registry.hpp"
#include "faults/fault_controller.hpp"
#include "scenario/param_text.hpp"
#include "scenario/scenario.hpp"

namespace dsim {

const char* to_string(Lifecycle s) {
  switch (s) {
    case Lifecycle::created:
      return "created";
    case Lifecycle::running:
      return "running";
    case Lifecycle::paused:
      return "paused";
    case Lifecycle::finished:
      return "finished";
  }
  return "?";
}

Simulation::Simulation(const Scenario& scenario)
    : scenario_name_(scenario.name),
      seed_(scenario.seed),
      end_(scenario.duration),
      warmup_(scenario.warmup),
      window_(scenario.window) {
  if (window_ <= Time::zero()) throw std::invalid_argument("window must be positive");
  for (const ComponentSpec& spec : scenario.components) {
    const ComponentKind* kind = find_component_kind(spec.kind);
    if (!kind) throw std::invalid_argument("unknown component kind '" + spec.kind + "'");
    auto c = kind->create(spec.name, spec.params->clone());
    c->index_ = static_cast<uint32_t>(components_.size());
    components_.push_back(std::move(c));
  }
  network_.set_size(seed_, components_.size());
  faults_ = std::make_unique<FaultController>(*this, scenario.faults, scenario.groups);
}

Simulation::~Simulation() = default;

// --- Lifecycle ----------------------------------------------------------------------------

void Simulation::transition(Lifecycle to) {
  const Lifecycle from = state_;
  const bool legal = (from == Lifecycle::created && to == Lifecycle::running) ||
                     (from == Lifecycle::running && to == Lifecycle::paused) ||
                     (from == Lifecycle::paused && to == Lifecycle::running) ||
                     (from != Lifecycle::finished && to == Lifecycle::finished);
  if (!legal) {
    throw LifecycleError(std::string("illegal lifecycle transition ") + to_string(from) + " -> " +
                         to_string(to));
  }
  state_ = to;
  for (Observer* o : observers_) o->on_lifecycle(*this, from, to);
}

void Simulation::require_drivable(const char* what) {
  if (state_ == Lifecycle::paused) {
    throw LifecycleError(std::string(what) + "() called while paused: call resume() first");
  }
  if (state_ == Lifecycle::finished) {
    throw LifecycleError(std::string(what) + "() called after the run finished");
  }
  if (state_ == Lifecycle::created) start();
}

void Simulation::start() {
  transition(Lifecycle::running);
  for (auto& c : components_) {
    c->metrics().reset(now_);
    c->metrics().reset_window(now_);
  }
  window_start_ = now_;
  window_report_.rows.resize(components_.size());
  queue_.push_after_instant(std::min(window_, end_), kSystem, kWindowEnd, 0);
  if (warmup_ > Time::zero() && warmup_ < end_) {
    queue_.push_after_instant(warmup_, kSystem, kWarmupEnd, 0);
  } else {
    warmed_up_ = warmup_ == Time::zero();
  }
  for (auto& c : components_) c->start(*this);
  faults_->on_run_start();
}

bool Simulation::step() {
  require_drivable("step");
  if (queue_.empty() || queue_.top().time > end_) {
    finish_run(true);
    return false;
  }
  in_loop_ = true;
  dispatch(queue_.pop());
  in_loop_ = false;
  if (apply_deferred_requests()) return state_ != Lifecycle::finished;
  return true;
}

bool Simulation::run_until(Time t) {
  require_drivable("run_until");
  const Time limit = std::min(t, end_);
  in_loop_ = true;
  Event e;
  while (!pause_requested_ && !stop_requested_ && queue_.pop_due(limit, e)) dispatch(e);
  in_loop_ = false;
  if (apply_deferred_requests()) return state_ != Lifecycle::finished;
  now_ = std::max(now_, limit);
  if (limit == end_) {
    finish_run(true);
    return false;
  }
  return true;
}

// A pause() or stop() made by an observer during the loop takes effect here. Returns true if one
// did.
bool Simulation::apply_deferred_requests() {
  if (stop_requested_) {
    stop_requested_ = pause_requested_ = false;
    finish_run(false);
    return true;
  }
  if (pause_requested_) {
    pause_requested_ = false;
    transition(Lifecycle::paused);
    return true;
  }
  return false;
}

void Simulation::run() {
  run_until(end_);
}

void Simulation::pause() {
  if (finishing_) return;  // the run is ending; nothing left to pause
  if (state_ != Lifecycle::running) {
    throw LifecycleError(std::string("pause() called while ") + to_string(state_));
  }
  if (in_loop_) {
    pause_requested_ = true;
  } else {
    transition(Lifecycle::paused);
  }
}

void Simulation::resume() {
  if (state_ != Lifecycle::paused) {
    throw LifecycleError(std::string("resume() called while ") + to_string(state_));
  }
  transition(Lifecycle::running);
}

void Simulation::stop() {
  if (state_ == Lifecycle::finished || finishing_) return;
  if (in_loop_) {
    stop_requested_ = true;
    return;
  }
  if (state_ == Lifecycle::created) start();
  finish_run(false);
}

void Simulation::finish_run(bool complete) {
  finishing_ = true;  // observers told about the last window may not stop or pause it again
  if (complete) now_ = end_;
  complete_ = complete;
  if (now_ > window_start_) close_window();  // the last, possibly partial, window
  transition(Lifecycle::finished);
  finishing_ = false;
  const Ledger l = ledger();
  if (!l.balanced()) {
    throw std::logic_error("conservation violated: generated " + std::to_string(l.generated) +
                           " != completed " + std::to_string(l.completed) + " + failed " +
                           std::to_string(l.failed) + " + dropped " + std::to_string(l.dropped) +
                           " + dead-lettered " + std::to_string(l.dead_lettered) + " + in flight " +
                           std::to_string(l.in_flight) + " (an engine bug)");
  }
}

// --- The loop body ------------------------------------------------------------------------

void Simulation::dispatch(const Event& e) {
  if (e.time < now_) {  // cheap enough to check always: a time travel would corrupt every figure
    throw std::logic_error("event scheduled in the past (" + format_time(e.time) + " < now " +
                           format_time(now_) + "): an engine bug");
  }
  if (e.time == now_) {
    // A model whose time stops advancing (e.g. a closed loop with zero think time around a
    // zero-time path) would otherwise spin forever at one instant: end it with a clear error.
    if (++events_at_now_ > max_events_at_one_instant_) {
      throw std::runtime_error(
          "simulated time stopped advancing at " + format_time(now_) + ": more than " +
          std::to_string(max_events_at_one_instant_) +
          " events at the same instant. A cycle of zero-time steps (e.g. a closed_loop source with "
          "zero think_time whose requests also take zero time) never lets time move on.");
    }
  } else {
    events_at_now_ = 0;
  }
  now_ = e.time;
  ++events_;
  if (e.component == kSystem) {
    handle_system(e);
  } else {
    components_[e.component]->on_event(*this, e);
  }
}

void Simulation::handle_system(const Event& e) {
  if (e.kind >= kRequestArrives) {
    handle_network(e);
    return;
  }
  switch (e.kind) {
    case kWindowEnd:
      close_window();
      if (now_ < end_) {
        queue_.push_after_instant(std::min(now_ + window_, end_), kSystem, kWindowEnd, 0);
      }
      break;
    case kWarmupEnd:
      end_warmup();
      break;
    default:
      faults_->on_system_event(e);
      break;
  }
}

void Simulation::end_warmup() {
  warmed_up_ = true;
  for (auto& c : components_) c->metrics().reset(now_);
  for (WorkloadStats& w : workloads_) {
    w.generated = w.completed = w.failed = w.dropped = w.dead_lettered = 0;
    w.latency.reset();
  }
}

void Simulation::close_window() {
  window_report_.start = window_start_;
  window_report_.end = now_;
  for (size_t i = 0; i < components_.size(); ++i) {
    StationMetrics& m = components_[i]->metrics();
    WindowRow& r = window_report_.rows[i];
    const LatencyHistogram& h = m.window_latency();
    r.component = static_cast<uint32_t>(i);
    r.arrivals = m.window_arrivals();
    r.served = m.window_served();
    r.lost = m.window_lost();
    r.latency_count = h.count();
    r.latency_mean_ns = h.mean();
    static constexpr double kQs[] = {0.50, 0.90, 0.99};
    int64_t p[3];
    h.percentiles(kQs, p, 3);
    r.latency_p50_ns = p[0];
    r.latency_p90_ns = p[1];
    r.latency_p99_ns = p[2];
    r.latency_max_ns = h.max();
    r.queue_depth = m.queue().level();
    r.queue_depth_max = m.queue().window_max();
    r.in_system = m.in_system().level();
    const double cap = m.capacity().window_mean(now_);
    r.utilization = cap > 0 ? m.busy().window_mean(now_) / cap : 0.0;
    r.lost_by_reason = m.window_lost_by_reason();
    r.counters = m.window_counters();
    const StationMetrics& read_only = m;  // (the non-const gauge() marks a gauge as used)
    for (int g = 0; g < kGaugeCount; ++g) {
      r.gauges[g] = read_only.gauge(static_cast<Gauge>(g)).level();
    }
  }
  for (Observer* o : observers_) o->on_window(*this, window_report_);
  for (auto& c : components_) c->metrics().reset_window(now_);
  window_start_ = now_;
}

// --- Requests -----------------------------------------------------------------------------

uint32_t Simulation::add_workload(const std::string& name) {
  for (size_t i = 0; i < workloads_.size(); ++i) {
    if (workloads_[i].name == name) return static_cast<uint32_t>(i);
  }
  WorkloadStats w;
  w.name = name;
  workloads_.push_back(std::move(w));
  return static_cast<uint32_t>(workloads_.size() - 1);
}

RequestHandle Simulation::create_request(const Component& source, uint32_t workload) {
  const RequestHandle h = requests_.acquire();
  Request& r = requests_[h];
  r = Request{};
  r.id = next_request_id_++;
  r.created = now_;
  r.workload = workload;
  r.source = source.index();
  r.refs = 1;  // its own life, released by finish()
  ++ledger_.generated;
  if (warmed_up_) ++workloads_[workload].generated;
  return h;
}

void Simulation::finish(RequestHandle h, Outcome outcome, Reason reason, uint32_t at) {
  assert(requests_.is_live(h) && !requests_[h].finished);
  Request& r = requests_[h];
  r.finished = true;
  switch (outcome) {
    case Outcome::completed:
      ++ledger_.completed;
      break;
    case Outcome::failed:
      ++ledger_.failed;
      break;
    case Outcome::dropped:
      ++ledger_.dropped;
      break;
    case Outcome::dead_lettered:
      ++ledger_.dead_lettered;
      break;
  }
  // Workload figures follow the requests created in the measured period (after warm-up), so
  // that their outcomes add up to what was generated and no latency straddles the warm-up.
  if (warmed_up_ && r.created >= measured_since()) {
    WorkloadStats& w = workloads_[r.workload];
    switch (outcome) {
      case Outcome::completed:
        ++w.completed;
        w.latency.record((now_ - r.created).count_ns());
        break;
      case Outcome::failed:
        ++w.failed;
        break;
      case Outcome::dropped:
        ++w.dropped;
        break;
      case Outcome::dead_lettered:
        ++w.dead_lettered;
        break;
    }
  }
  for (Observer* o : request_observers_) o->on_request_finished(*this, r, outcome, reason, at);
  // Release before telling the source: a closed-loop client may create its next request at once.
  const Request copy = r;
  requests_.release(h);
  if (copy.source != kNoComponent)
    components_[copy.source]->on_request_finished(*this, copy, outcome);
}

// --- Control and read-only doors -----------------------------------------------------------

std::string Simulation::set_parameter(const std::string& component, const std::string& param,
                                      const std::string& value) {
  if (state_ == Lifecycle::finished) return "the run has finished";
  Component* c = nullptr;
  for (auto& p : components_) {
    if (p->name() == component) c = p.get();
  }
  if (!c) return "no component named '" + component + "'";
  std::string error = apply_param_text(c->params(), component, param, value, /*live_only=*/true);
  if (!error.empty()) return error;
  for (const Component::ParamCopies& copies : c->param_copies_) copies.reload(copies.part);
  c->on_params_changed(*this, param);
  return {};
}

void Simulation::substitute(const std::string& name, std::unique_ptr<Component> stand_in) {
  if (state_ != Lifecycle::created) {
    throw LifecycleError("substitute() called after the run started");
  }
  for (auto& c : components_) {
    if (c->name() != name) continue;
    if (!stand_in || stand_in->name() != name) {
      throw std::invalid_argument("a stand-in for '" + name + "' must have its name");
    }
    stand_in->index_ = c->index_;
    stand_in->faults_.rng = c->faults_.rng;
    c = std::move(stand_in);
    return;
  }
  throw std::invalid_argument("no component named '" + name + "'");
}

void Simulation::add_observer(Observer* o) {
  observers_.push_back(o);
  if (o->wants_requests()) request_observers_.push_back(o);
  if (o->wants_calls()) call_observers_.push_back(o);
}

void Simulation::notify_call_delivered(CallHandle h) {
  for (Observer* o : call_observers_) o->on_call_delivered(*this, h, calls_[h]);
}

void Simulation::notify_call_replied(CallHandle h, const Reply& r) {
  for (Observer* o : call_observers_) o->on_call_replied(*this, h, calls_[h], r);
}

const Component* Simulation::find(std::string_view name) const {
  for (const auto& c : components_) {
    if (c->name() == name) return c.get();
  }
  return nullptr;
}

Ledger Simulation::ledger() const {
  Ledger l = ledger_;
  l.in_flight = requests_.count_unfinished_by_scan();
  return l;
}

}  // namespace dsim
