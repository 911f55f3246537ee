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
#include <string_view>
#include <vector>

#include "core/distribution.hpp"
#include "core/location.hpp"
#include "core/time.hpp"

namespace dsim {

struct RouteSpec;
struct ArrivalSpec;
struct KeySpec;

// A reference to another component by name; resolved to an index when the topology is built.
// `op` names an operation at the target (a database's query class, a cache's get or set...); the
// topology check resolves it to op_index against the target kind's operations.
struct TargetRef {
  std::string name;
  Location where;
  uint32_t index = UINT32_MAX;
  std::string op{};
  uint16_t op_index = 0;
  // Further operations the referring component asks the same target for (a cache reads with
  // `op` and writes with extra_ops[0]). Resolved like `op`: an empty name means the target's
  // default (index 0). The owner sizes extra_ops; the topology check fills extra_op_indices.
  std::vector<std::string> extra_ops{};
  std::vector<uint16_t> extra_op_indices{};
  // Set by an owner for which naming itself cannot work (a cache backed by itself): the topology
  // check then reports a reference to the owner's own component, with this explanation.
  const char* self_error = nullptr;
};

class ParamVisitor;

// A nested block of parameters (a YAML map inside a component's map, e.g. a call's `retry:`),
// declared like a component's own parameters. `check` may reject combinations that single
// fields cannot (returns a message, or "" when fine); the loader reports it at the block.
struct ParamGroup {
  virtual ~ParamGroup() = default;
  virtual void describe(ParamVisitor& v) = 0;
  virtual std::string check() { return {}; }
  // A block shared by many kinds (a retry policy...) is documented once, under this title, and
  // referred to from each kind; nullptr documents the block's fields inline.
  virtual const char* shared_doc_title() const { return nullptr; }
  virtual std::unique_ptr<ParamGroup> fresh() const { return nullptr; }  // for shared docs
  // A block that may also be written as a single value names the key that value stands for:
  // with "to", the list entry `a` reads as `{to: a}` (a load balancer's `backends: [a, b]`).
  virtual const char* scalar_key() const { return nullptr; }
  bool present = false;            // the block was given (set by the loader)
  std::vector<std::string> given;  // its keys that were given (set by the loader)
  bool has(std::string_view key) const {
    for (const std::string& g : given) {
      if (g == key) return true;
    }
    return false;
  }
};

// A list of nested blocks (a YAML sequence of maps, e.g. a handler's steps).
struct ParamListBase {
  virtual ~ParamListBase() = default;
  virtual size_t size() const = 0;
  virtual ParamGroup& at(size_t i) = 0;
  virtual ParamGroup& add() = 0;
  virtual void clear() = 0;
  // A fresh element, for documentation (describes the element type's fields and defaults).
  virtual std::unique_ptr<ParamGroup> prototype() const = 0;
  // Names the element type in documentation, so that recursive lists are described once.
  virtual const char* element_name() const = 0;
  // A keyed list is written as a YAML map, name -> block (a queue's `consumer_groups`); the
  // loader checks each name and hands it to the element it has just read.
  virtual bool keyed() const { return false; }
  virtual void set_key(size_t /*i*/, const std::string& /*key*/) {}
};

template <class T>
struct ParamList : ParamListBase {
  std::vector<T> items;
  size_t size() const override { return items.size(); }
  ParamGroup& at(size_t i) override { return items[i]; }
  ParamGroup& add() override { return items.emplace_back(); }
  void clear() override { items.clear(); }
  std::unique_ptr<ParamGroup> prototype() const override { return std::make_unique<T>(); }
  const char* element_name() const override { return T::kElementName; }
  auto begin() const { return items.begin(); }
  auto end() const { return items.end(); }
  auto begin() { return items.begin(); }
  auto end() { return items.end(); }
  bool empty() const { return items.empty(); }
};

// A keyed list: T has a `name`, which is its key in the YAML map.
template <class T>
struct ParamMap : ParamList<T> {
  bool keyed() const override { return true; }
  void set_key(size_t i, const std::string& key) override { this->items[i].name = key; }
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
  // A size in bytes, written with a unit (512B, 64KiB, 10GB).
  virtual void size(const ParamInfo& info, int64_t& bytes) = 0;
  virtual void flag(const ParamInfo& info, bool& value) = 0;
  virtual void text(const ParamInfo& info, std::string& value) = 0;
  // An enumeration: value indexes options (a null-terminated array of names).
  virtual void choice(const ParamInfo& info, int& value, const char* const* options) = 0;
  virtual void distribution(const ParamInfo& info, Distribution& value) = 0;
  virtual void target(const ParamInfo& info, TargetRef& value) = 0;
  virtual void route(const ParamInfo& info, RouteSpec& value) = 0;
  virtual void arrivals(const ParamInfo& info, ArrivalSpec& value) = 0;
  virtual void keys(const ParamInfo& info, KeySpec& value) = 0;
  // A nested block of parameters; visitors that do not care about nesting may ignore it, but the
  // loader, the reference and the topology check all descend into it.
  virtual void group(const ParamInfo& info, ParamGroup& value) = 0;
  // A list of nested blocks.
  virtual void list(const ParamInfo& info, ParamListBase& value) = 0;
};

// Base of every kind's parameter struct.
struct ComponentParams {
  virtual ~ComponentParams() = default;
  virtual void describe(ParamVisitor& v) = 0;
  // Combinations single fields cannot express ("service_time or handler"); "" when fine. Sees
  // which keys were given.
  virtual std::string check(const std::vector<std::string>& /*given*/) { return {}; }
  // Names of the operations callers may ask for with `op:` (index = op_index); the first is the
  // default. Empty: the kind has no named operations.
  virtual std::vector<std::string> operations() const { return {}; }
  // Rules about what one of this kind's references may name, checked once the topology check has
  // resolved it: `ref` is one of this struct's own TargetRefs (compare addresses to tell which),
  // `callee` the parameters of the component it names (`this` for a self-reference). Returns a
  // message, or "" when fine (a queue's dead-letter queue must be a queue without consumers).
  virtual std::string check_reference(const TargetRef& /*ref*/, const std::string& /*callee_kind*/,
                                      const ComponentParams& /*callee*/) const {
    return {};
  }
  virtual std::unique_ptr<ComponentParams> clone() const = 0;
};

template <class Derived>
struct ParamsOf : ComponentParams {
  std::unique_ptr<ComponentParams> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
};

}  // namespace dsim
