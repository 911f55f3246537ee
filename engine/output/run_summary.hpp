// The end-of-run summary as plain data, and its two renderings: the human table that `dsim run`
// prints and the JSON of `--json` / summary.json (described in docs/scenario-format.md,
// "Results").
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/simulation.hpp"
#include "output/expectation_result.hpp"

namespace dsim {

struct LatencySummary {
  uint64_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;  // seconds
};

struct ComponentSummary {
  std::string name;
  std::string kind;
  uint64_t arrivals = 0;
  uint64_t served = 0;
  std::vector<std::pair<std::string, uint64_t>> dropped;  // by reason, non-zero only
  std::vector<std::pair<std::string, uint64_t>> failed;
  double throughput = 0;       // served per second of measured time
  LatencySummary latency;      // time spent in this component (wait + service)
  LatencySummary wait;         // arrival to service start
  double waited_fraction = 0;  // of service starts, the share that had to wait
  double utilization = 0;      // busy / available workers
  double mean_queue = 0;       // waiting, time-weighted
  int64_t max_queue = 0;
  double mean_in_system = 0;  // waiting + in service (Little's L)
  // Kind-specific events (retries, cache hits...), non-zero only, in enum order.
  std::vector<std::pair<std::string, uint64_t>> counters;
  struct GaugeSummary {
    std::string name;
    double mean = 0;
    int64_t max = 0, last = 0;
  };
  std::vector<GaugeSummary> gauges;  // the gauges this component uses
  double cache_hit_ratio = -1;       // hits / (hits + misses); -1 when it saw no lookups
  // The kind's own figures (Component::extra_figures), e.g. a database's per-shard utilisation.
  std::vector<std::pair<std::string, double>> figures;
};

struct WorkloadSummary {
  std::string name;
  uint64_t generated = 0, completed = 0, failed = 0, dropped = 0, dead_lettered = 0;
  double throughput = 0;   // completed per second of measured time
  LatencySummary latency;  // end to end
};

// Figures about the engine itself; filled in by the front end (the engine has no wall clock).
struct EngineStats {
  uint64_t events = 0;
  double wall_seconds = 0;
  double events_per_second = 0;
  uint64_t peak_rss_bytes = 0;
};

struct RunSummary {
  std::string scenario;
  uint64_t seed = 0;
  double duration = 0;  // configured, seconds
  double warmup = 0;
  double simulated = 0;  // reached (less than duration if stopped early)
  double measured = 0;   // simulated - warm-up: the span all rates refer to
  bool complete = true;
  bool warmed_up = true;  // false when the run stopped before its warm-up ended
  std::vector<ComponentSummary> components;
  std::vector<WorkloadSummary> workloads;
  std::vector<FaultWindow> faults;  // every fault activation, in start order
  Ledger ledger;
  std::vector<ExpectationResult> expectations;  // the verdicts on the scenario's `expect:`
  EngineStats engine;
};

RunSummary summarize(const Simulation& sim);
LatencySummary summarize_latency(const LatencyHistogram& h);

std::string format_summary_text(const RunSummary& s);
// The "expectations" block of the text summary: PASS/FAIL, the expectation, what was measured.
std::string format_expectations_text(const std::vector<ExpectationResult>& results);
// With include_engine false the result depends only on the scenario and the seed.
std::string format_summary_json(const RunSummary& s, bool include_engine = true);

}  // namespace dsim
