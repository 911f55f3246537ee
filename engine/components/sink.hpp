// sink: answers every call at once with success. It counts what reaches it; end-to-end latency is
// reported per workload by the simulation. Calls pass through it in zero time (L = W = 0).
#pragma once

#include "core/component.hpp"
#include "core/params.hpp"

namespace dsim {

struct SinkParams : ParamsOf<SinkParams> {
  void describe(ParamVisitor&) override {}
};

class Sink final : public Component {
 public:
  Sink(const std::string& name, std::unique_ptr<ComponentParams> params)
      : Component(name, "sink", std::move(params)) {}
  void accept(Simulation& sim, CallHandle h) override;
};

}  // namespace dsim
