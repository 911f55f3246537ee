// The one table of component kinds. Adding a kind = one .hpp/.cpp pair, one row here, one test
// file and one docs entry (docs/scenario-format.md is generated from the rows' parameters).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/component.hpp"
#include "core/params.hpp"

namespace dsim {

struct ComponentKind {
  const char* name;
  const char* help;
  bool generates_requests;  // a source: walks through the topology start here
  std::unique_ptr<ComponentParams> (*make_params)();
  std::unique_ptr<Component> (*create)(const std::string& name,
                                       std::unique_ptr<ComponentParams> params);
};

const std::vector<ComponentKind>& component_kinds();
const ComponentKind* find_component_kind(std::string_view name);

}  // namespace dsim
