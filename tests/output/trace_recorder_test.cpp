// The Chrome trace: well-formed JSON with the Trace Event Format's field names (as Perfetto and
// chrome://tracing read them), slices that nest in time along each sampled request's calls, flow
// events that pair up and bind to the right slices, counter tracks, deterministic sampling at the
// asked rate, and - most important - no effect on the run's results.
#include "output/trace_recorder.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "output/run_summary.hpp"
#include "support/mini_json.hpp"
#include "support/scenario_fixture.hpp"

namespace dsim {
namespace {

// Fan-out with timeouts, retries and abandoned calls, a forward (next:), and a queue whose
// messages fail into a dead-letter queue: every way a call can end.
const char* kShop = R"(
name: traced
seed: 3
duration: 20s
window: 1s
components:
  shoppers: {kind: source, workload: checkout, arrivals: {poisson: 100/s}, timeout: 2s, target: api}
  api:
    kind: service
    workers: 16
    handler:
      - compute: {exponential: 2ms}
      - call: inventory
        timeout: 30ms
        retry: {max_attempts: 2}
      - parallel:
          - {call: pricing, timeout: 100ms, fallback: {}}
          - {call: recommendations, timeout: 50ms, fallback: {}}
        wait: 1
      - publish: emails
        timeout: 200ms
    next: done
  inventory: {kind: service, workers: 4, service_time: {exponential: 10ms}}
  pricing: {kind: service, workers: 8, service_time: {exponential: 10ms}}
  recommendations: {kind: service, workers: 4, service_time: {lognormal: {median: 20ms, p99: 200ms}}}
  done: {kind: sink}
  emails:
    kind: queue
    visibility_timeout: 1s
    max_receives: 2
    dead_letter_queue: emails-dlq
    consumers: {target: email-worker, count: 8}
  emails-dlq: {kind: queue}
  email-worker:
    kind: service
    workers: 4
    handler:
      - compute: {exponential: 5ms}
      - call: smtp
        timeout: 50ms
  smtp: {kind: service, workers: 16, service_time: {exponential: 60ms}}
)";

struct Slice {
  int64_t pid = 0, tid = 0;
  double ts = 0, end = 0;
  const test::Json* event = nullptr;
};

// Slice ends are ts + dur in microseconds as doubles: equal instants may differ by a rounding.
constexpr double kHalfNs = 0.0005;

double number(const test::Json& j) {
  return j.number;
}

}  // namespace

TEST(TraceRecorder, SamplingIsAPureFunctionOfRequestAndSeedAtTheAskedRate) {
  const TraceRecorder a(0.01, 7), b(0.01, 7), other_seed(0.01, 8);
  int picked = 0, same = 0, differs = 0;
  for (uint64_t id = 1; id <= 200'000; ++id) {
    picked += a.sampled(id);
    same += a.sampled(id) == b.sampled(id);
    differs += a.sampled(id) != other_seed.sampled(id);
  }
  EXPECT_EQ(same, 200'000);
  // Binomial(200000, 0.01): mean 2000, sd 44.5; five sd either side.
  EXPECT_NEAR(picked, 2000, 5 * 44.5);
  EXPECT_GT(differs, 0);
  const TraceRecorder all(1.0, 1), none(0.0, 1);
  EXPECT_TRUE(all.sampled(12345));
  EXPECT_FALSE(none.sampled(12345));
}

TEST(TraceRecorder, TracingDoesNotChangeTheResults) {
  Simulation plain(test::load_text(kShop));
  plain.run();
  Simulation traced(test::load_text(kShop));
  TraceRecorder trace(1.0, traced.seed());
  traced.add_observer(&trace);
  traced.run();
  EXPECT_GT(trace.hop_count(), 1000u);
  EXPECT_EQ(format_summary_json(summarize(plain), false),
            format_summary_json(summarize(traced), false));
}

TEST(TraceRecorder, SlicesNestFlowsPairAndCountersArePresent) {
  Simulation sim(test::load_text(kShop, {{"duration", "10s"}}));
  TraceRecorder trace(0.2, sim.seed());
  sim.add_observer(&trace);
  sim.run();
  const std::string text = trace.to_json(sim);
  test::Json root;
  ASSERT_NO_THROW(root = test::JsonParser::parse(text)) << text.substr(0, 2000);
  EXPECT_EQ(root["displayTimeUnit"].text, "ns");
  EXPECT_TRUE(root["otherData"]["complete"].boolean);
  const auto& events = root["traceEvents"].items;

  std::map<int64_t, std::string> process_names;
  std::set<std::pair<int64_t, int64_t>> named_threads;
  std::map<int64_t, Slice> hops;  // by hop id
  std::map<std::pair<int64_t, int64_t>, std::vector<Slice>> by_track;
  std::map<int64_t, const test::Json*> starts, finishes;  // flow events by id
  std::map<std::string, int> counters;
  std::set<int64_t> requests;
  for (const test::Json& e : events) {
    const std::string ph = e["ph"].text;
    ASSERT_TRUE(e.has("pid")) << ph;
    const auto pid = static_cast<int64_t>(number(e["pid"]));
    if (ph == "M") {
      if (e["name"].text == "process_name") process_names[pid] = e["args"]["name"].text;
      if (e["name"].text == "thread_name")
        named_threads.insert({pid, static_cast<int64_t>(number(e["tid"]))});
    } else if (ph == "X") {
      for (const char* key : {"name", "cat", "ts", "dur", "tid", "args"})
        ASSERT_TRUE(e.has(key)) << key;
      Slice s;
      s.pid = pid;
      s.tid = static_cast<int64_t>(number(e["tid"]));
      s.ts = number(e["ts"]);
      s.end = s.ts + number(e["dur"]);
      s.event = &e;
      ASSERT_GE(number(e["dur"]), 0);
      hops[static_cast<int64_t>(number(e["args"]["hop"]))] = s;
      by_track[{s.pid, s.tid}].push_back(s);
      requests.insert(static_cast<int64_t>(number(e["args"]["request"])));
      EXPECT_EQ(process_names[pid].rfind(e["name"].text + " (", 0), 0u) << process_names[pid];
      EXPECT_TRUE(named_threads.count({s.pid, s.tid}));
    } else if (ph == "s" || ph == "f") {
      for (const char* key : {"id", "cat", "name", "ts", "tid"}) ASSERT_TRUE(e.has(key)) << key;
      auto& map = ph == "s" ? starts : finishes;
      EXPECT_TRUE(map.emplace(static_cast<int64_t>(number(e["id"])), &e).second);
      if (ph == "f") {
        EXPECT_EQ(e["bp"].text, "e");
      }
    } else if (ph == "C") {
      ASSERT_TRUE(e.has("ts"));
      ASSERT_TRUE(e["args"].has("depth"));
      counters[process_names[pid] + "/" + e["name"].text]++;
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  EXPECT_GT(requests.size(), 100u);
  EXPECT_EQ(static_cast<double>(requests.size()), root["otherData"]["sampled_requests"].number);

  // Slices on one track (a lane of a component) never overlap, so the viewers draw them all.
  for (auto& [track, slices] : by_track) {
    for (size_t i = 1; i < slices.size(); ++i) EXPECT_LT(slices[i - 1].end, slices[i].ts);
  }

  // Every child lies within its parent in time, unless its caller abandoned it (a timeout or a
  // parallel step that had enough answers): then it may outlive the parent, as in a real system.
  int children = 0, abandoned = 0, forwarded = 0, linked = 0;
  for (const auto& [id, s] : hops) {
    const test::Json& args = (*s.event)["args"];
    const auto parent = static_cast<int64_t>(number(args["parent"]));
    if (args.has("abandoned")) ++abandoned;
    if (args["outcome"].text == "forwarded") ++forwarded;
    if (parent != 0 || args.has("forwarded_from")) ++linked;
    if (parent == 0) continue;
    ++children;
    ASSERT_TRUE(hops.count(parent)) << id;
    const Slice& p = hops.at(parent);
    EXPECT_EQ(number((*p.event)["args"]["request"]), number(args["request"]));
    EXPECT_GE(s.ts, p.ts) << "hop " << id;
    if (!args.has("abandoned")) {
      EXPECT_LE(s.end, p.end + kHalfNs)
          << "hop " << id << " " << (*s.event)["name"].text << " " << args["outcome"].text << " in "
          << (*p.event)["name"].text << " " << (*p.event)["args"]["outcome"].text;
    }
  }
  EXPECT_GT(children, 100);
  EXPECT_GT(abandoned, 0);
  EXPECT_GT(forwarded, 0);

  // Flows pair up: one start and one finish per id; the start lies inside the calling slice, on
  // its track, and the finish is at the start of the called slice, on its track.
  EXPECT_EQ(starts.size(), finishes.size());
  for (const auto& [id, f] : finishes) {
    ASSERT_TRUE(starts.count(id)) << id;
    const test::Json& s = *starts.at(id);
    EXPECT_EQ(s["cat"].text, (*f)["cat"].text);
    EXPECT_EQ(s["name"].text, (*f)["name"].text);
    const Slice& child = hops.at(id);
    EXPECT_EQ(number((*f)["ts"]), child.ts);
    EXPECT_EQ(number((*f)["pid"]), child.pid);
    EXPECT_EQ(number((*f)["tid"]), child.tid);
    const test::Json& args = (*child.event)["args"];
    const auto from = static_cast<int64_t>(
        number(args.has("forwarded_from") ? args["forwarded_from"] : args["parent"]));
    const Slice& caller = hops.at(from);
    EXPECT_EQ(number(s["pid"]), caller.pid);
    EXPECT_EQ(number(s["tid"]), caller.tid);
    EXPECT_GE(number(s["ts"]), caller.ts);
    EXPECT_LE(number(s["ts"]), caller.end + kHalfNs);
  }
  EXPECT_EQ(static_cast<int>(finishes.size()), linked);

  // Counter tracks: queue depth for the components, DLQ depth for the queue with one.
  EXPECT_GT(counters["inventory (service)/queue"], 1);
  EXPECT_GE(counters["emails (queue)/dlq"], 1);
}

TEST(TraceRecorder, TimestampsKeepNanoseconds) {
  Simulation sim(test::load_text(kShop, {{"duration", "2s"}}));
  TraceRecorder trace(1.0, sim.seed());
  sim.add_observer(&trace);
  sim.run();
  const test::Json root = test::JsonParser::parse(trace.to_json(sim));
  int with_nanoseconds = 0;
  for (const test::Json& e : root["traceEvents"].items) {
    if (e["ph"].text != "X") continue;
    const std::string& ts = e["ts"].text;
    const size_t dot = ts.find('.');
    if (dot != std::string::npos) {
      EXPECT_LE(ts.size() - dot - 1, 3u) << ts;
      with_nanoseconds += ts.size() - dot - 1 == 3;
    }
  }
  EXPECT_GT(with_nanoseconds, 0);
}

TEST(TraceRecorder, AnInterruptedRunWritesOpenHopsUpToTheStop) {
  Simulation sim(test::load_text(kShop));
  TraceRecorder trace(0.3, sim.seed());
  sim.add_observer(&trace);
  sim.run_until(Time::ms(5'500));
  sim.stop();
  const test::Json root = test::JsonParser::parse(trace.to_json(sim));
  EXPECT_FALSE(root["otherData"]["complete"].boolean);
  int open = 0;
  for (const test::Json& e : root["traceEvents"].items) {
    if (e["ph"].text != "X" || e["args"]["outcome"].text != "open") continue;
    ++open;
    EXPECT_LE(number(e["ts"]) + number(e["dur"]), 5'500'000.0 + 1e-6);
  }
  EXPECT_GT(open, 0);
}

}  // namespace dsim
