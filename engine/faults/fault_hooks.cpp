#include "faults/fault_hooks.hpp"

#include "core/simulation.hpp"

namespace dsim {

bool refused_by_fault(Simulation& sim, Component& c, CallHandle h) {
  FaultState& f = c.faults();
  Reason reason = Reason::none;
  if (f.crashed) {
    reason = Reason::unavailable;
  } else if (f.draw_error()) {
    reason = Reason::error;
  } else {
    return false;
  }
  c.metrics().on_arrival(sim.now());
  c.metrics().on_lost(sim.now(), outcome_of(reason), reason);
  sim.reply(h, Reply::failure(reason));
  return true;
}

}  // namespace dsim
