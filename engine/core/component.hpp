// The base of every component kind (source, service, sink, and the backend library to come).
//
// A component reacts to calls made to it (accept), to the replies to calls it made (on_reply) and
// to events it scheduled for itself earlier (on_event). Every accepted call must eventually be
// answered with Simulation::reply or passed on with Simulation::forward. A component owns its
// typed parameters and its StationMetrics and reaches the rest of the world only through the
// Simulation it is given.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/call.hpp"
#include "core/event_queue.hpp"
#include "core/fault_state.hpp"
#include "core/params.hpp"
#include "core/request.hpp"
#include "core/station_metrics.hpp"

namespace dsim {

class Simulation;

class Component {
 public:
  Component(std::string name, std::string kind, std::unique_ptr<ComponentParams> params)
      : name_(std::move(name)), kind_(std::move(kind)), params_(std::move(params)) {}
  virtual ~Component() = default;
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;

  const std::string& name() const { return name_; }
  const std::string& kind() const { return kind_; }
  uint32_t index() const { return index_; }

  // Called once when the simulation starts: schedule the first events here.
  virtual void start(Simulation&) {}
  // A call arrives; this component now holds it.
  virtual void accept(Simulation& sim, CallHandle call) = 0;
  // The answer to a call this component made (the call is released when this returns).
  virtual void on_reply(Simulation&, CallHandle, const Reply&) {}
  // An event this component scheduled through Simulation::schedule.
  virtual void on_event(Simulation&, const Event&) {}
  // A request this component generated has finished, wherever that happened (closed loops).
  virtual void on_request_finished(Simulation&, const Request&, Outcome) {}
  // A live parameter change was applied to params(); bring the running state in line.
  virtual void on_params_changed(Simulation&, const std::string& /*param*/) {}
  // A part of a component that keeps copies of parameter values where its hot path reads them
  // (the parameters themselves are seldom in cache), such as an Outbound's call sites. It
  // registers once; after every live change, Simulation::set_parameter calls reload(part) to
  // have it read them again, before on_params_changed. (A function and a pointer rather than a
  // virtual base: parts embedded in hot objects stay as they are laid out.)
  struct ParamCopies {
    void (*reload)(void* part);
    void* part;
  };
  void keep_param_copies(ParamCopies copies) { param_copies_.push_back(copies); }
  // What this component's health endpoint answers at `now`, as a load balancer's active health
  // check sees it: false while a `crash` fault holds it down.
  virtual bool healthy(Time /*now*/) const { return !faults_.crashed; }
  // The faults acting on this component changed (faults() holds the new effects, `before` the
  // old): a kind brings its running state in line, e.g. fails its in-flight work on a crash.
  virtual void on_faults_changed(Simulation&, const FaultEffects& /*before*/) {}
  // Figures a kind keeps beyond its StationMetrics, over the measured period, as (name, value)
  // pairs (a database's per-shard utilisation...); summaries list them under the component.
  virtual void extra_figures(const Simulation&,
                             std::vector<std::pair<std::string, double>>& /*out*/) const {}

  ComponentParams& params() { return *params_; }
  const ComponentParams& params() const { return *params_; }
  StationMetrics& metrics() { return metrics_; }
  const StationMetrics& metrics() const { return metrics_; }
  // The effects of the faults acting on this component (set by the fault controller).
  FaultState& faults() { return faults_; }
  const FaultState& faults() const { return faults_; }

 private:
  friend class Simulation;
  std::string name_;
  std::string kind_;
  uint32_t index_ = 0;
  std::unique_ptr<ComponentParams> params_;
  FaultState faults_;  // before the metrics' 240 KB: read on hot paths, near index_
  StationMetrics metrics_;
  std::vector<ParamCopies> param_copies_;  // (last: it is read only by set_parameter)
};

}  // namespace dsim
