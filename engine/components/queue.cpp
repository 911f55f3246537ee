#include "components/queue.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/format.hpp"
#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

// --- Parameters -----------------------------------------------------------------------------

void RedeliveryBackoffSpec::describe(ParamVisitor& v) {
  v.choice({"backoff", "choice",
            "Wait after the n-th receive failed (n = 1, 2, ...): constant (`base`) or exponential "
            "(min(cap, base * 2^(n-1)))."},
           backoff, RetrySpec::kBackoffNames);
  v.duration({"base", "duration", "The first (or every, with constant backoff) wait."}, base);
  v.duration({"cap", "duration", "The longest wait."}, cap);
  v.choice({"jitter", "choice",
            "Randomisation of the wait t: none (t), full (uniform 0..t), equal (t/2 + uniform "
            "0..t/2)."},
           jitter, kJitterNames);
}

std::string RedeliveryBackoffSpec::check() {
  if (cap < base) return "cap (the longest wait) is shorter than base";
  return {};
}

void AutoscaleSpec::describe(ParamVisitor& v) {
  v.count({"min", "count", "Fewest consumers."}, min, 0, 100'000);
  v.count({"max", "count", "Most consumers."}, max, 1, 100'000);
  v.count({"step", "count", "Consumers added or removed by one scaling action."}, step, 1, 100'000);
  v.count({"scale_out_depth", "count",
           "Add `step` consumers when the queue depth (waiting messages) is at least this."},
          scale_out_depth, 1, INT64_MAX);
  v.count({"scale_in_depth", "count", "Remove `step` consumers when the depth is at most this."},
          scale_in_depth, 0, INT64_MAX);
  v.duration({"cooldown", "duration",
              "Least time between two scaling actions (the start of the run counts as one); a "
              "depth that still calls for one is looked at again when the cooldown ends."},
             cooldown);
  v.duration({"startup", "duration",
              "Time an added consumer takes before it takes messages (a container starting). "
              "Removed consumers stop at once, or when their batch is done."},
             startup);
}

std::string AutoscaleSpec::check() {
  if (min > max) return "min is larger than max";
  if (scale_in_depth >= scale_out_depth) {
    return "scale_in_depth must be below scale_out_depth (at one depth it cannot scale both out "
           "and in)";
  }
  if (cooldown <= Time::zero()) return "cooldown must be above zero";
  return {};
}

void ConsumerSpec::describe(ParamVisitor& v) {
  v.target({"target", "component",
            "Component that processes the messages (e.g. a service doing the work): each "
            "message is one call to it, and its success acknowledges the message.",
            true},
           target);
  v.text({"op", "name", "Operation at the target. Absent: its default."}, op);
  v.count({"count", "count",
           "Consumers (the consumer group); each processes one batch at a time. With partitions, "
           "at most `partitions` of them have work."},
          count, 0, 100'000);
  v.count({"batch_size", "count",
           "Messages a consumer receives at once; it processes them one after another and "
           "receives again when all are answered."},
          batch_size, 1, 10'000);
  policy.describe(v);
  v.group({"autoscale", "block",
           "Scale the consumers on the queue depth: `{min, max, step, scale_out_depth, "
           "scale_in_depth, cooldown, startup}`. Absent: `count` consumers throughout."},
          autoscale);
}

std::string ConsumerSpec::check() {
  target.op = op;
  if (autoscale.present && (count < autoscale.min || count > autoscale.max)) {
    return "count (the consumers at the start) must be between autoscale.min and autoscale.max";
  }
  return {};
}

void QueueParams::describe(ParamVisitor& v) {
  v.choice({"ordering", "choice",
            "Order in which visible messages are received: fifo (publish order) or priority "
            "(higher request priority first, then publish order). A message made visible again "
            "keeps its place."},
           ordering, kOrderingNames);
  v.count({"partitions", "count",
           "Partitions (Kafka-like): a message goes to partition hash(key) mod N, partition p is "
           "consumed by consumer p mod count, and a partition delivers its next batch only when "
           "none of its messages is in flight. 0: no partitions, every consumer takes any "
           "message."},
          partitions, 0, 100'000);
  v.duration({"visibility_timeout", "duration",
              "A received message stays invisible this long; if the consumer has not succeeded "
              "by then it becomes visible again and is redelivered (a late success is ignored)."},
             visibility_timeout);
  v.count({"max_receives", "count",
           "Receives without success after which a message is dead-lettered (reason "
           "max_receives). `unbounded`: redelivered for ever."},
          max_receives, 1, INT64_MAX);
  v.target({"dead_letter_queue", "component",
            "A queue (without consumers) that keeps the dead letters. Absent: a built-in one "
            "(the dlq_depth gauge)."},
           dead_letter_queue);
  v.distribution({"delay", "distribution",
                  "Delivery delay: a new message becomes visible this long after it is stored."},
                 delay);
  v.group({"redelivery_backoff", "block",
           "How long a message whose processing failed stays invisible before its next "
           "delivery (the consumer's ChangeMessageVisibility): `{backoff, base, cap, jitter}`; "
           "base 0s makes it visible at once (a nack with requeue). Absent: it comes back when "
           "its visibility timeout runs out, as in SQS."},
          redelivery_backoff);
  v.count({"capacity", "count",
           "Messages the queue holds at most (waiting, delayed and in flight); when full, "
           "`when_full` decides. `unbounded` for no limit."},
          capacity, 1, INT64_MAX);
  v.choice({"when_full", "choice",
            "A publish to a full queue: reject (it fails at once with queue_full) or "
            "backpressure (the publisher waits, first come first served, until there is "
            "room)."},
           when_full, kWhenFullNames);
  v.duration({"retention", "duration",
              "Messages older than this (since stored) are dropped with reason expired; one in "
              "flight is dropped if it comes back unprocessed. 0: kept for ever."},
             retention);
  v.distribution(
      {"publish_latency", "distribution", "Time to store a message and acknowledge the publish."},
      publish_latency);
  v.text({"workload", "name",
          "Workload of the messages in end-to-end results (their latency is publish to "
          "acknowledgement). Defaults to the queue's name."},
         workload);
  v.flag({"idempotency_keys", "bool",
          "Give a message whose publisher request has no idempotency key its own (the message "
          "id), kept by every redelivery, as consumers that deduplicate by message id do."},
         idempotency_keys);
  v.flag({"durable", "bool",
          "Messages are kept on disk: a crash loses none of them, and a full disk refuses "
          "publishes (disk_full). An in-memory queue (false) loses its messages when it crashes."},
         durable);
  v.group({"consumers", "block",
           "The consumer group: `{target, op, count, batch_size, autoscale}` and the call policy "
           "of each processing call (timeout, retry...). Absent: no consumers."},
          consumers);
  v.list({"consumer_groups", "map",
          "Several consumer groups (Kafka-like), instead of `consumers`: a map of group name to "
          "the same block as `consumers`. Every group receives every message, with its own "
          "visibility, redeliveries, dead letters, partition order and consumers; its figures "
          "are those of the component `<queue>.<group>`. A publish is acknowledged once every "
          "group has stored it."},
         consumer_groups);
}

std::unique_ptr<QueueParams> QueueParams::group_queue(size_t g,
                                                      const std::string& queue_name) const {
  auto q = std::make_unique<QueueParams>(*this);
  const ConsumerGroupSpec& group = consumer_groups.items[g];
  static_cast<ConsumerSpec&>(q->consumers) = group;
  q->consumers.present = true;
  q->consumer_groups.clear();
  q->fed_by = queue_name;
  q->workload = group_queue_name(workload.empty() ? queue_name : workload, group.name);
  q->publish_latency = Distribution();
  q->delay = Distribution();
  q->capacity = INT64_MAX;
  q->when_full = reject;
  return q;
}

std::string QueueParams::check(const std::vector<std::string>& given) {
  const auto has = [&](const char* key) {
    return std::find(given.begin(), given.end(), key) != given.end();
  };
  if (visibility_timeout <= Time::zero()) return "visibility_timeout must be above zero";
  if (partitions > 0 && ordering == priority) {
    return "ordering: priority cannot be combined with partitions (a partition is a log, "
           "delivered in publish order)";
  }
  if (has("dead_letter_queue") && !has("max_receives")) {
    return "dead_letter_queue needs max_receives: without it no message is ever dead-lettered";
  }
  if (has("consumers") && has("consumer_groups")) {
    return "give either consumers (one consumer group) or consumer_groups (several), not both";
  }
  if (has("when_full") && !has("capacity")) {
    return "when_full needs a capacity: without one the queue is never full";
  }
  return {};
}

std::string QueueParams::check_reference(const TargetRef& ref, const std::string& callee_kind,
                                         const ComponentParams& callee) const {
  if (&ref != &dead_letter_queue) return {};
  if (&callee == this) return "dead_letter_queue: a queue cannot be its own dead-letter queue";
  if (callee_kind != "queue") {
    return "dead_letter_queue: '" + ref.name + "' is a " + callee_kind + ", not a queue";
  }
  if (static_cast<const QueueParams&>(callee).consumers.present ||
      !static_cast<const QueueParams&>(callee).consumer_groups.empty()) {
    return "dead_letter_queue: '" + ref.name +
           "' has consumers; a dead-letter queue only keeps the dead letters (its depth), so "
           "give it none";
  }
  return {};
}

// --- The component --------------------------------------------------------------------------

Queue::Queue(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "queue", std::move(params)),
      p_(static_cast<QueueParams&>(this->params())),
      ready_(p_.ordering == QueueParams::priority) {
  if (p_.consumers.present) {
    out_.add_site(p_.consumers.policy, p_.consumers.target.index, p_.consumers.target.op_index,
                  "consumers:" + p_.consumers.target.name);
  }
  partitions_.resize(static_cast<size_t>(p_.partitions));
}

void Queue::start(Simulation& sim) {
  if (!p_.consumer_groups.empty()) {
    start_groups(sim);  // (the messages' workloads are the groups')
    return;
  }
  workload_ = sim.add_workload(p_.workload.empty() ? name() : p_.workload);
  delay_rng_ = sim.make_rng(*this, "delay");
  publish_rng_ = sim.make_rng(*this, "publish_latency");
  backoff_rng_ = sim.make_rng(*this, "redelivery_backoff");
  out_.start(sim);
  if (p_.dead_letter_queue.index != UINT32_MAX) {
    dlq_ = dynamic_cast<Queue*>(sim.components()[p_.dead_letter_queue.index].get());
  }
  metrics().gauge(Gauge::messages_in_flight).set(sim.now(), 0);
  if (p_.max_receives != INT64_MAX) metrics().gauge(Gauge::dlq_depth).set(sim.now(), 0);
  if (p_.when_full == QueueParams::backpressure) {
    metrics().gauge(Gauge::blocked_publishers).set(sim.now(), 0);
  }
  // The deployment counts as a scaling action: the first one waits for the cooldown.
  last_scale_ = sim.now();
  desired_ = p_.consumers.present ? p_.consumers.count : 0;
  set_active(sim, desired_);
  pump(sim);
}

// A queue with consumer groups only takes publishes and hands each message to its group queues
// (added by the loader as `<queue>.<group>`, after every component the file names).
void Queue::start_groups(Simulation& sim) {
  delay_rng_ = sim.make_rng(*this, "delay");
  publish_rng_ = sim.make_rng(*this, "publish_latency");
  for (const ConsumerGroupSpec& g : p_.consumer_groups) {
    const std::string group_name = QueueParams::group_queue_name(name(), g.name);
    Queue* group = nullptr;
    for (const auto& c : sim.components()) {
      if (c->name() == group_name) group = dynamic_cast<Queue*>(c.get());
    }
    if (!group || group->config().fed_by != name()) {
      throw std::logic_error("queue '" + name() + "': no group queue '" + group_name + "'");
    }
    group->feeder_ = this;
    groups_.push_back(group);
  }
  if (p_.when_full == QueueParams::backpressure) {
    metrics().gauge(Gauge::blocked_publishers).set(sim.now(), 0);
  }
}

// --- Publishing -----------------------------------------------------------------------------

void Queue::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  if (faults().active && faults().disk_full && p_.durable) [[unlikely]] {
    reject(sim, h, Reason::disk_full);
    return;
  }
  if (sim.call(h).deadline <= sim.now()) {
    reject(sim, h, Reason::deadline_exceeded);
    return;
  }
  Time latency = p_.publish_latency.sample(publish_rng_);
  if (faults().active) [[unlikely]]
    latency = faults().stretch(latency, sim.call(h).caller);
  if (latency > Time::zero()) {
    // With the call's serial: a crash may fail the publish meanwhile (and its slot be reused).
    sim.schedule(sim.now() + latency, *this, kPublished, pack_handle(h, sim.call(h).serial));
    return;
  }
  publish(sim, h);
  pump(sim);
}

void Queue::publish(Simulation& sim, CallHandle h) {
  // Publishes wait their turn behind blocked ones, so that backpressure is first come first served.
  if (!blocked_.empty() || fullest_held() >= p_.capacity) {
    if (p_.when_full == QueueParams::reject) {
      reject(sim, h, Reason::queue_full);
    } else {
      blocked_.push_back(h);
      metrics()
          .gauge(Gauge::blocked_publishers)
          .set(sim.now(), static_cast<int64_t>(blocked_.size()));
    }
    return;
  }
  store(sim, h);
}

// Refused at the door: an arrival and a loss here, a failure for the publisher.
void Queue::reject(Simulation& sim, CallHandle h, Reason reason) {
  metrics().on_arrival(sim.now());
  metrics().on_lost(sim.now(), outcome_of(reason), reason);
  sim.reply(h, Reply::failure(reason));
}

// With consumer groups, a message is stored when every group has it: the capacity is the
// fullest group's.
int64_t Queue::fullest_held() const {
  if (groups_.empty()) return held();
  int64_t most = 0;
  for (const Queue* g : groups_) most = std::max(most, g->held());
  return most;
}

void Queue::store(Simulation& sim, CallHandle h) {
  // (Copied: storing creates requests, which may move `publisher`.)
  const Request& publisher = sim.request(sim.call(h).request);
  const uint64_t key = publisher.key;
  const uint64_t idempotency_key = publisher.idempotency_key;
  const int16_t priority = publisher.priority;
  if (!groups_.empty()) [[unlikely]] {
    store_in_groups(sim, h, key, priority, idempotency_key);
    return;
  }
  store_message(sim, key, priority, idempotency_key, p_.delay.sample(delay_rng_));
  sim.reply(h, Reply::success());
}

// Every group gets its own copy of the message - its own request, from publish to that group's
// acknowledgement - with the same key and delay, in the same order; the publish is acknowledged
// once all are stored. Here the publish only passes through.
void Queue::store_in_groups(Simulation& sim, CallHandle h, uint64_t key, int16_t priority,
                            uint64_t idempotency_key) {
  const Time delay = p_.delay.sample(delay_rng_);
  metrics().on_pass_through();
  for (Queue* g : groups_) g->store_message(sim, key, priority, idempotency_key, delay);
  sim.reply(h, Reply::success());
  for (Queue* g : groups_) g->pump(sim);
}

void Queue::store_message(Simulation& sim, uint64_t key, int16_t priority, uint64_t idempotency_key,
                          Time delay) {
  const RequestHandle r = sim.create_request(*this, workload_);
  Request& req = sim.request(r);
  req.key = key;
  req.priority = priority;
  req.idempotency_key = idempotency_key != 0 ? idempotency_key : p_.idempotency_keys ? req.id : 0;

  const uint32_t m = messages_.acquire();
  Message& msg = messages_[m];
  msg.request = r;
  msg.sequence = next_sequence_++;
  msg.stored = sim.now();
  msg.priority = priority;
  if (!partitions_.empty()) {
    msg.partition = partition_of(key, static_cast<uint32_t>(partitions_.size()));
    partitions_[msg.partition].log.push_back(m);
    ++msg.holders;
  }
  metrics().on_arrival(sim.now());
  set_waiting(sim, +1);
  if (delay > Time::zero()) {
    msg.state = Message::State::delayed;
    sim.schedule(sim.now() + delay, *this, kVisible, pack_handle(m, msg.serial));
  } else {
    make_ready(sim, m);
  }
  if (p_.retention > Time::zero()) {
    retention_.push({m, messages_[m].generation, sim.now() + p_.retention});
    arm(sim, retention_, kRetention);
  }
}

// Room has freed: admit blocked publishes in order. A publisher that has given up meanwhile (its
// timeout or deadline) is not stored: under backpressure the message still sits with the
// producer (as in a Kafka producer's full buffer), and a producer that gave up sends nothing.
void Queue::admit_blocked(Simulation& sim) {
  if (admitting_) return;  // the loop further up the stack carries on
  admitting_ = true;
  while (!blocked_.empty() && fullest_held() < p_.capacity) {
    const CallHandle h = blocked_.front();
    blocked_.pop_front();
    metrics()
        .gauge(Gauge::blocked_publishers)
        .set(sim.now(), static_cast<int64_t>(blocked_.size()));
    if (sim.call(h).caller == kNoComponent) {
      sim.reply(h, Reply::failure(Reason::timeout));  // heard by nobody; releases the call
    } else if (sim.call(h).deadline <= sim.now()) {
      reject(sim, h, Reason::deadline_exceeded);
    } else {
      store(sim, h);
    }
  }
  admitting_ = false;
}

// --- A message's life -----------------------------------------------------------------------

void Queue::set_waiting(Simulation& sim, int64_t delta) {
  waiting_ += delta;
  metrics().queue().set(sim.now(), waiting_ + dead_letters_);
}

void Queue::set_in_flight(Simulation& sim, int64_t delta) {
  in_flight_ += delta;
  metrics().gauge(Gauge::messages_in_flight).set(sim.now(), in_flight_);
}

void Queue::make_ready(Simulation&, uint32_t m) {
  Message& msg = messages_[m];
  ++msg.serial;
  msg.state = Message::State::ready;
  if (partitions_.empty()) {
    ready_.push(m, msg);
  } else {
    candidates_.push_back(msg.partition);
  }
}

void Queue::receive(Simulation& sim, uint32_t m, uint32_t consumer) {
  Message& msg = messages_[m];
  // A duplicate: delivered while an earlier delivery of it is still being processed, or after
  // one succeeded too late to acknowledge it. Either way its work is done more than once.
  if (msg.open_deliveries > 0 || msg.succeeded) metrics().count(Counter::duplicates);
  ++msg.serial;
  msg.state = Message::State::in_flight;
  ++msg.receives;
  ++msg.holders;
  ++msg.open_deliveries;
  if (msg.receives == 1) {
    metrics().on_service_start(sim.now() - msg.stored);
  } else {
    metrics().count(Counter::redeliveries);
  }
  sim.retain_request(msg.request);  // the consumer may still process it after it is settled
  set_waiting(sim, -1);
  set_in_flight(sim, +1);
  if (!partitions_.empty()) ++partitions_[msg.partition].in_flight;
  consumers_[consumer].batch.push_back(Delivery{m, msg.serial});
  // A clock_skew rate makes the queue's own timer run fast or slow.
  const Time timeout =
      faults().active ? faults().timer(p_.visibility_timeout) : p_.visibility_timeout;
  visibility_.push({m, msg.serial, sim.now() + timeout});
  arm(sim, visibility_, kVisibilityExpired);
}

void Queue::arm(Simulation& sim, ExpiryQueue& deadlines, uint32_t kind) {
  if (deadlines.timer_set || deadlines.empty()) return;
  deadlines.timer_set = true;
  // (A clock_skew rate can put a shorter deadline behind a longer one: it is then handled late,
  // with the one in front, and never scheduled in the past.)
  sim.schedule(std::max(deadlines.front().due, sim.now()), *this, kind, 0);
}

// Every receipt whose visibility timeout has run out comes back, in the order received.
void Queue::visibility_expired(Simulation& sim) {
  // (timer_set stays true meanwhile: a deadline set by work done here must not arm a second
  // timer for the entries being handled now.)
  const auto current = [this](const ExpiryQueue::Entry& e) {
    const Message& msg = messages_[e.message];
    return msg.live && msg.serial == e.tag && msg.state == Message::State::in_flight;
  };
  while (!visibility_.empty() && visibility_.front().due <= sim.now()) {
    const ExpiryQueue::Entry e = visibility_.front();
    visibility_.pop();
    if (current(e)) release(sim, e.message, Release::timed_out);
  }
  while (!visibility_.empty() && !current(visibility_.front())) visibility_.pop();
  visibility_.timer_set = false;
  arm(sim, visibility_, kVisibilityExpired);
}

// Waiting messages that have outlived the retention are dropped; one in flight is judged when it
// comes back (see release()).
void Queue::retention_expired(Simulation& sim) {
  // (timer_set stays true meanwhile: a deadline set by work done here must not arm a second
  // timer for the entries being handled now.)
  const auto current = [this](const ExpiryQueue::Entry& e) {
    const Message& msg = messages_[e.message];
    return msg.live && msg.generation == e.tag && msg.state != Message::State::settled;
  };
  while (!retention_.empty() && retention_.front().due <= sim.now()) {
    const ExpiryQueue::Entry e = retention_.front();
    retention_.pop();
    if (!current(e)) continue;
    const Message::State state = messages_[e.message].state;
    if (state != Message::State::delayed && state != Message::State::ready) continue;
    set_waiting(sim, -1);
    // Out of the ready count before settling: settling may admit a blocked publish (a group
    // queue's feeder), which pumps this queue at once, and that pump must not count the message.
    if (state == Message::State::ready && partitions_.empty()) ready_.removed(messages_);
    settle(sim, e.message, Outcome::dropped, Reason::expired);
  }
  while (!retention_.empty() && !current(retention_.front())) retention_.pop();
  retention_.timer_set = false;
  arm(sim, retention_, kRetention);
}

// A message in flight comes back without success: its processing failed, or its visibility
// timeout ran out first. It is then dropped if it has outlived the retention, dead-lettered if
// it has used up its receives, and otherwise made visible again (after the redelivery backoff,
// for a failure).
void Queue::release(Simulation& sim, uint32_t m, Release why) {
  Message& msg = messages_[m];
  set_in_flight(sim, -1);
  if (!partitions_.empty()) {
    Partition& part = partitions_[msg.partition];
    if (--part.in_flight == 0) candidates_.push_back(msg.partition);
  }
  if (p_.retention > Time::zero() && sim.now() >= msg.stored + p_.retention) {
    settle(sim, m, Outcome::dropped, Reason::expired);
    return;
  }
  if (static_cast<int64_t>(msg.receives) >= p_.max_receives) {
    settle(sim, m, Outcome::dead_lettered, Reason::max_receives);
    return;
  }
  set_waiting(sim, +1);
  const Time wait =
      why == Release::failed && p_.redelivery_backoff.present ? backoff(msg) : Time::zero();
  if (wait > Time::zero()) {
    ++msg.serial;
    msg.state = Message::State::delayed;
    sim.schedule(sim.now() + wait, *this, kVisible, pack_handle(m, msg.serial));
  } else {
    if (why == Release::failed) check_immediate_redelivery(sim);
    make_ready(sim, m);
  }
}

// A failure that makes its message visible again at once (a redelivery_backoff of 0s, a nack),
// when the consumers' target also fails at once (crashed, or cut off by a partition in reject
// mode), gets it received and failed again at the same instant - for ever if max_receives is
// unbounded: simulated time stops, and the run would spin without end. No sensible scenario
// redelivers a message more than a few times at one instant, so over kPerMessage immediate
// redeliveries per message held ends the run with an error that names the fix. (A max_receives of
// at most kPerMessage bounds the cycle by itself.)
void Queue::check_immediate_redelivery(Simulation& sim) {
  constexpr int64_t kPerMessage = 100;
  if (p_.max_receives <= kPerMessage) return;
  if (sim.now() != immediate_at_) {
    immediate_at_ = sim.now();
    immediate_redeliveries_ = 0;
    immediate_peak_held_ = 0;
  }
  immediate_peak_held_ = std::max(immediate_peak_held_, held());
  if (++immediate_redeliveries_ <= kPerMessage * (immediate_peak_held_ + 10)) return;
  throw std::runtime_error(
      "queue '" + name() + "': simulated time stopped advancing at " + format_time(sim.now()) +
      ": its messages were made visible again and redelivered " +
      std::to_string(immediate_redeliveries_) + " times at this instant (messages held: " +
      std::to_string(held()) + "), because '" + p_.consumers.target.name +
      "' fails them at once and redelivery_backoff makes a failed message visible again at "
      "once. Give redelivery_backoff a base above 0s, or leave it out (a failed message then "
      "comes back when its visibility timeout runs out), or set max_receives to at most 100.");
}

Time Queue::backoff(const Message& msg) {
  const RedeliveryBackoffSpec& b = p_.redelivery_backoff;
  double t = static_cast<double>(b.base.count_ns());
  if (b.backoff == RetrySpec::exponential) {
    t = std::ldexp(t, static_cast<int>(std::min<uint32_t>(msg.receives - 1, 62)));
  }
  t = std::min(t, static_cast<double>(b.cap.count_ns()));
  if (b.jitter == RedeliveryBackoffSpec::full) {
    t = backoff_rng_.uniform01() * t;
  } else if (b.jitter == RedeliveryBackoffSpec::equal) {
    t = t / 2 + backoff_rng_.uniform01() * (t / 2);
  }
  return Time::ns(static_cast<int64_t>(t));
}

// The end of a message: acknowledged (completed), dead-lettered or expired. Its record lives on
// while a consumer's batch or its partition's log still refers to it.
void Queue::settle(Simulation& sim, uint32_t m, Outcome outcome, Reason reason) {
  Message& msg = messages_[m];
  ++msg.serial;
  msg.state = Message::State::settled;
  const RequestHandle request = msg.request;
  const uint32_t partition = msg.partition;
  switch (outcome) {
    case Outcome::completed:
      metrics().on_served(sim.now(), sim.now() - msg.stored);
      break;
    case Outcome::dead_lettered:
      metrics().on_lost(sim.now(), outcome, reason);
      metrics().count(Counter::dead_lettered);
      metrics().gauge(Gauge::dlq_depth).set(sim.now(), ++dlq_depth_);
      if (dlq_) dlq_->store_dead_letter(sim);
      break;
    default:
      metrics().on_lost(sim.now(), outcome, reason);
      break;
  }
  if (!partitions_.empty()) {
    // Settled messages leave the log from the front; one settled behind the head leaves later.
    Partition& part = partitions_[partition];
    while (!part.log.empty() && messages_[part.log.front()].state == Message::State::settled) {
      const uint32_t front = part.log.front();
      part.log.pop_front();
      drop_holder(front);
    }
    candidates_.push_back(partition);
  } else if (msg.holders == 0) {
    messages_.release(m);
  }
  sim.finish(request, outcome, reason, *this);
  admit_blocked(sim);
  if (feeder_) [[unlikely]]
    feeder_->admit_blocked(sim);  // room in this group may be room for the blocked publishes
}

void Queue::drop_holder(uint32_t m) {
  Message& msg = messages_[m];
  if (--msg.holders == 0 && msg.state == Message::State::settled) messages_.release(m);
}

// This queue is another's dead-letter queue: it keeps the dead letter as depth. (The message's
// request has ended, dead-lettered, at the queue it came from.)
void Queue::store_dead_letter(Simulation& sim) {
  metrics().on_arrival(sim.now());
  ++dead_letters_;
  metrics().queue().set(sim.now(), waiting_ + dead_letters_);
}

size_t Queue::count_messages(Message::State state) const {
  size_t n = 0;
  for (uint32_t m = 0; m < messages_.capacity(); ++m) {
    n += messages_[m].live && messages_[m].state == state;
  }
  return n;
}

// --- Events ---------------------------------------------------------------------------------

void Queue::on_event(Simulation& sim, const Event& e) {
  if (out_.owns(e)) {
    out_.on_event(sim, e);
    pump(sim);
    return;
  }
  const uint32_t m = payload_handle(e.payload);
  switch (e.kind) {
    case kPublished: {
      const CallHandle h = payload_handle(e.payload);
      // Lost with a crash meanwhile (answered, or left hanging in mode hang): not stored.
      if (sim.calls().is_current(h, payload_serial(e.payload)) && sim.calls().held_by(h, index()))
        publish(sim, h);
      break;
    }
    case kVisible: {
      const Message& msg = messages_[m];
      if (!msg.live || msg.serial != payload_serial(e.payload)) return;
      make_ready(sim, m);
      break;
    }
    case kVisibilityExpired:
      visibility_expired(sim);
      break;
    case kRetention:
      retention_expired(sim);
      break;
    case kAutoscaleCheck:
      check_pending_ = false;
      break;
    case kConsumersStarted:
      set_active(sim, std::max(active_, std::min(desired_, static_cast<int64_t>(e.payload))));
      break;
  }
  pump(sim);
}

// --- Crashes --------------------------------------------------------------------------------

void Queue::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (!faults().crashed && before.crashed) {
    pump(sim);
    for (Queue* g : groups_) g->pump(sim);  // the groups' consumers stopped with it
    return;
  }
  if (!faults().crashed || before.crashed) return;
  // Publishers waiting for room lose their connection.
  while (!blocked_.empty()) {
    const CallHandle h = blocked_.front();
    blocked_.pop_front();
    if (faults().crash_hangs) {
      metrics().on_arrival(sim.now());  // (a blocked publish counts when it is answered)
      left_hanging_by_crash(sim, *this, h);
    } else {
      reject(sim, h, Reason::unavailable);
    }
  }
  metrics().gauge(Gauge::blocked_publishers).set(sim.now(), 0);
  // So do publishes still being stored (publish_latency): the publisher cannot know whether its
  // message was kept, and none is. They are the calls the queue still holds (found in the call
  // table, in handle order; the blocked ones, answered above, no longer count).
  std::vector<CallHandle> storing;
  for (CallHandle h = 0; h < sim.calls().capacity(); ++h) {
    if (sim.calls().held_by(h, index())) storing.push_back(h);
  }
  for (CallHandle h : storing) {
    if (faults().crash_hangs) {
      metrics().on_arrival(sim.now());  // (a publish counts when it is answered)
      left_hanging_by_crash(sim, *this, h);
    } else {
      reject(sim, h, Reason::unavailable);
    }
  }
  if (p_.durable) return;  // on disk: every message is there after the restart
  // In memory: every message not yet settled is gone, in every group.
  lose_messages(sim);
  for (Queue* g : groups_) g->lose_messages(sim);
}

// In message-table order. A consumer still processing one finds its receipt stale when it
// answers.
void Queue::lose_messages(Simulation& sim) {
  for (uint32_t m = 0; m < messages_.capacity(); ++m) {
    const Message& msg = messages_[m];
    if (!msg.live || msg.state == Message::State::settled) continue;
    const Message::State state = msg.state;
    if (state == Message::State::in_flight) {
      set_in_flight(sim, -1);
      if (!partitions_.empty()) --partitions_[msg.partition].in_flight;
    } else {
      set_waiting(sim, -1);
    }
    if (state == Message::State::ready && partitions_.empty()) ready_.removed(messages_);
    settle(sim, m, Outcome::failed, Reason::unavailable);
  }
}

// --- Consumers ------------------------------------------------------------------------------
//
// A consumer with no batch is idle. The pump hands batches to idle consumers until no more can
// start; a consumer then works through its batch one call at a time (advance), and when every
// message of the batch has been answered it is idle again. Everything that can make work
// possible - a message becoming visible, a consumer freeing up, a partition's batch ending -
// ends with a call to pump(). Consumers freed inside the pump are picked up by its loop rather
// than by recursion, so a long run of zero-time batches does not grow the stack.

void Queue::pump(Simulation& sim) {
  if (faults().active && faults().crashed) [[unlikely]]
    return;  // restarted by on_faults_changed
  if (feeder_ && feeder_->faults().active && feeder_->faults().crashed) [[unlikely]]
    return;  // a group queue is down with the queue that feeds it
  if (pumping_) {
    pump_again_ = true;
    return;
  }
  pumping_ = true;
  do {
    pump_again_ = false;
    if (partitions_.empty()) {
      pump_unpartitioned(sim);
    } else {
      pump_partitioned(sim);
    }
    autoscale(sim);  // (a change of the consumer count asks for another round)
  } while (pump_again_);
  pumping_ = false;
}

void Queue::pump_unpartitioned(Simulation& sim) {
  while (ready_.size() > 0 && !idle_.empty()) {
    const uint32_t s = idle_.back();
    idle_.pop_back();
    consumers_[s].listed = false;
    if (s >= active_ || consumers_[s].busy) continue;  // retired since it was listed
    begin_batch(sim, s);
    uint32_t m;
    while (consumers_[s].batch.size() < static_cast<size_t>(p_.consumers.batch_size) &&
           ready_.pop(messages_, m)) {
      receive(sim, m, s);
    }
    advance(sim, s);
  }
}

// Idle consumers look through the partitions they own; partitions that may have become
// deliverable are offered to their owner.
void Queue::pump_partitioned(Simulation& sim) {
  for (;;) {
    if (!idle_.empty()) {
      const uint32_t s = idle_.back();
      idle_.pop_back();
      consumers_[s].listed = false;
      if (s >= active_ || consumers_[s].busy) continue;
      if (scan_partitions(sim, s)) advance(sim, s);
      continue;
    }
    if (!candidates_.empty()) {
      const uint32_t p = candidates_.front();
      candidates_.pop_front();
      if (active_ == 0) continue;
      const auto owner = static_cast<uint32_t>(p % static_cast<uint32_t>(active_));
      if (consumers_[owner].busy || !deliverable(p)) continue;
      take_from_partition(sim, p, owner);
      advance(sim, owner);
      continue;
    }
    return;
  }
}

// A partition delivers only when none of its messages is in flight and its head is visible.
bool Queue::deliverable(uint32_t p) {
  const Partition& part = partitions_[p];
  return part.in_flight == 0 && !part.log.empty() &&
         messages_[part.log.front()].state == Message::State::ready;
}

// The batch: visible messages from the head in publish order, up to batch_size, stopping at the
// first one not visible yet (a delayed message holds back the ones behind it).
void Queue::take_from_partition(Simulation& sim, uint32_t p, uint32_t consumer) {
  begin_batch(sim, consumer);
  const auto limit = static_cast<size_t>(p_.consumers.batch_size);
  for (const uint32_t m : partitions_[p].log) {
    if (consumers_[consumer].batch.size() >= limit) break;
    const Message::State state = messages_[m].state;
    if (state == Message::State::settled) continue;
    if (state != Message::State::ready) break;
    receive(sim, m, consumer);
  }
}

// Consumer s owns partitions s, s + n, s + 2n... (n consumers); it serves them in turn.
bool Queue::scan_partitions(Simulation& sim, uint32_t s) {
  const auto n = static_cast<uint32_t>(active_);
  const auto total = static_cast<uint32_t>(partitions_.size());
  if (s >= total) return false;
  const uint32_t owned = (total - s + n - 1) / n;
  Consumer& c = consumers_[s];
  for (uint32_t k = 0; k < owned; ++k) {
    const uint32_t i = (c.partition_cursor + k) % owned;
    const uint32_t p = s + i * n;
    if (!deliverable(p)) continue;
    consumers_[s].partition_cursor = i + 1;
    take_from_partition(sim, p, s);
    return true;
  }
  return false;
}

void Queue::begin_batch(Simulation& sim, uint32_t s) {
  Consumer& c = consumers_[s];
  c.batch.clear();
  c.next = 0;
  c.busy = true;
  ++busy_;
  metrics().busy().set(sim.now(), busy_);
}

void Queue::advance(Simulation& sim, uint32_t s) {
  consumers_[s].running = true;
  for (;;) {
    Consumer& c = consumers_[s];
    if (c.calling) {
      c.running = false;
      return;
    }
    if (c.has_answer) {
      c.has_answer = false;
      answered(sim, s, c.answer);
      continue;
    }
    if (c.next < c.batch.size()) {
      const RequestHandle request = messages_[c.batch[c.next].message].request;
      c.calling = true;
      ++c.serial;
      // The answer may come at once, inside call(): on_call_done then only records it.
      out_.call(sim, 0, request, Time::max(), pack_handle(s, c.serial));
      continue;
    }
    c.running = false;
    end_batch(sim, s);
    return;
  }
}

void Queue::on_call_done(Simulation& sim, uint64_t token, const Reply& reply) {
  const uint32_t s = payload_handle(token);
  if (s >= consumers_.size()) return;
  Consumer& c = consumers_[s];
  if (!c.calling || c.serial != payload_serial(token)) return;
  c.calling = false;
  c.has_answer = true;
  c.answer = reply;
  if (c.running) return;  // advance() is on the stack and takes it from here
  advance(sim, s);
  pump(sim);
}

void Queue::on_reply(Simulation& sim, CallHandle h, const Reply& r) {
  out_.on_reply(sim, h, r);
}

// The answer for the delivery batch[next]. Only the latest receipt counts: the answer of a
// delivery whose visibility timeout has already run out is ignored (the message is visible again
// or with another consumer; the work was done for nothing, or will be done twice).
void Queue::answered(Simulation& sim, uint32_t s, const Reply& reply) {
  Consumer& c = consumers_[s];
  const Delivery d = c.batch[c.next++];
  Message& msg = messages_[d.message];
  --msg.open_deliveries;
  if (reply.ok()) msg.succeeded = true;
  if (msg.state != Message::State::in_flight || msg.serial != d.receipt) return;
  if (reply.ok()) {
    set_in_flight(sim, -1);
    if (!partitions_.empty()) {
      Partition& part = partitions_[msg.partition];
      if (--part.in_flight == 0) candidates_.push_back(msg.partition);
    }
    settle(sim, d.message, Outcome::completed, Reason::none);
    return;
  }
  if (!partitions_.empty()) {
    // To keep the partition's order the consumer gives back the rest of its batch unprocessed:
    // those messages are visible again at once (their receives still count) and come round
    // again behind the failed one.
    Consumer& cc = consumers_[s];
    for (size_t j = cc.next; j < cc.batch.size(); ++j) {
      const Delivery rest = cc.batch[j];
      Message& other = messages_[rest.message];
      --other.open_deliveries;
      if (other.state != Message::State::in_flight || other.serial != rest.receipt) continue;
      set_in_flight(sim, -1);
      --partitions_[other.partition].in_flight;
      set_waiting(sim, +1);
      make_ready(sim, rest.message);
    }
    cc.next = cc.batch.size();
  }
  // As in SQS, a failed receive is simply not deleted: the message comes back when its visibility
  // timeout runs out - unless redelivery_backoff sets a visibility for failures (the consumer's
  // ChangeMessageVisibility; a zero one is a nack with requeue).
  if (!p_.redelivery_backoff.present) return;
  release(sim, d.message, Release::failed);
}

void Queue::end_batch(Simulation& sim, uint32_t s) {
  Consumer& c = consumers_[s];
  for (const Delivery& d : c.batch) {
    sim.release_request(messages_[d.message].request);
    drop_holder(d.message);
  }
  c.batch.clear();
  c.next = 0;
  c.busy = false;
  --busy_;
  metrics().busy().set(sim.now(), busy_);
  if (s >= active_) {
    update_capacity(sim);  // a retired consumer's last batch is done
  } else if (!c.listed) {
    c.listed = true;
    idle_.push_back(s);
  }
}

// Consumers available for utilisation: the active ones plus retired ones finishing a batch.
void Queue::update_capacity(Simulation& sim) {
  int64_t retiring = 0;
  for (size_t s = static_cast<size_t>(active_); s < consumers_.size(); ++s) {
    retiring += consumers_[s].busy;
  }
  metrics().capacity().set(sim.now(), active_ + retiring);
}

void Queue::set_active(Simulation& sim, int64_t count) {
  active_ = count;
  if (consumers_.size() < static_cast<size_t>(count)) consumers_.resize(static_cast<size_t>(count));
  if (p_.consumers.present) metrics().gauge(Gauge::consumers).set(sim.now(), active_);
  update_capacity(sim);
  // Idle consumers look for work, lowest index first; with partitions the assignment p mod n
  // has changed, so every partition is offered to its new owner.
  for (int64_t s = count - 1; s >= 0; --s) {
    Consumer& c = consumers_[static_cast<size_t>(s)];
    if (c.busy || c.listed) continue;
    c.listed = true;
    idle_.push_back(static_cast<uint32_t>(s));
  }
  for (uint32_t p = 0; p < partitions_.size(); ++p) candidates_.push_back(p);
  pump(sim);
}

// --- Autoscaling ----------------------------------------------------------------------------

// Looked at whenever the pump has settled the instant's work: scale out by `step` when the
// depth is at least scale_out_depth, in when at most scale_in_depth, at most once per cooldown.
void Queue::autoscale(Simulation& sim) {
  const AutoscaleSpec& a = p_.consumers.autoscale;
  if (!a.present) return;
  int direction = 0;
  if (waiting_ >= a.scale_out_depth && desired_ < a.max) direction = +1;
  if (waiting_ <= a.scale_in_depth && desired_ > a.min) direction = -1;
  if (direction == 0) return;
  if (sim.now() < last_scale_ + a.cooldown) {
    if (!check_pending_) {
      check_pending_ = true;
      sim.schedule(last_scale_ + a.cooldown, *this, kAutoscaleCheck, 0);
    }
    return;
  }
  last_scale_ = sim.now();
  if (direction > 0) {
    desired_ = std::min(a.max, desired_ + a.step);
    if (a.startup > Time::zero()) {
      sim.schedule(sim.now() + a.startup, *this, kConsumersStarted,
                   static_cast<uint64_t>(desired_));
    } else {
      set_active(sim, desired_);
    }
  } else {
    desired_ = std::max(a.min, desired_ - a.step);
    if (active_ > desired_) set_active(sim, desired_);
  }
}

}  // namespace dsim
