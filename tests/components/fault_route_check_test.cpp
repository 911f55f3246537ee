// A fault on a route - slow with `from`, network, partition - whose sides never exchange a call
// would do nothing: a load error that says so, not a silent no-op. "Exchange a call" is read from
// the components' parameters (scenario/topology.hpp, components_named_by): `users` calls `api`,
// which calls `db`; `users` never calls `db`. A partition cuts a call's answer too, so a call
// from a target to the other side crosses it; a network fault acts on the calls from `from`.
#include <gtest/gtest.h>

#include <string>

#include "components/component_support.hpp"
#include "faults/fault_controller.hpp"

namespace dsim::test {
namespace {

constexpr const char* kBase = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {poisson: 50/s}, target: api, timeout: 1s}
  api: {kind: service, workers: 8, handler: [{call: db, timeout: 200ms}]}
  db: {kind: service, workers: 4, service_time: {exponential: 10ms}}
  lonely: {kind: sink}
  other: {kind: source, arrivals: {poisson: 1/s}, target: lonely}
faults:
)";

std::string with_fault(const std::string& fault) {
  return std::string(kBase) + "  " + fault + "\n";
}

TEST(FaultRouteCheck, RoutesThatCarryNoCallAreLoadErrors) {
  const std::pair<std::string, std::string> cases[] = {
      {"f: {kind: slow, targets: [db], from: users, factor: 30}",
       "test.yaml:10:40: error: faults.f.from: 'users' never calls 'db', so no call on that route "
       "is slowed"},
      {"f: {kind: network, targets: [db], from: [users], loss: 50%}",
       "test.yaml:10:44: error: faults.f.from: none of these components calls a target, so the "
       "fault acts on no call (it acts on the calls from `from` to the targets)"},
      // db only answers api: a network fault from db to api's side acts on nothing...
      {"f: {kind: network, targets: [api], from: [db], loss: 50%}",
       "test.yaml:10:45: error: faults.f.from: none of these components calls a target, so the "
       "fault acts on no call (it acts on the calls from `from` to the targets)"},
      {"f: {kind: partition, targets: [db], from: [users]}",
       "test.yaml:10:46: error: faults.f.from: none of these components calls a target or is "
       "called by one, so the partition cuts no call"},
      // lonely is called only by other: without `from`, the other side is every other component.
      {"f: {kind: partition, targets: [lonely, other]}",
       "test.yaml:10:3: error: faults.f.targets: no other component calls them or is called by "
       "them, so the partition cuts no call"},
  };
  for (const auto& [fault, message] : cases) {
    EXPECT_EQ(load_errors(with_fault(fault)), message + "\n") << fault;
  }
}

TEST(FaultRouteCheck, RoutesThatCarryCallsAreAccepted) {
  const char* const cases[] = {
      "f: {kind: slow, targets: [db], from: api, factor: 30}",
      "f: {kind: network, targets: [db], from: [api], loss: 50%}",
      // ...but a partition between them cuts db's answers: accepted, either way round.
      "f: {kind: partition, targets: [api], from: [db], direction: one_way}",
      "f: {kind: partition, targets: [db], from: [api]}",
      "f: {kind: partition, targets: [db]}",
      "f: {kind: network, targets: [lonely], latency: 10ms}",
  };
  for (const char* fault : cases) {
    EXPECT_EQ(load_errors(with_fault(fault)), "") << fault;
  }
}

// A fault that loses or swallows calls nobody times out leaves their callers waiting for ever:
// valid (the lesson of a missing timeout), but worth a warning at load time. A `timeout` counts
// in the call's own block or an enclosing one (a consumers block, a balancer's for its
// backends).
TEST(FaultRouteCheck, LosingCallsThatHaveNoTimeoutIsAWarning) {
  const auto warnings = [](const std::string& components, const std::string& fault) {
    const LoadResult r = load_scenario_text(
        "duration: 10s\ncomponents:\n" + components + "faults:\n  " + fault + "\n", "test.yaml");
    EXPECT_TRUE(r.scenario) << r.diagnostics.to_string();
    return r.diagnostics.warnings_text();
  };
  const std::string queue =
      "  users: {kind: source, arrivals: {poisson: 20/s}, target: mem}\n"
      "  mem: {kind: queue, consumers: {target: worker, count: 2CONSUMER}}\n"
      "  worker: {kind: service, workers: 2, service_time: 5ms}\n";
  const auto with = [&](const std::string& consumer) {
    std::string c = queue;
    c.replace(c.find("CONSUMER"), 8, consumer);
    return c;
  };
  const std::string loss = "a: {kind: network, targets: [worker], from: [mem], loss: 30%}";
  EXPECT_EQ(warnings(with(""), loss),
            "test.yaml:7:3: warning: faults.a: 'mem' calls 'worker' with no timeout: a call "
            "whose message this fault loses leaves 'mem' waiting for ever, and its request in "
            "flight to the end of the run (give that call a timeout)\n");
  EXPECT_EQ(warnings(with(", timeout: 1s"), loss), "");
  EXPECT_EQ(warnings(with(""), "a: {kind: network, targets: [worker], latency: 5ms}"), "");
  // A partition cuts answers too: with worker as the target, mem (on the other side) is still
  // the caller left waiting. Reject mode answers at once.
  EXPECT_EQ(warnings(with(""), "a: {kind: partition, targets: [mem], from: [worker]}"),
            "test.yaml:7:3: warning: faults.a: 'mem' calls 'worker' with no timeout: a call "
            "whose message this fault swallows leaves 'mem' waiting for ever, and its request in "
            "flight to the end of the run (give that call a timeout)\n");
  EXPECT_EQ(warnings(with(""), "a: {kind: partition, targets: [worker], mode: reject}"), "");
  // A balancer's timeout covers its backends.
  const std::string balanced =
      "  users: {kind: source, arrivals: {poisson: 20/s}, target: lb, timeout: 2s}\n"
      "  lb: {kind: load_balancer, backends: [api], timeout: 1s}\n"
      "  api: {kind: service, service_time: 5ms}\n";
  EXPECT_EQ(warnings(balanced, "a: {kind: partition, targets: [api]}"), "");
}

// The live API checks the same: a fault that would do nothing is refused.
TEST(FaultRouteCheck, TheLiveApiRefusesARouteThatCarriesNoCall) {
  Simulation sim(load_text(std::string(kBase) + "  {}\n"));
  sim.run_until(Time::s(1));
  EXPECT_EQ(sim.faults().start("cut", "partition", {"db"}, {{"from", "[users]"}}),
            "faults.cut.from: none of these components calls a target or is called by one, so "
            "the partition cuts no call");
  EXPECT_EQ(sim.faults().start("cut", "partition", {"db"}, {{"from", "[api]"}}), "");
}

}  // namespace
}  // namespace dsim::test
