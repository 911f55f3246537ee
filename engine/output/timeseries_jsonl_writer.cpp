#include "output/timeseries_jsonl_writer.hpp"

#include "core/simulation.hpp"
#include "output/fixed_point.hpp"
#include "output/json_writer.hpp"

namespace dsim {

namespace {

std::string seconds(int64_t ns) {
  return fixed_point_text(ns, 9);
}

}  // namespace

void TimeseriesJsonlWriter::on_window(const Simulation& sim, const WindowReport& report) {
  const std::string start = seconds(report.start.count_ns());
  const std::string end = seconds(report.end.count_ns());
  const double span = (report.end - report.start).seconds();
  std::string lines;
  for (const WindowRow& r : report.rows) {
    const Component& c = *sim.components()[r.component];
    // Every line opens with the same five keys, in this order.
    auto line = [&](const char* family, auto&& body) {
      JsonWriter j(false);
      j.begin_object();
      j.key("t_start_s").raw_number(start);
      j.key("t_end_s").raw_number(end);
      j.key("component").value(c.name());
      j.key("kind").value(c.kind());
      j.key("family").value(family);
      body(j);
      j.end_object();
      lines += j.str();
      lines += '\n';
    };
    line("traffic", [&](JsonWriter& j) {
      j.key("arrivals").value(r.arrivals);
      j.key("served").value(r.served);
      j.key("lost").value(r.lost);
      j.key("throughput_per_s").value(span > 0 ? static_cast<double>(r.served) / span : 0.0);
    });
    line("latency", [&](JsonWriter& j) {
      j.key("count").value(r.latency_count);
      const bool any = r.latency_count > 0;  // no observations: null, not a misleading zero
      auto figure = [&](const char* key, int64_t ns) {
        j.key(key);
        if (any) {
          j.raw_number(seconds(ns));
        } else {
          j.null();
        }
      };
      j.key("mean_s");
      if (any) {
        j.value(r.latency_mean_ns * 1e-9);
      } else {
        j.null();
      }
      figure("p50_s", r.latency_p50_ns);
      figure("p90_s", r.latency_p90_ns);
      figure("p99_s", r.latency_p99_ns);
      figure("max_s", r.latency_max_ns);
    });
    line("queue", [&](JsonWriter& j) {
      j.key("depth").value(r.queue_depth);
      j.key("depth_max").value(r.queue_depth_max);
      j.key("in_system").value(r.in_system);
      j.key("utilization").value(r.utilization);
    });
    line("losses", [&](JsonWriter& j) {
      j.key("lost").value(r.lost);
      j.key("by_reason").begin_object();
      for (int k = 0; k < kReasonCount; ++k) {
        if (r.lost_by_reason[k])
          j.key(to_string(static_cast<Reason>(k))).value(r.lost_by_reason[k]);
      }
      j.end_object();
    });
    bool any_counter = false;
    for (uint64_t n : r.counters) any_counter = any_counter || n > 0;
    if (any_counter) {
      line("counters", [&](JsonWriter& j) {
        j.key("values").begin_object();
        for (int k = 0; k < kCounterCount; ++k) {
          if (r.counters[k]) j.key(to_string(static_cast<Counter>(k))).value(r.counters[k]);
        }
        j.end_object();
      });
    }
    if (const double ratio = window_hit_ratio(r); ratio >= 0) {
      line("cache", [&](JsonWriter& j) {
        j.key("hits").value(r.counters[static_cast<int>(Counter::cache_hits)]);
        j.key("misses").value(r.counters[static_cast<int>(Counter::cache_misses)]);
        j.key("hit_ratio").value(ratio);
      });
    }
    const StationMetrics& m = c.metrics();
    bool any_gauge = false;
    for (int g = 0; g < kGaugeCount; ++g) any_gauge = any_gauge || m.uses(static_cast<Gauge>(g));
    if (any_gauge) {
      line("gauges", [&](JsonWriter& j) {
        j.key("values").begin_object();
        for (int g = 0; g < kGaugeCount; ++g) {
          if (m.uses(static_cast<Gauge>(g)))
            j.key(to_string(static_cast<Gauge>(g))).value(r.gauges[g]);
        }
        j.end_object();
      });
    }
  }
  out_ << lines;
}

}  // namespace dsim
