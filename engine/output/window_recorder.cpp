#include "output/window_recorder.hpp"

#include <algorithm>
#include <limits>

#include "core/simulation.hpp"

namespace dsim {

namespace {
constexpr float kNoValue = std::numeric_limits<float>::quiet_NaN();
}

void WindowRecorder::on_request_finished(const Simulation& sim, const Request& r, Outcome outcome,
                                         Reason reason, uint32_t /*component*/) {
  if (outcome != Outcome::completed) {
    ++open_failures_[static_cast<int>(reason)];
    return;
  }
  if (r.workload >= open_.size()) open_.resize(r.workload + 1);
  OpenWorkload& w = open_[r.workload];
  ++w.completed;
  w.latency.record((sim.now() - r.created).count_ns());
}

void WindowRecorder::on_window(const Simulation& sim, const WindowReport& report) {
  const double span = (report.end - report.start).seconds();
  const double per_s = span > 0 ? 1 / span : 0;
  window_start_s_.push_back(report.start.seconds());
  window_end_s_.push_back(report.end.seconds());

  if (components_.size() < report.rows.size()) components_.resize(report.rows.size());
  for (const WindowRow& row : report.rows) {
    ComponentSeries& c = components_[row.component];
    c.served_per_s.push_back(static_cast<float>(static_cast<double>(row.served) * per_s));
    c.p99_s.push_back(
        row.served ? static_cast<float>(static_cast<double>(row.latency_p99_ns) * 1e-9) : kNoValue);
    c.queue_max.push_back(static_cast<float>(row.queue_depth_max));
    c.dlq_depth.push_back(static_cast<float>(row.gauges[static_cast<int>(Gauge::dlq_depth)]));
  }

  const size_t n_workloads = std::max(sim.workloads().size(), open_.size());
  if (workloads_.size() < n_workloads) {
    // A workload first seen now gets empty (NaN / zero) windows before this one.
    const size_t before = window_end_s_.size() - 1;
    const size_t old = workloads_.size();
    workloads_.resize(n_workloads);
    for (size_t i = old; i < n_workloads; ++i) {
      workloads_[i].completed_per_s.assign(before, 0.0f);
      workloads_[i].p50_s.assign(before, kNoValue);
      workloads_[i].p99_s.assign(before, kNoValue);
      workloads_[i].p999_s.assign(before, kNoValue);
    }
  }
  if (open_.size() < n_workloads) open_.resize(n_workloads);
  for (size_t i = 0; i < n_workloads; ++i) {
    OpenWorkload& o = open_[i];
    WorkloadSeries& w = workloads_[i];
    w.completed_per_s.push_back(static_cast<float>(static_cast<double>(o.completed) * per_s));
    if (o.completed) {
      static constexpr double kQs[] = {0.50, 0.99, 0.999};
      int64_t p[3];
      o.latency.percentiles(kQs, p, 3);
      w.p50_s.push_back(static_cast<float>(static_cast<double>(p[0]) * 1e-9));
      w.p99_s.push_back(static_cast<float>(static_cast<double>(p[1]) * 1e-9));
      w.p999_s.push_back(static_cast<float>(static_cast<double>(p[2]) * 1e-9));
      o.latency.reset();
    } else {
      w.p50_s.push_back(kNoValue);
      w.p99_s.push_back(kNoValue);
      w.p999_s.push_back(kNoValue);
    }
    o.completed = 0;
  }

  for (int r = 0; r < kReasonCount; ++r) {
    failures_per_s_[r].push_back(
        static_cast<float>(static_cast<double>(open_failures_[r]) * per_s));
    failure_totals_[r] += open_failures_[r];
    open_failures_[r] = 0;
  }
}

}  // namespace dsim
