#include "components/load_balancer.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {
namespace {

// SplitMix64's output function (Steele, Lea and Flood, 2014): a bijection on 64-bit integers
// whose every output bit depends on every input bit. Spreads request keys (often 0..K-1) and
// virtual-node names evenly over the ring; unlike std::hash it is the same on every platform.
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr int64_t kMaxRingPoints = 10'000'000;

}  // namespace

// --- Parameters ---------------------------------------------------------------------------

void BackendSpec::describe(ParamVisitor& v) {
  v.target({"to", "component", "The backend component.", true}, to);
  v.count({"weight", "count",
           "Relative share of calls under the weighted, random and consistent_hash policies "
           "(virtual nodes on the ring)."},
          weight, 1, 1000);
}

void HealthCheckSpec::describe(ParamVisitor& v) {
  v.duration({"interval", "duration",
              "Time between probes of every backend; the first probes go out one interval after "
              "the start."},
             interval);
  v.count({"unhealthy_threshold", "count",
           "Consecutive failed probes that take a backend out of rotation."},
          unhealthy_threshold, 1, 1000);
  v.count({"healthy_threshold", "count",
           "Consecutive good probes that put an ejected backend back into rotation."},
          healthy_threshold, 1, 1000);
}

std::string HealthCheckSpec::check() {
  if (interval <= Time::zero()) return "interval must be longer than zero";
  return {};
}

void LoadBalancerParams::describe(ParamVisitor& v) {
  v.list({"backends", "backends",
          "The components calls are spread over: a list of names, `[api-1, api-2]`, or of "
          "`{to, weight}` blocks, `[{to: api-1, weight: 3}, api-2]`.",
          true},
         backends);
  v.choice({"policy", "choice",
            "How a backend is picked: round_robin (in list order), random (by weight), "
            "least_connections (fewest outstanding calls from this balancer; ties in turn), "
            "power_of_d (the least loaded of `choices` distinct backends drawn at random), p2c "
            "(power_of_d with 2), weighted (smooth weighted round robin, as nginx), "
            "consistent_hash (by the request's key on a ring with virtual nodes)."},
           policy, kPolicyNames);
  v.count({"choices", "count", "power_of_d: how many backends are drawn (d)."}, choices, 1, 1000);
  v.count(
      {"virtual_nodes", "count", "consistent_hash: points on the ring per unit of backend weight."},
      virtual_nodes, 1, 10'000);
  v.distribution({"latency", "distribution",
                  "The balancer's own time per request, before it calls a backend."},
                 latency);
  v.group({"health_check", "block",
           "Active health checks: `{interval, unhealthy_threshold, healthy_threshold}`. Absent: "
           "every backend stays in rotation."},
          health_check);
  call.describe(v);
}

std::string LoadBalancerParams::check(const std::vector<std::string>& given) {
  const auto has = [&](const char* key) {
    return std::find(given.begin(), given.end(), key) != given.end();
  };
  if (backends.empty()) return "backends: needs at least one backend";
  for (size_t i = 0; i < backends.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (backends.items[i].to.name == backends.items[j].to.name) {
        return "backend '" + backends.items[i].to.name +
               "' is listed twice; give it a weight instead";
      }
    }
  }
  const bool weights_apply = policy == random || policy == weighted || policy == consistent_hash;
  if (!weights_apply) {
    for (const BackendSpec& b : backends) {
      if (b.weight != 1) {
        return "backend '" + b.to.name + "' has weight " + std::to_string(b.weight) +
               ", but policy " + kPolicyNames[policy] +
               " ignores weights (they apply to weighted, random and consistent_hash)";
      }
    }
  }
  if (has("choices")) {
    if (policy == p2c) {
      return "p2c is power_of_d with 2 choices; write policy: power_of_d to choose another "
             "number";
    }
    if (policy != power_of_d) return "'choices' applies to policy power_of_d only";
    if (choices > static_cast<int64_t>(backends.size())) {
      return "choices (" + std::to_string(choices) + ") is more than the " +
             std::to_string(backends.size()) + " backends";
    }
  }
  if (has("virtual_nodes") && policy != consistent_hash) {
    return "'virtual_nodes' applies to policy consistent_hash only";
  }
  if (policy == consistent_hash) {
    int64_t points = 0;
    for (const BackendSpec& b : backends) points += b.weight * virtual_nodes;
    if (points > kMaxRingPoints) {
      return "the hash ring would have " + std::to_string(points) +
             " points (virtual_nodes x weights); at most " + std::to_string(kMaxRingPoints);
    }
  }
  return {};
}

// --- Construction -------------------------------------------------------------------------

LoadBalancer::LoadBalancer(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "load_balancer", std::move(params)),
      p_(static_cast<LoadBalancerParams&>(this->params())) {
  for (const BackendSpec& b : p_.backends) {
    Backend backend;
    backend.component = b.to.index;
    backend.weight = b.weight;
    backends_.push_back(backend);
    out_.add_site(p_.call, b.to.index, 0, "backend:" + b.to.name);
  }
  choices_ = p_.policy == LoadBalancerParams::p2c ? 2 : p_.choices;
  has_latency_ = !(p_.latency.kind() == Distribution::Kind::constant && p_.latency.mean() == 0);
  if (p_.policy == LoadBalancerParams::consistent_hash) {
    // Points depend on the backend's name, not its position, so listing another backend does
    // not move the existing ones (as with Ketama's server addresses).
    for (uint32_t b = 0; b < backends_.size(); ++b) {
      const std::string& backend_name = p_.backends.items[b].to.name;
      const int64_t points = p_.virtual_nodes * backends_[b].weight;
      for (int64_t v = 0; v < points; ++v) {
        ring_.push_back({mix64(stable_hash(backend_name + "#" + std::to_string(v))), b});
      }
    }
    std::sort(ring_.begin(), ring_.end(), [](const RingPoint& a, const RingPoint& b) {
      return a.hash != b.hash ? a.hash < b.hash : a.backend < b.backend;
    });
  }
  rebuild_rotation();
}

void LoadBalancer::start(Simulation& sim) {
  pick_rng_ = sim.make_rng(*this, "picks");
  latency_rng_ = sim.make_rng(*this, "latency");
  out_.start(sim);
  metrics().gauge(Gauge::healthy_backends).set(sim.now(), static_cast<int64_t>(rotation_.size()));
  if (p_.health_check.present) {
    const Time first = sim.now() + p_.health_check.interval;
    if (first <= sim.end_time()) sim.schedule(first, *this, kProbe, 0);
  }
}

// --- Picking ------------------------------------------------------------------------------

void LoadBalancer::rebuild_rotation() {
  rotation_.clear();
  cumulative_.clear();
  position_.assign(backends_.size(), kNone);
  int64_t total = 0;
  for (uint32_t b = 0; b < backends_.size(); ++b) {
    if (!backends_[b].in_rotation) continue;
    position_[b] = static_cast<uint32_t>(rotation_.size());
    rotation_.push_back(b);
    total += backends_[b].weight;
    cumulative_.push_back(total);
  }
  sample_ = rotation_;
  if (!rotation_.empty()) tie_start_ %= rotation_.size();
}

uint32_t LoadBalancer::pick(uint64_t key, uint32_t exclude) {
  if (rotation_.empty()) return kNone;
  if (rotation_.size() == 1) return rotation_[0];  // even if it just failed: nowhere else to go
  switch (p_.policy) {
    case LoadBalancerParams::round_robin:
      return pick_round_robin(exclude);
    case LoadBalancerParams::random:
      return pick_random(exclude);
    case LoadBalancerParams::least_connections:
      return pick_least_connections(exclude);
    case LoadBalancerParams::power_of_d:
    case LoadBalancerParams::p2c:
      return pick_power_of_d(exclude);
    case LoadBalancerParams::weighted:
      return pick_weighted(exclude);
    case LoadBalancerParams::consistent_hash:
      return ring_walk(key, exclude);
  }
  return kNone;
}

// The list in order, skipping ejected backends: a, b, c, a, b, c... With b ejected: a, c, a, c.
uint32_t LoadBalancer::pick_round_robin(uint32_t exclude) {
  for (size_t k = 0; k < backends_.size(); ++k) {
    const auto b = static_cast<uint32_t>(next_);
    next_ = (next_ + 1) % backends_.size();
    if (backends_[b].in_rotation && b != exclude) return b;
  }
  return kNone;  // unreachable: pick() saw two backends in rotation
}

// By weight, with integer arithmetic: draw x uniformly from [0, total weight) and take the
// backend whose running sum first exceeds it. A retry draws from the others' weight only.
uint32_t LoadBalancer::pick_random(uint32_t exclude) {
  int64_t total = cumulative_.back();
  int64_t skip_from = total, skip_width = 0;
  if (exclude != kNone && position_[exclude] != kNone) {
    skip_width = backends_[exclude].weight;
    skip_from = cumulative_[position_[exclude]] - skip_width;
    total -= skip_width;
  }
  auto x = static_cast<int64_t>(pick_rng_.below(static_cast<uint64_t>(total)));
  if (x >= skip_from) x += skip_width;
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), x);
  return rotation_[static_cast<size_t>(it - cumulative_.begin())];
}

// The fewest outstanding calls; among equals, the first after the previous pick, so that idle
// backends are taken in turn (as nginx's least_conn falls back to round robin).
uint32_t LoadBalancer::pick_least_connections(uint32_t exclude) {
  const size_t m = rotation_.size();
  uint32_t best = kNone;
  size_t best_at = 0;
  for (size_t k = 0; k < m; ++k) {
    const size_t at = (tie_start_ + k) % m;
    const uint32_t b = rotation_[at];
    if (b == exclude) continue;
    if (best == kNone || out_.outstanding(b) < out_.outstanding(best)) {
      best = b;
      best_at = at;
    }
  }
  tie_start_ = (best_at + 1) % m;
  return best;
}

// d distinct backends uniformly at random (a partial Fisher-Yates shuffle of sample_, which is
// any permutation of the rotation), then the one with the fewest outstanding calls; among
// equals the first drawn, i.e. a random one. With d = 2 this is Mitzenmacher's "power of two
// choices" (the supermarket model).
uint32_t LoadBalancer::pick_power_of_d(uint32_t exclude) {
  size_t m = sample_.size();
  if (exclude != kNone && position_[exclude] != kNone) {
    // Move the excluded backend out of reach, to the end.
    const auto it = std::find(sample_.begin(), sample_.end(), exclude);
    std::iter_swap(it, sample_.end() - 1);
    --m;
  }
  const size_t d = std::min(static_cast<size_t>(choices_), m);
  uint32_t best = kNone;
  for (size_t i = 0; i < d; ++i) {
    const size_t j = i + static_cast<size_t>(pick_rng_.below(m - i));
    std::swap(sample_[i], sample_[j]);
    const uint32_t b = sample_[i];
    if (best == kNone || out_.outstanding(b) < out_.outstanding(best)) best = b;
  }
  return best;
}

// Smooth weighted round robin (nginx, ngx_http_upstream_get_peer): every backend's running
// weight grows by its weight, the largest is picked and loses the total. Over any run of
// sum-of-weights picks each backend is chosen exactly weight times, spread out: weights
// {a: 5, b: 1, c: 1} give a a b a c a a.
uint32_t LoadBalancer::pick_weighted(uint32_t exclude) {
  int64_t total = 0;
  uint32_t best = kNone;
  for (const uint32_t b : rotation_) {
    if (b == exclude) continue;
    Backend& backend = backends_[b];
    backend.current += backend.weight;
    total += backend.weight;
    if (best == kNone || backend.current > backends_[best].current) best = b;
  }
  backends_[best].current -= total;
  return best;
}

// The first point at or after the key's hash, clockwise, whose backend is in rotation (and is not
// `exclude`). Ejecting a backend therefore moves only the keys it owned, each to the next
// backend on the ring; every other key stays where it was.
uint32_t LoadBalancer::ring_walk(uint64_t key, uint32_t exclude) const {
  if (ring_.empty()) return kNone;
  const uint64_t h = mix64(key);
  const auto first = std::lower_bound(ring_.begin(), ring_.end(), h,
                                      [](const RingPoint& p, uint64_t v) { return p.hash < v; });
  size_t at = static_cast<size_t>(first - ring_.begin()) % ring_.size();
  for (size_t k = 0; k < ring_.size(); ++k) {
    const uint32_t b = ring_[at].backend;
    if (backends_[b].in_rotation && b != exclude) return b;
    at = (at + 1) % ring_.size();
  }
  return kNone;
}

uint32_t LoadBalancer::ring_owner(uint64_t key) const {
  return ring_walk(key, kNone);
}

double LoadBalancer::ring_share(uint32_t backend) const {
  if (ring_.empty()) return 0;
  bool all_same = true;
  for (const RingPoint& p : ring_) all_same &= p.backend == ring_[0].backend;
  if (all_same) return ring_[0].backend == backend ? 1.0 : 0.0;
  // Point i owns the arc (point i-1, point i]; the first point's arc wraps around from the last.
  double owned = 0;
  for (size_t i = 0; i < ring_.size(); ++i) {
    if (ring_[i].backend != backend) continue;
    const uint64_t previous = ring_[i == 0 ? ring_.size() - 1 : i - 1].hash;
    owned += static_cast<double>(ring_[i].hash - previous);  // modulo 2^64 for the wrap
  }
  return owned * 0x1.0p-64;
}

// --- Proxying -----------------------------------------------------------------------------

uint32_t LoadBalancer::hold(CallHandle h) {
  uint32_t slot = free_held_.take(held_);
  Held& c = held_[slot];
  c.call = h;
  c.called = false;
  c.live = true;
  return slot;
}

void LoadBalancer::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  metrics().on_arrival(sim.now());
  const uint32_t slot = hold(h);
  Time latency = has_latency_ ? p_.latency.sample(latency_rng_) : Time::zero();
  if (faults().active) [[unlikely]]
    latency = faults().stretch(latency, sim.call(h).caller);
  if (latency > Time::zero()) {
    sim.schedule(sim.now() + latency, *this, kProxy, pack_handle(slot, held_[slot].serial));
    return;
  }
  proxy(sim, slot);
}

void LoadBalancer::proxy(Simulation& sim, uint32_t slot) {
  // A balancer among its own backends (directly or through other zero-time hops) would call
  // itself for ever within one instant; end the run with a clear error before the stack does.
  if (nesting_ >= kMaxNesting) {
    throw std::runtime_error("load_balancer '" + name() + "' was called back " +
                             std::to_string(kMaxNesting) +
                             " times within one call, without simulated time passing: its "
                             "backends lead back to it through components that take no time "
                             "(is it, or a balancer in front of it, among its own backends?)");
  }
  ++nesting_;
  proxy_now(sim, slot);
  --nesting_;
}

void LoadBalancer::proxy_now(Simulation& sim, uint32_t slot) {
  const CallHandle h = held_[slot].call;
  const RequestHandle request = sim.call(h).request;
  const Time deadline = sim.call(h).deadline;
  const uint32_t b = pick(sim.request(request).key, kNone);
  if (b == kNone) {
    respond(sim, slot, Reply::failure(Reason::unavailable));
    return;
  }
  const uint32_t serial = held_[slot].serial;
  held_[slot].called = true;
  const uint64_t id = out_.call(sim, b, request, deadline, pack_handle(slot, serial));
  // The answer may have come at once (and the slot been reused): remember only a live exchange.
  Held& c = held_[slot];
  if (c.live && c.serial == serial) c.exchange = id;
}

void LoadBalancer::on_call_done(Simulation& sim, uint64_t token, const Reply& reply) {
  if (!holds(token)) return;  // (a crash cancels the exchanges it ends: not expected)
  respond(sim, payload_handle(token), reply);
}

uint32_t LoadBalancer::retry_site(Simulation& sim, uint64_t token, uint32_t failed_site) {
  if (!holds(token)) return kNoSite;
  const CallHandle h = held_[payload_handle(token)].call;
  return pick(sim.request(sim.call(h).request).key, failed_site);
}

// Relays the final answer as it is (reason, degraded, retry-after, and the component that
// produced it, so a failure is attributed to the backend that failed).
void LoadBalancer::respond(Simulation& sim, uint32_t slot, const Reply& reply) {
  Held& c = held_[slot];
  const CallHandle h = c.call;
  c.live = false;
  ++c.serial;
  free_held_.push_back(held_, slot);
  if (reply.ok()) {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
  } else {
    metrics().on_lost(sim.now(), outcome_of(reply.reason), reply.reason);
  }
  sim.reply(h, reply);
}

void LoadBalancer::on_reply(Simulation& sim, CallHandle h, const Reply& r) {
  out_.on_reply(sim, h, r);
}

void LoadBalancer::on_event(Simulation& sim, const Event& e) {
  if (out_.owns(e)) {
    out_.on_event(sim, e);
  } else if (e.kind == kProxy) {
    if (holds(e.payload)) proxy(sim, payload_handle(e.payload));  // else failed by a crash
  } else if (e.kind == kProbe) {
    if (e.payload == probe_generation_) probe(sim);  // else from before a crash
  }
}

// --- Health checks ------------------------------------------------------------------------

void LoadBalancer::probe(Simulation& sim) {
  const HealthCheckSpec& hc = p_.health_check;
  for (uint32_t b = 0; b < backends_.size(); ++b) {
    Backend& backend = backends_[b];
    // The probe crosses the network like a call: a partition between the balancer and the
    // backend, either way, fails it as surely as a backend that is down.
    const Network& net = sim.network();
    const bool good = sim.components()[backend.component]->healthy(sim.now()) &&
                      (!net.active() || (!net.blocks(Leg::request, index(), backend.component) &&
                                         !net.blocks(Leg::response, index(), backend.component)));
    if (backend.in_rotation) {
      backend.failed_probes = good ? 0 : backend.failed_probes + 1;
      if (backend.failed_probes >= hc.unhealthy_threshold) set_rotation(sim, b, false);
    } else {
      backend.good_probes = good ? backend.good_probes + 1 : 0;
      if (backend.good_probes >= hc.healthy_threshold) set_rotation(sim, b, true);
    }
  }
  const Time next = sim.now() + hc.interval;
  if (next <= sim.end_time()) sim.schedule(next, *this, kProbe, probe_generation_);
}

void LoadBalancer::set_rotation(Simulation& sim, uint32_t backend, bool in) {
  Backend& b = backends_[backend];
  b.in_rotation = in;
  b.failed_probes = b.good_probes = 0;
  metrics().count(in ? Counter::health_restorations : Counter::health_ejections);
  rebuild_rotation();
  metrics().gauge(Gauge::healthy_backends).set(sim.now(), static_cast<int64_t>(rotation_.size()));
}

// --- Crashes ------------------------------------------------------------------------------

// Every call held fails now, in slot order, after the state is cleared (an answer may bring a
// new call at once, which the crashed balancer refuses at its door); the attempts to backends
// are abandoned, and its circuit breakers and retry budgets are forgotten. While down the
// balancer does not probe.
void LoadBalancer::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (faults().crashed == before.crashed) return;
  if (!faults().crashed) {
    restart(sim);
    return;
  }
  ++probe_generation_;
  std::vector<CallHandle> calls;
  for (uint32_t slot = 0; slot < held_.size(); ++slot) {
    Held& c = held_[slot];
    if (!c.live) continue;
    if (c.called) out_.cancel(sim, c.exchange);
    calls.push_back(c.call);
    c.live = false;
    ++c.serial;
    free_held_.push_back(held_, slot);
  }
  out_.reset(sim);  // its per-backend circuit breakers and retry budgets start afresh
  for (CallHandle h : calls) {
    if (left_hanging_by_crash(sim, *this, h)) continue;
    metrics().on_lost(sim.now(), outcome_of(Reason::unavailable), Reason::unavailable);
    sim.reply(h, Reply::failure(Reason::unavailable));
  }
}

// A fresh process: every backend in rotation, no probe history, the pickers' positions at their
// start, and the first probes one interval from now.
void LoadBalancer::restart(Simulation& sim) {
  for (Backend& b : backends_) {
    b.in_rotation = true;
    b.current = 0;
    b.failed_probes = b.good_probes = 0;
  }
  next_ = 0;
  tie_start_ = 0;
  rebuild_rotation();
  metrics().gauge(Gauge::healthy_backends).set(sim.now(), static_cast<int64_t>(rotation_.size()));
  ++probe_generation_;
  if (p_.health_check.present) {
    const Time first = sim.now() + p_.health_check.interval;
    if (first <= sim.end_time()) sim.schedule(first, *this, kProbe, probe_generation_);
  }
}

}  // namespace dsim
