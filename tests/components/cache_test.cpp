// cache: the entry store's eviction orders (LRU, LFU, TTL) and expiry, then the component: hit
// and miss paths and their latencies, the same hits and misses as an independent reference model,
// exact TTL expiry, write_through / invalidate / write_around, request coalescing, a failing
// backing store, warm start, a live capacity change, operations at a backing cache, and load
// errors.
#include "components/cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <map>

#include "components/cache_store.hpp"
#include "components/component_support.hpp"
#include "core/random.hpp"

namespace dsim::test {
namespace {

using Policy = CacheStore::Policy;

const Cache& cache_of(const Simulation& sim, const std::string& name) {
  return dynamic_cast<const Cache&>(find_component(sim, name));
}

uint64_t counter(const Simulation& sim, const std::string& name, Counter c) {
  return metrics_of(sim, name).counter(c);
}

// --- The store ------------------------------------------------------------------------------

TEST(CacheStore, LruEvictsTheLeastRecentlyUsedEntry) {
  CacheStore s(Policy::lru, Time::zero());
  const Time t;
  EXPECT_EQ(s.put(1, t, 3), 0u);
  EXPECT_EQ(s.put(2, t, 3), 0u);
  EXPECT_EQ(s.put(3, t, 3), 0u);
  EXPECT_TRUE(s.get(1));  // 2 is now the least recently used
  EXPECT_FALSE(s.get(9));
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{2, 3, 1}));
  EXPECT_EQ(s.put(4, t, 3), 1u);
  EXPECT_FALSE(s.contains(2));
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{3, 1, 4}));
  EXPECT_EQ(s.put(3, t, 3), 0u);  // a refill of a held key is a use, not a new entry
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{1, 4, 3}));
  EXPECT_TRUE(s.erase(1));
  EXPECT_FALSE(s.erase(1));
  EXPECT_EQ(s.size(), 2u);
}

TEST(CacheStore, LfuKeepsTheMostFrequentlyUsedKeysAndBreaksTiesByRecency) {
  CacheStore s(Policy::lfu, Time::zero());
  const Time t;
  for (uint64_t k : {1, 2, 3}) s.put(k, t, 3);
  for (int i = 0; i < 3; ++i) s.get(1);  // 1 used 4 times, 2 twice, 3 once
  s.get(2);
  EXPECT_EQ(s.frequency(1), 4u);
  EXPECT_EQ(s.frequency(2), 2u);
  EXPECT_EQ(s.frequency(3), 1u);
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{3, 2, 1}));
  EXPECT_EQ(s.put(4, t, 3), 1u);  // 3 is the least frequently used
  EXPECT_FALSE(s.contains(3));
  // Among equal counts the least recently used goes: 4 and 5 both at 2 uses, 4 used earlier.
  s.get(4);
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{2, 4, 1}));  // 4 entered count 2 later
  EXPECT_EQ(s.put(5, t, 3), 1u);                                    // evicts 2 (count 2, older)
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{5, 4, 1}));
  // A key that comes back starts again at 1.
  EXPECT_EQ(s.put(2, t, 3), 1u);  // evicts 5, the only entry used once
  EXPECT_EQ(s.frequency(2), 1u);
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{2, 4, 1}));
}

// A scan (many keys used once) flushes an LRU cache but not an LFU one: the hot keys' counts
// keep them. With capacity 4, hot keys 0, 1, 2 used 5 times each, then keys 100..109 once each.
TEST(CacheStore, AScanFlushesLruButLfuKeepsTheHotKeys) {
  auto run = [](Policy p) {
    CacheStore s(p, Time::zero());
    for (int round = 0; round < 5; ++round) {
      for (uint64_t k : {0, 1, 2}) {
        if (!s.get(k)) s.put(k, Time::zero(), 4);
      }
    }
    for (uint64_t k = 100; k < 110; ++k) {
      if (!s.get(k)) s.put(k, Time::zero(), 4);
    }
    std::vector<uint64_t> keys = s.eviction_order();
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  EXPECT_EQ(run(Policy::lfu), (std::vector<uint64_t>{0, 1, 2, 109}));
  EXPECT_EQ(run(Policy::lru), (std::vector<uint64_t>{106, 107, 108, 109}));
}

TEST(CacheStore, EntriesExpireExactlyTtlAfterTheirFill) {
  CacheStore s(Policy::lru, Time::s(1));
  s.put(7, Time::zero(), 10);
  EXPECT_EQ(s.expiry(7), Time::s(1));
  EXPECT_EQ(s.expire(Time::s(1) - Time::ns(1)), 0u);
  EXPECT_TRUE(s.contains(7));
  EXPECT_TRUE(s.get(7));                // a hit does not extend the entry's life
  EXPECT_EQ(s.expire(Time::s(1)), 1u);  // held for [0, 1s): gone at 1s exactly
  EXPECT_FALSE(s.contains(7));
  // A refill starts the ttl again.
  s.put(8, Time::zero(), 10);
  s.put(8, Time::ms(500), 10);
  EXPECT_EQ(s.expire(Time::s(1)), 0u);
  EXPECT_EQ(s.expiry(8), Time::ms(1500));
  EXPECT_EQ(s.expire(Time::ms(1500)), 1u);
  EXPECT_EQ(s.size(), 0u);
}

TEST(CacheStore, ExpiredEntriesTakeNoRoom) {
  CacheStore s(Policy::lru, Time::s(1));
  s.put(1, Time::zero(), 2);
  s.put(2, Time::ms(500), 2);
  s.expire(Time::ms(1200));  // 1 expired at 1s
  EXPECT_EQ(s.put(3, Time::ms(1200), 2), 0u);
  EXPECT_TRUE(s.contains(2));
  EXPECT_TRUE(s.contains(3));
}

TEST(CacheStore, TtlOrderEvictsTheEntryClosestToExpiry) {
  CacheStore s(Policy::ttl, Time::s(10));
  s.put(1, Time::s(0), 2);
  s.put(2, Time::s(1), 2);
  EXPECT_TRUE(s.get(1));  // uses do not matter to TTL order
  EXPECT_EQ(s.put(3, Time::s(2), 2), 1u);
  EXPECT_FALSE(s.contains(1));
  s.put(2, Time::s(3), 2);  // refilled: now expires after 3
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{3, 2}));
}

// The cache's clock may step back (clock_skew, core/local_clock.hpp): an entry filled after the
// step expires before entries filled earlier, and takes its place in expiry order - for
// expire() and for the ttl victim alike.
TEST(CacheStore, AnEntryFilledAfterTheClockSteppedBackExpiresInItsTurn) {
  CacheStore s(Policy::ttl, Time::s(10));
  s.put(1, Time::s(18), 4);      // expires at 28 s
  s.put(2, Time::s(19), 4);      // 29 s
  s.put(3, Time::ms(14500), 4);  // the clock stepped back: 24.5 s, before both
  s.put(4, Time::s(19), 4);      // 29 s, after 2 (equal expiries keep fill order)
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{3, 1, 2, 4}));
  EXPECT_EQ(s.expire(Time::s(25)), 1u);
  EXPECT_FALSE(s.contains(3));
  s.put(2, Time::s(15), 4);  // refilled after the step: 25 s, now first
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{2, 1, 4}));
  EXPECT_EQ(s.expire(Time::s(25)), 1u);
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(s.expire(Time::s(29)), 2u);
  EXPECT_EQ(s.size(), 0u);
}

TEST(CacheStore, ShrinkingEvictsInEvictionOrder) {
  CacheStore s(Policy::lru, Time::zero());
  for (uint64_t k = 0; k < 6; ++k) s.put(k, Time::zero(), 6);
  s.get(0);
  EXPECT_EQ(s.shrink(3), 3u);
  EXPECT_EQ(s.eviction_order(), (std::vector<uint64_t>{4, 5, 0}));
}

// --- A reference cache, written for clarity rather than speed -------------------------------

// Entries with their use count, last use and fill time; the victim is found by a scan:
// LRU the oldest last use, LFU the smallest (count, last use), TTL the oldest fill. Expired
// entries (fill + ttl <= now) are dropped before every access.
class ReferenceCache {
 public:
  ReferenceCache(Policy p, size_t capacity, Time ttl) : p_(p), capacity_(capacity), ttl_(ttl) {}
  // Returns true on a hit; on a miss fills the key (the backing store always succeeds here).
  bool access(uint64_t key, Time now) {
    ++tick_;
    if (ttl_ > Time::zero()) {
      for (auto it = entries_.begin(); it != entries_.end();) {
        it = it->second.filled + ttl_ <= now ? entries_.erase(it) : std::next(it);
      }
    }
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      ++it->second.count;
      it->second.last_use = tick_;
      return true;
    }
    if (entries_.size() == capacity_) {
      auto victim = entries_.begin();
      for (auto e = entries_.begin(); e != entries_.end(); ++e) {
        if (worse(e->second, victim->second)) victim = e;
      }
      entries_.erase(victim);
    }
    entries_[key] = Entry{1, tick_, now, tick_};
    return false;
  }

 private:
  struct Entry {
    uint64_t count;
    uint64_t last_use;
    Time filled;
    uint64_t fill_tick;
  };
  bool worse(const Entry& a, const Entry& b) const {
    switch (p_) {
      case Policy::lru:
        return a.last_use < b.last_use;
      case Policy::lfu:
        return a.count != b.count ? a.count < b.count : a.last_use < b.last_use;
      case Policy::ttl:
        return a.fill_tick < b.fill_tick;
    }
    return false;
  }
  Policy p_;
  size_t capacity_;
  Time ttl_;
  uint64_t tick_ = 0;
  std::map<uint64_t, Entry> entries_;
};

// 2000 gets on 20 uniform keys, one every 10 ms, into a cache of 5. Misses read through a sink
// (answered at once) with no miss latency, hits take 1 ms: so a request's latency says whether it
// hit, and every request ends before the next arrives. The same key sequence through the
// reference model must give the same hit or miss, request by request.
void expect_same_as_reference(const std::string& eviction, Policy policy, Time ttl) {
  const std::string yaml = R"(
name: reference
seed: 61
duration: 30s
components:
  users:
    kind: source
    arrivals: {constant: 100/s}
    keys: {uniform: 20}
    max_requests: 2000
    target: cache
  cache:
    kind: cache
    capacity: 5
    eviction: )" + eviction +
                           "\n    ttl: " + std::to_string(ttl.count_ns()) + R"(ns
    hit_latency: 1ms
    miss_latency: 0s
    backing: db
  db:
    kind: sink
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 2000u);
  std::vector<Finished> requests = log.entries;
  std::sort(requests.begin(), requests.end(),
            [](const Finished& a, const Finished& b) { return a.id < b.id; });
  ReferenceCache reference(policy, 5, ttl);
  uint64_t hits = 0, misses = 0, differences = 0;
  for (const Finished& f : requests) {
    const bool hit = f.finished - f.created == Time::ms(1);
    ASSERT_TRUE(hit || f.finished == f.created);
    differences += reference.access(f.key, f.created) != hit;
    (hit ? hits : misses)++;
  }
  EXPECT_EQ(differences, 0u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_hits), hits);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), misses);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), misses);
  // Both outcomes occur often enough for the comparison to mean something.
  EXPECT_GT(hits, 200u);
  EXPECT_GT(misses, 200u);
}

TEST(Cache, LruHitsAndMissesMatchAReferenceModelRequestByRequest) {
  expect_same_as_reference("lru", Policy::lru, Time::zero());
}

TEST(Cache, LfuHitsAndMissesMatchAReferenceModelRequestByRequest) {
  expect_same_as_reference("lfu", Policy::lfu, Time::zero());
}

TEST(Cache, TtlOrderHitsAndMissesMatchAReferenceModelRequestByRequest) {
  expect_same_as_reference("ttl", Policy::ttl, Time::ms(150));
}

TEST(Cache, LruWithExpiryMatchesAReferenceModelRequestByRequest) {
  expect_same_as_reference("lru", Policy::lru, Time::ms(150));
}

TEST(Cache, LfuWithExpiryMatchesAReferenceModelRequestByRequest) {
  expect_same_as_reference("lfu", Policy::lfu, Time::ms(150));
}

// --- Hit and miss paths ---------------------------------------------------------------------

// Five gets for key 0 at 0.1s .. 0.5s. The first misses: 3 ms lookup, then the database's 50 ms,
// then the fill and the answer (53 ms). The other four hit (2 ms).
TEST(Cache, AHitTakesHitLatencyAndAMissTakesMissLatencyPlusTheBackingCall) {
  const std::string yaml = R"(
name: paths
seed: 62
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    target: cache
  cache:
    kind: cache
    hit_latency: 2ms
    miss_latency: 3ms
    backing: db
  db:
    kind: service
    service_time: 50ms
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 5u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ(f.finished - f.created, f.id == 1 ? Time::ms(53) : Time::ms(2)) << "request " << f.id;
  }
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_hits), 4u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 1u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_evictions), 0u);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 1u);
  EXPECT_EQ(metrics_of(*sim, "cache").gauge(Gauge::cache_entries).level(), 1);
  EXPECT_EQ(cache_of(*sim, "cache").pending(), 0u);
}

// Gets for key 0 every 100 ms, ttl 300 ms, answered at once on a miss (a sink behind): the entry
// filled at 0.1s is gone at 0.4s exactly, so the pattern is miss, hit, hit, miss, hit, hit...
TEST(Cache, AnEntryExpiresExactlyTtlAfterItWasFilled) {
  const std::string yaml = R"(
name: ttl
seed: 63
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 30
    target: cache
  cache:
    kind: cache
    ttl: 300ms
    hit_latency: 1ms
    miss_latency: 0s
    backing: db
  db:
    kind: sink
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 30u);
  for (const Finished& f : log.entries) {
    const bool miss = (f.id - 1) % 3 == 0;
    EXPECT_EQ(f.finished - f.created, miss ? Time::zero() : Time::ms(1)) << "request " << f.id;
  }
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 10u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_hits), 20u);
  // Expiry is noticed at the next operation: the fill at 2.8s expires at 3.1s, after the last get.
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_expirations), 9u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_evictions), 0u);
}

// --- Writes ---------------------------------------------------------------------------------

// All on key 0; the database takes 10 ms for anything, the cache 1 ms.
//   0.10s set (writer w1)     0.25s get      0.50s get      0.60s set (w2)    0.75s get   1.0s get
// write_through: the first set inserts the entry, the second refreshes it: every get hits.
// invalidate:    the sets delete the entry: the gets after them miss.
// write_around:  the sets leave the cache alone: only the first get misses.
struct WriteCase {
  std::string policy;
  uint64_t hits, misses, db_calls;
  Time set_latency;
};

void expect_writes(const WriteCase& k) {
  const std::string yaml = R"(
name: writes
seed: 64
duration: 10s
components:
  readers:
    kind: source
    arrivals: {constant: 4/s}
    max_requests: 4
    target: cache
  w1:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    workload: writes
    target: writer
  w2:
    kind: source
    arrivals: {constant: 100/min}
    max_requests: 1
    workload: writes
    target: writer
  writer:
    kind: service
    workers: 10
    handler:
      - call: cache
        op: set
  cache:
    kind: cache
    hit_latency: 1ms
    miss_latency: 1ms
    write_policy: )" + k.policy +
                           R"(
    backing: db
  db:
    kind: service
    workers: 10
    service_time: 10ms
)";
  SCOPED_TRACE(k.policy);
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_hits), k.hits);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), k.misses);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), k.db_calls);
  ASSERT_EQ(log.entries.size(), 6u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    if (sim->workloads()[f.workload].name == "writes") {
      EXPECT_EQ(f.finished - f.created, k.set_latency);
    }
  }
}

TEST(Cache, WriteThroughUpdatesTheEntrySoLaterGetsHit) {
  expect_writes({"write_through", 4, 0, 2, Time::ms(11)});
}

TEST(Cache, InvalidateDeletesTheEntrySoTheNextGetMisses) {
  expect_writes({"invalidate", 2, 2, 4, Time::ms(11)});
}

TEST(Cache, WriteAroundLeavesTheCacheAlone) {
  expect_writes({"write_around", 3, 1, 3, Time::ms(10)});
}

// A delete (or invalidate) removes the entry without calling the backing store.
TEST(Cache, DeleteRemovesTheEntryWithoutABackingCall) {
  const std::string yaml = R"(
name: delete
seed: 65
duration: 10s
components:
  readers:
    kind: source
    arrivals: {constant: 4/s}
    max_requests: 2
    target: cache
  deleter:
    kind: source
    arrivals: {constant: 3/s}
    max_requests: 1
    target: admin
  admin:
    kind: service
    handler:
      - call: cache
        op: invalidate
  cache:
    kind: cache
    backing: db
  db:
    kind: service
    service_time: 10ms
)";
  // 0.25s get misses and fills; 0.333s invalidate; 0.5s get misses again.
  auto sim = run_checked(yaml);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 2u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_hits), 0u);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 2u);
}

// --- Coalescing -----------------------------------------------------------------------------

// Ten gets for key 0 at 1 ms .. 10 ms; the database takes 100 ms. With coalescing the first miss
// calls the database and the nine others wait for its fill: one backing call, every answer at
// 101 ms. Without, each miss calls the database (a stampede) and is answered 100 ms after it came.
std::string stampede(bool coalesce) {
  return R"(
name: stampede
seed: 66
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 1000/s}
    max_requests: 10
    target: cache
  cache:
    kind: cache
    miss_latency: 0s
    coalesce: )" +
         std::string(coalesce ? "true" : "false") + R"(
    backing: db
  db:
    kind: service
    workers: 100
    service_time: 100ms
)";
}

TEST(Cache, CoalescingTurnsConcurrentMissesIntoOneBackingCall) {
  RequestLog log;
  auto sim = run_checked(stampede(true), {&log});
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 1u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 10u);
  EXPECT_EQ(counter(*sim, "cache", Counter::coalesced), 9u);
  EXPECT_EQ(counter(*sim, "cache", Counter::calls), 1u);
  ASSERT_EQ(log.entries.size(), 10u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ(f.finished, Time::ms(101));
  }
}

TEST(Cache, WithoutCoalescingEveryConcurrentMissCallsTheBackingStore) {
  RequestLog log;
  auto sim = run_checked(stampede(false), {&log});
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 10u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 10u);
  EXPECT_EQ(counter(*sim, "cache", Counter::coalesced), 0u);
  ASSERT_EQ(log.entries.size(), 10u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.finished - f.created, Time::ms(100));
  }
  EXPECT_EQ(metrics_of(*sim, "cache").gauge(Gauge::cache_entries).level(), 1);
}

// --- A failing backing store ----------------------------------------------------------------

// The database takes 100 ms but the cache waits 20 ms. Three concurrent misses (coalesced) all
// fail with timeout when the one backing call does, at 21 ms, and nothing is filled: a later get
// (0.5s) misses again and fails the same way.
TEST(Cache, AFailedBackingCallAnswersItsReasonAndFillsNothing) {
  const std::string yaml = R"(
name: failing
seed: 67
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 1000/s}
    max_requests: 3
    target: cache
  later:
    kind: source
    arrivals: {constant: 2/s}
    max_requests: 1
    target: cache
  cache:
    kind: cache
    miss_latency: 0s
    coalesce: true
    timeout: 20ms
    backing: db
  db:
    kind: service
    workers: 10
    service_time: 100ms
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 4u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::failed);
    EXPECT_EQ(f.reason, Reason::timeout);
    EXPECT_EQ(f.component, find_component(*sim, "cache").index());
    EXPECT_EQ(f.finished, f.id <= 3 ? Time::ms(21) : Time::ms(520));
  }
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 4u);
  EXPECT_EQ(counter(*sim, "cache", Counter::coalesced), 2u);
  EXPECT_EQ(counter(*sim, "cache", Counter::timeouts), 2u);
  EXPECT_EQ(metrics_of(*sim, "cache").failed()[static_cast<int>(Reason::timeout)], 4u);
  EXPECT_EQ(metrics_of(*sim, "cache").gauge(Gauge::cache_entries).level(), 0);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 2u);
}

// A refusal that comes back at once (the database's only worker is busy and it has no waiting
// room) is answered at once with its reason, and the first miss still fills.
TEST(Cache, ARefusalByTheBackingStoreIsAnsweredAtOnce) {
  const std::string yaml = R"(
name: refused
seed: 68
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 1000/s}
    max_requests: 2
    target: cache
  cache:
    kind: cache
    miss_latency: 0s
    backing: db
  db:
    kind: service
    queue_capacity: 0
    service_time: 100ms
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 2u);
  EXPECT_EQ(log.entries[0].id, 2u);
  EXPECT_EQ(log.entries[0].outcome, Outcome::dropped);
  EXPECT_EQ(log.entries[0].reason, Reason::queue_full);
  EXPECT_EQ(log.entries[0].finished, Time::ms(2));
  EXPECT_EQ(log.entries[1].outcome, Outcome::completed);
  EXPECT_EQ(log.entries[1].finished, Time::ms(101));
  EXPECT_EQ(metrics_of(*sim, "cache").gauge(Gauge::cache_entries).level(), 1);
}

// A fallback answers the caller (degraded) but is not data: nothing is cached.
TEST(Cache, AFallbackAnswerIsPassedOnButNotCached) {
  const std::string yaml = R"(
name: fallback
seed: 69
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 3
    target: cache
  cache:
    kind: cache
    timeout: 20ms
    fallback: {latency: 1ms}
    backing: db
  db:
    kind: service
    workers: 10
    service_time: 100ms
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  for (const Finished& f : log.entries) EXPECT_EQ(f.outcome, Outcome::completed);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 3u);
  EXPECT_EQ(counter(*sim, "cache", Counter::degraded), 3u);
  EXPECT_EQ(metrics_of(*sim, "cache").gauge(Gauge::cache_entries).level(), 0);
}

// --- Start and live changes -----------------------------------------------------------------

TEST(Cache, AWarmCacheStartsWithTheFirstKeys) {
  const std::string yaml = R"(
name: warm
seed: 70
duration: 10s
components:
  users:
    kind: source
    arrivals: {poisson: 100/s}
    keys: {uniform: 50}
    target: cache
  cache:
    kind: cache
    capacity: 50
    warm: 50
    backing: db
  db:
    kind: sink
)";
  auto sim = run_checked(yaml);
  EXPECT_GT(counter(*sim, "cache", Counter::cache_hits), 500u);
  EXPECT_EQ(counter(*sim, "cache", Counter::cache_misses), 0u);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 0u);
}

TEST(Cache, ALiveCapacityCutEvictsAtOnce) {
  const std::string yaml = R"(
name: shrink
seed: 71
duration: 10s
components:
  users:
    kind: source
    arrivals: {poisson: 100/s}
    keys: {uniform: 10}
    target: cache
  cache:
    kind: cache
    capacity: 10
    warm: 10
    backing: db
  db:
    kind: sink
)";
  Simulation sim(load_text(yaml));
  sim.run_until(Time::s(5));
  const StationMetrics& m = metrics_of(sim, "cache");
  EXPECT_EQ(m.counter(Counter::cache_misses), 0u);
  EXPECT_EQ(sim.set_parameter("cache", "capacity", "4"), "");
  EXPECT_EQ(m.counter(Counter::cache_evictions), 6u);
  EXPECT_EQ(m.gauge(Gauge::cache_entries).level(), 4);
  sim.run();
  EXPECT_GT(m.counter(Counter::cache_misses), 100u);
  EXPECT_LE(m.gauge(Gauge::cache_entries).max(), 10);
  EXPECT_EQ(m.gauge(Gauge::cache_entries).level(), 4);
  EXPECT_TRUE(Balanced(sim));
}

// --- A cache behind a cache: operations asked of the backing component ----------------------

// A near cache (l1) in front of a shared one (l2): l1's misses get from l2 and its sets set l2
// (write_through at both), so after one set both hold the key and the gets that follow hit l1.
TEST(Cache, ReadsAndWritesUseTheBackingOperationsNamed) {
  const std::string yaml = R"(
name: two-tier
seed: 72
duration: 10s
components:
  readers:
    kind: source
    arrivals: {constant: 4/s}
    max_requests: 3
    target: l1
  writers:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    target: writer
  writer:
    kind: service
    handler:
      - call: l1
        op: set
  l1:
    kind: cache
    write_policy: write_through
    backing: l2
    backing_read_op: get
    backing_write_op: set
  l2:
    kind: cache
    write_policy: write_through
    backing: db
  db:
    kind: service
    service_time: 10ms
)";
  auto sim = run_checked(yaml);
  EXPECT_EQ(cache_of(*sim, "l1").store().size(), 1u);
  EXPECT_EQ(cache_of(*sim, "l2").store().size(), 1u);
  EXPECT_EQ(counter(*sim, "l1", Counter::cache_hits), 3u);
  EXPECT_EQ(metrics_of(*sim, "l2").arrivals(), 1u);           // the set, asked for as a set:
  EXPECT_EQ(counter(*sim, "l2", Counter::cache_misses), 0u);  // not a get
  EXPECT_EQ(counter(*sim, "l2", Counter::cache_hits), 0u);
  EXPECT_EQ(metrics_of(*sim, "db").arrivals(), 1u);  // the set, written through
}

TEST(Cache, RunsAreReproducible) {
  expect_reproducible(R"(
name: repro
seed: 73
duration: 20s
components:
  users:
    kind: source
    arrivals: {poisson: 500/s}
    keys: {zipf: {keys: 1000, s: 0.9}}
    target: cache
  cache:
    kind: cache
    capacity: 100
    eviction: lfu
    ttl: 2s
    coalesce: true
    hit_latency: {exponential: 1ms}
    miss_latency: {exponential: 1ms}
    backing: db
  db:
    kind: service
    workers: 4
    service_time: {exponential: 5ms}
)");
}

// --- Load errors ----------------------------------------------------------------------------

std::string cache_scenario(const std::string& extra) {
  return "name: bad\n"
         "duration: 10s\n"
         "components:\n"
         "  users:\n"
         "    kind: source\n"
         "    arrivals: {poisson: 1/s}\n"
         "    target: cache\n"
         "  cache:\n"
         "    kind: cache\n"
         "    backing: db\n" +
         extra +
         "  db:\n"
         "    kind: service\n"
         "    service_time: 1ms\n";
}

TEST(Cache, TtlEvictionWithoutATtlIsALoadError) {
  EXPECT_EQ(load_errors(cache_scenario("    eviction: ttl\n")),
            "test.yaml:8:3: error: components.cache: eviction: ttl needs a ttl (how long an entry "
            "lives after it is filled)\n");
}

TEST(Cache, WarmBeyondCapacityIsALoadError) {
  EXPECT_EQ(load_errors(cache_scenario("    capacity: 10\n    warm: 20\n")),
            "test.yaml:8:3: error: components.cache: warm (20 keys) is larger than capacity "
            "(10)\n");
}

TEST(Cache, AnOperationTheBackingComponentLacksIsALoadError) {
  EXPECT_EQ(load_errors(cache_scenario("    backing_write_op: write\n")),
            "test.yaml:10:14: error: 'cache' asks 'db' (a service) for operation 'write' (it "
            "has none)\n");
}

TEST(Cache, ACacheBackedByItselfIsALoadError) {
  const std::string yaml = R"(name: bad
duration: 10s
components:
  users:
    kind: source
    arrivals: {poisson: 1/s}
    target: cache
  cache:
    kind: cache
    backing: cache
)";
  EXPECT_EQ(load_errors(yaml),
            "test.yaml:10:14: error: 'cache' refers to itself: a cache cannot read through to "
            "itself\n");
}

TEST(Cache, AnUnknownOperationAtACacheIsALoadErrorListingItsOperations) {
  const std::string yaml = R"(name: bad
duration: 10s
components:
  users:
    kind: source
    arrivals: {poisson: 1/s}
    target: api
  api:
    kind: service
    handler:
      - call: cache
        op: put
  cache:
    kind: cache
    backing: db
  db:
    kind: sink
)";
  EXPECT_EQ(load_errors(yaml),
            "test.yaml:11:15: error: 'api' asks 'cache' (a cache) for operation 'put'; it has "
            "get, set, delete, invalidate\n");
}

}  // namespace
}  // namespace dsim::test
