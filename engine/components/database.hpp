// database: a connection pool in front of query classes, with row locks on hot keys, read replicas
// with replication lag, primary failover, sharding by key and a disk that writes fill up.
//
// Sections of database.cpp: parameters; placement (shard, node); the connection pool; row locks;
// running a query (disk, staleness, replication); failover; live changes and figures.
//
// The mechanism, in the order a query meets it:
//   1. The query's key picks a shard (a fixed hash of Request::key); a write goes to the shard's
//      primary, a read to the primary or a replica as `read_from` says (chosen at random).
//   2. It needs one of that node's `connections`. With none free it waits FIFO for up to
//      `acquire_timeout` (pool_timeout), or is refused at once (pool_exhausted) when waiting is
//      not allowed (acquire_timeout 0) or `max_waiting` queries already wait.
//   3. A write with `locks: true` then takes an exclusive lock on its key (a row lock), waiting
//      FIFO behind earlier writers for up to `lock_timeout` - while holding its connection, as a
//      blocked statement does in a real database.
//   4. It runs for its class's `time`, holding the connection (the server resource: utilisation
//      is busy connections over the pool). A write needs `disk.write_size` free bytes when it
//      starts (disk_full otherwise); a read on a replica that has not yet applied the latest
//      write to its key is counted as a stale read.
//   5. At the end a write commits: each replica applies it `replication_lag` later (in commit
//      order); the lock and the connection are released and the caller is answered.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/component.hpp"
#include "core/free_list.hpp"
#include "core/key_slots.hpp"
#include "core/params.hpp"
#include "core/random.hpp"

namespace dsim {

// One query class: a named operation that callers ask for with `op:`.
struct QuerySpec : ParamGroup {
  static constexpr const char* kElementName = "query";
  enum Kind { read, write };
  static constexpr const char* kKindNames[] = {"read", "write", nullptr};
  std::string name;
  int kind = read;
  Distribution time;
  bool locks = false;
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

// Disk space consumed by writes (each shard's primary has a disk of this capacity).
struct DiskSpec : ParamGroup {
  int64_t capacity = 0;
  int64_t write_size = 1024;
  void describe(ParamVisitor& v) override;
};

// A scheduled crash of one shard's primary.
struct PrimaryFailureSpec : ParamGroup {
  static constexpr const char* kElementName = "primary_failure";
  Time at;
  int64_t shard = 0;
  void describe(ParamVisitor& v) override;
};

struct DatabaseParams : ParamsOf<DatabaseParams> {
  enum ReadFrom { kFromPrimary, kFromReplicas, kFromAny };
  static constexpr const char* kReadFromNames[] = {"primary", "replicas", "any", nullptr};

  int64_t connections = 10;
  Time acquire_timeout = Time::s(30);  // HikariCP's connectionTimeout default
  int64_t max_waiting = INT64_MAX;
  ParamList<QuerySpec> queries;
  Time lock_timeout = Time::s(50);  // InnoDB's innodb_lock_wait_timeout default
  int64_t replicas = 0;
  Distribution replication_lag = Distribution::constant(0.01);
  int read_from = kFromAny;
  int64_t shards = 1;
  DiskSpec disk;
  Time failover_time = Time::s(30);
  ParamList<PrimaryFailureSpec> primary_failures;

  void describe(ParamVisitor& v) override;
  std::string check(const std::vector<std::string>& given) override;
  std::vector<std::string> operations() const override;
};

class Database final : public Component {
 public:
  Database(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;
  void on_params_changed(Simulation& sim, const std::string& param) override;
  void extra_figures(const Simulation& sim,
                     std::vector<std::pair<std::string, double>>& out) const override;

  // Crashes the primary of `shard` now: its queries fail with `unavailable`, writes to the shard
  // are refused until a replica is promoted `failover_time` later (without replicas the primary
  // itself restarts then). Returns false (and does nothing) while the shard is already failing
  // over. (The hook for fault injection; `primary_failures` schedules it from YAML.)
  bool fail_primary(Simulation& sim, uint32_t shard = 0);

  // The shard of a key among `shards`: a fixed mix of the key, the same on every platform.
  static uint32_t shard_of(uint64_t key, uint32_t shards);

  // Read-only views, for tests and front ends.
  const DatabaseParams& config() const { return p_; }
  uint32_t shard_count() const { return static_cast<uint32_t>(shards_.size()); }
  bool primary_up(uint32_t shard) const { return !shards_[shard].failing_over; }
  // Node of the shard's primary: 0 at first, a promoted replica's index after a failover.
  uint32_t primary_node(uint32_t shard) const { return shards_[shard].primary; }
  // Bytes the database's own writes have taken on the shard's disk (a gradual disk_full fault's
  // bytes are not included; the disk_used_bytes gauge shows both).
  int64_t disk_used(uint32_t shard) const { return shards_[shard].disk_used; }
  int64_t busy_connections(uint32_t shard) const { return shards_[shard].all.busy; }
  // Mean busy connections over mean available connections, over the measured period up to `now`:
  // of all the shard's nodes, of whichever node held the primary role at each moment, and of the
  // replicas (0 when there are none).
  double shard_utilization(Time now, uint32_t shard) const;
  double primary_utilization(Time now, uint32_t shard) const;
  double replica_utilization(Time now, uint32_t shard) const;
  int64_t waiting_for_locks() const { return lock_waiting_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  enum EventKind : uint32_t {
    kDone,
    kAcquireTimeout,
    kLockTimeout,
    kFailPrimary,
    kPromote,
    kDiskFillTick
  };
  enum class State : uint8_t { free, waiting_connection, waiting_lock, running };

  // A FIFO threaded through the query slots (prev/next), so that a query that gives up leaves it
  // in O(1) and nothing is allocated per wait.
  struct WaitList {
    uint32_t head = kNone, tail = kNone;
    int64_t size = 0;
  };
  struct Query {
    CallHandle call = 0;
    uint32_t free_next = 0;  // while the slot is free (FreeList)
    uint64_t key = 0;
    Time deadline;  // when the wait in progress (connection or lock) gives up
    uint32_t serial = 0;
    uint32_t prev = kNone, next = kNone;  // in the wait list it is on
    uint32_t shard = 0;
    uint32_t node = 0;           // global node index
    uint32_t key_state = kNone;  // locking writes: the row's lock
    uint16_t cls = 0;            // query class
    State state = State::free;
    bool holds_connection = false;
    bool holds_lock = false;
  };
  struct Node {
    int64_t busy = 0;      // connections in use
    int64_t capacity = 0;  // counted for utilisation: 0 when down
    WaitList waiting;      // queries waiting for a connection
    Time applied_until;    // a replica: when it will have applied every write sent to it
    bool up = true;
    bool draining = false;  // drain() is on the stack for this node
    // Where the node sits - shards_[shard], member `member` of it - kept so that the levels
    // updated at every query's start and end need no division by nodes_per_shard_.
    uint32_t shard = 0;
    uint32_t member = 0;
  };
  // Busy and available connections of a group of nodes, integrated over time (utilisation).
  struct PoolLevels {
    int64_t busy = 0, capacity = 0;
    TimeWeightedLevel busy_level, capacity_level;
    void set(Time now) {
      busy_level.set(now, busy);
      capacity_level.set(now, capacity);
    }
  };
  struct Shard {
    uint32_t primary = 0;  // node index within the shard
    bool failing_over = false;
    uint32_t failover_serial = 0;
    int64_t disk_used = 0;
    PoolLevels all;           // every node of the shard
    PoolLevels primary_role;  // the node that is the primary at each moment
  };
  // Per key, created at the first locking write or replicated commit (looked up, never iterated).
  struct KeyState {
    uint32_t holder = kNone;  // query slot holding the row lock
    WaitList lock_waiters;
    uint32_t versions = kNone;  // index of its per-node visibility times in visible_at_
  };

  uint32_t node_index(uint32_t shard, uint32_t i) const { return shard * nodes_per_shard_ + i; }
  uint32_t choose_read_node(uint32_t shard);
  uint32_t new_query(CallHandle h, uint64_t key, uint32_t shard, uint32_t node, uint16_t cls);
  uint32_t key_state(uint64_t key);
  // The key's per-node visibility times (nodes_per_shard_ of them): when each node of its shard
  // will have applied its latest committed write. nullptr (or zeros) if it was never written.
  const Time* visibility(uint64_t key) const;
  Time* visibility_for_write(uint64_t key);
  const QuerySpec& spec(const Query& q) const { return p_.queries.items[q.cls]; }

  void push_back(WaitList& l, uint32_t slot);
  void remove(WaitList& l, uint32_t slot);
  uint32_t pop_front(WaitList& l);

  void got_connection(Simulation& sim, uint32_t slot);
  void drain(Simulation& sim, uint32_t node);
  void release_lock(Simulation& sim, uint32_t key_state);
  bool disk_refuses(const Query& q, Time now) const;
  // What the shard's disk holds at `now`: the own writes and a gradual fill's bytes, at most the
  // capacity.
  int64_t disk_held(uint32_t shard, Time now) const;
  // Sets the disk_used_bytes gauge to what every shard's disk holds now.
  void show_disk_used(Simulation& sim);
  // While a gradual fill runs, the gauge is brought up to date at every window boundary.
  void schedule_disk_fill_tick(Simulation& sim);
  void execute(Simulation& sim, uint32_t slot);
  void commit(Simulation& sim, const Query& q);
  void finish(Simulation& sim, uint32_t slot, Reason reason);
  void respond(Simulation& sim, CallHandle h, Reason reason);
  void promote(Simulation& sim, uint32_t shard);
  std::vector<CallHandle> take_off_queries(Simulation& sim, uint32_t node);

  void free_query(uint32_t slot);
  void set_busy(Simulation& sim, uint32_t node, int64_t delta);
  void refresh_capacity(Simulation& sim, uint32_t node);
  void sync_shard_levels();
  // Mean busy and mean available connections of `l` over the measured period up to `now`.
  std::pair<double, double> means(const PoolLevels& l, Time now) const;
  void set_queue_level(Simulation& sim);

  DatabaseParams& p_;
  uint32_t nodes_per_shard_ = 1;
  std::vector<Node> nodes_;
  std::vector<Shard> shards_;
  std::vector<Query> queries_;
  FreeList free_queries_;
  KeySlots key_index_;  // key -> its KeyState in keys_
  std::vector<KeyState> keys_;
  std::vector<Time> visible_at_;  // nodes_per_shard_ entries per key with versions
  // Keys below KeySlots::kDenseLimit (the usual case) keep their visibility times here instead,
  // indexed directly by key: a replica read or a replicated commit touches one cache line rather
  // than three dependent ones (key index, key state, times). Grows to a power of two on demand.
  std::vector<Time> dense_visible_at_;  // key * nodes_per_shard_ + node
  Rng time_rng_, read_rng_, lag_rng_;
  int64_t busy_ = 0, capacity_ = 0, waiting_ = 0, lock_waiting_ = 0, disk_total_ = 0;
  Time levels_since_;              // the metrics reset the per-shard levels last followed
  uint32_t disk_fill_serial_ = 0;  // the current chain of fill ticks (older ones are ignored)
};

}  // namespace dsim
