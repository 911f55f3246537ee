// A crash of the kinds that hold calls while something else works on them - an external (the
// provider's latency), a gateway (validation, limiter stores, backends), a load balancer (its
// latency, backends) and a cache (its latencies, fills) - ends the calls they hold at the crash
// instant, as a process crash does;
// the crash's `mode: hang` leaves them (and new calls) unanswered instead, so callers time out.
// Conservation is checked at the end of every run; late answers from downstream must not count
// twice.
//
// Arrivals are `constant: 10/s`: one request at 0.1 s, 0.2 s, ... Crashes fall between two
// arrivals (x.05 s) so that no tie decides a count.
#include <gtest/gtest.h>

#include "components/cache.hpp"
#include "components/component_support.hpp"
#include "components/external.hpp"
#include "components/gateway.hpp"
#include "components/load_balancer.hpp"
#include "faults/fault_controller.hpp"

namespace dsim::test {
namespace {

// Requests that ended with `reason` at `at` having been created before it: those the crash
// found in flight.
size_t ended_at(const RequestLog& log, Time at, Reason reason) {
  size_t n = 0;
  for (const Finished& f : log.entries)
    n += f.finished == at && f.created < at && f.reason == reason;
  return n;
}

// Calls still open that nobody will answer. Each hung call is released when its caller gives up,
// so once every caller has timed out there is none left (no call slot leaks).
size_t hung_calls(const Simulation& sim) {
  size_t n = 0;
  for (CallHandle h = 0; h < sim.calls().capacity(); ++h) {
    n += sim.calls().is_live(h) && sim.call(h).lost;
  }
  return n;
}

// Requests created in [from, to] and how they ended.
struct Tally {
  size_t completed = 0, refused_at_once = 0, timed_out = 0, other = 0;
};
Tally tally(const RequestLog& log, Time from, Time to) {
  Tally t;
  for (const Finished& f : log.entries) {
    if (f.created < from || f.created > to) continue;
    if (f.outcome == Outcome::completed) {
      ++t.completed;
    } else if (f.reason == Reason::unavailable && f.finished == f.created) {
      ++t.refused_at_once;
    } else if (f.reason == Reason::timeout) {
      ++t.timed_out;
    } else {
      ++t.other;
    }
  }
  return t;
}

// ---- external ------------------------------------------------------------------------------

// Every call takes 1 s at the provider. At the crash (5.05 s) the 10 calls of 4.1 s ... 5.0 s are
// in progress: each fails with `unavailable` at the crash instant, as a connection reset. The 10
// of 5.1 s ... 6.0 s are refused at once; from the restart (6.05 s) calls succeed again, 1 s
// later. The lost calls' answer events find nothing: the provider serves each call at most once.
constexpr const char* kExternalCrash = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: sms}
  sms: {kind: external, latency: 1s}
faults:
  boom: {kind: crash, targets: [sms], at: 5050ms, restart_after: 1s}
)";

TEST(FaultCrashExternal, CallsInProgressFailAtTheCrashAndCallsAfterTheRestartSucceed) {
  RequestLog log;
  Simulation sim(load_text(kExternalCrash));
  sim.add_observer(&log);
  const auto& sms = dynamic_cast<const External&>(find_component(sim, "sms"));
  sim.run_until(Time::ms(5050) - Time::ns(1));
  EXPECT_EQ(sms.in_flight(), 10);
  sim.run_until(Time::ms(5050));
  EXPECT_EQ(sms.in_flight(), 0);
  EXPECT_EQ(metrics_of(sim, "sms").in_system().level(), 0);
  EXPECT_EQ(metrics_of(sim, "sms").busy().level(), 0);
  EXPECT_EQ(ended_at(log, Time::ms(5050), Reason::unavailable), 10u);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  const Tally down = tally(log, Time::ms(5100), Time::ms(6000));
  EXPECT_EQ(down.refused_at_once, 10u);
  EXPECT_EQ(down.completed + down.timed_out + down.other, 0u);
  // After the restart: 6.1 s ... 8.9 s all complete, each 1 s after it was made.
  const Tally after = tally(log, Time::ms(6100), Time::ms(8900));
  EXPECT_EQ(after.completed, 29u);
  EXPECT_EQ(after.refused_at_once + after.timed_out + after.other, 0u);
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::completed) {
      EXPECT_EQ(f.finished - f.created, Time::s(1));
    }
  }
  // The provider's own books: 20 lost (10 in progress, 10 refused), everything else served.
  const StationMetrics& m = metrics_of(sim, "sms");
  EXPECT_EQ(m.dropped()[static_cast<int>(Reason::unavailable)] +
                m.failed()[static_cast<int>(Reason::unavailable)],
            20u);
  EXPECT_EQ(m.served(), log.count(Outcome::completed, Reason::none));
}

TEST(FaultCrashExternal, SameSeedSameBytes) {
  expect_reproducible(kExternalCrash);
}

// mode: hang - the provider's machine vanished. Nothing answers: the 10 calls in progress at the
// crash and the 10 made while it is down all time out at the caller's 2 s; none ends at the
// crash. Each hung call is released when its caller gives up, and after the restart calls
// succeed again.
TEST(FaultCrashExternal, InModeHangCallersTimeOut) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: sms, timeout: 2s}
  sms: {kind: external, latency: 1s}
faults:
  boom: {kind: crash, targets: [sms], at: 5050ms, restart_after: 1s, mode: hang}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  sim.run_until(Time::ms(5050));
  EXPECT_EQ(ended_at(log, Time::ms(5050), Reason::unavailable), 0u);
  EXPECT_EQ(metrics_of(sim, "sms").in_system().level(), 0);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  const Tally held = tally(log, Time::ms(4100), Time::ms(5000));
  EXPECT_EQ(held.timed_out, 10u);
  const Tally down = tally(log, Time::ms(5100), Time::ms(6000));
  EXPECT_EQ(down.timed_out, 10u);
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::timeout) {
      EXPECT_EQ(f.finished - f.created, Time::s(2));
    }
  }
  EXPECT_EQ(tally(log, Time::ms(6100), Time::ms(8900)).completed, 29u);
  EXPECT_EQ(log.count(Outcome::completed, Reason::none) + 20, log.entries.size());
  // The provider counts the 10 it held as lost; the calls of its down time never reached it.
  const StationMetrics& m = metrics_of(sim, "sms");
  EXPECT_EQ(m.dropped()[static_cast<int>(Reason::unavailable)] +
                m.failed()[static_cast<int>(Reason::unavailable)],
            10u);
  EXPECT_EQ(hung_calls(sim), 0u);
}

// ---- gateway -------------------------------------------------------------------------------

// No validation stage; every request goes to a backend taking 1 s. At the crash (5.05 s) the
// gateway waits for the backend on behalf of the 10 requests of 4.1 s ... 5.0 s: each fails
// with `unavailable` at the crash instant. Its calls to the backend are abandoned: the backend
// finishes them (it has not crashed), but the answers reach nobody and count nowhere.
constexpr const char* kGatewayCrash = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: gw}
  gw: {kind: gateway, routes: [{to: api}]}
  api: {kind: service, workers: 100, service_time: 1s}
faults:
  boom: {kind: crash, targets: [gw], at: 5050ms, restart_after: 1s}
)";

TEST(FaultCrashGateway, RequestsWaitingForTheBackendFailAtTheCrashAndItsCallsAreAbandoned) {
  RequestLog log;
  Simulation sim(load_text(kGatewayCrash));
  sim.add_observer(&log);
  const auto& gw = dynamic_cast<const Gateway&>(find_component(sim, "gw"));
  sim.run_until(Time::ms(5050) - Time::ns(1));
  EXPECT_EQ(gw.outbound().exchanges_in_progress(), 10u);
  sim.run_until(Time::ms(5050));
  EXPECT_EQ(ended_at(log, Time::ms(5050), Reason::unavailable), 10u);
  EXPECT_EQ(gw.outbound().exchanges_in_progress(), 0u);
  EXPECT_EQ(metrics_of(sim, "gw").in_system().level(), 0);
  EXPECT_EQ(metrics_of(sim, "api").in_system().level(), 10);  // it carries on
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(tally(log, Time::ms(5100), Time::ms(6000)).refused_at_once, 10u);
  const Tally after = tally(log, Time::ms(6100), Time::ms(8900));
  EXPECT_EQ(after.completed, 29u);
  EXPECT_EQ(after.refused_at_once + after.timed_out + after.other, 0u);
  // The gateway relayed exactly what completed; the backend also served the 10 orphans.
  EXPECT_EQ(metrics_of(sim, "gw").served(), log.count(Outcome::completed, Reason::none));
  EXPECT_EQ(metrics_of(sim, "api").served(), metrics_of(sim, "gw").served() + 10);
}

TEST(FaultCrashGateway, SameSeedSameBytes) {
  expect_reproducible(kGatewayCrash);
}

// Every stage at once: 20/s against one worker validating for 100 ms (10/s), so at the crash
// one request is being validated and many wait for the worker; a limiter kept in a kv_store
// (20 ms per check, its round trip) and a backend of 500 ms hold others. Every request the gateway
// holds fails at the crash instant; the store's and the backend's late answers reach nobody.
TEST(FaultCrashGateway, EveryStageFailsAtTheCrash) {
  const std::string yaml = R"(
duration: 20s
components:
  users: {kind: source, arrivals: {constant: 20/s}, target: gw}
  gw:
    kind: gateway
    auth_time: 100ms
    limiters: [{algorithm: fixed_window, limit: 1000, window: 1s, by: global, store: redis}]
    routes: [{to: api}]
  redis: {kind: kv_store, check_and_incr: 1ms, rtt: 20ms}
  api: {kind: service, workers: 100, service_time: 500ms}
faults:
  boom: {kind: crash, targets: [gw], at: 10025ms, restart_after: 2s}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  const auto& gw = dynamic_cast<const Gateway&>(find_component(sim, "gw"));
  sim.run_until(Time::ms(10'025) - Time::ns(1));
  const int64_t held = metrics_of(sim, "gw").in_system().level();
  EXPECT_EQ(metrics_of(sim, "gw").busy().level(), 1);
  EXPECT_GT(metrics_of(sim, "gw").queue().level(), 50);  // 10/s more than it validates
  EXPECT_GT(gw.outbound().exchanges_in_progress(), 0u);  // store checks and backend calls
  sim.run_until(Time::ms(10'025));
  EXPECT_EQ(ended_at(log, Time::ms(10'025), Reason::unavailable), static_cast<size_t>(held));
  EXPECT_EQ(metrics_of(sim, "gw").in_system().level(), 0);
  EXPECT_EQ(metrics_of(sim, "gw").busy().level(), 0);
  EXPECT_EQ(metrics_of(sim, "gw").queue().level(), 0);
  EXPECT_EQ(gw.outbound().exchanges_in_progress(), 0u);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  // From the restart (12.025 s) the gateway validates again: 10 a second.
  const Tally after = tally(log, Time::ms(12'050), Time::ms(15'000));
  EXPECT_GT(after.completed, 0u);
  EXPECT_EQ(after.refused_at_once + after.other, 0u);
  EXPECT_EQ(metrics_of(sim, "gw").served(), log.count(Outcome::completed, Reason::none));
}

// A local token bucket (1/s, burst 5) is process memory: the restarted gateway starts with a
// full bucket, as at the start of the run. The 5 requests of 6.1 s ... 6.5 s are admitted, then
// one a second again (7.1 s). The bucket the crash destroyed would have admitted two (6.1 s and
// 6.2 s).
TEST(FaultCrashGateway, ALocalRateLimiterRestartsFull) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: gw}
  gw:
    kind: gateway
    limiters: [{algorithm: token_bucket, rate: 1/s, burst: 5, by: global}]
    routes: [{to: api}]
  api: {kind: service, workers: 100, service_time: 10ms}
faults:
  boom: {kind: crash, targets: [gw], at: 5050ms, restart_after: 1s}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(tally(log, Time::ms(6100), Time::ms(7000)).completed, 5u);
  for (const Finished& f : log.entries) {
    if (f.created >= Time::ms(6100) && f.created <= Time::ms(6500)) {
      EXPECT_EQ(f.outcome, Outcome::completed) << f.created.seconds();
    }
  }
  EXPECT_EQ(tally(log, Time::ms(7100), Time::ms(7100)).completed, 1u);
  // Before the crash: 5 at once (0.1 s ... 0.5 s), then 1.1 s, 2.1 s, 3.1 s, 4.1 s, 5.1 s - the
  // last of which the crash refused.
  EXPECT_EQ(tally(log, Time::ms(100), Time::ms(5000)).completed, 9u);
}

// ---- load_balancer -------------------------------------------------------------------------

// The balancer takes 200 ms of its own, then waits 1 s for a backend. At the crash (5.05 s) it
// holds the 12 requests of 3.9 s ... 5.0 s - 2 in its own latency, 10 at a backend - and each
// fails with `unavailable` at the crash instant. Its attempts are abandoned; the backends finish
// them, but the answers reach nobody.
constexpr const char* kBalancerCrash = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: lb}
  lb: {kind: load_balancer, backends: [api-1, api-2], latency: 200ms}
  api-1: {kind: service, workers: 100, service_time: 1s}
  api-2: {kind: service, workers: 100, service_time: 1s}
faults:
  boom: {kind: crash, targets: [lb], at: 5050ms, restart_after: 1s}
)";

TEST(FaultCrashLoadBalancer, CallsItHoldsFailAtTheCrashAndItsAttemptsAreAbandoned) {
  RequestLog log;
  Simulation sim(load_text(kBalancerCrash));
  sim.add_observer(&log);
  const auto& lb = dynamic_cast<const LoadBalancer&>(find_component(sim, "lb"));
  sim.run_until(Time::ms(5050) - Time::ns(1));
  EXPECT_EQ(metrics_of(sim, "lb").in_system().level(), 12);
  EXPECT_EQ(lb.outstanding(0) + lb.outstanding(1), 10u);
  sim.run_until(Time::ms(5050));
  EXPECT_EQ(ended_at(log, Time::ms(5050), Reason::unavailable), 12u);
  EXPECT_EQ(lb.outstanding(0) + lb.outstanding(1), 0u);
  EXPECT_EQ(metrics_of(sim, "lb").in_system().level(), 0);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(tally(log, Time::ms(5100), Time::ms(6000)).refused_at_once, 10u);
  const Tally after = tally(log, Time::ms(6100), Time::ms(8700));
  EXPECT_EQ(after.completed, 27u);
  EXPECT_EQ(after.refused_at_once + after.timed_out + after.other, 0u);
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::completed) {
      EXPECT_EQ(f.finished - f.created, Time::ms(1200));
    }
  }
  const uint64_t backends = metrics_of(sim, "api-1").served() + metrics_of(sim, "api-2").served();
  EXPECT_EQ(metrics_of(sim, "lb").served(), log.count(Outcome::completed, Reason::none));
  EXPECT_EQ(backends, metrics_of(sim, "lb").served() + 10);  // the 10 orphans
}

TEST(FaultCrashLoadBalancer, SameSeedSameBytes) {
  expect_reproducible(kBalancerCrash);
}

// Health-check state is process memory. api-1 is down for the whole run; the checks (every 1 s,
// 2 failures to eject) take it out of rotation at 2 s. The balancer crashes at 5.05 s and comes
// back at 6.05 s knowing nothing: api-1 is in rotation again, round robin starts from it, and
// its share of 6.1 s ... 8.0 s (10 of 20) is refused by it until the new checks eject it again,
// at 7.05 s and 8.05 s. No probe runs while the balancer is down.
TEST(FaultCrashLoadBalancer, HealthCheckStateStartsFreshAfterTheRestart) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: lb}
  lb:
    kind: load_balancer
    backends: [api-1, api-2]
    health_check: {interval: 1s, unhealthy_threshold: 2, healthy_threshold: 2}
  api-1: {kind: service, workers: 100, service_time: 10ms}
  api-2: {kind: service, workers: 100, service_time: 10ms}
faults:
  api-1-down: {kind: crash, targets: [api-1]}
  boom: {kind: crash, targets: [lb], at: 5050ms, restart_after: 1s}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  const auto& lb = dynamic_cast<const LoadBalancer&>(find_component(sim, "lb"));
  sim.run_until(Time::ms(6050) - Time::ns(1));
  EXPECT_FALSE(lb.in_rotation(0));
  sim.run_until(Time::ms(6050));
  EXPECT_TRUE(lb.in_rotation(0));
  sim.run_until(Time::ms(8050));
  EXPECT_FALSE(lb.in_rotation(0));
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  const Tally after = tally(log, Time::ms(6100), Time::ms(8000));
  EXPECT_EQ(after.refused_at_once, 10u);
  EXPECT_EQ(after.completed, 10u);
  EXPECT_EQ(tally(log, Time::ms(8100), Time::ms(9900)).refused_at_once, 0u);
  // Ejected twice (at 2 s and 8.05 s), never restored.
  EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::health_ejections), 2u);
  EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::health_restorations), 0u);
}

// mode: hang on the balancer: the 12 calls it holds and those of its down time are never
// answered; the source's 3 s timeout ends them. Its attempts to the backends are abandoned all
// the same.
TEST(FaultCrashLoadBalancer, InModeHangCallersTimeOut) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: lb, timeout: 3s}
  lb: {kind: load_balancer, backends: [api-1, api-2], latency: 200ms}
  api-1: {kind: service, workers: 100, service_time: 1s}
  api-2: {kind: service, workers: 100, service_time: 1s}
faults:
  boom: {kind: crash, targets: [lb], at: 5050ms, restart_after: 1s, mode: hang}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  const auto& lb = dynamic_cast<const LoadBalancer&>(find_component(sim, "lb"));
  sim.run_until(Time::ms(5050));
  EXPECT_EQ(lb.outstanding(0) + lb.outstanding(1), 0u);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(tally(log, Time::ms(3900), Time::ms(6000)).timed_out, 22u);
  EXPECT_EQ(log.count(Outcome::completed, Reason::none) + 22, log.entries.size());
  EXPECT_EQ(hung_calls(sim), 0u);
}

// ---- cache ---------------------------------------------------------------------------------

// One key, read every 100 ms; gets take 250 ms on a hit and 250 ms before the fill on a miss,
// misses are coalesced, entries live 3 s and the fill (a 1 s backend) is back 1 s after it went
// out. So: 0.1 s misses, its fill goes out at 0.35 s and is back at 1.35 s (with the 12 gets of
// 0.2 s ... 1.3 s that joined it); 1.4 s ... 4.3 s hit; the entry expires at 4.35 s; 4.4 s misses,
// its fill goes out at 4.65 s, and 4.5 s ... 5.0 s join it. A crash at `at` finds the calls the
// cache holds at that moment in one of these states.
std::string cache_crash(const std::string& at, const std::string& mode) {
  return R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: cache, timeout: 2s}
  cache:
    kind: cache
    ttl: 3s
    coalesce: true
    hit_latency: 250ms
    miss_latency: 250ms
    backing: db
  db: {kind: service, workers: 100, service_time: 1s}
faults:
  boom: {kind: crash, targets: [cache], at: )" +
         at + ", restart_after: 1s, mode: " + mode + "}\n";
}

// At 5.05 s the cache holds 4.4 s's miss (its fill at the backend since 4.65 s) and the 6 gets of
// 4.5 s ... 5.0 s coalesced onto it: all 7 fail with `unavailable` at the crash instant. The fill
// is abandoned: the backend's answer at 5.65 s fills nothing, and the restarted cache (6.05 s) is
// cold - 6.1 s misses again. Counts: completed 0.1 ... 4.3 (43) and 6.1 ... 9.7 (37: the fill
// of 6.1 s is back at 7.35 s, hits from 7.4 s answer 250 ms later); refused 5.1 ... 6.0 (10); in
// flight 9.8 ... 10.0 (3). Hits: 1.4 ... 4.3 and 7.4 ... 10.0 (57); misses: 0.1 ... 1.3, 4.4 ...
// 5.0 and 6.1 ... 7.3 (33); the backend served 3 fills, one of them to nobody.
TEST(FaultCrashCache, AMissWaitingForItsFillAndTheMissesCoalescedOntoItFailAtTheCrash) {
  RequestLog log;
  Simulation sim(load_text(cache_crash("5050ms", "reset")));
  sim.add_observer(&log);
  const auto& cache = dynamic_cast<const Cache&>(find_component(sim, "cache"));
  sim.run_until(Time::ms(5050) - Time::ns(1));
  EXPECT_EQ(cache.pending(), 1u);
  EXPECT_EQ(metrics_of(sim, "cache").in_system().level(), 7);
  sim.run_until(Time::ms(5050));
  EXPECT_EQ(ended_at(log, Time::ms(5050), Reason::unavailable), 7u);
  EXPECT_EQ(cache.pending(), 0u);
  EXPECT_EQ(metrics_of(sim, "cache").in_system().level(), 0);
  sim.run_until(Time::ms(6050));
  EXPECT_EQ(cache.store().size(), 0u);  // the late answer (5.65 s) filled nothing
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(tally(log, Time::ms(100), Time::ms(4300)).completed, 43u);
  const Tally down = tally(log, Time::ms(5100), Time::ms(6000));
  EXPECT_EQ(down.refused_at_once, 10u);
  EXPECT_EQ(down.completed + down.timed_out + down.other, 0u);
  const Tally after = tally(log, Time::ms(6100), Time::ms(9700));
  EXPECT_EQ(after.completed, 37u);
  EXPECT_EQ(after.refused_at_once + after.timed_out + after.other, 0u);
  EXPECT_EQ(log.entries.size(), 97u);  // 3 in flight
  const StationMetrics& m = metrics_of(sim, "cache");
  EXPECT_EQ(m.counter(Counter::cache_hits), 57u);
  EXPECT_EQ(m.counter(Counter::cache_misses), 33u);
  EXPECT_EQ(m.dropped()[static_cast<int>(Reason::unavailable)], 17u);
  EXPECT_EQ(metrics_of(sim, "db").served(), 3u);
}

// At 4.52 s the cache holds 4.3 s's hit (answered at 4.55 s), 4.4 s's miss in its miss latency
// (its fill would go out at 4.65 s) and 4.5 s coalesced onto it: 3 fail at the crash, and no
// fill goes out. The backend sees 2 calls in the run: 0.1 s's fill and, after the restart
// (5.52 s), 5.6 s's (back at 6.85 s; the entry would expire at 9.85 s, and 9.9 s's fill would go
// out after the end).
TEST(FaultCrashCache, GetsInTheirHitOrMissLatencyFailAtTheCrashAndNoFillGoesOut) {
  RequestLog log;
  auto sim = run_checked(cache_crash("4520ms", "reset"), {&log});
  EXPECT_EQ(ended_at(log, Time::ms(4520), Reason::unavailable), 3u);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 2u);
  // Hits alone: 4.0 s ... 4.2 s are in their hit latency at 4.22 s.
  RequestLog hits;
  run_checked(cache_crash("4220ms", "reset"), {&hits});
  EXPECT_EQ(ended_at(hits, Time::ms(4220), Reason::unavailable), 3u);
}

TEST(FaultCrashCache, SameSeedSameBytes) {
  expect_reproducible(cache_crash("5050ms", "reset"));
}

// mode: hang - the 7 calls held at 5.05 s and the 10 of the down time are never answered and
// time out at the source's 2 s; the cache counts the 7 it held as lost. The abandoned fill's
// answer still fills nothing, and every hung call is released by its caller's timeout.
TEST(FaultCrashCache, InModeHangCallersTimeOut) {
  RequestLog log;
  auto sim = run_checked(cache_crash("5050ms", "hang"), {&log});
  EXPECT_EQ(ended_at(log, Time::ms(5050), Reason::unavailable), 0u);
  EXPECT_EQ(tally(log, Time::ms(4400), Time::ms(6000)).timed_out, 17u);
  EXPECT_EQ(tally(log, Time::ms(6100), Time::ms(9700)).completed, 37u);
  const StationMetrics& m = metrics_of(*sim, "cache");
  EXPECT_EQ(m.dropped()[static_cast<int>(Reason::unavailable)], 7u);
  EXPECT_EQ(hung_calls(*sim), 0u);
}

// ---- mode hang on the other kinds -----------------------------------------------------------

// A service's crash in mode hang: the 10 calls in service at 5.05 s (4.1 s ... 5.0 s) and the 10
// of its down time are never answered and time out at the source's 2 s. A second crash at 6.55 s,
// in mode reset, fails the 5 calls it holds then (6.1 s ... 6.5 s) - and not the calls the first
// crash left hanging (4.6 s ... 5.0 s still wait for their timeout): those are no longer its.
TEST(FaultCrashHang, AServiceLeavesItsCallsUnansweredAndASecondCrashDoesNotAnswerThem) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: api, timeout: 2s}
  api: {kind: service, workers: 100, service_time: 1s}
faults:
  vanish: {kind: crash, targets: [api], at: 5050ms, restart_after: 1s, mode: hang}
  again: {kind: crash, targets: [api], at: 6550ms, restart_after: 1s}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(ended_at(log, Time::ms(5050), Reason::unavailable), 0u);
  EXPECT_EQ(ended_at(log, Time::ms(6550), Reason::unavailable), 5u);
  const Tally first = tally(log, Time::ms(4100), Time::ms(6000));
  EXPECT_EQ(first.timed_out, 20u);
  EXPECT_EQ(first.completed + first.refused_at_once + first.other, 0u);
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::timeout) {
      EXPECT_EQ(f.finished - f.created, Time::s(2));
    }
  }
  EXPECT_EQ(tally(log, Time::ms(6600), Time::ms(7500)).refused_at_once, 10u);
  EXPECT_EQ(tally(log, Time::ms(7600), Time::ms(8900)).completed, 14u);
  // The service counts the 10 it held at the first crash and the 5 of the second as lost.
  const StationMetrics& m = metrics_of(*sim, "api");
  EXPECT_EQ(m.dropped()[static_cast<int>(Reason::unavailable)] +
                m.failed()[static_cast<int>(Reason::unavailable)],
            25u);
  EXPECT_EQ(hung_calls(*sim), 0u);
}

// The mode is a choice, and may be changed live; a misspelt one is refused.
TEST(FaultCrashHang, TheModeIsAChoice) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: api}
  api: {kind: service, workers: 100, service_time: 1s}
)";
  Simulation sim(load_text(yaml));
  sim.run_until(Time::s(1));
  EXPECT_NE(sim.faults().start("boom", "crash", {"api"}, {{"mode", "hnag"}}), "");
  EXPECT_EQ(sim.faults().start("boom", "crash", {"api"}, {{"mode", "hang"}}), "");
  EXPECT_TRUE(find_component(sim, "api").faults().crash_hangs);
  EXPECT_EQ(sim.faults().change("boom", "mode", "reset"), "");
  EXPECT_FALSE(find_component(sim, "api").faults().crash_hangs);
  EXPECT_TRUE(find_component(sim, "api").faults().crashed);
}

}  // namespace
}  // namespace dsim::test
