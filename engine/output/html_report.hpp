// The HTML report of one run (`dsim run FILE --report report.html`): a single self-contained page
// (inline CSS and SVG, no script, no external fonts or images) to read and to share.
//
// Sections: the header (scenario, seed, duration, warm-up, window, complete or interrupted, the
// conservation ledger), the expectation results, the topology diagram, the time-series charts
// (throughput, end-to-end latency percentiles, per-component throughput and p99, failures by
// reason, queue depths, DLQ depths; fault windows and the warm-up shaded on each), the faults,
// and the per-component and per-workload tables. docs/outputs.md describes each chart.
//
// Deterministic: the same scenario and seed give the same bytes (no wall clock in it).
#pragma once

#include <string>
#include <vector>

#include "core/fault_window.hpp"
#include "output/expectation_result.hpp"
#include "output/run_summary.hpp"
#include "output/topology_diagram.hpp"
#include "output/window_recorder.hpp"

namespace dsim {

struct HtmlReportInput {
  const RunSummary& summary;
  const WindowRecorder& windows;
  const TopologyGraph& topology;
  const std::vector<FaultWindow>& faults;
  const std::vector<ExpectationResult>& expectations;
  std::string description;  // the scenario's
  std::string file;         // the scenario file, as given on the command line
  double window_s = 0;      // the time-series resolution
};

std::string render_html_report(const HtmlReportInput& in);

}  // namespace dsim
