#include "components/sink.hpp"

#include "core/simulation.hpp"

namespace dsim {

void Sink::accept(Simulation& sim, RequestHandle h) {
  metrics().on_arrival(sim.now());
  metrics().on_served(sim.now(), Time::zero());
  sim.finish(h, Outcome::completed, Reason::none, *this);
}

}  // namespace dsim
