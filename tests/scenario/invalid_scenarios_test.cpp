// The corpus of broken scenarios in tests/scenarios/invalid: each file must fail to load with
// exactly the errors its header announces.
//
// A file starts with one line per expected error:
//
//   # expect: 10:14: error: components.api.workers: must be between 1 and 1000000, got 0
//
// The text after "# expect: " is the loader's output line for that file with the leading
// "FILE:" removed (it may stop early, before a list of choices that grows with the registry).
// Every expected line must be reported, and nothing else: the number of errors is checked too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "scenario/loader.hpp"

namespace dsim {
namespace {

namespace fs = std::filesystem;

const std::string kInvalidDir = DSIM_TEST_DATA_DIR "/scenarios/invalid";

// Errors about the scenario as a whole carry the file name only (docs/scenario-format.md,
// "Errors"). These are the corpus files whose errors are of that kind; every other file's errors
// must have a line and a column.
const std::set<std::string> kLocationless = {
    "no_source.yaml",  // "the scenario has no source": there is no line to point at
};

std::vector<std::string> corpus_files() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(kInvalidDir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The "# expect: " lines of the file's leading comment block.
std::vector<std::string> expectations(const std::string& text) {
  const std::string tag = "# expect: ";
  std::vector<std::string> out;
  for (const std::string& line : split_lines(text)) {
    if (line.rfind('#', 0) != 0) break;  // the header ends at the first line that is not a comment
    if (line.rfind(tag, 0) == 0) out.push_back(line.substr(tag.size()));
  }
  return out;
}

// A test name may contain only letters, digits and '_'.
std::string test_name(const testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(0, info.param.rfind('.'));
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

TEST(InvalidScenarioCorpus, HasAtLeastThirtyFiles) {
  EXPECT_GE(corpus_files().size(), 30u) << "in " << kInvalidDir;
}

TEST(InvalidScenarioCorpus, LocationlessExceptionsExist) {
  const std::vector<std::string> files = corpus_files();
  for (const std::string& name : kLocationless) {
    EXPECT_NE(std::find(files.begin(), files.end(), name), files.end())
        << name << " is listed as location-less but is not in the corpus";
  }
}

class InvalidScenario : public testing::TestWithParam<std::string> {
 protected:
  std::string path() const { return kInvalidDir + "/" + GetParam(); }
};

TEST_P(InvalidScenario, ReportsExactlyTheExpectedErrors) {
  const std::vector<std::string> expected = expectations(read_file(path()));
  ASSERT_FALSE(expected.empty()) << path() << " has no '# expect: ' line";

  const LoadResult r = load_scenario_file(path());
  ASSERT_FALSE(r.scenario.has_value()) << path() << " loaded, but should not have";
  const std::string output = r.diagnostics.to_string();

  // Each output line is "FILE:" + what an expect line states; each expectation consumes one line.
  const std::string prefix = path() + ":";
  std::vector<std::string> unmatched;
  for (const std::string& line : split_lines(output)) {
    if (line.rfind(prefix, 0) != 0) {
      unmatched.push_back(line);
      continue;
    }
    std::string rest = line.substr(prefix.size());
    rest.erase(0, rest.find_first_not_of(' '));
    unmatched.push_back(rest);
  }
  for (const std::string& e : expected) {
    auto it = std::find_if(unmatched.begin(), unmatched.end(),
                           [&](const std::string& line) { return line.rfind(e, 0) == 0; });
    if (it == unmatched.end()) {
      ADD_FAILURE() << "expected error not reported:\n  " << e << "\nthe loader said:\n" << output;
    } else {
      EXPECT_NE(output.find(e), std::string::npos);  // verbatim, as the header promises
      unmatched.erase(it);
    }
  }
  EXPECT_EQ(r.diagnostics.count(), expected.size())
      << "the number of errors differs from the number of '# expect: ' lines; the loader said:\n"
      << output;
}

TEST_P(InvalidScenario, EveryMessageIsOneLineWithFileLineAndColumn) {
  const LoadResult r = load_scenario_file(path());
  ASSERT_FALSE(r.diagnostics.ok());
  const bool locationless = kLocationless.count(GetParam()) > 0;
  // regex_replace escapes the path's special characters for use in a pattern.
  const std::string file =
      std::regex_replace(path(), std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)");
  const std::regex located("^" + file + R"(:[1-9][0-9]*:[1-9][0-9]*: error: \S.*$)");
  const std::regex unlocated("^" + file + R"(: error: \S.*$)");
  for (const Diagnostic& d : r.diagnostics.items()) {
    const std::string line = d.to_string();
    EXPECT_EQ(line.find('\n'), std::string::npos) << "a message spans several lines: " << line;
    if (locationless) {
      EXPECT_TRUE(std::regex_match(line, unlocated)) << line;
    } else {
      EXPECT_TRUE(std::regex_match(line, located)) << "no FILE:LINE:COL: error: prefix: " << line;
    }
  }
  EXPECT_EQ(split_lines(r.diagnostics.to_string()).size(), r.diagnostics.items().size());
}

INSTANTIATE_TEST_SUITE_P(Corpus, InvalidScenario, testing::ValuesIn(corpus_files()), test_name);

}  // namespace
}  // namespace dsim
