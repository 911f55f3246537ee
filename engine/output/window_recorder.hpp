// Records, window by window, the series the HTML report plots: per component (served per second,
// p99 latency, queue depth, DLQ depth) and end to end per workload (completions per second and
// latency percentiles p50/p99/p99.9) and by failure reason (requests per second that ended
// failed, dropped or dead-lettered, by the reason they ended for).
//
// Windows cover the whole run, warm-up included (the report shades the warm-up). Values are kept
// as floats, one per window: a chart draws at most a few thousand points anyway, and a long run
// with short windows should not cost gigabytes.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/histogram.hpp"
#include "core/observer.hpp"

namespace dsim {

class WindowRecorder final : public Observer {
 public:
  struct ComponentSeries {
    std::vector<float> served_per_s;
    std::vector<float> p99_s;      // NaN for a window in which nothing was served here
    std::vector<float> queue_max;  // the longest queue within the window
    std::vector<float> dlq_depth;  // at the window's end (the dlq_depth gauge)
  };
  struct WorkloadSeries {
    std::vector<float> completed_per_s;
    std::vector<float> p50_s, p99_s, p999_s;  // end to end; NaN with no completion in a window
  };

  void on_window(const Simulation& sim, const WindowReport& report) override;
  bool wants_requests() const override { return true; }
  void on_request_finished(const Simulation& sim, const Request& r, Outcome outcome, Reason reason,
                           uint32_t component) override;

  size_t windows() const { return window_end_s_.size(); }
  const std::vector<double>& window_start_s() const { return window_start_s_; }
  const std::vector<double>& window_end_s() const { return window_end_s_; }
  const std::vector<ComponentSeries>& components() const { return components_; }
  // Indexed like Simulation::workloads().
  const std::vector<WorkloadSeries>& workloads() const { return workloads_; }
  // Requests per second that ended unsuccessfully for each reason (index: Reason), end to end.
  const std::array<std::vector<float>, kReasonCount>& failures_per_s() const {
    return failures_per_s_;
  }
  // Total over the run per reason: the report plots only the reasons that occurred.
  uint64_t failures(Reason r) const { return failure_totals_[static_cast<int>(r)]; }

 private:
  struct OpenWorkload {
    uint64_t completed = 0;
    LatencyHistogram latency;
  };

  std::vector<double> window_start_s_, window_end_s_;
  std::vector<ComponentSeries> components_;
  std::vector<WorkloadSeries> workloads_;
  std::array<std::vector<float>, kReasonCount> failures_per_s_;
  std::array<uint64_t, kReasonCount> failure_totals_{};
  // The window being filled.
  std::vector<OpenWorkload> open_;
  std::array<uint64_t, kReasonCount> open_failures_{};
};

}  // namespace dsim
