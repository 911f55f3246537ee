// Sections: 1. Tally, the figures of one span of the run, and a measure's value from it
// 2. time points against the fault timeline  3. the Observer (gathering)  4. verdicts.
#include "output/expectation_check.hpp"

#include <algorithm>
#include <cmath>

#include "core/format.hpp"

namespace dsim {
namespace {

// ---------------------------------------------------------------------------------------------
// 1. Tally

// The figures of one span of the run (the whole measured period, a window of it, one time-series
// window), for the requests of a workload or for one component. Only the level the measure looks
// at is kept.
struct Tally {
  uint64_t generated = 0, completed = 0, arrivals = 0, dead_lettered = 0;
  std::array<uint64_t, kReasonCount> failed{}, dropped{}, dead{};
  std::array<uint64_t, kCounterCount> counters{};
  std::unique_ptr<LatencyHistogram> latency;  // only for measures of latency
  int64_t level_max = 0, level_last = 0;
  double level_area = 0;  // level x seconds
  bool level_seen = false;
  double busy_area = 0, capacity_area = 0;  // workers x seconds, for utilization
  double span_s = 0;

  explicit Tally(bool with_latency = false) {
    if (with_latency) latency = std::make_unique<LatencyHistogram>();
  }
  void clear() {
    std::unique_ptr<LatencyHistogram> h = std::move(latency);
    *this = Tally();
    if (h) h->reset();
    latency = std::move(h);
  }
};

uint64_t sum(const std::array<uint64_t, kReasonCount>& a) {
  uint64_t n = 0;
  for (uint64_t v : a) n += v;
  return n;
}

void add_request(Tally& t, Time now, const Request& r, Outcome outcome, Reason reason) {
  const int i = static_cast<int>(reason);
  switch (outcome) {
    case Outcome::completed:
      ++t.completed;
      if (t.latency) t.latency->record((now - r.created).count_ns());
      break;
    case Outcome::failed:
      ++t.failed[i];
      break;
    case Outcome::dropped:
      ++t.dropped[i];
      break;
    case Outcome::dead_lettered:
      ++t.dead[i];
      ++t.dead_lettered;
      break;
  }
}

// One time-series window of a component, read while the simulation closes it (its window part
// is still intact then).
void add_window(Tally& t, const StationMetrics& m, const Measure& measure, Time start, Time end) {
  t.arrivals += m.window_arrivals();
  t.completed += m.window_served();
  const auto& lost = m.window_lost_by_reason();
  for (int r = 0; r < kReasonCount; ++r) {
    (outcome_of(static_cast<Reason>(r)) == Outcome::dropped ? t.dropped : t.failed)[r] += lost[r];
  }
  for (int c = 0; c < kCounterCount; ++c) t.counters[c] += m.window_counters()[c];
  t.dead_lettered = t.counters[static_cast<int>(Counter::dead_lettered)];
  if (t.latency) t.latency->merge(m.window_latency());
  const double span = (end - start).seconds();
  const TimeWeightedLevel& level = level_of(m, measure);
  t.level_max = t.level_seen ? std::max(t.level_max, level.window_max()) : level.window_max();
  t.level_seen = true;
  t.level_last = level.level();
  t.level_area += level.window_mean(end) * span;
  t.busy_area += m.busy().window_mean(end) * span;
  t.capacity_area += m.capacity().window_mean(end) * span;
  t.span_s += span;
}

// A component's figures since the end of warm-up (exact: its own counters and integrals).
void add_station_total(Tally& t, const StationMetrics& m, const Measure& measure, Time now) {
  t.arrivals = m.arrivals();
  t.completed = m.served();
  t.failed = m.failed();
  t.dropped = m.dropped();
  t.counters = m.counters();
  t.dead_lettered = t.counters[static_cast<int>(Counter::dead_lettered)];
  if (t.latency) t.latency->merge(m.latency());
  const double span = (now - m.since()).seconds();
  const TimeWeightedLevel& level = level_of(m, measure);
  t.level_max = level.max();
  t.level_last = level.level();
  t.level_seen = true;
  t.level_area = level.mean(m.since(), now) * span;
  t.busy_area = m.busy().mean(m.since(), now) * span;
  t.capacity_area = m.capacity().mean(m.since(), now) * span;
  t.span_s = span;
}

uint64_t count_of(const Measure& m, const Tally& t) {
  const int i = m.index;
  switch (m.quantity) {
    case Quantity::generated:
      return t.generated;
    case Quantity::completed:
      return t.completed;
    case Quantity::failed:
      return i >= 0 ? t.failed[i] : sum(t.failed);
    case Quantity::dropped:
      return i >= 0 ? t.dropped[i] : sum(t.dropped);
    case Quantity::dead_lettered:
      return t.dead_lettered;
    case Quantity::lost:
      return i >= 0 ? t.failed[i] + t.dropped[i] + t.dead[i]
                    : sum(t.failed) + sum(t.dropped) + sum(t.dead);
    case Quantity::arrivals:
      return t.arrivals;
    case Quantity::counter:
      return t.counters[i];
    default:
      return 0;
  }
}

// The measure's value in its base unit (seconds, per second, a fraction, a number, bytes), or
// nothing with `why` set. `span_s` is the length of the span the tally covers.
std::optional<double> value_of(const Measure& m, const Tally& t, double span_s, std::string& why) {
  auto per_span = [&](double x) -> std::optional<double> {
    if (span_s <= 0) {
      why = "no simulated time to measure over";
      return std::nullopt;
    }
    return x / span_s;
  };
  switch (m.function) {
    case ExpectFunction::p50:
    case ExpectFunction::p90:
    case ExpectFunction::p99:
    case ExpectFunction::p999:
    case ExpectFunction::mean:
    case ExpectFunction::max:
      if (m.quantity == Quantity::latency) {
        if (!t.latency || t.latency->count() == 0) {
          why = "no request completed";
          return std::nullopt;
        }
        const LatencyHistogram& h = *t.latency;
        double ns = 0;
        if (m.function == ExpectFunction::mean) {
          ns = h.mean();
        } else if (m.function == ExpectFunction::max) {
          ns = static_cast<double>(h.max());
        } else {
          const double q = m.function == ExpectFunction::p50   ? 0.50
                           : m.function == ExpectFunction::p90 ? 0.90
                           : m.function == ExpectFunction::p99 ? 0.99
                                                               : 0.999;
          ns = static_cast<double>(h.percentile(q));
        }
        return ns * 1e-9;
      }
      if (m.function == ExpectFunction::max) return static_cast<double>(t.level_max);
      return per_span(t.level_area);
    case ExpectFunction::last:
      return static_cast<double>(t.level_last);
    case ExpectFunction::count:
      return static_cast<double>(count_of(m, t));
    case ExpectFunction::rate:
      return per_span(static_cast<double>(count_of(m, t)));
    case ExpectFunction::error_ratio: {
      const double lost = static_cast<double>(sum(t.failed) + sum(t.dropped) + sum(t.dead));
      const double all = lost + static_cast<double>(t.completed);
      if (all <= 0) {
        why = "no request finished";
        return std::nullopt;
      }
      return lost / all;
    }
    case ExpectFunction::utilization:
      if (t.capacity_area <= 0) {
        why = "the component has no workers";
        return std::nullopt;
      }
      return t.busy_area / t.capacity_area;
    case ExpectFunction::cache_hit_ratio: {
      const double hits = static_cast<double>(t.counters[static_cast<int>(Counter::cache_hits)]);
      const double misses =
          static_cast<double>(t.counters[static_cast<int>(Counter::cache_misses)]);
      if (hits + misses <= 0) {
        why = "no cache lookups";
        return std::nullopt;
      }
      return hits / (hits + misses);
    }
    case ExpectFunction::recovery_time:
      break;
  }
  why = "not measurable";
  return std::nullopt;
}

std::string format_value(ValueKind kind, double v) {
  switch (kind) {
    case ValueKind::duration:
      return format_seconds(v);
    case ValueKind::rate:
      return format_rate(v);
    case ValueKind::fraction:
      return format_number(v * 100) + "%";
    case ValueKind::size:
      return format_size(static_cast<int64_t>(std::llround(v)));
    case ValueKind::number:
      break;
  }
  // Counts in full (format_number would write 1234567 as 1.23457e+06).
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return format_number(v);
}

// ---------------------------------------------------------------------------------------------
// 2. Time points against the fault timeline

const FaultWindow* find_fault(const std::vector<FaultWindow>& faults, const std::string& name) {
  for (const FaultWindow& f : faults) {
    if (f.name == name) return &f;  // the first activation of that name
  }
  return nullptr;
}

// The instant, or nothing while it has not come (the fault has not started or not ended yet).
std::optional<Time> resolve(const TimePoint& p, const std::vector<FaultWindow>& faults) {
  Time base = Time::zero();
  if (!p.fault.empty()) {
    const FaultWindow* f = find_fault(faults, p.fault);
    if (!f || (p.fault_end && f->active())) return std::nullopt;
    base = p.fault_end ? f->end : f->start;
  }
  const Time t = base + Time::ns(p.offset_ns);
  return std::max(t, Time::zero());
}

// Why a time point never came, for a verdict's detail.
std::string never_came(const TimePoint& p, const std::vector<FaultWindow>& faults) {
  if (!find_fault(faults, p.fault)) return "fault '" + p.fault + "' never started";
  return "fault '" + p.fault + "' never ended, so the window never began";
}

bool measured_period(const Simulation& sim) {
  return sim.measured_since() == sim.warmup();  // false only before a warm-up has ended
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 3. Gathering

struct ExpectationCheck::Probe {
  Expectation e;
  const Measure* measure = nullptr;  // what is measured: the expectation's, or recovery's inner
  bool recovery = false;
  bool by_request = false;  // system or workload scope: fed by finished requests
  uint32_t component = kNoComponent;
  std::vector<int8_t> workload_match;  // per workload index: -1 not looked up yet
  Tally total;                         // the measured period, or the expectation's window
  // recovery_time
  Tally baseline, window;
  std::optional<double> baseline_value;
  std::string baseline_why;
  bool evaluated_after_fault = false;
  std::optional<Time> recovered_at;

  explicit Probe(const Expectation& x)
      : e(x),
        measure(x.measure.function == ExpectFunction::recovery_time ? &e.measure.inner.front()
                                                                    : &e.measure),
        recovery(x.measure.function == ExpectFunction::recovery_time),
        by_request(measure->scope != ScopeKind::component),
        total(measure->quantity == Quantity::latency),
        baseline(measure->quantity == Quantity::latency),
        window(measure->quantity == Quantity::latency) {}

  bool matches(const Simulation& sim, uint32_t workload) {
    if (measure->scope == ScopeKind::system) return true;
    if (workload >= workload_match.size()) workload_match.resize(workload + 1, -1);
    int8_t& m = workload_match[workload];
    if (m < 0) m = sim.workloads()[workload].name == measure->scope_name ? 1 : 0;
    return m == 1;
  }
};

ExpectationCheck::ExpectationCheck(Simulation& sim, const std::vector<Expectation>& expectations)
    : faults_(&sim.fault_windows()) {
  for (const Expectation& e : expectations) {
    auto p = std::make_unique<Probe>(e);
    if (!p->by_request) {
      const Component* c = sim.find(p->measure->scope_name);
      p->component = c ? c->index() : kNoComponent;
    }
    wants_requests_ = wants_requests_ || p->by_request;
    probes_.push_back(std::move(p));
  }
  sim.add_observer(this);
}

ExpectationCheck::~ExpectationCheck() = default;

void ExpectationCheck::on_request_finished(const Simulation& sim, const Request& r, Outcome outcome,
                                           Reason reason, uint32_t) {
  const Time now = sim.now();
  const bool measured = measured_period(sim) && r.created >= sim.warmup();
  for (auto& pp : probes_) {
    Probe& p = *pp;
    if (!p.by_request || !p.matches(sim, r.workload)) continue;
    if (p.recovery) {
      const FaultWindow* f = find_fault(*faults_, p.e.measure.fault);
      if (measured && (!f || now <= f->start)) add_request(p.baseline, now, r, outcome, reason);
      add_request(p.window, now, r, outcome, reason);
    } else if (!p.e.window) {
      if (measured) add_request(p.total, now, r, outcome, reason);
    } else {
      const std::optional<Time> from = resolve(p.e.window->from, *faults_);
      if (!from || now <= *from) continue;
      if (p.e.window->to) {
        const std::optional<Time> to = resolve(*p.e.window->to, *faults_);
        if (to && now > *to) continue;
      }
      add_request(p.total, now, r, outcome, reason);
    }
  }
}

void ExpectationCheck::on_window(const Simulation& sim, const WindowReport& report) {
  const Time s = report.start, e = report.end;
  for (auto& pp : probes_) {
    Probe& p = *pp;
    const StationMetrics* m =
        p.component == kNoComponent ? nullptr : &sim.components()[p.component]->metrics();
    if (!p.recovery) {
      if (!m || !p.e.window) continue;
      const std::optional<Time> from = resolve(p.e.window->from, *faults_);
      if (!from || e <= *from) continue;
      if (p.e.window->to) {
        const std::optional<Time> to = resolve(*p.e.window->to, *faults_);
        if (to && s >= *to) continue;
      }
      add_window(p.total, *m, *p.measure, s, e);
      continue;
    }
    // recovery_time: the pre-fault value from whole windows of the measured period before the
    // fault; then each window that starts after the fault's end, until one is back in the band.
    const FaultWindow* f = find_fault(*faults_, p.e.measure.fault);
    if (m && (!f || e <= f->start) && measured_period(sim) && s >= sim.warmup()) {
      add_window(p.baseline, *m, *p.measure, s, e);
    }
    if (f && !f->active() && s >= f->end && !p.recovered_at) {
      if (!p.evaluated_after_fault) {
        p.evaluated_after_fault = true;
        const double span =
            p.by_request ? (f->start - sim.measured_since()).seconds() : p.baseline.span_s;
        p.baseline_value = value_of(*p.measure, p.baseline, span, p.baseline_why);
      }
      if (p.baseline_value) {
        if (m) {
          p.window.clear();
          add_window(p.window, *m, *p.measure, s, e);
        }
        std::string why;
        if (const std::optional<double> v =
                value_of(*p.measure, p.window, (e - s).seconds(), why)) {
          const double base = *p.baseline_value;
          const double allowed =
              p.e.measure.band_relative ? p.e.measure.band * std::fabs(base) : p.e.measure.band;
          // A relative tolerance of 1e-9 keeps "back to exactly the old value" from failing on
          // the last bit of a division.
          if (std::fabs(*v - base) <= allowed + 1e-9 * std::max(1.0, std::fabs(base))) {
            p.recovered_at = e;
          }
        }
      }
    }
    if (p.by_request) p.window.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// 4. Verdicts

std::vector<ExpectationResult> ExpectationCheck::results(const Simulation& sim) const {
  std::vector<ExpectationResult> out;
  const Time end = sim.now();
  for (const auto& pp : probes_) {
    const Probe& p = *pp;
    ExpectationResult r;
    r.text = p.e.display();
    r.where = p.e.where;
    r.measured = "n/a";
    const ValueKind kind = value_kind(p.e.measure);
    std::string why;
    std::optional<double> value;
    if (p.recovery) {
      const FaultWindow* f = find_fault(*faults_, p.e.measure.fault);
      const ValueKind inner_kind = value_kind(*p.measure);
      if (!f) {
        why = "fault '" + p.e.measure.fault + "' never started";
      } else if (f->active()) {
        why = "fault '" + p.e.measure.fault + "' never ended, so there is no recovery to measure";
      } else if (p.recovered_at) {
        value = (*p.recovered_at - f->end).seconds();
      } else if (!p.evaluated_after_fault) {
        why = "no time-series window started after fault '" + p.e.measure.fault + "' ended (at " +
              format_time(f->end) + ")";
      } else if (!p.baseline_value) {
        why = "no pre-fault value to compare with: " + p.baseline_why;
      } else {
        r.measured = "not recovered";
        const std::string band = p.e.measure.band_relative
                                     ? format_number(p.e.measure.band * 100) + "%"
                                     : format_value(inner_kind, p.e.measure.band);
        why = "not back within " + band + " of its pre-fault value " +
              format_value(inner_kind, *p.baseline_value) + " by the end of the run, " +
              format_time(end - f->end) + " after fault '" + p.e.measure.fault + "' ended";
      }
    } else if (!p.e.window) {
      if (!measured_period(sim)) {
        why = "the run stopped before its warm-up ended";
      } else if (p.by_request) {
        const double span = (end - sim.measured_since()).seconds();
        if (p.measure->quantity == Quantity::generated) {
          // Requests are counted when created, which the request door does not show: the
          // simulation's own per-workload count (reset at warm-up like the rest).
          Tally t;
          for (const WorkloadStats& w : sim.workloads()) {
            if (p.measure->scope == ScopeKind::system || w.name == p.measure->scope_name) {
              t.generated += w.generated;
            }
          }
          value = value_of(*p.measure, t, span, why);
        } else {
          value = value_of(*p.measure, p.total, span, why);
        }
      } else if (p.component == kNoComponent) {
        why = "no component '" + p.measure->scope_name + "'";
      } else {
        Tally t(p.measure->quantity == Quantity::latency);
        add_station_total(t, sim.components()[p.component]->metrics(), *p.measure, end);
        value = value_of(*p.measure, t, t.span_s, why);
      }
    } else {
      const std::optional<Time> from = resolve(p.e.window->from, *faults_);
      if (!from) {
        why = never_came(p.e.window->from, *faults_);
      } else if (*from >= end) {
        why = "the window starts at " + format_time(*from) + ", after the run ended (at " +
              format_time(end) + ")";
      } else if (p.by_request) {
        std::optional<Time> to = p.e.window->to ? resolve(*p.e.window->to, *faults_) : end;
        const Time stop = std::min(to.value_or(end), end);
        if (stop <= *from) {
          why = "the window ends before it starts";
        } else {
          value = value_of(*p.measure, p.total, (stop - *from).seconds(), why);
        }
      } else if (p.total.span_s <= 0) {
        why = "no time-series window overlaps it";
      } else {
        value = value_of(*p.measure, p.total, p.total.span_s, why);
      }
    }
    if (value) {
      r.measured = format_value(kind, *value);
      r.passed = compare(*value, p.e.comparator, p.e.threshold);
      if (!r.passed) {
        r.detail = "expected " + std::string(to_string(p.e.comparator)) + " " + p.e.threshold_text;
      }
    } else {
      r.passed = false;
      r.detail = "not measured: " + why;
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool all_passed(const std::vector<ExpectationResult>& results) {
  return std::all_of(results.begin(), results.end(),
                     [](const ExpectationResult& r) { return r.passed; });
}

}  // namespace dsim
