#include "core/free_list.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "core/random.hpp"
#include "core/slot_stack.hpp"

namespace dsim {

namespace {
struct Record {
  uint32_t free_next = 0;
  uint64_t value = 0;
};
}  // namespace

// The free list must hand out exactly the slots SlotStack would (last released first, then new
// ones at the end): slot numbers decide the order of some scans, so a change would change runs.
TEST(FreeList, ReusesSlotsInTheOrderOfASlotStack) {
  std::vector<Record> chained;
  std::vector<Record> stacked;
  FreeList list;
  SlotStack stack;
  std::vector<uint32_t> live;
  Rng r(7);
  for (int i = 0; i < 100000; ++i) {
    if (live.empty() || r.below(100) < 55) {
      const uint32_t a = list.take(chained);
      const uint32_t b = stack.take(stacked);
      ASSERT_EQ(a, b) << "take " << i;
      chained[a].value = static_cast<uint64_t>(i);
      live.push_back(a);
    } else {
      const size_t k = r.below(live.size());
      const uint32_t slot = live[k];
      live[k] = live.back();
      live.pop_back();
      list.push_back(chained, slot);
      stack.push_back(slot);
    }
  }
  EXPECT_EQ(chained.size(), stacked.size());
  EXPECT_GT(chained.size(), 100u);  // the slab grew as well as reused
  // Every live slot holds what was written to it: the chain lives only in free records.
  std::vector<bool> seen(chained.size(), false);
  for (const uint32_t slot : live) {
    EXPECT_FALSE(seen[slot]) << "slot " << slot << " handed out twice";
    seen[slot] = true;
  }
}

TEST(FreeList, EmptyUntilASlotIsReleasedAndAfterClear) {
  std::vector<Record> slab;
  FreeList list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.take(slab), 0u);
  EXPECT_EQ(list.take(slab), 1u);
  list.push_back(slab, 0);
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(list.take(slab), 0u);
  list.push_back(slab, 1);
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.take(slab), 2u);
}

}  // namespace dsim
