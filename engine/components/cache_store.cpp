#include "components/cache_store.hpp"

#include <cassert>

namespace dsim {

// --- CacheStore: list primitives ------------------------------------------------------------

template <uint32_t CacheStore::Entry::*Prev, uint32_t CacheStore::Entry::*Next>
void CacheStore::push_front(uint32_t& head, uint32_t& tail, uint32_t i) {
  Entry& e = entries_[i];
  e.*Prev = kNone;
  e.*Next = head;
  if (head != kNone) entries_[head].*Prev = i;
  head = i;
  if (tail == kNone) tail = i;
}

template <uint32_t CacheStore::Entry::*Prev, uint32_t CacheStore::Entry::*Next>
void CacheStore::push_back(uint32_t& head, uint32_t& tail, uint32_t i) {
  Entry& e = entries_[i];
  e.*Next = kNone;
  e.*Prev = tail;
  if (tail != kNone) entries_[tail].*Next = i;
  tail = i;
  if (head == kNone) head = i;
}

template <uint32_t CacheStore::Entry::*Prev, uint32_t CacheStore::Entry::*Next>
void CacheStore::unlink(uint32_t& head, uint32_t& tail, uint32_t i) {
  Entry& e = entries_[i];
  if (e.*Prev != kNone) {
    entries_[e.*Prev].*Next = e.*Next;
  } else {
    head = e.*Next;
  }
  if (e.*Next != kNone) {
    entries_[e.*Next].*Prev = e.*Prev;
  } else {
    tail = e.*Prev;
  }
  e.*Prev = e.*Next = kNone;
}

// Shorthands for the two pairs of links.
#define DSIM_RECENCY &CacheStore::Entry::prev, &CacheStore::Entry::next
#define DSIM_FILL &CacheStore::Entry::older, &CacheStore::Entry::newer

// --- CacheStore -----------------------------------------------------------------------------

CacheStore::CacheStore(Policy policy, Time ttl)
    : policy_(policy), ttl_(ttl), expiring_(ttl > Time::zero()) {
  assert(policy != Policy::ttl || expiring_);
}

uint64_t CacheStore::expire(Time now) {
  if (!expiring_) return 0;
  uint64_t n = 0;
  while (fill_order_.head != kNone && entries_[fill_order_.head].expires <= now) {
    remove(fill_order_.head);
    ++n;
  }
  return n;
}

bool CacheStore::get(uint64_t key) {
  const uint32_t i = index_.find(key);
  if (i == kNone) return false;
  touch(i);
  return true;
}

void CacheStore::touch(uint32_t i) {
  switch (policy_) {
    case Policy::lru:
      if (recency_.head != i) {
        unlink<DSIM_RECENCY>(recency_.head, recency_.tail, i);
        push_front<DSIM_RECENCY>(recency_.head, recency_.tail, i);
      }
      break;
    case Policy::lfu: {
      // Move to the bucket of count + 1, creating it right above if it is not there.
      const uint32_t b = entries_[i].bucket;
      const uint64_t freq = buckets_[b].freq + 1;
      uint32_t up = buckets_[b].higher;
      if (up == kNone || buckets_[up].freq != freq) up = new_bucket(freq, b, up);
      Bucket& from = buckets_[b];
      unlink<DSIM_RECENCY>(from.head, from.tail, i);
      Bucket& to = buckets_[up];
      push_front<DSIM_RECENCY>(to.head, to.tail, i);
      entries_[i].bucket = up;
      if (buckets_[b].head == kNone) drop_bucket(b);
      break;
    }
    case Policy::ttl:
      break;
  }
}

uint32_t CacheStore::new_bucket(uint64_t freq, uint32_t lower, uint32_t higher) {
  uint32_t b = free_buckets_.take(buckets_);
  buckets_[b] = Bucket{freq, lower, higher, kNone, kNone};
  if (lower != kNone) {
    buckets_[lower].higher = b;
  } else {
    lowest_ = b;
  }
  if (higher != kNone) buckets_[higher].lower = b;
  return b;
}

void CacheStore::drop_bucket(uint32_t b) {
  const Bucket bucket = buckets_[b];
  if (bucket.lower != kNone) {
    buckets_[bucket.lower].higher = bucket.higher;
  } else {
    lowest_ = bucket.higher;
  }
  if (bucket.higher != kNone) buckets_[bucket.higher].lower = bucket.lower;
  free_buckets_.push_back(b);
}

void CacheStore::lfu_insert(uint32_t i) {
  if (lowest_ == kNone || buckets_[lowest_].freq != 1) new_bucket(1, kNone, lowest_);
  Bucket& b = buckets_[lowest_];
  push_front<DSIM_RECENCY>(b.head, b.tail, i);
  entries_[i].bucket = lowest_;
}

void CacheStore::lfu_remove(uint32_t i) {
  const uint32_t b = entries_[i].bucket;
  Bucket& bucket = buckets_[b];
  unlink<DSIM_RECENCY>(bucket.head, bucket.tail, i);
  if (bucket.head == kNone) drop_bucket(b);
  entries_[i].bucket = kNone;
}

uint32_t CacheStore::victim() const {
  switch (policy_) {
    case Policy::lru:
      return recency_.tail;
    case Policy::lfu:
      return lowest_ == kNone ? kNone : buckets_[lowest_].tail;
    case Policy::ttl:
      return fill_order_.head;
  }
  return kNone;
}

uint32_t CacheStore::put(uint64_t key, Time now, int64_t capacity) {
  uint32_t i = index_.find(key);
  if (i != kNone) {
    touch(i);
    if (expiring_) {
      entries_[i].expires = now + ttl_;
      unlink<DSIM_FILL>(fill_order_.head, fill_order_.tail, i);
      link_by_expiry(i);
    }
    return 0;
  }
  uint32_t evicted = 0;
  if (static_cast<int64_t>(size_) >= capacity && size_ > 0) {
    remove(victim());
    evicted = 1;
  }
  i = free_entries_.take(entries_);
  entries_[i] = Entry{};
  entries_[i].key = key;
  index_.insert(key, i);
  ++size_;
  if (policy_ == Policy::lru) push_front<DSIM_RECENCY>(recency_.head, recency_.tail, i);
  if (policy_ == Policy::lfu) lfu_insert(i);
  if (expiring_) {
    entries_[i].expires = now + ttl_;
    link_by_expiry(i);
  }
  return evicted;
}

// At the back (the newest fill), unless entries there expire later - the clock stepped back
// since they were filled: then just before the first of them, so that the list stays in expiry
// order. Equal expiries keep fill order.
void CacheStore::link_by_expiry(uint32_t i) {
  uint32_t before = kNone;  // the entry i goes in front of
  for (uint32_t j = fill_order_.tail; j != kNone && entries_[j].expires > entries_[i].expires;
       j = entries_[j].older) {
    before = j;
  }
  if (before == kNone) {
    push_back<DSIM_FILL>(fill_order_.head, fill_order_.tail, i);
    return;
  }
  Entry& e = entries_[i];
  e.newer = before;
  e.older = entries_[before].older;
  if (e.older != kNone) {
    entries_[e.older].newer = i;
  } else {
    fill_order_.head = i;
  }
  entries_[before].older = i;
}

void CacheStore::remove(uint32_t i) {
  if (policy_ == Policy::lru) unlink<DSIM_RECENCY>(recency_.head, recency_.tail, i);
  if (policy_ == Policy::lfu) lfu_remove(i);
  if (expiring_) unlink<DSIM_FILL>(fill_order_.head, fill_order_.tail, i);
  index_.erase(entries_[i].key);
  free_entries_.push_back(i);
  --size_;
}

bool CacheStore::erase(uint64_t key) {
  const uint32_t i = index_.find(key);
  if (i == kNone) return false;
  remove(i);
  return true;
}

uint64_t CacheStore::shrink(int64_t capacity) {
  uint64_t n = 0;
  while (static_cast<int64_t>(size_) > capacity && size_ > 0) {
    remove(victim());
    ++n;
  }
  return n;
}

std::vector<uint64_t> CacheStore::eviction_order() const {
  std::vector<uint64_t> keys;
  switch (policy_) {
    case Policy::lru:
      for (uint32_t i = recency_.tail; i != kNone; i = entries_[i].prev) {
        keys.push_back(entries_[i].key);
      }
      break;
    case Policy::lfu:
      for (uint32_t b = lowest_; b != kNone; b = buckets_[b].higher) {
        for (uint32_t i = buckets_[b].tail; i != kNone; i = entries_[i].prev) {
          keys.push_back(entries_[i].key);
        }
      }
      break;
    case Policy::ttl:
      for (uint32_t i = fill_order_.head; i != kNone; i = entries_[i].newer) {
        keys.push_back(entries_[i].key);
      }
      break;
  }
  return keys;
}

uint64_t CacheStore::frequency(uint64_t key) const {
  const uint32_t i = index_.find(key);
  if (i == kNone || policy_ != Policy::lfu) return 0;
  return buckets_[entries_[i].bucket].freq;
}

Time CacheStore::expiry(uint64_t key) const {
  const uint32_t i = index_.find(key);
  return i == kNone ? Time::max() : entries_[i].expires;
}

#undef DSIM_RECENCY
#undef DSIM_FILL

}  // namespace dsim
