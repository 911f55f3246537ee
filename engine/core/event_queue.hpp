// The future event list: a min-heap ordered by (time, insertion sequence) - two binary heaps,
// by how far ahead an event is due (see below).
//
// Ties in time are broken by the order events were scheduled, which makes every run a pure
// function of the scenario and the seed. An event is a 32-byte value (no callback object, no heap
// allocation): it names the component that handles it, a component-defined kind and a payload
// (usually a request handle). The heaps' vectors grow to the peak number of pending events and are
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
  // Events further ahead than this (from the last event popped) wait in a second heap. Only
  // speed depends on it, never the order.
  static constexpr Time kFarAhead = Time::ms(50);

  void push(Time time, uint32_t component, uint32_t kind, uint64_t payload) {
    push_event(Event{time, next_sequence_++, component, kind, payload});
  }
  // Runs after every ordinary event at the same instant, whenever those were scheduled: for
  // bookkeeping that must see the whole instant (closing a metrics window, ending warm-up).
  void push_after_instant(Time time, uint32_t component, uint32_t kind, uint64_t payload) {
    push_event(Event{time, kLate | next_sequence_++, component, kind, payload});
  }
  bool empty() const { return size() == 0; }
  size_t size() const { return near_.size() - (hole_ ? 1 : 0) + far_.size(); }
  const Event& top() {
    fill_hole();
    return far_first() ? far_.front() : near_.front();
  }
  Event pop() {
    Event e;
    pop_due(Time::max(), e);
    return e;
  }
  // Pops the earliest event into `e` if it is due at or before `limit`: the loop's one call per
  // event. Returns false, leaving `e` alone, when none is.
  bool pop_due(Time limit, Event& e) {
    fill_hole();
    if (far_first()) {
      if (far_.front().time > limit) return false;
      e = pop_from(far_);
    } else {
      if (near_.empty() || near_.front().time > limit) return false;
      // The near heap's root is left empty: the event handled next will most likely schedule
      // one, which push_event then puts straight into it (see hole_).
      e = near_.front();
      hole_ = true;
    }
    last_popped_ = e.time;
    return true;
  }
  uint64_t scheduled_total() const { return next_sequence_; }

 private:
  static constexpr uint64_t kLate = uint64_t{1} << 63;
  static bool before(const Event& a, const Event& b) {
    return a.time < b.time || (a.time == b.time && a.sequence < b.sequence);
  }
  // Two binary heaps, popped in the one order of (time, sequence): `near_` for the events due
  // soon - a model's service completions, most of the traffic - and `far_` for those further
  // ahead, mostly timeouts that will find their request answered. The far ones would otherwise
  // make the heap every event passes through several levels deeper.
  bool far_first() const {
    return !far_.empty() && (near_.empty() || before(far_.front(), near_.front()));
  }
  void push_event(const Event& e) {
    if (e.time - last_popped_ > kFarAhead) {
      far_.push_back(e);
      sift_up(far_, far_.size() - 1);
    } else if (hole_) {
      // One sift down from the root, instead of moving the last event there (a sift down to
      // the bottom) and then adding this one (a sift up): the classic "hold" of event lists.
      hole_ = false;
      near_.front() = e;
      sift_down(near_, 0);
    } else {
      near_.push_back(e);
      sift_up(near_, near_.size() - 1);
    }
  }
  // The root that pop() left empty gets the last event, as in an ordinary pop, when the next
  // event is looked for before anything filled it.
  void fill_hole() {
    if (!hole_) return;
    hole_ = false;
    near_.front() = near_.back();
    near_.pop_back();
    if (!near_.empty()) sift_down(near_, 0);
  }
  static Event pop_from(std::vector<Event>& heap) {
    Event e = heap.front();
    heap.front() = heap.back();
    heap.pop_back();
    if (!heap.empty()) sift_down(heap, 0);
    return e;
  }
  static void sift_up(std::vector<Event>& heap, size_t i) {
    Event moving = heap[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!before(moving, heap[parent])) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = moving;
  }
  static void sift_down(std::vector<Event>& heap, size_t i) {
    const size_t n = heap.size();
    Event moving = heap[i];
    for (;;) {
      size_t child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(heap[child + 1], heap[child])) ++child;
      if (!before(heap[child], moving)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = moving;
  }

  std::vector<Event> near_;
  // near_[0] holds an event already popped: the root is free for the next push.
  bool hole_ = false;
  std::vector<Event> far_;
  Time last_popped_;
  uint64_t next_sequence_ = 0;
};

}  // namespace dsim
