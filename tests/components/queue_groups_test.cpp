// queue with consumer_groups: every group receives every message, in partition order, with its
// own redeliveries, dead letters and pace; a one-group queue behaves exactly as `consumers`;
// the publish waits for the fullest group; load-time errors.
//
// `broken` (as in queue_test.cpp) is a service jammed from 1 ns on, so that every later call to
// it is refused at once.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "components/component_support.hpp"
#include "components/message_store.hpp"
#include "components/queue.hpp"
#include "output/expectation_check.hpp"
#include "scenario/topology.hpp"

namespace dsim::test {
namespace {

const std::string kBroken = R"(
  jam:
    kind: source
    arrivals: {constant: 1000M/s}
    max_requests: 1
    target: broken
  broken:
    kind: service
    queue_capacity: 0
    service_time: 36500d
)";

// Completions out of publish order within a partition.
size_t out_of_order(const std::vector<Finished>& messages, uint32_t partitions) {
  std::map<uint32_t, Time> last;
  size_t n = 0;
  for (const Finished& f : messages) {
    if (f.outcome != Outcome::completed) continue;
    const uint32_t p = partition_of(f.key, partitions);
    auto it = last.find(p);
    if (it != last.end() && f.created < it->second) ++n;
    last[p] = std::max(f.created, it == last.end() ? f.created : it->second);
  }
  return n;
}

// The messages a group saw, as (published at, key), in publish order.
std::vector<std::pair<int64_t, uint64_t>> published(std::vector<Finished> messages) {
  std::vector<std::pair<int64_t, uint64_t>> out;
  for (const Finished& f : messages) out.emplace_back(f.created.count_ns(), f.key);
  std::sort(out.begin(), out.end());
  return out;
}

// 2,000 keyed messages on 4 partitions, read by two groups: `orders` (3 consumers, batches of
// 3, a 10% failure rate, at most 3 receives) and `audit` (2 consumers, batches of 20, never
// failing).
std::string two_groups(const std::string& groups_block, bool with_auditor = true) {
  return R"(
name: groups
seed: 43
duration: 300s
components:
  producer:
    kind: source
    arrivals: {poisson: 20/s}
    keys: {uniform: 50}
    max_requests: 2000
    target: events
  events:
    kind: queue
    partitions: 4
    max_receives: 3
    redelivery_backoff: {backoff: constant, base: 0s}
)" + groups_block +
         R"(
  worker:
    kind: service
    workers: 100
    handler:
      - compute: {exponential: 20ms}
      - if: {probability: 0.1}
        then: [{call: broken}]
)" +
         (with_auditor ? R"(
  auditor:
    kind: service
    workers: 100
    service_time: {exponential: 5ms}
)"
                       : "") +
         kBroken;
}

const std::string kTwoGroups = R"(    consumer_groups:
      orders: {target: worker, count: 3, batch_size: 3}
      audit: {target: auditor, count: 2, batch_size: 20})";

TEST(QueueGroups, EveryGroupReceivesEveryMessageInPartitionOrder) {
  RequestLog log;
  auto sim = run_checked(two_groups(kTwoGroups), {&log});
  const std::vector<Finished> orders = of_workload(log, *sim, "events.orders");
  const std::vector<Finished> audit = of_workload(log, *sim, "events.audit");
  ASSERT_EQ(orders.size(), 2000u);
  ASSERT_EQ(audit.size(), 2000u);
  EXPECT_EQ(published(orders), published(audit)) << "the same messages, keys and instants";
  EXPECT_EQ(out_of_order(orders, 4), 0u);
  EXPECT_EQ(out_of_order(audit, 4), 0u);
  // The failing group redelivers and dead-letters on its own; the other never does.
  EXPECT_GT(count(*sim, "events.orders", Counter::redeliveries), 100u);
  EXPECT_GT(count(*sim, "events.orders", Counter::dead_lettered), 0u);
  EXPECT_EQ(count(*sim, "events.audit", Counter::redeliveries), 0u);
  EXPECT_EQ(count(*sim, "events.audit", Counter::dead_lettered), 0u);
  EXPECT_EQ(metrics_of(*sim, "events.audit").served(), 2000u);
  // The queue itself acknowledged every publish and holds nothing.
  EXPECT_EQ(metrics_of(*sim, "events").arrivals(), 2000u);
  EXPECT_EQ(metrics_of(*sim, "events").served(), 2000u);
  const auto& q = dynamic_cast<const Queue&>(find_component(*sim, "events"));
  ASSERT_EQ(q.groups().size(), 2u);
  EXPECT_EQ(q.groups()[0]->name(), "events.orders");
  EXPECT_EQ(q.held(), 0);
  // generated = the publishers' 2000 + each group's copy of each + the jam.
  EXPECT_EQ(sim->ledger().generated, 2000u * 3 + 1);
  expect_reproducible(two_groups(kTwoGroups));
}

// One group of the same scenario, written as `consumer_groups` or as `consumers`: the same
// messages end at the same instants with the same outcomes, and the queue figures agree.
TEST(QueueGroups, OneGroupBehavesExactlyLikeConsumers) {
  RequestLog group_log, plain_log;
  auto group = run_checked(
      two_groups("    consumer_groups:\n      orders: {target: worker, count: 3, batch_size: 3}",
                 false),
      {&group_log});
  auto plain = run_checked(
      two_groups("    consumers: {target: worker, count: 3, batch_size: 3}", false), {&plain_log});
  const auto key = [](const std::vector<Finished>& v) {
    std::vector<std::tuple<int64_t, int64_t, uint64_t, Outcome, Reason>> out;
    for (const Finished& f : v) {
      out.emplace_back(f.created.count_ns(), f.finished.count_ns(), f.key, f.outcome, f.reason);
    }
    return out;
  };
  const auto grouped = key(of_workload(group_log, *group, "events.orders"));
  ASSERT_EQ(grouped.size(), 2000u);
  EXPECT_EQ(grouped, key(of_workload(plain_log, *plain, "events")));
  const StationMetrics& g = metrics_of(*group, "events.orders");
  const StationMetrics& p = metrics_of(*plain, "events");
  for (Counter c : {Counter::redeliveries, Counter::duplicates, Counter::dead_lettered}) {
    EXPECT_EQ(g.counter(c), p.counter(c));
  }
  EXPECT_GT(p.counter(Counter::dead_lettered), 0u);
  EXPECT_EQ(g.served(), p.served());
  EXPECT_EQ(g.queue().max(), p.queue().max());
  EXPECT_EQ(g.gauge(Gauge::messages_in_flight).max(), p.gauge(Gauge::messages_in_flight).max());
}

// 100 messages at 10/s. `fast` takes 10 ms a message, `slow` 1 s with one consumer: the slow
// group's backlog grows to the end, and the fast group's latency stays 10 ms throughout.
TEST(QueueGroups, ASlowGroupDoesNotDelayTheOther) {
  const std::string yaml = R"(
name: pace
duration: 200s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 100
    target: events
  events:
    kind: queue
    consumer_groups:
      fast: {target: quick, count: 1}
      slow: {target: sluggish, count: 1}
  quick:
    kind: service
    workers: 10
    service_time: 10ms
  sluggish:
    kind: service
    workers: 10
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> fast = of_workload(log, *sim, "events.fast");
  const std::vector<Finished> slow = of_workload(log, *sim, "events.slow");
  ASSERT_EQ(fast.size(), 100u);
  ASSERT_EQ(slow.size(), 100u);
  for (const Finished& f : fast) EXPECT_EQ((f.finished - f.created).count_ns(), 10'000'000);
  // One slow consumer, back to back from the first publish at 0.1 s: the last ends at 100.1 s.
  EXPECT_EQ(slow.back().finished, Time::from_seconds(100.1));
  EXPECT_EQ(metrics_of(*sim, "events.fast").waited(), 0u);
  // At 10 s the slow consumer has received 10 of the 100 messages.
  EXPECT_EQ(metrics_of(*sim, "events.slow").queue().max(), 90);
}

// `good` always succeeds, `bad` always fails: each of bad's copies is received max_receives
// times and dead-lettered at its own queue, while good acknowledges every message once.
TEST(QueueGroups, AFailingGroupRedeliversAndDeadLettersOnItsOwn) {
  const std::string yaml = R"(
name: dlq
duration: 60s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 10
    target: events
  events:
    kind: queue
    visibility_timeout: 1s
    max_receives: 3
    dead_letter_queue: dead
    consumer_groups:
      good: {target: worker, count: 2}
      bad: {target: broken, count: 2}
  dead:
    kind: queue
  worker:
    kind: service
    workers: 10
    service_time: 1ms
)" + kBroken;
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(metrics_of(*sim, "events.good").served(), 10u);
  EXPECT_EQ(count(*sim, "events.good", Counter::redeliveries), 0u);
  EXPECT_EQ(count(*sim, "events.good", Counter::dead_lettered), 0u);
  EXPECT_EQ(count(*sim, "events.bad", Counter::redeliveries), 20u);
  EXPECT_EQ(count(*sim, "events.bad", Counter::dead_lettered), 10u);
  EXPECT_EQ(metrics_of(*sim, "events.bad").served(), 0u);
  EXPECT_EQ(dynamic_cast<const Queue&>(find_component(*sim, "dead")).dead_letters(), 10);
  // The first message, published at 0.1 s, is dead-lettered when its third receive times out.
  const std::vector<Finished> bad = of_workload(log, *sim, "events.bad");
  ASSERT_EQ(bad.size(), 10u);
  EXPECT_EQ(bad[0].outcome, Outcome::dead_lettered);
  EXPECT_EQ(bad[0].finished, Time::from_seconds(3.1));
  const Ledger l = sim->ledger();
  EXPECT_EQ(l.completed, 20u);  // the publishers' and good's copies
  EXPECT_EQ(l.dead_lettered, 10u);
}

// capacity 5 and reject: the slow group fills up, and publishes are refused although the fast
// group is empty - a message is stored in every group or in none.
TEST(QueueGroups, TheFullestGroupDecidesWhetherThereIsRoom) {
  const std::string yaml = R"(
name: room
duration: 100s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 20
    target: events
  events:
    kind: queue
    capacity: 5
    consumer_groups:
      fast: {target: quick}
      slow: {target: sluggish}
  quick:
    kind: service
    service_time: 1ms
  sluggish:
    kind: service
    service_time: 10s
)";
  auto sim = run_checked(yaml);
  // The slow group holds its first message until 10.1 s: 5 stored by 0.5 s, then 15 refused.
  EXPECT_EQ(metrics_of(*sim, "events").served(), 5u);
  const auto queue_full = static_cast<size_t>(Reason::queue_full);
  EXPECT_EQ(metrics_of(*sim, "events").dropped()[queue_full] +
                metrics_of(*sim, "events").failed()[queue_full],
            15u);
  EXPECT_EQ(metrics_of(*sim, "events.fast").served(), 5u);
  EXPECT_EQ(metrics_of(*sim, "events.slow").arrivals(), 5u);
}

// capacity 2 with backpressure: a publish waits until the slow group has room, and then both
// groups store it. Five messages at 0.1 s..0.5 s; the slow group takes 1 s a message, so the
// third is stored when the slow group acknowledges the first, at 1.1 s, and so on.
TEST(QueueGroups, BackpressureWaitsForRoomInTheFullestGroup) {
  const std::string yaml = R"(
name: backpressure
duration: 60s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    target: events
  events:
    kind: queue
    capacity: 2
    when_full: backpressure
    consumer_groups:
      fast: {target: quick}
      slow: {target: sluggish}
  quick:
    kind: service
    service_time: 1ms
  sluggish:
    kind: service
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  std::vector<int64_t> stored;
  for (const Finished& f : of_workload(log, *sim, "events.fast")) {
    stored.push_back(f.created.count_ns());
  }
  EXPECT_EQ(stored, (std::vector<int64_t>{ns(0.1), ns(0.2), ns(1.1), ns(2.1), ns(3.1)}));
  EXPECT_EQ(metrics_of(*sim, "events").gauge(Gauge::blocked_publishers).max(), 3);  // 0.3-0.5 s
  EXPECT_EQ(metrics_of(*sim, "events.slow").served(), 5u);
}

// A crash of the queue is a crash of the broker: every group stops delivering until the
// restart, and an in-memory queue loses every group's messages. One message at a time takes 1 s;
// five are published by 0.5 s; the queue is down from 0.55 s to 2.55 s.
std::string crash_scenario(const std::string& consumers, bool durable) {
  return R"(
name: crash
duration: 60s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    target: events
  events:
    kind: queue
    durable: )" +
         std::string(durable ? "true" : "false") + "\n" + consumers + R"(
  worker:
    kind: service
    workers: 10
    service_time: 1s
faults:
  down: {kind: crash, targets: [events], at: 550ms, restart_after: 2s}
)";
}

TEST(QueueGroups, ACrashOfTheQueueStopsAndEmptiesEveryGroup) {
  const auto finishes = [](const std::string& consumers, bool durable,
                           const std::string& workload) {
    RequestLog log;
    auto sim = run_checked(crash_scenario(consumers, durable), {&log});
    std::vector<std::tuple<int64_t, Outcome, Reason>> out;
    for (const Finished& f : of_workload(log, *sim, workload)) {
      out.emplace_back(f.finished.count_ns(), f.outcome, f.reason);
    }
    return out;
  };
  const std::string two = "    consumer_groups: {a: {target: worker}, b: {target: worker}}";
  // Durable: the first message, received before the crash, is acknowledged at 1.1 s; the next
  // is received at the restart, 2.55 s, and the rest follow a second apart.
  using F = std::tuple<int64_t, Outcome, Reason>;
  const auto ok = [](double at) { return F{ns(at), Outcome::completed, Reason::none}; };
  const std::vector<F> durable = {ok(1.1), ok(3.55), ok(4.55), ok(5.55), ok(6.55)};
  EXPECT_EQ(finishes(two, true, "events.a"), durable);
  EXPECT_EQ(finishes(two, true, "events.b"), durable);
  EXPECT_EQ(finishes("    consumers: {target: worker}", true, "events"), durable);
  // In memory: the five messages held at 0.55 s (the first in flight) are gone in both groups; its
  // late success at 1.1 s is ignored.
  const F lost{ns(0.55), Outcome::failed, Reason::unavailable};
  const std::vector<F> in_memory = {lost, lost, lost, lost, lost};
  EXPECT_EQ(finishes(two, false, "events.a"), in_memory);
  EXPECT_EQ(finishes(two, false, "events.b"), in_memory);
  EXPECT_EQ(finishes("    consumers: {target: worker}", false, "events"), in_memory);
}

// `expect:` may name each group's queue and workload, `<queue>.<group>`.
TEST(QueueGroups, ExpectationsNameEachGroupsQueueAndWorkload) {
  const std::string yaml = two_groups(kTwoGroups) + R"(
expect:
  - "max(dlq.depth, of: events.audit) == 0"
  - "max(dlq.depth, of: events.orders) > 0"
  - "rate(completed, workload: events.audit) > 0/s"
)";
  const Scenario scenario = load_text(yaml);
  Simulation sim(scenario);
  ExpectationCheck check(sim, scenario.expectations);
  sim.add_observer(&check);
  sim.run();
  const std::vector<ExpectationResult> results = check.results(sim);
  ASSERT_EQ(results.size(), 3u);
  for (const ExpectationResult& r : results) EXPECT_TRUE(r.passed) << r.text << ": " << r.detail;
  // The queue that feeds the groups has no messages, so no workload, of its own.
  EXPECT_EQ(
      load_errors(two_groups(kTwoGroups) + "expect: [\"rate(completed, workload: events) > 0/s\"]"),
      "test.yaml:42:37: error: expect[0]: unknown workload 'events'; workloads: producer, "
      "events.orders, events.audit or jam\n");
}

// Diagrams (the HTML report) draw queue -> its group queues -> each group's target.
TEST(QueueGroups, DiagramsLinkTheQueueToItsGroupsAndEachGroupToItsTarget) {
  const Scenario s = load_text(two_groups(kTwoGroups));
  std::vector<std::string> links;
  for (const ComponentLink& l : component_links(s)) {
    const std::string from = s.components[l.from].name;
    if (from.rfind("events", 0) == 0) {
      links.push_back(from + " -> " + s.components[l.to].name + " (" + l.keys + ")");
    }
  }
  EXPECT_EQ(links, (std::vector<std::string>{
                       "events -> events.orders (consumer_groups)",
                       "events -> events.audit (consumer_groups)",
                       "events.orders -> worker (target)",
                       "events.audit -> auditor (target)",
                   }));
}

TEST(QueueGroups, RejectsBadConfigurationsWithClearMessages) {
  const auto errors = [](const std::string& queue_keys, const std::string& extra = "") {
    return load_errors(R"(name: bad
duration: 10s
components:
  producer:
    kind: source
    arrivals: {poisson: 1/s}
    target: jobs
  jobs:
    kind: queue
)" + queue_keys + R"(
  worker:
    kind: service
    service_time: 1ms
)" + extra);
  };
  EXPECT_EQ(errors("    consumers: {target: worker}\n"
                   "    consumer_groups: {a: {target: worker}}"),
            "test.yaml:8:3: error: components.jobs: give either consumers (one consumer group) "
            "or consumer_groups (several), not both\n");
  EXPECT_EQ(errors("    consumer_groups: {}"),
            "test.yaml:10:22: error: components.jobs.consumer_groups: expected a map of name to "
            "its settings, got an empty map\n");
  EXPECT_EQ(errors("    consumer_groups: {a.b: {target: worker}}"),
            "test.yaml:10:23: error: components.jobs.consumer_groups: invalid name 'a.b'; a "
            "name may contain only letters, digits, '_' and '-'\n");
  EXPECT_EQ(errors("    consumer_groups: {a: {count: 2}}"),
            "test.yaml:10:26: error: components.jobs.consumer_groups.a: missing required key "
            "'target' (Component that processes the messages (e.g. a service doing the work): "
            "each message is one call to it, and its success acknowledges the message.)\n");
  EXPECT_EQ(errors("    consumer_groups: {a: {target: workr}}"),
            "test.yaml:10:35: error: 'jobs' sends to 'workr', which is not a component (did "
            "you mean 'worker'?)\n");
  EXPECT_EQ(errors("    max_receives: 3\n    dead_letter_queue: dead\n"
                   "    consumers: {target: worker}",
                   "  dead:\n    kind: queue\n    consumer_groups: {a: {target: worker}}\n"),
            "test.yaml:11:24: error: 'jobs': dead_letter_queue: 'dead' has consumers; a "
            "dead-letter queue only keeps the dead letters (its depth), so give it none\n");
}

}  // namespace
}  // namespace dsim::test
