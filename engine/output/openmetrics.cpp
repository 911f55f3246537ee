#include "output/openmetrics.hpp"

#include <charconv>
#include <cmath>
#include <vector>

#include "core/simulation.hpp"
#include "output/fixed_point.hpp"
#include "output/run_summary.hpp"

namespace dsim {

namespace {

// 1-2-5 per decade, 1 us to 100 s; `le` texts in the canonical rendering the spec asks for (Go's
// %g, with ".0" added to whole numbers).
constexpr OpenMetricsBound kBounds[] = {
    {1'000, "1e-06"},           {2'000, "2e-06"},         {5'000, "5e-06"},
    {10'000, "1e-05"},          {20'000, "2e-05"},        {50'000, "5e-05"},
    {100'000, "0.0001"},        {200'000, "0.0002"},      {500'000, "0.0005"},
    {1'000'000, "0.001"},       {2'000'000, "0.002"},     {5'000'000, "0.005"},
    {10'000'000, "0.01"},       {20'000'000, "0.02"},     {50'000'000, "0.05"},
    {100'000'000, "0.1"},       {200'000'000, "0.2"},     {500'000'000, "0.5"},
    {1'000'000'000, "1.0"},     {2'000'000'000, "2.0"},   {5'000'000'000, "5.0"},
    {10'000'000'000, "10.0"},   {20'000'000'000, "20.0"}, {50'000'000'000, "50.0"},
    {100'000'000'000, "100.0"},
};

// Shortest text that reads back as the same double: deterministic across runs and platforms.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}
std::string number(uint64_t v) {
  return std::to_string(v);
}
std::string number(int64_t v) {
  return std::to_string(v);
}

using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
 public:
  // Metadata in the order the spec recommends: TYPE, UNIT, HELP.
  void family(const std::string& name, const char* type, const char* unit, const char* help) {
    out_ += "# TYPE " + name + " " + type + "\n";
    if (*unit) out_ += "# UNIT " + name + " " + unit + "\n";
    out_ += "# HELP " + name + " " + openmetrics_escape(help) + "\n";
  }
  void sample(const std::string& name, const Labels& labels, const std::string& value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_ += labels[i].first + "=\"" + openmetrics_escape(labels[i].second) + "\"";
      }
      out_ += '}';
    }
    out_ += ' ' + value + '\n';
  }
  void histogram(const std::string& name, Labels labels, const LatencyHistogram& h) {
    labels.emplace_back("le", "");
    for (const OpenMetricsBound& b : kBounds) {
      labels.back().second = b.le;
      sample(name + "_bucket", labels, number(h.count_at_most(b.ns)));
    }
    labels.back().second = "+Inf";
    sample(name + "_bucket", labels, number(h.count()));
    labels.pop_back();
    sample(name + "_count", labels, number(h.count()));
    sample(name + "_sum", labels, number(h.sum() * 1e-9));
  }
  std::string finish() { return out_ + "# EOF\n"; }

 private:
  std::string out_;
};

Labels component_labels(const Component& c) {
  return {{"component", c.name()}, {"kind", c.kind()}};
}

// Kind-specific gauges: a name in base units (seconds, bytes) where the level has a unit.
struct GaugeExport {
  std::string name;
  const char* unit;
  double scale;
};
GaugeExport gauge_export(Gauge g) {
  const std::string n = to_string(g);
  if (g == Gauge::replication_lag_ms)
    return {"dsim_component_replication_lag_seconds", "seconds", 1e-3};
  if (n.size() > 6 && n.compare(n.size() - 6, 6, "_bytes") == 0)
    return {"dsim_component_" + n, "bytes", 1};
  return {"dsim_component_" + n, "", 1};
}

}  // namespace

std::string openmetrics_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const OpenMetricsBound* openmetrics_latency_bounds(int* count) {
  *count = static_cast<int>(std::size(kBounds));
  return kBounds;
}

std::string format_openmetrics(const Simulation& sim, const RunSummary& s) {
  Exposition x;
  const auto& components = sim.components();

  // --- The run ---
  x.family("dsim_run", "info", "", "The scenario and seed of this run.");
  x.sample("dsim_run_info", {{"scenario", s.scenario}, {"seed", std::to_string(s.seed)}}, "1");
  x.family("dsim_run_complete", "gauge", "",
           "1 if the run reached its end time, 0 if it was interrupted (figures cover less time).");
  x.sample("dsim_run_complete", {}, s.complete ? "1" : "0");
  x.family("dsim_run_simulated_seconds", "gauge", "seconds", "Simulated time reached.");
  x.sample("dsim_run_simulated_seconds", {}, fixed_point_text(sim.now().count_ns(), 9));
  x.family("dsim_run_measured_seconds", "gauge", "seconds",
           "Simulated time after the warm-up: the span the counters and histograms cover.");
  x.sample("dsim_run_measured_seconds", {},
           fixed_point_text((sim.now() - sim.measured_since()).count_ns(), 9));
  x.family("dsim_run_generated_requests", "counter", "",
           "Requests generated over the whole run, warm-up included (the conservation ledger).");
  x.sample("dsim_run_generated_requests_total", {}, number(s.ledger.generated));
  x.family("dsim_run_finished_requests", "counter", "",
           "Requests that ended over the whole run, by outcome (the conservation ledger).");
  x.sample("dsim_run_finished_requests_total", {{"outcome", "completed"}},
           number(s.ledger.completed));
  x.sample("dsim_run_finished_requests_total", {{"outcome", "failed"}}, number(s.ledger.failed));
  x.sample("dsim_run_finished_requests_total", {{"outcome", "dropped"}}, number(s.ledger.dropped));
  x.sample("dsim_run_finished_requests_total", {{"outcome", "dead_lettered"}},
           number(s.ledger.dead_lettered));
  x.family("dsim_run_in_flight_requests", "gauge", "", "Requests still in flight at the end.");
  x.sample("dsim_run_in_flight_requests", {}, number(s.ledger.in_flight));

  // --- Components ---
  x.family("dsim_component_arrivals", "counter", "", "Requests that arrived at the component.");
  for (const auto& c : components)
    x.sample("dsim_component_arrivals_total", component_labels(*c),
             number(c->metrics().arrivals()));
  x.family("dsim_component_served", "counter", "", "Requests the component served.");
  for (const auto& c : components)
    x.sample("dsim_component_served_total", component_labels(*c), number(c->metrics().served()));
  x.family("dsim_component_lost", "counter", "",
           "Requests dropped or failed at the component, by outcome and reason (non-zero only).");
  for (const auto& c : components) {
    for (int r = 0; r < kReasonCount; ++r) {
      const char* reason = to_string(static_cast<Reason>(r));
      for (const auto& [outcome, counts] : {std::pair{"dropped", &c->metrics().dropped()},
                                            std::pair{"failed", &c->metrics().failed()}}) {
        if (!(*counts)[r]) continue;
        Labels l = component_labels(*c);
        l.emplace_back("outcome", outcome);
        l.emplace_back("reason", reason);
        x.sample("dsim_component_lost_total", l, number((*counts)[r]));
      }
    }
  }
  for (int k = 0; k < kCounterCount; ++k) {
    const auto counter = static_cast<Counter>(k);
    bool any = false;
    for (const auto& c : components) any = any || c->metrics().counter(counter) > 0;
    if (!any) continue;  // a kind-specific event nobody had
    const std::string name = std::string("dsim_component_") + to_string(counter);
    x.family(name, "counter", "", "Kind-specific events (see docs/outputs.md); non-zero only.");
    for (const auto& c : components) {
      if (c->metrics().counter(counter))
        x.sample(name + "_total", component_labels(*c), number(c->metrics().counter(counter)));
    }
  }
  x.family("dsim_component_latency_seconds", "histogram", "seconds",
           "Time in the component, arrival to leaving (wait + service).");
  for (const auto& c : components)
    x.histogram("dsim_component_latency_seconds", component_labels(*c), c->metrics().latency());
  x.family("dsim_component_wait_seconds", "histogram", "seconds",
           "Time from arrival to service start.");
  for (const auto& c : components)
    x.histogram("dsim_component_wait_seconds", component_labels(*c), c->metrics().wait());
  x.family("dsim_component_utilization_ratio", "gauge", "ratio",
           "Busy workers / available workers, time-weighted over the measured period.");
  for (size_t i = 0; i < components.size(); ++i)
    x.sample("dsim_component_utilization_ratio", component_labels(*components[i]),
             number(s.components[i].utilization));
  x.family("dsim_component_queue_depth", "gauge", "", "Requests waiting at the end of the run.");
  for (const auto& c : components)
    x.sample("dsim_component_queue_depth", component_labels(*c),
             number(c->metrics().queue().level()));
  x.family("dsim_component_in_system", "gauge", "",
           "Requests waiting or in service at the end of the run.");
  for (const auto& c : components)
    x.sample("dsim_component_in_system", component_labels(*c),
             number(c->metrics().in_system().level()));
  for (int g = 0; g < kGaugeCount; ++g) {
    const auto gauge = static_cast<Gauge>(g);
    bool any = false;
    for (const auto& c : components) any = any || c->metrics().uses(gauge);
    if (!any) continue;
    const GaugeExport e = gauge_export(gauge);
    x.family(e.name, "gauge", e.unit, "Kind-specific level at the end of the run.");
    for (const auto& c : components) {
      if (!c->metrics().uses(gauge)) continue;
      const int64_t level = c->metrics().gauge(gauge).level();
      x.sample(e.name, component_labels(*c),
               e.scale == 1 ? number(level) : number(static_cast<double>(level) * e.scale));
    }
  }

  // --- Workloads ---
  x.family("dsim_workload_generated", "counter", "",
           "Requests of the workload generated in the measured period.");
  for (const WorkloadStats& w : sim.workloads())
    x.sample("dsim_workload_generated_total", {{"workload", w.name}}, number(w.generated));
  x.family("dsim_workload_requests", "counter", "",
           "Requests of the workload generated in the measured period that ended, by outcome.");
  for (const WorkloadStats& w : sim.workloads()) {
    for (const auto& [outcome, n] :
         {std::pair{"completed", w.completed}, std::pair{"failed", w.failed},
          std::pair{"dropped", w.dropped}, std::pair{"dead_lettered", w.dead_lettered}}) {
      x.sample("dsim_workload_requests_total", {{"workload", w.name}, {"outcome", outcome}},
               number(n));
    }
  }
  x.family("dsim_workload_latency_seconds", "histogram", "seconds",
           "End-to-end latency of the workload's completed requests.");
  for (const WorkloadStats& w : sim.workloads())
    x.histogram("dsim_workload_latency_seconds", {{"workload", w.name}}, w.latency);
  return x.finish();
}

}  // namespace dsim
