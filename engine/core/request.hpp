// A request, the reasons it can fail for, and the pool that stores the ones in flight.
//
// Requests live in one slab indexed by a 32-bit handle; finished slots go on a free list and are
// reused, so steady-state runs allocate nothing per request. Events and queues carry the handle,
// never a pointer (the slab may grow).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/free_list.hpp"
#include "core/time.hpp"

namespace dsim {

using RequestHandle = uint32_t;
inline constexpr uint32_t kNoComponent = UINT32_MAX;

enum class Outcome : uint8_t { completed, failed, dropped, dead_lettered };
inline constexpr int kOutcomeCount = 4;
const char* to_string(Outcome o);

// Why a request (or one call on its way) failed or was refused. New components add reasons here:
// an enum keeps counters as flat arrays on the hot path and makes every reason visible in one
// place. `outcome_of` says how a request that ends for this reason is counted.
enum class Reason : uint8_t {
  none,               // completed normally
  queue_full,         // a bounded queue or waiting room had no room
  deadline_exceeded,  // the caller had already given up (deadline propagation) when work began
  timeout,            // the caller stopped waiting: its timeout expired
  error,              // the callee answered with an error (e.g. a third party's error rate)
  rate_limited,       // a rate limiter or provider refused it (HTTP 429)
  quota_exceeded,     // a provider's quota for the current period is used up
  circuit_open,       // a circuit breaker refused the call without trying it
  bulkhead_full,      // the caller's limit on concurrent calls was reached
  pool_exhausted,     // no free connection and waiting is not allowed
  pool_timeout,       // no connection became free within the acquire timeout
  lock_timeout,       // a lock on a hot key was not granted in time
  unavailable,        // no healthy backend / the component is down
  disk_full,          // a write found no room on disk
  max_receives,       // a message was received max_receives times without success
  expired,            // a message outlived the queue's retention
  // the network refused the connection (a partition in reject mode)
  connection_refused,
  // a request with the same idempotency key is still being processed (HTTP 409): nothing was
  // done, the caller may try again later
  conflict,
  kCount
};
inline constexpr int kReasonCount = static_cast<int>(Reason::kCount);
const char* to_string(Reason r);
// Refusals at the door (no work was done) count as dropped; everything else as failed.
Outcome outcome_of(Reason r);

// A caller's view of how a call ended.
struct Reply {
  Reason reason = Reason::none;    // none: success
  bool degraded = false;           // served by a fallback (cached or default answer)
  Time retry_after;                // a 429's hint: do not retry before this much time (zero: none)
  uint32_t origin = kNoComponent;  // the component that produced the answer (set by the engine)
  // What a successful operation found, for the few that answer more than ok: an idempotency
  // claim's key state (IdempotencyState). Zero otherwise.
  uint8_t result = 0;
  bool ok() const { return reason == Reason::none; }
  static Reply success() { return {}; }
  static Reply failure(Reason r) { return Reply{r, false, Time::zero(), kNoComponent}; }
};

struct Request {
  uint64_t id = 0;                 // unique and increasing within a run
  Time created;                    // when its source generated it
  uint64_t key = 0;                // user / tenant / cache key drawn by the source
  uint64_t idempotency_key = 0;    // 0: none; equal keys mean "the same operation"
  uint32_t workload = 0;           // index into Simulation::workloads()
  uint32_t source = kNoComponent;  // component that generated it (closed loops get told the end)
  uint32_t client = 0;             // closed-loop user slot within the source
  uint32_t refs = 0;               // its own life (until finished) + one per live call
  uint32_t free_next = 0;          // while the slot is free (FreeList)
  int16_t priority = 0;            // higher is served first under the priority discipline
  bool finished = false;           // its outcome has been counted; calls may still hold it
};

class RequestPool {
 public:
  RequestHandle acquire() {
    const RequestHandle h = free_.take(slots_);
    if (h == live_flags_.size()) live_flags_.push_back(0);
    live_flags_[h] = 1;
    ++live_;
    return h;
  }
  // A request's slot is reused only when nothing refers to it any more: a caller that timed out
  // leaves orphan calls downstream that still work on (and read) the request.
  void retain(RequestHandle h) { ++slots_[h].refs; }
  void release(RequestHandle h) {
    if (--slots_[h].refs > 0) return;
    live_flags_[h] = 0;
    --live_;
    free_.push_back(slots_, h);
  }
  Request& operator[](RequestHandle h) { return slots_[h]; }
  const Request& operator[](RequestHandle h) const { return slots_[h]; }
  bool is_live(RequestHandle h) const { return h < live_flags_.size() && live_flags_[h]; }

  uint64_t live() const { return live_; }
  // Counts unfinished requests by scanning: an independent tally for the conservation check.
  uint64_t count_unfinished_by_scan() const;
  size_t capacity() const { return slots_.size(); }

 private:
  std::vector<Request> slots_;
  std::vector<uint8_t> live_flags_;
  FreeList free_;
  uint64_t live_ = 0;
};

}  // namespace dsim
