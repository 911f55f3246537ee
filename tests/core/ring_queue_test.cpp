#include "core/ring_queue.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "core/random.hpp"

namespace dsim {
namespace {

// RingQueue against std::deque under random pushes and pops: growth must keep the order when
// the ring has wrapped around (head in the middle of the storage).
TEST(RingQueue, AgreesWithADequeWhileWrappingAndGrowing) {
  RingQueue<uint64_t> ring;
  std::deque<uint64_t> reference;
  Rng rng(7);
  for (uint64_t step = 0; step < 100'000; ++step) {
    // Pushes slightly more often than pops: the queue wraps many times and grows now and then.
    if (reference.empty() || rng.below(100) < 53) {
      ring.push_back(step);
      reference.push_back(step);
    } else {
      ASSERT_EQ(ring.front(), reference.front()) << "step " << step;
      ring.pop_front();
      reference.pop_front();
    }
    ASSERT_EQ(ring.size(), reference.size()) << "step " << step;
    if (!reference.empty()) {
      ASSERT_EQ(ring.back(), reference.back()) << "step " << step;
    }
  }
  while (!reference.empty()) {
    ASSERT_EQ(ring.front(), reference.front());
    ring.pop_front();
    reference.pop_front();
  }
  EXPECT_TRUE(ring.empty());
}

TEST(RingQueue, GrowsWhenFullAfterWrappingAround) {
  RingQueue<int> ring;
  for (int i = 0; i < 16; ++i) ring.push_back(i);   // the first storage (16) is full
  for (int i = 0; i < 10; ++i) ring.pop_front();    // head at 10
  for (int i = 16; i < 26; ++i) ring.push_back(i);  // wraps: full again at 16 entries
  ring.push_back(26);                               // grows with head in the middle
  for (int i = 10; i <= 26; ++i) {
    ASSERT_EQ(ring.front(), i);
    ring.pop_front();
  }
  EXPECT_TRUE(ring.empty());
  ring.clear();
  ring.push_back(5);
  EXPECT_EQ(ring.front(), 5);
  EXPECT_EQ(ring.back(), 5);
}

}  // namespace
}  // namespace dsim
