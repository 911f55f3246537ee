#include "core/station_metrics.hpp"

#include <numeric>

namespace dsim {

uint64_t OutcomeCounters::total_failed() const {
  return std::accumulate(failed.begin(), failed.end(), uint64_t{0});
}
uint64_t OutcomeCounters::total_dropped() const {
  return std::accumulate(dropped.begin(), dropped.end(), uint64_t{0});
}

void StationMetrics::reset(Time now) {
  since_ = now;
  arrivals_ = 0;
  served_ = 0;
  dropped_.fill(0);
  failed_.fill(0);
  latency_.reset();
  wait_.reset();
  waited_ = 0;
  queue_.reset(now);
  busy_.reset(now);
  capacity_.reset(now);
  in_system_.reset(now);
}

void StationMetrics::reset_window(Time now) {
  window_arrivals_ = 0;
  window_served_ = 0;
  window_lost_ = 0;
  window_latency_.reset();
  queue_.reset_window(now);
  busy_.reset_window(now);
  capacity_.reset_window(now);
  in_system_.reset_window(now);
}

}  // namespace dsim
