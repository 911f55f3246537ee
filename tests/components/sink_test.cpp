// sink: counts what reaches it and completes it, in zero time.
#include "components/sink.hpp"

#include <gtest/gtest.h>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

// Two constant sources into two sinks, one of them behind a service.
const std::string kTwoSinks = R"(
name: sinks
seed: 3
duration: 10s
components:
  direct:
    kind: source
    arrivals: {constant: 20/s}
    target: near
  queued:
    kind: source
    arrivals: {constant: 5/s}
    target: api
  api:
    kind: service
    service_time: 100ms
    next: far
  near:
    kind: sink
  far:
    kind: sink
)";

TEST(Sink, CountsEveryArrivalAsServedAndHoldsNothing) {
  RequestLog log;
  auto sim = run_checked(kTwoSinks, {&log});
  // Constant 20/s over (0, 10s]: 200 requests straight in; 5/s: 50 through the service, of
  // which the one created at exactly 10s is still in service at the end.
  const StationMetrics& near = metrics_of(*sim, "near");
  const StationMetrics& far = metrics_of(*sim, "far");
  EXPECT_EQ(near.arrivals(), 200u);
  EXPECT_EQ(near.served(), 200u);
  EXPECT_EQ(far.arrivals(), 49u);
  EXPECT_EQ(far.served(), 49u);
  // Requests pass through in zero time: nothing is ever present, queued or lost here.
  EXPECT_EQ(near.in_system().max(), 0);
  EXPECT_EQ(near.queue().max(), 0);
  EXPECT_EQ(near.latency().count(), 0u);
  const RunSummary s = summarize(*sim);
  EXPECT_TRUE(component(s, "near").dropped.empty());
  EXPECT_TRUE(component(s, "near").failed.empty());
}

TEST(Sink, CompletesTheRequestsItReceivesAtItself) {
  RequestLog log;
  auto sim = run_checked(kTwoSinks, {&log});
  const uint32_t near = find_component(*sim, "near").index();
  const uint32_t far = find_component(*sim, "far").index();
  size_t at_near = 0, at_far = 0;
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ(f.reason, Reason::none);
    ASSERT_TRUE(f.component == near || f.component == far);
    if (f.component == near) {
      ++at_near;
      EXPECT_EQ(f.finished, f.created) << "a sink adds no time";
    } else {
      ++at_far;
      EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(100).count_ns());
    }
  }
  EXPECT_EQ(at_near, 200u);
  EXPECT_EQ(at_far, 49u);
  // End to end, per workload: the sink's completions are the workloads' completions.
  ASSERT_EQ(sim->workloads().size(), 2u);
  EXPECT_EQ(sim->workloads()[0].name, "direct");
  EXPECT_EQ(sim->workloads()[0].completed, 200u);
  EXPECT_EQ(sim->workloads()[0].latency.count(), 200u);
  EXPECT_EQ(sim->workloads()[1].name, "queued");
  EXPECT_EQ(sim->workloads()[1].completed, 49u);
}

TEST(Sink, LedgerBalancesWithRequestsStillInFlight) {
  // Poisson arrivals into a slow bounded service: mid-run some requests are waiting, some have
  // been dropped, some completed at the sink. The identity must hold after every event.
  const std::string yaml = R"(
name: ledger
seed: 8
duration: 20s
components:
  users:
    kind: source
    arrivals: {poisson: 50/s}
    target: api
  api:
    kind: service
    workers: 2
    queue_capacity: 10
    service_time: {exponential: 50ms}
    next: done
  done:
    kind: sink
)";
  Simulation sim(load_text(yaml));
  uint64_t max_in_flight = 0;
  while (sim.step()) {
    const Ledger l = sim.ledger();
    ASSERT_TRUE(Balanced(sim)) << "at " << sim.now().seconds() << "s";
    max_in_flight = std::max(max_in_flight, l.in_flight);
  }
  const Ledger l = sim.ledger();
  EXPECT_TRUE(l.balanced());
  EXPECT_GT(l.dropped, 0u);
  EXPECT_GT(l.completed, 0u);
  EXPECT_GT(max_in_flight, 0u);
  EXPECT_LE(max_in_flight, 12u) << "2 in service + 10 waiting at most";
  EXPECT_EQ(l.completed, metrics_of(sim, "done").served());
}

TEST(Sink, SameSeedGivesIdenticalSummaries) {
  expect_reproducible(kTwoSinks);
}

}  // namespace
}  // namespace dsim::test
