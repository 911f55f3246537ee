#include "components/sink.hpp"

#include "core/simulation.hpp"

namespace dsim {

void Sink::accept(Simulation& sim, RequestHandle h) {
  metrics().on_pass_through();
  sim.finish(h, Outcome::completed, Reason::none, *this);
}

}  // namespace dsim
