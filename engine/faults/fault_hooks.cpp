#include "faults/fault_hooks.hpp"

#include "core/simulation.hpp"

namespace dsim {

bool refused_by_fault(Simulation& sim, Component& c, CallHandle h) {
  FaultState& f = c.faults();
  Reason reason = Reason::none;
  if (f.crashed) {
    if (f.crash_hangs) {
      sim.lose_call(h);
      return true;
    }
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

bool left_hanging_by_crash(Simulation& sim, Component& c, CallHandle h) {
  if (!c.faults().crash_hangs) return false;
  c.metrics().on_lost(sim.now(), outcome_of(Reason::unavailable), Reason::unavailable);
  sim.lose_call(h);
  return true;
}

}  // namespace dsim
