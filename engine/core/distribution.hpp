// Random variates for durations (service times, think times, on/off periods, latencies).
//
// Parameters are held in seconds; sample() returns a non-negative Time rounded to the nanosecond.
// Every kind has a closed-form mean so that front ends can show offered load (rho = lambda * E[S])
// and analytic predictions next to simulated numbers.
#pragma once

#include <string>
#include <vector>

#include "core/random.hpp"
#include "core/time.hpp"

namespace dsim {

class Distribution {
 public:
  enum class Kind {
    constant,
    uniform,
    exponential,
    normal,
    lognormal,
    pareto,
    weibull,
    empirical,
    mixture
  };

  // Every factory takes seconds. Preconditions (finite, positive where needed) are the loader's
  // job to check and report; here they are asserted.
  static Distribution constant(double value);
  static Distribution uniform(double min, double max);
  static Distribution exponential(double mean);
  // Normal truncated at zero (negative draws are redrawn, not clamped): needs mean >= 0.
  static Distribution normal(double mean, double stddev);
  static Distribution lognormal_mean_stddev(double mean, double stddev);
  static Distribution lognormal_median_p99(double median, double p99);
  // Pareto type I: P(X > x) = (scale / x)^shape for x >= scale.
  static Distribution pareto(double scale, double shape);
  // P(X > x) = exp(-(x / scale)^shape).
  static Distribution weibull(double scale, double shape);
  // Discrete values with (not necessarily normalised) positive weights.
  static Distribution empirical(std::vector<double> values, std::vector<double> weights);
  static Distribution mixture(std::vector<Distribution> parts, std::vector<double> weights);

  Distribution() = default;  // constant zero

  Time sample(Rng& rng) const {
    // Exponential draws (Poisson arrivals, most service times) without the call and the jump
    // table of sample_seconds: the same draw.
    if (kind_ == Kind::exponential) return Time::from_seconds(a_ * rng.exponential());
    return Time::from_seconds(sample_seconds(rng));
  }
  double sample_seconds(Rng& rng) const;

  Kind kind() const { return kind_; }
  // Analytic mean in seconds (infinity for a Pareto with shape <= 1).
  double mean() const;
  // Multiplies every draw by k > 0 (a live "make it slower" knob keeps the shape).
  void scale(double k);
  // A one-line human description, e.g. "exponential(mean=1s)".
  std::string describe() const;

 private:
  Kind kind_ = Kind::constant;
  double a_ = 0, b_ = 0;             // kind-specific, see distribution.cpp
  double lognormal_mean_ = 0;        // the distribution's mean, cached for mean()
  std::vector<double> values_;       // empirical
  std::vector<Distribution> parts_;  // mixture
  std::vector<double> cumulative_;   // empirical and mixture: normalised cumulative weights
};

const char* to_string(Distribution::Kind kind);

}  // namespace dsim
