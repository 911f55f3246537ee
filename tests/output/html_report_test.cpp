// The HTML report as a document: self-contained (no external reference of any kind), the same
// bytes for the same run, fault windows shaded on every time chart (a synthetic FaultWindow
// here: the faults themselves come from the scenario's faults section), the expectation
// results, and the loud marks for an interrupted run or an unbalanced ledger.
#include "output/html_report.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

// A queue with a dead-letter queue and an unreliable worker: every chart has something to plot.
const char* kScenario = R"(
name: report-test
description: A <small> & "busy" pipeline.
seed: 3
duration: 2m
warmup: 10s
window: 1s
components:
  users:
    kind: source
    arrivals: {poisson: 50/s}
    target: api
  api:
    kind: service
    workers: 2
    handler:
      - compute: {exponential: 30ms}
      - call: provider
        timeout: 500ms
      - publish: jobs
        timeout: 100ms
  provider:
    kind: external
    latency: {exponential: 20ms}
    error_rate: 0.05
  jobs:
    kind: queue
    visibility_timeout: 5s
    max_receives: 2
    dead_letter_queue: jobs-dlq
    consumers: {target: worker, count: 2}
  jobs-dlq:
    kind: queue
  worker:
    kind: service
    workers: 2
    handler:
      - compute: {exponential: 10ms}
      - call: flaky
        timeout: 1s
  flaky:
    kind: external
    latency: {exponential: 30ms}
    error_rate: 0.3
)";

struct Rendered {
  std::string html;
  size_t charts = 0;
};

Rendered render(std::vector<FaultWindow> faults, std::vector<ExpectationResult> expectations,
                bool break_ledger = false) {
  const Scenario scenario = test::load_text(kScenario);
  Simulation sim(scenario);
  WindowRecorder recorder;
  sim.add_observer(&recorder);
  sim.run();
  RunSummary summary = summarize(sim);
  if (break_ledger) summary.ledger.generated += 1;
  TopologyGraph topology;
  for (const auto& c : sim.components()) topology.nodes.push_back({c->name(), c->kind()});
  topology.edges.push_back({0, 1, "target"});
  const HtmlReportInput in{summary,      recorder,
                           topology,     faults,
                           expectations, scenario.description,
                           "test.yaml",  sim.window().seconds()};
  Rendered r;
  r.html = render_html_report(in);
  for (size_t at = r.html.find("<svg class=\"chart\""); at != std::string::npos;
       at = r.html.find("<svg class=\"chart\"", at + 1))
    ++r.charts;
  return r;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(HtmlReport, HasNoExternalReference) {
  const Rendered r = render({}, {});
  // Nothing the browser would fetch: no URL scheme, no protocol-relative or file path, no
  // src/href to a file, no script, no @import, no url() except to the page's own #ids.
  for (const char* banned : {"http:", "https:", "file:", "//", "src=", "<script", "@import",
                             "<link", "<img", "<iframe", "@font-face"}) {
    EXPECT_EQ(r.html.find(banned), std::string::npos) << "found " << banned;
  }
  const std::regex href(R"re(href="([^"]*)")re");
  for (auto it = std::sregex_iterator(r.html.begin(), r.html.end(), href);
       it != std::sregex_iterator(); ++it) {
    EXPECT_EQ((*it)[1].str().front(), '#') << (*it)[0];
  }
  const std::regex url(R"re(url\(([^)]*)\))re");
  for (auto it = std::sregex_iterator(r.html.begin(), r.html.end(), url);
       it != std::sregex_iterator(); ++it) {
    EXPECT_EQ((*it)[1].str().front(), '#') << (*it)[0];
  }
}

TEST(HtmlReport, IsByteIdenticalForTheSameRun) {
  EXPECT_EQ(render({}, {}).html, render({}, {}).html);
}

TEST(HtmlReport, PlotsEveryChartAndEscapesTheDescription) {
  const Rendered r = render({}, {});
  for (const char* id : {"throughput", "latency", "component-throughput", "component-latency",
                         "failures", "queues", "dlq"}) {
    EXPECT_NE(r.html.find("data-chart=\"" + std::string(id) + "\""), std::string::npos) << id;
  }
  EXPECT_EQ(r.charts, 7u);
  EXPECT_NE(r.html.find("A &lt;small&gt; &amp; &quot;busy&quot; pipeline."), std::string::npos);
  EXPECT_NE(r.html.find("<svg class=\"topology\""), std::string::npos);
  EXPECT_NE(r.html.find(">max_receives<"), std::string::npos) << "a failure reason's legend";
  EXPECT_NE(r.html.find("complete run"), std::string::npos);
  EXPECT_NE(r.html.find("ledger balanced"), std::string::npos);
  EXPECT_NE(r.html.find("The scenario has no expectations"), std::string::npos);
  // The warm-up is shaded on every chart.
  EXPECT_EQ(count(r.html, "<g class=\"band warmup\">"), r.charts);
}

TEST(HtmlReport, ShadesAndLabelsEveryFaultWindowOnEveryTimeChart) {
  FaultWindow ended{"provider-outage", "crash", {"provider"}, Time::s(40), Time::s(55)};
  FaultWindow open{"slow-jobs", "slow", {"worker", "jobs"}, Time::s(100)};  // active at the end
  const Rendered r = render({ended, open}, {});
  ASSERT_EQ(r.charts, 7u);
  EXPECT_EQ(count(r.html, "<g class=\"band fault\">"), 2 * r.charts);
  EXPECT_EQ(count(r.html, ">provider-outage (crash)</text>"), r.charts);
  EXPECT_EQ(count(r.html, ">slow-jobs (slow)</text>"), r.charts);
  // And in the faults table, the open one "still active".
  EXPECT_NE(r.html.find("<td class=\"text\">worker, jobs</td>"), std::string::npos);
  EXPECT_NE(r.html.find("still active"), std::string::npos);
  EXPECT_NE(r.html.find("2 fault windows"), std::string::npos);
}

TEST(HtmlReport, ListsExpectationResultsWithTheirVerdicts) {
  // Field by field: GCC 12 warns falsely (-Wmaybe-uninitialized) on the nested aggregate form.
  ExpectationResult pass;
  pass.text = "p99(latency, workload: default) < 5s";
  pass.where.file = "test.yaml";
  pass.where.line = 40;
  pass.where.column = 5;
  pass.measured = "1.2s";
  pass.passed = true;
  ExpectationResult fail;
  fail.text = "lost == 0";
  fail.where.file = "test.yaml";
  fail.where.line = 41;
  fail.where.column = 5;
  fail.measured = "17";
  fail.detail = "17 requests lost <x>";
  const Rendered r = render({}, {pass, fail});
  EXPECT_NE(r.html.find(">PASS</td><td class=\"text\"><code>p99(latency, workload: default) "
                        "&lt; 5s</code></td><td>1.2s</td>"),
            std::string::npos);
  EXPECT_NE(r.html.find(">FAIL</td><td class=\"text\"><code>lost == 0</code></td><td>17</td>"),
            std::string::npos);
  EXPECT_NE(r.html.find("17 requests lost &lt;x&gt;"), std::string::npos);
  EXPECT_NE(r.html.find("test.yaml:41"), std::string::npos);
  EXPECT_NE(r.html.find("1 of 2 expectations failed"), std::string::npos);
}

TEST(HtmlReport, MarksAnUnbalancedLedgerLoudly) {
  const Rendered r = render({}, {}, /*break_ledger=*/true);
  EXPECT_NE(r.html.find("LEDGER UNBALANCED"), std::string::npos);
  EXPECT_NE(r.html.find("<p class=\"ledger bad\">"), std::string::npos);
}

TEST(HtmlReport, MarksAnInterruptedRun) {
  const Scenario scenario = test::load_text(kScenario);
  Simulation sim(scenario);
  WindowRecorder recorder;
  sim.add_observer(&recorder);
  sim.run_until(Time::s(30));
  sim.stop();
  const RunSummary summary = summarize(sim);
  const TopologyGraph topology;
  const std::vector<FaultWindow> faults;
  const std::vector<ExpectationResult> expectations;
  const std::string html =
      render_html_report({summary, recorder, topology, faults, expectations, "", "test.yaml", 1.0});
  EXPECT_NE(html.find("interrupted: incomplete"), std::string::npos);
  EXPECT_NE(html.find("The run was interrupted at 30s of 2m simulated"), std::string::npos);
  EXPECT_NE(html.find("<title>dsim report: report-test (interrupted)</title>"), std::string::npos);
  EXPECT_EQ(recorder.windows(), 30u);
}

}  // namespace
}  // namespace dsim
