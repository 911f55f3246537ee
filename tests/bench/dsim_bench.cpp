// Speed benchmark for the engine (issue: "dsim must reach at least 10 million events per second,
// single-threaded, with memory that stays flat as the run gets longer").
//
// Runs scenarios/bench/mm1.yaml (M/M/1, rho = 0.9) through the normal YAML -> Simulation path
// with metrics on, at 1/4, 1/2 and the full length, and prints events per second and peak RSS
// after each; then a minimal hand-written std::priority_queue M/M/1 loop as the yardstick.
// Build type Release; not a test (timing assertions do not belong in tests).
//
//   build/tests/dsim_bench [scenario.yaml]
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <queue>
#include <random>
#include <string>

#include "core/simulation.hpp"
#include "scenario/loader.hpp"

namespace {

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// The yardstick: the smallest M/M/1 event loop one would write by hand.
double baseline_events_per_second(uint64_t customers) {
  struct Ev {
    double t;
    bool arrival;
    bool operator>(const Ev& o) const { return t > o.t; }
  };
  std::priority_queue<Ev, std::vector<Ev>, std::greater<Ev>> q;
  std::mt19937_64 rng(1);
  std::exponential_distribution<double> inter(0.9), service(1.0);
  q.push({inter(rng), true});
  uint64_t in_system = 0, arrivals = 0, events = 0;
  double busy_sum = 0;
  const auto start = std::chrono::steady_clock::now();
  while (!q.empty()) {
    const Ev e = q.top();
    q.pop();
    ++events;
    if (e.arrival) {
      ++arrivals;
      if (arrivals < customers) q.push({e.t + inter(rng), true});
      if (in_system++ == 0) q.push({e.t + service(rng), false});
    } else {
      busy_sum += e.t;
      if (--in_system > 0) q.push({e.t + service(rng), false});
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (busy_sum < 0) std::puts("");  // keep the loop's work observable
  return static_cast<double>(events) / wall;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = argc > 1 ? argv[1] : DSIM_SCENARIOS_DIR "/bench/mm1.yaml";
  dsim::LoadResult loaded = dsim::load_scenario_file(path);
  if (!loaded.scenario) {
    std::fputs(loaded.diagnostics.to_string().c_str(), stderr);
    return 2;
  }
  std::printf("%-34s %12s %10s %14s %12s\n", "run", "events", "wall s", "events/s", "peak RSS");
  const dsim::Time full = loaded.scenario->duration;
  for (int div : {4, 2, 1}) {
    dsim::Scenario s = *loaded.scenario;
    s.duration = dsim::Time::ns(full.count_ns() / div);
    dsim::Simulation sim(s);
    const auto start = std::chrono::steady_clock::now();
    sim.run();
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double eps = static_cast<double>(sim.events_processed()) / wall;
    std::printf("%-34s %12llu %10.3f %11.2f M/s %8.1f MiB\n",
                ("dsim " + s.name + " 1/" + std::to_string(div)).c_str(),
                static_cast<unsigned long long>(sim.events_processed()), wall, eps / 1e6,
                peak_rss_mib());
  }
  const uint64_t customers = static_cast<uint64_t>(full.seconds() * 0.9);
  const double base = baseline_events_per_second(customers);
  std::printf("%-34s %12llu %10s %11.2f M/s\n", "hand-written priority_queue M/M/1",
              static_cast<unsigned long long>(2 * customers), "", base / 1e6);
  return 0;
}
