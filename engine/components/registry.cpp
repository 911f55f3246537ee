#include "components/registry.hpp"

#include "components/cache.hpp"
#include "components/service.hpp"
#include "components/sink.hpp"
#include "components/source.hpp"

namespace dsim {
namespace {
template <class P>
std::unique_ptr<ComponentParams> make_params() {
  return std::make_unique<P>();
}
template <class C>
std::unique_ptr<Component> create(const std::string& name, std::unique_ptr<ComponentParams> p) {
  return std::make_unique<C>(name, std::move(p));
}
}  // namespace

const std::vector<ComponentKind>& component_kinds() {
  static const std::vector<ComponentKind> kinds = {
      {"source", "Generates requests, open loop (a rate) or closed loop (users with think time).",
       true, make_params<SourceParams>, create<Source>},
      {"service",
       "c parallel workers with a bounded waiting room; each worker spends a service time on a "
       "request or runs a handler of steps (compute, calls, publishes, fan-outs, branches).",
       false, make_params<ServiceParams>, create<Service>},
      {"sink", "Where requests complete.", false, make_params<SinkParams>, create<Sink>},
      {"cache",
       "A read-through cache of `capacity` entries (LRU, LFU or TTL eviction, optional expiry) "
       "in front of a backing component; gets hit or miss and fill, sets write through, "
       "invalidate or write around; optional request coalescing.",
       false, make_params<CacheParams>, create<Cache>},
  };
  return kinds;
}

const ComponentKind* find_component_kind(std::string_view name) {
  for (const ComponentKind& k : component_kinds()) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

}  // namespace dsim
