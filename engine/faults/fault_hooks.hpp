// What every component kind does with its FaultState at its door, so that kinds share one
// meaning of "crashed" and "error_rate". A kind calls it first thing in accept(), behind the
// hot-path branch:
//
//   if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]] return;
#pragma once

#include "core/call.hpp"

namespace dsim {

class Simulation;
class Component;

// While the component is crashed the call is refused at once with `unavailable`; under
// error_rate a drawn fraction of calls is answered with `error`. Either counts as an arrival and
// a loss at the component. Returns true if the call was answered here.
bool refused_by_fault(Simulation& sim, Component& c, CallHandle h);

}  // namespace dsim
