// timeseries.jsonl and faults.json: every line / the file is JSON of the documented shape, the
// figures agree with the CSV's source (the window rows), and times are exact decimals.
#include "output/timeseries_jsonl_writer.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "output/faults_json.hpp"
#include "output/fixed_point.hpp"
#include "output/timeseries_writer.hpp"
#include "support/mini_json.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

const char* kLossy = R"(
name: lossy
seed: 5
duration: 1m
window: 10s
components:
  users: {kind: source, arrivals: {poisson: 50/s}, target: api, workload: checkout}
  api: {kind: service, workers: 2, queue_capacity: 5, service_time: {exponential: 50ms}, next: done}
  done: {kind: sink}
)";

std::vector<test::Json> lines_of(const std::string& text) {
  std::vector<test::Json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(test::JsonParser::parse(line));
  return out;
}

}  // namespace

TEST(FixedPointText, WritesExactDecimalsWithoutTrailingZeros) {
  EXPECT_EQ(fixed_point_text(0, 9), "0");
  EXPECT_EQ(fixed_point_text(1'500'000'000, 9), "1.5");
  EXPECT_EQ(fixed_point_text(86'400'000'000'001, 9), "86400.000000001");
  EXPECT_EQ(fixed_point_text(1234567, 3), "1234.567");
  EXPECT_EQ(fixed_point_text(-250, 3), "-0.25");
  EXPECT_EQ(fixed_point_text(7, 0), "7");
}

TEST(TimeseriesJsonl, OneObjectPerWindowComponentAndFamily) {
  Simulation sim(test::load_text(kLossy));
  std::ostringstream out;
  TimeseriesJsonlWriter writer(out);
  sim.add_observer(&writer);
  sim.run();
  const auto lines = lines_of(out.str());
  // Per window and component: traffic, latency, queue and losses, then counters and gauges for
  // the components that have them (the source counts its calls).
  const std::vector<std::string> families = {"traffic", "latency", "queue", "losses"};
  uint64_t arrivals = 0, lost = 0, queue_full = 0;
  size_t always = 0, next = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const test::Json& l = lines[i];
    ASSERT_GE(l.members.size(), 5u);
    EXPECT_EQ(l.members[0].first, "t_start_s");
    EXPECT_EQ(l.members[1].first, "t_end_s");
    EXPECT_EQ(l.members[2].first, "component");
    EXPECT_EQ(l.members[3].first, "kind");
    EXPECT_EQ(l.members[4].first, "family");
    const std::string& family = l["family"].text;
    if (family == "counters" || family == "gauges" || family == "cache") {
      EXPECT_TRUE(l.has("values"));
    } else {
      EXPECT_EQ(family, families[next]);
      next = (next + 1) % families.size();
      EXPECT_EQ(l["t_start_s"].number, 10.0 * static_cast<double>(always / 12));
      ++always;
    }
    if (l["component"].text != "api") continue;
    if (l["family"].text == "traffic") arrivals += static_cast<uint64_t>(l["arrivals"].number);
    if (l["family"].text == "losses") {
      lost += static_cast<uint64_t>(l["lost"].number);
      if (l["by_reason"].has("queue_full"))
        queue_full += static_cast<uint64_t>(l["by_reason"]["queue_full"].number);
    }
    if (l["family"].text == "latency") {
      EXPECT_GT(l["count"].number, 0);
      EXPECT_LE(l["p50_s"].number, l["p99_s"].number);
    }
  }
  EXPECT_EQ(always, 6u * 3 * 4);  // 6 windows x 3 components x 4 families
  const StationMetrics& api = sim.find("api")->metrics();
  EXPECT_EQ(arrivals, api.arrivals());
  EXPECT_EQ(lost, api.dropped()[static_cast<int>(Reason::queue_full)]);
  EXPECT_EQ(queue_full, lost);
  EXPECT_GT(lost, 0u);
  // A sink records no latency: its figures are null rather than a misleading zero.
  for (const test::Json& l : lines) {
    if (l["component"].text == "done" && l["family"].text == "latency") {
      EXPECT_EQ(l["count"].number, 0);
      EXPECT_TRUE(l["p99_s"].is_null());
    }
  }
}

// A cache's hit ratio per window: its own family, from the window's hit and miss counters, and
// the same figure in the CSV's last column (empty for components that look nothing up).
TEST(TimeseriesJsonl, ACachesWindowsCarryTheirHitRatio) {
  const char* kCached = R"(
name: cached
seed: 8
duration: 30s
window: 10s
components:
  users: {kind: source, arrivals: {poisson: 200/s}, keys: {zipf: {keys: 1000, s: 1.0}}, target: c}
  c: {kind: cache, capacity: 100, backing: db}
  db: {kind: service, workers: 50, service_time: {exponential: 5ms}}
)";
  Simulation sim(test::load_text(kCached));
  std::ostringstream jsonl, csv;
  TimeseriesJsonlWriter writer(jsonl);
  TimeseriesCsvWriter csv_writer(csv);
  sim.add_observer(&writer);
  sim.add_observer(&csv_writer);
  sim.run();
  std::vector<double> ratios;
  uint64_t hits = 0, misses = 0;
  for (const test::Json& l : lines_of(jsonl.str())) {
    if (l["family"].text != "cache") continue;
    EXPECT_EQ(l["component"].text, "c");
    const double h = l["hits"].number, m = l["misses"].number;
    EXPECT_NEAR(l["hit_ratio"].number, h / (h + m), 1e-9);  // (written with 10 digits)
    hits += static_cast<uint64_t>(h);
    misses += static_cast<uint64_t>(m);
    ratios.push_back(l["hit_ratio"].number);
  }
  ASSERT_EQ(ratios.size(), 3u);
  EXPECT_EQ(hits, sim.find("c")->metrics().counter(Counter::cache_hits));
  EXPECT_EQ(misses, sim.find("c")->metrics().counter(Counter::cache_misses));
  EXPECT_LT(ratios[0], ratios[2]) << "the cache starts cold";
  // The CSV's last column: the ratio for the cache, empty for the others.
  std::istringstream rows(csv.str());
  std::string row;
  std::getline(rows, row);
  ASSERT_EQ(row.substr(row.rfind(',') + 1), "cache_hit_ratio");
  size_t cache_rows = 0;
  while (std::getline(rows, row)) {
    const std::string last = row.substr(row.rfind(',') + 1);
    if (row.find(",c,cache,") == std::string::npos) {
      EXPECT_EQ(last, "") << row;
      continue;
    }
    EXPECT_NEAR(std::stod(last), ratios[cache_rows], 1e-6) << row;
    ++cache_rows;
  }
  EXPECT_EQ(cache_rows, 3u);
}

TEST(FaultsJson, ListsEveryWindowWithNullForOnesStillActive) {
  std::vector<FaultWindow> faults(2);
  faults[0].name = "sms-outage";
  faults[0].kind = "crash";
  faults[0].targets = {"sms", "sms-backup"};
  faults[0].start = Time::s(60);
  faults[0].end = Time::ms(150'500);
  faults[1].name = "slow \"disk\"";
  faults[1].kind = "slow";
  faults[1].targets = {"db"};
  faults[1].start = Time::s(200);
  const test::Json j =
      test::JsonParser::parse(format_faults_json("shop", faults, false, Time::s(250)));
  EXPECT_EQ(j["schema"].text, "dsim.faults/1");
  EXPECT_EQ(j["scenario"].text, "shop");
  EXPECT_FALSE(j["complete"].boolean);
  EXPECT_EQ(j["simulated_s"].text, "250");
  ASSERT_EQ(j["faults"].items.size(), 2u);
  const test::Json& a = j["faults"][0];
  EXPECT_EQ(a["name"].text, "sms-outage");
  EXPECT_EQ(a["kind"].text, "crash");
  ASSERT_EQ(a["targets"].items.size(), 2u);
  EXPECT_EQ(a["targets"][1].text, "sms-backup");
  EXPECT_EQ(a["start_s"].text, "60");
  EXPECT_EQ(a["end_s"].text, "150.5");
  const test::Json& b = j["faults"][1];
  EXPECT_EQ(b["name"].text, "slow \"disk\"");
  EXPECT_TRUE(b["end_s"].is_null());
  // No faults at all is an empty list, not a missing one.
  const test::Json none = test::JsonParser::parse(format_faults_json("shop", {}, true, Time::s(1)));
  EXPECT_TRUE(none["complete"].boolean);
  EXPECT_EQ(none["faults"].type, test::Json::Type::array);
  EXPECT_TRUE(none["faults"].items.empty());
}

}  // namespace dsim
