// What every component measures about the requests passing through it.
//
// Counters and time-weighted levels since the last reset (the end of warm-up), plus a window part
// that the simulation closes every `window` of simulated time to build time series. Levels (queue
// length, busy workers, requests present) are integrated over time exactly, event by event, so
// Little's law L = lambda * W can be checked on every component.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/histogram.hpp"
#include "core/request.hpp"
#include "core/time.hpp"

namespace dsim {

// Time-weighted mean and maximum of a piecewise-constant integer level.
//
// The area under the level (level x nanoseconds) is summed exactly in 128-bit integers, once:
// the means since the last reset and over the current window are differences from the area
// at those instants. An update is an integer multiply-add (the level changes several times per
// event, so this is on the hottest path), and no rounding accumulates over long runs.
class TimeWeightedLevel {
 public:
  void set(Time now, int64_t level) {
    area_ += static_cast<Area>(level_) * (now - last_).count_ns();
    last_ = now;
    level_ = level;
    if (level > max_) max_ = level;
    if (level > window_max_) window_max_ = level;
  }
  void add(Time now, int64_t delta) { set(now, level_ + delta); }
  int64_t level() const { return level_; }
  int64_t max() const { return max_; }
  int64_t window_max() const { return window_max_; }
  // Mean over [since, now], since being the last reset.
  double mean(Time since, Time now) const { return mean_from(reset_area_, since, now); }
  // Mean over [window start, now].
  double window_mean(Time now) const { return mean_from(window_area_, window_start_, now); }
  void reset(Time now) {
    set(now, level_);
    reset_area_ = area_;
    max_ = level_;
  }
  void reset_window(Time now) {
    set(now, level_);
    window_area_ = area_;
    window_start_ = now;
    window_max_ = level_;
  }

 private:
  __extension__ using Area = __int128;
  double mean_from(Area start_area, Time since, Time now) const {
    const int64_t span = (now - since).count_ns();
    if (span <= 0) return static_cast<double>(level_);
    const Area total = area_ - start_area + static_cast<Area>(level_) * (now - last_).count_ns();
    return static_cast<double>(total) / static_cast<double>(span);
  }

  // What set() touches first, together in one cache line; the rest is read only at resets
  // and when a window closes.
  Area area_ = 0;  // since time zero
  Time last_;
  int64_t level_ = 0;
  int64_t max_ = 0;
  int64_t window_max_ = 0;
  Area reset_area_ = 0;   // area_ at the last reset
  Area window_area_ = 0;  // area_ at the start of the window
  Time window_start_;
};

// Events that only some kinds produce, counted per component and per window. One enum (like
// Reason) keeps them flat arrays on the hot path; outputs show the ones a component used.
enum class Counter : uint8_t {
  calls,                  // logical calls this component made (before retries)
  retries,                // extra attempts after a failed one
  timeouts,               // attempts this component stopped waiting for
  retry_budget_denied,    // retries the retry budget refused
  breaker_opened,         // circuit breaker: closed or half-open -> open
  breaker_half_opened,    // open -> half-open
  breaker_closed,         // half-open -> closed
  breaker_rejected,       // attempts refused by an open breaker
  bulkhead_rejected,      // attempts refused by a full bulkhead
  degraded,               // answers served by a fallback
  rate_limited,           // requests this component refused with a 429
  redeliveries,           // messages delivered again after a visibility timeout or failure
  dead_lettered,          // messages moved to a dead-letter queue
  duplicates,             // side effects executed again for an already processed key
  duplicates_suppressed,  // repeated keys recognised and not executed again
  cache_hits,
  cache_misses,
  cache_evictions,
  coalesced,         // misses that waited for a fill already in progress
  stale_reads,       // reads from a replica behind the primary for the key
  failovers,         // primary database failovers
  health_ejections,  // backends taken out by failed health checks
  health_restorations,
  limiter_store_failures,  // shared rate-limit checks whose call to their store failed
  cache_expirations,       // cache entries removed because their ttl ran out (not for room)
  network_lost,            // messages this component sent that the network lost
  network_refused,         // messages this component sent that the network refused
  network_duplicated,      // requests this component sent that the network delivered twice
  // repeats refused with reason conflict: their key's first run was still in progress
  idempotency_conflicts,
  kCount
};
inline constexpr int kCounterCount = static_cast<int>(Counter::kCount);
const char* to_string(Counter c);

// Levels that only some kinds have, integrated over time like the queue length.
enum class Gauge : uint8_t {
  outstanding_calls,   // calls made by this component still awaiting an answer
  dlq_depth,           // messages in the dead-letter queue
  consumers,           // consumer workers (autoscaling)
  breaker_state,       // 0 closed, 1 open, 2 half-open (of the component's first breaker)
  replication_lag_ms,  // replica behind primary (sampled at each write)
  disk_used_bytes,
  memory_used_bytes,
  healthy_backends,    // a load balancer's backends in rotation (not ejected by health checks)
  messages_in_flight,  // queue: messages received by a consumer and not yet settled
  blocked_publishers,  // queue with when_full: backpressure: publishes waiting for room
  cache_entries,       // entries held by a cache
  kCount
};
inline constexpr int kGaugeCount = static_cast<int>(Gauge::kCount);
const char* to_string(Gauge g);

struct OutcomeCounters {
  uint64_t completed = 0;
  std::array<uint64_t, kReasonCount> failed{};
  std::array<uint64_t, kReasonCount> dropped{};
  uint64_t dead_lettered = 0;

  uint64_t total_failed() const;
  uint64_t total_dropped() const;
};

class StationMetrics {
 public:
  void on_arrival(Time now) {
    ++arrivals_;
    ++window_arrivals_;
    in_system_.add(now, +1);
  }
  // A request leaves after being served; sojourn = time since it arrived here.
  void on_served(Time now, Time sojourn) {
    ++served_;
    ++window_served_;
    latency_.record_summary(sojourn.count_ns());  // its buckets follow the window's
    // The window histogram's summary now, its bucket in a batch: the bucket increment is a
    // likely cache miss (60 KB of buckets per histogram), which stalls the hop that makes it;
    // a batch of them, made together, overlap.
    window_latency_.record_summary(sojourn.count_ns());
    pending_buckets_[pending_count_++] =
        static_cast<uint16_t>(LatencyHistogram::index_of(std::max<int64_t>(sojourn.count_ns(), 0)));
    if (pending_count_ == kPendingBuckets) count_pending_buckets();
    in_system_.add(now, -1);
  }
  // A request passes straight through (a source emitting, a sink absorbing): counted, but with
  // no sojourn to measure and nothing held, so no histogram or level work on the hot path.
  void on_pass_through() {
    ++arrivals_;
    ++served_;
    ++window_arrivals_;
    ++window_served_;
  }
  // A request starts service after waiting `wait` (zero when a worker was free on arrival).
  void on_service_start(Time wait) {
    wait_.record(wait.count_ns());
    if (wait > Time::zero()) ++waited_;
  }
  // A request leaves without being served (dropped, failed...).
  void on_lost(Time now, Outcome outcome, Reason reason) {
    if (outcome == Outcome::dropped) {
      ++dropped_[static_cast<int>(reason)];
    } else {
      ++failed_[static_cast<int>(reason)];
    }
    ++window_lost_;
    ++window_lost_by_reason_[static_cast<int>(reason)];
    in_system_.add(now, -1);
  }
  // Requests counted "here" that never entered (rejected at the door) are arrivals and losses;
  // use on_arrival + on_lost so that L = lambda * W stays exact.

  void count(Counter c, uint64_t n = 1) {
    counters_[static_cast<int>(c)] += n;
    window_counters_[static_cast<int>(c)] += n;
  }
  uint64_t counter(Counter c) const { return counters_[static_cast<int>(c)]; }
  uint64_t window_counter(Counter c) const { return window_counters_[static_cast<int>(c)]; }
  const std::array<uint64_t, kCounterCount>& counters() const { return counters_; }
  const std::array<uint64_t, kCounterCount>& window_counters() const { return window_counters_; }
  TimeWeightedLevel& gauge(Gauge g) {
    used_gauges_ |= 1u << static_cast<int>(g);
    return gauges_[static_cast<int>(g)];
  }
  const TimeWeightedLevel& gauge(Gauge g) const { return gauges_[static_cast<int>(g)]; }
  bool uses(Gauge g) const { return used_gauges_ & (1u << static_cast<int>(g)); }

  void reset(Time now);  // end of warm-up: start counting afresh, keep the levels
  void reset_window(Time now);

  TimeWeightedLevel& queue() { return queue_; }
  TimeWeightedLevel& busy() { return busy_; }
  TimeWeightedLevel& capacity() { return capacity_; }
  const TimeWeightedLevel& queue() const { return queue_; }
  const TimeWeightedLevel& busy() const { return busy_; }
  const TimeWeightedLevel& capacity() const { return capacity_; }
  const TimeWeightedLevel& in_system() const { return in_system_; }

  uint64_t arrivals() const { return arrivals_; }
  uint64_t served() const { return served_; }
  const std::array<uint64_t, kReasonCount>& dropped() const { return dropped_; }
  const std::array<uint64_t, kReasonCount>& failed() const { return failed_; }
  const LatencyHistogram& latency() const {
    take_window_buckets();
    return latency_;
  }
  const LatencyHistogram& wait() const { return wait_; }
  uint64_t waited() const { return waited_; }  // service starts that had to wait
  const LatencyHistogram& window_latency() const {
    count_pending_buckets();
    return window_latency_;
  }
  uint64_t window_arrivals() const { return window_arrivals_; }
  uint64_t window_served() const { return window_served_; }
  uint64_t window_lost() const { return window_lost_; }
  const std::array<uint64_t, kReasonCount>& window_lost_by_reason() const {
    return window_lost_by_reason_;
  }
  Time since() const { return since_; }

 private:
  // A request's arrival and departure touch the fields from here to the histograms' summaries
  // on every hop: they come first, side by side, so that they share a few cache lines (the
  // histograms' buckets are on the heap).
  uint64_t arrivals_ = 0;
  uint64_t served_ = 0;
  uint64_t window_arrivals_ = 0;
  uint64_t window_served_ = 0;
  uint64_t window_lost_ = 0;
  uint64_t waited_ = 0;  // service starts that had to wait
  uint32_t used_gauges_ = 0;
  // Sojourns in window_latency_'s summary but not yet in its buckets (their bucket indices),
  // counted when the batch is full and before anything reads the buckets.
  static constexpr int kPendingBuckets = 16;
  mutable uint32_t pending_count_ = 0;
  mutable std::array<uint16_t, kPendingBuckets> pending_buckets_{};
  void count_pending_buckets() const {
    window_latency_.add_to_buckets(pending_buckets_.data(), static_cast<int>(pending_count_));
    pending_count_ = 0;
  }
  mutable LatencyHistogram window_latency_;
  // Latency since the last reset. A sojourn is put in a bucket of the window's histogram only,
  // not in two (on the hot path, each bucket is a likely cache miss): this one's buckets take
  // over the window's new values when it is read and when the window closes.
  void take_window_buckets() const {
    count_pending_buckets();
    latency_.add_buckets_since(window_latency_, window_taken_);
    window_taken_ = window_latency_;
  }
  mutable LatencyHistogram latency_;
  LatencyHistogram wait_;        // arrival to service start
  TimeWeightedLevel in_system_;  // waiting + in service: the L of Little's law
  TimeWeightedLevel busy_;       // workers serving
  TimeWeightedLevel queue_;      // waiting, not in service
  std::array<uint64_t, kCounterCount> counters_{};
  std::array<uint64_t, kCounterCount> window_counters_{};
  std::array<TimeWeightedLevel, kGaugeCount> gauges_{};
  TimeWeightedLevel capacity_;  // workers available (changes live)
  Time since_;
  std::array<uint64_t, kReasonCount> dropped_{};
  std::array<uint64_t, kReasonCount> failed_{};
  std::array<uint64_t, kReasonCount> window_lost_by_reason_{};
  // The part of window_latency_ that latency_ has taken (or that preceded the last reset).
  mutable LatencyHistogram window_taken_;
};

}  // namespace dsim
