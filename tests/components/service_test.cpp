// service: c workers, a bounded waiting room with a discipline, a service-time distribution,
// routing on, deadline shedding, and live changes.
#include "components/service.hpp"

#include <gtest/gtest.h>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

TEST(Service, NeverHasMoreThanItsWorkersBusyAndNeverIdlesWhileRequestsWait) {
  // Overloaded M/M/3 (lambda 40/s > c mu = 30/s) with a bounded queue: the workers are saturated
  // most of the time, so both invariants are exercised often. Checked after every event.
  const std::string yaml = R"(
name: mmc
seed: 31
duration: 30s
components:
  users:
    kind: source
    arrivals: {poisson: 40/s}
    target: api
  api:
    kind: service
    workers: 3
    queue_capacity: 20
    service_time: {exponential: 100ms}
    next: done
  done:
    kind: sink
)";
  Simulation sim(load_text(yaml));
  const StationMetrics& m = metrics_of(sim, "api");
  uint64_t saturated_steps = 0;
  while (sim.step()) {
    ASSERT_LE(m.busy().level(), 3) << "at " << sim.now().seconds() << "s";
    if (m.queue().level() > 0) {
      ASSERT_EQ(m.busy().level(), 3)
          << "a request waits while a worker is idle, at " << sim.now().seconds() << "s";
      ++saturated_steps;
    }
    ASSERT_LE(m.queue().level(), 20);
    ASSERT_EQ(m.in_system().level(), m.busy().level() + m.queue().level());
  }
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(m.busy().max(), 3);
  EXPECT_GT(saturated_steps, 100u);
  const double utilization = component(summarize(sim), "api").utilization;
  EXPECT_LE(utilization, 1.0);
  EXPECT_GT(utilization, 0.9);
}

TEST(Service, DropsArrivalsWhenTheWaitingRoomIsFull) {
  // Arrivals at 0.1s, 0.2s, ... 1.0s; one worker busy with the first until 1.1s; room for 2:
  // requests 2 and 3 wait, 4..10 find the room full.
  const std::string yaml = R"(
name: full
seed: 32
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 10
    target: api
  api:
    kind: service
    queue_capacity: 2
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(log.count(Outcome::dropped, Reason::queue_full), 7u);
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 3u);
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::dropped) {
      EXPECT_GE(f.id, 4u);
      EXPECT_EQ(f.finished, f.created) << "dropped on arrival";
    }
  }
  const RunSummary s = summarize(*sim);
  const ComponentSummary& api = component(s, "api");
  ASSERT_EQ(api.dropped.size(), 1u);
  EXPECT_EQ(api.dropped[0].first, "queue_full");
  EXPECT_EQ(api.dropped[0].second, 7u);
  EXPECT_EQ(api.arrivals, 10u);
  EXPECT_EQ(api.served, 3u);
  EXPECT_EQ(api.max_queue, 2);
  EXPECT_EQ(s.workloads[0].dropped, 7u);
  EXPECT_EQ(s.ledger.dropped, 7u);
  EXPECT_EQ(s.ledger.completed, 3u);
  EXPECT_NE(format_summary_json(s, false).find("\"queue_full\""), std::string::npos);
}

// M/M/1/1 (one worker, no waiting room): an arrival is lost iff it finds the worker busy, and by
// PASTA that happens with the time-stationary probability Erlang B(1, a) = a / (1 + a), a =
// lambda / mu. Here lambda = 200/s, mean service 10 ms: a = 2, B = 2/3.
//
// Standard error: the run is a sequence of independent cycles (an idle period, then one service
// during which the blocked arrivals Y are Poisson(lambda S) with S ~ Exp(mu), i.e. geometric with
// mean a and variance a (1 + a)). The blocked fraction is Ybar / (1 + Ybar); by the delta method
// over K cycles its variance is a / (K (1 + a)^3). K = T / (1/lambda + 1/mu) = 400 s / 15 ms =
// 26,667 cycles, so SE = sqrt(2 / (26,667 * 27)) = 0.0017.
TEST(Service, WithOneWorkerAndNoWaitingRoomBlocksAsErlangB) {
  const std::string yaml = R"(
name: mm11
seed: 33
duration: 400s
components:
  users:
    kind: source
    arrivals: {poisson: 200/s}
    target: api
  api:
    kind: service
    workers: 1
    queue_capacity: 0
    service_time: {exponential: 10ms}
)";
  auto sim = run_checked(yaml);
  const StationMetrics& m = metrics_of(*sim, "api");
  const double a = 2.0;
  const double erlang_b = a / (1 + a);
  const double cycles = 400.0 / (1 / 200.0 + 1 / 100.0);
  const double se = std::sqrt(a / (cycles * (1 + a) * (1 + a) * (1 + a)));
  const double blocked = static_cast<double>(m.dropped()[static_cast<int>(Reason::queue_full)]) /
                         static_cast<double>(m.arrivals());
  EXPECT_NEAR(blocked, erlang_b, kZ * se);
  EXPECT_EQ(m.queue().max(), 0);
  EXPECT_EQ(m.arrivals(), m.served() + m.dropped()[static_cast<int>(Reason::queue_full)] +
                              static_cast<uint64_t>(m.in_system().level()));
}

// Order of service. A "low" source (priority 0) sends at 0.1s, 0.2s, 0.3s and a "high" one
// (priority 5) at 0.25s, 0.5s, so the ids (creation order) are
//   1 low 0.1s, 2 low 0.2s, 3 high 0.25s, 4 low 0.3s, 5 high 0.5s.
// One worker takes exactly 1 s a request: request 1 starts at once and 2..5 wait until 1.1s.
std::vector<uint64_t> completion_order(const std::string& discipline) {
  const std::string yaml = R"(
name: order
seed: 34
duration: 10s
components:
  low:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    target: api
  high:
    kind: source
    arrivals: {constant: 4/s}
    max_requests: 2
    priority: 5
    target: api
  api:
    kind: service
    discipline: )" + discipline +
                           R"(
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  for (size_t i = 0; i < log.entries.size(); ++i) {
    // Back to back from 0.1s: the i-th completion is at 1.1s + i seconds.
    EXPECT_EQ(log.entries[i].finished.count_ns(), Time::ms(1100 + 1000 * i).count_ns());
    EXPECT_EQ(log.entries[i].priority, log.entries[i].id == 3 || log.entries[i].id == 5 ? 5 : 0);
  }
  return log.ids();
}

TEST(Service, FifoServesWaitingRequestsInArrivalOrder) {
  EXPECT_EQ(completion_order("fifo"), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST(Service, LifoServesTheLatestWaitingRequestFirst) {
  EXPECT_EQ(completion_order("lifo"), (std::vector<uint64_t>{1, 5, 4, 3, 2}));
}

TEST(Service, PriorityServesHigherPriorityFirstAndEqualsInArrivalOrder) {
  EXPECT_EQ(completion_order("priority"), (std::vector<uint64_t>{1, 3, 5, 2, 4}));
}

// Arrivals at 0.1s..0.5s with a 1.5 s client timeout (the client gives up at 1.6s..2.0s); one
// worker, 1 s each: request 1 runs 0.1-1.1s and completes; request 2 starts at 1.1s, still in
// time, but ends at 2.1s, after its client gave up at 1.7s. At 2.1s the clients of requests 3, 4
// and 5 have all given up: with the deadline propagated the service drops them instead of
// working for nobody.
std::string shedding_scenario(bool propagate) {
  return R"(
name: shed
seed: 35
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    timeout: 1500ms
    propagate_deadline: )" +
         std::string(propagate ? "true" : "false") + R"(
    target: api
  api:
    kind: service
    service_time: 1s
)";
}

TEST(Service, PropagatedDeadlinesDropWorkWhoseCallerGaveUp) {
  RequestLog log;
  auto sim = run_checked(shedding_scenario(true), {&log});
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 1u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 4u);
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::failed) {
      EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(1500).count_ns());
    }
  }
  const RunSummary summary = summarize(*sim);
  const ComponentSummary& api = component(summary, "api");
  EXPECT_EQ(api.served, 2u);
  ASSERT_EQ(api.dropped.size(), 1u);
  EXPECT_EQ(api.dropped[0].first, "deadline_exceeded");
  EXPECT_EQ(api.dropped[0].second, 3u) << "dropped when a worker frees up at 2.1s";
}

TEST(Service, WithoutPropagationWorkContinuesForCallersThatGaveUp) {
  RequestLog log;
  auto sim = run_checked(shedding_scenario(false), {&log});
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 1u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 4u);
  const RunSummary summary = summarize(*sim);
  const ComponentSummary& api = component(summary, "api");
  EXPECT_EQ(api.served, 5u);
  EXPECT_TRUE(api.dropped.empty());
}

// 100 requests at 0.01s..1.0s into one worker taking exactly 100 ms: at 1.0s nine are done,
// request 10 is in service until 1.01s and 90 wait. Left alone the last one completes at
// 0.01s + 100 x 0.1s = 10.01s. With 4 workers from 1.0s: three start at 1.0s, one more at 1.01s,
// and four every 100 ms after that; requests 99 and 100 start at 3.2s and end at 3.3s.
const std::string kBacklog = R"(
name: backlog
seed: 36
duration: 20s
components:
  users:
    kind: source
    arrivals: {constant: 100/s}
    max_requests: 100
    target: api
  api:
    kind: service
    workers: 1
    service_time: 100ms
)";

TEST(Service, MoreWorkersSetLiveDrainTheQueueFaster) {
  for (const bool add_workers : {false, true}) {
    SCOPED_TRACE(add_workers ? "4 workers from 1s" : "1 worker throughout");
    RequestLog log;
    Simulation sim(load_text(kBacklog));
    sim.add_observer(&log);
    sim.run_until(Time::s(1));
    const StationMetrics& m = metrics_of(sim, "api");
    ASSERT_EQ(log.entries.size(), 9u);
    ASSERT_EQ(m.queue().level(), 90);
    if (add_workers) {
      ASSERT_EQ(sim.set_parameter("api", "workers", "4"), "");
      EXPECT_EQ(m.busy().level(), 4) << "idle workers start on the queue at once";
      EXPECT_EQ(m.queue().level(), 87);
    }
    sim.run();
    EXPECT_TRUE(Balanced(sim));
    ASSERT_EQ(log.entries.size(), 100u);
    const Time last = log.entries.back().finished;
    EXPECT_EQ(last.count_ns(), (add_workers ? Time::ms(3300) : Time::ms(10010)).count_ns());
    EXPECT_EQ(m.busy().max(), add_workers ? 4 : 1);
  }
}

TEST(Service, FewerWorkersSetLiveTakeEffectAsBusyWorkersFinish) {
  const std::string yaml = R"(
name: shrink
seed: 37
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 100/s}
    max_requests: 100
    target: api
  api:
    kind: service
    workers: 4
    service_time: 100ms
)";
  Simulation sim(load_text(yaml));
  sim.run_until(Time::ms(500));
  const StationMetrics& m = metrics_of(sim, "api");
  ASSERT_EQ(m.busy().level(), 4);
  ASSERT_EQ(sim.set_parameter("api", "workers", "1"), "");
  EXPECT_EQ(m.busy().level(), 4) << "requests in service are not interrupted";
  int64_t previous = m.busy().level();
  bool reached_one = false;
  while (sim.step()) {
    const int64_t busy = m.busy().level();
    if (reached_one) {
      ASSERT_LE(busy, 1) << "at " << sim.now().seconds() << "s";
    } else {
      ASSERT_LE(busy, previous) << "a worker above the new limit started work";
      reached_one = busy <= 1;
    }
    previous = busy;
  }
  EXPECT_TRUE(reached_one);
  EXPECT_TRUE(Balanced(sim));
}

// The service keeps copies of its service-time distributions beside its hot data
// (Distribution::Sampler); a live change must reach them, in the simple form and when an
// idempotency check turns it into a one-step program. One request every 100 ms, each alone.
TEST(Service, ServiceTimeSetLiveAppliesToTheNextRequests) {
  for (const char* idempotency : {"", "    idempotency: {}\n"}) {
    SCOPED_TRACE(*idempotency ? "with an idempotency check" : "the simple form");
    const std::string yaml = std::string(R"(
name: slower
duration: 5s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 20
    target: api
  api:
    kind: service
    workers: 1
    service_time: 30ms
)") + idempotency;
    RequestLog log;
    Simulation sim(load_text(yaml));
    sim.add_observer(&log);
    sim.run_until(Time::ms(1050));
    ASSERT_EQ(log.entries.size(), 10u);
    ASSERT_EQ(sim.set_parameter("api", "service_time", "{exponential: 20ms}"), "");
    sim.run_until(Time::ms(1550));
    ASSERT_EQ(sim.set_parameter("api", "service_time", "5ms"), "");
    sim.run();
    ASSERT_EQ(log.entries.size(), 20u);
    int exponential = 0;
    for (size_t i = 0; i < log.entries.size(); ++i) {
      const Finished& f = log.entries[i];
      const Time took = f.finished - f.created;
      if (f.created < Time::ms(1050)) {
        EXPECT_EQ(took.count_ns(), Time::ms(30).count_ns()) << "request " << i;
      } else if (f.created < Time::ms(1550)) {
        EXPECT_NE(took.count_ns(), Time::ms(30).count_ns()) << "request " << i;
        ++exponential;
      } else {
        EXPECT_EQ(took.count_ns(), Time::ms(5).count_ns()) << "request " << i;
      }
    }
    EXPECT_EQ(exponential, 5);  // created at 1.1 .. 1.5 s
    EXPECT_TRUE(Balanced(sim));
  }
}

TEST(Service, RefusesLiveChangesToParametersThatAreNotLive) {
  Simulation sim(load_text(kBacklog));
  sim.run_until(Time::ms(500));
  const std::string error = sim.set_parameter("api", "discipline", "lifo");
  EXPECT_NE(error.find("not a live parameter"), std::string::npos) << error;
  EXPECT_NE(sim.set_parameter("api", "workers", "0"), "") << "below the minimum of 1";
  EXPECT_NE(sim.set_parameter("api", "workerz", "2"), "");
  const auto& api = dynamic_cast<const Service&>(find_component(sim, "api"));
  EXPECT_EQ(api.config().discipline, 0);
  EXPECT_EQ(api.config().workers, 1);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
}

// Feedback: the service routes every other request it serves back to itself ({cycle: [api,
// done]}). One worker, 1 s each, arrivals at 0.1s, 0.2s, 0.3s:
//   1.1s  1 served -> back to api; the queue was [2, 3] so 2 starts and 1 waits behind 3
//   2.1s  2 served -> done;        3 starts
//   3.1s  3 served -> back to api; 1 starts, 3 waits
//   4.1s  1 served -> done;        3 starts
//   5.1s  3 served -> back to api; the worker is free, 3 starts again
//   6.1s  3 served -> done
// Had request 1 jumped into the worker it just freed, it would finish first, at 2.1s.
TEST(Service, RequestFedBackToItselfJoinsTheBackOfTheQueue) {
  const std::string yaml = R"(
name: feedback
seed: 38
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    target: api
  api:
    kind: service
    service_time: 1s
    next: {cycle: [api, done]}
  done:
    kind: sink
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(log.ids(), (std::vector<uint64_t>{2, 1, 3}));
  ASSERT_EQ(log.entries.size(), 3u);
  EXPECT_EQ(log.entries[0].finished.count_ns(), Time::ms(2100).count_ns());
  EXPECT_EQ(log.entries[1].finished.count_ns(), Time::ms(4100).count_ns());
  EXPECT_EQ(log.entries[2].finished.count_ns(), Time::ms(6100).count_ns());
  EXPECT_EQ(metrics_of(*sim, "api").arrivals(), 6u);
}

// Random feedback with probability p = 0.5: the number of visits per request is geometric with
// mean 1 / (1 - p) = 2 and variance p / (1 - p)^2 = 2, so the visits of n requests have standard
// error sqrt(2 n).
TEST(Service, RandomFeedbackGivesGeometricallyManyVisits) {
  const std::string yaml = R"(
name: feedback
seed: 39
duration: 100s
components:
  users:
    kind: source
    arrivals: {poisson: 100/s}
    target: api
  api:
    kind: service
    workers: 4
    service_time: {exponential: 5ms}
    next: {split: {api: 50%, done: 50%}}
  done:
    kind: sink
)";
  auto sim = run_checked(yaml);
  const StationMetrics& api = metrics_of(*sim, "api");
  const double finished = static_cast<double>(metrics_of(*sim, "done").arrivals());
  // Visits of the requests that finished (those still inside have made fewer, and at most a
  // few are inside at the end).
  const double visits = static_cast<double>(api.served());
  ASSERT_GT(finished, 5000);
  EXPECT_NEAR(visits / finished, 2.0, kZ * std::sqrt(2 * finished) / finished + 20 / finished);
}

TEST(Service, SameSeedGivesIdenticalSummaries) {
  expect_reproducible(R"(
name: repro
seed: 40
duration: 20s
components:
  users:
    kind: source
    arrivals: {poisson: 50/s}
    timeout: 200ms
    propagate_deadline: true
    target: api
  api:
    kind: service
    workers: 2
    queue_capacity: 30
    discipline: priority
    service_time: {lognormal: {median: 30ms, p99: 200ms}}
    next: {split: {api: 10%, done: 90%}}
  done:
    kind: sink
)");
}

}  // namespace
}  // namespace dsim::test

namespace dsim {

// Lowering workers live: the surplus busy workers still count as available until they finish, so
// utilisation stays at most 100 % in every window and overall.
TEST(Service, UtilisationNeverExceedsOneAfterWorkersAreLoweredLive) {
  const char* yaml = R"(
duration: 60s
window: 1s
components:
  src: {kind: source, arrivals: {poisson: 10/s}, target: svc}
  svc: {kind: service, workers: 10, service_time: 5s}
)";
  struct MaxUtil : Observer {
    double max = 0;
    void on_window(const Simulation&, const WindowReport& r) override {
      max = std::max(max, r.rows[1].utilization);
    }
  } util;
  Simulation sim(test::load_text(yaml));
  sim.add_observer(&util);
  sim.run_until(Time::s(10));
  ASSERT_EQ(sim.set_parameter("svc", "workers", "1"), "");
  sim.run();
  EXPECT_LE(util.max, 1.0 + 1e-12);
  EXPECT_LE(summarize(sim).components[1].utilization, 1.0 + 1e-12);
}

}  // namespace dsim
