// The waiting room of a service: FIFO, LIFO or priority order.
//
// FIFO is a growable ring buffer and LIFO a stack, so neither allocates once warmed up. Priority
// serves the highest Request::priority first and, among equals, the earliest arrival (a stable
// order, so runs stay deterministic).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/request.hpp"

namespace dsim {

enum class Discipline { fifo, lifo, priority };

class WaitQueue {
 public:
  explicit WaitQueue(Discipline d = Discipline::fifo) : discipline_(d) {}

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void push(RequestHandle h, int16_t priority) {
    switch (discipline_) {
      case Discipline::fifo:
        if (size_ == ring_.size()) grow();
        ring_[(head_ + size_) & (ring_.size() - 1)] = h;
        break;
      case Discipline::lifo:
        ring_.push_back(h);
        break;
      case Discipline::priority:
        heap_.push_back(Entry{priority, sequence_++, h});
        std::push_heap(heap_.begin(), heap_.end(), lower);
        break;
    }
    ++size_;
  }

  RequestHandle pop() {
    RequestHandle h = 0;
    switch (discipline_) {
      case Discipline::fifo:
        h = ring_[head_];
        head_ = (head_ + 1) & (ring_.size() - 1);
        break;
      case Discipline::lifo:
        h = ring_.back();
        ring_.pop_back();
        break;
      case Discipline::priority:
        std::pop_heap(heap_.begin(), heap_.end(), lower);
        h = heap_.back().handle;
        heap_.pop_back();
        break;
    }
    --size_;
    return h;
  }

 private:
  struct Entry {
    int16_t priority;
    uint64_t sequence;
    RequestHandle handle;
  };
  // std heaps are max-heaps: "lower" ranks later service as smaller.
  static bool lower(const Entry& a, const Entry& b) {
    if (a.priority != b.priority) return a.priority < b.priority;
    return a.sequence > b.sequence;
  }
  void grow() {
    std::vector<RequestHandle> bigger(ring_.empty() ? 16 : ring_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & (ring_.size() - 1)];
    ring_.swap(bigger);
    head_ = 0;
  }

  Discipline discipline_;
  std::vector<RequestHandle> ring_;  // FIFO ring (power-of-two size) or LIFO stack
  size_t head_ = 0;
  size_t size_ = 0;
  std::vector<Entry> heap_;
  uint64_t sequence_ = 0;
};

}  // namespace dsim
