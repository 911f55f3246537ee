#include "core/key_slots.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/random.hpp"

namespace dsim {
namespace {

// KeySlots against std::map under random inserts, finds and erases (backward-shift deletion
// must keep every remaining key findable).
TEST(KeySlots, AgreesWithAMapUnderChurn) {
  KeySlots index;
  std::map<uint64_t, uint32_t> reference;
  Rng rng(42);
  for (uint32_t step = 0; step < 200'000; ++step) {
    // Keys from a small range (the direct array) recur often; a quarter are huge (the hash
    // table, where backward-shift deletion is exercised).
    const uint64_t key = rng.below(4) == 0 ? rng.next_u64() : rng.below(3000);
    const uint32_t found = index.find(key);
    const auto it = reference.find(key);
    ASSERT_EQ(found, it == reference.end() ? KeySlots::kNone : it->second) << "step " << step;
    if (it == reference.end()) {
      index.insert(key, step);
      reference[key] = step;
    } else if (rng.below(2) == 0) {
      index.erase(key);
      reference.erase(it);
    }
    ASSERT_EQ(index.size(), reference.size());
  }
  for (const auto& [key, slot] : reference) ASSERT_EQ(index.find(key), slot);
}

// Keys at and around the boundary between the direct array and the hash table.
TEST(KeySlots, KeysAroundTheDenseLimit) {
  KeySlots index;
  const uint64_t l = KeySlots::kDenseLimit;
  for (uint64_t k : {l - 1, l, l + 1, uint64_t{0}, UINT64_MAX})
    index.insert(k, static_cast<uint32_t>(k % 1000));
  EXPECT_EQ(index.size(), 5u);
  for (uint64_t k : {l - 1, l, l + 1, uint64_t{0}, UINT64_MAX}) EXPECT_EQ(index.find(k), k % 1000);
  EXPECT_EQ(index.find(l - 2), KeySlots::kNone);
  EXPECT_EQ(index.find(l + 2), KeySlots::kNone);
  index.erase(l);
  index.erase(l - 1);
  EXPECT_EQ(index.find(l), KeySlots::kNone);
  EXPECT_EQ(index.find(l - 1), KeySlots::kNone);
  EXPECT_EQ(index.find(l + 1), (l + 1) % 1000);
  EXPECT_EQ(index.size(), 3u);
}

}  // namespace
}  // namespace dsim
