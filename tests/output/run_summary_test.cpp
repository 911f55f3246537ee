// The summary renderings: the text table a person reads, the JSON a program reads, and the
// time-series CSV. Both are checked for content and for byte-level determinism.
#include "output/run_summary.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "output/timeseries_writer.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

const char* kLossy = R"(
name: lossy
seed: 5
duration: 2m
warmup: 10s
window: 10s
components:
  users: {kind: source, arrivals: {poisson: 50/s}, target: api, workload: checkout}
  api: {kind: service, workers: 2, queue_capacity: 5, service_time: {exponential: 50ms}, next: done}
  done: {kind: sink}
)";

}  // namespace

TEST(RunSummary, TextNamesEveryComponentLossReasonWorkloadAndTheLedger) {
  Simulation sim(test::load_text(kLossy));
  sim.run();
  const std::string text = format_summary_text(summarize(sim));
  for (const char* expected :
       {"scenario lossy", "seed 5", "after 10s warm-up", "api", "service", "lost", "losses",
        "api: dropped queue_full", "checkout", "dead-lettered", "conservation: generated", "OK"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing '" << expected << "' in\n"
                                                      << text;
  }
}

TEST(RunSummary, JsonCarriesDropsByReasonAndTheLedger) {
  Simulation sim(test::load_text(kLossy));
  sim.run();
  const RunSummary s = summarize(sim);
  const std::string json = format_summary_json(s, false);
  EXPECT_NE(json.find("\"schema\": \"dsim.summary/1\""), std::string::npos);
  EXPECT_NE(json.find("\"queue_full\": "), std::string::npos);
  EXPECT_NE(json.find("\"warmed_up\": true"), std::string::npos);
  EXPECT_NE(json.find("\"balanced\": true"), std::string::npos);
  EXPECT_EQ(json.find("wall_seconds"), std::string::npos);  // only with include_engine
  EXPECT_NE(format_summary_json(s, true).find("wall_seconds"), std::string::npos);
}

TEST(RunSummary, ARunStoppedBeforeItsWarmupEndsSaysSo) {
  Simulation sim(test::load_text(kLossy));
  sim.run_until(Time::s(5));
  sim.stop();
  const RunSummary s = summarize(sim);
  EXPECT_FALSE(s.warmed_up);
  EXPECT_FALSE(s.complete);
  EXPECT_NE(format_summary_text(s).find("warm-up of 10s not reached"), std::string::npos);
  EXPECT_NE(format_summary_json(s).find("\"warmed_up\": false"), std::string::npos);
}

TEST(TimeseriesCsv, OneRowPerComponentPerWindowWithAHeader) {
  Simulation sim(test::load_text(kLossy));
  std::ostringstream csv;
  TimeseriesCsvWriter writer(csv);
  sim.add_observer(&writer);
  sim.run();
  const std::string text = csv.str();
  EXPECT_EQ(text.substr(0, text.find('\n')), TimeseriesCsvWriter::header());
  // 120 s in 10 s windows, 3 components.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1 + 12 * 3);
  EXPECT_NE(text.find("\n110,120,api,service,"), std::string::npos) << text;
  // Every row has as many fields as the header.
  const auto fields = [](const std::string& line) {
    return std::count(line.begin(), line.end(), ',');
  };
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  const auto expected = fields(line);
  while (std::getline(lines, line)) EXPECT_EQ(fields(line), expected) << line;
}

TEST(TimeseriesCsv, WindowArrivalsAddUpToTheComponentTotal) {
  Simulation sim(test::load_text(kLossy, {{"warmup", "0s"}}));
  struct Sum : Observer {
    uint64_t arrivals = 0, served = 0;
    void on_window(const Simulation&, const WindowReport& r) override {
      arrivals += r.rows[1].arrivals;
      served += r.rows[1].served;
    }
  } sum;
  sim.add_observer(&sum);
  sim.run();
  EXPECT_EQ(sum.arrivals, sim.find("api")->metrics().arrivals());
  EXPECT_EQ(sum.served, sim.find("api")->metrics().served());
}

}  // namespace dsim
