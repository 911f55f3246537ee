#include "scenario/topology.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <map>

#include "components/queue.hpp"
#include "components/registry.hpp"
#include "components/route.hpp"
#include "scenario/suggest.hpp"

namespace dsim {
namespace {

// Collects every component reference a kind's parameters hold, whatever the kind.
class TargetCollector final : public ParamVisitor {
 public:
  std::vector<TargetRef*> targets;
  std::vector<const char*> target_keys;  // per target: the parameter key that holds it
  std::vector<uint32_t> target_scopes;   // per target: the block that holds it
  bool has_route = false;
  bool route_can_end = false;

  // Whether the call to targets[k] has a timeout: a `timeout` above zero in its block or in an
  // enclosing one (a call step's own, a consumer block's, a balancer's for its backends).
  bool has_timeout(size_t k) const {
    for (uint32_t s = target_scopes[k];; s = scopes_[s].parent) {
      if (scopes_[s].timeout) return true;
      if (s == 0) return false;
    }
  }

  void target(const ParamInfo& info, TargetRef& t) override {
    if (t.name.empty()) return;
    targets.push_back(&t);
    target_keys.push_back(info.name);
    target_scopes.push_back(current_);
  }
  void duration(const ParamInfo& info, Time& value) override {
    if (std::string_view(info.name) == "timeout" && value > Time::zero()) {
      scopes_[current_].timeout = true;
    }
  }
  void route(const ParamInfo& info, RouteSpec& r) override {
    has_route = true;
    if (r.mode == RouteSpec::Mode::end) route_can_end = true;
    for (TargetRef& t : r.targets) {
      targets.push_back(&t);
      target_keys.push_back(info.name);
      target_scopes.push_back(current_);
    }
  }
  void count(const ParamInfo&, int64_t&, int64_t, int64_t) override {}
  void number(const ParamInfo&, double&, double, double) override {}
  void rate(const ParamInfo&, double&) override {}
  void size(const ParamInfo&, int64_t&) override {}
  void flag(const ParamInfo&, bool&) override {}
  void text(const ParamInfo&, std::string&) override {}
  void choice(const ParamInfo&, int&, const char* const*) override {}
  void distribution(const ParamInfo&, Distribution&) override {}
  void arrivals(const ParamInfo&, ArrivalSpec&) override {}
  void keys(const ParamInfo&, KeySpec&) override {}
  void group(const ParamInfo&, ParamGroup& g) override {
    const uint32_t outer = enter();
    g.describe(*this);
    current_ = outer;
  }
  void list(const ParamInfo&, ParamListBase& l) override {
    for (size_t i = 0; i < l.size(); ++i) {
      const uint32_t outer = enter();
      l.at(i).describe(*this);
      current_ = outer;
    }
  }

 private:
  struct Scope {
    uint32_t parent = 0;
    bool timeout = false;
  };
  // Opens a nested block; returns the enclosing one.
  uint32_t enter() {
    const uint32_t outer = current_;
    scopes_.push_back({outer, false});
    current_ = static_cast<uint32_t>(scopes_.size() - 1);
    return outer;
  }
  std::vector<Scope> scopes_{Scope{}};  // 0: the component's own parameters
  uint32_t current_ = 0;
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

// Marks every vertex reachable from the given start vertices.
template <class G>
std::vector<bool> reachable_from(const G& g, const std::vector<Vertex>& starts) {
  std::vector<bool> seen(boost::num_vertices(g), false);
  if (starts.empty()) return seen;
  struct Recorder : boost::default_bfs_visitor {
    std::vector<bool>* seen;
    void discover_vertex(Vertex v, const G&) const { (*seen)[v] = true; }
  } recorder;
  recorder.seen = &seen;
  std::vector<boost::default_color_type> colors(boost::num_vertices(g));
  auto color_map =
      boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, g));
  boost::queue<Vertex> buffer;
  for (Vertex s : starts) {
    if (colors[s] == boost::white_color) {
      boost::breadth_first_visit(g, s, buffer, recorder, color_map);
    }
  }
  return seen;
}

}  // namespace

void check_topology(Scenario& s, Diagnostics& d) {
  const size_t n = s.components.size();
  std::map<std::string, uint32_t> index;
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    index[s.components[i].name] = static_cast<uint32_t>(i);
    names.push_back(s.components[i].name);
  }
  Graph g(n);
  std::vector<bool> is_source(n), can_end(n);
  std::vector<Vertex> sources, terminals;
  for (size_t i = 0; i < n; ++i) {
    ComponentSpec& c = s.components[i];
    const ComponentKind* kind = find_component_kind(c.kind);
    is_source[i] = kind && kind->generates_requests;
    TargetCollector collector;
    c.params->describe(collector);
    for (TargetRef* t : collector.targets) {
      auto it = index.find(t->name);
      if (it == index.end()) {
        // A suggestion compares the name with every component's: with thousands of bad
        // targets that is quadratic, so it is skipped once messages are no longer kept.
        const std::string hint = d.full() ? std::string() : did_you_mean(t->name, names);
        d.error(t->where, quote_text(c.name) + " sends to " + quote_text(t->name) +
                              ", which is not a component" + hint);
        continue;
      }
      const ComponentKind* target_kind = find_component_kind(s.components[it->second].kind);
      if (target_kind && target_kind->generates_requests) {
        d.error(t->where, quote_text(c.name) + " sends to " + quote_text(t->name) +
                              ", which is a source; sources generate requests and cannot "
                              "receive them");
        continue;
      }
      if (t->self_error && it->second == i) {
        d.error(t->where, quote_text(c.name) + " refers to itself: " + t->self_error);
        continue;
      }
      t->index = it->second;
      boost::add_edge(i, it->second, g);
      const ComponentSpec& callee = s.components[it->second];
      const std::vector<std::string> ops = callee.params->operations();
      // Resolves an operation name against the callee's; empty: its default (index 0).
      auto resolve = [&](const std::string& name, uint16_t& index) {
        if (name.empty()) return;
        auto op = std::find(ops.begin(), ops.end(), name);
        if (op == ops.end()) {
          std::string known = ops.empty() ? std::string(" (it has none)") : "; it has ";
          for (size_t k = 0; k < ops.size(); ++k) known += (k ? ", " : "") + ops[k];
          d.error(t->where, quote_text(c.name) + " asks " + quote_text(t->name) + " (a " +
                                callee.kind + ") for operation " + quote_text(name) +
                                (name == "publish" ? " (publish sends to a queue)" : "") +
                                did_you_mean(name, ops) + known);
          return;
        }
        index = static_cast<uint16_t>(op - ops.begin());
      };
      resolve(t->op, t->op_index);
      t->extra_op_indices.assign(t->extra_ops.size(), 0);
      for (size_t k = 0; k < t->extra_ops.size(); ++k) {
        resolve(t->extra_ops[k], t->extra_op_indices[k]);
      }
      if (const std::string problem = c.params->check_reference(*t, callee.kind, *callee.params);
          !problem.empty()) {
        d.error(t->where, quote_text(c.name) + ": " + problem);
      }
    }
    // A component completes requests (answers its caller) unless every forwarding route from it
    // leads on.
    // Calls are answered, so only forwarding routes (`next`) can keep a request from finishing.
    can_end[i] = !is_source[i] && (!collector.has_route || collector.route_can_end);
    if (is_source[i]) sources.push_back(i);
    if (can_end[i]) terminals.push_back(i);
  }
  if (sources.empty()) {
    d.error(Location{s.file, 0, 0},
            "the scenario has no source, so nothing generates requests; "
            "add a component of kind source");
    return;
  }
  if (!d.ok()) return;  // unresolved targets make the walks below meaningless

  const std::vector<bool> reached = reachable_from(g, sources);
  const std::vector<bool> ends = reachable_from(boost::make_reverse_graph(g), terminals);
  for (size_t i = 0; i < n; ++i) {
    const ComponentSpec& c = s.components[i];
    if (!reached[i]) {
      d.error(c.where, "component '" + c.name +
                           "' is never reached: no source or route leads to "
                           "it");
    } else if (!ends[i] && !is_source[i]) {
      // (A source whose requests cannot finish says nothing new: its target is reported.)
      d.error(c.where, "requests reaching '" + c.name +
                           "' can never finish: every route from it "
                           "leads back into a cycle without reaching a sink or a component that "
                           "completes them");
    }
  }
}

namespace {

// The resolved components `params` names; with `untimed_only`, those called with no timeout.
std::vector<uint32_t> named_by(const ComponentParams& params, bool untimed_only) {
  TargetCollector collector;
  // (describe() is the one way to walk a kind's parameters; this visitor only reads them.)
  const_cast<ComponentParams&>(params).describe(collector);
  std::vector<uint32_t> named;
  for (size_t k = 0; k < collector.targets.size(); ++k) {
    const TargetRef* t = collector.targets[k];
    if (t->index != UINT32_MAX && !(untimed_only && collector.has_timeout(k))) {
      named.push_back(t->index);
    }
  }
  std::sort(named.begin(), named.end());
  named.erase(std::unique(named.begin(), named.end()), named.end());
  return named;
}

}  // namespace

std::vector<uint32_t> calls_without_timeout(const ComponentParams& params) {
  return named_by(params, /*untimed_only=*/true);
}

std::vector<uint32_t> components_named_by(const ComponentParams& params) {
  return named_by(params, /*untimed_only=*/false);
}

std::vector<ComponentLink> component_links(const Scenario& s) {
  std::vector<ComponentLink> links;
  for (size_t i = 0; i < s.components.size(); ++i) {
    // A queue with consumer groups hands its messages to its group queues, which call the
    // groups' targets (and the dead-letter queue): it links to them alone.
    if (const auto* q = dynamic_cast<const QueueParams*>(s.components[i].params.get());
        q && !q->consumer_groups.empty()) {
      for (size_t j = 0; j < s.components.size(); ++j) {
        const auto* g = dynamic_cast<const QueueParams*>(s.components[j].params.get());
        if (g && g->fed_by == s.components[i].name) {
          links.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(j), "consumer_groups"});
        }
      }
      continue;
    }
    TargetCollector collector;
    s.components[i].params->describe(collector);
    for (size_t k = 0; k < collector.targets.size(); ++k) {
      const uint32_t to = collector.targets[k]->index;
      if (to == UINT32_MAX) continue;
      const std::string key = collector.target_keys[k];
      auto same = std::find_if(links.begin(), links.end(),
                               [&](const ComponentLink& l) { return l.from == i && l.to == to; });
      if (same == links.end()) {
        links.push_back({static_cast<uint32_t>(i), to, key});
      } else if (("," + same->keys + ",").find("," + key + ",") == std::string::npos) {
        same->keys += "," + key;
      }
    }
  }
  return links;
}

}  // namespace dsim
