// The part of Simulation that carries calls across the network model (core/network.hpp) while a
// network condition is active: delayed, duplicated, lost and refused messages.
//
// Lifetimes. A call is released exactly once, when its answer reaches its caller (or nobody):
// - a delayed request or response is an event carrying the call's handle and serial; the call
//   stays live meanwhile, marked `in_transit` so that no crash takes it for a call its callee
//   holds (an abandoned call in transit still arrives, and is answered to nobody);
// - a lost message leaves a call that nobody will answer: it is marked `lost` and released when
//   its caller abandons it (at its timeout) - at once if the caller had already abandoned it. A
//   caller without a timeout waits for ever, and its request stays in flight: that is the lesson;
// - a duplicate is a second call with no caller, holding its own reference to the request.
#include <stdexcept>

#include "core/simulation.hpp"

namespace dsim {

namespace {
void count(Component& c, Counter counter) {
  c.metrics().count(counter);
}
}  // namespace

bool Simulation::hold_request(CallHandle h, uint32_t from) {
  const uint32_t callee = calls_[h].callee;
  const NetworkVerdict v = network_.judge(Leg::request, from, callee);
  NetworkTally& tally = network_.tally();
  switch (v.fate) {
    case NetworkVerdict::Fate::deliver:
      if (v.duplicate) {
        ++tally.duplicated;
        count(*components_[from], Counter::network_duplicated);
      }
      if (v.delay > Time::zero()) {
        ++tally.delayed;
        calls_[h].in_transit = true;
        queue_.push(now_ + v.delay, kSystem, v.duplicate ? kRequestArrivesTwice : kRequestArrives,
                    pack_handle(h, calls_[h].serial));
        return true;
      }
      if (!v.duplicate) return false;
      arrive_twice(h);
      return true;
    case NetworkVerdict::Fate::lose: {
      ++tally.requests_lost;
      count(*components_[from], Counter::network_lost);
      Call& c = calls_[h];
      c.received = now_;  // (an attempt's start, for the caller's circuit breaker)
      c.lost = true;
      if (c.caller == kNoComponent) answer(h, Reply{});  // nobody waits: release it now
      return true;
    }
    case NetworkVerdict::Fate::refuse: {
      ++tally.refused;
      count(*components_[from], Counter::network_refused);
      calls_[h].received = now_;
      Reply r = Reply::failure(Reason::connection_refused);
      r.origin = callee;  // the component that could not be reached
      answer(h, r);
      return true;
    }
  }
  return false;
}

bool Simulation::send_response(CallHandle h, Reply& r) {
  Call& c = calls_[h];
  if (c.caller == kNoComponent) return false;  // heard by nobody: nothing to carry
  const NetworkVerdict v = network_.judge(Leg::response, c.caller, c.callee);
  NetworkTally& tally = network_.tally();
  switch (v.fate) {
    case NetworkVerdict::Fate::deliver:
      if (v.delay == Time::zero()) return false;
      ++tally.delayed;
      if (replies_in_transit_.size() <= h) replies_in_transit_.resize(calls_.capacity());
      replies_in_transit_[h] = r;
      c.in_transit = true;  // (until the answer arrives, which releases the call)
      queue_.push(now_ + v.delay, kSystem, kResponseArrives, pack_handle(h, c.serial));
      return true;
    case NetworkVerdict::Fate::lose:
      // The callee did the work; its answer is gone. The caller times out (and abandons it).
      ++tally.responses_lost;
      count(*components_[c.callee], Counter::network_lost);
      c.lost = true;
      return true;
    case NetworkVerdict::Fate::refuse: {
      // The connection is reset under the answer: the caller fails at once, though the work
      // was done.
      ++tally.refused;
      count(*components_[c.callee], Counter::network_refused);
      const uint32_t origin = r.origin;
      r = Reply::failure(Reason::connection_refused);
      r.origin = origin;
      return false;
    }
  }
  return false;
}

// The callee receives the call and then a copy of it; the copy's answer reaches nobody.
void Simulation::arrive_twice(CallHandle h) {
  Call copy = calls_[h];
  const CallHandle d = calls_.acquire();  // (may move the slab: no references across it)
  copy.serial = calls_[d].serial;
  copy.caller = kNoComponent;
  copy.token = 0;
  copy.lost = false;
  calls_[d] = copy;
  requests_.retain(copy.request);
  arrive(h);
  arrive(d);
}

// Deferred by one event: the caller that abandons a call may still read it (its start time)
// before it returns.
void Simulation::release_lost_call(CallHandle h) {
  queue_.push(now_, kSystem, kReleaseLostCall, pack_handle(h, calls_[h].serial));
}

void Simulation::handle_network(const Event& e) {
  const CallHandle h = payload_handle(e.payload);
  if (!calls_.is_current(h, payload_serial(e.payload))) {
    // Calls in transit and lost calls are released only here or by their answer.
    throw std::logic_error("a network event for a call released meanwhile (an engine bug)");
  }
  switch (e.kind) {
    case kRequestArrives:
      calls_[h].in_transit = false;
      arrive(h);
      break;
    case kRequestArrivesTwice:
      calls_[h].in_transit = false;
      arrive_twice(h);
      break;
    case kResponseArrives: {
      const Reply r = replies_in_transit_[h];
      answer(h, r);
      break;
    }
    case kReleaseLostCall:
      answer(h, Reply{});  // its caller has abandoned it: this releases it and tells nobody
      break;
    default:
      throw std::logic_error("unknown network event (an engine bug)");
  }
}

}  // namespace dsim
