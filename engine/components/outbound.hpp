// Outbound: the calling side of a component, which carries out a CallPolicy.
//
// A component registers one site per place it calls from (a handler step, a cache's backing
// store, a load balancer's backend...) and then starts logical calls ("exchanges") on a site.
// Each exchange makes attempts until one succeeds, the retry policy gives up, the budget says no
// or the parent's deadline passes; then - possibly after a fallback - the owner's on_call_done
// receives the token it gave and one final Reply. Attempts go through the site's circuit breaker
// and bulkhead, time out at the policy's timeout (the callee is abandoned, not cancelled) and
// wait between tries as the backoff and jitter say.
//
// Replies may arrive synchronously, inside call(): a callee that refuses at once answers before
// call() returns. Owners must therefore record what they need before calling and must not
// assume anything is still pending afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "components/call_policy.hpp"
#include "core/call.hpp"
#include "core/component.hpp"
#include "core/free_list.hpp"
#include "core/random.hpp"
#include "core/ring_queue.hpp"

namespace dsim {

class Simulation;

class CallOwner {
 public:
  static constexpr uint32_t kNoSite = UINT32_MAX;
  virtual ~CallOwner() = default;
  // The final answer of an exchange started with Outbound::call(token).
  virtual void on_call_done(Simulation& sim, uint64_t token, const Reply& reply) = 0;
  // The site a retry of exchange `token` goes to, asked just before the retry is made (after the
  // backoff) with the site of the attempt that failed. A load balancer answers with another
  // backend; kNoSite ends the exchange with reason unavailable (nowhere left to try).
  virtual uint32_t retry_site(Simulation&, uint64_t /*token*/, uint32_t failed_site) {
    return failed_site;
  }
};

// Count-based circuit breaker (see CircuitBreakerSpec).
class CircuitBreaker {
 public:
  enum class State : uint8_t { closed, open, half_open };
  explicit CircuitBreaker(const CircuitBreakerSpec& spec) : spec_(spec) {}
  // May an attempt start now? (Moves open -> half-open once open_duration has passed.)
  bool permit(Time now, StationMetrics& m);
  // The result of an attempt that was permitted in `epoch`; results from before the last state
  // change are ignored.
  void record(Time now, uint32_t epoch, bool failed, bool slow, StationMetrics& m);
  State state() const { return state_; }
  uint32_t epoch() const { return epoch_; }

 private:
  void transition(Time now, State to, StationMetrics& m);
  const CircuitBreakerSpec& spec_;
  State state_ = State::closed;
  uint32_t epoch_ = 0;
  Time opened_at_;
  // The last `window` outcomes as a ring, with running totals.
  std::vector<uint8_t> ring_;  // bit 0 failed, bit 1 slow
  size_t next_ = 0;
  int64_t recorded_ = 0, failures_ = 0, slow_ = 0;
  int64_t probes_started_ = 0, probes_done_ = 0, probe_failures_ = 0, probe_slow_ = 0;
};

// Sliding-window retry budget: calls and retries counted in ten buckets spanning `window`.
class RetryBudget {
 public:
  explicit RetryBudget(const RetryBudgetSpec& spec) : spec_(spec) {}
  void on_call(Time now) { bucket(now).calls++; }
  bool allow_retry(Time now);  // and counts it when allowed

 private:
  struct Bucket {
    int64_t index = -1;
    uint64_t calls = 0, retries = 0;
  };
  Bucket& bucket(Time now);
  const RetryBudgetSpec& spec_;
  Bucket buckets_[10];
};

class Outbound {
 public:
  // Event kinds at and above this value belong to the Outbound; owners pass them on.
  static constexpr uint32_t kFirstEventKind = 0xFFFF0000u;

  Outbound(Component& owner, CallOwner& callback) : owner_(owner), callback_(callback) {
    owner.keep_param_copies(
        {[](void* self) { static_cast<Outbound*>(self)->reload_params(); }, this});
  }
  Outbound(const Outbound&) = delete;
  Outbound& operator=(const Outbound&) = delete;

  // Registers a call site; `policy` must outlive the Outbound (it lives in the params). Returns
  // the site's index.
  uint32_t add_site(const CallPolicy& policy, uint32_t target, uint16_t op, std::string name);
  void start(Simulation& sim);  // draws the sites' random streams
  // The sites' copies of their policies' fields, again (timeout and bulkhead are live).
  void reload_params();

  // Starts an exchange on behalf of `request`; `parent_deadline` is the instant the component's
  // own caller gives up (if propagated). Returns an id for cancel().
  uint64_t call(Simulation& sim, uint32_t site, RequestHandle request, Time parent_deadline,
                uint64_t token);
  // Stops an exchange: its attempt in progress is abandoned and on_call_done is never called.
  void cancel(Simulation& sim, uint64_t id);

  // The owner's process restarted (a crash, faults/fault_hooks.hpp): its memory is gone. Every
  // exchange still in progress is cancelled as by cancel(), and every site's circuit breaker is
  // closed with an empty window and its retry budget empty, as at the start of the run.
  void reset(Simulation& sim);

  bool owns(const Event& e) const { return e.kind >= kFirstEventKind; }
  void on_event(Simulation& sim, const Event& e);
  void on_reply(Simulation& sim, CallHandle h, const Reply& r);

  size_t site_count() const { return sites_.size(); }
  uint32_t target(uint32_t site) const { return sites_[site].target; }
  const CircuitBreaker* breaker(uint32_t site) const { return sites_[site].breaker(); }
  uint64_t outstanding(uint32_t site) const { return sites_[site].outstanding; }
  size_t exchanges_in_progress() const { return live_; }

 private:
  enum EventKind : uint32_t { kTimeout = kFirstEventKind, kRetry, kFallback, kSiteTimeouts };
  // An attempt's timeout. A site's attempts share one timeout, so their deadlines come in order:
  // they wait in a FIFO with one event pending for the earliest, instead of one event each in
  // the simulation's heap - most attempts are answered long before their timeout.
  struct PendingTimeout {
    Time at;
    uint32_t slot;
    uint32_t serial;
  };
  // A site's circuit breaker and retry budget, for the policies that have them: one pointer in
  // the Site's hot line for both.
  struct Guards {
    std::unique_ptr<CircuitBreaker> breaker;
    std::unique_ptr<RetryBudget> budget;
  };
  // Every attempt and every answer reads or writes the fields up to propagate_deadline: they
  // fill one cache line. Each component's sites are touched between many other components' work
  // - and the policies, in the scenario's parameters, even less often - so a field outside that
  // line is a likely cache miss per call. Hence the copies of the policy fields every attempt
  // reads, taken again after a live change (reload_params).
  struct alignas(64) Site {
    std::unique_ptr<Guards> guards;  // null when the policy has neither breaker nor budget
    int32_t outstanding = 0;
    uint32_t target;
    // The `at` of the last timeout queued: whether the next one comes in order, without a look
    // at the FIFO's last entry.
    Time last_timeout_at;
    RingQueue<PendingTimeout> timeouts;
    Time timeout;      // policy->timeout (zero: none)
    int32_t bulkhead;  // policy->bulkhead, at most INT32_MAX (as good as unlimited)
    uint16_t op;
    bool timer_armed : 1 = false;  // a kSiteTimeouts event is pending (or being handled)
    bool propagate_deadline : 1;   // policy->propagate_deadline
    // The timeout was lowered live: a new attempt's timeout may come before the timer armed
    // for the old, longer one, which must then be armed again (timer_at).
    bool timeout_lowered : 1 = false;
    // Cold: read when the site is made, when an attempt fails and when the timer fires.
    const CallPolicy* policy;
    Time timer_at;                  // when the pending kSiteTimeouts event is due
    uint32_t timer_generation = 0;  // of that event: an earlier one re-armed replaces it
    std::string name;
    Rng rng;

    void copy_policy();  // the copies above, from *policy
    CircuitBreaker* breaker() const { return guards ? guards->breaker.get() : nullptr; }
    RetryBudget* budget() const { return guards ? guards->budget.get() : nullptr; }
  };
  struct Exchange {
    RequestHandle request = 0;
    uint32_t free_next = 0;  // while the slot is free (FreeList)
    uint64_t token = 0;
    Time parent_deadline = Time::max();
    CallHandle call = 0;
    uint32_t site = 0;
    uint32_t serial = 0;      // changes with every attempt and on release: stale timers and replies
    uint32_t generation = 0;  // changes with every reuse of the slot: ids for cancel()
    uint32_t breaker_epoch = 0;
    uint16_t attempt = 0;
    bool waiting = false;  // an attempt is in progress
    bool live = false;
  };

  void attempt(Simulation& sim, uint32_t slot);
  void time_out(Simulation& sim, uint32_t slot);
  void expire_site_timeouts(Simulation& sim, uint32_t site);
  void arm_site_timer(Simulation& sim, uint32_t site);
  void schedule_site_timer(Simulation& sim, uint32_t site, Time at);
  bool still_waiting(const PendingTimeout& t) const {
    const Exchange& ex = exchanges_[t.slot];
    return ex.live && ex.waiting && ex.serial == t.serial;
  }
  void attempt_ended(Simulation& sim, uint32_t slot, bool failed);
  void drop_answered_timeouts(Site& site, uint32_t slot, uint32_t serial);
  void failed(Simulation& sim, uint32_t slot, Reason reason, Time retry_after, bool own_refusal,
              uint32_t origin);
  Time backoff(uint32_t slot, Site& site);
  void complete(Simulation& sim, uint32_t slot, const Reply& reply);
  void release(Simulation& sim, uint32_t slot);
  void set_outstanding(Simulation& sim, Site& site, int64_t delta);

  Component& owner_;
  CallOwner& callback_;
  std::vector<Site> sites_;
  std::vector<Exchange> exchanges_;
  // Per exchange slot, the last retry wait, for decorrelated jitter (which draws the next wait
  // from it): kept beside the exchanges, and only when some site uses that jitter, so that the
  // record every call in flight holds stays small.
  std::vector<Time> last_sleep_;
  bool decorrelated_ = false;
  FreeList free_;
  size_t live_ = 0;
  int64_t total_outstanding_ = 0;
};

}  // namespace dsim
