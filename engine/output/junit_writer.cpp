#include "output/junit_writer.hpp"

#include "output/xml_escape.hpp"

#include <cstdio>

#include "core/format.hpp"

namespace dsim {
namespace {

std::string seconds_attr(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace

size_t ScenarioCheck::failed() const {
  size_t n = 0;
  for (const ExpectationResult& r : results) n += r.passed ? 0 : 1;
  return n;
}

std::string format_junit_xml(const std::vector<ScenarioCheck>& checks) {
  size_t tests = 0, failures = 0, errors = 0;
  double time = 0;
  for (const ScenarioCheck& c : checks) {
    tests += c.error.empty() ? c.results.size() : 1;
    failures += c.error.empty() ? c.failed() : 0;
    errors += c.error.empty() ? 0 : 1;
    time += c.wall_seconds;
  }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites name=\"dsim check\" tests=\"" + std::to_string(tests) + "\" failures=\"" +
       std::to_string(failures) + "\" errors=\"" + std::to_string(errors) + "\" time=\"" +
       seconds_attr(time) + "\">\n";
  for (const ScenarioCheck& c : checks) {
    const std::string suite = xml_escape(c.name);
    const bool error = !c.error.empty();
    x += "  <testsuite name=\"" + suite + "\" tests=\"" +
         std::to_string(error ? 1 : c.results.size()) + "\" failures=\"" +
         std::to_string(error ? 0 : c.failed()) + "\" errors=\"" + (error ? "1" : "0") +
         "\" skipped=\"0\" time=\"" + seconds_attr(c.wall_seconds) + "\" file=\"" +
         xml_escape(c.file) + "\">\n";
    if (error) {
      // A testsuite with no testcase is shown by some servers as "no tests": the error gets one.
      x += "    <testcase name=\"" + std::string(c.invalid ? "load" : "run") + "\" classname=\"" +
           suite + "\">\n      <error message=\"" +
           xml_escape(c.invalid ? "invalid scenario" : "the run failed") + "\" type=\"" +
           (c.invalid ? "invalid" : "runtime") + "\">" + xml_escape(c.error) +
           "</error>\n    </testcase>\n";
    }
    for (const ExpectationResult& r : c.results) {
      // Appended piece by piece: GCC 12 warns (-Wstringop-overflow, a false positive) on long
      // chains of std::string operator+ once PGO inlines them differently.
      x += "    <testcase name=\"";
      x += xml_escape(r.text);
      x += "\" classname=\"";
      x += suite;
      x += "\" file=\"";
      x += xml_escape(r.where.file);
      x += "\" line=\"";
      x += std::to_string(r.where.line);
      x += '"';
      if (r.passed) {
        x += "/>\n";
        continue;
      }
      // "expected < 300ms, measured 412ms", or why it could not be measured.
      const std::string message =
          r.detail.rfind("expected ", 0) == 0 ? r.detail + ", measured " + r.measured : r.detail;
      x += ">\n      <failure message=\"";
      x += xml_escape(message);
      x += "\" type=\"expectation\">";
      x += xml_escape(r.where.to_string() + ": " + r.text + ": " + message);
      x += "</failure>\n    </testcase>\n";
    }
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

}  // namespace dsim
