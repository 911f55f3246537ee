// What the active faults do to one component, as the component sees it.
//
// The fault controller (faults/fault_controller.hpp) owns the timeline and the live API; each
// time a fault on a component starts, changes intensity or ends, it rebuilds this small record
// from every fault still acting on the component and tells the component (on_faults_changed).
// Components read it where they accept calls and draw service times, behind one predictable
// branch: `if (faults().active) [[unlikely]] ...`, so a run without faults pays one load and one
// branch per call.
#pragma once

#include <cstdint>
#include <vector>

#include "core/local_clock.hpp"
#include "core/random.hpp"
#include "core/time.hpp"

namespace dsim {

// A `slow` fault on one call route only: calls from `caller` take longer at this component.
struct RouteSlowdown {
  uint32_t caller = 0;
  double factor = 1;
  Time added;
  bool operator==(const RouteSlowdown&) const = default;
};

struct FaultEffects {
  bool active = false;                 // any effect below differs from normal: the hot-path branch
  bool crashed = false;                // down: new calls are refused with `unavailable`
  bool crash_hangs = false;            // and, crash mode hang: nothing answers (callers time out)
  bool disk_full = false;              // writes fail with `disk_full`, reads continue
  int64_t disk_fill_per_second = 0;    // gradual fill: bytes/s taken by something else
  Time disk_fill_since = Time::max();  // when the gradual fill began
  double error_fraction = 0;           // this fraction of calls is answered with `error`
  double time_factor = 1;              // service times are multiplied by this (slow x cpu_stress)
  Time added_latency;                  // and this is added to each
  std::vector<RouteSlowdown> routes;
  double clock_rate = 1;  // the component's timers run this much faster than real time
  Time clock_offset;      // and its clock reads this much ahead (negative: behind)
  bool operator==(const FaultEffects&) const = default;
};

class FaultState : public FaultEffects {
 public:
  // A service time as the faults stretch it, for a call from `caller`.
  Time stretch(Time t, uint32_t caller) const {
    double f = time_factor;
    Time add = added_latency;
    for (const RouteSlowdown& r : routes) {
      if (r.caller == caller) {
        f *= r.factor;
        add = add + r.added;
      }
    }
    if (f == 1.0) return t + add;
    return Time::from_seconds(t.seconds() * f) + add;
  }
  // Bytes of disk taken by a gradual `disk_full` at `now`.
  int64_t disk_taken(Time now) const {
    if (disk_fill_per_second <= 0 || now <= disk_fill_since) return 0;
    const double b = static_cast<double>(disk_fill_per_second) * (now - disk_fill_since).seconds();
    return b >= 9e18 ? INT64_MAX : static_cast<int64_t>(b);
  }
  // A local timer of `local` length lasts this long in real time (clock_skew's rate).
  Time timer(Time local) const {
    if (clock_rate == 1.0 || local == Time::max()) return local;
    return Time::from_seconds(local.seconds() / clock_rate);
  }
  // The component's own clock at true time `now` (clock_skew's offset and rate, with the drift
  // a rate has gathered): what its absolute timers - key expiry, rate-limit windows - read.
  Time local_time(Time now) const { return clock.read(now); }
  // Draws whether this call is answered with an error (error_rate): one draw per call while the
  // fault is on, from the component's own "faults" stream.
  bool draw_error() { return error_fraction > 0 && rng.uniform01() < error_fraction; }

  // Set once by the controller; kept across rebuilds so that draws continue the stream.
  Rng rng;
  // Retuned by the controller after every rebuild, and kept across rebuilds: a rate's drift
  // lasts while the rate does.
  LocalClock clock;
  // Rebuilds start from here.
  void reset_effects() { static_cast<FaultEffects&>(*this) = FaultEffects{}; }
};

}  // namespace dsim
