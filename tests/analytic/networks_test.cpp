// Networks of exponential stations, run from the bundled teaching scenarios scenarios/tandem.yaml
// and scenarios/jackson.yaml with a longer duration.
//
// Tandem: by Burke's theorem the departures of a stable M/M/1 queue form a Poisson process, so
// every station of a series of M/M/1 queues is itself M/M/1 at the common rate lambda:
// W_i = 1/(mu_i - lambda), L_i = rho_i/(1 - rho_i), and the end-to-end mean is the sum of the W_i.
//
// Jackson: with Poisson external arrivals gamma, exponential single servers and Markov routing P,
// the traffic equations lambda = gamma + P^T lambda give each station's arrival rate and the
// stationary distribution is the product of M/M/1 marginals (Jackson 1963), so each station has
// L_i = rho_i/(1 - rho_i) even though its arrival stream (with feedback) is not Poisson.
#include <Eigen/Dense>
#include <string>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

TEST(Tandem, TwoMm1StationsInSeries) {
  const double lambda = 0.8, mu1 = 1.0, mu2 = 1.0 / 0.8;
  const BatchRun run("tandem", load_bundled("tandem.yaml", {{"seed", "501"}}), Time::s(200'000));
  expect_station(run, "tandem first W", "first", &StationBatch::sojourn_mean, 1 / (mu1 - lambda));
  expect_station(run, "tandem second W", "second", &StationBatch::sojourn_mean, 1 / (mu2 - lambda));
  expect_station(run, "tandem first L", "first", &StationBatch::in_system_mean,
                 (lambda / mu1) / (1 - lambda / mu1));
  expect_station(run, "tandem second L", "second", &StationBatch::in_system_mean,
                 (lambda / mu2) / (1 - lambda / mu2));
  const Estimate e2e = run.workload("arrivals", &WorkloadBatch::latency_mean);
  expect_near_theory("tandem end-to-end W", 1 / (mu1 - lambda) + 1 / (mu2 - lambda), e2e,
                     run.last_lag1());
}

TEST(Jackson, ProbabilisticRoutingWithFeedback) {
  // Stations a, b, c in that order; the routing matrix and external rates of jackson.yaml.
  const char* names[] = {"a", "b", "c"};
  Eigen::Vector3d gamma(1.0, 0.5, 0.0);
  Eigen::Vector3d mu(2.0, 2.0, 1.0);  // 1 / mean service time
  Eigen::Matrix3d p;                  // p(i, j): probability that a request leaving i goes to j
  p << 0.0, 0.6, 0.4,                 // a -> b 60%, c 40%
      0.25, 0.0, 0.0,                 // b -> a 25% (75% leave)
      0.1, 0.0, 0.2;                  // c -> a 10%, c 20% (70% leave)
  // lambda = gamma + P^T lambda  <=>  (I - P^T) lambda = gamma.
  const Eigen::Vector3d lambda =
      (Eigen::Matrix3d::Identity() - p.transpose()).colPivHouseholderQr().solve(gamma);
  ASSERT_NEAR(lambda(0), 1.40625, 1e-12);  // the values quoted in jackson.yaml's header
  ASSERT_NEAR(lambda(1), 1.34375, 1e-12);
  ASSERT_NEAR(lambda(2), 0.703125, 1e-12);

  const BatchRun run("Jackson", load_bundled("jackson.yaml", {{"seed", "601"}}), Time::s(120'000));
  double total_l = 0;
  for (int i = 0; i < 3; ++i) {
    const double rho = lambda(i) / mu(i);
    const double l = rho / (1 - rho);
    total_l += l;
    const std::string tag = std::string("Jackson ") + names[i];
    expect_station(run, tag + " throughput = lambda_i", names[i], &StationBatch::throughput,
                   lambda(i));
    expect_station(run, tag + " utilisation", names[i], &StationBatch::utilization, rho);
    expect_station(run, tag + " L = rho/(1-rho)", names[i], &StationBatch::in_system_mean, l);
  }
  // Little's law on the whole network: mean end-to-end time = total L / total external rate.
  const Estimate e2e = run.workload("jobs", &WorkloadBatch::latency_mean);
  expect_near_theory("Jackson end-to-end W", total_l / gamma.sum(), e2e, run.last_lag1());
}

}  // namespace
}  // namespace dsim::analytic
