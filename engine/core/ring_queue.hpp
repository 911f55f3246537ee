// RingQueue: a FIFO in one power-of-two ring that doubles when full.
//
// For queues on the hot path (an Outbound's pending timeouts, touched on every call): a
// std::deque's push_back and pop_front each walk its block map and check block ends - several
// times the instructions of a masked index - and its blocks are scattered in memory. Storage is
// reused once grown, so steady state allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace dsim {

template <class T>
class RingQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& front() { return ring_[head_]; }
  const T& front() const { return ring_[head_]; }
  const T& back() const { return ring_[(head_ + size_ - 1) & mask_]; }
  void push_back(const T& value) {
    if (size_ == ring_.size()) [[unlikely]]
      grow();
    ring_[(head_ + size_) & mask_] = value;
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & mask_;
    --size_;
  }
  void clear() { head_ = size_ = 0; }

 private:
  [[gnu::noinline]] void grow() {
    std::vector<T> bigger(ring_.empty() ? 16 : 2 * ring_.size());
    for (size_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & mask_];
    ring_.swap(bigger);
    head_ = 0;
    mask_ = ring_.size() - 1;
  }

  std::vector<T> ring_;
  size_t head_ = 0;
  size_t size_ = 0;
  size_t mask_ = 0;
};

}  // namespace dsim
