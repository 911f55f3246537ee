// faults.json: every fault window of a run (core/fault_window.hpp), in the order they started,
// with the run's completeness so that a window still open at an interrupted end is not mistaken
// for one that never ended. Schema "dsim.faults/1", documented in docs/outputs.md.
#pragma once

#include <string>
#include <vector>

#include "core/fault_window.hpp"
#include "core/time.hpp"

namespace dsim {

class Simulation;

std::string format_faults_json(const std::string& scenario, const std::vector<FaultWindow>& faults,
                               bool complete, Time simulated);
std::string format_faults_json(const Simulation& sim);

}  // namespace dsim
