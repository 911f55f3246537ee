#include "components/message_store.hpp"

#include <algorithm>

namespace dsim {

void ReadyQueue::push(uint32_t m, const Message& msg) {
  heap_.push_back(Entry{msg.priority, msg.sequence, m, msg.serial});
  std::push_heap(heap_.begin(), heap_.end(),
                 [this](const Entry& a, const Entry& b) { return later(a, b); });
  ++valid_;
}

bool ReadyQueue::pop(const MessageTable& table, uint32_t& m) {
  const auto cmp = [this](const Entry& a, const Entry& b) { return later(a, b); };
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    const Entry e = heap_.back();
    heap_.pop_back();
    if (!valid(table, e)) continue;
    --valid_;
    m = e.message;
    return true;
  }
  return false;
}

void ReadyQueue::removed(const MessageTable& table) {
  --valid_;
  // Stale entries cost memory only; rebuild once they outnumber the valid ones (amortised O(1)).
  if (heap_.size() > 64 && heap_.size() > 2 * valid_) {
    std::erase_if(heap_, [&](const Entry& e) { return !valid(table, e); });
    std::make_heap(heap_.begin(), heap_.end(),
                   [this](const Entry& a, const Entry& b) { return later(a, b); });
  }
}

uint32_t partition_of(uint64_t key, uint32_t partitions) {
  uint64_t z = key + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<uint32_t>(z % partitions);
}

}  // namespace dsim
