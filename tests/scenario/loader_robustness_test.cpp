// The loader never crashes, throws or hangs, whatever it is given: it either loads the scenario or
// returns diagnostics, each one line long and pointing into the text.
//
// Deterministic: a fixed seed mutates the bundled scenarios and the invalid corpus (byte flips,
// truncations, deleted/duplicated/swapped lines, YAML punctuation, anchors, tags, extreme
// numbers), and hand-made inputs cover the known ways to hurt a YAML reader (deep nesting, alias
// bombs, self-referencing aliases, huge keys, huge files). Sized to run in a few seconds in
// Release, and it also runs under ASan+UBSan.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "components/service.hpp"
#include "components/source.hpp"
#include "scenario/loader.hpp"

namespace dsim {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The time limits below detect blow-ups (an alias bomb expanded exponentially takes minutes or
// never ends), not speed: they are generous, and more so for unoptimised and sanitised builds,
// which may also share the machine with other builds.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kSlowdown = 10;  // ASan + UBSan, unoptimised
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr double kSlowdown = 10;
#elif defined(__OPTIMIZE__)
constexpr double kSlowdown = 1;
#else
constexpr double kSlowdown = 5;
#endif
#elif defined(__OPTIMIZE__)
constexpr double kSlowdown = 1;
#else
constexpr double kSlowdown = 5;  // unoptimised
#endif

constexpr int kMutants = 2000;
constexpr uint64_t kSeed = 0x5CE7A210AD5EEDull;
const std::string kFile = "mutant.yaml";

// splitmix64: tiny, and the same sequence on every platform (unlike std:: distributions).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  uint64_t s_;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The bundled scenarios and the invalid corpus: the texts the mutations start from.
std::vector<std::pair<std::string, std::string>> seed_texts() {
  std::vector<std::pair<std::string, std::string>> seeds;
  std::vector<fs::path> paths;
  for (const auto& e : fs::recursive_directory_iterator(DSIM_SCENARIOS_DIR)) {
    if (e.path().extension() == ".yaml") paths.push_back(e.path());
  }
  for (const auto& e : fs::directory_iterator(DSIM_TEST_DATA_DIR "/scenarios/invalid")) {
    if (e.path().extension() == ".yaml") paths.push_back(e.path());
  }
  std::sort(paths.begin(), paths.end());  // directory order differs between machines
  for (const fs::path& p : paths) seeds.emplace_back(p.filename().string(), read_file(p));
  return seeds;
}

size_t count_lines(const std::string& text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1;
}

// What is wrong with the result of loading `text`, or "" if nothing is. The result is left in
// `out` if given.
std::string check_load(const std::string& text, const std::vector<Override>& overrides = {},
                       double seconds = 2, LoadResult* out = nullptr) {
  LoadResult scratch;
  LoadResult& r = out ? *out : scratch;
  const auto start = Clock::now();
  try {
    r = load_scenario_text(text, kFile, overrides);
  } catch (const std::exception& e) {
    return std::string("threw: ") + e.what();
  } catch (...) {
    return "threw something that is not a std::exception";
  }
  const double took = std::chrono::duration<double>(Clock::now() - start).count();
  if (took > seconds * kSlowdown) return "took " + std::to_string(took) + " s";
  if (r.scenario) {
    if (!r.diagnostics.ok()) return "loaded, but with errors";
    return {};
  }
  if (r.diagnostics.ok() || r.diagnostics.items().empty()) return "failed without a message";
  const size_t lines = count_lines(text);
  for (const Diagnostic& d : r.diagnostics.items()) {
    const std::string line = d.to_string();
    if (d.message.empty()) return "an empty message";
    if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) {
      return "a message of several lines: " + line;
    }
    if (line.size() > 2000) return "a message of " + std::to_string(line.size()) + " bytes";
    if (d.where.file != kFile && d.where.file.rfind("--set ", 0) != 0) {
      return "a message about another file: " + line;
    }
    if (d.where.line < 0 || d.where.column < 0 || (d.where.line > 0 && d.where.column == 0)) {
      return "a bad position: " + line;
    }
    if (d.where.file == kFile && static_cast<size_t>(d.where.line) > lines + 1) {
      return "a line past the end of the text: " + line;
    }
  }
  return {};
}

// A scenario that loaded must hold only values the engine can use.
std::string check_values(const Scenario& s) {
  if (!(s.duration > Time::zero())) return "duration not above zero";
  if (!(s.warmup >= Time::zero() && s.warmup < s.duration)) return "warmup out of range";
  if (!(s.window > Time::zero())) return "window not above zero";
  for (const ComponentSpec& c : s.components) {
    if (auto* p = dynamic_cast<const ServiceParams*>(c.params.get())) {
      if (p->workers < 1 || p->queue_capacity < 0) return c.name + ": bad workers or capacity";
      const double m = p->service_time.mean();
      if (std::isnan(m) || m < 0) return c.name + ": service time mean " + std::to_string(m);
      for (double w : p->next.weights) {
        if (!std::isfinite(w) || w < 0) return c.name + ": bad split weight";
      }
    }
    if (auto* p = dynamic_cast<const SourceParams*>(c.params.get())) {
      const ArrivalSpec& a = p->arrivals;
      if (!std::isfinite(a.rate) || a.rate < 0) return c.name + ": bad rate";
      for (const ArrivalSpec::Step& step : a.schedule) {
        if (!std::isfinite(step.rate) || step.rate < 0) return c.name + ": bad schedule rate";
      }
      if (p->keys.keys < 1) return c.name + ": no keys";
      if (std::isnan(a.think_time.mean()) || std::isnan(a.on_period.mean())) {
        return c.name + ": NaN period";
      }
    }
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Mutations

const std::vector<std::string> kTokens = {
    "[",         "]",           "{",      "}",           ",",        ":",
    ": ",        "- ",          "? ",     "&a ",         "*a",       "*b ",
    "!!binary ", "!!str ",      "!!map ", "!custom ",    "<<: *a\n", "---\n",
    "...\n",     "%YAML 1.2\n", "|\n",    ">-\n",        "'",        "\"",
    "#",         "\t",          "\n",     "  ",          "\\",       std::string(1, '\0'),
    "\xff\xfe",  "µ",           "~",      "null",        "1e308",    "-0",
    ".nan",      ".inf",        "nan",    "-inf",        "&a [*a]",  "@",
    "`",         "%",           "\r\n",   "\xef\xbb\xbf"};

const std::vector<std::string> kValues = {"1e308",
                                          "-1e308",
                                          "-0",
                                          "0",
                                          "nan",
                                          ".nan",
                                          ".inf",
                                          "-.inf",
                                          "inf",
                                          "1e-320",
                                          "1e308s",
                                          "-0s",
                                          "1e308/s",
                                          "1e308k/s",
                                          "1e308/ns",
                                          "1e308k",
                                          "1e308M",
                                          "1e19",
                                          "9223372036854775807",
                                          "9223372036854775808",
                                          "-9223372036854775809",
                                          "18446744073709551616",
                                          "1e308%",
                                          "100.0000001%",
                                          "0x10",
                                          "1_000",
                                          "unbounded",
                                          "",
                                          "[]",
                                          "{}",
                                          "~",
                                          "*a",
                                          "&a {}",
                                          "[[[[",
                                          "}}}}",
                                          "{a: {b: {c: {d: []}}}}",
                                          "!!binary AAAA",
                                          "{exponential: 1e308s}",
                                          "{mixture: []}",
                                          "{split: {}}",
                                          "{cycle: [a, a, a]}",
                                          "{poisson: 0/s}",
                                          "{closed_loop: {users: 10M, think_time: 0s}}",
                                          "{zipf: {keys: 10M, s: 10}}",
                                          "{pareto: {scale: 1ns, shape: 0.001}}",
                                          "{weibull: {scale: 9e9s, shape: 0.001}}",
                                          "{lognormal: {mean: 1ns, stddev: 9e9s}}"};

// Replaces the value after the `n`-th ": " on a random line.
void replace_value(std::string& text, Rng& rng) {
  std::vector<size_t> colons;
  for (size_t at = text.find(": "); at != std::string::npos; at = text.find(": ", at + 1)) {
    colons.push_back(at + 2);
  }
  if (colons.empty()) return;
  const size_t begin = rng.pick(colons);
  size_t end = text.find('\n', begin);
  if (end == std::string::npos) end = text.size();
  text.replace(begin, end - begin, rng.pick(kValues));
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t begin = 0;
  for (;;) {
    const size_t end = text.find('\n', begin);
    lines.push_back(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin));
    if (end == std::string::npos) break;
    begin = end + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) out += (i ? "\n" : "") + lines[i];
  return out;
}

// Applies one random mutation; returns its name for the failure message.
std::string mutate(std::string& text, Rng& rng) {
  const size_t n = text.size();
  switch (rng.below(10)) {
    case 0:
      if (n) text[rng.below(n)] = static_cast<char>(rng.next());
      return "byte set";
    case 1:
      if (n) text[rng.below(n)] ^= static_cast<char>(1u << rng.below(8));
      return "bit flip";
    case 2:
      text.resize(rng.below(n + 1));
      return "truncation";
    case 3: {
      auto lines = split_lines(text);
      lines.erase(lines.begin() + static_cast<long>(rng.below(lines.size())));
      text = join_lines(lines);
      return "line deleted";
    }
    case 4: {
      auto lines = split_lines(text);
      const size_t i = rng.below(lines.size());
      lines.insert(lines.begin() + static_cast<long>(i), lines[i]);
      text = join_lines(lines);
      return "line duplicated";
    }
    case 5: {
      auto lines = split_lines(text);
      std::swap(lines[rng.below(lines.size())], lines[rng.below(lines.size())]);
      text = join_lines(lines);
      return "lines swapped";
    }
    case 6: {
      auto lines = split_lines(text);
      std::string& line = lines[rng.below(lines.size())];
      if (rng.below(2) != 0) {
        line.insert(0, std::string(1 + rng.below(4), ' '));
      } else if (!line.empty() && line[0] == ' ') {
        line.erase(0, 1 + rng.below(std::min<size_t>(line.find_first_not_of(' '), 4)));
      }
      text = join_lines(lines);
      return "indentation changed";
    }
    case 7:
    case 8:
      text.insert(rng.below(n + 1), rng.pick(kTokens));
      return "token inserted";
    default:
      replace_value(text, rng);
      return "value replaced";
  }
}

TEST(LoaderRobustness, SeedsAreThere) {
  const auto seeds = seed_texts();
  EXPECT_GE(seeds.size(), 31u);  // at least one bundled scenario and the invalid corpus
  for (const auto& [name, text] : seeds) EXPECT_EQ(check_load(text), "") << name;
}

TEST(LoaderRobustness, RandomMutationsNeverCrash) {
  const auto seeds = seed_texts();
  std::vector<std::pair<std::string, std::string>> valid;
  for (const auto& seed : seeds) {
    if (load_scenario_text(seed.second, kFile).scenario) valid.push_back(seed);
  }
  ASSERT_FALSE(valid.empty());
  const std::vector<std::string> paths = {"components.api.workers",
                                          "components.api.service_time",
                                          "components.users.arrivals",
                                          "duration",
                                          "window",
                                          "components",
                                          "components.api",
                                          "components.api.next.split.db",
                                          "seed"};
  const char* trace = std::getenv("DSIM_TRACE_MUTANTS");
  Rng rng(kSeed);
  int failures = 0, loaded = 0;
  const auto start = Clock::now();
  for (int i = 0; i < kMutants && failures < 10; ++i) {
    // Two thirds of the mutants start from a valid scenario, or few would load at all (the
    // larger scenarios, e.g. the benchmarks, rarely survive a mutation).
    const auto& [name, original] =
        rng.below(3) != 0 ? valid[rng.below(valid.size())] : seeds[rng.below(seeds.size())];
    std::string text = original;
    std::string ops;
    for (size_t k = 0, count = 1 + rng.below(3); k < count; ++k) {
      ops += (k ? ", " : "") + mutate(text, rng);
    }
    std::vector<Override> overrides;
    if (rng.below(10) == 0) overrides.push_back({rng.pick(paths), rng.pick(kValues)});
    // A crash or a hang gives no failure message: DSIM_TRACE_MUTANTS=N prints every mutant's
    // name before it is loaded, and mutant N's text and overrides.
    if (trace) {
      std::fprintf(stderr, "mutant %d of %s (%s)\n", i, name.c_str(), ops.c_str());
      if (std::atoi(trace) == i) {
        std::fwrite(text.data(), 1, text.size(), stderr);
        for (const Override& o : overrides) {
          std::fprintf(stderr, "\n--set %s=%s\n", o.path.c_str(), o.value.c_str());
        }
      }
    }
    LoadResult r;
    const std::string problem = check_load(text, overrides, 2, &r);
    if (!problem.empty()) {
      ++failures;
      ADD_FAILURE() << "mutant " << i << " of " << name << " (" << ops << "): " << problem
                    << "\n--- text ---\n"
                    << text.substr(0, 2000);
      continue;
    }
    if (r.scenario) {
      ++loaded;
      const std::string bad = check_values(*r.scenario);
      EXPECT_EQ(bad, "") << "mutant " << i << " of " << name << " (" << ops << ")\n" << text;
    }
  }
  // Some mutants must still load, or the test would only ever exercise the error paths.
  EXPECT_GT(loaded, kMutants / 10);
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 15 * kSlowdown);
}

// ---------------------------------------------------------------------------------------------
// Hand-made attacks

const std::string kValid = R"(duration: 10m
components:
  users:
    kind: source
    arrivals: {poisson: 100/s}
    target: api
  api:
    kind: service
    workers: 4
    service_time: {exponential: 20ms}
    next: done
  done:
    kind: sink
)";

std::string with(const std::string& from, const std::string& to) {
  std::string s = kValid;
  s.replace(s.find(from), from.size(), to);
  return s;
}

TEST(LoaderRobustness, DeepNesting) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  EXPECT_EQ(check_load(deep), "");
  EXPECT_EQ(check_load(std::string(100'000, '[')), "");  // never closed
  EXPECT_EQ(check_load(std::string(100'000, '{')), "");
  EXPECT_EQ(check_load("duration: 10m\ncomponents: " + deep + "\n"), "");
  EXPECT_EQ(check_load(with("{exponential: 20ms}", deep)), "");
  std::string maps;
  for (int i = 0; i < 100'000; ++i) maps += "{a: ";
  EXPECT_EQ(check_load(maps), "");
  std::string dashes;
  for (int i = 0; i < 100'000; ++i) dashes += "- ";
  EXPECT_EQ(check_load(dashes + "x\n"), "");
  std::string indented;  // block maps, one level per line
  for (int i = 0; i < 1'000; ++i) indented += std::string(static_cast<size_t>(i), ' ') + "a:\n";
  EXPECT_EQ(check_load(indented), "");
  // Mixtures nested past the loader's own limit, without aliases.
  std::string mixture = "1ms";
  for (int i = 0; i < 200; ++i) mixture = "{mixture: [{weight: 1, distribution: " + mixture + "}]}";
  EXPECT_EQ(check_load(with("{exponential: 20ms}", mixture)), "");
}

// Width 10, depth `levels`: 10^levels leaves from a few hundred bytes.
std::string mixture_bomb(int levels) {
  std::string text = "&l0 {mixture: [";
  for (int i = 0; i < 10; ++i)
    text += std::string(i ? ", " : "") + "{weight: 1, distribution: 1ms}";
  text += "]}";
  for (int level = 1; level < levels; ++level) {
    std::string next =
        "&l" + std::to_string(level) + " {mixture: [{weight: 1, distribution: " + text + "}";
    for (int i = 1; i < 10; ++i) {
      next += ", {weight: 1, distribution: *l" + std::to_string(level - 1) + "}";
    }
    text = next + "]}";
  }
  return text;
}

TEST(LoaderRobustness, AliasBombs) {
  // Mixtures: 10^8 parts if expanded (and nested 8 deep, which is allowed); the loader stops at
  // 10,000 parts.
  const std::string bomb = mixture_bomb(8);
  EXPECT_LT(bomb.size(), 5000u);
  LoadResult r = load_scenario_text(with("{exponential: 20ms}", bomb), kFile);
  ASSERT_FALSE(r.scenario);
  EXPECT_NE(r.diagnostics.to_string().find("too many distribution parts"), std::string::npos)
      << r.diagnostics.to_string();
  EXPECT_EQ(check_load(with("{exponential: 20ms}", bomb), {}, 1), "");
  // One level more: now the nesting limit is hit too, thousands of times.
  EXPECT_EQ(check_load(with("{exponential: 20ms}", mixture_bomb(9)), {}, 1), "");
  // The same bomb in every distribution of the scenario, and as an on/off period.
  EXPECT_EQ(check_load(with("{poisson: 100/s}",
                            "{on_off: {rate: 1/s, on: " + mixture_bomb(8) + ", off: *l7}}")),
            "");
  // The classic billion laughs, in places the loader reads and in places it does not.
  std::string laughs = "&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]";
  for (int i = 1; i < 9; ++i) {
    laughs = "&a" + std::to_string(i) + " [" + laughs;
    for (int k = 1; k < 10; ++k) laughs += ", *a" + std::to_string(i - 1);
    laughs += "]";
  }
  EXPECT_EQ(check_load("description: " + laughs + "\n" + kValid), "");
  EXPECT_EQ(check_load("lol: " + laughs + "\n" + kValid), "");
  EXPECT_EQ(check_load(with("next: done", "next: {cycle: " + laughs + "}")), "");
  EXPECT_EQ(check_load(with("{poisson: 100/s}", "{schedule: " + laughs + "}")), "");
  EXPECT_EQ(check_load(with("done:\n    kind: sink", "done: " + laughs)), "");
}

TEST(LoaderRobustness, SelfReferencingAliases) {
  EXPECT_EQ(
      check_load(with("{exponential: 20ms}", "&m {mixture: [{weight: 1, distribution: *m}]}")), "");
  EXPECT_EQ(check_load(with("next: done", "next: &n {split: {done: *n}}")), "");
  EXPECT_EQ(check_load(with("next: done", "next: &n {cycle: [*n]}")), "");
  EXPECT_EQ(check_load("a: &a [*a]\n" + kValid), "");
  EXPECT_EQ(check_load("&r {duration: 10m, components: {x: *r}}"), "");
  EXPECT_EQ(check_load("duration: 10m\ncomponents: &c\n  x: *c\n"), "");
  EXPECT_EQ(check_load(with("kind: service", "kind: service\n    <<: *nothing")), "");
}

TEST(LoaderRobustness, ExtremeNumbersEverywhere) {
  // Each numeric position of the scenario, with each extreme value.
  const std::string tmpl = R"(seed: {seed}
duration: {duration}
warmup: {warmup}
window: {window}
components:
  users:
    kind: source
    arrivals: {schedule: [{at: 0s, rate: {rate}}, {at: {at}, rate: 1/s}]}
    target: api
    keys: {zipf: {keys: {keys}, s: {s}}}
    priority: {priority}
    timeout: {timeout}
    max_requests: {max}
  more:
    kind: source
    arrivals: {closed_loop: {users: {users}, think_time: {think}}}
    target: api
  api:
    kind: service
    workers: {workers}
    queue_capacity: {capacity}
    service_time: {mixture: [{weight: {w1}, distribution: {uniform: {min: {min}, max: {max_t}}}}, {weight: {w2}, distribution: {pareto: {scale: {scale}, shape: {shape}}}}]}
    next: {split: {done: {p1}, api: {p2}}}
  done:
    kind: sink
)";
  const std::vector<std::string> fields = {
      "{seed}",  "{duration}", "{warmup}",   "{window}",  "{rate}", "{at}",
      "{keys}",  "{s}",        "{priority}", "{timeout}", "{max}",  "{users}",
      "{think}", "{workers}",  "{capacity}", "{w1}",      "{w2}",   "{min}",
      "{max_t}", "{scale}",    "{shape}",    "{p1}",      "{p2}"};
  const std::vector<std::string> defaults = {"1", "10m", "1m",  "1s",  "5/s", "1m",  "100", "1.1",
                                             "0", "2s",  "1M",  "10",  "1s",  "4",   "100", "1",
                                             "1", "1ms", "2ms", "1ms", "2",   "90%", "10%"};
  // Every extreme value of the mutation corpus, plus a few that only make sense in one field.
  std::vector<std::string> extremes = kValues;
  for (const char* v : {"-0%", "nan%", "1e308ns", "1e-300s"}) extremes.emplace_back(v);
  auto fill = [&](size_t field, const std::string& value) {
    std::string s = tmpl;
    for (size_t f = 0; f < fields.size(); ++f) {
      const std::string& v = f == field ? value : defaults[f];
      for (size_t at = s.find(fields[f]); at != std::string::npos; at = s.find(fields[f], at)) {
        s.replace(at, fields[f].size(), v);
        at += v.size();
      }
    }
    return s;
  };
  {
    LoadResult base = load_scenario_text(fill(fields.size(), ""), kFile);
    ASSERT_TRUE(base.scenario) << base.diagnostics.to_string();
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    for (const std::string& v : extremes) {
      const std::string text = fill(f, v);
      LoadResult r;
      EXPECT_EQ(check_load(text, {}, 2, &r), "") << fields[f] << " = " << v;
      if (r.scenario) {
        EXPECT_EQ(check_values(*r.scenario), "") << fields[f] << " = " << v;
      }
    }
  }
}

TEST(LoaderRobustness, HugeKeysNamesAndValues) {
  const std::string huge(200'000, 'k');  // yaml-cpp scans about 5 MB/s
  EXPECT_EQ(check_load(huge + ": 1\n" + kValid), "");
  EXPECT_EQ(check_load(with("workers: 4", huge + ": 4")), "");
  EXPECT_EQ(check_load(with("workers: 4", "workers: " + huge)), "");
  EXPECT_EQ(check_load(with("kind: service", "kind: " + huge)), "");
  EXPECT_EQ(check_load(with("next: done", "next: " + huge)), "");
  EXPECT_EQ(check_load(with("done:\n", huge + ":\n")), "");
  EXPECT_EQ(check_load(with("{exponential: 20ms}", "{" + huge + ": 20ms}")), "");
  EXPECT_EQ(check_load(with("next: done", "next: {split: {" + huge + ": 100%}}")), "");
  EXPECT_EQ(check_load(with("{exponential: 20ms}", "'" + huge + "'")), "");
  EXPECT_EQ(check_load("# " + huge + "\n" + kValid), "");
  EXPECT_EQ(check_load(kValid, {{"components.api." + huge, "1"}}), "");
  EXPECT_EQ(check_load(kValid, {{"components.api.workers", huge}}), "");
}

TEST(LoaderRobustness, ManyComponentsAndManyErrors) {
  // 3,000 sources whose targets all miss: every miss would compare with every name.
  std::string text = "duration: 10m\ncomponents:\n";
  for (int i = 0; i < 3'000; ++i) {
    text += "  s" + std::to_string(i) + ": {kind: source, arrivals: {poisson: 1/s}, target: x" +
            std::to_string(i) + "}\n";
  }
  LoadResult r;
  EXPECT_EQ(check_load(text, {}, 1, &r), "");
  EXPECT_EQ(r.diagnostics.count(), 3'000u);
  EXPECT_EQ(r.diagnostics.items().size(), 100u);
  EXPECT_NE(r.diagnostics.to_string().find("(2900 more errors not shown)"), std::string::npos);
  // More distribution parts than allowed, spread over many services.
  text =
      "duration: 10m\ncomponents:\n  u: {kind: source, arrivals: {poisson: 1/s}, target: d}\n"
      "  d: {kind: sink}\n";
  for (int i = 0; i < 10'500; ++i) {
    text += "  c" + std::to_string(i) + ": {kind: service, service_time: 1ms}\n";
  }
  EXPECT_EQ(check_load(text, {}, 2), "");
}

TEST(LoaderRobustness, OddFiles) {
  EXPECT_EQ(check_load(""), "");
  EXPECT_EQ(check_load(std::string(1, '\0')), "");
  EXPECT_EQ(check_load("\xef\xbb\xbf" + kValid), "");  // a byte-order mark
  // Control characters where yaml-cpp quotes them back in its own messages.
  EXPECT_EQ(check_load(with("next: done", std::string("next: done\0", 11))), "");
  EXPECT_EQ(check_load(with("next: done", "next: \"do\\\x01ne\"")), "");
  EXPECT_EQ(check_load(with("next: done", "next: \"do\\\nne\"")), "");
  EXPECT_EQ(check_load(std::string(10'000, '\n')), "");
  EXPECT_EQ(check_load(std::string(100'000, '-')), "");
  std::string documents;
  for (int i = 0; i < 10'000; ++i) documents += "---\n";
  EXPECT_EQ(check_load(documents + kValid), "");
  EXPECT_EQ(check_load(kValid + "---\n" + kValid), "");
  EXPECT_EQ(check_load("%YAML 1.2\n%TAG ! tag:x,2000:\n---\n" + kValid), "");
  EXPECT_EQ(check_load("%YAML 9.9\n---\n" + kValid), "");
  std::string crlf;
  for (char c : kValid) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_EQ(check_load(crlf), "");
  // Over the 16 MiB limit: refused before parsing.
  const std::string big = kValid + "# " + std::string(16u << 20, 'x') + "\n";
  LoadResult r = load_scenario_text(big, kFile);
  ASSERT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.to_string(),
            "mutant.yaml: error: file is larger than 16 MiB; not a scenario?\n");
  // A path that cannot be opened.
  r = load_scenario_file(DSIM_TEST_DATA_DIR "/scenarios/no/such/file.yaml");
  ASSERT_FALSE(r.scenario);
  EXPECT_NE(r.diagnostics.to_string().find("cannot open the file"), std::string::npos);
}

}  // namespace
}  // namespace dsim
