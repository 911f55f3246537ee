// FreeList: the free list of a slab, chained through the released records themselves.
//
// Reuses slots last in, first out, like SlotStack, but keeps no array of its own: a released
// record holds the index of the one released before it (its `free_next` field). SlotStack's
// array is a separate block whose top is a likely cache miss on every take and release when many
// components' work runs in between; here a release writes to a record just touched, and a take
// reads the record about to be filled - no other cache line.
#pragma once

#include <cstdint>

namespace dsim {

class FreeList {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  bool empty() const { return head_ == kNone; }
  // A slot of `slab` for a new record: the last one released, or else a new one at its end.
  // The record keeps its contents (its serial, say) until the caller overwrites them.
  template <class Slab>
  uint32_t take(Slab& slab) {
    if (head_ != kNone) {
      const uint32_t slot = head_;
      head_ = slab[slot].free_next;
      return slot;
    }
    slab.emplace_back();
    return static_cast<uint32_t>(slab.size() - 1);
  }
  template <class Slab>
  void push_back(Slab& slab, uint32_t slot) {
    slab[slot].free_next = head_;
    head_ = slot;
  }
  void clear() { head_ = kNone; }

 private:
  uint32_t head_ = kNone;
};

}  // namespace dsim
