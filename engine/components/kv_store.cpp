#include "components/kv_store.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "core/simulation.hpp"
#include "faults/fault_hooks.hpp"

namespace dsim {

void KvReplicaSpec::describe(ParamVisitor& v) {
  v.distribution({"lag", "distribution",
                  "Time from a write on the primary to the same write on the replica (writes "
                  "arrive in order).",
                  true},
                 lag);
  v.number({"reads", "fraction",
            "Share of GETs the replica serves, on its own thread; one that misses the key's "
            "latest write is a stale read."},
           reads, 0, 1);
}

void KvStoreParams::describe(ParamVisitor& v) {
  v.distribution({"get", "distribution", "Time the thread spends on a GET."}, get);
  v.distribution({"set", "distribution", "Time the thread spends on a SET."}, set);
  v.distribution({"incr", "distribution", "Time the thread spends on an INCR."}, incr);
  v.distribution({"check_and_incr", "distribution",
                  "Time the thread spends on a check-and-increment script (also each check of a "
                  "gateway's shared rate limiter)."},
                 check_and_incr);
  v.distribution({"rtt", "distribution",
                  "Network round trip added to every answer after the command ran; it does not "
                  "occupy the thread."},
                 rtt);
  v.duration({"ttl", "duration",
              "Keys expire this long after a SET, or after the INCR that created them (0: "
              "never)."},
             ttl);
  v.count({"limit", "count",
           "check_and_incr refuses (rate_limited) once a key's counter has reached this. "
           "`unbounded`: it never refuses."},
          limit, 1, INT64_MAX);
  v.count({"max_entries", "count",
           "Keys memory can hold; a write that would create one more fails with reason error "
           "(Redis's OOM under noeviction). `unbounded` for no limit.",
           false, true},
          max_entries, 0, INT64_MAX);
  v.count({"entry_size", "bytes", "Memory per key, for the memory_used_bytes gauge."}, entry_size,
          1, 1'000'000'000);
  v.group({"replica", "block",
           "A replica fed asynchronously: `{lag: DISTRIBUTION, reads: FRACTION}`. Absent: none."},
          replica);
}

KvStore::KvStore(const std::string& name, std::unique_ptr<ComponentParams> params)
    : Component(name, "kv_store", std::move(params)),
      p_(static_cast<KvStoreParams&>(this->params())) {}

void KvStore::start(Simulation& sim) {
  service_rng_ = sim.make_rng(*this, "service_time");
  rtt_rng_ = sim.make_rng(*this, "rtt");
  replica_reads_rng_ = sim.make_rng(*this, "replica_reads");
  replica_lag_rng_ = sim.make_rng(*this, "replica_lag");
  replica_reads_ = p_.replica.present && p_.replica.reads > 0;
  metrics().capacity().set(sim.now(), replica_reads_ ? 2 : 1);
  update_memory(sim);
}

uint16_t KvStore::attach_limiter(const std::string& key_prefix, const RateLimitConfig& config,
                                 const KeyMapping& keys, const Component& caller) {
  auto id = static_cast<uint32_t>(limiters_.size());
  for (size_t i = 0; i < limiters_.size(); ++i) {
    const SharedLimiter& l = limiters_[i];
    if (l.prefix == key_prefix && l.config == config && l.keys == keys) {
      id = static_cast<uint32_t>(i);
    }
  }
  for (size_t i = 0; i < limiter_ops_.size(); ++i) {
    if (limiter_ops_[i].limiter == id && limiter_ops_[i].caller == &caller) {
      return static_cast<uint16_t>(kFirstLimiterOp + i);
    }
  }
  if (limiter_ops_.size() + kFirstLimiterOp >= kFirstIdempotencyOp) {
    throw std::length_error("kv_store '" + name() + "': too many shared rate limiters");
  }
  if (id == limiters_.size()) {
    limiters_.push_back(SharedLimiter{key_prefix, config, keys, make_rate_limiter(config)});
  }
  limiter_ops_.push_back(LimiterOp{id, &caller});
  return static_cast<uint16_t>(kFirstLimiterOp + limiter_ops_.size() - 1);
}

uint16_t KvStore::attach_idempotency(const std::string& key_prefix, Time ttl, Time lease) {
  size_t id = 0;
  while (id < idempotency_.size() && idempotency_[id].prefix != key_prefix) ++id;
  if (id == idempotency_.size()) {
    if (3 * id + kFirstIdempotencyOp + 2 >= UINT16_MAX) {
      throw std::length_error("kv_store '" + name() + "': too many idempotency key prefixes");
    }
    idempotency_.push_back(IdempotencyTable{key_prefix, ttl, lease});
  }
  // Callers sharing a prefix share its keys; the expiry settings are the first caller's.
  return static_cast<uint16_t>(kFirstIdempotencyOp + 3 * id + kClaim);
}

IdempotencyState KvStore::idempotency_state(const std::string& key_prefix, uint64_t key) const {
  for (size_t id = 0; id < idempotency_.size(); ++id) {
    if (idempotency_[id].prefix != key_prefix) continue;
    auto it = data_.find(Key{kIdempotencyNamespace + static_cast<uint32_t>(id), key});
    if (it != data_.end()) return static_cast<IdempotencyState>(it->second.value);
  }
  return IdempotencyState::absent;
}

int64_t KvStore::value(uint64_t key, bool* live) const {
  auto it = data_.find(Key{0, key});
  if (live) *live = it != data_.end();
  return it == data_.end() ? 0 : it->second.value;
}

const Distribution& KvStore::op_time(uint16_t op) const {
  switch (op) {
    case kGet:
      return p_.get;
    case kSet:
      return p_.set;
    case kIncr:
      return p_.incr;
    default:
      if (op >= kFirstIdempotencyOp && (op - kFirstIdempotencyOp) % 3 != kClaim) return p_.set;
      return p_.check_and_incr;  // the scripts: every limiter check and idempotency claim
  }
}

// --- The thread --------------------------------------------------------------------------------

void KvStore::accept(Simulation& sim, CallHandle h) {
  if (faults().active && refused_by_fault(sim, *this, h)) [[unlikely]]
    return;
  metrics().on_arrival(sim.now());
  if (!up_) {
    respond(sim, h, Reply::failure(Reason::unavailable));
    return;
  }
  uint32_t thread = kPrimary;
  if (replica_reads_ && sim.call(h).op == kGet &&
      replica_reads_rng_.uniform01() < p_.replica.reads) {
    thread = kReplica;
  }
  Thread& t = threads_[thread];
  if (!t.busy) {
    begin(sim, thread, h);
  } else {
    t.waiting.push(h, 0);
    update_levels(sim);
  }
}

// Busy threads and waiting commands, over both threads when the replica serves reads.
void KvStore::update_levels(Simulation& sim) {
  metrics().busy().set(sim.now(), int64_t{threads_[0].busy} + int64_t{threads_[1].busy});
  metrics().queue().set(
      sim.now(), static_cast<int64_t>(threads_[0].waiting.size() + threads_[1].waiting.size()));
}

void KvStore::begin(Simulation& sim, uint32_t thread, CallHandle h) {
  Thread& t = threads_[thread];
  t.busy = true;
  t.running = h;
  update_levels(sim);
  metrics().on_service_start(sim.now() - sim.call(h).received);
  Time d = op_time(sim.call(h).op).sample(service_rng_);
  if (faults().active) [[unlikely]]
    d = faults().stretch(d, sim.call(h).caller);
  sim.schedule(sim.now() + d, *this, kExecuted, pack_handle(thread, ++t.serial));
}

void KvStore::executed(Simulation& sim, uint32_t thread) {
  Thread& t = threads_[thread];
  const CallHandle h = t.running;
  const Reply r = execute(sim, h, thread);
  t.busy = false;
  // The next command starts before this answer leaves: a caller that sends again at once
  // queues behind the commands already waiting.
  if (!t.waiting.empty()) {
    begin(sim, thread, t.waiting.pop());
  } else {
    update_levels(sim);
  }
  send(sim, h, r);
}

void KvStore::on_event(Simulation& sim, const Event& e) {
  switch (e.kind) {
    case kExecuted: {
      const uint32_t thread = payload_handle(e.payload);
      const Thread& t = threads_[thread];
      if (!t.busy || payload_serial(e.payload) != t.serial) return;  // aborted by a crash
      executed(sim, thread);
      break;
    }
    case kReply: {
      const auto slot = static_cast<uint32_t>(e.payload);
      const Answer a = answers_[slot];
      free_answers_.push_back(slot);
      respond(sim, a.call, a.reply);
      break;
    }
    case kExpire:
      if (e.time == expiry_event_) expiry_event_ = Time::max();
      purge_expired(sim);
      schedule_expiry(sim);
      break;
    default:
      break;
  }
}

// An executed command's answer travels back for one round trip.
void KvStore::send(Simulation& sim, CallHandle h, const Reply& r) {
  const Time rtt = p_.rtt.sample(rtt_rng_);
  if (rtt <= Time::zero()) {
    respond(sim, h, r);
    return;
  }
  uint32_t slot = free_answers_.take(answers_);
  answers_[slot] = Answer{h, r};
  sim.schedule(sim.now() + rtt, *this, kReply, slot);
}

// A command the store executed counts as served whatever it answered (a refusal by the script is
// an answer); only commands it could not run (down, out of memory) are losses.
void KvStore::respond(Simulation& sim, CallHandle h, const Reply& r) {
  if (r.ok() || r.reason == Reason::rate_limited) {
    metrics().on_served(sim.now(), sim.now() - sim.call(h).received);
  } else {
    metrics().on_lost(sim.now(), outcome_of(r.reason), r.reason);
  }
  sim.reply(h, r);
}

void KvStore::set_available(Simulation& sim, bool up) {
  if (up == up_) return;
  up_ = up;
  if (up) return;
  // Every command not yet executed is answered now; the ones running never take effect.
  for (Thread& t : threads_) {
    if (t.busy) {
      t.busy = false;
      ++t.serial;
      update_levels(sim);
      if (!left_hanging_by_crash(sim, *this, t.running)) {
        respond(sim, t.running, Reply::failure(Reason::unavailable));
      }
    }
    while (!t.waiting.empty()) {
      const CallHandle h = t.waiting.pop();
      update_levels(sim);
      if (!left_hanging_by_crash(sim, *this, h)) {
        respond(sim, h, Reply::failure(Reason::unavailable));
      }
    }
  }
}

// A clock_skew that starts, changes or ends moves the store's clock: keys whose expiry it has
// now passed go at once (a clock stepped ahead), and the next expiry is timed afresh.
//
// A crash takes the store down at once: every command queued or running is answered
// `unavailable` and never takes effect, and the data - held in memory only, as a Redis without
// persistence - is gone, shared rate-limiter state included. It comes back empty.
void KvStore::on_faults_changed(Simulation& sim, const FaultEffects& before) {
  if (faults().clock_rate != before.clock_rate || faults().clock_offset != before.clock_offset) {
    purge_expired(sim);
    expiry_event_ = Time::max();  // a pending event may now be too late; a stale one is harmless
    schedule_expiry(sim);
  }
  if (faults().crashed == before.crashed) return;
  if (!faults().crashed) {
    set_available(sim, true);
    return;
  }
  data_.clear();
  expiries_.clear();  // a pending expiry event now finds nothing to purge
  for (SharedLimiter& l : limiters_) l.limiter = make_rate_limiter(l.config);
  update_memory(sim);
  set_available(sim, false);
}

// --- Commands ----------------------------------------------------------------------------------

Reply KvStore::execute(Simulation& sim, CallHandle h, uint32_t thread) {
  purge_expired(sim);
  const Call& call = sim.call(h);
  const uint64_t key = sim.request(call.request).key;
  const Time now = sim.now();
  const Time local = local_now(sim);
  bool created = false;
  Reply r;
  if (call.op >= kFirstIdempotencyOp) {
    return execute_idempotency(sim, sim.request(call.request).idempotency_key, call.op);
  }
  switch (call.op) {
    case kGet: {
      auto it = data_.find(Key{0, key});
      // The replica judges expiry by its own, true clock (the primary purged by its clock).
      if (thread == kReplica && it != data_.end() && it->second.expires <= now) it = data_.end();
      metrics().count(it != data_.end() ? Counter::cache_hits : Counter::cache_misses);
      if (thread == kReplica && it != data_.end() && it->second.replicated > now) {
        metrics().count(Counter::stale_reads);  // the replica has not seen the latest write
      }
      break;
    }
    case kSet: {
      Entry* e = upsert(sim, Key{0, key}, created);
      if (!e) return Reply::failure(Reason::error);
      set_expiry(sim, Key{0, key}, *e, p_.ttl > Time::zero() ? local + p_.ttl : Time::max());
      e->replicated = replicate(sim);
      break;
    }
    case kIncr:
    case kCheckAndIncr: {
      if (call.op == kCheckAndIncr) {
        auto it = data_.find(Key{0, key});
        if (it != data_.end() && it->second.value >= p_.limit) {
          metrics().count(Counter::rate_limited);
          r = Reply::failure(Reason::rate_limited);
          if (!it->second.expires.is_max()) r.retry_after = it->second.expires - local;
          return r;
        }
      }
      Entry* e = upsert(sim, Key{0, key}, created);
      if (!e) return Reply::failure(Reason::error);
      ++e->value;
      if (created && p_.ttl > Time::zero()) set_expiry(sim, Key{0, key}, *e, local + p_.ttl);
      e->replicated = replicate(sim);
      break;
    }
    default: {
      assert(static_cast<size_t>(call.op - kFirstLimiterOp) < limiter_ops_.size());
      const LimiterOp& op = limiter_ops_[call.op - kFirstLimiterOp];
      SharedLimiter& l = limiters_[op.limiter];
      const uint64_t limited_key = l.keys(key);
      const Key k{1 + op.limiter, limited_key};
      // The state needs an entry in memory; a new one may not fit.
      if (!data_.count(k) && static_cast<int64_t>(data_.size()) >= p_.max_entries) {
        return Reply::failure(Reason::error);
      }
      // The algorithm runs on the caller's clock; the key's TTL counts on the store's.
      const Time at = op.caller->faults().local_time(now);
      Time retry_after;
      const bool admitted = l.limiter->admit(at, limited_key, retry_after);
      const Time forget = l.limiter->forget_at(limited_key);
      if (forget > at) {
        Entry* e = upsert(sim, k, created);
        assert(e);
        set_expiry(sim, k, *e, local + (forget - at));
      } else {
        erase(sim, k);
      }
      if (admitted) {
        replicate(sim);  // the script's writes replicate like any other
      } else {
        metrics().count(Counter::rate_limited);
        r = Reply::failure(Reason::rate_limited);
        r.retry_after = retry_after;
      }
      break;
    }
  }
  return r;
}

Reply KvStore::execute_idempotency(Simulation& sim, uint64_t key, uint16_t op) {
  const uint32_t id = (op - kFirstIdempotencyOp) / 3;
  const IdempotencyTable& table = idempotency_[id];
  const Key k{kIdempotencyNamespace + id, key};
  const Time local = local_now(sim);
  Reply r;
  switch ((op - kFirstIdempotencyOp) % 3) {
    case kClaim: {
      auto it = data_.find(k);
      if (it != data_.end()) {
        r.result = static_cast<uint8_t>(it->second.value);
        return r;  // a read only
      }
      bool created = false;
      Entry* e = upsert(sim, k, created);
      if (!e) return Reply::failure(Reason::error);
      e->value = static_cast<int64_t>(IdempotencyState::in_progress);
      set_expiry(sim, k, *e, table.lease > Time::zero() ? local + table.lease : Time::max());
      e->replicated = replicate(sim);
      r.result = static_cast<uint8_t>(IdempotencyState::absent);
      return r;
    }
    case kComplete: {
      bool created = false;
      Entry* e = upsert(sim, k, created);
      if (!e) return Reply::failure(Reason::error);
      e->value = static_cast<int64_t>(IdempotencyState::completed);
      set_expiry(sim, k, *e, table.ttl > Time::zero() ? local + table.ttl : Time::max());
      e->replicated = replicate(sim);
      return r;
    }
    default: {  // release: only a claim still in progress (a completed key stays)
      auto it = data_.find(k);
      if (it != data_.end() &&
          it->second.value == static_cast<int64_t>(IdempotencyState::in_progress)) {
        erase(sim, k);
        replicate(sim);
      }
      return r;
    }
  }
}

// Replication is one ordered stream: a write reaches the replica `lag` after it was made, but
// never before the writes made earlier. The lag gauge is sampled at each write.
Time KvStore::replicate(Simulation& sim) {
  if (!p_.replica.present) return sim.now();
  stream_tail_ = std::max(stream_tail_, sim.now() + p_.replica.lag.sample(replica_lag_rng_));
  metrics()
      .gauge(Gauge::replication_lag_ms)
      .set(sim.now(), std::llround((stream_tail_ - sim.now()).seconds() * 1e3));
  return stream_tail_;
}

KvStore::Entry* KvStore::upsert(Simulation& sim, const Key& k, bool& created) {
  auto it = data_.find(k);
  created = it == data_.end();
  if (!created) return &it->second;
  if (static_cast<int64_t>(data_.size()) >= p_.max_entries) return nullptr;
  Entry& e = data_[k];
  update_memory(sim);
  return &e;
}

void KvStore::set_expiry(Simulation& sim, const Key& k, Entry& e, Time at) {
  if (e.expires == at) return;
  if (!e.expires.is_max()) expiries_.erase({e.expires, k});
  e.expires = at;
  if (!at.is_max()) {
    expiries_.insert({at, k});
    schedule_expiry(sim);
  }
}

// A shared limiter's key gone from memory takes what its limiter had counted with it.
void KvStore::erase(Simulation& sim, const Key& k) {
  auto it = data_.find(k);
  if (it == data_.end()) return;
  if (!it->second.expires.is_max()) expiries_.erase({it->second.expires, k});
  data_.erase(it);
  if (is_limiter_key(k)) limiters_[k.first - 1].limiter->forget(k.second);
  update_memory(sim);
}

// A key is gone from the instant the store's clock reaches its expiry (Redis's lazy plus active
// expiry, made exact).
void KvStore::purge_expired(Simulation& sim) {
  const Time local = local_now(sim);
  bool changed = false;
  while (!expiries_.empty() && expiries_.begin()->first <= local) {
    const Key k = expiries_.begin()->second;
    data_.erase(k);
    expiries_.erase(expiries_.begin());
    if (is_limiter_key(k)) limiters_[k.first - 1].limiter->forget(k.second);
    changed = true;
  }
  if (changed) update_memory(sim);
}

// One pending event at the earliest expiry, so that memory falls when keys expire, not when the
// next command happens to look. The event is in true time: when the store's clock reaches it.
void KvStore::schedule_expiry(Simulation& sim) {
  if (expiries_.empty()) return;
  const Time first = faults().clock.when(expiries_.begin()->first, sim.now());
  if (first >= expiry_event_) return;
  expiry_event_ = first;
  sim.schedule(first, *this, kExpire, 0);
}

Time KvStore::local_now(const Simulation& sim) const {
  if (!faults().active) [[likely]]
    return sim.now();
  return faults().local_time(sim.now());
}

void KvStore::update_memory(Simulation& sim) {
  metrics()
      .gauge(Gauge::memory_used_bytes)
      .set(sim.now(), static_cast<int64_t>(data_.size()) * p_.entry_size);
}

}  // namespace dsim
