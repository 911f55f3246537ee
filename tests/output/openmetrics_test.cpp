// metrics.prom: checked by a small parser of the OpenMetrics 1.0 text format written here from
// the specification (ABNF and the rules of the data model: metadata order and uniqueness, sample
// names per type, unit suffixes, label syntax and escaping, no interleaving, cumulative histogram
// buckets ending in +Inf == _count, # EOF), and by comparing its figures with the run's.
#include "output/openmetrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "output/run_summary.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

struct Sample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value = 0;
  std::string value_text;
  std::string label(const std::string& key) const {
    for (const auto& [k, v] : labels) {
      if (k == key) return v;
    }
    return "";
  }
};

struct Family {
  std::string name, type, unit, help;
  std::vector<Sample> samples;
};

// Throws std::runtime_error("line N: what") on the first violation of the format.
class OpenMetricsParser {
 public:
  static std::map<std::string, Family> parse(const std::string& text) {
    OpenMetricsParser p;
    p.run(text);
    return p.families_;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("line " + std::to_string(line_no_) + ": " + what);
  }

  static bool name_initial(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  }
  static bool name_char(char c) {
    return name_initial(c) || std::isdigit(static_cast<unsigned char>(c));
  }
  static bool label_initial(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
  }
  static bool label_char(char c) {
    return label_initial(c) || std::isdigit(static_cast<unsigned char>(c));
  }

  std::string metricname(const std::string& s, size_t& i) const {
    const size_t start = i;
    if (i >= s.size() || !name_initial(s[i])) fail("expected a metric name");
    while (i < s.size() && name_char(s[i])) ++i;
    return s.substr(start, i - start);
  }

  // escaped-string up to (not including) the terminator; only \n, \" and \\ are accepted.
  std::string escaped(const std::string& s, size_t& i, bool until_quote) const {
    std::string out;
    while (i < s.size() && !(until_quote && s[i] == '"')) {
      if (s[i] == '\\') {
        if (i + 1 >= s.size()) fail("dangling backslash");
        const char e = s[i + 1];
        if (e == 'n') {
          out += '\n';
        } else if (e == '"' || e == '\\') {
          out += e;
        } else {
          fail("undefined escape \\" + std::string(1, e));
        }
        i += 2;
      } else {
        if (until_quote && s[i] == '\n') fail("raw newline in a label value");
        out += s[i++];
      }
    }
    return out;
  }

  static bool is_number(const std::string& t) {
    std::string lower;
    for (char c : t) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t i = 0;
    if (i < lower.size() && (lower[i] == '+' || lower[i] == '-')) ++i;
    const std::string rest = lower.substr(i);
    if (rest == "inf" || rest == "infinity") return true;
    if (lower == "nan") return true;
    size_t int_digits = 0, frac_digits = 0;
    while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])))
      ++i, ++int_digits;
    if (i < lower.size() && lower[i] == '.') {
      ++i;
      while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])))
        ++i, ++frac_digits;
    }
    if (int_digits + frac_digits == 0) return false;
    if (i < lower.size() && lower[i] == 'e') {
      ++i;
      if (i < lower.size() && (lower[i] == '+' || lower[i] == '-')) ++i;
      size_t exp_digits = 0;
      while (i < lower.size() && std::isdigit(static_cast<unsigned char>(lower[i])))
        ++i, ++exp_digits;
      if (exp_digits == 0) return false;
    }
    return i == lower.size();
  }

  static bool is_integer(const std::string& t) {
    if (t.empty()) return false;
    for (char c : t) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }

  void metadata(const std::string& line) {
    size_t i = 2;
    const size_t sp = line.find(' ', i);
    if (sp == std::string::npos) fail("metadata without a name");
    const std::string what = line.substr(i, sp - i);
    i = sp + 1;
    const std::string name = metricname(line, i);
    if (i >= line.size() || line[i] != ' ') fail("expected a space after the name");
    ++i;
    if (!current_ || current_->name != name) start_family(name);
    if (!current_->samples.empty()) fail("metadata after samples of " + name);
    if (!seen_meta_.insert(what).second) fail("second " + what + " line for " + name);
    if (what == "TYPE") {
      if (seen_meta_.size() != 1) fail("TYPE should come first");
      static const std::set<std::string> kTypes = {"counter",        "gauge",    "histogram",
                                                   "gaugehistogram", "stateset", "info",
                                                   "summary",        "unknown"};
      current_->type = line.substr(i);
      if (!kTypes.count(current_->type)) fail("unknown type " + current_->type);
    } else if (what == "UNIT") {
      current_->unit = line.substr(i);
      for (char c : current_->unit) {
        if (!name_char(c)) fail("bad unit");
      }
      const std::string suffix = "_" + current_->unit;
      if (name.size() < suffix.size() ||
          name.compare(name.size() - suffix.size(), suffix.size(), suffix))
        fail("unit " + current_->unit + " is not a suffix of " + name);
      if (current_->type == "info" || current_->type == "stateset")
        fail("unit on an info/stateset");
    } else if (what == "HELP") {
      current_->help = escaped(line, i, false);
    } else {
      fail("unknown metadata " + what);
    }
  }

  void start_family(const std::string& name) {
    if (families_.count(name)) fail("family " + name + " appears twice (interleaved?)");
    current_ = &families_[name];
    current_->name = name;
    current_->type = "unknown";
    seen_meta_.clear();
    seen_metrics_.clear();
    last_metric_.clear();
  }

  // The sample name's suffix must be one its family's type allows.
  bool belongs(const std::string& sample, const Family& f) const {
    auto is = [&](const char* suffix) { return sample == f.name + suffix; };
    if (f.type == "counter") return is("_total") || is("_created");
    if (f.type == "histogram") return is("_bucket") || is("_count") || is("_sum") || is("_created");
    if (f.type == "info") return is("_info");
    if (f.type == "summary") return is("") || is("_count") || is("_sum") || is("_created");
    return is("");
  }

  void sample(const std::string& line) {
    Sample s;
    size_t i = 0;
    s.name = metricname(line, i);
    if (!current_ || !belongs(s.name, *current_)) fail("sample " + s.name + " outside its family");
    std::set<std::string> label_names;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t start = i;
        if (!label_initial(line[i])) fail("bad label name");
        while (i < line.size() && label_char(line[i])) ++i;
        const std::string key = line.substr(start, i - start);
        if (key.rfind("__", 0) == 0) fail("reserved label name " + key);
        if (!label_names.insert(key).second) fail("label " + key + " twice");
        if (i >= line.size() || line[i] != '=') fail("expected '='");
        ++i;
        if (i >= line.size() || line[i] != '"') fail("expected '\"'");
        ++i;
        std::string value = escaped(line, i, true);
        if (i >= line.size() || line[i] != '"') fail("unterminated label value");
        ++i;
        s.labels.emplace_back(key, value);
        if (i < line.size() && line[i] == ',') {
          ++i;
          if (i < line.size() && line[i] == '}') fail("trailing comma in labels");
        }
      }
      if (i >= line.size()) fail("unterminated labels");
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') fail("expected a space before the value");
    ++i;
    const size_t sp = line.find(' ', i);
    s.value_text = line.substr(i, sp == std::string::npos ? std::string::npos : sp - i);
    if (!is_number(s.value_text)) fail("bad number '" + s.value_text + "'");
    if (sp != std::string::npos) fail("timestamps or exemplars are not expected from dsim");
    s.value = std::stod(s.value_text);  // handles inf/nan spellings too
    // Metrics (label sets, le aside) must not be interleaved within a family.
    std::string metric;
    for (const auto& [k, v] : s.labels) {
      if (k != "le") metric += k + "=" + v + ",";
    }
    if (metric != last_metric_) {
      if (!seen_metrics_.insert(metric).second) fail("metric {" + metric + "} interleaved");
      last_metric_ = metric;
    }
    if (current_->type == "histogram" &&
        (s.name == current_->name + "_bucket") != label_names.count("le"))
      fail("le belongs on _bucket samples only");
    current_->samples.push_back(std::move(s));
  }

  void run(const std::string& text) {
    size_t pos = 0;
    bool eof = false;
    while (pos < text.size()) {
      ++line_no_;
      const size_t nl = text.find('\n', pos);
      if (nl == std::string::npos) fail("last line is not terminated by a newline");
      const std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      if (eof) fail("content after # EOF");
      if (line.find('\r') != std::string::npos) fail("carriage return");
      if (line == "# EOF") {
        eof = true;
      } else if (line.rfind("# ", 0) == 0) {
        metadata(line);
      } else if (!line.empty() && line[0] == '#') {
        fail("a comment line");
      } else {
        sample(line);
      }
    }
    if (!eof) fail("missing # EOF");
    for (const auto& [name, f] : families_) check_semantics(f);
  }

  void check_semantics(const Family& f) const {
    if (f.help.empty()) throw std::runtime_error(f.name + ": no HELP");
    for (const Sample& s : f.samples) {
      if (f.type == "counter" && (std::isnan(s.value) || s.value < 0))
        throw std::runtime_error(s.name + ": counter negative or NaN");
      if (f.type == "info" && s.value != 1) throw std::runtime_error(s.name + ": info value not 1");
    }
    if (f.type != "histogram") return;
    // Per metric: increasing le, cumulative counts, +Inf present and equal to _count.
    std::map<std::string, std::vector<const Sample*>> by_metric;
    for (const Sample& s : f.samples) {
      std::string metric;
      for (const auto& [k, v] : s.labels) {
        if (k != "le") metric += k + "=" + v + ",";
      }
      by_metric[metric].push_back(&s);
    }
    for (const auto& [metric, samples] : by_metric) {
      double last_le = -INFINITY, last_count = 0, inf = -1, count = -1, sum = -1;
      for (const Sample* s : samples) {
        if (s->name == f.name + "_bucket") {
          if (!is_integer(s->value_text))
            throw std::runtime_error(f.name + ": bucket not an integer");
          const std::string le = s->label("le");
          if (!is_number(le)) throw std::runtime_error(f.name + ": bad le " + le);
          const double bound = std::stod(le);
          if (!(bound > last_le)) throw std::runtime_error(f.name + ": le not increasing at " + le);
          if (s->value < last_count) throw std::runtime_error(f.name + ": buckets not cumulative");
          last_le = bound;
          last_count = s->value;
          if (std::isinf(bound)) inf = s->value;
        } else if (s->name == f.name + "_count") {
          if (!is_integer(s->value_text))
            throw std::runtime_error(f.name + ": count not an integer");
          count = s->value;
        } else if (s->name == f.name + "_sum") {
          sum = s->value;
        }
      }
      if (inf < 0) throw std::runtime_error(f.name + "{" + metric + "}: no +Inf bucket");
      if (sum >= 0 && count != inf) throw std::runtime_error(f.name + ": +Inf != _count");
      if (sum < 0 && count >= 0) throw std::runtime_error(f.name + ": _count without _sum");
    }
  }

  std::map<std::string, Family> families_;
  Family* current_ = nullptr;
  std::set<std::string> seen_meta_;
  std::set<std::string> seen_metrics_;
  std::string last_metric_;
  int line_no_ = 0;
};

const char* kShop = R"(
name: 'shop "north" \ eu'
seed: 9
duration: 2m
warmup: 10s
window: 10s
components:
  users: {kind: source, arrivals: {poisson: 200/s}, target: api, workload: checkout}
  api:
    kind: service
    workers: 4
    queue_capacity: 10
    handler:
      - compute: {exponential: 10ms}
      - call: db
        timeout: 50ms
        retry: {max_attempts: 2}
  db: {kind: service, workers: 2, service_time: {exponential: 8ms}}
)";

const Sample* find(const std::map<std::string, Family>& fs, const std::string& family,
                   const std::string& name, const std::map<std::string, std::string>& labels) {
  for (const Sample& s : fs.at(family).samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : labels) all = all && s.label(k) == v;
    if (all) return &s;
  }
  return nullptr;
}

}  // namespace

TEST(OpenMetricsParser, RejectsWhatTheSpecForbids) {
  const auto bad = [](const std::string& text) {
    EXPECT_THROW(OpenMetricsParser::parse(text), std::runtime_error) << text;
  };
  bad("# TYPE a counter\na 1\n# EOF\n");  // counter sample needs _total
  bad("# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# HELP a_seconds x\na_seconds 1\n# EOF\n");
  bad("# TYPE a gauge\n# HELP a x\na{b=\"1\",b=\"2\"} 1\n# EOF\n");  // label twice
  bad("# TYPE a gauge\n# HELP a x\na{b=\"\\t\"} 1\n# EOF\n");        // undefined escape
  bad("# TYPE a gauge\n# HELP a x\na 1\n");                          // no EOF
  bad("# TYPE h histogram\n# HELP h x\nh_bucket{le=\"1.0\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
      "h_count 1\nh_sum 1\n# EOF\n");  // not cumulative
  bad("# TYPE h histogram\n# HELP h x\nh_bucket{le=\"+Inf\"} 2\nh_count 3\nh_sum 1\n# EOF\n");
  bad("# TYPE a gauge\n# HELP a x\na{x=\"1\"} 1\na{x=\"2\"} 1\na{x=\"1\"} 1\n# EOF\n");  // interleaved
  EXPECT_NO_THROW(OpenMetricsParser::parse(
      "# TYPE h_seconds histogram\n# UNIT h_seconds seconds\n# HELP h_seconds x \\\\ \\n\n"
      "h_seconds_bucket{a=\"q\\\"\",le=\"0.5\"} 1\nh_seconds_bucket{a=\"q\\\"\",le=\"+Inf\"} 2\n"
      "h_seconds_count{a=\"q\\\"\"} 2\nh_seconds_sum{a=\"q\\\"\"} 1.5\n# EOF\n"));
}

TEST(OpenMetrics, TheExportParsesAndAgreesWithTheRun) {
  Simulation sim(test::load_text(kShop));
  sim.run();
  const RunSummary summary = summarize(sim);
  const std::string text = format_openmetrics(sim, summary);
  std::map<std::string, Family> fs;
  ASSERT_NO_THROW(fs = OpenMetricsParser::parse(text)) << text;

  // Label escaping round-trips the scenario's awkward name.
  const Sample* info = find(fs, "dsim_run", "dsim_run_info", {});
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->label("scenario"), "shop \"north\" \\ eu");
  EXPECT_EQ(info->label("seed"), "9");
  EXPECT_EQ(find(fs, "dsim_run_complete", "dsim_run_complete", {})->value, 1);
  EXPECT_EQ(fs.at("dsim_component_latency_seconds").unit, "seconds");
  EXPECT_EQ(fs.at("dsim_component_latency_seconds").type, "histogram");
  EXPECT_EQ(fs.at("dsim_component_arrivals").type, "counter");

  // Counters and histogram totals are the run's own figures.
  const StationMetrics& api = sim.find("api")->metrics();
  const std::map<std::string, std::string> at_api = {{"component", "api"}};
  EXPECT_EQ(find(fs, "dsim_component_arrivals", "dsim_component_arrivals_total", at_api)->value,
            static_cast<double>(api.arrivals()));
  EXPECT_EQ(
      find(fs, "dsim_component_latency_seconds", "dsim_component_latency_seconds_count", at_api)
          ->value,
      static_cast<double>(api.latency().count()));
  EXPECT_NEAR(
      find(fs, "dsim_component_latency_seconds", "dsim_component_latency_seconds_sum", at_api)
          ->value,
      api.latency().mean() * 1e-9 * static_cast<double>(api.latency().count()), 1e-9);
  // Every bucket is the fine histogram's count at that bound.
  int n = 0;
  const OpenMetricsBound* bounds = openmetrics_latency_bounds(&n);
  for (int i = 0; i < n; ++i) {
    const Sample* b =
        find(fs, "dsim_component_latency_seconds", "dsim_component_latency_seconds_bucket",
             {{"component", "api"}, {"le", bounds[i].le}});
    ASSERT_NE(b, nullptr) << bounds[i].le;
    EXPECT_EQ(b->value, static_cast<double>(api.latency().count_at_most(bounds[i].ns)));
    EXPECT_DOUBLE_EQ(std::stod(bounds[i].le) * 1e9, static_cast<double>(bounds[i].ns));
  }
  // The queue overflowed and the db calls timed out: losses by reason, retries as a counter.
  EXPECT_NE(find(fs, "dsim_component_lost", "dsim_component_lost_total",
                 {{"component", "api"}, {"outcome", "dropped"}, {"reason", "queue_full"}}),
            nullptr)
      << text;
  EXPECT_NE(find(fs, "dsim_component_retries", "dsim_component_retries_total", at_api), nullptr);
  const WorkloadStats& w = sim.workloads()[0];
  EXPECT_EQ(find(fs, "dsim_workload_requests", "dsim_workload_requests_total",
                 {{"workload", "checkout"}, {"outcome", "completed"}})
                ->value,
            static_cast<double>(w.completed));
  EXPECT_EQ(find(fs, "dsim_workload_latency_seconds", "dsim_workload_latency_seconds_bucket",
                 {{"workload", "checkout"}, {"le", "+Inf"}})
                ->value,
            static_cast<double>(w.completed));
}

TEST(OpenMetrics, AnInterruptedRunSaysSo) {
  Simulation sim(test::load_text(kShop));
  sim.run_until(Time::s(30));
  sim.stop();
  const std::string text = format_openmetrics(sim, summarize(sim));
  std::map<std::string, Family> fs;
  ASSERT_NO_THROW(fs = OpenMetricsParser::parse(text)) << text;
  EXPECT_EQ(find(fs, "dsim_run_complete", "dsim_run_complete", {})->value, 0);
  EXPECT_EQ(find(fs, "dsim_run_simulated_seconds", "dsim_run_simulated_seconds", {})->value, 30);
}

}  // namespace dsim
