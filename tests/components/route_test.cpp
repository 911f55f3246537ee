// route: where a served request goes next (a service's `next`): one target, a random split by
// probability, or an exact rotation.
#include "components/route.hpp"

#include <gtest/gtest.h>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

// Each request is routed independently, so the number sent to a target with probability p out of
// n routed is Binomial(n, p): standard error sqrt(n p (1 - p)).
TEST(Route, SplitSendsEachTargetItsShareWithinBinomialError) {
  const std::string yaml = R"(
name: split
seed: 21
duration: 10s
components:
  users:
    kind: source
    arrivals: {poisson: 4000/s}
    target: lb
  lb:
    kind: service
    workers: 1000
    service_time: 0s
    next: {split: {a: 30%, b: 70%}}
  a:
    kind: sink
  b:
    kind: sink
)";
  auto sim = run_checked(yaml);
  const uint64_t n = metrics_of(*sim, "lb").served();
  const uint64_t to_a = metrics_of(*sim, "a").arrivals();
  const uint64_t to_b = metrics_of(*sim, "b").arrivals();
  ASSERT_GT(n, 30'000u);
  EXPECT_EQ(to_a + to_b, n) << "every routed request reaches exactly one target";
  const double se = std::sqrt(static_cast<double>(n) * 0.3 * 0.7);
  EXPECT_NEAR(static_cast<double>(to_a), 0.3 * static_cast<double>(n), kZ * se);
}

TEST(Route, SplitAmongSeveralTargetsFollowsTheProbabilitiesByChiSquare) {
  const std::string yaml = R"(
name: split4
seed: 22
duration: 10s
components:
  users:
    kind: source
    arrivals: {poisson: 4000/s}
    target: lb
  lb:
    kind: service
    workers: 1000
    service_time: 0s
    next: {split: {a: 10%, b: 20%, c: 5%, d: 65%}}
  a:
    kind: sink
  b:
    kind: sink
  c:
    kind: sink
  d:
    kind: sink
)";
  auto sim = run_checked(yaml);
  std::vector<uint64_t> counts;
  for (const char* t : {"a", "b", "c", "d"}) counts.push_back(metrics_of(*sim, t).arrivals());
  const double x = chi_square(counts, {0.10, 0.20, 0.05, 0.65});
  EXPECT_LT(x, chi_square_critical(3))
      << "counts " << counts[0] << " " << counts[1] << " " << counts[2] << " " << counts[3];
}

TEST(Route, SplitWithAZeroShareNeverSendsThere) {
  const std::string yaml = R"(
name: split0
seed: 23
duration: 5s
components:
  users:
    kind: source
    arrivals: {poisson: 1000/s}
    target: lb
  lb:
    kind: service
    workers: 1000
    service_time: 0s
    next: {split: {a: 0%, b: 100%, c: 0}}
  a:
    kind: sink
  b:
    kind: sink
  c:
    kind: sink
)";
  auto sim = run_checked(yaml);
  EXPECT_EQ(metrics_of(*sim, "a").arrivals(), 0u);
  EXPECT_EQ(metrics_of(*sim, "c").arrivals(), 0u);
  EXPECT_EQ(metrics_of(*sim, "b").arrivals(), metrics_of(*sim, "lb").served());
}

// One worker, constant service, constant arrivals: requests leave the service in id order, so
// the n-th request served (id n) must go to target (n - 1) mod 3.
TEST(Route, CycleVisitsTheTargetsInExactRotation) {
  const std::string yaml = R"(
name: cycle
seed: 24
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    target: lb
  lb:
    kind: service
    service_time: 50ms
    next: {cycle: [a, b, c]}
  a:
    kind: sink
  b:
    kind: sink
  c:
    kind: sink
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const uint32_t targets[] = {find_component(*sim, "a").index(), find_component(*sim, "b").index(),
                              find_component(*sim, "c").index()};
  ASSERT_EQ(log.entries.size(), 99u);  // the request created at 10s is still in service
  for (size_t i = 0; i < log.entries.size(); ++i) {
    EXPECT_EQ(log.entries[i].id, i + 1);
    EXPECT_EQ(log.entries[i].component, targets[i % 3]) << "request " << log.entries[i].id;
  }
  EXPECT_EQ(metrics_of(*sim, "a").arrivals(), 33u);
  EXPECT_EQ(metrics_of(*sim, "b").arrivals(), 33u);
  EXPECT_EQ(metrics_of(*sim, "c").arrivals(), 33u);
}

TEST(Route, SingleTargetSendsEverythingThereAndNoNextCompletesAtTheService) {
  const std::string yaml = R"(
name: single
seed: 25
duration: 5s
components:
  users:
    kind: source
    arrivals: {poisson: 100/s}
    target: front
  front:
    kind: service
    service_time: 0s
    workers: 100
    next: back
  back:
    kind: service
    service_time: 0s
    workers: 100
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const uint32_t back = find_component(*sim, "back").index();
  EXPECT_EQ(metrics_of(*sim, "back").arrivals(), metrics_of(*sim, "front").served());
  ASSERT_FALSE(log.entries.empty());
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.component, back);
    EXPECT_EQ(f.outcome, Outcome::completed);
  }
}

TEST(Route, SameSeedGivesIdenticalSummaries) {
  expect_reproducible(R"(
name: split
seed: 26
duration: 5s
components:
  users:
    kind: source
    arrivals: {poisson: 500/s}
    target: lb
  lb:
    kind: service
    workers: 4
    service_time: {exponential: 5ms}
    next: {split: {a: 30%, b: 70%}}
  a:
    kind: service
    service_time: {exponential: 1ms}
    next: {cycle: [b, done]}
  b:
    kind: sink
  done:
    kind: sink
)");
}

}  // namespace
}  // namespace dsim::test
