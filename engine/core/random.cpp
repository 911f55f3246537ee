#include "core/random.hpp"

#include <array>
#include <cmath>

namespace dsim {
namespace {
uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
}  // namespace

uint64_t stable_hash(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

Rng::Rng(uint64_t seed) {
  // splitmix64 expands one word into a well-mixed 256-bit state (never all zero).
  uint64_t x = seed;
  for (auto& word : s_) word = splitmix64(x);
}

Rng Rng::derive(uint64_t root_seed, std::string_view component, std::string_view purpose) {
  uint64_t x = root_seed ^ 0x5851f42d4c957f2dULL;
  uint64_t mixed = splitmix64(x) ^ stable_hash(component);
  mixed = splitmix64(mixed) ^ stable_hash(purpose);
  return Rng(splitmix64(mixed));
}

uint64_t Rng::below(uint64_t n) {
  // Lemire, "Fast Random Integer Generation in an Interval" (2019).
  uint64_t x = next_u64();
  __uint128_t m = static_cast<__uint128_t>(x) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    while (low < threshold) {
      x = next_u64();
      m = static_cast<__uint128_t>(x) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

namespace {

// Ziggurat tables for the exponential density, 256 layers (Marsaglia & Tsang, "The Ziggurat
// Method for Generating Random Variables", J. Stat. Software 5(8), 2000). The candidate uses 53
// random bits and the layer index 8 other bits of the same 64-bit word, so the two are
// independent (the original reused the index bits in the value).
struct ExponentialZiggurat {
  static constexpr double kR = 7.697117470131487;       // start of the tail
  static constexpr double kV = 3.949659822581572e-3;    // area of each layer
  static constexpr double kScale = 9007199254740992.0;  // 2^53
  // What 99 % of draws read, side by side: one cache line per draw, not one per array.
  struct alignas(16) Layer {
    uint64_t k = 0;  // acceptance threshold on the 53-bit value
    double w = 0;    // value scale
  };
  std::array<Layer, 256> layer{};
  std::array<double, 256> f{};  // density at each layer's edge

  ExponentialZiggurat() {
    double de = kR, te = kR;
    const double q = kV / std::exp(-de);
    layer[0].k = static_cast<uint64_t>((de / q) * kScale);
    layer[1].k = 0;
    layer[0].w = q / kScale;
    layer[255].w = de / kScale;
    f[0] = 1.0;
    f[255] = std::exp(-de);
    for (int i = 254; i >= 1; --i) {
      de = -std::log(kV / de + std::exp(-de));
      layer[i + 1].k = static_cast<uint64_t>((de / te) * kScale);
      te = de;
      f[i] = std::exp(-de);
      layer[i].w = de / kScale;
    }
  }
};

const ExponentialZiggurat& ziggurat() {
  static const ExponentialZiggurat z;
  return z;
}

}  // namespace

double Rng::exponential() {
  const ExponentialZiggurat& z = ziggurat();
  for (;;) {
    const uint64_t bits = next_u64();
    const size_t i = bits & 0xff;
    const uint64_t j = bits >> 11;  // 53 bits
    const ExponentialZiggurat::Layer& layer = z.layer[i];
    if (j < layer.k) return static_cast<double>(j) * layer.w;  // inside the layer's rectangle
    if (i == 0) return ExponentialZiggurat::kR - std::log(uniform01_open_low());  // the tail
    const double x = static_cast<double>(j) * layer.w;
    // The wedge between the rectangle and the curve: accept under the density.
    if (z.f[i] + uniform01() * (z.f[i - 1] - z.f[i]) < std::exp(-x)) return x;
  }
}

}  // namespace dsim
