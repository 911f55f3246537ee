// A fault's window in simulated time, as the outputs record it (faults.json, the report's shaded
// bands, expectations such as "after: fault sms-outage ends + 2m").
//
// Simulation keeps one per fault activation, in the order they started, whether they came from
// the scenario's `faults:` timeline or from the live API.
#pragma once

#include <string>
#include <vector>

#include "core/time.hpp"

namespace dsim {

struct FaultWindow {
  std::string name;                  // the fault's name in the scenario or the live call
  std::string kind;                  // partition, network, crash, disk_full, slow, ...
  std::vector<std::string> targets;  // the component names it acts on
  Time start;
  Time end = Time::max();  // Time::max() while it is still active (a run can end inside one)
  bool active() const { return end == Time::max(); }
};

}  // namespace dsim
