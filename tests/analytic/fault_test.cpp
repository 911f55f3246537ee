// Faults against queueing theory: an M/M/1 server under a `slow` fault of factor k, or a
// `cpu_stress` of fraction f, for the whole run, is an M/M/1 server with service rate mu / k, or
// mu (1 - f), and must match the textbook figures at the new utilisation (see mm1_test.cpp for
// the formulas and the run lengths: rho = 0.5 needs batches of ~3e5 s for a 2.5 % resolution).
//
// Base service mean 0.5 s (mu = 2/s), lambda = 0.5/s: rho = 0.25 without the fault. Slowed by
// k = 2, or stressed by f = 0.5, mu' = 1/s and rho' = 0.5: W = 1/(mu' - lambda) = 2 s,
// Wq = rho'/(mu' - lambda) = 1 s, L = rho'/(1 - rho') = 1.
#include <string>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

std::string scenario(const std::string& fault) {
  return R"(
name: mm1-fault
duration: 1h
components:
  arrivals: {kind: source, arrivals: {poisson: 0.5/s}, target: server}
  server: {kind: service, service_time: {exponential: 500ms}, next: done}
  done: {kind: sink}
faults:
  f: )" + fault +
         "\n";
}

void expect_mm1(const std::string& tag, const std::string& fault, uint64_t seed) {
  const Scenario s = test::load_text(scenario(fault), {{"seed", std::to_string(seed)}});
  const BatchRun run(tag, s, Time::s(300'000));
  const double lambda = 0.5, mu = 1.0, rho = lambda / mu;
  expect_station(run, tag + " W", "server", &StationBatch::sojourn_mean, 1 / (mu - lambda));
  expect_station(run, tag + " Wq", "server", &StationBatch::wait_mean, rho / (mu - lambda));
  expect_station(run, tag + " L", "server", &StationBatch::in_system_mean, rho / (1 - rho));
  expect_station(run, tag + " utilisation", "server", &StationBatch::utilization, rho);
}

TEST(FaultAnalytic, SlowByKMatchesMm1AtTheNewUtilisation) {
  expect_mm1("M/M/1 slow x2", "{kind: slow, targets: [server], factor: 2}", 201);
}

TEST(FaultAnalytic, CpuStressFMatchesMm1WithMuTimesOneMinusF) {
  expect_mm1("M/M/1 cpu_stress 0.5", "{kind: cpu_stress, targets: [server], fraction: 0.5}", 202);
}

}  // namespace
}  // namespace dsim::analytic
