// `dsim run --report FILE`: the report is written atomically, is byte-identical for the same
// scenario and seed, and an interrupted run (SIGINT) still writes a valid report marked
// incomplete. (The browser test, tests/report/, checks how it renders.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "support/run_command.hpp"

namespace fs = std::filesystem;

namespace {

int run(const std::string& args, std::string* out = nullptr) {
  dsim::test::CommandResult r = dsim::test::run_dsim(args);
  if (out) *out = std::move(r.out);
  return r.exit_code;
}

std::string read(const fs::path& p) {
  return dsim::test::read_file(p);
}

fs::path temp_dir(const std::string& name) {
  fs::path d =
      fs::temp_directory_path() / ("dsim-report-cli-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

const std::string kOrders = std::string(DSIM_SCENARIOS_DIR) + "/orders.yaml";

// True once the process has a handler for SIGINT (the "SigCgt" mask in /proc), so that the
// signal the test sends is the CLI's Ctrl-C and not the default action.
bool catches_sigint(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) == 0) {
      const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
      return mask & (1ull << (SIGINT - 1));
    }
  }
  return false;
}

}  // namespace

TEST(CliReport, IsWrittenAtomicallyAndIsByteIdenticalForTheSameSeed) {
  const fs::path d = temp_dir("same");
  std::string out;
  ASSERT_EQ(run("run " + kOrders + " --duration 2m -q --report " + (d / "a.html").string(), &out),
            0)
      << out;
  ASSERT_EQ(run("run " + kOrders + " --duration 2m -q --report " + (d / "b.html").string()), 0);
  ASSERT_EQ(
      run("run " + kOrders + " --duration 2m -q --seed 12 --report " + (d / "c.html").string()), 0);
  const std::string a = read(d / "a.html");
  EXPECT_EQ(a.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(a.find("complete run"), std::string::npos);
  EXPECT_NE(a.find("</html>"), std::string::npos);
  EXPECT_EQ(a, read(d / "b.html"));
  EXPECT_NE(a, read(d / "c.html"));
  EXPECT_FALSE(fs::exists(d / "a.html.tmp"));
  fs::remove_all(d);
}

TEST(CliReport, AnUnwritablePathIsARuntimeError) {
  std::string out;
  EXPECT_EQ(run("run " + kOrders + " --duration 1m -q --report /nonexistent-dir/r.html", &out), 1);
  EXPECT_NE(out.find("dsim: cannot write the report /nonexistent-dir/r.html"), std::string::npos)
      << out;
}

TEST(CliReport, AnInterruptedRunStillWritesAReportMarkedIncomplete) {
  const fs::path d = temp_dir("sigint");
  const std::string report = (d / "r.html").string();
  // A run far too long to finish: it ends only through Ctrl-C.
  const std::string mm1 = std::string(DSIM_SCENARIOS_DIR) + "/mm1.yaml";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execl(DSIM_BINARY, DSIM_BINARY, "run", mm1.c_str(), "--duration", "3650d", "-q", "--report",
          report.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!catches_sigint(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(catches_sigint(pid)) << "dsim never installed its SIGINT handler";
  kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const std::string html = read(report);
  EXPECT_NE(html.find("interrupted: incomplete"), std::string::npos);
  EXPECT_NE(html.find("The run was interrupted at "), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_FALSE(fs::exists(report + ".tmp"));
  fs::remove_all(d);
}
