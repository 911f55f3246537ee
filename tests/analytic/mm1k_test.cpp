// M/M/1/K: one exponential server and room for K requests in all (K - 1 waiting plus 1 in
// service, i.e. queue_capacity = K - 1). The stationary distribution is truncated geometric,
// p_n = (1 - rho) rho^n / (1 - rho^(K+1)) for n = 0..K, and by PASTA an arrival is lost with
// probability P_K. Checked below a light load and in overload (rho > 1 is stable here).
#include <cmath>
#include <cstdio>
#include <string>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

struct Mm1kCase {
  double rho;
  int k;
  int64_t batch_seconds;
  uint64_t seed;
};

void PrintTo(const Mm1kCase& c, std::ostream* os) {
  *os << "rho " << c.rho << ", K " << c.k << ", batches of " << c.batch_seconds << "s, seed "
      << c.seed;
}

class Mm1k : public ::testing::TestWithParam<Mm1kCase> {};

constexpr const char* kMm1k = R"(
name: mm1k
duration: 1h
components:
  arrivals:
    kind: source
    arrivals: {poisson: 0.9/s}
    target: server
  server:
    kind: service
    service_time: {exponential: 1s}
    queue_capacity: 9
    next: done
  done:
    kind: sink
)";

TEST_P(Mm1k, LossProbabilityAndOccupancy) {
  const Mm1kCase c = GetParam();
  const double lambda = c.rho, rho = c.rho;  // mu = 1/s
  const double pk = (1 - rho) * std::pow(rho, c.k) / (1 - std::pow(rho, c.k + 1));
  // Mean number in system of the truncated geometric distribution.
  const double l =
      rho / (1 - rho) - (c.k + 1) * std::pow(rho, c.k + 1) / (1 - std::pow(rho, c.k + 1));
  char rate[64], label[32];
  std::snprintf(rate, sizeof rate, "{poisson: %.17g/s}", lambda);
  std::snprintf(label, sizeof label, "M/M/1/%d rho=%.2f", c.k, rho);
  const std::string tag = label;
  const Scenario s =
      test::load_text(kMm1k, {{"seed", std::to_string(c.seed)},
                              {"components.arrivals.arrivals", rate},
                              {"components.server.queue_capacity", std::to_string(c.k - 1)}});
  const BatchRun run(tag, s, Time::s(c.batch_seconds));
  expect_station(run, tag + " P_K (loss)", "server", &StationBatch::queue_full_fraction, pk);
  expect_station(run, tag + " L", "server", &StationBatch::in_system_mean, l);
  expect_station(run, tag + " throughput", "server", &StationBatch::throughput, lambda * (1 - pk));
  // Little on the admitted requests: W = L / (lambda (1 - P_K)).
  expect_station(run, tag + " W", "server", &StationBatch::sojourn_mean, l / (lambda * (1 - pk)));
}

INSTANTIATE_TEST_SUITE_P(Loads, Mm1k,
                         ::testing::Values(Mm1kCase{0.9, 10, 250'000, 401},
                                           Mm1kCase{1.5, 5, 20'000, 402}),
                         [](const auto& info) {
                           return "rho" + std::to_string(static_cast<int>(info.param.rho * 10)) +
                                  "_K" + std::to_string(info.param.k);
                         });

}  // namespace
}  // namespace dsim::analytic
