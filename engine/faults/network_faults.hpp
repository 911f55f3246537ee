// The fault kinds that act on the network between components (core/network.hpp) rather than on
// a component's own state: partition and network. Each active fault is one network condition,
// named after the fault; apply() adds or replaces it, retract() removes it.
//
// Both kinds read their sides the same way: `targets` is one side - for `network`, the called
// side of the affected routes - and `from` the other, a list of fault targets like `targets`
// (absent: every component not among the targets). Calls from `from` to the targets (and, for a
// partition, back) are the ones affected.
#pragma once

#include <cstdint>
#include <vector>

#include "faults/fault_spec.hpp"

namespace dsim {

struct PartitionFault : FaultParamsOf<PartitionFault> {
  ParamList<FaultTarget> from;
  int direction = 0;  // kDirectionNames
  int mode = 0;       // kModeNames
  static constexpr const char* kDirectionNames[] = {"both", "one_way", nullptr};
  static constexpr const char* kModeNames[] = {"blackhole", "reject", nullptr};
  std::vector<uint32_t> from_indices;  // `from`, resolved (empty: every other component)

  void describe_kind(ParamVisitor& v) override;
  std::string check_kind(const std::vector<std::string>& given) override;
  bool rampable() const override { return false; }
  std::string resolve(const ComponentDirectory& components, Location& where) override;
  std::string warning(const ComponentDirectory& components,
                      const std::vector<uint32_t>& targets) const override;
  void apply(Simulation& sim, const ActiveFault& f) const override;
  void retract(Simulation& sim, const ActiveFault& f) const override;
};

struct NetworkFault : FaultParamsOf<NetworkFault> {
  ParamList<FaultTarget> from;
  Distribution latency;  // constant zero: no added latency
  double loss = 0;
  double duplication = 0;
  int direction = 0;  // kDirectionNames
  static constexpr const char* kDirectionNames[] = {"both", "requests", "responses", nullptr};
  std::vector<uint32_t> from_indices;  // `from`, resolved (empty: every other component)

  void describe_kind(ParamVisitor& v) override;
  std::string check_kind(const std::vector<std::string>& given) override;
  std::string resolve(const ComponentDirectory& components, Location& where) override;
  std::string warning(const ComponentDirectory& components,
                      const std::vector<uint32_t>& targets) const override;
  void apply(Simulation& sim, const ActiveFault& f) const override;
  void retract(Simulation& sim, const ActiveFault& f) const override;
};

}  // namespace dsim
