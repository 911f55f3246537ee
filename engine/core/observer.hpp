// The read-only door into a running simulation.
//
// Metrics writers, progress lines and the live viewer attach Observers; they receive const views
// and cannot change the model (changes go through Simulation's control API instead).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "core/call.hpp"
#include "core/request.hpp"
#include "core/station_metrics.hpp"
#include "core/time.hpp"

namespace dsim {

class Simulation;
enum class Lifecycle : uint8_t;

// One component's figures for one window of simulated time.
struct WindowRow {
  uint32_t component = 0;
  uint64_t arrivals = 0;
  uint64_t served = 0;
  uint64_t lost = 0;  // dropped or failed here
  double latency_mean_ns = 0;
  uint64_t latency_count = 0;  // observations in the latency figures (0: they are meaningless)
  int64_t latency_p50_ns = 0, latency_p90_ns = 0, latency_p99_ns = 0, latency_max_ns = 0;
  int64_t queue_depth = 0;      // at the window's end
  int64_t queue_depth_max = 0;  // within the window
  int64_t in_system = 0;        // at the window's end
  double utilization = 0;       // busy workers / available workers, averaged over the window
  std::array<uint64_t, kReasonCount> lost_by_reason{};  // dropped or failed here, by reason
  std::array<uint64_t, kCounterCount> counters{};       // kind-specific events in the window
  std::array<int64_t, kGaugeCount> gauges{};            // levels at the window's end
};

// Cache hits / (hits + misses) within the window; -1 when the component looked nothing up.
inline double window_hit_ratio(const WindowRow& r) {
  const uint64_t hits = r.counters[static_cast<int>(Counter::cache_hits)];
  const uint64_t lookups = hits + r.counters[static_cast<int>(Counter::cache_misses)];
  return lookups == 0 ? -1.0 : static_cast<double>(hits) / static_cast<double>(lookups);
}

struct WindowReport {
  Time start;
  Time end;
  std::vector<WindowRow> rows;  // one per component, in component order
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_window(const Simulation&, const WindowReport&) {}
  // Only delivered to observers that ask for it (it is on the hot path).
  virtual bool wants_requests() const { return false; }
  virtual void on_request_finished(const Simulation&, const Request&, Outcome, Reason,
                                   uint32_t /*component*/) {}
  virtual void on_lifecycle(const Simulation&, Lifecycle /*from*/, Lifecycle /*to*/) {}
  // Every hop of every call, for tracers. Only delivered to observers that ask for it: these sit
  // on the engine's hottest paths (deliver and reply). A forwarded call is delivered again, to its
  // new callee, with the same handle and serial. on_call_replied comes before the caller sees the
  // reply; `call.caller` is kNoComponent when the caller had abandoned it (a timeout).
  virtual bool wants_calls() const { return false; }
  virtual void on_call_delivered(const Simulation&, CallHandle, const Call&) {}
  virtual void on_call_replied(const Simulation&, CallHandle, const Call&, const Reply&) {}
};

}  // namespace dsim
