#include "core/request.hpp"

#include <algorithm>

namespace dsim {

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::completed:
      return "completed";
    case Outcome::failed:
      return "failed";
    case Outcome::dropped:
      return "dropped";
    case Outcome::dead_lettered:
      return "dead_lettered";
  }
  return "?";
}

const char* to_string(Reason r) {
  switch (r) {
    case Reason::none:
      return "none";
    case Reason::queue_full:
      return "queue_full";
    case Reason::deadline_exceeded:
      return "deadline_exceeded";
    case Reason::timeout:
      return "timeout";
    case Reason::error:
      return "error";
    case Reason::rate_limited:
      return "rate_limited";
    case Reason::quota_exceeded:
      return "quota_exceeded";
    case Reason::circuit_open:
      return "circuit_open";
    case Reason::bulkhead_full:
      return "bulkhead_full";
    case Reason::pool_exhausted:
      return "pool_exhausted";
    case Reason::pool_timeout:
      return "pool_timeout";
    case Reason::lock_timeout:
      return "lock_timeout";
    case Reason::unavailable:
      return "unavailable";
    case Reason::disk_full:
      return "disk_full";
    case Reason::max_receives:
      return "max_receives";
    case Reason::expired:
      return "expired";
    case Reason::connection_refused:
      return "connection_refused";
    case Reason::conflict:
      return "conflict";
    case Reason::kCount:
      break;
  }
  return "?";
}

Outcome outcome_of(Reason r) {
  switch (r) {
    case Reason::none:
      return Outcome::completed;
    case Reason::queue_full:
    case Reason::deadline_exceeded:
    case Reason::rate_limited:
    case Reason::quota_exceeded:
    case Reason::circuit_open:
    case Reason::bulkhead_full:
    case Reason::pool_exhausted:
    case Reason::unavailable:
    case Reason::expired:
    case Reason::connection_refused:
    case Reason::conflict:
      return Outcome::dropped;
    case Reason::max_receives:
      return Outcome::dead_lettered;
    default:
      return Outcome::failed;
  }
}

uint64_t RequestPool::count_unfinished_by_scan() const {
  uint64_t n = 0;
  for (size_t i = 0; i < slots_.size(); ++i) n += live_flags_[i] && !slots_[i].finished;
  return n;
}

}  // namespace dsim
