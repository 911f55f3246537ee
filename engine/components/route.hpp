// Where a request goes after a component has served it.
//
//   end    - nowhere: the request completes here
//   single - always to one target
//   split  - to one of several targets at random, by weight (probabilistic routing, as in a
//            Jackson network)
//   cycle  - to the targets in a fixed rotating sequence: a, b, c, a, b, c, ...
#pragma once

#include <cstdint>
#include <vector>

#include "core/params.hpp"
#include "core/random.hpp"

namespace dsim {

struct RouteSpec {
  enum class Mode { end, single, split, cycle };
  Mode mode = Mode::end;
  std::vector<TargetRef> targets;
  std::vector<double> weights;  // split only; positive, normalised when the router is built
  Location where;
};

class Router {
 public:
  explicit Router(const RouteSpec& spec);
  // The next component's index, or kNoComponent when the request's route ends here.
  uint32_t next(Rng& rng) {
    switch (mode_) {
      case RouteSpec::Mode::end:
        return UINT32_MAX;
      case RouteSpec::Mode::single:
        return targets_[0];
      case RouteSpec::Mode::split: {
        const double u = rng.uniform01();
        for (size_t i = 0; i + 1 < targets_.size(); ++i) {
          if (u < cumulative_[i]) return targets_[i];
        }
        return targets_.back();
      }
      case RouteSpec::Mode::cycle: {
        const uint32_t t = targets_[position_];
        position_ = (position_ + 1) % targets_.size();
        return t;
      }
    }
    return UINT32_MAX;
  }

 private:
  RouteSpec::Mode mode_;
  std::vector<uint32_t> targets_;
  std::vector<double> cumulative_;
  size_t position_ = 0;
};

}  // namespace dsim
