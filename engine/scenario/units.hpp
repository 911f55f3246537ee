// Every unit in a scenario is parsed here, and only here.
//
//   durations    250us 50ms 2s 1.5m 1h 1d (ns us ms s m min h d); a bare 0 is allowed
//   rates        200/s 12k/min 0.5/ms 3M/h (a k or M multiplier on the number), at most 1/ns
//   sizes        512B 64KiB 2GiB 1.5MB (binary KiB MiB GiB TiB, decimal KB MB GB TB)
//   fractions    0.1% 95% or a plain number in [0, 1]
//   counts       8 10k 1M 1e6 (whole numbers), `unbounded` where the parameter allows it
//
// Each parser returns the value or an error phrase that completes "expected ...".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace dsim {

template <class T>
struct Parsed {
  std::optional<T> value;
  std::string error;  // set when !value
  static Parsed ok(T v) { return Parsed{std::move(v), {}}; }
  static Parsed fail(std::string e) { return Parsed{std::nullopt, std::move(e)}; }
};

// A plain decimal number ("C" locale, no unit).
Parsed<double> parse_number(std::string_view text);
Parsed<Time> parse_duration(std::string_view text);
Parsed<double> parse_rate(std::string_view text);   // per second
Parsed<int64_t> parse_size(std::string_view text);  // bytes
Parsed<double> parse_fraction(std::string_view text);
Parsed<int64_t> parse_count(std::string_view text);

}  // namespace dsim
