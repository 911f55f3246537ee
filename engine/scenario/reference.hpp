// The component reference of docs/scenario-format.md, generated from the registry and each
// kind's describe(): `dsim reference` prints it and a test checks the committed file matches.
#pragma once

#include <string>

namespace dsim {

std::string component_reference_markdown();

}  // namespace dsim
