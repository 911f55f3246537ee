// Setting one typed parameter from text, with the loader's parsing and messages. Used by the live
// control API (Simulation::set_parameter) so that "workers=8" means the same in a scenario file,
// on the command line and in the viewer.
#pragma once

#include <string>

#include "core/params.hpp"

namespace dsim {

// Parses `text` (YAML, e.g. "8", "250ms", "{exponential: 2s}") into the parameter `param` of
// `params`. Returns "" on success, else the error message (the parameter is then unchanged).
// With live_only, parameters not marked live are refused.
std::string apply_param_text(ComponentParams& params, const std::string& component,
                             const std::string& param, const std::string& text, bool live_only);

}  // namespace dsim
