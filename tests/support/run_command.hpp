// Running a command (usually the dsim binary) from a test and reading the files it wrote.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace dsim::test {

struct CommandResult {
  int exit_code = -1;  // -1: it could not be started or did not exit normally
  std::string out;     // what it printed (stdout, and stderr where the command redirects it)
};

// Runs a shell command line and collects its standard output.
inline CommandResult run_shell(const std::string& command) {
  CommandResult r;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return r;
  std::array<char, 65536> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs the dsim binary under test with `args`; stdout and stderr together.
inline CommandResult run_dsim(const std::string& args) {
  return run_shell(std::string(DSIM_BINARY) + " " + args + " 2>&1");
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace dsim::test
