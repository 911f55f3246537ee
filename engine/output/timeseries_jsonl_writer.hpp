// Writes the time series as JSON Lines: one object per window, per component, per metric family
// ("traffic", "latency", "queue", "losses", and "counters"/"gauges" where the component has
// them). The shape is documented in docs/outputs.md; every line stands alone, so the file can be
// streamed, grepped by family, or loaded with pandas.read_json(lines=True).
#pragma once

#include <ostream>

#include "core/observer.hpp"

namespace dsim {

class TimeseriesJsonlWriter final : public Observer {
 public:
  explicit TimeseriesJsonlWriter(std::ostream& out) : out_(out) {}
  void on_window(const Simulation& sim, const WindowReport& report) override;

 private:
  std::ostream& out_;
};

}  // namespace dsim
