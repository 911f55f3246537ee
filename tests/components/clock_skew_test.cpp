// clock_skew on a gateway's rate limiters and on a kv_store's expiry, each against what
// docs/faults.md promises: window boundaries shift with the gateway's offset, a token bucket
// refills at its clock's rate, a clock stepped back re-opens nothing, a store's keys expire by
// its own clock (its replica by a true one), and a shared limiter reads the gateway's clock for
// its windows and the store's for its keys' TTLs. Every run checks the ledger (run_checked).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "components/component_support.hpp"
#include "components/kv_store.hpp"
#include "faults/fault_controller.hpp"

namespace dsim {

[[maybe_unused]] static void PrintTo(const Time& t, std::ostream* os) {
  *os << t.count_ns() << "ns";
}

namespace test {
namespace {

KvStore& store_of(const Simulation& sim, const std::string& name) {
  return dynamic_cast<KvStore&>(*sim.components()[find_component(sim, name).index()]);
}

// The instants (in ns, for readable failures) at which the gateway let requests through (the
// sink answers at once).
std::vector<int64_t> admitted(const RequestLog& log) {
  std::vector<int64_t> t;
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::completed) t.push_back(f.finished.count_ns());
  }
  return t;
}

std::vector<int64_t> ms(std::initializer_list<int64_t> values) {
  std::vector<int64_t> t;
  for (const int64_t v : values) t.push_back(Time::ms(v).count_ns());
  return t;
}

// A gateway with one limiter (`limiter` is its YAML body), fed `rate` constant arrivals (the
// first at 1/rate) up to `requests`, with the given faults (and a kv_store `limits` if the limiter
// keeps its state there).
std::string gateway_scenario(const std::string& limiter, const std::string& rate, int64_t requests,
                             const std::string& faults) {
  return R"(
name: skewed-limits
seed: 21
duration: 30s
components:
  users: {kind: source, arrivals: {constant: )" +
         rate + "}, max_requests: " + std::to_string(requests) + R"(, target: edge}
  edge:
    kind: gateway
    limiters: [{)" +
         limiter + R"(}]
    routes: [{to: api}]
  api: {kind: sink}
)" +
         (limiter.find("store:") != std::string::npos
              ? "  limits: {kind: kv_store, check_and_incr: 0}\n"
              : "") +
         (faults.empty() ? "" : "faults:\n" + faults);
}

// --- Gateway: window boundaries and refill pace ------------------------------------------------

// A fixed window of 3 per second, requests every 100 ms from 0.1 s. With the gateway's clock
// 300 ms ahead from the start, its windows [k, k + 1) s begin when the true time is k - 0.3 s: the
// three admitted of each window are those at 0.7, 0.8, 0.9 s, then 1.7, 1.8, 1.9 s... (and the
// first window, already 0.3 s old at the start, admits 0.1 - 0.3 s). The same holds when the
// limiter's state is in a kv_store: the window ids are computed on the gateway's clock.
TEST(ClockSkewGateway, AnOffsetShiftsFixedWindowBoundaries) {
  const std::string ahead =
      "  skew: {kind: clock_skew, targets: [edge], offset: 300ms, direction: ahead}\n";
  for (const std::string store : {"", ", store: limits"}) {
    SCOPED_TRACE(store.empty() ? "local limiter" : "limiter in a kv_store");
    const std::string limiter = "algorithm: fixed_window, limit: 3, window: 1s, by: global" + store;
    RequestLog plain, skewed;
    run_checked(gateway_scenario(limiter, "10/s", 30, ""), {&plain});
    EXPECT_EQ(admitted(plain), ms({100, 200, 300, 1000, 1100, 1200, 2000, 2100, 2200, 3000}));
    run_checked(gateway_scenario(limiter, "10/s", 30, ahead), {&skewed});
    EXPECT_EQ(admitted(skewed),
              ms({100, 200, 300, 700, 800, 900, 1700, 1800, 1900, 2700, 2800, 2900}));
  }
}

// The store's clock does not move the windows of a shared limiter: with the kv_store 300 ms ahead
// instead of the gateway, the same requests pass as with no skew. (The store keeps each window's
// key for the rest of the window, a TTL counted on its own clock: an offset that was there when
// the TTL was set changes nothing.)
TEST(ClockSkewGateway, AStoresOffsetDoesNotMoveASharedLimitersWindows) {
  const std::string limiter =
      "algorithm: fixed_window, limit: 3, window: 1s, by: global, store: limits";
  RequestLog log;
  run_checked(gateway_scenario(limiter, "10/s", 30,
                               "  skew: {kind: clock_skew, targets: [limits], offset: 300ms}\n"),
              {&log});
  EXPECT_EQ(admitted(log), ms({100, 200, 300, 1000, 1100, 1200, 2000, 2100, 2200, 3000}));
}

// A token bucket of 10/s with no burst, saturated by 100 requests a second (every 10 ms from
// 10 ms to 10 s). On a true clock it admits one every 100 ms: 10, 110, ... 9910 ms, 100 in all.
// With the gateway's clock running twice as fast, a token comes every 50 ms of true time: 10, 60,
// ... 9960 ms, 200 in all - exactly twice the throughput.
TEST(ClockSkewGateway, ARateOfTwoDoublesATokenBucketsThroughput) {
  for (const std::string store : {"", ", store: limits"}) {
    SCOPED_TRACE(store.empty() ? "local limiter" : "limiter in a kv_store");
    const std::string limiter = "algorithm: token_bucket, rate: 10/s, burst: 1, by: global" + store;
    RequestLog plain, fast;
    run_checked(gateway_scenario(limiter, "100/s", 1000, ""), {&plain});
    run_checked(gateway_scenario(limiter, "100/s", 1000,
                                 "  fast: {kind: clock_skew, targets: [edge], rate: 2}\n"),
                {&fast});
    std::vector<int64_t> every_100ms, every_50ms;
    for (int64_t t = 10; t <= 10'000; t += 100) every_100ms.push_back(Time::ms(t).count_ns());
    for (int64_t t = 10; t <= 10'000; t += 50) every_50ms.push_back(Time::ms(t).count_ns());
    ASSERT_EQ(every_100ms.size(), 100u);
    ASSERT_EQ(every_50ms.size(), 200u);
    EXPECT_EQ(admitted(plain), every_100ms);
    EXPECT_EQ(admitted(fast), every_50ms);
  }
}

// --- Gateway: a clock stepped back ---------------------------------------------------------------

// The gateway's clock jumps 5 s ahead at 2 s and is stepped back when the skew ends at 5 s.
// Requests every 10 ms from 10 ms; a fault starts or ends after the requests of its instant.
const char* kStepBack =
    "  jump: {kind: clock_skew, targets: [edge], offset: 5s, at: 2s, duration: 3s}\n";

// Fixed window of 5 per second. Windows 0 and 1 admit their first five, window 2 only the
// request at exactly 2 s: from 2.01 s the clock reads 7.01 s, window 7 (2.01 - 2.05 s pass), then
// windows 8 (3 s true) and 9 (4 s), and the request at 5 s reads 10 s, window 10. When the clock
// is stepped back to 5 s, the limiter keeps counting in window 10 - it does not re-open windows
// 5 to 9 - so 5.01 - 5.04 s fill it and nothing passes again before the clock reads 11 s, after
// the run's last request at 10 s: 31 in all, where a true clock lets 51 through.
TEST(ClockSkewGateway, AFixedWindowReopensNothingWhenTheClockStepsBack) {
  RequestLog log;
  const std::string limiter = "algorithm: fixed_window, limit: 5, window: 1s, by: global";
  run_checked(gateway_scenario(limiter, "100/s", 1000, kStepBack), {&log});
  std::vector<int64_t> expected;
  for (const int64_t first : {10, 1000, 2010, 3000, 4000, 5000}) {
    for (int64_t i = 0; i < 5; ++i) expected.push_back(Time::ms(first + 10 * i).count_ns());
  }
  expected.insert(expected.begin() + 10, Time::s(2).count_ns());
  EXPECT_EQ(admitted(log), expected);
}

// Token bucket of 10/s, no burst. One request each 100 ms passes: 10 ... 1910 ms on the true
// clock, then (the clock jumping 5 s ahead adds at most the one token the bucket can hold)
// 2010 ... 4910 ms, the last leaving the bucket full again when the clock reads 10.01 s. Stepped
// back to 5 s, the bucket keeps that 10 ms debt - not the 5 s it would owe by its old instant -
// and admits at 5.02 s, then every 100 ms to 9.92 s: 100 in all, as with no skew.
TEST(ClockSkewGateway, ATokenBucketKeepsItsTokensWhenTheClockStepsBack) {
  RequestLog log;
  const std::string limiter = "algorithm: token_bucket, rate: 10/s, burst: 1, by: global";
  run_checked(gateway_scenario(limiter, "100/s", 1000, kStepBack), {&log});
  std::vector<int64_t> expected;
  for (int64_t t = 10; t <= 1910; t += 100) expected.push_back(Time::ms(t).count_ns());
  for (int64_t t = 2010; t <= 4910; t += 100) expected.push_back(Time::ms(t).count_ns());
  for (int64_t t = 5020; t <= 9920; t += 100) expected.push_back(Time::ms(t).count_ns());
  EXPECT_EQ(admitted(log), expected);
}

// Every algorithm, local or shared, through the same steps (5 s ahead from 2 to 5 s, 3 s behind
// from 6 to 8 s): no crash, the ledger balances (run_checked), and no more pass than the clock's
// forward movement allows. The readings never pass 10 s, so the windows' high-water marks span
// windows 0 to 10: at most 5 x 11. The readings move forward by 18 s in all (10 s of true time,
// plus the jumps of 5 s at 2 s and 3 s at 8 s), so the bucket admits at most 1 + 10 x 18.
TEST(ClockSkewGateway, EveryAlgorithmStaysWithinItsClocksAllowanceAcrossSteps) {
  const std::string steps =
      std::string(kStepBack) +
      "  behind: {kind: clock_skew, targets: [edge], offset: 3s, direction: behind, at: 6s, "
      "duration: 2s}\n";
  for (const std::string store : {"", ", store: limits"}) {
    for (const std::string algorithm :
         {"token_bucket, rate: 10/s, burst: 1", "fixed_window, limit: 5, window: 1s",
          "sliding_window_log, limit: 5, window: 1s",
          "sliding_window_counter, limit: 5, window: 1s"}) {
      SCOPED_TRACE(algorithm + store);
      RequestLog log;
      auto sim = run_checked(gateway_scenario("algorithm: " + algorithm + ", by: global" + store,
                                              "100/s", 1000, steps),
                             {&log});
      const size_t n = admitted(log).size();
      EXPECT_GT(n, 20u);
      const size_t bound = algorithm.rfind("token", 0) == 0 ? 1 + 10 * 18 : 5 * 11;
      EXPECT_LE(n, bound);
      EXPECT_EQ(n + log.count(Outcome::dropped, Reason::rate_limited), 1000u);
    }
  }
}

// --- kv_store: key expiry ----------------------------------------------------------------------

// One INCR at 0.1 s creates key 0 with a 10 s TTL: it expires when the store's clock reads 10.1 s.
std::string incr_scenario(const std::string& store_extra, const std::string& faults) {
  return R"(
name: skewed-expiry
seed: 22
duration: 20s
components:
  writes: {kind: source, arrivals: {constant: 10/s}, max_requests: 1, target: api}
  api: {kind: service, workers: 1, handler: [{call: store, op: incr}]}
  store: {kind: kv_store, incr: 0, ttl: 10s)" +
         store_extra + R"(}
)" + (faults.empty() ? "" : "faults:\n" + faults);
}

// Instant at which the key written at 0.1 s is gone from the store.
Time expiry_instant(const std::string& faults) {
  Simulation sim(load_text(incr_scenario("", faults)));
  Time gone = Time::max();
  for (int64_t t = 0; t <= 20'000; t += 50) {
    sim.run_until(Time::ms(t));
    if (store_of(sim, "store").entries() == 0 && t > 100) {
      gone = Time::ms(t);
      break;
    }
  }
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  return gone;
}

// No skew: gone at 10.1 s. The clock jumping 4 s ahead at 3 s reads 10.1 s at 6.1 s; a clock
// running 4 times as fast from 3 s reads 3 + 4 (t - 3) = 10.1 s at 4.775 s; 2 s behind from 3 s,
// it reads 10.1 s at 12.1 s.
TEST(ClockSkewKvStore, KeysExpireByTheStoresOwnClock) {
  EXPECT_EQ(expiry_instant(""), Time::ms(10'100));
  EXPECT_EQ(expiry_instant("  skew: {kind: clock_skew, targets: [store], offset: 4s, at: 3s}\n"),
            Time::ms(6'100));
  EXPECT_EQ(expiry_instant("  skew: {kind: clock_skew, targets: [store], rate: 4, at: 3s}\n"),
            Time::ms(4'800))
      << "polled every 50 ms: gone by 4.8 s";
  EXPECT_EQ(expiry_instant("  skew: {kind: clock_skew, targets: [store], offset: 2s, direction: "
                           "behind, at: 3s}\n"),
            Time::ms(12'100));
  // Exactly: the key is there 1 ns before 4.775 s and gone at 4.775 s.
  Simulation sim(load_text(
      incr_scenario("", "  skew: {kind: clock_skew, targets: [store], rate: 4, at: 3s}\n")));
  sim.run_until(Time::us(4'775'000) - Time::ns(1));
  EXPECT_EQ(store_of(sim, "store").entries(), 1u);
  sim.run_until(Time::us(4'775'000));
  EXPECT_EQ(store_of(sim, "store").entries(), 0u);
  EXPECT_EQ(metrics_of(sim, "store").gauge(Gauge::memory_used_bytes).level(), 0);
  sim.run();
}

// A key written while the clock is ahead gets its full TTL on that clock; when the skew ends and
// the clock is stepped back, the key lives that much longer: written at 0.1 s with the clock 4 s
// ahead (it reads 4.1 s, expiry at 14.1 s), stepped back at 1 s, gone at 14.1 s true time.
TEST(ClockSkewKvStore, AKeyWrittenWhileTheClockIsAheadLivesLongerOnceItIsSetRight) {
  EXPECT_EQ(
      expiry_instant("  skew: {kind: clock_skew, targets: [store], offset: 4s, duration: 1s}\n"),
      Time::ms(14'100));
}

// Live, through the same API as the timeline: a store whose clock is stepped further ahead drops
// at that very instant the keys its clock has now passed. Written at 0.1 s (expiry at 10.1 s on
// its clock); 4 s ahead from 3 s reads 8 s at 4 s - the key stays; changed to 8 s ahead at
// 4 s, the clock reads 12 s and the key is gone at 4 s; cleared at 5 s, the clock reads 5 s again.
TEST(ClockSkewKvStore, AClockSteppedAheadLiveDropsTheKeysItHasPassedAtOnce) {
  Simulation sim(load_text(incr_scenario("", "")));
  sim.run_until(Time::s(3));
  ASSERT_EQ(sim.faults().start("skew", "clock_skew", {"store"}, {{"offset", "4s"}}), "");
  sim.run_until(Time::s(4));
  EXPECT_EQ(store_of(sim, "store").entries(), 1u);
  ASSERT_EQ(sim.faults().change("skew", "offset", "8s"), "");
  EXPECT_EQ(store_of(sim, "store").entries(), 0u);
  EXPECT_EQ(metrics_of(sim, "store").gauge(Gauge::memory_used_bytes).level(), 0);
  sim.run_until(Time::s(5));
  ASSERT_EQ(sim.faults().clear("skew"), "");
  EXPECT_EQ(store_of(sim, "store").faults().local_time(sim.now()), Time::s(5));
  sim.run();
  EXPECT_TRUE(Balanced(sim));
}

// The replica runs on a true clock. With the primary 2 s behind from 3 s, the primary keeps the
// key until its clock reads 10.1 s (12.1 s true), but a GET on the replica (reads: 1) at 11 s or
// 12 s finds it expired by its own clock and reports it missing: 10 hits (1 .. 10 s), 2 misses.
// Without the skew the same GETs find the same, and the primary had already dropped it.
TEST(ClockSkewKvStore, TheReplicaJudgesExpiryByItsOwnClock) {
  const auto run = [](const std::string& faults, size_t entries_at_12s) {
    std::string yaml = incr_scenario(", replica: {lag: 1ms, reads: 1}", faults);
    yaml.insert(yaml.find("  store:"),
                "  reads: {kind: source, arrivals: {constant: 1/s}, max_requests: 12, target: "
                "store}\n");
    Simulation sim(load_text(yaml));
    sim.run_until(Time::ms(12'050));
    EXPECT_EQ(store_of(sim, "store").entries(), entries_at_12s);
    sim.run();
    EXPECT_TRUE(Balanced(sim));
    const StationMetrics& m = metrics_of(sim, "store");
    EXPECT_EQ(m.counter(Counter::cache_hits), 10u);
    EXPECT_EQ(m.counter(Counter::cache_misses), 2u);
  };
  run("", 0);
  run("  skew: {kind: clock_skew, targets: [store], offset: 2s, direction: behind, at: 3s}\n", 1);
}

// --- A shared limiter through a skewed kv_store ------------------------------------------------

// A fixed window of 5 per second kept in a kv_store, requests every 50 ms from 50 ms to 10 s. On
// true clocks each window admits its first five: 10 x 5 + 1 (the request at 10 s opens window
// 10) = 51. With the store's clock 4 times as fast, each check re-sets the key's TTL to what is
// left of the window, W - e, which the store's clock runs out in (W - e) / 4 of true time: once
// less than 200 ms of the window is left the key is gone before the next request, which starts a
// fresh count. So each window admits its first five and the requests at .85, .90 and .95 s: 8,
// and 81 in all - the store forgets the counts early and the limit leaks.
TEST(ClockSkewKvStore, AFastStoreForgetsASharedWindowsCountEarly) {
  const std::string limiter =
      "algorithm: fixed_window, limit: 5, window: 1s, by: global, store: limits";
  RequestLog plain, fast;
  run_checked(gateway_scenario(limiter, "20/s", 200, ""), {&plain});
  EXPECT_EQ(admitted(plain).size(), 51u);
  auto sim =
      run_checked(gateway_scenario(limiter, "20/s", 200,
                                   "  fast: {kind: clock_skew, targets: [limits], rate: 4}\n"),
                  {&fast});
  const std::vector<int64_t> a = admitted(fast);
  ASSERT_EQ(a.size(), 81u);
  for (int64_t w = 0; w < 10; ++w) {
    std::vector<int64_t> window;
    const int64_t from = Time::s(w).count_ns(), to = Time::s(w + 1).count_ns();
    for (const int64_t t : a) {
      if (t >= from && t < to) window.push_back(t - from);
    }
    const std::vector<int64_t> expected = w == 0 ? ms({50, 100, 150, 200, 250, 850, 900, 950})
                                                 : ms({0, 50, 100, 150, 200, 850, 900, 950});
    EXPECT_EQ(window, expected) << "window " << w;
  }
}

// --- Which kinds honour it ---------------------------------------------------------------------

TEST(ClockSkewTargets, KindsWithoutClockDrivenTimersAreLoadErrors) {
  const std::string base = R"(
name: targets
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 1/s}, target: edge}
  edge: {kind: gateway, routes: [{to: api}]}
  api: {kind: service, workers: 1, service_time: 1ms}
faults:
)";
  EXPECT_EQ(load_errors(base + "  skew: {kind: clock_skew, targets: [api], offset: 1s}\n"),
            "test.yaml:9:3: error: faults.skew: clock_skew cannot act on 'api' (only a cache "
            "(entry expiry), a queue (visibility timeout), a gateway (its rate limiters' windows "
            "and buckets) and a kv_store (key expiry) honour clock_skew)\n");
  EXPECT_EQ(load_errors(base + "  skew: {kind: clock_skew, targets: [edge], rate: 2}\n"),
            "test.yaml:9:3: error: faults.skew: clock_skew cannot act on 'edge' (the gateway has "
            "no rate limiters, its only clock-driven timers)\n");
}

// A queue's only timer is a duration: an offset alone would change nothing.
TEST(ClockSkewTargets, AnOffsetAloneOnAQueueIsALoadError) {
  const std::string base = R"(
name: targets
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 1/s}, target: jobs}
  jobs: {kind: queue, consumers: {target: api}}
  api: {kind: service, workers: 1, service_time: 1ms}
faults:
)";
  EXPECT_EQ(load_errors(base + "  skew: {kind: clock_skew, targets: [jobs], offset: 1h}\n"),
            "test.yaml:9:3: error: faults.skew: clock_skew cannot act on 'jobs' (a queue's only "
            "timer is a duration (the visibility timeout), which an offset does not change: give "
            "a rate)\n");
  EXPECT_EQ(
      load_errors(base + "  skew: {kind: clock_skew, targets: [jobs], offset: 1h, rate: 2}\n"), "");
}

}  // namespace
}  // namespace test
}  // namespace dsim
