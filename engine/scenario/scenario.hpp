// A loaded scenario: plain typed data, no YAML. The loader produces it, front ends may adjust it
// (seed, duration), and Simulation is built from it. Copyable, so a sweep can run many variants.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/location.hpp"
#include "core/params.hpp"
#include "core/time.hpp"
#include "faults/fault_spec.hpp"
#include "scenario/expectation.hpp"

namespace dsim {

struct ComponentSpec {
  std::string name;
  std::string kind;
  Location where;  // of the component's key in the file
  std::unique_ptr<ComponentParams> params;

  ComponentSpec() = default;
  ComponentSpec(const ComponentSpec& o)
      : name(o.name),
        kind(o.kind),
        where(o.where),
        params(o.params ? o.params->clone() : nullptr) {}
  ComponentSpec& operator=(const ComponentSpec& o) {
    if (this != &o) *this = ComponentSpec(o);
    return *this;
  }
  ComponentSpec(ComponentSpec&&) = default;
  ComponentSpec& operator=(ComponentSpec&&) = default;
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  uint64_t seed = 1;
  Time duration = Time::s(60);
  Time warmup = Time::zero();
  Time window = Time::s(1);  // time-series resolution
  std::vector<ComponentSpec> components;
  std::vector<ComponentGroup> groups;     // the `groups:` section, in file order (for faults)
  std::vector<FaultSpec> faults;          // the fault timeline, in file order
  std::vector<Expectation> expectations;  // the `expect:` section, in file order
};

}  // namespace dsim
