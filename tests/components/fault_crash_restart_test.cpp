// A crash restarts a process with nothing of its memory: the circuit breakers and retry budgets
// of the calls it makes (Outbound::reset) start as at the beginning of the run - the breaker
// closed with an empty window, the budget with nothing counted - in every kind that makes calls
// and can crash (service, gateway, load_balancer, cache).
//
// Arrivals are `constant: 10/s` (one request at 0.1 s, 0.2 s, ...); crashes fall between two
// arrivals (x.05 s) so that no tie decides a count.
#include <gtest/gtest.h>

#include <string>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

// Requests created in [from, to] that completed.
size_t completed(const RequestLog& log, Time from, Time to) {
  size_t n = 0;
  for (const Finished& f : log.entries) {
    n += f.created >= from && f.created <= to && f.outcome == Outcome::completed;
  }
  return n;
}

struct Caller {
  const char* kind;
  const char* x;  // component `x`, which calls `dep` under `policy`, spelt for its kind
};

// The breaker opens after 4 failures in a window of 4 and stays open for a minute.
constexpr const char* kBreaker =
    "circuit_breaker: {failure_rate: 0.5, window: 4, minimum_calls: 4, open_duration: 1m}";

const Caller kCallers[] = {
    {"service", "{kind: service, workers: 100, handler: [{call: dep, POLICY}]}"},
    {"gateway", "{kind: gateway, routes: [{to: dep, POLICY}]}"},
    {"load_balancer", "{kind: load_balancer, backends: [dep], POLICY}"},
    // ttl 1 ms: every get misses and reads through to dep, at once (no miss latency).
    {"cache", "{kind: cache, ttl: 1ms, miss_latency: 0s, backing: dep, POLICY}"},
};

std::string caller_scenario(const Caller& c, const std::string& policy, const std::string& faults) {
  std::string x = c.x;
  x.replace(x.find("POLICY"), 6, policy);
  return R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: x}
  x: )" + x +
         R"(
  dep: {kind: service, workers: 100, service_time: 10ms}
faults:
)" + faults;
}

class FaultCrashRestartsFresh : public ::testing::TestWithParam<Caller> {};

// dep is down from 1.05 s to 3.05 s: x's calls of 1.1 s ... 1.4 s fail and open its breaker
// (at 1.4 s), which then refuses every call until 61.4 s - long after dep is back. x crashes at
// 5.05 s and restarts at 6.05 s with a closed breaker: the 39 requests of 6.1 s ... 9.9 s complete
// (10 ms each; 10.0 s's is still in flight). A breaker that survived the crash would refuse
// them all.
TEST_P(FaultCrashRestartsFresh, ABreakerOpenBeforeTheCrashIsClosedAfterTheRestart) {
  const std::string faults =
      "  dep-down: {kind: crash, targets: [dep], at: 1050ms, restart_after: 2s}\n"
      "  boom: {kind: crash, targets: [x], at: 5050ms, restart_after: 1s}\n";
  RequestLog log;
  Simulation sim(load_text(caller_scenario(GetParam(), kBreaker, faults)));
  sim.add_observer(&log);
  const auto breaker = [&] { return metrics_of(sim, "x").gauge(Gauge::breaker_state).level(); };
  sim.run_until(Time::ms(5050) - Time::ns(1));
  EXPECT_EQ(breaker(), 1);  // open
  EXPECT_EQ(metrics_of(sim, "x").counter(Counter::breaker_opened), 1u);
  EXPECT_EQ(completed(log, Time::ms(1500), Time::ms(5000)), 0u);
  sim.run_until(Time::ms(6050));
  EXPECT_EQ(breaker(), 0);  // closed
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(completed(log, Time::ms(100), Time::ms(1000)), 10u);
  EXPECT_EQ(completed(log, Time::ms(6100), Time::ms(9900)), 39u);
  EXPECT_EQ(metrics_of(sim, "x").counter(Counter::breaker_opened), 1u);
}

// The retry budget (retries at most half the calls of the last 10 s): before the crash dep is
// healthy and x makes 50 calls and no retry, which would leave room for 25 retries. dep goes down
// at 5.5 s, while x is down, for good. After the restart every call fails and asks for a retry;
// the fresh budget counts only the calls since the restart: with n calls and r retries so far,
// a retry is allowed if r + 1 <= n / 2 - every second call's. Of the 40 calls of 6.1 s ... 10.0 s
// 20 are retried and 20 denied (a surviving budget would retry all 40).
TEST_P(FaultCrashRestartsFresh, ARetryBudgetStartsEmptyAfterTheRestart) {
  const std::string policy =
      "retry: {max_attempts: 2, base: 1ms, jitter: none, budget: {ratio: 0.5, window: 10s}}";
  const std::string faults =
      "  boom: {kind: crash, targets: [x], at: 5050ms, restart_after: 1s}\n"
      "  dep-down: {kind: crash, targets: [dep], at: 5500ms}\n";
  auto sim = run_checked(caller_scenario(GetParam(), policy, faults));
  const StationMetrics& m = metrics_of(*sim, "x");
  EXPECT_EQ(m.counter(Counter::retries), 20u);
  EXPECT_EQ(m.counter(Counter::retry_budget_denied), 20u);
}

INSTANTIATE_TEST_SUITE_P(Kinds, FaultCrashRestartsFresh, ::testing::ValuesIn(kCallers),
                         [](const ::testing::TestParamInfo<Caller>& info) {
                           return std::string(info.param.kind);
                         });

}  // namespace
}  // namespace dsim::test
