// What every component kind does with its FaultState at its door, so that kinds share one
// meaning of "crashed" and "error_rate". A kind calls it first thing in accept(), behind the
// hot-path branch:
//
//   if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]] return;
//
// A crash's `mode` says what callers see: reset (the default), the process died and its host
// resets the connections, so calls fail at once with `unavailable`; hang, the machine vanished,
// so nothing answers and callers wait until their own timeout.
#pragma once

#include "core/call.hpp"

namespace dsim {

class Simulation;
class Component;

// While the component is crashed the call is refused at once with `unavailable`; under
// error_rate a drawn fraction of calls is answered with `error`. Either counts as an arrival and
// a loss at the component. Returns true if the call was answered here.
// In crash mode hang the call is not even counted here: the machine is gone, and the caller
// waits until its own timeout.
bool refused_by_fault(Simulation& sim, Component& c, CallHandle h);

// For a kind ending the calls it held when it crashed. In crash mode hang the call is counted
// lost here (`unavailable`) and left unanswered - its caller times out, and the call is released
// when the caller gives up - and the answer is true. In mode reset the answer is false and the
// kind answers the call `unavailable` its own way.
bool left_hanging_by_crash(Simulation& sim, Component& c, CallHandle h);

}  // namespace dsim
