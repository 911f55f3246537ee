// Expectations as CI sees them: `dsim run` prints the verdicts and exits 3 on a failure;
// `dsim check` runs several scenarios (the same output with one worker or two), writes JUnit XML
// that is well-formed and holds one test case per expectation, and reports invalid scenarios.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/run_command.hpp"

namespace fs = std::filesystem;

namespace {

using Result = dsim::test::CommandResult;
Result run(const std::string& args) {
  return dsim::test::run_dsim(args);
}
std::string read(const fs::path& p) {
  return dsim::test::read_file(p);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Wall-clock figures are the only differences allowed between two checks.
std::string without_wall_clock(const std::string& s) {
  return std::regex_replace(std::regex_replace(s, std::regex(R"(\d+\.\d\ds)"), "<wall>"),
                            std::regex(R"re(time="[0-9.]+")re"), "time=\"<wall>\"");
}

// A small well-formedness check, enough for what format_junit_xml writes: one declaration,
// properly nested elements with quoted attributes, and no markup character or unknown entity in
// text or attribute values. Returns "" or what is wrong.
std::string xml_problem(const std::string& x) {
  const std::string decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  if (x.rfind(decl, 0) != 0) return "no XML declaration";
  auto entities_ok = [](const std::string& s) {
    static const std::regex bad(R"(&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);))");
    return s.find('<') == std::string::npos && !std::regex_search(s, bad);
  };
  std::vector<std::string> open;
  size_t i = decl.size();
  bool root_seen = false;
  while (i < x.size()) {
    const size_t lt = x.find('<', i);
    const std::string text = x.substr(i, lt == std::string::npos ? std::string::npos : lt - i);
    if (!entities_ok(text) || text.find('>') != std::string::npos) return "bad text: " + text;
    if (lt == std::string::npos) break;
    const size_t gt = x.find('>', lt);
    if (gt == std::string::npos) return "unclosed tag";
    std::string tag = x.substr(lt + 1, gt - lt - 1);
    i = gt + 1;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1))
        return "mismatched </" + tag.substr(1) + ">";
      open.pop_back();
      continue;
    }
    const bool empty = tag.back() == '/';
    if (empty) tag.pop_back();
    static const std::regex element(R"(^([A-Za-z_][\w.-]*)((\s+[A-Za-z_][\w.-]*="[^"]*")*)\s*$)");
    std::smatch m;
    if (!std::regex_match(tag, m, element)) return "bad tag: <" + tag + ">";
    if (!entities_ok(m[2].str())) return "bad attribute in <" + tag + ">";
    if (open.empty() && root_seen) return "a second root element";
    root_seen = true;
    if (!empty) open.push_back(m[1].str());
  }
  if (!open.empty()) return "unclosed <" + open.back() + ">";
  return root_seen ? "" : "no root element";
}

const std::string kCi = std::string(DSIM_TEST_DATA_DIR) + "/scenarios/ci";
const std::string kHealthy = kCi + "/healthy.yaml";
const std::string kRegressed = kCi + "/regressed.yaml";

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / ("dsim-check-test-" + std::to_string(::getpid()) + "-" + name);
}

}  // namespace

TEST(Expectations, RunPrintsEachVerdictAndExitsThreeWhenOneFails) {
  const Result bad = run("run " + kRegressed + " -q");
  EXPECT_EQ(bad.exit_code, 3) << bad.out;
  EXPECT_NE(bad.out.find("expectations\n  FAIL  lost == 0"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("  PASS  max(queue.depth, of: api) <= 50"), std::string::npos);
  EXPECT_NE(bad.out.find("(expected < 500ms; " + kRegressed + ":23:5)"), std::string::npos);
  EXPECT_NE(bad.out.find("expectations: 1 passed, 3 failed"), std::string::npos);

  const Result good = run("run " + kHealthy + " -q");
  EXPECT_EQ(good.exit_code, 0) << good.out;
  EXPECT_NE(good.out.find("expectations: 4 passed, 0 failed"), std::string::npos) << good.out;
}

TEST(Expectations, JsonSummaryCarriesTheVerdicts) {
  const fs::path dir = temp_file("out");
  const Result r = run("run " + kRegressed + " -q --json --out " + dir.string());
  EXPECT_EQ(r.exit_code, 3);
  for (const std::string& json : {r.out, read(dir / "summary.json")}) {
    EXPECT_NE(json.find("\"expectations\": ["), std::string::npos) << json;
    EXPECT_NE(json.find("\"expectation\": \"p99(latency, workload: checkout) < 500ms\""),
              std::string::npos);
    EXPECT_NE(json.find("\"detail\": \"expected < 500ms\""), std::string::npos);
    EXPECT_EQ(count(json, "\"passed\": false"), 3u);
  }
  fs::remove_all(dir);
}

TEST(Expectations, CheckWritesJUnitXmlWithATestCasePerExpectation) {
  const fs::path xml = temp_file("junit.xml");
  const Result r =
      run("check " + kHealthy + " " + kRegressed + " --jobs 1 --junit " + xml.string());
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.out.find("PASS     healthy  4 passed, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("FAIL     regressed \"1 worker\" & <slow>  1 passed, 3 failed"),
            std::string::npos);
  EXPECT_NE(r.out.find("checked 2 scenarios: 1 passed, 1 failed, 0 invalid, 0 errors"),
            std::string::npos);
  const std::string x = read(xml);
  EXPECT_EQ(xml_problem(x), "") << x;
  EXPECT_FALSE(fs::exists(xml.string() + ".tmp"));
  EXPECT_EQ(count(x, "<testsuite "), 2u);
  EXPECT_EQ(count(x, "<testcase "), 8u);
  EXPECT_EQ(count(x, "<failure "), 3u);
  EXPECT_NE(x.find("<testsuites name=\"dsim check\" tests=\"8\" failures=\"3\" errors=\"0\""),
            std::string::npos);
  EXPECT_NE(x.find("<testsuite name=\"regressed &quot;1 worker&quot; &amp; &lt;slow&gt;\" "
                   "tests=\"4\" failures=\"3\""),
            std::string::npos)
      << x;
  EXPECT_NE(x.find("<testcase name=\"p99(latency, workload: checkout) &lt; 500ms\""),
            std::string::npos);
  EXPECT_TRUE(std::regex_search(x, std::regex("<failure message=\"expected == 0, measured \\d+\"")))
      << x;
  EXPECT_NE(x.find("<failure message=\"expected &lt; 1%, measured "), std::string::npos);
  EXPECT_NE(x.find("name=\"error_ratio(api) &lt; 1% during [30s, 90s]\""), std::string::npos);
  fs::remove(xml);
}

TEST(Expectations, CheckGivesTheSameResultsWithOneWorkerOrTwo) {
  const fs::path a = temp_file("a.xml"), b = temp_file("b.xml");
  const std::string files = kRegressed + " " + kHealthy + " " + kRegressed;
  const Result one = run("check " + files + " --jobs 1 --junit " + a.string());
  const Result two = run("check " + files + " --jobs 2 --junit " + b.string());
  EXPECT_EQ(one.exit_code, 3);
  EXPECT_EQ(two.exit_code, 3);
  EXPECT_EQ(without_wall_clock(one.out), without_wall_clock(two.out));
  EXPECT_EQ(without_wall_clock(read(a)), without_wall_clock(read(b)));
  fs::remove(a);
  fs::remove(b);
}

TEST(Expectations, CheckReportsAnInvalidScenarioAsAnErrorAndExitsTwo) {
  const fs::path xml = temp_file("invalid.xml");
  const std::string invalid =
      std::string(DSIM_TEST_DATA_DIR) + "/scenarios/invalid/arrivals_unknown_kind.yaml";
  const Result r = run("check " + kHealthy + " " + invalid + " --junit " + xml.string());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("INVALID  " + invalid), std::string::npos) << r.out;
  const std::string x = read(xml);
  EXPECT_EQ(xml_problem(x), "") << x;
  EXPECT_NE(x.find("<error message=\"invalid scenario\" type=\"invalid\">"), std::string::npos)
      << x;
  EXPECT_NE(x.find("errors=\"1\""), std::string::npos);
  fs::remove(xml);
}

TEST(Expectations, CheckAcceptsTheRunOverridesAndHasHelp) {
  const Result r = run("check " + kHealthy + " --duration 30s --seed 9 --set seed=9");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const Result help = run("check --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--junit"), std::string::npos);
  EXPECT_NE(help.out.find("--jobs"), std::string::npos);
  EXPECT_NE(run("--help").out.find("3 an expectation"), std::string::npos);
}

TEST(Expectations, XmlCheckerRejectsMalformedDocuments) {
  const std::string d = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  EXPECT_EQ(xml_problem(d + "<a><b x=\"1\"/></a>\n"), "");
  EXPECT_NE(xml_problem(d + "<a><b></a>"), "");
  EXPECT_NE(xml_problem(d + "<a x=\"<\"/>"), "");
  EXPECT_NE(xml_problem(d + "<a>&</a>"), "");
  EXPECT_NE(xml_problem(d + "<a x=1/>"), "");
  EXPECT_NE(xml_problem(d + "<a/><b/>"), "");
}
