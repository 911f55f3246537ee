// The database's connection pool against Erlang's loss and delay formulas.
//
// Erlang B. A pool of c connections with no waiting (acquire_timeout: 0), offered Poisson queries
// of a = lambda E[S] erlangs, refuses a query (pool_exhausted) exactly when it finds all c
// connections busy. By PASTA that happens with the time-stationary probability
//   B(c, a) = (a^c / c!) / sum_{k=0..c} a^k / k!,
// computed here by the stable recursion B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)). The issue's
// figure: c = 10, a = 8 gives B = 0.1217. The Erlang loss system is insensitive to the service-time
// distribution beyond its mean (Sevastyanov 1957), so the same B must come out for exponential and
// for constant query times - a check that the pool, not an exponential assumption, produces it.
//
// Erlang C. With waiting allowed (a long acquire_timeout) the same pool is M/M/c: a query waits
// with probability C(c, a) = B / (1 - rho (1 - B)), rho = a / c, and waits Wq = C / (c mu - lambda)
// on average; its time in the database is W = Wq + 1/mu and utilisation (busy connections over
// the pool) is rho.
//
// Tolerances are batch means (see batch_means.hpp: 30 batches after a warm-up batch, kZ = 4.5,
// and a resolution check that the half-width is within 2.5 % of the theory). The batches are cut
// here from the database's own counters (PoolRun), since BatchRun's loss field counts queue_full
// only and its fields have no conditional mean wait.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

double erlang_b(int c, double a) {
  double b = 1;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  return b;
}

const char* kPool = R"(
name: pool
duration: 1h
components:
  queries:
    kind: source
    arrivals: {poisson: 8/s}
    target: db
  db:
    kind: database
    connections: 10
    acquire_timeout: 0
    queries: [{name: get, time: {exponential: 1s}}]
)";

// The database's cumulative counters at one batch boundary.
struct Snap {
  double arrivals = 0, blocked = 0;         // pool_exhausted refusals
  double starts = 0, waited = 0;            // queries that got a connection; those that had to wait
  double wait_sum = 0;                      // s, connection waits
  double served = 0, sojourn_sum = 0;       // s, time in the database of completed queries
  double busy_area = 0, capacity_area = 0;  // connection-seconds
};

// One run of `s`: a warm-up batch, then kBatches batches of `batch`, with the database's counters
// read at every boundary. Every figure is a ratio of two counters: its whole-run value is the
// ratio of the totals, its standard error that of the per-batch ratios (batch_means.hpp).
class PoolRun {
 public:
  PoolRun(const std::string& label, Scenario s, Time batch) {
    s.warmup = batch;
    s.duration = batch * (kBatches + 1);
    Simulation sim(s);
    for (int b = 0; b <= kBatches; ++b) {
      sim.run_until(batch * (b + 1));
      snaps_.push_back(read(sim));  // counters restart at the end of the warm-up batch (b = 0)
    }
    EXPECT_EQ(sim.state(), Lifecycle::finished);
    std::printf("%s: %d batches of %.0fs after a warm-up batch (%llu events, %.0f arrivals)\n",
                label.c_str(), kBatches, batch.seconds(),
                static_cast<unsigned long long>(sim.events_processed()), snaps_.back().arrivals);
  }

  Estimate ratio(double Snap::*num, double Snap::*den) const {
    std::vector<double> xs;
    for (size_t b = 1; b < snaps_.size(); ++b) {
      const Snap& p = snaps_[b - 1];
      xs.push_back((snaps_[b].*num - p.*num) / (snaps_[b].*den - p.*den));
    }
    last_lag1_ = lag1(xs);
    return {snaps_.back().*num / snaps_.back().*den, standard_error(xs)};
  }
  double last_lag1() const { return last_lag1_; }

 private:
  static Snap read(const Simulation& sim) {
    const StationMetrics& m = sim.find("db")->metrics();
    const Time since = m.since(), now = sim.now();
    const double span = (now - since).seconds();
    Snap s;
    s.arrivals = static_cast<double>(m.arrivals());
    s.blocked = static_cast<double>(m.dropped()[static_cast<int>(Reason::pool_exhausted)]);
    s.starts = static_cast<double>(m.wait().count());
    s.waited = static_cast<double>(m.waited());
    s.wait_sum = m.wait().mean() * s.starts * 1e-9;
    s.served = static_cast<double>(m.latency().count());
    s.sojourn_sum = m.latency().mean() * s.served * 1e-9;
    s.busy_area = m.busy().mean(since, now) * span;
    s.capacity_area = m.capacity().mean(since, now) * span;
    return s;
  }
  std::vector<Snap> snaps_;
  mutable double last_lag1_ = 0;
};

void expect_ratio(const PoolRun& run, const std::string& what, double theory, double Snap::*num,
                  double Snap::*den) {
  const Estimate e = run.ratio(num, den);
  expect_near_theory(what, theory, e, run.last_lag1());
}

TEST(DatabasePool, TheErlangBRecursionGivesTheIssuesFigure) {
  EXPECT_NEAR(erlang_b(10, 8), 0.1217, 5e-5);
  EXPECT_NEAR(erlang_b(1, 2), 2.0 / 3, 1e-15);
}

// Batches of 10,000 s: 10,000 mean query times, the loss system's relaxation time being about one.
TEST(DatabasePool, WithoutWaitingBlocksAsErlangBWithExponentialQueryTimes) {
  const PoolRun run("Erlang B, exponential", test::load_text(kPool, {{"seed", "401"}}),
                    Time::s(10'000));
  expect_ratio(run, "pool_exhausted fraction = B(10, 8)", erlang_b(10, 8), &Snap::blocked,
               &Snap::arrivals);
}

TEST(DatabasePool, WithoutWaitingBlocksAsErlangBWithConstantQueryTimes) {
  const PoolRun run("Erlang B, constant",
                    test::load_text(kPool, {{"seed", "402"},
                                            {"components.db.queries", "[{name: get, time: 1s}]"}}),
                    Time::s(10'000));
  expect_ratio(run, "pool_exhausted fraction = B(10, 8)", erlang_b(10, 8), &Snap::blocked,
               &Snap::arrivals);
}

// M/M/10 at rho = 0.8: C(10, 8) = 0.409; a query that waits does so for an exponential time of
// mean 1 / (c mu - lambda) = 0.5 s, so Wq = C / (c mu - lambda) = 0.205 s and W = 1.205 s. The
// mean wait Wq is the noisiest figure (most queries do not wait; waits come in busy periods): it
// sets the run length, 30 batches of 45,000 s, for the 2.5 % resolution.
TEST(DatabasePool, WithWaitingIsMMc) {
  const int c = 10;
  const double lambda = 8, mu = 1, a = lambda / mu, rho = a / c;
  const double b = erlang_b(c, a);
  const double erlang_c = b / (1 - rho * (1 - b));
  const double wq = erlang_c / (c * mu - lambda);
  const PoolRun run(
      "M/M/10 pool",
      test::load_text(kPool, {{"seed", "403"}, {"components.db.acquire_timeout", "1d"}}),
      Time::s(45'000));
  expect_ratio(run, "M/M/10 P(wait>0) = C(10, 8)", erlang_c, &Snap::waited, &Snap::starts);
  expect_ratio(run, "M/M/10 mean wait of those waiting", 1 / (c * mu - lambda), &Snap::wait_sum,
               &Snap::waited);
  expect_ratio(run, "M/M/10 W", wq + 1 / mu, &Snap::sojourn_sum, &Snap::served);
  expect_ratio(run, "M/M/10 utilisation", rho, &Snap::busy_area, &Snap::capacity_area);
  expect_ratio(run, "M/M/10 Wq", wq, &Snap::wait_sum, &Snap::starts);
}

}  // namespace
}  // namespace dsim::analytic
