// Latency histogram with bounded relative error, in the manner of HdrHistogram.
//
// Values (nanoseconds) below 256 are counted exactly; above, each power of two is split into 128
// linear sub-buckets, so a bucket is at most 1/128 of its lower edge wide. Reporting a bucket's
// midpoint bounds the relative error of any percentile by 1/256 (~0.4 %), well inside the 1 %
// the summaries promise, with a fixed 60 KB of memory and O(1) recording.
#pragma once

#include <cstdint>
#include <vector>

namespace dsim {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr int64_t kExactLimit = int64_t{1} << (kSubBucketBits + 1);  // 256
  static constexpr int kBuckets =
      static_cast<int>(kExactLimit) + (63 - kSubBucketBits - 1) * (1 << kSubBucketBits);

  void record(int64_t value_ns) {
    if (value_ns < 0) value_ns = 0;
    const int i = index_of(value_ns);
    ++counts_[i];
    if (i < lowest_) lowest_ = i;
    if (i > highest_) highest_ = i;
    ++count_;
    sum_ += static_cast<double>(value_ns);
    if (value_ns < min_) min_ = value_ns;
    if (value_ns > max_) max_ = value_ns;
  }

  // Counts a value in the summary (count, sum, minimum, maximum) but in no bucket: for a
  // histogram whose buckets are filled later, in bulk, by add_buckets_since.
  void record_summary(int64_t value_ns) {
    if (value_ns < 0) value_ns = 0;
    ++count_;
    sum_ += static_cast<double>(value_ns);
    if (value_ns < min_) min_ = value_ns;
    if (value_ns > max_) max_ = value_ns;
  }
  // Counts values in buckets whose summary record_summary already took: the bucket indices
  // (index_of) of values recorded earlier, counted in a batch (see StationMetrics::on_served).
  void add_to_buckets(const uint16_t* indices, int n) {
    for (int k = 0; k < n; ++k) {
      const int i = indices[k];
      ++counts_[i];
      if (i < lowest_) lowest_ = i;
      if (i > highest_) highest_ = i;
    }
  }
  // Adds to the buckets the values `now` holds beyond those `before` held (`before` being an
  // earlier copy of `now`, or an empty histogram); the summary is left alone.
  void add_buckets_since(const LatencyHistogram& now, const LatencyHistogram& before);

  uint64_t count() const { return count_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  double sum() const { return sum_; }  // of every recorded value, exact below 2^53 ns in total
  int64_t min() const { return count_ ? min_ : 0; }
  int64_t max() const { return count_ ? max_ : 0; }
  // Nearest-rank percentile, q in [0, 1]; q = 1 is the exact maximum, q = 0 the exact minimum.
  int64_t percentile(double q) const;
  // Several percentiles in one pass over the buckets; qs must be ascending.
  void percentiles(const double* qs, int64_t* out, int n) const;

  // How many values were <= bound_ns, as a cumulative bucket of a coarser histogram (e.g. the
  // OpenMetrics export). Exact when the bound ends a bucket, lies below 256 ns, or outside the
  // observed [min, max]; otherwise the one bucket containing the bound (at most 1/128 of the bound
  // wide) counts as below it when the bound reaches its midpoint - the value percentiles report
  // for it - so only values within 0.8 % of the bound can land on the wrong side. Monotone in
  // the bound.
  uint64_t count_at_most(int64_t bound_ns) const;

  void merge(const LatencyHistogram& other);
  // Clears only the buckets that were touched: cheap for the per-window histograms.
  void reset();

  static int index_of(int64_t v) {
    if (v < kExactLimit) return static_cast<int>(v);
    const int msb = 63 - __builtin_clzll(static_cast<uint64_t>(v));  // >= kSubBucketBits + 1
    const int shift = msb - kSubBucketBits;
    const int sub = static_cast<int>(v >> shift);  // in [128, 256)
    return static_cast<int>(kExactLimit) + (msb - kSubBucketBits - 1) * (1 << kSubBucketBits) +
           (sub - (1 << kSubBucketBits));
  }
  static_assert(kBuckets <= 65536, "bucket indices fit in 16 bits (add_to_buckets)");
  // Smallest value that falls into bucket i, and the bucket's width.
  static int64_t lower_edge(int i);
  static int64_t width(int i);

 private:
  // The summary and the buckets' address fill one cache line; the 60 KB of buckets live on the
  // heap. Held inline, they spread whatever embeds histograms (every component's metrics holds
  // four) over tens of pages, so the fields each hop touches shared no cache line or page.
  int lowest_ = kBuckets;
  int highest_ = -1;
  uint64_t count_ = 0;
  double sum_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  std::vector<uint64_t> counts_ = std::vector<uint64_t>(kBuckets);
};

}  // namespace dsim
