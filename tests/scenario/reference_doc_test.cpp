// docs/scenario-format.md stays true to the code.
//
// 1. The generated component reference (between the BEGIN/END GENERATED markers) is exactly what
//    component_reference_markdown() produces today.
// 2. Every distribution, arrival, key and route kind and every top-level key the loader accepts
//    is named in a heading or a code span of the hand-written part. The lists below are
//    themselves checked against the loader: it names the accepted kinds when it rejects an
//    unknown one, so a kind added to loader.cpp fails here until the list and the doc catch up.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "scenario/loader.hpp"
#include "scenario/reference.hpp"

namespace dsim {
namespace {

constexpr const char* kDocPath = DSIM_DOCS_DIR "/scenario-format.md";
constexpr std::string_view kBeginMarker = "<!-- BEGIN GENERATED: dsim reference -->";
constexpr std::string_view kEndMarker = "<!-- END GENERATED: dsim reference -->";

const std::vector<std::string> kDistributionKinds = {"constant", "uniform",   "exponential",
                                                     "normal",   "lognormal", "pareto",
                                                     "weibull",  "empirical", "mixture"};
const std::vector<std::string> kArrivalKinds = {"poisson", "constant", "on_off", "schedule",
                                                "closed_loop"};
const std::vector<std::string> kKeyKinds = {"uniform", "zipf"};
const std::vector<std::string> kRouteKinds = {"split", "cycle"};
const std::vector<std::string> kTopLevelKeys = {"name",   "description", "seed",       "duration",
                                                "warmup", "window",      "components", "groups",
                                                "faults", "expect"};
const std::vector<std::string> kComponentKinds = {
    "source", "service",  "sink",    "load_balancer", "external",
    "queue",  "database", "gateway", "kv_store",      "cache"};

std::string read_doc() {
  std::ifstream in(kDocPath, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << kDocPath;
    return {};
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

size_t count_occurrences(const std::string& text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The hand-written part: everything before the generated section.
std::string hand_written_part(const std::string& doc) {
  return doc.substr(0, doc.find(kBeginMarker));
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// True when `name` is a code span (`name`) or a whole word in a Markdown heading.
bool mentioned(const std::string& doc, const std::string& name) {
  if (doc.find("`" + name + "`") != std::string::npos) return true;
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '#') continue;
    for (size_t at = line.find(name); at != std::string::npos; at = line.find(name, at + 1)) {
      const bool starts = at == 0 || !is_word_char(line[at - 1]);
      const size_t after = at + name.size();
      const bool ends = after == line.size() || !is_word_char(line[after]);
      if (starts && ends) return true;
    }
  }
  return false;
}

// The choices the loader lists after `lead` (e.g. "; expected ") in the error for an unknown
// name: "a, b or c" -> {a, b, c}.
std::vector<std::string> choices_listed_by_loader(const std::string& yaml, std::string_view lead) {
  const LoadResult r = load_scenario_text(yaml, "probe.yaml");
  for (const Diagnostic& d : r.diagnostics.items()) {
    if (d.message.find("zzzzzzzz") == std::string::npos) continue;
    const size_t at = d.message.find(lead);
    if (at == std::string::npos) continue;
    std::string list = d.message.substr(at + lead.size());
    for (size_t p = list.find(" or "); p != std::string::npos; p = list.find(" or "))
      list.replace(p, 4, ", ");
    std::vector<std::string> out;
    std::istringstream parts(list);
    for (std::string part; std::getline(parts, part, ',');) {
      while (!part.empty() && part.front() == ' ') part.erase(part.begin());
      if (!part.empty()) out.push_back(part);
    }
    return out;
  }
  ADD_FAILURE() << "the loader did not list its choices after '" << lead << "' for:\n"
                << yaml << "\nit said:\n"
                << r.diagnostics.to_string();
  return {};
}

// A valid scenario with one line replaced by a probe that names the unknown kind "zzzzzzzz".
std::string probe_scenario(const std::string& source_extra, const std::string& service_time,
                           const std::string& service_extra, const std::string& top_extra) {
  return "duration: 1m\n" + top_extra +
         "components:\n"
         "  src:\n"
         "    kind: source\n"
         "    target: svc\n" +
         (source_extra.empty() ? "    arrivals: {poisson: 1/s}\n" : source_extra) +
         "  svc:\n"
         "    kind: service\n"
         "    service_time: " +
         service_time + "\n" + service_extra;
}

TEST(ReferenceDoc, GeneratedSectionMatchesTheCode) {
  const std::string doc = read_doc();
  ASSERT_EQ(count_occurrences(doc, kBeginMarker), 1u)
      << kDocPath << " must contain the line '" << kBeginMarker << "' exactly once";
  ASSERT_EQ(count_occurrences(doc, kEndMarker), 1u)
      << kDocPath << " must contain the line '" << kEndMarker << "' exactly once";
  const size_t begin_line = doc.find(kBeginMarker);
  const size_t begin = begin_line + kBeginMarker.size() + 1;  // past the marker's newline
  const size_t end = doc.find(kEndMarker);
  ASSERT_LT(begin_line, end) << "the BEGIN marker must come before the END marker";
  ASSERT_EQ(doc[begin - 1], '\n') << "the BEGIN marker must be on a line of its own";
  ASSERT_EQ(doc[end - 1], '\n') << "the END marker must start a line of its own";

  const std::string committed = doc.substr(begin, end - begin);
  EXPECT_EQ(committed, component_reference_markdown())
      << "The component reference in docs/scenario-format.md is out of date with the code.\n"
         "Regenerate it with `dsim reference` (e.g. build/engine/dsim reference) and paste the "
         "output between the lines\n  "
      << kBeginMarker << "\nand\n  " << kEndMarker
      << "\nin docs/scenario-format.md, replacing what is there (the end marker follows the "
         "output's final blank line).";
}

TEST(ReferenceDoc, ListsOfKindsInThisTestMatchTheLoader) {
  EXPECT_EQ(choices_listed_by_loader(probe_scenario("", "{zzzzzzzz: 1s}", "", ""), "; expected "),
            kDistributionKinds)
      << "distribution kinds changed in loader.cpp: update kDistributionKinds and the doc";
  EXPECT_EQ(choices_listed_by_loader(
                probe_scenario("    arrivals: {zzzzzzzz: 1/s}\n", "1s", "", ""), "; expected "),
            kArrivalKinds)
      << "arrival kinds changed in loader.cpp: update kArrivalKinds and the doc";
  EXPECT_EQ(
      choices_listed_by_loader(
          probe_scenario("    arrivals: {poisson: 1/s}\n    keys: {zzzzzzzz: 1}\n", "1s", "", ""),
          "; expected "),
      kKeyKinds)
      << "key kinds changed in loader.cpp: update kKeyKinds and the doc";
  EXPECT_EQ(choices_listed_by_loader(probe_scenario("", "1s", "    next: {zzzzzzzz: [svc]}\n", ""),
                                     "; expected "),
            kRouteKinds)
      << "route kinds changed in loader.cpp: update kRouteKinds and the doc";
  EXPECT_EQ(
      choices_listed_by_loader(probe_scenario("", "1s", "", "zzzzzzzz: 1\n"), "; valid keys: "),
      kTopLevelKeys)
      << "top-level keys changed in loader.cpp: update kTopLevelKeys and the doc";
  EXPECT_EQ(choices_listed_by_loader("duration: 1m\ncomponents:\n  x: {kind: zzzzzzzz}\n",
                                     "; known kinds: "),
            kComponentKinds)
      << "component kinds changed in the registry: update kComponentKinds";
}

TEST(ReferenceDoc, HandWrittenPartNamesEveryKindTheLoaderAccepts) {
  const std::string doc = hand_written_part(read_doc());
  ASSERT_FALSE(doc.empty());
  const std::pair<const char*, const std::vector<std::string>*> groups[] = {
      {"distribution kind", &kDistributionKinds},
      {"arrival kind", &kArrivalKinds},
      {"key kind", &kKeyKinds},
      {"route kind", &kRouteKinds},
      {"top-level key", &kTopLevelKeys},
      {"component kind", &kComponentKinds},
  };
  for (const auto& [what, names] : groups) {
    for (const std::string& name : *names) {
      EXPECT_TRUE(mentioned(doc, name))
          << "docs/scenario-format.md does not document the " << what << " '" << name
          << "': name it in a heading or as `" << name << "` in the hand-written part";
    }
  }
}

}  // namespace
}  // namespace dsim
