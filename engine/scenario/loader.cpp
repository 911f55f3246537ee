// Sections: 1. locations and generic YAML helpers  2. values with units  3. distributions,
// arrivals, keys, routes  4. the ParamVisitor that reads a component  5. the scenario's top level
// and --set overrides  6. entry points.
#include "scenario/loader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "components/queue.hpp"
#include "components/registry.hpp"
#include "components/route.hpp"
#include "components/service.hpp"
#include "components/source.hpp"
#include "core/format.hpp"
#include "core/request_path.hpp"
#include "faults/fault_registry.hpp"
#include "faults/fault_trigger.hpp"
#include "scenario/param_text.hpp"
#include "scenario/suggest.hpp"
#include "scenario/topology.hpp"
#include "scenario/units.hpp"

namespace dsim {
namespace {

constexpr int kMaxDistributionDepth = 8;
constexpr size_t kMaxDistributionParts = 10'000;
constexpr int64_t kMaxKeys = 10'000'000;   // Zipf tables are 8 bytes a key
constexpr int64_t kMaxUsers = 10'000'000;  // one pending event each
constexpr size_t kMaxFileBytes = 16 << 20;
constexpr double kMaxWindows = 10'000'000;  // duration / window
constexpr double kMaxWeight = 1e15;         // 10,000 parts add up to a finite total
constexpr size_t kMaxNameLength = 100;      // component names

// Why `name` cannot be a component name, or "" if it can. Names appear in --set paths (split at
// '.'), in CSV columns and in every message about the component, so they are kept plain and short.
std::string name_problem(std::string_view name) {
  if (name.size() > kMaxNameLength) {
    return "a name may be at most " + std::to_string(kMaxNameLength) + " characters long";
  }
  if (!std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      })) {
    return "a name may contain only letters, digits, '_' and '-'";
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// 1. Locations and generic YAML helpers

// What was found instead of what was expected, for "got ..." in messages: a single value is
// quoted, anything else is named by its shape.
std::string got(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Scalar:
      return quote_text(n.Scalar());
    case YAML::NodeType::Sequence:
      return n.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Map:
      return n.size() == 0 ? "an empty map" : "a map";
  }
  return "?";
}

class Loader {
 public:
  Loader(std::string file, Diagnostics& d) : file_(std::move(file)), diag_(d) {}

  Diagnostics& diag() { return diag_; }
  const std::string& file() const { return file_; }

  Location where(const YAML::Node& n) const {
    for (const auto& [node, origin] : override_roots_) {
      if (node.is(n)) return Location{origin, 0, 0};
    }
    const YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0) return Location{origin_, 0, 0};
    return Location{origin_, m.line + 1, m.column + 1};
  }
  void error(const YAML::Node& n, std::string msg) { diag_.error(where(n), std::move(msg)); }

  // The file's text, for positions inside a scalar (see where_in).
  void set_text(std::string_view text) { text_ = text; }
  // Where the character at `offset` of scalar n's value is in the file. Quoted scalars are
  // walked through their escapes; block and multi-line scalars, and values from --set, fall
  // back to where the scalar starts.
  Location where_in(const YAML::Node& n, size_t offset) const {
    Location at = where(n);
    const YAML::Mark m = n.Mark();
    if (at.line <= 0 || m.pos < 0 || static_cast<size_t>(m.pos) >= text_.size()) return at;
    const std::string_view raw = text_.substr(static_cast<size_t>(m.pos));
    const char quote = raw[0] == '"' || raw[0] == '\'' ? raw[0] : '\0';
    if (raw[0] == '|' || raw[0] == '>') return at;
    size_t i = quote ? 1 : 0;
    for (size_t decoded = 0; decoded < offset; ++decoded) {
      if (i >= raw.size() || raw[i] == '\n' || raw[i] == '\r') return at;
      if (quote == '"' && raw[i] == '\\' && i + 1 < raw.size()) {
        const char e = raw[i + 1];
        i += e == 'x' ? 4 : e == 'u' ? 6 : e == 'U' ? 10 : 2;
      } else if (quote == '\'' && raw[i] == '\'' && i + 1 < raw.size() && raw[i + 1] == '\'') {
        i += 2;
      } else {
        ++i;
      }
    }
    at.column += static_cast<int>(i);
    return at;
  }

  // Which text the nodes being read came from: the file, or a --set override.
  void set_origin(const YAML::Node& value) {
    origin_ = file_;
    for (const auto& [node, origin] : override_roots_) {
      if (node.is(value)) origin_ = origin;
    }
  }
  void reset_origin() { origin_ = file_; }
  void add_override_root(const YAML::Node& n, std::string origin) {
    override_roots_.emplace_back(n, std::move(origin));
  }

  // A scalar's text, or an error saying what was expected instead.
  bool scalar(const YAML::Node& n, const std::string& what, const std::string& expected,
              std::string& out) {
    if (!n.IsScalar()) {
      error(n, what + ": expected " + expected + ", got " + got(n));
      return false;
    }
    out = n.Scalar();
    return true;
  }

  // Checks that n is a map whose keys are all in `allowed` and unique. Returns false if n is not
  // a map (other problems are reported but reading goes on).
  bool check_map(const YAML::Node& n, const std::string& what,
                 const std::vector<std::string>& allowed) {
    if (!n.IsMap()) {
      error(n, what + ": expected a map with keys " + join_choices(allowed) + ", got " + got(n));
      return false;
    }
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar()) {
        error(it->first, what + ": keys must be plain names, got " + got(it->first));
        continue;
      }
      const std::string key = it->first.Scalar();
      if (!seen.insert(key).second) {
        error(it->first, what + ": duplicate key " + quote_text(key));
      } else if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        error(it->first, what + ": unknown key " + quote_text(key) + did_you_mean(key, allowed) +
                             "; valid keys: " + join_choices(allowed));
      }
    }
    return true;
  }

  // Value of `key` in map n (first occurrence), or an invalid node.
  static YAML::Node get(const YAML::Node& n, const std::string& key) {
    if (!n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }
  static YAML::Node get_key(const YAML::Node& n, const std::string& key) {
    if (!n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->first;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }
  static bool has(const YAML::Node& n, const std::string& key) { return get(n, key).IsDefined(); }

  // A required entry of a map: reports and returns an invalid node when missing.
  YAML::Node require(const YAML::Node& map, const std::string& key, const std::string& what) {
    YAML::Node v = get(map, key);
    if (!v.IsDefined()) error(map, what + ": missing required key '" + key + "'");
    return v;
  }

  // ------------------------------------------------------------------------------------------
  // 2. Values with units

  template <class T>
  std::optional<T> unit_value(const YAML::Node& n, const std::string& what,
                              Parsed<T> (*parse)(std::string_view), const char* expected) {
    std::string text;
    if (!scalar(n, what, expected, text)) return std::nullopt;
    Parsed<T> p = parse(text);
    if (!p.value) {
      error(n, what + ": expected " + p.error + ", got " + quote_text(text));
      return std::nullopt;
    }
    return p.value;
  }
  std::optional<Time> duration(const YAML::Node& n, const std::string& what) {
    return unit_value<Time>(n, what, parse_duration, "a duration such as 50ms");
  }
  std::optional<Time> positive_duration(const YAML::Node& n, const std::string& what) {
    auto d = duration(n, what);
    if (d && *d <= Time::zero()) {
      error(n, what + ": must be longer than zero, got " + got(n));
      return std::nullopt;
    }
    return d;
  }
  std::optional<double> rate(const YAML::Node& n, const std::string& what) {
    return unit_value<double>(n, what, parse_rate, "a rate such as 200/s");
  }
  std::optional<int64_t> size(const YAML::Node& n, const std::string& what) {
    return unit_value<int64_t>(n, what, parse_size, "a size such as 2KiB or 10GB");
  }
  // `percent`: the value is a fraction, which may also be written as a percentage (2%).
  std::optional<double> number(const YAML::Node& n, const std::string& what, double min, double max,
                               bool percent = false) {
    const bool as_percent =
        percent && n.IsScalar() && !n.Scalar().empty() && n.Scalar().back() == '%';
    auto v = as_percent ? unit_value<double>(n, what, parse_fraction, "a percentage such as 2%")
                        : unit_value<double>(n, what, parse_number, "a number");
    if (v && (*v < min || *v > max)) {
      error(n, what + ": must be between " + fmt(min) + " and " + fmt(max) + ", got " + fmt(*v));
      return std::nullopt;
    }
    return v;
  }
  std::optional<int64_t> count(const YAML::Node& n, const std::string& what, int64_t min,
                               int64_t max) {
    const std::string unbounded = max == INT64_MAX ? " or 'unbounded'" : "";
    std::string text;
    if (!scalar(n, what, "a whole number such as 8, 10k or 1e6" + unbounded, text)) {
      return std::nullopt;
    }
    if (max == INT64_MAX && (text == "unbounded" || text == "unlimited")) return INT64_MAX;
    Parsed<int64_t> p = parse_count(text);
    if (!p.value) {
      error(n, what + ": expected " + p.error + unbounded + ", got " + quote_text(text));
      return std::nullopt;
    }
    if (*p.value < min || *p.value > max) {
      error(n, what + ": must be between " + std::to_string(min) + " and " +
                   (max == INT64_MAX ? std::string("unbounded") : std::to_string(max)) + ", got " +
                   text);
      return std::nullopt;
    }
    return p.value;
  }
  // A weight: a percentage (95%) or a plain non-negative number. Capped so that even 10,000 of
  // them add up to a finite total.
  std::optional<double> weight(const YAML::Node& n, const std::string& what) {
    std::string text;
    if (!scalar(n, what, "a weight such as 0.3 or 30%", text)) return std::nullopt;
    if (text.find('%') != std::string::npos) {
      Parsed<double> p = parse_fraction(text);
      if (!p.value) error(n, what + ": expected " + p.error + ", got " + quote_text(text));
      return p.value;
    }
    Parsed<double> p = parse_number(text);
    if (!p.value) {
      error(n, what + ": expected a weight such as 0.3 or 30%, got " + quote_text(text));
      return std::nullopt;
    }
    if (*p.value < 0 || *p.value > kMaxWeight) {
      error(n, what + ": a weight must be between 0 and 1e15, got " + text);
      return std::nullopt;
    }
    return p.value;
  }
  std::optional<bool> boolean(const YAML::Node& n, const std::string& what) {
    std::string text;
    if (!scalar(n, what, "true or false", text)) return std::nullopt;
    if (text == "true" || text == "yes" || text == "on") return true;
    if (text == "false" || text == "no" || text == "off") return false;
    error(n, what + ": expected true or false, got " + quote_text(text));
    return std::nullopt;
  }

  static std::string fmt(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  }

  // ------------------------------------------------------------------------------------------
  // 3. Distributions, arrivals, keys, routes

  std::optional<Distribution> distribution(const YAML::Node& n, const std::string& what,
                                           int depth = 0);
  std::optional<ArrivalSpec> arrivals(const YAML::Node& n, const std::string& what);
  std::optional<KeySpec> keys(const YAML::Node& n, const std::string& what);
  std::optional<RouteSpec> route(const YAML::Node& n, const std::string& what);
  std::optional<TargetRef> target(const YAML::Node& n, const std::string& what,
                                  const std::string& expected = "a component name");

 private:
  // The single key of a one-key map such as {exponential: ...}; reports otherwise.
  bool single_key(const YAML::Node& n, const std::string& what,
                  const std::vector<std::string>& kinds, std::string& kind, YAML::Node& value);

  std::string file_;
  std::string_view text_;
  std::string origin_ = file_;
  Diagnostics& diag_;
  std::vector<std::pair<YAML::Node, std::string>> override_roots_;
  size_t distribution_parts_ = 0;
};

bool Loader::single_key(const YAML::Node& n, const std::string& what,
                        const std::vector<std::string>& kinds, std::string& kind,
                        YAML::Node& value) {
  if (!n.IsMap() || n.size() != 1) {
    error(n, what + ": expected a map with exactly one of " + join_choices(kinds) + ", got " +
                 (n.IsMap() && n.size() > 1 ? "a map with " + std::to_string(n.size()) + " keys"
                                            : got(n)));
    return false;
  }
  const auto it = n.begin();
  if (!it->first.IsScalar()) {
    error(it->first, what + ": keys must be plain names, got " + got(it->first));
    return false;
  }
  kind = it->first.Scalar();
  value = it->second;
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    error(it->first, what + ": unknown kind " + quote_text(kind) + did_you_mean(kind, kinds) +
                         "; expected " + join_choices(kinds));
    return false;
  }
  return true;
}

std::optional<Distribution> Loader::distribution(const YAML::Node& n, const std::string& what,
                                                 int depth) {
  static const std::vector<std::string> kinds = {"constant", "uniform",   "exponential",
                                                 "normal",   "lognormal", "pareto",
                                                 "weibull",  "empirical", "mixture"};
  if (++distribution_parts_ > kMaxDistributionParts) {
    if (distribution_parts_ == kMaxDistributionParts + 1) {
      error(n, what + ": too many distribution parts (at most " +
                   std::to_string(kMaxDistributionParts) + " per scenario)");
    }
    return std::nullopt;
  }
  if (depth > kMaxDistributionDepth) {
    error(n,
          what + ": mixtures nested more than " + std::to_string(kMaxDistributionDepth) + " deep");
    return std::nullopt;
  }
  if (n.IsScalar()) {  // shorthand: a duration is a constant
    auto d = duration(n, what);
    if (!d) return std::nullopt;
    return Distribution::constant(d->seconds());
  }
  std::string kind;
  YAML::Node v;
  if (!single_key(n, what + " (a distribution)", kinds, kind, v)) return std::nullopt;
  const std::string at = what + "." + kind;
  auto seconds = [&](const char* key) -> std::optional<double> {
    YAML::Node x = require(v, key, at);
    if (!x.IsDefined()) return std::nullopt;
    auto d = duration(x, at + "." + key);
    return d ? std::optional<double>(d->seconds()) : std::nullopt;
  };
  auto positive_seconds = [&](const char* key) -> std::optional<double> {
    auto s = seconds(key);
    if (s && *s <= 0) {
      error(get(v, key), at + "." + key + ": must be longer than zero");
      return std::nullopt;
    }
    return s;
  };
  auto shape = [&]() -> std::optional<double> {
    YAML::Node x = require(v, "shape", at);
    if (!x.IsDefined()) return std::nullopt;
    auto s = number(x, at + ".shape", 1e-3, 1e3);
    return s;
  };

  if (kind == "constant") {
    auto d = duration(v, at);
    if (!d) return std::nullopt;
    return Distribution::constant(d->seconds());
  }
  if (kind == "exponential") {
    if (v.IsScalar()) {
      auto d = positive_duration(v, at);
      if (!d) return std::nullopt;
      return Distribution::exponential(d->seconds());
    }
    if (!check_map(v, at, {"mean"})) return std::nullopt;
    auto m = positive_seconds("mean");
    if (!m) return std::nullopt;
    return Distribution::exponential(*m);
  }
  if (kind == "uniform") {
    if (!check_map(v, at, {"min", "max"})) return std::nullopt;
    auto lo = seconds("min");
    auto hi = seconds("max");
    if (!lo || !hi) return std::nullopt;
    if (*hi < *lo) {
      error(get(v, "max"), at + ".max: must not be below min (" + format_seconds(*lo) + "), got " +
                               got(get(v, "max")));
      return std::nullopt;
    }
    return Distribution::uniform(*lo, *hi);
  }
  if (kind == "normal") {
    if (!check_map(v, at, {"mean", "stddev"})) return std::nullopt;
    auto m = seconds("mean");
    auto s = seconds("stddev");
    if (!m || !s) return std::nullopt;
    return Distribution::normal(*m, *s);
  }
  if (kind == "lognormal") {
    if (!check_map(v, at, {"mean", "stddev", "median", "p99"})) return std::nullopt;
    const bool by_mean = has(v, "mean") || has(v, "stddev");
    const bool by_median = has(v, "median") || has(v, "p99");
    if (by_mean == by_median) {
      error(v, at + ": give either mean and stddev, or median and p99");
      return std::nullopt;
    }
    if (by_mean) {
      auto m = positive_seconds("mean");
      auto s = seconds("stddev");
      if (!m || !s) return std::nullopt;
      return Distribution::lognormal_mean_stddev(*m, *s);
    }
    auto med = positive_seconds("median");
    auto p99 = seconds("p99");
    if (!med || !p99) return std::nullopt;
    if (*p99 < *med) {
      error(get(v, "p99"), at + ".p99: must not be below the median (" + format_seconds(*med) +
                               "), got " + got(get(v, "p99")));
      return std::nullopt;
    }
    return Distribution::lognormal_median_p99(*med, *p99);
  }
  if (kind == "pareto" || kind == "weibull") {
    if (!check_map(v, at, {"scale", "shape"})) return std::nullopt;
    auto sc = positive_seconds("scale");
    auto sh = shape();
    if (!sc || !sh) return std::nullopt;
    return kind == "pareto" ? Distribution::pareto(*sc, *sh) : Distribution::weibull(*sc, *sh);
  }
  // empirical and mixture: lists of weighted entries
  const bool empirical = kind == "empirical";
  if (!v.IsSequence() || v.size() == 0) {
    error(v, at + ": expected a non-empty list of {" +
                 std::string(empirical ? "value, weight" : "weight, distribution") + "}, got " +
                 got(v));
    return std::nullopt;
  }
  std::vector<double> values, weights;
  std::vector<Distribution> parts;
  bool ok = true;
  for (size_t i = 0; i < v.size(); ++i) {
    // Past the parts limit (already reported) the rest is not read: with aliases, a short file
    // can hold a list of lists of lists... far too large to walk.
    if (distribution_parts_ > kMaxDistributionParts) return std::nullopt;
    const YAML::Node e = v[i];
    const std::string ew = at + "[" + std::to_string(i) + "]";
    const std::string other = empirical ? "value" : "distribution";
    if (!check_map(e, ew, {"weight", other})) {
      ok = false;
      continue;
    }
    YAML::Node wn = require(e, "weight", ew);
    YAML::Node on = require(e, other, ew);
    auto w = wn.IsDefined() ? weight(wn, ew + ".weight") : std::nullopt;
    if (empirical) {
      auto d = on.IsDefined() ? duration(on, ew + ".value") : std::nullopt;
      if (!w || !d) {
        ok = false;
        continue;
      }
      values.push_back(d->seconds());
    } else {
      auto d = on.IsDefined() ? distribution(on, ew + ".distribution", depth + 1) : std::nullopt;
      if (!w || !d) {
        ok = false;
        continue;
      }
      parts.push_back(std::move(*d));
    }
    weights.push_back(*w);
  }
  if (!ok) return std::nullopt;
  double total = 0;
  for (double w : weights) total += w;
  if (!(total > 0)) {
    error(v, at + ": weights must not all be zero");
    return std::nullopt;
  }
  if (empirical) return Distribution::empirical(std::move(values), std::move(weights));
  return Distribution::mixture(std::move(parts), std::move(weights));
}

std::optional<ArrivalSpec> Loader::arrivals(const YAML::Node& n, const std::string& what) {
  static const std::vector<std::string> kinds = {"poisson", "constant", "on_off", "schedule",
                                                 "closed_loop"};
  std::string kind;
  YAML::Node v;
  if (!single_key(n, what, kinds, kind, v)) return std::nullopt;
  const std::string at = what + "." + kind;
  ArrivalSpec a;
  if (kind == "poisson" || kind == "constant") {
    a.mode = kind == "poisson" ? ArrivalSpec::Mode::poisson : ArrivalSpec::Mode::constant;
    auto r = rate(v, at);
    if (!r) return std::nullopt;
    a.rate = *r;
    return a;
  }
  if (kind == "on_off") {
    a.mode = ArrivalSpec::Mode::on_off;
    if (!check_map(v, at, {"rate", "on", "off"})) return std::nullopt;
    YAML::Node rn = require(v, "rate", at), onn = require(v, "on", at),
               offn = require(v, "off", at);
    auto r = rn.IsDefined() ? rate(rn, at + ".rate") : std::nullopt;
    auto on = onn.IsDefined() ? distribution(onn, at + ".on") : std::nullopt;
    auto off = offn.IsDefined() ? distribution(offn, at + ".off") : std::nullopt;
    if (!r || !on || !off) return std::nullopt;
    if (!(on->mean() > 0)) {
      error(onn, at + ".on: the on period must have a mean above zero");
      return std::nullopt;
    }
    a.rate = *r;
    a.on_period = *on;
    a.off_period = *off;
    return a;
  }
  if (kind == "schedule") {
    a.mode = ArrivalSpec::Mode::schedule;
    if (!v.IsSequence() || v.size() == 0) {
      error(v, at + ": expected a non-empty list of {at, rate}, got " + got(v));
      return std::nullopt;
    }
    bool ok = true;
    for (size_t i = 0; i < v.size(); ++i) {
      const YAML::Node e = v[i];
      const std::string ew = at + "[" + std::to_string(i) + "]";
      if (!check_map(e, ew, {"at", "rate"})) {
        ok = false;
        continue;
      }
      YAML::Node tn = require(e, "at", ew), rn = require(e, "rate", ew);
      auto t = tn.IsDefined() ? duration(tn, ew + ".at") : std::nullopt;
      auto r = rn.IsDefined() ? rate(rn, ew + ".rate") : std::nullopt;
      if (!t || !r) {
        ok = false;
        continue;
      }
      if (!a.schedule.empty() && *t <= a.schedule.back().at) {
        error(tn, ew + ".at: steps must be in increasing time order, got " + got(tn) +
                      " after the step at " + format_time(a.schedule.back().at));
        ok = false;
        continue;
      }
      a.schedule.push_back({*t, *r});
    }
    if (!ok) return std::nullopt;
    return a;
  }
  // closed_loop
  a.mode = ArrivalSpec::Mode::closed_loop;
  if (!check_map(v, at, {"users", "think_time"})) return std::nullopt;
  YAML::Node un = require(v, "users", at), tn = require(v, "think_time", at);
  auto users = un.IsDefined() ? count(un, at + ".users", 1, kMaxUsers) : std::nullopt;
  auto think = tn.IsDefined() ? distribution(tn, at + ".think_time") : std::nullopt;
  if (!users || !think) return std::nullopt;
  a.users = *users;
  a.think_time = *think;
  return a;
}

std::optional<KeySpec> Loader::keys(const YAML::Node& n, const std::string& what) {
  std::string kind;
  YAML::Node v;
  if (!single_key(n, what, {"uniform", "zipf"}, kind, v)) return std::nullopt;
  KeySpec k;
  if (kind == "uniform") {
    auto c = count(v, what + ".uniform", 1, kMaxKeys);
    if (!c) return std::nullopt;
    k.mode = KeySpec::Mode::uniform;
    k.keys = *c;
    return k;
  }
  const std::string at = what + ".zipf";
  if (!check_map(v, at, {"keys", "s"})) return std::nullopt;
  YAML::Node kn = require(v, "keys", at), sn = require(v, "s", at);
  auto c = kn.IsDefined() ? count(kn, at + ".keys", 1, kMaxKeys) : std::nullopt;
  auto s = sn.IsDefined() ? number(sn, at + ".s", 0, 10) : std::nullopt;
  if (!c || !s) return std::nullopt;
  k.mode = KeySpec::Mode::zipf;
  k.keys = *c;
  k.exponent = *s;
  return k;
}

std::optional<TargetRef> Loader::target(const YAML::Node& n, const std::string& what,
                                        const std::string& expected) {
  std::string name;
  if (!scalar(n, what, expected, name)) return std::nullopt;
  if (name.empty()) {
    error(n, what + ": expected " + expected + ", got an empty name");
    return std::nullopt;
  }
  if (const std::string problem = name_problem(name); !problem.empty()) {
    error(n, what + ": expected " + expected + ", got " + quote_text(name) + " (" + problem + ")");
    return std::nullopt;
  }
  TargetRef t;
  t.name = name;
  t.where = where(n);
  return t;
}

std::optional<RouteSpec> Loader::route(const YAML::Node& n, const std::string& what) {
  RouteSpec r;
  r.where = where(n);
  if (n.IsScalar()) {
    auto t = target(n, what);
    if (!t) return std::nullopt;
    r.mode = RouteSpec::Mode::single;
    r.targets.push_back(*t);
    return r;
  }
  std::string kind;
  YAML::Node v;
  if (!single_key(n, what + " (a component name, {split: ...} or {cycle: [...]})",
                  {"split", "cycle"}, kind, v)) {
    return std::nullopt;
  }
  const std::string at = what + "." + kind;
  if (kind == "cycle") {
    if (!v.IsSequence() || v.size() == 0) {
      error(v, at + ": expected a non-empty list of component names, got " + got(v));
      return std::nullopt;
    }
    r.mode = RouteSpec::Mode::cycle;
    for (size_t i = 0; i < v.size(); ++i) {
      auto t = target(v[i], at + "[" + std::to_string(i) + "]");
      if (!t) return std::nullopt;
      r.targets.push_back(*t);
    }
    return r;
  }
  if (!v.IsMap() || v.size() == 0) {
    error(v, at +
                 ": expected a map of component name to probability, e.g. {db: 30%, cache: "
                 "70%}, got " +
                 got(v));
    return std::nullopt;
  }
  r.mode = RouteSpec::Mode::split;
  double total = 0;
  std::set<std::string> seen;
  for (auto it = v.begin(); it != v.end(); ++it) {
    auto t = target(it->first, at);
    if (!t) return std::nullopt;
    if (!seen.insert(t->name).second) {
      error(it->first, at + ": " + quote_text(t->name) + " appears twice");
      return std::nullopt;
    }
    auto w = weight(it->second, at + "." + t->name);
    if (!w) return std::nullopt;
    if (*w > 1) {
      error(it->second,
            at + "." + t->name + ": a probability is at most 1 (100%), got " + got(it->second));
      return std::nullopt;
    }
    total += *w;
    r.targets.push_back(*t);
    r.weights.push_back(*w);
  }
  if (std::fabs(total - 1.0) > 1e-6) {
    error(v, at + ": probabilities add up to " + fmt(total * 100) + "%, not 100%");
    return std::nullopt;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// 4. Reading a component's parameters: a ParamVisitor over its YAML map

std::vector<std::string> map_keys(const YAML::Node& n) {
  std::vector<std::string> keys;
  if (!n.IsMap()) return keys;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (it->first.IsScalar()) keys.push_back(it->first.Scalar());
  }
  return keys;
}

class YamlParamReader final : public ParamVisitor {
 public:
  // `only` restricts reading to one parameter (the live API); `context` prefixes messages.
  YamlParamReader(Loader& l, const YAML::Node& map, std::string context, const std::string* only,
                  bool live_only)
      : l_(l), map_(map), context_(std::move(context)), only_(only), live_only_(live_only) {}

  void count(const ParamInfo& i, int64_t& v, int64_t min, int64_t max) override {
    if (auto n = node(i)) explained(i, [&] { assign(v, l_.count(*n, name(i), min, max)); });
  }
  void number(const ParamInfo& i, double& v, double min, double max) override {
    if (auto n = node(i)) {
      explained(i, [&] {
        assign(v, l_.number(*n, name(i), min, max, std::string_view(i.unit) == "fraction"));
      });
    }
  }
  void duration(const ParamInfo& i, Time& v) override {
    if (auto n = node(i)) explained(i, [&] { assign(v, l_.duration(*n, name(i))); });
  }
  void rate(const ParamInfo& i, double& v) override {
    if (auto n = node(i)) explained(i, [&] { assign(v, l_.rate(*n, name(i))); });
  }
  void size(const ParamInfo& i, int64_t& v) override {
    if (auto n = node(i)) explained(i, [&] { assign(v, l_.size(*n, name(i))); });
  }
  void flag(const ParamInfo& i, bool& v) override {
    if (auto n = node(i)) explained(i, [&] { assign(v, l_.boolean(*n, name(i))); });
  }
  // Text whose unit is "path" is a request path, checked here so that the message points at the
  // offending character.
  void text(const ParamInfo& i, std::string& v) override {
    const bool path = std::string_view(i.unit) == "path";
    std::string s;
    auto n = node(i);
    if (!n) return;
    if (!l_.scalar(*n, name(i), path ? "a path such as /orders/checkout" : "a name", s)) return;
    size_t at = 0;
    if (const std::string problem = path ? path_problem(s, at) : ""; !problem.empty()) {
      // (at 0: the whole value is wrong, so point at the value, not inside its quotes)
      l_.diag().error(at == 0 ? l_.where(*n) : l_.where_in(*n, at),
                      name(i) + ": expected a path such as /orders/checkout, got " + quote_text(s) +
                          " (" + problem + ")");
      return;
    }
    v = s;
  }
  void choice(const ParamInfo& i, int& v, const char* const* options) override {
    auto n = node(i);
    if (!n) return;
    std::vector<std::string> names;
    for (const char* const* o = options; *o; ++o) names.emplace_back(*o);
    std::string s;
    if (!l_.scalar(*n, name(i), join_choices(names), s)) return;
    auto it = std::find(names.begin(), names.end(), s);
    if (it == names.end()) {
      l_.error(*n, name(i) + ": unknown value " + quote_text(s) + did_you_mean(s, names) +
                       "; expected " + join_choices(names));
      return;
    }
    v = static_cast<int>(it - names.begin());
  }
  void distribution(const ParamInfo& i, Distribution& v) override {
    if (auto n = node(i)) assign(v, l_.distribution(*n, name(i)));
  }
  void target(const ParamInfo& i, TargetRef& v) override {
    const bool group = std::string_view(i.unit) == "group";
    if (auto n = node(i)) {
      explained(i, [&] {
        assign(v, l_.target(*n, name(i), group ? "a group name" : "a component name"));
      });
    }
  }
  void route(const ParamInfo& i, RouteSpec& v) override {
    if (auto n = node(i)) assign(v, l_.route(*n, name(i)));
  }
  void arrivals(const ParamInfo& i, ArrivalSpec& v) override {
    if (auto n = node(i)) assign(v, l_.arrivals(*n, name(i)));
  }
  void keys(const ParamInfo& i, KeySpec& v) override {
    if (auto n = node(i)) assign(v, l_.keys(*n, name(i)));
  }
  void group(const ParamInfo& i, ParamGroup& v) override {
    if (auto n = node(i)) read_group(*n, name(i), v);
  }
  void list(const ParamInfo& i, ParamListBase& v) override {
    auto n = node(i);
    if (!n) return;
    if (v.keyed()) {
      read_keyed(*n, name(i), v);
      return;
    }
    if (!n->IsSequence()) {
      l_.error(*n, name(i) + ": expected a list, got " + got(*n));
      return;
    }
    v.clear();
    for (size_t k = 0; k < n->size(); ++k) {
      read_group((*n)[k], name(i) + "[" + std::to_string(k) + "]", v.add());
    }
  }

  // A keyed list: a map of plain names (as component names are) to blocks, in file order.
  void read_keyed(const YAML::Node& n, const std::string& what, ParamListBase& v) {
    if (!n.IsMap() || n.size() == 0) {
      l_.error(n, what + ": expected a map of name to its settings, got " + got(n));
      return;
    }
    v.clear();
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!it->first.IsScalar() || it->first.Scalar().empty()) {
        l_.error(it->first,
                 what + ": a name must be a non-empty plain name, got " + got(it->first));
        continue;
      }
      const std::string& key = it->first.Scalar();
      if (const std::string problem = name_problem(key); !problem.empty()) {
        l_.error(it->first, what + ": invalid name " + quote_text(key) + "; " + problem);
        continue;
      }
      if (!seen.insert(key).second) {
        l_.error(it->first, what + ": duplicate name " + quote_text(key));
        continue;
      }
      read_group(it->second, what + "." + key, v.add());
      v.set_key(v.size() - 1, key);
    }
  }

  // Reads one nested block: its own fields, unknown keys, then the block's own consistency check.
  void read_group(const YAML::Node& n, const std::string& what, ParamGroup& g) {
    if (const char* key = g.scalar_key(); key && n.IsScalar()) {
      read_scalar_group(n, what, key, g);
      return;
    }
    if (!n.IsMap()) {
      l_.error(n, what + ": expected a map, got " + got(n));
      return;
    }
    YamlParamReader inner(l_, n, what, nullptr, false);
    g.describe(inner);
    l_.check_map(n, what, inner.known());
    g.present = true;
    g.given = map_keys(n);
    if (const std::string problem = g.check(); !problem.empty()) l_.error(n, what + ": " + problem);
  }

  // The short form of a block: a single value read as {key: value}. Messages point at the value.
  void read_scalar_group(const YAML::Node& n, const std::string& what, const char* key,
                         ParamGroup& g) {
    YAML::Node map(YAML::NodeType::Map);
    map[key] = n;  // the same node, so its location is kept
    YamlParamReader inner(l_, map, what, nullptr, false);
    g.describe(inner);
    g.present = true;
    g.given = {key};
    if (const std::string problem = g.check(); !problem.empty()) l_.error(n, what + ": " + problem);
  }

  const std::vector<std::string>& known() const { return known_; }
  bool found_only() const { return found_only_; }

 private:
  // Errors in a scalar parameter's value end with what the parameter is (its help), so that a
  // message read on its own says what the value was for: "... (workers: Parallel workers (c);
  // ...)". (The messages of a choice, a text and a structured value say what is valid already.)
  class Explanation {
   public:
    Explanation(Diagnostics& d, const ParamInfo& i) : d_(d), i_(i), first_(d.items().size()) {}
    ~Explanation() {
      d_.append_to_errors_since(first_, std::string(" (") + i_.name + ": " + i_.help + ")");
    }
    Explanation(const Explanation&) = delete;
    Explanation& operator=(const Explanation&) = delete;

   private:
    Diagnostics& d_;
    const ParamInfo& i_;
    size_t first_;
  };
  template <class F>
  void explained(const ParamInfo& i, F&& read) {
    const Explanation explain(l_.diag(), i);
    read();
  }

  std::string name(const ParamInfo& i) const { return context_ + "." + i.name; }

  template <class T>
  void assign(T& field, std::optional<T> value) {
    if (value) field = std::move(*value);
  }

  // The YAML value for parameter i, if present and wanted.
  std::optional<YAML::Node> node(const ParamInfo& i) {
    known_.emplace_back(i.name);
    if (only_) {
      if (*only_ != i.name) return std::nullopt;
      found_only_ = true;
      if (live_only_ && !i.live) {
        l_.diag().error(Location{}, name(i) +
                                        ": cannot be changed while the simulation runs (it is "
                                        "not a live parameter)");
        return std::nullopt;
      }
    }
    YAML::Node v = Loader::get(map_, i.name);
    if (!v.IsDefined()) {
      if (i.required) {
        l_.error(map_, context_ + ": missing required key '" + i.name + "' (" + i.help + ")");
      }
      return std::nullopt;
    }
    l_.set_origin(v);
    return v;
  }

  Loader& l_;
  YAML::Node map_;
  std::string context_;
  const std::string* only_;
  bool live_only_;
  std::vector<std::string> known_;
  bool found_only_ = false;
};

// ---------------------------------------------------------------------------------------------
// 5. Top level and overrides

const std::vector<std::string> kTopLevelKeys = {"name",   "description", "seed",       "duration",
                                                "warmup", "window",      "components", "groups",
                                                "faults", "expect"};

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const ComponentKind& k : component_kinds()) names.emplace_back(k.name);
  return names;
}

// Applies --set overrides to the YAML tree before it is read, remembering which nodes came from
// the command line so that errors in them point there.
void apply_overrides(Loader& l, YAML::Node& root, const std::vector<Override>& overrides) {
  for (const Override& o : overrides) {
    // The path as typed, but on one line and at most 60 bytes: it stands where a file name would.
    const std::string shown = quote_text(o.path);
    const std::string origin = "--set " + shown.substr(1, shown.size() - 2);
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      l.diag().error(Location{origin, 0, 0}, "value is not valid YAML: " + e.msg);
      continue;
    }
    if (!value.IsDefined() || value.IsNull()) value = YAML::Node(o.value);  // e.g. --set name=
    std::vector<std::string> parts;
    std::stringstream ss(o.path);
    for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
    if (parts.empty() ||
        std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
      l.diag().error(Location{origin, 0, 0},
                     "the path must be dot-separated names, e.g. "
                     "components.api.workers");
      continue;
    }
    YAML::Node cur = root;
    bool ok = true;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      YAML::Node next = Loader::get(cur, parts[i]);
      if (!next.IsDefined() || !next.IsMap()) {
        std::string prefix;
        for (size_t j = 0; j <= i; ++j) prefix += (j ? "." : "") + parts[j];
        // Missing: perhaps misspelt. Present: say what it is instead (a suggestion would only
        // repeat the name).
        l.diag().error(Location{origin, 0, 0},
                       quote_text(prefix) + " is not a map in the scenario" +
                           (next.IsDefined() ? " (it is " + got(next) + ")"
                                             : did_you_mean(parts[i], map_keys(cur))));
        ok = false;
        break;
      }
      cur.reset(next);
    }
    if (!ok) continue;
    const std::string& last = parts.back();
    cur[last] = value;
    l.add_override_root(Loader::get(cur, last), origin);
    l.add_override_root(Loader::get_key(cur, last), origin);
  }
}

// The 0-based line `line` of text ("" past the end).
std::string_view line_of(std::string_view text, int line) {
  size_t begin = 0;
  for (int i = 0; i < line; ++i) {
    begin = text.find('\n', begin);
    if (begin == std::string_view::npos) return {};
    ++begin;
  }
  const size_t end = text.find('\n', begin);
  return text.substr(begin, end == std::string_view::npos ? std::string_view::npos : end - begin);
}

// yaml-cpp's message for a syntax error, with a hint at the usual cause. `line` and `column` are
// 0-based.
std::string syntax_message(const std::string& msg, std::string_view text, int line, int column) {
  std::string out = "YAML syntax: " + msg;
  // Tabs are the commonest cause of "end of map not found" and friends; yaml-cpp often notices
  // only on the line after the tab.
  for (int l = line; l >= 0 && l >= line - 1; --l) {
    const std::string_view s = line_of(text, l);
    const size_t indent_end = s.find_first_not_of(" \t");
    if (s.substr(0, indent_end).find('\t') != std::string_view::npos) {
      return out + " (line " + std::to_string(l + 1) +
             " is indented with a tab; YAML allows only spaces)";
    }
  }
  if (msg == YAML::ErrorMsg::END_OF_MAP_FLOW) return out + " (a '{' is not closed by a '}')";
  if (msg == YAML::ErrorMsg::END_OF_SEQ_FLOW) return out + " (a '[' is not closed by a ']')";
  if (msg == YAML::ErrorMsg::FLOW_END) return out + " (a '}' or ']' that closes nothing)";
  // YAML limits a plain (implicit) key to 1024 characters.
  if (msg == YAML::ErrorMsg::MAP_VALUE && column > 1024) {
    const size_t colon = line_of(text, line).find(':');
    if (colon != std::string_view::npos && colon > 1024) {
      return out + " (a key may be at most 1024 characters long)";
    }
  }
  if (msg == YAML::ErrorMsg::MAP_VALUE) {
    return out + " (a value that contains ': ' must be quoted, or the indentation is off)";
  }
  if (msg == YAML::ErrorMsg::END_OF_MAP || msg == YAML::ErrorMsg::END_OF_SEQ) {
    return out + " (check the indentation: the keys of one map must line up)";
  }
  return out;
}

// A named entry whose `kind:` picks its typed parameters (a component, a fault): checks the kind
// against the registry's (suggesting a near one), then reads the parameters, rejects unknown
// keys and runs the kind's own cross-field checks. `section` is "components" or "faults",
// `what` "component" or "fault"; `find` returns the registry row for a kind name, or null.
// Returns the row (null after reporting what is wrong) and sets `kind`, `where` (of the key) and
// `params`.
template <typename Row, typename Params>
const Row* read_kinded_entry(Loader& l, const YAML::Node& key, const YAML::Node& body,
                             const std::string& section, const std::string& what,
                             const std::vector<std::string>& kinds,
                             const Row* (*find)(std::string_view), std::string& kind,
                             Location& where, std::unique_ptr<Params>& params) {
  l.set_origin(key);
  where = l.where(key);
  const std::string context = section + "." + key.Scalar();
  if (!body.IsMap()) {
    l.error(body, context + ": expected a map with at least 'kind', got " + got(body));
    return nullptr;
  }
  const YAML::Node kind_node = Loader::get(body, "kind");
  if (!kind_node.IsDefined()) {
    l.error(key, context + ": missing required key 'kind' (one of " + join_choices(kinds) + ")");
    return nullptr;
  }
  l.set_origin(kind_node);
  if (!l.scalar(kind_node, context + ".kind", "a " + what + " kind (" + join_choices(kinds) + ")",
                kind)) {
    return nullptr;
  }
  const Row* row = find(kind);
  if (!row) {
    l.error(kind_node, context + ".kind: unknown " + what + " kind " + quote_text(kind) +
                           did_you_mean(kind, kinds) + "; known kinds: " + join_choices(kinds));
    return nullptr;
  }
  params = row->make_params();
  YamlParamReader reader(l, body, context, nullptr, false);
  params->describe(reader);
  std::vector<std::string> allowed = reader.known();
  allowed.insert(allowed.begin(), "kind");
  l.reset_origin();
  l.check_map(body, context + " (" + kind + ")", allowed);
  if (const std::string problem = params->check(map_keys(body)); !problem.empty()) {
    l.error(key, context + ": " + problem);
  }
  return row;
}

void read_component(Loader& l, const YAML::Node& key, const YAML::Node& body, Scenario& s) {
  ComponentSpec spec;
  if (!read_kinded_entry(l, key, body, "components", "component", kind_names(), find_component_kind,
                         spec.kind, spec.where, spec.params)) {
    return;
  }
  spec.name = key.Scalar();
  s.components.push_back(std::move(spec));
}

// The arrival modes' names, as `arrivals:` spells them (ArrivalSpec::Mode order).
const char* arrival_mode_name(ArrivalSpec::Mode m) {
  static constexpr const char* kNames[] = {"poisson", "constant", "on_off", "schedule",
                                           "closed_loop"};
  return kNames[static_cast<int>(m)];
}

// A fault's `after:` beyond what its fields say alone: where its anchor stands (for the messages
// of check_faults), a schedule step that the source has, and a `when:` condition read by the
// expectation parser, with the column of what is wrong inside it.
void read_fault_after(Loader& l, const YAML::Node& body, const std::string& context,
                      const ExpectationNames& names, const Scenario& s, FaultAfter& a) {
  const YAML::Node after = Loader::get(body, "after");
  if (!a.present || !after.IsDefined() || !a.check().empty()) return;
  YAML::Node anchor = after;
  if (after.IsMap()) {
    for (const char* key : {"fault", "event", "when"}) {
      if (const YAML::Node n = Loader::get(after, key); n.IsDefined()) {
        anchor.reset(n);
        break;
      }
    }
  }
  a.where = l.where(anchor);
  if (a.follows_event() && a.event == FaultAfter::kScheduleStep) {
    const std::string what = context + ".after.of";
    const auto it = std::find_if(s.components.begin(), s.components.end(),
                                 [&](const ComponentSpec& c) { return c.name == a.of.name; });
    if (it == s.components.end()) {
      std::vector<std::string> known;
      for (const ComponentSpec& c : s.components) known.push_back(c.name);
      l.diag().error(a.of.where, what + ": no component named " + quote_text(a.of.name) +
                                     did_you_mean(a.of.name, known));
      return;
    }
    const auto* source = dynamic_cast<const SourceParams*>(it->params.get());
    if (!source) {
      l.diag().error(a.of.where, what + ": " + quote_text(a.of.name) + " is a " + it->kind +
                                     "; schedule_step follows a source's arrival schedule");
      return;
    }
    const ArrivalSpec& arrivals = source->arrivals;
    if (arrivals.mode != ArrivalSpec::Mode::schedule) {
      l.diag().error(a.of.where,
                     what + ": " + quote_text(a.of.name) + " has " +
                         arrival_mode_name(arrivals.mode) +
                         " arrivals; schedule_step follows the entries of arrivals: {schedule: "
                         "[...]}");
      return;
    }
    if (a.step >= static_cast<int64_t>(arrivals.schedule.size())) {
      const size_t n = arrivals.schedule.size();
      l.error(Loader::get(after, "step"),
              context + ".after.step: the schedule of " + quote_text(a.of.name) + " has " +
                  std::to_string(n) +
                  (n == 1 ? " step (0)" : " steps (0 to " + std::to_string(n - 1) + ")") +
                  ", got " + std::to_string(a.step));
    }
    return;
  }
  if (!a.follows_condition()) return;
  ParseProblem problem;
  std::optional<Expectation> e = parse_expectation(a.when, names, problem);
  if (!e) {
    l.diag().error(l.where_in(anchor, problem.offset), context + ".after.when: " + problem.message);
    return;
  }
  if (const std::string p = trigger_problem(*e); !p.empty()) {
    l.error(anchor, context + ".after.when: " + p);
    return;
  }
  e->where = a.where;
  a.condition.push_back(std::move(*e));
}

// One entry of `faults:`, read like a component: its kind's typed parameters (the common keys
// and the kind's own). Targets and an `after:` that names a fault are checked once every
// component and fault is known.
void read_fault(Loader& l, const YAML::Node& key, const YAML::Node& body,
                const ExpectationNames& names, Scenario& s) {
  FaultSpec spec;
  if (!read_kinded_entry(l, key, body, "faults", "fault", fault_kind_names(), find_fault_kind,
                         spec.kind, spec.where, spec.params)) {
    return;
  }
  spec.name = key.Scalar();
  read_fault_after(l, body, "faults." + spec.name, names, s, spec.params->after);
  s.faults.push_back(std::move(spec));
}

// `groups:` - named sets of components that fault targets may name. Each member is read like a
// fault target (a name, {kind: ...}, {backends_of: ...}); that it names known components, and no
// group, is checked with the faults. A group may not take a component's name: a bare name in
// targets may mean either.
void read_groups(Loader& l, const YAML::Node& groups, const std::set<std::string>& components,
                 Scenario& s) {
  if (groups.IsNull()) return;
  if (!groups.IsMap()) {
    l.error(groups,
            "groups: expected a map of group name to its members, e.g. {storage: [orders-db, "
            "sessions]}, got " +
                got(groups));
    return;
  }
  YamlParamReader reader(l, groups, "groups", nullptr, false);
  std::set<std::string> names;
  for (auto it = groups.begin(); it != groups.end(); ++it) {
    l.set_origin(it->first);
    if (!it->first.IsScalar() || it->first.Scalar().empty()) {
      l.error(it->first,
              "groups: a group name must be a non-empty plain name, got " + got(it->first));
      continue;
    }
    const std::string& name = it->first.Scalar();
    if (const std::string problem = name_problem(name); !problem.empty()) {
      l.error(it->first, "groups: invalid group name " + quote_text(name) + "; " + problem);
      continue;
    }
    if (!names.insert(name).second) {
      l.error(it->first, "groups: duplicate group name " + quote_text(name));
      continue;
    }
    if (components.count(name)) {
      l.error(it->first, "groups: " + quote_text(name) +
                             " is already a component's name; a group needs a name of its own "
                             "(a name in targets may mean either)");
      continue;
    }
    ComponentGroup g;
    g.name = name;
    g.where = l.where(it->first);
    if (!it->second.IsNull()) {  // (no members: reported with the faults, as for [])
      if (!it->second.IsSequence()) {
        l.set_origin(it->second);
        l.error(it->second, "groups." + name +
                                ": expected a list of members (component names, {kind: ...} or "
                                "{backends_of: ...}), got " +
                                got(it->second));
        continue;
      }
      reader.list({g.name.c_str(), "targets", ""}, g.members);
    }
    s.groups.push_back(std::move(g));
  }
  l.reset_origin();
}

// Groups name components of the scenario (and no group); targets name components, kinds or
// groups; `after:` names another fault, without cycles.
void check_faults(Scenario& s, Diagnostics& d) {
  ComponentDirectory dir;
  for (const ComponentSpec& c : s.components) dir.add(c.name, c.kind, c.params.get());
  for (const ComponentGroup& g : s.groups) dir.add_group(g);
  bool groups_ok = true;
  for (const ComponentGroup& g : s.groups) {
    Location where;
    if (std::string e = check_group(g, dir, where); !e.empty()) {
      d.error(where, e);
      groups_ok = false;
    }
  }
  std::vector<std::string> names;
  for (const FaultSpec& f : s.faults) names.push_back(f.name);
  for (FaultSpec& f : s.faults) {
    const std::string context = "faults." + f.name;
    std::vector<uint32_t> targets;
    Location where;
    // (With a broken group, a fault that names it would only repeat the group's error.)
    if (groups_ok) {
      if (std::string e = resolve_fault_targets(f, dir, context, targets, where); !e.empty()) {
        d.error(where, e);
      }
      where = f.where;
      if (std::string e = f.params->resolve(dir, where); !e.empty()) {
        d.error(where, context + "." + e);
      } else if (d.ok()) {
        if (std::string w = f.params->warning(dir, targets); !w.empty()) {
          d.warning(f.where, context + ": " + w);
        }
      }
    }
    const FaultAfter& a = f.params->after;
    if (!a.present && f.params->at >= s.duration) {
      d.warning(f.where, context + ": starts at " + format_time(f.params->at) + ", when the run (" +
                             format_time(s.duration) + ") is over: it never acts");
    }
    if (!a.follows_fault()) continue;
    const Location at = a.where.line > 0 ? a.where : f.where;
    if (a.fault == f.name) {
      d.error(at, context + ".after: a fault cannot follow itself");
    } else if (std::find(names.begin(), names.end(), a.fault) == names.end()) {
      std::vector<std::string> others = names;
      others.erase(std::find(others.begin(), others.end(), f.name));
      std::string hint = others.empty() ? std::string(" (the scenario has no other fault)")
                                        : did_you_mean(a.fault, others);
      // `after: warmup_end` reads as a fault's name; an event needs the map form.
      for (const char* const* e = FaultAfter::kEventNames; *e; ++e) {
        if (a.fault == *e) hint += "; to follow the event, write after: {event: " + a.fault + "}";
      }
      d.error(at, context + ".after: no fault named " + quote_text(a.fault) + hint);
    }
  }
  // A chain of after: that comes back to where it started would never start. (A chain ends at a
  // fault that starts at a time, after an event or on a condition.)
  for (const FaultSpec& f : s.faults) {
    std::string cur = f.name;
    for (size_t hops = 0; hops <= s.faults.size(); ++hops) {
      const auto it = std::find_if(s.faults.begin(), s.faults.end(),
                                   [&](const FaultSpec& g) { return g.name == cur; });
      if (it == s.faults.end() || !it->params->after.follows_fault()) break;
      cur = it->params->after.fault;
      if (cur == f.name && hops > 0) {
        const FaultAfter& a = f.params->after;
        d.error(a.where.line > 0 ? a.where : f.where,
                "faults." + f.name + ".after: the chain of after: comes back to " +
                    quote_text(f.name) + " (a cycle never starts)");
        break;
      }
    }
  }
}

// The names an expectation may use: components, workloads (a source's or queue's `workload`, or
// its name) and the keys of the `faults:` section.
ExpectationNames expectation_names(const YAML::Node& root, const Scenario& s) {
  ExpectationNames names;
  const auto add_workload = [&](const std::string& workload) {
    if (std::find(names.workloads.begin(), names.workloads.end(), workload) ==
        names.workloads.end()) {
      names.workloads.push_back(workload);
    }
  };
  for (const ComponentSpec& c : s.components) {
    names.components.push_back(c.name);
    std::string workload;
    if (const auto* p = dynamic_cast<const SourceParams*>(c.params.get())) {
      workload = p->workload;
    } else if (const auto* q = dynamic_cast<const QueueParams*>(c.params.get())) {
      workload = q->workload;
      if (!q->consumer_groups.empty()) {
        // Its messages are its groups', each a queue and a workload `<queue>.<group>`.
        for (const ConsumerGroupSpec& g : q->consumer_groups) {
          names.components.push_back(QueueParams::group_queue_name(c.name, g.name));
          add_workload(QueueParams::group_queue_name(workload.empty() ? c.name : workload, g.name));
        }
        continue;
      }
    } else {
      continue;
    }
    add_workload(workload.empty() ? c.name : workload);
  }
  const YAML::Node faults = Loader::get(root, "faults");
  names.has_faults_section = faults.IsDefined();
  if (faults.IsMap()) {
    names.faults = map_keys(faults);
  } else if (faults.IsSequence()) {
    for (const YAML::Node& f : faults) {
      const YAML::Node name = Loader::get(f, "name");
      if (name.IsScalar()) names.faults.push_back(name.Scalar());
    }
  }
  return names;
}

// One time point of a window: a scalar such as "5m" or "fault sms-outage ends + 2m".
std::optional<TimePoint> read_time_point(Loader& l, const YAML::Node& n, const std::string& what,
                                         const ExpectationNames& names) {
  std::string text;
  if (!l.scalar(n, what, "a time such as 5m or 'fault <name> ends + 2m'", text)) {
    return std::nullopt;
  }
  ParseProblem problem;
  std::optional<TimePoint> t = parse_time_point(text, names, problem);
  if (!t) l.diag().error(l.where_in(n, problem.offset), what + ": " + problem.message);
  return t;
}

// `expect:` - a list of expressions, or of maps {that: <expression>, during: [from, to] | fault
// NAME, after: <time point>}.
void read_expectations(Loader& l, const YAML::Node& root, const YAML::Node& list, Scenario& s) {
  if (!list.IsSequence()) {
    l.error(list, "expect: expected a list of expectations such as 'lost == 0', got " + got(list));
    return;
  }
  const ExpectationNames names = expectation_names(root, s);
  for (size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string at = "expect[" + std::to_string(i) + "]";
    YAML::Node that = item;
    // An unquoted expression with ': ' in it (p99(latency, workload: checkout) < 300ms) is read by
    // YAML as a one-key map; the key then holds a '(' that no key of the map form has. Put back
    // together, it is what was written.
    YAML::Node split_value;
    bool split = false;
    if (item.IsMap() && item.size() == 1 && item.begin()->first.IsScalar() &&
        item.begin()->first.Scalar().find('(') != std::string::npos &&
        item.begin()->second.IsScalar()) {
      that.reset(item.begin()->first);  // (operator= would write into the node itself)
      split_value.reset(item.begin()->second);
      split = true;
    }
    const bool map_form = item.IsMap() && !split;
    if (map_form) {
      if (!l.check_map(item, at, {"that", "during", "after"})) continue;
      that.reset(Loader::get(item, "that"));
      if (!that.IsDefined()) {
        l.error(item, at + ": missing required key 'that' (the expression, e.g. 'lost == 0')");
        continue;
      }
    }
    std::string text;
    if (!l.scalar(that, at, "an expression such as 'p99(latency) < 300ms' or a map with 'that'",
                  text)) {
      continue;
    }
    const size_t key_size = text.size();
    if (split) text += ": " + split_value.Scalar();
    ParseProblem problem;
    std::optional<Expectation> e = parse_expectation(text, names, problem);
    if (!e) {
      const Location where = problem.offset < key_size + 2 || !split
                                 ? l.where_in(that, std::min(problem.offset, key_size))
                                 : l.where_in(split_value, problem.offset - key_size - 2);
      l.diag().error(where, at + ": " + problem.message);
      continue;
    }
    e->where = l.where(that);
    if (map_form) {
      const YAML::Node during = Loader::get(item, "during");
      const YAML::Node after = Loader::get(item, "after");
      if (during.IsDefined() && after.IsDefined()) {
        l.error(after, at + ": give either 'during' or 'after', not both");
        continue;
      }
      ExpectWindow w;
      bool ok = true;
      if (during.IsSequence() && during.size() == 2) {
        const auto from = read_time_point(l, during[0], at + ".during[0]", names);
        const auto to = read_time_point(l, during[1], at + ".during[1]", names);
        ok = from && to;
        if (ok) {
          w.from = *from;
          w.to = *to;
          w.text = "during [" + during[0].Scalar() + ", " + during[1].Scalar() + "]";
          if (from->fault.empty() && to->fault.empty() && to->offset_ns <= from->offset_ns) {
            l.error(during, at + ".during: the window must end after it starts");
            ok = false;
          }
        }
      } else if (during.IsScalar()) {
        // "during: fault NAME": while the fault is active.
        ParseProblem p;
        const std::optional<std::string> fault = parse_fault_reference(during.Scalar(), names, p);
        if (!fault) {
          l.diag().error(l.where_in(during, p.offset), at + ".during: " + p.message);
          ok = false;
        } else {
          w.from.fault = *fault;
          w.to = TimePoint{*fault, true, 0};
          w.text = "during fault " + *fault;
        }
      } else if (during.IsDefined()) {
        l.error(during,
                at + ".during: expected [from, to] (e.g. [5m, 10m]) or 'fault <name>', got " +
                    got(during));
        ok = false;
      } else if (after.IsDefined()) {
        const auto from = read_time_point(l, after, at + ".after", names);
        ok = from.has_value();
        if (ok) {
          w.from = *from;
          w.text = "after " + after.Scalar();
        }
      }
      if (!ok) continue;
      if (during.IsDefined() || after.IsDefined()) {
        if (e->measure.function == ExpectFunction::recovery_time) {
          l.error(during.IsDefined() ? during : after,
                  at + ": recovery_time has its own window (after the fault); drop '" +
                      (during.IsDefined() ? "during" : "after") + "'");
          continue;
        }
        if (e->measure.quantity == Quantity::generated) {
          l.error(during.IsDefined() ? during : after,
                  at + ": generated is counted over the whole run only; in a window use arrivals "
                       "of a component");
          continue;
        }
        e->window = std::move(w);
      }
    }
    s.expectations.push_back(std::move(*e));
  }
}

void read_scenario(Loader& l, const YAML::Node& root, Scenario& s) {
  if (!root.IsMap()) {
    const bool empty = !root.IsDefined() || root.IsNull();
    Location at = l.where(root);
    if (at.line <= 0) at = Location{l.file(), 1, 1};
    l.diag().error(at, std::string(empty ? "the file is empty (or only comments); " : "") +
                           "a scenario must be a map with keys " + join_choices(kTopLevelKeys) +
                           (empty ? std::string() : ", got " + got(root)));
    return;
  }
  l.check_map(root, "scenario", kTopLevelKeys);
  auto top = [&](const char* key) {
    YAML::Node v = Loader::get(root, key);
    if (v.IsDefined()) l.set_origin(v);
    return v;
  };
  if (YAML::Node v = top("name"); v.IsDefined()) l.scalar(v, "name", "a name", s.name);
  if (YAML::Node v = top("description"); v.IsDefined()) {
    l.scalar(v, "description", "text", s.description);
  }
  if (YAML::Node v = top("seed"); v.IsDefined()) {
    if (auto seed = l.count(v, "seed", 0, INT64_MAX - 1)) s.seed = static_cast<uint64_t>(*seed);
  }
  // warmup and window are compared with the duration only when it is known: an error in the
  // duration must not bring a second one about a default the file never gave.
  YAML::Node dur = top("duration");
  bool duration_ok = false;
  if (!dur.IsDefined()) {
    l.error(root, "scenario: missing required key 'duration' (simulated time to run, e.g. 10m)");
  } else if (auto d = l.positive_duration(dur, "duration")) {
    s.duration = *d;
    duration_ok = true;
  }
  if (YAML::Node v = top("warmup"); v.IsDefined()) {
    if (auto w = l.duration(v, "warmup")) {
      if (duration_ok && *w >= s.duration) {
        l.error(v, "warmup: must be shorter than the duration (" + format_time(s.duration) +
                       "), got " + got(v));
      } else {
        s.warmup = *w;
      }
    }
  }
  YAML::Node win = top("window");
  bool window_ok = !win.IsDefined();
  if (win.IsDefined()) {
    if (auto w = l.positive_duration(win, "window")) {
      s.window = *w;
      window_ok = true;
    }
  }
  if (duration_ok && window_ok && s.duration.seconds() / s.window.seconds() > kMaxWindows) {
    l.set_origin(win.IsDefined() ? win : dur);
    l.error(win.IsDefined() ? win : dur,
            "window: " + format_time(s.window) +
                " gives more than 10,000,000 time-series windows over " + format_time(s.duration) +
                "; use a longer window");
  }
  YAML::Node comps = top("components");
  if (!comps.IsDefined()) {
    l.error(root, "scenario: missing required key 'components'");
    return;
  }
  if (!comps.IsMap() || comps.size() == 0) {
    l.error(comps,
            "components: expected a map of component name to its settings, got " + got(comps));
    return;
  }
  std::set<std::string> names;
  for (auto it = comps.begin(); it != comps.end(); ++it) {
    l.set_origin(it->first);
    if (!it->first.IsScalar() || it->first.Scalar().empty()) {
      l.error(it->first,
              "components: a component name must be a non-empty plain name, got " + got(it->first));
      continue;
    }
    const std::string& name = it->first.Scalar();
    if (const std::string problem = name_problem(name); !problem.empty()) {
      l.error(it->first, "components: invalid component name " + quote_text(name) + "; " + problem);
      continue;
    }
    if (!names.insert(name).second) {
      l.error(it->first, "components: duplicate component name " + quote_text(name));
      continue;
    }
    read_component(l, it->first, it->second, s);
  }
  if (YAML::Node v = top("groups"); v.IsDefined()) read_groups(l, v, names, s);
  if (YAML::Node v = top("expect"); v.IsDefined()) read_expectations(l, root, v, s);
  YAML::Node faults = top("faults");
  if (!faults.IsDefined() || faults.IsNull()) return;
  if (!faults.IsMap()) {
    l.error(faults, "faults: expected a map of fault name to its settings, got " + got(faults));
    return;
  }
  const ExpectationNames expectation_words = expectation_names(root, s);
  std::set<std::string> fault_names;
  for (auto it = faults.begin(); it != faults.end(); ++it) {
    l.set_origin(it->first);
    if (!it->first.IsScalar() || it->first.Scalar().empty()) {
      l.error(it->first,
              "faults: a fault name must be a non-empty plain name, got " + got(it->first));
      continue;
    }
    const std::string& name = it->first.Scalar();
    if (const std::string problem = name_problem(name); !problem.empty()) {
      l.error(it->first, "faults: invalid fault name " + quote_text(name) + "; " + problem);
      continue;
    }
    if (!fault_names.insert(name).second) {
      l.error(it->first, "faults: duplicate fault name " + quote_text(name));
      continue;
    }
    read_fault(l, it->first, it->second, expectation_words, s);
  }
}

// Where each YAML document of a text starts and whether it holds anything but null: a first pass
// over the parser's events, which builds no nodes.
struct DocumentInfo {
  YAML::Mark start;
  bool empty = true;
};

class DocumentScan final : public YAML::EventHandler {
 public:
  std::vector<DocumentInfo> documents;

  void OnDocumentStart(const YAML::Mark& mark) override { documents.push_back({mark, true}); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { content(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    content();
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    content();
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    content();
  }
  void OnMapEnd() override {}

 private:
  void content() {
    if (!documents.empty()) documents.back().empty = false;
  }
};

Location at_mark(const std::string& file, const YAML::Mark& m) {
  return Location{file, std::max(m.line, 0) + 1, std::max(m.column, 0) + 1};
}

// Runs the parser over every document of `text` and reports syntax errors. Returns the index of
// the scenario's document (the first that is not empty), -1 if every document is empty, or -2
// after an error. YAML::LoadAll cannot be used directly: on a stray ',' at the top level yaml-cpp
// 0.7 returns the same empty document forever, and LoadAll collects them until memory runs out.
int scan_documents(const std::string& text, const std::string& file, Diagnostics& d) {
  DocumentScan scan;
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    while (parser.HandleNextDocument(scan)) {
      const size_t n = scan.documents.size();
      if (n >= 2 && scan.documents[n - 1].start.pos == scan.documents[n - 2].start.pos) {
        const YAML::Mark& m = scan.documents[n - 1].start;
        const size_t pos = static_cast<size_t>(std::max(m.pos, 0));
        const std::string c = pos < text.size() ? text.substr(pos, 1) : std::string();
        d.error(at_mark(file, m),
                "YAML syntax: unexpected " + quote_text(c) +
                    (c == "," ? " (a ',' separates items only inside [...] or {...})" : ""));
        return -2;
      }
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own message for this is "bad file".
    d.error(at_mark(file, e.mark),
            "YAML syntax: lists and maps nested too deeply (the parser "
            "stops at " +
                std::to_string(e.depth()) + " levels)");
    return -2;
  } catch (const YAML::ParserException& e) {
    d.error(at_mark(file, e.mark), syntax_message(e.msg, text, e.mark.line, e.mark.column));
    return -2;
  } catch (const YAML::Exception& e) {
    d.error(Location{file, 1, 1}, std::string("YAML: ") + e.what());
    return -2;
  }
  // The scenario is the one document that is not empty ("---" lines around it are harmless).
  int scenario = -1;
  for (size_t i = 0; i < scan.documents.size(); ++i) {
    if (scan.documents[i].empty) continue;
    if (scenario < 0) {
      scenario = static_cast<int>(i);
    } else {
      d.error(at_mark(file, scan.documents[i].start),
              "a second YAML document starts here; a scenario file holds exactly one, so put "
              "each scenario in its own file");
      break;
    }
  }
  return scenario;
}

// A queue with consumer_groups feeds one queue per group, `<queue>.<group>` (a name no file can
// give, as names have no '.'), added after the checked components: its references are the
// queue's, already resolved.
void add_group_queues(Scenario& s) {
  const size_t named = s.components.size();
  for (size_t i = 0; i < named; ++i) {
    const auto* q = dynamic_cast<const QueueParams*>(s.components[i].params.get());
    if (!q || q->consumer_groups.empty()) continue;
    for (size_t g = 0; g < q->consumer_groups.size(); ++g) {
      ComponentSpec spec;
      spec.name =
          QueueParams::group_queue_name(s.components[i].name, q->consumer_groups.items[g].name);
      spec.kind = s.components[i].kind;
      spec.where = s.components[i].where;
      spec.params = q->group_queue(g, s.components[i].name);
      s.components.push_back(std::move(spec));
    }
  }
}

LoadResult load(const std::string& text, const std::string& file,
                const std::vector<Override>& overrides) {
  LoadResult result;
  Diagnostics& d = result.diagnostics;
  if (text.size() > kMaxFileBytes) {
    d.error(Location{file, 0, 0}, "file is larger than 16 MiB; not a scenario?");
    return result;
  }
  // Every document is checked (YAML::Load alone would stop after the first and never see a
  // syntax error or a whole second scenario after a '---'); then the scenario's is built. The
  // scan has shown that the parser gets through the text, so building cannot loop either.
  const int scenario = scan_documents(text, file, d);
  if (scenario == -2) return result;
  YAML::Node root;
  try {
    if (scenario == 0) {
      root = YAML::Load(text);
    } else if (scenario > 0) {
      root = YAML::LoadAll(text).at(static_cast<size_t>(scenario));
    }
  } catch (const YAML::Exception& e) {
    d.error(at_mark(file, e.mark), std::string("YAML: ") + e.msg);
    return result;
  }
  Loader l(file, d);
  l.set_text(text);
  Scenario s;
  s.file = file;
  try {
    if (root.IsMap()) apply_overrides(l, root, overrides);
    read_scenario(l, root, s);
  } catch (const YAML::Exception& e) {
    // yaml-cpp reports a few structural problems (e.g. aliases into themselves) as exceptions.
    d.error(at_mark(file, e.mark), std::string("YAML: ") + e.msg);
  }
  if (!d.ok()) return result;
  if (s.name.empty()) {
    const size_t slash = file.find_last_of('/');
    std::string base = slash == std::string::npos ? file : file.substr(slash + 1);
    if (const size_t dot = base.rfind('.'); dot != std::string::npos) base.resize(dot);
    s.name = base;
  }
  check_topology(s, d);
  if (d.ok()) check_faults(s, d);
  if (d.ok()) add_group_queues(s);
  if (d.ok()) result.scenario = std::move(s);
  return result;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 6. Entry points

std::optional<Override> parse_override(std::string_view arg, std::string& error) {
  const size_t eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    error = "--set expects path=value, e.g. --set components.api.workers=8; got '" +
            std::string(arg) + "'";
    return std::nullopt;
  }
  return Override{std::string(arg.substr(0, eq)), std::string(arg.substr(eq + 1))};
}

LoadResult load_scenario_text(const std::string& yaml, const std::string& file_name,
                              const std::vector<Override>& overrides) {
  return load(yaml, file_name, overrides);
}

LoadResult load_scenario_file(const std::string& path, const std::vector<Override>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.diagnostics.error(Location{path, 0, 0}, "cannot open the file");
    return r;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return load(buf.str(), path, overrides);
}

std::string apply_param_text(ComponentParams& params, const std::string& component,
                             const std::string& param, const std::string& text, bool live_only) {
  Diagnostics d;
  const std::string origin = component + "." + param;
  try {
    YAML::Node value = YAML::Load(text);
    if (!value.IsDefined() || value.IsNull()) value = YAML::Node(text);
    YAML::Node map(YAML::NodeType::Map);
    map[param] = value;
    Loader l(origin, d);
    auto scratch = params.clone();  // parse into a copy: the live params change only on success
    YamlParamReader reader(l, map, component, &param, live_only);
    scratch->describe(reader);
    if (!reader.found_only()) {
      return "no parameter " + quote_text(param) + " in " + quote_text(component) +
             did_you_mean(param, reader.known());
    }
    if (!d.ok()) return d.items().front().message;
    YamlParamReader apply(l, map, component, &param, live_only);
    params.describe(apply);
    return {};
  } catch (const YAML::Exception& e) {
    return Diagnostics::one_line(origin + ": value is not valid YAML: " + e.msg);
  }
}

}  // namespace dsim
