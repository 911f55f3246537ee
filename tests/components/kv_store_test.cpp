// kv_store: one thread serving commands in FIFO order with per-command times, round trips, expiry,
// the memory bound, the check-and-increment script, going down and coming back.
#include "components/kv_store.hpp"

#include <gtest/gtest.h>

#include <map>

#include "components/component_support.hpp"

namespace dsim {

[[maybe_unused]] static void PrintTo(const Time& t, std::ostream* os) {
  *os << t.count_ns() << "ns";
}

namespace test {
namespace {

KvStore& store_of(const Simulation& sim, const std::string& name) {
  return dynamic_cast<KvStore&>(*sim.components()[find_component(sim, name).index()]);
}

// Five GETs at 1..5 ms, 10 ms each on one thread: served back to back in arrival order, done at
// 11, 21, 31, 41, 51 ms; four wait at once at 5 ms.
TEST(KvStore, ServesOneCommandAtATimeInArrivalOrder) {
  const std::string yaml = R"(
name: fifo
seed: 1
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 1000/s}, max_requests: 5, target: store}
  store: {kind: kv_store, get: 10ms}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(log.entries[i].id, i + 1);
    EXPECT_EQ(log.entries[i].finished, Time::ms(11 + 10 * static_cast<int64_t>(i)));
    EXPECT_EQ(log.entries[i].outcome, Outcome::completed);
  }
  const StationMetrics& m = metrics_of(*sim, "store");
  EXPECT_EQ(m.busy().max(), 1);
  EXPECT_EQ(m.queue().max(), 4);
  EXPECT_EQ(m.served(), 5u);
  EXPECT_EQ(m.counter(Counter::cache_misses), 5u) << "nothing was ever set";
  // Waits 0, 9, 18, 27, 36 ms: mean 18 ms.
  EXPECT_NEAR(m.wait().mean(), 18e6, 18e6 / 100);
}

// One request of each operation at the same instant (the sources fire at 1 s in file order):
// the thread runs them in that order, each for its own time (1, 2, 3, 4 ms), and every answer
// arrives 0.5 ms (rtt) after its command ended: 1.5, 3.5, 6.5 and 10.5 ms after 1 s.
TEST(KvStore, EachOperationTakesItsOwnTimeAndAnswersOneRoundTripLater) {
  std::string yaml = R"(
name: ops
seed: 2
duration: 10s
components:
)";
  for (const char* op : {"get", "set", "incr", "check_and_incr"}) {
    const std::string o = op;
    yaml += "  " + o + "-users: {kind: source, workload: " + o +
            ", arrivals: {constant: 1/s}, max_requests: 1, target: " + o + "-api}\n";
    yaml +=
        "  " + o + "-api: {kind: service, workers: 1, handler: [{call: store, op: " + o + "}]}\n";
  }
  yaml +=
      "  store: {kind: kv_store, get: 1ms, set: 2ms, incr: 3ms, check_and_incr: 4ms, rtt: "
      "500us}\n";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  std::map<std::string, Time> latency;
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    latency[sim->workloads()[f.workload].name] = f.finished - f.created;
  }
  EXPECT_EQ(latency["get"], Time::us(1500));
  EXPECT_EQ(latency["set"], Time::us(3500));
  EXPECT_EQ(latency["incr"], Time::us(6500));
  EXPECT_EQ(latency["check_and_incr"], Time::us(10500));
  const StationMetrics& m = metrics_of(*sim, "store");
  EXPECT_EQ(m.busy().max(), 1);
  // Busy 10 ms of the 10 s: the round trips do not occupy the thread.
  EXPECT_NEAR(m.busy().mean(Time::zero(), sim->now()), 0.010 / 10, 1e-12);
  EXPECT_EQ(store_of(*sim, "store").value(0), 2) << "incr and check_and_incr on key 0";
}

// Writes of random keys into a store of 5 entries whose keys live 50 ms. Every outcome is
// compared with a reference model run over the same commands in execution order: a write to a
// live key succeeds and renews it; a new key succeeds while fewer than 5 are live, else fails
// with error; a key is gone from its expiry instant on.
TEST(KvStore, WritesBeyondMemoryFailWithErrorAndExpiryFreesRoom) {
  const std::string yaml = R"(
name: memory
seed: 3
duration: 20s
components:
  users: {kind: source, arrivals: {poisson: 200/s}, keys: {uniform: 20}, target: writer}
  writer: {kind: service, workers: 100, handler: [{call: store, op: set}]}
  store: {kind: kv_store, set: 1ms, ttl: 50ms, max_entries: 5, entry_size: 100}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  std::map<uint64_t, Time> live;  // key -> expiry
  uint64_t ok = 0, full = 0, new_after_full = 0;
  bool was_full = false;
  for (const Finished& f : log.entries) {
    const Time t = f.finished;  // rtt 0: answered when executed
    for (auto it = live.begin(); it != live.end();) {
      it = it->second <= t ? live.erase(it) : std::next(it);
    }
    Reason expected = Reason::none;
    if (live.count(f.key)) {
      live[f.key] = t + Time::ms(50);
    } else if (live.size() < 5) {
      new_after_full += was_full;
      live[f.key] = t + Time::ms(50);
    } else {
      expected = Reason::error;
      was_full = true;
    }
    ASSERT_EQ(f.reason, expected) << "request " << f.id << " key " << f.key << " at "
                                  << t.count_ns();
    (expected == Reason::none ? ok : full) += 1;
  }
  EXPECT_GT(full, 500u);
  EXPECT_GT(ok, 500u);
  EXPECT_GT(new_after_full, 100u) << "expired keys should make room for new ones";
  const StationMetrics& m = metrics_of(*sim, "store");
  EXPECT_EQ(m.failed()[static_cast<int>(Reason::error)], full);
  EXPECT_EQ(m.gauge(Gauge::memory_used_bytes).max(), 500) << "5 entries of 100 bytes";
  EXPECT_LE(store_of(*sim, "store").entries(), 5u);
}

// check_and_incr with limit 3 and ttl 1 s on one key, requests every 100 ms from 0.1 s: the key
// is created at 0.1 s and expires at exactly 1.1 s, so 0.1-0.3 s pass, 0.4-1.0 s are refused,
// 1.1-1.3 s pass (a new key), 1.4-2.0 s are refused, 2.1-2.3 s pass, 2.4 and 2.5 s are refused.
TEST(KvStore, CheckAndIncrRefusesAtTheLimitUntilTheKeyExpires) {
  const std::string yaml = R"(
name: script
seed: 4
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 25, target: api}
  api: {kind: service, workers: 10, handler: [{call: store, op: check_and_incr}]}
  store: {kind: kv_store, check_and_incr: 0, limit: 3, ttl: 1s}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 25u);
  for (const Finished& f : log.entries) {
    const int64_t tenth = f.created.count_ns() / 100'000'000;  // 1..25
    const bool pass = (tenth - 1) % 10 < 3;
    EXPECT_EQ(f.reason, pass ? Reason::none : Reason::rate_limited) << "at " << tenth << "/10 s";
  }
  const StationMetrics& m = metrics_of(*sim, "store");
  EXPECT_EQ(m.counter(Counter::rate_limited), 16u);
  EXPECT_EQ(m.served(), 25u) << "a refusal by the script is still an executed command";
  EXPECT_EQ(store_of(*sim, "store").entries(), 0u) << "the last key expired at 3.1 s";
}

// INCR sets the expiry only when it creates the key (INCR + EXPIRE on the first increment).
TEST(KvStore, IncrCountsAndExpiresFromCreation) {
  const std::string yaml = R"(
name: incr
seed: 5
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 15, target: api}
  api: {kind: service, workers: 10, handler: [{call: store, op: incr}]}
  store: {kind: kv_store, incr: 0, ttl: 1s}
)";
  Simulation sim(load_text(yaml));
  sim.run_until(Time::ms(1050));  // ten increments at 0.1 .. 1.0 s
  bool live = false;
  EXPECT_EQ(store_of(sim, "store").value(0, &live), 10);
  EXPECT_TRUE(live);
  sim.run_until(Time::ms(1100));  // created at 0.1 s: gone at 1.1 s, then created again
  EXPECT_EQ(store_of(sim, "store").value(0), 1);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(store_of(sim, "store").value(0, &live), 0);
  EXPECT_FALSE(live) << "created at 1.1 s, expired at 2.1 s";
  const TimeWeightedLevel& memory = metrics_of(sim, "store").gauge(Gauge::memory_used_bytes);
  EXPECT_EQ(memory.level(), 0);
  // One 64-byte entry from 0.1 to 2.1 s (the expiry at 1.1 s and the re-creation coincide).
  EXPECT_NEAR(memory.mean(Time::zero(), Time::s(10)), 64 * 2.0 / 10, 1e-9);
}

// Down at 1 s: the command running and those queued are answered unavailable at once, new ones
// on arrival; up again at 2 s, commands are served again.
TEST(KvStore, WhileDownEveryCommandIsAnsweredUnavailable) {
  const std::string yaml = R"(
name: down
seed: 6
duration: 4s
components:
  users: {kind: source, arrivals: {constant: 100/s}, target: store}
  store: {kind: kv_store, get: 20ms}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  sim.run_until(Time::s(1));
  const StationMetrics& m = metrics_of(sim, "store");
  const int64_t queued = m.queue().level();
  ASSERT_GT(queued, 40);  // arrivals at twice the service rate
  const size_t finished_before = log.entries.size();
  KvStore& store = store_of(sim, "store");
  store.set_available(sim, false);
  EXPECT_EQ(m.queue().level(), 0);
  EXPECT_EQ(m.busy().level(), 0);
  EXPECT_EQ(log.entries.size(), finished_before + static_cast<size_t>(queued) + 1);
  sim.run_until(Time::s(2));
  for (size_t i = finished_before; i < log.entries.size(); ++i) {
    EXPECT_EQ(log.entries[i].reason, Reason::unavailable);
    EXPECT_EQ(log.entries[i].outcome, Outcome::dropped);
  }
  store.set_available(sim, true);
  const size_t finished_down = log.entries.size();
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  ASSERT_GT(log.entries.size(), finished_down + 40);
  for (size_t i = finished_down; i < log.entries.size(); ++i) {
    EXPECT_EQ(log.entries[i].reason, Reason::none);
  }
  // The command aborted at 1 s never completes later.
  EXPECT_EQ(m.served() + m.dropped()[static_cast<int>(Reason::unavailable)] +
                static_cast<uint64_t>(m.in_system().level()),
            m.arrivals());
}

// A replica 30 ms behind serves every GET. Writes to key 0 execute at 101, 201, ..., 1001 ms
// (1 ms SETs from 0.1 s) and reach the replica 30 ms later; reads come every 25 ms. A read at
// x25 ms falls between a write and its arrival at the replica: 10 stale reads. The four reads
// before the first write miss.
std::string replica_scenario(double reads) {
  return R"(
name: replica
seed: 8
duration: 5s
components:
  writers: {kind: source, arrivals: {constant: 10/s}, max_requests: 10, target: writer}
  writer: {kind: service, workers: 1, handler: [{call: store, op: set}]}
  readers: {kind: source, arrivals: {constant: 40/s}, max_requests: 60, target: store}
  store: {kind: kv_store, get: 0, set: 1ms, replica: {lag: 30ms, reads: )" +
         std::to_string(reads) + "}}\n";
}

TEST(KvStore, ReadsFromALaggingReplicaCanBeStale) {
  auto sim = run_checked(replica_scenario(1));
  const StationMetrics& m = metrics_of(*sim, "store");
  EXPECT_EQ(m.counter(Counter::stale_reads), 10u);
  EXPECT_EQ(m.counter(Counter::cache_misses), 4u);
  EXPECT_EQ(m.counter(Counter::cache_hits), 56u);
  EXPECT_EQ(m.gauge(Gauge::replication_lag_ms).max(), 30);
  EXPECT_EQ(m.capacity().level(), 2) << "two threads";
  // Reads on the primary are never stale.
  auto primary = run_checked(replica_scenario(0));
  EXPECT_EQ(metrics_of(*primary, "store").counter(Counter::stale_reads), 0u);
  EXPECT_EQ(metrics_of(*primary, "store").gauge(Gauge::replication_lag_ms).max(), 30);
}

// The replica has its own thread: 10 ms GETs and 10 ms SETs arriving together do not queue
// behind each other when the GETs go to the replica.
TEST(KvStore, TheReplicaServesReadsOnItsOwnThread) {
  const auto last_finish = [](const std::string& replica) {
    const std::string yaml = R"(
name: replica-thread
seed: 9
duration: 5s
components:
  readers: {kind: source, arrivals: {constant: 1000/s}, max_requests: 10, target: store}
  writers: {kind: source, arrivals: {constant: 1000/s}, max_requests: 10, target: writer}
  writer: {kind: service, workers: 10, handler: [{call: store, op: set}]}
  store: {kind: kv_store, get: 10ms, set: 10ms)" +
                             replica + R"(}
)";
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    EXPECT_EQ(log.entries.size(), 20u);
    return log.entries.back().finished;
  };
  // One thread: 20 commands of 10 ms from 1 ms: the last ends at 201 ms. Two: 101 ms.
  EXPECT_EQ(last_finish(""), Time::ms(201));
  EXPECT_EQ(last_finish(", replica: {lag: 5ms, reads: 1}"), Time::ms(101));
}

TEST(KvStore, RejectsAnOperationItDoesNotHave) {
  const std::string yaml = R"(name: bad-op
duration: 1s
components:
  users: {kind: source, arrivals: {poisson: 1/s}, target: api}
  api: {kind: service, handler: [{call: sessions, op: delete}]}
  sessions: {kind: kv_store}
)";
  EXPECT_EQ(load_errors(yaml),
            "test.yaml:5:41: error: 'api' asks 'sessions' (a kv_store) for operation 'delete'; "
            "it has get, set, incr, check_and_incr\n");
}

TEST(KvStore, RejectsAnEmptyEntry) {
  const std::string yaml = R"(name: bad-size
duration: 1s
components:
  users: {kind: source, arrivals: {poisson: 1/s}, target: sessions}
  sessions: {kind: kv_store, entry_size: 0}
)";
  EXPECT_EQ(load_errors(yaml),
            "test.yaml:5:42: error: components.sessions.entry_size: must be between 1 and "
            "1000000000, got 0 (entry_size: Memory per key, for the memory_used_bytes gauge.)\n");
}

TEST(KvStore, SameSeedGivesIdenticalSummaries) {
  expect_reproducible(R"(
name: repro
seed: 7
duration: 20s
components:
  users: {kind: source, arrivals: {poisson: 300/s}, keys: {zipf: {keys: 100, s: 1}}, target: api}
  api:
    kind: service
    workers: 50
    handler:
      - call: store
        op: get
      - if: {probability: 0.3}
        then: [{call: store, op: set}]
  store: {kind: kv_store, get: {exponential: 1ms}, set: {exponential: 2ms}, rtt: {uniform: {min: 100us, max: 300us}}, ttl: 200ms, max_entries: 30}
)");
}

}  // namespace
}  // namespace test
}  // namespace dsim
