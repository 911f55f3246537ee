#include "components/call_policy.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/random.hpp"

namespace dsim {

bool parse_reasons(const std::string& text, ReasonMask& out, std::string& error) {
  out = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(',', i);
    if (j == std::string::npos) j = text.size();
    std::string word = text.substr(i, j - i);
    while (!word.empty() && std::isspace(static_cast<unsigned char>(word.front())))
      word.erase(0, 1);
    while (!word.empty() && std::isspace(static_cast<unsigned char>(word.back()))) word.pop_back();
    i = j + 1;
    if (word.empty()) continue;
    if (word == "all") {
      out |= kAllReasons;
      continue;
    }
    bool found = false;
    for (int r = 1; r < kReasonCount; ++r) {
      if (word == to_string(static_cast<Reason>(r))) {
        out |= ReasonMask{1} << r;
        found = true;
      }
    }
    if (!found) {
      std::string all;
      for (int r = 1; r < kReasonCount; ++r) {
        all += std::string(all.empty() ? "" : ", ") + to_string(static_cast<Reason>(r));
      }
      error = "unknown failure reason '" + word + "'; reasons are all, " + all;
      return false;
    }
  }
  if (out == 0) {
    error = "expected at least one failure reason (or all)";
    return false;
  }
  return true;
}

Time backoff_wait(const RetrySpec& r, int retry_index, Time previous, Rng& rng) {
  const double base = static_cast<double>(r.base.count_ns());
  const double cap = static_cast<double>(r.cap.count_ns());
  double t = base;
  if (r.backoff == RetrySpec::exponential) t = std::ldexp(base, std::clamp(retry_index, 0, 62));
  t = std::min(t, cap);
  double sleep = t;
  switch (r.jitter) {
    case RetrySpec::none:
      break;
    case RetrySpec::full:
      sleep = rng.uniform01() * t;
      break;
    case RetrySpec::equal:
      sleep = t / 2 + rng.uniform01() * (t / 2);
      break;
    case RetrySpec::decorrelated: {
      const double hi = 3.0 * static_cast<double>(previous.count_ns());
      sleep = std::min(cap, base + rng.uniform01() * std::max(0.0, hi - base));
      break;
    }
  }
  return Time::ns(static_cast<int64_t>(sleep));
}

void RetryBudgetSpec::describe(ParamVisitor& v) {
  v.number({"ratio", "fraction",
            "Retries allowed as a share of the calls made in the last `window` (0.1: at most one "
            "retry per ten calls)."},
           ratio, 0, 1000);
  v.number({"min_per_second", "rate",
            "Retries per second allowed on top of the ratio, so that a caller with little traffic "
            "can still retry."},
           min_per_second, 0, 1e9);
  v.duration({"window", "duration", "How far back calls and retries are counted."}, window);
}

void RetrySpec::describe(ParamVisitor& v) {
  v.count({"max_attempts", "count", "Attempts in all, the first included (1: never retry)."},
          max_attempts, 1, 1000);
  v.choice({"backoff", "choice",
            "Wait before retry n (n = 0, 1, ...): constant (`base`) or exponential "
            "(min(cap, base * 2^n))."},
           backoff, kBackoffNames);
  v.duration({"base", "duration", "The first (or every, with constant backoff) wait."}, base);
  v.duration({"cap", "duration", "The longest wait."}, cap);
  v.choice({"jitter", "choice",
            "Randomisation of the wait t, as defined in the AWS Architecture Blog: none (t), full "
            "(uniform 0..t), equal (t/2 + uniform 0..t/2), decorrelated (min(cap, uniform(base, "
            "3 x previous wait)))."},
           jitter, kJitterNames);
  v.text({"on", "reasons",
          "Failure reasons worth retrying, comma-separated (or `all`). Refusals by this caller's "
          "own breaker or bulkhead are never retried."},
         on);
  v.flag({"respect_retry_after", "bool",
          "Wait at least the Retry-After a 429 answer carries (a well-behaved client)."},
         respect_retry_after);
  v.group({"budget", "block",
           "Retry budget: `{ratio: 0.1, min_per_second: 0, window: 10s}`. Absent: no budget."},
          budget);
}

std::string RetrySpec::check() {
  std::string error;
  if (!parse_reasons(on, retry_on, error)) return "on: " + error;
  if (cap < base) return "cap (the longest wait) is shorter than base";
  return {};
}

void CircuitBreakerSpec::describe(ParamVisitor& v) {
  v.number({"failure_rate", "fraction",
            "Opens when at least this share of the calls in the window failed."},
           failure_rate, 0, 1);
  v.number({"slow_call_rate", "fraction",
            "Opens when at least this share of the calls in the window were slow (1: only when "
            "all were)."},
           slow_call_rate, 0, 1);
  v.duration({"slow_call_duration", "duration", "A call that takes longer than this is slow."},
             slow_call_duration);
  v.count({"window", "count", "The breaker judges the last this many calls."}, window, 1,
          1'000'000);
  v.count(
      {"minimum_calls", "count", "Calls needed in the window before the rates are judged at all."},
      minimum_calls, 1, 1'000'000);
  v.duration({"open_duration", "duration",
              "Time the breaker stays open (refusing calls) before letting probes through."},
             open_duration);
  v.count({"half_open_calls", "count",
           "Probe calls let through while half-open; their results decide open or closed."},
          half_open_calls, 1, 1'000'000);
}

std::string CircuitBreakerSpec::check() {
  if (minimum_calls > window) return "minimum_calls is larger than window, so it never opens";
  if (failure_rate <= 0) return "failure_rate must be above 0 (0 would open on success)";
  if (slow_call_rate <= 0) return "slow_call_rate must be above 0";
  return {};
}

void FallbackSpec::describe(ParamVisitor& v) {
  v.duration({"latency", "duration", "Time to produce the fallback answer."}, latency);
  v.text({"on", "reasons", "Failure reasons the fallback covers, comma-separated, or `all`."}, on);
}

std::string FallbackSpec::check() {
  std::string error;
  if (!parse_reasons(on, reasons, error)) return "on: " + error;
  return {};
}

void CallPolicy::describe(ParamVisitor& v) {
  v.duration({"timeout", "duration",
              "How long the caller waits for each attempt before giving up on it (0: for ever). "
              "The callee is not told and finishes the work anyway, unless deadlines propagate.",
              false, true},
             timeout);
  v.flag({"propagate_deadline", "bool",
          "Send the caller's give-up instant with the call; components downstream then drop work "
          "whose caller has already given up (reason deadline_exceeded)."},
         propagate_deadline);
  v.group({"retry", "block",
           "Retry failed attempts: `{max_attempts, backoff, base, cap, jitter, on, "
           "respect_retry_after, budget}`. Absent: one attempt."},
          retry);
  v.group({"circuit_breaker", "block",
           "A circuit breaker on this call: `{failure_rate, slow_call_rate, slow_call_duration, "
           "window, minimum_calls, open_duration, half_open_calls}`."},
          circuit_breaker);
  v.count({"bulkhead", "count",
           "At most this many attempts outstanding at once; more fail at once with "
           "bulkhead_full. `unbounded` for no limit.",
           false, true},
          bulkhead, 1, INT64_MAX);
  v.group({"fallback", "block",
           "Answer with a cached or default response when the call finally fails: `{latency, "
           "on}`; such answers count as degraded."},
          fallback);
}

}  // namespace dsim
