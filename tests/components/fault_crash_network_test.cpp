// A crash while a `network` fault delays the messages to and from the crashed component: the
// requests still on the wire arrive later, as new calls, and the answers it sent before the crash
// still reach their callers. Neither is a call the component holds, so the crash must leave them
// alone (Call::in_transit); it used to answer them too, and the network's later delivery found
// the call gone - "a network event for a call released meanwhile (an engine bug)".
//
// One scenario shape for every kind that holds calls: `users` (10/s, constant: one request at
// 0.1 s, 0.2 s, ...) call the target across a link that adds 300 ms each way; a proxy's (or a
// queue's) own calls onwards cross another such link, so that answers to it are on the wire when
// it crashes (at 5.05 s, between two arrivals; back 1 s later). The counts below are worked out
// from these timings, per kind, next to each case; in mode hang the same requests fail, by the
// source's 3 s timeout instead of `unavailable`.
#include <gtest/gtest.h>

#include <string>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

struct CrashUnderDelay {
  const char* kind;
  const char* components;  // the target `x` and whatever it calls
  const char* onward;      // network targets of x's own calls ("" when it makes none)
  // The ledger at the end (10 s). Requests are the source's 100 plus, for a queue, its messages;
  // `lost` ones were dropped (`unavailable`) or failed (a timeout; a queue's lost message).
  uint64_t generated, completed, lost, in_flight;
};

std::string scenario(const CrashUnderDelay& c, const char* mode) {
  std::string yaml = std::string(R"(
name: crash-under-delay
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: x, timeout: 3s}
)") + c.components + R"(
faults:
  wire: {kind: network, targets: [x], from: [users], latency: 300ms}
)";
  if (*c.onward) {
    yaml += std::string("  onward: {kind: network, targets: [") + c.onward +
            "], from: [x], latency: 300ms}\n";
  }
  yaml += std::string("  boom: {kind: crash, targets: [x], at: 5050ms, restart_after: 1s, mode: ") +
          mode + "}\n";
  return yaml;
}

// The counts. A request created at t reaches x at t + 0.3 s. x is down for arrivals in
// [5.05 s, 6.05 s): those created 4.8 s ... 5.7 s (10, 3 of them on the wire at the crash) are
// refused; from 5.8 s on requests are served again.
//   service, external, database (1 s of work): x holds 3.8 s ... 4.7 s (10) at the crash, and
//     the answers of 3.5 s ... 3.7 s are on the wire. Completed: 0.1 ... 3.7 (37) and, 1.6 s
//     after they were made, 5.8 ... 8.4 (27). In flight at 10 s: 8.5 ... 10.0 (16).
//   kv_store (60 ms per GET, one at a time): x holds only 4.7 (arrived 5.0, done 5.06). Completed
//     0.1 ... 4.6 (46) and, 0.66 s after, 5.8 ... 9.3 (36); in flight 9.4 ... 10.0 (7).
//   gateway, load_balancer, a service's handler (a 1 s backend behind a second 300 ms link): an
//     answer is back at x at t + 1.9 s, so x holds 3.2 ... 4.7 (16), each waiting for its backend
//     (whose answers then reach nobody). Completed 0.1 ... 3.1 (31) and, 2.2 s after, 5.8 ... 7.8
//     (21); in flight 7.9 ... 10.0 (22).
//   cache (every get misses: ttl 1 ms; 1 ms miss latency, then the backend as above): the fill is
//     back at t + 1.901 s; x holds 3.2 ... 4.7 (16). Completed 0.1 ... 3.1 (31) and 5.8 ... 7.7
//     (20, 2.201 s after); in flight 7.8 ... 10.0 (23).
//   queue (in memory; a publish is acknowledged at once, each message is a new request, settled
//     when its consumer's answer is back, 1.9 s after the publish was made): publishes complete
//     0.1 ... 4.7 (47) and 5.8 ... 9.4 (37), 10 fail; of the 87 messages (0.1 ... 4.7 and
//     5.8 ... 9.7) the crash loses the 16 not yet settled (3.2 ... 4.7), 31 + 24 (5.8 ... 8.1)
//     settle. In flight: publishes 9.5 ... 10.0 (6), messages 8.2 ... 9.7 (16).
const CrashUnderDelay kCases[] = {
    {"service", "  x: {kind: service, workers: 100, service_time: 1s}", "", 100, 64, 20, 16},
    {"service_handler",
     "  x: {kind: service, workers: 100, handler: [{call: api}]}\n"
     "  api: {kind: service, workers: 100, service_time: 1s}",
     "api", 100, 52, 26, 22},
    {"external", "  x: {kind: external, latency: 1s}", "", 100, 64, 20, 16},
    {"database", "  x: {kind: database, connections: 100, queries: [{name: q, time: 1s}]}", "", 100,
     64, 20, 16},
    {"kv_store", "  x: {kind: kv_store, get: 60ms}", "", 100, 82, 11, 7},
    {"gateway",
     "  x: {kind: gateway, routes: [{to: api}]}\n"
     "  api: {kind: service, workers: 100, service_time: 1s}",
     "api", 100, 52, 26, 22},
    {"load_balancer",
     "  x: {kind: load_balancer, backends: [api-1, api-2]}\n"
     "  api-1: {kind: service, workers: 100, service_time: 1s}\n"
     "  api-2: {kind: service, workers: 100, service_time: 1s}",
     "api-1, api-2", 100, 52, 26, 22},
    {"cache",
     "  x: {kind: cache, ttl: 1ms, backing: db}\n"
     "  db: {kind: service, workers: 100, service_time: 1s}",
     "db", 100, 51, 26, 23},
    {"queue",
     "  x: {kind: queue, durable: false, consumers: {target: worker, count: 100}}\n"
     "  worker: {kind: service, workers: 100, service_time: 1s}",
     "worker", 187, 139, 26, 22},
};

class FaultCrashUnderNetworkDelay : public ::testing::TestWithParam<CrashUnderDelay> {};

TEST_P(FaultCrashUnderNetworkDelay, MessagesOnTheWireAreLeftAloneAndEveryRequestIsAccounted) {
  const CrashUnderDelay& c = GetParam();
  for (const char* mode : {"reset", "hang"}) {
    SCOPED_TRACE(mode);
    RequestLog log;
    auto sim = run_checked(scenario(c, mode), {&log});
    const Ledger l = sim->ledger();
    EXPECT_EQ(l.generated, c.generated);
    EXPECT_EQ(l.completed, c.completed);
    EXPECT_EQ(l.failed + l.dropped, c.lost);
    EXPECT_EQ(l.dead_lettered, 0u);
    EXPECT_EQ(l.in_flight, c.in_flight);
    // A caller's failures are the crash's: refused or failed at once (reset), or never
    // answered (hang); a queue's lost messages fail `unavailable` either way.
    for (const Finished& f : log.entries) {
      if (f.outcome == Outcome::completed) continue;
      if (std::string(mode) == "reset") {
        EXPECT_EQ(f.reason, Reason::unavailable) << f.created.seconds();
      } else {
        EXPECT_TRUE(f.reason == Reason::timeout || f.reason == Reason::unavailable)
            << f.created.seconds();
      }
    }
  }
}

TEST_P(FaultCrashUnderNetworkDelay, SameSeedSameBytes) {
  expect_reproducible(scenario(GetParam(), "reset"));
}

INSTANTIATE_TEST_SUITE_P(Kinds, FaultCrashUnderNetworkDelay, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<CrashUnderDelay>& info) {
                           return std::string(info.param.kind);
                         });

}  // namespace
}  // namespace dsim::test
