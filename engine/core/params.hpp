// Typed component parameters, declared once.
//
// Each component kind has a plain struct of parameters with a describe() method that presents
// every field to a ParamVisitor together with its name, unit, default (the struct's initial value)
// and one line of help. The scenario loader, the generated reference in docs/scenario-format.md,
// the live parameter API and (later) the viewer's inspector are all visitors: the declaration is
// the single source of truth, and a field cannot be documented but not loadable or vice versa.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/distribution.hpp"
#include "core/location.hpp"
#include "core/time.hpp"

namespace dsim {

struct RouteSpec;
struct ArrivalSpec;
struct KeySpec;

// A reference to another component by name; resolved to an index when the topology is built.
struct TargetRef {
  std::string name;
  Location where;
  uint32_t index = UINT32_MAX;
};

struct ParamInfo {
  const char* name;
  const char* unit;  // "count", "duration", "rate", "fraction", ... (shown in docs)
  const char* help;
  bool required = false;
  bool live = false;  // may be changed while the simulation runs
};

class ParamVisitor {
 public:
  virtual ~ParamVisitor() = default;
  virtual void count(const ParamInfo& info, int64_t& value, int64_t min, int64_t max) = 0;
  virtual void number(const ParamInfo& info, double& value, double min, double max) = 0;
  virtual void duration(const ParamInfo& info, Time& value) = 0;
  virtual void rate(const ParamInfo& info, double& per_second) = 0;
  virtual void flag(const ParamInfo& info, bool& value) = 0;
  virtual void text(const ParamInfo& info, std::string& value) = 0;
  // An enumeration: value indexes options (a null-terminated array of names).
  virtual void choice(const ParamInfo& info, int& value, const char* const* options) = 0;
  virtual void distribution(const ParamInfo& info, Distribution& value) = 0;
  virtual void target(const ParamInfo& info, TargetRef& value) = 0;
  virtual void route(const ParamInfo& info, RouteSpec& value) = 0;
  virtual void arrivals(const ParamInfo& info, ArrivalSpec& value) = 0;
  virtual void keys(const ParamInfo& info, KeySpec& value) = 0;
};

// Base of every kind's parameter struct.
struct ComponentParams {
  virtual ~ComponentParams() = default;
  virtual void describe(ParamVisitor& v) = 0;
  virtual std::unique_ptr<ComponentParams> clone() const = 0;
};

template <class Derived>
struct ParamsOf : ComponentParams {
  std::unique_ptr<ComponentParams> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

}  // namespace dsim
