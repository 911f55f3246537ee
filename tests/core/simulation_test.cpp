// The Simulation object: lifecycle, driving, the observer door, the control door, determinism
// and the conservation ledger.
#include "core/simulation.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "output/run_summary.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

const char* kTwoTier = R"(
name: two-tier
seed: 3
duration: 10m
window: 30s
components:
  users:
    kind: source
    arrivals: {poisson: 20/s}
    target: api
  api:
    kind: service
    workers: 4
    queue_capacity: 50
    service_time: {exponential: 150ms}
    next: {split: {db: 40%, done: 60%}}
  db:
    kind: service
    workers: 2
    service_time: {lognormal: {median: 20ms, p99: 200ms}}
    next: done
  done:
    kind: sink
)";

class WindowCounter : public Observer {
 public:
  int windows = 0;
  Time last_end;
  std::vector<std::pair<Lifecycle, Lifecycle>> transitions;
  void on_window(const Simulation&, const WindowReport& r) override {
    ++windows;
    EXPECT_GT(r.end, r.start);
    last_end = r.end;
  }
  void on_lifecycle(const Simulation&, Lifecycle from, Lifecycle to) override {
    transitions.emplace_back(from, to);
  }
};

std::string summary_json(Simulation& sim) {
  return format_summary_json(summarize(sim), /*include_engine=*/false);
}

}  // namespace

TEST(Simulation, RunsToItsEndTimeAndBalancesTheLedger) {
  Simulation sim(test::load_text(kTwoTier));
  EXPECT_EQ(sim.state(), Lifecycle::created);
  sim.run();
  EXPECT_EQ(sim.state(), Lifecycle::finished);
  EXPECT_TRUE(sim.complete());
  EXPECT_EQ(sim.now(), Time::s(600));
  const Ledger l = sim.ledger();
  EXPECT_TRUE(l.balanced());
  EXPECT_GT(l.generated, 10000u);
  EXPECT_GT(l.completed, 0u);
}

TEST(Simulation, StepProcessesOneEventAtATime) {
  Simulation sim(test::load_text(kTwoTier));
  EXPECT_TRUE(sim.step());
  EXPECT_EQ(sim.events_processed(), 1u);
  EXPECT_TRUE(sim.step());
  EXPECT_EQ(sim.events_processed(), 2u);
}

TEST(Simulation, RunUntilStopsAtTheGivenTime) {
  Simulation sim(test::load_text(kTwoTier));
  EXPECT_TRUE(sim.run_until(Time::s(60)));
  EXPECT_EQ(sim.now(), Time::s(60));
  EXPECT_EQ(sim.state(), Lifecycle::running);
  EXPECT_FALSE(sim.run_until(Time::s(100000)));  // past the end: finishes at the end
  EXPECT_EQ(sim.now(), Time::s(600));
}

TEST(Simulation, DrivingInSlicesGivesTheSameResultAsOneRun) {
  // The CLI and the viewer drive in slices; results must not depend on how.
  Simulation whole(test::load_text(kTwoTier));
  whole.run();
  Simulation sliced(test::load_text(kTwoTier));
  for (int s = 1; sliced.state() != Lifecycle::finished; s += 7) sliced.run_until(Time::s(s));
  Simulation stepped(test::load_text(kTwoTier));
  while (stepped.step()) {
  }
  EXPECT_EQ(summary_json(whole), summary_json(sliced));
  EXPECT_EQ(summary_json(whole), summary_json(stepped));
}

TEST(Simulation, PauseAndResumeFollowTheLifecycle) {
  Simulation sim(test::load_text(kTwoTier));
  WindowCounter obs;
  sim.add_observer(&obs);
  sim.run_until(Time::s(10));
  sim.pause();  // between driving calls: at once
  EXPECT_EQ(sim.state(), Lifecycle::paused);
  EXPECT_THROW(sim.step(), LifecycleError);
  try {
    sim.run();
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "run_until() called while paused: call resume() first");
  }
  sim.resume();
  EXPECT_EQ(sim.state(), Lifecycle::running);
  sim.run();
  EXPECT_EQ(sim.state(), Lifecycle::finished);
  ASSERT_GE(obs.transitions.size(), 4u);
  EXPECT_EQ(obs.transitions.front(), std::make_pair(Lifecycle::created, Lifecycle::running));
  EXPECT_EQ(obs.transitions.back(), std::make_pair(Lifecycle::running, Lifecycle::finished));
}

// Pauses or stops from inside the loop, as a viewer's observer or a Ctrl-C handler would.
class ActAtWindow : public Observer {
 public:
  ActAtWindow(Simulation& sim, int at, bool stop) : sim_(sim), at_(at), stop_(stop) {}
  int windows = 0;
  void on_window(const Simulation&, const WindowReport&) override {
    if (++windows == at_) stop_ ? sim_.stop() : sim_.pause();
  }

 private:
  Simulation& sim_;
  int at_;
  bool stop_;
};

TEST(Simulation, PauseFromAnObserverTakesEffectAfterTheCurrentEvent) {
  Simulation sim(test::load_text(kTwoTier));
  ActAtWindow obs(sim, 2, /*stop=*/false);
  sim.add_observer(&obs);
  EXPECT_TRUE(sim.run_until(Time::s(600)));
  EXPECT_EQ(sim.state(), Lifecycle::paused);
  EXPECT_EQ(sim.now(), Time::s(60));  // the second 30 s window closed
  sim.resume();
  sim.run();
  EXPECT_EQ(obs.windows, 20);
}

TEST(Simulation, StopFromAnObserverEndsTheRunThere) {
  Simulation sim(test::load_text(kTwoTier));
  ActAtWindow obs(sim, 2, /*stop=*/true);
  sim.add_observer(&obs);
  EXPECT_FALSE(sim.run_until(Time::s(600)));
  EXPECT_EQ(sim.state(), Lifecycle::finished);
  EXPECT_FALSE(sim.complete());
  EXPECT_EQ(sim.now(), Time::s(60));
  EXPECT_EQ(obs.windows, 2);  // no window after the stop
  EXPECT_TRUE(sim.ledger().balanced());
}

// Stops on every window, including the last one that finishing the run delivers.
class StopAlways : public Observer {
 public:
  explicit StopAlways(Simulation& sim) : sim_(sim) {}
  int windows = 0;
  void on_window(const Simulation&, const WindowReport&) override {
    ++windows;
    sim_.stop();
  }

 private:
  Simulation& sim_;
};

TEST(Simulation, StopDuringTheFinalWindowIsHarmless) {
  Simulation sim(test::load_text(kTwoTier));
  sim.run_until(Time::s(45));  // mid-window: stop() below closes a partial window
  StopAlways obs(sim);
  sim.add_observer(&obs);
  sim.stop();
  EXPECT_EQ(sim.state(), Lifecycle::finished);
  EXPECT_EQ(obs.windows, 1);
}

TEST(Simulation, EventsAtTheLastInstantAppearInTheLastWindow) {
  // Constant 1/s for 10 s: arrivals at 1, 2, ..., 10 s. The one at exactly 10 s must be in the
  // windows as well as in the summary.
  const char* edge = R"(
duration: 10s
window: 1s
components:
  src: {kind: source, arrivals: {constant: 1/s}, target: done}
  done: {kind: sink}
)";
  struct Sum : Observer {
    uint64_t arrivals = 0;
    void on_window(const Simulation&, const WindowReport& r) override {
      arrivals += r.rows[0].arrivals;
    }
  } sum;
  Simulation sim(test::load_text(edge));
  sim.add_observer(&sum);
  sim.run();
  EXPECT_EQ(sim.find("src")->metrics().arrivals(), 10u);
  EXPECT_EQ(sum.arrivals, 10u);
}

TEST(Simulation, IllegalTransitionsThrowWithClearMessages) {
  Simulation sim(test::load_text(kTwoTier));
  try {
    sim.resume();
    FAIL() << "resume() before start should throw";
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "resume() called while created");
  }
  sim.run();
  try {
    sim.step();
    FAIL() << "step() after the end should throw";
  } catch (const LifecycleError& e) {
    EXPECT_STREQ(e.what(), "step() called after the run finished");
  }
  EXPECT_THROW(sim.pause(), LifecycleError);
}

TEST(Simulation, StopEndsEarlyAndMarksTheRunIncomplete) {
  Simulation sim(test::load_text(kTwoTier));
  sim.run_until(Time::s(90));
  sim.stop();
  EXPECT_EQ(sim.state(), Lifecycle::finished);
  EXPECT_FALSE(sim.complete());
  EXPECT_EQ(sim.now(), Time::s(90));
  EXPECT_TRUE(sim.ledger().balanced());
  EXPECT_GT(sim.ledger().in_flight + sim.ledger().completed, 0u);
}

TEST(Simulation, ObserversSeeEveryWindowIncludingThePartialLastOne) {
  // 10 minutes in 30 s windows = 20 windows; with 45 s windows, 13 full + one of 15 s.
  for (auto [window, expected] : {std::pair{"30s", 20}, std::pair{"45s", 14}}) {
    Simulation sim(test::load_text(kTwoTier, {{"window", window}}));
    WindowCounter obs;
    sim.add_observer(&obs);
    sim.run();
    EXPECT_EQ(obs.windows, expected) << window;
    EXPECT_EQ(obs.last_end, Time::s(600));
  }
}

TEST(Simulation, SameSeedSameResultsDifferentSeedDifferentResults) {
  const Scenario s = test::load_text(kTwoTier);
  Simulation a(s), b(s);
  a.run();
  b.run();
  EXPECT_EQ(summary_json(a), summary_json(b));
  Scenario other = s;
  other.seed = 4;
  Simulation c(other);
  c.run();
  EXPECT_NE(summary_json(a), summary_json(c));
}

TEST(Simulation, AddingAnUnrelatedComponentDoesNotChangeOthersDraws) {
  // Streams are derived from (seed, component name, purpose), not from creation order.
  const std::string extra = std::string(kTwoTier) + R"(
  batch:
    kind: source
    arrivals: {poisson: 3/s}
    target: batch_worker
  batch_worker:
    kind: service
    service_time: {exponential: 100ms}
)";
  Simulation base(test::load_text(kTwoTier));
  base.run();
  Simulation more(test::load_text(extra));
  more.run();
  const RunSummary a = summarize(base), b = summarize(more);
  for (const char* name : {"users", "api", "db"}) {
    const ComponentSummary& x = test::component(a, name);
    const ComponentSummary& y = test::component(b, name);
    EXPECT_EQ(x.arrivals, y.arrivals) << name;
    EXPECT_EQ(x.served, y.served) << name;
    EXPECT_EQ(x.latency.max, y.latency.max) << name;
  }
}

TEST(Simulation, LiveParameterChangeTakesEffectFromNow) {
  // An overloaded single worker (rho = 3): adding workers mid-run must drain the queue.
  const char* overloaded = R"(
duration: 20m
components:
  users: {kind: source, arrivals: {poisson: 30/s}, target: api}
  api: {kind: service, workers: 1, service_time: {exponential: 100ms}}
)";
  Simulation sim(test::load_text(overloaded));
  sim.run_until(Time::s(300));
  const int64_t queue_before = sim.find("api")->metrics().queue().level();
  EXPECT_GT(queue_before, 1000);
  EXPECT_EQ(sim.set_parameter("api", "workers", "8"), "");
  sim.run_until(Time::s(900));
  EXPECT_LT(sim.find("api")->metrics().queue().level(), 100);
  sim.run();
  EXPECT_TRUE(sim.ledger().balanced());
}

TEST(Simulation, LiveParameterErrorsSayWhatIsWrong) {
  Simulation sim(test::load_text(kTwoTier));
  EXPECT_EQ(sim.set_parameter("apii", "workers", "2"), "no component named 'apii'");
  EXPECT_EQ(sim.set_parameter("api", "wrokers", "2"),
            "no parameter 'wrokers' in 'api' (did you mean 'workers'?)");
  EXPECT_EQ(sim.set_parameter("api", "discipline", "lifo"),
            "api.discipline: cannot be changed while the simulation runs (it is not a live "
            "parameter)");
  EXPECT_NE(sim.set_parameter("api", "workers", "zero"), "");
  EXPECT_EQ(sim.set_parameter("api", "service_time", "{exponential: 50ms}"), "");
  sim.run();
  EXPECT_EQ(sim.set_parameter("api", "workers", "2"), "the run has finished");
}

TEST(Simulation, AZeroTimeCycleEndsWithAClearErrorInsteadOfSpinning) {
  const char* livelock = R"(
duration: 1m
components:
  users: {kind: source, arrivals: {closed_loop: {users: 2, think_time: 0s}}, target: done}
  done: {kind: sink}
)";
  Simulation sim(test::load_text(livelock));
  sim.set_stall_limit(10'000);
  try {
    sim.run();
    FAIL() << "a zero-time cycle must not run forever";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("simulated time stopped advancing at 0s"),
              std::string::npos)
        << e.what();
  }
}

TEST(Simulation, WarmupExcludesTheStartFromStatistics) {
  Simulation sim(test::load_text(kTwoTier, {{"warmup", "5m"}}));
  sim.run();
  const RunSummary s = summarize(sim);
  EXPECT_DOUBLE_EQ(s.measured, 300.0);
  // About 20/s over the 300 measured seconds, not 600.
  EXPECT_NEAR(static_cast<double>(test::component(s, "users").arrivals), 6000, 5 * std::sqrt(6000));
  // Workload figures follow the requests created after warm-up, so their outcomes never exceed
  // what was generated (the remainder is still in flight at the end).
  ASSERT_EQ(s.workloads.size(), 1u);
  const WorkloadSummary& w = s.workloads[0];
  EXPECT_LE(w.completed + w.failed + w.dropped + w.dead_lettered, w.generated);
  EXPECT_GE(w.completed + w.failed + w.dropped + w.dead_lettered + sim.ledger().in_flight,
            w.generated);
  // The ledger covers the whole run regardless of warm-up.
  EXPECT_NEAR(static_cast<double>(sim.ledger().generated), 12000, 5 * std::sqrt(12000));
}

}  // namespace dsim
