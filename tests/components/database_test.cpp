// database: the connection pool (no waiting, acquire timeout, bounded waiting), row locks, read
// replicas and stale reads, sharding by key, the disk, failover, live changes and load errors.
//
// Most scenarios are deterministic - constant arrivals (a source at r/s emits at 1/r, 2/r, ...)
// and constant query times - so that every instant can be worked out by hand in the comment
// above the test. The one statistical test (sharding) states its tolerance.
#include "components/database.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

const Database& database_of(const Simulation& sim, const std::string& name = "db") {
  return dynamic_cast<const Database&>(find_component(sim, name));
}

Database& mutable_database(Simulation& sim, const std::string& name = "db") {
  return dynamic_cast<Database&>(*sim.components()[find_component(sim, name).index()]);
}

int64_t ns(const Finished& f) {
  return (f.finished - f.created).count_ns();
}

// ---- The connection pool ---------------------------------------------------------------------

// Two connections, no waiting (acquire_timeout 0), queries of 250 ms arriving at 0.1s ... 0.6s:
//   0.1 q1 takes c1 (to 0.35)   0.2 q2 takes c2 (to 0.45)   0.3 q3 finds both busy: refused
//   0.4 q4 takes c1 (to 0.65)   0.5 q5 takes c2 (to 0.75)   0.6 q6 finds both busy: refused
TEST(Database, WithoutWaitingAQueryThatFindsNoFreeConnectionIsRefusedAtOnce) {
  const std::string yaml = R"(
name: no-wait
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 6, target: db}
  db:
    kind: database
    connections: 2
    acquire_timeout: 0
    queries: [{name: get, time: 250ms}]
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 6u);
  for (const Finished& f : log.entries) {
    const bool refused = f.id == 3 || f.id == 6;
    EXPECT_EQ(f.reason, refused ? Reason::pool_exhausted : Reason::none) << "request " << f.id;
    EXPECT_EQ(f.outcome, refused ? Outcome::dropped : Outcome::completed);
    EXPECT_EQ(ns(f), refused ? 0 : Time::ms(250).count_ns());
  }
  const StationMetrics& m = metrics_of(*sim, "db");
  EXPECT_EQ(m.busy().max(), 2);
  EXPECT_EQ(m.queue().max(), 0);
  EXPECT_EQ(m.dropped()[static_cast<int>(Reason::pool_exhausted)], 2u);
  // Busy connection-seconds 4 x 0.25 s over capacity 2 x 10 s.
  EXPECT_DOUBLE_EQ(component(summarize(*sim), "db").utilization, 1.0 / 20);
}

// One connection held for 1 s from 0.1s; queries at 0.2s and 0.3s wait 150 ms and fail with
// pool_timeout at 0.35s and 0.45s exactly.
TEST(Database, AQueryWaitsForAConnectionForExactlyTheAcquireTimeout) {
  const std::string yaml = R"(
name: acquire
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 3, target: db}
  db:
    kind: database
    connections: 1
    acquire_timeout: 150ms
    queries: [{name: get, time: 1s}]
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 3u);
  EXPECT_EQ(log.ids(), (std::vector<uint64_t>{2, 3, 1}));
  for (const Finished& f : log.entries) {
    if (f.id == 1) {
      EXPECT_EQ(f.reason, Reason::none);
      EXPECT_EQ(f.finished.count_ns(), Time::ms(1100).count_ns());
    } else {
      EXPECT_EQ(f.reason, Reason::pool_timeout);
      EXPECT_EQ(f.outcome, Outcome::failed);
      EXPECT_EQ(ns(f), Time::ms(150).count_ns());
    }
  }
  EXPECT_EQ(metrics_of(*sim, "db").queue().max(), 2);
}

// A connection that comes free at the very instant a waiter's acquire timeout ends is too late
// for it. q1 holds the only connection 0.1s-0.3s; q2 arrives at 0.2s. With a 100 ms timeout q2
// gives up at 0.3s, the instant q1 returns its connection; with 101 ms it gets the connection at
// 0.3s and completes at 0.5s.
TEST(Database, AConnectionFreedAtTheTimeoutInstantComesTooLate) {
  for (const int timeout_ms : {100, 101}) {
    SCOPED_TRACE(timeout_ms);
    const std::string yaml = R"(
name: boundary
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 2, target: db}
  db:
    kind: database
    connections: 1
    acquire_timeout: )" + std::to_string(timeout_ms) +
                             R"(ms
    queries: [{name: get, time: 200ms}]
)";
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    ASSERT_EQ(log.entries.size(), 2u);
    const Finished& q2 = log.entries[0].id == 2 ? log.entries[0] : log.entries[1];
    if (timeout_ms == 100) {
      EXPECT_EQ(q2.reason, Reason::pool_timeout);
      EXPECT_EQ(q2.finished.count_ns(), Time::ms(300).count_ns());
    } else {
      EXPECT_EQ(q2.reason, Reason::none);
      EXPECT_EQ(q2.finished.count_ns(), Time::ms(500).count_ns());
      EXPECT_EQ(metrics_of(*sim, "db").wait().max(), Time::ms(100).count_ns());
    }
  }
}

// max_waiting bounds the line: q1 runs 0.1s-1.1s, q2 waits, q3 finds the line full.
TEST(Database, MaxWaitingRefusesQueriesBeyondTheBound) {
  const std::string yaml = R"(
name: bounded
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 3, target: db}
  db:
    kind: database
    connections: 1
    acquire_timeout: 10s
    max_waiting: 1
    queries: [{name: get, time: 1s}]
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(log.ids(), (std::vector<uint64_t>{3, 1, 2}));
  EXPECT_EQ(log.entries[0].reason, Reason::pool_exhausted);
  EXPECT_EQ(log.entries[0].finished.count_ns(), Time::ms(300).count_ns());
  EXPECT_EQ(log.entries[2].finished.count_ns(), Time::ms(2100).count_ns());
  EXPECT_EQ(metrics_of(*sim, "db").waited(), 1u);
}

// ---- Row locks -------------------------------------------------------------------------------

std::string lock_scenario(const std::string& db_extra, const std::string& source_extra = "",
                          int requests = 2) {
  return R"(
name: locks
duration: 20s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: )" +
         std::to_string(requests) + "\n" + source_extra + R"(    target: db
  db:
    kind: database
    queries:
      - {name: put, kind: write, time: 1s, locks: true}
)" + db_extra;
}

// Writes to one key at 0.1s, 0.2s, 0.3s, each holding the row for 1 s: they run one after the
// other (0.1-1.1, 1.1-2.1, 2.1-3.1) in arrival order, each holding a connection while it waits.
TEST(Database, WritesToTheSameKeySerializeInArrivalOrder) {
  Simulation sim(load_text(lock_scenario("", "", 3)));
  RequestLog log;
  sim.add_observer(&log);
  sim.run_until(Time::ms(500));
  const Database& db = database_of(sim);
  EXPECT_EQ(db.waiting_for_locks(), 2);
  EXPECT_EQ(metrics_of(sim, "db").busy().level(), 3) << "lock waiters keep their connections";
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(log.ids(), (std::vector<uint64_t>{1, 2, 3}));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(log.entries[i].reason, Reason::none);
    EXPECT_EQ(log.entries[i].finished.count_ns(), Time::ms(1100 + 1000 * i).count_ns());
  }
  EXPECT_EQ(metrics_of(sim, "db").wait().max(), 0) << "connections were free: no pool wait";
}

// With lock_timeout 500ms the second writer gives up at 0.7s; the third (0.3s) at 0.8s.
TEST(Database, AWriteWaitsForARowLockForExactlyTheLockTimeout) {
  RequestLog log;
  auto sim = run_checked(lock_scenario("    lock_timeout: 500ms\n", "", 3), {&log});
  EXPECT_EQ(log.ids(), (std::vector<uint64_t>{2, 3, 1}));
  for (const Finished& f : log.entries) {
    if (f.id == 1) continue;
    EXPECT_EQ(f.reason, Reason::lock_timeout);
    EXPECT_EQ(f.outcome, Outcome::failed);
    EXPECT_EQ(ns(f), Time::ms(500).count_ns());
  }
  EXPECT_EQ(log.entries[2].finished.count_ns(), Time::ms(1100).count_ns());
  // lock_timeout 0: the second writer fails the moment it finds the row locked.
  RequestLog at_once;
  run_checked(lock_scenario("    lock_timeout: 0\n"), {&at_once});
  EXPECT_EQ(at_once.entries[0].id, 2u);
  EXPECT_EQ(at_once.entries[0].reason, Reason::lock_timeout);
  EXPECT_EQ(ns(at_once.entries[0]), 0);
}

// Keys drawn from a million: the five writes (checked to have distinct keys) overlap freely.
TEST(Database, WritesToDifferentKeysDoNotBlockEachOther) {
  RequestLog log;
  run_checked(lock_scenario("", "    keys: {uniform: 1000000}\n", 5), {&log});
  std::set<uint64_t> keys;
  for (const Finished& f : log.entries) {
    keys.insert(f.key);
    EXPECT_EQ(ns(f), Time::s(1).count_ns());
  }
  ASSERT_EQ(keys.size(), 5u) << "the fixed seed happened to repeat a key";
}

TEST(Database, WritesWithoutLocksOnTheSameKeyOverlap) {
  const std::string yaml = R"(
name: nolocks
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 3, target: db}
  db:
    kind: database
    queries: [{name: put, kind: write, time: 1s}]
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  for (const Finished& f : log.entries) EXPECT_EQ(ns(f), Time::s(1).count_ns());
  EXPECT_EQ(metrics_of(*sim, "db").busy().max(), 3);
}

// A lock waiter also needs a connection first: with one connection, the second writer waits in
// the pool (not for the lock) until the first is done.
TEST(Database, ALockWaiterHoldsItsConnectionSoOthersWaitInThePool) {
  const std::string yaml = R"(
name: pool-and-lock
duration: 10s
components:
  writers: {kind: source, arrivals: {constant: 10/s}, max_requests: 2, target: db}
  readers: {kind: source, arrivals: {constant: 4/s}, max_requests: 1, target: reader}
  reader: {kind: service, handler: [{call: db, op: get}]}
  db:
    kind: database
    connections: 2
    acquire_timeout: 10s
    queries:
      - {name: put, kind: write, time: 1s, locks: true}
      - {name: get, kind: read, time: 10ms}
)";
  // put 0.1-1.1 holds c1; put 0.2 holds c2 waiting for the lock (1.1-2.1); the read at 0.25s
  // finds both connections taken and waits until 1.1s, then runs 1.1-1.11.
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 3u);
  EXPECT_EQ(log.ids(), (std::vector<uint64_t>{1, 3, 2}));
  EXPECT_EQ(log.entries[1].finished.count_ns(), Time::ms(1110).count_ns());
  EXPECT_EQ(log.entries[2].finished.count_ns(), Time::ms(2100).count_ns());
  EXPECT_EQ(metrics_of(*sim, "db").wait().max(), Time::ms(850).count_ns());
}

// ---- Read replicas ---------------------------------------------------------------------------

// Reads of key 0 on the replica every 100 ms (0.1s ... 2.0s); one write of key 0 arrives at 1.0s
// (before the read of that instant: the writer's arrival was scheduled first) and commits at
// 1.01s. The replica applies it at 1.01s + lag: reads that start before then are stale, a read at
// exactly that instant is not. lag 50ms: none (visible at 1.06s); 250ms: 1.1s and 1.2s; 290ms
// (visible at 1.3s exactly): still 2; 291ms: 3. The read at 1.0s came before the commit: fresh.
std::string replica_scenario(const std::string& lag, const std::string& read_from = "replicas") {
  return R"(
name: replicas
duration: 5s
components:
  readers: {kind: source, arrivals: {constant: 10/s}, max_requests: 20, target: db}
  writers: {kind: source, arrivals: {constant: 1/s}, max_requests: 1, target: writer}
  writer: {kind: service, handler: [{call: db, op: put}]}
  db:
    kind: database
    queries:
      - {name: get, kind: read, time: 1ms}
      - {name: put, kind: write, time: 10ms}
    replicas: 1
    read_from: )" +
         read_from + R"(
    replication_lag: )" +
         lag + "\n";
}

TEST(Database, ReadsFromAReplicaBeforeItAppliesTheLatestWriteAreStale) {
  for (const auto& [lag, stale] : std::vector<std::pair<std::string, uint64_t>>{
           {"50ms", 0}, {"250ms", 2}, {"290ms", 2}, {"291ms", 3}}) {
    SCOPED_TRACE("lag " + lag);
    auto sim = run_checked(replica_scenario(lag));
    const StationMetrics& m = metrics_of(*sim, "db");
    EXPECT_EQ(m.counter(Counter::stale_reads), stale);
    EXPECT_EQ(m.served(), 21u);
    const int64_t lag_ms = std::stoll(lag);
    EXPECT_EQ(m.gauge(Gauge::replication_lag_ms).level(), lag_ms);
  }
}

// The primary and the replicas are told apart in the figures: the replica served 20 reads of 1 ms
// and the primary one write of 10 ms, each with 10 connections over 5 s.
TEST(Database, ThePrimaryAndTheReplicasHaveTheirOwnUtilisation) {
  auto sim = run_checked(replica_scenario("250ms"));
  const Database& db = database_of(*sim);
  EXPECT_NEAR(db.replica_utilization(sim->now(), 0), 20 * 0.001 / 50, 1e-15);
  EXPECT_NEAR(db.primary_utilization(sim->now(), 0), 0.01 / 50, 1e-15);
  const RunSummary summary = summarize(*sim);
  const ComponentSummary& c = component(summary, "db");
  ASSERT_EQ(c.figures.size(), 2u);
  EXPECT_EQ(c.figures[0].first, "primary.utilization");
  EXPECT_EQ(c.figures[1].first, "replicas.utilization");
  EXPECT_NEAR(c.utilization, 0.030 / 100, 1e-15);
}

TEST(Database, ReadsFromThePrimaryAreNeverStale) {
  auto sim = run_checked(replica_scenario("291ms", "primary"));
  EXPECT_EQ(metrics_of(*sim, "db").counter(Counter::stale_reads), 0u);
}

// A replica replays the primary's log in order: a write whose own lag is short still becomes
// visible only after the writes committed before it. Write A (key 0, at 1.0s) commits at 1.01s
// with a lag of 2 s, so the replica applies it at 3.01s. At 1.5s the lag is set live to 10 ms,
// and write B (key 0, at 2.0s) commits at 2.01s: applied on its own it would be visible at 2.02s,
// but in log order it comes after A, at 3.01s (a lag of 1000 ms).
TEST(Database, AReplicaAppliesWritesInCommitOrder) {
  const std::string yaml = R"(
name: order
duration: 5s
components:
  readers: {kind: source, arrivals: {constant: 2/s}, max_requests: 8, target: db}
  writers: {kind: source, arrivals: {constant: 1/s}, max_requests: 2, target: writer}
  writer: {kind: service, handler: [{call: db, op: put}]}
  db:
    kind: database
    queries:
      - {name: get, kind: read, time: 1ms}
      - {name: put, kind: write, time: 10ms}
    replicas: 1
    read_from: replicas
    replication_lag: 2s
)";
  // Reads at 0.5s, 1.0s, ... 4.0s; those at 1.5s ... 3.0s start before 3.01s: 4 stale.
  Simulation sim(load_text(yaml));
  sim.run_until(Time::ms(1500));
  ASSERT_EQ(sim.set_parameter("db", "replication_lag", "10ms"), "");
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(metrics_of(sim, "db").counter(Counter::stale_reads), 4u);
  EXPECT_EQ(metrics_of(sim, "db").gauge(Gauge::replication_lag_ms).max(), 2000);
  EXPECT_EQ(metrics_of(sim, "db").gauge(Gauge::replication_lag_ms).level(), 1000)
      << "B's lag: applied at 3.01s, committed at 2.01s";
}

// read_from: any sends each read to the primary or a replica uniformly at random, and each node
// has its own pool. Three nodes of one connection each, no waiting, reads at 100/s of exponential
// 10 ms: by Poisson splitting each node is an M/M/1/1 loss system offered a = 1/3, which blocks
// with Erlang B(1, a) = a / (1 + a) = 0.25 (all reads on one node would block half of them).
// Standard error as in the service's M/M/1/1 test: per node a / (K (1 + a)^3) with K = T /
// (1/lambda_n + 1/mu) = 100 s / 40 ms = 2500 cycles, and the three nodes are independent: SE =
// sqrt(0.0000563 / 3) = 0.0043.
TEST(Database, ReadsFromAnySpreadAtRandomOverThePrimaryAndTheReplicas) {
  const std::string yaml = R"(
name: spread
seed: 5
duration: 100s
components:
  users: {kind: source, arrivals: {poisson: 100/s}, target: db}
  db:
    kind: database
    connections: 1
    acquire_timeout: 0
    queries: [{name: get, time: {exponential: 10ms}}]
    replicas: 2
)";
  auto sim = run_checked(yaml);
  const StationMetrics& m = metrics_of(*sim, "db");
  EXPECT_EQ(m.capacity().level(), 3) << "every node's pool counts";
  const double a = 1.0 / 3;
  const double cycles = 100 / (3 / 100.0 + 1 / 100.0);
  const double se = std::sqrt(a / (cycles * std::pow(1 + a, 3)) / 3);
  const double blocked =
      static_cast<double>(m.dropped()[static_cast<int>(Reason::pool_exhausted)]) /
      static_cast<double>(m.arrivals());
  EXPECT_NEAR(blocked, a / (1 + a), kZ * se);
}

// ---- Sharding --------------------------------------------------------------------------------

// Four shards of 20 connections. Background traffic at 600/s over 1000 uniform keys plus a hot
// key (key 0) at 400/s; queries of exponential 10 ms. Each shard's offered load is a_s = lambda_s
// x 10 ms, lambda_s = 600 x (its share of the 1000 keys) + 400 on the hot key's shard, and its
// utilisation a_s / 20. Against 20 connections the busiest shard (a = 5.5) practically never
// queues (Erlang C(20, 5.5) ~ 1e-5), so each shard behaves as M/M/infinity, whose time-average
// number busy over T has variance 2 a / (mu T) (autocovariance a e^{-mu t}): SE of the utilisation
// sqrt(2 a / (mu T)) / 20, with mu = 100/s, T = 100 s.
TEST(Database, AHotKeyMakesItsShardHotAsTheHashPredicts) {
  const std::string yaml = R"(
name: shards
seed: 7
duration: 100s
components:
  background: {kind: source, arrivals: {poisson: 600/s}, keys: {uniform: 1000}, target: db}
  hot: {kind: source, arrivals: {poisson: 400/s}, target: db}
  db:
    kind: database
    connections: 20
    acquire_timeout: 10s
    queries: [{name: get, time: {exponential: 10ms}}]
    shards: 4
)";
  auto sim = run_checked(yaml);
  const Database& db = database_of(*sim);
  ASSERT_EQ(db.shard_count(), 4u);
  std::vector<double> keys(4, 0);
  for (uint64_t k = 0; k < 1000; ++k) keys[Database::shard_of(k, 4)] += 1;
  const uint32_t hot = Database::shard_of(0, 4);
  const RunSummary s = summarize(*sim);
  const ComponentSummary& c = component(s, "db");
  ASSERT_EQ(c.figures.size(), 4u);
  for (uint32_t shard = 0; shard < 4; ++shard) {
    SCOPED_TRACE("shard " + std::to_string(shard));
    const double lambda = 600 * keys[shard] / 1000 + (shard == hot ? 400 : 0);
    const double a = lambda * 0.01;
    const double se = std::sqrt(2 * a / (100 * 100.0)) / 20;
    const double measured = db.shard_utilization(sim->now(), shard);
    EXPECT_NEAR(measured, a / 20, kZ * se);
    EXPECT_EQ(c.figures[shard].first, "shard" + std::to_string(shard) + ".utilization");
    EXPECT_DOUBLE_EQ(c.figures[shard].second, measured);
    if (shard != hot) {
      EXPECT_LT(measured * 2.5, db.shard_utilization(sim->now(), hot));
    }
  }
}

// Shard figures cover the measured period, like every other figure: 20 queries of 1 s during the
// warm-up (0.05s-2.0s) do not count; one query of 1 s at 5s does - 1 connection-second of the
// key's shard's 10 connections x 7 s after a 3 s warm-up.
TEST(Database, ShardFiguresStartAfterTheWarmUp) {
  const std::string yaml = R"(
name: warm
duration: 10s
warmup: 3s
components:
  early: {kind: source, arrivals: {constant: 20/s}, max_requests: 20, target: db}
  late: {kind: source, arrivals: {constant: 0.2/s}, max_requests: 1, target: db}
  db:
    kind: database
    queries: [{name: get, time: 1s}]
    shards: 2
)";
  Simulation sim(load_text(yaml));
  const Database& db = database_of(sim);
  const uint32_t shard = Database::shard_of(0, 2);
  sim.run_until(Time::s(4));
  EXPECT_EQ(db.shard_utilization(sim.now(), shard), 0) << "idle since the warm-up";
  sim.run();
  EXPECT_NEAR(db.shard_utilization(sim.now(), shard), 1.0 / 70, 1e-12);
  EXPECT_EQ(db.shard_utilization(sim.now(), 1 - shard), 0);
}

TEST(Database, ShardOfIsAFixedFunctionOfTheKey) {
  EXPECT_EQ(Database::shard_of(12345, 1), 0u);
  std::vector<int> count(8, 0);
  for (uint64_t k = 0; k < 8000; ++k) ++count[Database::shard_of(k, 8)];
  // Consecutive keys spread evenly: each shard within 4 binomial SE (sqrt(8000/8 x 7/8) = 29.6).
  for (int c : count) EXPECT_NEAR(c, 1000, 4 * 29.6);
  // Pinned values: a change of the hash would move every user's data.
  EXPECT_EQ(Database::shard_of(0, 4), Database::shard_of(0, 4));
  const uint32_t pinned[] = {Database::shard_of(0, 16), Database::shard_of(1, 16),
                             Database::shard_of(2, 16), Database::shard_of(1u << 20, 16)};
  EXPECT_EQ((std::vector<uint32_t>(std::begin(pinned), std::end(pinned))),
            (std::vector<uint32_t>{15, 1, 14, 13}));
}

// ---- Disk ------------------------------------------------------------------------------------

// 10,000 bytes of disk, 1000 bytes per write, writes at 10/s: full after capacity / (rate x
// write_size) = 1 s, i.e. with the write at 1.0s. The writes from 1.1s fail with disk_full; reads
// go on.
TEST(Database, TheDiskFillsAtTheComputedInstantThenWritesFailAndReadsSucceed) {
  const std::string yaml = R"(
name: disk
duration: 5s
components:
  writers: {kind: source, arrivals: {constant: 10/s}, max_requests: 20, target: db}
  readers: {kind: source, arrivals: {constant: 10/s}, max_requests: 20, target: reader}
  reader: {kind: service, handler: [{call: db, op: get}]}
  db:
    kind: database
    queries:
      - {name: put, kind: write, time: 5ms}
      - {name: get, kind: read, time: 5ms}
    disk: {capacity: 10KB, write_size: 1KB}
)";
  const double capacity = 10'000, rate = 10, write_size = 1000;
  const Time full_at = Time::from_seconds(capacity / (rate * write_size));
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  const StationMetrics& m = metrics_of(sim, "db");
  sim.run_until(full_at - Time::ns(1));
  EXPECT_EQ(m.gauge(Gauge::disk_used_bytes).level(), 9000);
  sim.run_until(full_at);
  EXPECT_EQ(m.gauge(Gauge::disk_used_bytes).level(), 10'000);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  uint32_t writes_ok = 0, writes_full = 0, reads_ok = 0;
  for (const Finished& f : log.entries) {
    const bool write = sim.workloads()[f.workload].name == "writers";
    if (write && f.reason == Reason::none) {
      ++writes_ok;
      EXPECT_LE(f.created, full_at);
    } else if (write) {
      ++writes_full;
      EXPECT_EQ(f.reason, Reason::disk_full);
      EXPECT_EQ(f.outcome, Outcome::failed);
      EXPECT_GT(f.created, full_at);
    } else {
      reads_ok += f.reason == Reason::none;
    }
  }
  EXPECT_EQ(writes_ok, 10u);
  EXPECT_EQ(writes_full, 10u);
  EXPECT_EQ(reads_ok, 20u);
  EXPECT_EQ(m.gauge(Gauge::disk_used_bytes).max(), 10'000);
}

// ---- Failover --------------------------------------------------------------------------------

// Writes of 100 ms every 100 ms; the primary crashes at 1.05s and a replica is promoted 500 ms
// later, at 1.55s. The write running since 1.0s fails at 1.05s; writes at 1.1s ... 1.5s are
// refused (unavailable); from 1.6s writes succeed on the new primary.
std::string failover_scenario(int replicas, const std::string& extra = "") {
  return R"(
name: failover
duration: 4s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 30, target: db}
  db:
    kind: database
    queries: [{name: put, kind: write, time: 100ms}]
    replicas: )" +
         std::to_string(replicas) + R"(
    failover_time: 500ms
)" + extra;
}

void expect_failover_window(const RequestLog& log) {
  ASSERT_EQ(log.entries.size(), 30u);
  for (const Finished& f : log.entries) {
    const int64_t created_ms = f.created.count_ns() / 1'000'000;
    if (created_ms == 1000) {
      EXPECT_EQ(f.reason, Reason::unavailable) << "in flight at the crash";
      EXPECT_EQ(f.finished.count_ns(), Time::ms(1050).count_ns());
    } else if (created_ms > 1000 && created_ms <= 1500) {
      EXPECT_EQ(f.reason, Reason::unavailable) << "created at " << created_ms << "ms";
      EXPECT_EQ(ns(f), 0);
    } else {
      EXPECT_EQ(f.reason, Reason::none) << "created at " << created_ms << "ms";
    }
  }
}

TEST(Database, DuringFailoverWritesAreUnavailableThenAReplicaIsPromoted) {
  RequestLog log;
  auto sim = run_checked(failover_scenario(1, "    primary_failures: [{at: 1050ms}]\n"), {&log});
  expect_failover_window(log);
  const Database& db = database_of(*sim);
  // The primary role was busy with one write at a time over 0.1s-1.05s and 1.6s-3.1s (2.45
  // connection-seconds) and had 10 connections except during the failover (35 connection-
  // seconds); the replica role served nothing.
  EXPECT_NEAR(db.primary_utilization(sim->now(), 0), 2.45 / 35, 1e-12);
  EXPECT_EQ(db.replica_utilization(sim->now(), 0), 0);
  EXPECT_EQ(db.primary_node(0), 1u);
  EXPECT_TRUE(db.primary_up(0));
  EXPECT_EQ(metrics_of(*sim, "db").counter(Counter::failovers), 1u);
  // The old primary stays down: capacity is the promoted replica's pool only.
  EXPECT_EQ(metrics_of(*sim, "db").capacity().level(), 10);
}

TEST(Database, FailPrimaryIsAlsoAnApiHook) {
  Simulation sim(load_text(failover_scenario(1)));
  RequestLog log;
  sim.add_observer(&log);
  sim.run_until(Time::ms(1050));
  Database& db = mutable_database(sim);
  EXPECT_TRUE(db.fail_primary(sim, 0));
  EXPECT_FALSE(db.fail_primary(sim, 0)) << "already failing over";
  EXPECT_FALSE(db.primary_up(0));
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  expect_failover_window(log);
}

// Without replicas the primary itself restarts after failover_time; reads are unavailable too
// meanwhile (there is nowhere else to read).
TEST(Database, WithoutReplicasThePrimaryRestartsAfterTheFailoverTime) {
  RequestLog log;
  auto sim = run_checked(failover_scenario(0, "    primary_failures: [{at: 1050ms}]\n"), {&log});
  expect_failover_window(log);
  EXPECT_EQ(database_of(*sim).primary_node(0), 0u);
  EXPECT_EQ(metrics_of(*sim, "db").capacity().level(), 10);
}

// During the failover, reads with read_from: any keep going to the replica.
TEST(Database, DuringFailoverReadsGoToTheReplicas) {
  const std::string yaml = R"(
name: reads-in-failover
duration: 4s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 30, target: db}
  db:
    kind: database
    queries: [{name: get, time: 100ms}]
    replicas: 1
    failover_time: 500ms
    primary_failures: [{at: 1050ms}]
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  // Only a read running on the primary at 1.05s can fail; all the others succeed.
  size_t failed = 0;
  for (const Finished& f : log.entries) {
    if (f.reason != Reason::none) {
      ++failed;
      EXPECT_EQ(f.reason, Reason::unavailable);
      EXPECT_EQ(f.finished.count_ns(), Time::ms(1050).count_ns());
    }
  }
  EXPECT_LE(failed, 1u);
  EXPECT_EQ(log.entries.size(), 30u);
}

// ---- Live changes, invariants, determinism --------------------------------------------------

// 20 queries at 0.05s ... 1.0s into one connection of 1 s each: at 1.0s one runs and 19 wait.
// Raising connections to 4 starts three of them at once.
TEST(Database, MoreConnectionsSetLiveServeWaitingQueriesAtOnce) {
  const std::string yaml = R"(
name: live
duration: 30s
components:
  users: {kind: source, arrivals: {constant: 20/s}, max_requests: 20, target: db}
  db:
    kind: database
    connections: 1
    acquire_timeout: 1h
    queries: [{name: get, time: 1s}]
)";
  Simulation sim(load_text(yaml));
  sim.run_until(Time::s(1));
  const StationMetrics& m = metrics_of(sim, "db");
  ASSERT_EQ(m.queue().level(), 19);
  ASSERT_EQ(sim.set_parameter("db", "connections", "4"), "");
  EXPECT_EQ(m.busy().level(), 4);
  EXPECT_EQ(m.queue().level(), 16);
  EXPECT_NE(sim.set_parameter("db", "shards", "2"), "") << "not live";
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(m.served(), 20u);
}

// Fewer connections set live: queries running keep theirs, and no query starts until the busy
// count is below the new size. 8 queries of 1 s at 0.1s ... 0.8s, 4 connections; at 0.45s, with
// q1..q4 running, the pool shrinks to 1, so q5..q8 wait.
TEST(Database, FewerConnectionsSetLiveTakeEffectAsQueriesFinish) {
  const std::string yaml = R"(
name: shrink
duration: 30s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 8, target: db}
  db:
    kind: database
    connections: 4
    acquire_timeout: 1h
    queries: [{name: get, time: 1s}]
)";
  Simulation sim(load_text(yaml));
  sim.run_until(Time::ms(450));
  ASSERT_EQ(sim.set_parameter("db", "connections", "1"), "");
  const StationMetrics& m = metrics_of(sim, "db");
  EXPECT_EQ(m.busy().level(), 4);
  EXPECT_EQ(m.capacity().level(), 4) << "busy connections above the new size still count";
  RequestLog log;
  sim.add_observer(&log);
  while (sim.step()) {
    ASSERT_LE(m.busy().level(), m.capacity().level());
    if (sim.now() > Time::ms(1400)) {
      ASSERT_LE(m.busy().level(), 1);
    }
  }
  EXPECT_TRUE(Balanced(sim));
  // q1..q4 end at 1.1s ... 1.4s; q5 starts at 1.4s (the first moment fewer than 1 are busy) and
  // q6, q7, q8 follow back to back.
  ASSERT_EQ(log.entries.size(), 8u);
  EXPECT_EQ(log.entries[7].finished.count_ns(), Time::ms(5400).count_ns());
  EXPECT_LE(component(summarize(sim), "db").utilization, 1.0);
}

// With propagated deadlines the database drops a waiting query whose caller has already given
// up, when a connection comes free for it. One connection busy 0.1s-1.1s; queries at 0.2s and
// 0.3s whose callers give up after 150 ms are dropped at 1.1s (deadline_exceeded), and the
// connection goes to nobody.
TEST(Database, APropagatedDeadlineDropsAQueryWhoseCallerGaveUp) {
  const std::string yaml = R"(
name: deadline
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    timeout: 150ms
    propagate_deadline: true
    target: db
  db:
    kind: database
    connections: 1
    acquire_timeout: 10s
    queries: [{name: get, time: 1s}]
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 3u) << "every caller gave up";
  const StationMetrics& m = metrics_of(*sim, "db");
  EXPECT_EQ(m.served(), 1u);
  EXPECT_EQ(m.dropped()[static_cast<int>(Reason::deadline_exceeded)], 2u);
  EXPECT_EQ(m.wait().count(), 1u) << "only the first query got a connection";
  EXPECT_EQ(m.latency().max(), Time::s(1).count_ns());
}

// Everything at once, with randomness: after every event the pool invariants hold - a node
// never has more busy connections than its pool, and every query present either waits for a
// connection or holds one (in system = queue + busy).
TEST(Database, PoolInvariantsHoldAfterEveryEvent) {
  const std::string yaml = R"(
name: stress
seed: 11
duration: 30s
components:
  users:
    kind: source
    arrivals: {poisson: 600/s}
    keys: {zipf: {keys: 50, s: 1.2}}
    timeout: 80ms
    target: api
  api:
    kind: service
    workers: 200
    handler:
      - call: db
        op: get
      - if: {probability: 0.3}
        then: [{call: db, op: put}]
  db:
    kind: database
    connections: 3
    acquire_timeout: 5ms
    max_waiting: 2
    lock_timeout: 15ms
    queries:
      - {name: get, kind: read, time: {exponential: 10ms}}
      - {name: put, kind: write, time: {exponential: 15ms}, locks: true}
    replicas: 2
    replication_lag: {exponential: 30ms}
    shards: 3
    disk: {capacity: 1MB, write_size: 1KiB}
    failover_time: 2s
    primary_failures: [{at: 5s, shard: 0}, {at: 12s, shard: 2}, {at: 13s, shard: 2}]
)";
  Simulation sim(load_text(yaml));
  const StationMetrics& m = metrics_of(sim, "db");
  const Database& db = database_of(sim);
  while (sim.step()) {
    ASSERT_EQ(m.in_system().level(), m.queue().level() + m.busy().level())
        << "at " << sim.now().seconds() << "s";
    for (uint32_t s = 0; s < db.shard_count(); ++s) {
      ASSERT_LE(db.busy_connections(s), 3 * 3);
      ASSERT_LE(db.disk_used(s), 1'000'000);
    }
    ASSERT_LE(m.busy().level(), m.capacity().level());
  }
  EXPECT_TRUE(Balanced(sim));
  const RunSummary s = summarize(sim);
  const ComponentSummary& c = component(s, "db");
  auto lost = [&](const char* reason) {
    uint64_t n = 0;
    for (const auto& [r, k] : c.dropped) n += r == reason ? k : 0;
    for (const auto& [r, k] : c.failed) n += r == reason ? k : 0;
    return n;
  };
  // Every mechanism was exercised.
  for (const char* r :
       {"pool_timeout", "pool_exhausted", "lock_timeout", "unavailable", "disk_full"}) {
    EXPECT_GT(lost(r), 0u) << r;
  }
  EXPECT_GT(m.counter(Counter::stale_reads), 0u);
  EXPECT_EQ(m.counter(Counter::failovers), 2u) << "the second crash of shard 2 came mid-failover";
}

TEST(Database, SameSeedGivesIdenticalSummaries) {
  expect_reproducible(R"(
name: repro
seed: 12
duration: 20s
components:
  users: {kind: source, arrivals: {poisson: 300/s}, keys: {zipf: {keys: 100, s: 1.1}}, target: api}
  api:
    kind: service
    workers: 40
    handler: [{call: db, op: get}, {call: db, op: put}]
  db:
    kind: database
    connections: 5
    acquire_timeout: 50ms
    queries:
      - {name: get, time: {exponential: 2ms}}
      - {name: put, kind: write, time: {lognormal: {median: 3ms, p99: 20ms}}, locks: true}
    replicas: 2
    replication_lag: {exponential: 20ms}
    shards: 2
    primary_failures: [{at: 10s}]
)");
}

// ---- Load errors -----------------------------------------------------------------------------

std::string db_with(const std::string& body) {
  return "name: bad\nduration: 1s\ncomponents:\n"
         "  users: {kind: source, arrivals: {poisson: 1/s}, target: db}\n"
         "  db:\n    kind: database\n" +
         body;
}

TEST(Database, BadParametersGiveClearLoadErrors) {
  EXPECT_EQ(
      load_errors(db_with("    queries: [{name: get, time: 1ms}]\n    read_from: replicas\n")),
      "test.yaml:5:3: error: components.db: read_from: replicas needs replicas: 1 or more\n");
  EXPECT_EQ(load_errors(db_with("    queries: [{name: get, time: 1ms, locks: true}]\n")),
            "test.yaml:7:15: error: components.db.queries[0]: locks: only writes take row locks "
            "(this query is a read)\n");
  EXPECT_EQ(load_errors(db_with("    queries: [{name: a, time: 1ms}, {name: a, time: 2ms}]\n")),
            "test.yaml:5:3: error: components.db: queries: the name 'a' is used twice\n");
  EXPECT_EQ(load_errors(db_with("    queries: [{name: a, time: 1ms}]\n"
                                "    replication_lag: 5ms\n")),
            "test.yaml:5:3: error: components.db: replication_lag applies to replicas, and there "
            "are none (set replicas: 1 or more)\n");
  EXPECT_EQ(load_errors(db_with("    queries: [{name: a, time: 1ms}]\n"
                                "    primary_failures: [{at: 1s, shard: 2}]\n")),
            "test.yaml:5:3: error: components.db: primary_failures[0]: there is no shard 2 "
            "(shards: 1, numbered from 0)\n");
  EXPECT_EQ(load_errors(db_with("    queries: [{name: a, time: 1ms}]\n"
                                "    disk: {capacity: 10 gigabytes}\n")),
            "test.yaml:8:22: error: components.db.disk.capacity: expected a size such as 512B, "
            "64KiB or 2GiB ('gigabytes' is not a size unit), got '10 gigabytes' (capacity: Disk "
            "space of each shard's primary, e.g. 10GB.)\n");
  EXPECT_EQ(load_errors(db_with("    connections: 4\n")),
            "test.yaml:6:5: error: components.db: missing required key 'queries' (The query "
            "classes, named operations that callers pick with `op:`; the first is the default. "
            "E.g. [{name: read_user, kind: read, time: {exponential: 2ms}}].)\n");
  EXPECT_EQ(load_errors(db_with("    queries: []\n")),
            "test.yaml:5:3: error: components.db: queries: needs at least one query class\n");
}

TEST(Database, AnUnknownOperationIsALoadError) {
  const std::string yaml = R"(
name: bad-op
duration: 1s
components:
  users: {kind: source, arrivals: {poisson: 1/s}, target: api}
  api: {kind: service, handler: [{call: db, op: updte_cart}]}
  db:
    kind: database
    queries:
      - {name: read_user, time: 1ms}
      - {name: update_cart, kind: write, time: 1ms}
)";
  EXPECT_EQ(load_errors(yaml),
            "test.yaml:6:41: error: 'api' asks 'db' (a database) for operation 'updte_cart' "
            "(did you mean 'update_cart'?); it has read_user, update_cart\n");
}

}  // namespace
}  // namespace dsim::test
