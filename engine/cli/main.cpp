// dsim: the command-line front end. A thin layer over the engine: it parses arguments, loads the
// scenario, drives a Simulation in slices (for the progress line and Ctrl-C), and prints or
// writes the summary; `check` runs many scenarios in parallel and judges their expectations.
// Exit codes: 0 ok, 1 runtime error, 2 invalid scenario or arguments, 3 an expectation failed.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/format.hpp"
#include "core/simulation.hpp"
#include "output/atomic_file.hpp"
#include "output/expectation_check.hpp"
#include "output/faults_json.hpp"
#include "output/html_report.hpp"
#include "output/junit_writer.hpp"
#include "output/openmetrics.hpp"
#include "output/run_summary.hpp"
#include "output/timeseries_jsonl_writer.hpp"
#include "output/timeseries_writer.hpp"
#include "output/trace_recorder.hpp"
#include "output/window_recorder.hpp"
#include "scenario/loader.hpp"
#include "scenario/reference.hpp"
#include "scenario/topology.hpp"
#include "scenario/units.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitInvalid = 2;
constexpr int kExitExpectationFailed = 3;

std::atomic<bool> g_interrupted{false};
void on_sigint(int) {
  g_interrupted = true;
}

uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

struct RunArgs {
  std::string file;
  std::string seed, duration, warmup;
  std::vector<std::string> sets;
  std::string out_dir;
  std::string trace_file;
  std::string trace_sample = "1%";
  std::string report;  // --report FILE: the HTML report
  bool json = false;
  bool quiet = false;
};

// --seed/--duration/--warmup are overrides like --set, so they get the same checking. Returns
// false (after saying why) for a malformed --set.
bool collect_overrides(const RunArgs& a, std::vector<dsim::Override>& overrides) {
  if (!a.seed.empty()) overrides.push_back({"seed", a.seed});
  if (!a.duration.empty()) overrides.push_back({"duration", a.duration});
  if (!a.warmup.empty()) overrides.push_back({"warmup", a.warmup});
  for (const std::string& s : a.sets) {
    std::string error;
    auto o = dsim::parse_override(s, error);
    if (!o) {
      std::cerr << "dsim: " << error << "\n";
      return false;
    }
    overrides.push_back(*o);
  }
  return true;
}

int run_command(const RunArgs& a) {
  std::vector<dsim::Override> overrides;
  if (!collect_overrides(a, overrides)) return kExitInvalid;
  const dsim::Parsed<double> trace_fraction = dsim::parse_fraction(a.trace_sample);
  if (!trace_fraction.value) {
    std::cerr << "dsim: --trace-sample " << a.trace_sample << ": expected " << trace_fraction.error
              << "\n";
    return kExitInvalid;
  }
  dsim::LoadResult loaded = dsim::load_scenario_file(a.file, overrides);
  std::cerr << loaded.diagnostics.warnings_text();
  if (!loaded.scenario) {
    std::cerr << loaded.diagnostics.to_string();
    return kExitInvalid;
  }

  dsim::Simulation sim(*loaded.scenario);
  dsim::ExpectationCheck expectations(sim, loaded.scenario->expectations);
  // Every output goes to a temporary name and is renamed into place once complete; on an error
  // the temporaries are removed (AtomicFile's destructor), so no half-written file is left.
  std::unique_ptr<dsim::AtomicFile> csv_file, jsonl_file, trace_file;
  std::unique_ptr<dsim::TimeseriesCsvWriter> ts;
  std::unique_ptr<dsim::TimeseriesJsonlWriter> jsonl;
  std::unique_ptr<dsim::TraceRecorder> trace;
  std::filesystem::path out_dir(a.out_dir);
  if (!a.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
      std::cerr << "dsim: cannot create " << a.out_dir << ": " << ec.message() << "\n";
      return kExitRuntime;
    }
    csv_file = std::make_unique<dsim::AtomicFile>(out_dir / "timeseries.csv");
    jsonl_file = std::make_unique<dsim::AtomicFile>(out_dir / "timeseries.jsonl");
    for (const auto* f : {csv_file.get(), jsonl_file.get()}) {
      if (!f->ok()) {
        std::cerr << "dsim: cannot write " << f->path().string() << "\n";
        return kExitRuntime;
      }
    }
    ts = std::make_unique<dsim::TimeseriesCsvWriter>(csv_file->stream());
    jsonl = std::make_unique<dsim::TimeseriesJsonlWriter>(jsonl_file->stream());
    sim.add_observer(ts.get());
    sim.add_observer(jsonl.get());
  }
  if (!a.trace_file.empty()) {
    trace_file =
        std::make_unique<dsim::AtomicFile>(a.trace_file);  // fail before the run, not after
    if (!trace_file->ok()) {
      std::cerr << "dsim: cannot write " << a.trace_file << "\n";
      return kExitRuntime;
    }
    trace = std::make_unique<dsim::TraceRecorder>(*trace_fraction.value, sim.seed());
    sim.add_observer(trace.get());
  }
  // The report's series are recorded only when a report is asked for (the recorder watches
  // every finished request).
  std::unique_ptr<dsim::WindowRecorder> recorder;
  if (!a.report.empty()) {
    recorder = std::make_unique<dsim::WindowRecorder>();
    sim.add_observer(recorder.get());
  }

  std::signal(SIGINT, on_sigint);
  const bool progress = !a.quiet && isatty(STDERR_FILENO);
  const auto wall_start = std::chrono::steady_clock::now();
  auto last_print = wall_start;
  // Drive in slices so that Ctrl-C and the progress line are noticed without touching the loop.
  const dsim::Time slice =
      std::max(dsim::Time::ms(1), dsim::Time::ns(sim.end_time().count_ns() / 1000));
  while (sim.state() != dsim::Lifecycle::finished) {
    if (g_interrupted) {
      sim.stop();
      break;
    }
    sim.run_until(sim.now() + slice);
    if (progress) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last_print > std::chrono::milliseconds(250)) {
        last_print = now;
        const double wall = std::chrono::duration<double>(now - wall_start).count();
        const double frac = sim.now().seconds() / sim.end_time().seconds();
        const double eta = frac > 0 ? wall * (1 - frac) / frac : 0;
        std::fprintf(stderr, "\r  %s / %s  %5.1f%%  %.3g M events/s  ETA %.0fs   ",
                     dsim::format_time(sim.now()).c_str(),
                     dsim::format_time(sim.end_time()).c_str(), 100 * frac,
                     static_cast<double>(sim.events_processed()) / wall / 1e6, eta);
      }
    }
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (progress) std::fprintf(stderr, "\r%80s\r", "");

  dsim::RunSummary summary = dsim::summarize(sim);
  summary.engine.wall_seconds = wall;
  summary.engine.events_per_second =
      wall > 0 ? static_cast<double>(summary.engine.events) / wall : 0;
  summary.engine.peak_rss_bytes = peak_rss_bytes();
  summary.expectations = expectations.results(sim);

  if (a.json) {
    std::cout << dsim::format_summary_json(summary);
  } else {
    std::cout << dsim::format_summary_text(summary);
    std::cout << "engine: " << summary.engine.events << " events in " << dsim::format_number(wall)
              << " s wall (" << dsim::format_number(summary.engine.events_per_second / 1e6)
              << " M events/s), peak RSS "
              << dsim::format_number(static_cast<double>(summary.engine.peak_rss_bytes) / 1048576)
              << " MiB\n";
  }
  if (!a.out_dir.empty()) {
    const bool written =
        csv_file->commit() && jsonl_file->commit() &&
        dsim::write_file_atomically(out_dir / "summary.json", dsim::format_summary_json(summary)) &&
        dsim::write_file_atomically(out_dir / "faults.json", dsim::format_faults_json(sim)) &&
        dsim::write_file_atomically(out_dir / "metrics.prom",
                                    dsim::format_openmetrics(sim, summary));
    if (!written) {
      std::cerr << "dsim: cannot write results to " << a.out_dir << "\n";
      return kExitRuntime;
    }
  }
  if (trace) {
    trace_file->stream() << trace->to_json(sim);
    if (!trace_file->commit()) {
      std::cerr << "dsim: cannot write " << a.trace_file << "\n";
      return kExitRuntime;
    }
  }
  if (!a.report.empty()) {
    dsim::TopologyGraph topology;
    for (const auto& c : sim.components()) topology.nodes.push_back({c->name(), c->kind()});
    for (const dsim::ComponentLink& l : dsim::component_links(*loaded.scenario))
      topology.edges.push_back({l.from, l.to, l.keys});
    const dsim::HtmlReportInput report{summary,
                                       *recorder,
                                       topology,
                                       sim.fault_windows(),
                                       summary.expectations,
                                       loaded.scenario->description,
                                       a.file,
                                       sim.window().seconds()};
    if (!dsim::write_file_atomically(a.report, dsim::render_html_report(report))) {
      std::cerr << "dsim: cannot write the report " << a.report << "\n";
      return kExitRuntime;
    }
  }
  if (!summary.complete)
    std::cerr << "dsim: interrupted; results cover the simulated time reached\n";
  return dsim::all_passed(summary.expectations) ? kExitOk : kExitExpectationFailed;
}

// --- dsim check ------------------------------------------------------------------------------

// Loads and runs one scenario, judging its expectations. Each Simulation is independent (no
// engine state is shared between them), so workers may run several at once.
dsim::ScenarioCheck check_one(const std::string& file,
                              const std::vector<dsim::Override>& overrides) {
  dsim::ScenarioCheck c;
  c.file = file;
  c.name = file;
  const auto wall_start = std::chrono::steady_clock::now();
  dsim::LoadResult loaded = dsim::load_scenario_file(file, overrides);
  c.warnings = loaded.diagnostics.warnings_text();
  if (!loaded.scenario) {
    c.invalid = true;
    c.error = loaded.diagnostics.to_string();
    return c;
  }
  c.name = loaded.scenario->name;
  try {
    dsim::Simulation sim(*loaded.scenario);
    dsim::ExpectationCheck expectations(sim, loaded.scenario->expectations);
    const dsim::Time slice =
        std::max(dsim::Time::ms(1), dsim::Time::ns(sim.end_time().count_ns() / 1000));
    while (sim.state() != dsim::Lifecycle::finished) {
      if (g_interrupted) {
        sim.stop();
        break;
      }
      sim.run_until(sim.now() + slice);
    }
    c.results = expectations.results(sim);
    if (!sim.complete()) c.error = "interrupted at " + dsim::format_time(sim.now());
  } catch (const std::exception& e) {
    c.error = std::string("error: ") + e.what();
  }
  c.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return c;
}

std::string check_line(const dsim::ScenarioCheck& c) {
  char wall[32];
  std::snprintf(wall, sizeof wall, "%.2fs", c.wall_seconds);
  if (c.invalid) return "INVALID  " + c.file + "\n";
  std::string line = std::string(!c.error.empty() ? "ERROR"
                                 : c.failed()     ? "FAIL "
                                                  : "PASS ") +
                     "    " + c.name + "  " + std::to_string(c.results.size() - c.failed()) +
                     " passed, " + std::to_string(c.failed()) + " failed  " + wall + "  " + c.file +
                     "\n";
  if (!c.error.empty()) line += "         " + c.error + "\n";
  for (size_t at = 0; at < c.warnings.size();) {
    const size_t eol = c.warnings.find('\n', at);
    line += "         " + c.warnings.substr(at, eol - at) + "\n";
    at = eol + 1;
  }
  for (const dsim::ExpectationResult& r : c.results) {
    if (r.passed) continue;
    line += "         FAIL " + r.text + "  measured " + r.measured + "  (" + r.detail + "; " +
            r.where.to_string() + ")\n";
  }
  return line;
}

struct CheckArgs {
  RunArgs run;  // --seed, --duration, --warmup, --set apply to every file
  std::vector<std::string> files;
  std::string junit;
  int jobs = 0;  // 0: one per core
};

int check_command(const CheckArgs& a) {
  std::vector<dsim::Override> overrides;
  if (!collect_overrides(a.run, overrides)) return kExitInvalid;
  std::signal(SIGINT, on_sigint);
  const size_t n = a.files.size();
  std::vector<dsim::ScenarioCheck> checks(n);
  std::vector<bool> done(n, false);
  size_t next_to_print = 0;
  std::mutex mutex;
  std::atomic<size_t> next{0};
  // Workers take the next file from a shared index; lines are printed in input order as soon
  // as every earlier file is done, so the output does not depend on the number of workers.
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      dsim::ScenarioCheck c = check_one(a.files[i], overrides);
      std::lock_guard<std::mutex> lock(mutex);
      checks[i] = std::move(c);
      done[i] = true;
      for (; next_to_print < n && done[next_to_print]; ++next_to_print) {
        const dsim::ScenarioCheck& p = checks[next_to_print];
        if (p.invalid) std::cerr << p.error;
        std::cout << check_line(p) << std::flush;
      }
    }
  };
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t jobs = std::min<size_t>(n, a.jobs > 0 ? static_cast<size_t>(a.jobs) : cores);
  std::vector<std::thread> threads;
  for (size_t j = 1; j < jobs; ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();

  size_t passed = 0, failed = 0, invalid = 0, errors = 0;
  for (const dsim::ScenarioCheck& c : checks) {
    if (c.invalid) {
      ++invalid;
    } else if (!c.error.empty()) {
      ++errors;
    } else if (c.failed()) {
      ++failed;
    } else {
      ++passed;
    }
  }
  std::cout << "checked " << n << " scenario" << (n == 1 ? "" : "s") << ": " << passed
            << " passed, " << failed << " failed, " << invalid << " invalid, " << errors
            << " errors\n";
  if (!a.junit.empty() && !dsim::write_file_atomically(a.junit, dsim::format_junit_xml(checks))) {
    std::cerr << "dsim: cannot write " << a.junit << "\n";
    return kExitRuntime;
  }
  if (invalid) return kExitInvalid;
  if (errors) return kExitRuntime;
  return failed ? kExitExpectationFailed : kExitOk;
}

int validate_command(const std::vector<std::string>& files) {
  int rc = kExitOk;
  for (const std::string& f : files) {
    dsim::LoadResult r = dsim::load_scenario_file(f);
    std::cerr << r.diagnostics.warnings_text();
    if (r.scenario) {
      std::cout << f << ": ok (" << r.scenario->components.size() << " components)\n";
    } else {
      std::cerr << r.diagnostics.to_string();
      rc = kExitInvalid;
    }
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dsim: a deterministic discrete-event simulator for distributed-system designs.",
               "dsim"};
  app.footer(
      "Examples:\n"
      "  dsim run scenarios/mm1.yaml\n"
      "  dsim run scenarios/checkout.yaml --seed 7 --duration 10m --set components.api.workers=8\n"
      "  dsim run scenarios/mm1.yaml --json > summary.json\n"
      "  dsim validate scenarios/*.yaml\n"
      "  dsim check scenarios/*.yaml --junit results.xml\n"
      "\nExit codes: 0 ok, 1 runtime error, 2 invalid scenario or arguments, 3 an expectation\n"
      "failed (run, check).");
  app.require_subcommand(1);

  RunArgs ra;
  CLI::App* run = app.add_subcommand("run", "Run a scenario headless and print its summary.");
  run->add_option("file", ra.file, "Scenario YAML file")->required();
  run->add_option("--seed", ra.seed, "Root random seed (overrides the scenario's)");
  run->add_option("--duration", ra.duration, "Simulated time to run, e.g. 10m");
  run->add_option("--warmup", ra.warmup, "Initial time excluded from statistics, e.g. 1m");
  run->add_option("--set", ra.sets, "Override a scenario value: path=value (repeatable)")
      ->type_name("PATH=VALUE");
  run->add_option("--out", ra.out_dir,
                  "Write summary.json, timeseries.csv, timeseries.jsonl, faults.json and "
                  "metrics.prom into this folder (docs/outputs.md)");
  CLI::Option* trace_opt = run->add_option(
      "--trace", ra.trace_file,
      "Write sampled requests as a Chrome trace (JSON) for ui.perfetto.dev or chrome://tracing");
  run->add_option("--trace-sample", ra.trace_sample,
                  "Share of requests traced, e.g. 0.1% or 0.001 (default 1%)")
      ->needs(trace_opt);
  run->add_option("--report", ra.report,
                  "Write an HTML report (charts, topology, tables) to this file")
      ->type_name("FILE");
  run->add_flag("--json", ra.json, "Print the summary as JSON on stdout");
  run->add_flag("--quiet,-q", ra.quiet, "No progress line");
  run->footer(
      "Examples:\n"
      "  dsim run scenarios/mm1.yaml\n"
      "  dsim run scenarios/mm1.yaml --seed 7 --duration 1h --warmup 5m\n"
      "  dsim run scenarios/checkout.yaml --set components.api.workers=8 --out results/\n"
      "  dsim run scenarios/mm1.yaml --trace trace.json --trace-sample 0.1%\n"
      "  dsim run scenarios/mm1.yaml --json | jq .workloads\n"
      "  dsim run scenarios/jackson.yaml --report report.html\n"
      "\nThe scenario's expectations (expect:) are printed after the summary with PASS or FAIL;\n"
      "the exit code is 3 when any fails.");

  CheckArgs ca;
  CLI::App* check = app.add_subcommand(
      "check", "Run scenarios in parallel and judge their expectations (for CI).");
  check->add_option("files", ca.files, "Scenario YAML files")->required();
  check->add_option("--junit", ca.junit, "Write the verdicts as JUnit XML to this file");
  check->add_option("--jobs,-j", ca.jobs, "Scenarios run at once (default: one per core)")
      ->check(CLI::Range(1, 1024));
  check->add_option("--seed", ca.run.seed, "Root random seed for every scenario");
  check->add_option("--duration", ca.run.duration, "Simulated time to run each scenario");
  check->add_option("--warmup", ca.run.warmup, "Initial time excluded from statistics");
  check->add_option("--set", ca.run.sets, "Override a value in every scenario (repeatable)")
      ->type_name("PATH=VALUE");
  check->footer(
      "One line per scenario, in the order given: PASS or FAIL, the expectations passed and\n"
      "failed, the wall time; failed expectations follow with what was measured.\n"
      "Examples:\n"
      "  dsim check scenarios/*.yaml\n"
      "  dsim check scenarios/*.yaml --junit results.xml --jobs 4\n"
      "\nExit codes: 0 all passed, 3 an expectation failed, 2 a scenario is invalid,\n"
      "1 a run failed.");

  std::vector<std::string> validate_files;
  CLI::App* validate = app.add_subcommand("validate", "Load and check scenarios without running.");
  validate->add_option("files", validate_files, "Scenario YAML files")->required();

  CLI::App* docs = app.add_subcommand(
      "reference", "Print the generated component reference (docs/scenario-format.md).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitInvalid;
  }
  try {
    if (*run) return run_command(ra);
    if (*validate) return validate_command(validate_files);
    if (*check) return check_command(ca);
    if (*docs) {
      std::cout << dsim::component_reference_markdown();
      return kExitOk;
    }
  } catch (const std::exception& e) {
    std::cerr << "dsim: error: " << e.what() << "\n";
    return kExitRuntime;
  }
  return kExitOk;
}
