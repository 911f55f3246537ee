// The scenario's `groups:` section: what loads (members in every target form, groups in targets
// and in a partition's other side, by name or by {group: ...}) and the exact errors for what does
// not - unknown members and groups with suggestions, empty, duplicate, nested and self-naming
// groups, and a group that takes a component's name. (That a group behaves like its members
// written out is tested on runs in tests/components/fault_groups_test.cpp.)
#include <gtest/gtest.h>

#include <string>

#include "faults/fault_controller.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

using test::load_errors;
using test::load_text;

// Lines 1-7; `groups:` and `faults:` start on line 8.
std::string scenario(const std::string& rest) {
  return "duration: 10s\n"
         "components:\n"
         "  users: {kind: source, arrivals: {constant: 10/s}, target: api}\n"
         "  api: {kind: service, handler: [{call: orders-db, op: put}, {call: sessions}]}\n"
         "  orders-db: {kind: database, queries: [{name: put, kind: write, time: 1ms}]}\n"
         "  sessions: {kind: cache, backing: store}\n"
         "  store: {kind: service, service_time: 1ms}\n" +
         rest;
}

TEST(Groups, LoadWithTheirMembersInEveryTargetForm) {
  const Scenario s = load_text(scenario(
      "groups:\n"
      "  storage: [orders-db, {kind: cache}, {component: store}]\n"
      "  frontend: [users, api]\n"
      "faults:\n"
      "  cut: {kind: partition, targets: [storage], from: [{group: frontend}], at: 1s}\n"));
  ASSERT_EQ(s.groups.size(), 2u);
  EXPECT_EQ(s.groups[0].name, "storage");
  EXPECT_EQ(s.groups[0].where.to_string(), "test.yaml:9:3");
  EXPECT_EQ(s.groups[0].members.items.size(), 3u);
  EXPECT_EQ(s.groups[0].members.items[1].kind, "cache");
  EXPECT_EQ(s.groups[1].members.items[0].component.name, "users");
}

TEST(Groups, StartLiveByNameToo) {
  Simulation sim(load_text(scenario("groups:\n  storage: [orders-db, {kind: cache}]\n")));
  sim.run_until(Time::s(1));
  EXPECT_EQ(sim.faults().start("down", "crash", {"storage"}), "");
  EXPECT_EQ(sim.faults().start("cut", "partition", {"api"}, {{"from", "[{group: storage}]"}}), "");
  ASSERT_EQ(sim.fault_windows().size(), 2u);
  EXPECT_EQ(sim.fault_windows()[0].targets, (std::vector<std::string>{"orders-db", "sessions"}));
  EXPECT_EQ(sim.faults().start("x", "crash", {"storag"}),
            "faults.x.targets[0]: no component or group named 'storag' (did you mean "
            "'storage'?)");
  EXPECT_EQ(sim.faults().start("y", "partition", {"api"}, {{"from", "[{group: x}]"}}),
            "faults.y.from[0].group: no group named 'x'; the groups are storage");
  sim.run();
}

TEST(Groups, AnUnknownMemberIsAnErrorWithASuggestion) {
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [orders-db, sesions]\n")),
            "test.yaml:9:24: error: groups.storage[1]: no component named 'sesions' (did you "
            "mean 'sessions'?)\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [{kind: cahce}]\n")),
            "test.yaml:9:3: error: groups.storage[0].kind: no component of kind 'cahce' (did you "
            "mean 'cache'?); the scenario has source, service, database or cache\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [{backends_of: api}]\n")),
            "test.yaml:9:27: error: groups.storage[0].backends_of: 'api' is a service, not a "
            "load_balancer\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [{knd: cache}]\n")),
            "test.yaml:9:14: error: groups.storage[0]: unknown key 'knd' (did you mean 'kind'?); "
            "valid keys: component, kind, backends_of, group or fraction\n"
            "test.yaml:9:13: error: groups.storage[0]: give exactly one of component, kind, "
            "backends_of or group\n");
}

TEST(Groups, AGroupNeedsAMember) {
  const std::string message =
      "test.yaml:9:3: error: groups.storage: a group needs at least one member (a component "
      "name, {kind: ...} or {backends_of: ...})\n";
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: []\n")), message);
  EXPECT_EQ(load_errors(scenario("groups:\n  storage:\n")), message);
}

TEST(Groups, NamesAreUniqueAndNoComponentsName) {
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [api]\n  storage: [store]\n")),
            "test.yaml:10:3: error: groups: duplicate group name 'storage'\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  api: [store]\n")),
            "test.yaml:9:3: error: groups: 'api' is already a component's name; a group needs a "
            "name of its own (a name in targets may mean either)\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  s.x: [orders-db]\n")),
            "test.yaml:9:3: error: groups: invalid group name 's.x'; a name may contain only "
            "letters, digits, '_' and '-'\n");
}

TEST(Groups, DoNotNestOrContainThemselves) {
  EXPECT_EQ(load_errors(scenario("groups:\n  frontend: [api]\n  all: [frontend, store]\n")),
            "test.yaml:10:9: error: groups.all[0]: 'frontend' is a group; a group's members are "
            "components, not groups (groups do not nest)\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  frontend: [api]\n  all: [{group: frontend}]\n")),
            "test.yaml:10:17: error: groups.all[0]: a group's members are components, not groups "
            "(groups do not nest)\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [orders-db, storage]\n")),
            "test.yaml:9:24: error: groups.storage[1]: a group cannot contain itself\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [orders-db, {group: storage}]\n")),
            "test.yaml:9:32: error: groups.storage[1]: a group cannot contain itself\n");
}

TEST(Groups, TheSectionIsAMapOfLists) {
  EXPECT_EQ(load_errors(scenario("groups: [a, b]\n")),
            "test.yaml:8:9: error: groups: expected a map of group name to its members, e.g. "
            "{storage: [orders-db, sessions]}, got a list\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: {kind: cache}\n")),
            "test.yaml:9:12: error: groups.storage: expected a list of members (component names, "
            "{kind: ...} or {backends_of: ...}), got a map\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [{group: [a]}]\n")),
            "test.yaml:9:21: error: groups.storage[0].group: expected a group name, got a list "
            "(group: The members of this group of the scenario's `groups:`.)\n");
}

TEST(Groups, ATargetNamesAKnownGroup) {
  const std::string groups = "groups:\n  storage: [orders-db]\nfaults:\n";
  EXPECT_EQ(load_errors(scenario(groups + "  f: {kind: crash, targets: [{group: stroage}]}\n")),
            "test.yaml:11:38: error: faults.f.targets[0].group: no group named 'stroage' (did you "
            "mean 'storage'?); the groups are storage\n");
  EXPECT_EQ(load_errors(scenario(groups + "  f: {kind: crash, targets: [storag]}\n")),
            "test.yaml:11:30: error: faults.f.targets[0]: no component or group named 'storag' "
            "(did you mean 'storage'?)\n");
  EXPECT_EQ(load_errors(scenario("faults:\n  f: {kind: crash, targets: [{group: storage}]}\n")),
            "test.yaml:9:38: error: faults.f.targets[0].group: no group named 'storage' (the "
            "scenario has no groups: section)\n");
  EXPECT_EQ(load_errors(scenario(
                groups + "  f: {kind: crash, targets: [{group: storage, fraction: 0.5}]}\n")),
            "test.yaml:11:30: error: faults.f.targets[0]: fraction applies to kind or backends_of, "
            "not to a group (give it to the group's members)\n");
  // slow's `from` is one component, not a list of targets.
  EXPECT_EQ(load_errors(
                scenario(groups + "  f: {kind: slow, targets: [api], from: storage, factor: 2}\n")),
            "test.yaml:11:41: error: faults.f.from: no component named 'storage' (did you mean "
            "'store'?)\n");
}

TEST(Groups, AreCheckedMemberByMemberAsTargets) {
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [orders-db, store]\nfaults:\n"
                                 "  f: {kind: disk_full, targets: [storage]}\n")),
            "test.yaml:11:3: error: faults.f: disk_full cannot act on 'store' (only a database or "
            "a durable queue writes to disk)\n");
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [orders-db, api]\n  frontend: [users, api]\n"
                                 "faults:\n"
                                 "  f: {kind: partition, targets: [storage], from: [frontend]}\n")),
            "test.yaml:10:21: error: faults.f.from: 'api' is also among the targets; a component "
            "is on one side only\n");
}

// A fault that names a broken group would only repeat the group's error.
TEST(Groups, ABrokenGroupIsReportedOnce) {
  EXPECT_EQ(load_errors(scenario("groups:\n  storage: [orders-db, sesions]\nfaults:\n"
                                 "  f: {kind: crash, targets: [storage]}\n"
                                 "  g: {kind: partition, targets: [api], from: [storage]}\n")),
            "test.yaml:9:24: error: groups.storage[1]: no component named 'sesions' (did you "
            "mean 'sessions'?)\n");
}

}  // namespace
}  // namespace dsim
