#include "core/format.hpp"

#include <cmath>
#include <cstdio>

namespace dsim {

std::string format_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string format_seconds(double s) {
  if (std::isinf(s)) return s > 0 ? "inf" : "-inf";
  if (std::isnan(s)) return "nan";
  const double a = std::fabs(s);
  char buf[32];
  if (a == 0) return "0s";
  if (a < 1e-6) {
    std::snprintf(buf, sizeof buf, "%.4gns", s * 1e9);
  } else if (a < 1e-3) {
    std::snprintf(buf, sizeof buf, "%.4gus", s * 1e6);
  } else if (a < 1) {
    std::snprintf(buf, sizeof buf, "%.4gms", s * 1e3);
  } else if (a < 120) {
    std::snprintf(buf, sizeof buf, "%.4gs", s);
  } else if (a < 7200) {
    std::snprintf(buf, sizeof buf, "%.4gm", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%.4gh", s / 3600);
  }
  return buf;
}

std::string format_rate(double r) {
  char buf[32];
  const double a = std::fabs(r);
  if (a >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.4gM/s", r / 1e6);
  } else if (a >= 1e4) {
    std::snprintf(buf, sizeof buf, "%.4gk/s", r / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g/s", r);
  }
  return buf;
}

std::string format_size(int64_t bytes) {
  struct Unit {
    const char* name;
    int64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"TiB", int64_t{1} << 40},
      {"TB", 1'000'000'000'000},
      {"GiB", int64_t{1} << 30},
      {"GB", 1'000'000'000},
      {"MiB", int64_t{1} << 20},
      {"MB", 1'000'000},
      {"KiB", 1024},
      {"KB", 1000},
  };
  if (bytes > 0) {
    for (const Unit& u : kUnits) {
      if (bytes % u.factor == 0) return std::to_string(bytes / u.factor) + u.name;
    }
  }
  return std::to_string(bytes) + "B";
}

}  // namespace dsim
