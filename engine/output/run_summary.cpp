#include "output/run_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "core/format.hpp"
#include "output/json_writer.hpp"

namespace dsim {

LatencySummary summarize_latency(const LatencyHistogram& h) {
  LatencySummary l;
  l.count = h.count();
  l.mean = h.mean() * 1e-9;
  l.p50 = static_cast<double>(h.percentile(0.50)) * 1e-9;
  l.p90 = static_cast<double>(h.percentile(0.90)) * 1e-9;
  l.p99 = static_cast<double>(h.percentile(0.99)) * 1e-9;
  l.p999 = static_cast<double>(h.percentile(0.999)) * 1e-9;
  l.max = static_cast<double>(h.max()) * 1e-9;
  return l;
}

RunSummary summarize(const Simulation& sim) {
  RunSummary s;
  s.scenario = sim.scenario_name();
  s.seed = sim.seed();
  s.duration = sim.end_time().seconds();
  s.warmup = sim.warmup().seconds();
  s.simulated = sim.now().seconds();
  const Time since = sim.measured_since();
  s.measured = (sim.now() - since).seconds();
  s.complete = sim.complete();
  s.warmed_up = sim.warmup() == Time::zero() || sim.now() >= sim.warmup();
  const double span = s.measured > 0 ? s.measured : 1;
  for (const auto& c : sim.components()) {
    const StationMetrics& m = c->metrics();
    ComponentSummary cs;
    cs.name = c->name();
    cs.kind = c->kind();
    cs.arrivals = m.arrivals();
    cs.served = m.served();
    for (int r = 0; r < kReasonCount; ++r) {
      const char* reason = to_string(static_cast<Reason>(r));
      if (m.dropped()[r]) cs.dropped.emplace_back(reason, m.dropped()[r]);
      if (m.failed()[r]) cs.failed.emplace_back(reason, m.failed()[r]);
    }
    cs.throughput = static_cast<double>(cs.served) / span;
    cs.latency = summarize_latency(m.latency());
    cs.wait = summarize_latency(m.wait());
    cs.waited_fraction =
        m.wait().count() ? static_cast<double>(m.waited()) / static_cast<double>(m.wait().count())
                         : 0.0;
    const double cap = m.capacity().mean(since, sim.now());
    cs.utilization = cap > 0 ? m.busy().mean(since, sim.now()) / cap : 0;
    cs.mean_queue = m.queue().mean(since, sim.now());
    cs.max_queue = m.queue().max();
    cs.mean_in_system = m.in_system().mean(since, sim.now());
    for (int k = 0; k < kCounterCount; ++k) {
      if (m.counters()[k])
        cs.counters.emplace_back(to_string(static_cast<Counter>(k)), m.counters()[k]);
    }
    for (int g = 0; g < kGaugeCount; ++g) {
      const auto gauge = static_cast<Gauge>(g);
      if (!m.uses(gauge)) continue;
      const TimeWeightedLevel& level = m.gauge(gauge);
      cs.gauges.push_back(
          {to_string(gauge), level.mean(since, sim.now()), level.max(), level.level()});
    }
    const uint64_t hits = m.counter(Counter::cache_hits), misses = m.counter(Counter::cache_misses);
    if (hits + misses > 0)
      cs.cache_hit_ratio = static_cast<double>(hits) / static_cast<double>(hits + misses);
    c->extra_figures(sim, cs.figures);
    s.components.push_back(std::move(cs));
  }
  for (const WorkloadStats& w : sim.workloads()) {
    WorkloadSummary ws;
    ws.name = w.name;
    ws.generated = w.generated;
    ws.completed = w.completed;
    ws.failed = w.failed;
    ws.dropped = w.dropped;
    ws.dead_lettered = w.dead_lettered;
    ws.throughput = static_cast<double>(w.completed) / span;
    ws.latency = summarize_latency(w.latency);
    s.workloads.push_back(std::move(ws));
  }
  s.faults = sim.fault_windows();
  s.ledger = sim.ledger();
  s.engine.events = sim.events_processed();
  return s;
}

namespace {

// A plain-text table whose columns size themselves to their contents.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string render() const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    for (size_t ri = 0; ri < rows_.size(); ++ri) {
      const auto& r = rows_[ri];
      std::string line;
      for (size_t i = 0; i < r.size(); ++i) {
        const size_t pad = width[i] - r[i].size();
        if (i == 0) {
          line += r[i] + std::string(pad, ' ');  // names left-aligned, numbers right-aligned
        } else {
          line += "  " + std::string(pad, ' ') + r[i];
        }
      }
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += "  " + line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string count(uint64_t v) {
  return std::to_string(v);
}
std::string secs(double v, bool present) {
  return present ? format_seconds(v) : "-";
}
std::string pct(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
  return buf;
}
std::string num(double v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}
uint64_t total(const std::vector<std::pair<std::string, uint64_t>>& v) {
  uint64_t t = 0;
  for (const auto& [_, n] : v) t += n;
  return t;
}

}  // namespace

std::string format_summary_text(const RunSummary& s) {
  std::string out;
  out +=
      "scenario " + s.scenario + "  seed " + std::to_string(s.seed) + "  simulated " +
      format_seconds(s.simulated) + (s.complete ? "" : " (stopped early)") + "  measured " +
      format_seconds(s.measured) +
      (s.warmup > 0 ? (s.warmed_up ? " after " + format_seconds(s.warmup) + " warm-up"
                                   : " (warm-up of " + format_seconds(s.warmup) + " not reached)")
                    : "") +
      "\n\n";
  Table t({"component", "kind", "arrivals", "served", "lost", "throughput", "mean", "p50", "p90",
           "p99", "p99.9", "max", "util", "queue avg", "queue max"});
  for (const ComponentSummary& c : s.components) {
    const bool station = c.kind != "source" && c.kind != "sink";
    const bool lat = station && c.latency.count > 0;
    t.add({c.name, c.kind, count(c.arrivals), count(c.served),
           count(total(c.dropped) + total(c.failed)), format_rate(c.throughput),
           secs(c.latency.mean, lat), secs(c.latency.p50, lat), secs(c.latency.p90, lat),
           secs(c.latency.p99, lat), secs(c.latency.p999, lat), secs(c.latency.max, lat),
           station ? pct(c.utilization) : "-", station ? num(c.mean_queue) : "-",
           station ? std::to_string(c.max_queue) : "-"});
  }
  out += "components\n" + t.render();
  bool any_loss = false;
  for (const ComponentSummary& c : s.components) {
    for (const auto& [reason, n] : c.dropped) {
      if (!any_loss) out += "\nlosses\n";
      any_loss = true;
      out += "  " + c.name + ": dropped " + reason + " " + std::to_string(n) + "\n";
    }
    for (const auto& [reason, n] : c.failed) {
      if (!any_loss) out += "\nlosses\n";
      any_loss = true;
      out += "  " + c.name + ": failed " + reason + " " + std::to_string(n) + "\n";
    }
  }
  bool any_event = false;
  for (const ComponentSummary& c : s.components) {
    if (c.counters.empty() && c.gauges.empty()) continue;
    if (!any_event) out += "\ncomponent events\n";
    any_event = true;
    std::string line = "  " + c.name + ":";
    for (const auto& [name, n] : c.counters) line += " " + name + " " + std::to_string(n) + ",";
    if (c.cache_hit_ratio >= 0) line += " hit_ratio " + pct(c.cache_hit_ratio) + ",";
    for (const ComponentSummary::GaugeSummary& g : c.gauges) {
      line += " " + g.name + " avg " + num(g.mean) + " max " + std::to_string(g.max) + ",";
    }
    line.pop_back();
    out += line + "\n";
  }
  bool any_figure = false;
  for (const ComponentSummary& c : s.components) {
    for (const auto& [name, value] : c.figures) {
      if (!any_figure) out += "\nfigures\n";
      any_figure = true;
      const bool whole = value == std::floor(value) && std::fabs(value) < 1e15;
      out += "  " + c.name + ": " + name + " " +
             (whole ? std::to_string(static_cast<int64_t>(value)) : format_number(value)) + "\n";
    }
  }
  Table w({"workload", "generated", "completed", "failed", "dropped", "dead-lettered", "throughput",
           "mean", "p50", "p90", "p99", "p99.9", "max"});
  for (const WorkloadSummary& x : s.workloads) {
    const bool lat = x.latency.count > 0;
    w.add({x.name, count(x.generated), count(x.completed), count(x.failed), count(x.dropped),
           count(x.dead_lettered), format_rate(x.throughput), secs(x.latency.mean, lat),
           secs(x.latency.p50, lat), secs(x.latency.p90, lat), secs(x.latency.p99, lat),
           secs(x.latency.p999, lat), secs(x.latency.max, lat)});
  }
  out += "\nend-to-end latency by workload\n" + w.render();
  if (!s.faults.empty()) {
    Table f({"fault", "kind", "targets", "start", "end"});
    for (const FaultWindow& x : s.faults) {
      std::string targets;
      for (const std::string& t : x.targets) targets += (targets.empty() ? "" : ",") + t;
      f.add({x.name, x.kind, targets.empty() ? "-" : targets, format_time(x.start),
             x.active() ? "(active)" : format_time(x.end)});
    }
    out += "\nfaults\n" + f.render();
  }
  const Ledger& l = s.ledger;
  out += "\nconservation: generated " + count(l.generated) + " = completed " + count(l.completed) +
         " + failed " + count(l.failed) + " + dropped " + count(l.dropped) + " + dead-lettered " +
         count(l.dead_lettered) + " + in flight " + count(l.in_flight) +
         (l.balanced() ? "  OK" : "  VIOLATED") + "\n";
  if (!s.expectations.empty()) out += "\n" + format_expectations_text(s.expectations);
  return out;
}

std::string format_expectations_text(const std::vector<ExpectationResult>& results) {
  size_t width = 0, failed = 0;
  for (const ExpectationResult& r : results) width = std::max(width, r.text.size());
  std::string out = "expectations\n";
  for (const ExpectationResult& r : results) {
    out += std::string(r.passed ? "  PASS  " : "  FAIL  ") + r.text +
           std::string(width - r.text.size(), ' ') + "  measured " + r.measured;
    if (!r.passed) {
      ++failed;
      out += "  (" + r.detail + "; " + r.where.to_string() + ")";
    }
    out += "\n";
  }
  out += "expectations: " + std::to_string(results.size() - failed) + " passed, " +
         std::to_string(failed) + " failed\n";
  return out;
}

std::string format_summary_json(const RunSummary& s, bool include_engine) {
  JsonWriter j;
  auto latency = [&](const LatencySummary& l) {
    j.begin_object();
    j.key("count").value(l.count);
    j.key("mean_s").value(l.mean);
    j.key("p50_s").value(l.p50);
    j.key("p90_s").value(l.p90);
    j.key("p99_s").value(l.p99);
    j.key("p999_s").value(l.p999);
    j.key("max_s").value(l.max);
    j.end_object();
  };
  auto reasons = [&](const std::vector<std::pair<std::string, uint64_t>>& v) {
    j.begin_object();
    for (const auto& [reason, n] : v) j.key(reason).value(n);
    j.end_object();
  };
  j.begin_object();
  j.key("schema").value("dsim.summary/1");
  j.key("scenario").value(s.scenario);
  j.key("seed").value(s.seed);
  j.key("complete").value(s.complete);
  j.key("duration_s").value(s.duration);
  j.key("warmup_s").value(s.warmup);
  j.key("warmed_up").value(s.warmed_up);
  j.key("simulated_s").value(s.simulated);
  j.key("measured_s").value(s.measured);
  j.key("components").begin_array();
  for (const ComponentSummary& c : s.components) {
    j.begin_object();
    j.key("name").value(c.name);
    j.key("kind").value(c.kind);
    j.key("arrivals").value(c.arrivals);
    j.key("served").value(c.served);
    j.key("dropped");
    reasons(c.dropped);
    j.key("failed");
    reasons(c.failed);
    j.key("throughput_per_s").value(c.throughput);
    j.key("latency");
    latency(c.latency);
    j.key("wait");
    latency(c.wait);
    j.key("waited_fraction").value(c.waited_fraction);
    j.key("utilization").value(c.utilization);
    j.key("queue_mean").value(c.mean_queue);
    j.key("queue_max").value(c.max_queue);
    j.key("in_system_mean").value(c.mean_in_system);
    j.key("counters");
    reasons(c.counters);
    if (c.cache_hit_ratio >= 0) j.key("cache_hit_ratio").value(c.cache_hit_ratio);
    j.key("gauges").begin_object();
    for (const ComponentSummary::GaugeSummary& g : c.gauges) {
      j.key(g.name).begin_object();
      j.key("mean").value(g.mean);
      j.key("max").value(g.max);
      j.key("last").value(g.last);
      j.end_object();
    }
    j.end_object();
    if (!c.figures.empty()) {  // only kinds that have figures of their own
      j.key("figures").begin_object();
      for (const auto& [name, value] : c.figures) j.key(name).value(value);
      j.end_object();
    }
    j.end_object();
  }
  j.end_array();
  j.key("workloads").begin_array();
  for (const WorkloadSummary& w : s.workloads) {
    j.begin_object();
    j.key("name").value(w.name);
    j.key("generated").value(w.generated);
    j.key("completed").value(w.completed);
    j.key("failed").value(w.failed);
    j.key("dropped").value(w.dropped);
    j.key("dead_lettered").value(w.dead_lettered);
    j.key("throughput_per_s").value(w.throughput);
    j.key("latency");
    latency(w.latency);
    j.end_object();
  }
  j.end_array();
  // Fault windows; end_s is null for a fault still active when the run ended.
  j.key("faults").begin_array();
  for (const FaultWindow& f : s.faults) {
    j.begin_object();
    j.key("name").value(f.name);
    j.key("kind").value(f.kind);
    j.key("targets").begin_array();
    for (const std::string& t : f.targets) j.value(t);
    j.end_array();
    j.key("start_s").value(f.start.seconds());
    j.key("end_s").value(f.active() ? std::numeric_limits<double>::infinity() : f.end.seconds());
    j.end_object();
  }
  j.end_array();
  const Ledger& l = s.ledger;
  j.key("conservation").begin_object();
  j.key("generated").value(l.generated);
  j.key("completed").value(l.completed);
  j.key("failed").value(l.failed);
  j.key("dropped").value(l.dropped);
  j.key("dead_lettered").value(l.dead_lettered);
  j.key("in_flight").value(l.in_flight);
  j.key("balanced").value(l.balanced());
  j.end_object();
  j.key("expectations").begin_array();
  for (const ExpectationResult& r : s.expectations) {
    j.begin_object();
    j.key("expectation").value(r.text);
    j.key("file").value(r.where.file);
    j.key("line").value(r.where.line);
    j.key("column").value(r.where.column);
    j.key("measured").value(r.measured);
    j.key("passed").value(r.passed);
    j.key("detail").value(r.detail);
    j.end_object();
  }
  j.end_array();
  j.key("engine").begin_object();
  j.key("events").value(s.engine.events);
  if (include_engine) {
    j.key("wall_seconds").value(s.engine.wall_seconds);
    j.key("events_per_second").value(s.engine.events_per_second);
    j.key("peak_rss_bytes").value(s.engine.peak_rss_bytes);
  }
  j.end_object();
  j.end_object();
  return j.str();
}

}  // namespace dsim
