#include "core/station_metrics.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"

namespace dsim {
namespace {

// on_served counts a sojourn's bucket in batches (StationMetrics keeps the bucket indices until
// a batch is full or something reads the buckets). Whatever the moment of reading - mid-batch,
// at a batch's end, across a window close or the warm-up reset - the histograms must equal
// those recorded one value at a time.
void expect_same(const LatencyHistogram& got, const LatencyHistogram& want) {
  ASSERT_EQ(got.count(), want.count());
  EXPECT_EQ(got.min(), want.min());
  EXPECT_EQ(got.max(), want.max());
  EXPECT_DOUBLE_EQ(got.sum(), want.sum());
  for (double q : {0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    EXPECT_EQ(got.percentile(q), want.percentile(q)) << "q " << q;
  }
  for (int64_t bound : {0, 300, 1'000, 10'000, 1'000'000, 50'000'000}) {
    EXPECT_EQ(got.count_at_most(bound), want.count_at_most(bound)) << "bound " << bound;
  }
}

TEST(StationMetrics, BatchedSojournBucketsMatchOneAtATimeAtEveryReadingPoint) {
  StationMetrics m;
  LatencyHistogram window, since_reset;
  Rng rng(11);
  Time now = Time::zero();
  m.reset(now);
  m.reset_window(now);
  // Reading points at odd counts, so that most fall mid-batch; a window closes every 100 values
  // and the warm-up reset comes after 250.
  for (int n = 1; n <= 1000; ++n) {
    now = now + Time::us(10);
    m.on_arrival(now);
    const Time sojourn = Time::ns(static_cast<int64_t>(rng.below(20'000'000)));
    m.on_served(now, sojourn);
    window.record(sojourn.count_ns());
    since_reset.record(sojourn.count_ns());
    if (n % 7 == 0) {
      SCOPED_TRACE("value " + std::to_string(n));
      expect_same(m.window_latency(), window);
    }
    if (n % 23 == 0) {
      SCOPED_TRACE("value " + std::to_string(n));
      expect_same(m.latency(), since_reset);
    }
    if (n % 100 == 0) {
      m.reset_window(now);
      window.reset();
    }
    if (n == 250) {
      m.reset(now);
      since_reset.reset();
    }
  }
  expect_same(m.window_latency(), window);
  expect_same(m.latency(), since_reset);
}

// A negative sojourn (none is expected, but histograms clamp them) lands in bucket 0 like
// record() puts it, batched or not.
TEST(StationMetrics, ANegativeSojournCountsAsZero) {
  StationMetrics m;
  m.reset(Time::zero());
  m.reset_window(Time::zero());
  m.on_arrival(Time::zero());
  m.on_served(Time::zero(), Time::ns(-5));
  EXPECT_EQ(m.window_latency().count_at_most(0), 1u);
  EXPECT_EQ(m.latency().count_at_most(0), 1u);
}

}  // namespace
}  // namespace dsim
