// The component graph (a Boost.Graph adjacency list) and the checks made on it at load time:
// every target names a component that exists and can receive requests, every component is
// reached from some source, and from every reachable component some route ends (completes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace dsim {

// Resolves TargetRef indices in place and reports problems to `diagnostics`.
void check_topology(Scenario& scenario, Diagnostics& diagnostics);

// The components a component's parameters name, resolved (after check_topology): the targets
// of its calls, publishes, routes, backends, consumers, stores... - every component it can ever
// send a message to. Sorted, without repeats.
std::vector<uint32_t> components_named_by(const ComponentParams& params);
// Those of them that it calls with no `timeout` (in the call's block or an enclosing one): a
// call that is never answered leaves it waiting for ever.
std::vector<uint32_t> calls_without_timeout(const ComponentParams& params);

// One reference from a component to another, for diagrams: every key that makes `from` refer to
// `to` (e.g. "call,publish"), one link per pair, in file order.
struct ComponentLink {
  uint32_t from = 0, to = 0;
  std::string keys;
};
// The links of a checked scenario (after check_topology resolved the references).
std::vector<ComponentLink> component_links(const Scenario& scenario);

}  // namespace dsim
