// LRU hit ratio under Zipf popularity against Che's approximation.
//
// Model. Requests are independent draws of keys 0..N-1 (the independent reference model), key i
// with probability p_i = (i+1)^-s / sum_j (j+1)^-s: a source's {zipf: {keys: N, s}} (checked
// below against KeySampler itself). An LRU cache of C entries holds key i exactly when i was
// requested within the last C distinct keys. Che, Tung and Wang (IEEE JSAC 20(7), 2002)
// approximate this by a deterministic "characteristic time" T_C, in requests: key i is cached iff
// it was requested within the last T_C requests, which happens with probability
// 1 - exp(-p_i T_C). T_C solves sum_i (1 - exp(-p_i T_C)) = C (the cache holds C keys on
// average), and the hit ratio is h = sum_i p_i (1 - exp(-p_i T_C)). Fricker, Robert and Roberts
// (ITC 24, 2012) explain why this is so accurate; at N = 10^4 its error is of order 1e-4 (an
// independent Python simulation of 1.5e6 requests per case, written for this test, differed from
// it by at most 4.3e-4, within its own sampling noise).
//
// The simulation: a Poisson source (the times do not matter to LRU, only the order of requests),
// a cache with zero hit and miss latency, and a sink as the backing store, which answers at once:
// every miss is filled in the instant it happens, so no miss is ever in flight and coalescing or
// concurrency cannot blur the model.
//
// Run length. A cold LRU cache is in its stationary state as soon as it has seen C distinct keys
// (its content is then "the last C distinct keys", exactly as in steady state), which takes a few
// T_C requests; the warm-up is 200,000 requests, at least 85 T_C in all four cases (asserted).
// Then 30 batches of 100,000 requests: the hit indicators are correlated only over about T_C
// requests (a few thousand at most), so batch hit ratios are nearly independent, and the batch-
// means standard error is about sqrt(h (1 - h) / 3e6) <= 3e-4. The resolution assertion below
// requires kZ * SE <= 0.0025, a quarter of the 0.01 the issue allows, so that criterion tests the
// model and not the noise. A second, tighter check allows kZ * SE plus 0.002 for Che's own error:
// it catches a cache that evicts the wrong entries or miscounts, though not a capacity off by
// one (that moves h by only ~1e-3; the unit tests' reference model catches it exactly).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "analytic/batch_means.hpp"
#include "components/source.hpp"

namespace dsim::analytic {
namespace {

struct CheCase {
  double s;
  int64_t capacity;
  uint64_t seed;
};

void PrintTo(const CheCase& c, std::ostream* os) {
  *os << "s " << c.s << ", capacity " << c.capacity << ", seed " << c.seed;
}

constexpr int64_t kKeys = 10'000;
constexpr double kRate = 10'000;                // requests per second
constexpr int64_t kBatchRequests = 100'000;     // per batch
constexpr int kWarmupBatches = 2;               // 200,000 requests
constexpr double kIssueTolerance = 0.01;        // absolute, from the issue
constexpr double kCheError = 0.002;             // a bound on the approximation's own error
constexpr double kHitRatioResolution = 0.0025;  // kZ * SE must be below this

std::vector<double> zipf_probabilities(int64_t n, double s) {
  std::vector<double> p(static_cast<size_t>(n));
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    p[static_cast<size_t>(i)] = std::pow(static_cast<double>(i + 1), -s);
    total += p[static_cast<size_t>(i)];
  }
  for (double& x : p) x /= total;
  return p;
}

// Expected number of distinct keys requested within t requests.
double occupancy(const std::vector<double>& p, double t) {
  double sum = 0;
  for (double pi : p) sum += -std::expm1(-pi * t);
  return sum;
}

// Che's characteristic time, by bisection (occupancy increases with t from 0 to N).
double characteristic_time(const std::vector<double>& p, double capacity) {
  double lo = 0, hi = 1;
  while (occupancy(p, hi) < capacity) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = (lo + hi) / 2;
    (occupancy(p, mid) < capacity ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

double che_hit_ratio(const std::vector<double>& p, double t_c) {
  double h = 0;
  for (double pi : p) h += pi * -std::expm1(-pi * t_c);
  return h;
}

class CheLru : public ::testing::TestWithParam<CheCase> {};

TEST_P(CheLru, HitRatioMatchesChesApproximation) {
  const CheCase k = GetParam();
  const std::vector<double> p = zipf_probabilities(kKeys, k.s);

  // The source's Zipf is the one the formula assumes.
  KeySpec spec;
  spec.mode = KeySpec::Mode::zipf;
  spec.keys = kKeys;
  spec.exponent = k.s;
  const KeySampler sampler(spec);
  double worst = 0;
  for (int64_t i = 0; i < kKeys; ++i) {
    worst = std::max(
        worst, std::abs(sampler.probability(static_cast<uint64_t>(i)) - p[static_cast<size_t>(i)]));
  }
  EXPECT_LT(worst, 1e-12) << "KeySampler's Zipf is not p_k proportional to 1/(k+1)^s";

  const double t_c = characteristic_time(p, static_cast<double>(k.capacity));
  const double theory = che_hit_ratio(p, t_c);
  EXPECT_NEAR(occupancy(p, t_c), static_cast<double>(k.capacity), 1e-6);
  EXPECT_GE(static_cast<double>(kWarmupBatches * kBatchRequests), 85 * t_c)
      << "the warm-up is too short for a cold cache to reach its steady state";

  char yaml[1024];
  std::snprintf(yaml, sizeof yaml, R"(
name: che
seed: %llu
duration: 1s
components:
  users:
    kind: source
    arrivals: {poisson: %.17g/s}
    keys: {zipf: {keys: %lld, s: %.17g}}
    target: cache
  cache:
    kind: cache
    capacity: %lld
    eviction: lru
    hit_latency: 0s
    miss_latency: 0s
    backing: store
  store:
    kind: sink
)",
                static_cast<unsigned long long>(k.seed), kRate, static_cast<long long>(kKeys), k.s,
                static_cast<long long>(k.capacity));
  Scenario scenario = test::load_text(yaml);
  const Time batch = Time::from_seconds(static_cast<double>(kBatchRequests) / kRate);
  scenario.warmup = batch * kWarmupBatches;
  scenario.window = batch;
  scenario.duration = batch * (kWarmupBatches + kBatches);
  Simulation sim(scenario);
  const StationMetrics& m = sim.find("cache")->metrics();

  std::vector<double> ratios;
  uint64_t hits0 = 0, misses0 = 0;
  for (int b = 0; b < kBatches; ++b) {
    sim.run_until(batch * (kWarmupBatches + b + 1));
    // Counters start from zero at the end of the warm-up.
    const uint64_t hits = m.counter(Counter::cache_hits), misses = m.counter(Counter::cache_misses);
    const double n = static_cast<double>(hits - hits0 + misses - misses0);
    ratios.push_back(static_cast<double>(hits - hits0) / n);
    hits0 = hits;
    misses0 = misses;
  }
  ASSERT_EQ(sim.state(), Lifecycle::finished);
  EXPECT_TRUE(sim.ledger().balanced());
  const double total = static_cast<double>(hits0 + misses0);
  const double measured = static_cast<double>(hits0) / total;
  const double se = standard_error(ratios);
  std::printf(
      "  LRU s=%.1f C=%-5lld T_C %7.1f requests (warm-up %5.0f T_C)  Che %.5f  measured %.5f +- "
      "%.2g (SE, %.3g requests)  diff %+.5f  z %+5.2f  lag1 %+.2f\n",
      k.s, static_cast<long long>(k.capacity), t_c,
      static_cast<double>(kWarmupBatches * kBatchRequests) / t_c, theory, measured, se, total,
      measured - theory, (measured - theory) / se, lag1(ratios));
  std::fflush(stdout);

  EXPECT_LE(std::abs(measured - theory), kIssueTolerance);
  EXPECT_LE(std::abs(measured - theory), kZ * se + kCheError)
      << "measured " << measured << ", Che " << theory << ", SE " << se;
  EXPECT_LE(kZ * se, kHitRatioResolution)
      << "the run is too short for its noise to be well below the 0.01 tolerance; lengthen it";
}

INSTANTIATE_TEST_SUITE_P(ZipfOverTenThousandKeys, CheLru,
                         ::testing::Values(CheCase{0.8, 100, 201}, CheCase{0.8, 1000, 202},
                                           CheCase{1.0, 100, 203}, CheCase{1.0, 1000, 204}),
                         [](const auto& info) {
                           char name[32];
                           std::snprintf(name, sizeof name, "s%d_C%lld",
                                         static_cast<int>(info.param.s * 10),
                                         static_cast<long long>(info.param.capacity));
                           return std::string(name);
                         });

}  // namespace
}  // namespace dsim::analytic
