#include "core/event_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/random.hpp"

namespace dsim {

TEST(EventQueue, PopsInTimeOrderAndTiesInInsertionOrder) {
  // Reference model: a stable sort by time keeps insertion order among equal times.
  EventQueue q;
  Rng r(1);
  struct Ref {
    int64_t t;
    uint64_t id;
  };
  std::vector<Ref> ref;
  for (uint64_t i = 0; i < 20000; ++i) {
    const auto t = static_cast<int64_t>(r.below(500));  // many ties on purpose
    q.push(Time::ns(t), 0, 0, i);
    ref.push_back({t, i});
  }
  std::stable_sort(ref.begin(), ref.end(), [](const Ref& a, const Ref& b) { return a.t < b.t; });
  for (const Ref& expected : ref) {
    ASSERT_FALSE(q.empty());
    const Event e = q.pop();
    ASSERT_EQ(e.time.count_ns(), expected.t);
    ASSERT_EQ(e.payload, expected.id);
  }
  EXPECT_TRUE(q.empty());
}

TEST(EventQueue, InterleavedPushAndPopKeepsTheOrder) {
  EventQueue q;
  Rng r(2);
  Time last = Time::zero();
  uint64_t last_seq = 0;
  int64_t now = 0;
  for (int i = 0; i < 50000; ++i) {
    if (q.empty() || r.below(2) == 0) {
      q.push(Time::ns(now + static_cast<int64_t>(r.below(100))), 0, 0, 0);
    } else {
      const Event e = q.pop();
      ASSERT_TRUE(e.time > last || (e.time == last && e.sequence > last_seq) || i == 0);
      last = e.time;
      last_seq = e.sequence;
      now = e.time.count_ns();
    }
  }
}

// Events due far ahead wait in a second heap (EventQueue::kFarAhead); the order must not
// depend on it. Times on a coarse grid, some near and some far, tie across the two heaps: a
// reference model (sort by time, then by scheduling order) must agree at every pop.
TEST(EventQueue, EventsDueFarAheadKeepTheOrderAndTieAcrossBothHeaps) {
  EventQueue q;
  Rng r(3);
  struct Pending {
    int64_t t;
    uint64_t id;
  };
  std::vector<Pending> ref;
  uint64_t next_id = 0;
  int64_t now = 0;
  const int64_t grid = Time::ms(10).count_ns();
  size_t far_seen = 0;
  for (int i = 0; i < 60000; ++i) {
    if (ref.empty() || r.below(100) < 52) {
      // Due 0..300 ms ahead on a 10 ms grid: near (up to 50 ms) and far, with many ties.
      const int64_t t = (now / grid + static_cast<int64_t>(r.below(31))) * grid;
      if (t - now > EventQueue::kFarAhead.count_ns()) ++far_seen;
      q.push(Time::ns(t), 0, 0, next_id);
      ref.push_back({t, next_id++});
    } else {
      const auto first = std::min_element(ref.begin(), ref.end(), [](const auto& a, const auto& b) {
        return a.t < b.t || (a.t == b.t && a.id < b.id);
      });
      ASSERT_EQ(q.size(), ref.size());
      ASSERT_EQ(q.top().payload, first->id) << "pop " << i;
      const Event e = q.pop();
      ASSERT_EQ(e.time.count_ns(), first->t);
      ASSERT_EQ(e.payload, first->id) << "pop " << i;
      now = e.time.count_ns();
      ref.erase(first);
    }
  }
  EXPECT_GT(far_seen, 10000u);  // the far heap was exercised
  while (!ref.empty()) {
    const auto first = std::min_element(ref.begin(), ref.end(), [](const auto& a, const auto& b) {
      return a.t < b.t || (a.t == b.t && a.id < b.id);
    });
    ASSERT_EQ(q.pop().payload, first->id);
    ref.erase(first);
  }
  EXPECT_TRUE(q.empty());
}

TEST(EventQueue, EventsAreSmallValues) {
  // Part of the performance design: no per-event allocation, 32 bytes moved per heap step.
  EXPECT_EQ(sizeof(Event), 32u);
}

}  // namespace dsim
