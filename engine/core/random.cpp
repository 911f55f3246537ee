#include "core/random.hpp"

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

}  // namespace dsim
