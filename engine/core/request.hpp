// A request and the pool that stores the ones in flight.
//
// Requests live in one slab indexed by a 32-bit handle; finished slots go on a free list and are
// reused, so steady-state runs allocate nothing per request. Events and queues carry the handle,
// never a pointer (the slab may grow).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace dsim {

using RequestHandle = uint32_t;
inline constexpr uint32_t kNoComponent = UINT32_MAX;

enum class Outcome : uint8_t { completed, failed, dropped, dead_lettered };
inline constexpr int kOutcomeCount = 4;
const char* to_string(Outcome o);

// Why a request failed or was dropped. New components add reasons here: an enum keeps counters
// as flat arrays on the hot path and makes every reason visible in one place.
enum class Reason : uint8_t {
  none,               // completed normally
  queue_full,         // a bounded queue had no room
  deadline_exceeded,  // the request's deadline passed before it could be served
  kCount
};
inline constexpr int kReasonCount = static_cast<int>(Reason::kCount);
const char* to_string(Reason r);

struct Request {
  uint64_t id = 0;                 // unique and increasing within a run
  Time created;                    // when its source generated it
  Time deadline = Time::max();     // give up after this instant (Time::max(): never)
  Time hop_arrival;                // when it entered the component that holds it now
  uint64_t key = 0;                // user / tenant / cache key drawn by the source
  uint32_t workload = 0;           // index into Simulation::workloads()
  uint32_t source = kNoComponent;  // component that generated it (closed loops get told the end)
  uint32_t client = 0;             // closed-loop user slot within the source
  uint16_t attempt = 1;            // 1 for the first try; retries (a later issue) count up
  int16_t priority = 0;            // higher is served first under the priority discipline
};

class RequestPool {
 public:
  RequestHandle acquire() {
    RequestHandle h;
    if (!free_.empty()) {
      h = free_.back();
      free_.pop_back();
    } else {
      h = static_cast<RequestHandle>(slots_.size());
      slots_.emplace_back();
      live_flags_.push_back(0);
    }
    live_flags_[h] = 1;
    ++live_;
    return h;
  }
  void release(RequestHandle h) {
    live_flags_[h] = 0;
    --live_;
    free_.push_back(h);
  }
  Request& operator[](RequestHandle h) { return slots_[h]; }
  const Request& operator[](RequestHandle h) const { return slots_[h]; }
  bool is_live(RequestHandle h) const { return h < live_flags_.size() && live_flags_[h]; }

  uint64_t live() const { return live_; }
  // Counts live slots by scanning: an independent tally for the conservation check.
  uint64_t count_live_by_scan() const;
  size_t capacity() const { return slots_.size(); }

 private:
  std::vector<Request> slots_;
  std::vector<uint8_t> live_flags_;
  std::vector<RequestHandle> free_;
  uint64_t live_ = 0;
};

}  // namespace dsim
