// A queue whose consumers' target fails at once (crashed, or behind a partition in reject mode):
// by default a failed message waits out its visibility timeout, as in SQS. With a
// redelivery_backoff of 0s (a nack) it would be redelivered and refused at the same instant for
// ever - simulated time stops: the queue ends such a run with an error that names the fix. A
// positive backoff or a small max_receives gives a run that ends, with exact counts.
//
// Messages arrive at 10 ms, 20 ms, ... (`constant: 100/s`); the worker takes 4 ms, so the queue
// holds at most one message before the crash, which falls between two arrivals (1.005 s), and
// lasts 1 s.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

std::string consumer_scenario(const std::string& queue_extra, const std::string& faults) {
  return R"(
duration: 4s
components:
  users: {kind: source, arrivals: {constant: 100/s}, target: jobs}
  jobs: {kind: queue, consumers: {target: worker, count: 1})" +
         queue_extra + R"(}
  worker: {kind: service, workers: 1, service_time: {constant: 4ms}}
faults:
)" + faults;
}

constexpr const char* kCrash =
    "  boom: {kind: crash, targets: [worker], at: 1005ms, duration: 1s}\n";
constexpr const char* kRejectingPartition =
    "  cut: {kind: partition, from: [jobs], targets: [worker], mode: reject, at: 1005ms, "
    "duration: 1s}\n";
constexpr const char* kNack = ", redelivery_backoff: {backoff: constant, base: 0s}";

// The default: each of the 100 messages of 1.01 s ... 2.00 s is refused once, at its arrival,
// and received again when its visibility timeout (1 s) runs out - after the restart, so it then
// completes. The others are received once.
TEST(QueueRedeliveryLoop, AFailedMessageWaitsOutItsVisibilityTimeoutByDefault) {
  RequestLog log;
  auto sim = run_checked(consumer_scenario(", visibility_timeout: 1s", kCrash), {&log});
  EXPECT_EQ(metrics_of(*sim, "jobs").counter(Counter::redeliveries), 100u);
  size_t waited = 0;
  for (const Finished& f : log.entries) {
    if (f.workload != 1) continue;  // the messages (0: the publishes)
    EXPECT_EQ(f.outcome, Outcome::completed);
    const bool refused = f.created > Time::ms(1005) && f.created < Time::ms(2005);
    if (refused) {
      EXPECT_GE(f.finished - f.created, Time::s(1)) << f.created.seconds();
      ++waited;
    } else {
      EXPECT_LT(f.finished - f.created, Time::ms(100)) << f.created.seconds();
    }
  }
  EXPECT_EQ(waited, 100u);
}

// With a nack, the message of 1.01 s is refused at once, made visible at once and received
// again: after 100 redeliveries per message held (here 1, plus a margin of 10) the run ends -
// within a few hundred events, not after minutes of spinning.
void expect_loop_reported(const std::string& faults) {
  Simulation sim(load_text(consumer_scenario(kNack, faults)));
  try {
    sim.run();
    FAIL() << "the run ended without reporting the redelivery loop";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "queue 'jobs': simulated time stopped advancing at 1.01s: its messages were made "
              "visible again and redelivered 1101 times at this instant (messages held: 1), "
              "because 'worker' fails them at once and redelivery_backoff makes a failed message "
              "visible again at once. Give redelivery_backoff a base above 0s, or leave it out (a "
              "failed message then comes back when its visibility timeout runs out), or set "
              "max_receives to at most 100.");
  }
  EXPECT_EQ(sim.now(), Time::ms(1010));
  EXPECT_LT(sim.events_processed(), 1000u);
}

TEST(QueueRedeliveryLoop, ACrashedTargetWithANackEndsTheRunWithAnError) {
  expect_loop_reported(kCrash);
}

TEST(QueueRedeliveryLoop, ARejectingPartitionWithANackEndsTheRunWithAnError) {
  expect_loop_reported(kRejectingPartition);
}

// With a constant 100 ms backoff the message of t = 1.01 s + i * 10 ms (i = 0 ... 99) is refused
// at t, t + 0.1 s, ... while t + k * 0.1 s < 2.005 s: messages 0-9 ten times, 10-19 nine times,
// ..., 90-99 once - 10 * (10 + 9 + ... + 1) = 550 redeliveries - and then processed once the
// worker is back. Nothing fails.
TEST(QueueRedeliveryLoop, ARedeliveryBackoffLetsTimeMoveOnAndEveryMessageComplete) {
  RequestLog log;
  auto sim = run_checked(
      consumer_scenario(", redelivery_backoff: {backoff: constant, base: 100ms}", kCrash), {&log});
  EXPECT_EQ(metrics_of(*sim, "jobs").counter(Counter::redeliveries), 550u);
  const Ledger l = sim->ledger();
  EXPECT_EQ(l.dead_lettered, 0u);
  EXPECT_EQ(l.failed, 0u);
  EXPECT_EQ(l.dropped, 0u);
}

// max_receives 5 bounds a nack's cycle by itself: each message that arrives while the worker is
// down is received five times at its arrival instant and dead-lettered - the 100 of 1.01 s ...
// 2.00 s.
TEST(QueueRedeliveryLoop, ASmallMaxReceivesDeadLettersAtOnceWithoutAnError) {
  RequestLog log;
  auto sim =
      run_checked(consumer_scenario(std::string(kNack) + ", max_receives: 5", kCrash), {&log});
  EXPECT_EQ(log.count(Outcome::dead_lettered, Reason::max_receives), 100u);
  EXPECT_EQ(metrics_of(*sim, "jobs").counter(Counter::redeliveries), 400u);
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::dead_lettered) {
      EXPECT_EQ(f.finished, f.created);
    }
  }
}

}  // namespace
}  // namespace dsim::test
