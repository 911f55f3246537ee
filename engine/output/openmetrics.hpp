// metrics.prom: the run's final figures in the OpenMetrics 1.0 text format, for Prometheus and
// anything else that reads it (promtool, a push gateway, a notebook).
//
// Families (documented with an example in docs/outputs.md): run info and completeness; per
// component arrivals, served, losses by reason, kind-specific counters, latency and wait
// histograms, utilisation and end-of-run levels; per workload requests by outcome and an
// end-to-end latency histogram. Counters and histograms cover the measured period (after
// warm-up), like summary.json. Latencies are exported in seconds with fixed 1-2-5 buckets from
// 1 us to 100 s, taken from the engine's fine histogram (see LatencyHistogram::count_at_most
// for the one approximation).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dsim {

class Simulation;
struct RunSummary;

std::string format_openmetrics(const Simulation& sim, const RunSummary& summary);

// A label value or HELP text escaped as the format requires (backslash, double quote, newline).
std::string openmetrics_escape(std::string_view text);

// The histogram bucket bounds, as nanoseconds and as their canonical `le` text.
struct OpenMetricsBound {
  int64_t ns;
  const char* le;
};
const OpenMetricsBound* openmetrics_latency_bounds(int* count);

}  // namespace dsim
