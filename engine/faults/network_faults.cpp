#include "faults/network_faults.hpp"

#include <algorithm>
#include <utility>

#include "core/simulation.hpp"
#include "faults/fault_controller.hpp"
#include "scenario/suggest.hpp"

namespace dsim {
namespace {

bool gave(const std::vector<std::string>& given, const char* key) {
  return std::find(given.begin(), given.end(), key) != given.end();
}

// Resolves `from` and checks that no component is on both sides.
// `either_way`: a partition cuts both the calls and their answers, so a call from a target to the
// other side crosses it too; a network fault acts on the calls from `from` to the targets.
std::string resolve_other_side(ParamList<FaultTarget>& from, ParamList<FaultTarget>& targets,
                               const ComponentDirectory& components, Location& where,
                               std::vector<uint32_t>& out, bool either_way) {
  if (std::string e = resolve_target_list(from, components, "from", out, where); !e.empty()) {
    return e;
  }
  std::vector<uint32_t> side;
  Location ignored;
  if (!resolve_target_list(targets, components, "targets", side, ignored).empty()) {
    return {};  // (reported for the targets themselves)
  }
  for (uint32_t c : out) {
    if (std::binary_search(side.begin(), side.end(), c)) {
      return "from: " + quote_text(components.entries()[c].name) +
             " is also among the targets; a component is on one side only";
    }
  }
  // Sides that never talk: the fault would act on no message - an error, not a silent no-op.
  for (uint32_t c = 0; c < components.entries().size(); ++c) {
    const bool other = out.empty() ? !std::binary_search(side.begin(), side.end(), c)
                                   : std::binary_search(out.begin(), out.end(), c);
    if (!other) continue;
    for (uint32_t t : side) {
      if (components.sends_to(c, t) || (either_way && components.sends_to(t, c))) return {};
    }
  }
  if (either_way) {
    return out.empty() ? "targets: no other component calls them or is called by them, so the "
                         "partition cuts no call"
                       : "from: none of these components calls a target or is called by one, "
                         "so the partition cuts no call";
  }
  return out.empty() ? "targets: no other component calls them, so the fault acts on no call"
                     : "from: none of these components calls a target, so the fault acts on no "
                       "call (it acts on the calls from `from` to the targets)";
}

// A caller on one side that calls the other with no timeout, as a warning ("" if none): a message
// that `verb` (the fault loses it) leaves that caller waiting for ever. `either_way`: callers on
// the targets' side count too (a partition cuts their calls' answers as well).
std::string untimed_call(const ComponentDirectory& components, const std::vector<uint32_t>& from,
                         const std::vector<uint32_t>& targets, bool either_way, const char* verb) {
  const auto& e = components.entries();
  const auto message = [&](uint32_t caller, uint32_t callee) {
    return quote_text(e[caller].name) + " calls " + quote_text(e[callee].name) +
           " with no timeout: a call whose message this fault " + verb + " leaves " +
           quote_text(e[caller].name) +
           " waiting for ever, and its request in flight to the end of the run (give that call a "
           "timeout)";
  };
  for (uint32_t c = 0; c < e.size(); ++c) {
    const bool other = from.empty() ? !std::binary_search(targets.begin(), targets.end(), c)
                                    : std::binary_search(from.begin(), from.end(), c);
    if (!other) continue;
    for (uint32_t t : targets) {
      if (components.waits_for_ever(c, t)) return message(c, t);
      if (either_way && components.waits_for_ever(t, c)) return message(t, c);
    }
  }
  return {};
}

// The other side: `from`, or every component that is not a target.
std::vector<uint32_t> other_side(const Simulation& sim, const std::vector<uint32_t>& from,
                                 const std::vector<uint32_t>& targets) {
  if (!from.empty()) return from;
  std::vector<uint32_t> rest;
  for (uint32_t c = 0; c < sim.components().size(); ++c) {
    if (!std::binary_search(targets.begin(), targets.end(), c)) rest.push_back(c);
  }
  return rest;
}

// One condition per fault, named after it: added at the start, replaced on every change.
void set_condition(Simulation& sim, NetworkCondition c) {
  const Network::Id id = sim.network().find(c.name);
  if (id != 0) {
    sim.change_network_condition(id, std::move(c));
  } else {
    sim.add_network_condition(std::move(c));
  }
}

void remove_condition(Simulation& sim, const std::string& name) {
  if (const Network::Id id = sim.network().find(name); id != 0) sim.remove_network_condition(id);
}

const char* kFromHelp =
    "The other side: components (names, {kind: ...} or {backends_of: ..., fraction: ...}, as in "
    "targets). Absent: every component that is not a target.";

}  // namespace

// --- partition ------------------------------------------------------------------------------

void PartitionFault::describe_kind(ParamVisitor& v) {
  v.list({"from", "targets", kFromHelp}, from);
  v.choice({"direction", "choice",
            "both: no message crosses the cut either way. one_way: only the messages sent from "
            "the `from` side to the targets are cut - calls from `from` never arrive, calls from "
            "the targets arrive but their answers do not.",
            false, true},
           direction, kDirectionNames);
  v.choice({"mode", "choice",
            "blackhole: messages vanish, callers wait for their timeout (for ever without one). "
            "reject: the connection is refused, callers fail at once with connection_refused.",
            false, true},
           mode, kModeNames);
}

std::string PartitionFault::check_kind(const std::vector<std::string>& given) {
  if (gave(given, "from") && from.empty()) {
    return "from: expected at least one component (leave it out for every other component)";
  }
  return {};
}

std::string PartitionFault::resolve(const ComponentDirectory& components, Location& where) {
  return resolve_other_side(from, targets, components, where, from_indices, /*either_way=*/true);
}

std::string PartitionFault::warning(const ComponentDirectory& components,
                                    const std::vector<uint32_t>& targets) const {
  if (mode != 0) return {};  // reject: every caller hears of it at once
  return untimed_call(components, from_indices, targets, /*either_way=*/true, "swallows");
}

void PartitionFault::apply(Simulation& sim, const ActiveFault& f) const {
  const auto block =
      mode == 0 ? NetworkCondition::Block::blackhole : NetworkCondition::Block::reject;
  std::vector<uint32_t> side = other_side(sim, from_indices, f.targets);
  set_condition(sim, direction == 0 ? NetworkCondition::partition(f.spec.name, std::move(side),
                                                                  f.targets, block)
                                    : NetworkCondition::one_way_partition(
                                          f.spec.name, std::move(side), f.targets, block));
}

void PartitionFault::retract(Simulation& sim, const ActiveFault& f) const {
  remove_condition(sim, f.spec.name);
}

// --- network --------------------------------------------------------------------------------

void NetworkFault::describe_kind(ParamVisitor& v) {
  v.list({"from", "targets",
          "The calling side of the affected routes, like targets. Absent: every component that "
          "is not a target."},
         from);
  v.distribution({"latency", "distribution",
                  "Added to every affected message, drawn afresh for each (jitter: e.g. "
                  "{exponential: 20ms} or {normal: {mean: 50ms, stddev: 10ms}}).",
                  false, true},
                 latency);
  v.number({"loss", "fraction",
            "Probability that an affected message is lost (0.02 or 2%): a lost request never "
            "reaches the target, a lost answer leaves the work done; either way the caller times "
            "out.",
            false, true},
           loss, 0, 1);
  v.number({"duplication", "fraction",
            "Probability that an affected request is delivered twice: the target does the work "
            "twice, and the second answer reaches nobody.",
            false, true},
           duplication, 0, 1);
  v.choice({"direction", "choice",
            "Which messages of the calls from `from` to the targets are affected: both, requests "
            "or responses (the answers).",
            false, true},
           direction, kDirectionNames);
}

std::string NetworkFault::check_kind(const std::vector<std::string>& given) {
  if (gave(given, "from") && from.empty()) {
    return "from: expected at least one component (leave it out for every other component)";
  }
  if (!gave(given, "latency") && !gave(given, "loss") && !gave(given, "duplication")) {
    return "give at least one of latency, loss or duplication";
  }
  if (gave(given, "duplication") && direction == 2) {
    return "duplication: only requests are duplicated, and direction: responses leaves them "
           "alone";
  }
  return {};
}

std::string NetworkFault::resolve(const ComponentDirectory& components, Location& where) {
  return resolve_other_side(from, targets, components, where, from_indices, /*either_way=*/false);
}

std::string NetworkFault::warning(const ComponentDirectory& components,
                                  const std::vector<uint32_t>& targets) const {
  if (loss <= 0) return {};
  return untimed_call(components, from_indices, targets, /*either_way=*/false, "loses");
}

void NetworkFault::apply(Simulation& sim, const ActiveFault& f) const {
  NetworkCondition c;
  c.name = f.spec.name;
  c.from = other_side(sim, from_indices, f.targets);
  c.to = f.targets;
  c.legs = direction == 0 ? kBothLegs : direction == 1 ? kRequests : kResponses;
  // A ramp scales every effect with the intensity.
  c.loss = loss * f.intensity;
  c.duplication = duplication * f.intensity;
  c.delays = latency.mean() > 0;
  c.latency = latency;
  if (c.delays && f.intensity < 1) c.latency.scale(f.intensity);
  set_condition(sim, std::move(c));
}

void NetworkFault::retract(Simulation& sim, const ActiveFault& f) const {
  remove_condition(sim, f.spec.name);
}

}  // namespace dsim
