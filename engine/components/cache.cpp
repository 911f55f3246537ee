#include "components/cache.hpp"

#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

void CacheParams::describe(ParamVisitor& v) {
  v.count({"capacity", "count",
           "Entries the cache holds. Filling a new key when it is full first evicts one entry, "
           "chosen by `eviction`.",
           false, true},
          capacity, 1, 1'000'000'000);
  v.choice({"eviction", "choice",
            "Which entry leaves to make room: lru (least recently used), lfu (least frequently "
            "used while cached, ties to the least recently used) or ttl (the one closest to "
            "expiry, i.e. the oldest fill; needs `ttl`)."},
           eviction, kEvictionNames);
  v.duration({"ttl", "duration",
              "Entries expire this long after they were filled (a hit does not extend it, a "
              "write_through set refills); 0: never. Applies with every eviction order."},
             ttl);
  v.distribution({"hit_latency", "distribution",
                  "Time to answer a get that hits; also the time a set or delete spends on the "
                  "entry itself.",
                  false, true},
                 hit_latency);
  v.distribution({"miss_latency", "distribution",
                  "Time a get that misses spends before it calls `backing` (the lookup that "
                  "found nothing). Its answer comes when the backing call's does.",
                  false, true},
                 miss_latency);
  v.target({"backing", "component",
            "Where misses read through to and sets write to (a database, a service...).", true},
           backing);
  v.text({"backing_read_op", "name",
          "Operation asked of `backing` to read a missing key (e.g. a database query class). "
          "Absent: its default."},
         backing_read_op);
  v.text({"backing_write_op", "name",
          "Operation asked of `backing` by a set (e.g. a database write class). Absent: its "
          "default."},
         backing_write_op);
  v.choice({"write_policy", "choice",
            "What a set does once its backing write has succeeded: invalidate (delete the "
            "entry, so the next get misses), write_through (update or insert the entry) or "
            "write_around (leave the cache alone; an entry may then be stale until it expires "
            "or is evicted)."},
           write_policy, kWritePolicyNames);
  v.flag({"coalesce", "bool",
          "A miss for a key whose fill is already in progress waits for that fill instead of "
          "calling `backing` too (stampede protection; counted as coalesced).",
          false, true},
         coalesce);
  v.count({"warm", "count",
           "Start with keys 0 .. warm-1 cached: the most popular keys of a source's Zipf key "
           "distribution (key 0 the most popular). 0: a cold start, empty."},
          warm, 0, 10'000'000);
  call.describe(v);
}

std::string CacheParams::check(const std::vector<std::string>&) {
  backing.op = backing_read_op;
  backing.extra_ops = {backing_write_op};
  backing.self_error = "a cache cannot read through to itself";
  if (eviction == ttl_order && ttl <= Time::zero()) {
    return "eviction: ttl needs a ttl (how long an entry lives after it is filled)";
  }
  if (warm > capacity) {
    return "warm (" + std::to_string(warm) + " keys) is larger than capacity (" +
           std::to_string(capacity) + ")";
  }
  return {};
}

Cache::Cache(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "cache", std::move(params)),
      p_(static_cast<CacheParams&>(this->params())),
      store_(static_cast<CacheStore::Policy>(p_.eviction), p_.ttl) {
  static_assert(static_cast<int>(CacheStore::Policy::lru) == CacheParams::lru &&
                static_cast<int>(CacheStore::Policy::lfu) == CacheParams::lfu &&
                static_cast<int>(CacheStore::Policy::ttl) == CacheParams::ttl_order);
  const uint16_t write_op =
      p_.backing.extra_op_indices.empty() ? 0 : p_.backing.extra_op_indices[0];
  out_.add_site(p_.call, p_.backing.index, p_.backing.op_index, "backing");
  out_.add_site(p_.call, p_.backing.index, write_op, "backing_write");
}

void Cache::start(Simulation& sim) {
  hit_rng_ = sim.make_rng(*this, "hit_latency");
  miss_rng_ = sim.make_rng(*this, "miss_latency");
  out_.start(sim);
  // Key 0 last, so that it is the most recently used of the prefilled keys.
  for (int64_t k = p_.warm - 1; k >= 0; --k) {
    store_.put(static_cast<uint64_t>(k), local_now(sim), p_.capacity);
  }
  entries_changed(sim);
}

void Cache::entries_changed(Simulation& sim) {
  metrics().gauge(Gauge::cache_entries).set(sim.now(), static_cast<int64_t>(store_.size()));
}

// The cache's own clock (core/local_clock.hpp), by which entries are stamped and judged expired:
// a clock_skew offset makes entries filled before the skew expire early (ahead) or late (behind),
// a rate makes the ttl run out `rate` times as fast.
Time Cache::local_now(const Simulation& sim) const {
  if (!faults().active) [[likely]]
    return sim.now();
  return faults().local_time(sim.now());
}

// A crash: the state goes first, since an answer may bring a new call at once, which the crashed
// cache refuses at its door; then the calls it held fail, in handle order. The cache keeps no
// list of the calls in its hit or miss latency, so it finds them all in the call table.
void Cache::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (!faults().crashed || before.crashed) return;
  std::vector<CallHandle> held;
  for (CallHandle h = 0; h < sim.calls().capacity(); ++h) {
    if (sim.calls().held_by(h, index())) held.push_back(h);
  }
  for (uint32_t slot = 0; slot < pending_.size(); ++slot) {
    if (pending_[slot].live) close_pending(slot);  // (a pending kFetch then finds it stale)
  }
  waiters_.clear();
  free_waiters_.clear();
  out_.reset(sim);  // abandons the backing calls; breaker and retry budget start afresh
  store_.shrink(0);
  metrics().gauge(Gauge::cache_entries).set(sim.now(), 0);
  for (CallHandle h : held) {
    if (!left_hanging_by_crash(sim, *this, h)) respond(sim, h, Reply::failure(Reason::unavailable));
  }
}

void Cache::expire(Simulation& sim) {
  if (const uint64_t n = store_.expire(local_now(sim))) {
    metrics().count(Counter::cache_expirations, n);
    entries_changed(sim);
  }
}

void Cache::respond(Simulation& sim, CallHandle h, const Reply& reply) {
  if (reply.ok()) {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
  } else {
    metrics().on_lost(sim.now(), outcome_of(reply.reason), reply.reason);
  }
  // A fresh reply: the answer comes from this cache (as a service answers for its handler's
  // calls), with the reason, degradation and Retry-After of what it got.
  sim.reply(h, Reply{reply.reason, reply.degraded, reply.retry_after});
}

void Cache::answer_after(Simulation& sim, CallHandle h, const Distribution& d, Rng& rng) {
  Time delay = d.sample(rng);
  if (faults().active) [[unlikely]]
    delay = faults().stretch(delay, sim.call(h).caller);
  if (delay > Time::zero()) {
    // With the call's serial: a crash may fail the call meanwhile (and its slot be reused).
    sim.schedule(sim.now() + delay, *this, kAnswer, pack_handle(h, sim.call(h).serial));
  } else {
    respond(sim, h, Reply::success());
  }
}

uint32_t Cache::open_pending(CallHandle h, uint64_t key, bool write) {
  uint32_t slot = free_pending_.take(pending_);
  Pending& p = pending_[slot];
  const uint32_t serial = p.serial + 1;
  p = Pending{};
  p.call = h;
  p.key = key;
  p.serial = serial;
  p.write = write;
  p.live = true;
  ++live_pending_;
  return slot;
}

void Cache::close_pending(uint32_t slot) {
  Pending& p = pending_[slot];
  if (!p.write && filling_.find(p.key) == slot) filling_.erase(p.key);
  p.live = false;
  ++p.serial;
  --live_pending_;
  free_pending_.push_back(pending_, slot);
}

void Cache::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  metrics().on_arrival(sim.now());
  const Call& c = sim.call(h);
  const RequestHandle request = c.request;
  const Time deadline = c.deadline;
  const uint16_t op = c.op;
  if (deadline <= sim.now()) {  // its caller has already given up (a propagated deadline)
    respond(sim, h, Reply::failure(Reason::deadline_exceeded));
    return;
  }
  const uint64_t key = sim.request(request).key;
  expire(sim);
  switch (op) {
    case CacheParams::op_get:
      get(sim, h, key);
      break;
    case CacheParams::op_set: {
      // The backing store first; what happens to the entry depends on its answer.
      const uint32_t slot = open_pending(h, key, /*write=*/true);
      out_.call(sim, kWriteSite, request, deadline, pack_handle(slot, pending_[slot].serial));
      break;
    }
    default:  // delete, invalidate
      if (store_.erase(key)) entries_changed(sim);
      answer_after(sim, h, p_.hit_latency, hit_rng_);
      break;
  }
}

void Cache::get(Simulation& sim, CallHandle h, uint64_t key) {
  if (store_.get(key)) {
    metrics().count(Counter::cache_hits);
    answer_after(sim, h, p_.hit_latency, hit_rng_);
    return;
  }
  metrics().count(Counter::cache_misses);
  if (p_.coalesce) {
    const uint32_t fill = filling_.find(key);
    if (fill != kNone) {
      metrics().count(Counter::coalesced);
      uint32_t w = free_waiters_.take(waiters_);
      waiters_[w] = Waiter{h, kNone};
      Pending& f = pending_[fill];
      if (f.last_waiter == kNone) {
        f.first_waiter = w;
      } else {
        waiters_[f.last_waiter].next = w;
      }
      f.last_waiter = w;
      return;
    }
  }
  const uint32_t slot = open_pending(h, key, /*write=*/false);
  if (p_.coalesce) filling_.insert(key, slot);
  Time delay = p_.miss_latency.sample(miss_rng_);
  if (faults().active) [[unlikely]]
    delay = faults().stretch(delay, sim.call(h).caller);
  if (delay > Time::zero()) {
    sim.schedule(sim.now() + delay, *this, kFetch, pack_handle(slot, pending_[slot].serial));
  } else {
    fetch(sim, slot);
  }
}

// The read-through call, made on behalf of the request whose miss started the fill (its deadline,
// if propagated, bounds the call - and so the wait of every miss coalesced onto it).
void Cache::fetch(Simulation& sim, uint32_t slot) {
  const Pending& f = pending_[slot];
  const uint64_t token = pack_handle(slot, f.serial);
  const Call& c = sim.call(f.call);
  const RequestHandle request = c.request;
  const Time deadline = c.deadline;
  out_.call(sim, kReadSite, request, deadline, token);
}

void Cache::on_event(Simulation& sim, const Event& e) {
  if (out_.owns(e)) {
    out_.on_event(sim, e);
    return;
  }
  if (e.kind == kAnswer) {
    const CallHandle h = payload_handle(e.payload);
    // Failed by a crash (released, or its answer on the wire), or left hanging by one.
    if (sim.calls().is_current(h, payload_serial(e.payload)) && sim.calls().held_by(h, index())) {
      respond(sim, h, Reply::success());
    }
    return;
  }
  const uint32_t slot = payload_handle(e.payload);  // kFetch: miss_latency has passed
  if (slot < pending_.size() && pending_[slot].live &&
      pending_[slot].serial == payload_serial(e.payload)) {
    fetch(sim, slot);
  }
}

void Cache::on_reply(Simulation& sim, CallHandle h, const Reply& r) {
  out_.on_reply(sim, h, r);
}

void Cache::on_call_done(Simulation& sim, uint64_t token, const Reply& reply) {
  const uint32_t slot = payload_handle(token);
  if (slot >= pending_.size() || !pending_[slot].live ||
      pending_[slot].serial != payload_serial(token)) {
    return;
  }
  // Closed before anything is answered: an answer may bring a new call for the same key at once.
  const Pending done = pending_[slot];
  close_pending(slot);
  expire(sim);
  if (done.write) {
    write_done(sim, done, reply);
  } else {
    fill_done(sim, done, reply);
  }
}

// A fallback's answer (degraded) is a default, not the data: it is passed on but not cached.
void Cache::fill_done(Simulation& sim, const Pending& fill, const Reply& reply) {
  if (reply.ok() && !reply.degraded) {
    if (store_.put(fill.key, local_now(sim), p_.capacity))
      metrics().count(Counter::cache_evictions);
    entries_changed(sim);
  }
  respond(sim, fill.call, reply);
  for (uint32_t w = fill.first_waiter; w != kNone;) {
    const Waiter waiter = waiters_[w];
    free_waiters_.push_back(w);  // (answering may reuse it at once: it was copied)
    w = waiter.next;
    respond(sim, waiter.call, reply);
  }
}

void Cache::write_done(Simulation& sim, const Pending& write, const Reply& reply) {
  if (!reply.ok() || reply.degraded) {  // the store was not written: the entry stays as it is
    respond(sim, write.call, reply);
    return;
  }
  switch (p_.write_policy) {
    case CacheParams::write_through:
      if (store_.put(write.key, local_now(sim), p_.capacity)) {
        metrics().count(Counter::cache_evictions);
      }
      entries_changed(sim);
      answer_after(sim, write.call, p_.hit_latency, hit_rng_);
      break;
    case CacheParams::invalidate:
      if (store_.erase(write.key)) entries_changed(sim);
      answer_after(sim, write.call, p_.hit_latency, hit_rng_);
      break;
    default:  // write_around: the cache is not involved
      respond(sim, write.call, Reply::success());
      break;
  }
}

void Cache::on_params_changed(Simulation& sim, const std::string& param) {
  if (param == "capacity") {
    // A smaller cache evicts at once, in eviction order; a larger one fills as misses come.
    expire(sim);
    if (const uint64_t n = store_.shrink(p_.capacity)) {
      metrics().count(Counter::cache_evictions, n);
      entries_changed(sim);
    }
  }
  // coalesce: misses from now on follow the new setting; fills already in progress keep the
  // misses that joined them. Latencies apply to the next draw.
}

}  // namespace dsim
