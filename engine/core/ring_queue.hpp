// RingQueue: a FIFO in one power-of-two ring that doubles when full.
//
// For queues on the hot path (an Outbound's pending timeouts, touched on every call): a
// std::deque's push_back and pop_front each walk its block map and check block ends - several
// times the instructions of a masked index - and its blocks are scattered in memory. Storage is
// reused once grown, so steady state allocates nothing. The whole handle is 20 bytes (32-bit
// indices; at most 2^31 entries), so that it fits in the one cache line of its owner's hot fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>

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
    if (size_ == capacity()) [[unlikely]]
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
  // Zero until the first push allocates: mask_ starts at 2^32 - 1, and the sum wraps.
  uint32_t capacity() const { return mask_ + 1; }
  [[gnu::noinline]] void grow() {
    const uint32_t old = capacity();
    if (old >= (uint32_t{1} << 31)) throw std::length_error("RingQueue: more than 2^31 entries");
    const uint32_t bigger_size = old == 0 ? 16 : 2 * old;
    auto bigger = std::make_unique<T[]>(bigger_size);
    for (uint32_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) & mask_];
    ring_ = std::move(bigger);
    head_ = 0;
    mask_ = bigger_size - 1;
  }

  std::unique_ptr<T[]> ring_;
  uint32_t head_ = 0;
  uint32_t size_ = 0;
  uint32_t mask_ = UINT32_MAX;
};

}  // namespace dsim
