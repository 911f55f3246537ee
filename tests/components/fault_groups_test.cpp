// A group of the scenario's `groups:` stands for its members: a partition between two groups is
// the same partition written with the components' names - the same run, byte for byte, in the
// summary (text and JSON) and in faults.json. (Load-time errors: tests/scenario/groups_test.cpp.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "components/component_support.hpp"
#include "faults/fault_controller.hpp"
#include "output/faults_json.hpp"

namespace dsim::test {
namespace {

// Two API instances behind a load balancer call a cache (backed by a store) and a database; the
// cut between the API tier and the storage tier lasts from 5s to 10s.
std::string tiers(const std::string& groups, const std::string& targets, const std::string& from) {
  const std::string api =
      "{kind: service, workers: 16, handler: [{call: sessions, timeout: 100ms}, "
      "{call: db, op: put, timeout: 200ms}]}\n";
  return "name: tiers\nseed: 3\nduration: 20s\ncomponents:\n"
         "  users: {kind: source, arrivals: {poisson: 100/s}, target: lb, timeout: 1s}\n"
         "  lb: {kind: load_balancer, backends: [api-1, api-2]}\n"
         "  api-1: " +
         api + "  api-2: " + api +
         "  sessions: {kind: cache, backing: session-store}\n"
         "  session-store: {kind: service, service_time: {exponential: 2ms}}\n"
         "  db: {kind: database, queries: [{name: put, kind: write, time: {exponential: 3ms}}]}\n" +
         groups +
         "faults:\n"
         "  cut:\n    kind: partition\n    at: 5s\n    duration: 5s\n    targets: " +
         targets + "\n    from: " + from + "\n";
}

struct Outputs {
  std::string text, json, faults;
  uint64_t timeouts = 0;
  std::vector<std::string> targets;  // of the fault window
};

Outputs run(const std::string& yaml) {
  auto sim = run_checked(yaml);
  const RunSummary s = summarize(*sim);
  return {format_summary_text(s), format_summary_json(s, /*include_engine=*/false),
          format_faults_json(*sim),
          metrics_of(*sim, "api-1").counter(Counter::timeouts) +
              metrics_of(*sim, "api-2").counter(Counter::timeouts),
          sim->fault_windows().at(0).targets};
}

TEST(FaultGroups, APartitionBetweenTwoGroupsIsThePartitionBetweenTheirMembers) {
  const Outputs named = run(tiers("", "[db, sessions, session-store]", "[api-1, api-2]"));
  const Outputs grouped = run(tiers(
      "groups:\n  frontend: [{backends_of: lb}]\n  storage: [db, {kind: cache}, session-store]\n",
      "[storage]", "[{group: frontend}]"));
  EXPECT_GT(named.timeouts, 400u);  // about 100/s for 5 s: the cut did cut
  EXPECT_EQ(grouped.text, named.text);
  EXPECT_EQ(grouped.json, named.json);
  EXPECT_EQ(grouped.faults, named.faults);
  // The outputs list the components, in file order.
  EXPECT_EQ(grouped.targets, (std::vector<std::string>{"sessions", "session-store", "db"}));
}

// The summary without the engine's event count (the timeline's own events are counted there).
std::string without_event_count(const std::string& json) {
  const size_t at = json.find("\"events\"");
  return at == std::string::npos ? json : json.substr(0, at);
}

// The same groups named live, after run_until(5s), give the timeline's run.
TEST(FaultGroups, TheLiveApiTakesGroupsLikeTheTimeline) {
  const std::string groups =
      "groups:\n  frontend: [api-1, api-2]\n  storage: [db, sessions, session-store]\n";
  const Outputs timeline = run(tiers(groups, "[storage]", "[frontend]"));
  std::string yaml = tiers(groups, "[storage]", "[frontend]");
  yaml.resize(yaml.find("faults:\n"));
  Simulation sim(load_text(yaml));
  sim.run_until(Time::s(5));
  ASSERT_EQ(sim.faults().start("cut", "partition", {"storage"},
                               {{"from", "[frontend]"}, {"duration", "5s"}}),
            "");
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  const RunSummary s = summarize(sim);
  EXPECT_EQ(without_event_count(format_summary_json(s, false)), without_event_count(timeline.json));
  EXPECT_EQ(format_faults_json(sim), timeline.faults);
}

}  // namespace
}  // namespace dsim::test
