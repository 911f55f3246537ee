// M/M/1 against the textbook formulas (Kleinrock vol. 1, ch. 3) at three loads.
//
// mu = 1/s; lambda = rho. Mean time in system W = 1/(mu - lambda), mean wait Wq = rho/(mu -
// lambda), P(wait > 0) = rho (an arrival waits iff it finds the server busy; PASTA), mean number in
// system L = rho/(1 - rho), and the sojourn time is exponential with rate mu - lambda, so its p99
// is ln(100)/(mu - lambda).
//
// Run lengths follow from the asymptotic variance of the M/M/1 time-average queue length,
// 2 rho (1 + rho) / (mu (1 - rho)^4) per unit time (Whitt, "Planning queueing simulations", 1989):
// for a relative SE of ~0.5 % (half-width ~2.3 % at z = 4.5) rho = 0.5 needs ~1e6 s, rho = 0.8
// ~4.5e6 s and rho = 0.9 ~1.7e7 s of simulated time. The resolution assertion in
// expect_near_theory() keeps this honest.
#include <cmath>
#include <cstdio>
#include <string>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

struct Mm1Case {
  double rho;
  int64_t batch_seconds;
  uint64_t seed;
};

void PrintTo(const Mm1Case& c, std::ostream* os) {
  *os << "rho " << c.rho << ", batches of " << c.batch_seconds << "s, seed " << c.seed;
}

class Mm1 : public ::testing::TestWithParam<Mm1Case> {};

constexpr const char* kMm1 = R"(
name: mm1
duration: 1h
components:
  arrivals:
    kind: source
    arrivals: {poisson: 0.5/s}
    target: server
  server:
    kind: service
    service_time: {exponential: 1s}
    next: done
  done:
    kind: sink
)";

TEST_P(Mm1, MatchesTheory) {
  const Mm1Case k = GetParam();
  const double mu = 1.0, lambda = k.rho;
  char rate[64], label[32];
  std::snprintf(rate, sizeof rate, "{poisson: %.17g/s}", lambda);
  std::snprintf(label, sizeof label, "M/M/1 rho=%.1f", k.rho);
  const std::string tag = label;
  const Scenario s = test::load_text(
      kMm1, {{"seed", std::to_string(k.seed)}, {"components.arrivals.arrivals", rate}});
  const BatchRun run(tag, s, Time::s(k.batch_seconds));
  expect_station(run, tag + " W", "server", &StationBatch::sojourn_mean, 1 / (mu - lambda));
  expect_station(run, tag + " Wq", "server", &StationBatch::wait_mean, k.rho / (mu - lambda));
  expect_station(run, tag + " P(wait>0)", "server", &StationBatch::waited_fraction, k.rho);
  expect_station(run, tag + " L", "server", &StationBatch::in_system_mean, k.rho / (1 - k.rho));
  expect_station(run, tag + " utilisation", "server", &StationBatch::utilization, k.rho);
  expect_station(run, tag + " throughput", "server", &StationBatch::throughput, lambda);
  expect_station(run, tag + " p99 sojourn", "server", &StationBatch::p99,
                 std::log(100.0) / (mu - lambda),
                 kHistogramRelativeError * std::log(100.0) / (mu - lambda));
}

INSTANTIATE_TEST_SUITE_P(Loads, Mm1,
                         ::testing::Values(Mm1Case{0.5, 300'000, 101}, Mm1Case{0.8, 700'000, 102},
                                           Mm1Case{0.9, 5'000'000, 103}),
                         [](const auto& info) {
                           return "rho" + std::to_string(static_cast<int>(info.param.rho * 10));
                         });

}  // namespace
}  // namespace dsim::analytic
