#include "scenario/units.hpp"

#include <charconv>
#include <cmath>
#include <utility>

namespace dsim {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits "1.5ms" into 1.5 and "ms". Returns false when there is no leading number.
bool split_number(std::string_view text, double& number, std::string_view& rest) {
  text = trim(text);
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars rejects a leading '+'
  auto [ptr, ec] = std::from_chars(begin, end, number, std::chars_format::general);
  if (ec != std::errc() || !std::isfinite(number)) return false;
  rest = trim(std::string_view(ptr, static_cast<size_t>(end - ptr)));
  return true;
}

struct UnitFactor {
  std::string_view name;
  double factor;
};

template <size_t N>
const UnitFactor* find_unit(const UnitFactor (&table)[N], std::string_view name) {
  for (const UnitFactor& u : table) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

constexpr UnitFactor kDurationUnits[] = {
    {"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3}, {"s", 1},     {"sec", 1},
    {"m", 60},    {"min", 60},  {"h", 3600},  {"hr", 3600}, {"d", 86400},
};
constexpr UnitFactor kRatePer[] = {
    {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"s", 1},     {"sec", 1},
    {"m", 60},    {"min", 60},  {"h", 3600},  {"hr", 3600}, {"d", 86400},
};
constexpr UnitFactor kSizeUnits[] = {
    {"B", 1},
    {"KiB", 1024.0},
    {"MiB", 1048576.0},
    {"GiB", 1073741824.0},
    {"TiB", 1099511627776.0},
    {"KB", 1e3},
    {"kB", 1e3},
    {"MB", 1e6},
    {"GB", 1e9},
    {"TB", 1e12},
};

constexpr double kMaxDurationSeconds = 100 * 365.25 * 86400;

}  // namespace

Parsed<double> parse_number(std::string_view text) {
  double v = 0;
  std::string_view rest;
  if (!split_number(text, v, rest) || !rest.empty()) return Parsed<double>::fail("a number");
  return Parsed<double>::ok(v);
}

Parsed<Time> parse_duration(std::string_view text) {
  const char* expected = "a duration with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h";
  double v = 0;
  std::string_view unit;
  if (!split_number(text, v, unit)) return Parsed<Time>::fail(expected);
  if (unit.empty()) {
    if (v == 0) return Parsed<Time>::ok(Time::zero());
    return Parsed<Time>::fail(std::string(expected) + " (the unit is missing)");
  }
  const UnitFactor* u = find_unit(kDurationUnits, unit);
  if (!u)
    return Parsed<Time>::fail(std::string(expected) + " ('" + std::string(unit) +
                              "' is not a time unit)");
  const double seconds = v * u->factor;
  if (seconds < 0) return Parsed<Time>::fail("a duration that is not negative");
  // 100 years: any instant in a run plus any delay then stays below Time's 292-year range.
  if (seconds > kMaxDurationSeconds) return Parsed<Time>::fail("a duration of at most 100 years");
  return Parsed<Time>::ok(Time::from_seconds(seconds));
}

Parsed<double> parse_rate(std::string_view text) {
  const char* expected = "a rate such as 200/s, 12k/min or 0.5/ms";
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Parsed<double>::fail(std::string(expected) + " (the '/unit' is missing)");
  }
  double v = 0;
  std::string_view multiplier;
  if (!split_number(text.substr(0, slash), v, multiplier)) return Parsed<double>::fail(expected);
  if (multiplier == "k") {
    v *= 1e3;
  } else if (multiplier == "M") {
    v *= 1e6;
  } else if (!multiplier.empty()) {
    return Parsed<double>::fail(std::string(expected) + " ('" + std::string(multiplier) +
                                "' is not k or M)");
  }
  const std::string_view per = trim(text.substr(slash + 1));
  const UnitFactor* u = find_unit(kRatePer, per);
  if (!u) {
    return Parsed<double>::fail(std::string(expected) + " ('" + std::string(per) +
                                "' is not a time unit)");
  }
  if (v < 0) return Parsed<double>::fail("a rate that is not negative");
  const double per_second = v / u->factor;
  // Faster than one per nanosecond cannot be told apart on the engine's clock (and an infinite
  // rate, e.g. 1e308k/s, would make every gap zero: the run would never leave time zero).
  if (!(per_second <= 1e9)) return Parsed<double>::fail("a rate of at most 1/ns (1e9/s)");
  return Parsed<double>::ok(per_second);
}

Parsed<int64_t> parse_size(std::string_view text) {
  const char* expected = "a size such as 512B, 64KiB or 2GiB";
  double v = 0;
  std::string_view unit;
  if (!split_number(text, v, unit)) return Parsed<int64_t>::fail(expected);
  const UnitFactor* u = find_unit(kSizeUnits, unit);
  if (!u) {
    return Parsed<int64_t>::fail(std::string(expected) +
                                 (unit.empty()
                                      ? " (the unit is missing)"
                                      : " ('" + std::string(unit) + "' is not a size unit)"));
  }
  const double bytes = v * u->factor;
  if (bytes < 0 || bytes > 9.2e18) return Parsed<int64_t>::fail("a size between 0B and 8EiB");
  return Parsed<int64_t>::ok(static_cast<int64_t>(std::llround(bytes)));
}

Parsed<double> parse_fraction(std::string_view text) {
  const char* expected = "a fraction such as 0.25 or a percentage such as 0.1%";
  double v = 0;
  std::string_view unit;
  if (!split_number(text, v, unit)) return Parsed<double>::fail(expected);
  if (unit == "%") {
    v /= 100;
  } else if (!unit.empty()) {
    return Parsed<double>::fail(expected);
  }
  if (v < 0 || v > 1) return Parsed<double>::fail("a fraction between 0 and 1 (0% to 100%)");
  return Parsed<double>::ok(v);
}

Parsed<int64_t> parse_count(std::string_view text) {
  const char* expected = "a whole number such as 8, 10k or 1e6";
  double v = 0;
  std::string_view unit;
  if (!split_number(text, v, unit)) return Parsed<int64_t>::fail(expected);
  if (unit == "k") {
    v *= 1e3;
  } else if (unit == "M") {
    v *= 1e6;
  } else if (!unit.empty()) {
    return Parsed<int64_t>::fail(expected);
  }
  if (v != std::floor(v)) return Parsed<int64_t>::fail(std::string(expected) + " (not a fraction)");
  if (std::fabs(v) > 9.0e18) return Parsed<int64_t>::fail("a whole number below 9e18");
  return Parsed<int64_t>::ok(static_cast<int64_t>(v));
}

}  // namespace dsim
