#include "components/sink.hpp"

#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

void Sink::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  metrics().on_pass_through();
  sim.reply(h, Reply::success());
}

}  // namespace dsim
