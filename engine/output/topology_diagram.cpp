#include "output/topology_diagram.hpp"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>
#include <iterator>

#include "output/svg_chart.hpp"

namespace dsim {
namespace {

// Edge property: the edge's position in TopologyGraph::edges.
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property,
                                    boost::property<boost::edge_index_t, size_t>>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;

struct BackEdgeRecorder : boost::default_dfs_visitor {
  std::vector<bool>* back;
  template <class E, class G>
  void back_edge(E e, const G& g) const {
    (*back)[boost::get(boost::edge_index, g, e)] = true;
  }
};

}  // namespace

TopologyLayout layout_topology(const TopologyGraph& graph) {
  const size_t n = graph.nodes.size();
  TopologyLayout out;
  out.layer.assign(n, 0);
  out.row.assign(n, 0);
  out.back.assign(graph.edges.size(), false);
  if (n == 0) return out;

  Graph g(n);
  for (size_t i = 0; i < graph.edges.size(); ++i) {
    const auto& e = graph.edges[i];
    if (e.from < n && e.to < n) boost::add_edge(e.from, e.to, i, g);
  }

  // Edges closing a cycle: found by a depth-first search that starts at the sources (in file
  // order), so that what a reader sees as "the flow" runs forward and only the way back is
  // drawn as a detour.
  std::vector<Vertex> starts;
  for (size_t i = 0; i < n; ++i) {
    if (graph.nodes[i].kind == "source") starts.push_back(i);
  }
  for (size_t i = 0; i < n; ++i) starts.push_back(i);
  std::vector<boost::default_color_type> colours(n, boost::white_color);
  auto colour_map =
      boost::make_iterator_property_map(colours.begin(), boost::get(boost::vertex_index, g));
  BackEdgeRecorder recorder;
  recorder.back = &out.back;
  for (Vertex s : starts) {
    if (colours[s] == boost::white_color) boost::depth_first_visit(g, s, recorder, colour_map);
  }
  for (size_t i = 0; i < graph.edges.size(); ++i) {
    const auto& e = graph.edges[i];
    if (e.from >= n || e.to >= n) out.back[i] = true;  // (not drawn at all, see below)
  }

  // Longest path from a root over the acyclic rest.
  Graph dag(n);
  for (size_t i = 0; i < graph.edges.size(); ++i) {
    if (!out.back[i]) boost::add_edge(graph.edges[i].from, graph.edges[i].to, i, dag);
  }
  std::vector<Vertex> reverse_order;
  boost::topological_sort(dag, std::back_inserter(reverse_order));
  for (auto it = reverse_order.rbegin(); it != reverse_order.rend(); ++it) {
    for (auto [e, end] = boost::out_edges(*it, dag); e != end; ++e) {
      const Vertex v = boost::target(*e, dag);
      out.layer[v] = std::max(out.layer[v], out.layer[*it] + 1);
    }
  }
  for (size_t i = 0; i < n; ++i) out.layers = std::max(out.layers, out.layer[i] + 1);

  // Rows: file order first, then barycentre sweeps (down, up, down) to shorten the arrows.
  std::vector<std::vector<size_t>> layers(out.layers);
  for (size_t i = 0; i < n; ++i) layers[out.layer[i]].push_back(i);
  auto number_rows = [&] {
    for (const auto& l : layers) {
      for (size_t k = 0; k < l.size(); ++k) out.row[l[k]] = static_cast<int>(k);
    }
  };
  number_rows();
  auto sweep = [&](bool down) {
    for (int step = 1; step < out.layers; ++step) {
      const int li = down ? step : out.layers - 1 - step;
      std::vector<std::pair<double, size_t>> keyed;
      for (size_t v : layers[li]) {
        double sum = 0;
        int count = 0;
        for (size_t i = 0; i < graph.edges.size(); ++i) {
          const auto& e = graph.edges[i];
          if (out.back[i]) continue;
          const size_t other = down ? e.from : e.to;
          if ((down ? e.to : e.from) == v && out.layer[other] != li) {
            sum += out.row[other];
            ++count;
          }
        }
        keyed.emplace_back(count ? sum / count : out.row[v], v);
      }
      std::stable_sort(keyed.begin(), keyed.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t k = 0; k < keyed.size(); ++k) layers[li][k] = keyed[k].second;
      number_rows();
    }
  };
  sweep(true);
  sweep(false);
  sweep(true);
  for (const auto& l : layers) out.rows = std::max(out.rows, static_cast<int>(l.size()));
  return out;
}

namespace {

// Fill and border per kind; the kind is also written in the box, so colour is not the only cue.
struct KindStyle {
  const char* kind;
  const char* fill;
  const char* stroke;
};
constexpr KindStyle kKindStyles[] = {
    {"source", "#e3f1fb", "#0072b2"},        {"sink", "#eeeeee", "#666666"},
    {"service", "#e6f4ee", "#009e73"},       {"queue", "#fdf1dc", "#b07800"},
    {"database", "#f6e7f0", "#a34d82"},      {"kv_store", "#f6e7f0", "#a34d82"},
    {"cache", "#eaf5fc", "#3d8fc2"},         {"gateway", "#fbe9df", "#d55e00"},
    {"load_balancer", "#fbe9df", "#d55e00"}, {"rate_limiter", "#fbe9df", "#d55e00"},
    {"external", "#f1ece6", "#8c564b"},      {"idempotency", "#eeeeee", "#666666"},
};

const KindStyle& style_of(const std::string& kind) {
  for (const KindStyle& s : kKindStyles) {
    if (kind == s.kind) return s;
  }
  static const KindStyle other{"", "#f4f4f4", "#666666"};
  return other;
}

std::string shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  return s.substr(0, max - 1) + "\xE2\x80\xA6";  // an ellipsis
}

struct Point {
  double x, y;
};

}  // namespace

std::string render_topology_svg(const TopologyGraph& graph, const std::string& raw_id) {
  TopologyLayout layout = layout_topology(graph);
  layout.layers = std::max(layout.layers, 1);  // (an empty graph: an empty, well-formed picture)
  layout.rows = std::max(layout.rows, 1);
  const std::string id = xml_escape(raw_id);
  // Layers run left to right while they fit the page's width, else top to bottom.
  const bool across = layout.layers <= 5;
  constexpr double kBoxW = 148, kBoxH = 44, kMargin = 30;
  const double layer_step = across ? kBoxW + 72 : kBoxH + 62;
  const double row_step = across ? kBoxH + 34 : kBoxW + 30;
  // Room for the detours of back edges and same-layer edges, when there are any.
  bool detours = false;
  for (size_t i = 0; i < graph.edges.size(); ++i) {
    const auto& e = graph.edges[i];
    if (e.from < graph.nodes.size() && e.to < graph.nodes.size() &&
        (layout.back[i] || layout.layer[e.to] <= layout.layer[e.from]))
      detours = true;
  }
  const double extra = detours ? 44 : 0;
  const double main_len = (layout.layers - 1) * layer_step + (across ? kBoxW : kBoxH);
  const double cross_len = (layout.rows - 1) * row_step + (across ? kBoxH : kBoxW);
  const double width = 2 * kMargin + (across ? main_len : cross_len + extra);
  const double height = 2 * kMargin + (across ? cross_len + extra : main_len);

  // Centre of each box; narrower layers are centred across.
  std::vector<int> layer_size(layout.layers, 0);
  for (int l : layout.layer) ++layer_size[l];
  std::vector<Point> centre(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const double along = kMargin + layout.layer[i] * layer_step + (across ? kBoxW : kBoxH) / 2;
    const double offset = (layout.rows - layer_size[layout.layer[i]]) * row_step / 2;
    const double cross = kMargin + offset + layout.row[i] * row_step + (across ? kBoxH : kBoxW) / 2;
    centre[i] = across ? Point{along, cross} : Point{cross, along};
  }
  const double half_along = (across ? kBoxW : kBoxH) / 2;

  std::string o;
  o += "<svg class=\"topology\" data-chart=\"" + id + "\" viewBox=\"0 0 " + svg_number(width) +
       " " + svg_number(height) + "\" style=\"max-width:" + svg_number(width) +
       "px\" role=\"img\" aria-labelledby=\"" + id + "-title\">\n";
  o += "<title id=\"" + id + "-title\">Topology: " + std::to_string(graph.nodes.size()) +
       " components, " + std::to_string(graph.edges.size()) + " references</title>\n";
  o += "<defs><marker id=\"" + id +
       "-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
       "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" "
       "fill=\"#555555\"/></marker></defs>\n";

  // Arrows first, so the boxes cover their ends.
  std::string labels;
  o += "<g class=\"edges\">\n";
  for (size_t i = 0; i < graph.edges.size(); ++i) {
    const auto& e = graph.edges[i];
    if (e.from >= graph.nodes.size() || e.to >= graph.nodes.size()) continue;
    const Point a = centre[e.from], b = centre[e.to];
    Point p0, p1, p2, p3;
    auto along = [&](Point p, double d) {
      return across ? Point{p.x + d, p.y} : Point{p.x, p.y + d};
    };
    auto cross = [&](Point p, double d) {
      return across ? Point{p.x, p.y + d} : Point{p.x + d, p.y};
    };
    if (!layout.back[i] && layout.layer[e.to] > layout.layer[e.from]) {
      p0 = along(a, half_along);
      p3 = along(b, -half_along);
      const double span = ((across ? p3.x - p0.x : p3.y - p0.y)) / 2;
      p1 = along(p0, span);
      p2 = along(p3, -span);
    } else {
      // A detour below (or right of) the boxes: back edges, same-layer edges, self-references.
      const double half_cross = (across ? kBoxH : kBoxW) / 2;
      const double bulge = half_cross + 26 + 6 * static_cast<double>(i % 3);
      p0 = cross(along(a, e.from == e.to ? half_along * 0.4 : 0), half_cross);
      p3 = cross(along(b, e.from == e.to ? -half_along * 0.4 : 0), half_cross);
      p1 = cross(along(a, e.from == e.to ? half_along : 0), bulge);
      p2 = cross(along(b, e.from == e.to ? -half_along : 0), bulge);
    }
    o += "<path class=\"edge" + std::string(layout.back[i] ? " back" : "") + "\" d=\"M" +
         svg_number(p0.x) + "," + svg_number(p0.y) + "C" + svg_number(p1.x) + "," +
         svg_number(p1.y) + " " + svg_number(p2.x) + "," + svg_number(p2.y) + " " +
         svg_number(p3.x) + "," + svg_number(p3.y) + "\" marker-end=\"url(#" + id + "-arrow)\"/>\n";
    if (!e.label.empty()) {
      // The curve's midpoint (t = 1/2 of the cubic).
      const double mx = (p0.x + 3 * p1.x + 3 * p2.x + p3.x) / 8;
      const double my = (p0.y + 3 * p1.y + 3 * p2.y + p3.y) / 8;
      labels += "<text class=\"edge-label\" x=\"" + svg_number(mx) + "\" y=\"" + svg_number(my) +
                "\" dy=\"0.32em\" text-anchor=\"middle\">" + xml_escape(e.label) + "</text>\n";
    }
  }
  o += "</g>\n";

  o += "<g class=\"nodes\">\n";
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const auto& node = graph.nodes[i];
    const KindStyle& s = style_of(node.kind);
    const Point c = centre[i];
    o += "<g class=\"node\" data-kind=\"" + xml_escape(node.kind) + "\"><title>" +
         xml_escape(node.name + " (" + node.kind + ")") + "</title><rect x=\"" +
         svg_number(c.x - kBoxW / 2) + "\" y=\"" + svg_number(c.y - kBoxH / 2) + "\" width=\"" +
         svg_number(kBoxW) + "\" height=\"" + svg_number(kBoxH) + "\" rx=\"6\" fill=\"" + s.fill +
         "\" stroke=\"" + s.stroke + "\"/><text class=\"node-name\" x=\"" + svg_number(c.x) +
         "\" y=\"" + svg_number(c.y - 5) + "\" text-anchor=\"middle\">" +
         xml_escape(shorten(node.name, 19)) + "</text><text class=\"node-kind\" x=\"" +
         svg_number(c.x) + "\" y=\"" + svg_number(c.y + 12) + "\" text-anchor=\"middle\" fill=\"" +
         s.stroke + "\">" + xml_escape(node.kind) + "</text></g>\n";
  }
  o += "</g>\n<g class=\"edge-labels\">\n" + labels + "</g>\n</svg>\n";
  return o;
}

}  // namespace dsim
