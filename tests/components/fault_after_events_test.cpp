// `after:` anchored on events of the run rather than on another fault: the end of the warm-up, a
// source's schedule step, and a threshold condition (`when:`) checked at each window's end. Exact
// start instants, chains after them, agreement of a trigger with the expectation of the same
// window, equivalence with the live API, reproducibility, and load errors with their exact
// messages.
#include <gtest/gtest.h>

#include "components/component_support.hpp"
#include "faults/fault_controller.hpp"
#include "faults/fault_trigger.hpp"
#include "output/expectation_check.hpp"

namespace dsim::test {
namespace {

// A source whose rate steps up at 20s and a steady feed, through a queue to one worker.
constexpr const char* kBase = R"(
name: after-events
duration: 60s
warmup: 10s
components:
  users:
    kind: source
    arrivals: {schedule: [{at: 0s, rate: 50/s}, {at: 20s, rate: 100/s}]}
    target: orders
  orders: {kind: queue, consumers: {target: worker, count: 1}}
  worker: {kind: service, workers: 1, service_time: 4ms}
  feed: {kind: source, arrivals: {constant: 10/s}, target: worker}
faults:
)";

std::string with_faults(const std::string& faults) {
  return std::string(kBase) + faults;
}

// Constant 400/s into a queue whose one consumer serves 250/s: the backlog grows by 150 a second,
// deterministically, and passes 500 during the window (3s, 4s] (at about 3.33s).
constexpr const char* kBacklog = R"(
name: backlog
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 400/s}, target: orders}
  orders: {kind: queue, consumers: {target: worker, count: 1}}
  worker: {kind: service, workers: 1, service_time: 4ms}
)";

const FaultWindow& window_of(const Simulation& sim, const std::string& name) {
  for (const FaultWindow& w : sim.fault_windows()) {
    if (w.name == name) return w;
  }
  throw std::runtime_error("no fault window " + name);
}

// ---- The end of the warm-up -------------------------------------------------------------------

// Warm-up 10s + offset 5s: the window opens at exactly 15s; a fault after its end (17s) + 1s at
// 18s, and one after its start + 500ms at 15.5s.
TEST(FaultAfterEvents, WarmupEndPlusOffsetStartsExactlyThereAndChainsFollow) {
  auto sim = run_checked(with_faults(
      R"(  warm: {kind: slow, targets: [worker], after: {event: warmup_end, offset: 5s}, duration: 2s, factor: 2}
  next: {kind: slow, targets: [worker], after: {fault: warm, offset: 1s}, duration: 1s, factor: 2}
  beside: {kind: error_rate, targets: [worker], after: {fault: warm, edge: start, offset: 500ms}, duration: 1s, fraction: 0.1}
)"));
  ASSERT_EQ(sim->fault_windows().size(), 3u);
  EXPECT_EQ(window_of(*sim, "warm").start, Time::s(15));
  EXPECT_EQ(window_of(*sim, "warm").end, Time::s(17));
  EXPECT_EQ(window_of(*sim, "beside").start, Time::ms(15'500));
  EXPECT_EQ(window_of(*sim, "next").start, Time::s(18));
  EXPECT_EQ(window_of(*sim, "next").end, Time::s(19));
}

TEST(FaultAfterEvents, WarmupEndFollowsTheWarmupInForceAndIsZeroWithoutOne) {
  const std::string fault =
      "  warm: {kind: slow, targets: [worker], after: {event: warmup_end, offset: 5s}, factor: "
      "2}\n";
  auto moved = run_to_end(load_text(with_faults(fault), {{"warmup", "20s"}}));
  EXPECT_EQ(window_of(*moved, "warm").start, Time::s(25));
  auto none = run_to_end(load_text(with_faults(fault), {{"warmup", "0s"}}));
  EXPECT_EQ(window_of(*none, "warm").start, Time::s(5));
}

// With no offset the fault starts at the warm-up's instant, after the warm-up has ended (the
// measured period has begun when the fault acts).
TEST(FaultAfterEvents, AFaultAtTheWarmupEndStartsAfterIt) {
  Simulation sim(load_text(with_faults(
      "  warm: {kind: slow, targets: [worker], after: {event: warmup_end}, factor: 2}\n")));
  sim.run_until(Time::s(10) - Time::ns(1));
  EXPECT_EQ(sim.faults().find_active("warm"), nullptr);
  EXPECT_EQ(sim.measured_since(), Time::zero());
  sim.run_until(Time::s(10));
  ASSERT_NE(sim.faults().find_active("warm"), nullptr);
  EXPECT_EQ(sim.measured_since(), Time::s(10));
  EXPECT_EQ(window_of(sim, "warm").start, Time::s(10));
}

// ---- A source's schedule step -----------------------------------------------------------------

TEST(FaultAfterEvents, ScheduleStepStartsAtTheStepPlusTheOffset) {
  const std::string faults =
      R"(  peak: {kind: cpu_stress, targets: [worker], after: {event: schedule_step, of: users, step: 1, offset: 3s}, duration: 5s, fraction: 0.5}
  first: {kind: slow, targets: [worker], after: {event: schedule_step, of: users, step: 0}, duration: 1s, factor: 2}
)";
  auto sim = run_checked(with_faults(faults));
  EXPECT_EQ(window_of(*sim, "peak").start, Time::s(23));
  EXPECT_EQ(window_of(*sim, "peak").end, Time::s(28));
  EXPECT_EQ(window_of(*sim, "first").start, Time::zero());
  // The step is the source's own: a schedule changed by --set moves the fault with it.
  auto moved = run_to_end(load_text(
      with_faults(faults),
      {{"components.users.arrivals", "{schedule: [{at: 0s, rate: 50/s}, {at: 30s, rate: 9/s}]}"}}));
  EXPECT_EQ(window_of(*moved, "peak").start, Time::s(33));
}

// ---- A threshold condition --------------------------------------------------------------------

// The backlog passes 500 inside (3s, 4s]: the first window end at which the condition holds is
// 4s, and the fault starts there plus its offset; a fault after it chains on.
TEST(FaultAfterEvents, WhenStartsAtTheFirstWindowEndWhereTheConditionHolds) {
  auto sim = run_checked(std::string(kBacklog) + R"(faults:
  backlog: {kind: slow, targets: [worker], after: {when: "max(queue.depth, of: orders) > 500", offset: 500ms}, duration: 2s, factor: 2}
  then: {kind: error_rate, targets: [worker], after: backlog, duration: 1s, fraction: 0.5}
)");
  ASSERT_EQ(sim->fault_windows().size(), 2u);
  EXPECT_EQ(window_of(*sim, "backlog").start, Time::ms(4'500));
  EXPECT_EQ(window_of(*sim, "backlog").end, Time::ms(6'500));
  EXPECT_EQ(window_of(*sim, "then").start, Time::ms(6'500));
  EXPECT_EQ(window_of(*sim, "then").end, Time::ms(7'500));
}

// The trigger reads a window exactly as an expectation `during` that window does: the
// expectation passes over (3s, 4s] and fails over (2s, 3s], so 4s is the first window end.
TEST(FaultAfterEvents, ATriggerAgreesWithTheExpectationOverTheSameWindow) {
  const std::string yaml = std::string(kBacklog) + R"(expect:
  - {that: "max(queue.depth, of: orders) > 500", during: [2s, 3s]}
  - {that: "max(queue.depth, of: orders) > 500", during: [3s, 4s]}
faults:
  backlog: {kind: slow, targets: [worker], after: {when: "max(queue.depth, of: orders) > 500"}, factor: 2}
)";
  Scenario s = load_text(yaml);
  Simulation sim(s);
  ExpectationCheck check(sim, s.expectations);
  sim.run();
  const std::vector<ExpectationResult> r = check.results(sim);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_FALSE(r[0].passed) << r[0].measured;
  EXPECT_TRUE(r[1].passed) << r[1].measured;
  EXPECT_EQ(window_of(sim, "backlog").start, Time::s(4));
}

// A trigger's value of each window is the figure the window report (and timeseries.csv) shows
// for that component and window, function by function.
class TriggerValues final : public Observer {
 public:
  explicit TriggerValues(const std::vector<std::string>& measures_text) {
    ExpectationNames names;
    names.components = {"users", "orders", "worker"};
    for (const std::string& text : measures_text) {
      ParseProblem problem;
      // (Any threshold in the measure's unit: only the measure is kept.)
      const bool rate = text.rfind("rate(", 0) == 0;
      std::optional<Expectation> e =
          parse_expectation(text + (rate ? " > 0/s" : " > 0"), names, problem);
      EXPECT_TRUE(e) << text << ": " << problem.message;
      if (e) {
        EXPECT_EQ(trigger_problem(*e), "") << text;
        measures.push_back(e->measure);
      }
    }
  }
  void on_window(const Simulation& sim, const WindowReport& w) override {
    auto& row = values.emplace_back();
    for (const Measure& m : measures) {
      const StationMetrics& metrics = find_component(sim, m.scope_name).metrics();
      row.push_back(window_value(m, metrics, w.start, w.end));
    }
    reports.push_back(w);
  }
  std::vector<Measure> measures;
  std::vector<std::vector<std::optional<double>>> values;  // per window, per measure
  std::vector<WindowReport> reports;
};

TEST(FaultAfterEvents, ATriggersWindowValueIsTheWindowReportsFigure) {
  const std::string yaml = R"(
name: figures
duration: 6s
seed: 3
window: 500ms
components:
  users: {kind: source, arrivals: {poisson: 300/s}, target: orders}
  orders: {kind: queue, consumers: {target: worker, count: 2}}
  worker: {kind: service, workers: 2, service_time: {exponential: 6ms}}
faults:
  errors: {kind: error_rate, targets: [worker], at: 1s, duration: 2s, fraction: 0.2}
)";
  TriggerValues t(
      {"max(queue.depth, of: orders)", "last(queue.depth, of: orders)",
       "last(in_flight, of: worker)", "p50(latency, of: worker)", "p90(latency, of: worker)",
       "p99(latency, of: worker)", "max(latency, of: worker)", "mean(latency, of: worker)",
       "count(arrivals, of: worker)", "count(completed, of: worker)", "count(lost, of: worker)",
       "count(failed.error, of: worker)", "rate(arrivals, of: worker)", "utilization(worker)",
       "error_ratio(worker)", "count(redeliveries, of: orders)"});
  auto sim = run_checked(yaml, {&t});
  ASSERT_EQ(t.reports.size(), 12u);
  const uint32_t orders = find_component(*sim, "orders").index();
  const uint32_t worker = find_component(*sim, "worker").index();
  uint64_t lost_seen = 0;
  for (size_t k = 0; k < t.reports.size(); ++k) {
    SCOPED_TRACE("window " + std::to_string(k));
    const WindowRow& q = t.reports[k].rows[orders];
    const WindowRow& w = t.reports[k].rows[worker];
    const auto& v = t.values[k];
    const double ns = 1e-9;
    ASSERT_GT(w.latency_count, 0u);
    const double expected[] = {
        static_cast<double>(q.queue_depth_max),
        static_cast<double>(q.queue_depth),
        static_cast<double>(w.in_system),
        static_cast<double>(w.latency_p50_ns) * ns,
        static_cast<double>(w.latency_p90_ns) * ns,
        static_cast<double>(w.latency_p99_ns) * ns,
        static_cast<double>(w.latency_max_ns) * ns,
        w.latency_mean_ns * ns,
        static_cast<double>(w.arrivals),
        static_cast<double>(w.served),
        static_cast<double>(w.lost),
        static_cast<double>(w.lost_by_reason[static_cast<int>(Reason::error)]),
        static_cast<double>(w.arrivals) / 0.5,
        w.utilization,
        static_cast<double>(w.lost) / static_cast<double>(w.lost + w.served),
        static_cast<double>(q.counters[static_cast<int>(Counter::redeliveries)]),
    };
    ASSERT_EQ(v.size(), std::size(expected));
    for (size_t i = 0; i < v.size(); ++i) {
      ASSERT_TRUE(v[i].has_value()) << "measure " << i;
      EXPECT_DOUBLE_EQ(*v[i], expected[i]) << "measure " << i;
    }
    lost_seen += w.lost;
  }
  EXPECT_GT(lost_seen, 0u);  // the error figures were exercised
}

// Once triggered a fault starts once, however long the condition keeps holding; a condition that
// never holds never starts its fault.
TEST(FaultAfterEvents, ATriggerFiresOnceAndNeverWhenTheConditionNeverHolds) {
  auto sim = run_checked(std::string(kBacklog) + R"(faults:
  once: {kind: slow, targets: [worker], after: {when: "last(queue.depth, of: orders) >= 100"}, duration: 1s, factor: 2}
  never: {kind: slow, targets: [worker], after: {when: "p99(latency, of: worker) > 1s"}, factor: 2}
)");
  ASSERT_EQ(sim->fault_windows().size(), 1u);
  EXPECT_EQ(sim->fault_windows()[0].name, "once");
  EXPECT_EQ(sim->fault_windows()[0].start, Time::s(1));  // ~150 waiting at 1s
  EXPECT_EQ(sim->fault_windows()[0].end, Time::s(2));
}

// ---- One code path and determinism ------------------------------------------------------------

// The faults a warm-up end and a trigger start, started instead live at the instants they
// resolved to, give a byte-identical summary but for the timeline's own start events.
TEST(FaultAfterEvents, TheLiveApiAtTheResolvedInstantsGivesTheSameRun) {
  const std::string base = std::string(kBacklog) + "warmup: 2s\n";
  auto a = run_checked(base + R"(faults:
  warm: {kind: cpu_stress, targets: [worker], after: {event: warmup_end, offset: 1500ms}, duration: 1s, fraction: 0.25}
  backlog: {kind: slow, targets: [worker], after: {when: "max(queue.depth, of: orders) > 500", offset: 500ms}, duration: 2s, factor: 2}
)");
  ASSERT_EQ(a->fault_windows().size(), 2u);
  EXPECT_EQ(window_of(*a, "warm").start, Time::ms(3'500));
  const Time triggered = window_of(*a, "backlog").start;

  Simulation b(load_text(base));
  b.run_until(Time::ms(3'500));
  EXPECT_EQ(b.faults().start("warm", "cpu_stress", {"worker"},
                             {{"fraction", "0.25"}, {"duration", "1s"}}),
            "");
  b.run_until(triggered);
  EXPECT_EQ(b.faults().start("backlog", "slow", {"worker"}, {{"factor", "2"}, {"duration", "2s"}}),
            "");
  b.run();
  EXPECT_TRUE(Balanced(b));
  RunSummary from_timeline = summarize(*a), from_live = summarize(b);
  EXPECT_EQ(from_timeline.engine.events, from_live.engine.events + 2);  // the two starts
  from_timeline.engine.events = from_live.engine.events = 0;
  EXPECT_EQ(format_summary_json(from_timeline, false), format_summary_json(from_live, false));
}

TEST(FaultAfterEvents, TheSameSeedGivesTheSameBytes) {
  const std::string yaml = R"(
name: random-backlog
duration: 20s
warmup: 2s
seed: 7
components:
  users: {kind: source, arrivals: {poisson: 300/s}, target: orders}
  orders: {kind: queue, consumers: {target: worker, count: 1}}
  worker: {kind: service, workers: 1, service_time: {exponential: 4ms}}
faults:
  warm: {kind: slow, targets: [worker], after: {event: warmup_end, offset: 1s}, duration: 1s, factor: 1.5}
  backlog: {kind: cpu_stress, targets: [worker], after: {when: "max(queue.depth, of: orders) > 200", offset: 250ms}, duration: 2s, fraction: 0.3}
  after-it: {kind: slow, targets: [worker], after: backlog, duration: 1s, factor: 2}
)";
  expect_reproducible(yaml);
  auto sim = run_checked(yaml);
  EXPECT_EQ(sim->fault_windows().size(), 3u);
}

// ---- Load errors ------------------------------------------------------------------------------

TEST(FaultAfterEventsLoadErrors, MessagesSayWhatIsWrongAndWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: warmup_ned}}\n",
       "test.yaml:14:64: error: faults.f.after.event: unknown value 'warmup_ned' (did you mean "
       "'warmup_end'?); expected warmup_end or schedule_step"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: schedule_step, of: usres, "
       "step: 1}}\n",
       "test.yaml:14:83: error: faults.f.after.of: no component named 'usres' (did you mean "
       "'users'?)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: schedule_step, of: orders, "
       "step: 1}}\n",
       "test.yaml:14:83: error: faults.f.after.of: 'orders' is a queue; schedule_step follows a "
       "source's arrival schedule"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: schedule_step, of: feed, "
       "step: 1}}\n",
       "test.yaml:14:83: error: faults.f.after.of: 'feed' has constant arrivals; schedule_step "
       "follows the entries of arrivals: {schedule: [...]}"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: schedule_step, of: users, "
       "step: 2}}\n",
       "test.yaml:14:96: error: faults.f.after.step: the schedule of 'users' has 2 steps (0 to 1), "
       "got 2"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: schedule_step, of: "
       "users}}\n",
       "test.yaml:14:56: error: faults.f.after: schedule_step needs of (the source) and step (the "
       "entry of its schedule, from 0)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: warmup_end, of: users}}\n",
       "test.yaml:14:56: error: faults.f.after: of belongs to event: schedule_step"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: warmup_end, edge: start}}\n",
       "test.yaml:14:56: error: faults.f.after: edge belongs to fault (an event or a condition has "
       "no start and end)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {event: warmup_end, when: 'lost > "
       "0'}}\n",
       "test.yaml:14:56: error: faults.f.after: give exactly one of fault, event or when (what "
       "this fault follows)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {offset: 1s}}\n",
       "test.yaml:14:56: error: faults.f.after: give exactly one of fault, event or when (what "
       "this fault follows)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {evnt: warmup_end}}\n",
       "test.yaml:14:57: error: faults.f.after: unknown key 'evnt' (did you mean 'event'?); valid "
       "keys: fault, edge, event, of, step, when or offset"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {when: 'max(queue.depth, of: "
       "ordres) > 500'}}\n",
       "test.yaml:14:85: error: faults.f.after.when: unknown component 'ordres' (did you mean "
       "'orders'?)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {when: 'max(queue.dpth, of: "
       "orders) > 500'}}\n",
       "test.yaml:14:68: error: faults.f.after.when: unknown metric 'queue.dpth' (did you mean "
       "'queue.depth'?)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {when: 'max(queue.depth, of: "
       "orders) > 5s'}}\n",
       "test.yaml:14:95: error: faults.f.after.when: 'max(queue.depth, of: orders)' is a number: "
       "expected a number such as 50, 2.5 or 10k, got '5s'"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {when: 'p99(latency) > 1s'}}\n",
       "test.yaml:14:63: error: faults.f.after.when: a trigger watches one component: say which "
       "with 'of: <component>' (or error_ratio(<component>)); workload and whole-system figures "
       "are not kept per window"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {when: 'recovery_time(p99(latency, "
       "of: worker), after: g, within: 10%) > 1s'}}\n"
       "  g: {kind: slow, targets: [worker], factor: 2, at: 1s, duration: 1s}\n",
       "test.yaml:14:63: error: faults.f.after.when: recovery_time measures a stretch of the run "
       "after a fault, not one window; a trigger needs a measure of one window"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: warmup_end}\n",
       "test.yaml:14:56: error: faults.f.after: no fault named 'warmup_end' (the scenario has no "
       "other fault); to follow the event, write after: {event: warmup_end}"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {fault: g}}\n",
       "test.yaml:14:64: error: faults.f.after: no fault named 'g' (the scenario has no other "
       "fault)"},
      {"  f: {kind: slow, targets: [worker], factor: 2, after: {fault: g}}\n"
       "  g: {kind: slow, targets: [worker], factor: 2, after: {fault: f}}\n",
       "test.yaml:14:64: error: faults.f.after: the chain of after: comes back to 'f' (a cycle "
       "never starts)"},
  };
  for (const auto& [faults, expected] : cases) {
    const std::string errors = load_errors(with_faults(faults));
    EXPECT_EQ(errors.substr(0, errors.find('\n')), expected) << faults;
  }
}

// A chain that ends at an event or a condition is no cycle.
TEST(FaultAfterEventsLoadErrors, AChainEndingAtAnEventOrAConditionLoads) {
  const std::string yaml = with_faults(
      R"(  a: {kind: slow, targets: [worker], factor: 2, after: {event: warmup_end}, duration: 1s}
  b: {kind: slow, targets: [worker], factor: 2, after: a, duration: 1s}
  c: {kind: slow, targets: [worker], factor: 2, after: {when: 'max(queue.depth, of: orders) > 1'}, duration: 1s}
  d: {kind: slow, targets: [worker], factor: 2, after: c}
)");
  EXPECT_EQ(load_errors(yaml), "");
}

}  // namespace
}  // namespace dsim::test
