// A call: one attempt by one component (the caller) to have another (the callee) do something for
// a request, answered by exactly one Reply.
//
// Requests are what the ledger counts; calls are how they move. A source calls the first
// component; a service's handler calls databases, caches and other services while its worker
// waits; a load balancer passes each call on to a backend and relays the answer. A caller that
// stops waiting (timeout) abandons its call: the callee still finishes the work - as a real server
// would - but its answer reaches nobody. Calls live in a slab like requests; a slot's serial
// changes on every reuse so that timers can tell whether the call they were set for still exists.
#pragma once

#include <cstdint>
#include <vector>

#include "core/request.hpp"
#include "core/slot_stack.hpp"
#include "core/time.hpp"

namespace dsim {

using CallHandle = uint32_t;

struct Call {
  RequestHandle request = 0;
  uint32_t caller = kNoComponent;  // who waits for the answer; kNoComponent: nobody (abandoned)
  uint32_t callee = kNoComponent;  // who holds it now
  uint32_t serial = 0;             // changes whenever the slot is reused
  uint64_t token = 0;              // the caller's own cookie, handed back with the answer
  Time received;                   // when the callee got it (per-hop latency starts here)
  Time deadline = Time::max();     // the caller's give-up instant if propagated, else max()
  uint16_t op = 0;                 // operation at the callee (query class, cache get or set...)
  uint16_t attempt = 1;            // 1 for the first try, 2 for the first retry...
  // The network lost its request or its response: nobody will answer it, so it is released
  // when its caller abandons it (see Simulation::abandon).
  bool lost = false;
  // The network is carrying its request (not yet arrived at the callee) or its answer (the
  // callee has replied): a delay of core/network.hpp. Either way the callee does not hold it, so
  // a crash of the callee must leave it alone: the request arrives later like any new call, the
  // answer reaches the caller as sent (simulation_network.cpp).
  bool in_transit = false;
};

class CallPool {
 public:
  CallHandle acquire() {
    CallHandle h = free_.take(slots_);
    const uint32_t serial = slots_[h].serial + 1;
    slots_[h] = Call{};
    slots_[h].serial = serial;
    ++live_;
    return h;
  }
  void release(CallHandle h) {
    ++slots_[h].serial;  // a stale timer for this slot will no longer match
    --live_;
    free_.push_back(h);
  }
  Call& operator[](CallHandle h) { return slots_[h]; }
  const Call& operator[](CallHandle h) const { return slots_[h]; }
  // True while the call that had `serial` when it was made is still unanswered.
  bool is_current(CallHandle h, uint32_t serial) const {
    return h < slots_.size() && slots_[h].serial == serial;
  }
  // Whether slot h holds a call now (acquire and release each step the serial, so a live slot's
  // serial is odd). O(1).
  bool is_live(CallHandle h) const { return h < slots_.size() && (slots_[h].serial & 1) != 0; }
  // Whether component `c` holds call h: it has arrived there and is not yet answered (nor left
  // hanging by a crash in mode hang, which marks it lost). A kind that does not keep its own list
  // of the calls it holds finds them with this at a crash, scanning the slots in handle order.
  bool held_by(CallHandle h, uint32_t c) const {
    if (!is_live(h)) return false;
    const Call& call = slots_[h];
    return call.callee == c && !call.lost && !call.in_transit;
  }
  uint64_t live() const { return live_; }
  size_t capacity() const { return slots_.size(); }

 private:
  std::vector<Call> slots_;
  SlotStack free_;
  uint64_t live_ = 0;
};

// Packs a handle and its serial into an event payload (and back), for timers that must ignore
// calls answered in the meantime.
inline uint64_t pack_handle(uint32_t handle, uint32_t serial) {
  return (static_cast<uint64_t>(serial) << 32) | handle;
}
inline uint32_t payload_handle(uint64_t payload) {
  return static_cast<uint32_t>(payload);
}
inline uint32_t payload_serial(uint64_t payload) {
  return static_cast<uint32_t>(payload >> 32);
}

}  // namespace dsim
