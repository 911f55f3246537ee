// Idempotency keys: a service with an idempotency store answers repeats without running its
// handler again; without one, the repeats' side effects are counted as duplicates.
//
// Repeats come from client retries: the client gives up after 150 ms on a 200 ms service and
// retries 10 ms later with the same key, while the first attempt is still running.
#include "components/idempotency.hpp"

#include <gtest/gtest.h>

#include "components/component_support.hpp"

namespace dsim::test {
namespace {

std::string retrying_client(const std::string& api_extra) {
  return R"(
duration: 10s
components:
  users:
    kind: source
    arrivals: {constant: 10/s}
    max_requests: 20
    idempotency_keys: true
    timeout: 150ms
    retry: {max_attempts: 2, base: 10ms, jitter: none}
    target: api
  api:
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

TEST(Idempotency, AStoreAnswersRepeatsWithoutRunningTheHandler) {
  RequestLog log;
  auto sim = run_checked(retrying_client("    idempotency: {}\n"), {&log});
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.arrivals(), 40u);
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 20u);
  EXPECT_EQ(api.counter(Counter::duplicates), 0u);
  // The retry at 160 ms is recognised at once and answered: the request succeeds.
  EXPECT_EQ(log.count(Outcome::completed, Reason::none), 20u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(160).count_ns());
  }
}

TEST(Idempotency, TheLookupTakesItsLatencyOnTheWorker) {
  RequestLog log;
  auto sim = run_checked(retrying_client("    idempotency: {latency: 5ms}\n"), {&log});
  for (const Finished& f : log.entries) {
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(165).count_ns());
  }
  EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates_suppressed), 20u);
}

// Keys forgotten too early let repeats through: with a TTL shorter than the retry delay every
// repeat slips through and is counted.
TEST(Idempotency, AKeyForgottenBeforeTheRepeatLetsItThrough) {
  auto sim = run_checked(retrying_client("    idempotency: {ttl: 100ms}\n"));
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 0u);
  EXPECT_EQ(api.counter(Counter::duplicates), 20u);
}

TEST(ProcessedKeys, ForgetsTheOldestBeyondCapacity) {
  ProcessedKeys keys(3, Time::zero());
  for (uint64_t k = 1; k <= 4; ++k) keys.record(k, Time::ms(static_cast<int64_t>(k)));
  EXPECT_FALSE(keys.contains(1, Time::ms(5)));
  EXPECT_TRUE(keys.contains(2, Time::ms(5)));
  EXPECT_TRUE(keys.contains(4, Time::ms(5)));
  keys.forget(3);
  EXPECT_FALSE(keys.contains(3, Time::ms(5)));
  EXPECT_EQ(keys.size(), 2u);
}

TEST(ProcessedKeys, ForgetsAfterTheTtl) {
  ProcessedKeys keys(INT64_MAX, Time::ms(10));
  keys.record(7, Time::ms(0));
  EXPECT_TRUE(keys.contains(7, Time::ms(9)));
  EXPECT_FALSE(keys.contains(7, Time::ms(10)));
}

// A handler that fails forgets its key, so that the retry does the work.
TEST(Idempotency, AFailedRunDoesNotBlockItsRetry) {
  RequestLog log;
  auto sim = run_checked(R"(
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
    idempotency: {}
    handler:
      - call: payments
        timeout: 50ms
  payments: {kind: service, workers: 10, service_time: 80ms}
)",
                         {&log});
  const StationMetrics& api = metrics_of(*sim, "api");
  EXPECT_EQ(api.counter(Counter::duplicates_suppressed), 0u);
  EXPECT_EQ(metrics_of(*sim, "payments").arrivals(), 10u) << "the retry called payments again";
}

// The store can be another component: each check is a call to it, with its latency and its
// failures.
std::string with_store(const std::string& on_failure, const std::string& store_time) {
  return retrying_client(
      R"(    idempotency: {store: keys, store_timeout: 20ms, on_store_failure: )" + on_failure +
      R"(}
  keys: {kind: service, workers: 10, service_time: )" +
      store_time + "}\n");
}

TEST(Idempotency, ARemoteStoreAddsItsRoundTrip) {
  RequestLog log;
  auto sim = run_checked(with_store("reject", "3ms"), {&log});
  EXPECT_EQ(metrics_of(*sim, "keys").arrivals(), 40u);
  EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates_suppressed), 20u);
  for (const Finished& f : log.entries) {
    EXPECT_EQ((f.finished - f.created).count_ns(), Time::ms(163).count_ns());
  }
}

TEST(Idempotency, AnUnreachableStoreRejectsOrProceedsAsConfigured) {
  {
    RequestLog log;
    auto sim = run_checked(with_store("reject", "1s"), {&log});
    EXPECT_EQ(metrics_of(*sim, "api").served(), 0u);
    EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates), 0u);
    EXPECT_EQ(log.count(Outcome::failed, Reason::timeout), 20u);
  }
  {
    auto sim = run_checked(with_store("proceed", "1s"));
    EXPECT_EQ(metrics_of(*sim, "api").served(), 40u);
    EXPECT_EQ(metrics_of(*sim, "api").counter(Counter::duplicates), 20u);
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
