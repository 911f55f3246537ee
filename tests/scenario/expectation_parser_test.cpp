// The expect: section: the grammar's good forms parse to the right measure, and every bad form is
// a load-time error with its exact message and a column that points into the expression (also
// inside quoted scalars and in unquoted ones that YAML splits at ': ').
#include <gtest/gtest.h>

#include <string>

#include "scenario/expectation.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

// Line 15 holds the first expectation, which starts at column 5.
const std::string kBase = R"(name: t
duration: 1m
components:
  checkout:
    kind: source
    arrivals: {constant: 10/s}
    target: api
  api:
    kind: service
    service_time: {constant: 10ms}
    next: done
  done:
    kind: sink
expect:
)";

std::string with(const std::string& items) {
  return kBase + items;
}

Expectation parse_ok(const std::string& text) {
  ExpectationNames names;
  names.components = {"checkout", "api", "done"};
  names.workloads = {"checkout"};
  names.faults = {"outage"};
  names.has_faults_section = true;
  ParseProblem problem;
  std::optional<Expectation> e = parse_expectation(text, names, problem);
  EXPECT_TRUE(e.has_value()) << text << ": " << problem.message;
  return e.value_or(Expectation{});
}

TEST(ExpectationParser, ParsesEachFamilyWithItsScopeAndThresholdInBaseUnits) {
  Expectation e = parse_ok("p99(latency, workload: checkout) < 300ms");
  EXPECT_EQ(e.measure.function, ExpectFunction::p99);
  EXPECT_EQ(e.measure.quantity, Quantity::latency);
  EXPECT_EQ(e.measure.scope, ScopeKind::workload);
  EXPECT_EQ(e.measure.scope_name, "checkout");
  EXPECT_EQ(e.comparator, Comparator::lt);
  EXPECT_DOUBLE_EQ(e.threshold, 0.3);

  e = parse_ok("max(queue.depth, of: api) <= 50");
  EXPECT_EQ(e.measure.quantity, Quantity::queue_depth);
  EXPECT_EQ(e.measure.scope, ScopeKind::component);
  EXPECT_EQ(e.comparator, Comparator::le);
  EXPECT_DOUBLE_EQ(e.threshold, 50);

  e = parse_ok("lost == 0");
  EXPECT_EQ(e.measure.function, ExpectFunction::count);
  EXPECT_EQ(e.measure.quantity, Quantity::lost);
  EXPECT_EQ(e.measure.scope, ScopeKind::system);

  e = parse_ok("rate(completed, of: api) >= 12k/min");
  EXPECT_EQ(e.measure.function, ExpectFunction::rate);
  EXPECT_DOUBLE_EQ(e.threshold, 200);

  e = parse_ok("error_ratio(api) < 0.1%");
  EXPECT_EQ(e.measure.function, ExpectFunction::error_ratio);
  EXPECT_EQ(e.measure.scope_name, "api");
  EXPECT_DOUBLE_EQ(e.threshold, 0.001);

  e = parse_ok("count(lost.timeout, workload: checkout) != 3");
  EXPECT_EQ(e.measure.quantity, Quantity::lost);
  EXPECT_EQ(e.measure.index, static_cast<int>(Reason::timeout));
  EXPECT_EQ(e.comparator, Comparator::ne);

  e = parse_ok("max(dlq.depth,of:api)>=1");  // spaces are optional
  EXPECT_EQ(e.measure.quantity, Quantity::gauge);
  EXPECT_EQ(e.comparator, Comparator::ge);

  e = parse_ok("max(disk_used_bytes, of: api) < 2GiB");
  EXPECT_DOUBLE_EQ(e.threshold, 2147483648.0);

  e = parse_ok("recovery_time(p99(latency, workload: checkout), after: outage, within: 10%) < 2m");
  EXPECT_EQ(e.measure.function, ExpectFunction::recovery_time);
  ASSERT_EQ(e.measure.inner.size(), 1u);
  EXPECT_EQ(e.measure.inner[0].function, ExpectFunction::p99);
  EXPECT_EQ(e.measure.fault, "outage");
  EXPECT_TRUE(e.measure.band_relative);
  EXPECT_DOUBLE_EQ(e.measure.band, 0.1);
  EXPECT_DOUBLE_EQ(e.threshold, 120);

  e = parse_ok("recovery_time(max(queue.depth, of: api), after: outage, within: 5) <= 30s");
  EXPECT_FALSE(e.measure.band_relative);
  EXPECT_DOUBLE_EQ(e.measure.band, 5);
}

TEST(ExpectationParser, TimePointsAreDurationsOrRelativeToAFault) {
  ExpectationNames names;
  names.faults = {"outage"};
  names.has_faults_section = true;
  ParseProblem p;
  std::optional<TimePoint> t = parse_time_point("fault outage ends + 2m", names, p);
  ASSERT_TRUE(t) << p.message;
  EXPECT_EQ(t->fault, "outage");
  EXPECT_TRUE(t->fault_end);
  EXPECT_EQ(t->offset_ns, Time::s(120).count_ns());
  t = parse_time_point("fault outage starts", names, p);
  ASSERT_TRUE(t) << p.message;
  EXPECT_FALSE(t->fault_end);
  EXPECT_EQ(t->offset_ns, 0);
  EXPECT_FALSE(parse_time_point("fault outage starts - 30s", names, p));
  EXPECT_EQ(p.message,
            "expected '+ <duration>' or the end, got '-' (a time can only be after a fault's "
            "start or end)");
  EXPECT_EQ(p.offset, 20u);
  t = parse_time_point("5m", names, p);
  ASSERT_TRUE(t) << p.message;
  EXPECT_TRUE(t->fault.empty());
  EXPECT_EQ(t->offset_ns, Time::s(300).count_ns());
  EXPECT_FALSE(parse_time_point("fault outage stops", names, p));
  EXPECT_EQ(p.message, "expected 'starts' or 'ends' after the fault's name, got 'stops'");
  EXPECT_EQ(p.offset, 13u);
}

TEST(ExpectationParser, LoadsTheSectionIntoTheScenarioInFileOrder) {
  const Scenario s = test::load_text(with(R"(  - lost == 0
  - p99(latency, workload: checkout) < 300ms
  - {that: "p99(latency) < 1s", during: [10s, 20s]}
  - {that: "rate(completed, of: api) > 5/s", after: 30s}
)"));
  ASSERT_EQ(s.expectations.size(), 4u);
  EXPECT_EQ(s.expectations[0].text, "lost == 0");
  EXPECT_EQ(s.expectations[0].where.to_string(), "test.yaml:15:5");
  EXPECT_EQ(s.expectations[1].text, "p99(latency, workload: checkout) < 300ms");
  EXPECT_EQ(s.expectations[1].measure.scope_name, "checkout");
  ASSERT_TRUE(s.expectations[2].window);
  EXPECT_EQ(s.expectations[2].display(), "p99(latency) < 1s during [10s, 20s]");
  EXPECT_EQ(s.expectations[2].window->to->offset_ns, Time::s(20).count_ns());
  ASSERT_TRUE(s.expectations[3].window);
  EXPECT_FALSE(s.expectations[3].window->to);
  EXPECT_EQ(s.expectations[3].display(), "rate(completed, of: api) > 5/s after 30s");
}

struct BadCase {
  std::string item;
  std::string message;
};

TEST(ExpectationParser, BadExpressionsAreLoadErrorsThatPointIntoTheText) {
  const BadCase cases[] = {
      {"  - p98(latency) < 1s\n",
       "test.yaml:15:5: error: expect[0]: unknown function 'p98' (did you mean 'p90'?); "
       "functions: p50, p90, p99, p999, mean, max, last, count, rate, error_ratio, utilization, "
       "cache_hit_ratio or recovery_time"},
      {"  - p99(latncy) < 1s\n",
       "test.yaml:15:9: error: expect[0]: unknown metric 'latncy' (did you mean 'latency'?)"},
      {"  - \"p99(latency, workload: chekout) < 1s\"\n",
       "test.yaml:15:29: error: expect[0]: unknown workload 'chekout' (did you mean "
       "'checkout'?)"},
      // Unquoted, YAML reads it as {"p99(latency, workload": "chekout) < 1s"}.
      {"  - p99(latency, workload: chekout) < 1s\n",
       "test.yaml:15:28: error: expect[0]: unknown workload 'chekout' (did you mean "
       "'checkout'?)"},
      {"  - 'max(queue.depth, of: apii) <= 5'\n",
       "test.yaml:15:27: error: expect[0]: unknown component 'apii' (did you mean 'api'?)"},
      {"  - max(queue.depth) < 5\n",
       "test.yaml:15:5: error: expect[0]: this metric is measured per component: add 'of: "
       "<component>'"},
      {"  - p99(latency) < 300\n",
       "test.yaml:15:20: error: expect[0]: 'p99(latency)' is a duration: expected a duration "
       "with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h (the unit is missing), got '300'"},
      // A "\t" escape is two characters in the file and one in the value.
      {"  - \"p99(latency) <\\t300\"\n",
       "test.yaml:15:22: error: expect[0]: 'p99(latency)' is a duration: expected a duration "
       "with a unit, e.g. 250us, 50ms, 2s, 1.5m or 1h (the unit is missing), got '300'"},
      {"  - rate(completed) > 5\n",
       "test.yaml:15:23: error: expect[0]: 'rate(completed)' is a rate: expected a rate such as "
       "200/s, 12k/min or 0.5/ms (the '/unit' is missing), got '5'"},
      {"  - lost = 0\n", "test.yaml:15:10: error: expect[0]: use '==' to compare for equality"},
      {"  - lost\n",
       "test.yaml:15:9: error: expect[0]: expected a comparison (<, <=, >, >=, == or !=) after "
       "'lost', got the end of the expression"},
      {"  - lots == 0\n",
       "test.yaml:15:5: error: expect[0]: unknown metric 'lots' (did you mean 'lost'?)"},
      {"  - queue.depth < 5\n",
       "test.yaml:15:5: error: expect[0]: 'queue.depth' needs a function, e.g. max(queue.depth, "
       "of: <component>) or mean(queue.depth, ...)"},
      {"  - 'p99(queue.depth, of: api) < 5'\n",
       "test.yaml:15:6: error: expect[0]: p99 applies to latency; for levels use max, mean or "
       "last"},
      {"  - 'count(latency) > 5'\n",
       "test.yaml:15:6: error: expect[0]: count applies to counters (completed, lost, "
       "retries...); for latency and levels use p99, max, mean or last"},
      {"  - 'p99(latency, off: api) < 1s'\n",
       "test.yaml:15:19: error: expect[0]: unknown argument 'off' (did you mean 'of'?); "
       "arguments: workload, of, after or within"},
      {"  - 'p99(latency of: api) < 1s'\n",
       "test.yaml:15:18: error: expect[0]: expected ',' or ')' in the arguments of p99, got 'o'"},
      {"  - 'recovery_time(p99(latency), after: outage, within: 10%) < 1m'\n",
       "test.yaml:15:41: error: expect[0]: unknown fault 'outage': the scenario has no faults"},
      {"  - 'recovery_time(p99(latency), within: 10%) < 1m'\n",
       "test.yaml:15:6: error: expect[0]: recovery_time needs 'after: <fault>'"},
      {"  - {tht: lost == 0}\n",
       "test.yaml:15:6: error: expect[0]: unknown key 'tht' (did you mean 'that'?); valid keys: "
       "that, during or after\n"
       "test.yaml:15:5: error: expect[0]: missing required key 'that' (the expression, e.g. "
       "'lost == 0')"},
      {"  - {that: lost == 0, during: [20s, 10s]}\n",
       "test.yaml:15:31: error: expect[0].during: the window must end after it starts"},
      {"  - {that: lost == 0, during: [20s, 1 minute]}\n",
       "test.yaml:15:37: error: expect[0].during[1]: expected a time such as 5m or 'fault <name> "
       "ends + 2m', got '1 minute'"},
      {"  - {that: generated > 5, during: [1s, 2s]}\n",
       "test.yaml:15:35: error: expect[0]: generated is counted over the whole run only; in a "
       "window use arrivals of a component"},
      {"  - {that: lost == 0, during: [1s, 2s], after: 5s}\n",
       "test.yaml:15:48: error: expect[0]: give either 'during' or 'after', not both"},
      {"  - {that: lost == 0, after: fault outage ends}\n",
       "test.yaml:15:36: error: expect[0].after: unknown fault 'outage': the scenario has no "
       "faults"},
  };
  for (const BadCase& c : cases) {
    EXPECT_EQ(test::load_errors(with(c.item)), c.message + "\n") << c.item;
  }
  EXPECT_EQ(test::load_errors(kBase.substr(0, kBase.size() - 8) + "expect: lost == 0\n"),
            "test.yaml:14:9: error: expect: expected a list of expectations such as 'lost == 0', "
            "got 'lost == 0'\n");
}

TEST(ExpectationParser, FaultNamesComeFromTheFaultsSection) {
  // The loader does not read `faults:` yet (another change adds it, and with it the key); the
  // names an expectation may use are its keys all the same.
  const std::string errors =
      test::load_errors(with(R"(  - "recovery_time(p99(latency), after: outgae, within: 10%) < 1m"
  - {that: "p99(latency) < 1s", during: fault outage}
faults:
  outage: {}
)"));
  EXPECT_NE(errors.find("test.yaml:15:41: error: expect[0]: unknown fault 'outgae' (did you mean "
                        "'outage'?)"),
            std::string::npos)
      << errors;
  EXPECT_EQ(errors.find("expect[1]"), std::string::npos) << errors;
}

}  // namespace
}  // namespace dsim
