// The fault controller: the timeline of the scenario's `faults:` and the live fault API.
//
// One code path: the timeline schedules system events (after every ordinary event of their
// instant, like window ends) that call exactly start() and clear() below, so a fault started
// from YAML at 2m and one started live by a test or the viewer at 2m (after run_until(2m)) give
// the same run, byte for byte.
//
// `after:` anchors (faults/fault_spec.hpp): a fault's start or end calls follow(); the warm-up's
// end and a source's schedule steps are instants known when the run starts, so on_run_start()
// schedules them; `when:` conditions are checked by an Observer at every time-series window's
// end (attached only if the timeline has one), which schedules the start like the others - it
// never changes the model from inside the notification.
//
// Every activation gets an ActiveFault (kept after it ends, in start order) and a FaultWindow in
// Simulation::fault_windows(). Whenever a fault starts, changes or ends, the FaultState of each
// of its targets is rebuilt from every fault still acting on it, and the component is told
// (Component::on_faults_changed).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/event_queue.hpp"
#include "core/observer.hpp"
#include "faults/fault_spec.hpp"

namespace dsim {

class Simulation;

struct ActiveFault {
  FaultSpec spec;
  std::vector<uint32_t> targets;  // component indices, sorted
  double intensity = 1;           // in (0, 1]: below 1 only while ramping
  Time start;
  Time end = Time::max();  // the planned end (max: none)
  size_t window = 0;       // in Simulation::fault_windows()
  uint16_t plan = 0;       // changes when the end is re-planned: older step events are ignored
  bool active = true;
};

class FaultController {
 public:
  // `groups`: the scenario's named groups, which targets may name (from the timeline or live).
  FaultController(Simulation& sim, const std::vector<FaultSpec>& timeline,
                  const std::vector<ComponentGroup>& groups = {});

  // --- The live API: each returns "" on success or what is wrong, in the loader's words ---
  // Starts a fault now (a spec's at/after belong to the timeline and are not looked at here).
  std::string start(const FaultSpec& spec);
  // The same, from its parts: `params` are (key, YAML value) pairs such as {"factor", "20"}.
  std::string start(const std::string& name, const std::string& kind,
                    const std::vector<std::string>& targets,
                    const std::vector<std::pair<std::string, std::string>>& params = {});
  // Changes a live parameter of an active fault (e.g. "factor", "30"; "duration", "5m").
  std::string change(const std::string& name, const std::string& param, const std::string& value);
  // Ends an active fault now.
  std::string clear(const std::string& name);

  // Every activation so far, in start order.
  const std::vector<ActiveFault>& faults() const { return faults_; }
  // The active fault of this name, or nullptr.
  const ActiveFault* find_active(const std::string& name) const;
  const std::vector<FaultSpec>& timeline() const { return timeline_; }

  // --- For Simulation ----------------------------------------------------------------------
  void on_run_start();  // schedules the timeline's `at` starts and the starts after events
  void on_system_event(const Event& e);  // kFaultTimeline / kFaultStep events
  static constexpr uint32_t kFaultTimeline = 2;
  static constexpr uint32_t kFaultStep = 3;

 private:
  std::string refuse_unless_live() const;
  ComponentDirectory directory() const;
  // Validates and activates; `timeline` is the index in the timeline or -1 for a live start.
  std::string activate(const FaultSpec& spec, int timeline);
  void deactivate(uint32_t instance);
  void plan(uint32_t instance);  // schedules the ramp steps and the end from now on
  double intensity_at(const ActiveFault& f, Time t) const;
  void rebuild(const std::vector<uint32_t>& components);
  void follow(const std::string& name, int edge);  // starts `after:` faults of this edge
  void schedule_timeline(size_t index, Time at);
  Time event_instant(const FaultSpec& spec) const;  // of an `after: {event: ...}` anchor
  void check_triggers(const WindowReport& report);  // `after: {when: ...}` anchors

  // The window-end door for `when:` triggers.
  class TriggerWatch final : public Observer {
   public:
    explicit TriggerWatch(FaultController& c) : c_(c) {}
    void on_window(const Simulation&, const WindowReport& report) override {
      c_.check_triggers(report);
    }

   private:
    FaultController& c_;
  };

  Simulation& sim_;
  std::vector<FaultSpec> timeline_;
  std::vector<ComponentGroup> groups_;
  std::vector<int> timeline_started_;        // per timeline fault: started already (once only)
  std::vector<uint32_t> trigger_component_;  // per timeline fault: its `when:` component, or max
  std::vector<int> triggered_;               // per timeline fault: its `when:` has held
  TriggerWatch watch_{*this};
  std::vector<ActiveFault> faults_;
};

}  // namespace dsim
