#include "faults/fault_trigger.hpp"

namespace dsim {
namespace {

uint64_t sum(const std::array<uint64_t, kReasonCount>& a) {
  uint64_t n = 0;
  for (uint64_t v : a) n += v;
  return n;
}

// A count of the window, split as expectations split a component's window losses: a reason
// whose outcome is a drop counts as dropped, every other one as failed.
uint64_t window_count(const Measure& m, const StationMetrics& s) {
  const auto& lost = s.window_lost_by_reason();
  auto lost_if = [&](bool dropped) {
    uint64_t n = 0;
    for (int r = 0; r < kReasonCount; ++r) {
      const bool drop = outcome_of(static_cast<Reason>(r)) == Outcome::dropped;
      if (drop == dropped && (m.index < 0 || m.index == r)) n += lost[r];
    }
    return n;
  };
  switch (m.quantity) {
    case Quantity::completed:
      return s.window_served();
    case Quantity::failed:
      return lost_if(false);
    case Quantity::dropped:
      return lost_if(true);
    case Quantity::lost:
      return lost_if(false) + lost_if(true);
    case Quantity::dead_lettered:
      return s.window_counter(Counter::dead_lettered);
    case Quantity::arrivals:
      return s.window_arrivals();
    case Quantity::counter:
      return s.window_counters()[m.index];
    default:
      return 0;
  }
}

}  // namespace

std::string trigger_problem(const Expectation& condition) {
  const Measure& m = condition.measure;
  if (m.function == ExpectFunction::recovery_time) {
    return "recovery_time measures a stretch of the run after a fault, not one window; a "
           "trigger needs a measure of one window";
  }
  if (m.scope != ScopeKind::component) {
    return "a trigger watches one component: say which with 'of: <component>' (or "
           "error_ratio(<component>)); workload and whole-system figures are not kept per window";
  }
  return {};
}

// Mirrors what output/expectation_check.cpp computes for a component over a window made of this
// one time-series window (its add_window and value_of), so that a trigger and an expectation
// `during` that window agree.
std::optional<double> window_value(const Measure& m, const StationMetrics& s, Time start,
                                   Time end) {
  const double span_s = (end - start).seconds();
  switch (m.function) {
    case ExpectFunction::p50:
    case ExpectFunction::p90:
    case ExpectFunction::p99:
    case ExpectFunction::p999:
    case ExpectFunction::mean:
    case ExpectFunction::max: {
      if (m.quantity != Quantity::latency) {
        const TimeWeightedLevel& level = level_of(s, m);
        if (m.function == ExpectFunction::max) return static_cast<double>(level.window_max());
        if (span_s <= 0) return std::nullopt;
        return level.window_mean(end);
      }
      const LatencyHistogram& h = s.window_latency();
      if (h.count() == 0) return std::nullopt;
      if (m.function == ExpectFunction::mean) return h.mean() * 1e-9;
      if (m.function == ExpectFunction::max) return static_cast<double>(h.max()) * 1e-9;
      const double q = m.function == ExpectFunction::p50   ? 0.50
                       : m.function == ExpectFunction::p90 ? 0.90
                       : m.function == ExpectFunction::p99 ? 0.99
                                                           : 0.999;
      return static_cast<double>(h.percentile(q)) * 1e-9;
    }
    case ExpectFunction::last:
      return static_cast<double>(level_of(s, m).level());
    case ExpectFunction::count:
      return static_cast<double>(window_count(m, s));
    case ExpectFunction::rate:
      if (span_s <= 0) return std::nullopt;
      return static_cast<double>(window_count(m, s)) / span_s;
    case ExpectFunction::error_ratio: {
      const double lost = static_cast<double>(sum(s.window_lost_by_reason()));
      const double all = lost + static_cast<double>(s.window_served());
      if (all <= 0) return std::nullopt;
      return lost / all;
    }
    case ExpectFunction::utilization: {
      const double capacity = s.capacity().window_mean(end);
      if (span_s <= 0 || capacity <= 0) return std::nullopt;
      return s.busy().window_mean(end) / capacity;
    }
    case ExpectFunction::cache_hit_ratio: {
      const auto hits = static_cast<double>(s.window_counter(Counter::cache_hits));
      const auto misses = static_cast<double>(s.window_counter(Counter::cache_misses));
      if (hits + misses <= 0) return std::nullopt;
      return hits / (hits + misses);
    }
    case ExpectFunction::recovery_time:
      break;
  }
  return std::nullopt;
}

bool trigger_holds(const Expectation& condition, const StationMetrics& metrics, Time start,
                   Time end) {
  const std::optional<double> v = window_value(condition.measure, metrics, start, end);
  return v && compare(*v, condition.comparator, condition.threshold);
}

}  // namespace dsim
