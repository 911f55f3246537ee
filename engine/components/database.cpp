#include "components/database.hpp"

#include <algorithm>
#include <cmath>

#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

// ---------------------------------------------------------------------------------------------
// Parameters

void QuerySpec::describe(ParamVisitor& v) {
  v.text({"name", "name", "The operation's name; callers ask for it with `op:`.", true}, name);
  v.choice({"kind", "choice",
            "read (served by the primary or a replica; never locks) or write (primary only; "
            "replicated, and fills the disk)."},
           kind, kKindNames);
  v.distribution(
      {"time", "distribution",
       "How long the query runs on its connection (after any wait for a row lock).", true},
      time);
  v.flag({"locks", "bool",
          "A write that holds an exclusive lock on the request's key (a row lock) while it runs; "
          "writers of a locked key wait in line, holding their connections."},
         locks);
}

std::string QuerySpec::check() {
  if (name.empty()) return "name: must not be empty";
  if (locks && kind != write) return "locks: only writes take row locks (this query is a read)";
  return {};
}

void DiskSpec::describe(ParamVisitor& v) {
  v.size({"capacity", "size", "Disk space of each shard's primary, e.g. 10GB.", true}, capacity);
  v.size({"write_size", "size", "Bytes each write adds, e.g. 2KiB."}, write_size);
}

void PrimaryFailureSpec::describe(ParamVisitor& v) {
  v.duration({"at", "duration", "When the primary crashes (simulated time since the start).", true},
             at);
  v.count({"shard", "count", "Whose primary: a shard number from 0 to shards - 1."}, shard, 0,
          1023);
}

void DatabaseParams::describe(ParamVisitor& v) {
  v.count({"connections", "count",
           "Connections in each node's pool: the primary's and every replica's, in every shard. "
           "A query holds one while it runs, and while it waits for a row lock.",
           false, true},
          connections, 1, 1'000'000);
  v.duration({"acquire_timeout", "duration",
              "How long a query waits for a free connection before failing with pool_timeout. "
              "0: no waiting; a query that finds every connection busy is refused with "
              "pool_exhausted.",
              false, true},
             acquire_timeout);
  v.count({"max_waiting", "count",
           "Queries that may wait for a connection at one node; more are refused with "
           "pool_exhausted. `unbounded` for no limit.",
           false, true},
          max_waiting, 0, INT64_MAX);
  v.list({"queries", "query classes",
          "The query classes, named operations that callers pick with `op:`; the first is the "
          "default. E.g. [{name: read_user, kind: read, time: {exponential: 2ms}}].",
          true},
         queries);
  v.duration({"lock_timeout", "duration",
              "How long a locking write waits for its row lock (holding its connection) before "
              "failing with lock_timeout. 0: fail at once when the row is locked.",
              false, true},
             lock_timeout);
  v.count({"replicas", "count", "Read replicas per shard, each with its own pool of connections."},
          replicas, 0, 15);
  v.distribution({"replication_lag", "distribution",
                  "How long after a write commits a replica applies it (each replica applies "
                  "writes in commit order).",
                  false, true},
                 replication_lag);
  v.choice({"read_from", "choice",
            "Where reads go: primary, replicas (only), or any (the primary and the replicas "
            "alike); one of them at random, among those up.",
            false, true},
           read_from, kReadFromNames);
  v.count({"shards", "count",
           "Shards, each with its own primary, replicas and disk; a fixed hash of the request's "
           "key picks the shard."},
          shards, 1, 1024);
  v.group({"disk", "block",
           "Disk space that writes fill: {capacity: 10GB, write_size: 2KiB}. When a write finds "
           "no room it fails with disk_full; reads go on. Absent: unlimited."},
          disk);
  v.duration({"failover_time", "duration",
              "From a primary's crash until a replica is promoted (without replicas: until the "
              "primary restarts); writes are refused with unavailable meanwhile.",
              false, true},
             failover_time);
  v.list({"primary_failures", "failures",
          "Scheduled primary crashes, e.g. [{at: 60s}] or [{at: 60s, shard: 2}]."},
         primary_failures);
}

std::string DatabaseParams::check(const std::vector<std::string>& given) {
  auto has = [&](const char* key) {
    return std::find(given.begin(), given.end(), key) != given.end();
  };
  if (queries.empty()) {
    return has("queries") ? "queries: needs at least one query class" : "";  // (else: missing)
  }
  for (size_t i = 0; i < queries.items.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (queries.items[i].name == queries.items[j].name) {
        return "queries: the name '" + queries.items[i].name + "' is used twice";
      }
    }
  }
  if (queries.items.size() > 65535) return "queries: at most 65535 query classes";
  if (replicas == 0 && read_from == kFromReplicas) {
    return "read_from: replicas needs replicas: 1 or more";
  }
  if (replicas == 0 && has("replication_lag")) {
    return "replication_lag applies to replicas, and there are none (set replicas: 1 or more)";
  }
  for (size_t i = 0; i < primary_failures.items.size(); ++i) {
    if (primary_failures.items[i].shard >= shards) {
      return "primary_failures[" + std::to_string(i) + "]: there is no shard " +
             std::to_string(primary_failures.items[i].shard) +
             " (shards: " + std::to_string(shards) + ", numbered from 0)";
    }
  }
  return {};
}

std::vector<std::string> DatabaseParams::operations() const {
  std::vector<std::string> names;
  for (const QuerySpec& q : queries) names.push_back(q.name);
  return names;
}

// ---------------------------------------------------------------------------------------------
// Construction, placement

Database::Database(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "database", std::move(params)),
      p_(static_cast<DatabaseParams&>(this->params())),
      nodes_per_shard_(static_cast<uint32_t>(p_.replicas) + 1),
      nodes_(static_cast<size_t>(p_.shards) * nodes_per_shard_),
      shards_(static_cast<size_t>(p_.shards)) {
  for (uint32_t n = 0; n < nodes_.size(); ++n) {
    nodes_[n].shard = n / nodes_per_shard_;
    nodes_[n].member = n % nodes_per_shard_;
  }
}

void Database::start(Simulation& sim) {
  time_rng_ = sim.make_rng(*this, "query_time");
  read_rng_ = sim.make_rng(*this, "reads");
  lag_rng_ = sim.make_rng(*this, "replication");
  levels_since_ = metrics().since();
  for (uint32_t n = 0; n < nodes_.size(); ++n) refresh_capacity(sim, n);
  if (p_.disk.present) metrics().gauge(Gauge::disk_used_bytes).set(sim.now(), 0);
  if (p_.replicas > 0) metrics().gauge(Gauge::replication_lag_ms).set(sim.now(), 0);
  for (const PrimaryFailureSpec& f : p_.primary_failures) {
    sim.schedule(std::max(f.at, sim.now()), *this, kFailPrimary, static_cast<uint64_t>(f.shard));
  }
}

// splitmix64's finaliser: neighbouring keys land on unrelated shards.
uint32_t Database::shard_of(uint64_t key, uint32_t shards) {
  if (shards <= 1) return 0;
  uint64_t z = key + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  // The same remainder; a mask when it can be one (a 64-bit division takes tens of cycles, on
  // every query).
  if ((shards & (shards - 1)) == 0) return static_cast<uint32_t>(z & (shards - 1));
  return static_cast<uint32_t>(z % shards);
}

// A read goes to one of the nodes `read_from` allows that are up, chosen uniformly (a random draw
// only when there is a choice).
uint32_t Database::choose_read_node(uint32_t shard) {
  const Shard& sh = shards_[shard];
  uint32_t candidates[16];
  uint32_t n = 0;
  for (uint32_t i = 0; i < nodes_per_shard_; ++i) {
    const bool is_primary = i == sh.primary;
    if (is_primary ? p_.read_from == DatabaseParams::kFromReplicas
                   : p_.read_from == DatabaseParams::kFromPrimary) {
      continue;
    }
    if (nodes_[node_index(shard, i)].up) candidates[n++] = node_index(shard, i);
  }
  if (n == 0) return kNone;
  return n == 1 ? candidates[0] : candidates[read_rng_.below(n)];
}

uint32_t Database::new_query(CallHandle h, uint64_t key, uint32_t shard, uint32_t node,
                             uint16_t cls) {
  uint32_t slot = free_queries_.take(queries_);
  Query& q = queries_[slot];
  q.call = h;
  q.key = key;
  q.shard = shard;
  q.node = node;
  q.cls = cls;
  q.key_state = kNone;
  q.prev = q.next = kNone;
  q.holds_connection = q.holds_lock = false;
  return slot;
}

void Database::free_query(uint32_t slot) {
  Query& q = queries_[slot];
  q.state = State::free;
  q.holds_connection = q.holds_lock = false;
  ++q.serial;  // its pending timers no longer match
  free_queries_.push_back(queries_, slot);
}

uint32_t Database::key_state(uint64_t key) {
  uint32_t ks = key_index_.find(key);
  if (ks == KeySlots::kNone) {
    ks = static_cast<uint32_t>(keys_.size());
    key_index_.insert(key, ks);
    keys_.emplace_back();
  }
  return ks;
}

const Time* Database::visibility(uint64_t key) const {
  if (key < KeySlots::kDenseLimit) {
    const size_t base = static_cast<size_t>(key) * nodes_per_shard_;
    return base < dense_visible_at_.size() ? &dense_visible_at_[base] : nullptr;
  }
  const uint32_t ks = key_index_.find(key);
  if (ks == KeySlots::kNone || keys_[ks].versions == kNone) return nullptr;
  return &visible_at_[static_cast<size_t>(keys_[ks].versions) * nodes_per_shard_];
}

Time* Database::visibility_for_write(uint64_t key) {
  if (key < KeySlots::kDenseLimit) {
    const size_t base = static_cast<size_t>(key) * nodes_per_shard_;
    if (base >= dense_visible_at_.size()) {
      size_t keys = dense_visible_at_.empty() ? 64 : dense_visible_at_.size() / nodes_per_shard_;
      while (keys <= key) keys *= 2;
      dense_visible_at_.resize(keys * nodes_per_shard_, Time::zero());
    }
    return &dense_visible_at_[base];
  }
  const uint32_t ks = key_state(key);
  if (keys_[ks].versions == kNone) {
    keys_[ks].versions = static_cast<uint32_t>(visible_at_.size() / nodes_per_shard_);
    visible_at_.resize(visible_at_.size() + nodes_per_shard_, Time::zero());
  }
  return &visible_at_[static_cast<size_t>(keys_[ks].versions) * nodes_per_shard_];
}

void Database::push_back(WaitList& l, uint32_t slot) {
  Query& q = queries_[slot];
  q.prev = l.tail;
  q.next = kNone;
  if (l.tail == kNone) {
    l.head = slot;
  } else {
    queries_[l.tail].next = slot;
  }
  l.tail = slot;
  ++l.size;
}

void Database::remove(WaitList& l, uint32_t slot) {
  Query& q = queries_[slot];
  if (q.prev == kNone) {
    l.head = q.next;
  } else {
    queries_[q.prev].next = q.next;
  }
  if (q.next == kNone) {
    l.tail = q.prev;
  } else {
    queries_[q.next].prev = q.prev;
  }
  q.prev = q.next = kNone;
  --l.size;
}

uint32_t Database::pop_front(WaitList& l) {
  const uint32_t slot = l.head;
  if (slot != kNone) remove(l, slot);
  return slot;
}

// ---------------------------------------------------------------------------------------------
// The connection pool

void Database::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  metrics().on_arrival(sim.now());
  const Call& c = sim.call(h);
  if (c.deadline <= sim.now()) {
    respond(sim, h, Reason::deadline_exceeded);
    return;
  }
  const uint16_t cls = c.op < p_.queries.size() ? c.op : 0;
  const uint64_t key = sim.request(c.request).key;
  const uint32_t shard = shard_of(key, shard_count());
  uint32_t node;
  if (p_.queries.items[cls].kind == QuerySpec::write) {
    if (shards_[shard].failing_over) {
      respond(sim, h, Reason::unavailable);
      return;
    }
    node = node_index(shard, shards_[shard].primary);
  } else {
    node = choose_read_node(shard);
    if (node == kNone) {
      respond(sim, h, Reason::unavailable);
      return;
    }
  }
  const Node& n = nodes_[node];
  if (n.busy < p_.connections && n.waiting.size == 0) {
    got_connection(sim, new_query(h, key, shard, node, cls));
    return;
  }
  if (p_.acquire_timeout <= Time::zero() || n.waiting.size >= p_.max_waiting) {
    respond(sim, h, Reason::pool_exhausted);
    return;
  }
  const uint32_t slot = new_query(h, key, shard, node, cls);
  Query& q = queries_[slot];
  q.state = State::waiting_connection;
  q.deadline = sim.now() + p_.acquire_timeout;
  push_back(nodes_[node].waiting, slot);
  ++waiting_;
  set_queue_level(sim);
  sim.schedule(q.deadline, *this, kAcquireTimeout, pack_handle(slot, q.serial));
}

// Hands free connections of `node` to its waiting queries, first come first served. A waiter
// whose acquire timeout ends at this very instant is too late: the rule does not depend on which
// of the two same-instant events runs first.
void Database::drain(Simulation& sim, uint32_t node) {
  if (nodes_[node].draining) return;  // the loop further up the stack carries on
  nodes_[node].draining = true;
  for (;;) {
    Node& n = nodes_[node];
    if (!n.up || n.busy >= p_.connections || n.waiting.size == 0) break;
    const uint32_t slot = pop_front(n.waiting);
    --waiting_;
    set_queue_level(sim);
    const Query& q = queries_[slot];
    if (q.deadline <= sim.now()) {
      finish(sim, slot, Reason::pool_timeout);
    } else if (sim.call(q.call).deadline <= sim.now()) {
      finish(sim, slot, Reason::deadline_exceeded);  // its caller gave up (propagated deadline)
    } else {
      got_connection(sim, slot);
    }
  }
  nodes_[node].draining = false;
}

void Database::got_connection(Simulation& sim, uint32_t slot) {
  {
    Query& q = queries_[slot];
    q.holds_connection = true;
    q.state = State::running;
    set_busy(sim, q.node, +1);
    metrics().on_service_start(sim.now() - sim.call(q.call).received);
    if (!spec(q).locks) {
      execute(sim, slot);
      return;
    }
  }
  // ---- Row locks: a locking write takes the key's lock, or queues for it holding its connection.
  const uint32_t ks = key_state(queries_[slot].key);
  Query& q = queries_[slot];
  q.key_state = ks;
  KeyState& k = keys_[ks];
  if (k.holder == kNone && k.lock_waiters.size == 0) {
    if (disk_refuses(q, sim.now())) {
      finish(sim, slot, Reason::disk_full);
      return;
    }
    k.holder = slot;
    q.holds_lock = true;
    execute(sim, slot);
    return;
  }
  if (p_.lock_timeout <= Time::zero()) {
    finish(sim, slot, Reason::lock_timeout);
    return;
  }
  q.state = State::waiting_lock;
  q.deadline = sim.now() + p_.lock_timeout;
  push_back(k.lock_waiters, slot);
  ++lock_waiting_;
  sim.schedule(q.deadline, *this, kLockTimeout, pack_handle(slot, q.serial));
}

// The lock of a key was let go: the first waiter still in time (and with room on disk) takes
// it. Waiters that cannot take it are answered on the way; a loop rather than recursion, so that
// a long line of refusals cannot exhaust the stack. Answers may start other queries, one of
// which may take the lock first: then the rest keep waiting behind it.
void Database::release_lock(Simulation& sim, uint32_t ks) {
  for (;;) {
    KeyState& k = keys_[ks];
    if (k.holder != kNone) return;
    const uint32_t slot = pop_front(k.lock_waiters);
    if (slot == kNone) return;
    --lock_waiting_;
    Query& q = queries_[slot];
    q.state = State::running;
    if (q.deadline <= sim.now()) {
      finish(sim, slot, Reason::lock_timeout);
    } else if (disk_refuses(q, sim.now())) {
      finish(sim, slot, Reason::disk_full);
    } else {
      k.holder = slot;
      q.holds_lock = true;
      execute(sim, slot);
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running a query

// A disk_full fault refuses every write; a gradual one takes its bytes from each shard's disk.
bool Database::disk_refuses(const Query& q, Time now) const {
  if (spec(q).kind != QuerySpec::write) return false;
  if (faults().active) [[unlikely]] {
    if (faults().disk_full) return true;
    if (p_.disk.present && p_.disk.write_size > p_.disk.capacity - shards_[q.shard].disk_used -
                                                    faults().disk_taken(now)) {
      return true;
    }
  }
  return p_.disk.present && p_.disk.write_size > p_.disk.capacity - shards_[q.shard].disk_used;
}

int64_t Database::disk_held(uint32_t shard, Time now) const {
  const int64_t used = shards_[shard].disk_used;
  const int64_t taken = faults().disk_taken(now);
  return taken >= p_.disk.capacity - used ? std::max(used, p_.disk.capacity) : used + taken;
}

// The gauge is what a `df` on each primary would show: the own writes, plus what a gradual
// disk_full fault has taken so far (its filler's file), at most the capacity.
void Database::show_disk_used(Simulation& sim) {
  int64_t held = disk_total_;
  if (faults().disk_fill_per_second > 0) [[unlikely]] {
    held = 0;
    for (uint32_t s = 0; s < shards_.size(); ++s) held += disk_held(s, sim.now());
  }
  metrics().gauge(Gauge::disk_used_bytes).set(sim.now(), held);
}

// The next window boundary (windows are whole multiples of `window` from the start; the last ends
// at the end of the run), as an ordinary event: it comes before the window's close at that
// instant, so each window's gauge reading is the fill at its end. The chain stops when the fault
// ends (a new serial) or when every shard's disk is full (nothing changes until the fault ends).
void Database::schedule_disk_fill_tick(Simulation& sim) {
  if (faults().disk_fill_per_second <= 0 || sim.now() >= sim.end_time()) return;
  bool room = false;
  for (uint32_t s = 0; s < shards_.size() && !room; ++s) {
    room = disk_held(s, sim.now()) < p_.disk.capacity;
  }
  if (!room) return;
  const int64_t w = sim.window().count_ns();
  const Time next = std::min(Time::ns((sim.now().count_ns() / w + 1) * w), sim.end_time());
  sim.schedule(next, *this, kDiskFillTick, disk_fill_serial_);
}

// The query has its connection (and its lock): it runs now. A write takes its bytes at this
// point, so the disk never holds more than its capacity; a read on a replica checks whether the
// replica has caught up with the key's latest committed write.
void Database::execute(Simulation& sim, uint32_t slot) {
  Query& q = queries_[slot];
  const QuerySpec& s = spec(q);
  Shard& sh = shards_[q.shard];
  if (s.kind == QuerySpec::write) {
    if (disk_refuses(q, sim.now())) {
      finish(sim, slot, Reason::disk_full);
      return;
    }
    if (p_.disk.present) {
      sh.disk_used += p_.disk.write_size;
      disk_total_ += p_.disk.write_size;
      show_disk_used(sim);
    }
  } else if (q.node != node_index(q.shard, sh.primary)) {
    const Time* visible = visibility(q.key);
    if (visible && visible[q.node - node_index(q.shard, 0)] > sim.now()) {
      metrics().count(Counter::stale_reads);
    }
  }
  q.state = State::running;
  Time t = s.time.sample(time_rng_);
  if (faults().active) [[unlikely]]
    t = faults().stretch(t, sim.call(q.call).caller);
  sim.schedule(sim.now() + t, *this, kDone, pack_handle(slot, q.serial));
}

// A write commits: every replica that is up will apply it replication_lag later, but not before
// the writes committed earlier (a replica replays the primary's log in order).
void Database::commit(Simulation& sim, const Query& q) {
  if (spec(q).kind != QuerySpec::write || nodes_per_shard_ == 1) return;
  const Shard& sh = shards_[q.shard];
  const uint64_t key = q.key;
  const uint32_t shard = q.shard;
  Time* visible = visibility_for_write(key);
  Time worst = Time::zero();
  bool any = false;
  for (uint32_t i = 0; i < nodes_per_shard_; ++i) {
    Node& n = nodes_[node_index(shard, i)];
    if (i == sh.primary || !n.up) continue;
    const Time apply = std::max(sim.now() + p_.replication_lag.sample(lag_rng_), n.applied_until);
    n.applied_until = apply;
    visible[i] = apply;
    worst = std::max(worst, apply - sim.now());
    any = true;
  }
  if (any) {
    metrics()
        .gauge(Gauge::replication_lag_ms)
        .set(sim.now(), std::llround(static_cast<double>(worst.count_ns()) * 1e-6));
  }
}

// Ends a query: lets go of its lock (the next writer takes it), then of its connection (the next
// waiter takes it), then answers the caller - so a caller that calls again at once queues behind
// the queries already waiting.
void Database::finish(Simulation& sim, uint32_t slot, Reason reason) {
  const Query& q = queries_[slot];
  const CallHandle h = q.call;
  const uint32_t node = q.node;
  const bool connection = q.holds_connection;
  const bool lock = q.holds_lock;
  const uint32_t ks = q.key_state;
  free_query(slot);
  if (lock) {
    keys_[ks].holder = kNone;
    release_lock(sim, ks);
  }
  if (connection) {
    set_busy(sim, node, -1);
    drain(sim, node);
  }
  respond(sim, h, reason);
}

void Database::respond(Simulation& sim, CallHandle h, Reason reason) {
  if (reason == Reason::none) {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
    sim.reply(h, Reply::success());
  } else {
    metrics().on_lost(sim.now(), outcome_of(reason), reason);
    sim.reply(h, Reply::failure(reason));
  }
}

void Database::on_event(Simulation& sim, const Event& e) {
  switch (e.kind) {
    case kFailPrimary:
      fail_primary(sim, static_cast<uint32_t>(e.payload));
      return;
    case kPromote:
      if (payload_handle(e.payload) < shards_.size() &&
          shards_[payload_handle(e.payload)].failover_serial == payload_serial(e.payload)) {
        promote(sim, payload_handle(e.payload));
      }
      return;
    case kDiskFillTick:
      if (e.payload != disk_fill_serial_) return;  // the fill it belonged to has changed
      show_disk_used(sim);
      schedule_disk_fill_tick(sim);
      return;
    default:
      break;
  }
  const uint32_t slot = payload_handle(e.payload);
  if (slot >= queries_.size() || queries_[slot].serial != payload_serial(e.payload)) return;
  Query& q = queries_[slot];
  switch (e.kind) {
    case kDone:
      if (q.state != State::running) return;
      commit(sim, q);
      finish(sim, slot, Reason::none);
      return;
    case kAcquireTimeout:
      if (q.state != State::waiting_connection) return;
      remove(nodes_[q.node].waiting, slot);
      --waiting_;
      set_queue_level(sim);
      finish(sim, slot, Reason::pool_timeout);
      return;
    case kLockTimeout:
      if (q.state != State::waiting_lock) return;
      remove(keys_[q.key_state].lock_waiters, slot);
      --lock_waiting_;
      finish(sim, slot, Reason::lock_timeout);
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Failover

bool Database::fail_primary(Simulation& sim, uint32_t shard) {
  if (shard >= shards_.size() || shards_[shard].failing_over) return false;
  Shard& sh = shards_[shard];
  const uint32_t node = node_index(shard, sh.primary);
  sh.failing_over = true;
  ++sh.failover_serial;
  metrics().count(Counter::failovers);
  nodes_[node].up = false;
  // Take every query off the node first and answer afterwards: answers may bring new calls,
  // which must find the node down, not half torn down. (Every lock of the shard is held or
  // awaited by a write on this node, so the shard's locks are all free afterwards.)
  std::vector<CallHandle> lost = take_off_queries(sim, node);
  refresh_capacity(sim, node);
  sim.schedule(sim.now() + p_.failover_time, *this, kPromote,
               pack_handle(shard, sh.failover_serial));
  for (CallHandle h : lost) respond(sim, h, Reason::unavailable);
  return true;
}

// Takes every query on `node` (on every node: kNone) off the database - out of its wait list,
// its lock and connection given back - and returns their calls, to be answered once the state
// is whole again.
std::vector<CallHandle> Database::take_off_queries(Simulation& sim, uint32_t node) {
  std::vector<CallHandle> lost;
  for (uint32_t slot = 0; slot < queries_.size(); ++slot) {
    Query& q = queries_[slot];
    if (q.state == State::free || (node != kNone && q.node != node)) continue;
    if (q.state == State::waiting_connection) {
      remove(nodes_[q.node].waiting, slot);
      --waiting_;
    } else if (q.state == State::waiting_lock) {
      remove(keys_[q.key_state].lock_waiters, slot);
      --lock_waiting_;
    }
    if (q.holds_lock) keys_[q.key_state].holder = kNone;
    if (q.holds_connection) set_busy(sim, q.node, -1);
    lost.push_back(q.call);
    free_query(slot);  // its pending timers no longer match
  }
  set_queue_level(sim);
  return lost;
}

// A crashed database process loses the queries it was running and those waiting: their callers
// get `unavailable` (new calls are refused at the door while it is down). What was committed
// stays - the disk and the replicas keep it.
//
// A gradual disk_full fault's bytes show in the disk_used_bytes gauge while it lasts; when it ends
// they are gone (a fault injector's filler removes its file), and the gauge falls back to the
// own writes.
void Database::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (p_.disk.present && (faults().disk_fill_per_second != before.disk_fill_per_second ||
                          faults().disk_fill_since != before.disk_fill_since)) {
    ++disk_fill_serial_;
    show_disk_used(sim);
    schedule_disk_fill_tick(sim);
  }
  if (!faults().crashed || before.crashed) return;
  for (CallHandle h : take_off_queries(sim, kNone)) {
    if (!left_hanging_by_crash(sim, *this, h)) respond(sim, h, Reason::unavailable);
  }
}

// The first replica that is up becomes the primary (its running reads carry on); without one, the
// old primary restarts with an empty pool.
void Database::promote(Simulation& sim, uint32_t shard) {
  Shard& sh = shards_[shard];
  if (!sh.failing_over) return;
  uint32_t chosen = kNone;
  for (uint32_t i = 0; i < nodes_per_shard_ && chosen == kNone; ++i) {
    if (i != sh.primary && nodes_[node_index(shard, i)].up) chosen = i;
  }
  if (chosen == kNone) {
    const uint32_t node = node_index(shard, sh.primary);
    nodes_[node].up = true;
    refresh_capacity(sim, node);
  } else {
    // The role moves: from now on the promoted node's connections count as the primary's.
    sh.primary = chosen;
    const Node& n = nodes_[node_index(shard, chosen)];
    sync_shard_levels();
    sh.primary_role.busy = n.busy;
    sh.primary_role.capacity = n.capacity;
    sh.primary_role.set(sim.now());
  }
  sh.failing_over = false;
}

// ---------------------------------------------------------------------------------------------
// Levels, live changes and figures

void Database::set_busy(Simulation& sim, uint32_t node, int64_t delta) {
  Node& n = nodes_[node];
  Shard& sh = shards_[n.shard];
  n.busy += delta;
  busy_ += delta;
  sync_shard_levels();
  // (Only the busy levels change: a level integrates lazily, so leaving the capacity levels
  // alone until they change gives the same areas.)
  sh.all.busy += delta;
  sh.all.busy_level.set(sim.now(), sh.all.busy);
  if (n.member == sh.primary) {
    sh.primary_role.busy += delta;
    sh.primary_role.busy_level.set(sim.now(), sh.primary_role.busy);
  }
  metrics().busy().set(sim.now(), busy_);
  refresh_capacity(sim, node);
}

// Connections counted as available: after a live decrease the surplus busy ones still count until
// they are returned (so utilisation never exceeds 100 %); a node that is down counts none.
void Database::refresh_capacity(Simulation& sim, uint32_t node) {
  Node& n = nodes_[node];
  const int64_t cap = n.up ? std::max(p_.connections, n.busy) : 0;
  if (cap == n.capacity) return;
  Shard& sh = shards_[n.shard];
  const int64_t delta = cap - n.capacity;
  n.capacity = cap;
  capacity_ += delta;
  sync_shard_levels();
  sh.all.capacity += delta;
  sh.all.capacity_level.set(sim.now(), sh.all.capacity);
  if (n.member == sh.primary) {
    sh.primary_role.capacity += delta;
    sh.primary_role.capacity_level.set(sim.now(), sh.primary_role.capacity);
  }
  metrics().capacity().set(sim.now(), capacity_);
}

void Database::set_queue_level(Simulation& sim) {
  metrics().queue().set(sim.now(), waiting_);
}

// The per-shard levels follow the component's metrics resets (the end of the warm-up): the first
// change after a reset starts them afresh from the reset instant. They were constant from their
// last change until then, so nothing is lost by doing it late.
void Database::sync_shard_levels() {
  const Time since = metrics().since();
  if (since == levels_since_) return;
  for (Shard& sh : shards_) {
    for (PoolLevels* l : {&sh.all, &sh.primary_role}) {
      l->busy_level.reset(since);
      l->capacity_level.reset(since);
    }
  }
  levels_since_ = since;
}

std::pair<double, double> Database::means(const PoolLevels& l, Time now) const {
  const Time since = metrics().since();
  if (since != levels_since_) {  // nothing changed since the reset: the levels are the means
    return {static_cast<double>(l.busy), static_cast<double>(l.capacity)};
  }
  return {l.busy_level.mean(since, now), l.capacity_level.mean(since, now)};
}

double Database::shard_utilization(Time now, uint32_t shard) const {
  const auto [busy, cap] = means(shards_[shard].all, now);
  return cap > 0 ? busy / cap : 0;
}

double Database::primary_utilization(Time now, uint32_t shard) const {
  const auto [busy, cap] = means(shards_[shard].primary_role, now);
  return cap > 0 ? busy / cap : 0;
}

double Database::replica_utilization(Time now, uint32_t shard) const {
  const auto [all_busy, all_cap] = means(shards_[shard].all, now);
  const auto [primary_busy, primary_cap] = means(shards_[shard].primary_role, now);
  const double cap = all_cap - primary_cap;
  return cap > 1e-9 ? (all_busy - primary_busy) / cap : 0;
}

// Per shard (with several) its utilisation and disk; with replicas, the primary's and the
// replicas' utilisation apart - a hot key shows as a hot shard, and writes as a hot primary.
void Database::extra_figures(const Simulation& sim,
                             std::vector<std::pair<std::string, double>>& out) const {
  for (uint32_t s = 0; s < shards_.size(); ++s) {
    const std::string prefix = shards_.size() > 1 ? "shard" + std::to_string(s) + "." : "";
    if (shards_.size() > 1)
      out.emplace_back(prefix + "utilization", shard_utilization(sim.now(), s));
    if (p_.replicas > 0) {
      out.emplace_back(prefix + "primary.utilization", primary_utilization(sim.now(), s));
      out.emplace_back(prefix + "replicas.utilization", replica_utilization(sim.now(), s));
    }
    if (shards_.size() > 1 && p_.disk.present) {
      out.emplace_back(prefix + "disk_used_bytes", static_cast<double>(disk_held(s, sim.now())));
    }
  }
}

void Database::on_params_changed(Simulation& sim, const std::string& param) {
  if (param == "connections") {
    // More connections serve waiting queries at once; fewer take effect as queries finish.
    for (uint32_t n = 0; n < nodes_.size(); ++n) {
      refresh_capacity(sim, n);
      drain(sim, n);
    }
  }
  // The other live parameters apply to the queries that arrive (or start waiting) from now on.
}

}  // namespace dsim
