#include "components/idempotency.hpp"

namespace dsim {

void IdempotencySpec::describe(ParamVisitor& v) {
  v.target({"store", "component",
            "Where processed keys are kept, e.g. a kv_store: each check is a call to it (its "
            "latency and failures apply). Absent: an in-process table."},
           store);
  v.distribution({"latency", "distribution", "Lookup time of the in-process table."}, latency);
  v.duration({"store_timeout", "duration", "Timeout of each call to the store (0: none)."},
             store_timeout);
  v.choice({"on_store_failure", "choice",
            "When the store cannot be asked: reject the request with the store's failure "
            "reason, or proceed without the check (a duplicate may slip through)."},
           on_store_failure, kStoreFailureNames);
  v.count({"capacity", "count", "Keys remembered; the oldest are forgotten first."}, capacity, 1,
          INT64_MAX);
  v.duration({"ttl", "duration", "How long a key is remembered (0: until evicted)."}, ttl);
}

std::string IdempotencySpec::check() {
  store_policy.timeout = store_timeout;
  if (!store.name.empty() && has("latency")) {
    return "latency is the in-process table's; with a store, the store's own latency applies";
  }
  return {};
}

bool ProcessedKeys::contains(uint64_t key, Time now) {
  expire(now);
  return recorded_.count(key) != 0;
}

void ProcessedKeys::record(uint64_t key, Time now) {
  expire(now);
  recorded_[key] = now;
  order_.emplace_back(key, now);
  while (static_cast<int64_t>(recorded_.size()) > capacity_ && !order_.empty()) {
    const auto [old, at] = order_.front();
    order_.pop_front();
    auto it = recorded_.find(old);
    if (it != recorded_.end() && it->second == at) recorded_.erase(it);
  }
  // Entries of keys forgotten or recorded again stay in order_ until they reach the front; keep
  // it from growing without bound when keys are re-recorded often.
  if (order_.size() > 2 * recorded_.size() + 64) {
    std::deque<std::pair<uint64_t, Time>> live;
    for (const auto& e : order_) {
      auto it = recorded_.find(e.first);
      if (it != recorded_.end() && it->second == e.second) live.push_back(e);
    }
    order_.swap(live);
  }
}

void ProcessedKeys::forget(uint64_t key) {
  recorded_.erase(key);
}

void ProcessedKeys::expire(Time now) {
  if (ttl_ <= Time::zero()) return;
  while (!order_.empty() && order_.front().second + ttl_ <= now) {
    const auto [old, at] = order_.front();
    order_.pop_front();
    auto it = recorded_.find(old);
    if (it != recorded_.end() && it->second == at) recorded_.erase(it);
  }
}

}  // namespace dsim
