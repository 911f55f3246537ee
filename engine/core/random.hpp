// Seeded random streams.
//
// One root seed per run. Every component draws from streams derived from (root seed, component
// name, purpose), so adding or renaming one component never changes another's draws, and a
// component's arrival draws do not shift when its routing draws change. The generator is
// xoshiro256++ (public domain algorithm by Blackman and Vigna): fast, 256-bit state, and — unlike
// the std:: distributions — its output and ours are defined bit for bit on every platform, which
// "same seed, same bytes" needs.
#pragma once

#include <cstdint>
#include <string_view>

namespace dsim {

// FNV-1a, 64-bit: stable across platforms and runs (std::hash is neither).
uint64_t stable_hash(std::string_view text);

class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  // Stream for (root seed, component, purpose), e.g. derive(seed, "api", "service_time").
  static Rng derive(uint64_t root_seed, std::string_view component, std::string_view purpose);

  uint64_t next_u64() {
    const uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in (0, 1]: safe to take the logarithm of.
  double uniform01_open_low() { return 1.0 - uniform01(); }
  // Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method).
  uint64_t below(uint64_t n);
  // Exponential with mean 1, by Marsaglia and Tsang's ziggurat (2000): 99 % of draws are one
  // table look-up and a multiply, no logarithm. Every exponential in the engine (Poisson
  // arrivals, exponential service times) goes through here: it is the hottest sampler.
  double exponential();

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace dsim
