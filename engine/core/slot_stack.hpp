// SlotStack: the free list of a slab - released slot indices, reused last in, first out.
//
// The same as a std::vector<uint32_t> used as a stack, but its push_back is small enough to be
// inlined everywhere: the vector's, with its reallocation path, was left out of line and called
// a few times per event (every call, request, task and query slot is released through one).
// Storage grows by doubling and is then reused, so steady state allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsim {

class SlotStack {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  uint32_t back() const { return slots_[size_ - 1]; }
  void pop_back() { --size_; }
  void push_back(uint32_t slot) {
    if (size_ == slots_.size()) [[unlikely]]
      grow();
    slots_[size_++] = slot;
  }
  void clear() { size_ = 0; }
  // A slot of `slab` for a new record: the last one released, or else a new one at its end.
  template <class Slab>
  uint32_t take(Slab& slab) {
    if (size_ > 0) return slots_[--size_];
    slab.emplace_back();
    return static_cast<uint32_t>(slab.size() - 1);
  }

 private:
  [[gnu::noinline]] void grow() { slots_.resize(slots_.empty() ? 64 : 2 * slots_.size()); }

  std::vector<uint32_t> slots_;  // [0, size_) in use
  size_t size_ = 0;
};

}  // namespace dsim
