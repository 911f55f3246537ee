// KeySlots: a map from 64-bit keys (a workload's keys: users, rows, cache entries) to 32-bit slot
// indices, for the per-key state components keep (cache entries, database rows).
//
// Keys below kDenseLimit - the usual case: a workload's keys are ranks 0..K-1, the most popular
// first - sit in a plain array indexed by the key, so Zipf-popular keys share a few cache lines.
// Larger keys go to a hash table: open addressing with linear probing (Fibonacci hashing, so
// consecutive keys spread out) and backward-shift deletion (no tombstones, so probe lengths do not
// creep up under churn). One flat array: a lookup touches one cache line in the common case, where
// a node-based std::unordered_map touches two or three - per-key state is on the hot path of every
// query. Never iterated, so its layout cannot affect a run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dsim {

class KeySlots {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t find(uint64_t key) const;
  void insert(uint64_t key, uint32_t slot);  // the key must be absent
  void erase(uint64_t key);                  // does nothing when the key is absent
  size_t size() const { return size_; }
  static constexpr uint64_t kDenseLimit = uint64_t{1} << 20;  // at most 4 MiB of direct slots

 private:
  struct Cell {
    uint64_t key = 0;
    uint32_t slot = kNone;  // kNone: empty
  };
  size_t home(uint64_t key) const {
    return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_);
  }
  void grow();
  std::vector<uint32_t> dense_;  // keys below kDenseLimit; grows to a power of two on demand
  std::vector<Cell> cells_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t size_ = 0;    // every key held
  size_t hashed_ = 0;  // those in cells_
};

}  // namespace dsim
