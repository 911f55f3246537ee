// Calls and their policies: timeouts, retries (amplification, backoff and jitter, budgets),
// circuit breakers, bulkheads, fallbacks; and the handler steps that make calls (parallel
// fan-out, branches).
//
// A dependency that always fails is a service slower than its caller's timeout: every attempt
// times out, the work itself is still done (the dependency counts every attempt it receives).
#include "components/call_policy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "components/component_support.hpp"
#include "components/outbound.hpp"
#include "core/random.hpp"

namespace dsim::test {
namespace {

// --- Retry amplification ------------------------------------------------------------------------

// 10 requests; the client tries each 3 times against a dependency that always times out.
TEST(Retry, AttemptsPerRequestEqualTheConfiguredMaximum) {
  RequestLog log;
  auto sim = run_checked(R"(
duration: 100s
components:
  client:
    kind: source
    arrivals: {constant: 1/s}
    max_requests: 10
    target: dep
    timeout: 50ms
    retry: {max_attempts: 3, base: 10ms, jitter: none}
  dep: {kind: service, workers: 100, service_time: 1s}
)",
                         {&log});
  EXPECT_EQ(metrics_of(*sim, "dep").arrivals(), 30u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 10u);
  const StationMetrics& client = metrics_of(*sim, "client");
  EXPECT_EQ(client.counter(Counter::calls), 10u);
  EXPECT_EQ(client.counter(Counter::retries), 20u);
  EXPECT_EQ(client.counter(Counter::timeouts), 30u);
  // Each request: attempt at 0, timeout at 50ms, wait 10ms, attempt at 60ms, timeout at 110ms,
  // wait 20ms (exponential), attempt at 130ms, fails at 180ms.
  for (const Finished& f : log.entries) {
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(180).count_ns());
  }
}

// Stacked retrying layers multiply: the client tries 3 times, and each time the API tries the
// dependency 4 times, so the dependency sees 12 attempts per request.
TEST(Retry, StackedRetryingLayersMultiply) {
  auto sim = run_checked(R"(
duration: 100s
components:
  client:
    kind: source
    arrivals: {constant: 1/s}
    max_requests: 10
    target: api
    timeout: 5s
    retry: {max_attempts: 3, base: 10ms, jitter: none}
  api:
    kind: service
    workers: 100
    handler:
      - compute: 1ms
      - call: dep
        timeout: 20ms
        retry: {max_attempts: 4, base: 5ms, jitter: none}
  dep: {kind: service, workers: 1000, service_time: 1s}
)");
  EXPECT_EQ(metrics_of(*sim, "api").arrivals(), 30u);
  EXPECT_EQ(metrics_of(*sim, "dep").arrivals(), 120u);
  const RunSummary s = summarize(*sim);
  ASSERT_EQ(component(s, "api").failed.size(), 1u);
  EXPECT_EQ(component(s, "api").failed[0].first, "timeout");
}

TEST(Retry, OnlyTheListedReasonsAreRetried) {
  auto sim = run_checked(R"(
duration: 100s
components:
  client:
    kind: source
    arrivals: {constant: 1/s}
    max_requests: 10
    target: dep
    timeout: 50ms
    retry: {max_attempts: 5, on: "queue_full, error"}
  dep: {kind: service, workers: 100, service_time: 1s}
)");
  EXPECT_EQ(metrics_of(*sim, "dep").arrivals(), 10u) << "timeouts are not in the list";
}

// --- Backoff and jitter ----------------------------------------------------------------------

RetrySpec retry_spec(int backoff, int jitter, Time base, Time cap) {
  RetrySpec r;
  r.backoff = backoff;
  r.jitter = jitter;
  r.base = base;
  r.cap = cap;
  return r;
}

TEST(Backoff, ExponentialWithoutJitterDoublesUpToTheCap) {
  const RetrySpec r =
      retry_spec(RetrySpec::exponential, RetrySpec::none, Time::ms(10), Time::ms(100));
  Rng rng(1);
  const int64_t expected_ms[] = {10, 20, 40, 80, 100, 100};
  for (int n = 0; n < 6; ++n) {
    EXPECT_EQ(backoff_wait(r, n, r.base, rng).count_ns(), Time::ms(expected_ms[n]).count_ns());
  }
  // A huge retry index saturates at the cap instead of overflowing.
  EXPECT_EQ(backoff_wait(r, 10'000, r.base, rng).count_ns(), Time::ms(100).count_ns());
}

TEST(Backoff, ConstantAlwaysWaitsTheBase) {
  const RetrySpec r = retry_spec(RetrySpec::constant, RetrySpec::none, Time::ms(7), Time::s(1));
  Rng rng(1);
  for (int n = 0; n < 5; ++n) EXPECT_EQ(backoff_wait(r, n, r.base, rng), Time::ms(7));
}

// Full jitter: uniform on [0, t]; equal jitter: uniform on [t/2, t]. With 100,000 draws the mean
// of a uniform has standard error t / sqrt(12 * 1e5) ~ 0.0009 t; 0.005 t is over 5 standard
// errors.
TEST(Backoff, FullAndEqualJitterAreUniformOnTheirRanges) {
  const Time t = Time::ms(80);  // retry 3 of a 10 ms base
  for (int jitter : {RetrySpec::full, RetrySpec::equal}) {
    const RetrySpec r = retry_spec(RetrySpec::exponential, jitter, Time::ms(10), Time::s(1));
    Rng rng(7);
    const double lo = jitter == RetrySpec::full ? 0.0 : t.seconds() / 2;
    double sum = 0;
    const int n = 100'000;
    for (int i = 0; i < n; ++i) {
      const double w = backoff_wait(r, 3, r.base, rng).seconds();
      ASSERT_GE(w, lo);
      ASSERT_LE(w, t.seconds());
      sum += w;
    }
    EXPECT_NEAR(sum / n, (lo + t.seconds()) / 2, 0.005 * t.seconds()) << "jitter " << jitter;
  }
}

// Decorrelated jitter: min(cap, uniform(base, 3 x previous)).
TEST(Backoff, DecorrelatedJitterStaysBetweenBaseAndThreeTimesThePreviousWait) {
  const RetrySpec r =
      retry_spec(RetrySpec::exponential, RetrySpec::decorrelated, Time::ms(10), Time::ms(500));
  Rng rng(9);
  Time previous = r.base;
  bool reached_cap = false;
  for (int i = 0; i < 10'000; ++i) {
    const Time w = backoff_wait(r, i, previous, rng);
    ASSERT_GE(w, r.base);
    ASSERT_LE(w.count_ns(), std::min(3 * previous.count_ns(), r.cap.count_ns()) + 1);
    reached_cap |= w == r.cap;
    previous = w;
  }
  EXPECT_TRUE(reached_cap);
}

// The retry waits of a real run are the ones backoff_wait gives: attempts reach the dependency
// at 0, 0+50+10, 110+20 ms.
TEST(Backoff, RetriesHappenAfterTheirWait) {
  auto scenario = load_text(R"(
duration: 10s
components:
  client:
    kind: source
    arrivals: {constant: 1/s}
    max_requests: 1
    target: dep
    timeout: 50ms
    retry: {max_attempts: 3, base: 10ms, jitter: none}
  dep: {kind: service, workers: 10, service_time: 1s}
)");
  Simulation sim(scenario);
  const Component& dep = find_component(sim, "dep");
  const auto arrivals_at = [&](int64_t ms) {
    sim.run_until(Time::ms(ms));
    return dep.metrics().arrivals();
  };
  EXPECT_EQ(arrivals_at(999), 0u);
  EXPECT_EQ(arrivals_at(1000), 1u);
  EXPECT_EQ(arrivals_at(1059), 1u);
  EXPECT_EQ(arrivals_at(1060), 2u);
  EXPECT_EQ(arrivals_at(1129), 2u);
  EXPECT_EQ(arrivals_at(1130), 3u);
}

// --- Live changes --------------------------------------------------------------------------

// timeout and bulkhead are live parameters. Outbound keeps copies of them on its call sites, so
// a change must reach those copies: attempts made after it use the new values. The client sends
// 10 calls/s to a service with room for all of them.
std::string ten_per_second(const std::string& policy, const std::string& service_time) {
  return "duration: 10s\n"
         "components:\n"
         "  client:\n"
         "    kind: source\n"
         "    arrivals: {constant: 10/s}\n"
         "    target: dep\n" +
         policy + "  dep: {kind: service, workers: 100, service_time: " + service_time + "}\n";
}

TEST(LivePolicy, ANewTimeoutAppliesToTheNextAttempts) {
  Simulation sim(load_text(ten_per_second("    timeout: 50ms\n", "100ms")));
  const Component& client = find_component(sim, "client");
  sim.run_until(Time::s(5));  // arrivals at 0.1 s ... 5.0 s; the last times out at 5.05 s
  EXPECT_EQ(client.metrics().counter(Counter::timeouts), 49u);
  ASSERT_EQ(sim.set_parameter("client", "timeout", "1s"), "");
  sim.run_until(Time::s(8));
  EXPECT_EQ(client.metrics().counter(Counter::timeouts), 50u);
}

// Lowered, the timeout must apply at once, although the site's timer is then armed for an
// attempt made under the old, longer one (answered, but its timer event is still pending).
TEST(LivePolicy, ALoweredTimeoutAppliesToTheNextAttempts) {
  Simulation sim(load_text(ten_per_second("    timeout: 1s\n", "100ms")));
  const Component& client = find_component(sim, "client");
  sim.run_until(Time::s(5));
  EXPECT_EQ(client.metrics().counter(Counter::timeouts), 0u);
  ASSERT_EQ(sim.set_parameter("client", "timeout", "50ms"), "");
  sim.run_until(Time::ms(7050));  // arrivals at 5.1 s ... 7.0 s, each timed out 50 ms later
  EXPECT_EQ(client.metrics().counter(Counter::timeouts), 20u);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
}

TEST(LivePolicy, ANewBulkheadAppliesToTheNextAttempts) {
  Simulation sim(load_text(ten_per_second("", "250ms")));
  const Component& client = find_component(sim, "client");
  sim.run_until(Time::s(5));
  EXPECT_EQ(client.metrics().counter(Counter::bulkhead_rejected), 0u);
  // About 3 attempts are outstanding at a time (10/s x 250 ms): a bulkhead of 1 refuses two of
  // every three from now on.
  ASSERT_EQ(sim.set_parameter("client", "bulkhead", "1"), "");
  sim.run_until(Time::s(8));
  EXPECT_GE(client.metrics().counter(Counter::bulkhead_rejected), 15u);
}

// --- Retry budget --------------------------------------------------------------------------

// Every attempt fails; a budget of 10 % allows about one retry per ten calls (at most ratio x
// calls within any 10 s window), instead of two per call.
TEST(RetryBudget, RetriesStayWithinTheRatioOfCalls) {
  auto sim = run_checked(R"(
duration: 100s
components:
  client:
    kind: source
    arrivals: {constant: 100/s}
    target: dep
    timeout: 10ms
    retry: {max_attempts: 3, base: 1ms, jitter: none, budget: {ratio: 0.1, window: 10s}}
  dep: {kind: service, workers: 100000, service_time: 1s}
)");
  const StationMetrics& client = metrics_of(*sim, "client");
  const double calls = static_cast<double>(client.counter(Counter::calls));
  const double retries = static_cast<double>(client.counter(Counter::retries));
  EXPECT_LE(retries, 0.1 * calls + 1);
  EXPECT_GE(retries, 0.09 * calls) << "the budget is used, not starved";
  EXPECT_GT(client.counter(Counter::retry_budget_denied), 0u);
}

// --- Circuit breaker -----------------------------------------------------------------------

// 100 calls/s into a dependency that always times out (20 ms). Window 10 calls, all needed,
// 50 % failures: the breaker opens when the 10th call's failure is recorded (call 10 made at
// 100 ms, failing at 120 ms). While open (1 s) calls fail at once with circuit_open and never
// reach the dependency. Then 3 half-open probes go through; they fail, and it opens again.
const char* kBreaker = R"(
duration: {duration}
components:
  client:
    kind: source
    arrivals: {constant: 100/s}
    target: dep
    timeout: 20ms
    circuit_breaker: {failure_rate: 0.5, window: 10, minimum_calls: 10, open_duration: 1s,
                      half_open_calls: 3}
  dep: {kind: service, workers: 1000, service_time: 1s}
)";

std::string breaker(const std::string& duration) {
  std::string s = kBreaker;
  s.replace(s.find("{duration}"), 10, duration);
  return s;
}

TEST(CircuitBreaker, OpensAtTheThresholdAndFailsFastWithoutReachingTheDependency) {
  RequestLog log;
  auto sim = run_checked(breaker("1100ms"), {&log});
  const StationMetrics& client = metrics_of(*sim, "client");
  EXPECT_EQ(client.counter(Counter::breaker_opened), 1u);
  EXPECT_EQ(client.counter(Counter::breaker_half_opened), 0u);
  // Calls every 10 ms from 10 ms; the 10th failure is recorded at 100 + 20 = 120 ms. At 120 ms
  // the timeout (scheduled at 100 ms) comes before the arrival (scheduled at 110 ms), so the
  // call at 120 ms already finds the breaker open: the calls at 10..110 ms reached the
  // dependency, the other 99 of the 110 calls failed fast.
  EXPECT_EQ(metrics_of(*sim, "dep").arrivals(), 11u);
  EXPECT_EQ(client.counter(Counter::breaker_rejected), 110u - 11u);
  EXPECT_EQ(log.count(Outcome::dropped, Reason::circuit_open),
            client.counter(Counter::breaker_rejected));
}

TEST(CircuitBreaker, HalfOpenProbesThatFailOpenItAgain) {
  auto sim = run_checked(breaker("1200ms"));
  const StationMetrics& client = metrics_of(*sim, "client");
  // Opened at 120 ms; at 1120 ms the next call finds open_duration over: half-open, and the
  // calls at 1120, 1130, 1140 ms are the 3 probes. They fail at 1140..1160 ms: open again.
  EXPECT_EQ(client.counter(Counter::breaker_half_opened), 1u);
  EXPECT_EQ(client.counter(Counter::breaker_opened), 2u);
  EXPECT_EQ(metrics_of(*sim, "dep").arrivals(), 11u + 3u);
}

TEST(CircuitBreaker, ClosesWhenTheProbesSucceed) {
  auto scenario = load_text(breaker("3s"));
  Simulation sim(scenario);
  sim.run_until(Time::ms(500));
  // The dependency recovers while the breaker is open.
  ASSERT_EQ(sim.set_parameter("dep", "service_time", "1ms"), "");
  sim.run();
  const StationMetrics& client = find_component(sim, "client").metrics();
  EXPECT_EQ(client.counter(Counter::breaker_opened), 1u);
  EXPECT_EQ(client.counter(Counter::breaker_half_opened), 1u);
  EXPECT_EQ(client.counter(Counter::breaker_closed), 1u);
  EXPECT_TRUE(Balanced(sim));
}

// Slow calls open a breaker as failures do.
TEST(CircuitBreaker, SlowCallRateOpensIt) {
  auto sim = run_checked(R"(
duration: 2s
components:
  client:
    kind: source
    arrivals: {constant: 100/s}
    target: dep
    circuit_breaker: {failure_rate: 1, slow_call_rate: 0.8, slow_call_duration: 50ms, window: 10,
                      minimum_calls: 10, open_duration: 10s}
  dep: {kind: service, workers: 1000, service_time: 60ms}
)");
  EXPECT_EQ(metrics_of(*sim, "client").counter(Counter::breaker_opened), 1u);
}

// --- Circuit breaker thresholds, with a scripted dependency ----------------------------------
//
// The tests above drive all calls into failure (or slowness), so a threshold that is off by one
// call would pass them. Below, the dependency is a stand-in (Simulation::substitute) that answers
// its n-th call as a script says, and the client makes one call a second (at 1 s, 2 s, ...), each
// answered - unless the script delays it - inside the call. Each outcome is then recorded before
// the next call is made, so the call at which the breaker changes state is exact.

struct ScriptedParams : ParamsOf<ScriptedParams> {
  void describe(ParamVisitor&) override {}
};

// How the dependency answers one call: with `reason` (none: success) after `delay` (zero: at
// once, inside the call).
struct Answer {
  Reason reason = Reason::none;
  Time delay = Time::zero();
};

// One answer a letter: S succeeds, F fails (error), both at once.
std::vector<Answer> answers(const std::string& letters) {
  std::vector<Answer> v;
  for (char c : letters) v.push_back({c == 'F' ? Reason::error : Reason::none});
  return v;
}

// Answers its n-th call (from 0, in arrival order) as script[n] says, and calls beyond the script
// with an immediate success. Notes the second each call's request was made.
class ScriptedDependency final : public Component {
 public:
  explicit ScriptedDependency(std::vector<Answer> script)
      : Component("dep", "scripted", std::make_unique<ScriptedParams>()),
        script_(std::move(script)) {}

  void accept(Simulation& sim, CallHandle h) override {
    const uint32_t n = static_cast<uint32_t>(arrivals.size());
    arrivals.push_back(sim.request(sim.call(h).request).created.count_ns() / Time::s(1).count_ns());
    const Answer a = n < script_.size() ? script_[n] : Answer{};
    if (a.delay == Time::zero()) {
      sim.reply(h, Reply::failure(a.reason));
    } else {
      sim.schedule(sim.now() + a.delay, *this, n, h);
    }
  }
  void on_event(Simulation& sim, const Event& e) override {
    sim.reply(static_cast<CallHandle>(e.payload), Reply::failure(script_[e.kind].reason));
  }

  std::vector<int64_t> arrivals;  // the second each call's request was made

 private:
  std::vector<Answer> script_;
};

// A client making `requests` calls, one a second from 1 s, through a breaker with the fields
// `breaker` into a scripted dependency; run to the end on construction.
class ScriptedBreakerRun {
 public:
  ScriptedBreakerRun(const std::string& breaker, int64_t requests, std::vector<Answer> script)
      : sim_(load_text("seed: 7\nduration: 1000s\ncomponents:\n"
                       "  client:\n    kind: source\n    arrivals: {constant: 1/s}\n"
                       "    max_requests: " +
                       std::to_string(requests) + "\n    target: dep\n    circuit_breaker: {" +
                       breaker + "}\n  dep: {kind: sink}\n")) {
    auto dep = std::make_unique<ScriptedDependency>(std::move(script));
    dep_ = dep.get();
    sim_.substitute("dep", std::move(dep));
    sim_.add_observer(&log_);
    for (int64_t k = 1; k <= requests; ++k) {
      sim_.run_until(Time::s(k) + Time::ms(500));
      states += "COH"[client().gauge(Gauge::breaker_state).level()];
    }
    sim_.run();
    EXPECT_TRUE(sim_.complete());
    EXPECT_TRUE(Balanced(sim_));
    calls.assign(static_cast<size_t>(requests), '?');
    for (int64_t second : dep_->arrivals) calls[static_cast<size_t>(second - 1)] = '+';
    for (const Finished& f : log_.entries) {
      const int64_t second = f.created.count_ns() / Time::s(1).count_ns();
      if (f.outcome == Outcome::dropped && f.reason == Reason::circuit_open &&
          f.finished == f.created && calls[static_cast<size_t>(second - 1)] == '?') {
        calls[static_cast<size_t>(second - 1)] = 'x';
      }
    }
  }
  ScriptedBreakerRun(const ScriptedBreakerRun&) = delete;
  ScriptedBreakerRun& operator=(const ScriptedBreakerRun&) = delete;

  const StationMetrics& client() const { return metrics_of(sim_, "client"); }
  size_t dependency_arrivals() const { return dep_->arrivals.size(); }

  // Per request, in order: + it reached the dependency, x it was refused at once with
  // circuit_open (and never reached the dependency), ? anything else.
  std::string calls;
  // Per request second k, the breaker's state at k + 500 ms: C closed, O open, H half-open.
  std::string states;

 private:
  RequestLog log_;
  Simulation sim_;
  ScriptedDependency* dep_;
};

// Window 10, all needed, failure_rate 0.5: 4 failures of 10 leave it closed, 5 of 10 open it, at
// the 10th call.
TEST(CircuitBreaker, OpensWhenTheFailureShareReachesTheRateNotBelowIt) {
  const std::string breaker = "failure_rate: 0.5, window: 10, minimum_calls: 10, open_duration: 1h";
  const ScriptedBreakerRun four(breaker, 14, answers("SFSFSFSFSS"));
  EXPECT_EQ(four.calls, "++++++++++++++");
  EXPECT_EQ(four.states, "CCCCCCCCCCCCCC");
  EXPECT_EQ(four.client().counter(Counter::breaker_opened), 0u);

  const ScriptedBreakerRun five(breaker, 14, answers("SFSFSFSFSF"));
  EXPECT_EQ(five.calls, "++++++++++xxxx");
  EXPECT_EQ(five.states, "CCCCCCCCCOOOOO");
  EXPECT_EQ(five.client().counter(Counter::breaker_opened), 1u);
  EXPECT_EQ(five.client().counter(Counter::breaker_rejected), 4u);
  EXPECT_EQ(five.dependency_arrivals(), 10u);
}

// Window 10 but minimum_calls 5: three failures in the first three calls are not judged until the
// 5th outcome, and then over the 5 recorded (3/5 >= 0.5), not over the window's 10.
TEST(CircuitBreaker, JudgesNothingBeforeMinimumCallsThenTheShareOfThoseRecorded) {
  const ScriptedBreakerRun run("failure_rate: 0.5, window: 10, minimum_calls: 5, open_duration: 1h",
                               8, answers("FFFSS"));
  EXPECT_EQ(run.calls, "+++++xxx");
  EXPECT_EQ(run.states, "CCCCOOOO");
}

// A rate written in decimal is met by the share it names exactly: 7 failures of 25 reach 0.28,
// although 0.28 x 25 in floating point is a little above 7.
TEST(CircuitBreaker, ARateIsMetByExactlyThatShare) {
  const ScriptedBreakerRun failures(
      "failure_rate: 0.28, window: 25, minimum_calls: 25, open_duration: 1h", 26,
      answers("FFFFFFFSSSSSSSSSSSSSSSSSS"));
  EXPECT_EQ(failures.calls, std::string(25, '+') + "x");
  EXPECT_EQ(failures.client().counter(Counter::breaker_opened), 1u);

  std::vector<Answer> slow(25);
  for (int i = 0; i < 7; ++i) slow[i].delay = Time::ms(200);
  const ScriptedBreakerRun slow_calls(
      "failure_rate: 1, slow_call_rate: 0.28, slow_call_duration: 100ms, window: 25, "
      "minimum_calls: 25, open_duration: 1h",
      26, slow);
  EXPECT_EQ(slow_calls.calls, std::string(25, '+') + "x");
  EXPECT_EQ(slow_calls.client().counter(Counter::breaker_opened), 1u);
}

// Window 5, failure_rate 0.6 (3 of 5). The two early failures leave the window while successes
// follow, so the 8th and 10th failures (4 in all by then) keep it closed; it opens at the 12th
// call, the first whose last 5 outcomes hold 3 failures (F S F S F).
TEST(CircuitBreaker, OldOutcomesLeaveTheWindow) {
  const ScriptedBreakerRun run("failure_rate: 0.6, window: 5, minimum_calls: 5, open_duration: 1h",
                               14, answers("FFSSSSSFSFSF"));
  EXPECT_EQ(run.calls, "++++++++++++xx");
  EXPECT_EQ(run.states, "CCCCCCCCCCCOOO");
  EXPECT_EQ(run.client().counter(Counter::breaker_opened), 1u);
}

// slow_call_duration 100 ms: a call taking exactly 100 ms is not slow, one taking 1 ns more is.
// Four calls of exactly 100 ms leave it closed (all would be slow otherwise); then two slow ones
// make 2 of the last 4 slow, which reaches slow_call_rate 0.5 at the 6th call (the 5th has 1 of 4).
TEST(CircuitBreaker, SlowMeansLongerThanSlowCallDurationAndOpensAtTheSlowCallRate) {
  std::vector<Answer> script(6);
  for (int i = 0; i < 4; ++i) script[i].delay = Time::ms(100);
  for (int i = 4; i < 6; ++i) script[i].delay = Time::ms(100) + Time::ns(1);
  const ScriptedBreakerRun run(
      "failure_rate: 1, slow_call_rate: 0.5, slow_call_duration: 100ms, window: 4, "
      "minimum_calls: 4, open_duration: 1h",
      8, script);
  EXPECT_EQ(run.calls, "++++++xx");
  EXPECT_EQ(run.states, "CCCCCOOO");
  EXPECT_EQ(run.client().counter(Counter::breaker_opened), 1u);
}

// The whole cycle, window 4, failure_rate 0.5, open_duration 3 s, 2 probes:
//   1-4   F F S S: opens at the 4th call (4 s);
//   5, 6  refused at once, never reaching the dependency;
//   7     exactly 4 s + 3 s: half-open, probe 1 (answers S at 8.25 s);
//   8     probe 2 (answers F at 9.25 s);
//   9     refused: both probes are out;
//   9.25  1 failed probe of 2 reaches 0.5: open again until 12.25 s;
//   10-12 refused;
//   13-14 half-open, probes S S: closed at 14 s;
//   15    closed, reaches the dependency.
TEST(CircuitBreaker, OpenRefusesUntilOpenDurationThenProbesDecide) {
  std::vector<Answer> script = answers("FFSSSFSSS");
  script[4].delay = script[5].delay = Time::ms(1250);
  const ScriptedBreakerRun run(
      "failure_rate: 0.5, window: 4, minimum_calls: 4, open_duration: 3s, half_open_calls: 2", 15,
      script);
  EXPECT_EQ(run.calls, "++++xx++xxxx+++");
  EXPECT_EQ(run.states, "CCCOOOHHOOOOHCC");
  EXPECT_EQ(run.dependency_arrivals(), 9u);
  const StationMetrics& client = run.client();
  EXPECT_EQ(client.counter(Counter::breaker_rejected), 6u);
  EXPECT_EQ(client.counter(Counter::breaker_opened), 2u);
  EXPECT_EQ(client.counter(Counter::breaker_half_opened), 2u);
  EXPECT_EQ(client.counter(Counter::breaker_closed), 1u);
  EXPECT_EQ(client.gauge(Gauge::breaker_state).level(),
            static_cast<int64_t>(CircuitBreaker::State::closed));
  EXPECT_EQ(client.gauge(Gauge::breaker_state).max(),
            static_cast<int64_t>(CircuitBreaker::State::half_open));
}

// Not a nanosecond early: with open_duration 3 s + 1 ns the call at 7 s (opened at 4 s) is
// still refused, and the one at 8 s is the first probe.
TEST(CircuitBreaker, StaysOpenUntilTheLastNanosecondOfOpenDuration) {
  const ScriptedBreakerRun run(
      "failure_rate: 0.5, window: 4, minimum_calls: 4, open_duration: 3000000001ns, "
      "half_open_calls: 1",
      9, answers("FFSS"));
  EXPECT_EQ(run.calls, "++++xxx++");
  EXPECT_EQ(run.states, "CCCOOOOCC");
  EXPECT_EQ(run.client().counter(Counter::breaker_half_opened), 1u);
  EXPECT_EQ(run.client().counter(Counter::breaker_closed), 1u);
}

// An answer to a call made before the breaker opened is no probe: window 2, 1 probe. Call 1
// (1 s) fails only at 6.25 s; calls 2 and 3 fail at once and open it at 3 s. The call at 6 s is
// the probe (succeeding at 6.75 s); call 1's late failure, at 6.25 s, is ignored, so the probe
// closes it.
TEST(CircuitBreaker, AnswersToCallsMadeBeforeAStateChangeAreIgnored) {
  std::vector<Answer> script = answers("FFFS");
  script[0].delay = Time::ms(5250);
  script[3].delay = Time::ms(750);
  const ScriptedBreakerRun run(
      "failure_rate: 0.5, window: 2, minimum_calls: 2, open_duration: 3s, half_open_calls: 1", 8,
      script);
  EXPECT_EQ(run.calls, "+++xx+++");
  EXPECT_EQ(run.states, "CCOOOHCC");
  EXPECT_EQ(run.client().counter(Counter::breaker_opened), 1u);
  EXPECT_EQ(run.client().counter(Counter::breaker_closed), 1u);
}

// --- Bulkhead and fallback -------------------------------------------------------------------

// At most 2 calls outstanding: of 10 requests 1 ms apart into a 1 s dependency, 2 get through and
// 8 are refused at once.
TEST(Bulkhead, RefusesCallsBeyondItsLimitAtOnce) {
  RequestLog log;
  auto sim = run_checked(R"(
duration: 10s
components:
  client:
    kind: source
    arrivals: {constant: 1000/s}
    max_requests: 10
    target: dep
    bulkhead: 2
  dep: {kind: service, workers: 100, service_time: 1s}
)",
                         {&log});
  EXPECT_EQ(metrics_of(*sim, "dep").arrivals(), 2u);
  EXPECT_EQ(log.count(Outcome::dropped, Reason::bulkhead_full), 8u);
  EXPECT_EQ(metrics_of(*sim, "client").counter(Counter::bulkhead_rejected), 8u);
}

TEST(Fallback, ServesADegradedAnswerWhenTheCallFails) {
  RequestLog log;
  auto sim = run_checked(R"(
duration: 100s
components:
  client:
    kind: source
    arrivals: {constant: 1/s}
    max_requests: 10
    target: api
  api:
    kind: service
    workers: 10
    handler:
      - call: recommendations
        timeout: 30ms
        fallback: {latency: 2ms}
      - compute: 5ms
  recommendations: {kind: service, workers: 100, service_time: 1s}
)",
                         {&log});
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 10u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(37).count_ns());
  }
  EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::degraded), 10u);
}

// --- Handler steps -------------------------------------------------------------------------

std::string fan_out(const std::string& wait) {
  return R"(
duration: 10s
components:
  client: {kind: source, arrivals: {constant: 1/s}, max_requests: 5, target: api}
  api:
    kind: service
    workers: 10
    handler:
      - parallel:
          - call: a
          - call: b
          - call: c
        wait: )" +
         wait + R"(
  a: {kind: service, workers: 10, service_time: 10ms}
  b: {kind: service, workers: 10, service_time: 30ms}
  c: {kind: service, workers: 10, service_time: 50ms}
)";
}

TEST(Parallel, WaitsForAllForAnyOrForTheFirstK) {
  for (const auto& [wait, ms] :
       std::vector<std::pair<std::string, int64_t>>{{"all", 50}, {"any", 10}, {"2", 30}}) {
    RequestLog log;
    auto sim = run_checked(fan_out(wait), {&log});
    ASSERT_EQ(log.entries.size(), 5u);
    for (const Finished& f : log.entries) {
      EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(ms).count_ns()) << wait;
    }
    // The calls not waited for are abandoned, not cancelled: every branch still did the work.
    EXPECT_EQ(metrics_of(*sim, "c").served(), 5u) << wait;
  }
}

TEST(Branch, ProbabilityTakesTheThenBranchThatOften) {
  auto sim = run_checked(R"(
duration: 1000s
components:
  client: {kind: source, arrivals: {poisson: 100/s}, target: api}
  api:
    kind: service
    workers: 100
    handler:
      - if: {probability: 0.3}
        then: [{call: fraud}]
        else: [{compute: 1ms}]
  fraud: {kind: service, workers: 100, service_time: 1ms}
)");
  const double n = static_cast<double>(metrics_of(*sim, "api").arrivals());
  const double p = static_cast<double>(metrics_of(*sim, "fraud").arrivals()) / n;
  EXPECT_NEAR(p, 0.3, kZ * std::sqrt(0.3 * 0.7 / n));
}

TEST(Branch, ClassFollowsTheRequestsWorkload) {
  auto sim = run_checked(R"(
duration: 10s
components:
  shoppers: {kind: source, workload: checkout, arrivals: {constant: 10/s}, target: api}
  browsers: {kind: source, workload: browse, arrivals: {constant: 30/s}, target: api}
  api:
    kind: service
    workers: 100
    handler:
      - if: {class: checkout}
        then: [{call: payments}]
  payments: {kind: service, workers: 100, service_time: 1ms}
)");
  EXPECT_EQ(metrics_of(*sim, "payments").arrivals(), 100u);
  EXPECT_EQ(metrics_of(*sim, "api").arrivals(), 400u);
}

// A call that finally fails fails the handler, unless the step says to carry on.
TEST(Handler, ContinueOnErrorGoesOnToTheNextStep) {
  for (bool carry_on : {false, true}) {
    RequestLog log;
    auto sim = run_checked(R"(
duration: 10s
components:
  client: {kind: source, arrivals: {constant: 1/s}, max_requests: 4, target: api}
  api:
    kind: service
    workers: 10
    handler:
      - call: flaky
        timeout: 10ms
        continue_on_error: )" + std::string(carry_on ? "true" : "false") +
                               R"(
      - call: audit
  flaky: {kind: service, workers: 10, service_time: 1s}
  audit: {kind: service, workers: 10, service_time: 1ms}
)",
                           {&log});
    EXPECT_EQ(log.count(Outcome::completed, Reason::none), carry_on ? 4u : 0u);
    EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), carry_on ? 0u : 4u);
    EXPECT_EQ(metrics_of(*sim, "audit").arrivals(), carry_on ? 4u : 0u);
  }
}

TEST(Handler, AWorkerIsHeldWhileItsCallIsOutstanding) {
  // One worker calling a 100 ms dependency: requests every 10 ms queue behind it, so the API's
  // throughput is one per 100 ms although its own compute is only 1 ms.
  auto sim = run_checked(R"(
duration: 10s
components:
  client: {kind: source, arrivals: {constant: 100/s}, target: api}
  api:
    kind: service
    workers: 1
    handler:
      - compute: 1ms
      - call: slow
  slow: {kind: service, workers: 10, service_time: 99ms}
)");
  EXPECT_EQ(metrics_of(*sim, "api").served(), 99u);
  EXPECT_NEAR(summarize(*sim).components[1].utilization, 1.0, 0.002);
}

// --- Load-time errors ------------------------------------------------------------------------

TEST(CallPolicyErrors, AreReportedWhereTheyAre) {
  const std::string base = R"(
duration: 10s
components:
  client:
    kind: source
    arrivals: {constant: 1/s}
    target: api
    retry: {max_attempts: 3, on: "timeout, eror"}
  api:
    kind: service
    handler:
      - compute: 1ms
        call: api
      - call: api
        wait: all
)";
  const std::string errors = load_errors(base);
  EXPECT_NE(errors.find("test.yaml:8:12: error: components.client.retry: on: unknown failure "
                        "reason 'eror'"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("test.yaml:12:9: error: components.api.handler[0]: a step is exactly one "
                        "of compute, call, publish, parallel or if (several given)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("test.yaml:14:9: error: components.api.handler[1]: 'wait' belongs to a "
                        "'parallel' step"),
            std::string::npos)
      << errors;
}

TEST(CallPolicyErrors, AServiceNeedsServiceTimeOrAHandler) {
  EXPECT_NE(load_errors(R"(
duration: 10s
components:
  client: {kind: source, arrivals: {constant: 1/s}, target: api}
  api: {kind: service, workers: 2}
)")
                .find("test.yaml:5:3: error: components.api: missing 'service_time' or 'handler'"),
            std::string::npos);
}

TEST(CallPolicyErrors, AnUnknownOperationIsNamed) {
  const std::string errors = load_errors(R"(
duration: 10s
components:
  client: {kind: source, arrivals: {constant: 1/s}, target: api}
  api:
    kind: service
    handler:
      - publish: worker
  worker: {kind: service, service_time: 1ms}
)");
  EXPECT_NE(errors.find("asks 'worker' (a service) for operation 'publish' (publish sends to a "
                        "queue) (it has none)"),
            std::string::npos)
      << errors;
}

// Every request is accounted for, whatever the policies did; and runs repeat exactly.
TEST(CallPolicies, AreDeterministicAndConserveRequests) {
  expect_reproducible(R"(
duration: 30s
components:
  client:
    kind: source
    arrivals: {poisson: 200/s}
    target: api
    timeout: 300ms
    retry: {max_attempts: 3, jitter: full, budget: {ratio: 0.2}}
  api:
    kind: service
    workers: 8
    queue_capacity: 50
    handler:
      - compute: {exponential: 5ms}
      - parallel:
          - {call: db, timeout: 50ms, retry: {max_attempts: 2, jitter: decorrelated}}
          - {call: recs, timeout: 20ms, fallback: {}}
        wait: all
      - if: {probability: 0.5}
        then: [{call: db, circuit_breaker: {window: 20, minimum_calls: 10}, bulkhead: 4}]
  db: {kind: service, workers: 4, service_time: {exponential: 10ms}}
  recs: {kind: service, workers: 2, service_time: {exponential: 15ms}}
)");
}

}  // namespace
}  // namespace dsim::test
