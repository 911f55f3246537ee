#include "core/station_metrics.hpp"

#include <iterator>
#include <numeric>

namespace dsim {

const char* to_string(Counter c) {
  static constexpr const char* kNames[] = {"calls",
                                           "retries",
                                           "timeouts",
                                           "retry_budget_denied",
                                           "breaker_opened",
                                           "breaker_half_opened",
                                           "breaker_closed",
                                           "breaker_rejected",
                                           "bulkhead_rejected",
                                           "degraded",
                                           "rate_limited",
                                           "redeliveries",
                                           "dead_lettered",
                                           "duplicates",
                                           "duplicates_suppressed",
                                           "cache_hits",
                                           "cache_misses",
                                           "cache_evictions",
                                           "coalesced",
                                           "stale_reads",
                                           "failovers",
                                           "health_ejections",
                                           "health_restorations",
                                           "limiter_store_failures",
                                           "cache_expirations",
                                           "network_lost",
                                           "network_refused",
                                           "network_duplicated",
                                           "idempotency_conflicts"};
  static_assert(std::size(kNames) == kCounterCount);
  return kNames[static_cast<int>(c)];
}

const char* to_string(Gauge g) {
  static constexpr const char* kNames[] = {
      "outstanding_calls",  "dlq_depth",          "consumers",         "breaker_state",
      "replication_lag_ms", "disk_used_bytes",    "memory_used_bytes", "healthy_backends",
      "messages_in_flight", "blocked_publishers", "cache_entries"};
  static_assert(std::size(kNames) == kGaugeCount);
  return kNames[static_cast<int>(g)];
}

uint64_t OutcomeCounters::total_failed() const {
  return std::accumulate(failed.begin(), failed.end(), uint64_t{0});
}
uint64_t OutcomeCounters::total_dropped() const {
  return std::accumulate(dropped.begin(), dropped.end(), uint64_t{0});
}

void StationMetrics::reset(Time now) {
  since_ = now;
  arrivals_ = 0;
  served_ = 0;
  dropped_.fill(0);
  failed_.fill(0);
  latency_.reset();
  count_pending_buckets();
  window_taken_ = window_latency_;  // the window's values so far precede the reset
  wait_.reset();
  waited_ = 0;
  queue_.reset(now);
  busy_.reset(now);
  capacity_.reset(now);
  in_system_.reset(now);
  counters_.fill(0);
  for (TimeWeightedLevel& g : gauges_) g.reset(now);
}

void StationMetrics::reset_window(Time now) {
  window_arrivals_ = 0;
  window_served_ = 0;
  window_lost_ = 0;
  window_lost_by_reason_.fill(0);
  take_window_buckets();
  window_latency_.reset();
  window_taken_.reset();
  queue_.reset_window(now);
  busy_.reset_window(now);
  capacity_.reset_window(now);
  in_system_.reset_window(now);
  window_counters_.fill(0);
  for (TimeWeightedLevel& g : gauges_) g.reset_window(now);
}

}  // namespace dsim
