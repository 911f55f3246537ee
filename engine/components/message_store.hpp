// What a queue holds: its messages, and the two orders in which it hands them to consumers.
//
//   Message       one published message: its request, where it is in its life, how often it has
//                 been received.
//   MessageTable  the messages as a slab reused through a free list. A message's `serial` changes
//                 on every change of state, so a timer or a consumer's receipt made for an earlier
//                 state is recognised as stale; its `generation` changes when the slot is reused.
//   ReadyQueue    the visible messages of an unpartitioned queue, next first: by publish order
//                 (fifo) or by request priority and then publish order (priority). A message that
//                 becomes visible again goes back to its original place, not to the end. Removal
//                 other than by pop is lazy: stale entries are skipped and compacted away.
//   Partition     one partition of a partitioned queue: its messages in publish order (a log).
//   ExpiryQueue   deadlines that fall in the order they were set (visibility timeouts, retention):
//                 a FIFO watched by one timer instead of one event per deadline.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "core/free_list.hpp"
#include "core/request.hpp"
#include "core/time.hpp"

namespace dsim {

struct Message {
  // delayed: not visible yet (delivery delay or redelivery backoff); ready: visible; in_flight:
  // received by a consumer, invisible until acknowledged or the visibility timeout; settled:
  // acknowledged, dead-lettered or expired (the record lives on while something refers to it).
  enum class State : uint8_t { delayed, ready, in_flight, settled };

  RequestHandle request = 0;
  uint32_t free_next = 0;  // while the slot is free (FreeList)
  uint64_t sequence = 0;   // publish order within the queue
  Time stored;             // when the queue stored it (the publish, after any publish latency)
  uint32_t serial = 0;     // changes on every change of state (and is never reset)
  uint32_t generation = 0;
  uint32_t receives = 0;
  uint32_t partition = 0;
  uint32_t holders = 0;          // consumer batches and partition logs that still refer to it
  uint32_t open_deliveries = 0;  // deliveries handed to a consumer whose answer is still due
  int16_t priority = 0;
  State state = State::delayed;
  bool succeeded = false;  // some delivery was processed successfully (even if too late to ack)
  bool live = false;
};

class MessageTable {
 public:
  uint32_t acquire() {
    uint32_t m = free_.take(slots_);
    Message& msg = slots_[m];
    const uint32_t serial = msg.serial + 1;
    const uint32_t generation = msg.generation + 1;
    msg = Message{};
    msg.serial = serial;
    msg.generation = generation;
    msg.live = true;
    ++live_;
    return m;
  }
  void release(uint32_t m) {
    slots_[m].live = false;
    ++slots_[m].serial;
    --live_;
    free_.push_back(slots_, m);
  }
  Message& operator[](uint32_t m) { return slots_[m]; }
  const Message& operator[](uint32_t m) const { return slots_[m]; }
  size_t live() const { return live_; }
  size_t capacity() const { return slots_.size(); }

 private:
  std::vector<Message> slots_;
  FreeList free_;
  size_t live_ = 0;
};

class ReadyQueue {
 public:
  explicit ReadyQueue(bool by_priority = false) : by_priority_(by_priority) {}
  // `m` has just become ready (with its current serial).
  void push(uint32_t m, const Message& msg);
  // The next message that is still ready with the serial it was pushed with; false if none.
  bool pop(const MessageTable& table, uint32_t& m);
  // A ready message left the queue without being popped (it expired): its entry is now stale.
  void removed(const MessageTable& table);
  size_t size() const { return valid_; }

 private:
  struct Entry {
    int16_t priority;
    uint64_t sequence;
    uint32_t message;
    uint32_t serial;
  };
  bool valid(const MessageTable& table, const Entry& e) const {
    const Message& msg = table[e.message];
    return msg.live && msg.serial == e.serial && msg.state == Message::State::ready;
  }
  // std heaps are max-heaps: "later" ranks an entry to be served later as smaller.
  bool later(const Entry& a, const Entry& b) const {
    if (by_priority_ && a.priority != b.priority) return a.priority < b.priority;
    return a.sequence > b.sequence;
  }

  bool by_priority_;
  std::vector<Entry> heap_;
  size_t valid_ = 0;
};

struct Partition {
  std::deque<uint32_t> log;  // its messages in publish order; settled ones leave from the front
  uint32_t in_flight = 0;    // messages of its current batch still held by a consumer's receipt
};

// Deadlines made by adding a constant (the visibility timeout, the retention) to a clock that never
// goes back fall due in the order they were set. A FIFO with a single timer, set for its oldest
// entry, then replaces one pending event per deadline: entries whose message has moved on
// (acknowledged long before its visibility timeout, say) are skipped when they reach the front, at
// no cost in events. `tag` is what the entry was set for (a receipt, a generation).
class ExpiryQueue {
 public:
  struct Entry {
    uint32_t message;
    uint32_t tag;
    Time due;
  };
  void push(const Entry& e) { entries_.push_back(e); }
  bool empty() const { return entries_.empty(); }
  const Entry& front() const { return entries_.front(); }
  void pop() { entries_.pop_front(); }
  size_t size() const { return entries_.size(); }
  bool timer_set = false;  // an event is pending for the front's instant (or an earlier one)

 private:
  std::deque<Entry> entries_;
};

// The partition of a key: a 64-bit mix of the key (SplitMix64's finaliser), modulo the number of
// partitions, so that neighbouring keys spread out as they do under Kafka's murmur2 partitioner.
uint32_t partition_of(uint64_t key, uint32_t partitions);

}  // namespace dsim
