// gateway: routing by path and class, the validation stage, rate limiting end to end (429 counts,
// tiers, keys, clients that obey retry_after), limiters shared through a kv_store (their latency,
// shared state, fail open and fail closed), and the load-time checks.
#include "components/gateway.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "components/component_support.hpp"
#include "components/kv_store.hpp"
#include "core/request_path.hpp"

namespace dsim {

[[maybe_unused]] static void PrintTo(const Time& t, std::ostream* os) {
  *os << t.count_ns() << "ns";
}

namespace test {
namespace {

KvStore& store_of(const Simulation& sim, const std::string& name) {
  return dynamic_cast<KvStore&>(*sim.components()[find_component(sim, name).index()]);
}

uint32_t index_of(const Simulation& sim, const std::string& name) {
  return find_component(sim, name).index();
}

// --- Routing and validation --------------------------------------------------------------------

TEST(Gateway, RoutesEachClassToItsBackendAndTheRestToTheDefault) {
  const std::string yaml = R"(
name: routes
seed: 1
duration: 10s
components:
  shoppers: {kind: source, workload: checkout, arrivals: {poisson: 20/s}, target: edge}
  browsers: {kind: source, workload: browse, arrivals: {poisson: 50/s}, target: edge}
  admins: {kind: source, workload: admin, arrivals: {poisson: 5/s}, target: edge}
  edge:
    kind: gateway
    routes:
      - {class: checkout, to: orders}
      - {class: admin, to: backoffice}
      - {to: catalog}
  orders: {kind: sink}
  backoffice: {kind: sink}
  catalog: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(metrics_of(*sim, "orders").arrivals(), source_of(*sim, "shoppers").generated());
  EXPECT_EQ(metrics_of(*sim, "backoffice").arrivals(), source_of(*sim, "admins").generated());
  EXPECT_EQ(metrics_of(*sim, "catalog").arrivals(), source_of(*sim, "browsers").generated());
  EXPECT_GT(source_of(*sim, "admins").generated(), 20u);
  const std::map<std::string, std::string> backend = {
      {"checkout", "orders"}, {"admin", "backoffice"}, {"browse", "catalog"}};
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    // The backend's answer is relayed as it is: the request completed at the backend.
    EXPECT_EQ(f.component, index_of(*sim, backend.at(sim->workloads()[f.workload].name)));
  }
  const StationMetrics& edge = metrics_of(*sim, "edge");
  EXPECT_EQ(edge.served(), log.entries.size());
  EXPECT_EQ(edge.counter(Counter::calls), log.entries.size());
}

TEST(Gateway, RequestsOfAClassWithoutARouteFail) {
  const std::string yaml = R"(
name: no-route
seed: 2
duration: 2s
components:
  shoppers: {kind: source, workload: checkout, arrivals: {constant: 10/s}, target: edge}
  browsers: {kind: source, workload: browse, arrivals: {constant: 10/s}, target: edge}
  edge: {kind: gateway, routes: [{class: checkout, to: orders}]}
  orders: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  for (const Finished& f : log.entries) {
    const bool checkout = sim->workloads()[f.workload].name == "checkout";
    EXPECT_EQ(f.reason, checkout ? Reason::none : Reason::error);
  }
  EXPECT_EQ(metrics_of(*sim, "edge").failed()[static_cast<int>(Reason::error)], 20u);
}

// --- Routing by path ---------------------------------------------------------------------------

// How many requests each component finished, by component name (for the backends a gateway
// relays from: a request ends where its answer was produced).
std::map<std::string, size_t> ended_at(const Simulation& sim, const RequestLog& log) {
  std::map<std::string, size_t> n;
  for (const Finished& f : log.entries) ++n[sim.components()[f.component]->name()];
  return n;
}

TEST(Gateway, PathPrefixesMatchWholeSegments) {
  EXPECT_TRUE(path_has_prefix("/orders", "/orders"));
  EXPECT_TRUE(path_has_prefix("/orders/42", "/orders"));
  EXPECT_TRUE(path_has_prefix("/orders/42/items", "/orders"));
  EXPECT_FALSE(path_has_prefix("/orders-v2", "/orders"));
  EXPECT_FALSE(path_has_prefix("/ordersv2/1", "/orders"));
  EXPECT_FALSE(path_has_prefix("/order", "/orders"));
  EXPECT_FALSE(path_has_prefix("/catalog/orders", "/orders"));
  for (const char* p : {"/", "/orders", "/orders-v2", "/a/b/c"})
    EXPECT_TRUE(path_has_prefix(p, "/"));
  // A prefix ending in '/' matches below it only.
  EXPECT_TRUE(path_has_prefix("/orders/42", "/orders/"));
  EXPECT_TRUE(path_has_prefix("/orders/", "/orders/"));
  EXPECT_FALSE(path_has_prefix("/orders", "/orders/"));
  // Paths are compared as written: case and repeated slashes count.
  EXPECT_FALSE(path_has_prefix("/Orders/42", "/orders"));
  EXPECT_FALSE(path_has_prefix("//orders", "/orders"));
}

// Three requests from each source. /orders takes /orders and what lies below it, not
// /orders-v2, which falls through to `/` with /; the source without a path matches neither (not
// even `/`) and, with no route left, fails with error (a 404).
TEST(Gateway, RoutesByPathPrefixSegmentBySegment) {
  const std::string yaml = R"(
name: paths
seed: 1
duration: 10s
components:
  exact: {kind: source, path: /orders, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  below: {kind: source, path: /orders/42/items, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  v2: {kind: source, path: /orders-v2, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  root: {kind: source, path: /, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  nopath: {kind: source, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  edge:
    kind: gateway
    routes:
      - {path: /orders, to: orders}
      - {path: /, to: web}
  orders: {kind: sink}
  web: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 15u);
  EXPECT_EQ(metrics_of(*sim, "orders").arrivals(), 6u);
  EXPECT_EQ(metrics_of(*sim, "web").arrivals(), 6u);
  const std::map<std::string, std::string> backend = {
      {"exact", "orders"}, {"below", "orders"}, {"v2", "web"}, {"root", "web"}, {"nopath", "edge"}};
  for (const Finished& f : log.entries) {
    const std::string& source = sim->workloads()[f.workload].name;  // (workload = source name)
    EXPECT_EQ(sim->components()[f.component]->name(), backend.at(source)) << source;
    EXPECT_EQ(f.reason, source == "nopath" ? Reason::error : Reason::none) << source;
  }
  EXPECT_EQ(metrics_of(*sim, "edge").failed()[static_cast<int>(Reason::error)], 3u);
}

// A request that matches two routes takes the first in the list, not the more specific one
// (Envoy's rule, not nginx's longest prefix): the same admins go to the backoffice with the
// class route first and to checkout with the path route first.
TEST(Gateway, TheFirstMatchingRouteInListOrderWins) {
  const auto run = [](const std::string& routes) {
    const std::string yaml = R"(
name: first-match
seed: 1
duration: 10s
components:
  admins: {kind: source, workload: admin, path: /orders/checkout, arrivals: {constant: 1/s}, max_requests: 4, target: edge}
  shoppers: {kind: source, workload: shop, path: /orders/checkout, arrivals: {constant: 1/s}, max_requests: 2, target: edge}
  edge:
    kind: gateway
    routes:
)" + routes + R"(
      - {to: catalog}
  backoffice: {kind: sink}
  checkout: {kind: sink}
  catalog: {kind: sink}
)";
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    return ended_at(*sim, log);
  };
  const std::map<std::string, size_t> class_first = {{"backoffice", 4}, {"checkout", 2}};
  EXPECT_EQ(run("      - {class: admin, to: backoffice}\n"
                "      - {path: /orders/checkout, to: checkout}"),
            class_first);
  const std::map<std::string, size_t> path_first = {{"checkout", 6}};
  EXPECT_EQ(run("      - {path: /orders/checkout, to: checkout}\n"
                "      - {class: admin, to: backoffice}"),
            path_first);
}

// A route with both a path and a class takes only requests that match both; the others fall
// through to the next route that matches them, the catch-all last.
TEST(Gateway, ARouteWithPathAndClassNeedsBoth) {
  const std::string yaml = R"(
name: both
seed: 1
duration: 10s
components:
  paid-orders: {kind: source, workload: paid, path: /orders/1, arrivals: {constant: 1/s}, max_requests: 1, target: edge}
  free-orders: {kind: source, workload: free, path: /orders/1, arrivals: {constant: 1/s}, max_requests: 2, target: edge}
  paid-catalog: {kind: source, workload: paid, path: /catalog, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  paid-nopath: {kind: source, workload: paid, arrivals: {constant: 1/s}, max_requests: 4, target: edge}
  edge:
    kind: gateway
    routes:
      - {path: /orders, class: paid, to: fast}
      - {path: /orders, to: orders}
      - {to: catalog}
  fast: {kind: sink}
  orders: {kind: sink}
  catalog: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const std::map<std::string, size_t> expected = {{"fast", 1}, {"orders", 2}, {"catalog", 7}};
  EXPECT_EQ(ended_at(*sim, log), expected);
}

// Requests without a path (their source has none, or they are a queue's messages: a new request
// of the queue's) never match a route that asks for a path, not even `/`: here they go by class,
// and fail with error when no class route takes them.
TEST(Gateway, RequestsWithoutAPathMatchOnlyRoutesWithoutOne) {
  const std::string yaml = R"(
name: no-path
seed: 1
duration: 10s
components:
  browsers: {kind: source, path: /index.html, arrivals: {constant: 1/s}, max_requests: 2, target: edge}
  jobs: {kind: source, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  others: {kind: source, arrivals: {constant: 1/s}, max_requests: 4, target: edge}
  publishers: {kind: source, path: /index.html, arrivals: {constant: 1/s}, max_requests: 5, target: inbox}
  inbox: {kind: queue, workload: jobs, consumers: {target: edge, count: 1}}
  edge:
    kind: gateway
    routes:
      - {path: /, to: web}
      - {class: jobs, to: batch}
  web: {kind: sink}
  batch: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  EXPECT_EQ(metrics_of(*sim, "web").arrivals(), 2u);
  EXPECT_EQ(metrics_of(*sim, "batch").arrivals(), 3u + 5u);
  EXPECT_EQ(metrics_of(*sim, "edge").failed()[static_cast<int>(Reason::error)], 4u);
}

// Every attempt of a request goes where its path says: the clients retry the limiter's 429s
// through a load balancer (so the gateway's caller is never the source), and each attempt that
// gets past the limiter lands on the backend of its path.
TEST(Gateway, RetriedRequestsKeepTheirRoute) {
  const std::string yaml = R"(
name: retried
seed: 1
duration: 30s
components:
  shoppers:
    kind: source
    path: /orders/checkout
    arrivals: {constant: 10/s}
    max_requests: 20
    target: lb
    retry: {max_attempts: 50, backoff: constant, base: 1ms, jitter: none, on: rate_limited}
  browsers:
    kind: source
    path: /catalog/items
    arrivals: {constant: 10/s}
    max_requests: 20
    target: lb
    retry: {max_attempts: 50, backoff: constant, base: 1ms, jitter: none, on: rate_limited}
  lb: {kind: load_balancer, backends: [edge]}
  edge:
    kind: gateway
    limiters: [{algorithm: token_bucket, by: global, rate: 10/s, burst: 1}]
    routes:
      - {path: /orders, to: orders}
      - {path: /catalog, to: catalog}
  orders: {kind: sink}
  catalog: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const StationMetrics& edge = metrics_of(*sim, "edge");
  EXPECT_GT(edge.counter(Counter::rate_limited), 20u);  // many attempts were retries
  EXPECT_EQ(edge.arrivals(), 40u + edge.counter(Counter::rate_limited));
  std::map<std::string, size_t> completed;
  for (const Finished& f : log.entries) {
    const std::string& source = sim->workloads()[f.workload].name;
    if (f.outcome != Outcome::completed) continue;
    ++completed[source];
    EXPECT_EQ(sim->components()[f.component]->name(), source == "shoppers" ? "orders" : "catalog");
  }
  EXPECT_EQ(metrics_of(*sim, "orders").arrivals(), completed["shoppers"]);
  EXPECT_EQ(metrics_of(*sim, "catalog").arrivals(), completed["browsers"]);
  EXPECT_EQ(completed["shoppers"] + completed["browsers"], 40u);
}

// Validation on one worker, 10 ms each, room for 2 to wait: of five arrivals at 1..5 ms, the
// first is validated 1-11 ms, the next two wait and finish at 21 and 31 ms, the last two are
// refused (queue_full) on arrival. The backend (a sink) answers at once.
TEST(Gateway, ValidatesOnItsWorkersAndRefusesWhenTheQueueIsFull) {
  const std::string yaml = R"(
name: validation
seed: 3
duration: 1s
components:
  users: {kind: source, arrivals: {constant: 1000/s}, max_requests: 5, target: edge}
  edge:
    kind: gateway
    workers: 1
    queue_capacity: 2
    auth_time: 10ms
    routes: [{to: api}]
  api: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 5u);
  std::map<uint64_t, Finished> by_id;
  for (const Finished& f : log.entries) by_id[f.id] = f;
  EXPECT_EQ(by_id[1].finished, Time::ms(11));
  EXPECT_EQ(by_id[2].finished, Time::ms(21));
  EXPECT_EQ(by_id[3].finished, Time::ms(31));
  for (uint64_t id : {4, 5}) {
    EXPECT_EQ(by_id[id].reason, Reason::queue_full);
    EXPECT_EQ(by_id[id].finished, by_id[id].created);
  }
  const StationMetrics& edge = metrics_of(*sim, "edge");
  EXPECT_EQ(edge.busy().max(), 1);
  EXPECT_EQ(edge.queue().max(), 2);
}

// A route's call policy applies: the backend takes 1 s, the route gives up after 50 ms and tries
// twice (10 ms apart), so the client hears timeout at 50 + 10 + 50 = 110 ms.
TEST(Gateway, CallsBackendsUnderTheRoutesPolicy) {
  const std::string yaml = R"(
name: route-policy
seed: 4
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 1/s}, max_requests: 3, target: edge}
  edge:
    kind: gateway
    routes:
      - to: api
        timeout: 50ms
        retry: {max_attempts: 2, backoff: constant, base: 10ms, jitter: none}
  api: {kind: service, workers: 10, service_time: 1s}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  ASSERT_EQ(log.entries.size(), 3u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.reason, Reason::timeout);
    EXPECT_EQ(f.finished - f.created, Time::ms(110));
    EXPECT_EQ(f.component, index_of(*sim, "edge")) << "the gateway gave up";
  }
  const StationMetrics& edge = metrics_of(*sim, "edge");
  EXPECT_EQ(edge.counter(Counter::timeouts), 6u);
  EXPECT_EQ(edge.counter(Counter::retries), 3u);
  EXPECT_EQ(metrics_of(*sim, "api").arrivals(), 6u);
}

// --- Rate limiting -----------------------------------------------------------------------------

// 1000 requests every 10 ms (10 ms .. 10 s) against a token bucket of 10/s with burst 5: the
// full bucket admits 10..50 ms (tokens arrive every 100 ms, so the bucket empties at 50 ms and
// the next token comes at 110 ms), then one every 100 ms: 110, 210, ..., 9910 ms. 5 + 99 = 104
// admitted, the bound burst + rate x 9.99 s = 104.9 floored; 896 refused with 429.
TEST(Gateway, RefusesWith429BeyondTheLimitAndCountsThem) {
  const std::string yaml = R"(
name: limited
seed: 5
duration: 20s
components:
  users: {kind: source, arrivals: {constant: 100/s}, max_requests: 1000, target: edge}
  edge:
    kind: gateway
    limiters: [{algorithm: token_bucket, rate: 10/s, burst: 5, by: global}]
    routes: [{to: api}]
  api: {kind: sink}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const StationMetrics& edge = metrics_of(*sim, "edge");
  EXPECT_EQ(edge.counter(Counter::rate_limited), 896u);
  EXPECT_EQ(edge.dropped()[static_cast<int>(Reason::rate_limited)], 896u);
  EXPECT_EQ(metrics_of(*sim, "api").arrivals(), 104u);
  EXPECT_EQ(sim->ledger().dropped, 896u);
  std::vector<Time> admitted;
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::completed) admitted.push_back(f.finished);
    if (f.outcome == Outcome::dropped) {
      EXPECT_EQ(f.component, index_of(*sim, "edge"));
    }
  }
  ASSERT_EQ(admitted.size(), 104u);
  EXPECT_EQ(admitted[4], Time::ms(50));
  EXPECT_EQ(admitted[5], Time::ms(110));
  EXPECT_EQ(admitted.back(), Time::ms(9910));
}

// The limiters' guarantees hold through the gateway, local or kept in a kv_store, under bursty
// Poisson arrivals at 3x the limit: the admission instants (the sink's completions) of a token
// bucket never exceed burst + rate x tau in any interval tau, a sliding log's never exceed its
// limit in any window, a fixed window's never exceed it within an aligned window (but do across
// a boundary). rate_limiter_test.cpp checks the algorithms alone on adversarial traces.
std::vector<Time> admitted_through_gateway(const std::string& limiter, bool shared) {
  RequestLog log;
  auto sim = run_checked(R"(
name: bounds
seed: 12
duration: 30s
components:
  users: {kind: source, arrivals: {poisson: 300/s}, target: edge}
  edge:
    kind: gateway
    limiters: [{)" + limiter +
                             (shared ? ", store: limits" : "") +
                             R"(}]
    routes: [{to: api}]
  api: {kind: sink}
)" + (shared ? "  limits: {kind: kv_store, check_and_incr: 0}\n" : ""),
                         {&log});
  std::vector<Time> admitted;
  for (const Finished& f : log.entries) {
    if (f.outcome == Outcome::completed) admitted.push_back(f.finished);
  }
  std::sort(admitted.begin(), admitted.end());
  return admitted;
}

TEST(Gateway, LimitersKeepTheirBoundsUnderBurstyTraffic) {
  for (const bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "shared" : "local");
    {
      // Token bucket, 100/s with a burst of 20.
      const auto t =
          admitted_through_gateway("algorithm: token_bucket, rate: 100/s, burst: 20", shared);
      ASSERT_GT(t.size(), 2900u);  // about 100/s for 30 s, plus the burst
      double worst = -1e9;         // max over i <= j of (j - i + 1) - (burst + rate x tau)
      for (size_t i = 0; i < t.size(); ++i) {
        for (size_t j = i; j < t.size() && j < i + 200; ++j) {
          const double excess =
              static_cast<double>(j - i + 1) - (20.0 + 100.0 * (t[j] - t[i]).seconds());
          worst = std::max(worst, excess);
        }
      }
      EXPECT_LE(worst, 1e-9);
      EXPECT_GT(worst, -1.0) << "the bound is reached: the bucket is not idle";
    }
    {
      // Sliding log: at most 50 in any 500 ms window (t - 500 ms, t].
      const auto t = admitted_through_gateway(
          "algorithm: sliding_window_log, limit: 50, window: 500ms", shared);
      ASSERT_GT(t.size(), 2900u);
      size_t most = 0;
      for (size_t j = 0, i = 0; j < t.size(); ++j) {
        while (t[i] <= t[j] - Time::ms(500)) ++i;
        most = std::max(most, j - i + 1);
      }
      EXPECT_EQ(most, 50u);
    }
    {
      // Fixed window: at most 50 per aligned 500 ms window, but up to 100 across a boundary.
      const auto t =
          admitted_through_gateway("algorithm: fixed_window, limit: 50, window: 500ms", shared);
      std::map<int64_t, size_t> per_window;
      for (const Time& a : t) ++per_window[a.count_ns() / Time::ms(500).count_ns()];
      size_t most = 0;
      for (const auto& [w, n] : per_window) most = std::max(most, n);
      EXPECT_EQ(most, 50u);
      size_t most_sliding = 0;
      for (size_t j = 0, i = 0; j < t.size(); ++j) {
        while (t[i] <= t[j] - Time::ms(500)) ++i;
        most_sliding = std::max(most_sliding, j - i + 1);
      }
      EXPECT_GT(most_sliding, 50u) << "a window straddling a boundary takes more";
      EXPECT_LE(most_sliding, 100u);
    }
  }
}

// Fixed window of 2 per second; requests at 0.1 .. 0.5 s from clients that retry (backoff 1 ms,
// at most 3 attempts). Obeying retry_after, requests 3, 4 and 5 (refused with 0.7, 0.6 and
// 0.5 s to wait) all come back at exactly 1.0 s: 3 and 4 get in, 5 is told to wait 1 s more and
// gets in at 2.0 s. Ignoring it, they retry 1 and 2 ms later inside the same window and are
// refused every time. The same holds when the limiter lives in a (zero-latency) kv_store.
std::string retry_scenario(bool respect, bool shared) {
  return std::string(R"(
name: retry-after
seed: 6
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 5
    target: edge
    retry: {max_attempts: 3, backoff: exponential, base: 1ms, jitter: none, on: rate_limited, respect_retry_after: )") +
         (respect ? "true" : "false") + R"(}
  edge:
    kind: gateway
    limiters: [{algorithm: fixed_window, limit: 2, window: 1s, by: global)" +
         (shared ? ", store: limits" : "") + R"(}]
    routes: [{to: api}]
  api: {kind: sink}
)" + (shared ? "  limits: {kind: kv_store, check_and_incr: 0}\n" : "");
}

TEST(Gateway, ClientsThatObeyRetryAfterComeBackWhenTheLimiterWouldAdmit) {
  for (const bool shared : {false, true}) {
    SCOPED_TRACE(shared ? "limiter in a kv_store" : "local limiter");
    RequestLog log;
    auto sim = run_checked(retry_scenario(true, shared), {&log});
    std::map<uint64_t, Time> done;
    for (const Finished& f : log.entries) {
      EXPECT_EQ(f.outcome, Outcome::completed) << "request " << f.id;
      done[f.id] = f.finished;
    }
    EXPECT_EQ(done[1], Time::ms(100));
    EXPECT_EQ(done[2], Time::ms(200));
    EXPECT_EQ(done[3], Time::s(1));
    EXPECT_EQ(done[4], Time::s(1));
    EXPECT_EQ(done[5], Time::s(2));
    EXPECT_EQ(metrics_of(*sim, "edge").arrivals(), 9u);
    EXPECT_EQ(metrics_of(*sim, "edge").counter(Counter::rate_limited), 4u);
    EXPECT_EQ(metrics_of(*sim, "users").counter(Counter::retries), 4u);
  }
}

TEST(Gateway, ClientsThatIgnoreRetryAfterAreRefusedAgain) {
  RequestLog log;
  auto sim = run_checked(retry_scenario(false, false), {&log});
  for (const Finished& f : log.entries) {
    if (f.id <= 2) {
      EXPECT_EQ(f.outcome, Outcome::completed);
    } else {
      EXPECT_EQ(f.reason, Reason::rate_limited);
      EXPECT_EQ(f.finished - f.created, Time::ms(3)) << "retried after 1 and 2 ms";
    }
  }
  EXPECT_EQ(metrics_of(*sim, "edge").counter(Counter::rate_limited), 9u);
}

// Poisson clients (8/s) against a fixed window of 5 per second, retrying up to 10 times 1 ms
// apart. Obeying retry_after, a refused request can only get in at a window boundary - so every
// request that completed later than it was created completed exactly on a whole second - and no
// window admits more than 5. Ignoring it, the retries fall inside the window that refused them
// and nearly all are refused again: only a retry that happens to cross a boundary gets in.
TEST(Gateway, RetriesThatObeyRetryAfterLandOnlyOnWindowBoundaries) {
  const auto scenario = [](bool respect) {
    return std::string(R"(
name: retry-boundaries
seed: 8
duration: 60s
components:
  users:
    kind: source
    arrivals: {poisson: 8/s}
    target: edge
    retry: {max_attempts: 10, backoff: constant, base: 1ms, jitter: none, on: rate_limited, respect_retry_after: )") +
           (respect ? "true" : "false") + R"(}
  edge:
    kind: gateway
    limiters: [{algorithm: fixed_window, limit: 5, window: 1s, by: global}]
    routes: [{to: api}]
  api: {kind: sink}
)";
  };
  const auto retried_successes = [&](bool respect) {
    RequestLog log;
    run_checked(scenario(respect), {&log});
    std::map<int64_t, int> per_window;
    size_t retried = 0;
    for (const Finished& f : log.entries) {
      if (f.outcome != Outcome::completed) continue;
      ++per_window[f.finished.count_ns() / 1'000'000'000];
      if (f.finished == f.created) continue;
      ++retried;
      if (respect) {
        EXPECT_EQ(f.finished.count_ns() % 1'000'000'000, 0)
            << "request " << f.id << " got in at " << f.finished.count_ns() << " ns";
      }
    }
    for (const auto& [window, n] : per_window) EXPECT_LE(n, 5) << "window " << window;
    return retried;
  };
  const size_t obeying = retried_successes(true);
  const size_t ignoring = retried_successes(false);
  EXPECT_GT(obeying, 50u);
  EXPECT_LT(ignoring * 5, obeying);
}

// Tiers: free and paid requests (20/s each, one user, 10 s) with their own buckets. Free: 1/s,
// burst 1 - admitted at 0.05, 1.05, ..., 9.05 s: 10. Paid: 10/s, burst 10 - the bound
// 10 + 9.95 s x 10/s = 109.5, reached because arrivals fall on token instants: 109.
TEST(Gateway, TiersGiveEachClassItsOwnLimit) {
  const std::string yaml = R"(
name: tiers
seed: 9
duration: 20s
components:
  free-users: {kind: source, workload: free, arrivals: {constant: 20/s}, max_requests: 200, target: edge}
  paid-users: {kind: source, workload: paid, arrivals: {constant: 20/s}, max_requests: 200, target: edge}
  edge:
    kind: gateway
    limiters:
      - {algorithm: token_bucket, class: free, rate: 1/s, burst: 1}
      - {algorithm: token_bucket, class: paid, rate: 10/s, burst: 10}
    routes: [{to: api}]
  api: {kind: sink}
)";
  auto sim = run_checked(yaml);
  const RunSummary s = summarize(*sim);
  std::map<std::string, uint64_t> completed;
  for (const auto& w : s.workloads) completed[w.name] = w.completed;
  EXPECT_EQ(completed["free"], 10u);
  EXPECT_EQ(completed["paid"], 109u);
  EXPECT_EQ(metrics_of(*sim, "edge").counter(Counter::rate_limited), 190u + 91u);
}

// One request per user per 100 s (a single window covers the run) from 200 requests over 100
// users: keyed by user every distinct user gets one; by api_key (3 keys) three get in; by ip (10
// users per address) ten; globally one.
TEST(Gateway, KeysByUserApiKeyIpOrGlobally) {
  const auto admitted = [](const std::string& by, const std::string& mapping) {
    const std::string yaml = R"(
name: keys
seed: 10
duration: 20s
components:
  users: {kind: source, arrivals: {constant: 20/s}, max_requests: 200, keys: {uniform: 100}, target: edge}
  edge:
    kind: gateway
)" + mapping + R"(
    limiters: [{algorithm: fixed_window, limit: 1, window: 100s, by: )" +
                             by + R"(}]
    routes: [{to: api}]
  api: {kind: sink}
)";
    RequestLog log;
    run_checked(yaml, {&log});
    std::set<uint64_t> users;
    uint64_t completed = 0;
    for (const Finished& f : log.entries) {
      users.insert(f.key);
      completed += f.outcome == Outcome::completed;
    }
    return std::make_pair(completed, users.size());
  };
  const auto [by_user, distinct] = admitted("user", "");
  EXPECT_EQ(by_user, distinct);
  EXPECT_GT(distinct, 80u);
  EXPECT_EQ(admitted("api_key", "    api_keys: 3").first, 3u);
  EXPECT_EQ(admitted("ip", "    users_per_ip: 10").first, 10u);
  EXPECT_EQ(admitted("global", "").first, 1u);
}

// --- Limiters shared through a kv_store --------------------------------------------------------

// Requests 1 s apart (nothing queues): validation 0.5 ms, the backend 10 ms; a shared limiter
// adds its store round trip, 2 ms on the thread + 1 ms rtt.
TEST(Gateway, SharedLimiterAddsTheStoreRoundTrip) {
  const auto latency = [](bool shared) {
    const std::string yaml = R"(
name: shared-latency
seed: 11
duration: 20s
components:
  users: {kind: source, arrivals: {constant: 1/s}, max_requests: 10, target: edge}
  edge:
    kind: gateway
    auth_time: 500us
    limiters: [{algorithm: sliding_window_log, limit: 100, window: 1s)" +
                             std::string(shared ? ", store: limits" : "") + R"(}]
    routes: [{to: api}]
  api: {kind: service, workers: 4, service_time: 10ms}
  limits: {kind: kv_store, check_and_incr: 2ms, rtt: 1ms}
  other: {kind: source, arrivals: {constant: 1/s}, max_requests: 1, target: limits}
)";
    RequestLog log;
    auto sim = run_checked(yaml, {&log});
    std::set<int64_t> seen;
    for (const Finished& f : log.entries) {
      if (sim->workloads()[f.workload].name == "users")
        seen.insert((f.finished - f.created).count_ns());
    }
    EXPECT_EQ(seen.size(), 1u) << "every request takes the same time";
    EXPECT_EQ(metrics_of(*sim, "limits").arrivals(), shared ? 11u : 1u);
    return seen.empty() ? Time::zero() : Time::ns(*seen.begin());
  };
  EXPECT_EQ(latency(false), Time::us(10'500));
  EXPECT_EQ(latency(true), Time::us(13'500));
}

// Two gateways (each fed 10/s, at the same instants) with the same fixed window, 5 per second.
// With the state in one store they share the limit: 5 per window in all - windows 0..9 admit 5
// each and the two requests at exactly 10.0 s open window 10: 52. With different key prefixes
// each has its own: 5 per window each (1 each in window 10): 102.
TEST(Gateway, GatewaysSharingAStoreShareTheLimit) {
  const auto admitted = [](const std::string& prefix_b) {
    const std::string yaml = R"(
name: shared-state
seed: 12
duration: 20s
components:
  users-a: {kind: source, arrivals: {constant: 10/s}, max_requests: 100, target: edge-a}
  users-b: {kind: source, arrivals: {constant: 10/s}, max_requests: 100, target: edge-b}
  edge-a:
    kind: gateway
    limiters: [{algorithm: fixed_window, limit: 5, window: 1s, by: global, store: limits}]
    routes: [{to: api}]
  edge-b:
    kind: gateway
    limiters: [{algorithm: fixed_window, limit: 5, window: 1s, by: global, store: limits, key_prefix: ")" +
                             prefix_b + R"("}]
    routes: [{to: api}]
  api: {kind: sink}
  limits: {kind: kv_store, check_and_incr: 0}
)";
    Simulation sim(load_text(yaml));
    sim.run_until(Time::ms(5500));
    EXPECT_EQ(store_of(sim, "limits").entries(), prefix_b.empty() ? 1u : 2u)
        << "one live counter per distinct limiter key";
    sim.run();
    EXPECT_TRUE(Balanced(sim));
    EXPECT_EQ(store_of(sim, "limits").entries(), 0u) << "the last window ended at 11 s";
    return metrics_of(sim, "api").arrivals();
  };
  EXPECT_EQ(admitted(""), 52u);
  EXPECT_EQ(admitted("b:"), 102u);
}

// The store is down for the whole run. fail_open lets every request through (the limit is not
// enforced: 50 pass where 5 would); fail_closed refuses every one with unavailable.
std::string store_failure_scenario(const std::string& policy, const std::string& store) {
  return R"(
name: store-failure
seed: 13
duration: 20s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 50, target: edge}
  edge:
    kind: gateway
    limiters:
      - {algorithm: token_bucket, rate: 1/s, burst: 1, by: global, store: limits, store_timeout: 10ms, on_store_failure: )" +
         policy + R"(}
    routes: [{to: api}]
  api: {kind: sink}
  limits: {kind: kv_store, )" +
         store + "}\n";
}

TEST(Gateway, FailOpenAdmitsAndFailClosedRefusesWhileTheStoreIsDown) {
  for (const std::string policy : {"fail_open", "fail_closed"}) {
    SCOPED_TRACE(policy);
    RequestLog log;
    Simulation sim(load_text(store_failure_scenario(policy, "check_and_incr: 100us")));
    sim.add_observer(&log);
    store_of(sim, "limits").set_available(sim, false);
    sim.run();
    EXPECT_TRUE(Balanced(sim));
    const bool open = policy == "fail_open";
    EXPECT_EQ(log.count(Outcome::completed, Reason::none), open ? 50u : 0u);
    EXPECT_EQ(log.count(Outcome::dropped, Reason::unavailable), open ? 0u : 50u);
    const StationMetrics& edge = metrics_of(sim, "edge");
    EXPECT_EQ(edge.counter(Counter::limiter_store_failures), 50u);
    EXPECT_EQ(edge.counter(Counter::rate_limited), 0u);
    EXPECT_EQ(metrics_of(sim, "limits").dropped()[static_cast<int>(Reason::unavailable)], 50u);
  }
  // Healthy, the same store enforces the limit: 0.1, 1.1, 2.1, 3.1 and 4.1 s get in.
  auto sim = run_checked(store_failure_scenario("fail_closed", "check_and_incr: 100us"));
  EXPECT_EQ(metrics_of(*sim, "api").arrivals(), 5u);
  EXPECT_EQ(metrics_of(*sim, "edge").counter(Counter::rate_limited), 45u);
}

// A store that answers too slowly: every check times out after store_timeout (10 ms), which the
// request pays before the policy applies.
TEST(Gateway, AStoreThatTimesOutCostsTheTimeoutThenThePolicyApplies) {
  for (const std::string policy : {"fail_open", "fail_closed"}) {
    SCOPED_TRACE(policy);
    RequestLog log;
    auto sim = run_checked(store_failure_scenario(policy, "check_and_incr: 1s"), {&log});
    const bool open = policy == "fail_open";
    ASSERT_EQ(log.entries.size(), 50u);
    for (const Finished& f : log.entries) {
      EXPECT_EQ(f.reason, open ? Reason::none : Reason::unavailable);
      EXPECT_EQ(f.finished - f.created, Time::ms(10));
    }
    const StationMetrics& edge = metrics_of(*sim, "edge");
    EXPECT_EQ(edge.counter(Counter::timeouts), 50u);
    EXPECT_EQ(edge.counter(Counter::limiter_store_failures), 50u);
  }
}

// A full store cannot hold a new limiter key: the check fails (error) and the policy applies.
// One entry of room, keyed by user over two users: the first user's key takes it.
TEST(Gateway, AStoreOutOfMemoryFailsChecksForNewKeys) {
  const std::string yaml = R"(
name: store-full
seed: 14
duration: 10s
components:
  users: {kind: source, arrivals: {constant: 10/s}, max_requests: 40, keys: {uniform: 2}, target: edge}
  edge:
    kind: gateway
    limiters: [{algorithm: sliding_window_log, limit: 1000, window: 1h, by: user, store: limits, on_store_failure: fail_closed}]
    routes: [{to: api}]
  api: {kind: sink}
  limits: {kind: kv_store, max_entries: 1}
)";
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const uint64_t first_user = log.entries.front().key;
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.reason, f.key == first_user ? Reason::none : Reason::unavailable);
  }
  EXPECT_EQ(metrics_of(*sim, "limits").failed()[static_cast<int>(Reason::error)],
            log.count(Outcome::dropped, Reason::unavailable));
}

// --- Load-time checks --------------------------------------------------------------------------

std::string with_edge(const std::string& edge) {
  return R"(name: bad
duration: 1s
components:
  users: {kind: source, arrivals: {poisson: 1/s}, target: edge}
  edge:
    kind: gateway
)" + edge +
         R"(  api: {kind: sink}
  limits: {kind: kv_store}
  db: {kind: service, service_time: 1ms}
)";
}

TEST(Gateway, RejectsLimitersWithTheWrongSettings) {
  EXPECT_EQ(
      load_errors(with_edge(R"(    limiters: [{algorithm: token_bucket, limit: 10, window: 1s}]
    routes: [{to: api}]
)")),
      "test.yaml:7:16: error: components.edge.limiters[0]: token_bucket takes rate and "
      "burst; limit and window belong to the window algorithms\n");
  EXPECT_EQ(load_errors(with_edge(R"(    limiters: [{algorithm: sliding_window_counter, limit: 10}]
    routes: [{to: api}]
)")),
            "test.yaml:7:16: error: components.edge.limiters[0]: sliding_window_counter needs "
            "'limit' and 'window'\n");
  EXPECT_EQ(
      load_errors(with_edge(
          R"(    limiters: [{algorithm: token_bucket, rate: 5/s, on_store_failure: fail_closed}]
    routes: [{to: api}]
)")),
      "test.yaml:7:16: error: components.edge.limiters[0]: 'on_store_failure' applies only "
      "to a limiter with a store\n");
}

TEST(Gateway, RejectsADefaultRouteBeforeOthers) {
  EXPECT_EQ(load_errors(with_edge(R"(    routes: [{to: api}, {class: checkout, to: db}]
)")),
            "test.yaml:5:3: error: components.edge: routes[0] has no path and no class, so it "
            "takes every request and the routes after it are never used; put the default route "
            "last\n");
}

// A route that an earlier one covers would never be used (first match wins): rejected, naming
// both. A prefix covers what lies below it segment by segment only, and a route with a class or
// a path covers only requests that have them.
TEST(Gateway, RejectsARouteThatAnEarlierRouteCovers) {
  const auto routes = [](const std::string& list) {
    return load_errors(R"(name: covered
duration: 1s
components:
  users: {kind: source, arrivals: {poisson: 1/s}, target: edge}
  edge:
    kind: gateway
    routes: )" + list + R"(
  api: {kind: sink}
  db: {kind: sink}
)");
  };
  EXPECT_EQ(routes("[{path: /orders, to: api}, {path: /orders/checkout, to: db}, {to: api}]"),
            "test.yaml:5:3: error: components.edge: routes[1] (path '/orders/checkout') is never "
            "used: routes[0] (path '/orders') comes first and takes all its requests; put the "
            "narrower route first\n");
  EXPECT_EQ(routes("[{path: /, to: api}, {path: /orders, class: paid, to: db}]"),
            "test.yaml:5:3: error: components.edge: routes[1] (path '/orders' of class 'paid') is "
            "never used: routes[0] (path '/') comes first and takes all its requests; put the "
            "narrower route first\n");
  EXPECT_EQ(routes("[{class: paid, to: api}, {path: /orders, class: paid, to: db}]"),
            "test.yaml:5:3: error: components.edge: routes[1] (path '/orders' of class 'paid') is "
            "never used: routes[0] (class 'paid') comes first and takes all its requests; put the "
            "narrower route first\n");
  EXPECT_EQ(routes("[{path: /orders, to: api}, {path: /orders, to: db}]"),
            "test.yaml:5:3: error: components.edge: routes[1] (path '/orders') is never used: "
            "routes[0] (path '/orders') comes first and takes all its requests; put the narrower "
            "route first\n");
  EXPECT_EQ(routes("[{class: paid, to: api}, {class: paid, to: db}]"),
            "test.yaml:5:3: error: components.edge: routes[1]: class 'paid' is already routed by "
            "routes[0]\n");
  // Neither covers the other: all fine.
  EXPECT_EQ(routes("[{path: /orders, to: api}, {path: /orders-v2, to: db}]"), "");
  EXPECT_EQ(routes("[{path: /orders/, to: api}, {path: /orders, to: db}]"), "");
  EXPECT_EQ(routes("[{path: /orders, class: paid, to: api}, {path: /orders/1, to: db}]"), "");
  EXPECT_EQ(routes("[{path: /orders, to: api}, {class: paid, to: db}]"), "");
  EXPECT_EQ(routes("[{path: /, to: api}, {to: db}]"), "");
}

TEST(Gateway, RejectsARoutePathThatIsNotAPath) {
  EXPECT_EQ(load_errors(with_edge("    routes: [{path: orders, to: api}]\n")),
            "test.yaml:7:21: error: components.edge.routes[0].path: expected a path such as "
            "/orders/checkout, got 'orders' (a path starts with '/')\n");
  EXPECT_EQ(load_errors(with_edge("    routes: [{path: '/orders/a b', to: api}]\n")),
            "test.yaml:7:31: error: components.edge.routes[0].path: expected a path such as "
            "/orders/checkout, got '/orders/a b' (a path has no spaces or control "
            "characters)\n");
  EXPECT_EQ(load_errors(with_edge("    routes: [{path: '/orders?id=1', to: api}]\n")),
            "test.yaml:7:29: error: components.edge.routes[0].path: expected a path such as "
            "/orders/checkout, got '/orders?id=1' (a path has no query or fragment ('?' or "
            "'#'))\n");
  EXPECT_EQ(load_errors(with_edge("    routes: [{path: [/a], to: api}]\n")),
            "test.yaml:7:21: error: components.edge.routes[0].path: expected a path such as "
            "/orders/checkout, got a list\n");
}

TEST(Gateway, RejectsAStoreThatIsNotAKvStore) {
  EXPECT_EQ(load_errors(with_edge(R"(    limiters: [{algorithm: token_bucket, rate: 5/s, store: db}]
    routes: [{to: api}]
)")),
            "test.yaml:7:60: error: 'edge' asks 'db' (a service) for operation "
            "'check_and_incr' (it has none)\n");
}

TEST(Gateway, SameSeedGivesIdenticalSummaries) {
  expect_reproducible(R"(
name: repro
seed: 15
duration: 20s
components:
  free: {kind: source, arrivals: {poisson: 200/s}, keys: {zipf: {keys: 50, s: 1.1}}, target: edge, retry: {max_attempts: 3}}
  paid: {kind: source, arrivals: {poisson: 100/s}, keys: {uniform: 20}, target: edge}
  edge:
    kind: gateway
    workers: 2
    auth_time: {exponential: 1ms}
    limiters:
      - {algorithm: token_bucket, class: free, rate: 2/s, burst: 4}
      - {algorithm: sliding_window_counter, class: paid, limit: 20, window: 1s, store: limits, store_timeout: 5ms}
      - {algorithm: sliding_window_log, limit: 250, window: 1s, by: global}
    routes:
      - {class: paid, to: api, timeout: 100ms}
      - {to: api}
  api: {kind: service, workers: 8, service_time: {exponential: 10ms}}
  limits: {kind: kv_store, check_and_incr: {exponential: 100us}, rtt: 200us}
)");
}

}  // namespace
}  // namespace test
}  // namespace dsim
