#include "output/timeseries_writer.hpp"

#include <cstdio>

#include "core/simulation.hpp"

namespace dsim {

// Fixed columns, then one per failure reason (lost_<reason>), per counter and per gauge, in enum
// order: every row has every column, so the file loads as one table.
const std::string& TimeseriesCsvWriter::header() {
  static const std::string h = [] {
    std::string s =
        "window_start_s,window_end_s,component,kind,arrivals,served,lost,throughput_per_s,"
        "latency_mean_s,latency_p50_s,latency_p90_s,latency_p99_s,latency_max_s,queue_depth,"
        "queue_depth_max,in_system,utilization";
    for (int r = 1; r < kReasonCount; ++r)
      s += std::string(",lost_") + to_string(static_cast<Reason>(r));
    for (int k = 0; k < kCounterCount; ++k)
      s += std::string(",") + to_string(static_cast<Counter>(k));
    for (int g = 0; g < kGaugeCount; ++g) s += std::string(",") + to_string(static_cast<Gauge>(g));
    s += ",cache_hit_ratio";
    return s;
  }();
  return h;
}

TimeseriesCsvWriter::TimeseriesCsvWriter(std::ostream& out) : out_(out) {
  out_ << header() << '\n';
}

void TimeseriesCsvWriter::on_window(const Simulation& sim, const WindowReport& report) {
  const double span = (report.end - report.start).seconds();
  char buf[512];
  for (const WindowRow& r : report.rows) {
    const auto& c = sim.components()[r.component];
    std::snprintf(
        buf, sizeof buf,
        "%.9g,%.9g,%s,%s,%llu,%llu,%llu,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%lld,%lld,%lld,"
        "%.6g\n",
        report.start.seconds(), report.end.seconds(), c->name().c_str(), c->kind().c_str(),
        static_cast<unsigned long long>(r.arrivals), static_cast<unsigned long long>(r.served),
        static_cast<unsigned long long>(r.lost),
        span > 0 ? static_cast<double>(r.served) / span : 0.0, r.latency_mean_ns * 1e-9,
        static_cast<double>(r.latency_p50_ns) * 1e-9, static_cast<double>(r.latency_p90_ns) * 1e-9,
        static_cast<double>(r.latency_p99_ns) * 1e-9, static_cast<double>(r.latency_max_ns) * 1e-9,
        static_cast<long long>(r.queue_depth), static_cast<long long>(r.queue_depth_max),
        static_cast<long long>(r.in_system), r.utilization);
    std::string line = buf;
    line.pop_back();  // the newline
    // (Appended piecewise: GCC 12 warns falsely about "," + std::to_string(...).)
    for (int k = 1; k < kReasonCount; ++k) {
      line += ',';
      line += std::to_string(r.lost_by_reason[k]);
    }
    for (int k = 0; k < kCounterCount; ++k) {
      line += ',';
      line += std::to_string(r.counters[k]);
    }
    for (int g = 0; g < kGaugeCount; ++g) {
      line += ',';
      line += std::to_string(r.gauges[g]);
    }
    line += ',';
    if (const double ratio = window_hit_ratio(r); ratio >= 0) {
      std::snprintf(buf, sizeof buf, "%.6g", ratio);
      line += buf;
    }
    out_ << line << '\n';
  }
}

}  // namespace dsim
