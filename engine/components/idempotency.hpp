// Idempotency: recognising that a request is a repeat of one already processed.
//
// A request may carry an idempotency key (a source with `idempotency_keys: true` gives each
// request one; its retries and the messages it publishes keep it). A service with an
// `idempotency:` block checks the key before running its handler - in an in-process table, or
// through a round trip to a store component such as a kv_store - and answers a repeat at once
// without running the handler again (a duplicate suppressed). The key is recorded when the check
// passes (so a concurrent repeat is caught too) and forgotten again if the handler fails, so that
// a retry can still do the work. The table remembers at most `capacity` keys, oldest first out,
// each for at most `ttl`: a repeat that arrives after its key was forgotten slips through.
//
// Separately from any store, every service counts duplicates that slipped through - handler runs
// that completed for a key that had already completed there - as the ground truth that shows
// what idempotency saves.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "components/call_policy.hpp"
#include "core/distribution.hpp"
#include "core/params.hpp"

namespace dsim {

struct IdempotencySpec : ParamGroup {
  TargetRef store;       // absent: an in-process table
  Distribution latency;  // in-process lookup time
  Time store_timeout = Time::zero();
  int on_store_failure = 0;  // kStoreFailureNames
  int64_t capacity = INT64_MAX;
  Time ttl = Time::zero();  // zero: remembered until evicted by capacity
  CallPolicy store_policy;  // built from store_timeout

  static constexpr const char* kStoreFailureNames[] = {"reject", "proceed", nullptr};
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// Keys recorded in arrival order, forgotten oldest first beyond capacity or after ttl. Lookups
// and membership only: nothing iterates the hash containers, so results stay deterministic.
class ProcessedKeys {
 public:
  ProcessedKeys(int64_t capacity, Time ttl) : capacity_(capacity), ttl_(ttl) {}
  bool contains(uint64_t key, Time now);
  void record(uint64_t key, Time now);
  void forget(uint64_t key);
  size_t size() const { return recorded_.size(); }

 private:
  void expire(Time now);
  int64_t capacity_;
  Time ttl_;
  std::unordered_map<uint64_t, Time> recorded_;  // key -> when recorded
  std::deque<std::pair<uint64_t, Time>> order_;  // may hold forgotten or re-recorded keys
};

// Ground truth: keys whose handler has completed at a service.
class CompletedKeys {
 public:
  // Returns true if the key had completed before (a duplicate side effect).
  bool complete(uint64_t key) { return !done_.insert(key).second; }

 private:
  std::unordered_set<uint64_t> done_;
};

}  // namespace dsim
