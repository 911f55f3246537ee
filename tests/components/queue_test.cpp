// queue: ordering (fifo, priority, partitions), visibility timeout and redelivery, duplicates,
// the dead-letter queue (built-in and another queue) and its q^k law, delays and backoff,
// capacity (reject, backpressure), retention, batches, autoscaling, idempotency keys, accounting,
// load-time errors and the examples of docs/components/queue.md.
//
// Several scenarios need a dependency that always fails at once. `broken` is a service with one
// worker and no waiting room, jammed from 1 ns on by a single endless request from `jam`: every
// later call to it is refused with queue_full. (A test-only kind would need a hook in the
// registry; this uses only YAML.) Consumers that fail with probability q call it from an
// `if: {probability: q}` step.
#include "components/queue.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

// Appended to a scenario's components: a dependency that refuses every call from 1 ns on.
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

const Queue& queue_of(const Simulation& sim, const std::string& name) {
  return dynamic_cast<const Queue&>(find_component(sim, name));
}

// --- Ordering -------------------------------------------------------------------------------

// Five messages published at 0.1s..0.5s; one consumer whose work takes exactly 1 s. The first is
// received at once and acknowledged at 1.1s, the others wait and follow back to back.
TEST(Queue, FifoDeliversInPublishOrder) {
  const std::string yaml = R"(
name: fifo
seed: 41
duration: 20s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    target: jobs
  jobs:
    kind: queue
    consumers: {target: worker, count: 1}
  worker:
    kind: service
    workers: 10
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 5u);
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].created.count_ns(), ns(0.1 * static_cast<double>(i + 1)));
    EXPECT_EQ(messages[i].finished.count_ns(), ns(1.1 + static_cast<double>(i)));
    EXPECT_EQ(messages[i].outcome, Outcome::completed);
    EXPECT_EQ(messages[i].component, find_component(*sim, "jobs").index());
  }
  // The publishers' own requests end when the broker acknowledges, at once.
  for (const Finished& f : of_workload(log, *sim, "producer")) {
    EXPECT_EQ(f.finished, f.created);
    EXPECT_EQ(f.outcome, Outcome::completed);
  }
  const StationMetrics& m = metrics_of(*sim, "jobs");
  EXPECT_EQ(m.arrivals(), 5u);
  EXPECT_EQ(m.served(), 5u);
  EXPECT_EQ(m.queue().max(), 4) << "m2..m5 wait while m1 is processed";
}

// Publish order (a low-priority source at 0.1s, 0.2s, 0.3s, a high one at 0.25s, 0.5s):
//   m1 low 0.1s, m2 low 0.2s, m3 high 0.25s, m4 low 0.3s, m5 high 0.5s.
// m1 is received at once; the rest wait until 1.1s and are then taken in the queue's order.
std::vector<int64_t> receive_order(const std::string& ordering) {
  const std::string yaml = R"(
name: order
seed: 42
duration: 20s
components:
  low:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    target: jobs
  high:
    kind: source
    arrivals: {constant: 4/s}
    max_requests: 2
    priority: 5
    target: jobs
  jobs:
    kind: queue
    ordering: )" + ordering +
                           R"(
    consumers: {target: worker, count: 1}
  worker:
    kind: service
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  std::vector<int64_t> created;
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].finished.count_ns(), ns(1.1 + static_cast<double>(i)));
    EXPECT_EQ(messages[i].priority,
              messages[i].created == Time::ms(250) || messages[i].created == Time::ms(500) ? 5 : 0)
        << "a message keeps its publisher's priority";
    created.push_back(messages[i].created.count_ns());
  }
  return created;
}

TEST(Queue, FifoIgnoresPriority) {
  EXPECT_EQ(receive_order("fifo"),
            (std::vector<int64_t>{ns(0.1), ns(0.2), ns(0.25), ns(0.3), ns(0.5)}));
}

TEST(Queue, PriorityOrderingDeliversHigherPriorityFirstThenPublishOrder) {
  EXPECT_EQ(receive_order("priority"),
            (std::vector<int64_t>{ns(0.1), ns(0.25), ns(0.5), ns(0.2), ns(0.3)}));
}

// 2000 messages over 50 keys into 4 partitions, 3 consumers taking batches of 3, 10 % of the
// processing attempts failing (so batches are cut short and messages come round again), and
// max_receives 3 (so some are dead-lettered). Within each partition the acknowledgements come in
// publish order. The same load without partitions acknowledges out of key order (the test can
// tell the difference).
std::string partition_scenario(int partitions) {
  return R"(
name: partitions
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
    partitions: )" +
         std::to_string(partitions) + R"(
    max_receives: 3
    redelivery_backoff: {backoff: constant, base: 0s}  # a nack: the failed message is next
    consumers: {target: worker, count: 3, batch_size: 3}
  worker:
    kind: service
    workers: 100
    handler:
      - compute: {exponential: 20ms}
      - if: {probability: 0.1}
        then: [{call: broken}]
)" + kBroken;
}

// Acknowledgements out of publish order within a group (partition or key).
size_t out_of_order(const std::vector<Finished>& messages, uint32_t partitions) {
  std::map<uint64_t, Time> last;
  size_t n = 0;
  for (const Finished& f : messages) {
    if (f.outcome != Outcome::completed) continue;
    const uint64_t group = partitions ? partition_of(f.key, partitions) : f.key;
    auto it = last.find(group);
    if (it != last.end() && f.created < it->second) ++n;
    last[group] = std::max(f.created, it == last.end() ? f.created : it->second);
  }
  return n;
}

TEST(Queue, PartitionsAcknowledgeInPublishOrderWithinEachPartition) {
  RequestLog log;
  auto sim = run_checked(partition_scenario(4), {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "events");
  ASSERT_EQ(messages.size(), 2000u);
  EXPECT_EQ(out_of_order(messages, 4), 0u);
  EXPECT_GT(count(*sim, "events", Counter::redeliveries), 100u);
  EXPECT_GT(count(*sim, "events", Counter::dead_lettered), 0u);
  // Every partition was used.
  std::map<uint32_t, int> per_partition;
  for (const Finished& f : messages) ++per_partition[partition_of(f.key, 4)];
  EXPECT_EQ(per_partition.size(), 4u);

  RequestLog unordered_log;
  auto unordered = run_checked(partition_scenario(0), {&unordered_log});
  EXPECT_GT(out_of_order(of_workload(unordered_log, *unordered, "events"), 0), 10u)
      << "without partitions concurrent consumers and redeliveries reorder a key's messages";
}

TEST(Queue, PartitionsCapTheConsumersThatHaveWork) {
  // 2 partitions, 5 consumers, a backlog: only consumers 0 and 1 ever have a batch.
  const std::string yaml = R"(
name: cap
seed: 44
duration: 60s
components:
  producer:
    kind: source
    arrivals: {poisson: 50/s}
    keys: {uniform: 100}
    max_requests: 500
    target: events
  events:
    kind: queue
    partitions: 2
    consumers: {target: worker, count: 5}
  worker:
    kind: service
    workers: 100
    service_time: 50ms
)";
  auto sim = run_checked(yaml);
  const StationMetrics& m = metrics_of(*sim, "events");
  EXPECT_EQ(m.busy().max(), 2);
  EXPECT_EQ(m.served(), 500u);
  EXPECT_GT(m.queue().max(), 50) << "the backlog was there for more consumers to take";
}

TEST(Queue, PartitionOfAKeyIsStableAndSpreadsKeys) {
  EXPECT_EQ(partition_of(12345, 8), partition_of(12345, 8));
  std::vector<uint64_t> counts(8, 0);
  for (uint64_t k = 0; k < 80'000; ++k) ++counts[partition_of(k, 8)];
  EXPECT_LT(chi_square(counts, std::vector<double>(8, 1.0 / 8)), chi_square_critical(7));
}

// --- Visibility timeout, redelivery, duplicates -----------------------------------------------

// One message at 0.1s; processing takes 1.5 s but the visibility timeout is 1 s; max_receives 3.
// With two consumers:
//   0.1s receive 1 (consumer A)            1.1s visibility out: receive 2 (B) - a duplicate
//   1.6s A succeeds, too late: ignored     2.1s visibility out: receive 3 (A) - a duplicate
//   2.6s B succeeds, too late              3.1s visibility out after 3 receives: dead-lettered
//   3.6s A succeeds, too late
// The work was done three times and the message still ends in the dead-letter queue.
// With one consumer the redeliveries wait for it to finish:
//   0.1s receive 1   1.1s visibility out   1.6s late success; receive 2 (a duplicate: it was
//   processed already)   2.6s visibility out   3.1s late success; receive 3   4.1s dead-lettered
std::string slow_consumer(int consumers, const std::string& visibility,
                          const std::string& producer_extra = "",
                          const std::string& worker_extra = "") {
  return R"(
name: duplicates
seed: 45
duration: 20s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    target: jobs
)" + producer_extra +
         R"(
  jobs:
    kind: queue
    visibility_timeout: )" +
         visibility + R"(
    max_receives: 3
    consumers: {target: worker, count: )" +
         std::to_string(consumers) + R"(}
  worker:
    kind: service
    workers: 10
    service_time: 1500ms
)" + worker_extra;
}

TEST(Queue, ProcessingLongerThanTheVisibilityTimeoutDeliversDuplicates) {
  for (const int consumers : {2, 1}) {
    SCOPED_TRACE(std::to_string(consumers) + " consumers");
    RequestLog log;
    auto sim = run_checked(slow_consumer(consumers, "1s"), {&log});
    const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_EQ(messages[0].outcome, Outcome::dead_lettered);
    EXPECT_EQ(messages[0].reason, Reason::max_receives);
    EXPECT_EQ(messages[0].finished.count_ns(), ns(consumers == 2 ? 3.1 : 4.1));
    EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), 2u);
    EXPECT_EQ(count(*sim, "jobs", Counter::duplicates), 2u);
    EXPECT_EQ(count(*sim, "jobs", Counter::dead_lettered), 1u);
    EXPECT_EQ(metrics_of(*sim, "worker").served(), 3u) << "three side effects for one message";
    EXPECT_EQ(metrics_of(*sim, "jobs").served(), 0u);
    EXPECT_EQ(metrics_of(*sim, "jobs").gauge(Gauge::dlq_depth).level(), 1);
  }
}

// The same deliveries with idempotency keys on the messages and an idempotent worker:
//   2 consumers: 0.1s receive 1 claims the key    1.1s receive 2: the first run is still in
//   progress, refused with conflict (not acknowledged)    1.6s the first run completes (its
//   late success is ignored, but the key is completed)    2.1s receive 3: a repeat of a completed
//   run, answered at once - acknowledged, the message completes
//   1 consumer: 1.6s receive 2 finds the key completed and is acknowledged at once.
// One side effect instead of three, and no dead letter. Without the worker's idempotency the
// keys still let it count the duplicates that slipped through.
TEST(Queue, IdempotencyKeysSuppressTheSideEffectsOfDuplicateDeliveries) {
  const std::string keys = "    idempotency_keys: true\n";
  for (const int consumers : {2, 1}) {
    SCOPED_TRACE(std::to_string(consumers) + " consumers");
    {
      RequestLog log;
      auto sim = run_checked(slow_consumer(consumers, "1s", keys, "    idempotency: {}\n"), {&log});
      const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
      ASSERT_EQ(messages.size(), 1u);
      EXPECT_EQ(messages[0].outcome, Outcome::completed);
      EXPECT_EQ(messages[0].finished.count_ns(), ns(consumers == 2 ? 2.1 : 1.6));
      const StationMetrics& worker = metrics_of(*sim, "worker");
      EXPECT_EQ(worker.counter(Counter::duplicates), 0u) << "one side effect";
      EXPECT_EQ(worker.counter(Counter::duplicates_suppressed), 1u);
      EXPECT_EQ(worker.counter(Counter::idempotency_conflicts), consumers == 2 ? 1u : 0u);
      EXPECT_EQ(worker.served(), 2u) << "the run and the repeat answered from its record";
      EXPECT_EQ(count(*sim, "jobs", Counter::duplicates), consumers == 2 ? 2u : 1u)
          << "the queue still delivered duplicates";
      EXPECT_EQ(count(*sim, "jobs", Counter::dead_lettered), 0u);
    }
    {
      auto sim = run_checked(slow_consumer(consumers, "1s", keys));
      EXPECT_EQ(metrics_of(*sim, "worker").counter(Counter::duplicates), 2u)
          << "three side effects for one key";
      EXPECT_EQ(count(*sim, "jobs", Counter::dead_lettered), 1u);
    }
  }
}

TEST(Queue, AVisibilityTimeoutLongerThanTheProcessingDeliversOnce) {
  RequestLog log;
  auto sim = run_checked(slow_consumer(2, "2s"), {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].outcome, Outcome::completed);
  EXPECT_EQ(messages[0].finished.count_ns(), ns(1.6));
  EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), 0u);
  EXPECT_EQ(count(*sim, "jobs", Counter::duplicates), 0u);
  EXPECT_EQ(metrics_of(*sim, "worker").served(), 1u);
}

// A message that comes back keeps its place at the front. Processing takes 1.5 s, the visibility
// timeout is 1 s, one consumer, max_receives 3, messages at 0.1s, 0.2s, 0.3s. m1 is received at
// 0.1s, comes back at 1.1s, and when the consumer is free again (1.6s) it takes m1 again, not m2;
// likewise at 3.1s; m1 is dead-lettered at 4.1s. m2 then has the consumer from 4.6s (receives at
// 4.6s, 6.1s, 7.6s; dead-lettered 8.6s), and m3 from 9.1s (dead-lettered 13.1s).
TEST(Queue, AMessageMadeVisibleAgainKeepsItsPlace) {
  const std::string yaml = R"(
name: place
seed: 59
duration: 30s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    target: jobs
  jobs:
    kind: queue
    visibility_timeout: 1s
    max_receives: 3
    consumers: {target: worker, count: 1}
  worker:
    kind: service
    workers: 10
    service_time: 1500ms
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 3u);
  const std::vector<double> dead_at = {4.1, 8.6, 13.1};
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].created.count_ns(), ns(0.1 * static_cast<double>(i + 1)));
    EXPECT_EQ(messages[i].outcome, Outcome::dead_lettered);
    EXPECT_EQ(messages[i].finished.count_ns(), ns(dead_at[i]));
  }
  EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), 6u);
  EXPECT_EQ(count(*sim, "jobs", Counter::duplicates), 6u) << "each after a late success";
}

// The consumer's own call timeout is not the visibility timeout. Here the consumer waits 500 ms
// for a worker that takes 1 s, with visibility 30 s and max_receives 2: the first receive fails
// by timeout at 0.6s, the message is visible again at once and received again, fails again at
// 1.1s and is dead-lettered - well within its visibility timeout. The worker still finishes both
// deliveries (at 1.1s and 1.6s): two side effects the queue cannot see, since its consumer gave
// up on them; they are not queue duplicates (no delivery was outstanding at a receive).
TEST(Queue, TheConsumersCallTimeoutIsIndependentOfTheVisibilityTimeout) {
  const std::string yaml = R"(
name: timeouts
seed: 60
duration: 10s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    target: jobs
  jobs:
    kind: queue
    visibility_timeout: 30s
    max_receives: 2
    redelivery_backoff: {backoff: constant, base: 0s}  # a nack: visible again at once
    consumers: {target: worker, count: 1, timeout: 500ms}
  worker:
    kind: service
    workers: 10
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].outcome, Outcome::dead_lettered);
  EXPECT_EQ(messages[0].finished.count_ns(), ns(1.1));
  EXPECT_EQ(count(*sim, "jobs", Counter::timeouts), 2u);
  EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), 1u);
  EXPECT_EQ(count(*sim, "jobs", Counter::duplicates), 0u);
  EXPECT_EQ(metrics_of(*sim, "worker").served(), 2u);
}

// With failure probability q per attempt, independent, and max_receives k, a message is
// dead-lettered with probability q^k, and its receives R = min(G, k) with G geometric on
// {1, 2, ...} of success probability 1 - q: P(R >= j) = q^(j-1), so
//   E[R] = sum_{j=1..k} q^(j-1) = (1 - q^k) / (1 - q),  E[R^2] = sum_{j=1..k} (2j - 1) q^(j-1).
// Every message is independent, so the standard errors are the binomial sqrt(p (1 - p) / n) and
// sqrt(Var R / n). (tests/analytic/queue_dlq_test.cpp runs the same with 50x the messages.)
struct DlqLaw {
  double dlq_fraction, mean_receives, receive_variance;
};
DlqLaw dlq_law(double q, int k) {
  double mean = 0, second = 0;
  for (int j = 1; j <= k; ++j) {
    mean += std::pow(q, j - 1);
    second += (2 * j - 1) * std::pow(q, j - 1);
  }
  return {std::pow(q, k), mean, second - mean * mean};
}

std::string failing_consumer(double q, int k, int n, int seed) {
  return "name: dlq\nseed: " + std::to_string(seed) + R"(
duration: 10m
window: 1m
components:
  producer:
    kind: source
    arrivals: {poisson: 1000/s}
    max_requests: )" +
         std::to_string(n) + R"(
    target: jobs
  jobs:
    kind: queue
    max_receives: )" +
         std::to_string(k) + R"(
    consumers: {target: worker, count: 4}
  worker:
    kind: service
    workers: 4
    handler:
      - if: {probability: )" +
         std::to_string(q) + R"(}
        then: [{call: broken}]
)" + kBroken;
}

TEST(Queue, DeadLetterFractionIsQToTheKAndMeanReceivesMatchTheGeometricLaw) {
  const int n = 20'000;
  const std::vector<std::pair<double, int>> cases = {{0.5, 3}, {0.3, 2}};
  int seed = 46;
  for (const auto& [q, k] : cases) {
    SCOPED_TRACE("q " + std::to_string(q) + ", k " + std::to_string(k));
    auto sim = run_checked(failing_consumer(q, k, n, seed++));
    const Queue& jobs = queue_of(*sim, "jobs");
    ASSERT_EQ(jobs.held(), 0) << "every message has ended";
    const StationMetrics& m = jobs.metrics();
    const DlqLaw law = dlq_law(q, k);
    const double dead = static_cast<double>(m.counter(Counter::dead_lettered)) / n;
    const double receives =
        static_cast<double>(n + m.counter(Counter::redeliveries)) / static_cast<double>(n);
    EXPECT_NEAR(dead, law.dlq_fraction,
                kZ * std::sqrt(law.dlq_fraction * (1 - law.dlq_fraction) / n));
    EXPECT_NEAR(receives, law.mean_receives, kZ * std::sqrt(law.receive_variance / n));
    EXPECT_EQ(m.served() + m.counter(Counter::dead_lettered), static_cast<uint64_t>(n));
    EXPECT_EQ(sim->ledger().dead_lettered, m.counter(Counter::dead_lettered));
    EXPECT_EQ(m.counter(Counter::duplicates), 0u) << "failures are answered within visibility";
    EXPECT_EQ(static_cast<uint64_t>(m.gauge(Gauge::dlq_depth).level()),
              m.counter(Counter::dead_lettered));
  }
}

// --- Dead-letter queue ----------------------------------------------------------------------

// As in SQS, a failed receive is not deleted: the message comes back when its visibility timeout
// runs out. One message at 0.1 s, refused by `broken` at once at each receive: received at 0.1 s
// and 5.1 s, and dead-lettered at 10.1 s, when the second receive's timeout runs out - in flight
// all along.
TEST(Queue, AFailedMessageComesBackWhenItsVisibilityTimeoutRunsOut) {
  const std::string yaml = R"(
name: sqs-failure
duration: 20s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    target: jobs
  jobs:
    kind: queue
    visibility_timeout: 5s
    max_receives: 2
    consumers: {target: broken, count: 1}
)" + kBroken;
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].outcome, Outcome::dead_lettered);
  EXPECT_EQ(messages[0].finished.count_ns(), ns(10.1));
  EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), 1u);
  EXPECT_EQ(metrics_of(*sim, "jobs").gauge(Gauge::messages_in_flight).max(), 1);
  EXPECT_EQ(metrics_of(*sim, "jobs").gauge(Gauge::messages_in_flight).level(), 0);
}

TEST(Queue, ADeadLetterQueueComponentKeepsTheDeadLettersAsDepth) {
  const std::string yaml = R"(
name: dlq
seed: 47
duration: 10s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    target: jobs
  jobs:
    kind: queue
    max_receives: 2
    redelivery_backoff: {backoff: constant, base: 0s}  # a nack: visible again at once
    dead_letter_queue: dead
    consumers: {target: broken, count: 1}
  dead:
    kind: queue
)" + kBroken;
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 3u);
  for (const Finished& f : messages) {
    EXPECT_EQ(f.outcome, Outcome::dead_lettered);
    EXPECT_EQ(f.finished, f.created) << "two immediate failures, no backoff";
    EXPECT_EQ(f.component, find_component(*sim, "jobs").index());
  }
  EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), 3u);
  const Queue& dead = queue_of(*sim, "dead");
  EXPECT_EQ(dead.dead_letters(), 3);
  EXPECT_EQ(dead.metrics().queue().level(), 3);
  EXPECT_EQ(dead.metrics().arrivals(), 3u);
  EXPECT_EQ(sim->ledger().dead_lettered, 3u);
}

// --- Delays and backoff ---------------------------------------------------------------------

TEST(Queue, DelayedMessagesBecomeVisibleExactlyAfterTheDelay) {
  const std::string yaml = R"(
name: delay
seed: 48
duration: 10s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    target: jobs
  jobs:
    kind: queue
    delay: 2s
    consumers: {target: worker, count: 3}
  worker:
    kind: service
    workers: 10
    service_time: 500ms
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 3u);
  for (const Finished& f : messages) {
    EXPECT_EQ((f.finished - f.created).count_ns(), ns(2.5));
  }
  const StationMetrics& m = metrics_of(*sim, "jobs");
  EXPECT_EQ(m.wait().min(), ns(2.0));
  EXPECT_EQ(m.wait().max(), ns(2.0));
}

// A message whose every processing fails, max_receives 4, exponential redelivery backoff from 1 s
// capped at 3 s, no jitter: received at 0.1s, 1.1s (+1), 3.1s (+2), 6.1s (+3, capped from 4),
// and dead-lettered when the fourth receive fails, at 6.1s.
TEST(Queue, RedeliveryBackoffSpacesTheReceivesOfAFailingMessage) {
  const std::string yaml = R"(
name: backoff
seed: 49
duration: 20s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    target: jobs
  jobs:
    kind: queue
    max_receives: 4
    redelivery_backoff: {backoff: exponential, base: 1s, cap: 3s, jitter: none}
    consumers: {target: broken, count: 1}
)" + kBroken;
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  const Queue& jobs = queue_of(sim, "jobs");
  // Receives show as in-flight moments (the failure answers at once, at the same instant).
  std::vector<int64_t> receives;
  uint64_t calls = 0;
  while (sim.step()) {
    const uint64_t now_calls = jobs.metrics().counter(Counter::calls);
    if (now_calls != calls) receives.push_back(sim.now().count_ns());
    calls = now_calls;
  }
  EXPECT_EQ(receives, (std::vector<int64_t>{ns(0.1), ns(1.1), ns(3.1), ns(6.1)}));
  const std::vector<Finished> messages = of_workload(log, sim, "jobs");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].outcome, Outcome::dead_lettered);
  EXPECT_EQ(messages[0].finished.count_ns(), ns(6.1));
  EXPECT_EQ(jobs.metrics().counter(Counter::redeliveries), 3u);
  EXPECT_TRUE(Balanced(sim));
}

// Jittered backoff. Every receive fails and max_receives is 2, so a message is dead-lettered when
// its second receive fails, right after the one backoff: its time from publish to dead letter is
// the backoff itself. With base 1 s (constant), full jitter draws it uniform on [0, 1 s) (mean
// 1/2, variance 1/12) and equal jitter on [0.5 s, 1 s) (mean 3/4, variance 1/48).
TEST(Queue, JitteredRedeliveryBackoffIsUniform) {
  for (const std::string jitter : {"full", "equal"}) {
    SCOPED_TRACE(jitter);
    const int n = 2000;
    const std::string yaml = R"(
name: jitter
seed: 61
duration: 60s
components:
  producer:
    kind: source
    arrivals: {poisson: 100/s}
    max_requests: )" + std::to_string(n) +
                             R"(
    target: jobs
  jobs:
    kind: queue
    max_receives: 2
    redelivery_backoff: {backoff: constant, base: 1s, jitter: )" +
                             jitter + R"(}
    consumers: {target: broken, count: 2}
)" + kBroken;
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
    ASSERT_EQ(messages.size(), static_cast<size_t>(n));
    const double lo = jitter == "full" ? 0.0 : 0.5;
    double sum = 0;
    std::vector<uint64_t> deciles(10, 0);
    for (const Finished& f : messages) {
      ASSERT_EQ(f.outcome, Outcome::dead_lettered);
      const double wait = (f.finished - f.created).seconds();
      ASSERT_GE(wait, lo);
      ASSERT_LT(wait, 1.0);
      sum += wait;
      ++deciles[std::min<size_t>(9, static_cast<size_t>((wait - lo) / (1 - lo) * 10))];
    }
    const double width = 1 - lo;
    EXPECT_NEAR(sum / n, lo + width / 2, kZ * width / std::sqrt(12.0 * n));
    EXPECT_LT(chi_square(deciles, std::vector<double>(10, 0.1)), chi_square_critical(9));
  }
}

// --- Capacity -------------------------------------------------------------------------------

// Users at 0.1s..0.5s call a producer (one worker) whose handler publishes to a queue holding one
// message; one consumer takes 1 s per message. m1 is stored at 0.1s and in flight until 1.1s.
std::string capacity_scenario(const std::string& when_full, const std::string& publish_timeout) {
  return R"(
name: capacity
seed: 50
duration: 20s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    target: producer
  producer:
    kind: service
    workers: 1
    handler:
      - publish: jobs
)" + (publish_timeout.empty() ? std::string() : "        timeout: " + publish_timeout + "\n") +
         R"(
  jobs:
    kind: queue
    capacity: 1
    when_full: )" +
         when_full + R"(
    consumers: {target: worker, count: 1}
  worker:
    kind: service
    service_time: 1s
)";
}

TEST(Queue, AFullQueueRejectsPublishesWithQueueFull) {
  // Users 2..5 publish while m1 is in flight: all four are refused and their requests dropped.
  RequestLog log;
  auto sim = run_checked(capacity_scenario("reject", ""), {&log});
  EXPECT_EQ(of_workload(log, *sim, "jobs").size(), 1u);
  const std::vector<Finished> users = of_workload(log, *sim, "users");
  ASSERT_EQ(users.size(), 5u);
  size_t refused = 0;
  for (const Finished& f : users) {
    if (f.outcome == Outcome::dropped) {
      EXPECT_EQ(f.reason, Reason::queue_full);
      EXPECT_EQ(f.finished, f.created);
      ++refused;
    }
  }
  EXPECT_EQ(refused, 4u);
  const StationMetrics& jobs = metrics_of(*sim, "jobs");
  EXPECT_EQ(jobs.arrivals(), 5u);
  EXPECT_EQ(jobs.dropped()[static_cast<int>(Reason::queue_full)], 4u);
}

TEST(Queue, BackpressureHoldsThePublisherUntilThereIsRoom) {
  // User 2's publish waits from 0.2s; at 1.1s m1 is acknowledged, m2 is stored and user 2 is
  // answered; the producer's worker then takes user 3, whose publish waits until 2.1s, and so
  // on: user i (i >= 2) completes at 0.1 + (i - 1) s, message i is acknowledged at i + 0.1 s.
  RequestLog log;
  auto sim = run_checked(capacity_scenario("backpressure", ""), {&log});
  const std::vector<Finished> users = of_workload(log, *sim, "users");
  ASSERT_EQ(users.size(), 5u);
  for (size_t i = 0; i < users.size(); ++i) {
    EXPECT_EQ(users[i].outcome, Outcome::completed);
    EXPECT_EQ(users[i].finished.count_ns(), ns(i == 0 ? 0.1 : 0.1 + static_cast<double>(i)));
  }
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 5u);
  for (size_t i = 0; i < messages.size(); ++i) {
    EXPECT_EQ(messages[i].finished.count_ns(), ns(1.1 + static_cast<double>(i)));
  }
  const Queue& jobs = queue_of(*sim, "jobs");
  EXPECT_EQ(jobs.metrics().gauge(Gauge::blocked_publishers).max(), 1);
  EXPECT_EQ(metrics_of(*sim, "producer").busy().max(), 1);
  EXPECT_EQ(metrics_of(*sim, "producer").queue().max(), 3) << "users 3, 4, 5 wait for the worker";
  EXPECT_EQ(jobs.metrics().dropped()[static_cast<int>(Reason::queue_full)], 0u);
}

TEST(Queue, ABlockedPublisherThatGivesUpPublishesNothing) {
  // The publish step waits at most 400 ms. User 2 blocks at 0.2s and gives up at 0.6s; user 3
  // then blocks from 0.6s to 1.0s; user 4 blocks at 1.0s and is admitted at 1.1s when m1 is
  // acknowledged (the two abandoned publishes ahead of it are discarded); user 5 blocks at 1.1s
  // and gives up at 1.5s, before m4 leaves at 2.1s. Two messages in all.
  RequestLog log;
  auto sim = run_checked(capacity_scenario("backpressure", "400ms"), {&log});
  const std::vector<Finished> users = of_workload(log, *sim, "users");
  ASSERT_EQ(users.size(), 5u);
  std::map<int64_t, std::pair<Outcome, int64_t>> by_created;  // created -> (outcome, finished)
  for (const Finished& f : users) {
    by_created[f.created.count_ns()] = {f.outcome, f.finished.count_ns()};
  }
  EXPECT_EQ(by_created[ns(0.1)], std::make_pair(Outcome::completed, ns(0.1)));
  EXPECT_EQ(by_created[ns(0.2)], std::make_pair(Outcome::failed, ns(0.6)));
  EXPECT_EQ(by_created[ns(0.3)], std::make_pair(Outcome::failed, ns(1.0)));
  EXPECT_EQ(by_created[ns(0.4)], std::make_pair(Outcome::completed, ns(1.1)));
  EXPECT_EQ(by_created[ns(0.5)], std::make_pair(Outcome::failed, ns(1.5)));
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].created.count_ns(), ns(1.1));
  EXPECT_EQ(messages[1].finished.count_ns(), ns(2.1));
  EXPECT_EQ(queue_of(*sim, "jobs").blocked_publishers(), 0u);
}

// --- Retention ------------------------------------------------------------------------------

TEST(Queue, RetentionDropsMessagesThatWaitedTooLong) {
  // Retention 2 s; five messages at 0.1s..0.5s, one consumer at 1 s each: m1, m2 are processed
  // in time; m3 (stored 0.3s) is received at 2.1s, before its 2.3s expiry, and completes at
  // 3.1s; m4 and m5 are still waiting at 2.4s and 2.5s and are dropped then.
  const std::string yaml = R"(
name: retention
seed: 51
duration: 20s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    target: jobs
  jobs:
    kind: queue
    retention: 2s
    consumers: {target: worker, count: 1}
  worker:
    kind: service
    service_time: 1s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 5u);
  const std::vector<std::pair<double, Outcome>> expected = {{1.1, Outcome::completed},
                                                            {2.1, Outcome::completed},
                                                            {2.4, Outcome::dropped},
                                                            {2.5, Outcome::dropped},
                                                            {3.1, Outcome::completed}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(messages[i].finished.count_ns(), ns(expected[i].first)) << i;
    EXPECT_EQ(messages[i].outcome, expected[i].second) << i;
    if (expected[i].second == Outcome::dropped) {
      EXPECT_EQ(messages[i].reason, Reason::expired);
    }
  }
  EXPECT_EQ(metrics_of(*sim, "jobs").dropped()[static_cast<int>(Reason::expired)], 2u);
}

TEST(Queue, AMessageInFlightPastItsRetentionIsDroppedWhenItComesBack) {
  // Retention 1 s, visibility 1.5 s, processing 2 s: received at 0.1s, it outlives its retention
  // (1.1s) in flight; its visibility runs out at 1.6s and it is dropped, not redelivered.
  const std::string yaml = R"(
name: retention
seed: 52
duration: 20s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    target: jobs
  jobs:
    kind: queue
    retention: 1s
    visibility_timeout: 1500ms
    consumers: {target: worker, count: 1}
  worker:
    kind: service
    service_time: 2s
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].outcome, Outcome::dropped);
  EXPECT_EQ(messages[0].reason, Reason::expired);
  EXPECT_EQ(messages[0].finished.count_ns(), ns(1.6));
  EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), 0u);
  EXPECT_EQ(metrics_of(*sim, "worker").served(), 1u) << "the late success is ignored";
}

// --- Batches --------------------------------------------------------------------------------

// Five messages at 1 ms..5 ms; one consumer with batches of up to 3, 1 s per message. m1 comes
// alone (it is the only one visible at 1 ms); at 1.001s the batch is m2, m3, m4, processed one
// after another; at 4.001s the batch is m5. With a visibility timeout of 2.5 s, m4 (received at
// 1.001s, its turn at 3.001s) becomes visible again at 3.501s: its late success at 4.001s is
// ignored and the next batch is m4 again, then m5.
TEST(Queue, AConsumerProcessesItsBatchOneMessageAfterAnother) {
  for (const bool short_visibility : {false, true}) {
    SCOPED_TRACE(short_visibility ? "visibility 2.5s" : "visibility 30s");
    const std::string yaml = R"(
name: batches
seed: 53
duration: 20s
components:
  producer:
    kind: source
    arrivals: {constant: 1000/s}
    max_requests: 5
    target: jobs
  jobs:
    kind: queue
    visibility_timeout: )" + std::string(short_visibility ? "2500ms" : "30s") +
                             R"(
    consumers: {target: worker, count: 1, batch_size: 3}
  worker:
    kind: service
    service_time: 1s
)";
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
    ASSERT_EQ(messages.size(), 5u);
    const std::vector<double> acks = short_visibility
                                         ? std::vector<double>{1.001, 2.001, 3.001, 5.001, 6.001}
                                         : std::vector<double>{1.001, 2.001, 3.001, 4.001, 5.001};
    for (size_t i = 0; i < messages.size(); ++i) {
      EXPECT_EQ(messages[i].created.count_ns(), ns(0.001 * static_cast<double>(i + 1)));
      EXPECT_EQ(messages[i].finished.count_ns(), ns(acks[i]));
    }
    EXPECT_EQ(count(*sim, "jobs", Counter::redeliveries), short_visibility ? 1u : 0u);
    EXPECT_EQ(count(*sim, "jobs", Counter::duplicates), short_visibility ? 1u : 0u);
    EXPECT_EQ(metrics_of(*sim, "worker").served(), short_visibility ? 6u : 5u);
  }
}

// --- Autoscaling ----------------------------------------------------------------------------

// 100 messages at 10 ms intervals, 1 s each; one consumer; scale out by 1 at depth >= 10, in at
// depth 0, between 1 and 4 consumers, cooldown 5 s (the start counts as a scaling action).
// The depth passes 10 at 0.11s, so consumers are added at 5s, 10s and 15s (the max). Receives
// then run at 4 a second: by 31s there have been 97 (consumer A at 0.01s + n, B from 5s, C from
// 10s, D from 15s), A takes the 98th at 31.01s and two others the last at 32s. The depth is 0:
// one consumer goes at 32s, and one each at 37s and 42s, when the cooldown allows.
std::vector<std::pair<int64_t, int64_t>> scaling_steps(const std::string& startup) {
  const std::string yaml = R"(
name: autoscale
seed: 54
duration: 60s
components:
  producer:
    kind: source
    arrivals: {constant: 100/s}
    max_requests: 100
    target: jobs
  jobs:
    kind: queue
    consumers:
      target: worker
      count: 1
      autoscale: {min: 1, max: 4, step: 1, scale_out_depth: 10, scale_in_depth: 0, cooldown: 5s,
                  startup: )" +
                           startup + R"(}
  worker:
    kind: service
    workers: 10
    service_time: 1s
)";
  Simulation sim(load_text(yaml));
  const Queue& jobs = queue_of(sim, "jobs");
  std::vector<std::pair<int64_t, int64_t>> steps;  // (instant in ns, consumers from then on)
  int64_t consumers = 1;
  while (sim.step()) {
    EXPECT_LE(jobs.metrics().busy().level(), jobs.metrics().capacity().level());
    if (jobs.active_consumers() != consumers) {
      consumers = jobs.active_consumers();
      steps.emplace_back(sim.now().count_ns(), consumers);
    }
  }
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(jobs.metrics().served(), 100u);
  EXPECT_EQ(jobs.metrics().gauge(Gauge::consumers).max(), 4);
  return steps;
}

TEST(Queue, AutoscalingAddsAndRemovesConsumersStepByStepAfterEachCooldown) {
  const std::vector<std::pair<int64_t, int64_t>> expected = {{ns(5), 2},  {ns(10), 3}, {ns(15), 4},
                                                             {ns(32), 3}, {ns(37), 2}, {ns(42), 1}};
  EXPECT_EQ(scaling_steps("0s"), expected);
}

TEST(Queue, AutoscaledConsumersStartAfterTheirStartupTime) {
  // The same decisions at 5s, 10s, 15s; each consumer takes 2 s to start.
  const std::vector<std::pair<int64_t, int64_t>> steps = scaling_steps("2s");
  ASSERT_GE(steps.size(), 3u);
  EXPECT_EQ(steps[0], std::make_pair(ns(7), int64_t{2}));
  EXPECT_EQ(steps[1], std::make_pair(ns(12), int64_t{3}));
  EXPECT_EQ(steps[2], std::make_pair(ns(17), int64_t{4}));
}

// --- Messages as requests -------------------------------------------------------------------

class KeyLog final : public Observer {
 public:
  bool wants_requests() const override { return true; }
  void on_request_finished(const Simulation&, const Request& r, Outcome, Reason,
                           uint32_t) override {
    entries.push_back({r.id, r.idempotency_key, r.workload});
  }
  struct Entry {
    uint64_t id, idempotency_key;
    uint32_t workload;
  };
  std::vector<Entry> entries;
};

TEST(Queue, MessagesKeepThePublishersIdempotencyKeyOrGetTheirOwn) {
  for (const bool from_source : {true, false}) {
    SCOPED_TRACE(from_source ? "keys from the source" : "message ids as keys");
    const std::string yaml = R"(
name: keys
seed: 55
duration: 10s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    idempotency_keys: )" + std::string(from_source ? "true" : "false") +
                             R"(
    target: jobs
  jobs:
    kind: queue
    idempotency_keys: )" + std::string(from_source ? "false" : "true") +
                             R"(
    consumers: {target: worker}
  worker:
    kind: service
    service_time: 10ms
)";
    KeyLog log;
    auto sim = run_checked(yaml, {&log});
    const uint32_t jobs = workload_index(*sim, "jobs");
    std::map<uint64_t, uint64_t> publisher_keys;  // publisher request id -> its key
    size_t messages = 0;
    for (const KeyLog::Entry& e : log.entries) {
      if (e.workload != jobs) {
        publisher_keys[e.id] = e.idempotency_key;
        continue;
      }
      ++messages;
      // A message is created inside its publisher's call, so its id follows the publisher's.
      EXPECT_EQ(e.idempotency_key, from_source ? publisher_keys.at(e.id - 1) : e.id);
      EXPECT_NE(e.idempotency_key, 0u);
    }
    EXPECT_EQ(messages, 3u);
  }
}

TEST(Queue, PublishLatencyDelaysTheAcknowledgementAndTheMessage) {
  const std::string yaml = R"(
name: latency
seed: 56
duration: 10s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 2
    target: jobs
  jobs:
    kind: queue
    publish_latency: 50ms
    consumers: {target: worker}
  worker:
    kind: service
    service_time: 10ms
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  for (const Finished& f : of_workload(log, *sim, "producer")) {
    EXPECT_EQ((f.finished - f.created).count_ns(), ns(0.05));
  }
  const std::vector<Finished> messages = of_workload(log, *sim, "jobs");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].created.count_ns(), ns(0.15));
  EXPECT_EQ((messages[0].finished - messages[0].created).count_ns(), ns(0.01))
      << "end to end: from the stored message to its acknowledgement";
}

// An overloaded queue with everything switched on, ended mid-flow: at the end there are messages
// delayed, visible and in flight, and blocked publishers, besides the completed, dead-lettered
// and expired ones; the ledger balances and the queue's own counts agree. Users publish at 60/s
// and the consumers get through about 40/s, so the queue fills: 150 < 60/s x 3 s (expiry alone
// cannot keep it below capacity), and a full queue's 150 / 40/s = 3.75 s wait exceeds the 3 s
// retention, so messages expire too.
TEST(Queue, EveryMessageIsAccountedForInEveryState) {
  const std::string yaml = R"(
name: everything
seed: 57
duration: 30s
components:
  users:
    kind: source
    arrivals: {poisson: 60/s}
    keys: {uniform: 40}
    target: producer
  producer:
    kind: service
    workers: 20
    handler:
      - compute: {exponential: 2ms}
      - publish: jobs
  jobs:
    kind: queue
    capacity: 150
    when_full: backpressure
    delay: {uniform: {min: 0s, max: 500ms}}
    retention: 3s
    max_receives: 3
    visibility_timeout: 300ms
    redelivery_backoff: {base: 100ms, cap: 1s, jitter: full}
    consumers: {target: worker, count: 4, batch_size: 2}
  worker:
    kind: service
    workers: 4
    handler:
      - compute: {exponential: 100ms}
      - if: {probability: 0.2}
        then: [{call: broken}]
)" + kBroken;
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const Queue& jobs = queue_of(*sim, "jobs");
  const StationMetrics& m = jobs.metrics();
  EXPECT_GT(jobs.count_messages(Message::State::delayed), 0u);
  EXPECT_GT(jobs.count_messages(Message::State::ready), 0u);
  EXPECT_GT(jobs.count_messages(Message::State::in_flight), 0u);
  EXPECT_GT(jobs.blocked_publishers(), 0u);
  EXPECT_EQ(jobs.held(), 150) << "full";
  EXPECT_EQ(static_cast<size_t>(jobs.waiting()), jobs.count_messages(Message::State::delayed) +
                                                     jobs.count_messages(Message::State::ready));
  EXPECT_EQ(static_cast<size_t>(jobs.in_flight()), jobs.count_messages(Message::State::in_flight));
  EXPECT_GT(m.served(), 0u);
  EXPECT_GT(m.counter(Counter::dead_lettered), 0u);
  EXPECT_GT(m.dropped()[static_cast<int>(Reason::expired)], 0u);
  EXPECT_GT(m.counter(Counter::duplicates), 0u);
  // The queue's arrivals are its stored messages; each has ended here or is still held.
  const uint64_t ended = m.served() + m.counter(Counter::dead_lettered) +
                         m.dropped()[static_cast<int>(Reason::expired)];
  EXPECT_EQ(m.arrivals(), ended + static_cast<uint64_t>(jobs.held()));
  EXPECT_EQ(m.in_system().level(), jobs.held());
  EXPECT_EQ(of_workload(log, *sim, "jobs").size(), ended);
  // Messages still held are in flight in the ledger, with the users whose publishes are held.
  EXPECT_GE(sim->ledger().in_flight,
            static_cast<uint64_t>(jobs.held()) + jobs.blocked_publishers());
  expect_reproducible(yaml);
}

TEST(Queue, AQueueWithoutConsumersOnlyFillsUp) {
  const std::string yaml = R"(
name: store
seed: 58
duration: 10s
components:
  producer:
    kind: source
    arrivals: {constant: 10/s}
    target: jobs
  jobs:
    kind: queue
)";
  auto sim = run_checked(yaml);
  const Queue& jobs = queue_of(*sim, "jobs");
  EXPECT_EQ(jobs.waiting(), 100);
  EXPECT_EQ(sim->ledger().in_flight, 100u);
  EXPECT_EQ(sim->ledger().completed, 100u) << "the publishers";
}

// --- Load-time errors -----------------------------------------------------------------------

TEST(Queue, RejectsBadConfigurationsWithClearMessages) {
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
  EXPECT_EQ(errors("    max_receives: 3\n    dead_letter_queue: worker\n"
                   "    consumers: {target: worker}"),
            "test.yaml:11:24: error: 'jobs': dead_letter_queue: 'worker' is a service, not a "
            "queue\n");
  EXPECT_EQ(errors("    max_receives: 3\n    dead_letter_queue: jobs\n"
                   "    consumers: {target: worker}"),
            "test.yaml:11:24: error: 'jobs': dead_letter_queue: a queue cannot be its own "
            "dead-letter queue\n");
  EXPECT_EQ(errors("    max_receives: 3\n    dead_letter_queue: dead\n"
                   "    consumers: {target: worker}",
                   "  dead:\n    kind: queue\n    consumers: {target: worker}\n"),
            "test.yaml:11:24: error: 'jobs': dead_letter_queue: 'dead' has consumers; a "
            "dead-letter queue only keeps the dead letters (its depth), so give it none\n");
  EXPECT_EQ(errors("    dead_letter_queue: dead\n    consumers: {target: worker}",
                   "  dead:\n    kind: queue\n"),
            "test.yaml:8:3: error: components.jobs: dead_letter_queue needs max_receives: "
            "without it no message is ever dead-lettered\n");
  EXPECT_EQ(errors("    partitions: 4\n    ordering: priority\n    consumers: {target: worker}"),
            "test.yaml:8:3: error: components.jobs: ordering: priority cannot be combined with "
            "partitions (a partition is a log, delivered in publish order)\n");
  EXPECT_EQ(errors("    when_full: backpressure\n    consumers: {target: worker}"),
            "test.yaml:8:3: error: components.jobs: when_full needs a capacity: without one the "
            "queue is never full\n");
  EXPECT_EQ(errors("    consumers: {count: 2}\n"),
            "test.yaml:10:16: error: components.jobs.consumers: missing required key 'target' "
            "(Component that processes the messages (e.g. a service doing the work): each "
            "message is one call to it, and its success acknowledges the message.)\n");
  EXPECT_EQ(errors("    consumers:\n      target: worker\n      count: 5\n"
                   "      autoscale: {min: 1, max: 4}"),
            "test.yaml:11:7: error: components.jobs.consumers: count (the consumers at the "
            "start) must be between autoscale.min and autoscale.max\n");
  EXPECT_EQ(errors("    visibility_timeout: 0s\n    consumers: {target: worker}"),
            "test.yaml:8:3: error: components.jobs: visibility_timeout must be above zero\n");
}

TEST(Queue, PublishingToSomethingThatIsNotAQueueIsAnError) {
  const std::string errors = load_errors(R"(name: bad
duration: 10s
components:
  producer:
    kind: source
    arrivals: {poisson: 1/s}
    target: api
  api:
    kind: service
    handler:
      - publish: worker
  worker:
    kind: service
    service_time: 1ms
)");
  EXPECT_NE(errors.find("for operation 'publish' (publish sends to a queue)"), std::string::npos)
      << errors;
}

// --- docs/components/queue.md ---------------------------------------------------------------

// Every complete scenario (a ```yaml block with `components:`) in the queue's page loads and
// runs two simulated minutes with every request accounted for.
TEST(Queue, TheExamplesOfItsDocumentationRun) {
  std::ifstream in(DSIM_DOCS_DIR "/components/queue.md", std::ios::binary);
  ASSERT_TRUE(in) << "cannot open docs/components/queue.md";
  int blocks = 0;
  for (std::string line; std::getline(in, line);) {
    if (line != "```yaml") continue;
    std::string text;
    for (std::string body; std::getline(in, body) && body != "```";) text += body + "\n";
    if (text.find("\ncomponents:") == std::string::npos) continue;
    ++blocks;
    SCOPED_TRACE(text);
    const Scenario s = load_text(text, {{"duration", "2m"}});
    Simulation sim(s);
    sim.run();
    EXPECT_TRUE(Balanced(sim));
  }
  EXPECT_GE(blocks, 1);
}

}  // namespace
}  // namespace dsim::test
