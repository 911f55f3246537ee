// Each distribution's sample mean (and where it defines one, a quantile) against its closed form.
// Tolerance: 5 standard errors of the sample mean (sigma / sqrt(n), sigma known analytically or
// from the sample) — a false failure about once in 1.7 million for a correct sampler, while a
// parameterisation bug (a rate used as a mean, a variance as a stddev) is off by far more.
#include "core/distribution.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace dsim {
namespace {

constexpr int kN = 200000;

struct Moments {
  double mean = 0, stddev = 0;
  std::vector<double> sorted;
};

Moments sample(const Distribution& d, uint64_t seed) {
  Rng r(seed);
  Moments m;
  m.sorted.reserve(kN);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < kN; ++i) {
    const double x = d.sample_seconds(r);
    sum += x;
    sum2 += x * x;
    m.sorted.push_back(x);
  }
  m.mean = sum / kN;
  m.stddev = std::sqrt(std::max(0.0, sum2 / kN - m.mean * m.mean));
  std::sort(m.sorted.begin(), m.sorted.end());
  return m;
}

double quantile(const Moments& m, double q) {
  return m.sorted[static_cast<size_t>(q * (m.sorted.size() - 1))];
}

void expect_mean(const Distribution& d, double theory, uint64_t seed = 1) {
  const Moments m = sample(d, seed);
  const double se = m.stddev / std::sqrt(static_cast<double>(kN));
  EXPECT_NEAR(m.mean, theory, 5 * se + 1e-12) << d.describe();
  EXPECT_NEAR(d.mean(), theory, 1e-9 * std::max(1.0, theory)) << d.describe();
}

}  // namespace

TEST(Distribution, ConstantAlwaysReturnsItsValue) {
  Rng r(1);
  const Distribution d = Distribution::constant(0.02);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d.sample(r), Time::ms(20));
}

TEST(Distribution, UniformHasTheMidpointAsMean) {
  expect_mean(Distribution::uniform(0.010, 0.030), 0.020);
}

TEST(Distribution, ExponentialMeanAndMedian) {
  const Distribution d = Distribution::exponential(0.5);
  expect_mean(d, 0.5);
  const Moments m = sample(d, 2);
  // Median of Exp(mean 0.5) = 0.5 ln 2; sample-median SE = 1/(2 f(med) sqrt(n)).
  const double median = 0.5 * std::log(2.0);
  const double density = std::exp(-median / 0.5) / 0.5;
  EXPECT_NEAR(quantile(m, 0.5), median, 5 / (2 * density * std::sqrt(double(kN))));
}

TEST(Distribution, NormalIsTruncatedAtZeroByRedrawingNotClamping) {
  // mean 10ms, sd 10ms: 16 % of raw draws are negative. Clamping would pile them at zero; the
  // truncated normal has no atom there and a mean of mu + sigma phi(a)/(1 - Phi(a)).
  const Distribution d = Distribution::normal(0.010, 0.010);
  const Moments m = sample(d, 3);
  EXPECT_GE(m.sorted.front(), 0.0);
  const auto zeros = std::count(m.sorted.begin(), m.sorted.end(), 0.0);
  EXPECT_LT(zeros, 5);
  expect_mean(d, 0.010 + 0.010 * (std::exp(-0.5) / std::sqrt(2 * M_PI)) /
                             (0.5 * std::erfc(-1 / std::sqrt(2.0))));
}

TEST(Distribution, LognormalByMeanAndStddev) {
  const Distribution d = Distribution::lognormal_mean_stddev(0.050, 0.020);
  expect_mean(d, 0.050);
  const Moments m = sample(d, 4);
  EXPECT_NEAR(m.stddev, 0.020, 0.020 * 0.05);
}

TEST(Distribution, LognormalByMedianAndP99HitsBothQuantiles) {
  const Distribution d = Distribution::lognormal_median_p99(0.040, 0.300);
  const Moments m = sample(d, 5);
  // Quantile standard errors are a few tenths of a percent at n = 200k; allow 3 %.
  EXPECT_NEAR(quantile(m, 0.50), 0.040, 0.040 * 0.03);
  EXPECT_NEAR(quantile(m, 0.99), 0.300, 0.300 * 0.03);
}

TEST(Distribution, ParetoMeanForShapeAboveTwo) {
  // shape 3: finite variance, so the 5-SE bound applies.
  expect_mean(Distribution::pareto(0.010, 3.0), 3.0 * 0.010 / 2.0);
  EXPECT_TRUE(std::isinf(Distribution::pareto(0.010, 1.0).mean()));
}

TEST(Distribution, WeibullMeanUsesTheGammaFunction) {
  expect_mean(Distribution::weibull(0.020, 1.5), 0.020 * std::tgamma(1 + 1 / 1.5));
}

TEST(Distribution, EmpiricalDrawsValuesInProportionToWeights) {
  const Distribution d = Distribution::empirical({0.010, 0.050}, {3, 1});
  const Moments m = sample(d, 6);
  const auto small = std::count(m.sorted.begin(), m.sorted.end(), 0.010);
  // Binomial(n, 3/4): 5 standard deviations.
  EXPECT_NEAR(static_cast<double>(small) / kN, 0.75, 5 * std::sqrt(0.75 * 0.25 / kN));
  EXPECT_NEAR(d.mean(), 0.020, 1e-12);
}

TEST(Distribution, MixtureOfNinetyFiveAndFivePercent) {
  const Distribution d = Distribution::mixture(
      {Distribution::constant(0.020), Distribution::constant(0.800)}, {0.95, 0.05});
  const Moments m = sample(d, 7);
  const auto slow = std::count(m.sorted.begin(), m.sorted.end(), 0.800);
  EXPECT_NEAR(static_cast<double>(slow) / kN, 0.05, 5 * std::sqrt(0.05 * 0.95 / kN));
  expect_mean(d, 0.95 * 0.020 + 0.05 * 0.800);
}

TEST(Distribution, ScaleMultipliesEveryDraw) {
  for (Distribution d : {Distribution::exponential(1.0), Distribution::uniform(1, 2),
                         Distribution::lognormal_mean_stddev(1, 0.5), Distribution::weibull(1, 2),
                         Distribution::empirical({1, 2}, {1, 1})}) {
    const double before = d.mean();
    Distribution scaled = d;
    scaled.scale(3);
    EXPECT_NEAR(scaled.mean(), 3 * before, 1e-9) << d.describe();
    Rng a(9), b(9);
    EXPECT_NEAR(scaled.sample_seconds(a), 3 * d.sample_seconds(b), 1e-9) << d.describe();
  }
}

TEST(Distribution, SamplesAreNeverNegativeTimes) {
  Rng r(10);
  const Distribution d = Distribution::normal(0, 1);
  for (int i = 0; i < 10000; ++i) ASSERT_GE(d.sample(r), Time::zero());
}

}  // namespace dsim
