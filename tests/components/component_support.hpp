// Helpers for the component tests: observers that record what happened, a run that checks the
// conservation ledger, and the same-seed-same-bytes check.
//
// Statistical tolerances. Every statistical assertion in this folder compares an estimate with its
// exact value at kZ standard errors, the standard error being derived from the sample size (and,
// where observations are correlated, from the process's own variance formula, given next to the
// test). Seeds are fixed and were not chosen by looking at results. Two-sided P(|N(0,1)| > 4) =
// 6.3e-5, so with the few dozen such assertions here the chance that a correct engine fails any
// of them for any seed is about 2e-3, while a real mistake (a wrong rate, a wrong proportion) of
// a few standard errors is caught.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "components/source.hpp"
#include "core/observer.hpp"
#include "core/simulation.hpp"
#include "output/run_summary.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim::test {

inline constexpr double kZ = 4.0;

// One finished request as an observer saw it.
struct Finished {
  uint64_t id = 0;
  Time created;
  Time finished;
  uint64_t key = 0;
  int16_t priority = 0;
  uint32_t workload = 0;
  Outcome outcome = Outcome::completed;
  Reason reason = Reason::none;
  uint32_t component = 0;  // where it ended
};

// Records every finished request, in the order the requests finished.
class RequestLog final : public Observer {
 public:
  bool wants_requests() const override { return true; }
  void on_request_finished(const Simulation& sim, const Request& r, Outcome o, Reason why,
                           uint32_t at) override {
    entries.push_back(
        Finished{r.id, r.created, sim.now(), r.key, r.priority, r.workload, o, why, at});
  }
  std::vector<uint64_t> ids() const {
    std::vector<uint64_t> v;
    for (const Finished& f : entries) v.push_back(f.id);
    return v;
  }
  size_t count(Outcome o, Reason why) const {
    size_t n = 0;
    for (const Finished& f : entries) n += f.outcome == o && f.reason == why;
    return n;
  }

  std::vector<Finished> entries;
};

// Records every window report.
class WindowLog final : public Observer {
 public:
  void on_window(const Simulation&, const WindowReport& w) override { windows.push_back(w); }
  std::vector<WindowReport> windows;
};

inline const Component& find_component(const Simulation& sim, const std::string& name) {
  const Component* c = sim.find(name);
  if (!c) throw std::runtime_error("no component " + name);
  return *c;
}

inline const StationMetrics& metrics_of(const Simulation& sim, const std::string& name) {
  return find_component(sim, name).metrics();
}

inline const Source& source_of(const Simulation& sim, const std::string& name) {
  return dynamic_cast<const Source&>(find_component(sim, name));
}

// A component's count of a kind-specific event.
inline uint64_t count(const Simulation& sim, const std::string& name, Counter c) {
  return metrics_of(sim, name).counter(c);
}

inline int64_t ns(double seconds) {
  return Time::from_seconds(seconds).count_ns();
}

inline uint32_t workload_index(const Simulation& sim, const std::string& name) {
  for (size_t i = 0; i < sim.workloads().size(); ++i) {
    if (sim.workloads()[i].name == name) return static_cast<uint32_t>(i);
  }
  throw std::runtime_error("no workload " + name);
}

// The finished requests of one workload (a queue's messages), in the order they finished.
inline std::vector<Finished> of_workload(const RequestLog& log, const Simulation& sim,
                                         const std::string& workload) {
  const uint32_t w = workload_index(sim, workload);
  std::vector<Finished> out;
  for (const Finished& f : log.entries) {
    if (f.workload == w) out.push_back(f);
  }
  return out;
}

// The conservation identity generated = completed + failed + dropped + dead-lettered + in flight,
// with the figures in the failure message.
inline ::testing::AssertionResult Balanced(const Simulation& sim) {
  const Ledger l = sim.ledger();
  if (l.balanced()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "generated " << l.generated << " != completed " << l.completed << " + failed "
         << l.failed << " + dropped " << l.dropped << " + dead-lettered " << l.dead_lettered
         << " + in flight " << l.in_flight;
}

// Builds the simulation, attaches the observers, runs it to the end and checks the ledger.
inline std::unique_ptr<Simulation> run_checked(const std::string& yaml,
                                               const std::vector<Observer*>& observers = {}) {
  auto sim = std::make_unique<Simulation>(load_text(yaml));
  for (Observer* o : observers) sim->add_observer(o);
  sim->run();
  EXPECT_TRUE(sim->complete());
  EXPECT_TRUE(Balanced(*sim));
  return sim;
}

inline std::string summary_json(const Simulation& sim) {
  return format_summary_json(summarize(sim), /*include_engine=*/false);
}

// Runs the scenario twice with its seed and expects byte-identical summaries.
inline void expect_reproducible(const std::string& yaml) {
  const std::string first = summary_json(*run_checked(yaml));
  const std::string second = summary_json(*run_checked(yaml));
  EXPECT_EQ(first, second);
}

// Upper 1e-4 quantile of the chi-square distribution with `df` degrees of freedom, by the
// Wilson-Hilferty approximation (within ~1% of the exact quantile for df >= 2): the chi-square
// analogue of a two-sided kZ bound (z = 3.719 is the upper 1e-4 point of N(0, 1)).
inline double chi_square_critical(int df) {
  const double z = 3.719;
  const double k = static_cast<double>(df);
  const double t = 1 - 2 / (9 * k) + z * std::sqrt(2 / (9 * k));
  return k * t * t * t;
}

// Pearson's statistic of observed counts against expected probabilities.
inline double chi_square(const std::vector<uint64_t>& observed, const std::vector<double>& p) {
  uint64_t n = 0;
  for (uint64_t o : observed) n += o;
  double x = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double e = p[i] * static_cast<double>(n);
    const double d = static_cast<double>(observed[i]) - e;
    x += d * d / e;
  }
  return x;
}

}  // namespace dsim::test
