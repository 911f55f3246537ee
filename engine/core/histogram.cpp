#include "core/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace dsim {

int64_t LatencyHistogram::lower_edge(int i) {
  if (i < kExactLimit) return i;
  const int rel = i - static_cast<int>(kExactLimit);
  const int octave = rel >> kSubBucketBits;  // 0 for [256, 512)
  const int sub = (rel & ((1 << kSubBucketBits) - 1)) + (1 << kSubBucketBits);
  return static_cast<int64_t>(sub) << (octave + 1);
}

int64_t LatencyHistogram::width(int i) {
  if (i < kExactLimit) return 1;
  const int octave = (i - static_cast<int>(kExactLimit)) >> kSubBucketBits;
  return int64_t{1} << (octave + 1);
}

int64_t LatencyHistogram::percentile(double q) const {
  int64_t out = 0;
  percentiles(&q, &out, 1);
  return out;
}

void LatencyHistogram::percentiles(const double* qs, int64_t* out, int n) const {
  int k = 0;
  for (; k < n && (count_ == 0 || qs[k] <= 0); ++k) out[k] = count_ ? min_ : 0;
  uint64_t seen = 0;
  int i = lowest_;
  for (; k < n; ++k) {
    if (qs[k] >= 1) {
      out[k] = max_;
      continue;
    }
    const auto rank = static_cast<uint64_t>(std::ceil(qs[k] * static_cast<double>(count_)));
    while (i <= highest_ && seen + counts_[i] < rank) seen += counts_[i++];
    if (i > highest_) {
      out[k] = max_;
      continue;
    }
    // The bucket's midpoint, clamped to the exact extremes.
    const int64_t mid = lower_edge(i) + (width(i) - 1) / 2;
    out[k] = std::clamp(mid, min_, max_);
  }
}

uint64_t LatencyHistogram::count_at_most(int64_t bound_ns) const {
  if (count_ == 0 || bound_ns < min_) return 0;
  if (bound_ns >= max_) return count_;
  const int b = index_of(bound_ns);
  uint64_t n = 0;
  for (int i = lowest_; i < b; ++i) n += counts_[i];
  if (bound_ns >= lower_edge(b) + (width(b) - 1) / 2) n += counts_[b];
  return n;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = other.lowest_; i <= other.highest_; ++i) counts_[i] += other.counts_[i];
  lowest_ = std::min(lowest_, other.lowest_);
  highest_ = std::max(highest_, other.highest_);
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void LatencyHistogram::add_buckets_since(const LatencyHistogram& now,
                                         const LatencyHistogram& before) {
  for (int i = now.lowest_; i <= now.highest_; ++i) {
    const uint64_t added = now.counts_[i] - before.counts_[i];
    if (added == 0) continue;
    counts_[i] += added;
    lowest_ = std::min(lowest_, i);
    highest_ = std::max(highest_, i);
  }
}

void LatencyHistogram::reset() {
  if (highest_ >= lowest_) std::fill(counts_.begin() + lowest_, counts_.begin() + highest_ + 1, 0);
  lowest_ = kBuckets;
  highest_ = -1;
  count_ = 0;
  sum_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
}

}  // namespace dsim
