#include "components/registry.hpp"

#include "components/cache.hpp"
#include "components/database.hpp"
#include "components/external.hpp"
#include "components/gateway.hpp"
#include "components/kv_store.hpp"
#include "components/load_balancer.hpp"
#include "components/queue.hpp"
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
      {"load_balancer",
       "Spreads calls over backends (round robin, random, least connections, power of d "
       "choices, smooth weighted round robin, consistent hashing) and relays their answers; "
       "active health checks take failing backends out of rotation and back.",
       false, make_params<LoadBalancerParams>, create<LoadBalancer>},
      {"external",
       "A third-party API (email, SMS, push): a latency, an error rate, the provider's rate "
       "limit answered with 429s and retry-after, and a quota per period.",
       false, make_params<ExternalParams>, create<External>},
      {"queue",
       "A message broker: publishes are stored as messages (new requests) and delivered to "
       "consumers, with visibility timeout, redelivery, dead-letter queue, partitions, delays, "
       "capacity and consumer autoscaling.",
       false, make_params<QueueParams>, create<Queue>},
      {"database",
       "A connection pool in front of query classes (named operations), with row locks on hot "
       "keys, read replicas with replication lag, primary failover, sharding by key and a disk "
       "that writes fill.",
       false, make_params<DatabaseParams>, create<Database>},
      {"gateway",
       "The front door: validation on workers, rate limiters (token bucket, fixed window, sliding "
       "log, sliding counter; local or shared through a kv_store), routing by path and class to "
       "backends.",
       false, make_params<GatewayParams>, create<Gateway>},
      {"kv_store",
       "A Redis-like single-threaded in-memory store: get, set, incr and check_and_incr run one "
       "at a time in FIFO order; keys expire; a bounded memory refuses new keys; an optional "
       "replica lags behind.",
       false, make_params<KvStoreParams>, create<KvStore>},
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
