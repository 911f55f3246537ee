// The network model under Simulation::deliver and Simulation::reply, driven through its C++ API
// (the fault layer's partition and network kinds use the same calls): partitions in blackhole and
// reject mode, both ways and one way; loss, latency and duplication at their configured rates;
// lost calls released exactly once (by their caller's timeout, or at once when nobody waits);
// conservation during and after every condition; the same seed giving the same bytes.
#include "core/network.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

uint32_t index_of(const Simulation& sim, const std::string& name) {
  return find_component(sim, name).index();
}

uint64_t counter(const Simulation& sim, const std::string& name, Counter c) {
  return metrics_of(sim, name).counter(c);
}

// Two independent pairs: a calls x, b calls y, 100 calls a second each, 5 ms of work per call,
// a 200 ms timeout and no retries. Only one call per source is ever in progress.
std::string two_pairs(const std::string& a_policy = "    timeout: 200ms\n") {
  return "name: pairs\nseed: 7\nduration: 30s\ncomponents:\n"
         "  a:\n    kind: source\n    arrivals: {constant: 100/s}\n    target: x\n" +
         a_policy +
         "  x:\n    kind: service\n    workers: 100\n    service_time: 5ms\n"
         "  b:\n    kind: source\n    arrivals: {constant: 100/s}\n    target: y\n"
         "    timeout: 200ms\n"
         "  y:\n    kind: service\n    workers: 100\n    service_time: 5ms\n";
}

// The cut begins and ends between the pairs' events (which fall on multiples of 5 ms), so that
// which calls it catches does not depend on the order of events at one instant.
constexpr Time kCutStart = Time::us(10'002'500);
constexpr Time kCutEnd = Time::us(20'002'500);

// Runs `yaml` with `condition` (indices filled in by `make`) active over [from, until).
template <typename Make>
std::unique_ptr<Simulation> run_with(const std::string& yaml, Time from, Time until, Make make,
                                     const std::vector<Observer*>& observers = {}) {
  auto sim = std::make_unique<Simulation>(load_text(yaml));
  for (Observer* o : observers) sim->add_observer(o);
  sim->run_until(from);
  const Network::Id id = sim->add_network_condition(make(*sim));
  sim->run_until(Time::ns((from.count_ns() + until.count_ns()) / 2));
  EXPECT_TRUE(Balanced(*sim)) << "during the condition";
  sim->run_until(until);
  EXPECT_TRUE(sim->remove_network_condition(id));
  EXPECT_FALSE(sim->network().active());
  sim->run();
  EXPECT_TRUE(sim->complete());
  EXPECT_TRUE(Balanced(*sim)) << "after the condition";
  return sim;
}

NetworkCondition cut(const Simulation& sim, const std::string& a, const std::string& b,
                     NetworkCondition::Block mode, bool one_way = false) {
  std::vector<uint32_t> from{index_of(sim, a)}, to{index_of(sim, b)};
  return one_way ? NetworkCondition::one_way_partition("cut", from, to, mode)
                 : NetworkCondition::partition("cut", from, to, mode);
}

// Requests of workload `w` (a source's name) from the log.
std::vector<Finished> of(const Simulation& sim, const RequestLog& log, const std::string& w) {
  std::vector<Finished> out;
  for (const Finished& f : log.entries) {
    if (sim.workloads()[f.workload].name == w) out.push_back(f);
  }
  return out;
}

// --- Matching -----------------------------------------------------------------------------------

TEST(Network, AConditionMatchesItsCallsAndLegsOnly) {
  Network n;
  n.set_size(1, 4);
  NetworkCondition c;
  c.name = "route";
  c.from = {0};
  c.to = {1};
  c.legs = kRequests;
  c.block = NetworkCondition::Block::blackhole;
  const Network::Id id = n.add(c);
  EXPECT_TRUE(n.active());
  using Fate = NetworkVerdict::Fate;
  EXPECT_EQ(n.judge(Leg::request, 0, 1).fate, Fate::lose);
  EXPECT_EQ(n.judge(Leg::response, 0, 1).fate, Fate::deliver);  // only requests
  EXPECT_EQ(n.judge(Leg::request, 1, 0).fate, Fate::deliver);   // not the reverse calls
  EXPECT_EQ(n.judge(Leg::request, 0, 2).fate, Fate::deliver);   // nor other callees
  EXPECT_EQ(n.judge(Leg::request, 2, 1).fate, Fate::deliver);   // nor other callers
  EXPECT_TRUE(n.remove(id));
  EXPECT_FALSE(n.active());
  EXPECT_FALSE(n.remove(id));
}

TEST(Network, AOneWayPartitionBlocksTheMessagesSentInItsDirection) {
  // Messages from 0 to 1 vanish: 0's requests to 1, and the answers to 1's calls to 0.
  Network n;
  n.set_size(1, 2);
  n.add(NetworkCondition::one_way_partition("cut", {0}, {1}, NetworkCondition::Block::blackhole));
  using Fate = NetworkVerdict::Fate;
  EXPECT_EQ(n.judge(Leg::request, 0, 1).fate, Fate::lose);
  EXPECT_EQ(n.judge(Leg::response, 0, 1).fate, Fate::deliver);  // 1 -> 0 passes
  EXPECT_EQ(n.judge(Leg::request, 1, 0).fate, Fate::deliver);   // 1 -> 0 passes
  EXPECT_EQ(n.judge(Leg::response, 1, 0).fate, Fate::lose);     // 0 -> 1 vanishes
}

TEST(Network, ABlackholeWinsOverARejectAndLatencyAddsUp) {
  Network n;
  n.set_size(1, 2);
  NetworkCondition slow;
  slow.name = "slow";
  slow.from = {0};
  slow.to = {1};
  slow.delays = true;
  slow.latency = Distribution::constant(0.010);
  n.add(slow);
  slow.name = "slower";
  slow.latency = Distribution::constant(0.020);
  n.add(slow);
  EXPECT_EQ(n.judge(Leg::request, 0, 1).delay, Time::ms(30));
  const Network::Id reject =
      n.add(NetworkCondition::partition("r", {0}, {1}, NetworkCondition::Block::reject));
  EXPECT_EQ(n.judge(Leg::request, 0, 1).fate, NetworkVerdict::Fate::refuse);
  n.add(NetworkCondition::partition("b", {0}, {1}, NetworkCondition::Block::blackhole));
  EXPECT_EQ(n.judge(Leg::request, 0, 1).fate, NetworkVerdict::Fate::lose);
  EXPECT_TRUE(n.change(reject, slow));  // the reject becomes a third delay
  EXPECT_EQ(n.condition_count(), 4u);
}

// --- Partitions ---------------------------------------------------------------------------------

TEST(NetworkPartition, BlackholeCallsAcrossTheCutTimeOutAndTheOthersAreUnaffected) {
  RequestLog log;
  auto sim = run_with(
      two_pairs(), kCutStart, kCutEnd,
      [](const Simulation& s) { return cut(s, "a", "x", NetworkCondition::Block::blackhole); },
      {&log});
  size_t timeouts = 0;
  for (const Finished& f : of(*sim, log, "a")) {
    if (f.created < Time::s(10) || f.created > Time::s(20)) {
      // Answered before the cut began, or sent after it healed: 5 ms of work.
      EXPECT_EQ(f.outcome, Outcome::completed) << "created at " << f.created.count_ns();
      EXPECT_EQ(f.finished - f.created, Time::ms(5));
    } else {
      // Sent into the cut (10.01 s .. 20 s), or answered into it (10 s): the caller's timeout.
      EXPECT_EQ(f.reason, Reason::timeout) << "created at " << f.created.count_ns();
      EXPECT_EQ(f.finished - f.created, Time::ms(200));
      ++timeouts;
    }
  }
  EXPECT_EQ(timeouts, 1001u);
  // The requests lost on the way were a's and never reached x; the one answer lost was x's.
  EXPECT_EQ(counter(*sim, "a", Counter::network_lost), 1000u);
  EXPECT_EQ(counter(*sim, "x", Counter::network_lost), 1u);
  EXPECT_EQ(metrics_of(*sim, "x").arrivals(), source_of(*sim, "a").generated() - 1000u);
  EXPECT_EQ(sim->network().tally().requests_lost, 1000u);
  EXPECT_EQ(sim->network().tally().responses_lost, 1u);
  for (const Finished& f : of(*sim, log, "b")) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ(f.finished - f.created, Time::ms(5));
  }
  // Every lost call was released at its caller's timeout: at most one call per pair is live.
  EXPECT_LE(sim->calls().live(), 2u);
  EXPECT_LE(sim->requests().live(), 2u);
}

TEST(NetworkPartition, AnAnswerCaughtByTheCutIsLostAfterTheWorkWasDone) {
  // x takes 50 ms: the calls in progress when the cut begins are answered into it.
  RequestLog log;
  std::string yaml = two_pairs();
  yaml.replace(yaml.find("service_time: 5ms"), 17, "service_time: 50ms");
  auto sim = run_with(
      yaml, kCutStart, kCutEnd,
      [](const Simulation& s) { return cut(s, "a", "x", NetworkCondition::Block::blackhole); },
      {&log});
  // Requests sent in (9.95 s, 10 s) reached x; their answers, sent after 10 s, were lost.
  EXPECT_EQ(counter(*sim, "x", Counter::network_lost), 5u);
  EXPECT_EQ(counter(*sim, "a", Counter::network_lost), 1000u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 1005u);
  EXPECT_LE(sim->calls().live(), 12u);  // what is still in progress at the end
}

TEST(NetworkPartition, RejectModeFailsCallsAcrossTheCutAtOnce) {
  RequestLog log;
  auto sim = run_with(
      two_pairs(), kCutStart, kCutEnd,
      [](const Simulation& s) { return cut(s, "a", "x", NetworkCondition::Block::reject); },
      {&log});
  size_t refused = 0;
  for (const Finished& f : of(*sim, log, "a")) {
    if (f.created > Time::s(10) && f.created <= Time::s(20)) {
      EXPECT_EQ(f.reason, Reason::connection_refused);
      EXPECT_EQ(f.outcome, Outcome::dropped);
      EXPECT_EQ(f.finished, f.created);  // fast: no waiting for a timeout
      ++refused;
    } else if (f.created == Time::s(10)) {
      // Its answer met the cut: the connection was reset under it, as soon as it was sent.
      EXPECT_EQ(f.reason, Reason::connection_refused);
      EXPECT_EQ(f.finished, Time::s(10) + Time::ms(5));
    } else {
      EXPECT_EQ(f.outcome, Outcome::completed);
    }
  }
  EXPECT_EQ(refused, 1000u);
  EXPECT_EQ(counter(*sim, "a", Counter::network_refused), 1000u);
  EXPECT_EQ(counter(*sim, "x", Counter::network_refused), 1u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 0u);
  for (const Finished& f : of(*sim, log, "b")) EXPECT_EQ(f.outcome, Outcome::completed);
}

TEST(NetworkPartition, RetriesOfARefusedCallGoThroughOnceTheCutHeals) {
  // connection_refused is retried by default (nothing was done, trying again is safe). Attempts
  // at t, t + 100 ms and t + 200 ms; the cut lasts from 10.0025 s to 10.2525 s.
  RequestLog log;
  auto sim = run_with(
      two_pairs("    retry: {max_attempts: 3, backoff: constant, base: 100ms, jitter: none}\n"),
      kCutStart, kCutStart + Time::ms(250),
      [](const Simulation& s) { return cut(s, "a", "x", NetworkCondition::Block::reject); },
      {&log});
  // Sent at 10.01 .. 10.05 s: three refusals (5 requests). At 10.06 .. 10.15 s: the third attempt
  // goes through (10), at 10.16 .. 10.25 s the second (10). Sent at 10 s: its answer was refused
  // at 10.005 s and both retries fell in the cut.
  EXPECT_EQ(log.count(Outcome::dropped, Reason::connection_refused), 5u + 1u);
  EXPECT_EQ(counter(*sim, "a", Counter::retries), 5u * 2 + 10u * 2 + 10u * 1 + 2u);
}

TEST(NetworkPartition, OneWayAgainstTheAnswersTheCalleeWorksButTheCallerTimesOut) {
  // Messages from x to a vanish: a's requests get through, x does the work, the answers are lost.
  RequestLog log;
  auto sim =
      run_with(two_pairs(), kCutStart, kCutEnd,
               [](const Simulation& s) {
                 return cut(s, "x", "a", NetworkCondition::Block::blackhole, /*one_way=*/true);
               },
               {&log});
  const Source& a = source_of(*sim, "a");
  EXPECT_EQ(metrics_of(*sim, "x").arrivals(), a.generated());   // every side effect happens
  EXPECT_EQ(counter(*sim, "x", Counter::network_lost), 1000u);  // answers sent 10.005 .. 19.995 s
  EXPECT_EQ(counter(*sim, "a", Counter::network_lost), 0u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 1000u);
}

TEST(NetworkPartition, OneWayAgainstTheRequestsTheCalleeNeverHearsOfThem) {
  RequestLog log;
  auto sim =
      run_with(two_pairs(), kCutStart, kCutEnd,
               [](const Simulation& s) {
                 return cut(s, "a", "x", NetworkCondition::Block::blackhole, /*one_way=*/true);
               },
               {&log});
  EXPECT_EQ(metrics_of(*sim, "x").arrivals(), source_of(*sim, "a").generated() - 1000u);
  EXPECT_EQ(counter(*sim, "a", Counter::network_lost), 1000u);
  // The answer sent at 10.005 s travels x -> a, which this cut lets through.
  EXPECT_EQ(counter(*sim, "x", Counter::network_lost), 0u);
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 1000u);
}

TEST(NetworkPartition, ACallerWithoutATimeoutWaitsForEver) {
  RequestLog log;
  auto sim = run_with(
      two_pairs(""), kCutStart, kCutEnd,
      [](const Simulation& s) { return cut(s, "a", "x", NetworkCondition::Block::blackhole); },
      {&log});
  // Nothing ever answers the calls lost in the cut (1000 requests and the answer to the request
  // sent at 10 s): their requests stay in flight, counted, and so do their calls.
  const Ledger l = sim->ledger();
  EXPECT_EQ(counter(*sim, "a", Counter::network_lost) + counter(*sim, "x", Counter::network_lost),
            1001u);
  EXPECT_EQ(l.in_flight, sim->calls().live());  // one call per request in flight
  EXPECT_GE(l.in_flight, 1001u);
  EXPECT_LE(l.in_flight, 1003u);  // and whatever the pairs had in progress at the end
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 0u);
  EXPECT_EQ(log.count(Outcome::completed, Reason::none) + l.in_flight, l.generated);
}

TEST(NetworkPartition, ACallLostAfterItsCallerGaveUpIsReleasedAtOnce) {
  // a gives up after 10 ms; mid takes 50 ms and then passes the call on to x (forward). The
  // forwarded requests vanish in the cut, but nobody waits for them any more.
  const std::string yaml =
      "name: orphans\nseed: 3\nduration: 5s\ncomponents:\n"
      "  a:\n    kind: source\n    arrivals: {constant: 100/s}\n    target: mid\n"
      "    timeout: 10ms\n"
      "  mid:\n    kind: service\n    workers: 100\n    service_time: 50ms\n    next: x\n"
      "  x:\n    kind: service\n    workers: 100\n    service_time: 5ms\n";
  RequestLog log;
  auto sim = run_with(
      yaml, Time::s(1), Time::s(4),
      [](const Simulation& s) { return cut(s, "mid", "x", NetworkCondition::Block::blackhole); },
      {&log});
  EXPECT_EQ(counter(*sim, "mid", Counter::network_lost), 300u);  // forwarded at 1.01 .. 4 s
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), log.entries.size());
  EXPECT_GE(log.entries.size(), 499u);
  EXPECT_LE(sim->calls().live(), 6u);  // only mid's work in progress at the end
}

TEST(NetworkPartition, AHandlerCallIntoACutHoldsTheWorkerUntilItsTimeout) {
  const std::string yaml =
      "name: handler\nseed: 3\nduration: 5s\ncomponents:\n"
      "  a:\n    kind: source\n    arrivals: {constant: 100/s}\n    target: api\n"
      "  api:\n    kind: service\n    workers: 100\n"
      "    handler:\n      - compute: 1ms\n      - call: db\n        timeout: 300ms\n"
      "  db:\n    kind: service\n    workers: 100\n    service_time: 2ms\n";
  RequestLog log;
  auto sim = run_with(
      yaml, Time::s(1), Time::s(2),
      [](const Simulation& s) { return cut(s, "api", "db", NetworkCondition::Block::blackhole); },
      {&log});
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::completed) {
      EXPECT_EQ(f.finished - f.created, Time::ms(3));
    } else {
      EXPECT_EQ(f.reason, Reason::timeout);
      EXPECT_EQ(f.finished - f.created, Time::ms(301));
    }
  }
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 100u);
  EXPECT_EQ(metrics_of(*sim, "api").busy().max(), 31);  // 300 ms of held workers at 100/s (+1)
}

// --- Loss, latency, duplication -------------------------------------------------------------

NetworkCondition route(const Simulation& sim, const std::string& from, const std::string& to,
                       uint8_t legs) {
  NetworkCondition c;
  c.name = "route";
  c.from = {index_of(sim, from)};
  c.to = {index_of(sim, to)};
  c.legs = legs;
  return c;
}

// A single source (1000/s, Poisson) calling x with a 100 ms timeout and no retries, the
// condition over the whole run.
std::unique_ptr<Simulation> run_route(const NetworkCondition& shape, RequestLog& log,
                                      const std::string& timeout = "100ms") {
  const std::string yaml =
      "name: route\nseed: 11\nduration: 20s\ncomponents:\n"
      "  a:\n    kind: source\n    arrivals: {poisson: 1000/s}\n"
      "    target: x\n    timeout: " +
      timeout +
      "\n    max_requests: 16000\n"
      "  x:\n    kind: service\n    workers: 1000\n    service_time: 2ms\n";
  auto sim = std::make_unique<Simulation>(load_text(yaml));
  sim->add_observer(&log);
  NetworkCondition c = shape;
  c.from = {index_of(*sim, "a")};
  c.to = {index_of(*sim, "x")};
  sim->add_network_condition(c);
  sim->run();
  EXPECT_TRUE(Balanced(*sim));
  EXPECT_EQ(sim->ledger().in_flight, 0u);
  EXPECT_EQ(sim->calls().live(), 0u);
  return sim;
}

TEST(NetworkLoss, TheShareOfTimeoutsIsTheLossProbability) {
  // Each request is lost independently with p: timeouts ~ Binomial(n, p).
  for (const uint8_t legs : {kRequests, kResponses}) {
    NetworkCondition c;
    c.name = "lossy";
    c.legs = legs;
    c.loss = 0.2;
    RequestLog log;
    auto sim = run_route(c, log);
    const double n = 16000, p = 0.2;
    const size_t timeouts = log.count(Outcome::failed, Reason::timeout);
    EXPECT_NEAR(timeouts / n, p, kZ * std::sqrt(p * (1 - p) / n)) << "legs " << int(legs);
    EXPECT_EQ(log.count(Outcome::completed, Reason::none) + timeouts, 16000u);
    const std::string sender = legs == kRequests ? "a" : "x";
    EXPECT_EQ(counter(*sim, sender, Counter::network_lost), timeouts);
    // A lost request never reached x; a lost answer was x's work.
    EXPECT_EQ(metrics_of(*sim, "x").served(), legs == kRequests ? 16000u - timeouts : 16000u);
  }
}

TEST(NetworkLoss, LossOnBothLegsCompounds) {
  NetworkCondition c;
  c.name = "lossy";
  c.loss = 0.1;
  RequestLog log;
  run_route(c, log);
  const double n = 16000, p = 1 - 0.9 * 0.9;
  EXPECT_NEAR(log.count(Outcome::failed, Reason::timeout) / n, p, kZ * std::sqrt(p * (1 - p) / n));
}

TEST(NetworkLatency, AConstantDelayAddsExactlyToEachLeg) {
  NetworkCondition c;
  c.name = "far";
  c.legs = kRequests;
  c.delays = true;
  c.latency = Distribution::constant(0.030);
  RequestLog log;
  auto sim = run_route(c, log);
  for (const Finished& f : log.entries) EXPECT_EQ(f.finished - f.created, Time::ms(32));
  // x measures its own time only: the delay is on the wire, not in x.
  EXPECT_EQ(metrics_of(*sim, "x").latency().max(), Time::ms(2).count_ns());
}

TEST(NetworkLatency, JitterAddsItsMeanToTheMeasuredLatency) {
  // Exponential 20 ms on both legs: E = 2 + 20 + 20 ms, Var = 2 * (20 ms)^2, independent calls
  // (x has a worker for every call in progress; the 1 s timeout is never reached in practice).
  NetworkCondition c;
  c.name = "jitter";
  c.delays = true;
  c.latency = Distribution::exponential(0.020);
  RequestLog log;
  run_route(c, log, "1s");
  double sum = 0;
  for (const Finished& f : log.entries) {
    ASSERT_EQ(f.outcome, Outcome::completed);
    sum += (f.finished - f.created).seconds();
  }
  const double n = static_cast<double>(log.entries.size());
  ASSERT_EQ(n, 16000);
  EXPECT_NEAR(sum / n, 0.042, kZ * std::sqrt(2 * 0.020 * 0.020 / n));
}

TEST(NetworkDuplication, TheCalleeReceivesDuplicatesAtTheConfiguredRate) {
  NetworkCondition c;
  c.name = "dup";
  c.legs = kRequests;
  c.duplication = 0.1;
  RequestLog log;
  auto sim = run_route(c, log);
  const double n = 16000, p = 0.1;
  const uint64_t duplicates = counter(*sim, "a", Counter::network_duplicated);
  EXPECT_NEAR(duplicates / n, p, kZ * std::sqrt(p * (1 - p) / n));
  EXPECT_EQ(metrics_of(*sim, "x").served(), 16000u + duplicates);  // the side effects, twice
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 16000u);  // each caller heard once
  EXPECT_EQ(sim->network().tally().duplicated, duplicates);
}

// --- Determinism and live changes -----------------------------------------------------------

TEST(Network, SameSeedSameConditionsSameBytes) {
  auto once = [] {
    NetworkCondition c;
    c.name = "mixed";
    c.loss = 0.05;
    c.duplication = 0.05;
    c.delays = true;
    c.latency = Distribution::lognormal_median_p99(0.005, 0.050);
    RequestLog log;
    auto sim = run_route(c, log);
    return summary_json(*sim);
  };
  EXPECT_EQ(once(), once());
}

TEST(Network, AConditionChangedLiveTakesEffectFromNow) {
  auto sim = std::make_unique<Simulation>(load_text(two_pairs()));
  RequestLog log;
  sim->add_observer(&log);
  sim->run_until(kCutStart);
  NetworkCondition c = route(*sim, "a", "x", kRequests);
  c.name = "knob";
  c.delays = true;
  c.latency = Distribution::constant(0.010);
  const Network::Id id = sim->add_network_condition(c);
  sim->run_until(kCutEnd);
  c.latency = Distribution::constant(0.050);
  EXPECT_TRUE(sim->change_network_condition(id, c));
  sim->run();
  EXPECT_TRUE(Balanced(*sim));
  for (const Finished& f : of(*sim, log, "a")) {
    const Time expected = f.created <= Time::s(10)   ? Time::ms(5)
                          : f.created <= Time::s(20) ? Time::ms(15)
                                                     : Time::ms(55);
    EXPECT_EQ(f.finished - f.created, expected) << "created at " << f.created.count_ns();
  }
}

}  // namespace
}  // namespace dsim::test
