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
  void flag(const ParamInfo& i, bool& v) override { row(i, "bool", v ? "true" : "false"); }
  void text(const ParamInfo& i, std::string& v) override {
    row(i, "name", v.empty() ? "(see description)" : v);
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

 private:
  void row(const ParamInfo& i, const std::string& type, const std::string& def) {
    rows += "| `" + std::string(i.name) + "` | " + type + " | " +
            (i.required ? std::string("**required**") : (def.empty() ? "" : "`" + def + "`")) +
            " | " + (i.live ? "yes" : "") + " | " + i.help + " |\n";
  }
};

}  // namespace

std::string component_reference_markdown() {
  std::string out;
  for (const ComponentKind& k : component_kinds()) {
    out += "### `" + std::string(k.name) + "`\n\n" + k.help + "\n\n";
    auto params = k.make_params();
    DocVisitor doc;
    params->describe(doc);
    if (doc.rows.empty()) {
      out += "No parameters besides `kind`.\n\n";
      continue;
    }
    out +=
        "| key | type | default | live | description |\n|---|---|---|---|---|\n" + doc.rows + "\n";
  }
  return out;
}

}  // namespace dsim
