// The scenario's component graph as a diagram for the HTML report: components as labelled boxes
// (coloured and named by kind), references between them (target, next, call, publish...) as
// labelled arrows.
//
// The layout is layered and deterministic: a depth-first search from the sources (then from any
// component not yet seen, in file order) marks the edges that close cycles; without them the
// graph is acyclic and each component's layer is the longest path to it from a source
// (Boost.Graph's topological sort). Within a layer, components are ordered by a few barycentre
// sweeps, ties broken by file order. Cycles, self-references and disconnected parts all lay out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dsim {

struct TopologyGraph {
  struct Node {
    std::string name;
    std::string kind;
  };
  struct Edge {
    uint32_t from = 0, to = 0;
    std::string label;  // the parameter key(s) holding the reference, e.g. "call" or "next"
  };
  std::vector<Node> nodes;  // in file order
  std::vector<Edge> edges;
};

struct TopologyLayout {
  std::vector<int> layer;  // per node: 0 for sources and other roots
  std::vector<int> row;    // per node: its position within its layer, from 0
  std::vector<bool> back;  // per edge: it closes a cycle (drawn as a detour)
  int layers = 0;
  int rows = 0;  // the widest layer's size
};

TopologyLayout layout_topology(const TopologyGraph& graph);

// An <svg> element; `id` prefixes its internal ids (unique within the page).
std::string render_topology_svg(const TopologyGraph& graph, const std::string& id);

}  // namespace dsim
