// What the loader produces from valid input: typed values, --set overrides, suggestions and live
// parameter changes. (Invalid input is covered by invalid_scenarios_test.cpp and its corpus.)
#include "scenario/loader.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "components/route.hpp"
#include "components/service.hpp"
#include "components/source.hpp"
#include "scenario/param_text.hpp"
#include "scenario/suggest.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

using test::load_errors;
using test::load_text;

const ComponentSpec& spec(const Scenario& s, const std::string& name) {
  for (const ComponentSpec& c : s.components) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no component " + name);
}
const ServiceParams& service(const Scenario& s, const std::string& name) {
  return dynamic_cast<const ServiceParams&>(*spec(s, name).params);
}
const SourceParams& source(const Scenario& s, const std::string& name) {
  return dynamic_cast<const SourceParams&>(*spec(s, name).params);
}
uint32_t index_of(const Scenario& s, const std::string& name) {
  for (size_t i = 0; i < s.components.size(); ++i) {
    if (s.components[i].name == name) return static_cast<uint32_t>(i);
  }
  return UINT32_MAX;
}

// A small scenario that uses most of the format; tests change one line of it at a time.
const std::string kShop = R"(name: shop
description: A web shop.
seed: 42
duration: 10m
warmup: 30s
window: 5s
components:
  users:
    kind: source
    arrivals: {poisson: 12k/min}
    target: api
    workload: browse
    keys: {zipf: {keys: 10k, s: 1.1}}
    priority: 3
    timeout: 2s
    max_requests: 1M
  api:
    kind: service
    workers: 4
    queue_capacity: unbounded
    discipline: priority
    service_time: {exponential: 20ms}
    next: {split: {cache: 70%, db: 0.3}}
  cache:
    kind: service
    service_time: 1ms
    next: done
  db:
    kind: service
    workers: 2
    queue_capacity: 100
    service_time: {lognormal: {median: 10ms, p99: 100ms}}
    next: {cycle: [done, api]}
  done:
    kind: sink
)";

// Replaces the first occurrence of `from` in kShop.
std::string shop_with(const std::string& from, const std::string& to) {
  std::string s = kShop;
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// The service_time of `api` when written as `text`.
Distribution service_time(const std::string& text) {
  Scenario s = load_text(shop_with("{exponential: 20ms}", text));
  if (s.components.empty()) return Distribution::constant(-1);
  return service(s, "api").service_time;
}

// ---------------------------------------------------------------------------------------------
// Typed values

TEST(Loader, TopLevelValues) {
  const Scenario s = load_text(kShop);
  EXPECT_EQ(s.name, "shop");
  EXPECT_EQ(s.description, "A web shop.");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration, Time::s(600));
  EXPECT_EQ(s.warmup, Time::s(30));
  EXPECT_EQ(s.window, Time::s(5));
  EXPECT_EQ(s.file, "test.yaml");
}

TEST(Loader, DefaultsAndNameFromFile) {
  LoadResult r = load_scenario_text(
      "duration: 1m\ncomponents: {u: {kind: source, arrivals: {poisson: 1/s}, target: d}, d: "
      "{kind: sink}}\n",
      "dir/some.scenario.yaml");
  ASSERT_TRUE(r.scenario) << r.diagnostics.to_string();
  EXPECT_EQ(r.scenario->name, "some.scenario");
  EXPECT_EQ(r.scenario->seed, 1u);
  EXPECT_EQ(r.scenario->warmup, Time::zero());
  EXPECT_EQ(r.scenario->window, Time::s(1));
}

TEST(Loader, ComponentsKeepFileOrderKindsAndLocations) {
  const Scenario s = load_text(kShop);
  ASSERT_EQ(s.components.size(), 5u);
  const char* names[] = {"users", "api", "cache", "db", "done"};
  const char* kinds[] = {"source", "service", "service", "service", "sink"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(s.components[i].name, names[i]);
    EXPECT_EQ(s.components[i].kind, kinds[i]);
  }
  EXPECT_EQ(spec(s, "api").where.to_string(), "test.yaml:17:3");
}

TEST(Loader, ServiceParameters) {
  const Scenario s = load_text(kShop);
  const ServiceParams& api = service(s, "api");
  EXPECT_EQ(api.workers, 4);
  EXPECT_EQ(api.queue_capacity, INT64_MAX);  // unbounded
  EXPECT_STREQ(ServiceParams::kDisciplineNames[api.discipline], "priority");
  const ServiceParams& db = service(s, "db");
  EXPECT_EQ(db.workers, 2);
  EXPECT_EQ(db.queue_capacity, 100);
  EXPECT_STREQ(ServiceParams::kDisciplineNames[db.discipline], "fifo");  // the default
}

TEST(Loader, SourceParameters) {
  const Scenario s = load_text(kShop);
  const SourceParams& u = source(s, "users");
  EXPECT_EQ(u.target.name, "api");
  EXPECT_EQ(u.target.index, index_of(s, "api"));
  EXPECT_EQ(u.workload, "browse");
  EXPECT_EQ(u.priority, 3);
  EXPECT_EQ(u.call.timeout, Time::s(2));
  EXPECT_EQ(u.max_requests, 1'000'000);
  EXPECT_EQ(u.keys.mode, KeySpec::Mode::zipf);
  EXPECT_EQ(u.keys.keys, 10'000);
  EXPECT_DOUBLE_EQ(u.keys.exponent, 1.1);
}

TEST(Loader, RatesAreReadPerSecond) {
  const Scenario s = load_text(kShop);
  EXPECT_EQ(source(s, "users").arrivals.mode, ArrivalSpec::Mode::poisson);
  EXPECT_DOUBLE_EQ(source(s, "users").arrivals.rate, 200.0);  // 12k/min
}

TEST(Loader, RoutesKeepTargetsAndWeights) {
  const Scenario s = load_text(kShop);
  const RouteSpec& split = service(s, "api").next;
  EXPECT_EQ(split.mode, RouteSpec::Mode::split);
  ASSERT_EQ(split.targets.size(), 2u);
  EXPECT_EQ(split.targets[0].name, "cache");
  EXPECT_EQ(split.targets[1].name, "db");
  EXPECT_EQ(split.targets[0].index, index_of(s, "cache"));
  EXPECT_EQ(split.targets[1].index, index_of(s, "db"));
  ASSERT_EQ(split.weights.size(), 2u);
  EXPECT_DOUBLE_EQ(split.weights[0], 0.7);
  EXPECT_DOUBLE_EQ(split.weights[1], 0.3);
  EXPECT_EQ(split.targets[0].where.to_string(), "test.yaml:23:20");

  const RouteSpec& single = service(s, "cache").next;
  EXPECT_EQ(single.mode, RouteSpec::Mode::single);
  ASSERT_EQ(single.targets.size(), 1u);
  EXPECT_EQ(single.targets[0].index, index_of(s, "done"));

  const RouteSpec& cycle = service(s, "db").next;
  EXPECT_EQ(cycle.mode, RouteSpec::Mode::cycle);
  ASSERT_EQ(cycle.targets.size(), 2u);
  EXPECT_EQ(cycle.targets[0].name, "done");
  EXPECT_EQ(cycle.targets[1].name, "api");
  EXPECT_TRUE(cycle.weights.empty());
}

TEST(Loader, NoNextMeansTheRouteEnds) {
  Scenario s = load_text(shop_with("    next: done\n", ""));
  ASSERT_FALSE(s.components.empty());
  EXPECT_EQ(service(s, "cache").next.mode, RouteSpec::Mode::end);
  EXPECT_TRUE(service(s, "cache").next.targets.empty());
}

TEST(Loader, DistributionMeans) {
  EXPECT_EQ(service_time("{exponential: 20ms}").kind(), Distribution::Kind::exponential);
  EXPECT_NEAR(service_time("{exponential: 20ms}").mean(), 0.020, 1e-12);
  EXPECT_NEAR(service_time("{exponential: {mean: 3s}}").mean(), 3.0, 1e-12);
  EXPECT_EQ(service_time("250us").kind(), Distribution::Kind::constant);  // shorthand
  EXPECT_NEAR(service_time("250us").mean(), 250e-6, 1e-15);
  EXPECT_NEAR(service_time("{constant: 1.5m}").mean(), 90.0, 1e-9);
  EXPECT_NEAR(service_time("{uniform: {min: 10ms, max: 30ms}}").mean(), 0.020, 1e-12);
  EXPECT_NEAR(service_time("{normal: {mean: 50ms, stddev: 0s}}").mean(), 0.050, 1e-12);
  EXPECT_NEAR(service_time("{lognormal: {mean: 40ms, stddev: 10ms}}").mean(), 0.040, 1e-9);
  EXPECT_NEAR(service_time("{pareto: {scale: 10ms, shape: 2}}").mean(), 0.020, 1e-12);
  EXPECT_EQ(service_time("{pareto: {scale: 10ms, shape: 1}}").mean(), INFINITY);
  EXPECT_NEAR(service_time("{weibull: {scale: 10ms, shape: 1}}").mean(), 0.010, 1e-12);
  EXPECT_NEAR(
      service_time("{empirical: [{value: 10ms, weight: 3}, {value: 50ms, weight: 1}]}").mean(),
      0.020, 1e-12);
  EXPECT_NEAR(service_time("{mixture: [{weight: 90%, distribution: 10ms}, {weight: 10%, "
                           "distribution: {exponential: 110ms}}]}")
                  .mean(),
              0.020, 1e-12);
  // Weights need not add up to 1; zero weights are allowed as long as some are not.
  EXPECT_NEAR(service_time("{empirical: [{value: 1s, weight: 0}, {value: 2s, weight: 5}]}").mean(),
              2.0, 1e-12);
}

TEST(Loader, LognormalByMedianAndP99) {
  const Distribution d = service_time("{lognormal: {median: 10ms, p99: 100ms}}");
  EXPECT_EQ(d.kind(), Distribution::Kind::lognormal);
  // mu = ln(median), sigma = ln(p99 / median) / z99; mean = exp(mu + sigma^2 / 2).
  const double sigma = std::log(10.0) / 2.3263478740408408;
  EXPECT_NEAR(d.mean(), 0.010 * std::exp(sigma * sigma / 2), 1e-9);
}

TEST(Loader, ArrivalModes) {
  auto arrivals = [](const std::string& text) {
    Scenario s = load_text(shop_with("{poisson: 12k/min}", text));
    return s.components.empty() ? ArrivalSpec{} : source(s, "users").arrivals;
  };
  ArrivalSpec a = arrivals("{constant: 0.5/ms}");
  EXPECT_EQ(a.mode, ArrivalSpec::Mode::constant);
  EXPECT_DOUBLE_EQ(a.rate, 500);

  a = arrivals("{on_off: {rate: 100/s, on: {exponential: 2s}, off: 8s}}");
  EXPECT_EQ(a.mode, ArrivalSpec::Mode::on_off);
  EXPECT_DOUBLE_EQ(a.rate, 100);
  EXPECT_NEAR(a.on_period.mean(), 2.0, 1e-12);
  EXPECT_NEAR(a.off_period.mean(), 8.0, 1e-12);

  a = arrivals("{schedule: [{at: 0, rate: 10/s}, {at: 1m, rate: 3M/h}, {at: 2m, rate: 0/s}]}");
  EXPECT_EQ(a.mode, ArrivalSpec::Mode::schedule);
  ASSERT_EQ(a.schedule.size(), 3u);
  EXPECT_EQ(a.schedule[0].at, Time::zero());
  EXPECT_DOUBLE_EQ(a.schedule[0].rate, 10);
  EXPECT_EQ(a.schedule[1].at, Time::s(60));
  EXPECT_NEAR(a.schedule[1].rate, 3e6 / 3600, 1e-9);
  EXPECT_EQ(a.schedule[2].at, Time::s(120));
  EXPECT_DOUBLE_EQ(a.schedule[2].rate, 0);

  a = arrivals("{closed_loop: {users: 1k, think_time: {exponential: 5s}}}");
  EXPECT_EQ(a.mode, ArrivalSpec::Mode::closed_loop);
  EXPECT_EQ(a.users, 1000);
  EXPECT_NEAR(a.think_time.mean(), 5.0, 1e-12);
}

TEST(Loader, KeySpecs) {
  auto keys = [](const std::string& text) {
    Scenario s = load_text(shop_with("{zipf: {keys: 10k, s: 1.1}}", text));
    return s.components.empty() ? KeySpec{} : source(s, "users").keys;
  };
  KeySpec k = keys("{uniform: 64}");
  EXPECT_EQ(k.mode, KeySpec::Mode::uniform);
  EXPECT_EQ(k.keys, 64);
  k = keys("{zipf: {keys: 1e6, s: 0}}");
  EXPECT_EQ(k.mode, KeySpec::Mode::zipf);
  EXPECT_EQ(k.keys, 1'000'000);
  EXPECT_DOUBLE_EQ(k.exponent, 0.0);
  // Absent: every request has key 0.
  Scenario s = load_text(shop_with("    keys: {zipf: {keys: 10k, s: 1.1}}\n", ""));
  ASSERT_FALSE(s.components.empty());
  EXPECT_EQ(source(s, "users").keys.mode, KeySpec::Mode::none);
}

TEST(Loader, EmptyDocumentsAroundTheScenarioAreHarmless) {
  EXPECT_EQ(load_text("---\n" + kShop + "---\n# nothing more\n").name, "shop");
  EXPECT_EQ(load_text(kShop + "...\n").name, "shop");
}

TEST(Loader, AliasesShareValues) {
  std::string text = shop_with("{exponential: 20ms}", "&fast {exponential: 7ms}");
  text.replace(text.find("service_time: 1ms"), 17, "service_time: *fast");
  const Scenario s = load_text(text);
  ASSERT_FALSE(s.components.empty());
  EXPECT_NEAR(service(s, "api").service_time.mean(), 0.007, 1e-12);
  EXPECT_NEAR(service(s, "cache").service_time.mean(), 0.007, 1e-12);
}

TEST(Loader, EveryBundledScenarioLoads) {
  namespace fs = std::filesystem;
  int count = 0;
  for (const auto& e : fs::recursive_directory_iterator(DSIM_SCENARIOS_DIR)) {
    if (e.path().extension() != ".yaml") continue;
    ++count;
    LoadResult r = load_scenario_file(e.path().string());
    EXPECT_TRUE(r.scenario) << r.diagnostics.to_string();
  }
  EXPECT_GE(count, 1);
}

// ---------------------------------------------------------------------------------------------
// --set overrides

TEST(Overrides, ParseOverride) {
  std::string error;
  auto o = parse_override("components.api.workers=8", error);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->path, "components.api.workers");
  EXPECT_EQ(o->value, "8");
  o = parse_override("name=a=b", error);  // only the first '=' splits
  ASSERT_TRUE(o);
  EXPECT_EQ(o->path, "name");
  EXPECT_EQ(o->value, "a=b");
  o = parse_override("description=", error);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->value, "");
  EXPECT_FALSE(parse_override("components.api.workers", error));
  EXPECT_EQ(error,
            "--set expects path=value, e.g. --set components.api.workers=8; got "
            "'components.api.workers'");
  EXPECT_FALSE(parse_override("=8", error));
}

TEST(Overrides, ChangeValues) {
  const Scenario s = load_text(kShop, {{"components.api.workers", "8"},
                                       {"duration", "1h"},
                                       {"components.db.service_time", "{exponential: 5ms}"},
                                       {"components.users.arrivals", "{poisson: 50/s}"},
                                       {"seed", "7"}});
  ASSERT_FALSE(s.components.empty());
  EXPECT_EQ(service(s, "api").workers, 8);
  EXPECT_EQ(s.duration, Time::s(3600));
  EXPECT_EQ(s.seed, 7u);
  EXPECT_NEAR(service(s, "db").service_time.mean(), 0.005, 1e-12);
  EXPECT_DOUBLE_EQ(source(s, "users").arrivals.rate, 50);
}

TEST(Overrides, AddAKeyTheFileDoesNotHave) {
  const Scenario s = load_text(kShop, {{"components.cache.workers", "3"}});
  ASSERT_FALSE(s.components.empty());
  EXPECT_EQ(service(s, "cache").workers, 3);
}

TEST(Overrides, ApplyInOrder) {
  const Scenario s =
      load_text(kShop, {{"components.api.workers", "8"}, {"components.api.workers", "9"}});
  ASSERT_FALSE(s.components.empty());
  EXPECT_EQ(service(s, "api").workers, 9);
}

TEST(Overrides, UnknownKeyIsLocatedAtTheOverrideWithASuggestion) {
  LoadResult r = load_scenario_text(kShop, "test.yaml", {{"components.api.wrokers", "8"}});
  ASSERT_FALSE(r.scenario);
  ASSERT_EQ(r.diagnostics.count(), 1u) << r.diagnostics.to_string();
  const Diagnostic& d = r.diagnostics.items()[0];
  EXPECT_EQ(d.where.file, "--set components.api.wrokers");
  EXPECT_EQ(d.where.line, 0);
  EXPECT_EQ(d.to_string().rfind("--set components.api.wrokers: error: components.api (service): "
                                "unknown key 'wrokers' (did you mean 'workers'?)",
                                0),
            0u)
      << d.to_string();
}

TEST(Overrides, BadValueIsLocatedAtTheOverride) {
  LoadResult r = load_scenario_text(kShop, "test.yaml", {{"components.api.workers", "0"}});
  ASSERT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.to_string(),
            "--set components.api.workers: error: components.api.workers: must be between 1 and "
            "1000000, got 0 (workers: Parallel workers (c); each serves one request at a time.)\n");
  // Inside a structured value the position is within the override's text.
  r = load_scenario_text(kShop, "test.yaml",
                         {{"components.api.service_time", "{exponential: 5 parsecs}"}});
  ASSERT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.to_string().rfind(
                "--set components.api.service_time:1:15: error: "
                "components.api.service_time.exponential: expected a duration with a unit",
                0),
            0u)
      << r.diagnostics.to_string();
}

TEST(Overrides, MissingComponentIsAnError) {
  LoadResult r = load_scenario_text(kShop, "test.yaml", {{"components.apy.workers", "8"}});
  ASSERT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.to_string(),
            "--set components.apy.workers: error: 'components.apy' is not a map in the scenario "
            "(did you mean 'api'?)\n");
  r = load_scenario_text(kShop, "test.yaml", {{"components.nothing_like_it.workers", "8"}});
  ASSERT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.to_string(),
            "--set components.nothing_like_it.workers: error: 'components.nothing_like_it' is not "
            "a map in the scenario\n");
}

TEST(Overrides, UnknownTopLevelKey) {
  LoadResult r = load_scenario_text(kShop, "test.yaml", {{"duraton", "5m"}});
  ASSERT_FALSE(r.scenario);
  EXPECT_EQ(
      r.diagnostics.to_string().rfind(
          "--set duraton: error: scenario: unknown key 'duraton' (did you mean 'duration'?)", 0),
      0u)
      << r.diagnostics.to_string();
}

TEST(Overrides, MalformedPathsAndValues) {
  LoadResult r = load_scenario_text(kShop, "test.yaml", {{"components..workers", "8"}});
  EXPECT_EQ(r.diagnostics.to_string(),
            "--set components..workers: error: the path must be dot-separated names, e.g. "
            "components.api.workers\n");
  r = load_scenario_text(kShop, "test.yaml", {{"components.api.workers.x", "8"}});
  EXPECT_EQ(r.diagnostics.to_string(),
            "--set components.api.workers.x: error: 'components.api.workers' is not a map in the "
            "scenario (it is '4')\n");
  r = load_scenario_text(kShop, "test.yaml", {{"components.api.service_time", "{exponential: "}});
  ASSERT_FALSE(r.scenario);
  EXPECT_EQ(r.diagnostics.to_string().rfind(
                "--set components.api.service_time: error: value is not valid YAML: ", 0),
            0u)
      << r.diagnostics.to_string();
}

// ---------------------------------------------------------------------------------------------
// Suggestions

TEST(Suggest, DidYouMean) {
  const std::vector<std::string> keys = {"workers",      "queue_capacity", "discipline",
                                         "service_time", "next",           "handler"};
  EXPECT_EQ(did_you_mean("wrokers", keys), " (did you mean 'workers'?)");
  EXPECT_EQ(did_you_mean("service_tme", keys), " (did you mean 'service_time'?)");
  EXPECT_EQ(did_you_mean("Workers", keys), " (did you mean 'workers'?)");  // case is ignored
  EXPECT_EQ(did_you_mean("nxt", keys), " (did you mean 'next'?)");
  EXPECT_EQ(did_you_mean("colour", keys), "");
  EXPECT_EQ(did_you_mean("", keys), "");
  EXPECT_EQ(did_you_mean("workers", {}), "");
  EXPECT_EQ(did_you_mean("servce", {"source", "service", "sink"}), " (did you mean 'service'?)");
  EXPECT_EQ(did_you_mean("exponental", {"exponential", "normal"}),
            " (did you mean 'exponential'?)");
}

TEST(Suggest, DistanceLimitGrowsWithTheWord) {
  // Up to 3 characters: 1 edit; 4 to 6: 2 edits; longer: 3 edits.
  EXPECT_EQ(closest_match("ab", {"xy"}), "");
  EXPECT_EQ(closest_match("ab", {"ac"}), "ac");
  EXPECT_EQ(closest_match("abcd", {"abxy"}), "abxy");
  EXPECT_EQ(closest_match("abcd", {"axyz"}), "");
  EXPECT_EQ(closest_match("abcdefg", {"abcdxyz"}), "abcdxyz");
  EXPECT_EQ(closest_match("abcdefghij", {"abcdefwxyz"}), "");
  EXPECT_EQ(closest_match("workrs", {"workers", "worker"}), "workers");  // first of equals
}

TEST(Suggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("wrokers", "workers"), 1u);  // an adjacent swap is one edit
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);           // optimal string alignment, not Damerau
  EXPECT_EQ(edit_distance("SINK", "sink"), 0u);
}

TEST(Suggest, HugeCandidatesAreCheap) {
  // A candidate whose length alone rules it out is skipped without computing its distance (a
  // million-character name would otherwise cost millions of steps per suggestion), and a word
  // too long to be a typo gets no suggestion and costs no distance at all.
  const std::vector<std::string> huge = {std::string(1'000'000, 'x'), "done"};
  std::vector<size_t> compared;  // the lengths of the candidates the distance was computed for
  const DistanceFunction counting = [&](std::string_view a, std::string_view b) {
    compared.push_back(b.size());
    return edit_distance(a, b);
  };
  EXPECT_EQ(closest_match("dnoe", huge, counting), "done");
  EXPECT_EQ(compared, std::vector<size_t>{4});
  compared.clear();
  EXPECT_EQ(closest_match(std::string(100, 'x'), huge, counting), "");
  EXPECT_TRUE(compared.empty());
  // The same with the candidates the other way round: "done" first, the huge one still skipped.
  const std::vector<std::string> reversed = {"done", std::string(1'000'000, 'x')};
  EXPECT_EQ(closest_match("dnoe", reversed, counting), "done");
  EXPECT_EQ(compared, std::vector<size_t>{4});
  EXPECT_EQ(closest_match("dnoe", huge), "done");  // the default distance agrees
}

TEST(Suggest, QuoteTextKeepsMessagesOnOneLine) {
  // (Built by appending: GCC 12 gives a false -Wrestrict warning on "'" + std::string(n, c).)
  const auto cut = [](size_t n, char c) { return std::string("'").append(n, c).append("...'"); };
  EXPECT_EQ(quote_text("api"), "'api'");
  EXPECT_EQ(quote_text(""), "''");
  EXPECT_EQ(quote_text("a\nb\tc\r\x01"), "'a\\nb\\tc\\r\\x01'");
  EXPECT_EQ(quote_text(std::string(100, 'k')), cut(60, 'k'));
  // A cut never splits a UTF-8 character: 59 ASCII bytes and then 'µ' (2 bytes) keep 59 bytes.
  EXPECT_EQ(quote_text(std::string(59, 'a') + "µµµ"), cut(59, 'a'));
  EXPECT_EQ(join_choices({"a"}), "a");
  EXPECT_EQ(join_choices({"a", "b", "c"}), "a, b or c");
}

// ---------------------------------------------------------------------------------------------
// apply_param_text: the live control API's parser

class ApplyParam : public testing::Test {
 protected:
  void SetUp() override {
    const Scenario s = load_text(kShop);
    ASSERT_FALSE(s.components.empty());
    api_ = service(s, "api");
    users_ = source(s, "users");
  }
  ServiceParams api_;
  SourceParams users_;
};

TEST_F(ApplyParam, LiveParameterChanges) {
  EXPECT_EQ(apply_param_text(api_, "api", "workers", "8", true), "");
  EXPECT_EQ(api_.workers, 8);
  EXPECT_EQ(apply_param_text(api_, "api", "queue_capacity", "unbounded", true), "");
  EXPECT_EQ(api_.queue_capacity, INT64_MAX);
  EXPECT_EQ(apply_param_text(api_, "api", "service_time", "{exponential: 5ms}", true), "");
  EXPECT_NEAR(api_.service_time.mean(), 0.005, 1e-12);
  EXPECT_EQ(apply_param_text(users_, "users", "arrivals", "{poisson: 50/s}", true), "");
  EXPECT_DOUBLE_EQ(users_.arrivals.rate, 50);
}

TEST_F(ApplyParam, NonLiveParameterIsRefused) {
  EXPECT_EQ(apply_param_text(api_, "api", "discipline", "fifo", true),
            "api.discipline: cannot be changed while the simulation runs (it is not a live "
            "parameter)");
  EXPECT_STREQ(ServiceParams::kDisciplineNames[api_.discipline], "priority");
  EXPECT_NE(apply_param_text(users_, "users", "target", "done", true), "");
  EXPECT_EQ(users_.target.name, "api");
  // Before a run starts every parameter may be set.
  EXPECT_EQ(apply_param_text(api_, "api", "discipline", "lifo", false), "");
  EXPECT_STREQ(ServiceParams::kDisciplineNames[api_.discipline], "lifo");
}

// A scalar parameter's errors end with its help, so that the message says what the value is for.
constexpr const char* kWorkersHelp =
    "(workers: Parallel workers (c); each serves one request at a time.)";

TEST_F(ApplyParam, BadValuesLeaveTheParameterUnchanged) {
  EXPECT_EQ(apply_param_text(api_, "api", "workers", "0", true),
            "api.workers: must be between 1 and 1000000, got 0 " + std::string(kWorkersHelp));
  EXPECT_EQ(apply_param_text(api_, "api", "workers", "eight", true),
            "api.workers: expected a whole number such as 8, 10k or 1e6, got 'eight' " +
                std::string(kWorkersHelp));
  EXPECT_EQ(apply_param_text(api_, "api", "workers", "[1, 2]", true),
            "api.workers: expected a whole number such as 8, 10k or 1e6, got a list " +
                std::string(kWorkersHelp));
  EXPECT_EQ(api_.workers, 4);
  EXPECT_EQ(apply_param_text(api_, "api", "service_time", "{exponential: 0s}", true),
            "api.service_time.exponential: must be longer than zero, got '0s'");
  EXPECT_EQ(
      apply_param_text(api_, "api", "service_time",
                       "{mixture: [{weight: 1, distribution: "
                       "5ms}, {weight: 1, distribution: -1s}]}",
                       true),
      "api.service_time.mixture[1].distribution: expected a duration that is not negative, got "
      "'-1s'");
  EXPECT_NEAR(api_.service_time.mean(), 0.020, 1e-12);
  const std::string bad_yaml = apply_param_text(api_, "api", "service_time", "{exponential", true);
  EXPECT_EQ(bad_yaml.rfind("api.service_time: value is not valid YAML: ", 0), 0u) << bad_yaml;
  EXPECT_NEAR(api_.service_time.mean(), 0.020, 1e-12);
  EXPECT_EQ(apply_param_text(users_, "users", "arrivals", "{poisson: 50}", true),
            "users.arrivals.poisson: expected a rate such as 200/s, 12k/min or 0.5/ms (the "
            "'/unit' is missing), got '50'");
  EXPECT_DOUBLE_EQ(users_.arrivals.rate, 200);
}

TEST_F(ApplyParam, UnknownParameterGetsASuggestion) {
  EXPECT_EQ(apply_param_text(api_, "api", "wrokers", "8", true),
            "no parameter 'wrokers' in 'api' (did you mean 'workers'?)");
  EXPECT_EQ(apply_param_text(api_, "api", "colour", "red", true), "no parameter 'colour' in 'api'");
  EXPECT_EQ(api_.workers, 4);
}

}  // namespace
}  // namespace dsim
