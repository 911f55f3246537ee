// load_balancer: a proxy that spreads calls over backends and relays their answers.
//
//   lb:
//     kind: load_balancer
//     backends: [api-1, api-2, api-3]      # or [{to: api-1, weight: 3}, {to: api-2}, ...]
//     policy: power_of_d                   # round_robin | random | least_connections |
//     choices: 2                           #   power_of_d (p2c) | weighted | consistent_hash
//     health_check: {interval: 5s, unhealthy_threshold: 3, healthy_threshold: 2}
//     timeout: 1s                          # the call policy, per attempt to a backend
//     retry: {max_attempts: 2}             # a retry re-picks, avoiding the backend that failed
//
// Sections of load_balancer.cpp: parameters, picking (one function per policy, all skipping
// ejected backends and, for a retry, the backend that just failed), proxying, health checks.
//
// Each backend is one Outbound site sharing the balancer's CallPolicy, so timeouts, retries, a
// circuit breaker and a bulkhead apply per backend. "Connections" (least_connections,
// power_of_d) are the balancer's own outstanding attempts to a backend, as a real proxy counts
// them. Active health checks probe every backend each interval: a probe fails when the backend
// is down (Component::healthy()) or a network partition cuts it off from the balancer; probes
// are answered at once and put no load on the backend.
//
// A crash of the balancer fails every call it holds (in its own `latency`, or waiting for a
// backend) at the crash instant with `unavailable` (no answer at all in crash mode hang), and
// abandons its attempts to the backends: their late answers reach nobody. The process that
// restarts knows nothing of its past: every backend is in rotation again, the probe counts start
// from zero and the first probes go out one interval after the restart, as at the start of the
// run.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "components/call_policy.hpp"
#include "components/outbound.hpp"
#include "core/component.hpp"
#include "core/distribution.hpp"
#include "core/free_list.hpp"
#include "core/params.hpp"
#include "core/random.hpp"

namespace dsim {

// One backend: `{to: api-1, weight: 3}`, or just `api-1` (weight 1).
struct BackendSpec : ParamGroup {
  static constexpr const char* kElementName = "backend";
  TargetRef to;
  int64_t weight = 1;
  const char* scalar_key() const override { return "to"; }
  void describe(ParamVisitor& v) override;
};

// Active health checking: every `interval` each backend is probed; `unhealthy_threshold`
// consecutive failed probes eject it, `healthy_threshold` consecutive good ones restore it.
struct HealthCheckSpec : ParamGroup {
  Time interval = Time::s(5);
  int64_t unhealthy_threshold = 3;
  int64_t healthy_threshold = 2;
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

struct LoadBalancerParams : ParamsOf<LoadBalancerParams> {
  enum Policy {
    round_robin,
    random,
    least_connections,
    power_of_d,
    p2c,  // power_of_d with choices 2
    weighted,
    consistent_hash
  };
  static constexpr const char* kPolicyNames[] = {"round_robin",     "random", "least_connections",
                                                 "power_of_d",      "p2c",    "weighted",
                                                 "consistent_hash", nullptr};

  ParamList<BackendSpec> backends;
  int policy = round_robin;
  int64_t choices = 2;
  int64_t virtual_nodes = 100;
  Distribution latency;  // the balancer's own time per request (zero)
  HealthCheckSpec health_check;
  CallPolicy call;

  // A proxy passes its caller's deadline on (a no-op unless the caller propagates one).
  LoadBalancerParams() { call.propagate_deadline = true; }
  void describe(ParamVisitor& v) override;
  std::string check(const std::vector<std::string>& given) override;
};

class LoadBalancer final : public Component, public CallOwner {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  LoadBalancer(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_reply(Simulation& sim, CallHandle h, const Reply& r) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_call_done(Simulation& sim, uint64_t token, const Reply& reply) override;
  uint32_t retry_site(Simulation& sim, uint64_t token, uint32_t failed_site) override;
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;

  // Read-only views for tests and front ends. Backends are numbered in list order.
  const LoadBalancerParams& config() const { return p_; }
  size_t backend_count() const { return backends_.size(); }
  bool in_rotation(uint32_t backend) const { return backends_[backend].in_rotation; }
  uint64_t outstanding(uint32_t backend) const { return out_.outstanding(backend); }
  // consistent_hash: the backend that owns `key` now (skipping ejected backends), or kNone.
  uint32_t ring_owner(uint64_t key) const;
  // consistent_hash: the share of the key space (0..1) backend `b` owns when all are in rotation.
  double ring_share(uint32_t backend) const;

 private:
  enum EventKind : uint32_t { kProxy = 0, kProbe = 1 };
  struct Backend {
    uint32_t component = 0;
    int64_t weight = 1;
    int64_t current = 0;  // smooth weighted round robin's running weight
    bool in_rotation = true;
    int64_t failed_probes = 0;  // consecutive, while in rotation
    int64_t good_probes = 0;    // consecutive, while ejected
  };
  struct RingPoint {
    uint64_t hash;
    uint32_t backend;
  };
  // A call the balancer holds, from its arrival to its answer. Its slot and serial are the token
  // of the latency event and of the exchange, so that after a crash has ended it they are stale.
  // (24 bytes: every request in flight through the balancer holds one.)
  struct Held {
    uint64_t exchange = 0;  // if called: the exchange a crash cancels
    CallHandle call = 0;
    uint32_t serial = 0;
    uint32_t free_next = 0;  // while the slot is free (FreeList)
    bool called = false;     // its exchange has started
    bool live = false;
  };

  uint32_t hold(CallHandle h);
  bool holds(uint64_t token) const {
    const Held& c = held_[payload_handle(token)];
    return c.live && c.serial == payload_serial(token);
  }
  void proxy(Simulation& sim, uint32_t slot);
  void proxy_now(Simulation& sim, uint32_t slot);
  void respond(Simulation& sim, uint32_t slot, const Reply& reply);
  void restart(Simulation& sim);
  void probe(Simulation& sim);
  void set_rotation(Simulation& sim, uint32_t backend, bool in);
  void rebuild_rotation();

  // The backend for the next attempt of a request with `key`, never `exclude` unless it is the
  // only backend in rotation; kNone when no backend is in rotation.
  uint32_t pick(uint64_t key, uint32_t exclude);
  uint32_t pick_round_robin(uint32_t exclude);
  uint32_t pick_random(uint32_t exclude);
  uint32_t pick_least_connections(uint32_t exclude);
  uint32_t pick_power_of_d(uint32_t exclude);
  uint32_t pick_weighted(uint32_t exclude);
  uint32_t ring_walk(uint64_t key, uint32_t exclude) const;

  LoadBalancerParams& p_;
  Outbound out_{*this, *this};
  std::vector<Backend> backends_;
  std::vector<uint32_t> rotation_;         // backends in rotation, in list order
  std::vector<uint32_t> position_;         // a backend's index in rotation_, or kNone if ejected
  std::vector<int64_t> cumulative_;        // running sums of their weights (random)
  std::vector<uint32_t> sample_;           // a permutation of rotation_ (power_of_d draws from it)
  std::vector<RingPoint> ring_;            // consistent_hash, sorted by hash
  size_t next_ = 0;                        // round_robin: the next backend to try
  size_t tie_start_ = 0;                   // least_connections: where the next scan starts
  static constexpr int kMaxNesting = 100;  // calls into proxy() on the stack at once
  int nesting_ = 0;
  std::vector<Held> held_;  // a slab
  FreeList free_held_;
  uint64_t probe_generation_ = 0;  // a crash stops the probe chain; the restart starts a new one
  int64_t choices_ = 2;
  bool has_latency_ = false;
  Rng pick_rng_;
  Rng latency_rng_;
};

}  // namespace dsim
