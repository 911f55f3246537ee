// source: open-loop arrival processes, closed-loop users, keys, and the per-request settings
// (workload, priority, deadline, a cap on the count), plus live changes of the arrivals.
#include "components/source.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

// A source straight into a sink, so that every request finishes the instant it is created and
// the request log is the list of arrivals.
std::string into_sink(const std::string& duration, const std::string& source_settings,
                      uint64_t seed = 1, const std::string& extra_top = "") {
  return "name: src\nseed: " + std::to_string(seed) + "\nduration: " + duration + "\n" + extra_top +
         R"(components:
  src:
    kind: source
    target: done
)" + source_settings +
         R"(
  done:
    kind: sink
)";
}

std::vector<Time> arrival_times(const RequestLog& log) {
  std::vector<Time> t;
  for (const Finished& f : log.entries) t.push_back(f.created);
  return t;
}

// --- Open-loop arrival processes -----------------------------------------------------------

TEST(Source, ConstantArrivalsComeExactlyEveryOneOverRate) {
  // Arrivals at k / rate for k = 1, 2, ... up to and including the end: floor(T * rate) of them.
  struct Case {
    const char* rate;
    double per_second;
    const char* duration;
    double seconds;
  };
  for (const Case c : {Case{"10/s", 10, "10s", 10}, Case{"3/s", 3, "2500ms", 2.5},
                       Case{"7/s", 7, "1s", 1}, Case{"250/min", 250.0 / 60, "1h", 3600}}) {
    SCOPED_TRACE(std::string(c.rate) + " for " + c.duration);
    RequestLog log;
    auto sim = run_checked(
        into_sink(c.duration, std::string("    arrivals: {constant: ") + c.rate + "}"), {&log});
    // (+1e-9: 3600 x 250/60 is 14999.999... in floating point, and the count is 15,000.)
    const auto expected = static_cast<size_t>(std::floor(c.seconds * c.per_second + 1e-9));
    ASSERT_EQ(log.entries.size(), expected);
    EXPECT_EQ(source_of(*sim, "src").generated(), expected);
    for (size_t i = 0; i < log.entries.size(); ++i) {
      // k / rate rounded to the nanosecond, with no drift accumulated over the run.
      const double exact_ns = static_cast<double>(i + 1) * 1e9 / c.per_second;
      ASSERT_NEAR(static_cast<double>(log.entries[i].created.count_ns()), exact_ns, 0.5001)
          << "arrival " << i + 1;
      EXPECT_EQ(log.entries[i].id, i + 1);
    }
  }
}

// A Poisson count over T has mean and variance lambda T: |N - lambda T| <= kZ sqrt(lambda T).
// Counts in 100 windows of 1 s are also independent Poisson(100): their sample variance over
// their mean (the index of dispersion) is 1 with standard error about sqrt(2 / 99) = 0.14, which
// tells a Poisson process from a regular one (dispersion 0) or a bursty one (above 1).
TEST(Source, PoissonCountIsWithinPoissonErrorOfRateTimesDuration) {
  WindowLog windows;
  auto sim = run_checked(into_sink("100s", "    arrivals: {poisson: 100/s}", 41), {&windows});
  const double mean = 100.0 * 100;
  const auto n = static_cast<double>(source_of(*sim, "src").generated());
  EXPECT_NEAR(n, mean, kZ * std::sqrt(mean));

  const uint32_t src = find_component(*sim, "src").index();
  ASSERT_EQ(windows.windows.size(), 100u);
  double sum = 0, sum_sq = 0;
  for (const WindowReport& w : windows.windows) {
    const auto x = static_cast<double>(w.rows[src].arrivals);
    sum += x;
    sum_sq += x * x;
  }
  const double k = static_cast<double>(windows.windows.size());
  const double m = sum / k;
  const double variance = (sum_sq - k * m * m) / (k - 1);
  EXPECT_EQ(sum, n) << "window rows add up to the total";
  EXPECT_NEAR(variance / m, 1.0, kZ * std::sqrt(2 / (k - 1)));
}

TEST(Source, PoissonGapsAreNeverNegativeAndArrivalsAreInTimeOrder) {
  RequestLog log;
  run_checked(into_sink("20s", "    arrivals: {poisson: 500/s}", 42), {&log});
  const std::vector<Time> t = arrival_times(log);
  ASSERT_GT(t.size(), 5000u);
  for (size_t i = 1; i < t.size(); ++i) ASSERT_LE(t[i - 1], t[i]);
}

// Schedule steps: 100/s from 0s, 400/s from 10s, nothing from 20s, 40/s from 25s. Each 5 s window
// lies within one step, so its count is Poisson(rate x 5s), and the silent step has none at all.
TEST(Source, ScheduleGivesEachStepItsRate) {
  WindowLog windows;
  RequestLog log;
  auto sim = run_checked(into_sink("30s", R"(    arrivals:
      schedule:
        - {at: 0s, rate: 100/s}
        - {at: 10s, rate: 400/s}
        - {at: 20s, rate: 0/s}
        - {at: 25s, rate: 40/s})",
                                   43, "window: 5s\n"),
                         {&windows, &log});
  const uint32_t src = find_component(*sim, "src").index();
  const double expected[] = {500, 500, 2000, 2000, 0, 200};
  ASSERT_EQ(windows.windows.size(), 6u);
  for (size_t i = 0; i < 6; ++i) {
    const auto n = static_cast<double>(windows.windows[i].rows[src].arrivals);
    SCOPED_TRACE("window " + std::to_string(i));
    if (expected[i] == 0) {
      EXPECT_EQ(n, 0);
    } else {
      EXPECT_NEAR(n, expected[i], kZ * std::sqrt(expected[i]));
    }
  }
  for (const Time t : arrival_times(log)) {
    EXPECT_FALSE(t >= Time::s(20) && t < Time::s(25)) << "arrival at " << t.seconds() << "s";
  }
}

TEST(Source, ScheduleStartingLaterIsSilentUntilItsFirstStep) {
  RequestLog log;
  run_checked(into_sink("10s", R"(    arrivals:
      schedule:
        - {at: 4s, rate: 200/s})",
                        44),
              {&log});
  ASSERT_FALSE(log.entries.empty());
  EXPECT_GE(log.entries.front().created, Time::s(4));
}

// Constant phases, 100 ms on then 300 ms off, from time 0: every arrival falls in an on phase,
// i.e. at a time t with t mod 400 ms < 100 ms, and the total on time over 400 s is exactly 100 s,
// so the count is Poisson(1000/s x 100 s).
TEST(Source, OnOffSendsOnlyDuringOnPhases) {
  RequestLog log;
  auto sim = run_checked(
      into_sink("400s", "    arrivals: {on_off: {rate: 1000/s, on: 100ms, off: 300ms}}", 45),
      {&log});
  for (const Time t : arrival_times(log)) {
    ASSERT_LT(t.count_ns() % Time::ms(400).count_ns(), Time::ms(100).count_ns())
        << "arrival at " << t.seconds() << "s, in an off phase";
  }
  const double mean = 1000.0 * 100;
  EXPECT_NEAR(static_cast<double>(log.entries.size()), mean, kZ * std::sqrt(mean));
}

// Exponential phases (mean on 10 ms, mean off 30 ms): the long-run rate is
// rate x E[on] / (E[on] + E[off]) = 200/s x 1/4 = 50/s.
// Tolerance: given the total on time U, the count is Poisson(rate U), so
//   Var N = rate E[U] + rate^2 Var U.
// The on/off state is a two-state Markov chain (leaving on at a = 100/s, off at b = 33.3/s) whose
// indicator has autocovariance p_on p_off exp(-(a + b) t), so Var U ~ 2 T p_on p_off / (a + b).
// Over T = 1000 s: Var N = 50,000 + 40,000 x 2 x 1000 x 0.1875 / 133.3 = 162,500, SE = 403
// (0.8% of 50,000).
TEST(Source, OnOffLongRunRateIsRateTimesTheOnShare) {
  auto sim = run_checked(into_sink(
      "1000s",
      "    arrivals: {on_off: {rate: 200/s, on: {exponential: 10ms}, off: {exponential: 30ms}}}",
      46));
  const double rate = 200, a = 100, b = 100.0 / 3, T = 1000;
  const double p_on = b / (a + b), p_off = a / (a + b);
  const double mean = rate * p_on * T;
  const double variance = rate * p_on * T + rate * rate * 2 * T * p_on * p_off / (a + b);
  EXPECT_NEAR(static_cast<double>(source_of(*sim, "src").generated()), mean,
              kZ * std::sqrt(variance));
}

// Phases far shorter than the gaps between arrivals: each arrival spans ~100 phases, and the
// source must not lose its rate over them. Constant 1 ms on / 1 ms off at 10/s gives 5/s: over
// 100 s, Poisson(500) given the (deterministic) 50 s of on time.
TEST(Source, OnOffWithPhasesMuchShorterThanTheGapsKeepsItsRate) {
  auto sim =
      run_checked(into_sink("100s", "    arrivals: {on_off: {rate: 10/s, on: 1ms, off: 1ms}}", 48));
  EXPECT_NEAR(static_cast<double>(source_of(*sim, "src").generated()), 500, kZ * std::sqrt(500.0));
}

// A live rate change of an on_off source must keep the phase it is in: no burst in an off phase.
TEST(Source, LiveRateChangeOfAnOnOffSourceKeepsItsPhase) {
  RequestLog log;
  auto sim = std::make_unique<Simulation>(
      load_text(into_sink("100s", "    arrivals: {on_off: {rate: 50/s, on: 1s, off: 1000s}}", 49)));
  sim->add_observer(&log);
  sim->run_until(Time::s(10));  // on during [0, 1), off until 1001 s
  const size_t before = log.entries.size();
  ASSERT_EQ(sim->set_parameter("src", "arrivals", "{on_off: {rate: 500/s, on: 1s, off: 1000s}}"),
            "");
  sim->run();
  EXPECT_EQ(log.entries.size(), before) << "arrivals during the off phase after a live change";
}

// --- Closed loop ---------------------------------------------------------------------------

const std::string kClosedLoop = R"(
name: closed
seed: 47
duration: 2000s
components:
  users:
    kind: source
    arrivals: {closed_loop: {users: 5, think_time: {exponential: 1s}}}
    target: api
  api:
    kind: service
    service_time: {exponential: 200ms}
    next: done
  done:
    kind: sink
)";

TEST(Source, ClosedLoopNeverHasMoreThanItsUsersInFlight) {
  Simulation sim(load_text(kClosedLoop));
  uint64_t peak = 0;
  while (sim.step()) {
    const Ledger l = sim.ledger();
    ASSERT_LE(l.in_flight, 5u) << "at " << sim.now().seconds() << "s";
    ASSERT_TRUE(l.balanced());
    peak = std::max(peak, l.in_flight);
  }
  EXPECT_EQ(peak, 5u) << "all five users are waiting at once now and then";
  EXPECT_LE(metrics_of(sim, "api").in_system().max(), 5);
}

// The response-time law of a closed system, X = N / (R + Z) (Little's law over the whole loop),
// with R the measured mean response time and Z the mean think time. Exact analysis (MVA) lives in
// the analytic tests; this is a sanity check. The only slack is the sampled think times' mean
// against Z: ~8,000 exponential draws have a relative SE of 1.1%, times Z / (R + Z) < 1, so 5% is
// over 4 SE.
TEST(Source, ClosedLoopThroughputFollowsTheResponseTimeLaw) {
  auto sim = run_checked(kClosedLoop);
  const WorkloadStats& w = sim->workloads().at(0);
  const double throughput = static_cast<double>(w.completed) / 2000.0;
  const double r = w.latency.mean() * 1e-9;
  const double z = 1.0;
  EXPECT_NEAR(throughput, 5 / (r + z), 0.05 * 5 / (r + z));
  EXPECT_LT(throughput, 5 / z) << "a user cannot send faster than it thinks";
}

TEST(Source, ClosedLoopUserSendsAgainAfterItsRequestIsDropped) {
  // Ten users but room for one request: most are dropped at once, and each drop sends the user
  // back to thinking (the loop ends however the request ends), so sending never stops.
  RequestLog log;
  auto sim = run_checked(R"(
name: closed
seed: 48
duration: 100s
components:
  users:
    kind: source
    arrivals: {closed_loop: {users: 10, think_time: {exponential: 100ms}}}
    target: api
  api:
    kind: service
    queue_capacity: 0
    service_time: {exponential: 1s}
)",
                         {&log});
  EXPECT_GT(log.count(Outcome::dropped, Reason::queue_full), 1000u);
  EXPECT_GE(log.entries.back().created, Time::s(99)) << "users still send near the end";
  EXPECT_LE(sim->ledger().in_flight, 10u);
}

TEST(Source, ClosedLoopWithoutThinkTimeKeepsEveryUserWaiting) {
  // Zero think time: 3 users always have a request at the 1-worker, 1 s service, which therefore
  // completes exactly one per second, at 1s, 2s, ...
  RequestLog log;
  auto sim = run_checked(R"(
name: closed
seed: 49
duration: 10s
components:
  users:
    kind: source
    arrivals: {closed_loop: {users: 3, think_time: 0s}}
    target: api
  api:
    kind: service
    service_time: 1s
)",
                         {&log});
  ASSERT_EQ(log.entries.size(), 10u);
  for (size_t i = 0; i < 10; ++i) {
    EXPECT_EQ(log.entries[i].finished.count_ns(), Time::s(static_cast<int64_t>(i) + 1).count_ns());
  }
  EXPECT_EQ(sim->ledger().in_flight, 3u);
  EXPECT_EQ(source_of(*sim, "users").generated(), 13u);
}

// --- Keys ----------------------------------------------------------------------------------

TEST(Source, ZipfProbabilitiesAreProportionalToOneOverRankToTheS) {
  for (const double s : {0.0, 0.8, 1.0, 2.0}) {
    SCOPED_TRACE("s = " + std::to_string(s));
    KeySpec spec;
    spec.mode = KeySpec::Mode::zipf;
    spec.keys = 50;
    spec.exponent = s;
    const KeySampler sampler(spec);
    double h = 0;
    for (int k = 0; k < 50; ++k) h += std::pow(k + 1, -s);
    double total = 0;
    for (uint64_t k = 0; k < 50; ++k) {
      EXPECT_NEAR(sampler.probability(k), std::pow(static_cast<double>(k + 1), -s) / h, 1e-12);
      total += sampler.probability(k);
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
    EXPECT_EQ(sampler.probability(50), 0.0);
  }
}

// Pearson's chi-square of empirical key counts against the Zipf probabilities, df = K - 1.
TEST(Source, ZipfKeyFrequenciesMatchTheirProbabilities) {
  for (const double s : {0.7, 1.0, 1.5}) {
    SCOPED_TRACE("s = " + std::to_string(s));
    KeySpec spec;
    spec.mode = KeySpec::Mode::zipf;
    spec.keys = 20;
    spec.exponent = s;
    KeySampler sampler(spec);
    Rng rng(static_cast<uint64_t>(s * 1000));
    std::vector<uint64_t> counts(20);
    const int n = 200'000;
    for (int i = 0; i < n; ++i) {
      const uint64_t k = sampler.next(rng);
      ASSERT_LT(k, 20u);
      ++counts[k];
    }
    std::vector<double> p;
    for (uint64_t k = 0; k < 20; ++k) p.push_back(sampler.probability(k));
    EXPECT_LT(chi_square(counts, p), chi_square_critical(19));
    // The most popular key, on its own: binomial error.
    const double se = std::sqrt(n * p[0] * (1 - p[0]));
    EXPECT_NEAR(static_cast<double>(counts[0]), n * p[0], kZ * se);
  }
}

TEST(Source, GivesRequestsZipfKeys) {
  RequestLog log;
  run_checked(into_sink("20s", R"(    arrivals: {poisson: 1000/s}
    keys: {zipf: {keys: 10, s: 1.0}})",
                        50),
              {&log});
  std::vector<uint64_t> counts(10);
  for (const Finished& f : log.entries) {
    ASSERT_LT(f.key, 10u);
    ++counts[f.key];
  }
  std::vector<double> p;
  double h = 0;
  for (int k = 1; k <= 10; ++k) h += 1.0 / k;
  for (int k = 1; k <= 10; ++k) p.push_back(1.0 / k / h);
  EXPECT_LT(chi_square(counts, p), chi_square_critical(9));
}

TEST(Source, GivesRequestsUniformKeysInRange) {
  RequestLog log;
  run_checked(into_sink("20s", R"(    arrivals: {poisson: 1000/s}
    keys: {uniform: 7})",
                        51),
              {&log});
  std::vector<uint64_t> counts(7);
  for (const Finished& f : log.entries) {
    ASSERT_LT(f.key, 7u);
    ++counts[f.key];
  }
  EXPECT_LT(chi_square(counts, std::vector<double>(7, 1.0 / 7)), chi_square_critical(6));
}

TEST(Source, WithoutKeysEveryRequestHasKeyZero) {
  RequestLog log;
  run_checked(into_sink("1s", "    arrivals: {poisson: 1000/s}", 52), {&log});
  ASSERT_FALSE(log.entries.empty());
  for (const Finished& f : log.entries) ASSERT_EQ(f.key, 0u);
}

// --- Per-request settings ------------------------------------------------------------------

TEST(Source, MaxRequestsStopsGeneration) {
  RequestLog log;
  auto sim = run_checked(into_sink("10s", "    arrivals: {poisson: 1000/s}\n    max_requests: 37"),
                         {&log});
  EXPECT_EQ(log.entries.size(), 37u);
  EXPECT_EQ(source_of(*sim, "src").generated(), 37u);
  EXPECT_EQ(sim->pending_events(), 0u) << "no arrival left scheduled";

  RequestLog closed;
  sim = run_checked(R"(
name: closed
seed: 53
duration: 100s
components:
  users:
    kind: source
    arrivals: {closed_loop: {users: 4, think_time: 100ms}}
    max_requests: 25
    target: api
  api:
    kind: service
    service_time: 10ms
)",
                    {&closed});
  EXPECT_EQ(closed.entries.size(), 25u);
}

// The client stops waiting after `timeout`: every request to a 1 s service fails with reason
// timeout exactly 250 ms after it was created, while the service still finishes each one.
TEST(Source, TimeoutFailsRequestsTheClientStopsWaitingFor) {
  RequestLog log;
  auto sim = run_checked(R"(
duration: 5s
components:
  users: {kind: source, arrivals: {constant: 1/s}, max_requests: 3, timeout: 250ms, target: api}
  api: {kind: service, workers: 3, service_time: 1s}
)",
                         {&log});
  ASSERT_EQ(log.entries.size(), 3u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::failed);
    EXPECT_EQ(f.reason, Reason::timeout);
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(250).count_ns());
  }
  const RunSummary summary = summarize(*sim);
  EXPECT_EQ(component(summary, "api").served, 3u) << "the abandoned work is still done";
}

TEST(Source, PriorityIsGivenToEveryRequest) {
  RequestLog log;
  run_checked(into_sink("1s", "    arrivals: {poisson: 100/s}\n    priority: -7"), {&log});
  ASSERT_FALSE(log.entries.empty());
  for (const Finished& f : log.entries) EXPECT_EQ(f.priority, -7);
}

TEST(Source, WorkloadNamesGroupSources) {
  // Two sources share the workload "web"; the third, unnamed, is a workload of its own name.
  RequestLog log;
  auto sim = run_checked(R"(
name: workloads
seed: 54
duration: 10s
components:
  eu:
    kind: source
    arrivals: {constant: 10/s}
    workload: web
    target: done
  us:
    kind: source
    arrivals: {constant: 20/s}
    workload: web
    target: done
  batch:
    kind: source
    arrivals: {constant: 5/s}
    target: done
  done:
    kind: sink
)",
                         {&log});
  const std::vector<WorkloadStats>& w = sim->workloads();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].name, "web");
  EXPECT_EQ(w[0].generated, 300u);
  EXPECT_EQ(w[0].completed, 300u);
  EXPECT_EQ(w[1].name, "batch");
  EXPECT_EQ(w[1].generated, 50u);
  size_t web = 0;
  for (const Finished& f : log.entries) web += f.workload == 0;
  EXPECT_EQ(web, 300u);
  const RunSummary s = summarize(*sim);
  ASSERT_EQ(s.workloads.size(), 2u);
  EXPECT_EQ(s.workloads[0].name, "web");
}

// A path is checked where it is written; a source without one has the empty path.
TEST(Source, PathIsARequestPath) {
  auto sim = run_checked(into_sink("1s", "    arrivals: {constant: 1/s}\n    path: /orders/42"));
  EXPECT_EQ(source_of(*sim, "src").path(), "/orders/42");
  EXPECT_EQ(source_of(*run_checked(into_sink("1s", "    arrivals: {constant: 1/s}")), "src").path(),
            "");
  // Line 9 is the `path:` line; its value starts in column 11.
  EXPECT_EQ(load_errors(into_sink("1s", "    arrivals: {constant: 1/s}\n    path: orders")),
            "test.yaml:9:11: error: components.src.path: expected a path such as "
            "/orders/checkout, got 'orders' (a path starts with '/')\n");
  EXPECT_EQ(load_errors(into_sink("1s", "    arrivals: {constant: 1/s}\n    path: /a b")),
            "test.yaml:9:13: error: components.src.path: expected a path such as "
            "/orders/checkout, got '/a b' (a path has no spaces or control characters)\n");
  EXPECT_EQ(load_errors(into_sink("1s", "    arrivals: {constant: 1/s}\n    path: \"/a\\tb\"")),
            "test.yaml:9:14: error: components.src.path: expected a path such as "
            "/orders/checkout, got '/a\\tb' (a path has no spaces or control characters)\n");
  EXPECT_EQ(load_errors(into_sink("1s", "    arrivals: {constant: 1/s}\n    path: /a#top")),
            "test.yaml:9:13: error: components.src.path: expected a path such as "
            "/orders/checkout, got '/a#top' (a path has no query or fragment ('?' or '#'))\n");
  EXPECT_EQ(load_errors(into_sink("1s", "    arrivals: {constant: 1/s}\n    path: ''")),
            "test.yaml:9:11: error: components.src.path: expected a path such as "
            "/orders/checkout, got '' (a path starts with '/')\n");
}

// --- Live changes --------------------------------------------------------------------------

// 10/s for 50 s, then 100/s for 50 s: window counts are Poisson(500) before and Poisson(5000)
// after.
TEST(Source, LiveArrivalsChangeTakesEffect) {
  WindowLog windows;
  Simulation sim(
      load_text(into_sink("100s", "    arrivals: {poisson: 10/s}", 55, "window: 50s\n")));
  sim.add_observer(&windows);
  sim.run_until(Time::s(50));
  ASSERT_EQ(sim.set_parameter("src", "arrivals", "{poisson: 100/s}"), "");
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  const uint32_t src = find_component(sim, "src").index();
  ASSERT_EQ(windows.windows.size(), 2u);
  const auto before = static_cast<double>(windows.windows[0].rows[src].arrivals);
  const auto after = static_cast<double>(windows.windows[1].rows[src].arrivals);
  EXPECT_NEAR(before, 500, kZ * std::sqrt(500.0));
  EXPECT_NEAR(after, 5000, kZ * std::sqrt(5000.0));
}

TEST(Source, LiveArrivalsChangeDiscardsTheArrivalAlreadyScheduled) {
  // Constant 10/s: arrivals at 0.1s..0.5s, the next one already scheduled for 0.6s. At 0.55s the
  // rate becomes 1/s: the 0.6s arrival must not happen, the next ones are at 1.55s, 2.55s, ...
  RequestLog log;
  Simulation sim(load_text(into_sink("5s", "    arrivals: {constant: 10/s}")));
  sim.add_observer(&log);
  sim.run_until(Time::ms(550));
  ASSERT_EQ(sim.set_parameter("src", "arrivals", "{constant: 1/s}"), "");
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  std::vector<int64_t> ms;
  for (const Time t : arrival_times(log)) ms.push_back(t.count_ns() / 1'000'000);
  EXPECT_EQ(ms, (std::vector<int64_t>{100, 200, 300, 400, 500, 1550, 2550, 3550, 4550}));
}

TEST(Source, LiveArrivalsChangeCanStartASilentSource) {
  RequestLog log;
  Simulation sim(load_text(into_sink("10s", "    arrivals: {poisson: 0/s}")));
  sim.add_observer(&log);
  sim.run_until(Time::s(5));
  EXPECT_TRUE(log.entries.empty());
  ASSERT_EQ(sim.set_parameter("src", "arrivals", "{constant: 2/s}"), "");
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  ASSERT_EQ(log.entries.size(), 10u);
  EXPECT_EQ(log.entries.front().created.count_ns(), Time::ms(5500).count_ns());
}

TEST(Source, LiveArrivalsChangeRejectsBadValuesAndKeepsTheOldRate) {
  Simulation sim(load_text(into_sink("10s", "    arrivals: {constant: 10/s}")));
  sim.run_until(Time::s(1));
  EXPECT_NE(sim.set_parameter("src", "arrivals", "{poisson: fast}"), "");
  EXPECT_NE(sim.set_parameter("src", "arrivals", "{sometimes: 1/s}"), "");
  EXPECT_NE(sim.set_parameter("src", "target", "done"), "") << "target is not live";
  sim.run();
  EXPECT_EQ(source_of(sim, "src").generated(), 100u);
  EXPECT_TRUE(Balanced(sim));
}

// Closed loop with zero think time against a 1 s service with workers to spare: every user always
// has exactly one request in flight, so the ledger's in-flight count is the number of users.
const std::string kLiveUsers = R"(
name: live_users
seed: 58
duration: 40s
components:
  users:
    kind: source
    arrivals: {closed_loop: {users: 2, think_time: 0s}}
    target: api
  api:
    kind: service
    workers: 100
    service_time: 1s
)";

TEST(Source, LiveUsersChangeSetsHowManyUsersAreInFlight) {
  Simulation sim(load_text(kLiveUsers));
  sim.run_until(Time::ms(10'500));
  EXPECT_EQ(sim.ledger().in_flight, 2u);
  ASSERT_EQ(sim.set_parameter("users", "arrivals", "{closed_loop: {users: 6, think_time: 0s}}"),
            "");
  sim.run_until(Time::ms(10'600));
  EXPECT_EQ(sim.ledger().in_flight, 6u) << "four new users start at once";
  const uint64_t before = source_of(sim, "users").generated();
  sim.run_until(Time::ms(20'500));
  EXPECT_EQ(source_of(sim, "users").generated() - before, 60u) << "6 users x 10 rounds of 1 s";
  ASSERT_EQ(sim.set_parameter("users", "arrivals", "{closed_loop: {users: 3, think_time: 0s}}"),
            "");
  EXPECT_EQ(sim.ledger().in_flight, 6u) << "requests already sent are not withdrawn";
  sim.run_until(Time::ms(22'000));
  EXPECT_EQ(sim.ledger().in_flight, 3u) << "surplus users retire when their request ends";
  sim.run();
  EXPECT_EQ(sim.ledger().in_flight, 3u);
  EXPECT_TRUE(Balanced(sim));
}

TEST(Source, LiveSwitchBetweenOpenAndClosedLoop) {
  Simulation sim(load_text(R"(
name: switch
seed: 59
duration: 30s
components:
  src:
    kind: source
    arrivals: {constant: 10/s}
    target: api
  api:
    kind: service
    workers: 100
    service_time: 1s
)"));
  sim.run_until(Time::ms(5'050));
  EXPECT_EQ(sim.ledger().in_flight, 10u) << "10/s held 1 s each";
  // Open to closed: the pending open-loop arrival is dropped and every user starts.
  ASSERT_EQ(sim.set_parameter("src", "arrivals", "{closed_loop: {users: 4, think_time: 0s}}"), "");
  sim.run_until(Time::ms(7'000));
  EXPECT_EQ(sim.ledger().in_flight, 4u);
  const uint64_t closed_start = source_of(sim, "src").generated();
  sim.run_until(Time::ms(15'050));
  EXPECT_EQ(source_of(sim, "src").generated() - closed_start, 36u)
      << "4 users x 9 rounds, at 7.05s, 8.05s, ... 15.05s";
  // Closed to open: users retire as their requests end; arrivals come at 10/s again.
  ASSERT_EQ(sim.set_parameter("src", "arrivals", "{constant: 10/s}"), "");
  sim.run_until(Time::ms(20'050));
  EXPECT_EQ(sim.ledger().in_flight, 10u);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
}

TEST(Source, SameSeedGivesIdenticalSummariesAndAnotherSeedDoesNot) {
  const std::string a = into_sink(
      "20s", R"(    arrivals: {on_off: {rate: 300/s, on: {exponential: 1s}, off: {exponential: 1s}}}
    keys: {zipf: {keys: 100, s: 1.1}}
    timeout: 1s)",
      56);
  expect_reproducible(a);
  const std::string b = into_sink(
      "20s", R"(    arrivals: {on_off: {rate: 300/s, on: {exponential: 1s}, off: {exponential: 1s}}}
    keys: {zipf: {keys: 100, s: 1.1}}
    timeout: 1s)",
      57);
  EXPECT_NE(summary_json(*run_checked(a)), summary_json(*run_checked(b)));
}

}  // namespace
}  // namespace dsim::test
