#include "faults/local_faults.hpp"

#include <algorithm>

#include "components/database.hpp"
#include "components/gateway.hpp"
#include "components/queue.hpp"
#include "faults/fault_controller.hpp"
#include "scenario/suggest.hpp"

namespace dsim {
namespace {

// A source models the clients: it serves no calls and spends no time of its own, so the faults
// that act on a server would do nothing to it - an error, not a silent no-op.
constexpr const char* kSourceIsTheClients =
    "a source models the clients: it serves no calls and has no work of its own; change its "
    "traffic with arrivals or schedule, or fault the components it calls";

// A sink answers every call at once: it has no time of its own to stretch.
constexpr const char* kSinkTakesNoTime =
    "a sink answers at once, with no time of its own to stretch; add latency to the calls to it "
    "with a network fault instead";

}  // namespace

// --- crash ----------------------------------------------------------------------------------

void CrashFault::describe_kind(ParamVisitor& v) {
  v.duration({"restart_after", "duration",
              "The component comes back this long after the crash (the same as duration). "
              "Absent, with no duration or end: it stays down."},
             restart_after);
  v.choice({"mode", "choice",
            "What the callers of the crashed component see. reset (the process died; its host "
            "resets the connections): calls it held and new calls fail at once with "
            "unavailable. hang (the machine vanished): nothing answers them, and callers wait "
            "until their own timeout.",
            false, true},
           mode, kModeNames);
}

std::string CrashFault::check_kind(const std::vector<std::string>& given) {
  if (std::find(given.begin(), given.end(), "restart_after") == given.end()) return {};
  if (duration_given || end_given) return "give restart_after or duration/end, not both";
  if (restart_after <= Time::zero()) return "restart_after: must be longer than zero";
  return {};
}

std::string CrashFault::check_target(const std::string& kind, const ComponentParams&) const {
  return kind == "source" ? kSourceIsTheClients : "";
}

void CrashFault::contribute(FaultState& s, const ActiveFault&) const {
  s.active = true;
  s.crashed = true;
  // Two crashes at once: a vanished machine answers nothing, whatever the other says.
  s.crash_hangs |= mode == hang;
}

// --- disk_full ------------------------------------------------------------------------------

void DiskFullFault::describe_kind(ParamVisitor& v) {
  v.size({"fill_per_second", "size",
          "Zero: the disk is full at once. Otherwise something else (logs, a runaway table) takes "
          "this many bytes each second from the fault's start, and writes fail once the disk's "
          "capacity is used up (a database needs disk.capacity)."},
         fill_per_second);
}

std::string DiskFullFault::check_target(const std::string& kind, const ComponentParams& p) const {
  if (kind == "database") {
    const auto& db = static_cast<const DatabaseParams&>(p);
    if (fill_per_second > 0 && db.disk.capacity <= 0) {
      return "a gradual fill needs the database's disk.capacity";
    }
    return {};
  }
  if (kind == "queue") {
    if (!static_cast<const QueueParams&>(p).durable) return "the queue is not durable";
    if (fill_per_second > 0)
      return "a queue's disk has no capacity to fill: give no fill_per_second";
    return {};
  }
  return "only a database or a durable queue writes to disk";
}

void DiskFullFault::contribute(FaultState& s, const ActiveFault& f) const {
  s.active = true;
  if (fill_per_second <= 0) {
    s.disk_full = true;
  } else {
    // Two gradual fills add up; the earlier start counts for both (a simplification).
    s.disk_fill_per_second += fill_per_second;
    s.disk_fill_since = std::min(s.disk_fill_since, f.start);
  }
}

// --- slow -----------------------------------------------------------------------------------

void SlowFault::describe_kind(ParamVisitor& v) {
  v.number({"factor", "factor", "Service times are multiplied by this.", false, true}, factor, 1e-3,
           1e6);
  v.duration({"latency", "duration", "And this is added to each service time.", false, true},
             latency);
  v.target({"from", "component",
            "Only calls from this component are slowed (a route caller -> target): the slow "
            "third-party provider as one caller sees it."},
           from);
}

std::string SlowFault::check_kind(const std::vector<std::string>& given) {
  const bool f = std::find(given.begin(), given.end(), "factor") != given.end();
  const bool l = std::find(given.begin(), given.end(), "latency") != given.end();
  if (!f && !l) return "give factor, latency or both (how much slower?)";
  return {};
}

std::string SlowFault::resolve(const ComponentDirectory& components, Location& where) {
  if (from.name.empty()) return {};
  where = from.where;
  if (std::string e = components.resolve(from, "from"); !e.empty()) return e;
  // A route that carries no call would slow nothing: an error, as any fault that does nothing.
  std::vector<uint32_t> side;
  Location ignored;
  if (!resolve_target_list(targets, components, "targets", side, ignored).empty()) {
    return {};  // (reported for the targets themselves)
  }
  for (uint32_t t : side) {
    if (!components.sends_to(from.index, t)) {
      return "from: " + quote_text(from.name) + " never calls " +
             quote_text(components.entries()[t].name) + ", so no call on that route is slowed";
    }
  }
  return {};
}

void SlowFault::contribute(FaultState& s, const ActiveFault& f) const {
  const double k = 1 + (factor - 1) * f.intensity;
  const Time add = Time::from_seconds(latency.seconds() * f.intensity);
  s.active = true;
  if (from.name.empty()) {
    s.time_factor *= k;
    s.added_latency += add;
  } else {
    s.routes.push_back({from.index, k, add});
  }
}

// --- error_rate -----------------------------------------------------------------------------

std::string SlowFault::check_target(const std::string& kind, const ComponentParams&) const {
  if (kind == "source") return kSourceIsTheClients;
  if (kind == "sink") return kSinkTakesNoTime;
  return {};
}

void ErrorRateFault::describe_kind(ParamVisitor& v) {
  v.number({"fraction", "fraction", "Fraction of calls answered with `error`.", true, true},
           fraction, 0, 1);
}

std::string ErrorRateFault::check_target(const std::string& kind, const ComponentParams&) const {
  return kind == "source" ? kSourceIsTheClients : "";
}

void ErrorRateFault::contribute(FaultState& s, const ActiveFault& f) const {
  s.active = true;
  // Independent faults: a call escapes only if it escapes each.
  s.error_fraction = 1 - (1 - s.error_fraction) * (1 - fraction * f.intensity);
}

// --- cpu_stress -----------------------------------------------------------------------------

void CpuStressFault::describe_kind(ParamVisitor& v) {
  v.number(
      {"fraction", "fraction",
       "Fraction f of the CPU the neighbour takes; service times stretch by 1/(1-f).", true, true},
      fraction, 0, 0.99);
}

std::string CpuStressFault::check_target(const std::string& kind, const ComponentParams&) const {
  if (kind == "source") return kSourceIsTheClients;
  if (kind == "sink") return kSinkTakesNoTime;
  return {};
}

void CpuStressFault::contribute(FaultState& s, const ActiveFault& f) const {
  s.active = true;
  s.time_factor /= 1 - fraction * f.intensity;
}

// --- clock_skew -----------------------------------------------------------------------------

void ClockSkewFault::describe_kind(ParamVisitor& v) {
  v.duration({"offset", "duration",
              "The component's clock reads this much ahead (or behind): expiry and rate-limit "
              "windows are judged by it. It steps at the fault's start and end.",
              false, true},
             offset);
  v.choice({"direction", "choice", "Whether the clock is ahead or behind."}, direction,
           kDirectionNames);
  v.number({"rate", "factor",
            "The component's clock runs this much faster than real time: its timers of length d "
            "fire after d/rate. The time it gains (or loses) is set right when the fault ends.",
            false, true},
           rate, 0.01, 100);
}

std::string ClockSkewFault::check_kind(const std::vector<std::string>& given) {
  const bool o = std::find(given.begin(), given.end(), "offset") != given.end();
  const bool r = std::find(given.begin(), given.end(), "rate") != given.end();
  if (!o && !r) return "give offset, rate or both (how is the clock wrong?)";
  return {};
}

std::string ClockSkewFault::check_target(const std::string& kind, const ComponentParams& p) const {
  if (kind == "queue" && rate == 1) {
    return "a queue's only timer is a duration (the visibility timeout), which an offset does not "
           "change: give a rate";
  }
  if (kind == "cache" || kind == "queue" || kind == "kv_store") return {};
  if (kind == "gateway") {
    if (static_cast<const GatewayParams&>(p).limiters.empty()) {
      return "the gateway has no rate limiters, its only clock-driven timers";
    }
    return {};
  }
  return "only a cache (entry expiry), a queue (visibility timeout), a gateway (its rate "
         "limiters' windows and buckets) and a kv_store (key expiry) honour clock_skew";
}

void ClockSkewFault::contribute(FaultState& s, const ActiveFault& f) const {
  s.active = true;
  const Time o = Time::from_seconds(offset.seconds() * f.intensity);
  if (direction == 0) {
    s.clock_offset += o;
  } else {
    s.clock_offset -= o;
  }
  s.clock_rate *= 1 + (rate - 1) * f.intensity;
}

}  // namespace dsim
