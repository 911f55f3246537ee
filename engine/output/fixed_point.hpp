// Exact decimal text for integer quantities in a smaller unit: nanoseconds as seconds
// ("12.000000125") or as microseconds ("12000000.125"). Printing through a double would round
// long runs (a day is 8.64e13 ns, beyond %.10g) and differ between platforms.
#pragma once

#include <cstdint>
#include <string>

namespace dsim {

// value / 10^decimals written exactly, without trailing zeros ("1.5", "2", "0.000001").
std::string fixed_point_text(int64_t value, int decimals);

}  // namespace dsim
