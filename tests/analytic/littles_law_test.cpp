// Little's law, L = lambda W, on every component of every bundled scenario (every *.yaml under
// DSIM_SCENARIOS_DIR, recursively): L is the summary's time-average number in system
// (in_system_mean), lambda its served throughput and W its mean sojourn (latency mean).
//
// Over a finite measured window [t0, T] of length T_m, Little's law is an identity up to the
// requests that straddle the window's edges. Let A = integral of N(t) over the window
// (= L T_m) and S = the sum of the sojourns of the requests served in the window (= lambda W T_m).
// A request that arrives and leaves inside the window adds the same to both. Otherwise:
//   - present at t0 and served inside: S counts its whole sojourn, A only the part after t0; the
//     difference is less than its sojourn, which is at most D, the longest sojourn of a request
//     served in the window (the summary's latency max). There are N(t0) of them at most.
//   - present at T: A counts its age at T, S nothing. There are N(T) of them; their ages are
//     bounded by D as well, on the assumption that no request still present at the end is older
//     than every request served in the window (true of every stable scenario; a request stuck
//     for the whole run would break it, and the message below says so).
//   - lost at the door (queue_full): zero time in the component, counted in neither.
//   - lost after waiting (e.g. deadline_exceeded): adds its wait to A but not to S, and the summary
//     does not report that time, so for such components only the lower side is checked.
// Hence  -N(t0) D / T_m  <=  L - lambda W  <=  N(T) D / T_m  (+ 1e-9 relative for the doubles).
// N(t0) and N(T) are read from the simulation at the warm-up end and at the end.
//
// Scenarios that would take more than kEventBudget events are run with a shorter duration
// (dsim::Override{"duration", ...}) and say so; none is skipped.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "analytic/batch_means.hpp"

namespace dsim::analytic {
namespace {

constexpr uint64_t kEventBudget = 5'000'000;  // under a second at the engine's speed

std::vector<std::string> scenario_files() {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(std::string(DSIM_SCENARIOS_DIR))) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      files.push_back(entry.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct Edges {
  std::vector<int64_t> at_start;  // N(t0) per component
  bool finished = false;
  Time reached;
};

// Runs to the end, or until `budget` events are spent (then finished is false).
Edges run_with_budget(Simulation& sim, uint64_t budget) {
  Edges e;
  const Time end = sim.end_time();
  if (sim.warmup() > Time::zero()) sim.run_until(sim.warmup());
  for (const auto& c : sim.components()) e.at_start.push_back(c->metrics().in_system().level());
  // Chunks of 1/200 of the run, so the budget check overshoots by little.
  const Time chunk = Time::ns(std::max<int64_t>(1, (end - sim.now()).count_ns() / 200));
  while (sim.state() != Lifecycle::finished) {
    if (sim.events_processed() > budget) {
      e.reached = sim.now();
      return e;
    }
    sim.run_until(std::min(end, sim.now() + chunk));
  }
  e.finished = true;
  return e;
}

void check_file(const std::string& path) {
  SCOPED_TRACE(path);
  LoadResult loaded = load_scenario_file(path);
  ASSERT_TRUE(loaded.scenario) << path << " does not load:\n" << loaded.diagnostics.to_string();
  auto sim = std::make_unique<Simulation>(*loaded.scenario);
  Edges edges = run_with_budget(*sim, kEventBudget);
  if (!edges.finished) {
    // Too long for a test: rerun it with the duration it reached within the budget.
    std::vector<Override> overrides;
    const int64_t seconds = std::max<int64_t>(1, edges.reached.count_ns() / 1'000'000'000);
    overrides.push_back({"duration", std::to_string(seconds) + "s"});
    if (loaded.scenario->warmup >= Time::s(seconds)) {
      overrides.push_back({"warmup", std::to_string(seconds / 10) + "s"});
    }
    std::printf("  %s: more than %llu events; run with --set duration=%llds%s\n", path.c_str(),
                static_cast<unsigned long long>(kEventBudget), static_cast<long long>(seconds),
                overrides.size() > 1 ? " (and a tenth of it as warm-up)" : "");
    loaded = load_scenario_file(path, overrides);
    ASSERT_TRUE(loaded.scenario) << loaded.diagnostics.to_string();
    sim = std::make_unique<Simulation>(*loaded.scenario);
    edges = run_with_budget(*sim, UINT64_MAX);  // about kEventBudget by construction
    ASSERT_TRUE(edges.finished);
  }
  const RunSummary s = summarize(*sim);
  ASSERT_TRUE(s.complete);
  ASSERT_GT(s.measured, 0);
  std::printf("  %s (%.0fs measured, %llu events)\n", path.c_str(), s.measured,
              static_cast<unsigned long long>(sim->events_processed()));
  for (size_t i = 0; i < s.components.size(); ++i) {
    const ComponentSummary& c = s.components[i];
    const int64_t n0 = edges.at_start[i];
    const int64_t n_end = sim->components()[i]->metrics().in_system().level();
    const double l = c.mean_in_system;
    const double lw = c.throughput * c.latency.mean;
    const double d = c.latency.max;
    const double eps = 1e-9 * std::max(l, lw) + 1e-12;
    const double below = static_cast<double>(n0) * d / s.measured + eps;
    const double above = static_cast<double>(n_end) * d / s.measured + eps;
    bool lost_after_entry = !c.failed.empty();
    for (const auto& [reason, n] : c.dropped) lost_after_entry |= reason != "queue_full";
    char upper[32] = "inf";  // losses after entry: see above
    if (!lost_after_entry) std::snprintf(upper, sizeof upper, "%.3g", above);
    std::printf(
        "    %-16s L %-10.5g lambda W %-10.5g  allowed L - lambda W in [-%.3g, +%s]  "
        "(N(t0) %lld, N(T) %lld, max sojourn %.4gs)\n",
        c.name.c_str(), l, lw, below, upper, static_cast<long long>(n0),
        static_cast<long long>(n_end), d);
    EXPECT_GE(l - lw, -below) << c.name << ": L = " << l << " is below lambda W = " << lw
                              << " by more than the boundary effect allows";
    if (!lost_after_entry) {
      EXPECT_LE(l - lw, above)
          << c.name << ": L = " << l << " exceeds lambda W = " << lw
          << " by more than the boundary effect allows (or a request present at the end is "
             "older than every served one)";
    }
  }
}

TEST(LittlesLaw, EveryComponentOfEveryBundledScenario) {
  const std::vector<std::string> files = scenario_files();
  ASSERT_FALSE(files.empty()) << "no scenarios under " << DSIM_SCENARIOS_DIR;
  for (const std::string& f : files) check_file(f);
}

}  // namespace
}  // namespace dsim::analytic
