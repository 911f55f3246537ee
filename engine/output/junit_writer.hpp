// JUnit XML for `dsim check`: one <testsuite> per scenario, one <testcase> per expectation, a
// <failure> whose message is "expected ... , measured ...", and an <error> for a scenario that
// could not be loaded or run. This is the dialect CI servers read (Jenkins, GitLab, GitHub
// test reporters): the attributes they use and nothing else.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "output/expectation_result.hpp"
#include "output/xml_escape.hpp"

namespace dsim {

// One scenario as `dsim check` saw it.
struct ScenarioCheck {
  std::string file;
  std::string name;      // the scenario's name, or the file when it did not load
  std::string error;     // why it could not be loaded or run; empty when it ran
  bool invalid = false;  // the error is the loader's (exit code 2) rather than the run's (1)
  std::string warnings;  // the loader's warnings, one per line
  std::vector<ExpectationResult> results;
  double wall_seconds = 0;

  size_t failed() const;
};

std::string format_junit_xml(const std::vector<ScenarioCheck>& checks);

}  // namespace dsim
