// Sections: 1. the vocabulary (functions, metrics)  2. the recursive-descent parser  3. checks of
// what a measure may combine (function x metric x scope)  4. time points  5. entry points.
#include "scenario/expectation.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/format.hpp"
#include "core/request.hpp"
#include "core/station_metrics.hpp"
#include "scenario/suggest.hpp"
#include "scenario/units.hpp"

namespace dsim {
namespace {

// ---------------------------------------------------------------------------------------------
// 1. Vocabulary

struct FunctionName {
  const char* name;
  ExpectFunction function;
};
constexpr FunctionName kFunctions[] = {
    {"p50", ExpectFunction::p50},
    {"p90", ExpectFunction::p90},
    {"p99", ExpectFunction::p99},
    {"p999", ExpectFunction::p999},
    {"mean", ExpectFunction::mean},
    {"max", ExpectFunction::max},
    {"last", ExpectFunction::last},
    {"count", ExpectFunction::count},
    {"rate", ExpectFunction::rate},
    {"error_ratio", ExpectFunction::error_ratio},
    {"utilization", ExpectFunction::utilization},
    {"cache_hit_ratio", ExpectFunction::cache_hit_ratio},
    {"recovery_time", ExpectFunction::recovery_time},
};

const char* name_of(ExpectFunction f) {
  for (const FunctionName& n : kFunctions) {
    if (n.function == f) return n.name;
  }
  return "?";
}

bool is_percentile(ExpectFunction f) {
  return f == ExpectFunction::p50 || f == ExpectFunction::p90 || f == ExpectFunction::p99 ||
         f == ExpectFunction::p999;
}
bool is_ratio(ExpectFunction f) {
  return f == ExpectFunction::error_ratio || f == ExpectFunction::utilization ||
         f == ExpectFunction::cache_hit_ratio;
}
bool is_level(Quantity q) {
  return q == Quantity::queue_depth || q == Quantity::in_flight || q == Quantity::gauge;
}
bool is_count(Quantity q) {
  return q == Quantity::generated || q == Quantity::completed || q == Quantity::failed ||
         q == Quantity::dropped || q == Quantity::dead_lettered || q == Quantity::lost ||
         q == Quantity::arrivals || q == Quantity::counter;
}

struct MetricName {
  std::string name;
  Quantity quantity;
  int index;
};

// Every metric name: the fixed ones, per-reason losses and the kinds' counters and gauges.
const std::vector<MetricName>& metric_table() {
  static const std::vector<MetricName> table = [] {
    std::vector<MetricName> t = {
        {"latency", Quantity::latency, -1},
        {"queue.depth", Quantity::queue_depth, -1},
        {"in_flight", Quantity::in_flight, -1},
        {"dlq.depth", Quantity::gauge, static_cast<int>(Gauge::dlq_depth)},
        {"generated", Quantity::generated, -1},
        {"completed", Quantity::completed, -1},
        {"served", Quantity::completed, -1},
        {"failed", Quantity::failed, -1},
        {"dropped", Quantity::dropped, -1},
        {"dead_lettered", Quantity::dead_lettered, -1},
        {"lost", Quantity::lost, -1},
        {"arrivals", Quantity::arrivals, -1},
    };
    for (int r = 1; r < kReasonCount; ++r) {
      const std::string reason = to_string(static_cast<Reason>(r));
      const bool drop = outcome_of(static_cast<Reason>(r)) == Outcome::dropped;
      t.push_back({(drop ? "dropped." : "failed.") + reason,
                   drop ? Quantity::dropped : Quantity::failed, r});
      t.push_back({"lost." + reason, Quantity::lost, r});
    }
    for (int c = 0; c < kCounterCount; ++c) {
      const std::string name = to_string(static_cast<Counter>(c));
      if (name == "dead_lettered") continue;  // the outcome of the same name counts them
      t.push_back({name, Quantity::counter, c});
    }
    for (int g = 0; g < kGaugeCount; ++g) {
      if (static_cast<Gauge>(g) == Gauge::dlq_depth) continue;  // spelt dlq.depth
      t.push_back({to_string(static_cast<Gauge>(g)), Quantity::gauge, g});
    }
    return t;
  }();
  return table;
}

const MetricName* find_metric(std::string_view name) {
  for (const MetricName& m : metric_table()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

const std::vector<std::string> kArgumentKeys = {"workload", "of", "after", "within"};

// ---------------------------------------------------------------------------------------------
// 2. The parser

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
}

class Parser {
 public:
  Parser(std::string_view text, const ExpectationNames& names, ParseProblem& problem)
      : text_(text), names_(names), problem_(problem) {}

  std::optional<Expectation> expectation() {
    Expectation e;
    e.text = std::string(trim_all(text_));
    skip_space();
    const size_t measure_start = pos_;
    if (!measure(e.measure, false)) return std::nullopt;
    const std::string shown(text_.substr(measure_start, pos_ - measure_start));
    skip_space();
    if (!comparator(e.comparator, shown)) return std::nullopt;
    skip_space();
    return threshold(e, shown) ? std::optional<Expectation>(std::move(e)) : std::nullopt;
  }

 private:
  static std::string_view trim_all(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  std::string_view word() {
    const size_t start = pos_;
    while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  bool fail(size_t at, std::string message) {
    problem_.offset = std::min(at, text_.size());
    problem_.message = std::move(message);
    return false;
  }
  // What stands at the current position, for "got ..." in messages.
  std::string here() const {
    if (pos_ >= text_.size()) return "the end of the expression";
    return quote_text(text_.substr(pos_, 1));
  }

  bool measure(Measure& m, bool nested) {
    const size_t start = pos_;
    const std::string_view w = word();
    if (w.empty()) {
      return fail(
          start,
          "expected a function such as p99(latency) or a counter such as lost, got " + here());
    }
    skip_space();
    if (peek() != '(') return bare_counter(m, w, start);
    ExpectFunction f{};
    if (!function(w, start, f)) return false;
    if (nested && f == ExpectFunction::recovery_time) {
      return fail(start, "recovery_time cannot measure another recovery_time");
    }
    m.function = f;
    ++pos_;  // '('
    std::vector<size_t> arg_starts;
    bool have_metric = false, have_scope = false;
    size_t band_at = 0;
    std::string band_text;
    skip_space();
    if (peek() != ')') {
      for (;;) {
        skip_space();
        const size_t arg_start = pos_;
        if (f == ExpectFunction::recovery_time && m.inner.empty() && !looks_like_key()) {
          Measure inner;
          if (!measure(inner, true)) return false;
          m.inner.push_back(std::move(inner));
        } else if (!argument(m, f, have_metric, have_scope, band_at, band_text)) {
          return false;
        }
        arg_starts.push_back(arg_start);
        skip_space();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        if (peek() == ')') break;
        return fail(pos_, std::string("expected ',' or ')' in the arguments of ") + name_of(f) +
                              ", got " + here());
      }
    }
    ++pos_;  // ')'
    return check(m, start, have_metric, band_at, band_text);
  }

  bool looks_like_key() {
    const size_t save = pos_;
    word();
    skip_space();
    const bool key = peek() == ':';
    pos_ = save;
    return key;
  }

  bool function(std::string_view w, size_t at, ExpectFunction& f) {
    for (const FunctionName& n : kFunctions) {
      if (w == n.name) {
        f = n.function;
        return true;
      }
    }
    std::vector<std::string> names = expectation_functions();
    return fail(at, "unknown function " + quote_text(w) + did_you_mean(w, names) +
                        "; functions: " + join_choices(names));
  }

  // A metric without a function: a counter, counted (`lost == 0`).
  bool bare_counter(Measure& m, std::string_view w, size_t at) {
    const MetricName* metric = find_metric(w);
    if (!metric) {
      std::vector<std::string> words = expectation_metrics();
      for (const std::string& f : expectation_functions()) words.push_back(f);
      return fail(at, "unknown metric " + quote_text(w) + did_you_mean(w, words));
    }
    if (!is_count(metric->quantity)) {
      return fail(at, quote_text(w) + " needs a function, e.g. max(" + std::string(w) +
                          ", of: <component>) or mean(" + std::string(w) + ", ...)");
    }
    m.function = ExpectFunction::count;
    m.quantity = metric->quantity;
    m.index = metric->index;
    return check(m, at, true, 0, {});
  }

  bool argument(Measure& m, ExpectFunction f, bool& have_metric, bool& have_scope, size_t& band_at,
                std::string& band_text) {
    const size_t start = pos_;
    const std::string_view w = word();
    if (w.empty()) return fail(start, "expected an argument, got " + here());
    skip_space();
    if (peek() != ':') {
      // A positional argument: the metric, or for the ratio functions the component.
      if (is_ratio(f)) {
        if (have_scope) return fail(start, "more than one component or workload");
        have_scope = true;
        return scope_name(m, ScopeKind::component, w, start);
      }
      if (have_metric) {
        return fail(start, std::string(name_of(f)) + " takes one metric; use 'of:' or " +
                               "'workload:' to say where");
      }
      const MetricName* metric = find_metric(w);
      if (!metric) {
        return fail(start,
                    "unknown metric " + quote_text(w) + did_you_mean(w, expectation_metrics()));
      }
      have_metric = true;
      m.quantity = metric->quantity;
      m.index = metric->index;
      return true;
    }
    ++pos_;  // ':'
    skip_space();
    const std::string key(w);
    const bool known =
        std::find(kArgumentKeys.begin(), kArgumentKeys.end(), key) != kArgumentKeys.end();
    if (!known) {
      return fail(start, "unknown argument " + quote_text(w) + did_you_mean(w, kArgumentKeys) +
                             "; arguments: " + join_choices(kArgumentKeys));
    }
    const size_t value_at = pos_;
    if (key == "within") {
      if (f != ExpectFunction::recovery_time) {
        return fail(start, "'within:' belongs to recovery_time");
      }
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != ')') ++pos_;
      band_at = value_at;
      band_text = std::string(trim_all(text_.substr(value_at, pos_ - value_at)));
      if (band_text.empty()) return fail(value_at, "'within:' needs a band, e.g. 10% or 50ms");
      return true;
    }
    const std::string_view value = word();
    if (value.empty()) {
      return fail(value_at, "'" + key + ":' needs a name, got " + here());
    }
    if (key == "after") {
      if (f != ExpectFunction::recovery_time) {
        return fail(start,
                    "'after:' inside a function belongs to recovery_time; to measure after a "
                    "time, write the expectation as a map with 'that:' and 'after:'");
      }
      if (!m.fault.empty()) return fail(start, "more than one 'after:'");
      if (!fault_name(value, value_at)) return false;
      m.fault = std::string(value);
      return true;
    }
    if (have_scope) return fail(start, "more than one component or workload");
    have_scope = true;
    return scope_name(m, key == "of" ? ScopeKind::component : ScopeKind::workload, value, value_at);
  }

  bool scope_name(Measure& m, ScopeKind kind, std::string_view name, size_t at) {
    const auto& known = kind == ScopeKind::component ? names_.components : names_.workloads;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const char* what = kind == ScopeKind::component ? "component" : "workload";
      std::string msg = std::string("unknown ") + what + " " + quote_text(name);
      const std::string suggestion = did_you_mean(name, known);
      msg +=
          suggestion.empty() ? "; " + std::string(what) + "s: " + join_choices(known) : suggestion;
      return fail(at, msg);
    }
    m.scope = kind;
    m.scope_name = std::string(name);
    return true;
  }

 public:
  bool fault_name(std::string_view name, size_t at) {
    if (!names_.has_faults_section) {
      return fail(at, "unknown fault " + quote_text(name) + ": the scenario has no faults");
    }
    const auto& known = names_.faults;
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      const std::string suggestion = did_you_mean(name, known);
      return fail(at, "unknown fault " + quote_text(name) +
                          (suggestion.empty() ? "; faults: " + join_choices(known) : suggestion));
    }
    return true;
  }

 private:
  // -------------------------------------------------------------------------------------------
  // 3. What a measure may combine
  bool check(Measure& m, size_t at, bool have_metric, size_t band_at,
             const std::string& band_text) {
    const std::string fn = name_of(m.function);
    const ExpectFunction f = m.function;
    if (f == ExpectFunction::recovery_time) {
      if (m.inner.empty()) {
        return fail(at,
                    "recovery_time needs a measure, e.g. recovery_time(p99(latency), after: "
                    "<fault>, within: 10%)");
      }
      if (m.fault.empty()) return fail(at, "recovery_time needs 'after: <fault>'");
      if (band_text.empty()) return fail(at, "recovery_time needs 'within: <band>', e.g. 10%");
      const Measure& inner = m.inner.front();
      if (inner.quantity == Quantity::generated) {
        return fail(at, "recovery_time cannot follow generated (it is not measured per window)");
      }
      return band(m, band_at, band_text, value_kind(inner));
    }
    if (is_ratio(f)) {
      if (f != ExpectFunction::error_ratio && m.scope != ScopeKind::component) {
        return fail(at, fn + " needs a component, e.g. " + fn + "(api)");
      }
      return true;
    }
    if (!have_metric) return fail(at, fn + " needs a metric, e.g. " + fn + example_metric(f));
    const Quantity q = m.quantity;
    if (is_percentile(f) && q != Quantity::latency) {
      return fail(at, fn + " applies to latency; for levels use max, mean or last");
    }
    if ((f == ExpectFunction::mean || f == ExpectFunction::max) && q != Quantity::latency &&
        !is_level(q)) {
      return fail(at, fn + " applies to latency and levels (queue.depth, in_flight, gauges); " +
                          "for counters use count or rate");
    }
    if (f == ExpectFunction::last && !is_level(q)) {
      return fail(at, "last applies to levels (queue.depth, in_flight, gauges)");
    }
    if ((f == ExpectFunction::count || f == ExpectFunction::rate) && !is_count(q)) {
      return fail(at, fn + " applies to counters (completed, lost, retries...); for latency " +
                          "and levels use p99, max, mean or last");
    }
    const bool component_only = is_level(q) || q == Quantity::arrivals || q == Quantity::counter;
    if (component_only && m.scope != ScopeKind::component) {
      return fail(at, "this metric is measured per component: add 'of: <component>'");
    }
    if (q == Quantity::generated && m.scope == ScopeKind::component) {
      return fail(at, "generated is counted per workload; for a component use arrivals");
    }
    return true;
  }

  static std::string example_metric(ExpectFunction f) {
    if (is_percentile(f)) return "(latency)";
    if (f == ExpectFunction::count || f == ExpectFunction::rate) return "(completed)";
    return "(queue.depth, of: <component>)";
  }

  bool band(Measure& m, size_t at, const std::string& text, ValueKind kind) {
    if (!text.empty() && text.back() == '%') {
      const Parsed<double> p = parse_fraction(text);
      if (!p.value) return fail(at, "'within:' expected " + p.error + ", got " + quote_text(text));
      m.band_relative = true;
      m.band = *p.value;
      return true;
    }
    std::string error;
    const std::optional<double> v = value_in(kind, text, error);
    if (!v) {
      return fail(at, "'within:' expected a percentage of the pre-fault value (10%) or " + error +
                          ", got " + quote_text(text));
    }
    m.band_relative = false;
    m.band = *v;
    return true;
  }

  bool comparator(Comparator& c, const std::string& shown) {
    const size_t at = pos_;
    const std::string_view rest = text_.substr(pos_);
    auto starts = [&](const char* s) {
      return rest.substr(0, std::char_traits<char>::length(s)) == s;
    };
    if (starts("<=")) {
      c = Comparator::le, pos_ += 2;
    } else if (starts(">=")) {
      c = Comparator::ge, pos_ += 2;
    } else if (starts("==")) {
      c = Comparator::eq, pos_ += 2;
    } else if (starts("!=")) {
      c = Comparator::ne, pos_ += 2;
    } else if (starts("<")) {
      c = Comparator::lt, pos_ += 1;
    } else if (starts(">")) {
      c = Comparator::gt, pos_ += 1;
    } else if (starts("=")) {
      return fail(at, "use '==' to compare for equality");
    } else {
      return fail(at, "expected a comparison (<, <=, >, >=, == or !=) after " + quote_text(shown) +
                          ", got " + here());
    }
    return true;
  }

  bool threshold(Expectation& e, const std::string& shown) {
    const size_t at = pos_;
    const std::string text(trim_all(text_.substr(pos_)));
    const ValueKind kind = value_kind(e.measure);
    if (text.empty()) {
      return fail(at, "expected a value to compare " + quote_text(shown) + " with, e.g. " +
                          example_value(kind));
    }
    std::string error;
    const std::optional<double> v = value_in(kind, text, error);
    if (!v) {
      return fail(at, quote_text(shown) + " is " + kind_phrase(kind) + ": expected " + error +
                          ", got " + quote_text(text));
    }
    e.threshold = *v;
    e.threshold_text = text;
    return true;
  }

  static const char* example_value(ValueKind k) {
    switch (k) {
      case ValueKind::duration:
        return "300ms";
      case ValueKind::rate:
        return "950/s";
      case ValueKind::fraction:
        return "0.1%";
      case ValueKind::size:
        return "10GiB";
      case ValueKind::number:
        break;
    }
    return "50";
  }
  static const char* kind_phrase(ValueKind k) {
    switch (k) {
      case ValueKind::duration:
        return "a duration";
      case ValueKind::rate:
        return "a rate";
      case ValueKind::fraction:
        return "a fraction";
      case ValueKind::size:
        return "a size";
      case ValueKind::number:
        break;
    }
    return "a number";
  }

 public:
  // A threshold or band in the base unit of `kind`.
  static std::optional<double> value_in(ValueKind kind, const std::string& text,
                                        std::string& error) {
    switch (kind) {
      case ValueKind::duration: {
        const Parsed<Time> p = parse_duration(text);
        if (p.value) return p.value->seconds();
        error = p.error;
        return std::nullopt;
      }
      case ValueKind::rate: {
        const Parsed<double> p = parse_rate(text);
        if (p.value) return *p.value;
        error = p.error;
        return std::nullopt;
      }
      case ValueKind::fraction: {
        const Parsed<double> p = parse_fraction(text);
        if (p.value) return *p.value;
        error = p.error;
        return std::nullopt;
      }
      case ValueKind::size: {
        const Parsed<int64_t> p = parse_size(text);
        if (p.value) return static_cast<double>(*p.value);
        error = p.error;
        return std::nullopt;
      }
      case ValueKind::number:
        break;
    }
    if (const Parsed<double> p = parse_number(text); p.value) return *p.value;
    if (const Parsed<int64_t> p = parse_count(text); p.value) return static_cast<double>(*p.value);
    error = "a number such as 50, 2.5 or 10k";
    return std::nullopt;
  }

  // -------------------------------------------------------------------------------------------
  // 4. Time points: "5m", "fault NAME starts", "fault NAME ends + 2m"; and "fault NAME"
  std::optional<std::string> fault_reference() {
    skip_space();
    const size_t start = pos_;
    const std::string_view first = word();
    skip_space();
    const size_t name_at = pos_;
    const std::string_view name = word();
    if (first != "fault" || name.empty()) {
      fail(first == "fault" ? name_at : start,
           "expected [from, to] (e.g. [5m, 10m]) or 'fault <name>', got " +
               quote_text(trim_all(text_)));
      return std::nullopt;
    }
    if (!fault_name(name, name_at)) return std::nullopt;
    skip_space();
    if (pos_ < text_.size()) {
      fail(pos_, "expected only 'fault <name>' (the window is the fault's), got " +
                     quote_text(text_.substr(pos_)));
      return std::nullopt;
    }
    return std::string(name);
  }

  std::optional<TimePoint> time_point() {
    TimePoint t;
    skip_space();
    const size_t start = pos_;
    const std::string_view first = word();
    if (first != "fault") {
      pos_ = start;
      const std::string text(trim_all(text_.substr(start)));
      const Parsed<Time> p = parse_duration(text);
      if (!p.value) {
        fail(start,
             "expected a time such as 5m or 'fault <name> ends + 2m', got " + quote_text(text));
        return std::nullopt;
      }
      t.offset_ns = p.value->count_ns();
      return t;
    }
    skip_space();
    const size_t name_at = pos_;
    const std::string_view name = word();
    if (name.empty()) {
      fail(name_at, "expected the fault's name after 'fault', got " + here());
      return std::nullopt;
    }
    if (!fault_name(name, name_at)) return std::nullopt;
    t.fault = std::string(name);
    skip_space();
    const size_t edge_at = pos_;
    const std::string_view edge = word();
    if (edge != "starts" && edge != "ends") {
      pos_ = edge_at;
      fail(edge_at, "expected 'starts' or 'ends' after the fault's name, got " +
                        (edge.empty() ? here() : quote_text(edge)));
      return std::nullopt;
    }
    t.fault_end = edge == "ends";
    skip_space();
    if (pos_ >= text_.size()) return t;
    // Only later: figures are gathered as the run goes, and before a fault starts nobody knows
    // when it will.
    if (peek() != '+') {
      fail(pos_, "expected '+ <duration>' or the end, got " + here() +
                     (peek() == '-' ? " (a time can only be after a fault's start or end)" : ""));
      return std::nullopt;
    }
    ++pos_;
    skip_space();
    const size_t offset_at = pos_;
    const std::string text(trim_all(text_.substr(pos_)));
    const Parsed<Time> p = parse_duration(text);
    if (!p.value) {
      fail(offset_at, "expected " + p.error + ", got " + quote_text(text));
      return std::nullopt;
    }
    t.offset_ns = p.value->count_ns();
    return t;
  }

 private:
  std::string_view text_;
  const ExpectationNames& names_;
  ParseProblem& problem_;
  size_t pos_ = 0;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// 5. Entry points

const char* to_string(Comparator c) {
  switch (c) {
    case Comparator::lt:
      return "<";
    case Comparator::le:
      return "<=";
    case Comparator::gt:
      return ">";
    case Comparator::ge:
      return ">=";
    case Comparator::eq:
      return "==";
    case Comparator::ne:
      return "!=";
  }
  return "?";
}

const TimeWeightedLevel& level_of(const StationMetrics& m, const Measure& measure) {
  switch (measure.quantity) {
    case Quantity::in_flight:
      return m.in_system();
    case Quantity::gauge:
      return m.gauge(static_cast<Gauge>(measure.index));
    default:
      return m.queue();
  }
}

bool compare(double v, Comparator c, double threshold) {
  switch (c) {
    case Comparator::lt:
      return v < threshold;
    case Comparator::le:
      return v <= threshold;
    case Comparator::gt:
      return v > threshold;
    case Comparator::ge:
      return v >= threshold;
    case Comparator::eq:
      return v == threshold;
    case Comparator::ne:
      return v != threshold;
  }
  return false;
}

ValueKind value_kind(const Measure& m) {
  switch (m.function) {
    case ExpectFunction::recovery_time:
      return ValueKind::duration;
    case ExpectFunction::rate:
      return ValueKind::rate;
    case ExpectFunction::error_ratio:
    case ExpectFunction::utilization:
    case ExpectFunction::cache_hit_ratio:
      return ValueKind::fraction;
    case ExpectFunction::count:
      return ValueKind::number;
    default:
      break;
  }
  if (m.quantity == Quantity::latency) return ValueKind::duration;
  if (m.quantity == Quantity::gauge && (m.index == static_cast<int>(Gauge::disk_used_bytes) ||
                                        m.index == static_cast<int>(Gauge::memory_used_bytes))) {
    return ValueKind::size;
  }
  return ValueKind::number;
}

std::string Expectation::display() const {
  return window ? text + " " + window->text : text;
}

std::optional<Expectation> parse_expectation(std::string_view text, const ExpectationNames& names,
                                             ParseProblem& problem) {
  return Parser(text, names, problem).expectation();
}

std::optional<TimePoint> parse_time_point(std::string_view text, const ExpectationNames& names,
                                          ParseProblem& problem) {
  return Parser(text, names, problem).time_point();
}

std::optional<std::string> parse_fault_reference(std::string_view text,
                                                 const ExpectationNames& names,
                                                 ParseProblem& problem) {
  return Parser(text, names, problem).fault_reference();
}

std::vector<std::string> expectation_functions() {
  std::vector<std::string> out;
  for (const FunctionName& n : kFunctions) out.emplace_back(n.name);
  return out;
}

std::vector<std::string> expectation_metrics() {
  std::vector<std::string> out;
  for (const MetricName& m : metric_table()) out.push_back(m.name);
  return out;
}

}  // namespace dsim
