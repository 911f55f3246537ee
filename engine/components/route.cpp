#include "components/route.hpp"

#include <cassert>

namespace dsim {

Router::Router(const RouteSpec& spec) : mode_(spec.mode) {
  for (const TargetRef& t : spec.targets) {
    assert(t.index != UINT32_MAX && "route targets are resolved by the topology check");
    targets_.push_back(t.index);
  }
  if (mode_ != RouteSpec::Mode::end && targets_.empty()) mode_ = RouteSpec::Mode::end;
  if (mode_ == RouteSpec::Mode::split) {
    double total = 0;
    for (double w : spec.weights) total += w;
    double running = 0;
    for (double w : spec.weights) {
      running += w;
      cumulative_.push_back(running / total);
    }
  }
}

}  // namespace dsim
