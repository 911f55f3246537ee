#include "components/sink.hpp"

#include "core/simulation.hpp"

namespace dsim {

void Sink::accept(Simulation& sim, CallHandle h) {
  metrics().on_pass_through();
  sim.reply(h, Reply::success());
}

}  // namespace dsim
