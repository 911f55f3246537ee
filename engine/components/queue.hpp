// queue: a message broker with its consumers (SQS-like visibility, Kafka-like partitions).
//
// Sections of queue.cpp: parameters; publishing (capacity, rejection, backpressure); a message's
// life (delay, visible, received, acknowledged, redelivered, dead-lettered, expired); consumers
// (batches, partitions, the pump that hands out work); autoscaling.
//
// A producer publishes (a handler's `publish: q` step, or any call to the queue). The queue
// stores a new request for the message - the publisher's request ends on its own path, the
// message's ends here - and acknowledges the publish at once (after `publish_latency`). Consumer
// slots receive messages in batches and process each one by calling `consumers.target`. A
// received message is invisible for `visibility_timeout`; the consumer's success acknowledges
// (deletes) it and completes its request; after a failure it comes back when the timeout runs
// out (as in SQS), or after `redelivery_backoff` if one is set; after `max_receives` receives
// without success it is dead-lettered. An answer
// that arrives after the visibility timeout ran out is ignored: the message has been (or will
// be) delivered again, and that second delivery is a duplicate.
//
// With `consumer_groups` (Kafka-like), the loader adds one queue per group, `<queue>.<group>`,
// with the group as its consumers; this queue then only takes the publishes and stores each
// message in every group queue (store_in_groups), which deliver it independently.
//
// docs/components/queue.md describes the behaviour in full; the numbers it quotes are tested in
// tests/components/queue_test.cpp and tests/analytic/queue_dlq_test.cpp.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "components/call_policy.hpp"
#include "components/message_store.hpp"
#include "components/outbound.hpp"
#include "core/component.hpp"
#include "core/params.hpp"

namespace dsim {

// After a consumer's failure, the message becomes visible again after min(cap, base * 2^(n-1))
// (exponential) or base (constant), n being the receives so far, randomised by `jitter` as in
// RetrySpec; a base of 0s makes it visible at once (a nack). Absent: when its visibility timeout
// runs out.
struct RedeliveryBackoffSpec : ParamGroup {
  int backoff = 1;  // RetrySpec::kBackoffNames
  Time base = Time::s(1);
  Time cap = Time::s(15 * 60);
  int jitter = 0;  // kJitterNames
  enum Jitter { none, full, equal };
  static constexpr const char* kJitterNames[] = {"none", "full", "equal", nullptr};
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// Consumer autoscaling on the queue depth (waiting messages).
struct AutoscaleSpec : ParamGroup {
  int64_t min = 1;
  int64_t max = 10;
  int64_t step = 1;
  int64_t scale_out_depth = 100;
  int64_t scale_in_depth = 0;
  Time cooldown = Time::s(60);
  Time startup = Time::zero();
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

struct ConsumerSpec : ParamGroup {
  TargetRef target;
  std::string op;
  int64_t count = 1;
  int64_t batch_size = 1;
  CallPolicy policy;
  AutoscaleSpec autoscale;
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// One consumer group of a queue with `consumer_groups` (a Kafka consumer group): its own
// consumers, reading every message of the queue with its own delivery state.
struct ConsumerGroupSpec : ConsumerSpec {
  static constexpr const char* kElementName = "consumer_group";
  std::string name;  // its key in `consumer_groups`
};

struct QueueParams : ParamsOf<QueueParams> {
  int ordering = 0;  // kOrderingNames
  int64_t partitions = 0;
  Time visibility_timeout = Time::s(30);
  int64_t max_receives = INT64_MAX;
  TargetRef dead_letter_queue;
  Distribution delay;
  RedeliveryBackoffSpec redelivery_backoff;
  int64_t capacity = INT64_MAX;
  int when_full = 0;  // kWhenFullNames
  Time retention = Time::zero();
  Distribution publish_latency;
  std::string workload;  // empty: the queue's name
  bool idempotency_keys = false;
  bool durable = true;
  ConsumerSpec consumers;
  ParamMap<ConsumerGroupSpec> consumer_groups;
  // Set by the loader on a group queue (see group_queue()): the queue that feeds it. Not a key.
  std::string fed_by;

  // The queue that holds consumer group g's copies of the messages: the same settings, the
  // group as its `consumers`, and no publish latency, delay or capacity of its own (the queue
  // that feeds it applies those once, so every group sees the same messages at the same times).
  // The loader adds it to the scenario as `<queue>.<group>`.
  std::unique_ptr<QueueParams> group_queue(size_t g, const std::string& queue_name) const;
  static std::string group_queue_name(const std::string& queue_name, const std::string& group) {
    return queue_name + "." + group;
  }

  enum Ordering { fifo, priority };
  enum WhenFull { reject, backpressure };
  static constexpr const char* kOrderingNames[] = {"fifo", "priority", nullptr};
  static constexpr const char* kWhenFullNames[] = {"reject", "backpressure", nullptr};
  void describe(ParamVisitor& v) override;
  std::string check(const std::vector<std::string>& given) override;
  std::vector<std::string> operations() const override { return {"publish"}; }
  std::string check_reference(const TargetRef& ref, const std::string& callee_kind,
                              const ComponentParams& callee) const override;
};

class Queue final : public Component, public CallOwner {
 public:
  Queue(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_reply(Simulation& sim, CallHandle h, const Reply& r) override;
  void on_call_done(Simulation& sim, uint64_t token, const Reply& reply) override;
  void on_event(Simulation& sim, const Event& e) override;
  // A crash stops deliveries and fails blocked publishes; an in-memory queue also loses every
  // message it holds. Deliveries resume at the restart.
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;

  const QueueParams& config() const { return p_; }
  // With consumer_groups: the group queues, in the file's order (empty otherwise).
  const std::vector<Queue*>& groups() const { return groups_; }
  // Messages stored and not yet settled: waiting (visible or delayed) plus in flight.
  int64_t held() const { return waiting_ + in_flight_; }
  int64_t waiting() const { return waiting_; }
  int64_t in_flight() const { return in_flight_; }
  int64_t dead_letters() const { return dead_letters_; }  // stored here as a dead-letter queue
  size_t blocked_publishers() const { return blocked_.size(); }
  int64_t active_consumers() const { return active_; }
  // Messages in a state, by scanning (for tests and inspectors; settled ones still referred to
  // by a consumer's batch count as settled).
  size_t count_messages(Message::State state) const;

 private:
  enum EventKind : uint32_t {
    kPublished = 0,      // publish latency over: store the message (payload: the call)
    kVisible,            // delay or backoff over (payload: message, serial)
    kVisibilityExpired,  // the oldest visibility deadlines are due
    kRetention,          // the oldest retention deadlines are due
    kAutoscaleCheck,     // a cooldown ended
    kConsumersStarted    // scaled-out consumers are up (payload: the new count)
  };
  enum class Release { failed, timed_out };

  // One delivery in a consumer's batch: the message and the receipt (its serial when received).
  struct Delivery {
    uint32_t message;
    uint32_t receipt;
  };
  struct Consumer {
    std::vector<Delivery> batch;
    size_t next = 0;                // the delivery being (or next to be) processed
    uint32_t serial = 0;            // of the call in progress, to recognise its answer
    uint32_t partition_cursor = 0;  // partitioned: where the next scan of its partitions starts
    bool busy = false;              // has a batch
    bool calling = false;           // a call for batch[next] is in progress
    bool running = false;           // advance() is on the stack: answers are only recorded
    bool has_answer = false;
    bool listed = false;  // in idle_ (unpartitioned)
    Reply answer;
  };

  // Publishing.
  void publish(Simulation& sim, CallHandle h);
  void store(Simulation& sim, CallHandle h);
  void store_message(Simulation& sim, uint64_t key, int16_t priority, uint64_t idempotency_key,
                     Time delay);
  void store_in_groups(Simulation& sim, CallHandle h, uint64_t key, int16_t priority,
                       uint64_t idempotency_key);
  int64_t fullest_held() const;
  void start_groups(Simulation& sim);
  void lose_messages(Simulation& sim);
  void reject(Simulation& sim, CallHandle h, Reason reason);
  void admit_blocked(Simulation& sim);
  // A message's life.
  void make_ready(Simulation& sim, uint32_t m);
  void receive(Simulation& sim, uint32_t m, uint32_t consumer);
  void release(Simulation& sim, uint32_t m, Release why);
  void settle(Simulation& sim, uint32_t m, Outcome outcome, Reason reason);
  void drop_holder(uint32_t m);
  Time backoff(const Message& msg);
  void check_immediate_redelivery(Simulation& sim);
  void set_waiting(Simulation& sim, int64_t delta);
  void arm(Simulation& sim, ExpiryQueue& deadlines, uint32_t kind);
  void visibility_expired(Simulation& sim);
  void retention_expired(Simulation& sim);
  void set_in_flight(Simulation& sim, int64_t delta);
  void store_dead_letter(Simulation& sim);
  // Consumers.
  void pump(Simulation& sim);
  void pump_unpartitioned(Simulation& sim);
  void pump_partitioned(Simulation& sim);
  bool deliverable(uint32_t partition);
  void take_from_partition(Simulation& sim, uint32_t partition, uint32_t consumer);
  bool scan_partitions(Simulation& sim, uint32_t consumer);
  void begin_batch(Simulation& sim, uint32_t consumer);
  void advance(Simulation& sim, uint32_t consumer);
  void answered(Simulation& sim, uint32_t consumer, const Reply& reply);
  void end_batch(Simulation& sim, uint32_t consumer);
  void update_capacity(Simulation& sim);
  void set_active(Simulation& sim, int64_t count);
  void autoscale(Simulation& sim);

  QueueParams& p_;
  Outbound out_{*this, *this};
  Queue* dlq_ = nullptr;  // the dead_letter_queue component, if any
  // With consumer_groups: the group queues it feeds. A group queue: the queue feeding it.
  std::vector<Queue*> groups_;
  Queue* feeder_ = nullptr;
  uint32_t workload_ = 0;
  Rng delay_rng_, publish_rng_, backoff_rng_;

  MessageTable messages_;
  ReadyQueue ready_;                   // unpartitioned
  std::vector<Partition> partitions_;  // partitioned
  std::deque<uint32_t> candidates_;    // partitions that may have become deliverable
  std::deque<CallHandle> blocked_;     // publishes waiting for room (backpressure)
  ExpiryQueue visibility_;             // receipts, by when their visibility timeout runs out
  ExpiryQueue retention_;              // stored messages, by when they outlive the retention
  uint64_t next_sequence_ = 0;
  int64_t waiting_ = 0, in_flight_ = 0, dead_letters_ = 0, dlq_depth_ = 0;
  // Failed messages made visible again at once, at the instant `immediate_at_` (see
  // check_immediate_redelivery()).
  Time immediate_at_ = Time::ns(-1);
  int64_t immediate_redeliveries_ = 0;
  int64_t immediate_peak_held_ = 0;

  std::vector<Consumer> consumers_;
  std::vector<uint32_t> idle_;  // unpartitioned: free consumers waiting for work
  int64_t active_ = 0;          // consumers that take work: indices below this
  int64_t busy_ = 0;
  bool pumping_ = false, pump_again_ = false, admitting_ = false;

  // Autoscaling.
  int64_t desired_ = 0;         // the count decided on (consumers still starting included)
  Time last_scale_;             // the start of the run counts as a scaling action
  bool check_pending_ = false;  // a look at the depth is due when the cooldown ends
};

}  // namespace dsim
