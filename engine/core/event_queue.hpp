// The future event list: a binary min-heap ordered by (time, insertion sequence).
//
// Ties in time are broken by the order events were scheduled, which makes every run a pure
// function of the scenario and the seed. An event is a 32-byte value (no callback object, no heap
// allocation): it names the component that handles it, a component-defined kind and a payload
// (usually a request handle). The heap's vector grows to the peak number of pending events and is
// then reused, so steady state allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/time.hpp"

namespace dsim {

struct Event {
  Time time;
  uint64_t sequence = 0;
  uint32_t component = 0;  // index of the component that handles it
  uint32_t kind = 0;       // meaning chosen by that component
  uint64_t payload = 0;    // request handle, worker slot, generation counter...
};

static_assert(sizeof(Event) == 32, "events are moved on every heap step: keep them small");

class EventQueue {
 public:
  void push(Time time, uint32_t component, uint32_t kind, uint64_t payload) {
    heap_.push_back(Event{time, next_sequence_++, component, kind, payload});
    sift_up(heap_.size() - 1);
  }
  // Runs after every ordinary event at the same instant, whenever those were scheduled: for
  // bookkeeping that must see the whole instant (closing a metrics window, ending warm-up).
  void push_after_instant(Time time, uint32_t component, uint32_t kind, uint64_t payload) {
    heap_.push_back(Event{time, kLate | next_sequence_++, component, kind, payload});
    sift_up(heap_.size() - 1);
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.front(); }
  Event pop() {
    Event e = heap_.front();
    heap_.front() = heap_.back();
    heap_.pop_back();
    if (!heap_.empty()) sift_down(0);
    return e;
  }
  uint64_t scheduled_total() const { return next_sequence_; }

 private:
  static constexpr uint64_t kLate = uint64_t{1} << 63;
  static bool before(const Event& a, const Event& b) {
    return a.time < b.time || (a.time == b.time && a.sequence < b.sequence);
  }
  void sift_up(size_t i) {
    Event moving = heap_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!before(moving, heap_[parent])) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = moving;
  }
  void sift_down(size_t i) {
    const size_t n = heap_.size();
    Event moving = heap_[i];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], moving)) break;
      heap_[i] = heap_[child];
      i = child;
    }
    heap_[i] = moving;
  }

  std::vector<Event> heap_;
  uint64_t next_sequence_ = 0;
};

}  // namespace dsim
