#include "core/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/distribution.hpp"

namespace dsim {

TEST(LatencyHistogram, BucketsCoverEveryValueWithBoundedWidth) {
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{255}, int64_t{256}, int64_t{257}, int64_t{1000},
                    int64_t{123456789}, int64_t{1} << 40, INT64_MAX}) {
    const int i = LatencyHistogram::index_of(v);
    ASSERT_GE(i, 0);
    ASSERT_LT(i, LatencyHistogram::kBuckets);
    const int64_t lo = LatencyHistogram::lower_edge(i);
    const int64_t w = LatencyHistogram::width(i);
    EXPECT_LE(lo, v);
    EXPECT_LE(v - lo, w - 1);
    if (v >= 256) {
      EXPECT_LE(static_cast<double>(w) / static_cast<double>(lo), 1.0 / 128);
    }
  }
}

TEST(LatencyHistogram, PercentilesWithinOnePercentOfExactSortedSamples) {
  // Heavy-tailed latencies spanning microseconds to seconds.
  Rng r(5);
  const Distribution d = Distribution::lognormal_median_p99(0.020, 2.0);
  std::vector<int64_t> exact;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    const int64_t v = d.sample(r).count_ns();
    exact.push_back(v);
    h.record(v);
  }
  std::sort(exact.begin(), exact.end());
  for (double q : {0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
    // Nearest rank, the definition the histogram implements.
    const auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(exact.size())));
    const double truth = static_cast<double>(exact[rank - 1]);
    EXPECT_NEAR(static_cast<double>(h.percentile(q)), truth, 0.01 * truth) << "q=" << q;
  }
  EXPECT_EQ(h.percentile(1.0), exact.back());
  EXPECT_EQ(h.percentile(0.0), exact.front());
  EXPECT_EQ(h.max(), exact.back());
  EXPECT_EQ(h.count(), exact.size());
}

TEST(LatencyHistogram, ManyPercentilesInOnePassMatchOneAtATime) {
  LatencyHistogram h;
  Rng r(6);
  for (int i = 0; i < 5000; ++i) h.record(static_cast<int64_t>(r.below(1'000'000'000)));
  const double qs[] = {0.0, 0.25, 0.5, 0.9, 0.99, 1.0};
  int64_t out[6];
  h.percentiles(qs, out, 6);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(out[i], h.percentile(qs[i]));
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  LatencyHistogram a, b, all;
  Rng r(7);
  for (int i = 0; i < 1000; ++i) {
    const int64_t v = static_cast<int64_t>(r.below(10'000'000));
    (i % 2 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.min(), all.min());
  for (double q : {0.1, 0.5, 0.99}) EXPECT_EQ(a.percentile(q), all.percentile(q));
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.record(5);
  h.record(5'000'000);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0);
  h.record(1000);
  EXPECT_EQ(h.percentile(0.5), 1000);
  EXPECT_EQ(h.min(), 1000);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int64_t v = 0; v < 256; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 127);
  EXPECT_DOUBLE_EQ(h.mean(), 127.5);
}

TEST(LatencyHistogram, CountAtMostIsExactAtBucketEndsAndNearlyExactElsewhere) {
  LatencyHistogram h;
  std::vector<int64_t> values;
  Rng rng = Rng::derive(11, "histogram", "count_at_most");
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<int64_t>(std::exp(rng.uniform01() * 25.0));  // 1 ns .. ~70 ms
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  const auto exact = [&](int64_t bound) {
    return static_cast<uint64_t>(std::upper_bound(values.begin(), values.end(), bound) -
                                 values.begin());
  };
  uint64_t previous = 0;
  for (int64_t bound :
       {int64_t{0}, int64_t{17}, int64_t{255}, int64_t{1000}, int64_t{2000}, int64_t{5000},
        int64_t{10'000}, int64_t{1'000'000}, int64_t{5'000'000}, int64_t{100'000'000}}) {
    const uint64_t n = h.count_at_most(bound);
    EXPECT_GE(n, previous) << bound;  // cumulative
    previous = n;
    // Only values in the one bucket holding the bound (within bound/128 of it) may be misplaced.
    const uint64_t lo = exact(bound - bound / 128 - 1), hi = exact(bound + bound / 128);
    EXPECT_GE(n, lo) << bound;
    EXPECT_LE(n, hi) << bound;
    if (bound < LatencyHistogram::kExactLimit) {
      EXPECT_EQ(n, exact(bound)) << bound;
    }
  }
  // A bound that ends a bucket is exact.
  const int i = LatencyHistogram::index_of(1'000'000);
  const int64_t end = LatencyHistogram::lower_edge(i) + LatencyHistogram::width(i) - 1;
  EXPECT_EQ(h.count_at_most(end), exact(end));
  EXPECT_EQ(h.count_at_most(h.max()), h.count());
}

TEST(LatencyHistogram, CountAtMostCountsAConstantValueOnTheRightSideOfAnyBound) {
  LatencyHistogram h;
  for (int i = 0; i < 10; ++i) h.record(1'000'000);  // a constant 1 ms, mid-bucket
  EXPECT_EQ(h.count_at_most(999'999), 0u);
  EXPECT_EQ(h.count_at_most(1'000'000), 10u);
}

}  // namespace dsim
