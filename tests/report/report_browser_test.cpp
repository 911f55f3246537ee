// Opens the HTML report of a bundled scenario in headless Chromium (Debian's `chromium`, which
// ./setup.sh installs): every chart rendered (its <svg>, a non-empty path per series, ticks on
// both axes, a legend entry per series), the topology diagram drew every component, the page
// logged nothing to the console, and a screenshot is kept as an artifact (its path is printed).
//
// Without chromium on PATH the tests are skipped, unless DSIM_REQUIRE_CHROMIUM is set (as
// ./setup.sh test does), in which case they fail.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "support/run_command.hpp"

namespace fs = std::filesystem;

namespace {

using Result = dsim::test::CommandResult;
Result sh(const std::string& cmd) {
  return dsim::test::run_shell(cmd);
}
std::string read(const fs::path& p) {
  return dsim::test::read_file(p);
}

const fs::path kArtifacts = DSIM_ARTIFACT_DIR;

// Skips (or fails, when the setup demands a browser) without chromium.
bool have_chromium() {
  return sh("command -v chromium >/dev/null 2>&1").exit_code == 0;
}
#define REQUIRE_CHROMIUM()                                                             \
  do {                                                                                 \
    if (!have_chromium()) {                                                            \
      if (std::getenv("DSIM_REQUIRE_CHROMIUM")) FAIL() << "chromium is not installed"; \
      GTEST_SKIP() << "chromium is not installed (./setup.sh installs it)";            \
    }                                                                                  \
  } while (0)

// Runs headless Chromium on a local file with console logging to stderr (captured in a file):
// returns what it printed on stdout (the DOM with --dump-dom) and the console lines.
struct Browser {
  std::string stdout_text;
  std::string console;  // the lines of the log that are console messages
  int exit_code = -1;
};

Browser chromium(const fs::path& page, const std::string& mode) {
  // Per process: ctest may run these tests side by side.
  const std::string pid = std::to_string(::getpid());
  const fs::path profile = kArtifacts / ("chromium-profile-" + pid);
  const fs::path log = kArtifacts / ("chromium-" + pid + ".log");
  const std::string cmd =
      "timeout 120 chromium --headless=new --no-sandbox --disable-gpu "
      "--no-first-run --hide-scrollbars --user-data-dir=" +
      profile.string() + " --enable-logging=stderr --v=0 " + mode + " file://" +
      fs::absolute(page).string() + " 2>" + log.string();
  Browser b;
  const Result r = sh(cmd);
  b.exit_code = r.exit_code;
  b.stdout_text = r.out;
  std::istringstream lines(read(log));
  for (std::string line; std::getline(lines, line);) {
    // Every console message (log, warning, error, uncaught exception) is logged as
    // "...:CONSOLE(...)" or "...:CONSOLE:N]"; the page has no script, so it should log none.
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
      b.console += line + "\n";
  }
  std::error_code ec;
  fs::remove_all(profile, ec);
  fs::remove(log, ec);
  return b;
}

// The <svg ...>...</svg> element whose opening tag contains `marker`, or "".
std::string svg_with(const std::string& dom, const std::string& marker) {
  const size_t at = dom.find(marker);
  if (at == std::string::npos) return {};
  const size_t start = dom.rfind("<svg", at);
  const size_t end = dom.find("</svg>", at);
  if (start == std::string::npos || end == std::string::npos) return {};
  return dom.substr(start, end + 6 - start);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ReportInBrowser : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::create_directories(kArtifacts);
    // Per process (ctest may run the tests side by side); the screenshot test keeps a copy
    // under a fixed name next to its PNG.
    report_ = kArtifacts / ("orders-report-" + std::to_string(::getpid()) + ".html");
    const Result r = sh(std::string(DSIM_BINARY) + " run " + DSIM_SCENARIOS_DIR +
                        "/orders.yaml -q --report " + report_.string() + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove(report_, ec);
  }
  static fs::path report_;
};
fs::path ReportInBrowser::report_;

TEST_F(ReportInBrowser, TheConsoleCheckCatchesAPageThatLogsErrors) {
  REQUIRE_CHROMIUM();
  // The check below is only worth something if it sees errors where there are some.
  const fs::path bad = kArtifacts / ("console-self-check-" + std::to_string(::getpid()) + ".html");
  std::ofstream(bad) << "<!DOCTYPE html><html><body><script>console.error('self-check');"
                        "throw new Error('self-check uncaught');</script></body></html>";
  const Browser b = chromium(bad, "--dump-dom");
  EXPECT_NE(b.console.find("self-check"), std::string::npos)
      << "the console log capture did not see the page's error";
  EXPECT_NE(b.console.find("Uncaught"), std::string::npos);
  fs::remove(bad);
}

TEST_F(ReportInBrowser, EveryChartRendersAndThePageLogsNoError) {
  REQUIRE_CHROMIUM();
  const Browser b = chromium(report_, "--dump-dom");
  ASSERT_EQ(b.exit_code, 0);
  EXPECT_EQ(b.console, "") << "the page logged to the console";
  const std::string& dom = b.stdout_text;
  ASSERT_NE(dom.find("<h1>orders</h1>"), std::string::npos) << dom.substr(0, 2000);

  for (const char* id : {"throughput", "latency", "component-throughput", "component-latency",
                         "failures", "queues", "dlq"}) {
    SCOPED_TRACE(id);
    const std::string svg = svg_with(dom, "data-chart=\"" + std::string(id) + "\"");
    ASSERT_FALSE(svg.empty()) << "no <svg> for chart " << id;
    const size_t series = count(svg, "<g class=\"series\"");
    EXPECT_GE(series, 1u);
    EXPECT_EQ(count(svg, "<g class=\"legend-item\">"), series) << "a legend entry per series";
    // Every series' path has points.
    const std::regex path(R"re(<path class="line" d="([^"]*)")re");
    size_t drawn = 0;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), path); it != std::sregex_iterator();
         ++it) {
      EXPECT_GE((*it)[1].length(), 10) << "an empty path: " << (*it)[0];
      EXPECT_EQ((*it)[1].str().front(), 'M');
      ++drawn;
    }
    EXPECT_EQ(drawn, series);
    // Both axes with tick labels.
    const size_t x_axis = svg.find("<g class=\"axis x\">"),
                 y_axis = svg.find("<g class=\"axis y\">");
    ASSERT_NE(x_axis, std::string::npos);
    ASSERT_NE(y_axis, std::string::npos);
    EXPECT_GE(count(svg.substr(x_axis, svg.find("</g>", x_axis) - x_axis), "class=\"tick\""), 3u);
    EXPECT_GE(count(svg.substr(y_axis, svg.find("</g>", y_axis) - y_axis), "class=\"tick\""), 3u);
    EXPECT_NE(svg.find("<g class=\"band warmup\">"), std::string::npos);
  }
  const std::string topology = svg_with(dom, "class=\"topology\"");
  EXPECT_EQ(count(topology, "<g class=\"node\""), 6u) << "a box per component";
  EXPECT_GE(count(topology, "<path class=\"edge"), 5u);
  // Nothing in the rendered page points outside it.
  for (const char* banned : {"http:", "https:", "src=", "<script", "<link"})
    EXPECT_EQ(dom.find(banned), std::string::npos) << banned;
}

TEST_F(ReportInBrowser, AScreenshotIsSavedAsATestArtifact) {
  REQUIRE_CHROMIUM();
  const fs::path png = kArtifacts / "orders-report.png";
  fs::remove(png);
  const Browser b = chromium(report_, "--screenshot=" + png.string() + " --window-size=1280,7600");
  ASSERT_EQ(b.exit_code, 0);
  EXPECT_EQ(b.console, "");
  const std::string bytes = read(png);
  ASSERT_GT(bytes.size(), 50'000u) << "no (or a blank) screenshot at " << png;
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  const fs::path kept = kArtifacts / "orders-report.html";
  fs::copy_file(report_, kept, fs::copy_options::overwrite_existing);
  std::printf("report: %s\nscreenshot: %s\n", kept.c_str(), png.c_str());
  RecordProperty("screenshot", png.string());
}

}  // namespace
