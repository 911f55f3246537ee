// Idempotency keys: a service with an idempotency table or store answers repeats of a completed
// run without running its handler again, and refuses repeats of a run still in progress with
// conflict; without one, the repeats' side effects are counted as duplicates.
//
// Repeats come from client retries: the client gives up after 150 ms on a 200 ms service and
// retries `retry_wait` later with the same key - by default 10 ms, while the first attempt is
// still running.
#include "components/idempotency.hpp"

#include "components/kv_store.hpp"

#include <gtest/gtest.h>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

// Twenty requests with keys, 100 ms apart, to `target`; each attempt gives up after 150 ms and
// the next comes `retry_wait` later (then doubling).
std::string client(const std::string& target, const std::string& retry_wait, int max_attempts) {
  return R"(
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 20
    idempotency_keys: true
    timeout: 150ms
    retry: {max_attempts: )" +
         std::to_string(max_attempts) + ", base: " + retry_wait + R"(, jitter: none}
    target: )" +
         target + "\n";
}

std::string retrying_client(const std::string& api_extra, const std::string& retry_wait = "10ms",
                            int max_attempts = 2) {
  return client("api", retry_wait, max_attempts) + R"(  api:
    kind: service
    workers: 10
    service_time: 200ms
)" + api_extra;
}

TEST(Idempotency, WithoutAStoreEveryRepeatRunsAgainAndIsCountedAsADuplicate) {
  RequestLog log;
  auto sim = run_checked(retrying_client(""), {&log});
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.arrivals(), 40u);
  EXPECT_EQ(api.served(), 40u);
  EXPECT_EQ(api.counter(Counter::duplicates), 20u) << "each key's handler completed twice";
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 0u);
  // The second attempt also outlives the 150 ms timeout: every request fails although the work
  // was done twice - the worst of both.
  EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 20u);
}

TEST(Idempotency, ARepeatOfACompletedRunIsAnsweredWithoutRunningTheHandler) {
  // The retry comes at 250 ms, after the first run completed at 200 ms.
  RequestLog log;
  auto sim = run_checked(retrying_client("    idempotency: {}\n", "100ms"), {&log});
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.arrivals(), 40u);
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 20u);
  EXPECT_EQ(api.counter(Counter::idempotency_conflicts), 0u);
  EXPECT_EQ(api.counter(Counter::duplicates), 0u);
  // The retry is recognised at once and answered: the request succeeds.
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 20u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(250).count_ns());
  }
}

// A repeat that arrives while the first run is still going must not be told "done": that run
// may yet fail. It is refused with conflict (nothing done), and the client's next retry, after
// the first run completed, gets the success.
TEST(Idempotency, ARepeatWhileTheFirstRunIsInProgressIsRefusedWithConflict) {
  {
    RequestLog log;
    auto sim = run_checked(retrying_client("    idempotency: {}\n", "10ms"), {&log});
    const StationMetrics& api = metrics_of(*sim, "api");
    EXPECT_EQ(api.counter(Counter::idempotency_conflicts), 20u);
    EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 0u);
    EXPECT_EQ(api.counter(Counter::duplicates), 0u);
    EXPECT_EQ(api.served(), 20u) << "only the first runs";
    EXPECT_EQ(api.dropped()[static_cast<int>(Reason::conflict)], 20u);
    // Two attempts only: the client gives up with the conflict at 160 ms.
    EXPECT_EQ(log.count(Outcome::dropped, Reason::conflict), 20u);
    for (const Finished& f : log.entries) {
      EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(160).count_ns());
    }
  }
  {
    // Three attempts, exponential backoff from 30 ms: the first times out at 150 ms, the second
    // at 180 ms meets the run in progress (until 200 ms), the third at 240 ms finds it completed.
    RequestLog log;
    auto sim = run_checked(retrying_client("    idempotency: {}\n", "30ms", 3), {&log});
    const StationMetrics& api = metrics_of(*sim, "api");
    EXPECT_EQ(api.arrivals(), 60u);
    EXPECT_EQ(api.counter(Counter::idempotency_conflicts), 20u);
    EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 20u);
    EXPECT_EQ(api.counter(Counter::duplicates), 0u);
    EXPECT_EQ(log.count(Outcome::completed, Reason::none), 20u);
    for (const Finished& f : log.entries) {
      EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(240).count_ns());
    }
  }
}

TEST(Idempotency, TheLookupTakesItsLatencyOnTheWorker) {
  RequestLog log;
  auto sim = run_checked(retrying_client("    idempotency: {latency: 5ms}\n", "100ms"), {&log});
  for (const Finished& f : log.entries) {
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(255).count_ns());
  }
  EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates_suppressed), 20u);
}

// Keys forgotten too early let repeats through: with a TTL shorter than the retry delay every
// repeat slips through and is counted. (In the in-process table the TTL runs from the claim
// while the run is in progress: here the key is gone at 100 ms, before the retry at 160 ms.)
TEST(Idempotency, AKeyForgottenBeforeTheRepeatLetsItThrough) {
  auto sim = run_checked(retrying_client("    idempotency: {ttl: 100ms}\n"));
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 0u);
  EXPECT_EQ(api.counter(Counter::duplicates), 20u);
}

TEST(ProcessedKeys, ForgetsTheOldestBeyondCapacity) {
  ProcessedKeys keys(3, Time::zero());
  for (uint64_t k = 1; k <= 4; ++k) {
    EXPECT_EQ(keys.claim(k, Time::ms(static_cast<int64_t>(k))), IdempotencyState::absent);
  }
  EXPECT_EQ(keys.state(1, Time::ms(5)), IdempotencyState::absent);
  EXPECT_EQ(keys.state(2, Time::ms(5)), IdempotencyState::in_progress);
  EXPECT_EQ(keys.state(4, Time::ms(5)), IdempotencyState::in_progress);
  keys.forget(3);
  EXPECT_EQ(keys.state(3, Time::ms(5)), IdempotencyState::absent);
  EXPECT_EQ(keys.size(), 2u);
}

TEST(ProcessedKeys, AClaimFindsTheKeysStateAndClaimsOnlyAnAbsentKey) {
  ProcessedKeys keys(INT64_MAX, Time::zero());
  EXPECT_EQ(keys.claim(7, Time::ms(0)), IdempotencyState::absent);
  EXPECT_EQ(keys.claim(7, Time::ms(1)), IdempotencyState::in_progress);
  keys.complete(7, Time::ms(2));
  EXPECT_EQ(keys.claim(7, Time::ms(3)), IdempotencyState::completed);
  EXPECT_EQ(keys.state(7, Time::ms(3)), IdempotencyState::completed) << "a claim changes nothing";
  keys.forget(7);
  EXPECT_EQ(keys.state(7, Time::ms(4)), IdempotencyState::completed)
      << "a failed run removes only a claim in progress, not another run's completion";
  EXPECT_EQ(keys.claim(8, Time::ms(4)), IdempotencyState::absent);
  keys.forget(8);
  EXPECT_EQ(keys.claim(8, Time::ms(5)), IdempotencyState::absent);
}

TEST(ProcessedKeys, ForgetsAfterTheTtlCountedFromTheLastRecord) {
  ProcessedKeys keys(INT64_MAX, Time::ms(10));
  keys.claim(7, Time::ms(0));
  EXPECT_EQ(keys.state(7, Time::ms(9)), IdempotencyState::in_progress);
  keys.complete(7, Time::ms(9));
  EXPECT_EQ(keys.state(7, Time::ms(18)), IdempotencyState::completed) << "10 ms from completion";
  EXPECT_EQ(keys.state(7, Time::ms(19)), IdempotencyState::absent);
}

// Every run fails: the payments call times out after 50 ms of an 80 ms service. The client
// retries once.
std::string failing_handler(const std::string& idempotency, const std::string& extra = "") {
  return R"(
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 1/s}
    max_requests: 5
    idempotency_keys: true
    retry: {max_attempts: 2, base: 10ms, jitter: none}
    target: api
  api:
    kind: service
    workers: 10
    idempotency: )" +
         idempotency + R"(
    handler:
      - call: payments
        timeout: 50ms
  payments: {kind: service, workers: 10, service_time: 80ms}
)" + extra;
}

// A handler that fails forgets its key, so that the retry does the work.
TEST(Idempotency, AFailedRunDoesNotBlockItsRetry) {
  auto sim = run_checked(failing_handler("{}"));
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 0u);
  EXPECT_EQ(api.counter(Counter::idempotency_conflicts), 0u);
  EXPECT_EQ(metrics_of(*sim, "payments").arrivals(), 10u) << "the retry called payments again";
}

// The store is a kv_store: each claim and each completion is a call to it, with its latency
// and its failures.
std::string with_store(const std::string& on_failure, const std::string& op_time,
                       const std::string& retry_wait = "100ms") {
  return retrying_client(
      R"(    idempotency: {store: keys, store_timeout: 20ms, on_store_failure: )" + on_failure +
          R"(}
  keys: {kind: kv_store, check_and_incr: )" +
          op_time + ", set: " + op_time + "}\n",
      retry_wait);
}

TEST(Idempotency, ARemoteStoreAddsItsRoundTrips) {
  RequestLog log;
  auto sim = run_checked(with_store("reject", "3ms"), {&log});
  // Per request: the first attempt's claim and completion, the retry's claim.
  EXPECT_EQ(metrics_of(*sim, "keys").arrivals(), 60u);
  EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates_suppressed), 20u);
  // The retry at 250 ms waits 3 ms for the claim's answer: completed.
  for (const Finished& f : log.entries) {
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(253).count_ns());
  }
  // The completion is written before the answer leaves: the first run holds its worker from 0
  // to 206 ms (claim, handler, completion).
  const auto& keys = dynamic_cast<const KvStore&>(*sim->find("keys"));
  EXPECT_EQ(keys.idempotency_state("api", 1), IdempotencyState::completed);
  EXPECT_NEAR(metrics_of(*sim, "api").busy().mean(Time::zero(), sim->now()),
              20 * (0.206 + 0.003) / sim->now().seconds(), 1e-9);
}

TEST(Idempotency, AnUnreachableStoreRejectsOrProceedsAsConfigured) {
  {
    RequestLog log;
    auto sim = run_checked(with_store("reject", "1s", "10ms"), {&log});
    EXPECT_EQ(metrics_of(*sim, "api").served(), 0u);
    EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates), 0u);
    EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 20u);
  }
  {
    auto sim = run_checked(with_store("proceed", "1s", "10ms"));
    EXPECT_EQ(metrics_of(*sim, "api").served(), 40u);
    EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates), 20u);
  }
}

// Replicas behind a load balancer recognise each other's keys when they share the store and the
// key prefix: the retry that lands on the other replica is answered from the store. With each
// replica's own prefix (the default) it runs the handler again.
std::string replicas(const std::string& prefix) {
  return client("lb", "100ms", 2) +
         R"(  lb: {kind: load_balancer, backends: [api-1, api-2], policy: round_robin}
  api-1: &api
    kind: service
    workers: 10
    service_time: 200ms
    idempotency: {store: keys)" +
         prefix + R"(}
  api-2: *api
  keys: {kind: kv_store}
)";
}

TEST(Idempotency, ReplicasSharingAStoreAndAPrefixRecogniseEachOthersKeys) {
  {
    RequestLog log;
    auto sim = run_checked(replicas(", key_prefix: api"), {&log});
    uint64_t suppressed = 0, served = 0;
    for (const char* name : {"api-1", "api-2"}) {
      suppressed += metrics_of(*sim, name).counter(Counter::duplicates_suppressed);
      served += metrics_of(*sim, name).served();
    }
    EXPECT_EQ(suppressed, 20u);
    EXPECT_EQ(served, 40u) << "20 handler runs and 20 repeats answered from the store";
    EXPECT_EQ(log.count(Outcome::completed, Reason::none), 20u);
    // Round robin over the merged arrivals (first attempts every 100 ms, retries 250 ms after
    // theirs) sends the first attempts from the 4th on to api-1 and all retries but the 19th to
    // api-2: 18 retries land on the other replica, those of requests 2 and 19 on the same one.
    EXPECT_EQ(metrics_of(*sim, "api-1").counter(Counter::duplicates_suppressed), 1u);
    EXPECT_EQ(metrics_of(*sim, "api-2").counter(Counter::duplicates_suppressed), 19u);
  }
  {
    auto sim = run_checked(replicas(""));
    uint64_t suppressed = 0, served = 0;
    for (const char* name : {"api-1", "api-2"}) {
      suppressed += metrics_of(*sim, name).counter(Counter::duplicates_suppressed);
      served += metrics_of(*sim, name).served();
    }
    // Each replica looks in its own namespace: only the 2 retries that came back to the replica
    // of their first attempt are recognised; the other 18 run the handler again.
    EXPECT_EQ(suppressed, 2u);
    EXPECT_EQ(served, 40u);
    const auto& keys = dynamic_cast<const KvStore&>(*sim->find("keys"));
    EXPECT_EQ(keys.idempotency_state("api-1", 1), IdempotencyState::completed);
    EXPECT_EQ(keys.idempotency_state("api-2", 1), IdempotencyState::completed);
  }
}

// A caller that gave up (its propagated deadline passed) while the handler ran does not undo the
// work: the completion is still written, and the retry is answered from it. Marking the run
// failed instead would release the claim and let the retry do the work a second time.
TEST(Idempotency, ARunWhoseCallerGaveUpStillCompletesItsKey) {
  std::string yaml = with_store("reject", "3ms");
  const std::string timeout = "    timeout: 150ms\n";
  ASSERT_NE(yaml.find(timeout), std::string::npos);
  yaml.replace(yaml.find(timeout), timeout.size(), timeout + "    propagate_deadline: true\n");
  RequestLog log;
  auto sim = run_checked(yaml, {&log});
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 20u);
  EXPECT_EQ(api.counter(Counter::duplicates), 0u);
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 20u);
}

// A failed run releases its claim in the store, so that the retry does the work.
TEST(Idempotency, AFailedRunReleasesItsClaimInTheStore) {
  auto sim = run_checked(failing_handler("{store: keys}", "  keys: {kind: kv_store}\n"));
  EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::idempotency_conflicts), 0u);
  EXPECT_EQ(metrics_of(*sim, "payments").arrivals(), 10u) << "the retry called payments again";
  const auto& keys = dynamic_cast<const KvStore&>(*sim->find("keys"));
  EXPECT_EQ(keys.entries(), 0u) << "both runs failed: no claim is left";
}

// The claim of a run whose process crashed is never released; a lease ends it.
TEST(Idempotency, ALeaseEndsTheClaimOfACrashedRun) {
  const std::string scenario = R"(
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    idempotency_keys: true
    timeout: 1s
    retry: {max_attempts: 3, base: 500ms, jitter: none}
    target: api
  api:
    kind: service
    workers: 10
    service_time: 300ms
    idempotency: {store: keys)";
  const std::string crash = R"(
  keys: {kind: kv_store}
faults:
  down: {kind: crash, targets: [api], at: 150ms, duration: 50ms}
)";
  {
    // The crash at 150 ms fails the first run (unavailable) and leaves its claim. With the
    // default lease (1 min), or none (0), the claim outlives the retries 500 ms and 1.5 s later:
    // they conflict.
    for (const std::string lease : {"}", ", lease: 0s}"}) {
      RequestLog log;
      auto sim = run_checked(scenario + lease + crash, {&log});
      EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::idempotency_conflicts), 2u);
      EXPECT_EQ(log.count(Outcome::dropped, Reason::conflict), 1u);
    }
  }
  {
    // A 500 ms lease: the claim is gone before the first retry, which runs the handler.
    RequestLog log;
    auto sim = run_checked(scenario + ", lease: 500ms}" + crash, {&log});
    EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::idempotency_conflicts), 0u);
    EXPECT_EQ(log.count(Outcome::completed, Reason::none), 1u);
  }
}

// A claim the store made but whose answer never reached the service (lost on the way back): the
// service gave up on it, so it neither runs the handler nor releases the claim, and the key
// stays in progress until the lease ends it. The answers from the store are cut for the first
// 500 ms; the client retries after 1 s and 2 s more.
TEST(Idempotency, AClaimWhoseAnswerWasLostBlocksTheKeyUntilItsLease) {
  const auto run = [](const std::string& lease) {
    RequestLog log;
    auto sim = run_checked(R"(
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 1
    idempotency_keys: true
    retry: {max_attempts: 3, base: 1s, jitter: none}
    target: api
  api:
    kind: service
    workers: 10
    service_time: 10ms
    idempotency: {store: keys, store_timeout: 20ms, lease: )" +
                               lease + R"(}
  keys: {kind: kv_store}
faults:
  cut: {kind: partition, targets: [api], from: [keys], direction: one_way, at: 0s, duration: 500ms}
)",
                           {&log});
    EXPECT_EQ(log.entries.size(), 1u);
    return std::make_pair(log.entries.empty() ? Finished{} : log.entries[0],
                          metrics_of(*sim, "api").counter(Counter::idempotency_conflicts));
  };
  {
    // Lease 2 s: the retry 1 s later conflicts, the one 2 s after that finds the claim gone.
    const auto [f, conflicts] = run("2s");
    EXPECT_EQ(f.outcome, Outcome::completed);
    EXPECT_EQ(conflicts, 1u);
  }
  {
    // No lease: the key is blocked for the rest of the run.
    const auto [f, conflicts] = run("0s");
    EXPECT_EQ(f.outcome, Outcome::dropped);
    EXPECT_EQ(f.reason, Reason::conflict);
    EXPECT_EQ(conflicts, 2u);
  }
}

TEST(IdempotencyErrors, LatencyBelongsToTheInProcessTable) {
  const std::string errors = load_errors(retrying_client(
      "    idempotency: {store: keys, latency: 1ms}\n  keys: {kind: service, service_time: "
      "1ms}\n"));
  EXPECT_NE(errors.find("test.yaml:16:18: error: components.api.idempotency: latency is the "
                        "in-process table's; with a store, the store's own latency applies"),
            std::string::npos)
      << errors;
}

}  // namespace
}  // namespace dsim::test
