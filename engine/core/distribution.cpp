#include "core/distribution.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

#include "core/format.hpp"

namespace dsim {
namespace {
// z such that Phi(z) = 0.99.
constexpr double kZ99 = 2.3263478740408408;

std::vector<double> normalised_cumulative(const std::vector<double>& weights) {
  std::vector<double> cum(weights.size());
  const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
  double running = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    running += weights[i];
    cum[i] = running / total;
  }
  if (!cum.empty()) cum.back() = 1.0;  // guard against rounding leaving the last below 1
  return cum;
}

size_t pick(const std::vector<double>& cumulative, double u) {
  auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
  return std::min<size_t>(static_cast<size_t>(it - cumulative.begin()), cumulative.size() - 1);
}

double standard_normal(Rng& rng) {
  // Box-Muller; the second variate is discarded so that sampling stays stateless.
  const double u1 = rng.uniform01_open_low();
  const double u2 = rng.uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}
}  // namespace

// Parameter layout (a_, b_) per kind:
//   constant: value | uniform: min, max | exponential: mean | normal: mean, stddev
//   lognormal: mu, sigma of the underlying normal | pareto: scale, shape | weibull: scale, shape
Distribution Distribution::constant(double value) {
  Distribution d;
  d.kind_ = Kind::constant;
  d.a_ = value;
  return d;
}
Distribution Distribution::uniform(double min, double max) {
  assert(min <= max);
  Distribution d;
  d.kind_ = Kind::uniform;
  d.a_ = min;
  d.b_ = max;
  return d;
}
Distribution Distribution::exponential(double mean) {
  Distribution d;
  d.kind_ = Kind::exponential;
  d.a_ = mean;
  return d;
}
Distribution Distribution::normal(double mean, double stddev) {
  assert(mean >= 0 && stddev >= 0);
  Distribution d;
  d.kind_ = Kind::normal;
  d.a_ = mean;
  d.b_ = stddev;
  return d;
}
Distribution Distribution::lognormal_mean_stddev(double mean, double stddev) {
  assert(mean > 0 && stddev >= 0);
  Distribution d;
  d.kind_ = Kind::lognormal;
  const double sigma2 = std::log1p((stddev * stddev) / (mean * mean));
  d.a_ = std::log(mean) - sigma2 / 2;
  d.b_ = std::sqrt(sigma2);
  d.lognormal_mean_ = mean;
  return d;
}
Distribution Distribution::lognormal_median_p99(double median, double p99) {
  assert(median > 0 && p99 >= median);
  Distribution d;
  d.kind_ = Kind::lognormal;
  d.a_ = std::log(median);
  d.b_ = std::log(p99 / median) / kZ99;
  d.lognormal_mean_ = std::exp(d.a_ + d.b_ * d.b_ / 2);
  return d;
}
Distribution Distribution::pareto(double scale, double shape) {
  assert(scale > 0 && shape > 0);
  Distribution d;
  d.kind_ = Kind::pareto;
  d.a_ = scale;
  d.b_ = shape;
  return d;
}
Distribution Distribution::weibull(double scale, double shape) {
  assert(scale > 0 && shape > 0);
  Distribution d;
  d.kind_ = Kind::weibull;
  d.a_ = scale;
  d.b_ = shape;
  return d;
}
Distribution Distribution::empirical(std::vector<double> values, std::vector<double> weights) {
  assert(!values.empty() && values.size() == weights.size());
  Distribution d;
  d.kind_ = Kind::empirical;
  d.values_ = std::move(values);
  d.cumulative_ = normalised_cumulative(weights);
  return d;
}
Distribution Distribution::mixture(std::vector<Distribution> parts, std::vector<double> weights) {
  assert(!parts.empty() && parts.size() == weights.size());
  Distribution d;
  d.kind_ = Kind::mixture;
  d.parts_ = std::move(parts);
  d.cumulative_ = normalised_cumulative(weights);
  return d;
}

double Distribution::sample_seconds(Rng& rng) const {
  switch (kind_) {
    case Kind::constant:
      return a_;
    case Kind::uniform:
      return a_ + (b_ - a_) * rng.uniform01();
    case Kind::exponential:
      return a_ * rng.exponential();
    case Kind::normal: {
      if (b_ == 0) return a_;
      // Truncation by rejection; with mean >= 0 at least half the draws are accepted.
      for (;;) {
        const double x = a_ + b_ * standard_normal(rng);
        if (x >= 0) return x;
      }
    }
    case Kind::lognormal:
      return std::exp(a_ + b_ * standard_normal(rng));
    case Kind::pareto:
      return a_ / std::pow(rng.uniform01_open_low(), 1.0 / b_);
    case Kind::weibull:
      return a_ * std::pow(-std::log(rng.uniform01_open_low()), 1.0 / b_);
    case Kind::empirical:
      return values_[pick(cumulative_, rng.uniform01())];
    case Kind::mixture:
      return parts_[pick(cumulative_, rng.uniform01())].sample_seconds(rng);
  }
  return 0;
}

double Distribution::mean() const {
  switch (kind_) {
    case Kind::constant:
    case Kind::exponential:
      return a_;
    case Kind::uniform:
      return (a_ + b_) / 2;
    case Kind::normal: {
      if (b_ == 0) return a_;
      // Mean of a normal truncated to [0, inf): mu + sigma * phi(alpha) / (1 - Phi(alpha)).
      const double alpha = -a_ / b_;
      const double phi = std::exp(-alpha * alpha / 2) / std::sqrt(2 * M_PI);
      const double tail = 0.5 * std::erfc(alpha / std::sqrt(2.0));
      return a_ + b_ * phi / tail;
    }
    case Kind::lognormal:
      return lognormal_mean_;
    case Kind::pareto:
      return b_ <= 1 ? INFINITY : b_ * a_ / (b_ - 1);
    case Kind::weibull:
      return a_ * std::tgamma(1 + 1 / b_);
    case Kind::empirical:
    case Kind::mixture: {
      double m = 0, prev = 0;
      for (size_t i = 0; i < cumulative_.size(); ++i) {
        const double w = cumulative_[i] - prev;
        prev = cumulative_[i];
        m += w * (kind_ == Kind::empirical ? values_[i] : parts_[i].mean());
      }
      return m;
    }
  }
  return 0;
}

void Distribution::scale(double k) {
  assert(k > 0);
  switch (kind_) {
    case Kind::constant:
    case Kind::exponential:
      a_ *= k;
      break;
    case Kind::uniform:
    case Kind::normal:
      a_ *= k;
      b_ *= k;
      break;
    case Kind::lognormal:
      a_ += std::log(k);
      lognormal_mean_ *= k;
      break;
    case Kind::pareto:
    case Kind::weibull:
      a_ *= k;
      break;
    case Kind::empirical:
      for (double& v : values_) v *= k;
      break;
    case Kind::mixture:
      for (Distribution& p : parts_) p.scale(k);
      break;
  }
}

std::string Distribution::describe() const {
  switch (kind_) {
    case Kind::constant:
      return "constant(" + format_seconds(a_) + ")";
    case Kind::uniform:
      return "uniform(" + format_seconds(a_) + ".." + format_seconds(b_) + ")";
    case Kind::exponential:
      return "exponential(mean=" + format_seconds(a_) + ")";
    case Kind::normal:
      return "normal(mean=" + format_seconds(a_) + ", stddev=" + format_seconds(b_) + ")";
    case Kind::lognormal:
      return "lognormal(median=" + format_seconds(std::exp(a_)) +
             ", mean=" + format_seconds(lognormal_mean_) + ")";
    case Kind::pareto:
      return "pareto(scale=" + format_seconds(a_) + ", shape=" + format_number(b_) + ")";
    case Kind::weibull:
      return "weibull(scale=" + format_seconds(a_) + ", shape=" + format_number(b_) + ")";
    case Kind::empirical:
      return "empirical(" + std::to_string(values_.size()) +
             " values, mean=" + format_seconds(mean()) + ")";
    case Kind::mixture:
      return "mixture(" + std::to_string(parts_.size()) + " parts, mean=" + format_seconds(mean()) +
             ")";
  }
  return "?";
}

const char* to_string(Distribution::Kind kind) {
  switch (kind) {
    case Distribution::Kind::constant:
      return "constant";
    case Distribution::Kind::uniform:
      return "uniform";
    case Distribution::Kind::exponential:
      return "exponential";
    case Distribution::Kind::normal:
      return "normal";
    case Distribution::Kind::lognormal:
      return "lognormal";
    case Distribution::Kind::pareto:
      return "pareto";
    case Distribution::Kind::weibull:
      return "weibull";
    case Distribution::Kind::empirical:
      return "empirical";
    case Distribution::Kind::mixture:
      return "mixture";
  }
  return "?";
}

}  // namespace dsim
