// source: generates requests, open loop or closed loop.
//
// Open loop (arrivals keep coming whatever happens downstream): poisson, constant, on_off bursts,
// or a Poisson rate schedule that changes over time. Closed loop: N users, each sending one
// request, waiting for it to end (however it ends), thinking, and sending the next.
// Each request gets a key (uniform or Zipf over K keys), a workload name, a priority and optionally
// an idempotency key; all of a source's requests are for its `path`, if it has one. The source is
// the client: it calls its target under a CallPolicy (timeout, retries with backoff, breaker...)
// and the request ends with the client's final answer.
#pragma once

#include <vector>

#include "components/outbound.hpp"
#include "core/component.hpp"
#include "core/distribution.hpp"
#include "core/params.hpp"

namespace dsim {

struct ArrivalSpec {
  enum class Mode { poisson, constant, on_off, schedule, closed_loop };
  struct Step {
    Time at;
    double rate = 0;  // per second
  };
  Mode mode = Mode::poisson;
  double rate = 1;             // poisson, constant, on_off (the rate while on)
  Distribution on_period;      // on_off
  Distribution off_period;     // on_off
  std::vector<Step> schedule;  // schedule: sorted by `at`, first at 0
  int64_t users = 1;           // closed_loop
  Distribution think_time;     // closed_loop
};

struct KeySpec {
  enum class Mode { none, uniform, zipf };
  Mode mode = Mode::none;
  int64_t keys = 1;
  double exponent = 1.0;  // zipf s
};

struct SourceParams : ParamsOf<SourceParams> {
  TargetRef target;
  ArrivalSpec arrivals;
  std::string workload;  // empty: the source's own name
  std::string path;      // the request path of every request; empty: none
  KeySpec keys;
  int64_t priority = 0;
  CallPolicy call;  // how the client calls `target`: timeout, retries...
  bool idempotency_keys = false;
  int64_t max_requests = INT64_MAX;
  void describe(ParamVisitor& v) override;
};

// Draws keys 0..K-1; under Zipf(s), key k has probability proportional to 1 / (k+1)^s.
class KeySampler {
 public:
  explicit KeySampler(const KeySpec& spec);
  uint64_t next(Rng& rng);
  double probability(uint64_t key) const;  // for analytic checks

 private:
  KeySpec spec_;
  std::vector<double> cumulative_;  // zipf only
  // Zipf only: guide_[j] is the answer for u = j / G (G = guide_.size() - 1), so the answer for
  // any u in [j/G, (j+1)/G) lies in [guide_[j], guide_[j+1]] - a search over a few entries
  // instead of the whole table (Chen and Asau's guide table; the draws are unchanged).
  std::vector<uint32_t> guide_;
  // Zipf only: the next two uniforms, drawn ahead from the same stream in the same order (so the
  // keys are unchanged). Both tables are too big for the caches and a draw reads one line of
  // each, the second depending on the first: drawing ahead lets each draw prefetch the guide
  // line of the draw after next and the table line of the next one, so its own are at hand.
  double ahead_[2] = {0, 0};
  bool primed_ = false;
  size_t bucket(double u) const;
};

class Source final : public Component, public CallOwner {
 public:
  Source(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_reply(Simulation& sim, CallHandle h, const Reply& r) override;
  void on_call_done(Simulation& sim, uint64_t token, const Reply& reply) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_request_finished(Simulation& sim, const Request& r, Outcome o) override;
  void on_params_changed(Simulation& sim, const std::string& param) override;

  uint64_t generated() const { return generated_; }
  // The path of every request this source generates ("" for none). Requests do not carry it: a
  // component that routes by path looks it up here through Request::source.
  const std::string& path() const { return p_.path; }

 private:
  enum EventKind : uint32_t { kArrival = 0, kUserReady = 1, kPhaseEnd = 2 };
  static constexpr uint32_t kOpenLoopClient = UINT32_MAX;  // Request::client of open-loop requests
  void emit(Simulation& sim, uint32_t client);
  void schedule_next_arrival(Simulation& sim);
  Time next_open_loop_arrival(Time now);
  void reset_arrival_state(Simulation& sim);
  void begin_phase(Simulation& sim, bool on);
  void wake_idle_users(Simulation& sim);
  bool user_active(size_t u) const;

  SourceParams& p_;
  Outbound out_{*this, *this};
  uint32_t workload_ = 0;
  KeySampler key_sampler_;
  Rng arrival_rng_;
  Rng key_rng_;
  uint64_t generated_ = 0;
  uint64_t generation_ = 0;  // invalidates a pending arrival after a live rate change
  // Closed loop: what each user is doing. Live changes of `users` or of the arrival mode act on
  // idle users only, so no user ever has two requests or two think timers at once.
  enum class UserState : uint8_t { idle, thinking, waiting };
  std::vector<UserState> users_;
  // constant: arrivals at anchor + k / rate (no drift from rounding).
  Time anchor_;
  int64_t constant_k_ = 0;
  // on_off: the current phase, when it ends, and a counter that invalidates pending phase ends.
  bool on_ = true;
  Time phase_end_;
  uint64_t phase_generation_ = 0;
  ArrivalSpec::Mode running_mode_ = ArrivalSpec::Mode::poisson;  // open-loop mode in force
};

}  // namespace dsim
