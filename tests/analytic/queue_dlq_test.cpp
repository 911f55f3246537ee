// The dead-letter law of a queue with max_receives k whose consumer fails each attempt
// independently with probability q: a message is dead-lettered with probability q^k, and its
// number of receives R = min(G, k), G geometric on {1, 2, ...} with success probability 1 - q, so
// P(R >= j) = q^(j-1) and
//   E[R] = sum_{j=1..k} q^(j-1) = (1 - q^k) / (1 - q),   E[R^2] = sum_{j=1..k} (2j - 1) q^(j-1).
//
// The consumer is a service whose handler calls, with probability q, a dependency that refuses
// every call (one worker, no waiting room, jammed by an endless request from 1 ns on); its
// failures are answered at once, well within the visibility timeout, so every receive is one
// independent attempt. Messages are independent of each other, so the standard errors are exact:
// binomial sqrt(p (1 - p) / n) for the dead-lettered fraction and sqrt(Var R / n) for the mean
// receives; no batch means are needed. Tolerance kZ = 4.5 standard errors and, as in
// batch_means.hpp, each check must resolve 2.5 % of the value it checks (n was chosen for that).
// tests/components/queue_test.cpp runs the same law on 20,000 messages.
#include <cmath>
#include <cstdio>
#include <string>

#include "analytic/batch_means.hpp"
#include "components/queue.hpp"

namespace dsim::analytic {
namespace {

struct DlqCase {
  double q;
  int k;
  int messages;
  uint64_t seed;
};

void PrintTo(const DlqCase& c, std::ostream* os) {
  *os << "q " << c.q << ", k " << c.k << ", " << c.messages << " messages, seed " << c.seed;
}

class QueueDeadLetters : public ::testing::TestWithParam<DlqCase> {};

std::string scenario(const DlqCase& c) {
  char q[32];
  std::snprintf(q, sizeof q, "%.17g", c.q);
  return "name: dlq\nseed: " + std::to_string(c.seed) + R"(
duration: 1h
window: 10m
components:
  producer:
    kind: source
    arrivals: {poisson: 1000/s}
    max_requests: )" +
         std::to_string(c.messages) + R"(
    target: jobs
  jobs:
    kind: queue
    max_receives: )" +
         std::to_string(c.k) + R"(
    consumers: {target: worker, count: 8}
  worker:
    kind: service
    workers: 8
    handler:
      - if: {probability: )" +
         q + R"(}
        then: [{call: broken}]
  jam:
    kind: source
    arrivals: {constant: 1000M/s}
    max_requests: 1
    target: broken
  broken:
    kind: service
    queue_capacity: 0
    service_time: 36500d
)";
}

TEST_P(QueueDeadLetters, FractionIsQToTheKAndMeanReceivesAreOneMinusQToTheKOverOneMinusQ) {
  const DlqCase c = GetParam();
  double mean = 0, second = 0;
  for (int j = 1; j <= c.k; ++j) {
    mean += std::pow(c.q, j - 1);
    second += (2 * j - 1) * std::pow(c.q, j - 1);
  }
  const double p = std::pow(c.q, c.k);
  const double n = c.messages;
  ASSERT_NEAR(mean, (1 - p) / (1 - c.q), 1e-12) << "the closed form";

  Simulation sim(test::load_text(scenario(c)));
  sim.run();
  ASSERT_TRUE(sim.ledger().balanced());
  const auto& jobs = dynamic_cast<const Queue&>(*sim.find("jobs"));
  ASSERT_EQ(jobs.held(), 0) << "every message has ended";
  const StationMetrics& m = jobs.metrics();
  ASSERT_EQ(m.served() + m.counter(Counter::dead_lettered), static_cast<uint64_t>(c.messages));
  ASSERT_EQ(m.counter(Counter::duplicates), 0u);

  const double dead = static_cast<double>(m.counter(Counter::dead_lettered)) / n;
  const double receives = (n + static_cast<double>(m.counter(Counter::redeliveries))) / n;
  const double dead_se = std::sqrt(p * (1 - p) / n);
  const double receives_se = std::sqrt((second - mean * mean) / n);
  std::printf(
      "  q=%.2f k=%d n=%d: dead-lettered %.5f (theory %.5f, SE %.5f), mean receives "
      "%.5f (theory %.5f, SE %.5f)\n",
      c.q, c.k, c.messages, dead, p, dead_se, receives, mean, receives_se);
  EXPECT_LE(kZ * dead_se, kResolution * p) << "the run is too short to resolve 2.5 %";
  EXPECT_LE(kZ * receives_se, kResolution * mean);
  EXPECT_NEAR(dead, p, kZ * dead_se);
  EXPECT_NEAR(receives, mean, kZ * receives_se);
}

INSTANTIATE_TEST_SUITE_P(Cases, QueueDeadLetters,
                         ::testing::Values(DlqCase{0.5, 3, 400'000, 301},
                                           DlqCase{0.3, 2, 400'000, 302},
                                           DlqCase{0.8, 6, 400'000, 303},
                                           DlqCase{0.9, 1, 200'000, 304}));

}  // namespace
}  // namespace dsim::analytic
