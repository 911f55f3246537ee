// service: c parallel workers in front of a bounded waiting room.
//
// A call that finds a free worker starts at once; otherwise it waits (FIFO, LIFO or by priority);
// when the waiting room is full it is refused with reason queue_full. A worker then either
// spends `service_time` on it (the simple form, a queueing station) or runs the `handler`'s steps
// (compute, synchronous calls, publishes, fan-outs, branches), holding the worker throughout -
// which is how a slow dependency exhausts its callers' workers. Afterwards the call moves on
// along `next` or, with no next, is answered here. Work whose caller has already given up (a
// propagated deadline) is dropped with deadline_exceeded instead of started.
#pragma once

#include "components/handler.hpp"
#include "components/idempotency.hpp"
#include "components/outbound.hpp"
#include "components/route.hpp"
#include "components/wait_queue.hpp"
#include "core/component.hpp"
#include "core/free_list.hpp"
#include "core/params.hpp"

namespace dsim {

struct ServiceParams : ParamsOf<ServiceParams> {
  int64_t workers = 1;
  int64_t queue_capacity = INT64_MAX;  // unbounded
  int discipline = 0;                  // index into kDisciplineNames
  Distribution service_time;
  ParamList<StepSpec> handler;
  RouteSpec next;
  IdempotencySpec idempotency;

  static constexpr const char* kDisciplineNames[] = {"fifo", "lifo", "priority", nullptr};
  void describe(ParamVisitor& v) override;
  std::string check(const std::vector<std::string>& given) override;
};

class Service final : public Component, public CallOwner {
 public:
  Service(const std::string& name, std::unique_ptr<ComponentParams> params);
  void start(Simulation& sim) override;
  void accept(Simulation& sim, CallHandle h) override;
  void on_event(Simulation& sim, const Event& e) override;
  void on_reply(Simulation& sim, CallHandle h, const Reply& r) override;
  void on_call_done(Simulation& sim, uint64_t token, const Reply& reply) override;
  void on_params_changed(Simulation& sim, const std::string& param) override;
  // A crash fails every call held here (waiting or being served) with `unavailable`.
  void on_faults_changed(Simulation& sim, const FaultEffects& before) override;

  const ServiceParams& config() const { return p_; }
  const Outbound& outbound() const { return out_; }

 private:
  enum EventKind : uint32_t { kServed = 0, kStepDone = 1, kCheckDone = 2 };
  // The token of a call whose answer no task waits for (a release sent to the idempotency store).
  static constexpr uint64_t kNoTask = UINT64_MAX;
  // One call being handled by the handler program, on one worker.
  // The exchanges a step started (ids for Outbound::cancel). A call step has one, held inline;
  // a fan-out's others go to `rest`. In a std::vector alone every call's id went to a heap block
  // of its own task's, one more likely cache miss per call.
  class ExchangeIds {
   public:
    void clear() {
      count_ = 0;
      rest_.clear();
    }
    void push_back(uint64_t id) {
      if (count_++ == 0) {
        first_ = id;
      } else {
        rest_.push_back(id);
      }
    }
    template <class F>
    void for_each(F&& f) const {
      if (count_ == 0) return;
      f(first_);
      for (uint64_t id : rest_) f(id);
    }

   private:
    uint64_t first_ = 0;
    uint32_t count_ = 0;
    std::vector<uint64_t> rest_;
  };
  struct Task {
    CallHandle call = 0;
    uint32_t pc = 0;
    uint32_t serial = 0;
    uint32_t pending = 0;  // answers still awaited for the current step
    uint32_t successes = 0, failures = 0;
    uint32_t free_next = 0;  // while the slot is free (FreeList)
    Reason failure = Reason::none;
    bool live = false;
    // Bits, so that the task stays 72 bytes with free_next.
    bool degraded : 1 = false;
    bool recorded_key : 1 = false;  // the idempotency check recorded the request's key
    bool suppressed : 1 = false;    // a repeat answered without running the handler
    bool running : 1 = false;       // inside advance(): answers arriving now are only recorded
    uint8_t claimed : 2 = 0;        // the store's answer to the claim (IdempotencyState)
    ExchangeIds exchanges;          // of the current step: to abandon the rest, or all at a crash
  };

  void begin_service(Simulation& sim, CallHandle h);
  void pull_from_queue(Simulation& sim);
  void update_capacity(Simulation& sim);
  void advance(Simulation& sim, uint32_t slot);
  // Step results: true when the step is over (the program counter has moved or the task ended).
  bool step_settled(Simulation& sim, uint32_t slot);
  void end_task(Simulation& sim, uint32_t slot, Reason reason);
  void release_worker(Simulation& sim);
  void respond(Simulation& sim, CallHandle h, Reason reason, bool degraded);
  bool expired(Simulation& sim, CallHandle h);
  // The claim's outcome: runs the handler, or answers the repeat at once.
  void check_idempotency(Simulation& sim, uint32_t slot, IdempotencyState before);
  void count_side_effect(Simulation& sim, CallHandle h);

  ServiceParams& p_;
  WaitQueue waiting_;
  Router router_;
  Outbound out_{*this, *this};
  std::vector<Instruction> program_;
  std::vector<Task> tasks_;
  FreeList free_tasks_;
  Rng service_rng_;
  Rng routing_rng_;
  Rng branch_rng_;
  ProcessedKeys processed_;
  CompletedKeys completed_;
  // With an idempotency store: its sites for claims, completions and releases.
  uint32_t claim_site_ = UINT32_MAX, complete_site_ = UINT32_MAX, release_site_ = UINT32_MAX;
  int64_t busy_ = 0;
  bool pulling_ = false;  // pull_from_queue is on the stack: nested task ends leave it the work
};

}  // namespace dsim
