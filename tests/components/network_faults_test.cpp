// The partition and network fault kinds as the scenario's `faults:` and the live fault API give
// them: the sides they name, their modes and directions, loss and duplication at their rates,
// live changes, the same run from the timeline and from live calls, and load-time errors. (The
// mechanism under them is tested in tests/core/network_test.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "components/component_support.hpp"
#include "faults/fault_controller.hpp"

namespace dsim::test {
namespace {

uint64_t counter(const Simulation& sim, const std::string& name, Counter c) {
  return metrics_of(sim, name).counter(c);
}

// a calls x and b calls y, 100 calls a second each, 5 ms of work, a 200 ms timeout, no retries;
// the events fall on multiples of 5 ms, the faults begin and end between them.
std::string two_pairs(const std::string& faults) {
  return "name: pairs\nseed: 7\nduration: 30s\ncomponents:\n"
         "  a:\n    kind: source\n    arrivals: {constant: 100/s}\n    target: x\n"
         "    timeout: 200ms\n"
         "  x:\n    kind: service\n    workers: 100\n    service_time: 5ms\n"
         "  b:\n    kind: source\n    arrivals: {constant: 100/s}\n    target: y\n"
         "    timeout: 200ms\n"
         "  y:\n    kind: service\n    workers: 100\n    service_time: 5ms\n"
         "faults:\n" +
         faults;
}

const char* kCutTiming = "    at: 10002500us\n    duration: 10s\n";

TEST(PartitionFault, BlackholeFromTheTimelineCutsOnlyTheNamedSides) {
  RequestLog log;
  auto sim =
      run_checked(two_pairs("  cut:\n    kind: partition\n    targets: [x]\n    from: [a]\n" +
                            std::string(kCutTiming)),
                  {&log});
  // 1000 requests sent into the cut, and the answer to the one sent at 10 s.
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 1001u);
  EXPECT_EQ(counter(*sim, "a", Counter::network_lost), 1000u);
  EXPECT_EQ(counter(*sim, "x", Counter::network_lost), 1u);
  EXPECT_EQ(metrics_of(*sim, "y").arrivals(), source_of(*sim, "b").generated());
  EXPECT_EQ(counter(*sim, "b", Counter::timeouts), 0u);
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::timeout) {
      EXPECT_GE(f.created, Time::s(10));
      EXPECT_LE(f.created, Time::s(20));
    }
  }
  ASSERT_EQ(sim->fault_windows().size(), 1u);
  EXPECT_EQ(sim->fault_windows()[0].kind, "partition");
  EXPECT_EQ(sim->fault_windows()[0].end, Time::us(20'002'500));
  EXPECT_FALSE(sim->network().active());  // healed
}

TEST(PartitionFault, WithoutFromTheTargetsAreCutOffFromEveryOtherComponent) {
  RequestLog log;
  auto sim = run_checked(
      two_pairs("  cut:\n    kind: partition\n    targets: [x, y]\n" + std::string(kCutTiming)),
      {&log});
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 2u * 1001u);
}

TEST(PartitionFault, RejectModeFailsFastWithConnectionRefused) {
  RequestLog log;
  auto sim = run_checked(two_pairs("  cut:\n    kind: partition\n    targets: [x]\n"
                                   "    mode: reject\n" +
                                   std::string(kCutTiming)),
                         {&log});
  EXPECT_EQ(log.count(Outcome::dropped, Reason::connection_refused), 1001u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 0u);
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::connection_refused) {
      EXPECT_LE(f.finished - f.created, Time::ms(5));
    }
  }
  EXPECT_EQ(counter(*sim, "a", Counter::network_refused), 1000u);
  EXPECT_EQ(counter(*sim, "x", Counter::network_refused), 1u);  // the answer sent at 10.005 s
  EXPECT_NE(format_summary_text(summarize(*sim)).find("network_refused 1000"), std::string::npos);
}

TEST(PartitionFault, OneWayCutsOnlyTheMessagesFromTheFromSide) {
  // From a to x: a's requests never arrive.
  {
    RequestLog log;
    auto sim = run_checked(two_pairs("  cut:\n    kind: partition\n    targets: [x]\n"
                                     "    from: [a]\n    direction: one_way\n" +
                                     std::string(kCutTiming)),
                           {&log});
    EXPECT_EQ(counter(*sim, "a", Counter::network_lost), 1000u);
    EXPECT_EQ(counter(*sim, "x", Counter::network_lost), 0u);
    EXPECT_EQ(metrics_of(*sim, "x").arrivals(), source_of(*sim, "a").generated() - 1000u);
  }
  // From x to a: a's requests arrive and x does the work, but the answers are lost.
  {
    RequestLog log;
    auto sim = run_checked(two_pairs("  cut:\n    kind: partition\n    targets: [a]\n"
                                     "    from: [x]\n    direction: one_way\n" +
                                     std::string(kCutTiming)),
                           {&log});
    EXPECT_EQ(counter(*sim, "a", Counter::network_lost), 0u);
    EXPECT_EQ(counter(*sim, "x", Counter::network_lost), 1000u);
    EXPECT_EQ(metrics_of(*sim, "x").arrivals(), source_of(*sim, "a").generated());
    EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 1000u);
  }
}

// The summary without the engine's event count (the timeline's own events are counted there).
std::string without_event_count(const std::string& json) {
  const size_t at = json.find("\"events\"");
  return at == std::string::npos ? json : json.substr(0, at);
}

TEST(PartitionFault, TheLiveApiGivesTheSameRunAsTheTimeline) {
  const std::string timeline = without_event_count(summary_json(
      *run_checked(two_pairs("  cut:\n    kind: partition\n    targets: [x]\n    from: [a]\n"
                             "    mode: reject\n" +
                             std::string(kCutTiming)))));
  // The same fault started and cleared live, at the same instants.
  auto sim = std::make_unique<Simulation>(load_text(two_pairs("")));
  sim->run_until(Time::us(10'002'500));
  ASSERT_EQ(sim->faults().start("cut", "partition", {"x"}, {{"from", "[a]"}, {"mode", "reject"}}),
            "");
  sim->run_until(Time::us(15'000'000));
  EXPECT_TRUE(Balanced(*sim)) << "during the partition";
  sim->run_until(Time::us(20'002'500));
  ASSERT_EQ(sim->faults().clear("cut"), "");
  sim->run();
  EXPECT_TRUE(Balanced(*sim));
  EXPECT_EQ(without_event_count(summary_json(*sim)), timeline);
}

TEST(PartitionFault, ModeChangedLiveTakesEffectFromNow) {
  RequestLog log;
  auto sim = std::make_unique<Simulation>(load_text(two_pairs("")));
  sim->add_observer(&log);
  sim->run_until(Time::us(10'002'500));
  ASSERT_EQ(sim->faults().start("cut", "partition", {"x"}), "");
  sim->run_until(Time::us(15'002'500));
  ASSERT_EQ(sim->faults().change("cut", "mode", "reject"), "");
  sim->run_until(Time::us(20'002'500));
  ASSERT_EQ(sim->faults().clear("cut"), "");
  sim->run();
  EXPECT_TRUE(Balanced(*sim));
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 501u);              // 10 .. 15 s
  EXPECT_EQ(log.count(Outcome::dropped, Reason::connection_refused), 500u);  // 15.01 .. 20 s
}

// --- network ------------------------------------------------------------------------------------

// a calls x (Poisson, 1000/s, 16,000 calls, 100 ms timeout, no retries) under `fault`.
std::string route(const std::string& fault) {
  return "name: route\nseed: 11\nduration: 20s\ncomponents:\n"
         "  a:\n    kind: source\n    arrivals: {poisson: 1000/s}\n    target: x\n"
         "    timeout: 100ms\n    max_requests: 16000\n"
         "  x:\n    kind: service\n    workers: 1000\n    service_time: 2ms\n"
         "faults:\n  flaky:\n    kind: network\n    targets: [x]\n" +
         fault;
}

TEST(NetworkFault, LossGivesThatShareOfTimeouts) {
  RequestLog log;
  auto sim = run_checked(route("    loss: 5%\n    direction: requests\n"), {&log});
  const double n = 16000, p = 0.05;
  const size_t timeouts = log.count(Outcome::failed, Reason::timeout);
  EXPECT_NEAR(timeouts / n, p, kZ * std::sqrt(p * (1 - p) / n));
  EXPECT_EQ(counter(*sim, "a", Counter::network_lost), timeouts);
}

TEST(NetworkFault, LatencyOnTheAnswersAddsToTheCallersLatency) {
  RequestLog log;
  run_checked(route("    latency: 25ms\n    direction: responses\n"), {&log});
  ASSERT_EQ(log.entries.size(), 16000u);
  for (const Finished& f : log.entries) EXPECT_EQ(f.finished - f.created, Time::ms(27));
}

TEST(NetworkFault, DuplicationMakesTheTargetWorkTwice) {
  RequestLog log;
  auto sim = run_checked(route("    duplication: 0.1\n"), {&log});
  const double n = 16000, p = 0.1;
  const uint64_t twice = counter(*sim, "a", Counter::network_duplicated);
  EXPECT_NEAR(twice / n, p, kZ * std::sqrt(p * (1 - p) / n));
  EXPECT_EQ(metrics_of(*sim, "x").served(), 16000u + twice);
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 16000u);
}

TEST(NetworkFault, ARampScalesTheLoss) {
  // Loss 20% ramping in over the first 8 s in 4 steps (2.5%, 7.5%, 12.5%, 17.5%), then 20%.
  RequestLog log;
  run_checked(route("    loss: 20%\n    direction: requests\n    ramp_in: 8s\n"
                    "    ramp_steps: 4\n"),
              {&log});
  size_t n[5] = {}, lost[5] = {};
  for (const Finished& f : log.entries) {
    const auto part =
        static_cast<size_t>(std::min<int64_t>(f.created.count_ns() / 2'000'000'000, 4));
    ++n[part];
    lost[part] += f.reason == Reason::timeout;
  }
  const double p[5] = {0.025, 0.075, 0.125, 0.175, 0.2};
  for (int i = 0; i < 5; ++i) {
    const double m = static_cast<double>(n[i]);
    ASSERT_GT(m, 1000);
    EXPECT_NEAR(lost[i] / m, p[i], kZ * std::sqrt(p[i] * (1 - p[i]) / m)) << "step " << i;
  }
}

TEST(NetworkFault, SameSeedSameBytes) {
  expect_reproducible(
      route("    latency: {lognormal: {median: 5ms, p99: 50ms}}\n"
            "    loss: 1%\n    duplication: 1%\n    at: 2s\n    duration: 5s\n"));
}

// --- Load-time errors ---------------------------------------------------------------------------

TEST(NetworkFaults, BadSidesAndSettingsAreClearErrors) {
  const std::string base = two_pairs("");
  auto errors = [&](const std::string& fault) { return load_errors(base + fault); };
  EXPECT_EQ(errors("  cut:\n    kind: partition\n    targets: [x]\n    from: [aa]\n"),
            "test.yaml:27:12: error: faults.cut.from[0]: no component named 'aa' (did you mean "
            "'a'?)\n");
  EXPECT_EQ(errors("  cut:\n    kind: partition\n    targets: [x]\n    from: [a, x]\n"),
            "test.yaml:27:15: error: faults.cut.from: 'x' is also among the targets; a component "
            "is on one side only\n");
  EXPECT_EQ(errors("  cut:\n    kind: partition\n    targets: [x]\n    from: []\n"),
            "test.yaml:24:3: error: faults.cut: from: expected at least one component (leave it "
            "out for every other component)\n");
  EXPECT_EQ(errors("  cut:\n    kind: partition\n    targets: [x]\n    mode: blackhol\n"),
            "test.yaml:27:11: error: faults.cut.mode: unknown value 'blackhol' (did you mean "
            "'blackhole'?); expected blackhole or reject\n");
  EXPECT_EQ(errors("  cut:\n    kind: partition\n    targets: [x]\n    ramp_in: 1s\n"),
            "test.yaml:24:3: error: faults.cut: this kind is on or off: it cannot ramp (remove "
            "ramp_in and ramp_out)\n");
  EXPECT_EQ(errors("  slow:\n    kind: network\n    targets: [x]\n"),
            "test.yaml:24:3: error: faults.slow: give at least one of latency, loss or "
            "duplication\n");
  EXPECT_EQ(errors("  slow:\n    kind: network\n    targets: [x]\n    duplication: 1%\n"
                   "    direction: responses\n"),
            "test.yaml:24:3: error: faults.slow: duplication: only requests are duplicated, and "
            "direction: responses leaves them alone\n");
  EXPECT_EQ(errors("  slow:\n    kind: network\n    targets: [x]\n    loss: 120%\n"),
            "test.yaml:27:11: error: faults.slow.loss: expected a fraction between 0 and 1 (0% to "
            "100%), got '120%' (loss: Probability that an affected message is lost (0.02 or 2%): a "
            "lost request never reaches the target, a lost answer leaves the work done; either way "
            "the caller times out.)\n");
}

}  // namespace
}  // namespace dsim::test
