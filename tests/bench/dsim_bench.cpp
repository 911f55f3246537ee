// Speed and memory benchmarks for the engine.
//
// 1. scenarios/bench/mm1.yaml (M/M/1, rho = 0.9) through the normal YAML -> Simulation path with
//    metrics on, at 1/4, 1/2 and the full length: events per second and peak RSS (flat memory);
//    then a minimal hand-written std::priority_queue M/M/1 loop as the yardstick.
// 2. scenarios/bench/backend.yaml (issue 3: gateway, load balancer, services calling each other,
//    cache, database, queue): events per second, three runs, with their median and best.
// 3. scenarios/bench/backlog.yaml (the same system with a database too small and no timeouts):
//    the memory added per request in flight while the backlog grows, from the resident memory
//    and the ledger's in-flight count at 20 s and at 59 s. Measured twice: as the engine runs
//    (glibc's defaults), then in a fresh process with glibc's mmap threshold fixed (see
//    measure_backlog), which gives the steadier figure.
// Build type Release; not a test (timing assertions do not belong in tests).
//
//   build/tests/dsim_bench [mm1.yaml]
#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "core/simulation.hpp"
#include "scenario/loader.hpp"

namespace {

// Resident memory now (not the peak: a vector that grows holds its old and new buffers for a
// moment, which says nothing about what each request keeps). glibc keeps freed blocks - a grown
// vector's old buffer - resident in its heap, in amounts that depend on the order of growth: a
// record a few bytes smaller can shift them by tens of MiB. So the allocator first hands its
// free pages back (malloc_trim), and what stays resident is what is live.
double current_rss_mib() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

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

constexpr const char* kFixedThresholdFlag = "--backlog-fixed-mmap-threshold";

// Memory added per request in flight while bench/backlog.yaml's backlog grows, from 20 s to
// 59 s. glibc moves its mmap threshold up to the size of each large block that is freed (a
// grown vector's old buffer); later large buffers then come from the heap, and how much of that
// stays resident even after malloc_trim depends on the order in which the buffers grew: 470 and
// 496 bytes were seen for records of the same sizes. With the threshold fixed (mallopt, which
// kFixedThresholdFlag sets in a process of its own), each large buffer is mapped and unmapped by
// itself, and the figure is what the records take.
int measure_backlog(const char* label) {
  dsim::LoadResult backlog = dsim::load_scenario_file(DSIM_SCENARIOS_DIR "/bench/backlog.yaml");
  if (!backlog.scenario) {
    std::fputs(backlog.diagnostics.to_string().c_str(), stderr);
    return 2;
  }
  dsim::Simulation sim(*backlog.scenario);
  sim.run_until(dsim::Time::s(20));
  const double raw1 = current_rss_mib();
  malloc_trim(0);
  const double rss1 = current_rss_mib();
  const double flight1 = static_cast<double>(sim.ledger().in_flight);
  sim.run_until(dsim::Time::s(59));
  const double raw2 = current_rss_mib();
  malloc_trim(0);
  const double rss2 = current_rss_mib();
  const double flight2 = static_cast<double>(sim.ledger().in_flight);
  std::printf(
      "%-34s in flight %.0f -> %.0f, resident %.1f -> %.1f MiB: %.0f bytes per request "
      "in flight\n%-34s (before trimming the allocator's free memory: %.1f -> %.1f MiB, %.0f "
      "bytes)\n",
      label, flight1, flight2, rss1, rss2, (rss2 - rss1) * 1024 * 1024 / (flight2 - flight1), "",
      raw1, raw2, (raw2 - raw1) * 1024 * 1024 / (flight2 - flight1));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == kFixedThresholdFlag) {
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // glibc's initial value, but fixed
    return measure_backlog("  with a fixed mmap threshold");
  }
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

  // 2. The component library at work.
  dsim::LoadResult backend = dsim::load_scenario_file(DSIM_SCENARIOS_DIR "/bench/backend.yaml");
  if (!backend.scenario) {
    std::fputs(backend.diagnostics.to_string().c_str(), stderr);
    return 2;
  }
  // Three runs: this machine is a shared VM whose speed moves by 10-15 % from one run to the
  // next, so the spread is printed with the median and the best (the machine's speed when nothing
  // else took from it).
  {
    std::vector<double> rates;
    for (int run = 1; run <= 3; ++run) {
      dsim::Simulation sim(*backend.scenario);
      const auto start = std::chrono::steady_clock::now();
      sim.run();
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      rates.push_back(static_cast<double>(sim.events_processed()) / wall / 1e6);
      const std::string label = "dsim bench-backend, run " + std::to_string(run);
      std::printf("%-34s %12llu %10.3f %11.2f M/s %8.1f MiB  (%llu requests)\n", label.c_str(),
                  static_cast<unsigned long long>(sim.events_processed()), wall, rates.back(),
                  peak_rss_mib(), static_cast<unsigned long long>(sim.ledger().generated));
    }
    std::sort(rates.begin(), rates.end());
    std::printf("%-34s %12s %10s %11.2f M/s median, %.2f M/s best\n", "dsim bench-backend", "", "",
                rates[1], rates[2]);
  }

  // 3. Memory per request in flight: as dsim runs, then steadier (see measure_backlog).
  if (const int status = measure_backlog("dsim bench-backlog"); status != 0) return status;
  std::fflush(stdout);
  const pid_t child = fork();
  if (child == 0) {
    execl("/proc/self/exe", "dsim_bench", kFixedThresholdFlag, static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 2;
  return WEXITSTATUS(status);
}
