// The fault kinds that act on their targets' own state (core/fault_state.hpp): crash, disk_full,
// slow, error_rate, cpu_stress, clock_skew. How each component kind honours the state is
// documented in docs/faults.md; the hooks are in the components' accept and service-time draws.
#pragma once

#include "faults/fault_spec.hpp"

namespace dsim {

struct CrashFault : FaultParamsOf<CrashFault> {
  Time restart_after = Time::max();
  int mode = 0;  // kModeNames
  enum Mode { reset, hang };
  static constexpr const char* kModeNames[] = {"reset", "hang", nullptr};
  void describe_kind(ParamVisitor& v) override;
  std::string check_kind(const std::vector<std::string>& given) override;
  bool rampable() const override { return false; }
  Time implied_duration() const override { return restart_after; }
  std::string check_target(const std::string& kind, const ComponentParams& p) const override;
  void contribute(FaultState& s, const ActiveFault& f) const override;
};

struct DiskFullFault : FaultParamsOf<DiskFullFault> {
  int64_t fill_per_second = 0;  // 0: full at once
  void describe_kind(ParamVisitor& v) override;
  bool rampable() const override { return false; }
  std::string check_target(const std::string& kind, const ComponentParams& p) const override;
  void contribute(FaultState& s, const ActiveFault& f) const override;
};

struct SlowFault : FaultParamsOf<SlowFault> {
  double factor = 1;
  Time latency;
  TargetRef from;
  void describe_kind(ParamVisitor& v) override;
  std::string check_kind(const std::vector<std::string>& given) override;
  std::string resolve(const ComponentDirectory& components, Location& where) override;
  std::string check_target(const std::string& kind, const ComponentParams& p) const override;
  void contribute(FaultState& s, const ActiveFault& f) const override;
};

struct ErrorRateFault : FaultParamsOf<ErrorRateFault> {
  double fraction = 0;
  void describe_kind(ParamVisitor& v) override;
  std::string check_target(const std::string& kind, const ComponentParams& p) const override;
  void contribute(FaultState& s, const ActiveFault& f) const override;
};

struct CpuStressFault : FaultParamsOf<CpuStressFault> {
  double fraction = 0;
  void describe_kind(ParamVisitor& v) override;
  std::string check_target(const std::string& kind, const ComponentParams& p) const override;
  void contribute(FaultState& s, const ActiveFault& f) const override;
};

struct ClockSkewFault : FaultParamsOf<ClockSkewFault> {
  Time offset;
  int direction = 0;  // kDirectionNames
  double rate = 1;
  static constexpr const char* kDirectionNames[] = {"ahead", "behind", nullptr};
  void describe_kind(ParamVisitor& v) override;
  std::string check_kind(const std::vector<std::string>& given) override;
  std::string check_target(const std::string& kind, const ComponentParams& p) const override;
  void contribute(FaultState& s, const ActiveFault& f) const override;
};

}  // namespace dsim
