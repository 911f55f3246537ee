// Conservation during faults, not only at the end: generated = completed + failed + dropped +
// dead-lettered + in flight at every window end of a run in which every fault kind acts in turn
// (and some overlap) on a system with every kind of component. run_checked adds the end of the
// run; the same seed gives the same bytes.
#include <gtest/gtest.h>

#include <string>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

constexpr const char* kSystem = R"(
seed: 5
duration: 12s
window: 250ms
components:
  users:
    kind: source
    arrivals: {poisson: 300/s}
    keys: {zipf: {keys: 1k, s: 0.9}}
    target: edge
    timeout: 2s
    retry: {max_attempts: 2, base: 20ms}
  edge:
    kind: gateway
    workers: 4
    auth_time: {exponential: 100us}
    limiters: [{algorithm: token_bucket, by: global, rate: 1000/s, burst: 100}]
    routes: [{to: lb, timeout: 1s}]
  lb: {kind: load_balancer, backends: [api-1, api-2], policy: p2c}
  api-1: &api
    kind: service
    workers: 16
    handler:
      - compute: {exponential: 1ms}
      - call: catalog
        timeout: 300ms
      - call: db
        op: read_user
        timeout: 300ms
        retry: {max_attempts: 2, base: 10ms}
      - publish: orders
        timeout: 100ms
  api-2: *api
  catalog:
    kind: cache
    capacity: 100
    backing: db
    backing_read_op: read_product
    miss_latency: {exponential: 1ms}
    timeout: 200ms
  orders:
    kind: queue
    visibility_timeout: 2s
    max_receives: 3
    consumers: {target: worker, count: 8, timeout: 1s}
  worker:
    kind: service
    workers: 8
    handler:
      - compute: {exponential: 2ms}
      - call: db
        op: write_order
        timeout: 500ms
      - call: mail
        timeout: 500ms
  mail: {kind: external, latency: {exponential: 20ms}}
  db:
    kind: database
    connections: 8
    acquire_timeout: 200ms
    queries:
      - {name: read_user, kind: read, time: {exponential: 1ms}}
      - {name: read_product, kind: read, time: {exponential: 2ms}}
      - {name: write_order, kind: write, time: {exponential: 2ms}}
faults:
  cut: {kind: partition, targets: [api-1], from: [lb], at: 1s, duration: 1s}
  lossy: {kind: network, targets: [db], loss: 10%, latency: {exponential: 5ms}, at: 2s, duration: 2s}
  boom: {kind: crash, targets: [catalog], at: 3s, restart_after: 1s}
  full: {kind: disk_full, targets: [db], at: 4s, duration: 1s}
  slowmail: {kind: slow, targets: [mail], factor: 5, at: 5s, duration: 2s, ramp_in: 500ms}
  errs: {kind: error_rate, targets: [worker], fraction: 0.3, at: 6s, duration: 2s}
  noisy: {kind: cpu_stress, targets: [api-2], fraction: 0.5, at: 7s, duration: 2s}
  skew: {kind: clock_skew, targets: [orders], rate: 2, at: 8s, duration: 1s}
  hang: {kind: crash, targets: [worker], mode: hang, at: 9s, restart_after: 1s}
)";

// Checks the ledger at every window end.
class LedgerAtEveryWindow final : public Observer {
 public:
  void on_window(const Simulation& sim, const WindowReport&) override {
    ++windows;
    const Ledger l = sim.ledger();
    if (!l.balanced()) ++unbalanced;
  }
  int windows = 0, unbalanced = 0;
};

TEST(FaultConservation, EveryRequestIsAccountedForAtEveryWindowOfEveryFault) {
  LedgerAtEveryWindow ledger;
  auto sim = run_checked(kSystem, {&ledger});
  EXPECT_EQ(ledger.windows, 48);  // 12 s in windows of 250 ms
  EXPECT_EQ(ledger.unbalanced, 0);
  EXPECT_EQ(sim->fault_windows().size(), 9u);
  // The faults did something: requests failed in several ways.
  const Ledger l = sim->ledger();
  EXPECT_GT(l.failed, 0u);
  EXPECT_GT(l.dropped, 0u);
}

TEST(FaultConservation, TheSameSeedGivesTheSameBytes) {
  expect_reproducible(kSystem);
}

}  // namespace
}  // namespace dsim::test
