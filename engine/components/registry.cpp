#include "components/registry.hpp"

#include "components/gateway.hpp"
#include "components/kv_store.hpp"
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
      {"gateway",
       "The front door: validation on workers, rate limiters (token bucket, fixed window, sliding "
       "log, sliding counter; local or shared through a kv_store), routing by class to backends.",
       false, make_params<GatewayParams>, create<Gateway>},
      {"kv_store",
       "A Redis-like single-threaded in-memory store: get, set, incr and check_and_incr run one "
       "at a time in FIFO order; keys expire; a bounded memory refuses new keys; an optional "
       "replica lags behind.",
       false, make_params<KvStoreParams>, create<KvStore>},
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
