// A fault as the scenario (or the live API) describes it: a name, a kind, and typed parameters.
//
// Every kind's parameter struct derives from FaultParams, which declares the keys all kinds
// share - targets, the timing (at / after, duration / end, ramp_in / ramp_out) - and leaves the
// kind's own keys to describe_kind(). The same ParamVisitor machinery as components' parameters
// reads them, so unknown keys, suggestions, units, defaults and help text come for free, and the
// generated reference documents them.
//
// A kind acts in one of two ways (or both):
//   - on its targets' FaultState (crash, slow, error_rate...): contribute() adds the fault's
//     effect, at an intensity in (0, 1], to a target's state; the controller rebuilds a state
//     from every fault acting on the component whenever one of them changes;
//   - elsewhere in the simulation (partition, network): apply() is called when the fault starts
//     and whenever its intensity or a parameter changes, retract() when it ends.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/fault_state.hpp"
#include "core/location.hpp"
#include "core/params.hpp"
#include "core/time.hpp"
#include "scenario/expectation.hpp"

namespace dsim {

class Simulation;
struct ActiveFault;
class ComponentDirectory;

// One entry of `targets:` - a component by name (the short form), every component of a kind, the
// backends of a load balancer, or a group of the scenario's `groups:` (the short form's name may
// also be a group's); with `kind` or `backends_of`, `fraction` picks the first ceil(fraction x n)
// of them in file (or backend list) order.
struct FaultTarget : ParamGroup {
  static constexpr const char* kElementName = "fault target";
  TargetRef component;
  std::string kind;
  TargetRef backends_of;
  TargetRef group;
  double fraction = 1;
  const char* scalar_key() const override { return "component"; }
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// `after:` - what a fault of the timeline follows, plus an offset. Exactly one anchor:
//   fault: NAME (edge: start|end)      another fault of the timeline starts or ends;
//   event: warmup_end                  the warm-up ends (at 0 without a warm-up);
//   event: schedule_step, of, step     a source's arrival schedule enters its step-th entry;
//   when: "CONDITION"                  an expectation-style condition on one component first
//                                      holds at the end of a time-series window
//                                      (faults/fault_trigger.hpp).
struct FaultAfter : ParamGroup {
  enum Event : int { kWarmupEnd = 0, kScheduleStep = 1 };
  std::string fault;
  int edge = 1;            // kEdgeNames
  int event = kWarmupEnd;  // kEventNames; only when has("event")
  TargetRef of;            // schedule_step: the source
  int64_t step = 0;        // schedule_step: the entry of its schedule, from 0
  std::string when;        // the condition as written
  Time offset;
  // Set by the loader: `when` parsed (one element when given), and where the anchor's value
  // (the fault's name, the event, the condition) stands, for messages.
  std::vector<Expectation> condition;
  Location where;
  static constexpr const char* kEdgeNames[] = {"start", "end", nullptr};
  static constexpr const char* kEventNames[] = {"warmup_end", "schedule_step", nullptr};
  const char* scalar_key() const override { return "fault"; }
  void describe(ParamVisitor& v) override;
  std::string check() override;
  bool follows_fault() const { return present && !fault.empty(); }
  bool follows_event() const { return present && has("event"); }
  bool follows_condition() const { return present && !when.empty(); }
};

struct FaultParams : ComponentParams {
  ParamList<FaultTarget> targets;
  Time at;
  FaultAfter after;
  Time duration = Time::max();  // absent: until the run ends or the fault is cleared
  Time end = Time::max();
  Time ramp_in;
  Time ramp_out;
  int64_t ramp_steps = 10;
  // Which of the common keys were given (set by check(), which the loader and the live API call).
  bool duration_given = false, end_given = false;

  void describe(ParamVisitor& v) final;
  std::string check(const std::vector<std::string>& given) final;

  // --- What a kind provides ----------------------------------------------------------------
  virtual void describe_kind(ParamVisitor& v) = 0;
  virtual std::string check_kind(const std::vector<std::string>& /*given*/) { return {}; }
  // False for kinds whose parameters name the components themselves (a partition's sides).
  virtual bool needs_targets() const { return true; }
  // False for on/off kinds (crash, disk_full): a ramp would mean nothing.
  virtual bool rampable() const { return true; }
  // A length the kind implies when neither duration nor end is given (crash's restart_after).
  virtual Time implied_duration() const { return Time::max(); }
  // Why this fault cannot act on a component of `kind` with `params` ("" if it can), e.g.
  // disk_full on a service.
  virtual std::string check_target(const std::string& /*kind*/,
                                   const ComponentParams& /*params*/) const {
    return {};
  }
  // Something valid but most likely not meant, for a load-time warning ("" when none): a network
  // fault that loses calls nobody times out. Called after resolve(), with the resolved targets.
  virtual std::string warning(const ComponentDirectory& /*components*/,
                              const std::vector<uint32_t>& /*targets*/) const {
    return {};
  }
  // Resolves component names among the kind's own parameters (slow's `from`); returns a message
  // ("" when fine), `where` pointing at the offending value.
  virtual std::string resolve(const ComponentDirectory& /*components*/, Location& /*where*/) {
    return {};
  }
  // Adds this fault's effect, at the fault's current intensity in (0, 1], to one target's state.
  virtual void contribute(FaultState& /*state*/, const ActiveFault& /*fault*/) const {}
  // For kinds that act outside components: called at the start and after every change of
  // intensity or parameters (replace the previous rule), and retract() at the end.
  virtual void apply(Simulation& /*sim*/, const ActiveFault& /*fault*/) const {}
  virtual void retract(Simulation& /*sim*/, const ActiveFault& /*fault*/) const {}
};

template <class Derived>
struct FaultParamsOf : FaultParams {
  std::unique_ptr<ComponentParams> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

// A fault of the timeline, or one started live. Copyable (the params are cloned), like
// ComponentSpec.
struct FaultSpec {
  std::string name;
  std::string kind;
  Location where;  // of the fault's key in the file
  std::unique_ptr<FaultParams> params;

  FaultSpec() = default;
  FaultSpec(const FaultSpec& o);
  FaultSpec& operator=(const FaultSpec& o) {
    if (this != &o) *this = FaultSpec(o);
    return *this;
  }
  FaultSpec(FaultSpec&&) = default;
  FaultSpec& operator=(FaultSpec&&) = default;
};

// A named set of components (an entry of the scenario's `groups:`), so that faults can say
// `targets: [storage]` or `{group: storage}`. Its members are fault targets themselves - names,
// `{kind: ...}`, `{backends_of: ...}` - but not groups: groups do not nest, so no group can
// contain itself.
struct ComponentGroup {
  std::string name;
  Location where;  // of the group's key in the file
  ParamList<FaultTarget> members;
};

// The components (and groups) a fault may name, for resolving targets at load time (from the
// scenario) and live (from the simulation) with the same messages.
class ComponentDirectory {
 public:
  struct Entry {
    std::string name;
    std::string kind;
    const ComponentParams* params;
  };
  void add(std::string name, std::string kind, const ComponentParams* params) {
    entries_.push_back({std::move(name), std::move(kind), params});
  }
  // The group must outlive the directory.
  void add_group(const ComponentGroup& group) { groups_.push_back(&group); }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::vector<const ComponentGroup*>& groups() const { return groups_; }
  // The index of `name`, or UINT32_MAX.
  uint32_t find(const std::string& name) const;
  // The group named `name`, or nullptr.
  const ComponentGroup* find_group(const std::string& name) const;
  // "no component named 'x' (did you mean 'y'?)".
  std::string unknown(const std::string& name) const;
  // Resolves one name to an index; returns a message prefixed by `what` when unknown.
  std::string resolve(TargetRef& ref, const std::string& what) const;
  // Whether `from` ever sends to `to`: its parameters name it (a call, a route, a backend, a
  // consumer target...). A fault on the route from -> to acts on nothing otherwise.
  bool sends_to(uint32_t from, uint32_t to) const;
  // Whether some call from `from` to `to` has no timeout (see calls_without_timeout).
  bool waits_for_ever(uint32_t from, uint32_t to) const;

 private:
  std::vector<Entry> entries_;
  std::vector<const ComponentGroup*> groups_;
};

// Resolves a fault's targets to component indices (sorted, without repeats) and checks that the
// kind can act on each. Returns a message ("" when fine); `where` is set to the offending entry.
// `context` prefixes messages ("faults.db-full").
std::string resolve_fault_targets(const FaultSpec& spec, const ComponentDirectory& components,
                                  const std::string& context, std::vector<uint32_t>& out,
                                  Location& where);
// The same for any list of fault targets (a partition's other side): `what_list` names the list
// in messages ("faults.cut.targets", "from"). A group stands for its members.
std::string resolve_target_list(ParamList<FaultTarget>& list, const ComponentDirectory& components,
                                const std::string& what_list, std::vector<uint32_t>& out,
                                Location& where);
// Checks one group of the scenario: at least one member, none of them a group, each one known
// ("groups.storage[1]: no component named ..."). `where` is set to the offending entry.
std::string check_group(const ComponentGroup& group, const ComponentDirectory& components,
                        Location& where);

}  // namespace dsim
