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
    case Reason::kCount:
      break;
  }
  return "?";
}

uint64_t RequestPool::count_live_by_scan() const {
  return static_cast<uint64_t>(std::count(live_flags_.begin(), live_flags_.end(), 1));
}

}  // namespace dsim
