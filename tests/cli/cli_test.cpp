// Drives the dsim binary as a user or a CI job would: exit codes, the printed summary, --json,
// --out files, --set, validate; and every bundled scenario runs, balances its ledger and is
// deterministic (same seed, same bytes).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "scenario/loader.hpp"
#include "support/mini_json.hpp"
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

// summary.json without the wall-clock figures, which are the only run-to-run differences allowed.
std::string without_wall_clock(const std::string& json) {
  static const std::regex wall(
      R"re(\n\s*"(wall_seconds|events_per_second|peak_rss_bytes)": [^\n]*)re");
  return std::regex_replace(json, wall, "");
}

fs::path temp_dir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("dsim-cli-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

const std::string kMm1 = std::string(DSIM_SCENARIOS_DIR) + "/mm1.yaml";

}  // namespace

TEST(Cli, RunPrintsTheComponentTableWorkloadsAndConservation) {
  const Result r = run("run " + kMm1 + " --duration 30m -q");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* expected :
       {"component", "arrivals", "served", "dropped", "throughput", "p50", "p99.9", "util",
        "queue avg", "queue max", "server", "service", "end-to-end latency by workload",
        "conservation: generated", "OK", "engine:"}) {
    EXPECT_NE(r.out.find(expected), std::string::npos) << "missing '" << expected << "' in\n"
                                                       << r.out;
  }
}

TEST(Cli, JsonSummaryCarriesEngineFigures) {
  const Result r = run("run " + kMm1 + " --duration 10m --json -q");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* key : {"\"engine\"", "\"events\"", "\"wall_seconds\"", "\"events_per_second\"",
                          "\"peak_rss_bytes\"", "\"conservation\"", "\"balanced\": true",
                          "\"workloads\"", "\"p999_s\""}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key;
  }
  EXPECT_EQ(r.out.front(), '{');
}

TEST(Cli, OutWritesSummaryAndTimeseriesThatAreByteIdenticalAcrossRuns) {
  const fs::path a = temp_dir("a"), b = temp_dir("b"), c = temp_dir("c");
  ASSERT_EQ(run("run " + kMm1 + " --duration 20m --set window=1s -q --out " + a.string()).exit_code,
            0);
  ASSERT_EQ(run("run " + kMm1 + " --duration 20m --set window=1s -q --out " + b.string()).exit_code,
            0);
  ASSERT_EQ(run("run " + kMm1 + " --duration 20m --set window=1s -q --seed 43 --out " + c.string())
                .exit_code,
            0);
  ASSERT_TRUE(fs::exists(a / "summary.json"));
  ASSERT_TRUE(fs::exists(a / "timeseries.csv"));
  EXPECT_FALSE(fs::exists(a / "timeseries.csv.tmp"));
  EXPECT_EQ(read(a / "timeseries.csv"), read(b / "timeseries.csv"));
  EXPECT_EQ(without_wall_clock(read(a / "summary.json")),
            without_wall_clock(read(b / "summary.json")));
  EXPECT_NE(read(a / "timeseries.csv"), read(c / "timeseries.csv"));
  // One header, then one row per component per window: 3 components x 20 one-minute... windows
  // are 1s by default: 1200 windows x 3 components.
  const std::string csv = read(a / "timeseries.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 1200 * 3);
  EXPECT_EQ(csv.rfind("window_start_s,window_end_s,component,", 0), 0u);
  for (const fs::path& d : {a, b, c}) fs::remove_all(d);
}

TEST(Cli, OutWritesEveryMachineReadableFileAndNoTemporaries) {
  const fs::path d = temp_dir("all");
  const Result r = run("run " + kMm1 + " --duration 1h -q --out " + d.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* name :
       {"summary.json", "timeseries.csv", "timeseries.jsonl", "faults.json", "metrics.prom"}) {
    EXPECT_TRUE(fs::exists(d / name)) << name;
  }
  for (const auto& e : fs::directory_iterator(d)) {
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  }
  EXPECT_TRUE(dsim::test::JsonParser::parse(read(d / "summary.json"))["complete"].boolean);
  EXPECT_TRUE(dsim::test::JsonParser::parse(read(d / "faults.json"))["complete"].boolean);
  const std::string prom = read(d / "metrics.prom");
  EXPECT_NE(prom.find("\ndsim_run_complete 1\n"), std::string::npos);
  EXPECT_EQ(prom.substr(prom.size() - 6), "# EOF\n");
  fs::remove_all(d);
}

TEST(Cli, TracingLeavesTheResultsUnchangedAndIsDeterministic) {
  const fs::path a = temp_dir("untraced"), b = temp_dir("traced");
  const std::string base = "run " + kMm1 + " --duration 2h -q --out ";
  ASSERT_EQ(run(base + a.string()).exit_code, 0);
  const fs::path trace1 = b / "trace1.json", trace2 = b / "trace2.json";
  const Result traced =
      run(base + b.string() + " --trace " + trace1.string() + " --trace-sample 5%");
  ASSERT_EQ(traced.exit_code, 0) << traced.out;
  ASSERT_EQ(
      run(base + (b / "again").string() + " --trace " + trace2.string() + " --trace-sample 5%")
          .exit_code,
      0);
  EXPECT_EQ(without_wall_clock(read(a / "summary.json")),
            without_wall_clock(read(b / "summary.json")));
  EXPECT_EQ(read(a / "timeseries.csv"), read(b / "timeseries.csv"));
  EXPECT_EQ(read(a / "metrics.prom"), read(b / "metrics.prom"));
  EXPECT_EQ(read(trace1), read(trace2));
  const dsim::test::Json t = dsim::test::JsonParser::parse(read(trace1));
  // 2 h at 0.9/s is about 6480 requests; 5 % of them is about 324 (sd 18).
  EXPECT_NEAR(t["otherData"]["sampled_requests"].number, 324, 5 * 18);
  // A bad fraction is bad input; --trace-sample needs --trace.
  const Result bad = run("run " + kMm1 + " -q --trace " + trace1.string() + " --trace-sample 150%");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("--trace-sample 150%: expected a fraction between 0 and 1"),
            std::string::npos)
      << bad.out;
  EXPECT_EQ(run("run " + kMm1 + " -q --trace-sample 5%").exit_code, 2);
  EXPECT_EQ(run("run " + kMm1 + " -q --trace /proc/dsim-no/trace.json").exit_code, 1);
  fs::remove_all(a);
  fs::remove_all(b);
}

// Ctrl-C stops the run at the current simulated time and still writes every file, valid and
// marked incomplete.
TEST(Cli, AnInterruptedRunWritesValidFilesMarkedIncomplete) {
  const fs::path d = temp_dir("interrupted");
  const std::string trace = (d / "trace.json").string();
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string out = (d / "out.txt").string(), err = (d / "log.txt").string();
    if (!freopen(out.c_str(), "w", stdout) || !freopen(err.c_str(), "w", stderr)) _exit(126);
    // Long enough never to finish here; slices of 10 simulated hours notice the signal quickly.
    execl(DSIM_BINARY, DSIM_BINARY, "run", kMm1.c_str(), "--duration", "10000h", "-q", "--out",
          d.c_str(), "--trace", trace.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // The signal handler is installed right after the output files are opened: wait for those.
  for (int i = 0; i < 600 && !fs::exists(d / "timeseries.csv.tmp"); ++i) usleep(50'000);
  usleep(200'000);
  kill(child, SIGINT);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << read(d / "log.txt");
  EXPECT_EQ(WEXITSTATUS(status), 0) << read(d / "log.txt");
  EXPECT_NE(read(d / "log.txt").find("interrupted"), std::string::npos);
  using dsim::test::JsonParser;
  EXPECT_FALSE(JsonParser::parse(read(d / "summary.json"))["complete"].boolean);
  EXPECT_FALSE(JsonParser::parse(read(d / "faults.json"))["complete"].boolean);
  EXPECT_FALSE(JsonParser::parse(read(trace))["otherData"]["complete"].boolean);
  EXPECT_NE(read(d / "metrics.prom").find("\ndsim_run_complete 0\n"), std::string::npos);
  std::istringstream jsonl(read(d / "timeseries.jsonl"));
  std::string line;
  while (std::getline(jsonl, line)) JsonParser::parse(line);
  for (const auto& e : fs::directory_iterator(d)) {
    EXPECT_NE(e.path().extension(), ".tmp") << e.path();
  }
  fs::remove_all(d);
}

TEST(Cli, SetOverridesAValueAndBadOverridesExitWithTwo) {
  const Result ok =
      run("run " + kMm1 + " --duration 10m -q --json --set components.server.workers=2");
  ASSERT_EQ(ok.exit_code, 0) << ok.out;
  const Result typo = run("run " + kMm1 + " --set components.server.wrokers=2");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.out.find("--set components.server.wrokers"), std::string::npos) << typo.out;
  EXPECT_NE(typo.out.find("did you mean 'workers'?"), std::string::npos) << typo.out;
  const Result malformed = run("run " + kMm1 + " --set nonsense");
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.out.find("--set expects path=value"), std::string::npos) << malformed.out;
}

TEST(Cli, ExitCodesDistinguishInvalidInputFromRuntimeErrors) {
  EXPECT_EQ(run("run /nonexistent/scenario.yaml").exit_code, 2);
  EXPECT_EQ(run("run " + kMm1 + " --duration forever").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
  // An output folder that cannot be created is a runtime error, not bad input.
  EXPECT_EQ(run("run " + kMm1 + " --duration 10m -q --out /proc/dsim-cannot-write").exit_code, 1);
}

TEST(Cli, ValidateChecksSeveralFilesAndReportsEveryError) {
  const Result ok = run("validate " + kMm1);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("ok"), std::string::npos);
  const fs::path d = temp_dir("validate");
  std::ofstream(d / "bad.yaml") << "duration: 1m\ncomponents:\n  a: {kind: servce}\n";
  const Result bad = run("validate " + kMm1 + " " + (d / "bad.yaml").string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("bad.yaml:3:"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("did you mean 'service'?"), std::string::npos) << bad.out;
  fs::remove_all(d);
}

// A warning does not stop anything: validate says ok and run runs, with the warning on stderr.
TEST(Cli, WarningsArePrintedAndTheScenarioStillRuns) {
  const fs::path d = temp_dir("warnings");
  std::ofstream(d / "late.yaml")
      << "duration: 10s\ncomponents:\n  users: {kind: source, arrivals: {poisson: 5/s}, target: "
         "db}\n  db: {kind: service, service_time: {exponential: 10ms}}\nfaults:\n  g: {kind: "
         "slow, targets: [db], factor: 2, at: 90s}\n";
  const std::string warning =
      "late.yaml:6:3: warning: faults.g: starts at 90s, when the run (10s) is over: it never "
      "acts";
  const Result validated = run("validate " + (d / "late.yaml").string());
  EXPECT_EQ(validated.exit_code, 0) << validated.out;
  EXPECT_NE(validated.out.find(warning), std::string::npos) << validated.out;
  const Result ran = run("run -q " + (d / "late.yaml").string());
  EXPECT_EQ(ran.exit_code, 0) << ran.out;
  EXPECT_NE(ran.out.find(warning), std::string::npos) << ran.out;
  fs::remove_all(d);
}

TEST(Cli, HelpShowsExamples) {
  const Result top = run("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Examples:"), std::string::npos);
  const Result r = run("run --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--seed"), std::string::npos);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
}

// Every bundled scenario: runs (shortened where long), balances, and is deterministic.
class BundledScenario : public ::testing::TestWithParam<std::string> {};

TEST_P(BundledScenario, RunsBalancesAndIsDeterministic) {
  const std::string file = GetParam();
  // Scenarios longer than a simulated day (the long-run M/M/1) are cut to one day here, so the
  // suite stays quick under the sanitizers too; the analytic tests run them whole.
  const dsim::LoadResult loaded = dsim::load_scenario_file(file);
  ASSERT_TRUE(loaded.scenario) << loaded.diagnostics.to_string();
  // The benchmarks (scenarios/bench/) are sized to run for many seconds of wall time: they run a
  // thirtieth of their length.
  const bool long_run = loaded.scenario->duration > dsim::Time::s(86400) &&
                        loaded.scenario->warmup < dsim::Time::s(86400);
  const bool bench = fs::path(file).parent_path().filename() == "bench";
  std::string shorten = long_run ? " --duration 1d" : "";
  if (bench) {
    shorten = " --set warmup=0s --duration " +
              std::to_string(loaded.scenario->duration.count_ns() / 30 / 1'000'000) + "ms";
  }
  const Result a = run("run " + file + shorten + " --json -q");
  const Result b = run("run " + file + shorten + " --json -q");
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_NE(a.out.find("\"balanced\": true"), std::string::npos) << a.out;
  EXPECT_EQ(without_wall_clock(a.out), without_wall_clock(b.out));
}

std::vector<std::string> bundled_scenarios() {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(DSIM_SCENARIOS_DIR)) {
    if (e.path().extension() == ".yaml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Scenarios, BundledScenario, ::testing::ValuesIn(bundled_scenarios()),
                         [](const auto& info) {
                           std::string n = fs::path(info.param).stem().string();
                           if (info.param.find("/bench/") != std::string::npos) n = "bench_" + n;
                           for (char& ch : n) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });
