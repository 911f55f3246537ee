// Sections of this file: small formatting helpers; the stylesheet; the header; expectations;
// the charts (each built from the WindowRecorder's series); faults; the tables; the assembly.
#include "output/html_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "core/format.hpp"
#include "output/svg_chart.hpp"

namespace dsim {
namespace {

// --- Formatting helpers ------------------------------------------------------------------

std::string esc(const std::string& s) {
  return xml_escape(s);
}

// 1234567 -> "1,234,567": counts are read, not parsed, here.
std::string grouped(uint64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string percent(double v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%.1f%%", v * 100);
  return buf;
}

std::string fixed2(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string secs_or_dash(double v, bool present) {
  return present ? format_seconds(v) : "&ndash;";
}

uint64_t total(const std::vector<std::pair<std::string, uint64_t>>& v) {
  uint64_t t = 0;
  for (const auto& [_, n] : v) t += n;
  return t;
}

std::vector<double> widen(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

double max_of(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) {
    if (std::isfinite(x)) m = std::max(m, static_cast<double>(x));
  }
  return m;
}

bool is_station(const std::string& kind) {
  return kind != "source" && kind != "sink";
}

// --- Stylesheet ----------------------------------------------------------------------------

// One palette for the page (the charts' colours come from svg_chart's). Print: no backgrounds
// needed, charts and tables kept whole on a page.
const char* kStyle = R"css(
:root{--ink:#1c2330;--muted:#5d6878;--line:#dde2e8;--panel:#f6f8fa;--ok:#1a7f37;--bad:#c62828}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#fff;color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 28px 48px}
.eyebrow{font-size:11px;font-weight:700;letter-spacing:.09em;text-transform:uppercase;color:var(--muted)}
h1{font-size:28px;line-height:1.2;margin:4px 0 6px;letter-spacing:-.01em}
h2{font-size:19px;margin:40px 0 14px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:0 0 2px}
p{margin:0 0 10px}
code{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
.description{color:var(--muted);font-size:15px;max-width:760px}
.status-line{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0 4px}
.badge{display:inline-block;padding:2px 11px;border-radius:999px;border:1px solid currentColor;font-size:12px;font-weight:700;letter-spacing:.02em}
.badge.ok{color:var(--ok);background:#edf7ef}
.badge.bad{color:var(--bad);background:#fdeeee}
.badge.neutral{color:var(--muted);background:var(--panel)}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:10px 24px;margin:18px 0;padding:14px 18px;background:var(--panel);border:1px solid var(--line);border-radius:8px}
.facts dt{font-size:11px;font-weight:600;letter-spacing:.05em;text-transform:uppercase;color:var(--muted)}
.facts dd{margin:0;font-size:15px;font-weight:600;font-variant-numeric:tabular-nums}
.ledger{margin:10px 0 0;font-variant-numeric:tabular-nums}
.ledger.bad{padding:10px 14px;border:2px solid var(--bad);border-radius:6px;background:#fdeeee;color:var(--bad);font-weight:700}
.interrupted{padding:10px 14px;border:2px solid #9a6700;border-radius:6px;background:#fff8e5;font-weight:600}
nav ol{display:flex;flex-wrap:wrap;gap:4px 18px;list-style:none;padding:0;margin:18px 0 0;font-size:13px}
nav a{color:#0b5cad;text-decoration:none}
nav a:hover{text-decoration:underline}
.note{color:var(--muted);font-style:italic}
figure{margin:0 0 30px;break-inside:avoid;page-break-inside:avoid}
.caption{color:var(--muted);font-size:13px;margin:0 0 6px;max-width:860px}
svg{display:block}
svg.chart{width:100%;height:auto}
svg.topology{width:100%;height:auto;margin:4px auto 0}
svg text{font-family:inherit;font-size:12px;fill:#2c3440}
svg .tick{font-size:11px;fill:#5d6878;font-variant-numeric:tabular-nums}
svg .axis-label{font-size:11.5px;fill:#5d6878}
svg .grid{stroke:#e9ecf0;stroke-width:1}
svg .domain,svg .tick-mark{stroke:#8d97a5;stroke-width:1}
svg .line{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}
svg .legend line{stroke-width:2.6;stroke-linecap:round}
svg .band-label{font-size:11px;font-weight:600;fill:#a14600}
svg .band.warmup .band-label{fill:#6b6b6b}
svg .edge{fill:none;stroke:#5b6470;stroke-width:1.4}
svg .edge.back{stroke-dasharray:5 4}
svg .edge-label{font-size:11px;fill:#4a5260;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
svg .node rect{stroke-width:1.5}
svg .node-name{font-size:13px;font-weight:600;fill:#1c2330}
svg .node-kind{font-size:11px}
.table-wrap{overflow-x:auto;margin:0 0 8px}
table{border-collapse:collapse;width:100%;font-size:12.5px;font-variant-numeric:tabular-nums}
th,td{padding:5px 7px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap;vertical-align:top}
th.text,td.text{text-align:left}
td.wrap{white-space:normal;width:100%;color:#3b4452}
h3.subhead{margin:22px 0 2px}
thead th{font-size:11px;font-weight:700;letter-spacing:.04em;text-transform:uppercase;color:var(--muted);border-bottom:2px solid var(--line)}
tbody tr:nth-child(even){background:#fafbfc}
.verdict{font-weight:700}
.verdict.pass{color:var(--ok)}
.verdict.fail{color:var(--bad)}
footer{margin-top:40px;padding-top:12px;border-top:1px solid var(--line);color:var(--muted);font-size:12px}
@media print{
  main{max-width:none;padding:0}
  nav{display:none}
  h2{break-after:avoid;page-break-after:avoid}
  table,figure,.facts{break-inside:avoid;page-break-inside:avoid}
  .table-wrap{overflow:visible}
  tbody tr:nth-child(even){background:none}
  .facts{background:none}
}
@page{margin:14mm}
)css";

// --- Header --------------------------------------------------------------------------------

std::string fact(const std::string& term, const std::string& value) {
  return "<div><dt>" + esc(term) + "</dt><dd>" + value + "</dd></div>";
}

std::string render_header(const HtmlReportInput& in, size_t passed, size_t failed) {
  const RunSummary& s = in.summary;
  std::string o =
      "<header>\n<div class=\"eyebrow\">dsim run report</div>\n<h1>" + esc(s.scenario) + "</h1>\n";
  if (!in.description.empty()) o += "<p class=\"description\">" + esc(in.description) + "</p>\n";
  o += "<div class=\"status-line\">";
  o += s.complete ? "<span class=\"badge ok\">complete run</span>"
                  : "<span class=\"badge bad\">interrupted: incomplete</span>";
  o += s.ledger.balanced() ? "<span class=\"badge ok\">ledger balanced</span>"
                           : "<span class=\"badge bad\">LEDGER UNBALANCED</span>";
  if (!in.expectations.empty()) {
    o += failed ? "<span class=\"badge bad\">" + std::to_string(failed) + " of " +
                      std::to_string(in.expectations.size()) + " expectations failed</span>"
                : "<span class=\"badge ok\">all " + std::to_string(passed) +
                      " expectations passed</span>";
  }
  if (!in.faults.empty())
    o += "<span class=\"badge neutral\">" + std::to_string(in.faults.size()) + " fault window" +
         (in.faults.size() == 1 ? "" : "s") + "</span>";
  o += "</div>\n";
  if (!s.complete) {
    o += "<p class=\"interrupted\">The run was interrupted at " + format_seconds(s.simulated) +
         " of " + format_seconds(s.duration) +
         " simulated: every figure below covers only the simulated time reached.</p>\n";
  }
  o += "<dl class=\"facts\">";
  o += fact("seed", std::to_string(s.seed));
  o += fact("duration", format_seconds(s.duration));
  o += fact("warm-up", s.warmup > 0
                           ? format_seconds(s.warmup) + (s.warmed_up ? "" : " (not reached)")
                           : "none");
  o += fact("window", format_seconds(in.window_s));
  o += fact("simulated", format_seconds(s.simulated));
  o += fact("measured", format_seconds(s.measured));
  o += fact("components", std::to_string(s.components.size()));
  o += fact("events", grouped(s.engine.events));
  o += "</dl>\n";
  const Ledger& l = s.ledger;
  o += std::string("<p class=\"ledger ") + (l.balanced() ? "ok" : "bad") +
       "\"><strong>Conservation</strong> (whole run): generated " + grouped(l.generated) +
       " = completed " + grouped(l.completed) + " + failed " + grouped(l.failed) + " + dropped " +
       grouped(l.dropped) + " + dead-lettered " + grouped(l.dead_lettered) + " + in flight " +
       grouped(l.in_flight) +
       (l.balanced() ? " &mdash; balanced."
                     : " &mdash; UNBALANCED: requests are missing from the count (an engine "
                       "bug).") +
       "</p>\n";
  o += "<nav><ol><li><a href=\"#expectations\">Expectations</a></li><li><a "
       "href=\"#topology\">Topology</a></li><li><a href=\"#charts\">Charts</a></li>"
       "<li><a href=\"#faults\">Faults</a></li><li><a href=\"#components\">Components</a></li>"
       "<li><a href=\"#workloads\">Workloads</a></li></ol></nav>\n</header>\n";
  return o;
}

// --- Expectations --------------------------------------------------------------------------

std::string render_expectations(const std::vector<ExpectationResult>& results) {
  std::string o = "<section id=\"expectations\">\n<h2>Expectations</h2>\n";
  if (results.empty()) {
    return o +
           "<p class=\"note\">The scenario has no expectations (no <code>expect:</code> "
           "section).</p>\n</section>\n";
  }
  o += "<div class=\"table-wrap\"><table>\n<thead><tr><th class=\"text\">verdict</th><th "
       "class=\"text\">expectation</th><th>measured</th><th class=\"text\">detail</th><th "
       "class=\"text\">where</th></tr></thead>\n<tbody>\n";
  for (const ExpectationResult& r : results) {
    std::string where = r.where.file;
    if (r.where.line) {  // appended: GCC 12 warns falsely on ":" + std::string (bug 105329)
      where += ':';
      where += std::to_string(r.where.line);
    }
    o += std::string("<tr><td class=\"text verdict ") + (r.passed ? "pass\">PASS" : "fail\">FAIL") +
         "</td><td class=\"text\"><code>" + esc(r.text) + "</code></td><td>" + esc(r.measured) +
         "</td><td class=\"text wrap\">" + esc(r.detail) + "</td><td class=\"text\">" + esc(where) +
         "</td></tr>\n";
  }
  return o + "</tbody></table></div>\n</section>\n";
}

// --- Charts --------------------------------------------------------------------------------

struct ChartContext {
  const HtmlReportInput& in;
  std::vector<double> x;  // window ends, seconds
  std::vector<ChartBand> bands;
};

LineChart base_chart(const ChartContext& ctx, const std::string& id, const std::string& title,
                     const std::string& y_label, AxisFormat y) {
  LineChart c;
  c.id = id;
  c.title = title;
  c.y_label = y_label;
  c.y_format = y;
  c.x_min = 0;
  c.x_max = ctx.in.summary.simulated;
  c.bands = ctx.bands;
  return c;
}

ChartSeries series(const ChartContext& ctx, std::string name, const std::vector<float>& y) {
  ChartSeries s;
  s.name = std::move(name);
  s.x = ctx.x;
  s.y = widen(y);
  return s;
}

std::string figure(const LineChart& chart, const std::string& caption) {
  return "<figure id=\"chart-" + esc(chart.id) + "\">\n<h3>" + esc(chart.title) +
         "</h3>\n<p class=\"caption\">" + caption + "</p>\n" + render_svg(chart) + "</figure>\n";
}

std::string empty_figure(const std::string& title, const std::string& note) {
  return "<figure>\n<h3>" + esc(title) + "</h3>\n<p class=\"note\">" + note + "</p>\n</figure>\n";
}

// Up to `limit` of the candidates, the largest by `key` (ties: file order), shown in file order.
std::vector<size_t> top(std::vector<size_t> candidates, size_t limit,
                        const std::vector<double>& key) {
  if (candidates.size() <= limit) return candidates;
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](size_t a, size_t b) { return key[a] > key[b]; });
  candidates.resize(limit);
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

constexpr size_t kMaxLines = 8;

std::string shown_of(size_t shown, size_t of, const std::string& what) {
  return shown < of ? " Showing the " + std::to_string(shown) + " " + what + " of " +
                          std::to_string(of) + "."
                    : "";
}

std::string render_charts(const HtmlReportInput& in) {
  const WindowRecorder& w = in.windows;
  const RunSummary& s = in.summary;
  std::string o = "<section id=\"charts\">\n<h2>Over time</h2>\n";
  if (w.windows() == 0) {
    return o +
           "<p class=\"note\">No window of simulated time was completed, so there is "
           "nothing to plot.</p>\n</section>\n";
  }
  ChartContext ctx{in, w.window_end_s(), {}};
  if (s.warmup > 0) ctx.bands.push_back({0, std::min(s.warmup, s.simulated), "warm-up", false});
  for (const FaultWindow& f : in.faults) {
    const double end = f.active() ? s.simulated : f.end.seconds();
    ctx.bands.push_back({f.start.seconds(), end, f.name + " (" + f.kind + ")", true});
  }
  o += "<p class=\"caption\">One point per window of " + format_seconds(in.window_s) +
       " of simulated time, plotted at the window's end" +
       (s.warmup > 0 ? "; the warm-up is shaded grey" : std::string()) +
       (in.faults.empty() ? "" : "; fault windows are hatched and labelled") +
       ". Long runs are thinned to the lowest and highest value of groups of windows, so peaks "
       "stay visible.</p>\n";

  // Workloads that completed something (a queue's workload with no consumer has nothing to plot).
  std::vector<size_t> active;
  for (size_t i = 0; i < s.workloads.size() && i < w.workloads().size(); ++i) {
    if (max_of(w.workloads()[i].completed_per_s) > 0) active.push_back(i);
  }
  const size_t n_workloads = active.size();
  {  // Throughput by workload.
    LineChart c = base_chart(ctx, "throughput", "Throughput by workload", "completed per second",
                             AxisFormat::rate);
    for (size_t i : active)
      c.series.push_back(series(ctx, s.workloads[i].name, w.workloads()[i].completed_per_s));
    o += c.series.empty()
             ? empty_figure(c.title, "No workload.")
             : figure(c, "Requests of each workload that completed end to end, per second.");
  }
  {  // End-to-end latency: colour = percentile, dash = workload.
    LineChart c = base_chart(ctx, "latency", "End-to-end latency by workload",
                             "latency of completed requests", AxisFormat::seconds);
    for (size_t k = 0; k < n_workloads; ++k) {
      const size_t i = active[k];
      const auto& ws = w.workloads()[i];
      const std::string prefix = n_workloads > 1 ? s.workloads[i].name + " " : "";
      const std::pair<const char*, const std::vector<float>*> percentiles[] = {
          {"p50", &ws.p50_s}, {"p99", &ws.p99_s}, {"p99.9", &ws.p999_s}};
      for (int p = 0; p < 3; ++p) {
        ChartSeries cs = series(ctx, prefix + percentiles[p].first, *percentiles[p].second);
        cs.colour = p;
        cs.dash = static_cast<int>(k);
        c.series.push_back(std::move(cs));
      }
    }
    o += c.series.empty()
             ? empty_figure(c.title, "No workload.")
             : figure(c,
                      "Percentiles of the time from a request's creation at its "
                      "source to its completion, over the requests completed in "
                      "each window (a gap: none completed)." +
                          std::string(n_workloads > 1 ? " Colour gives the percentile, the "
                                                        "dash pattern the workload."
                                                      : ""));
  }
  // Stations: the components that hold requests (not the sources and sinks) and served some.
  std::vector<size_t> stations;
  std::vector<double> served_total(s.components.size(), 0), p99_peak(s.components.size(), 0),
      queue_peak(s.components.size(), 0);
  for (size_t i = 0; i < s.components.size() && i < w.components().size(); ++i) {
    const auto& cs = w.components()[i];
    served_total[i] = std::accumulate(cs.served_per_s.begin(), cs.served_per_s.end(), 0.0);
    p99_peak[i] = max_of(cs.p99_s);
    queue_peak[i] = max_of(cs.queue_max);
    if (is_station(s.components[i].kind) && served_total[i] > 0) stations.push_back(i);
  }
  {  // Served per second by component.
    const std::vector<size_t> shown = top(stations, kMaxLines, served_total);
    LineChart c = base_chart(ctx, "component-throughput", "Throughput by component",
                             "served per second", AxisFormat::rate);
    for (size_t i : shown)
      c.series.push_back(series(ctx, s.components[i].name, w.components()[i].served_per_s));
    o += c.series.empty()
             ? empty_figure(c.title, "No component between the sources and the sinks.")
             : figure(c, "Requests each component finished serving, per second." +
                             shown_of(shown.size(), stations.size(), "busiest components"));
  }
  {  // p99 by component.
    const std::vector<size_t>& serving = stations;
    const std::vector<size_t> shown = top(serving, kMaxLines, p99_peak);
    LineChart c = base_chart(ctx, "component-latency", "p99 latency by component",
                             "time spent in the component, p99", AxisFormat::seconds);
    for (size_t i : shown)
      c.series.push_back(series(ctx, s.components[i].name, w.components()[i].p99_s));
    o += c.series.empty()
             ? empty_figure(c.title, "No component served a request.")
             : figure(c,
                      "The 99th percentile of the time requests spent in each component "
                      "(waiting and in service), per window." +
                          shown_of(shown.size(), serving.size(), "slowest components"));
  }
  {  // Failures by reason.
    LineChart c =
        base_chart(ctx, "failures", "Failures by reason", "requests per second", AxisFormat::rate);
    for (int r = 1; r < kReasonCount; ++r) {
      const auto reason = static_cast<Reason>(r);
      if (w.failures(reason) == 0) continue;
      c.series.push_back(series(ctx, to_string(reason), w.failures_per_s()[r]));
    }
    o += c.series.empty()
             ? empty_figure(c.title, "No request failed, was dropped or was dead-lettered.")
             : figure(c,
                      "Requests whose life ended unsuccessfully (failed, dropped or "
                      "dead-lettered), per second, by the reason they ended for. Only reasons "
                      "that occurred are shown; the per-component table lists where.");
  }
  {  // Queue depths.
    std::vector<size_t> queued;
    for (size_t i = 0; i < s.components.size() && i < w.components().size(); ++i) {
      if (queue_peak[i] > 0) queued.push_back(i);
    }
    const std::vector<size_t> shown = top(queued, kMaxLines, queue_peak);
    LineChart c = base_chart(ctx, "queues", "Queue depth by component",
                             "waiting requests (most in the window)", AxisFormat::count);
    for (size_t i : shown)
      c.series.push_back(series(ctx, s.components[i].name, w.components()[i].queue_max));
    o += c.series.empty()
             ? empty_figure(c.title, "No request ever waited in a queue.")
             : figure(c,
                      "The longest queue of each component within each window (requests "
                      "waiting, not in service; for a queue, the messages stored)." +
                          shown_of(shown.size(), queued.size(), "longest queues"));
  }
  {  // Dead-letter queues.
    LineChart c = base_chart(ctx, "dlq", "Dead-letter queue depth", "messages dead-lettered",
                             AxisFormat::count);
    for (size_t i = 0; i < s.components.size() && i < w.components().size(); ++i) {
      const auto& gauges = s.components[i].gauges;
      const bool has_dlq = std::any_of(gauges.begin(), gauges.end(), [](const auto& g) {
        return g.name == to_string(Gauge::dlq_depth);
      });
      if (has_dlq)
        c.series.push_back(series(ctx, s.components[i].name, w.components()[i].dlq_depth));
    }
    o += c.series.empty()
             ? empty_figure(c.title, "No queue has a dead-letter queue (max_receives).")
             : figure(c,
                      "Messages each queue has moved to its dead-letter queue (the dlq_depth "
                      "gauge at each window's end): a rising line is messages given up on.");
  }
  return o + "</section>\n";
}

// --- Faults --------------------------------------------------------------------------------

std::string render_faults(const std::vector<FaultWindow>& faults) {
  std::string o = "<section id=\"faults\">\n<h2>Faults</h2>\n";
  if (faults.empty())
    return o + "<p class=\"note\">No fault was active during the run.</p>\n</section>\n";
  o += "<div class=\"table-wrap\"><table>\n<thead><tr><th class=\"text\">fault</th><th "
       "class=\"text\">kind</th><th class=\"text\">targets</th><th>start</th><th>end</th><th>"
       "length</th></tr></thead>\n<tbody>\n";
  for (const FaultWindow& f : faults) {
    std::string targets;
    for (const std::string& t : f.targets) targets += (targets.empty() ? "" : ", ") + t;
    o += "<tr><td class=\"text\">" + esc(f.name) + "</td><td class=\"text\">" + esc(f.kind) +
         "</td><td class=\"text\">" + esc(targets) + "</td><td>" + format_time(f.start) +
         "</td><td>" + (f.active() ? "still active" : format_time(f.end)) + "</td><td>" +
         (f.active() ? "&ndash;" : format_time(f.end - f.start)) + "</td></tr>\n";
  }
  return o + "</tbody></table></div>\n</section>\n";
}

// --- Tables --------------------------------------------------------------------------------

std::string render_components(const RunSummary& s) {
  std::string o =
      "<section id=\"components\">\n<h2>Components</h2>\n<p class=\"caption\">Over the measured "
      "period (after the warm-up). Latency is the time spent in the component, waiting and in "
      "service; lost is dropped or failed here.</p>\n<div class=\"table-wrap\"><table>\n"
      "<thead><tr><th class=\"text\">component</th><th class=\"text\">kind</th><th>arrivals</th>"
      "<th>served</th><th>lost</th><th>throughput</th><th>mean</th><th>p50</th><th>p99</th>"
      "<th>p99.9</th><th>max</th><th>util</th><th>queue avg</th><th>queue max</th>"
      "</tr></thead>\n<tbody>\n";
  std::string details_rows;
  for (const ComponentSummary& c : s.components) {
    const bool station = is_station(c.kind);
    const bool lat = station && c.latency.count > 0;
    std::string details;
    auto add = [&](const std::string& text) { details += (details.empty() ? "" : "; ") + text; };
    for (const auto& [reason, n] : c.dropped) add("dropped " + reason + " " + grouped(n));
    for (const auto& [reason, n] : c.failed) add("failed " + reason + " " + grouped(n));
    for (const auto& [name, n] : c.counters) add(name + " " + grouped(n));
    if (c.cache_hit_ratio >= 0) add("hit ratio " + percent(c.cache_hit_ratio));
    for (const ComponentSummary::GaugeSummary& g : c.gauges)
      add(g.name + " avg " + fixed2(g.mean) + " max " + std::to_string(g.max));
    for (const auto& [name, value] : c.figures) add(name + " " + format_number(value));
    o += "<tr><td class=\"text\">" + esc(c.name) + "</td><td class=\"text\">" + esc(c.kind) +
         "</td><td>" + grouped(c.arrivals) + "</td><td>" + grouped(c.served) + "</td><td>" +
         grouped(total(c.dropped) + total(c.failed)) + "</td><td>" + format_rate(c.throughput) +
         "</td><td>" + secs_or_dash(c.latency.mean, lat) + "</td><td>" +
         secs_or_dash(c.latency.p50, lat) + "</td><td>" + secs_or_dash(c.latency.p99, lat) +
         "</td><td>" + secs_or_dash(c.latency.p999, lat) + "</td><td>" +
         secs_or_dash(c.latency.max, lat) + "</td><td>" +
         (station ? percent(c.utilization) : "&ndash;") + "</td><td>" +
         (station ? fixed2(c.mean_queue) : "&ndash;") + "</td><td>" +
         (station ? std::to_string(c.max_queue) : "&ndash;") + "</td></tr>\n";
    if (!details.empty())
      details_rows += "<tr><td class=\"text\">" + esc(c.name) + "</td><td class=\"text wrap\">" +
                      esc(details) + "</td></tr>\n";
  }
  o += "</tbody></table></div>\n";
  if (!details_rows.empty()) {
    o += "<h3 class=\"subhead\">Losses, events and levels</h3>\n<p class=\"caption\">Losses by "
         "reason, kind-specific counters (retries, redeliveries...), gauges (average and most) "
         "and the kind's own figures.</p>\n<div class=\"table-wrap\"><table class=\"details\">"
         "\n<thead><tr><th class=\"text\">component</th><th class=\"text\">figures</th></tr>"
         "</thead>\n<tbody>\n" +
         details_rows + "</tbody></table></div>\n";
  }
  return o + "</section>\n";
}

std::string render_workloads(const RunSummary& s) {
  std::string o =
      "<section id=\"workloads\">\n<h2>Workloads</h2>\n<p class=\"caption\">End to end, for the "
      "requests created after the warm-up.</p>\n<div class=\"table-wrap\"><table>\n<thead><tr>"
      "<th class=\"text\">workload</th><th>generated</th><th>completed</th><th>failed</th>"
      "<th>dropped</th><th>dead-lettered</th><th>throughput</th><th>mean</th><th>p50</th>"
      "<th>p99</th><th>p99.9</th><th>max</th></tr></thead>\n<tbody>\n";
  for (const WorkloadSummary& w : s.workloads) {
    const bool lat = w.latency.count > 0;
    o += "<tr><td class=\"text\">" + esc(w.name) + "</td><td>" + grouped(w.generated) +
         "</td><td>" + grouped(w.completed) + "</td><td>" + grouped(w.failed) + "</td><td>" +
         grouped(w.dropped) + "</td><td>" + grouped(w.dead_lettered) + "</td><td>" +
         format_rate(w.throughput) + "</td><td>" + secs_or_dash(w.latency.mean, lat) + "</td><td>" +
         secs_or_dash(w.latency.p50, lat) + "</td><td>" + secs_or_dash(w.latency.p99, lat) +
         "</td><td>" + secs_or_dash(w.latency.p999, lat) + "</td><td>" +
         secs_or_dash(w.latency.max, lat) + "</td></tr>\n";
  }
  return o + "</tbody></table></div>\n</section>\n";
}

}  // namespace

// --- Assembly ------------------------------------------------------------------------------

std::string render_html_report(const HtmlReportInput& in) {
  const RunSummary& s = in.summary;
  size_t passed = 0;
  for (const ExpectationResult& r : in.expectations) passed += r.passed ? 1 : 0;
  const size_t failed = in.expectations.size() - passed;

  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  o += "<meta name=\"generator\" content=\"dsim\">\n";
  o += "<title>dsim report: " + esc(s.scenario) + (s.complete ? "" : " (interrupted)") +
       "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n";
  o += render_header(in, passed, failed);
  o += render_expectations(in.expectations);
  o += "<section id=\"topology\">\n<h2>Topology</h2>\n<p class=\"caption\">Components by kind; "
       "an arrow for each reference, labelled with the key that makes it (target, next, call, "
       "publish...). Layers follow the longest path from the sources; dashed arrows lead back "
       "(cycles).</p>\n" +
       render_topology_svg(in.topology, "topology-diagram") + "</section>\n";
  o += render_charts(in);
  o += render_faults(in.faults);
  o += render_components(s);
  o += render_workloads(s);
  o += "<footer>Written by <code>dsim run</code> from <code>" + esc(in.file) +
       "</code> with seed " + std::to_string(s.seed) +
       ". The same scenario and seed give this same file, byte for byte.</footer>\n";
  o += "</main>\n</body>\n</html>\n";
  return o;
}

}  // namespace dsim
