// M/M/c (Erlang C) and M/D/1 (Pollaczek-Khinchine), run from the bundled teaching scenarios
// scenarios/mmc.yaml and scenarios/md1.yaml with a longer duration, so that the numbers in their
// header comments are the ones proved here.
#include <string>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

// M/M/2 with lambda = 1.5/s, mu = 1/s: a = 1.5 erlangs, rho = 0.75.
//   P0 = [1 + a + a^2 / (2 (1 - rho))]^-1 = 1/7, C(2, a) = a^2 / (2 (1 - rho)) * P0 = 9/14,
//   Wq = C / (c mu - lambda) = 9/7, W = Wq + 1/mu = 16/7, L = lambda W = 24/7.
TEST(ErlangC, TwoServersAtThreeQuartersLoad) {
  const double lambda = 1.5, mu = 1.0, c = 2;
  const double a = lambda / mu, rho = a / c;
  const double p0 = 1 / (1 + a + a * a / (2 * (1 - rho)));
  const double erlang_c = a * a / (2 * (1 - rho)) * p0;
  ASSERT_NEAR(erlang_c, 9.0 / 14, 1e-12);  // the closed form quoted in the issue
  const double wq = erlang_c / (c * mu - lambda);
  ASSERT_NEAR(wq, 9.0 / 7, 1e-12);

  const BatchRun run("M/M/2", load_bundled("mmc.yaml", {{"seed", "201"}}), Time::s(150'000));
  expect_station(run, "M/M/2 P(wait>0) = C(2, 1.5)", "server", &StationBatch::waited_fraction,
                 erlang_c);
  expect_station(run, "M/M/2 Wq", "server", &StationBatch::wait_mean, wq);
  expect_station(run, "M/M/2 W", "server", &StationBatch::sojourn_mean, wq + 1 / mu);
  expect_station(run, "M/M/2 L", "server", &StationBatch::in_system_mean, lambda * (wq + 1 / mu));
  expect_station(run, "M/M/2 utilisation", "server", &StationBatch::utilization, rho);
}

// M/D/1 with lambda = 0.8/s and a constant 1s service: rho = 0.8.
//   Pollaczek-Khinchine: Wq = lambda E[S^2] / (2 (1 - rho)) = rho / (2 mu (1 - rho)) = 2s,
//   W = 3s, L = 2.4, P(wait > 0) = rho.
TEST(PollaczekKhinchine, ConstantServiceAtEightyPercent) {
  const double lambda = 0.8, mu = 1.0, rho = lambda / mu;
  const double wq = rho / (2 * mu * (1 - rho));
  const BatchRun run("M/D/1", load_bundled("md1.yaml", {{"seed", "301"}}), Time::s(150'000));
  expect_station(run, "M/D/1 Wq", "server", &StationBatch::wait_mean, wq);
  expect_station(run, "M/D/1 W", "server", &StationBatch::sojourn_mean, wq + 1 / mu);
  expect_station(run, "M/D/1 L", "server", &StationBatch::in_system_mean, lambda * (wq + 1 / mu));
  expect_station(run, "M/D/1 P(wait>0)", "server", &StationBatch::waited_fraction, rho);
}

}  // namespace
}  // namespace dsim::analytic
