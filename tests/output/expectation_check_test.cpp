// The evaluator: each family of measures passes and fails on a small scenario whose figures are
// known (constant arrivals and service times), windows see only their own requests, and
// fault-relative windows and recovery_time follow a synthetic fault timeline.
#include "output/expectation_check.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

// 10 requests/s, each served in exactly 10ms by one worker: no waiting, latency 10ms, 10 %
// utilisation. `extra` adds components; `expect` is the expect: section's items.
std::string scenario(const std::string& expect, const std::string& api = "") {
  return R"(name: t
duration: 60s
window: 1s
components:
  checkout:
    kind: source
    arrivals: {constant: 10/s}
    target: api
  api:
    kind: service
    service_time: {constant: 10ms}
    next: done
)" + api +
         R"(  done:
    kind: sink
expect:
)" + expect;
}

struct Run {
  std::unique_ptr<Simulation> sim;
  std::unique_ptr<ExpectationCheck> check;
  std::vector<FaultWindow> faults;
};

std::unique_ptr<Run> start(const Scenario& s) {
  auto r = std::make_unique<Run>();
  r->sim = std::make_unique<Simulation>(s);
  r->check = std::make_unique<ExpectationCheck>(*r->sim, s.expectations);
  return r;
}

std::unique_ptr<Run> start(const std::string& yaml) {
  return start(test::load_text(yaml));
}

// The loader checks fault names against the scenario's `faults:` section, which it does not read
// yet; expectations about faults are parsed here with the fault's name known instead.
Expectation parsed(const std::string& text, const std::string& from = "",
                   const std::string& to = "") {
  ExpectationNames names;
  names.components = {"checkout", "api", "done"};
  names.workloads = {"checkout"};
  names.faults = {"outage"};
  names.has_faults_section = true;
  ParseProblem p;
  std::optional<Expectation> e = parse_expectation(text, names, p);
  EXPECT_TRUE(e) << text << ": " << p.message;
  if (!e) return {};
  if (!from.empty()) {
    ExpectWindow w;
    w.from = parse_time_point(from, names, p).value();
    if (!to.empty()) w.to = parse_time_point(to, names, p).value();
    w.text = "from " + from + (to.empty() ? "" : " to " + to);
    e->window = w;
  }
  return *e;
}

Scenario with_expectations(std::vector<Expectation> expectations) {
  Scenario s = test::load_text(scenario("  - lost == 0\n"));
  s.expectations = std::move(expectations);
  return s;
}

std::vector<ExpectationResult> run_all(const std::string& yaml) {
  auto r = start(yaml);
  r->sim->run();
  return r->check->results(*r->sim);
}

void expect_verdicts(const std::vector<ExpectationResult>& results,
                     const std::vector<std::pair<bool, std::string>>& expected) {
  ASSERT_EQ(results.size(), expected.size());
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].passed, expected[i].first) << results[i].text << ": " << results[i].detail;
    EXPECT_EQ(results[i].measured, expected[i].second) << results[i].text;
  }
}

TEST(ExpectationCheck, LatencyPercentilesOfAWorkloadAndOfAComponent) {
  const auto results = run_all(scenario(R"(  - p99(latency, workload: checkout) < 20ms
  - p50(latency) < 5ms
  - "max(latency, of: api) <= 10ms"
  - "mean(latency, of: api) > 10ms"
)"));
  expect_verdicts(results, {{true, "10ms"}, {false, "10ms"}, {true, "10ms"}, {false, "10ms"}});
  EXPECT_EQ(results[1].detail, "expected < 5ms");
  EXPECT_EQ(results[1].where.to_string(), "test.yaml:17:5");
}

TEST(ExpectationCheck, CountsAndRatesAgreeWithTheRunSummary) {
  auto r = start(scenario(R"(  - lost == 0
  - completed >= 600
  - count(completed, workload: checkout) > 600
  - rate(completed, of: api) >= 10/s
  - rate(arrivals, of: api) > 10/s
  - generated == 600
)"));
  r->sim->run();
  const RunSummary summary = summarize(*r->sim);
  ASSERT_EQ(summary.workloads.size(), 1u);
  // 600 arrivals in 60s (the first at 100ms, the last at 60s, still in service at the end).
  EXPECT_EQ(summary.workloads[0].generated, 600u);
  EXPECT_EQ(summary.workloads[0].completed, 599u);
  expect_verdicts(r->check->results(*r->sim), {{true, "0"},
                                               {false, "599"},
                                               {false, "599"},
                                               {false, "9.983/s"},
                                               {false, "10/s"},
                                               {true, "600"}});
}

TEST(ExpectationCheck, LossesByReasonErrorRatioAndTheKindCounters) {
  // A 25ms timeout on calls that take 30ms: every request fails with reason timeout, after one
  // retry (100 are generated; the last is still waiting for its retry at the end).
  const std::string yaml = R"(name: t
duration: 10s
components:
  checkout:
    kind: source
    arrivals: {constant: 10/s}
    target: api
    timeout: 25ms
    retry: {max_attempts: 2, backoff: constant, base: 1ms}
  api:
    kind: service
    workers: 8
    service_time: {constant: 30ms}
    next: done
  done:
    kind: sink
expect:
  - lost == 0
  - count(lost.timeout, workload: checkout) == 99
  - count(failed.timeout) > 0
  - count(dropped) == 0
  - error_ratio(workload: checkout) < 0.1%
  - "count(retries, of: checkout) == 100"
  - "count(timeouts, of: checkout) >= 200"
)";
  expect_verdicts(run_all(yaml), {{false, "99"},
                                  {true, "99"},
                                  {true, "99"},
                                  {true, "0"},
                                  {false, "100%"},
                                  {false, "99"},
                                  {false, "198"}});
}

TEST(ExpectationCheck, LevelsUtilizationAndQueueDepth) {
  // One request every 200ms into one 100ms worker: busy half the time, never a queue; the last
  // request (at 30s) is in service at the end.
  const std::string yaml = R"(name: t
duration: 30s
components:
  checkout:
    kind: source
    arrivals: {constant: 5/s}
    target: api
  api:
    kind: service
    service_time: {constant: 100ms}
    next: done
  done:
    kind: sink
expect:
  - "utilization(api) >= 49%"
  - "utilization(api) < 40%"
  - "max(queue.depth, of: api) <= 0"
  - "last(in_flight, of: api) == 1"
  - "mean(in_flight, of: api) < 1"
  - "max(dlq.depth, of: api) == 0"
)";
  const auto results = run_all(yaml);
  ASSERT_EQ(results.size(), 6u);
  EXPECT_TRUE(results[0].passed) << results[0].measured;
  EXPECT_FALSE(results[1].passed) << results[1].measured;
  EXPECT_EQ(results[1].measured, results[0].measured);
  EXPECT_TRUE(results[2].passed) << results[2].measured;  // 5/s of 100ms: never a queue
  EXPECT_TRUE(results[3].passed) << results[3].measured;
  EXPECT_TRUE(results[4].passed) << results[4].measured;
  EXPECT_TRUE(results[5].passed) << results[5].measured;
}

// The service slows from 10ms to 50ms between 20s and 40s (a live change).
std::unique_ptr<Run> run_with_slow_period(const Scenario& s, bool fault_ends);
std::unique_ptr<Run> run_with_slow_period(const std::string& expect, bool fault_ends = true) {
  return run_with_slow_period(test::load_text(scenario(expect)), fault_ends);
}
std::unique_ptr<Run> run_with_slow_period(const Scenario& s, bool fault_ends) {
  auto r = start(s);
  r->check->use_fault_windows(r->faults);
  r->sim->run_until(Time::s(20));
  r->faults.push_back(FaultWindow{"outage", "slow", {"api"}, Time::s(20)});
  EXPECT_EQ(r->sim->set_parameter("api", "service_time", "{constant: 50ms}"), "");
  r->sim->run_until(Time::s(40));
  if (fault_ends) r->faults.back().end = Time::s(40);
  EXPECT_EQ(r->sim->set_parameter("api", "service_time", "{constant: 10ms}"), "");
  r->sim->run();
  return r;
}

TEST(ExpectationCheck, AWindowSeesOnlyTheRequestsFinishedInIt) {
  // Not an average of window percentiles: [0s, 20s] saw 10ms only, [20s, 40s] 50ms only.
  auto r = run_with_slow_period(R"(  - {that: "p99(latency) <= 10ms", during: [0s, 20s]}
  - {that: "p50(latency) >= 49ms", during: [20s, 40s]}
  - {that: "p99(latency) <= 10ms", after: 40s}
  - p99(latency) <= 10ms
  - {that: "count(completed) == 200", during: [20s, 40s]}
  - {that: "rate(completed) == 10/s", during: [20s, 40s]}
  - {that: "max(latency, of: api) <= 10ms", during: [0s, 20s]}
  - {that: "p99(latency, of: api) >= 49ms", during: [20s, 40s]}
)");
  // 49.94ms: the histogram's bucket for 50ms (within 0.4 %); max is exact.
  expect_verdicts(r->check->results(*r->sim), {{true, "10ms"},
                                               {true, "49.94ms"},
                                               {true, "10ms"},
                                               {false, "49.94ms"},
                                               {true, "200"},
                                               {true, "10/s"},
                                               {true, "10ms"},
                                               {true, "49.94ms"}});
}

TEST(ExpectationCheck, WindowsRelativeToAFault) {
  auto r = run_with_slow_period(
      with_expectations({
          parsed("p99(latency) >= 49ms", "fault outage starts", "fault outage ends"),
          parsed("p99(latency) <= 10ms", "fault outage ends + 2s"),
          parsed("count(completed) == 180", "fault outage ends + 2s"),
          parsed("p99(latency) <= 10ms", "0s", "fault outage starts"),
          parsed("max(latency, of: api) >= 50ms", "fault outage starts", "fault outage ends"),
          parsed("max(latency, of: api) <= 10ms", "fault outage ends + 1s"),
      }),
      true);
  // 180: one request a 100ms finished in (42s, 60s]: the one of 42s (done at 42.01s) to the one
  // of 59.9s (the one of 60s is in service at the end).
  expect_verdicts(r->check->results(*r->sim), {{true, "49.94ms"},
                                               {true, "10ms"},
                                               {true, "180"},
                                               {true, "10ms"},
                                               {true, "50ms"},
                                               {true, "10ms"}});
}

TEST(ExpectationCheck, AFaultThatNeverEndedLeavesAfterItsEndUnmeasured) {
  auto r = run_with_slow_period(
      with_expectations({
          parsed("p99(latency) <= 10ms", "fault outage ends + 2s"),
          parsed("p99(latency) >= 49ms", "fault outage starts", "fault outage ends"),
          parsed("recovery_time(p99(latency), after: outage, within: 10%) < 5s"),
      }),
      false);
  const auto results = r->check->results(*r->sim);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].measured, "n/a");
  EXPECT_EQ(results[0].detail,
            "not measured: fault 'outage' never ended, so the window never began");
  EXPECT_TRUE(results[1].passed) << results[1].detail;  // active to the end of the run
  EXPECT_FALSE(results[2].passed);
  EXPECT_EQ(results[2].detail,
            "not measured: fault 'outage' never ended, so there is no recovery to measure");
}

TEST(ExpectationCheck, AFaultThatNeverStartedIsReported) {
  auto r = start(with_expectations({
      parsed("lost == 0", "fault outage ends"),
      parsed("recovery_time(p99(latency), after: outage, within: 10%) < 5s"),
  }));
  r->check->use_fault_windows(r->faults);
  r->sim->run();
  const auto results = r->check->results(*r->sim);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].detail, "not measured: fault 'outage' never started");
  EXPECT_EQ(results[1].detail, "not measured: fault 'outage' never started");
}

TEST(ExpectationCheck, RecoveryTimeOfLatencyIsTheFirstWindowBackInTheBand) {
  // The request that arrived at 40s still took 50ms (the change came after it), so the window
  // (40s, 41s] is not back yet; (41s, 42s] is: 2s after the fault's end.
  auto r = run_with_slow_period(
      with_expectations({
          parsed("recovery_time(p99(latency, workload: checkout), after: outage, within: 10%) < "
                 "3s"),
          parsed("recovery_time(p99(latency), after: outage, within: 1ms) < 2s"),
      }),
      true);
  expect_verdicts(r->check->results(*r->sim), {{true, "2s"}, {false, "2s"}});
}

TEST(ExpectationCheck, RecoveryTimeOfAQueueThatDrains) {
  // From 20s to 40s one 200ms worker gets 10/s: the queue grows by 5 a second to 100. Back at
  // 10ms it drains at 90 a second and is empty at about 41.1s: the window (41s, 42s] ends empty
  // (last: 2s) but its maximum is not 0; (42s, 43s] is empty throughout (max: 3s).
  auto r = start(with_expectations({
      parsed("recovery_time(max(queue.depth, of: api), after: outage, within: 0) <= 3s"),
      parsed("recovery_time(last(queue.depth, of: api), after: outage, within: 0) < 3s"),
      parsed("recovery_time(max(queue.depth, of: api), after: outage, within: 0) < 3s"),
  }));
  r->check->use_fault_windows(r->faults);
  r->sim->run_until(Time::s(20));
  r->faults.push_back(FaultWindow{"outage", "slow", {"api"}, Time::s(20)});
  ASSERT_EQ(r->sim->set_parameter("api", "service_time", "{constant: 200ms}"), "");
  r->sim->run_until(Time::s(40));
  r->faults.back().end = Time::s(40);
  ASSERT_EQ(r->sim->set_parameter("api", "service_time", "{constant: 10ms}"), "");
  r->sim->run();
  expect_verdicts(r->check->results(*r->sim), {{true, "3s"}, {true, "2s"}, {false, "3s"}});
}

TEST(ExpectationCheck, RecoveryThatNeverComesFails) {
  // The service stays slow after the fault "ends": latency never returns to 10ms.
  auto r = start(
      with_expectations({parsed("recovery_time(p99(latency), after: outage, within: 10%) < 30s")}));
  r->check->use_fault_windows(r->faults);
  r->sim->run_until(Time::s(20));
  r->faults.push_back(FaultWindow{"outage", "slow", {"api"}, Time::s(20), Time::s(30)});
  ASSERT_EQ(r->sim->set_parameter("api", "service_time", "{constant: 50ms}"), "");
  r->sim->run();
  const auto results = r->check->results(*r->sim);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].passed);
  EXPECT_EQ(results[0].measured, "not recovered");
  EXPECT_EQ(results[0].detail,
            "not measured: not back within 10% of its pre-fault value 10ms by the end of the run, "
            "30s after fault 'outage' ended");
}

TEST(ExpectationCheck, AWarmUpIsLeftOutLikeInTheSummary) {
  const auto results = run_all(scenario(R"(  - completed == 500
  - "count(completed, of: api) == 500"
)") + "warmup: 10s\n");
  expect_verdicts(results, {{true, "500"}, {true, "500"}});
}

}  // namespace
}  // namespace dsim
