// The component graph (a Boost.Graph adjacency list) and the checks made on it at load time:
// every target names a component that exists and can receive requests, every component is
// reached from some source, and from every reachable component some route ends (completes).
#pragma once

#include "scenario/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace dsim {

// Resolves TargetRef indices in place and reports problems to `diagnostics`.
void check_topology(Scenario& scenario, Diagnostics& diagnostics);

}  // namespace dsim
