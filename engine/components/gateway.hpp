// gateway: the front door. Validates each request, applies rate limits, routes it by path and
// class to a backend and relays the backend's answer.
//
//   1. validation and auth: `auth_time` on one of `workers` (a queue of `queue_capacity` in
//      front, queue_full beyond it). A zero auth_time skips this stage.
//   2. rate limits: every limiter that applies to the request's class is checked in list order;
//      the first refusal answers rate_limited (HTTP 429) with the limiter's exact retry_after.
//      A limiter with `store:` keeps its state in that kv_store: the check is a call to it (its
//      latency, its queue, its failures); when that call fails, `on_store_failure` decides.
//      The limiters read the gateway's own clock (clock_skew shifts their windows and paces
//      their buckets); a shared one passes the gateway's reading to the store with the check.
//   3. routing: the first route that matches is called under its own call policy (timeout,
//      retries...), and its answer is relayed. A route matches by path prefix (segment by
//      segment), by class, by both, or takes everything; no match fails the request with error
//      (a 404). A request's path is its source's: each route's set of matching sources is
//      worked out at start, so routing compares no text.
//
// Like an event-driven proxy (Envoy, nginx), the gateway holds a worker only while it validates:
// store round trips and backend calls wait without occupying one.
//
// A crash fails every request the gateway holds - waiting for a worker, being validated, waiting
// for a limiter's store or for its backend - at the crash instant (`unavailable`, or no answer
// at all in crash mode hang), and abandons its own calls: a late answer from a store or backend
// reaches nobody. The restarted process starts with fresh local limiters (as at the start of the
// run: token buckets full, window counts zero); limiters kept in a store keep their state there.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "components/call_policy.hpp"
#include "components/outbound.hpp"
#include "components/rate_limiter.hpp"
#include "components/wait_queue.hpp"
#include "core/component.hpp"
#include "core/free_list.hpp"
#include "core/params.hpp"
#include "core/request.hpp"

namespace dsim {

struct GatewayRouteSpec : ParamGroup {
  static constexpr const char* kElementName = "gateway_route";
  std::string path;      // a path prefix (request_path.hpp); empty: any path, or none
  std::string workload;  // `class`; empty: every class
  TargetRef to;
  std::string op;
  CallPolicy policy;
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

struct RateLimiterSpec : ParamGroup {
  static constexpr const char* kElementName = "rate_limiter";
  int algorithm = 0;  // kAlgorithmNames
  double rate = 0;    // required by token_bucket (check)
  int64_t burst = 1;
  int64_t limit = 1;         // required by the window algorithms (check)
  Time window = Time::s(1);  // required by the window algorithms (check)
  int by = 1;                // kByNames
  std::string workload;      // `class`; empty: every class
  TargetRef store;
  std::string key_prefix;
  Time store_timeout = Time::zero();
  int on_store_failure = 0;  // kFailureNames
  CallPolicy store_call;     // derived from store_timeout for the call to the store

  static constexpr const char* kAlgorithmNames[] = {
      "token_bucket", "fixed_window", "sliding_window_log", "sliding_window_counter", nullptr};
  static constexpr const char* kByNames[] = {"global", "user", "api_key", "ip", nullptr};
  static constexpr const char* kFailureNames[] = {"fail_open", "fail_closed", nullptr};
  enum Failure { fail_open, fail_closed };

  void describe(ParamVisitor& v) override;
  std::string check() override;
  RateLimitConfig config() const;
  bool shared() const { return !store.name.empty(); }
};

struct GatewayParams : ParamsOf<GatewayParams> {
  int64_t workers = 1;
  int64_t queue_capacity = INT64_MAX;
  Distribution auth_time;  // zero: no validation stage
  int64_t api_keys = INT64_MAX;
  int64_t users_per_ip = 1;
  ParamList<RateLimiterSpec> limiters;
  ParamList<GatewayRouteSpec> routes;

  void describe(ParamVisitor& v) override;
  std::string check(const std::vector<std::string>& given) override;
  KeyMapping key_mapping(const RateLimiterSpec& l) const;
};

class Gateway final : public Component, public CallOwner {
 public:
  Gateway(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_reply(Simulation& sim, CallHandle h, const Reply& r) override;
  void on_call_done(Simulation& sim, uint64_t token, const Reply& reply) override;
  void on_params_changed(Simulation& sim, const std::string& param) override;
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;

  const GatewayParams& config() const { return p_; }
  const Outbound& outbound() const { return out_; }

 private:
  enum EventKind : uint32_t { kValidated = 0 };
  static constexpr uint32_t kAnyClass = UINT32_MAX;
  // One request past the queue: being validated, checking limits, then waiting for its backend.
  struct Task {
    CallHandle call = 0;
    uint32_t serial = 0;        // changes when the task ends: stale events and answers
    uint32_t next_limiter = 0;  // the limiter to check next, or the one being checked + 1
    uint32_t calls = 0;         // exchanges started (store checks, then the backend call)
    uint64_t exchange = 0;      // the latest of them (if calls > 0): a crash cancels it
    uint32_t free_next = 0;     // while the slot is free (FreeList)
    bool validating = false;    // on a worker (auth_time)
    bool routed = false;        // the backend call has started
    bool live = false;
  };
  struct Limiter {
    std::unique_ptr<RateLimiter> local;  // null when the state lives in a store
    KeyMapping keys;
    uint32_t workload = kAnyClass;
    uint32_t site = 0;  // shared: the Outbound site calling the store
  };

  bool has_validation() const;
  uint32_t new_task(CallHandle h);
  void begin_validation(Simulation& sim, CallHandle h);
  void pull_from_queue(Simulation& sim);
  void update_capacity(Simulation& sim);
  void validated(Simulation& sim, uint32_t slot);
  void check_limits(Simulation& sim, uint32_t slot);
  void start_call(Simulation& sim, uint32_t slot, uint32_t site);
  void route(Simulation& sim, uint32_t slot);
  void end_task(Simulation& sim, uint32_t slot, const Reply& reply);
  void respond(Simulation& sim, CallHandle h, const Reply& reply);

  GatewayParams& p_;
  Outbound out_{*this, *this};
  WaitQueue waiting_;
  std::vector<Limiter> limiters_;
  // What a route takes, resolved at start: the class, and for a route with a path, which
  // components' requests have a path under its prefix (indexed by Request::source).
  struct RouteMatch {
    uint32_t workload = kAnyClass;
    bool by_path = false;
    std::vector<bool> sources;  // by_path: matching sources
    bool takes(const Request& r) const {
      if (workload != kAnyClass && r.workload != workload) return false;
      return !by_path || (r.source < sources.size() && sources[r.source]);
    }
  };
  std::vector<RouteMatch> routes_;
  std::vector<Task> tasks_;
  FreeList free_tasks_;
  Rng validation_rng_;
  int64_t busy_ = 0;
  bool pulling_ = false;
};

}  // namespace dsim
