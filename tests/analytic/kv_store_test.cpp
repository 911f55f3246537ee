// kv_store: one thread serving commands FIFO, each for its operation's time, is an M/G/1 queue
// whose service time is the mixture of the operation times. Checked against Pollaczek-Khinchine.
#include <string>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

// GETs arrive at 0.6/s straight from a source; SETs at 0.2/s through a service with ample workers
// and no work of its own (so they reach the store when they arrive). Merged: Poisson at 0.8/s,
// each command a GET (0.5 s) with probability 3/4 or a SET (1.5 s) with probability 1/4.
//   E[S] = 0.75 s, E[S^2] = 3/4 x 0.25 + 1/4 x 2.25 = 0.75 s^2, rho = 0.8 x 0.75 = 0.6,
//   Wq = lambda E[S^2] / (2 (1 - rho)) = 0.75 s, W = 1.5 s, P(wait > 0) = rho.
TEST(KvStoreMG1, MixedCommandsQueueAsPollaczekKhinchine) {
  const double lambda = 0.8, es = 0.75, es2 = 0.75, rho = lambda * es;
  const double wq = lambda * es2 / (2 * (1 - rho));
  const std::string yaml = R"(
name: kv-mg1
seed: 401
duration: 1s
components:
  readers: {kind: source, arrivals: {poisson: 0.6/s}, target: store}
  writers: {kind: source, arrivals: {poisson: 0.2/s}, target: api}
  api: {kind: service, workers: 1000, handler: [{call: store, op: set}]}
  store: {kind: kv_store, get: 500ms, set: 1500ms, ttl: 10s}
)";
  const BatchRun run("kv_store M/G/1", test::load_text(yaml), Time::s(50'000));
  expect_station(run, "kv_store Wq", "store", &StationBatch::wait_mean, wq);
  expect_station(run, "kv_store W", "store", &StationBatch::sojourn_mean, wq + es);
  expect_station(run, "kv_store P(wait>0)", "store", &StationBatch::waited_fraction, rho);
  expect_station(run, "kv_store utilisation", "store", &StationBatch::utilization, rho);
}

}  // namespace
}  // namespace dsim::analytic
