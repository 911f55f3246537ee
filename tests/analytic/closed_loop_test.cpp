// The machine-repairman model: N users, each thinking for an exponential time with mean Z, then
// sending one request to a single exponential server (mean S) and waiting for the answer. It is a
// closed product-form network, so exact mean value analysis (Reiser and Lavenberg 1980) gives its
// throughput and response time:
//   R(n) = S (1 + Q(n-1)),  X(n) = n / (Z + R(n)),  Q(n) = X(n) R(n),  Q(0) = 0.
#include <string>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

struct Mva {
  double throughput;
  double response;
};

Mva exact_mva(int users, double think, double service) {
  double q = 0, x = 0, r = 0;
  for (int n = 1; n <= users; ++n) {
    r = service * (1 + q);
    x = n / (think + r);
    q = x * r;
  }
  return {x, r};
}

TEST(MachineRepairman, MatchesExactMva) {
  const int users = 10;                     // as in the scenario below
  const double think = 8.0, service = 1.0;  // N / (Z + S) ~ 1.1: the server is the bottleneck
  const Mva mva = exact_mva(users, think, service);
  const char* yaml = R"(
name: repairman
seed: 701
duration: 1h
components:
  users:
    kind: source
    arrivals: {closed_loop: {users: 10, think_time: {exponential: 8s}}}
    target: server
  server:
    kind: service
    service_time: {exponential: 1s}
    next: done
  done:
    kind: sink
)";
  const BatchRun run("machine repairman", test::load_text(yaml), Time::s(50'000));
  expect_station(run, "repairman throughput X(N)", "server", &StationBatch::throughput,
                 mva.throughput);
  expect_station(run, "repairman response time R(N)", "server", &StationBatch::sojourn_mean,
                 mva.response);
  expect_station(run, "repairman utilisation = X S", "server", &StationBatch::utilization,
                 mva.throughput * service);
  expect_station(run, "repairman L at server = X R", "server", &StationBatch::in_system_mean,
                 mva.throughput * mva.response);
}

}  // namespace
}  // namespace dsim::analytic
