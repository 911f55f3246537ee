// The entries of a cache and the order in which they leave: LRU, LFU or TTL, with optional expiry.
//
// Every operation is O(1) (amortised: the key index doubles when half full, and an expired entry
// is removed exactly once). Entries live in one slab of slots reused through a free list, and the
// orders are intrusive doubly linked lists threaded through the slots by index, so a warmed-up
// cache allocates nothing per request.
//
// The orders:
//   lru  one list, most recently used first; the victim is the least recently used entry.
//   lfu  the O(1) scheme of Shah, Mitra and Matani ("An O(1) algorithm for implementing the LFU
//        cache eviction scheme", 2010): a list of frequency buckets in increasing order, each
//        holding its entries most recently used first. The victim is the least recently used of
//        the least frequently used entries. Counts are kept while an entry is held and start
//        again at 1 when a key comes back (in-cache LFU, no ageing).
//   ttl  entries in fill order, which with one ttl for all is also expiry order; the victim is the
//        entry that would expire soonest (the oldest fill).
// With a ttl, every entry also sits in that fill-order list, so expire(now) removes the expired
// ones from its front; an entry filled at t is held for [t, t + ttl) and gone at t + ttl.
// The fill instants are read on the cache's clock, which clock_skew may step back
// (core/local_clock.hpp). An entry filled after such a step expires before some filled earlier:
// it is linked in before them, so that the list stays in expiry order. (That walk, from the
// back, is the only cost above O(1), and only after a step back.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/key_slots.hpp"
#include "core/slot_stack.hpp"
#include "core/time.hpp"

namespace dsim {

class CacheStore {
 public:
  enum class Policy : uint8_t { lru, lfu, ttl };
  static constexpr uint32_t kNone = KeySlots::kNone;

  // ttl zero: entries never expire (not allowed with Policy::ttl).
  CacheStore(Policy policy, Time ttl);

  // Removes the entries whose expiry has come (expires <= now); returns how many. Call it before
  // every lookup or change so that no expired entry is ever seen or takes room.
  uint64_t expire(Time now);
  // A lookup: true if the key is held, and then it counts as a use (LRU: most recent; LFU: one
  // more). TTL order ignores uses.
  bool get(uint64_t key);
  bool contains(uint64_t key) const { return index_.find(key) != kNone; }
  // Holds the key as filled at `now`. An entry already held is refreshed: a use, and (with a ttl)
  // a new expiry. A new entry with `capacity` (>= 1) entries already held first evicts the
  // victim. Returns the number of entries evicted (0 or 1).
  uint32_t put(uint64_t key, Time now, int64_t capacity);
  // Removes the key if held; returns whether it was.
  bool erase(uint64_t key);
  // Evicts victims until at most `capacity` entries remain; returns how many were evicted.
  uint64_t shrink(int64_t capacity);

  size_t size() const { return size_; }
  Policy policy() const { return policy_; }
  Time ttl() const { return ttl_; }

  // Inspection (tests, viewers): O(n).
  // The held keys, the next victim first.
  std::vector<uint64_t> eviction_order() const;
  // A held key's use count (LFU; 0 when not held or another policy) and expiry (max: none).
  uint64_t frequency(uint64_t key) const;
  Time expiry(uint64_t key) const;

 private:
  struct Entry {
    uint64_t key = 0;
    Time expires = Time::max();
    uint32_t prev = kNone, next = kNone;    // LRU list, or the entry's LFU bucket list
    uint32_t older = kNone, newer = kNone;  // fill-order list (TTL order / expiry)
    uint32_t bucket = kNone;                // LFU
  };
  struct Bucket {  // LFU: the entries used `freq` times
    uint64_t freq = 0;
    uint32_t lower = kNone, higher = kNone;  // neighbouring buckets
    uint32_t head = kNone, tail = kNone;     // most recently used first
  };
  struct Chain {
    uint32_t head = kNone, tail = kNone;
  };

  // Intrusive list primitives over the entries, for either pair of links.
  template <uint32_t Entry::*Prev, uint32_t Entry::*Next>
  void push_front(uint32_t& head, uint32_t& tail, uint32_t i);
  template <uint32_t Entry::*Prev, uint32_t Entry::*Next>
  void push_back(uint32_t& head, uint32_t& tail, uint32_t i);
  template <uint32_t Entry::*Prev, uint32_t Entry::*Next>
  void unlink(uint32_t& head, uint32_t& tail, uint32_t i);

  void touch(uint32_t i);
  void link_by_expiry(uint32_t i);
  void lfu_insert(uint32_t i);
  void lfu_remove(uint32_t i);
  uint32_t new_bucket(uint64_t freq, uint32_t lower, uint32_t higher);
  void drop_bucket(uint32_t b);
  uint32_t victim() const;
  void remove(uint32_t i);

  Policy policy_;
  Time ttl_;
  bool expiring_;  // ttl > 0: entries are kept in the fill-order list
  KeySlots index_;
  std::vector<Entry> entries_;
  SlotStack free_entries_;
  size_t size_ = 0;
  Chain recency_;     // LRU: head most recent
  Chain fill_order_;  // head: filled longest ago (expires first)
  std::vector<Bucket> buckets_;
  SlotStack free_buckets_;
  uint32_t lowest_ = kNone;  // LFU: the bucket with the smallest count
};

}  // namespace dsim
