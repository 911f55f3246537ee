#include "output/fixed_point.hpp"

namespace dsim {

std::string fixed_point_text(int64_t value, int decimals) {
  const bool negative = value < 0;
  // Through unsigned arithmetic so that INT64_MIN has a magnitude.
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  // Built by appending: GCC 12 warns falsely (-Wrestrict, bug 105329) on "-" + std::string.
  std::string out = negative ? "-" : "";
  if (decimals <= 0) {
    out += std::to_string(magnitude);
    return out;
  }
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string fraction = std::to_string(magnitude % scale);
  fraction.insert(0, static_cast<size_t>(decimals) - fraction.size(), '0');
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  out += std::to_string(magnitude / scale);
  if (!fraction.empty()) {
    out += '.';
    out += fraction;
  }
  return out;
}

}  // namespace dsim
