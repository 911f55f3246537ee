// Sampled requests as a Chrome trace (Trace Event Format, JSON), which ui.perfetto.dev and
// chrome://tracing open: one complete slice ("X") per hop - per call a component handled - on a
// track of the component's own, flow arrows ("s"/"f") from each call to the calls made while
// handling it (and from a hop to the next when a call is forwarded), and counter tracks ("C") for
// each component's queue depth and dead-letter depth at window ends.
//
// Sections: sampling, hop recording (the call hooks), counters, writing (lanes, events).
//
// Sampling is a pure function of (request id, seed): a hash, not a random stream of the model,
// so tracing never changes a run's results. Only sampled requests' hops are kept.
//
// Parent and child. A call made by component C for request R is a child of the hop of R that C
// is handling at that moment: the recorder keeps, per sampled request, the hops still open
// (delivered, not yet answered), and picks the most recent one at C. This needs nothing from the
// components and nothing in Call. It is exact except when C holds two calls of the same request
// at once - a retry that arrives while its timed-out predecessor is still being worked on - where
// later children are attributed to the newer call.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/observer.hpp"

namespace dsim {

class TraceRecorder final : public Observer {
 public:
  // fraction in [0, 1]: the share of requests traced.
  TraceRecorder(double fraction, uint64_t seed);

  bool sampled(uint64_t request_id) const;

  bool wants_calls() const override { return true; }
  void on_call_delivered(const Simulation& sim, CallHandle h, const Call& call) override;
  void on_call_replied(const Simulation& sim, CallHandle h, const Call& call,
                       const Reply& reply) override;
  void on_window(const Simulation& sim, const WindowReport& report) override;

  // The trace so far; hops still open end at sim.now() with outcome "open".
  std::string to_json(const Simulation& sim) const;
  size_t hop_count() const { return hops_.size(); }

 private:
  enum class HopEnd : uint8_t { open, replied, abandoned, forwarded };
  struct Hop {
    uint64_t request_id = 0;
    Time start, end;
    uint32_t component = 0;  // the callee: whose track the slice is on
    uint32_t caller = 0;
    uint32_t workload = 0;
    CallHandle call = 0;
    uint32_t serial = 0;
    int32_t parent = -1;    // the hop that made this call (-1: a source's call)
    int32_t previous = -1;  // the hop that forwarded this call here
    uint16_t attempt = 1;
    uint16_t op = 0;
    HopEnd how = HopEnd::open;
    Reason reason = Reason::none;
    bool degraded = false;
  };
  struct CounterPoint {
    Time at;
    uint32_t component;
    bool dlq;  // else the queue
    int64_t value;
  };

  int32_t open_hop(CallHandle h, uint32_t serial) const;
  void close_hop(int32_t index, Time at);

  uint64_t threshold_;  // sampled when hash < threshold_
  bool all_ = false;
  uint64_t salt_;
  std::vector<Hop> hops_;
  std::vector<int32_t> open_by_call_;  // by call handle: its open hop, or -1
  // Sampled requests' open hops, oldest first. Looked up only, never iterated into the output.
  std::unordered_map<uint64_t, std::vector<int32_t>> open_by_request_;
  std::vector<CounterPoint> counters_;
  std::vector<int64_t> last_queue_, last_dlq_;  // per component: the last value written
  std::vector<bool> started_;                   // per component and track: any point yet
};

}  // namespace dsim
