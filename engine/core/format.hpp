// Human-readable numbers for summaries, errors and docs. Deterministic (printf-based, "C" locale
// digits), since summaries are compared byte for byte.
#pragma once

#include <string>

#include "core/time.hpp"

namespace dsim {

// Shortest of %.6g: 0.9, 1e+06, 12.5.
std::string format_number(double v);
// Seconds with a unit that keeps 1-3 integer digits: "250us", "20ms", "1.5s", "2m", "1.2h".
std::string format_seconds(double seconds);
inline std::string format_time(Time t) {
  return format_seconds(t.seconds());
}
// Per-second rate: "900/s", "12k/s".
std::string format_rate(double per_second);
// Bytes in the largest unit that divides them exactly, binary or decimal, so that the text parses
// back to the same number: "2KiB", "10GB", "1500B".
std::string format_size(int64_t bytes);

}  // namespace dsim
