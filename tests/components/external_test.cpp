// external: latency without queueing, the error rate, the provider's token bucket (its b + r tau
// bound and exact admissions), Retry-After honoured by a client (directly and through a load
// balancer), quota periods, the concurrency limit, and load-time errors.
#include "components/external.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

// A client sending `count` requests to `provider` at a constant `rate` (plus `client_keys`).
std::string scenario(const std::string& provider_keys, const std::string& arrivals, int64_t count,
                     const std::string& client_keys = "") {
  return "name: ext\nseed: 51\nduration: 1000s\ncomponents:\n"
         "  client:\n    kind: source\n    arrivals: " +
         arrivals + "\n    max_requests: " + std::to_string(count) + "\n    target: provider\n" +
         client_keys + "  provider:\n    kind: external\n" + provider_keys;
}

std::vector<Time> completed_at_creation(const RequestLog& log) {
  std::vector<Time> t;
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::completed) t.push_back(f.created);
  }
  std::sort(t.begin(), t.end());
  return t;
}

TEST(External, EveryCallWaitsItsLatencyWithoutQueueing) {
  // 1000 calls a second, each 100 ms: 100 in progress at once, none waits for another.
  RequestLog log;
  auto sim = run_checked(scenario("    latency: 100ms\n", "{constant: 1000/s}", 2000), {&log});
  ASSERT_EQ(log.entries.size(), 2000u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ(f.finished - f.created, Time::ms(100));
  }
  const StationMetrics& m = metrics_of(*sim, "provider");
  EXPECT_EQ(m.busy().max(), 100);
  EXPECT_EQ(m.served(), 2000u);
}

TEST(External, ErrorRateIsTheShareOfCallsAnsweredWithAnErrorAfterTheLatency) {
  // 40,000 calls with error_rate 0.2: the error count is Binomial(40000, 0.2), SE 0.002.
  RequestLog log;
  auto sim = run_checked(scenario("    latency: {exponential: 50ms}\n    error_rate: 0.2\n",
                                  "{poisson: 2000/s}", 40000),
                         {&log});
  const double n = 40000, p = 0.2;
  const size_t errors = log.count(Outcome::failed, Reason::error);
  EXPECT_NEAR(static_cast<double>(errors) / n, p, kZ * std::sqrt(p * (1 - p) / n));
  EXPECT_EQ(log.count(Outcome::completed, Reason::none) + errors, 40000u);
  EXPECT_EQ(metrics_of(*sim, "provider").failed()[static_cast<int>(Reason::error)], errors);
  // Errors come after the latency, like successes: their mean time is the latency's mean.
  double sum = 0;
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::error) sum += (f.finished - f.created).seconds();
  }
  const double mean = sum / static_cast<double>(errors);
  EXPECT_NEAR(mean, 0.05, kZ * 0.05 / std::sqrt(static_cast<double>(errors)));
}

TEST(External, RateLimitAdmitsAtMostBurstPlusRateTimesTheInterval) {
  // A Poisson flood at 200/s against a bucket of 5 refilled at 10/s for 20 s. For every pair of
  // admissions i <= j, the j - i + 1 admissions in [t_i, t_j] are at most b + r (t_j - t_i);
  // with r = 10/s that is (count - b) * 100 ms <= t_j - t_i, checked in integer nanoseconds.
  RequestLog log;
  auto sim = run_checked(scenario("    latency: 1ms\n    rate_limit: {rate: 10/s, burst: 5}\n",
                                  "{poisson: 200/s}", 4000),
                         {&log});
  const std::vector<Time> admitted = completed_at_creation(log);
  for (size_t i = 0; i < admitted.size(); ++i) {
    for (size_t j = i; j < admitted.size(); ++j) {
      const int64_t count = static_cast<int64_t>(j - i + 1);
      ASSERT_LE((count - 5) * Time::ms(100).count_ns(), (admitted[j] - admitted[i]).count_ns())
          << count << " admissions between " << admitted[i].seconds() << "s and "
          << admitted[j].seconds() << "s";
    }
  }
  // The bound is reached: the flood never lets the bucket sit full, so nearly every token of
  // b + r T (T = the last arrival, about 20 s) is used.
  const double last = log.entries.back().created.seconds();
  EXPECT_LE(static_cast<double>(admitted.size()), 5 + 10 * last);
  EXPECT_GE(static_cast<double>(admitted.size()), 5 + 10 * last - 2);
  const size_t refused = log.count(Outcome::dropped, Reason::rate_limited);
  EXPECT_EQ(refused + admitted.size(), 4000u);
  EXPECT_EQ(metrics_of(*sim, "provider").counter(Counter::rate_limited), refused);
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::rate_limited) {
      EXPECT_EQ(f.finished, f.created) << "refused at once";
    }
  }
}

TEST(External, TokenBucketAdmitsExactlyWhenATokenHasBuiltUp) {
  // Burst 2, 10 tokens a second, a call every 25 ms (a quarter token apart). Full at the start:
  // 25 ms and 50 ms take the two tokens (0.25 left); the bucket is back to one token at 125 ms,
  // then every 100 ms: 225, 325, ... 925 ms.
  RequestLog log;
  run_checked(scenario("    latency: 1ms\n    rate_limit: {rate: 10/s, burst: 2}\n",
                       "{constant: 40/s}", 40),
              {&log});
  std::vector<Time> expected = {Time::ms(25), Time::ms(50)};
  for (int64_t t = 125; t <= 1000; t += 100) expected.push_back(Time::ms(t));
  EXPECT_EQ(completed_at_creation(log), expected);
}

// Burst 1 at 10/s; calls at 50 ms and 100 ms. The second finds half a token and is told to come
// back in 50 ms. A client that respects Retry-After (the default) retries at exactly 150 ms and
// is admitted; one that ignores it retries after its own 1 ms backoff, twice, and gives up.
std::string retry_after_scenario(bool respect, bool through_balancer) {
  const std::string retry =
      "    retry: {max_attempts: 3, backoff: constant, base: 1ms, jitter: "
      "none, respect_retry_after: " +
      std::string(respect ? "true" : "false") + "}\n";
  std::string yaml =
      "name: ext\nseed: 52\nduration: 10s\ncomponents:\n"
      "  client:\n    kind: source\n    arrivals: {constant: 20/s}\n"
      "    max_requests: 2\n    target: " +
      std::string(through_balancer ? "lb" : "provider") + "\n" + retry +
      "  provider:\n    kind: external\n    latency: 10ms\n"
      "    rate_limit: {rate: 10/s, burst: 1}\n";
  if (through_balancer) yaml += "  lb:\n    kind: load_balancer\n    backends: [provider]\n";
  return yaml;
}

TEST(External, RetryAfterIsTheTimeUntilTheNextTokenAndAGoodClientGetsIn) {
  for (const bool through_balancer : {false, true}) {
    SCOPED_TRACE(through_balancer ? "through a load balancer" : "direct");
    RequestLog log;
    auto sim = run_checked(retry_after_scenario(true, through_balancer), {&log});
    ASSERT_EQ(log.entries.size(), 2u);
    EXPECT_EQ(log.entries[0].finished, Time::ms(60));
    EXPECT_EQ(log.entries[1].outcome, Outcome::completed);
    EXPECT_EQ(log.entries[1].finished, Time::ms(160)) << "retried at 150 ms + 10 ms latency";
    EXPECT_EQ(metrics_of(*sim, "provider").counter(Counter::rate_limited), 1u);
    EXPECT_EQ(metrics_of(*sim, "client").counter(Counter::retries), 1u);
  }
}

TEST(External, AClientIgnoringRetryAfterBurnsItsAttempts) {
  RequestLog log;
  auto sim = run_checked(retry_after_scenario(false, false), {&log});
  ASSERT_EQ(log.entries.size(), 2u);
  EXPECT_EQ(log.entries[1].outcome, Outcome::dropped);
  EXPECT_EQ(log.entries[1].reason, Reason::rate_limited);
  EXPECT_EQ(log.entries[1].finished, Time::ms(102));
  EXPECT_EQ(metrics_of(*sim, "provider").counter(Counter::rate_limited), 3u);
}

TEST(External, QuotaAdmitsTheLimitInEachPeriodAndResetsAtPeriodStarts) {
  // Limit 3 per 1 s period, calls every 100 ms from 0.1 s to 3.5 s: the first three of each
  // period are admitted (periods start at 0, 1, 2, 3 s), the rest refused with quota_exceeded.
  RequestLog log;
  auto sim = run_checked(
      scenario("    latency: 1ms\n    quota: {limit: 3, period: 1s}\n", "{constant: 10/s}", 35),
      {&log});
  const std::vector<Time> expected = {Time::ms(100),  Time::ms(200),  Time::ms(300),
                                      Time::ms(1000), Time::ms(1100), Time::ms(1200),
                                      Time::ms(2000), Time::ms(2100), Time::ms(2200),
                                      Time::ms(3000), Time::ms(3100), Time::ms(3200)};
  EXPECT_EQ(completed_at_creation(log), expected);
  EXPECT_EQ(log.count(Outcome::dropped, Reason::quota_exceeded), 23u);
  EXPECT_EQ(metrics_of(*sim, "provider").counter(Counter::rate_limited), 0u);
}

TEST(External, QuotaRetryAfterPointsAtTheNextPeriod) {
  // Limit 1 per second: the call at 0.2 s is refused with retry-after 0.8 s, and the client's
  // retry lands at exactly 1 s, the first call of the next period.
  RequestLog log;
  run_checked(
      scenario("    latency: 10ms\n    quota: {limit: 1, period: 1s}\n", "{constant: 10/s}", 2,
               "    retry: {max_attempts: 2, backoff: constant, base: 1ms, jitter: none, "
               "on: quota_exceeded}\n"),
      {&log});
  ASSERT_EQ(log.entries.size(), 2u);
  EXPECT_EQ(log.entries[1].outcome, Outcome::completed);
  EXPECT_EQ(log.entries[1].finished, Time::ms(1010));
}

TEST(External, ConcurrencyLimitRefusesCallsBeyondIt) {
  // Two at once, each for 1 s; calls every 100 ms from 0.1 s to 1.2 s. 0.1 and 0.2 are admitted
  // and 0.3 .. 1.0 refused with rate_limited. At 1.1 s the first call's answer comes before the
  // new call (it was scheduled a second earlier, the call 100 ms earlier), so 1.1 and 1.2 find
  // room.
  RequestLog log;
  auto sim = run_checked(scenario("    latency: 1s\n    concurrency: 2\n", "{constant: 10/s}", 12),
                         {&log});
  EXPECT_EQ(completed_at_creation(log),
            (std::vector<Time>{Time::ms(100), Time::ms(200), Time::ms(1100), Time::ms(1200)}));
  EXPECT_EQ(log.count(Outcome::dropped, Reason::rate_limited), 8u);
  const StationMetrics& m = metrics_of(*sim, "provider");
  EXPECT_EQ(m.busy().max(), 2);
  EXPECT_EQ(m.counter(Counter::rate_limited), 8u);
}

TEST(External, SameSeedSameSummary) {
  expect_reproducible(
      scenario("    latency: {lognormal: {median: 80ms, p99: 400ms}}\n    error_rate: 0.05\n"
               "    rate_limit: {rate: 50/s, burst: 20}\n    quota: {limit: 2000, period: 1m}\n",
               "{poisson: 80/s}", 20000));
}

TEST(External, RejectsBadSettingsWithClearMessages) {
  EXPECT_EQ(load_errors(scenario("    latency: 1ms\n    rate_limit: {rate: 0/s, burst: 5}\n",
                                 "{poisson: 1/s}", 1)),
            "test.yaml:13:17: error: components.provider.rate_limit: rate must be above zero (a "
            "bucket that never refills)\n");
  EXPECT_EQ(
      load_errors(scenario("    latency: 1ms\n    quota: {limit: 100}\n", "{poisson: 1/s}", 1)),
      "test.yaml:13:12: error: components.provider.quota: missing required key 'period' "
      "(Length of a quota period. Periods are fixed and start at time 0; 1d means per "
      "simulated day.)\n");
  EXPECT_EQ(load_errors(scenario("    error_rate: 0.1\n", "{poisson: 1/s}", 1)),
            "test.yaml:11:5: error: components.provider: missing required key 'latency' (Time the "
            "provider takes to answer an admitted call (no queueing: calls do not wait for each "
            "other).)\n");
}

// The example in docs/components/external.md loads and runs with every request accounted for.
TEST(External, DocumentationExampleRuns) {
  std::ifstream in(DSIM_DOCS_DIR "/components/external.md");
  ASSERT_TRUE(in) << "cannot open docs/components/external.md";
  std::string line, yaml;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```yaml") {
      inside = true;
      yaml.clear();
    } else if (inside && line == "```") {
      inside = false;
      if (yaml.find("\ncomponents:") == std::string::npos) continue;
      ++blocks;
      Scenario s = load_text(yaml);
      s.duration = std::min(s.duration, Time::s(120));
      Simulation sim(s);
      sim.run();
      EXPECT_TRUE(Balanced(sim));
    } else if (inside) {
      yaml += line + "\n";
    }
  }
  EXPECT_GE(blocks, 1);
}

}  // namespace
}  // namespace dsim::test
