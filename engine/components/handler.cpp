#include "components/handler.hpp"

#include <cctype>

namespace dsim {

void ConditionSpec::describe(ParamVisitor& v) {
  v.number({"probability", "fraction", "Take the `then` branch with this probability."},
           probability, 0, 1);
  v.text({"class", "name", "Take the `then` branch for requests of this workload."}, workload);
}

std::string ConditionSpec::check() {
  const bool p = has("probability"), c = has("class");
  if (p == c) return "give exactly one of probability or class";
  return {};
}

void StepSpec::describe(ParamVisitor& v) {
  v.distribution({"compute", "distribution",
                  "Work on the service's worker for this long (the worker is busy)."},
                 compute);
  v.target({"call", "component",
            "Call a component synchronously: the worker is held until the answer or the "
            "timeout."},
           call);
  v.target({"publish", "component",
            "Publish a message to a queue; the worker waits only for the broker's "
            "acknowledgement."},
           publish);
  v.text({"op", "name",
          "Operation at the called component (a database's query class, a cache's get or set, "
          "a kv_store's command...). Absent: the component's default."},
         op);
  v.flag({"continue_on_error", "bool",
          "Go on with the next step when this call finally fails (else the handler fails with "
          "the call's reason)."},
         continue_on_error);
  policy.describe(v);
  v.list({"parallel", "steps",
          "Fan-out: call (or publish to) every listed component at once and wait as `wait` "
          "says. Each entry is a call or publish step with its own policy."},
         parallel);
  v.text({"wait", "all or a count",
          "For parallel: `all`, `any` or how many successes to wait for (the rest are "
          "abandoned)."},
         wait);
  v.group({"if", "block", "A condition: `{probability: 0.2}` or `{class: checkout}`."}, condition);
  v.list({"then", "steps", "Steps run when the `if` condition holds."}, then_steps);
  v.list({"else", "steps", "Steps run when it does not."}, else_steps);
}

std::string StepSpec::check() {
  int kinds = 0;
  if (has("compute")) kind = Kind::compute, ++kinds;
  if (has("call")) kind = Kind::call, ++kinds;
  if (has("publish")) kind = Kind::publish, ++kinds;
  if (has("parallel")) kind = Kind::parallel, ++kinds;
  if (has("if")) kind = Kind::branch, ++kinds;
  if (kinds != 1) {
    return "a step is exactly one of compute, call, publish, parallel or if (" +
           std::string(kinds == 0 ? "none" : "several") + " given)";
  }
  const bool is_call = kind == Kind::call || kind == Kind::publish;
  for (const char* key : {"op", "timeout", "propagate_deadline", "retry", "circuit_breaker",
                          "bulkhead", "fallback", "continue_on_error"}) {
    if (has(key) && !is_call &&
        !(kind == Kind::parallel && std::string(key) == "continue_on_error")) {
      return std::string("'") + key + "' applies to call and publish steps only";
    }
  }
  if ((has("then") || has("else")) && kind != Kind::branch) {
    return "'then' and 'else' belong to an 'if' step";
  }
  if (has("wait") && kind != Kind::parallel) return "'wait' belongs to a 'parallel' step";
  if (kind == Kind::branch && !has("then") && !has("else")) {
    return "an 'if' step needs 'then' or 'else' steps";
  }
  if (kind == Kind::publish) op = op.empty() ? "publish" : op;
  if (is_call) target().op = op;
  if (kind == Kind::parallel) {
    if (parallel.empty()) return "'parallel' needs at least one call";
    for (const StepSpec& s : parallel) {
      if (s.kind != Kind::call && s.kind != Kind::publish) {
        return "each entry of 'parallel' must be a call or publish step";
      }
    }
    const auto n = static_cast<int64_t>(parallel.size());
    if (wait == "all") {
      wait_for = n;
    } else if (wait == "any") {
      wait_for = 1;
    } else {
      int64_t k = 0;
      for (char c : wait) {
        if (!std::isdigit(static_cast<unsigned char>(c)) || k > 1'000'000) {
          return "wait: expected all, any or a count, got '" + wait + "'";
        }
        k = k * 10 + (c - '0');
      }
      if (wait.empty() || k < 1 || k > n) {
        return "wait: must be between 1 and the " + std::to_string(n) + " parallel calls, got '" +
               wait + "'";
      }
      wait_for = k;
    }
  }
  return {};
}

namespace {

void compile(const ParamList<StepSpec>& steps, std::vector<Instruction>& program,
             std::vector<SiteNeed>& sites) {
  for (const StepSpec& s : steps) {
    Instruction in;
    switch (s.kind) {
      case StepSpec::Kind::compute:
        in.op = Instruction::Op::compute;
        in.distribution = &s.compute;
        program.push_back(in);
        break;
      case StepSpec::Kind::call:
      case StepSpec::Kind::publish:
        in.op = Instruction::Op::call;
        in.site = static_cast<uint32_t>(sites.size());
        in.continue_on_error = s.continue_on_error;
        sites.push_back({&s});
        program.push_back(in);
        break;
      case StepSpec::Kind::parallel:
        in.op = Instruction::Op::parallel;
        in.site = static_cast<uint32_t>(sites.size());
        in.count = static_cast<uint32_t>(s.parallel.size());
        in.need = static_cast<uint32_t>(s.wait_for);
        in.continue_on_error = s.continue_on_error;
        for (const StepSpec& c : s.parallel) sites.push_back({&c});
        program.push_back(in);
        break;
      case StepSpec::Kind::branch: {
        // branch (to else when false); then...; jump end; else...; end:
        const size_t branch_at = program.size();
        if (s.condition.has("probability")) {
          in.op = Instruction::Op::branch_probability;
          in.probability = s.condition.probability;
        } else {
          in.op = Instruction::Op::branch_class;
          in.workload = s.condition.workload;
        }
        program.push_back(in);
        compile(s.then_steps, program, sites);
        const size_t jump_at = program.size();
        Instruction jump;
        jump.op = Instruction::Op::jump;
        program.push_back(jump);
        program[branch_at].jump = static_cast<uint32_t>(program.size());
        compile(s.else_steps, program, sites);
        program[jump_at].jump = static_cast<uint32_t>(program.size());
        break;
      }
    }
  }
}

}  // namespace

void compile_handler(const ParamList<StepSpec>& steps, std::vector<Instruction>& program,
                     std::vector<SiteNeed>& sites) {
  program.clear();
  sites.clear();
  compile(steps, program, sites);
}

}  // namespace dsim
