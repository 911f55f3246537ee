#include "components/gateway.hpp"

#include <algorithm>

#include "components/kv_store.hpp"
#include "components/source.hpp"
#include "core/request_path.hpp"
#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

// --- Parameters --------------------------------------------------------------------------------

void GatewayRouteSpec::describe(ParamVisitor& v) {
  v.text({"path", "path",
          "Requests whose path (their source's `path`) starts with this prefix, segment by "
          "segment: /orders takes /orders and /orders/42, not /orders-v2; / takes every path. "
          "Requests without a path never match. Absent: any path, or none."},
         path);
  v.text({"class", "name",
          "Requests of this workload take this route (with `path`: they must match both). "
          "Absent: every class. A route with neither takes every request and must come last."},
         workload);
  v.target({"to", "component", "The backend that serves these requests.", true}, to);
  v.text({"op", "name", "Operation at the backend. Absent: the backend's default."}, op);
  policy.describe(v);
}

std::string GatewayRouteSpec::check() {
  to.op = op;
  return {};
}

void RateLimiterSpec::describe(ParamVisitor& v) {
  v.choice({"algorithm", "choice",
            "token_bucket (rate, burst), fixed_window, sliding_window_log or "
            "sliding_window_counter (limit, window).",
            true},
           algorithm, kAlgorithmNames);
  v.rate({"rate", "rate", "token_bucket (required): tokens added per second."}, rate);
  v.count({"burst", "count", "token_bucket: bucket size, the most requests admitted at once."},
          burst, 1, 1'000'000'000);
  v.count({"limit", "count", "Window algorithms (required): requests admitted per window."}, limit,
          1, 1'000'000'000);
  v.duration({"window", "duration",
              "Window algorithms (required): the window's length, windows aligned on time zero."},
             window);
  v.choice({"by", "choice",
            "What shares a limit: global (all requests), user (the request's key), api_key "
            "(key % api_keys) or ip (key / users_per_ip)."},
           by, kByNames);
  v.text({"class", "name",
          "Apply only to requests of this workload (tiers: one limiter per class). Absent: "
          "every request."},
         workload);
  v.target({"store", "component",
            "A kv_store holding this limiter's state, shared by every gateway that uses the same "
            "store, key_prefix and settings; each check is a call to it. Absent: local state."},
           store);
  v.text({"key_prefix", "name",
          "Store limiters with different prefixes keep separate state (as different Redis keys "
          "would)."},
         key_prefix);
  v.duration({"store_timeout", "duration",
              "How long a check waits for the store (0: for ever) before on_store_failure "
              "applies."},
             store_timeout);
  v.choice({"on_store_failure", "choice",
            "When the store call fails (timeout, unavailable, out of memory): fail_open admits "
            "the request, fail_closed refuses it with reason unavailable."},
           on_store_failure, kFailureNames);
}

std::string RateLimiterSpec::check() {
  const bool bucket = algorithm == static_cast<int>(RateAlgorithm::token_bucket);
  const std::string name = kAlgorithmNames[algorithm];
  if (bucket) {
    if (has("limit") || has("window")) {
      return "token_bucket takes rate and burst; limit and window belong to the window "
             "algorithms";
    }
    if (!has("rate")) return "token_bucket needs 'rate' (tokens per second)";
    if (!(rate > 0)) return "rate must be above zero";
    if (TokenBucket::interval_for(rate) > 1'000'000'000'000'000'000) {
      return "rate is too small: one token in more than 31 years";
    }
  } else {
    if (has("rate") || has("burst")) {
      return name + " takes limit and window; rate and burst belong to token_bucket";
    }
    if (!has("limit") || !has("window")) return name + " needs 'limit' and 'window'";
    if (window <= Time::zero()) return "window must be longer than zero";
  }
  if (store.name.empty()) {
    for (const char* key : {"key_prefix", "store_timeout", "on_store_failure"}) {
      if (has(key)) return std::string("'") + key + "' applies only to a limiter with a store";
    }
  } else {
    store.op = "check_and_incr";  // the topology check then insists on a kv_store
    store_call.timeout = store_timeout;
  }
  return {};
}

RateLimitConfig RateLimiterSpec::config() const {
  RateLimitConfig c;
  c.algorithm = static_cast<RateAlgorithm>(algorithm);
  if (c.algorithm == RateAlgorithm::token_bucket) {
    c.rate = rate;
    c.burst = burst;
  } else {
    c.limit = limit;
    c.window = window;
  }
  return c;
}

void GatewayParams::describe(ParamVisitor& v) {
  v.count({"workers", "count", "Workers validating requests (with auth_time).", false, true},
          workers, 1, 1'000'000);
  v.count({"queue_capacity", "count",
           "Requests that may wait for a worker; beyond it arrivals are refused with "
           "queue_full. `unbounded` for no limit.",
           false, true},
          queue_capacity, 0, INT64_MAX);
  v.distribution({"auth_time", "distribution",
                  "Validation and authentication work per request, on one worker. Absent: no "
                  "validation stage."},
                 auth_time);
  v.count({"api_keys", "count",
           "API keys issued to users round robin: the key of user k is k % api_keys (for "
           "limiters by api_key). `unbounded`: one key per user."},
          api_keys, 1, INT64_MAX);
  v.count({"users_per_ip", "count",
           "Consecutive users sharing one address: the address of user k is k / users_per_ip "
           "(for limiters by ip)."},
          users_per_ip, 1, INT64_MAX);
  v.list({"limiters", "rate limiters",
          "Rate limiters, checked in order after validation; the first refusal answers "
          "rate_limited with retry_after."},
         limiters);
  v.list({"routes", "routes",
          "Where requests go, by path prefix and/or class: `[{path: /orders, to: orders}, "
          "{class: admin, to: backoffice}, {to: catalog}]`; the first matching route, in list "
          "order, is called under its own policy (timeout, retry...). No match: error (a 404).",
          true},
         routes);
}

std::string GatewayParams::check(const std::vector<std::string>& given) {
  const auto gave = [&](const char* key) {
    return std::find(given.begin(), given.end(), key) != given.end();
  };
  if (routes.empty()) return "routes: needs at least one route";
  // First match wins, so a route that an earlier one covers (every request it would take, the
  // earlier one takes first) is never used: almost certainly a mistake in the order.
  const auto covers = [](const GatewayRouteSpec& earlier, const GatewayRouteSpec& later) {
    const bool klass = earlier.workload.empty() || earlier.workload == later.workload;
    const bool path =
        earlier.path.empty() || (!later.path.empty() && path_has_prefix(later.path, earlier.path));
    return klass && path;
  };
  const auto takes = [](const GatewayRouteSpec& r) {
    if (r.path.empty()) return "class '" + r.workload + "'";
    return "path '" + r.path + "'" + (r.workload.empty() ? "" : " of class '" + r.workload + "'");
  };
  for (size_t i = 0; i < routes.items.size(); ++i) {
    const GatewayRouteSpec& r = routes.items[i];
    if (r.workload.empty() && r.path.empty() && i + 1 < routes.items.size()) {
      return "routes[" + std::to_string(i) +
             "] has no path and no class, so it takes every request and the routes after it "
             "are never used; put the default route last";
    }
    for (size_t j = 0; j < i; ++j) {
      if (!covers(routes.items[j], r)) continue;
      if (r.path.empty()) {  // (then so has routes[j], and they have the same class)
        return "routes[" + std::to_string(i) + "]: class '" + r.workload +
               "' is already routed by routes[" + std::to_string(j) + "]";
      }
      return "routes[" + std::to_string(i) + "] (" + takes(r) + ") is never used: routes[" +
             std::to_string(j) + "] (" + takes(routes.items[j]) +
             ") comes first and takes all its requests; put the narrower route first";
    }
  }
  if ((gave("workers") || gave("queue_capacity")) && !gave("auth_time")) {
    return "workers and queue_capacity belong to the validation stage; give auth_time too";
  }
  const auto uses = [&](LimitKey by) {
    return std::any_of(limiters.begin(), limiters.end(),
                       [&](const RateLimiterSpec& l) { return l.by == static_cast<int>(by); });
  };
  if (gave("api_keys") && !uses(LimitKey::api_key)) {
    return "api_keys is used only by limiters with by: api_key, and there is none";
  }
  if (gave("users_per_ip") && !uses(LimitKey::ip)) {
    return "users_per_ip is used only by limiters with by: ip, and there is none";
  }
  return {};
}

KeyMapping GatewayParams::key_mapping(const RateLimiterSpec& l) const {
  KeyMapping k;
  k.by = static_cast<LimitKey>(l.by);
  k.api_keys = api_keys;
  k.users_per_ip = users_per_ip;
  return k;
}

// --- Construction ------------------------------------------------------------------------------

Gateway::Gateway(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "gateway", std::move(params)),
      p_(static_cast<GatewayParams&>(this->params())) {
  for (size_t i = 0; i < p_.routes.items.size(); ++i) {
    const GatewayRouteSpec& r = p_.routes.items[i];
    out_.add_site(r.policy, r.to.index, r.to.op_index,
                  "route" + std::to_string(i) + ":" + r.to.name);
  }
  for (const RateLimiterSpec& spec : p_.limiters) {
    Limiter l;
    l.keys = p_.key_mapping(spec);
    if (!spec.shared()) l.local = make_rate_limiter(spec.config());
    limiters_.push_back(std::move(l));
  }
}

// Shared limiters attach to their store here, when every component exists; the store tells
// which operation runs this limiter's check.
void Gateway::start(Simulation& sim) {
  validation_rng_ = sim.make_rng(*this, "validation");
  // A request's path is its source's, so each route's path prefix is matched once per source
  // here, and routing tests a bit (components other than sources generate requests without a
  // path: a queue's messages).
  for (const GatewayRouteSpec& r : p_.routes) {
    RouteMatch m;
    if (!r.workload.empty()) m.workload = sim.add_workload(r.workload);
    m.by_path = !r.path.empty();
    if (m.by_path) {
      m.sources.resize(sim.components().size());
      for (size_t c = 0; c < sim.components().size(); ++c) {
        const auto* source = dynamic_cast<const Source*>(sim.components()[c].get());
        m.sources[c] = source && !source->path().empty() && path_has_prefix(source->path(), r.path);
      }
    }
    routes_.push_back(std::move(m));
  }
  for (size_t i = 0; i < limiters_.size(); ++i) {
    const RateLimiterSpec& spec = p_.limiters.items[i];
    Limiter& l = limiters_[i];
    if (!spec.workload.empty()) l.workload = sim.add_workload(spec.workload);
    if (!spec.shared()) continue;
    auto* store = dynamic_cast<KvStore*>(sim.components()[spec.store.index].get());
    if (!store) {
      throw std::logic_error("gateway '" + name() + "': limiter store '" + spec.store.name +
                             "' is not a kv_store");
    }
    const uint16_t op = store->attach_limiter(spec.key_prefix, spec.config(), l.keys, *this);
    l.site = out_.add_site(spec.store_call, spec.store.index, op,
                           "limiter" + std::to_string(i) + ":" + spec.store.name);
  }
  out_.start(sim);
  metrics().capacity().set(sim.now(), p_.workers);
}

// --- Validation stage --------------------------------------------------------------------------

bool Gateway::has_validation() const {
  return !(p_.auth_time.kind() == Distribution::Kind::constant && p_.auth_time.mean() == 0);
}

void Gateway::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  metrics().on_arrival(sim.now());
  if (sim.call(h).deadline <= sim.now()) {
    respond(sim, h, Reply::failure(Reason::deadline_exceeded));
  } else if (!has_validation()) {
    validated(sim, new_task(h));
  } else if (busy_ < p_.workers && waiting_.empty()) {
    begin_validation(sim, h);
  } else if (static_cast<int64_t>(waiting_.size()) < p_.queue_capacity || busy_ < p_.workers) {
    waiting_.push(h, sim.request(sim.call(h).request).priority);
    metrics().queue().set(sim.now(), static_cast<int64_t>(waiting_.size()));
    if (busy_ < p_.workers) pull_from_queue(sim);
  } else {
    respond(sim, h, Reply::failure(Reason::queue_full));
  }
}

uint32_t Gateway::new_task(CallHandle h) {
  uint32_t slot = free_tasks_.take(tasks_);
  Task& t = tasks_[slot];
  t.call = h;
  ++t.serial;
  t.next_limiter = 0;
  t.calls = 0;
  t.validating = false;
  t.routed = false;
  t.live = true;
  return slot;
}

void Gateway::begin_validation(Simulation& sim, CallHandle h) {
  ++busy_;
  metrics().busy().set(sim.now(), busy_);
  metrics().on_service_start(sim.now() - sim.call(h).received);
  Time d = p_.auth_time.sample(validation_rng_);
  if (faults().active) [[unlikely]]
    d = faults().stretch(d, sim.call(h).caller);
  const uint32_t slot = new_task(h);
  tasks_[slot].validating = true;
  sim.schedule(sim.now() + d, *this, kValidated, pack_handle(slot, tasks_[slot].serial));
}

void Gateway::pull_from_queue(Simulation& sim) {
  if (pulling_) return;
  pulling_ = true;
  while (busy_ < p_.workers && !waiting_.empty()) {
    const CallHandle h = waiting_.pop();
    metrics().queue().set(sim.now(), static_cast<int64_t>(waiting_.size()));
    if (sim.call(h).deadline <= sim.now()) {
      respond(sim, h, Reply::failure(Reason::deadline_exceeded));
      continue;
    }
    begin_validation(sim, h);
  }
  pulling_ = false;
}

void Gateway::update_capacity(Simulation& sim) {
  metrics().capacity().set(sim.now(), std::max(p_.workers, busy_));
}

void Gateway::on_event(Simulation& sim, const Event& e) {
  if (out_.owns(e)) {
    out_.on_event(sim, e);
    return;
  }
  const uint32_t slot = payload_handle(e.payload);
  Task& t = tasks_[slot];
  if (!t.live || t.serial != payload_serial(e.payload)) return;  // failed by a crash
  t.validating = false;
  --busy_;
  metrics().busy().set(sim.now(), busy_);
  if (busy_ >= p_.workers) update_capacity(sim);
  pull_from_queue(sim);  // (may start tasks: no reference to tasks_ across it)
  validated(sim, slot);
}

// --- Limits and routing ------------------------------------------------------------------------

void Gateway::validated(Simulation& sim, uint32_t slot) {
  if (sim.call(tasks_[slot].call).deadline <= sim.now()) {
    end_task(sim, slot, Reply::failure(Reason::deadline_exceeded));
    return;
  }
  check_limits(sim, slot);
}

// Starts an exchange for the task and remembers it, unless the exchange is already over: its
// answer may come at once, and carry the task on to a later exchange or to its end.
void Gateway::start_call(Simulation& sim, uint32_t slot, uint32_t site) {
  const uint32_t serial = tasks_[slot].serial;
  const uint32_t n = ++tasks_[slot].calls;
  const Call& call = sim.call(tasks_[slot].call);
  const uint64_t id = out_.call(sim, site, call.request, call.deadline, pack_handle(slot, serial));
  Task& t = tasks_[slot];  // (re-read: the answer may have started other tasks)
  if (t.live && t.serial == serial && t.calls == n) t.exchange = id;
}

void Gateway::check_limits(Simulation& sim, uint32_t slot) {
  for (;;) {
    Task& t = tasks_[slot];
    if (t.next_limiter >= limiters_.size()) {
      route(sim, slot);
      return;
    }
    Limiter& l = limiters_[t.next_limiter++];
    const Call& call = sim.call(t.call);
    const Request& r = sim.request(call.request);
    if (l.workload != kAnyClass && r.workload != l.workload) continue;
    if (!l.local) {
      // The answer may come at once (a store that is down): on_call_done carries on from there.
      start_call(sim, slot, l.site);
      return;
    }
    // The limiter reads the gateway's own clock (clock_skew: windows shift, buckets refill at
    // its pace); its retry_after is a duration on that clock, as a Retry-After header would be.
    const Time now = faults().active ? faults().local_time(sim.now()) : sim.now();
    Time retry_after;
    if (!l.local->admit(now, l.keys(r.key), retry_after)) {
      metrics().count(Counter::rate_limited);
      Reply refusal = Reply::failure(Reason::rate_limited);
      refusal.retry_after = retry_after;
      end_task(sim, slot, refusal);
      return;
    }
  }
}

void Gateway::route(Simulation& sim, uint32_t slot) {
  Task& t = tasks_[slot];
  const Request& r = sim.request(sim.call(t.call).request);
  for (uint32_t i = 0; i < routes_.size(); ++i) {
    if (!routes_[i].takes(r)) continue;
    t.routed = true;
    start_call(sim, slot, i);
    return;
  }
  end_task(sim, slot, Reply::failure(Reason::error));  // no route for this path or class (a 404)
}

void Gateway::on_call_done(Simulation& sim, uint64_t token, const Reply& reply) {
  const uint32_t slot = payload_handle(token);
  Task& t = tasks_[slot];
  if (!t.live || t.serial != payload_serial(token)) return;
  if (t.routed) {
    end_task(sim, slot, reply);  // the backend's answer, relayed as it is
    return;
  }
  // The answer of a shared limiter's store.
  if (reply.ok()) {
    check_limits(sim, slot);
  } else if (reply.reason == Reason::rate_limited) {
    metrics().count(Counter::rate_limited);
    Reply refusal = Reply::failure(Reason::rate_limited);
    refusal.retry_after = reply.retry_after;
    end_task(sim, slot, refusal);
  } else if (reply.reason == Reason::deadline_exceeded) {
    end_task(sim, slot, Reply::failure(Reason::deadline_exceeded));  // the client gave up
  } else {
    metrics().count(Counter::limiter_store_failures);
    const RateLimiterSpec& spec = p_.limiters.items[t.next_limiter - 1];
    if (spec.on_store_failure == RateLimiterSpec::fail_open) {
      check_limits(sim, slot);
    } else {
      end_task(sim, slot, Reply::failure(Reason::unavailable));
    }
  }
}

void Gateway::on_reply(Simulation& sim, CallHandle h, const Reply& r) {
  out_.on_reply(sim, h, r);
}

void Gateway::end_task(Simulation& sim, uint32_t slot, const Reply& reply) {
  Task& t = tasks_[slot];
  const CallHandle h = t.call;
  t.live = false;
  ++t.serial;
  free_tasks_.push_back(tasks_, slot);
  respond(sim, h, reply);
}

void Gateway::respond(Simulation& sim, CallHandle h, const Reply& reply) {
  if (reply.ok()) {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
  } else {
    metrics().on_lost(sim.now(), outcome_of(reply.reason), reply.reason);
  }
  sim.reply(h, reply);
}

void Gateway::on_params_changed(Simulation& sim, const std::string& param) {
  if (param == "workers") {
    update_capacity(sim);
    pull_from_queue(sim);
  }
}

// A crash: every request held fails now - those waiting for a worker in queue order, then the
// tasks in slot order - after the state is cleared, since an answer may bring a new call at
// once, which the crashed gateway refuses at its door. Its own calls to stores and backends are
// abandoned: their answers reach nobody. The restart brings fresh local limiters, circuit
// breakers and retry budgets.
void Gateway::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (faults().crashed == before.crashed) return;
  if (!faults().crashed) {
    for (size_t i = 0; i < limiters_.size(); ++i) {
      const RateLimiterSpec& spec = p_.limiters.items[i];
      if (!spec.shared()) limiters_[i].local = make_rate_limiter(spec.config());
    }
    return;
  }
  std::vector<CallHandle> held;
  while (!waiting_.empty()) held.push_back(waiting_.pop());
  for (uint32_t slot = 0; slot < tasks_.size(); ++slot) {
    Task& t = tasks_[slot];
    if (!t.live) continue;
    if (t.calls > 0) out_.cancel(sim, t.exchange);  // (a no-op if it is over)
    held.push_back(t.call);
    t.live = false;
    ++t.serial;
    free_tasks_.push_back(tasks_, slot);
  }
  out_.reset(sim);  // its routes' circuit breakers and retry budgets were process memory too
  busy_ = 0;
  metrics().queue().set(sim.now(), 0);
  metrics().busy().set(sim.now(), 0);
  update_capacity(sim);
  for (CallHandle h : held) {
    if (!left_hanging_by_crash(sim, *this, h)) respond(sim, h, Reply::failure(Reason::unavailable));
  }
}

}  // namespace dsim
