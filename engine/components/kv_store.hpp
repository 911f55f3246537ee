// kv_store: a Redis-like in-memory store with one thread.
//
// Commands are executed one at a time, in the order they arrive (FIFO, one worker): each takes
// its operation's time on the thread (get, set, incr, check_and_incr), and its answer reaches the
// caller `rtt` later (network, not thread time). A command's effect happens when its execution
// ends. The key of a command is the request's key (Request::key).
//
//   get             read the key (counts cache_hits / cache_misses)
//   set             write the key; it expires `ttl` after the write (SET EX)
//   incr            add one to the key's counter; a new key expires `ttl` after its creation
//                   (INCR + EXPIRE on the first increment)
//   check_and_incr  a Lua-style script: refuse with rate_limited (retry_after = the key's
//                   remaining ttl) when its counter has reached `limit`, else incr
//
// Memory holds at most `max_entries` keys: a write that would create a key beyond it fails with
// reason `error`, as Redis answers "OOM command not allowed" under maxmemory-policy noeviction
// (writes to existing keys and all reads still succeed). Expired keys free their entry at their
// expiry instant. memory_used_bytes = entries x entry_size.
//
// A `replica` receives every write asynchronously, `lag` after it (in order: a write never
// overtakes an earlier one); a share `reads` of GETs is served by the replica's own thread, and
// a GET there that misses the key's latest write counts as a stale read.
//
// The C++ side: gateways keep shared rate limiters here (attach_limiter), so that every gateway
// using the same store and limiter counts against the same state, decided when the store runs
// the check - a check whose caller timed out still counts, as in Redis. Services keep their
// idempotency keys here (attach_idempotency): a claim is a script (GET, and SET NX of "in
// progress"; check_and_incr's time), a completion and a release are writes (set's time).
//
// Clocks (clock_skew; core/local_clock.hpp). Expiry instants are absolute times on the store's
// own clock, as Redis keeps them (a TTL becomes "expire at now + ttl" by the server's clock): an
// offset makes keys written before it expire early (ahead) or late (behind), a rate makes TTLs
// run out faster or slower in true time. A shared limiter reads two clocks, as a Redis-based
// limiter does: the calling gateway computes the window ids and the instants of its algorithm
// on its own clock (they travel as the script's arguments), and the store keeps the limiter's
// key until the algorithm no longer needs it, as a TTL counted on the store's clock - a store
// whose clock is ahead or fast drops a key early, and the limiter forgets what it had counted.
// The replica runs on another machine with a true clock (a replica is not a component, so no
// fault targets it): like a Redis replica it never expires keys itself - the primary's deletions
// reach it - but a GET there reports a key whose expiry instant its own clock has passed as
// missing, so with the primary's clock behind the two disagree.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "components/idempotency.hpp"
#include "components/rate_limiter.hpp"
#include "components/wait_queue.hpp"
#include "core/component.hpp"
#include "core/params.hpp"
#include "core/slot_stack.hpp"

namespace dsim {

struct KvReplicaSpec : ParamGroup {
  Distribution lag;  // from the write on the primary to the write on the replica
  double reads = 0;  // share of GETs the replica serves
  void describe(ParamVisitor& v) override;
};

struct KvStoreParams : ParamsOf<KvStoreParams> {
  Distribution get = Distribution::constant(10e-6);
  Distribution set = Distribution::constant(12e-6);
  Distribution incr = Distribution::constant(12e-6);
  Distribution check_and_incr = Distribution::constant(30e-6);
  Distribution rtt;         // zero
  Time ttl = Time::zero();  // zero: keys never expire
  int64_t limit = INT64_MAX;
  int64_t max_entries = INT64_MAX;
  int64_t entry_size = 64;
  KvReplicaSpec replica;

  void describe(ParamVisitor& v) override;
  std::vector<std::string> operations() const override {
    return {"get", "set", "incr", "check_and_incr"};
  }
};

class KvStore final : public Component {
 public:
  // Call::op values: the named operations, then one per attached limiter.
  enum Op : uint16_t {
    kGet = 0,
    kSet = 1,
    kIncr = 2,
    kCheckAndIncr = 3,
    kFirstLimiterOp = 4,
    kFirstIdempotencyOp = 0x8000  // claim, complete, release for each key prefix
  };

  KvStore(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;

  // --- The API other components use ----------------------------------------------------------
  // A rate limiter whose state lives in this store. Callers attaching the same prefix, algorithm
  // settings and key mapping share one state (they would use the same Redis keys). Returns the
  // Call::op by which `caller` runs one check: the store maps the request's key with `keys`,
  // runs the limiter at the end of the command's execution (check_and_incr's time), at the
  // instant the caller's clock reads then, and answers success, rate_limited with retry_after,
  // or fails like any command (error when full, unavailable).
  uint16_t attach_limiter(const std::string& key_prefix, const RateLimitConfig& config,
                          const KeyMapping& keys, const Component& caller);
  // The keys of an idempotency table (components/idempotency.hpp) with this prefix, shared by
  // every caller attaching the same one. Returns the Call::op of a claim, which answers success
  // with Reply::result the key's state before it (an absent key is now in progress), or fails
  // like any write (error when full, unavailable); complete is that op + 1, release (remove a key
  // still in progress) + 2. A completed key expires `ttl` after its completion, a claim `lease`
  // after it was made (zero: never), on the store's clock.
  uint16_t attach_idempotency(const std::string& key_prefix, Time ttl, Time lease);
  enum IdempotencyOp : uint16_t { kClaim = 0, kComplete = 1, kRelease = 2 };
  // The state of an idempotency key, for tests.
  IdempotencyState idempotency_state(const std::string& key_prefix, uint64_t key) const;

  // Up or down (crashes are driven from here): while down every command, queued, running or
  // new, is answered with unavailable at once. The data is kept.
  void set_available(Simulation& sim, bool up);
  bool available() const { return up_; }

  // For tests and observers.
  size_t entries() const { return data_.size(); }
  // The counter of a plain key (0 when absent); `live` tells whether it exists.
  int64_t value(uint64_t key, bool* live = nullptr) const;
  const KvStoreParams& config() const { return p_; }

 private:
  enum EventKind : uint32_t { kExecuted = 0, kReply = 1, kExpire = 2 };
  enum ThreadIndex : uint32_t { kPrimary = 0, kReplica = 1 };
  // One thread (the primary's, the replica's) with its FIFO queue.
  struct Thread {
    WaitQueue waiting;
    bool busy = false;
    CallHandle running = 0;
    uint32_t serial = 0;  // invalidates the execution event of a command aborted by a crash
  };
  // Keys live in namespaces: 0 for the plain keys of get/set/incr, 1 + id for limiter `id`,
  // kIdempotencyNamespace + id for idempotency table `id`.
  using Key = std::pair<uint32_t, uint64_t>;
  static constexpr uint32_t kIdempotencyNamespace = 0x80000000u;
  bool is_limiter_key(const Key& k) const { return k.first > 0 && k.first < kIdempotencyNamespace; }
  struct IdempotencyTable {
    std::string prefix;
    Time ttl, lease;
  };
  struct Entry {
    int64_t value = 0;
    Time expires = Time::max();  // on the store's clock
    Time replicated;             // when the replica has this key's latest write
  };
  struct SharedLimiter {
    std::string prefix;
    RateLimitConfig config;
    KeyMapping keys;
    std::unique_ptr<RateLimiter> limiter;
  };
  // One per (shared limiter, caller): whose clock a check reads.
  struct LimiterOp {
    uint32_t limiter = 0;
    const Component* caller = nullptr;
  };
  struct Answer {  // an executed command whose reply is on its way back (rtt)
    CallHandle call = 0;
    Reply reply;
  };

  void begin(Simulation& sim, uint32_t thread, CallHandle h);
  void executed(Simulation& sim, uint32_t thread);
  Reply execute(Simulation& sim, CallHandle h, uint32_t thread);
  // A write on the primary enters the replication stream; returns when the replica has it.
  Time replicate(Simulation& sim);
  void update_levels(Simulation& sim);
  // The entry for `k`, created if absent; nullptr when creating it would exceed max_entries.
  Entry* upsert(Simulation& sim, const Key& k, bool& created);
  void set_expiry(Simulation& sim, const Key& k, Entry& e, Time at);
  void erase(Simulation& sim, const Key& k);
  void purge_expired(Simulation& sim);
  void schedule_expiry(Simulation& sim);
  void update_memory(Simulation& sim);
  // The store's own clock (clock_skew), on which expiry instants are kept.
  Time local_now(const Simulation& sim) const;
  const Distribution& op_time(uint16_t op) const;
  void send(Simulation& sim, CallHandle h, const Reply& r);
  void respond(Simulation& sim, CallHandle h, const Reply& r);

  KvStoreParams& p_;
  bool up_ = true;
  Thread threads_[2];
  bool replica_reads_ = false;
  Time stream_tail_;  // when the replica has the latest write sent to it
  std::map<Key, Entry> data_;
  std::set<std::pair<Time, Key>> expiries_;  // on the store's clock
  Time expiry_event_ = Time::max();          // the earliest pending expiry event (true time)
  std::vector<SharedLimiter> limiters_;
  std::vector<LimiterOp> limiter_ops_;         // Call::op - kFirstLimiterOp
  std::vector<IdempotencyTable> idempotency_;  // (Call::op - kFirstIdempotencyOp) / 3
  Reply execute_idempotency(Simulation& sim, uint64_t key, uint16_t op);
  std::vector<Answer> answers_;
  SlotStack free_answers_;
  Rng service_rng_;
  Rng rtt_rng_;
  Rng replica_reads_rng_;
  Rng replica_lag_rng_;
};

}  // namespace dsim
