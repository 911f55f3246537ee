// The component-local fault kinds, each against what it promises: crash (in-flight work ends as
// the kind says, refusals while down, restart), disk_full, slow (for a component and for one
// route; unstable past utilisation 1), error_rate (binomial), cpu_stress and clock_skew.
// Conservation is checked at the end of every run (run_checked, or Balanced after sim.run()).
#include <gtest/gtest.h>

#include <cmath>

#include "components/component_support.hpp"
#include "components/database.hpp"
#include "components/kv_store.hpp"
#include "components/queue.hpp"
#include "faults/fault_controller.hpp"

namespace dsim::test {
namespace {

uint64_t lost(const Simulation& sim, const std::string& name, Outcome o, Reason r) {
  const StationMetrics& m = metrics_of(sim, name);
  return o == Outcome::dropped ? m.dropped()[static_cast<int>(r)] : m.failed()[static_cast<int>(r)];
}

// ---- crash ----------------------------------------------------------------------------------

// Constant arrivals at 4/s into one worker of 500 ms: overloaded, so at the crash (10.1s) one
// call is in service and many wait. Every one of them fails with unavailable at the crash
// instant; the calls of 10.25s ... 15.0s are refused at once; from the restart (15.1s) the
// service works again.
TEST(FaultCrash, AServiceFailsItsInFlightCallsAndRefusesNewOnesUntilTheRestart) {
  const std::string yaml = R"(
duration: 30s
components:
  users: {kind: source, arrivals: {constant: 4/s}, target: api}
  api: {kind: service, workers: 1, service_time: 500ms}
faults:
  boom: {kind: crash, targets: [api], at: 10100ms, restart_after: 5s}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  sim.run_until(Time::ms(10'100) - Time::ns(1));
  EXPECT_TRUE(find_component(sim, "api").healthy(sim.now()));
  const int64_t held = metrics_of(sim, "api").in_system().level();
  EXPECT_GT(held, 1);  // in service and waiting (it is overloaded: 4/s against 2/s)
  sim.run_until(Time::ms(10'100));
  EXPECT_FALSE(find_component(sim, "api").healthy(sim.now()));
  EXPECT_EQ(metrics_of(sim, "api").in_system().level(), 0);
  size_t at_crash = 0, refused = 0;
  for (const Finished& f : log.entries) {
    if (f.reason != Reason::unavailable) continue;
    (f.finished == Time::ms(10'100) && f.created < Time::ms(10'100) ? at_crash : refused)++;
  }
  EXPECT_EQ(at_crash, static_cast<size_t>(held));
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  // Refused while down: the arrivals at 10.25s, 10.5s ... 15.0s = 20, each answered at once.
  refused = 0;
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::unavailable && f.created > Time::ms(10'100)) {
      ++refused;
      EXPECT_EQ(f.finished, f.created);
      EXPECT_LT(f.created, Time::ms(15'100));
    }
  }
  EXPECT_EQ(refused, 20u);
  EXPECT_TRUE(find_component(sim, "api").healthy(sim.now()));
  EXPECT_GT(metrics_of(sim, "api").served(), 0u);
}

// A crashed database loses the queries it was running and those waiting for a connection: each
// fails with `unavailable` at the crash; new queries are refused until the restart; afterwards
// it serves again with its whole pool.
TEST(FaultCrash, ADatabaseFailsTheQueriesItHeldAndServesAgainAfterTheRestart) {
  const std::string yaml = R"(
duration: 30s
components:
  users: {kind: source, arrivals: {constant: 4/s}, target: db}
  db:
    kind: database
    connections: 2
    acquire_timeout: 1h
    queries: [{name: q, kind: read, time: 1s}]
faults:
  boom: {kind: crash, targets: [db], at: 10100ms, restart_after: 5s}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  sim.run_until(Time::ms(10'100) - Time::ns(1));
  const int64_t held = metrics_of(sim, "db").in_system().level();
  EXPECT_GT(held, 2);  // two running, the rest waiting (4/s against 2/s)
  sim.run_until(Time::ms(10'100));
  EXPECT_FALSE(find_component(sim, "db").healthy(sim.now()));
  EXPECT_EQ(metrics_of(sim, "db").in_system().level(), 0);
  EXPECT_EQ(metrics_of(sim, "db").busy().level(), 0);
  size_t at_crash = 0;
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::unavailable && f.finished == Time::ms(10'100)) ++at_crash;
  }
  EXPECT_EQ(at_crash, static_cast<size_t>(held));
  const uint64_t served_before = metrics_of(sim, "db").served();
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  size_t refused = 0;
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::unavailable && f.created > Time::ms(10'100)) {
      ++refused;
      EXPECT_EQ(f.finished, f.created);
    }
  }
  EXPECT_EQ(refused, 20u);  // 10.25s ... 15.0s
  // After the restart at 15.1s both connections serve again: one query a second each.
  EXPECT_GE(metrics_of(sim, "db").served() - served_before, 28u);
}

// A kv_store keeps its data in memory only: a crash answers the commands it holds with
// `unavailable` and loses every key; after the restart the counter starts again from nothing.
// INCR on key 0 at 10/s, 50 ms each on the one thread: the command running at the crash (5.025 s;
// it started at 5.0 s) never takes effect.
TEST(FaultCrash, AKvStoreLosesItsDataAndTheCommandsItHeld) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: api}
  api: {kind: service, workers: 10, handler: [{call: store, op: incr}]}
  store: {kind: kv_store, incr: 50ms}
faults:
  boom: {kind: crash, targets: [store], at: 5025ms, restart_after: 1s}
)";
  RequestLog log;
  Simulation sim(load_text(yaml));
  sim.add_observer(&log);
  auto& store = dynamic_cast<KvStore&>(*sim.components()[find_component(sim, "store").index()]);
  sim.run_until(Time::ms(5025) - Time::ns(1));
  EXPECT_EQ(store.value(0), 49);  // 0.1 s ... 4.9 s done; the one of 5.0 s is running
  sim.run_until(Time::ms(5025));
  bool live = true;
  EXPECT_EQ(store.value(0, &live), 0);
  EXPECT_FALSE(live);
  EXPECT_EQ(store.entries(), 0u);
  size_t at_crash = 0;
  for (const Finished& f : log.entries) {
    if (f.reason == Reason::unavailable && f.finished == Time::ms(5025)) ++at_crash;
  }
  EXPECT_EQ(at_crash, 1u);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  // Back at 6.025 s: the increments of 6.1 s ... 9.9 s count from zero again (9.9 s finishes
  // at 9.95 s).
  EXPECT_EQ(store.value(0), 39);
}

// A handler's own calls are abandoned when its service crashes; the dependency carries on. The
// 10 requests in flight at 5s (1 s each at 10/s) fail at the crash, the 10 of 5.1s ... 6.0s are
// refused (the restart at 6s comes after that instant's arrival); both are `unavailable`, which
// the source counts as dropped.
TEST(FaultCrash, AHandlerInFlightFailsAndItsCallsAreAbandoned) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: api}
  api: {kind: service, workers: 100, handler: [{call: db}]}
  db: {kind: service, workers: 100, service_time: 1s}
faults:
  boom: {kind: crash, targets: [api], at: 5s, duration: 1s}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  size_t at_crash = 0;
  for (const Finished& f : log.entries) {
    at_crash += f.reason == Reason::unavailable && f.finished == Time::s(5);
  }
  EXPECT_EQ(at_crash, 10u);  // created at 4.1s ... 5.0s
  EXPECT_EQ(log.count(Outcome::dropped, Reason::unavailable), 20u);
}

constexpr const char* kQueueCrash = R"(
duration: 60s
components:
  producer: {kind: source, arrivals: {constant: 20/s}, max_requests: 400, target: jobs}
  jobs:
    kind: queue
    durable: DURABLE
    consumers: {target: worker, count: 1}
  worker: {kind: service, workers: 1, service_time: 100ms}
faults:
  boom: {kind: crash, targets: [jobs], at: 10s, restart_after: 5s}
)";

std::string queue_crash(bool durable) {
  std::string y = kQueueCrash;
  y.replace(y.find("DURABLE"), 7, durable ? "true" : "false");
  return y;
}

// A durable queue keeps every message across the crash: every message stored is processed.
// Producing at 20/s against a consumer at 10/s, about 100 messages wait at 10s; the 100 publishes
// of the 5 s down are refused (`unavailable`).
TEST(FaultCrash, ADurableQueueLosesNoMessage) {
  RequestLog log;
  auto sim = run_checked(queue_crash(true), {&log});
  const auto& q = dynamic_cast<const Queue&>(find_component(*sim, "jobs"));
  const uint64_t refused = lost(*sim, "jobs", Outcome::dropped, Reason::unavailable);
  const uint64_t stored = metrics_of(*sim, "jobs").arrivals() - refused;
  EXPECT_EQ(refused, 100u);
  EXPECT_EQ(stored, 300u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::unavailable), 0u);
  EXPECT_EQ(q.held(), 0);
  EXPECT_EQ(metrics_of(*sim, "jobs").served(), stored);  // every message acknowledged
}

// An in-memory queue loses what it holds: every message waiting or in flight at 10s (those held
// just before, and the one published at 10s itself, which comes before the crash in that
// instant) fails with unavailable, and publishes while it is down are refused.
TEST(FaultCrash, AnInMemoryQueueLosesWhatItHolds) {
  RequestLog log;
  Simulation sim(load_text(queue_crash(false)));
  sim.add_observer(&log);
  sim.run_until(Time::s(10) - Time::ns(1));
  const auto& q = dynamic_cast<const Queue&>(find_component(sim, "jobs"));
  const int64_t held = q.held();
  EXPECT_GT(held, 50);
  sim.run_until(Time::s(10));
  EXPECT_EQ(q.held(), 0);
  EXPECT_EQ(log.count(Outcome::failed, Reason::unavailable), static_cast<size_t>(held) + 1);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(q.held(), 0);
}

// A publish still being stored (publish_latency, 250 ms here) when the queue crashes is lost with
// it, durable or not: at 5.02 s the publishes of 4.8 s, 4.9 s and 5.0 s fail with `unavailable`
// and none becomes a message. Then 5.1 s ... 6.0 s are refused (down until 6.02 s), and the
// publishes of 0.1 s ... 4.7 s (47) and 6.1 s ... 9.7 s (37) are stored, each message processed
// at once: 184 requests (100 publishes, 84 messages), 168 completed, 13 dropped and the 3
// publishes of 9.8 s ... 10.0 s in flight.
TEST(FaultCrash, APublishBeingStoredIsLostWithTheQueue) {
  for (const char* durable : {"true", "false"}) {
    SCOPED_TRACE(durable);
    const std::string yaml = std::string(R"(
duration: 10s
components:
  producer: {kind: source, arrivals: {constant: 10/s}, target: jobs}
  jobs:
    kind: queue
    durable: )") + durable + R"(
    publish_latency: 250ms
    consumers: {target: worker, count: 1}
  worker: {kind: sink}
faults:
  boom: {kind: crash, targets: [jobs], at: 5020ms, restart_after: 1s}
)";
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    size_t at_crash = 0;
    for (const Finished& f : log.entries) {
      at_crash += f.reason == Reason::unavailable && f.finished == Time::ms(5020);
    }
    EXPECT_EQ(at_crash, 3u);
    const Ledger l = sim->ledger();
    EXPECT_EQ(l.generated, 184u);
    EXPECT_EQ(l.completed, 168u);
    EXPECT_EQ(l.dropped, 13u);
    EXPECT_EQ(l.in_flight, 3u);
  }
}

// A crashed cache restarts cold. 20 keys, one read every 10 ms: warm, every read hits; right
// after the restart the first read of each key misses, then hits again.
TEST(FaultCrash, ACacheRestartsColdAndItsHitRatioClimbsBack) {
  const std::string yaml = R"(
duration: 30s
components:
  users: {kind: source, arrivals: {poisson: 100/s}, keys: {uniform: 20}, target: cache}
  cache: {kind: cache, capacity: 100, hit_latency: 1ms, miss_latency: 1ms, backing: db}
  db: {kind: service, workers: 10, service_time: 5ms}
faults:
  boom: {kind: crash, targets: [cache], at: 10s, restart_after: 1s}
)";
  Simulation sim(load_text(yaml));
  const StationMetrics& m = metrics_of(sim, "cache");
  auto ratio_between = [&](Time from, Time to) {
    sim.run_until(from);
    const uint64_t h0 = m.counter(Counter::cache_hits), m0 = m.counter(Counter::cache_misses);
    sim.run_until(to);
    const double h = static_cast<double>(m.counter(Counter::cache_hits) - h0);
    const double x = static_cast<double>(m.counter(Counter::cache_misses) - m0);
    return h / (h + x);
  };
  const double warm = ratio_between(Time::s(9), Time::s(10) - Time::ns(1));
  EXPECT_GT(warm, 0.99);
  sim.run_until(Time::s(10));
  EXPECT_EQ(m.gauge(Gauge::cache_entries).level(), 0);  // cold
  const double right_after = ratio_between(Time::s(11), Time::ms(11'150));
  const double later = ratio_between(Time::s(12), Time::s(13));
  EXPECT_LT(right_after, 0.5);  // 15 reads over 20 keys: mostly first reads
  EXPECT_GT(later, 0.99);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
}

// ---- disk_full ------------------------------------------------------------------------------

// Writes and reads at 10/s each (at 0.1s, 0.2s, ...); the disk is full from 1.95s to 3.95s: the
// writes of 2.0s ... 3.9s (20 of them) fail with disk_full, every read succeeds, and the writes
// of 4.0s ... 5.9s succeed again.
TEST(FaultDiskFull, WritesFailReadsSucceedAndTheDatabaseRecovers) {
  const std::string yaml = R"(
duration: 6s
components:
  writers: {kind: source, arrivals: {constant: 10/s}, target: db}
  readers: {kind: source, arrivals: {constant: 10/s}, target: reader}
  reader: {kind: service, handler: [{call: db, op: get}]}
  db:
    kind: database
    queries:
      - {name: put, kind: write, time: 5ms}
      - {name: get, kind: read, time: 5ms}
faults:
  full: {kind: disk_full, targets: [db], at: 1950ms, end: 3950ms}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  size_t write_fail = 0, read_fail = 0, write_ok_after = 0;
  for (const Finished& f : log.entries) {
    const bool write = sim->workloads()[f.workload].name == "writers";
    if (f.reason == Reason::disk_full) {
      EXPECT_TRUE(write);
      EXPECT_GE(f.created, Time::ms(1950));
      EXPECT_LT(f.created, Time::ms(3950));
      ++write_fail;
    } else if (f.outcome != Outcome::completed) {
      ++read_fail;
    } else if (write && f.created > Time::ms(3950)) {
      ++write_ok_after;
    }
  }
  EXPECT_EQ(write_fail, 20u);
  EXPECT_EQ(read_fail, 0u);
  EXPECT_EQ(write_ok_after, 20u);  // 4.0s ... 5.9s
}

// A gradual fill of 100 MB/s on a 1 GB disk, from 1s, with writes that take no room themselves:
// a write is refused once more than the capacity is taken, i.e. after 11s.
TEST(FaultDiskFull, AGradualFillRefusesWritesOnceTheCapacityIsTaken) {
  const std::string yaml = R"(
duration: 20s
components:
  writers: {kind: source, arrivals: {constant: 10/s}, target: db}
  db:
    kind: database
    queries: [{name: put, kind: write, time: 1ms}]
    disk: {capacity: 1GB, write_size: 0B}
faults:
  filling: {kind: disk_full, targets: [db], at: 1s, fill_per_second: 100MB}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  for (const Finished& f : log.entries) {
    if (f.created < Time::s(11)) {
      EXPECT_EQ(f.reason, Reason::none) << f.created.seconds();
    } else if (f.created > Time::s(11)) {
      EXPECT_EQ(f.reason, Reason::disk_full) << f.created.seconds();
    }
  }
}

// The disk_used_bytes gauge shows what the disk holds: the database's own writes (10 a second
// of 1 KB, from 0.1s) and the fill's bytes (100 MB/s from 2s to 6.5s). Read at each window's end
// it rises by the fill rate (plus 10 KB of writes) per window, and falls back to the own writes
// once the fault has ended (the filler's file is removed).
TEST(FaultDiskFull, TheDiskGaugeShowsTheFillAndFallsBackWhenItEnds) {
  const std::string yaml = R"(
duration: 10s
components:
  writers: {kind: source, arrivals: {constant: 10/s}, target: db}
  db:
    kind: database
    queries: [{name: put, kind: write, time: 1ms}]
    disk: {capacity: 10GB, write_size: 1KB}
faults:
  filling: {kind: disk_full, targets: [db], at: 2s, duration: 4500ms, fill_per_second: 100MB}
)";
  WindowLog windows;
  auto sim = run_checked(yaml, {&windows});
  const uint32_t db = find_component(*sim, "db").index();
  ASSERT_EQ(windows.windows.size(), 10u);
  int64_t previous = 0;
  for (const WindowReport& w : windows.windows) {
    const int64_t k = w.end.count_ns() / Time::s(1).count_ns();
    const int64_t own = 10 * k * 1000;  // every write up to and including the one at k s
    const int64_t fill = k >= 2 && k <= 6 ? (k - 2) * 100'000'000 : 0;
    const int64_t shown = w.rows[db].gauges[static_cast<int>(Gauge::disk_used_bytes)];
    EXPECT_EQ(shown, own + fill) << "window ending at " << k << "s";
    if (k >= 3 && k <= 6) {
      EXPECT_EQ(shown - previous, 100'000'000 + 10'000) << k;  // the fill rate, and 10 writes
    }
    previous = shown;
  }
  EXPECT_EQ(dynamic_cast<const Database&>(find_component(*sim, "db")).disk_used(0), 100 * 1000);
}

// With a 300 MB disk the fill leaves no room for a write from 5s on (300 MB taken by then): the
// gauge stops at the capacity, writes are refused until the fault ends at 6.5s, and then the
// gauge is the own writes again, growing from where they stopped.
TEST(FaultDiskFull, TheDiskGaugeStopsAtTheCapacity) {
  const std::string yaml = R"(
duration: 8s
components:
  writers: {kind: source, arrivals: {constant: 10/s}, target: db}
  db:
    kind: database
    queries: [{name: put, kind: write, time: 1ms}]
    disk: {capacity: 300MB, write_size: 1KB}
faults:
  filling: {kind: disk_full, targets: [db], at: 2s, duration: 4500ms, fill_per_second: 100MB}
)";
  WindowLog windows;
  RequestLog log;
  auto sim = run_checked(yaml, {&windows, &log});
  const uint32_t db = find_component(*sim, "db").index();
  auto shown = [&](int k) {
    return windows.windows.at(static_cast<size_t>(k - 1))
        .rows[db]
        .gauges[static_cast<int>(Gauge::disk_used_bytes)];
  };
  const size_t refused = log.count(Outcome::failed, Reason::disk_full);
  // The writes of 5.0s ... 6.5s (the one at 6.5s comes before the fault's end at that instant).
  EXPECT_EQ(refused, 16u);
  EXPECT_EQ(shown(4), 40 * 1000 + 200'000'000);
  EXPECT_EQ(shown(5), 300'000'000);
  EXPECT_EQ(shown(6), 300'000'000);
  EXPECT_EQ(shown(7), static_cast<int64_t>(70 - refused) * 1000);
  EXPECT_EQ(shown(8), static_cast<int64_t>(80 - refused) * 1000);
}

TEST(FaultDiskFull, ADurableQueueRefusesPublishes) {
  const std::string yaml = R"(
duration: 5s
components:
  producer: {kind: source, arrivals: {constant: 10/s}, target: jobs}
  jobs: {kind: queue, consumers: {target: worker}}
  worker: {kind: service, service_time: 1ms}
faults:
  full: {kind: disk_full, targets: [jobs], at: 950ms, end: 1950ms}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(lost(*sim, "jobs", Outcome::failed, Reason::disk_full), 10u);
}

// ---- slow -----------------------------------------------------------------------------------

// Only the calls from `from` are slowed: two callers of one dependency with a constant 10 ms.
TEST(FaultSlow, ARouteFaultSlowsOnlyThatCallersCalls) {
  const std::string yaml = R"(
duration: 10s
components:
  a: {kind: source, arrivals: {constant: 10/s}, target: front-a}
  b: {kind: source, arrivals: {constant: 10/s}, target: front-b}
  front-a: {kind: service, workers: 100, handler: [{call: sms}]}
  front-b: {kind: service, workers: 100, handler: [{call: sms}]}
  sms: {kind: external, latency: 10ms}
faults:
  slow-sms: {kind: slow, targets: [sms], from: front-a, factor: 5, latency: 50ms}
)";
  auto sim = run_checked(yaml);
  const RunSummary s = summarize(*sim);
  for (const WorkloadSummary& w : s.workloads) {
    const double expected = w.name == "a" ? 0.010 * 5 + 0.050 : 0.010;
    EXPECT_NEAR(w.latency.mean, expected, 1e-3) << w.name;
  }
}

// The proxies' own times stretch too: a cache's hit and miss latencies, a load balancer's
// latency, a queue's publish_latency - all constant here, so every request of `users` takes
// exactly the stretched time (factor 3, plus 2 ms) once the fault is on. (The cache's key is
// always 0: only the first request, long before, misses.)
TEST(FaultSlow, ACacheALoadBalancerAndAQueueStretchTheirOwnLatencies) {
  struct Case {
    const char* x;
    double stretched;  // seconds
  };
  const Case cases[] = {
      {"{kind: cache, hit_latency: 1ms, miss_latency: 4ms, backing: s}", 0.001 * 3 + 0.002},
      {"{kind: load_balancer, backends: [s], latency: 1ms}", 0.001 * 3 + 0.002},
      {"{kind: load_balancer, backends: [s]}", 0.002},  // no latency of its own: only the added
      {"{kind: queue, publish_latency: 1ms, consumers: {target: s}}", 0.001 * 3 + 0.002},
  };
  for (const Case& c : cases) {
    const std::string yaml = std::string(R"(
duration: 5s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: x}
  x: )") + c.x + R"(
  s: {kind: sink}
faults:
  slow: {kind: slow, targets: [x], factor: 3, latency: 2ms, at: 1s}
)";
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    size_t judged = 0;
    for (const Finished& f : log.entries) {
      if (f.workload != 0 || f.created <= Time::s(1)) continue;
      EXPECT_EQ(f.finished - f.created, Time::from_seconds(c.stretched)) << c.x;
      ++judged;
    }
    // 1.1 s ... 4.9 s: the request of 1.0 s comes before the fault's start at the same instant,
    // and that of 5.0 s is still in flight.
    EXPECT_EQ(judged, 39u) << c.x;
  }
}

// A source (the clients) and a sink (which answers at once) have nothing these faults act on:
// naming one is an error, not a silent no-op.
TEST(FaultSlow, ASourceOrASinkIsNotATarget) {
  const std::string head = R"(
duration: 5s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: s}
  s: {kind: sink}
faults:
)";
  const std::pair<std::string, std::string> cases[] = {
      {"  f: {kind: crash, targets: [users], at: 1s}\n",
       "test.yaml:7:3: error: faults.f: crash cannot act on 'users' (a source models the clients: "
       "it serves no calls and has no work of its own; change its traffic with arrivals or "
       "schedule, or fault the components it calls)"},
      {"  f: {kind: error_rate, targets: [users], fraction: 0.5}\n",
       "test.yaml:7:3: error: faults.f: error_rate cannot act on 'users' (a source models the "
       "clients: it serves no calls and has no work of its own; change its traffic with arrivals "
       "or schedule, or fault the components it calls)"},
      {"  f: {kind: cpu_stress, targets: [s], fraction: 0.5}\n",
       "test.yaml:7:3: error: faults.f: cpu_stress cannot act on 's' (a sink answers at once, "
       "with no time of its own to stretch; add latency to the calls to it with a network fault "
       "instead)"},
      {"  f: {kind: slow, targets: [s], latency: 1ms}\n",
       "test.yaml:7:3: error: faults.f: slow cannot act on 's' (a sink answers at once, with no "
       "time of its own to stretch; add latency to the calls to it with a network fault "
       "instead)"},
  };
  for (const auto& [fault, message] : cases) {
    EXPECT_EQ(load_errors(head + fault), message + "\n");
  }
}

// Past utilisation 1 the queue grows linearly: lambda = 1/s, service 0.5 s x 4 = 2 s (mu' =
// 0.5/s), so after T seconds about (lambda - mu') T wait. The count waiting is arrivals minus
// departures, with variance about (lambda + mu') T (both nearly Poisson): kZ of that.
TEST(FaultSlow, PastUtilisationOneTheQueueGrowsLinearly) {
  const std::string yaml = R"(
seed: 7
duration: 4000s
components:
  users: {kind: source, arrivals: {poisson: 1/s}, target: api}
  api: {kind: service, service_time: {exponential: 500ms}}
faults:
  slow: {kind: slow, targets: [api], factor: 4}
)";
  auto sim = run_checked(yaml);
  const double T = 4000, growth = 1 - 0.5;
  const double waiting = static_cast<double>(metrics_of(*sim, "api").queue().level());
  EXPECT_NEAR(waiting, growth * T, kZ * std::sqrt(1.5 * T));
}

// ---- error_rate -----------------------------------------------------------------------------

// 20,000 calls at fraction 0.3: the count of errors is binomial, sd sqrt(n p (1-p)).
TEST(FaultErrorRate, TheFractionOfErrorsIsBinomial) {
  const std::string yaml = R"(
seed: 11
duration: 200s
components:
  users: {kind: source, arrivals: {constant: 100/s}, target: api}
  api: {kind: service, workers: 10, service_time: 1ms}
faults:
  errors: {kind: error_rate, targets: [api], fraction: 0.3}
)";
  auto sim = run_checked(yaml);
  const double n = static_cast<double>(metrics_of(*sim, "api").arrivals());
  const double errors = static_cast<double>(lost(*sim, "api", Outcome::failed, Reason::error));
  EXPECT_NEAR(errors, 0.3 * n, kZ * std::sqrt(n * 0.3 * 0.7));
}

// ---- cpu_stress -----------------------------------------------------------------------------

TEST(FaultCpuStress, ServiceTimesStretchByOneOverOneMinusF) {
  const std::string yaml = R"(
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: api}
  api: {kind: service, workers: 10, service_time: 30ms}
faults:
  neighbour: {kind: cpu_stress, targets: [api], fraction: 0.4}
)";
  auto sim = run_checked(yaml);
  EXPECT_NEAR(metrics_of(*sim, "api").latency().mean() * 1e-9, 0.030 / 0.6, 1e-6);
}

// ---- clock_skew -----------------------------------------------------------------------------

// A consumer that takes 6 s against a visibility timeout of 4 s gets its message redelivered;
// with the queue's clock at half speed the timeout lasts 8 s of real time and it does not.
TEST(FaultClockSkew, ASlowClockLengthensTheQueuesVisibilityTimeout) {
  const std::string yaml = R"(
duration: 10s
components:
  producer: {kind: source, arrivals: {constant: 1/s}, max_requests: 1, target: jobs}
  jobs: {kind: queue, visibility_timeout: 4s, consumers: {target: worker, count: 1}}
  worker: {kind: service, workers: 1, service_time: 6s}
)";
  EXPECT_EQ(metrics_of(*run_checked(yaml), "jobs").counter(Counter::redeliveries), 1u);
  const std::string skewed =
      yaml + "faults:\n  skew: {kind: clock_skew, targets: [jobs], rate: 0.5}\n";
  EXPECT_EQ(metrics_of(*run_checked(skewed), "jobs").counter(Counter::redeliveries), 0u);
}

// A cache whose clock jumps 11 s ahead expires entries filled before the jump 11 s early.
TEST(FaultClockSkew, AnOffsetClockExpiresCacheEntriesEarly) {
  const std::string yaml = R"(
duration: 14s
components:
  users: {kind: source, arrivals: {constant: 10/s}, keys: {uniform: 1}, target: cache}
  cache: {kind: cache, ttl: 15s, hit_latency: 1ms, miss_latency: 1ms, backing: db}
  db: {kind: sink}
faults:
  skew: {kind: clock_skew, targets: [cache], at: 5s, offset: 11s}
)";
  auto sim = run_checked(yaml);
  // Filled at about 0.1s, expiring at about 15.1s by its own clock, which reads 16.1s at 5.1s
  // real: that read misses (two misses in all: the first fill and this one; without the skew
  // only the first, as the run ends before 15.1s).
  EXPECT_EQ(metrics_of(*sim, "cache").counter(Counter::cache_misses), 2u);
}

// A cache whose clock runs twice as fast from the start: the entry filled at 0.101 s (on its
// clock 0.202 s) with a ttl of 10 s expires when its clock reads 10.202 s, at 5.101 s of true
// time. So the get of 5.1 s still hits and that of 5.2 s misses: 2 misses and 58 hits in 6 s
// (a true clock would keep the entry until 10.101 s: 1 miss).
TEST(FaultClockSkew, AFastClockRunsACacheEntrysTtlOutEarly) {
  const std::string yaml = R"(
duration: 6s
components:
  users: {kind: source, arrivals: {constant: 10/s}, target: cache}
  cache: {kind: cache, ttl: 10s, hit_latency: 1ms, miss_latency: 1ms, backing: db}
  db: {kind: sink}
faults:
  fast: {kind: clock_skew, targets: [cache], rate: 2}
)";
  Simulation sim(load_text(yaml));
  const StationMetrics& m = metrics_of(sim, "cache");
  sim.run_until(Time::ms(5100));
  EXPECT_EQ(m.counter(Counter::cache_misses), 1u);
  EXPECT_EQ(m.counter(Counter::cache_hits), 50u);
  sim.run_until(Time::ms(5200));
  EXPECT_EQ(m.counter(Counter::cache_misses), 2u);
  sim.run();
  EXPECT_TRUE(Balanced(sim));
  EXPECT_EQ(m.counter(Counter::cache_misses), 2u);
  EXPECT_EQ(m.counter(Counter::cache_hits), 58u);
}

}  // namespace
}  // namespace dsim::test
