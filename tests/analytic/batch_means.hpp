// Batch means for the analytic tests: one long run, cut into equal batches, gives both a point
// estimate and an honest standard error for every figure the run summary reports.
//
// Method. A run is one warm-up batch followed by kBatches measured batches of equal length. The
// scenario's warm-up is set to one batch and its time-series window to one batch, so windows line
// up with batches. At every batch boundary the cumulative per-component counters (StationMetrics)
// are read and differenced, which gives each batch's mean sojourn, mean wait, fraction that
// waited, time-average number in system, throughput, loss fraction and utilisation; the windows
// give each batch's p99. The estimate compared with theory is the whole-run figure from
// dsim::summarize (what a user sees); its standard error is sd(batch values) / sqrt(kBatches).
//
// Why batches work: a queue's output is autocorrelated, so the naive i.i.d. standard error is far
// too small (for the M/M/1 mean sojourn at rho = 0.9 by a factor of ~21, measured). Means of
// batches much longer than the process's correlation time are nearly independent and nearly
// normal; every test uses batches thousands of relaxation times long (for M/M/1 the relaxation
// time is 1/(mu (1 - sqrt(rho))^2): 380s at rho = 0.9, against batches of 5 000 000s there).
// A lag-1 autocorrelation of the batch values is printed with each check as a diagnostic.
//
// Tolerance. |estimate - theory| <= kZ * SE (+ a stated deterministic bias bound where one
// exists, e.g. the histogram's bucket width for percentiles). With 30 batches the studentised
// error has a t distribution with 29 degrees of freedom, and P(|t_29| > 4.5) = 1.0e-4: with
// about 60 such checks in this binary the chance that some fixed seed lands on a false failure is
// under 1 %, and since seeds are fixed a run that passes once passes always (the runs are
// deterministic). The z is never adjusted to make a check pass.
//
// Resolution. A loose test proves nothing, so every check also asserts that its half-width kZ * SE
// is at most kResolution (2.5 %) of the theoretical value. A model that is wrong by 5 % then lies
// at least 2.5 % = 4.5 SE outside the tolerance and fails with probability > 0.9999. If a future
// change (shorter runs, a noisier estimator) loses this resolution, the test says so instead of
// silently weakening. Run lengths were chosen to meet it, never z.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "core/observer.hpp"
#include "core/simulation.hpp"
#include "output/run_summary.hpp"
#include "scenario/loader.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim::analytic {

inline constexpr int kBatches = 30;
inline constexpr double kZ = 4.5;
inline constexpr double kResolution = 0.025;

struct Estimate {
  double value = 0;  // whole-run figure
  double se = 0;     // batch-means standard error
};

inline double mean_of(const std::vector<double>& xs) {
  double s = 0;
  for (double x : xs) s += x;
  return xs.empty() ? 0 : s / static_cast<double>(xs.size());
}

inline double standard_error(const std::vector<double>& xs) {
  const double m = mean_of(xs);
  double ss = 0;
  for (double x : xs) ss += (x - m) * (x - m);
  const double n = static_cast<double>(xs.size());
  return n > 1 ? std::sqrt(ss / (n - 1) / n) : INFINITY;
}

// Lag-1 autocorrelation of the batch values: printed as a diagnostic (near 0 when the batches are
// long enough; with 30 batches its own noise is about +-0.18).
inline double lag1(const std::vector<double>& xs) {
  const double m = mean_of(xs);
  double num = 0, den = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    den += (xs[i] - m) * (xs[i] - m);
    if (i + 1 < xs.size()) num += (xs[i] - m) * (xs[i + 1] - m);
  }
  return den > 0 ? num / den : 0;
}

// Per-batch figures of one component.
struct StationBatch {
  double sojourn_mean = 0;         // s, over requests served in the batch
  double wait_mean = 0;            // s, over service starts in the batch
  double waited_fraction = 0;      // of service starts
  double in_system_mean = 0;       // time-average L
  double throughput = 0;           // served per second
  double queue_full_fraction = 0;  // dropped (queue_full) / arrivals
  double utilization = 0;
  double p99 = 0;  // s, sojourn
};

// Per-batch figures of one workload (end to end).
struct WorkloadBatch {
  double latency_mean = 0;
  double throughput = 0;
};

class BatchRun : private Observer {
 public:
  // Runs `scenario` (its seed and components as given) for one warm-up batch plus `batches`
  // measured batches of length `batch`.
  BatchRun(const std::string& label, Scenario scenario, Time batch, int batches = kBatches)
      : batch_(batch) {
    scenario.warmup = batch;
    scenario.window = batch;
    scenario.duration = batch * (batches + 1);
    sim_ = std::make_unique<Simulation>(scenario);
    sim_->add_observer(this);
    const size_t n = sim_->components().size();
    station_.assign(n, {});
    windows_.assign(n, {});
    std::vector<Snap> prev;
    std::vector<WorkSnap> workload_prev;
    for (int b = 0; b <= batches; ++b) {
      sim_->run_until(batch * (b + 1));
      std::vector<Snap> now = snapshot();
      std::vector<WorkSnap> wnow = workload_snapshot();
      if (b > 0) {
        for (size_t i = 0; i < n; ++i) station_[i].push_back(difference(prev[i], now[i]));
        if (workloads_.size() < wnow.size()) workloads_.resize(wnow.size());
        for (size_t w = 0; w < wnow.size(); ++w) {
          const WorkSnap p = w < workload_prev.size() ? workload_prev[w] : WorkSnap{};
          WorkloadBatch wb;
          const double dn = static_cast<double>(wnow[w].count - p.count);
          wb.latency_mean = dn > 0 ? (wnow[w].sum - p.sum) / dn : 0;
          wb.throughput = static_cast<double>(wnow[w].completed - p.completed) / batch.seconds();
          workloads_[w].push_back(wb);
        }
      }
      prev = std::move(now);
      workload_prev = std::move(wnow);
    }
    if (sim_->state() != Lifecycle::finished) ADD_FAILURE() << "run did not finish";
    for (size_t i = 0; i < n; ++i) {
      // Windows after the warm-up, one per batch.
      for (size_t b = 0; b < station_[i].size() && b < windows_[i].size(); ++b) {
        station_[i][b].p99 = windows_[i][b];
      }
      if (windows_[i].size() != station_[i].size()) {
        ADD_FAILURE() << "windows (" << windows_[i].size() << ") do not line up with batches ("
                      << station_[i].size() << ")";
      }
    }
    summary_ = summarize(*sim_);
    std::printf("%s: %d batches of %.0fs after a warm-up batch (%.3gs simulated, %llu events)\n",
                label.c_str(), batches, batch.seconds(), summary_.simulated,
                static_cast<unsigned long long>(sim_->events_processed()));
  }

  const RunSummary& summary() const { return summary_; }
  const Simulation& sim() const { return *sim_; }
  double measured_seconds() const { return summary_.measured; }
  uint64_t events() const { return sim_->events_processed(); }

  // The whole-run figure and the batch-means SE of one station metric.
  Estimate station(const std::string& name, double StationBatch::*field) const {
    const size_t i = index_of(name);
    const ComponentSummary& c = test::component(summary_, name);
    double overall = 0;
    if (field == &StationBatch::sojourn_mean) overall = c.latency.mean;
    if (field == &StationBatch::wait_mean) overall = c.wait.mean;
    if (field == &StationBatch::waited_fraction) overall = c.waited_fraction;
    if (field == &StationBatch::in_system_mean) overall = c.mean_in_system;
    if (field == &StationBatch::throughput) overall = c.throughput;
    if (field == &StationBatch::utilization) overall = c.utilization;
    if (field == &StationBatch::p99) overall = c.latency.p99;
    if (field == &StationBatch::queue_full_fraction) {
      uint64_t dropped = 0;
      for (const auto& [reason, count] : c.dropped) {
        if (reason == "queue_full") dropped += count;
      }
      overall = c.arrivals ? static_cast<double>(dropped) / static_cast<double>(c.arrivals) : 0;
    }
    std::vector<double> xs;
    for (const StationBatch& b : station_[i]) xs.push_back(b.*field);
    last_lag1_ = lag1(xs);
    return {overall, standard_error(xs)};
  }

  Estimate workload(const std::string& name, double WorkloadBatch::*field) const {
    for (size_t w = 0; w < summary_.workloads.size(); ++w) {
      if (summary_.workloads[w].name != name) continue;
      const WorkloadSummary& s = summary_.workloads[w];
      const double overall = field == &WorkloadBatch::latency_mean ? s.latency.mean : s.throughput;
      std::vector<double> xs;
      for (const WorkloadBatch& b : workloads_[w]) xs.push_back(b.*field);
      last_lag1_ = lag1(xs);
      return {overall, standard_error(xs)};
    }
    ADD_FAILURE() << "no workload " << name;
    return {};
  }

  // Lag-1 autocorrelation of the batch values behind the last estimate asked for.
  double last_lag1() const { return last_lag1_; }

 private:
  struct Snap {
    uint64_t arrivals = 0, served = 0, lat_n = 0, wait_n = 0, waited = 0, queue_full = 0;
    double lat_sum = 0, wait_sum = 0;                        // ns
    double in_system_area = 0, busy_area = 0, cap_area = 0;  // level x ns
  };
  struct WorkSnap {
    uint64_t completed = 0, count = 0;
    double sum = 0;  // s
  };

  std::vector<Snap> snapshot() const {
    std::vector<Snap> out;
    const Time since = sim_->measured_since();
    const Time now = sim_->now();
    const double span = static_cast<double>((now - since).count_ns());
    for (const auto& c : sim_->components()) {
      const StationMetrics& m = c->metrics();
      Snap s;
      s.arrivals = m.arrivals();
      s.served = m.served();
      s.lat_n = m.latency().count();
      s.lat_sum = m.latency().mean() * static_cast<double>(s.lat_n);
      s.wait_n = m.wait().count();
      s.wait_sum = m.wait().mean() * static_cast<double>(s.wait_n);
      s.waited = m.waited();
      s.queue_full = m.dropped()[static_cast<int>(Reason::queue_full)];
      s.in_system_area = m.in_system().mean(since, now) * span;
      s.busy_area = m.busy().mean(since, now) * span;
      s.cap_area = m.capacity().mean(since, now) * span;
      out.push_back(s);
    }
    return out;
  }

  std::vector<WorkSnap> workload_snapshot() const {
    std::vector<WorkSnap> out;
    for (const WorkloadStats& w : sim_->workloads()) {
      const double n = static_cast<double>(w.latency.count());
      out.push_back({w.completed, w.latency.count(), w.latency.mean() * n * 1e-9});
    }
    return out;
  }

  StationBatch difference(const Snap& a, const Snap& b) const {
    StationBatch r;
    const double len_ns = static_cast<double>(batch_.count_ns());
    const double lat_n = static_cast<double>(b.lat_n - a.lat_n);
    const double wait_n = static_cast<double>(b.wait_n - a.wait_n);
    r.sojourn_mean = lat_n > 0 ? (b.lat_sum - a.lat_sum) / lat_n * 1e-9 : 0;
    r.wait_mean = wait_n > 0 ? (b.wait_sum - a.wait_sum) / wait_n * 1e-9 : 0;
    r.waited_fraction = wait_n > 0 ? static_cast<double>(b.waited - a.waited) / wait_n : 0;
    r.in_system_mean = (b.in_system_area - a.in_system_area) / len_ns;
    r.throughput = static_cast<double>(b.served - a.served) / batch_.seconds();
    const double arrivals = static_cast<double>(b.arrivals - a.arrivals);
    r.queue_full_fraction =
        arrivals > 0 ? static_cast<double>(b.queue_full - a.queue_full) / arrivals : 0;
    const double cap = b.cap_area - a.cap_area;
    r.utilization = cap > 0 ? (b.busy_area - a.busy_area) / cap : 0;
    return r;
  }

  size_t index_of(const std::string& name) const {
    const Component* c = sim_->find(name);
    if (!c) throw std::runtime_error("no component " + name);
    return c->index();
  }

  void on_window(const Simulation& sim, const WindowReport& w) override {
    if (w.start < sim.warmup()) return;  // the warm-up batch
    for (const WindowRow& r : w.rows) {
      windows_[r.component].push_back(static_cast<double>(r.latency_p99_ns) * 1e-9);
    }
  }

  Time batch_;
  std::unique_ptr<Simulation> sim_;
  std::vector<std::vector<StationBatch>> station_;
  std::vector<std::vector<double>> windows_;  // p99 per batch, per component
  std::vector<std::vector<WorkloadBatch>> workloads_;
  RunSummary summary_;
  mutable double last_lag1_ = 0;
};

// The check every analytic test makes; see the header comment for the statistics.
//   bias: a deterministic bound on how far the estimator may sit from the truth whatever the run
//         length (e.g. histogram resolution), added to the statistical half-width.
inline void expect_near_theory(const std::string& what, double theory, const Estimate& e,
                               double lag1_value = 0, double bias = 0) {
  const double half = kZ * e.se + bias;
  const double z = e.se > 0 ? (e.value - theory) / e.se : 0;
  std::printf(
      "  %-44s theory %10.5g  measured %10.5g +- %-9.3g (SE)  z %+6.2f  half-width %5.2f%%"
      "  lag1 %+.2f\n",
      what.c_str(), theory, e.value, e.se, z, 100 * half / std::abs(theory), lag1_value);
  std::fflush(stdout);
  EXPECT_LE(std::abs(e.value - theory), half)
      << what << ": theory " << theory << ", measured " << e.value << " +- " << e.se
      << " (SE), z = " << z << ", allowed |z| <= " << kZ;
  EXPECT_LE(half, kResolution * std::abs(theory))
      << what << ": the run is too short to resolve a 5% model error (half-width " << half << " vs "
      << kResolution * std::abs(theory) << "); lengthen the run, do not widen kZ";
}

// Convenience: check one station metric of a BatchRun.
inline void expect_station(const BatchRun& run, const std::string& what, const std::string& name,
                           double StationBatch::*field, double theory, double bias = 0) {
  const Estimate e = run.station(name, field);
  expect_near_theory(what, theory, e, run.last_lag1(), bias);
}

// Loads a bundled scenario file (scenarios/...), failing the test with the loader's messages.
inline Scenario load_bundled(const std::string& file, const std::vector<Override>& overrides = {}) {
  const std::string path = std::string(DSIM_SCENARIOS_DIR) + "/" + file;
  LoadResult r = load_scenario_file(path, overrides);
  if (!r.scenario) {
    ADD_FAILURE() << path << " did not load:\n" << r.diagnostics.to_string();
    return Scenario{};
  }
  return *r.scenario;
}

// A relative bias bound for percentiles read from LatencyHistogram: it reports a bucket's midpoint
// and buckets are at most 1/128 of their lower edge wide (core/histogram.hpp), so a percentile is
// off by at most 1/256 of its value on top of the sampling error.
inline constexpr double kHistogramRelativeError = 1.0 / 256;

}  // namespace dsim::analytic
