// WaitQueue: the waiting room of a service, checked against plain reference models.
//
//   fifo      std::deque, push_back / pop_front
//   lifo      std::deque, push_back / pop_back
//   priority  highest priority first, earliest push first among equals (an ordered map)
//
// Long random interleavings of pushes and pops (fixed seeds) drive the ring buffer through many
// wrap-arounds and growths while it holds data, which is where a ring buffer goes wrong.
#include "components/wait_queue.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "core/random.hpp"

namespace dsim {
namespace {

// The reference model for all three disciplines: a deque for FIFO and LIFO, an ordered map
// keyed by (highest priority, earliest push) for priority.
class ReferenceQueue {
 public:
  explicit ReferenceQueue(Discipline d) : d_(d) {}
  void push(RequestHandle h, int16_t priority) {
    if (d_ == Discipline::priority) {
      by_rank_.emplace(std::pair{-static_cast<int>(priority), pushes_++}, h);
    } else {
      items_.push_back(h);
    }
  }
  RequestHandle pop() {
    RequestHandle h = 0;
    switch (d_) {
      case Discipline::fifo:
        h = items_.front();
        items_.pop_front();
        break;
      case Discipline::lifo:
        h = items_.back();
        items_.pop_back();
        break;
      case Discipline::priority:
        h = by_rank_.begin()->second;
        by_rank_.erase(by_rank_.begin());
        break;
    }
    return h;
  }
  size_t size() const { return d_ == Discipline::priority ? by_rank_.size() : items_.size(); }

 private:
  Discipline d_;
  std::deque<RequestHandle> items_;
  std::map<std::pair<int, uint64_t>, RequestHandle> by_rank_;
  uint64_t pushes_ = 0;
};

const char* name(Discipline d) {
  switch (d) {
    case Discipline::fifo:
      return "fifo";
    case Discipline::lifo:
      return "lifo";
    case Discipline::priority:
      return "priority";
  }
  return "?";
}

// Random pushes and pops; `push_bias` in [0, 1] is the share of operations that push (while the
// queue is non-empty), so the queue's length performs a random walk with that drift.
void compare_with_reference(Discipline d, uint64_t seed, int operations, double push_bias,
                            int priorities) {
  SCOPED_TRACE(std::string(name(d)) + " seed " + std::to_string(seed));
  WaitQueue q(d);
  ReferenceQueue ref(d);
  Rng rng(seed);
  RequestHandle next = 0;
  size_t peak = 0;
  for (int op = 0; op < operations; ++op) {
    ASSERT_EQ(q.size(), ref.size());
    ASSERT_EQ(q.empty(), ref.size() == 0);
    if (ref.size() == 0 || rng.uniform01() < push_bias) {
      const auto priority = static_cast<int16_t>(rng.below(static_cast<uint64_t>(priorities)));
      q.push(next, priority);
      ref.push(next, priority);
      ++next;
      peak = std::max(peak, ref.size());
    } else {
      ASSERT_EQ(q.pop(), ref.pop()) << "at operation " << op;
    }
  }
  while (ref.size() > 0) ASSERT_EQ(q.pop(), ref.pop());
  EXPECT_TRUE(q.empty());
  EXPECT_GT(peak, 16u) << "the sequence never made the ring grow";
}

TEST(WaitQueue, FifoServesInArrivalOrder) {
  WaitQueue q(Discipline::fifo);
  for (RequestHandle h = 0; h < 5; ++h) q.push(h, static_cast<int16_t>(5 - h));
  for (RequestHandle h = 0; h < 5; ++h) EXPECT_EQ(q.pop(), h);
  EXPECT_TRUE(q.empty());
}

TEST(WaitQueue, LifoServesTheLatestArrivalFirst) {
  WaitQueue q(Discipline::lifo);
  for (RequestHandle h = 0; h < 5; ++h) q.push(h, 0);
  for (RequestHandle h = 5; h-- > 0;) EXPECT_EQ(q.pop(), h);
  EXPECT_TRUE(q.empty());
}

TEST(WaitQueue, PriorityServesTheHighestPriorityFirst) {
  WaitQueue q(Discipline::priority);
  q.push(10, 1);
  q.push(11, -3);
  q.push(12, 7);
  q.push(13, 0);
  EXPECT_EQ(q.pop(), 12u);
  EXPECT_EQ(q.pop(), 10u);
  EXPECT_EQ(q.pop(), 13u);
  EXPECT_EQ(q.pop(), 11u);
}

TEST(WaitQueue, PriorityTiesStayFirstInFirstOut) {
  // Many equal priorities pushed and popped in stages: a heap without the sequence tie-break
  // returns equals in an arbitrary order.
  WaitQueue q(Discipline::priority);
  RequestHandle next = 0;
  std::deque<RequestHandle> high, low;
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 7; ++i) {
      const bool is_high = (i % 3) == 0;
      q.push(next, is_high ? 2 : 1);
      (is_high ? high : low).push_back(next);
      ++next;
    }
    for (int i = 0; i < 4; ++i) {
      std::deque<RequestHandle>& expected = high.empty() ? low : high;
      ASSERT_EQ(q.pop(), expected.front()) << "round " << round;
      expected.pop_front();
    }
  }
  while (!high.empty()) {
    EXPECT_EQ(q.pop(), high.front());
    high.pop_front();
  }
  while (!low.empty()) {
    EXPECT_EQ(q.pop(), low.front());
    low.pop_front();
  }
  EXPECT_TRUE(q.empty());
}

TEST(WaitQueue, FifoRingKeepsOrderWhenItGrowsWhileWrappedAround) {
  // Fill the first 16-slot ring, pop most of it so the head is near the end, then push past
  // the capacity: the live part straddles the wrap point at the moment the ring grows.
  WaitQueue q(Discipline::fifo);
  std::deque<RequestHandle> ref;
  RequestHandle next = 0;
  auto push = [&](int n) {
    for (int i = 0; i < n; ++i) {
      q.push(next, 0);
      ref.push_back(next++);
    }
  };
  auto pop = [&](int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(q.pop(), ref.front());
      ref.pop_front();
    }
  };
  push(16);
  pop(13);   // head at slot 13, 3 live
  push(13);  // 16 live, wrapped: slots 13..15 then 0..12
  push(1);   // grows to 32 while wrapped
  ASSERT_EQ(q.size(), 17u);
  pop(10);
  push(40);  // wraps the 32-slot ring, then grows to 64 while wrapped
  pop(static_cast<int>(ref.size()));
  EXPECT_TRUE(q.empty());
  // Reusable after draining, at a head that is not zero.
  push(3);
  pop(3);
  EXPECT_TRUE(q.empty());
}

TEST(WaitQueue, FifoMatchesADequeOverRandomInterleavings) {
  compare_with_reference(Discipline::fifo, 1, 200'000, 0.52, 1);
  compare_with_reference(Discipline::fifo, 2, 50'000, 0.5, 1);  // hovers near empty: many wraps
}

TEST(WaitQueue, LifoMatchesADequeOverRandomInterleavings) {
  compare_with_reference(Discipline::lifo, 3, 200'000, 0.52, 1);
}

TEST(WaitQueue, PriorityMatchesAStableReferenceOverRandomInterleavings) {
  // Few priority levels so that ties are common, then many so that the heap is deep.
  compare_with_reference(Discipline::priority, 4, 40'000, 0.51, 3);
  compare_with_reference(Discipline::priority, 5, 20'000, 0.52, 1000);
}

}  // namespace
}  // namespace dsim
