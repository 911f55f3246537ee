// Every ```yaml block in docs/scenario-format.md, docs/components/*.md and docs/faults.md is
// checked, so the examples cannot rot.
//
//   complete scenario (has a top-level `components:` key)  loads without errors and runs (its
//                                                            first two simulated minutes) with
//                                                            every request accounted for
//   <!-- fragment: service -->                               the block's keys, set on a service
//                                                            fed by a source, load without errors
//   <!-- fragment: source -->                                the block's keys, set on a source
//                                                            feeding a service, load without errors
//   <!-- fragment -->                                        is valid YAML (it may refer to
//                                                            components that do not exist)
//
// The marker is the last non-blank line before the opening fence. A block that is neither complete
// nor marked fails, so that a new example is never silently left unchecked.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/simulation.hpp"
#include "scenario/loader.hpp"

namespace dsim {
namespace {

constexpr const char* kDocPath = DSIM_DOCS_DIR "/scenario-format.md";

// The scenario format, then each component kind's page, in name order.
std::vector<std::string> doc_files() {
  std::vector<std::string> files = {kDocPath};
  std::vector<std::string> kinds;
  const std::filesystem::path dir = DSIM_DOCS_DIR "/components";
  if (std::filesystem::is_directory(dir)) {
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      if (e.path().extension() == ".md") kinds.push_back(e.path().string());
    }
  }
  std::sort(kinds.begin(), kinds.end());
  files.insert(files.end(), kinds.begin(), kinds.end());
  files.emplace_back(DSIM_DOCS_DIR "/faults.md");  // the fault kinds, one example each
  return files;
}

struct YamlBlock {
  std::string file;    // relative to docs/
  int line = 0;        // 1-based line of the opening fence
  std::string marker;  // the HTML comment before the fence, or ""
  std::string text;
  bool complete() const {
    return text.rfind("components:", 0) == 0 || text.find("\ncomponents:") != std::string::npos;
  }
  std::string where() const {
    return "the ```yaml block at docs/" + file + ":" + std::to_string(line);
  }
};

std::vector<YamlBlock> yaml_blocks(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  const std::string file = path.substr(std::string(DSIM_DOCS_DIR).size() + 1);
  std::vector<YamlBlock> blocks;
  std::string last_non_blank;
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line == "```yaml") {
      YamlBlock b;
      b.file = file;
      b.line = number;
      if (last_non_blank.rfind("<!--", 0) == 0) b.marker = last_non_blank;
      for (std::string body; std::getline(in, body);) {
        ++number;
        if (body == "```") break;
        b.text += body + "\n";
      }
      blocks.push_back(std::move(b));
      last_non_blank.clear();
    } else if (line.find_first_not_of(" \t") != std::string::npos) {
      last_non_blank = line;
    }
  }
  return blocks;
}

std::vector<YamlBlock> all_yaml_blocks() {
  std::vector<YamlBlock> all;
  for (const std::string& f : doc_files()) {
    std::vector<YamlBlock> b = yaml_blocks(f);
    all.insert(all.end(), b.begin(), b.end());
  }
  return all;
}

bool sets_key(const std::string& text, const std::string& key) {
  return text.rfind(key + ":", 0) == 0 || text.find("\n" + key + ":") != std::string::npos;
}

std::string indented(const std::string& text, const std::string& by) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += by + line + "\n";
  return out;
}

// A fragment's keys set on a service `svc`, fed by a source; service_time is supplied if absent.
std::string service_scenario(const std::string& fragment) {
  return "duration: 1m\n"
         "components:\n"
         "  src:\n"
         "    kind: source\n"
         "    arrivals: {poisson: 10/s}\n"
         "    target: svc\n"
         "  svc:\n"
         "    kind: service\n" +
         std::string(sets_key(fragment, "service_time") ? "" : "    service_time: 10ms\n") +
         indented(fragment, "    ");
}

// A fragment's keys set on a source `src` that feeds a service; arrivals are supplied if absent.
std::string source_scenario(const std::string& fragment) {
  return "duration: 1m\n"
         "components:\n"
         "  src:\n"
         "    kind: source\n"
         "    target: svc\n" +
         std::string(sets_key(fragment, "arrivals") ? "" : "    arrivals: {poisson: 10/s}\n") +
         indented(fragment, "    ") +
         "  svc:\n"
         "    kind: service\n"
         "    service_time: 10ms\n";
}

TEST(DocExamples, TheDocHasAtLeastThreeCompleteScenarios) {
  int complete = 0;
  for (const YamlBlock& b : yaml_blocks(kDocPath)) complete += b.complete() ? 1 : 0;
  EXPECT_GE(complete, 3);
}

TEST(DocExamples, EveryCompleteScenarioLoadsAndRuns) {
  for (const YamlBlock& b : all_yaml_blocks()) {
    if (!b.complete()) continue;
    SCOPED_TRACE(b.where());
    const LoadResult r = load_scenario_text(b.text, b.file);
    ASSERT_TRUE(r.scenario.has_value()) << b.where() << " does not load:\n"
                                        << r.diagnostics.to_string();
    // The first two simulated minutes are enough to exercise every component and keep the test
    // fast under sanitizers; stop() ends the run with the same conservation check as the end.
    Simulation sim(*r.scenario);
    if (sim.run_until(Time::s(120))) sim.stop();
    EXPECT_EQ(sim.state(), Lifecycle::finished);
    EXPECT_TRUE(sim.ledger().balanced());
    EXPECT_GT(sim.ledger().generated, 0u) << b.where() << " generates no requests";
  }
}

TEST(DocExamples, EveryFragmentIsMarkedAndValid) {
  for (const YamlBlock& b : all_yaml_blocks()) {
    if (b.complete()) continue;
    SCOPED_TRACE(b.where());
    if (b.marker == "<!-- fragment: service -->" || b.marker == "<!-- fragment: source -->") {
      const bool service = b.marker == "<!-- fragment: service -->";
      const std::string scenario = service ? service_scenario(b.text) : source_scenario(b.text);
      const LoadResult r = load_scenario_text(scenario, "fragment.yaml");
      EXPECT_TRUE(r.scenario.has_value())
          << b.where() << ", set on a " << (service ? "service" : "source") << ", does not load:\n"
          << r.diagnostics.to_string() << "the scenario tried was:\n"
          << scenario;
    } else if (b.marker == "<!-- fragment -->") {
      // Only the YAML itself is checked: the loader reports syntax errors as "YAML ...".
      const LoadResult r = load_scenario_text(b.text, "fragment.yaml");
      for (const Diagnostic& d : r.diagnostics.items()) {
        EXPECT_NE(d.message.rfind("YAML", 0), 0u)
            << b.where() << " is not valid YAML: " << d.message;
      }
    } else {
      ADD_FAILURE() << b.where()
                    << " is neither a complete scenario (no top-level `components:` key) nor "
                       "marked as a fragment. Put one of <!-- fragment: service -->, "
                       "<!-- fragment: source --> or <!-- fragment --> on the line before it"
                    << (b.marker.empty() ? "" : " (found '" + b.marker + "')");
    }
  }
}

}  // namespace
}  // namespace dsim
