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
