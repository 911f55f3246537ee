// Idempotency: recognising that a request is a repeat of one already processed.
//
// A request may carry an idempotency key (a source with `idempotency_keys: true` gives each
// request one; its retries and the messages it publishes keep it). A service with an
// `idempotency:` block claims the key before running its handler - in an in-process table, or in
// a kv_store shared by every service that uses the same store and key_prefix (each check a round
// trip to it). A key is in one of three states, as in the usual implementations (AWS Lambda
// Powertools, Stripe):
//   absent       the claim records it as in progress and the handler runs;
//   in progress  a repeat while the first run is still going: refused with reason conflict (HTTP
//                409), without running the handler - answering success would claim work that
//                may yet fail - so the caller can try again later;
//   completed    a repeat after the first run succeeded: answered at once as a success without
//                running the handler (a duplicate suppressed).
// A run that succeeds marks its key completed (with a store, one more round trip before the
// answer); a run that fails removes it, so that a retry can still do the work. Keys are
// remembered for `ttl` after they completed, and, with a store, an in-progress claim for at most
// `lease`: the claim of a process that crashed, or one the store made after its caller stopped
// waiting for the answer, is otherwise never removed. As in Powertools, completions and releases
// are not conditional on who claimed: a lease shorter than a run lets a second run claim the
// key meanwhile, and the first run's completion or release then overwrites or removes that claim.
//
// Separately from any store, every service counts duplicates that slipped through - handler runs
// that completed for a key that had already completed there - as the ground truth that shows
// what idempotency saves.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "components/call_policy.hpp"
#include "core/distribution.hpp"
#include "core/params.hpp"

namespace dsim {

// A key's state, as an idempotency claim finds it (Reply::result of a store's claim).
enum class IdempotencyState : uint8_t { absent = 0, in_progress = 1, completed = 2 };

struct IdempotencySpec : ParamGroup {
  TargetRef store;           // absent: an in-process table
  std::string key_prefix;    // the store's namespace for the keys (empty: the service's name)
  Time lease = Time::s(60);  // with a store: how long an in-progress claim lasts (0: for ever)
  Distribution latency;      // in-process lookup time
  Time store_timeout = Time::zero();
  int on_store_failure = 0;  // kStoreFailureNames
  int64_t capacity = INT64_MAX;
  Time ttl = Time::zero();  // zero: remembered until evicted by capacity
  CallPolicy store_policy;  // built from store_timeout

  static constexpr const char* kStoreFailureNames[] = {"reject", "proceed", nullptr};
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// The in-process table: keys in the order they were recorded (claimed, then again when completed),
// forgotten oldest first beyond capacity or `ttl` after they were last recorded. Lookups and
// membership only: nothing iterates the hash containers, so results stay deterministic.
class ProcessedKeys {
 public:
  ProcessedKeys(int64_t capacity, Time ttl) : capacity_(capacity), ttl_(ttl) {}
  // The key's state before the claim; an absent key is now in progress.
  IdempotencyState claim(uint64_t key, Time now);
  void complete(uint64_t key, Time now);  // its run succeeded
  void forget(uint64_t key);              // its run failed: removes a key still in progress
  IdempotencyState state(uint64_t key, Time now);
  size_t size() const { return recorded_.size(); }

 private:
  struct Record {
    Time at;  // when last recorded
    IdempotencyState state;
  };
  void record(uint64_t key, Time now, IdempotencyState state);
  void expire(Time now);
  int64_t capacity_;
  Time ttl_;
  std::unordered_map<uint64_t, Record> recorded_;
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
