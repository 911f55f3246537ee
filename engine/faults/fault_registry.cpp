#include "faults/fault_registry.hpp"

#include "faults/local_faults.hpp"
#include "faults/network_faults.hpp"

namespace dsim {
namespace {
template <class P>
std::unique_ptr<FaultParams> make_params() {
  return std::make_unique<P>();
}
}  // namespace

const std::vector<FaultKind>& fault_kinds() {
  static const std::vector<FaultKind> kinds = {
      {"partition",
       "No message crosses between the targets and the other side (`from`, or every other "
       "component): calls across the cut vanish (`blackhole`) or are refused (`reject`); "
       "`direction: one_way` cuts only the messages from `from` to the targets.",
       make_params<PartitionFault>},
      {"network",
       "Calls from `from` (or any component) to the targets: added latency with jitter, lost "
       "requests or answers (the caller times out), duplicated requests.",
       make_params<NetworkFault>},
      {"crash",
       "The component stops: in-flight work fails or is lost as the kind says, new calls are "
       "refused with `unavailable` (mode reset) or never answered (mode hang); optional "
       "restart_after.",
       make_params<CrashFault>},
      {"disk_full",
       "Writes to a database or a durable queue fail with `disk_full`, reads continue; optionally "
       "the disk fills gradually.",
       make_params<DiskFullFault>},
      {"slow",
       "Service times multiplied by a factor and/or lengthened by a latency, for the component or "
       "for the calls from one caller.",
       make_params<SlowFault>},
      {"error_rate", "The component answers a fraction of the calls it receives with `error`.",
       make_params<ErrorRateFault>},
      {"cpu_stress",
       "A noisy neighbour takes a fraction f of the component's CPU: service times stretch by "
       "1/(1-f).",
       make_params<CpuStressFault>},
      {"clock_skew",
       "The component's clock runs offset and/or at a different rate: its timers (TTLs, "
       "visibility timeouts, rate-limit windows) fire early or late.",
       make_params<ClockSkewFault>},
  };
  return kinds;
}

const FaultKind* find_fault_kind(std::string_view name) {
  for (const FaultKind& k : fault_kinds()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

std::vector<std::string> fault_kind_names() {
  std::vector<std::string> names;
  for (const FaultKind& k : fault_kinds()) names.emplace_back(k.name);
  return names;
}

}  // namespace dsim
