// The verdict on one expectation of a scenario's `expect:` section, as every front end shows it:
// the run's text summary, `dsim check`'s JUnit XML and the HTML report.
#pragma once

#include <string>

#include "core/location.hpp"

namespace dsim {

struct ExpectationResult {
  std::string text;  // the expectation as written, e.g. "p99(latency, workload: checkout) < 300ms"
  Location where;    // of the expectation in the scenario file
  std::string measured;  // the measured value with its unit, e.g. "212ms"
  bool passed = false;
  std::string detail;  // why it failed or could not be measured; empty when it passed
};

}  // namespace dsim
