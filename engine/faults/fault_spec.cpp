#include "faults/fault_spec.hpp"

#include <algorithm>
#include <cmath>

#include "components/load_balancer.hpp"
#include "core/format.hpp"
#include "scenario/suggest.hpp"
#include "scenario/topology.hpp"

namespace dsim {

void FaultTarget::describe(ParamVisitor& v) {
  v.target({"component", "component", "A component by name (the short form: just the name)."},
           component);
  v.text({"kind", "component kind", "Every component of this kind (e.g. service)."}, kind);
  v.target({"backends_of", "component",
            "The backends of this load balancer (a fraction of a replicated service)."},
           backends_of);
  v.target({"group", "group", "The members of this group of the scenario's `groups:`."}, group);
  v.number({"fraction", "fraction",
            "With kind or backends_of: the first ceil(fraction x n) of them, in file (or backend "
            "list) order."},
           fraction, 0, 1);
}

std::string FaultTarget::check() {
  const int forms = has("component") + has("kind") + has("backends_of") + has("group");
  if (forms != 1) return "give exactly one of component, kind, backends_of or group";
  if (has("fraction") && has("component")) {
    return "fraction applies to kind or backends_of, not to a single component";
  }
  if (has("fraction") && has("group")) {
    return "fraction applies to kind or backends_of, not to a group (give it to the group's "
           "members)";
  }
  if (has("fraction") && !(fraction > 0)) return "fraction must be above zero";
  return {};
}

void FaultAfter::describe(ParamVisitor& v) {
  v.text({"fault", "fault name", "The fault of the timeline this one follows."}, fault);
  v.choice({"edge", "choice", "With fault: follow that fault's start or its end."}, edge,
           kEdgeNames);
  v.choice({"event", "choice",
            "Follow an event of the run instead: warmup_end (the end of the warm-up), or "
            "schedule_step (a source's arrival schedule entering an entry; with of and step)."},
           event, kEventNames);
  v.target({"of", "component", "With event: schedule_step, the source."}, of);
  v.count({"step", "count",
           "With event: schedule_step, the entry of the source's schedule, counted from 0 (as in "
           "arrivals.schedule[1])."},
          step, 0, INT32_MAX);
  v.text({"when", "condition",
          "Follow a condition instead: an expectation on one component, e.g. "
          "'max(queue.depth, of: orders) > 500', checked at the end of every time-series "
          "window; the first window at whose end it holds starts the fault."},
         when);
  v.duration(
      {"offset", "duration", "How long after that edge, event or window end this fault starts."},
      offset);
}

std::string FaultAfter::check() {
  const int anchors = has("fault") + has("event") + has("when");
  if (anchors != 1) {
    return "give exactly one of fault, event or when (what this fault follows)";
  }
  if (has("fault") && fault.empty()) return "fault: expected the name of another fault";
  if (has("when") && when.empty()) {
    return "when: expected a condition such as 'max(queue.depth, of: orders) > 500'";
  }
  if (has("edge") && !has("fault")) {
    return "edge belongs to fault (an event or a condition has no start and end)";
  }
  const bool step_event = has("event") && event == kScheduleStep;
  if ((has("of") || has("step")) && !step_event) {
    return std::string(has("of") ? "of" : "step") + " belongs to event: schedule_step";
  }
  if (step_event && (!has("of") || !has("step"))) {
    return "schedule_step needs of (the source) and step (the entry of its schedule, from 0)";
  }
  return {};
}

void FaultParams::describe(ParamVisitor& v) {
  v.list({"targets", "targets",
          "The components the fault acts on: names, {kind: service}, {backends_of: lb, "
          "fraction: 0.5}, or {group: storage} (a group of the scenario's groups:)."},
         targets);
  v.duration({"at", "duration", "When the fault starts (from the beginning of the run)."}, at);
  v.group({"after", "block",
           "Start instead, plus an offset, when another fault starts or ends (`{fault, edge}`, or "
           "just its name: its end), when an event of the run happens (`{event: warmup_end}`, "
           "`{event: schedule_step, of, step}`) or when a condition first holds at a window's "
           "end (`{when: 'max(queue.depth, of: q) > 500'}`)."},
          after);
  v.duration({"duration", "duration",
              "How long the fault lasts. Absent (with no end): until the run ends or the fault is "
              "cleared.",
              false, true},
             duration);
  v.duration({"end", "duration",
              "When the fault ends (an instant of the run), instead of duration.", false, true},
             end);
  v.duration({"ramp_in", "duration",
              "The intensity rises linearly from zero to full over this time (in ramp_steps "
              "steps)."},
             ramp_in);
  v.duration({"ramp_out", "duration",
              "The intensity falls linearly to zero over this time before the end."},
             ramp_out);
  v.count({"ramp_steps", "count",
           "A ramp changes the intensity in this many equal steps, each at its midpoint value."},
          ramp_steps, 1, 1000);
  describe_kind(v);
}

std::string FaultParams::check(const std::vector<std::string>& given) {
  auto gave = [&](const char* k) {
    return std::find(given.begin(), given.end(), k) != given.end();
  };
  duration_given = gave("duration");
  end_given = gave("end");
  if (gave("at") && gave("after")) return "give at or after, not both";
  if (duration_given && end_given) return "give duration or end, not both";
  if (duration_given && duration <= Time::zero()) return "duration: must be longer than zero";
  if (end_given && !gave("after") && end <= at) {
    return "end: must be after the start (" + format_time(at) + "), got " + format_time(end);
  }
  if (end_given && gave("after")) return "end: give duration with after (its start is not fixed)";
  if (needs_targets() && !gave("targets")) {
    return "missing required key 'targets' (the components the fault acts on)";
  }
  if (needs_targets() && targets.empty()) return "targets: expected at least one target";
  if (!rampable() && (gave("ramp_in") || gave("ramp_out"))) {
    return "this kind is on or off: it cannot ramp (remove ramp_in and ramp_out)";
  }
  if (gave("ramp_out") && !duration_given && !end_given && implied_duration() == Time::max()) {
    return "ramp_out needs an end (give duration or end)";
  }
  const Time length = duration_given ? duration : end_given ? end - at : implied_duration();
  if (length != Time::max() && ramp_in + ramp_out > length) {
    return "ramp_in + ramp_out (" + format_time(ramp_in + ramp_out) +
           ") must fit in the fault's length (" + format_time(length) + ")";
  }
  return check_kind(given);
}

FaultSpec::FaultSpec(const FaultSpec& o) : name(o.name), kind(o.kind), where(o.where) {
  if (o.params) {
    params.reset(static_cast<FaultParams*>(o.params->clone().release()));
  }
}

uint32_t ComponentDirectory::find(const std::string& name) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name == name) return static_cast<uint32_t>(i);
  }
  return UINT32_MAX;
}

const ComponentGroup* ComponentDirectory::find_group(const std::string& name) const {
  for (const ComponentGroup* g : groups_) {
    if (g->name == name) return g;
  }
  return nullptr;
}

std::string ComponentDirectory::unknown(const std::string& name) const {
  std::vector<std::string> names;
  for (const Entry& e : entries_) names.push_back(e.name);
  return "no component named " + quote_text(name) + did_you_mean(name, names);
}

bool ComponentDirectory::waits_for_ever(uint32_t from, uint32_t to) const {
  const std::vector<uint32_t> named = calls_without_timeout(*entries_[from].params);
  return std::binary_search(named.begin(), named.end(), to);
}

bool ComponentDirectory::sends_to(uint32_t from, uint32_t to) const {
  const std::vector<uint32_t> named = components_named_by(*entries_[from].params);
  return std::binary_search(named.begin(), named.end(), to);
}

std::string ComponentDirectory::resolve(TargetRef& ref, const std::string& what) const {
  ref.index = find(ref.name);
  return ref.index == UINT32_MAX ? what + ": " + unknown(ref.name) : std::string();
}

namespace {
// The first ceil(f x n) of n, at least one.
size_t share(double fraction, size_t n) {
  const auto k = static_cast<size_t>(std::ceil(fraction * static_cast<double>(n) - 1e-9));
  return std::clamp<size_t>(k, 1, n);
}
}  // namespace

std::string resolve_fault_targets(const FaultSpec& spec, const ComponentDirectory& components,
                                  const std::string& context, std::vector<uint32_t>& out,
                                  Location& where) {
  where = spec.where;
  if (std::string e =
          resolve_target_list(spec.params->targets, components, context + ".targets", out, where);
      !e.empty()) {
    return e;
  }
  const auto& entries = components.entries();
  for (uint32_t c : out) {
    if (std::string e = spec.params->check_target(entries[c].kind, *entries[c].params);
        !e.empty()) {
      where = spec.where;
      return context + ": " + spec.kind + " cannot act on " + quote_text(entries[c].name) + " (" +
             e + ")";
    }
  }
  return {};
}

namespace {

// A name in targets that is neither a component nor a group.
std::string unknown_target(const ComponentDirectory& components, const std::string& name) {
  if (components.groups().empty()) return components.unknown(name);
  std::vector<std::string> names;
  for (const auto& e : components.entries()) names.push_back(e.name);
  for (const ComponentGroup* g : components.groups()) names.push_back(g->name);
  return "no component or group named " + quote_text(name) + did_you_mean(name, names);
}

std::string unknown_group(const ComponentDirectory& components, const std::string& name) {
  std::vector<std::string> names;
  for (const ComponentGroup* g : components.groups()) names.push_back(g->name);
  return "no group named " + quote_text(name) +
         (names.empty() ? std::string(" (the scenario has no groups: section)")
                        : did_you_mean(name, names) + "; the groups are " + join_choices(names));
}

// Appends the components of `list` to `out` (unsorted, with repeats). `in_group` is the group
// whose members `list` is (whose entries may not be groups), or null.
std::string resolve_entries(ParamList<FaultTarget>& list, const ComponentDirectory& components,
                            const std::string& what_list, std::vector<uint32_t>& out,
                            Location& where, const ComponentGroup* in_group) {
  const auto& entries = components.entries();
  size_t i = 0;
  for (FaultTarget& t : list) {
    const std::string what = what_list + "[" + std::to_string(i++) + "]";
    // A group: by `group:`, or by a name that is no component's (no group shares a component's
    // name, so a name means one thing).
    const ComponentGroup* group = nullptr;
    if (t.has("group")) {
      where = t.group.where;
      if (in_group && t.group.name != in_group->name) {
        return what + ": a group's members are components, not groups (groups do not nest)";
      }
      group = components.find_group(t.group.name);
      if (!group) return what + ".group: " + unknown_group(components, t.group.name);
    } else if (t.has("component") && components.find(t.component.name) == UINT32_MAX) {
      where = t.component.where;
      group = components.find_group(t.component.name);
      if (!group) {
        return what + ": " +
               (in_group ? components.unknown(t.component.name)
                         : unknown_target(components, t.component.name));
      }
      if (in_group && group != in_group) {
        return what + ": " + quote_text(group->name) +
               " is a group; a group's members are components, not groups (groups do not nest)";
      }
    }
    if (group) {
      if (group == in_group) return what + ": a group cannot contain itself";
      ParamList<FaultTarget> members = group->members;  // (resolving stores indices in them)
      if (std::string e =
              resolve_entries(members, components, "groups." + group->name, out, where, group);
          !e.empty()) {
        return e;
      }
    } else if (t.has("component")) {
      where = t.component.where;
      if (std::string e = components.resolve(t.component, what); !e.empty()) return e;
      out.push_back(t.component.index);
    } else if (t.has("kind")) {
      std::vector<uint32_t> of_kind;
      std::vector<std::string> kinds;
      for (size_t c = 0; c < entries.size(); ++c) {
        if (entries[c].kind == t.kind) of_kind.push_back(static_cast<uint32_t>(c));
        if (std::find(kinds.begin(), kinds.end(), entries[c].kind) == kinds.end()) {
          kinds.push_back(entries[c].kind);
        }
      }
      if (of_kind.empty()) {
        return what + ".kind: no component of kind " + quote_text(t.kind) +
               did_you_mean(t.kind, kinds) + "; the scenario has " + join_choices(kinds);
      }
      of_kind.resize(share(t.fraction, of_kind.size()));
      out.insert(out.end(), of_kind.begin(), of_kind.end());
    } else {
      where = t.backends_of.where;
      if (std::string e = components.resolve(t.backends_of, what + ".backends_of"); !e.empty()) {
        return e;
      }
      const auto* lb = dynamic_cast<const LoadBalancerParams*>(entries[t.backends_of.index].params);
      if (!lb) {
        return what + ".backends_of: " + quote_text(t.backends_of.name) + " is a " +
               entries[t.backends_of.index].kind + ", not a load_balancer";
      }
      std::vector<uint32_t> backends;
      for (const BackendSpec& b : lb->backends) {
        const uint32_t c = components.find(b.to.name);
        if (c != UINT32_MAX) backends.push_back(c);
      }
      if (backends.empty()) return what + ".backends_of: the load balancer has no backends";
      backends.resize(share(t.fraction, backends.size()));
      out.insert(out.end(), backends.begin(), backends.end());
    }
  }
  return {};
}

}  // namespace

std::string resolve_target_list(ParamList<FaultTarget>& list, const ComponentDirectory& components,
                                const std::string& what_list, std::vector<uint32_t>& out,
                                Location& where) {
  out.clear();
  if (std::string e = resolve_entries(list, components, what_list, out, where, nullptr);
      !e.empty()) {
    return e;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return {};
}

std::string check_group(const ComponentGroup& group, const ComponentDirectory& components,
                        Location& where) {
  where = group.where;
  const std::string what = "groups." + group.name;
  if (group.members.empty()) {
    return what +
           ": a group needs at least one member (a component name, {kind: ...} or "
           "{backends_of: ...})";
  }
  ParamList<FaultTarget> members = group.members;
  std::vector<uint32_t> out;
  return resolve_entries(members, components, what, out, where, &group);
}

}  // namespace dsim
