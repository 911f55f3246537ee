// Scenario loader: YAML in, a validated Scenario out (or every error found, with file:line:col).
//
// The only part of dsim that includes yaml-cpp. Strict: unknown keys are errors with a "did you
// mean" suggestion, every value is type- and unit-checked, the topology is checked (unknown
// targets, unreachable components, routes that never end), and no input crashes or hangs it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/diagnostics.hpp"
#include "scenario/scenario.hpp"

namespace dsim {

// A command-line override: --set components.api.workers=8 (the value is YAML).
struct Override {
  std::string path;
  std::string value;
};

// Parses "a.b.c=value"; on failure returns nullopt and sets error.
std::optional<Override> parse_override(std::string_view arg, std::string& error);

struct LoadResult {
  std::optional<Scenario> scenario;  // set only when diagnostics are empty
  Diagnostics diagnostics;
};

LoadResult load_scenario_file(const std::string& path, const std::vector<Override>& overrides = {});
LoadResult load_scenario_text(const std::string& yaml, const std::string& file_name,
                              const std::vector<Override>& overrides = {});

}  // namespace dsim
