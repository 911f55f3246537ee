// Simulation: the discrete-event core that runs one scenario.
//
// Sections: lifecycle and driving (step / run_until / run / pause / resume / stop), the model's
// services to components (time, scheduling, requests, randomness), the control door (live
// parameter changes), and the read-only door (observers, metrics, the conservation ledger).
//
// The loop is deliberately small: pop the earliest event (time, then insertion order), set now,
// hand it to its component. Components call each other directly (zero-latency links), and replies
// travel back the same way; while a network fault is active, core/network.hpp may delay, lose,
// duplicate or refuse them (delays are events like any other).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/call.hpp"
#include "core/component.hpp"
#include "core/event_queue.hpp"
#include "core/fault_window.hpp"
#include "core/histogram.hpp"
#include "core/network.hpp"
#include "core/observer.hpp"
#include "core/random.hpp"
#include "core/request.hpp"
#include "core/time.hpp"

namespace dsim {

struct Scenario;
class FaultController;

// created -> running <-> paused -> finished. Any other transition throws LifecycleError.
enum class Lifecycle : uint8_t { created, running, paused, finished };
const char* to_string(Lifecycle s);

class LifecycleError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Requests by how they ended. The identity generated = sum of the others + in flight is checked
// at the end of every run; a violation is an engine bug.
struct Ledger {
  uint64_t generated = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  uint64_t dropped = 0;
  uint64_t dead_lettered = 0;
  uint64_t in_flight = 0;  // counted by scanning the request pool, independently of the above
  bool balanced() const {
    return generated == completed + failed + dropped + dead_lettered + in_flight;
  }
};

// End-to-end figures of the requests created after warm-up; generated = completed + failed +
// dropped + dead_lettered + those still in flight, as for the whole-run ledger.
struct WorkloadStats {
  std::string name;
  uint64_t generated = 0;
  uint64_t completed = 0, failed = 0, dropped = 0, dead_lettered = 0;
  LatencyHistogram latency;  // end to end, completed requests
};

class Simulation {
 public:
  // Builds every component of an already validated scenario (see scenario/loader.hpp).
  explicit Simulation(const Scenario& scenario);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // --- Lifecycle and driving -------------------------------------------------------------
  // Each returns false once the run has finished. Calling them while paused or finished throws.
  bool step();             // process exactly one event
  bool run_until(Time t);  // process every event up to and including t, then now = t
  void run();              // until the end time, an empty event list, or pause()/stop()
  void pause();            // running -> paused; from an observer it takes effect after the event
  void resume();           // paused -> running
  void stop();             // end now (e.g. SIGINT): outputs are valid but incomplete
  Lifecycle state() const { return state_; }
  bool complete() const { return complete_; }  // reached its end time rather than stop()

  // --- Services to components ------------------------------------------------------------
  Time now() const { return now_; }
  Time end_time() const { return end_; }
  Time warmup() const { return warmup_; }
  uint64_t seed() const { return seed_; }
  void schedule(Time at, const Component& c, uint32_t kind, uint64_t payload) {
    queue_.push(at, c.index(), kind, payload);
  }
  Rng make_rng(const Component& c, std::string_view purpose) const {
    return Rng::derive(seed_, c.name(), purpose);
  }
  RequestHandle create_request(const Component& source, uint32_t workload);
  Request& request(RequestHandle h) { return requests_[h]; }
  const Request& request(RequestHandle h) const { return requests_[h]; }
  // The request's life ends here; `at` is the component where it ended. Calls still working on
  // it (orphans of a timeout) keep its slot until they are answered.
  void finish(RequestHandle h, Outcome outcome, Reason reason, const Component& at) {
    finish(h, outcome, reason, at.index());
  }
  void finish(RequestHandle h, Outcome outcome, Reason reason, uint32_t at);

  // Calls. A caller opens a call (recording the handle where its reply handler will look for
  // it) and then delivers it; the callee may answer at once, inside deliver().
  CallHandle open_call(const Component& caller, uint32_t callee, RequestHandle request,
                       uint64_t token) {
    const CallHandle h = calls_.acquire();
    Call& c = calls_[h];
    c.request = request;
    c.caller = caller.index();
    c.callee = callee;
    c.token = token;
    requests_.retain(request);
    return h;
  }
  // While a network condition is active (core/network.hpp) the request may arrive later, twice,
  // never, or be refused; otherwise the callee gets it at once.
  void deliver(CallHandle h) { send_request(h, calls_[h].caller); }
  // Passes a call on to another component, which will answer the original caller.
  void forward(CallHandle h, uint32_t to_component) {
    const uint32_t from = calls_[h].callee;
    calls_[h].callee = to_component;
    send_request(h, from);
  }
  // Answers a call: the caller (if still waiting) gets the reply, then the call is released.
  // While a network condition is active the answer may arrive later, never, or be refused.
  void reply(CallHandle h, Reply r) {
    if (r.origin == kNoComponent) r.origin = calls_[h].callee;
    if (!call_observers_.empty()) notify_call_replied(h, r);
    if (network_.active() && send_response(h, r)) [[unlikely]] {
      return;  // the network holds or lost the answer
    }
    answer(h, r);
  }
  // Keeps a request's slot while something other than a call refers to it (a retry timer).
  void retain_request(RequestHandle h) { requests_.retain(h); }
  void release_request(RequestHandle h) { requests_.release(h); }
  // The caller stops waiting; the callee carries on, and its answer will reach nobody. A call
  // the network lost has no answer coming: it is released now (after the caller's handler).
  void abandon(CallHandle h) {
    Call& c = calls_[h];
    if (c.lost && c.caller != kNoComponent) [[unlikely]]
      release_lost_call(h);
    c.caller = kNoComponent;
  }
  // The callee will never answer (it crashed with the machine, faults/fault_hooks.hpp): like a
  // call whose message the network lost, it is released when its caller abandons it - at once if
  // nobody waits.
  void lose_call(CallHandle h) {
    Call& c = calls_[h];
    c.lost = true;
    if (c.caller == kNoComponent) answer(h, Reply{});
  }
  Call& call(CallHandle h) { return calls_[h]; }
  const Call& call(CallHandle h) const { return calls_[h]; }
  const CallPool& calls() const { return calls_; }
  const RequestPool& requests() const { return requests_; }
  uint32_t add_workload(const std::string& name);  // returns the existing index for a known name

  // --- The network (core/network.hpp; core/simulation_network.cpp) ------------------------
  // Conditions on the messages between components, effective from now: the fault layer's
  // partition and network kinds add, change and remove them, at the start and end of faults or
  // live. The ids are the network's.
  Network::Id add_network_condition(NetworkCondition c) { return network_.add(std::move(c)); }
  bool change_network_condition(Network::Id id, NetworkCondition c) {
    return network_.change(id, std::move(c));
  }
  bool remove_network_condition(Network::Id id) { return network_.remove(id); }
  const Network& network() const { return network_; }

  // --- Control door ----------------------------------------------------------------------
  // Changes a parameter marked live (e.g. "api", "workers", "8"). Returns an empty string on
  // success or a message saying what is wrong, in the loader's words.
  std::string set_parameter(const std::string& component, const std::string& param,
                            const std::string& value);
  // Tests only: puts a stand-in of the test's own making (e.g. a backend whose health follows a
  // script) in the place of component `name`, before the run starts. The stand-in keeps the
  // name and the index, so every reference to the component now reaches it. Throws
  // std::invalid_argument for an unknown name and LifecycleError once the run has started.
  void substitute(const std::string& name, std::unique_ptr<Component> stand_in);

  // The fault timeline and the live fault API (start, change, clear): faults/fault_controller.hpp.
  FaultController& faults() { return *faults_; }
  const FaultController& faults() const { return *faults_; }

  // --- Read-only door --------------------------------------------------------------------
  void add_observer(Observer* o);
  const std::vector<std::unique_ptr<Component>>& components() const { return components_; }
  const Component* find(std::string_view name) const;
  const std::vector<WorkloadStats>& workloads() const { return workloads_; }
  Ledger ledger() const;
  uint64_t events_processed() const { return events_; }
  size_t pending_events() const { return queue_.size(); }
  Time window() const { return window_; }
  // Start of the measured period: the warm-up end once passed, else zero.
  Time measured_since() const { return warmed_up_ ? warmup_ : Time::zero(); }
  const std::string& scenario_name() const { return scenario_name_; }
  // Every fault activation so far, in the order they started (see core/fault_window.hpp).
  const std::vector<FaultWindow>& fault_windows() const { return fault_windows_; }
  // More events than this at one simulated instant means time has stopped advancing (a zero-time
  // cycle): the run throws instead of spinning. 50 million by default.
  void set_stall_limit(uint64_t events_at_one_instant) {
    max_events_at_one_instant_ = events_at_one_instant;
  }

 private:
  friend class FaultController;  // schedules its system events, records fault windows
  // 2 and 3 are the fault controller's (timeline starts, ramp steps and ends).
  enum SystemEvent : uint32_t { kWindowEnd = 0, kWarmupEnd = 1 };
  // The network's events (payload: call handle and serial); see simulation_network.cpp.
  enum NetworkEvent : uint32_t {
    kRequestArrives = 0x100,
    kRequestArrivesTwice,
    kResponseArrives,
    kReleaseLostCall
  };
  static constexpr uint32_t kSystem = UINT32_MAX;

  void start();
  void dispatch(const Event& e);
  void handle_system(const Event& e);
  void close_window();
  void end_warmup();
  void finish_run(bool complete);
  bool apply_deferred_requests();
  void transition(Lifecycle to);
  void require_drivable(const char* what);
  // Out of line so that deliver() and reply() stay small when nobody traces calls.
  void notify_call_delivered(CallHandle h);
  void notify_call_replied(CallHandle h, const Reply& r);

  // Message passing: the fast path inline, the network's part in simulation_network.cpp.
  void send_request(CallHandle h, uint32_t from) {
    if (network_.active() && hold_request(h, from)) [[unlikely]] {
      return;  // the network delays, loses or refuses it
    }
    arrive(h);
  }
  void arrive(CallHandle h) {
    Call& c = calls_[h];
    c.received = now_;
    if (!call_observers_.empty()) notify_call_delivered(h);
    components_[c.callee]->accept(*this, h);
  }
  void answer(CallHandle h, const Reply& r) {
    const uint32_t caller = calls_[h].caller;
    if (caller != kNoComponent) components_[caller]->on_reply(*this, h, r);
    const RequestHandle req = calls_[h].request;
    calls_.release(h);
    requests_.release(req);
  }
  bool hold_request(CallHandle h, uint32_t from);
  bool send_response(CallHandle h, Reply& r);
  void arrive_twice(CallHandle h);
  void release_lost_call(CallHandle h);
  void handle_network(const Event& e);

  std::string scenario_name_;
  uint64_t seed_ = 0;
  Time now_;
  Time end_;
  Time warmup_;
  Time window_;
  Time window_start_;
  bool warmed_up_ = false;
  Lifecycle state_ = Lifecycle::created;
  bool in_loop_ = false;  // inside step/run_until: pause() and stop() are deferred
  bool pause_requested_ = false;
  bool stop_requested_ = false;
  bool finishing_ = false;
  bool complete_ = false;
  uint64_t events_ = 0;
  uint64_t max_events_at_one_instant_ = 50'000'000;
  uint64_t events_at_now_ = 0;
  uint64_t next_request_id_ = 1;

  EventQueue queue_;
  RequestPool requests_;
  CallPool calls_;
  std::vector<std::unique_ptr<Component>> components_;
  std::vector<WorkloadStats> workloads_;
  Ledger ledger_;
  std::vector<Observer*> observers_;
  std::vector<Observer*> request_observers_;
  std::vector<Observer*> call_observers_;  // those whose wants_calls() is true (tracers)
  WindowReport window_report_;
  std::vector<FaultWindow> fault_windows_;
  Network network_;
  std::vector<Reply> replies_in_transit_;  // by call handle: answers the network delays
  std::unique_ptr<FaultController> faults_;
};

}  // namespace dsim
