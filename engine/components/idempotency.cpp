#include "components/idempotency.hpp"

namespace dsim {

void IdempotencySpec::describe(ParamVisitor& v) {
  v.target({"store", "component",
            "A kv_store keeping the keys, shared by every service that uses it with the same "
            "key_prefix: each claim, and each completion, is a call to it (its latency and "
            "failures apply). Absent: an in-process table."},
           store);
  v.text({"key_prefix", "name",
          "The store's namespace for this service's keys: replicas of one service give the same "
          "one so that each recognises the others' keys. Absent: the service's name."},
         key_prefix);
  v.duration({"lease", "duration",
              "With a store: how long an in-progress claim blocks repeats if its run never "
              "completes or fails (a crashed process, a claim whose answer was lost); make it "
              "longer than the longest run. 0: until that run ends, if ever."},
             lease);
  v.distribution({"latency", "distribution", "Lookup time of the in-process table."}, latency);
  v.duration({"store_timeout", "duration", "Timeout of each call to the store (0: none)."},
             store_timeout);
  v.choice({"on_store_failure", "choice",
            "When the store cannot be asked: reject the request with the store's failure "
            "reason, or proceed without the check (a duplicate may slip through)."},
           on_store_failure, kStoreFailureNames);
  v.count({"capacity", "count",
           "Keys the in-process table remembers; the oldest are forgotten first (with a store, "
           "its max_entries applies)."},
          capacity, 1, INT64_MAX);
  v.duration({"ttl", "duration",
              "How long a key is remembered after its run completed (the in-process table counts "
              "from the claim too); 0: until evicted, or for ever."},
             ttl);
}

std::string IdempotencySpec::check() {
  store_policy.timeout = store_timeout;
  if (store.name.empty()) {
    for (const char* key : {"key_prefix", "lease", "store_timeout", "on_store_failure"}) {
      if (has(key)) return std::string("'") + key + "' applies only with a store";
    }
    return {};
  }
  if (has("latency")) {
    return "latency is the in-process table's; with a store, the store's own latency applies";
  }
  if (has("capacity")) {
    return "capacity is the in-process table's; with a store, its max_entries applies";
  }
  store.op = "check_and_incr";  // the topology check then insists on a kv_store
  return {};
}

IdempotencyState ProcessedKeys::state(uint64_t key, Time now) {
  expire(now);
  auto it = recorded_.find(key);
  return it == recorded_.end() ? IdempotencyState::absent : it->second.state;
}

IdempotencyState ProcessedKeys::claim(uint64_t key, Time now) {
  const IdempotencyState before = state(key, now);
  if (before == IdempotencyState::absent) record(key, now, IdempotencyState::in_progress);
  return before;
}

void ProcessedKeys::complete(uint64_t key, Time now) {
  expire(now);
  record(key, now, IdempotencyState::completed);
}

void ProcessedKeys::record(uint64_t key, Time now, IdempotencyState state) {
  recorded_[key] = Record{now, state};
  order_.emplace_back(key, now);
  while (static_cast<int64_t>(recorded_.size()) > capacity_ && !order_.empty()) {
    const auto [old, at] = order_.front();
    order_.pop_front();
    auto it = recorded_.find(old);
    if (it != recorded_.end() && it->second.at == at) recorded_.erase(it);
  }
  // Entries of keys forgotten or recorded again stay in order_ until they reach the front; keep
  // it from growing without bound when keys are re-recorded often.
  if (order_.size() > 2 * recorded_.size() + 64) {
    std::deque<std::pair<uint64_t, Time>> live;
    for (const auto& e : order_) {
      auto it = recorded_.find(e.first);
      if (it != recorded_.end() && it->second.at == e.second) live.push_back(e);
    }
    order_.swap(live);
  }
}

// Only a claim still in progress: a completed key (recorded by another run after this one's
// claim was forgotten, by capacity or ttl) stays, as a store's release leaves it.
void ProcessedKeys::forget(uint64_t key) {
  auto it = recorded_.find(key);
  if (it != recorded_.end() && it->second.state == IdempotencyState::in_progress) {
    recorded_.erase(it);
  }
}

void ProcessedKeys::expire(Time now) {
  if (ttl_ <= Time::zero()) return;
  while (!order_.empty() && order_.front().second + ttl_ <= now) {
    const auto [old, at] = order_.front();
    order_.pop_front();
    auto it = recorded_.find(old);
    if (it != recorded_.end() && it->second.at == at) recorded_.erase(it);
  }
}

}  // namespace dsim
