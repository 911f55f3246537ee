#include "output/trace_recorder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/simulation.hpp"
#include "output/fixed_point.hpp"
#include "output/json_writer.hpp"

namespace dsim {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Trace timestamps are microseconds; three decimals keep every nanosecond.
std::string micros(Time t) {
  return fixed_point_text(t.count_ns(), 3);
}

}  // namespace

// --- Sampling -------------------------------------------------------------------------------

TraceRecorder::TraceRecorder(double fraction, uint64_t seed)
    : salt_(splitmix64(seed ^ 0x7472616365ull /* "trace" */)) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  all_ = fraction >= 1.0;
  threshold_ =
      all_ ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(std::ldexp(fraction, 64));
}

bool TraceRecorder::sampled(uint64_t request_id) const {
  return all_ || splitmix64(salt_ + request_id) < threshold_;
}

// --- Hops -----------------------------------------------------------------------------------

int32_t TraceRecorder::open_hop(CallHandle h, uint32_t serial) const {
  if (h >= open_by_call_.size()) return -1;
  const int32_t i = open_by_call_[h];
  return i >= 0 && hops_[static_cast<size_t>(i)].serial == serial ? i : -1;
}

void TraceRecorder::close_hop(int32_t index, Time at) {
  Hop& hop = hops_[static_cast<size_t>(index)];
  hop.end = at;
  auto it = open_by_request_.find(hop.request_id);
  if (it != open_by_request_.end()) {
    auto& open = it->second;
    open.erase(std::find(open.begin(), open.end(), index));
    if (open.empty()) open_by_request_.erase(it);
  }
  open_by_call_[hop.call] = -1;
}

void TraceRecorder::on_call_delivered(const Simulation& sim, CallHandle h, const Call& call) {
  Hop hop;
  const int32_t forwarded_from = open_hop(h, call.serial);
  if (forwarded_from >= 0) {
    // The same call, passed on: the hop at the forwarder ends here and a new one starts.
    close_hop(forwarded_from, sim.now());
    Hop& before = hops_[static_cast<size_t>(forwarded_from)];
    before.how = HopEnd::forwarded;
    hop = before;
    hop.previous = forwarded_from;
  } else {
    const Request& r = sim.request(call.request);
    if (!sampled(r.id)) return;
    hop.request_id = r.id;
    hop.workload = r.workload;
    auto it = open_by_request_.find(r.id);
    if (it != open_by_request_.end()) {
      for (auto k = it->second.rbegin(); k != it->second.rend(); ++k) {
        if (hops_[static_cast<size_t>(*k)].component == call.caller) {
          hop.parent = *k;
          break;
        }
      }
    }
    hop.previous = -1;
  }
  hop.start = sim.now();
  hop.end = sim.now();
  hop.component = call.callee;
  hop.caller = call.caller;
  hop.call = h;
  hop.serial = call.serial;
  hop.attempt = call.attempt;
  hop.op = call.op;
  hop.how = HopEnd::open;
  const auto index = static_cast<int32_t>(hops_.size());
  hops_.push_back(hop);
  if (h >= open_by_call_.size()) open_by_call_.resize(h + 1, -1);
  open_by_call_[h] = index;
  open_by_request_[hop.request_id].push_back(index);
}

void TraceRecorder::on_call_replied(const Simulation& sim, CallHandle h, const Call& call,
                                    const Reply& reply) {
  const int32_t i = open_hop(h, call.serial);
  if (i < 0) return;  // not sampled, or answered without ever being delivered
  close_hop(i, sim.now());
  Hop& hop = hops_[static_cast<size_t>(i)];
  hop.how = call.caller == kNoComponent ? HopEnd::abandoned : HopEnd::replied;
  hop.reason = reply.reason;
  hop.degraded = reply.degraded;
}

// --- Counters -------------------------------------------------------------------------------

void TraceRecorder::on_window(const Simulation& sim, const WindowReport& report) {
  // Only changes are kept: a counter track holds its value until the next point. A track starts
  // (with a zero at the window's start) the first time its level leaves zero, so components that
  // never queue anything - sources, sinks - get no track at all.
  last_queue_.resize(report.rows.size(), 0);
  last_dlq_.resize(report.rows.size(), 0);
  auto point = [&](uint32_t component, bool dlq, int64_t value, int64_t& last) {
    if (value == last) return;
    if (last == 0 && !started_[component * 2 + dlq]) {
      counters_.push_back({report.start, component, dlq, 0});
    }
    started_[component * 2 + dlq] = true;
    counters_.push_back({report.end, component, dlq, value});
    last = value;
  };
  started_.resize(report.rows.size() * 2, false);
  for (const WindowRow& r : report.rows) {
    point(r.component, false, r.queue_depth, last_queue_[r.component]);
    if (sim.components()[r.component]->metrics().uses(Gauge::dlq_depth)) {
      point(r.component, true, r.gauges[static_cast<int>(Gauge::dlq_depth)],
            last_dlq_[r.component]);
    }
  }
}

// --- Writing --------------------------------------------------------------------------------

std::string TraceRecorder::to_json(const Simulation& sim) const {
  const auto& components = sim.components();
  const Time now = sim.now();
  auto end_of = [&](const Hop& h) { return h.how == HopEnd::open ? now : h.end; };

  // Slices on one track must nest or be disjoint, but a component serves many calls at once.
  // Each component's hops are spread over lanes (threads of its process), first fit in start
  // order; a lane is reused only after a gap, so every instant belongs to one slice per lane and
  // flow events bind to the right slice.
  std::vector<uint32_t> tid(hops_.size());
  std::vector<std::vector<Time>> lane_ends(components.size());
  std::vector<std::vector<uint32_t>> lane_tids(components.size());
  uint32_t next_tid = 1;
  for (size_t i = 0; i < hops_.size(); ++i) {  // hops are in start order (made as time advances)
    const Hop& h = hops_[i];
    auto& ends = lane_ends[h.component];
    size_t lane = 0;
    while (lane < ends.size() && !(ends[lane] < h.start)) ++lane;
    if (lane == ends.size()) {
      ends.push_back(end_of(h));
      lane_tids[h.component].push_back(next_tid++);
    } else {
      ends[lane] = end_of(h);
    }
    tid[i] = lane_tids[h.component][lane];
  }
  const auto pid = [](uint32_t component) { return static_cast<int64_t>(component) + 1; };

  std::string out = "{\"traceEvents\":[\n";
  bool first = true;
  auto emit = [&](JsonWriter& j) {
    if (!first) out += ",\n";
    first = false;
    out += j.str();
  };
  auto metadata = [&](const char* name, int64_t p, int64_t t, const char* key,
                      const std::string& text, int64_t number) {
    JsonWriter j(false);
    j.begin_object().key("ph").value("M").key("name").value(name).key("pid").value(p);
    if (t >= 0) j.key("tid").value(t);
    j.key("args").begin_object().key(key);
    if (text.empty()) {
      j.value(number);
    } else {
      j.value(text);
    }
    j.end_object().end_object();
    emit(j);
  };
  for (size_t c = 0; c < components.size(); ++c) {
    const auto p = pid(static_cast<uint32_t>(c));
    metadata("process_name", p, -1, "name",
             components[c]->name() + " (" + components[c]->kind() + ")", 0);
    metadata("process_sort_index", p, -1, "sort_index", "", static_cast<int64_t>(c));
    for (size_t lane = 0; lane < lane_tids[c].size(); ++lane) {
      metadata("thread_name", p, lane_tids[c][lane], "name", "lane " + std::to_string(lane + 1), 0);
      metadata("thread_sort_index", p, lane_tids[c][lane], "sort_index", "",
               static_cast<int64_t>(lane));
    }
  }

  auto flow = [&](const char* ph, size_t hop_index, size_t at_hop, Time at) {
    JsonWriter j(false);
    j.begin_object().key("ph").value(ph).key("cat").value("call").key("name").value("call");
    j.key("id").value(static_cast<uint64_t>(hop_index + 1));
    j.key("pid")
        .value(pid(hops_[at_hop].component))
        .key("tid")
        .value(static_cast<int64_t>(tid[at_hop]));
    j.key("ts").raw_number(micros(at));
    if (ph[0] == 'f') j.key("bp").value("e");  // bind to the slice that starts here
    j.end_object();
    emit(j);
  };
  for (size_t i = 0; i < hops_.size(); ++i) {
    const Hop& h = hops_[i];
    const int32_t from = h.previous >= 0 ? h.previous : h.parent;
    // The arrow leaves the caller's (or forwarder's) slice at the moment of the call.
    if (from >= 0) flow("s", i, static_cast<size_t>(from), h.start);
    JsonWriter j(false);
    j.begin_object().key("ph").value("X");
    j.key("name").value(components[h.component]->name());
    j.key("cat").value(components[h.component]->kind());
    j.key("pid").value(pid(h.component)).key("tid").value(static_cast<int64_t>(tid[i]));
    j.key("ts").raw_number(micros(h.start));
    j.key("dur").raw_number(micros(end_of(h) - h.start));
    j.key("args").begin_object();
    j.key("request").value(h.request_id);
    j.key("workload").value(sim.workloads()[h.workload].name);
    j.key("hop").value(static_cast<uint64_t>(i + 1));
    j.key("parent").value(static_cast<int64_t>(h.parent + 1));  // 0: called by the source
    if (h.previous >= 0) j.key("forwarded_from").value(static_cast<int64_t>(h.previous + 1));
    j.key("caller").value(h.caller < components.size() ? components[h.caller]->name() : "");
    j.key("attempt").value(static_cast<int64_t>(h.attempt));
    if (h.op) j.key("op").value(static_cast<int64_t>(h.op));
    const char* outcome = "ok";
    switch (h.how) {
      case HopEnd::open:
        outcome = "open";
        break;
      case HopEnd::forwarded:
        outcome = "forwarded";
        break;
      case HopEnd::abandoned:
      case HopEnd::replied:
        if (h.reason != Reason::none) outcome = to_string(h.reason);
        break;
    }
    j.key("outcome").value(outcome);
    // A call still open may have been given up by its caller already (a timeout).
    const bool given_up = h.how == HopEnd::abandoned ||
                          (h.how == HopEnd::open && sim.calls().is_current(h.call, h.serial) &&
                           sim.calls()[h.call].caller == kNoComponent);
    if (given_up) j.key("abandoned").value(true);
    if (h.degraded) j.key("degraded").value(true);
    j.end_object().end_object();
    emit(j);
    if (from >= 0) flow("f", i, i, h.start);
  }

  for (const CounterPoint& c : counters_) {
    JsonWriter j(false);
    j.begin_object().key("ph").value("C").key("name").value(c.dlq ? "dlq" : "queue");
    j.key("pid").value(pid(c.component)).key("ts").raw_number(micros(c.at));
    j.key("args").begin_object().key("depth").value(c.value).end_object();
    j.end_object();
    emit(j);
  }

  JsonWriter tail(false);
  tail.begin_object();
  tail.key("schema").value("dsim.trace/1");
  tail.key("scenario").value(sim.scenario_name());
  tail.key("seed").value(sim.seed());
  tail.key("complete").value(sim.complete());
  tail.key("simulated_s").raw_number(fixed_point_text(now.count_ns(), 9));
  std::vector<uint64_t> requests;
  for (const Hop& h : hops_) requests.push_back(h.request_id);
  std::sort(requests.begin(), requests.end());
  requests.erase(std::unique(requests.begin(), requests.end()), requests.end());
  tail.key("sampled_requests").value(static_cast<uint64_t>(requests.size()));
  tail.key("hops").value(static_cast<uint64_t>(hops_.size()));
  tail.end_object();
  out += "\n],\"displayTimeUnit\":\"ns\",\"otherData\":" + tail.str() + "}\n";
  return out;
}

}  // namespace dsim
