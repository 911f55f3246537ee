#include "scenario/reference.hpp"

#include "components/registry.hpp"
#include "components/route.hpp"
#include "components/source.hpp"
#include "core/format.hpp"

namespace dsim {
namespace {

class DocVisitor final : public ParamVisitor {
 public:
  std::string rows;
  // Element types of lists met so far (documented once each, after the component's table).
  std::vector<std::pair<std::string, std::unique_ptr<ParamGroup>>>* elements = nullptr;
  std::string prefix;  // "retry." inside a nested block
  // Blocks shared by many kinds, documented once at the end of the reference.
  std::vector<std::pair<std::string, std::unique_ptr<ParamGroup>>>* shared = nullptr;
  static std::string anchor_of(const std::string& title) {
    std::string a = "block-";
    for (char c : title) a += (c == '.' || c == '_') ? '-' : c;
    return a;
  }

  void count(const ParamInfo& i, int64_t& v, int64_t min, int64_t max) override {
    std::string range = std::to_string(min) + " to " +
                        (max == INT64_MAX ? std::string("unbounded") : std::to_string(max));
    row(i, "count (" + range + ")", v == INT64_MAX ? "unbounded" : std::to_string(v));
  }
  void number(const ParamInfo& i, double& v, double min, double max) override {
    row(i, "number (" + format_number(min) + " to " + format_number(max) + ")", format_number(v));
  }
  void duration(const ParamInfo& i, Time& v) override { row(i, "duration", format_time(v)); }
  void rate(const ParamInfo& i, double& v) override { row(i, "rate", format_rate(v)); }
  void size(const ParamInfo& i, int64_t& v) override { row(i, "size", format_size(v)); }
  void flag(const ParamInfo& i, bool& v) override { row(i, "bool", v ? "true" : "false"); }
  void text(const ParamInfo& i, std::string& v) override {
    row(i, i.unit, v.empty() ? "(see description)" : v);
  }
  void choice(const ParamInfo& i, int& v, const char* const* options) override {
    std::string all;
    for (const char* const* o = options; *o; ++o)
      all += std::string(all.empty() ? "" : " \\| ") + *o;
    row(i, "one of " + all, options[v]);
  }
  void distribution(const ParamInfo& i, Distribution& v) override {
    row(i, "distribution", i.required ? "" : v.describe());
  }
  void target(const ParamInfo& i, TargetRef&) override { row(i, "component name", ""); }
  void route(const ParamInfo& i, RouteSpec&) override { row(i, "route", "(complete here)"); }
  void arrivals(const ParamInfo& i, ArrivalSpec&) override { row(i, "arrivals", ""); }
  void keys(const ParamInfo& i, KeySpec&) override { row(i, "keys", "(key 0)"); }
  void group(const ParamInfo& i, ParamGroup& g) override {
    if (const char* title = g.shared_doc_title(); title && shared) {
      const std::string anchor = anchor_of(title);
      row(i, "block, see [`" + std::string(title) + "`](#" + anchor + ")", "(absent)");
      for (const auto& [name, proto] : *shared) {
        if (name == title) return;
      }
      shared->emplace_back(title, g.fresh());
      return;
    }
    row(i, "block", "(absent)");
    DocVisitor inner;
    inner.elements = elements;
    inner.shared = shared;
    inner.prefix = prefix + i.name + ".";
    g.describe(inner);
    rows += inner.rows;
  }
  void list(const ParamInfo& i, ParamListBase& l) override {
    const std::string element = l.element_name();
    row(i, (l.keyed() ? "map of name to " : "list of ") + element, "(empty)");
    if (!elements) return;
    for (const auto& [name, proto] : *elements) {
      if (name == element) return;
    }
    elements->emplace_back(element, l.prototype());
  }

 private:
  void row(const ParamInfo& i, const std::string& type, const std::string& def) {
    rows += "| `" + prefix + std::string(i.name) + "` | " + type + " | " +
            (i.required ? std::string("**required**") : (def.empty() ? "" : "`" + def + "`")) +
            " | " + (i.live ? "yes" : "") + " | " + i.help + " |\n";
  }
};

}  // namespace

std::string component_reference_markdown() {
  std::string out;
  std::vector<std::pair<std::string, std::unique_ptr<ParamGroup>>> shared;
  static const char* kHeader =
      "| key | type | default | live | description |\n|---|---|---|---|---|\n";
  for (const ComponentKind& k : component_kinds()) {
    out += "### `" + std::string(k.name) + "`\n\n" + k.help + "\n\n";
    auto params = k.make_params();
    std::vector<std::pair<std::string, std::unique_ptr<ParamGroup>>> elements;
    DocVisitor doc;
    doc.elements = &elements;
    doc.shared = &shared;
    params->describe(doc);
    if (doc.rows.empty()) {
      out += "No parameters besides `kind`.\n\n";
      continue;
    }
    out += kHeader + doc.rows + "\n";
    // Element types of lists, each once (new ones may appear while describing earlier ones).
    for (size_t e = 0; e < elements.size(); ++e) {
      DocVisitor inner;
      inner.elements = &elements;
      inner.shared = &shared;
      elements[e].second->describe(inner);
      out += "Each `" + elements[e].first + "` of `" + std::string(k.name) + "`:\n\n" + kHeader +
             inner.rows + "\n";
    }
  }
  // Shared blocks, each once (describing one may reveal another, e.g. retry.budget).
  for (size_t b = 0; b < shared.size(); ++b) {
    DocVisitor inner;
    inner.shared = &shared;
    shared[b].second->describe(inner);
    out += "<a id=\"" + DocVisitor::anchor_of(shared[b].first) + "\"></a>\n\n### Block `" +
           shared[b].first + "`\n\n" + kHeader + inner.rows + "\n";
  }
  return out;
}

}  // namespace dsim
