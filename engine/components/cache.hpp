// cache: a read-through cache of `capacity` entries in front of a backing component.
//
// Callers ask for an operation (`op:`): get (the default), set, or delete (alias invalidate). The
// key is the request's key (drawn by its source). A get that finds the key answers after
// `hit_latency`. A get that misses reads through: after `miss_latency` (the lookup that found
// nothing) it calls `backing` under the cache's call policy (timeout, retries, breaker...), and
// when that succeeds it fills the entry (evicting by LRU, LFU or TTL order when full) and answers;
// when it fails it answers with the backing call's reason and fills nothing. With `coalesce`, a
// miss for a key whose fill is already in progress waits for that fill instead of calling the
// backing store again (stampede protection). A set writes to the backing store first; on success
// the entry is updated (write_through), deleted (invalidate) or left alone (write_around). A delete
// removes the entry. Entries expire `ttl` after they were filled, whatever the eviction order.
//
// A crash (faults/fault_hooks.hpp) loses the process: the entries, and every call it holds - a
// get in its hit or miss latency, a miss waiting for its fill (and the misses coalesced onto
// it), a set waiting for its write - fails with `unavailable` (mode hang: is never answered);
// its backing calls are abandoned, so their late answers fill nothing.
//
// The cache does not hold values, only which keys it has: stale data is not modelled. Its own
// capacity to serve is unlimited (each operation just takes its latency); put a service in front
// to model a saturated cache server.
#pragma once

#include <vector>

#include "components/cache_store.hpp"
#include "components/call_policy.hpp"
#include "components/outbound.hpp"
#include "core/component.hpp"
#include "core/distribution.hpp"
#include "core/free_list.hpp"
#include "core/params.hpp"
#include "core/slot_stack.hpp"

namespace dsim {

struct CacheParams : ParamsOf<CacheParams> {
  int64_t capacity = 1000;
  int eviction = 0;  // kEvictionNames
  Time ttl = Time::zero();
  Distribution hit_latency = Distribution::constant(0.001);
  Distribution miss_latency = Distribution::constant(0.001);
  TargetRef backing;
  std::string backing_read_op;
  std::string backing_write_op;
  int write_policy = 0;  // kWritePolicyNames
  bool coalesce = false;
  int64_t warm = 0;
  CallPolicy call;  // how the cache calls `backing`

  enum Eviction { lru, lfu, ttl_order };
  enum WritePolicy { invalidate, write_through, write_around };
  // Operations callers may ask for (index = Call::op).
  enum Operation : uint16_t { op_get, op_set, op_delete, op_invalidate };
  static constexpr const char* kEvictionNames[] = {"lru", "lfu", "ttl", nullptr};
  static constexpr const char* kWritePolicyNames[] = {"invalidate", "write_through", "write_around",
                                                      nullptr};
  void describe(ParamVisitor& v) override;
  std::string check(const std::vector<std::string>& given) override;
  std::vector<std::string> operations() const override {
    return {"get", "set", "delete", "invalidate"};
  }
};

class Cache final : public Component, public CallOwner {
 public:
  Cache(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_reply(Simulation& sim, CallHandle h, const Reply& r) override;
  void on_call_done(Simulation& sim, uint64_t token, const Reply& reply) override;
  void on_params_changed(Simulation& sim, const std::string& param) override;
  // A crash empties the cache (it restarts cold) and fails every call it holds.
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;
  Time local_now(const Simulation& sim) const;

  const CacheParams& config() const { return p_; }
  const CacheStore& store() const { return store_; }
  // Backing calls (fills and writes) in progress.
  size_t pending() const { return live_pending_; }

 private:
  enum EventKind : uint32_t { kAnswer = 0, kFetch = 1 };
  static constexpr uint32_t kNone = UINT32_MAX;
  enum Site : uint32_t { kReadSite = 0, kWriteSite = 1 };

  // A backing call in progress: a read-through fill (with the misses coalesced onto it) or a
  // write.
  struct Pending {
    CallHandle call = 0;     // the get that missed first, or the set
    uint32_t free_next = 0;  // while the slot is free (FreeList)
    uint64_t key = 0;
    uint32_t serial = 0;  // changes on every reuse of the slot: stale events and tokens
    uint32_t first_waiter = kNone, last_waiter = kNone;
    bool write = false;
    bool live = false;
  };
  struct Waiter {  // a coalesced miss, answered with its fill
    CallHandle call = 0;
    uint32_t next = kNone;
  };

  void get(Simulation& sim, CallHandle h, uint64_t key);
  void fetch(Simulation& sim, uint32_t slot);
  void fill_done(Simulation& sim, const Pending& fill, const Reply& reply);
  void write_done(Simulation& sim, const Pending& write, const Reply& reply);
  uint32_t open_pending(CallHandle h, uint64_t key, bool write);
  void close_pending(uint32_t slot);
  // Answers a call now (success or failure) or, for a success, after a latency drawn from `d`.
  void respond(Simulation& sim, CallHandle h, const Reply& reply);
  void answer_after(Simulation& sim, CallHandle h, const Distribution& d, Rng& rng);
  // Removes expired entries (and counts them): every operation starts here.
  void expire(Simulation& sim);
  void entries_changed(Simulation& sim);

  CacheParams& p_;
  CacheStore store_;
  Outbound out_{*this, *this};
  std::vector<Pending> pending_;
  FreeList free_pending_;
  size_t live_pending_ = 0;
  std::vector<Waiter> waiters_;
  SlotStack free_waiters_;
  KeySlots filling_;  // key -> the fill in progress that later misses may join (coalesce)
  Rng hit_rng_;
  Rng miss_rng_;
};

}  // namespace dsim
