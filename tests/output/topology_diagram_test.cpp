// The topology diagram: layers by longest path from the sources, cycles and self-references lay
// out (closing edges marked as back edges), and the layout and its SVG are deterministic.
#include "output/topology_diagram.hpp"

#include <gtest/gtest.h>

namespace dsim {
namespace {

TopologyGraph graph(std::vector<std::pair<std::string, std::string>> nodes,
                    std::vector<std::pair<uint32_t, uint32_t>> edges) {
  TopologyGraph g;
  for (auto& [name, kind] : nodes) g.nodes.push_back({name, kind});
  for (auto [from, to] : edges) g.edges.push_back({from, to, "next"});
  return g;
}

TEST(TopologyLayout, LayersAreTheLongestPathFromASource) {
  // source -> a -> b -> sink, and a shortcut source -> b: b stays behind a.
  const TopologyGraph g =
      graph({{"source", "source"}, {"a", "service"}, {"b", "service"}, {"sink", "sink"}},
            {{0, 1}, {1, 2}, {2, 3}, {0, 2}});
  const TopologyLayout l = layout_topology(g);
  EXPECT_EQ(l.layer, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(l.layers, 4);
  EXPECT_EQ(l.rows, 1);
  EXPECT_EQ(l.back, (std::vector<bool>{false, false, false, false}));
}

TEST(TopologyLayout, CyclesAndSelfReferencesLayOutWithTheirClosingEdgesMarked) {
  // Jackson-like: in -> a -> b -> a (feedback), b -> c -> c (self), c -> out.
  const TopologyGraph g = graph(
      {{"in", "source"}, {"a", "service"}, {"b", "service"}, {"c", "service"}, {"out", "sink"}},
      {{0, 1}, {1, 2}, {2, 1}, {2, 3}, {3, 3}, {3, 4}});
  const TopologyLayout l = layout_topology(g);
  EXPECT_EQ(l.layer, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(l.back, (std::vector<bool>{false, false, true, false, true, false}));
  const std::string svg = render_topology_svg(g, "t");
  EXPECT_NE(svg.find("class=\"edge back\""), std::string::npos);
}

TEST(TopologyLayout, ComponentsNotReachedFromASourceAndParallelBranchesGetRows) {
  // A source feeding three replicas; a lone component with no source at all.
  const TopologyGraph g = graph({{"users", "source"},
                                 {"api-1", "service"},
                                 {"api-2", "service"},
                                 {"api-3", "service"},
                                 {"orphan", "queue"}},
                                {{0, 1}, {0, 2}, {0, 3}});
  const TopologyLayout l = layout_topology(g);
  EXPECT_EQ(l.layer, (std::vector<int>{0, 1, 1, 1, 0}));
  EXPECT_EQ(l.rows, 3);
  EXPECT_EQ(l.row[1], 0);
  EXPECT_EQ(l.row[2], 1);
  EXPECT_EQ(l.row[3], 2);
}

TEST(TopologyDiagram, IsDeterministicAndEscapesNames) {
  const TopologyGraph g = graph({{"src", "source"}, {"a<&>\"b", "service"}}, {{0, 1}, {1, 1}});
  const std::string a = render_topology_svg(g, "t"), b = render_topology_svg(g, "t");
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("a&lt;&amp;&gt;&quot;b"), std::string::npos);
  EXPECT_EQ(a.find("a<&"), std::string::npos);
  EXPECT_NE(a.find("<g class=\"node\" data-kind=\"source\">"), std::string::npos);
  EXPECT_NE(a.find("marker-end=\"url(#t-arrow)\""), std::string::npos);
}

TEST(TopologyDiagram, AnEmptyGraphIsAnEmptyPicture) {
  const std::string svg = render_topology_svg(TopologyGraph{}, "t");
  EXPECT_NE(svg.find("<svg class=\"topology\""), std::string::npos);
}

}  // namespace
}  // namespace dsim
