// The one table of fault kinds. Adding a kind = its parameter struct (a FaultParamsOf<...> with
// describe_kind and contribute or apply), one row here, tests and a section in docs/faults.md.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "faults/fault_spec.hpp"

namespace dsim {

struct FaultKind {
  const char* name;
  const char* help;
  std::unique_ptr<FaultParams> (*make_params)();
};

const std::vector<FaultKind>& fault_kinds();
const FaultKind* find_fault_kind(std::string_view name);
std::vector<std::string> fault_kind_names();

}  // namespace dsim
