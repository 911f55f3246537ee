// load_balancer: each policy's picks (exact sequences where the policy is deterministic, sampling
// error where it is random), connections as outstanding calls, the consistent-hash ring under
// ejection, health-check timing, retries that re-pick, relaying, and load-time errors.
//
// Backends are mostly stand-ins (Simulation::substitute puts them in the place of sinks): they
// record every call they get, answer after a fixed delay with a fixed reason, and report health
// by a script, which no shipped kind can do yet.
#include "components/load_balancer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

struct StandInParams : ParamsOf<StandInParams> {
  void describe(ParamVisitor&) override {}
};

// A backend whose behaviour the test sets: answers every call after `delay` with `answer`, and is
// unhealthy during the [from, until) intervals of `down`.
class StandIn final : public Component {
 public:
  struct Seen {
    Time at;
    uint64_t id;
    uint64_t key;
  };
  explicit StandIn(const std::string& name, Time delay = Time::zero(), Reason answer = Reason::none)
      : Component(name, "stand_in", std::make_unique<StandInParams>()),
        delay_(delay),
        answer_(answer) {}

  void accept(Simulation& sim, CallHandle h) override {
    const Request& r = sim.request(sim.call(h).request);
    seen.push_back({sim.now(), r.id, r.key});
    if (delay_ == Time::zero()) {
      sim.reply(h, Reply::failure(answer_));
    } else {
      sim.schedule(sim.now() + delay_, *this, 0, h);
    }
  }
  void on_event(Simulation& sim, const Event& e) override {
    sim.reply(static_cast<CallHandle>(e.payload), Reply::failure(answer_));
  }
  bool healthy(Time now) const override {
    for (const auto& [from, until] : down) {
      if (now >= from && now < until) return false;
    }
    return true;
  }

  std::vector<Seen> seen;
  std::vector<std::pair<Time, Time>> down;

 private:
  Time delay_;
  Reason answer_;
};

// Puts a stand-in in the place of component `name` and returns it (the simulation owns it).
StandIn* stand_in(Simulation& sim, const std::string& name, Time delay = Time::zero(),
                  Reason answer = Reason::none) {
  auto s = std::make_unique<StandIn>(name, delay, answer);
  StandIn* raw = s.get();
  sim.substitute(name, std::move(s));
  return raw;
}

const LoadBalancer& lb_of(const Simulation& sim, const std::string& name = "lb") {
  return dynamic_cast<const LoadBalancer&>(find_component(sim, name));
}

// A source sending `count` requests at a constant `rate` to a balancer over sinks named by
// `backends` (to be replaced by stand-ins), with the balancer's extra keys `lb_keys`.
std::string scenario(const std::string& lb_keys, const std::vector<std::string>& backends,
                     const std::string& rate, int64_t count, const std::string& source_keys = "") {
  std::string yaml =
      "name: lb\nseed: 41\nduration: 1000s\ncomponents:\n"
      "  users:\n    kind: source\n    arrivals: {constant: " +
      rate + "}\n    max_requests: " + std::to_string(count) + "\n    target: lb\n" + source_keys +
      "  lb:\n    kind: load_balancer\n" + lb_keys;
  for (const std::string& b : backends) yaml += "  " + b + ":\n    kind: sink\n";
  return yaml;
}

// Which backend got each request, by request id (1, 2, ...).
std::string picks(const std::vector<StandIn*>& backends) {
  std::map<uint64_t, std::string> by_id;
  for (const StandIn* b : backends) {
    for (const StandIn::Seen& s : b->seen) by_id[s.id] += b->name();
  }
  std::string out;
  for (const auto& [id, name] : by_id) out += (out.empty() ? "" : " ") + name;
  return out;
}

void run_to_end_checked(Simulation& sim) {
  sim.run();
  EXPECT_TRUE(sim.complete());
  EXPECT_TRUE(Balanced(sim));
}

// --- Policies -----------------------------------------------------------------------------

TEST(LoadBalancer, RoundRobinVisitsBackendsInListOrder) {
  Simulation sim(load_text(scenario("    backends: [a, b, c]\n", {"a", "b", "c"}, "10/s", 8)));
  std::vector<StandIn*> b = {stand_in(sim, "a"), stand_in(sim, "b"), stand_in(sim, "c")};
  run_to_end_checked(sim);
  EXPECT_EQ(picks(b), "a b c a b c a b");
  EXPECT_EQ(sim.ledger().completed, 8u);
  EXPECT_EQ(metrics_of(sim, "lb").served(), 8u);
  EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::calls), 8u);
}

TEST(LoadBalancer, SmoothWeightedRoundRobinSpreadsEachBackendsShareEvenly) {
  // nginx's example: weights 5, 1, 1 give a a b a c a a, and again.
  Simulation sim(load_text(
      scenario("    policy: weighted\n    backends: [{to: a, weight: 5}, b, {to: c, weight: 1}]\n",
               {"a", "b", "c"}, "10/s", 14)));
  std::vector<StandIn*> b = {stand_in(sim, "a"), stand_in(sim, "b"), stand_in(sim, "c")};
  run_to_end_checked(sim);
  EXPECT_EQ(picks(b), "a a b a c a a a a b a c a a");
}

TEST(LoadBalancer, WeightedGivesExactSharesInEveryRoundOfTheWeightSum) {
  // Weights 3, 2, 1: every six consecutive picks hold exactly 3 a, 2 b and 1 c.
  Simulation sim(load_text(
      scenario("    policy: weighted\n    backends: [{to: a, weight: 3}, {to: b, weight: 2}, c]\n",
               {"a", "b", "c"}, "100/s", 600)));
  std::vector<StandIn*> b = {stand_in(sim, "a"), stand_in(sim, "b"), stand_in(sim, "c")};
  run_to_end_checked(sim);
  const std::string sequence = picks(b);
  std::istringstream words(sequence);
  std::vector<std::string> order;
  for (std::string w; words >> w;) order.push_back(w);
  ASSERT_EQ(order.size(), 600u);
  for (size_t round = 0; round < 100; ++round) {
    std::map<std::string, int> n;
    for (size_t i = 0; i < 6; ++i) ++n[order[6 * round + i]];
    EXPECT_EQ(n["a"], 3) << "round " << round;
    EXPECT_EQ(n["b"], 2) << "round " << round;
    EXPECT_EQ(n["c"], 1) << "round " << round;
  }
}

TEST(LoadBalancer, RandomPicksInProportionToWeight) {
  // 30,000 picks with weights 1, 2, 5: Pearson's chi-square against (1, 2, 5) / 8 with 2 degrees
  // of freedom, at the suite's 1e-4 level.
  Simulation sim(load_text(
      scenario("    policy: random\n    backends: [a, {to: b, weight: 2}, {to: c, weight: 5}]\n",
               {"a", "b", "c"}, "1000/s", 30000)));
  std::vector<StandIn*> b = {stand_in(sim, "a"), stand_in(sim, "b"), stand_in(sim, "c")};
  run_to_end_checked(sim);
  const std::vector<uint64_t> counts = {b[0]->seen.size(), b[1]->seen.size(), b[2]->seen.size()};
  EXPECT_EQ(counts[0] + counts[1] + counts[2], 30000u);
  EXPECT_LT(chi_square(counts, {1.0 / 8, 2.0 / 8, 5.0 / 8}), chi_square_critical(2));
}

TEST(LoadBalancer, LeastConnectionsPicksTheBackendWithFewestOutstandingCalls) {
  // a and b hold every call for 100 s, c answers at once. The first call finds all idle and takes
  // a, the second finds a busy and takes b; from then on c always has none outstanding.
  Simulation sim(load_text(scenario("    policy: least_connections\n    backends: [a, b, c]\n",
                                    {"a", "b", "c"}, "10/s", 10)));
  std::vector<StandIn*> b = {stand_in(sim, "a", Time::s(100)), stand_in(sim, "b", Time::s(100)),
                             stand_in(sim, "c")};
  sim.run_until(Time::ms(250));
  EXPECT_EQ(lb_of(sim).outstanding(0), 1u);
  EXPECT_EQ(lb_of(sim).outstanding(1), 1u);
  EXPECT_EQ(lb_of(sim).outstanding(2), 0u);
  run_to_end_checked(sim);
  EXPECT_EQ(picks(b), "a b c c c c c c c c");
}

TEST(LoadBalancer, LeastConnectionsTakesIdleBackendsInTurn) {
  Simulation sim(load_text(scenario("    policy: least_connections\n    backends: [a, b, c]\n",
                                    {"a", "b", "c"}, "10/s", 7)));
  std::vector<StandIn*> b = {stand_in(sim, "a"), stand_in(sim, "b"), stand_in(sim, "c")};
  run_to_end_checked(sim);
  EXPECT_EQ(picks(b), "a b c a b c a");
}

TEST(LoadBalancer, LeastConnectionsCountsTheBalancersOwnOutstandingCalls) {
  // Calls every 100 ms; a holds each for 250 ms, b for 50 ms (no call ends at an arrival
  // instant). Every pick must be a backend with the fewest calls outstanding just before it, as
  // counted from the calls each backend got and how long it holds them.
  Simulation sim(load_text(
      scenario("    policy: least_connections\n    backends: [a, b]\n", {"a", "b"}, "10/s", 40)));
  std::vector<StandIn*> b = {stand_in(sim, "a", Time::ms(250)), stand_in(sim, "b", Time::ms(50))};
  run_to_end_checked(sim);
  // Outstanding at time t for backend i: calls it got before t that are still held at t.
  const Time holds[2] = {Time::ms(250), Time::ms(50)};
  for (int i = 0; i < 2; ++i) {
    for (const StandIn::Seen& s : b[i]->seen) {
      int64_t load[2] = {0, 0};
      for (int j = 0; j < 2; ++j) {
        for (const StandIn::Seen& o : b[j]->seen) load[j] += o.at < s.at && o.at + holds[j] > s.at;
      }
      EXPECT_LE(load[i], load[1 - i]) << "request " << s.id << " went to " << b[i]->name();
    }
  }
  EXPECT_GT(b[1]->seen.size(), b[0]->seen.size());
}

TEST(LoadBalancer, PowerOfTwoWithTwoBackendsAlwaysTakesTheLessLoaded) {
  // With d = 2 of 2 backends both are always drawn: a (holding every call) gets a call only when
  // it has none outstanding and the tie with b breaks its way - exactly once in the run.
  Simulation sim(
      load_text(scenario("    policy: p2c\n    backends: [a, b]\n", {"a", "b"}, "10/s", 100)));
  std::vector<StandIn*> b = {stand_in(sim, "a", Time::s(1000)), stand_in(sim, "b")};
  run_to_end_checked(sim);
  EXPECT_EQ(b[0]->seen.size(), 1u);
  EXPECT_EQ(b[1]->seen.size(), 99u);
}

TEST(LoadBalancer, PowerOfDWithOneChoiceIsUniformRandom) {
  Simulation sim(
      load_text(scenario("    policy: power_of_d\n    choices: 1\n    backends: [a, b, c, d]\n",
                         {"a", "b", "c", "d"}, "1000/s", 20000)));
  std::vector<StandIn*> b = {stand_in(sim, "a"), stand_in(sim, "b"), stand_in(sim, "c"),
                             stand_in(sim, "d")};
  run_to_end_checked(sim);
  std::vector<uint64_t> counts;
  for (const StandIn* s : b) counts.push_back(s->seen.size());
  EXPECT_LT(chi_square(counts, {0.25, 0.25, 0.25, 0.25}), chi_square_critical(3));
}

TEST(LoadBalancer, PowerOfDDrawsDistinctBackends) {
  // a and b hold every call for ever, c answers at once; d = 2 of 3. Once a and b each hold a
  // call, a call goes to a or b only when the pair drawn is {a, b}: probability 1/3 when the two
  // draws are distinct, 4/9 if a draw could repeat a backend. Before that, a tie between c and an
  // idle a or b may send at most one call each their way.
  Simulation sim(
      load_text(scenario("    policy: power_of_d\n    choices: 2\n    backends: [a, b, c]\n",
                         {"a", "b", "c"}, "1000/s", 3000)));
  std::vector<StandIn*> b = {stand_in(sim, "a", Time::s(1000)), stand_in(sim, "b", Time::s(1000)),
                             stand_in(sim, "c")};
  run_to_end_checked(sim);
  const double n = 3000, p = 1.0 / 3;
  const double slow = static_cast<double>(b[0]->seen.size() + b[1]->seen.size());
  EXPECT_NEAR(slow / n, p, kZ * std::sqrt(p * (1 - p) / n) + 2 / n);
  // a and b are kept level: the less loaded of the pair takes each call.
  EXPECT_LE(
      std::abs(static_cast<double>(b[0]->seen.size()) - static_cast<double>(b[1]->seen.size())),
      1.0);
}

// --- Consistent hashing -------------------------------------------------------------------

TEST(LoadBalancer, ConsistentHashSendsEachKeyToOneBackend) {
  Simulation sim(
      load_text(scenario("    policy: consistent_hash\n    backends: [a, b, c, d]\n",
                         {"a", "b", "c", "d"}, "1000/s", 5000, "    keys: {uniform: 200}\n")));
  std::vector<StandIn*> b = {stand_in(sim, "a"), stand_in(sim, "b"), stand_in(sim, "c"),
                             stand_in(sim, "d")};
  run_to_end_checked(sim);
  std::map<uint64_t, std::set<std::string>> backends_of_key;
  for (const StandIn* s : b) {
    EXPECT_GT(s->seen.size(), 0u);
    for (const StandIn::Seen& seen : s->seen) backends_of_key[seen.key].insert(s->name());
  }
  EXPECT_EQ(backends_of_key.size(), 200u);
  for (const auto& [key, names] : backends_of_key) {
    EXPECT_EQ(names.size(), 1u) << "key " << key;
    EXPECT_EQ(*names.begin(), b[lb_of(sim).ring_owner(key)]->name());
  }
}

TEST(LoadBalancer, ConsistentHashEjectionMovesOnlyTheEjectedBackendsKeys) {
  // Ten backends; j is down from 0.5 s to 5 s, so the health check (every second, threshold 1
  // either way) ejects it at 1 s and restores it at 5 s. The owner of each of 20,000 keys is read
  // before, during and after.
  std::vector<std::string> names;
  for (char c = 'a'; c <= 'j'; ++c) names.emplace_back(1, c);
  Simulation sim(load_text(
      scenario("    policy: consistent_hash\n    backends: [a, b, c, d, e, f, g, h, i, j]\n"
               "    health_check: {interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1}\n",
               names, "1/s", 0)));
  StandIn* j = nullptr;
  for (const std::string& n : names) j = stand_in(sim, n);
  j->down = {{Time::ms(500), Time::s(5)}};
  const LoadBalancer& lb = lb_of(sim);
  constexpr uint64_t kKeys = 20000;
  const auto owners = [&] {
    std::vector<uint32_t> o;
    for (uint64_t k = 0; k < kKeys; ++k) o.push_back(lb.ring_owner(k));
    return o;
  };
  sim.run_until(Time::ms(900));
  const std::vector<uint32_t> before = owners();
  sim.run_until(Time::s(2));
  ASSERT_FALSE(lb.in_rotation(9));
  const std::vector<uint32_t> during = owners();
  sim.run_until(Time::s(6));
  ASSERT_TRUE(lb.in_rotation(9));
  EXPECT_EQ(owners(), before) << "restoring j gives it back exactly its keys";

  uint64_t moved = 0, owned_by_j = 0;
  for (uint64_t k = 0; k < kKeys; ++k) {
    owned_by_j += before[k] == 9;
    if (before[k] == 9) {
      EXPECT_NE(during[k], 9u);
    } else {
      EXPECT_EQ(during[k], before[k]) << "key " << k << " moved though its backend stayed";
    }
    moved += during[k] != before[k];
  }
  EXPECT_EQ(moved, owned_by_j);
  // The keys that moved are j's share of the ring, up to the binomial error of 20,000 keys
  // hashed uniformly; j's share itself is about 1/10, give or take the spread of 100 virtual
  // nodes (relative SD ~ 1/sqrt(100) = 10 %, so well within 0.5/n..1.5/n).
  const double share = lb.ring_share(9);
  const double fraction = static_cast<double>(moved) / kKeys;
  std::printf("  j owns %.4f of the ring (1/n = 0.1); %.4f of the keys moved\n", share, fraction);
  EXPECT_NEAR(fraction, share, kZ * std::sqrt(share * (1 - share) / kKeys));
  EXPECT_GT(share, 0.05);
  EXPECT_LT(share, 0.15);
  double total = 0;
  for (uint32_t b = 0; b < 10; ++b) total += lb.ring_share(b);
  EXPECT_NEAR(total, 1.0, 1e-12);
}

TEST(LoadBalancer, ConsistentHashWeightScalesTheShareOfTheRing) {
  // b has weight 3: 300 of the 500 points. With 100 points per unit of weight each unit's share
  // has a relative spread of roughly 10 %; b's expected 3/5.
  Simulation sim(
      load_text(scenario("    policy: consistent_hash\n    backends: [a, {to: b, weight: 3}, c]\n",
                         {"a", "b", "c"}, "1/s", 0)));
  const LoadBalancer& lb = lb_of(sim);
  EXPECT_NEAR(lb.ring_share(1), 0.6, 0.1);
  EXPECT_NEAR(lb.ring_share(0) + lb.ring_share(1) + lb.ring_share(2), 1.0, 1e-12);
}

// --- Health checks ------------------------------------------------------------------------

// Calls every 10 ms, round robin over a and b; b's health endpoint fails from 2.5 s to 10.5 s.
// Probes every second: those at 3, 4 and 5 s fail, so b is ejected at exactly 5 s (threshold 3);
// those at 11 and 12 s succeed, so it is back at exactly 12 s (threshold 2).
TEST(LoadBalancer, HealthCheckEjectsAfterExactlyTheThresholdAndRestoresLikewise) {
  Simulation sim(load_text(
      scenario("    backends: [a, b]\n"
               "    health_check: {interval: 1s, unhealthy_threshold: 3, healthy_threshold: 2}\n",
               {"a", "b"}, "100/s", 2000)));
  StandIn* a = stand_in(sim, "a");
  StandIn* b = stand_in(sim, "b");
  b->down = {{Time::ms(2500), Time::ms(10500)}};
  const LoadBalancer& lb = lb_of(sim);
  const StationMetrics& m = metrics_of(sim, "lb");
  sim.run_until(Time::ns(Time::s(5).count_ns() - 1));
  EXPECT_TRUE(lb.in_rotation(1));
  sim.run_until(Time::s(5));
  EXPECT_FALSE(lb.in_rotation(1));
  EXPECT_EQ(m.counter(Counter::health_ejections), 1u);
  EXPECT_EQ(m.gauge(Gauge::healthy_backends).level(), 1);
  sim.run_until(Time::ns(Time::s(12).count_ns() - 1));
  EXPECT_FALSE(lb.in_rotation(1));
  sim.run_until(Time::s(12));
  EXPECT_TRUE(lb.in_rotation(1));
  EXPECT_EQ(m.counter(Counter::health_restorations), 1u);
  EXPECT_EQ(m.gauge(Gauge::healthy_backends).level(), 2);
  run_to_end_checked(sim);
  // b got no call while out of rotation, and kept getting them up to its ejection.
  Time last_before = Time::zero(), first_after = Time::max();
  for (const StandIn::Seen& s : b->seen) {
    EXPECT_FALSE(s.at > Time::s(5) && s.at < Time::s(12)) << "b got a call at " << s.at.seconds();
    if (s.at <= Time::s(5)) last_before = std::max(last_before, s.at);
    if (s.at >= Time::s(12)) first_after = std::min(first_after, s.at);
  }
  EXPECT_GE(last_before, Time::ms(4980));
  EXPECT_LE(first_after, Time::ms(12020));
  EXPECT_EQ(a->seen.size() + b->seen.size(), 2000u);
  EXPECT_EQ(sim.ledger().completed, 2000u);
}

TEST(LoadBalancer, HealthCheckNeedsConsecutiveFailuresAndConsecutiveSuccesses) {
  // Down [2.5, 4.5) s: probes at 3 and 4 fail, 5 succeeds - two in a row, not three: no ejection.
  // Down [10.5, 13.5) s: 11, 12, 13 fail -> ejected at 13. Up at 14, down again [14.5, 15.5):
  // 14 good, 15 bad (the count restarts), 16 and 17 good -> restored at 17.
  Simulation sim(load_text(
      scenario("    backends: [a, b]\n"
               "    health_check: {interval: 1s, unhealthy_threshold: 3, healthy_threshold: 2}\n",
               {"a", "b"}, "1/s", 0)));
  stand_in(sim, "a");
  StandIn* b = stand_in(sim, "b");
  b->down = {{Time::ms(2500), Time::ms(4500)},
             {Time::ms(10500), Time::ms(13500)},
             {Time::ms(14500), Time::ms(15500)}};
  const LoadBalancer& lb = lb_of(sim);
  std::string timeline;
  for (int t = 1; t <= 18; ++t) {
    sim.run_until(Time::s(t));
    timeline += lb.in_rotation(1) ? '+' : '-';
  }
  EXPECT_EQ(timeline, "++++++++++++----++");
  EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::health_ejections), 1u);
  EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::health_restorations), 1u);
}

// A partition between the balancer and a backend fails the probes as a crash would: b is cut
// off from 2.5 s to 10.5 s, so (as above) it is out from 5 s to 12 s. Both directions of the cut
// and both modes count, for the probe's request (balancer -> b) as for its answer.
TEST(LoadBalancer, HealthCheckEjectsABackendAPartitionCutsOff) {
  for (const std::string cut :
       {"targets: [b], from: [lb], mode: reject", "targets: [b], from: [lb], mode: blackhole",
        "targets: [b], from: [lb], direction: one_way",
        "targets: [lb], from: [b], direction: one_way"}) {
    SCOPED_TRACE(cut);
    Simulation sim(load_text(
        scenario("    backends: [a, b]\n"
                 "    health_check: {interval: 1s, unhealthy_threshold: 3, healthy_threshold: 2}\n"
                 "    timeout: 100ms\n",
                 {"a", "b"}, "1/s", 20) +
        "faults:\n  cut: {kind: partition, " + cut + ", at: 2.5s, duration: 8s}\n"));
    const LoadBalancer& lb = lb_of(sim);
    std::string timeline;
    for (int t = 1; t <= 13; ++t) {
      sim.run_until(Time::s(t));
      timeline += lb.in_rotation(1) ? '+' : '-';
    }
    EXPECT_EQ(timeline, "++++-------++");
    EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::health_ejections), 1u);
    EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::health_restorations), 1u);
    run_to_end_checked(sim);
  }
}

TEST(LoadBalancer, AnswersUnavailableWhenNoBackendIsInRotation) {
  // The only backend is down from 0.5 s to 6.5 s: ejected at 3 s (probes 1, 2, 3), back at 8 s
  // (probes 7, 8). Calls every 100 ms from 0.1 s: those in [3 s, 8 s) are refused.
  Simulation sim(load_text(
      scenario("    backends: [a]\n"
               "    health_check: {interval: 1s, unhealthy_threshold: 3, healthy_threshold: 2}\n",
               {"a"}, "10/s", 100)));
  StandIn* a = stand_in(sim, "a");
  a->down = {{Time::ms(500), Time::ms(6500)}};
  RequestLog log;
  sim.add_observer(&log);
  run_to_end_checked(sim);
  for (const Finished& f : log.entries) {
    const bool out = f.created >= Time::s(3) && f.created < Time::s(8);
    EXPECT_EQ(f.reason, out ? Reason::unavailable : Reason::none) << "at " << f.created.seconds();
    EXPECT_EQ(f.component, out ? lb_of(sim).index() : a->index());
  }
  // 3.0 s .. 7.9 s: 50 calls (a probe runs before a call at the same instant: it was scheduled
  // a second earlier, the call only 100 ms earlier).
  EXPECT_EQ(log.count(outcome_of(Reason::unavailable), Reason::unavailable), 50u);
  EXPECT_EQ(a->seen.size(), 50u);
  EXPECT_EQ(metrics_of(sim, "lb").dropped()[static_cast<int>(Reason::unavailable)] +
                metrics_of(sim, "lb").failed()[static_cast<int>(Reason::unavailable)],
            50u);
}

TEST(LoadBalancer, EjectedBackendsAreSkippedByEveryPolicy) {
  for (const std::string policy :
       {"round_robin", "random", "least_connections", "p2c", "weighted", "consistent_hash"}) {
    SCOPED_TRACE(policy);
    Simulation sim(load_text(scenario(
        "    policy: " + policy +
            "\n    backends: [a, b, c]\n"
            "    health_check: {interval: 1s, unhealthy_threshold: 1, healthy_threshold: 1}\n",
        {"a", "b", "c"}, "100/s", 500, "    keys: {uniform: 1000}\n")));
    stand_in(sim, "a");
    StandIn* b = stand_in(sim, "b");
    stand_in(sim, "c");
    b->down = {{Time::zero(), Time::s(1000)}};  // ejected at the first probe, 1 s
    run_to_end_checked(sim);
    for (const StandIn::Seen& s : b->seen) EXPECT_LE(s.at, Time::s(1));
    EXPECT_EQ(sim.ledger().completed, 500u);
  }
}

// --- Proxying, retries, timeouts ------------------------------------------------------------

TEST(LoadBalancer, RetryGoesToAnotherBackend) {
  // a answers every call with an error; with two attempts every request is served by b (for the
  // policies that would otherwise pick a again: least_connections sees a idle, consistent_hash
  // maps the key to its owner).
  for (const std::string policy :
       {"round_robin", "least_connections", "p2c", "consistent_hash", "random", "weighted"}) {
    SCOPED_TRACE(policy);
    Simulation sim(load_text(scenario(
        "    policy: " + policy +
            "\n    backends: [a, b]\n    retry: {max_attempts: 2, base: 1ms, jitter: none}\n",
        {"a", "b"}, "10/s", 50, "    keys: {uniform: 100}\n")));
    StandIn* a = stand_in(sim, "a", Time::zero(), Reason::error);
    StandIn* b = stand_in(sim, "b");
    run_to_end_checked(sim);
    EXPECT_EQ(sim.ledger().completed, 50u);
    EXPECT_EQ(b->seen.size(), 50u);
    EXPECT_EQ(metrics_of(sim, "lb").counter(Counter::retries), a->seen.size());
    // Every retry came 1 ms after its failed attempt.
    for (const StandIn::Seen& s : a->seen) {
      bool found = false;
      for (const StandIn::Seen& t : b->seen) found |= t.id == s.id && t.at == s.at + Time::ms(1);
      EXPECT_TRUE(found) << "request " << s.id;
    }
  }
}

TEST(LoadBalancer, TimeoutAbandonsASlowBackendAndTheRetryFindsAFastOne) {
  // a takes 10 s, b and c 10 ms; timeout 100 ms, two attempts, no backoff. Round robin: request 1
  // goes to a, times out at +100 ms and is retried on b (the next in turn), done at +110 ms;
  // request 2 goes to c (+10 ms); request 3 to a again, and so on.
  RequestLog log;
  Simulation sim(load_text(scenario(
      "    backends: [a, b, c]\n    timeout: 100ms\n    retry: {max_attempts: 2, base: 0s, jitter: "
      "none}\n",
      {"a", "b", "c"}, "1/s", 10)));
  stand_in(sim, "a", Time::s(10));
  stand_in(sim, "b", Time::ms(10));
  stand_in(sim, "c", Time::ms(10));
  sim.add_observer(&log);
  run_to_end_checked(sim);
  ASSERT_EQ(log.entries.size(), 10u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ(f.finished - f.created, f.id % 2 == 1 ? Time::ms(110) : Time::ms(10)) << f.id;
  }
  const StationMetrics& m = metrics_of(sim, "lb");
  EXPECT_EQ(m.counter(Counter::timeouts), 5u);
  EXPECT_EQ(m.counter(Counter::retries), 5u);
}

TEST(LoadBalancer, RelaysFailuresWithTheBackendAsTheirOrigin) {
  Simulation sim(load_text(scenario("    backends: [a]\n", {"a"}, "10/s", 5)));
  StandIn* a = stand_in(sim, "a", Time::ms(5), Reason::queue_full);
  RequestLog log;
  sim.add_observer(&log);
  run_to_end_checked(sim);
  EXPECT_EQ(log.count(Outcome::dropped, Reason::queue_full), 5u);
  for (const Finished& f : log.entries) EXPECT_EQ(f.component, a->index());
  EXPECT_EQ(metrics_of(sim, "lb").dropped()[static_cast<int>(Reason::queue_full)], 5u);
}

// Calls at 10, 20, 30 and 40 ms whose client gives up after 150 ms and says so
// (propagate_deadline); one worker, 100 ms each. The first is served by 110 ms; the second runs
// from 110 to 210 ms, past its client's 170 ms. At 210 ms the third and fourth callers are gone
// too (180 and 190 ms): with the deadline passed on by the balancer (its default) the service
// drops them unworked, without it it works on them for nobody.
uint64_t unworked_calls(const std::string& lb_keys) {
  const std::string yaml = R"(
name: lb-deadline
seed: 44
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 100/s}
    max_requests: 4
    timeout: 150ms
    propagate_deadline: true
    target: lb
  lb:
    kind: load_balancer
    backends: [api]
)" + lb_keys + R"(
  api:
    kind: service
    service_time: 100ms
)";
  auto sim = run_checked(yaml);
  EXPECT_EQ(sim->ledger().completed, 1u);
  return metrics_of(*sim, "api").dropped()[static_cast<int>(Reason::deadline_exceeded)];
}

TEST(LoadBalancer, PassesItsCallersDeadlineOnByDefault) {
  EXPECT_EQ(unworked_calls(""), 2u);
  EXPECT_EQ(unworked_calls("    propagate_deadline: false\n"), 0u);
}

TEST(LoadBalancer, OwnLatencyIsAddedBeforeTheBackendIsCalled) {
  RequestLog log;
  Simulation sim(load_text(scenario("    backends: [a]\n    latency: 2ms\n", {"a"}, "10/s", 5)));
  StandIn* a = stand_in(sim, "a", Time::ms(7));
  sim.add_observer(&log);
  run_to_end_checked(sim);
  for (const Finished& f : log.entries) EXPECT_EQ(f.finished - f.created, Time::ms(9));
  for (const StandIn::Seen& s : a->seen) {
    EXPECT_EQ((s.at - Time::ms(2)).count_ns() % Time::ms(100).count_ns(), 0);
  }
  EXPECT_EQ(metrics_of(sim, "lb").latency().count(), 5u);
}

TEST(LoadBalancer, WorksInFrontOfRealServices) {
  // Three M/M/1 services behind round robin: everything is served and accounted for; round robin
  // splits calls exactly.
  const std::string yaml = R"(
name: lb-services
seed: 43
duration: 20s
components:
  users:
    kind: source
    arrivals: {poisson: 60/s}
    target: lb
  lb:
    kind: load_balancer
    backends: [s1, s2, s3]
  s1:
    kind: service
    service_time: {exponential: 20ms}
  s2:
    kind: service
    service_time: {exponential: 20ms}
  s3:
    kind: service
    service_time: {exponential: 20ms}
)";
  auto sim = run_checked(yaml);
  const uint64_t n1 = metrics_of(*sim, "s1").arrivals(), n2 = metrics_of(*sim, "s2").arrivals(),
                 n3 = metrics_of(*sim, "s3").arrivals();
  EXPECT_LE(std::max({n1, n2, n3}) - std::min({n1, n2, n3}), 1u);
  EXPECT_EQ(metrics_of(*sim, "lb").arrivals(), n1 + n2 + n3);
  expect_reproducible(yaml);
}

// --- Loading ------------------------------------------------------------------------------

TEST(LoadBalancer, BackendsMayBeNamesOrBlocks) {
  const Scenario s =
      load_text(scenario("    policy: weighted\n    backends: [a, {to: b, weight: 4}, {to: c}]\n",
                         {"a", "b", "c"}, "1/s", 1));
  const auto& p = dynamic_cast<const LoadBalancerParams&>(*s.components[1].params);
  ASSERT_EQ(p.backends.size(), 3u);
  EXPECT_EQ(p.backends.items[0].to.name, "a");
  EXPECT_EQ(p.backends.items[0].weight, 1);
  EXPECT_EQ(p.backends.items[1].to.name, "b");
  EXPECT_EQ(p.backends.items[1].weight, 4);
  EXPECT_EQ(p.backends.items[2].to.index, 4u);  // resolved by the topology check
  EXPECT_TRUE(p.call.propagate_deadline);       // a proxy passes deadlines on by default
}

TEST(LoadBalancer, RejectsBadConfigurationsWithClearMessages) {
  const auto errors = [](const std::string& lb_keys) {
    return load_errors(scenario(lb_keys, {"a", "b"}, "1/s", 1));
  };
  EXPECT_EQ(errors("    backends: [a, b, a]\n"),
            "test.yaml:10:3: error: components.lb: backend 'a' is listed twice; give it a weight "
            "instead\n");
  EXPECT_EQ(errors("    backends: [a, {to: b, weight: 2}]\n"),
            "test.yaml:10:3: error: components.lb: backend 'b' has weight 2, but policy "
            "round_robin ignores weights (they apply to weighted, random and consistent_hash)\n");
  EXPECT_EQ(errors("    policy: random\n    choices: 2\n    backends: [a, b]\n"),
            "test.yaml:10:3: error: components.lb: 'choices' applies to policy power_of_d only\n");
  EXPECT_EQ(errors("    policy: power_of_d\n    choices: 3\n    backends: [a, b]\n"),
            "test.yaml:10:3: error: components.lb: choices (3) is more than the 2 backends\n");
  EXPECT_EQ(errors("    backends: []\n"),
            "test.yaml:10:3: error: components.lb: backends: needs at least one backend\n");
  EXPECT_EQ(errors("    backends: [a, c]\n"),
            "test.yaml:12:19: error: 'lb' sends to 'c', which is not a component (did you mean "
            "'a'?)\n");
  EXPECT_EQ(errors("    backends: [a, [b]]\n"),
            "test.yaml:12:19: error: components.lb.backends[1]: expected a map, got a list\n");
  EXPECT_EQ(errors("    backends: [a, b]\n    health_check: {interval: 0s}\n"),
            "test.yaml:13:19: error: components.lb.health_check: interval must be longer than "
            "zero\n");
  EXPECT_EQ(errors("    backends: [a, b]\n    policy: least_conn\n"),
            "test.yaml:13:13: error: components.lb.policy: unknown value 'least_conn'; expected "
            "round_robin, random, least_connections, power_of_d, p2c, weighted or "
            "consistent_hash\n");
}

TEST(LoadBalancer, ABalancerAmongItsOwnBackendsEndsTheRunWithAClearError) {
  // It loads (every backend is a component, and the balancer completes calls), but each call
  // would go round for ever without time passing.
  Simulation sim(load_text(scenario("    backends: [lb]\n", {}, "1/s", 1)));
  try {
    sim.run();
    ADD_FAILURE() << "the run should have thrown";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "load_balancer 'lb' was called back 100 times within one call, without simulated "
                 "time passing: its backends lead back to it through components that take no "
                 "time (is it, or a balancer in front of it, among its own backends?)");
  }
}

// The example in docs/components/load_balancer.md loads and runs with every request accounted for.
TEST(LoadBalancer, DocumentationExampleRuns) {
  std::ifstream in(DSIM_DOCS_DIR "/components/load_balancer.md");
  ASSERT_TRUE(in) << "cannot open docs/components/load_balancer.md";
  std::string line, yaml;
  bool inside = false;
  int blocks = 0;
  while (std::getline(in, line)) {
    if (!inside && line == "```yaml") {
      inside = true;
      yaml.clear();
    } else if (inside && line == "```") {
      inside = false;
      if (yaml.find("\ncomponents:") == std::string::npos) continue;
      ++blocks;
      Scenario s = load_text(yaml);
      s.duration = std::min(s.duration, Time::s(120));
      auto sim = std::make_unique<Simulation>(s);
      sim->run();
      EXPECT_TRUE(Balanced(*sim));
    } else if (inside) {
      yaml += line + "\n";
    }
  }
  EXPECT_GE(blocks, 1);
}

}  // namespace
}  // namespace dsim::test
