// An expectation of a scenario's `expect:` section, parsed: a comparison of one measure of the run
// with a threshold, optionally over a window of simulated time. Plain data; the evaluation lives
// in output/expectation_check.hpp.
//
//   expectation = measure comparator threshold
//   measure     = function "(" argument { "," argument } ")" | counter
//   argument    = metric | measure (recovery_time only) | key ":" value
//   key         = "workload" | "of" | "after" | "within"
//   comparator  = "<" | "<=" | ">" | ">=" | "==" | "!="
//   threshold   = a number with the measure's unit: 300ms, 950/s, 0.1%, 50, 10GiB
//
// A time point (`during: [5m, 10m]`, `after: fault sms-outage ends + 2m`) is either a duration
// from the start of the run or "fault NAME starts|ends [+ duration]".
//
// The parser is hand-written so that every error points at the character it is about: a
// ParseProblem carries an offset into the text, which the loader turns into a column.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/location.hpp"
#include "core/time.hpp"

namespace dsim {

class StationMetrics;
class TimeWeightedLevel;

// What is computed over the measured data.
enum class ExpectFunction : uint8_t {
  p50,
  p90,
  p99,
  p999,
  mean,
  max,
  last,
  count,
  rate,
  error_ratio,
  utilization,
  cache_hit_ratio,
  recovery_time,
};

// What is measured.
enum class Quantity : uint8_t {
  none,           // the ratio functions measure their own figures
  latency,        // end to end (a workload, or all); time in the component with `of:`
  queue_depth,    // requests waiting in a component
  in_flight,      // requests in a component: waiting + in service
  gauge,          // a kind-specific level (Gauge, by `index`), e.g. dlq.depth
  generated,      // requests created (not a component figure)
  completed,      // requests completed; served, for a component
  failed,         // by reason when `index` >= 0
  dropped,        // by reason when `index` >= 0
  dead_lettered,  //
  lost,           // failed + dropped + dead-lettered; by reason when `index` >= 0
  arrivals,       // requests that reached a component
  counter,        // a kind-specific event count (Counter, by `index`), e.g. retries
};

// Where it is measured.
enum class ScopeKind : uint8_t { system, workload, component };

// The unit of a measure and of the threshold it is compared with.
enum class ValueKind : uint8_t { duration, rate, fraction, number, size };

enum class Comparator : uint8_t { lt, le, gt, ge, eq, ne };
const char* to_string(Comparator c);
// Whether `v <c> threshold` holds.
bool compare(double v, Comparator c, double threshold);

struct Measure {
  ExpectFunction function = ExpectFunction::count;
  Quantity quantity = Quantity::none;
  int index = -1;  // the reason, Counter or Gauge; -1: none
  ScopeKind scope = ScopeKind::system;
  std::string scope_name;  // the workload or component
  // recovery_time only:
  std::vector<Measure> inner;  // the measure that must come back (exactly one)
  std::string fault;
  bool band_relative = false;  // within: 10% of the pre-fault value, or an absolute amount
  double band = 0;             // a fraction, or in the inner measure's base unit
};

// The base unit of a measure's values: seconds, per second, a fraction, a number or bytes.
ValueKind value_kind(const Measure& m);

// The level a measure of levels reads from a component's metrics: in-flight, a gauge, or else
// the queue. (Shared by expectations and fault triggers, so that both read the same figure.)
const TimeWeightedLevel& level_of(const StationMetrics& m, const Measure& measure);

// A moment of the run: `offset` from its start, or from a fault's start or end.
struct TimePoint {
  std::string fault;  // empty: from the start of the run
  bool fault_end = false;
  int64_t offset_ns = 0;  // never negative
};

// The window an expectation looks at. Without one it covers the measured period (after warm-up).
struct ExpectWindow {
  TimePoint from;
  std::optional<TimePoint> to;  // none: the end of the run
  std::string text;             // as written, for messages: "during [5m, 10m]"
};

struct Expectation {
  std::string text;  // the expression as written, e.g. "lost == 0"
  Location where;
  Measure measure;
  Comparator comparator = Comparator::lt;
  double threshold = 0;  // in the measure's base unit
  std::string threshold_text;
  std::optional<ExpectWindow> window;
  // "p99(latency) < 300ms during [5m, 10m]": the text and the window, for output.
  std::string display() const;
};

// The names an expectation may refer to; each list is used for "did you mean".
struct ExpectationNames {
  std::vector<std::string> components;
  std::vector<std::string> workloads;
  std::vector<std::string> faults;
  bool has_faults_section = false;
};

struct ParseProblem {
  size_t offset = 0;  // into the text
  std::string message;
};

// Each returns the parsed value or sets `problem`.
std::optional<Expectation> parse_expectation(std::string_view text, const ExpectationNames& names,
                                             ParseProblem& problem);
std::optional<TimePoint> parse_time_point(std::string_view text, const ExpectationNames& names,
                                          ParseProblem& problem);
// "fault NAME" (during: fault NAME), giving the name.
std::optional<std::string> parse_fault_reference(std::string_view text,
                                                 const ExpectationNames& names,
                                                 ParseProblem& problem);

// The words of the grammar, for the reference and for suggestions.
std::vector<std::string> expectation_functions();
std::vector<std::string> expectation_metrics();

}  // namespace dsim
