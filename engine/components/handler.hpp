// A service's handler: the steps it runs for each request, on one worker.
//
//   handler:
//     - compute: {exponential: 5ms}          # CPU work on the worker
//     - call: users-db                       # synchronous: the worker waits for the answer
//       op: read_user
//       timeout: 100ms
//       retry: {max_attempts: 3}
//     - publish: email-queue                 # asynchronous: wait only for the broker's ack
//     - parallel:                            # fan-out: wait for all, or for the first k
//         - call: pricing
//         - call: stock
//       wait: all
//     - if: {probability: 0.2}               # or {class: checkout} (the request's workload)
//       then: [{call: fraud-check}]
//       else: [{compute: 1ms}]
//
// Steps are compiled into a flat program (jumps for if/else), so running one is a loop over a
// program counter with no recursion.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "components/call_policy.hpp"
#include "core/distribution.hpp"
#include "core/params.hpp"

namespace dsim {

struct ConditionSpec : ParamGroup {
  double probability = 0.5;
  std::string workload;  // `class`: the request's workload name
  void describe(ParamVisitor& v) override;
  std::string check() override;
};

struct StepSpec : ParamGroup {
  static constexpr const char* kElementName = "step";
  Distribution compute;
  TargetRef call;
  TargetRef publish;
  std::string op;
  bool continue_on_error = false;
  CallPolicy policy;
  ParamList<StepSpec> parallel;
  std::string wait = "all";
  ConditionSpec condition;
  ParamList<StepSpec> then_steps;
  ParamList<StepSpec> else_steps;
  int64_t wait_for = 0;  // parsed from `wait`: 0 means all

  enum class Kind { compute, call, publish, parallel, branch };
  Kind kind = Kind::compute;
  void describe(ParamVisitor& v) override;
  std::string check() override;
  TargetRef& target() { return kind == Kind::publish ? publish : call; }
  const TargetRef& target() const { return kind == Kind::publish ? publish : call; }
};

// One instruction of a compiled handler.
struct Instruction {
  enum class Op : uint8_t {
    compute,
    call,
    parallel,
    branch_probability,
    branch_class,
    jump,
    idempotency_check,    // the service's own claim before its handler (see idempotency.hpp)
    idempotency_complete  // after the handler, with a store: mark the key completed there
  };
  Op op = Op::compute;
  bool continue_on_error = false;
  const Distribution* distribution = nullptr;  // compute
  uint32_t site = 0;                           // call: the Outbound site; parallel: the first
  uint32_t count = 0;                          // parallel: sites site..site+count-1
  uint32_t need = 0;                           // parallel: successes needed
  double probability = 0;                      // branch_probability
  std::string workload;                        // branch_class
  uint32_t workload_index = 0;                 // resolved at start
  uint32_t jump = 0;                           // branch: where the else part starts; jump
};

// A call site the compiled program needs (one per call or publish step, in program order).
struct SiteNeed {
  const StepSpec* step;
};

// Compiles steps into instructions; every call/publish step becomes the next site in `sites`.
void compile_handler(const ParamList<StepSpec>& steps, std::vector<Instruction>& program,
                     std::vector<SiteNeed>& sites);

}  // namespace dsim
