// Helpers shared by the test folders: load a scenario from text (failing the test with the
// loader's messages if it does not load) and run it to the end.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/simulation.hpp"
#include "output/run_summary.hpp"
#include "scenario/loader.hpp"

namespace dsim::test {

inline Scenario load_text(const std::string& yaml, const std::vector<Override>& overrides = {}) {
  LoadResult r = load_scenario_text(yaml, "test.yaml", overrides);
  if (!r.scenario) {
    ADD_FAILURE() << "scenario did not load:\n" << r.diagnostics.to_string();
    return Scenario{};
  }
  return *r.scenario;
}

// Loads and returns only the diagnostics (for negative tests).
inline std::string load_errors(const std::string& yaml,
                               const std::vector<Override>& overrides = {}) {
  LoadResult r = load_scenario_text(yaml, "test.yaml", overrides);
  return r.diagnostics.to_string();
}

inline std::unique_ptr<Simulation> run_to_end(const Scenario& s) {
  auto sim = std::make_unique<Simulation>(s);
  sim->run();
  return sim;
}

inline const ComponentSummary& component(const RunSummary& s, const std::string& name) {
  for (const ComponentSummary& c : s.components) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no component " + name);
}

}  // namespace dsim::test
