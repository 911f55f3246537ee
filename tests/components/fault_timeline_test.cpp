// The fault framework: the timeline (at, after, duration, end, ramps), the live API (start,
// change, clear) and its equivalence with the timeline, fault windows in the outputs, and load
// errors with their exact messages.
#include <gtest/gtest.h>

#include "components/component_support.hpp"
#include "faults/fault_controller.hpp"

namespace dsim::test {
namespace {

const FaultState& state_of(const Simulation& sim, const std::string& name) {
  return find_component(sim, name).faults();
}

// A service at 10/s, constant 10 ms: nothing queues, every figure can be worked out by hand.
constexpr const char* kBase = R"(
name: faults
duration: 60s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: api}
  api: {kind: service, workers: 2, service_time: 10ms}
)";

std::string with_faults(const std::string& faults) {
  return std::string(kBase) + "faults:\n" + faults;
}

// ---- Timeline -------------------------------------------------------------------------------

TEST(FaultTimeline, AtAndDurationOpenAndCloseTheWindow) {
  auto sim =
      run_checked(with_faults("  slowdown: {kind: slow, targets: [api], at: 10s, "
                              "duration: 5s, factor: 3}\n"));
  ASSERT_EQ(sim->fault_windows().size(), 1u);
  const FaultWindow& w = sim->fault_windows()[0];
  EXPECT_EQ(w.name, "slowdown");
  EXPECT_EQ(w.kind, "slow");
  EXPECT_EQ(w.targets, std::vector<std::string>{"api"});
  EXPECT_EQ(w.start, Time::s(10));
  EXPECT_EQ(w.end, Time::s(15));
}

TEST(FaultTimeline, TheStateFollowsTheWindowExactly) {
  Simulation sim(
      load_text(with_faults("  slowdown: {kind: slow, targets: [api], at: 10s, "
                            "end: 15s, factor: 3, latency: 2ms}\n")));
  sim.run_until(Time::s(10) - Time::ns(1));
  EXPECT_FALSE(state_of(sim, "api").active);
  sim.run_until(Time::s(10));
  EXPECT_TRUE(state_of(sim, "api").active);
  EXPECT_EQ(state_of(sim, "api").time_factor, 3);
  EXPECT_EQ(state_of(sim, "api").stretch(Time::ms(10), 0), Time::ms(32));
  sim.run_until(Time::s(15));
  EXPECT_FALSE(state_of(sim, "api").active);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
}

// `after` follows another fault's start or end, plus an offset; a chain starts in order.
TEST(FaultTimeline, AfterFollowsTheStartOrTheEndOfAnotherFault) {
  auto sim = run_checked(with_faults(
      R"(  first: {kind: cpu_stress, targets: [api], at: 5s, duration: 10s, fraction: 0.5}
  second: {kind: error_rate, targets: [api], after: {fault: first, edge: start, offset: 2s}, duration: 1s, fraction: 0.1}
  third: {kind: slow, targets: [api], after: first, duration: 1s, factor: 2}
  fourth: {kind: slow, targets: [api], after: {fault: third, offset: 500ms}, factor: 2}
)"));
  const auto& w = sim->fault_windows();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_EQ(w[0].name, "first");
  EXPECT_EQ(w[1].name, "second");
  EXPECT_EQ(w[1].start, Time::s(7));
  EXPECT_EQ(w[1].end, Time::s(8));
  EXPECT_EQ(w[2].name, "third");
  EXPECT_EQ(w[2].start, Time::s(15));
  EXPECT_EQ(w[3].name, "fourth");
  EXPECT_EQ(w[3].start, Time::ms(16'500));
  EXPECT_TRUE(w[3].active());  // no end: active when the run ends
}

// A ramp of 4 steps over 4s: the factor climbs 1 + (3-1) x {1/8, 3/8, 5/8, 7/8}, then holds at 3,
// then falls through the mirror image before the end.
TEST(FaultTimeline, RampsChangeTheIntensityInEqualStepsAtTheirMidpointValues) {
  Simulation sim(
      load_text(with_faults("  ramped: {kind: slow, targets: [api], at: 10s, "
                            "duration: 20s, factor: 3, ramp_in: 4s, ramp_out: 4s, "
                            "ramp_steps: 4}\n")));
  const double in[] = {1.25, 1.75, 2.25, 2.75};
  for (int k = 0; k < 4; ++k) {
    sim.run_until(Time::s(10 + k) + Time::ms(500));
    EXPECT_DOUBLE_EQ(state_of(sim, "api").time_factor, in[k]) << "ramp-in step " << k;
  }
  sim.run_until(Time::s(20));
  EXPECT_DOUBLE_EQ(state_of(sim, "api").time_factor, 3);
  for (int k = 0; k < 4; ++k) {
    sim.run_until(Time::s(26 + k) + Time::ms(500));
    EXPECT_DOUBLE_EQ(state_of(sim, "api").time_factor, in[3 - k]) << "ramp-out step " << k;
  }
  sim.run_until(Time::s(30));
  EXPECT_FALSE(state_of(sim, "api").active);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
}

TEST(FaultTimeline, TargetsByKindAndByLoadBalancerBackendFraction) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: lb}
  lb: {kind: load_balancer, backends: [a, b, c, d]}
  a: {kind: service, service_time: 1ms}
  b: {kind: service, service_time: 1ms}
  c: {kind: service, service_time: 1ms}
  d: {kind: service, service_time: 1ms}
faults:
  half: {kind: cpu_stress, targets: [{backends_of: lb, fraction: 0.5}], at: 1s, fraction: 0.5}
  all: {kind: slow, targets: [{kind: service}], at: 2s, factor: 2}
  some: {kind: slow, targets: [{kind: service, fraction: 0.3}], at: 3s, factor: 2}
)";
  auto sim = run_checked(yaml);
  const auto& w = sim->fault_windows();
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0].targets, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(w[1].targets, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(w[2].targets, (std::vector<std::string>{"a", "b"}));  // ceil(0.3 x 4) = 2
}

TEST(FaultTimeline, SameSeedAndTimelineGiveIdenticalResults) {
  expect_reproducible(
      with_faults(R"(  boom: {kind: crash, targets: [api], at: 5s, restart_after: 3s}
  errors: {kind: error_rate, targets: [api], at: 20s, duration: 10s, fraction: 0.3, ramp_in: 2s}
)"));
}

// ---- The live API ---------------------------------------------------------------------------

// The same faults, once from the timeline and once live while paused at the same instants, give
// byte-identical summaries (fault windows included), but for the engine's count of events: the
// timeline's own start and end events are events too.
TEST(FaultLiveApi, StartChangeAndClearWhilePausedMatchTheTimeline) {
  const std::string timeline =
      with_faults(R"(  slowdown: {kind: slow, targets: [api], at: 10s, duration: 10s, factor: 4}
  errors: {kind: error_rate, targets: [api], at: 12s, end: 30s, fraction: 0.2}
)");
  auto a = run_checked(timeline);

  Simulation b(load_text(kBase));
  b.run_until(Time::s(10));
  b.pause();
  EXPECT_EQ(b.faults().start("slowdown", "slow", {"api"}, {{"factor", "4"}, {"duration", "10s"}}),
            "");
  b.resume();
  b.run_until(Time::s(12));
  b.pause();
  EXPECT_EQ(b.faults().start("errors", "error_rate", {"api"}, {{"fraction", "0.1"}}), "");
  EXPECT_EQ(b.faults().change("errors", "fraction", "0.2"), "");
  b.resume();
  b.run_until(Time::s(30));
  EXPECT_EQ(b.faults().clear("errors"), "");
  b.run();
  EXPECT_TRUE(Balanced(b));
  RunSummary from_timeline = summarize(*a), from_live = summarize(b);
  EXPECT_EQ(from_timeline.engine.events, from_live.engine.events + 3);  // 2 starts, 1 end
  from_timeline.engine.events = from_live.engine.events = 0;
  EXPECT_EQ(format_summary_json(from_timeline, false), format_summary_json(from_live, false));
}

TEST(FaultLiveApi, ChangingTheDurationReplansTheEnd) {
  Simulation sim(load_text(kBase));
  sim.run_until(Time::s(5));
  ASSERT_EQ(sim.faults().start("s", "slow", {"api"}, {{"factor", "2"}, {"duration", "10s"}}), "");
  EXPECT_EQ(sim.faults().change("s", "duration", "2s"), "");
  sim.run_until(Time::s(7));
  EXPECT_FALSE(state_of(sim, "api").active);
  EXPECT_EQ(sim.fault_windows()[0].end, Time::s(7));
  sim.run();
}

TEST(FaultLiveApi, BadInputIsAnsweredInTheLoadersWords) {
  Simulation sim(load_text(kBase));
  auto& f = sim.faults();
  EXPECT_EQ(f.start("x", "slwo", {"api"}, {{"factor", "2"}}),
            "unknown fault kind 'slwo' (did you mean 'slow'?); known kinds: partition, network, "
            "crash, disk_full, "
            "slow, error_rate, cpu_stress or clock_skew");
  EXPECT_EQ(f.start("x", "slow", {"apu"}, {{"factor", "2"}}),
            "faults.x.targets[0]: no component named 'apu' (did you mean 'api'?)");
  EXPECT_EQ(f.start("x", "slow", {"api"}, {{"factr", "2"}}),
            "no parameter 'factr' in 'x' (did you mean 'factor'?)");
  EXPECT_EQ(f.start("x", "slow", {"api"}, {}),
            "x: give factor, latency or both (how much slower?)");
  EXPECT_EQ(f.start("x", "disk_full", {"api"}, {}),
            "faults.x: disk_full cannot act on 'api' (only a database or a durable queue writes to "
            "disk)");
  ASSERT_EQ(f.start("x", "slow", {"api"}, {{"factor", "2"}}), "");
  EXPECT_EQ(f.start("x", "slow", {"api"}, {{"factor", "2"}}),
            "a fault named 'x' is already active");
  EXPECT_EQ(f.change("x", "factor", "-1"),
            "x.factor: must be between 0.001 and 1e+06, got -1 (factor: Service times are "
            "multiplied by this.)");
  EXPECT_EQ(f.change("x", "ramp_in", "1s"),
            "x.ramp_in: cannot be changed while the simulation runs (it is not a live parameter)");
  EXPECT_EQ(f.change("y", "factor", "2"), "no active fault named 'y'");
  EXPECT_EQ(f.clear("y"), "no active fault named 'y'");
  EXPECT_EQ(f.clear("x"), "");
  sim.run();
  EXPECT_EQ(f.start("z", "slow", {"api"}, {{"factor", "2"}}), "the run has finished");
}

// ---- Outputs --------------------------------------------------------------------------------

TEST(FaultOutputs, TheSummaryListsFaultWindows) {
  auto sim =
      run_checked(with_faults("  slowdown: {kind: slow, targets: [api], at: 10s, "
                              "duration: 5s, factor: 3}\n"
                              "  forever: {kind: cpu_stress, targets: [api], at: 20s, "
                              "fraction: 0.1}\n"));
  const RunSummary s = summarize(*sim);
  const std::string text = format_summary_text(s);
  EXPECT_NE(text.find("faults\n"
                      "  fault           kind  targets  start       end\n"
                      "  slowdown        slow      api    10s       15s\n"
                      "  forever   cpu_stress      api    20s  (active)\n"),
            std::string::npos)
      << text;
  const std::string json = format_summary_json(s, false);
  EXPECT_NE(json.find(R"("faults": [
    {
      "name": "slowdown",
      "kind": "slow",
      "targets": [
        "api"
      ],
      "start_s": 10,
      "end_s": 15
    },
    {
      "name": "forever",
      "kind": "cpu_stress",
      "targets": [
        "api"
      ],
      "start_s": 20,
      "end_s": null
    }
  ],)"),
            std::string::npos)
      << json;
}

// ---- Load errors ----------------------------------------------------------------------------

TEST(FaultLoadErrors, MessagesSayWhatIsWrongAndWhere) {
  const std::pair<const char*, const char*> cases[] = {
      {"  f: {kind: slwo, targets: [api], factor: 2}\n",
       "test.yaml:8:13: error: faults.f.kind: unknown fault kind 'slwo' (did you mean 'slow'?); "
       "known kinds: partition, network, crash, disk_full, slow, error_rate, cpu_stress or "
       "clock_skew"},
      {"  f: {kind: slow, targets: [api], factr: 2}\n",
       "test.yaml:8:35: error: faults.f (slow): unknown key 'factr' (did you mean 'factor'?); "
       "valid keys: kind, targets, at, after, duration, end, ramp_in, ramp_out, ramp_steps, "
       "factor, latency or from"},
      {"  f: {kind: slow, targets: [apu], factor: 2}\n",
       "test.yaml:8:29: error: faults.f.targets[0]: no component named 'apu' (did you mean "
       "'api'?)"},
      {"  f: {kind: slow, targets: [{kind: servce}], factor: 2}\n",
       "test.yaml:8:3: error: faults.f.targets[0].kind: no component of kind 'servce' (did you "
       "mean 'service'?); the scenario has source or service"},
      {"  f: {kind: slow, targets: [api], factor: 2, after: g}\n",
       "test.yaml:8:53: error: faults.f.after: no fault named 'g' (the scenario has no other "
       "fault)"},
      {"  f: {kind: slow, targets: [api], factor: 2, at: 1s, after: g}\n",
       "test.yaml:8:3: error: faults.f: give at or after, not both"},
      {"  f: {kind: slow, targets: [api], factor: 2, duration: 1s, end: 3s}\n",
       "test.yaml:8:3: error: faults.f: give duration or end, not both"},
      {"  f: {kind: slow, targets: [api], factor: 2, duration: 2s, ramp_in: 1500ms, ramp_out: "
       "1s}\n",
       "test.yaml:8:3: error: faults.f: ramp_in + ramp_out (2.5s) must fit in the fault's length "
       "(2s)"},
      {"  f: {kind: crash, targets: [api], ramp_in: 1s}\n",
       "test.yaml:8:3: error: faults.f: this kind is on or off: it cannot ramp (remove ramp_in and "
       "ramp_out)"},
      {"  f: {kind: slow, factor: 2}\n",
       "test.yaml:8:3: error: faults.f: missing required key 'targets' (the components the fault "
       "acts on)"},
      {"  f: {kind: error_rate, targets: [api]}\n",
       "test.yaml:8:6: error: faults.f: missing required key 'fraction' (Fraction of calls "
       "answered with `error`.)"},
      {"  f: {kind: disk_full, targets: [api]}\n",
       "test.yaml:8:3: error: faults.f: disk_full cannot act on 'api' (only a database or a "
       "durable queue writes to disk)"},
      {"  f: {kind: slow, targets: [api], factor: 2, from: usrs}\n",
       "test.yaml:8:52: error: faults.f.from: no component named 'usrs' (did you mean 'users'?)"},
      {"  f: {kind: slow, targets: [api], factor: 2, after: g}\n"
       "  g: {kind: slow, targets: [api], factor: 2, after: f}\n",
       "test.yaml:8:53: error: faults.f.after: the chain of after: comes back to 'f' (a cycle "
       "never starts)"},
  };
  for (const auto& [faults, expected] : cases) {
    const std::string errors = load_errors(with_faults(faults));
    EXPECT_EQ(errors.substr(0, errors.find('\n')), expected) << faults;
  }
}

}  // namespace
}  // namespace dsim::test

namespace dsim::test {
namespace {

// A fault that starts when the run is over loads (a shorter run by override is legitimate) but
// is most likely a typo (90s for 9s): a warning says it never acts.
TEST(FaultTimeline, AFaultThatStartsAfterTheRunEndsIsAWarning) {
  const std::string yaml = R"(
duration: 60s
components:
  users: {kind: source, arrivals: {poisson: 5/s}, target: db}
  db: {kind: service, workers: 4, service_time: {exponential: 10ms}}
faults:
  late: {kind: slow, targets: [db], factor: 2, at: 90s}
  edge: {kind: slow, targets: [db], factor: 2, at: 60s}
  fine: {kind: slow, targets: [db], factor: 2, at: 59s}
)";
  const LoadResult r = load_scenario_text(yaml, "test.yaml");
  ASSERT_TRUE(r.scenario);
  EXPECT_EQ(r.diagnostics.warnings_text(),
            "test.yaml:7:3: warning: faults.late: starts at 90s, when the run (60s) is over: it "
            "never acts\n"
            "test.yaml:8:3: warning: faults.edge: starts at 60s, when the run (60s) is over: it "
            "never acts\n");
  EXPECT_EQ(r.diagnostics.to_string(), "");
}

}  // namespace
}  // namespace dsim::test
