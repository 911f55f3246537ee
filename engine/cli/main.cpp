// dsim: the command-line front end. A thin layer over the engine: it parses arguments, loads the
// scenario, drives a Simulation in slices (for the progress line and Ctrl-C), and prints or
// writes the summary. Exit codes: 0 ok, 1 runtime error, 2 invalid scenario or arguments.
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
#include <sstream>

#include "core/format.hpp"
#include "core/simulation.hpp"
#include "output/html_report.hpp"
#include "output/run_summary.hpp"
#include "output/timeseries_writer.hpp"
#include "output/window_recorder.hpp"
#include "scenario/loader.hpp"
#include "scenario/reference.hpp"
#include "scenario/topology.hpp"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitRuntime = 1;
constexpr int kExitInvalid = 2;

std::atomic<bool> g_interrupted{false};
void on_sigint(int) {
  g_interrupted = true;
}

uint64_t peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<uint64_t>(u.ru_maxrss) * 1024;  // Linux reports KiB
}

// Writes a file atomically: readers never see a half-written result.
bool write_file(const std::filesystem::path& path, const std::string& content) {
  const auto tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return false;
    out << content;
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  return !ec;
}

struct RunArgs {
  std::string file;
  std::string seed, duration, warmup;
  std::vector<std::string> sets;
  std::string out_dir;
  std::string report;  // --report FILE: the HTML report
  bool json = false;
  bool quiet = false;
};

int run_command(const RunArgs& a) {
  std::vector<dsim::Override> overrides;
  // --seed/--duration/--warmup are overrides like --set, so they get the same checking.
  if (!a.seed.empty()) overrides.push_back({"seed", a.seed});
  if (!a.duration.empty()) overrides.push_back({"duration", a.duration});
  if (!a.warmup.empty()) overrides.push_back({"warmup", a.warmup});
  for (const std::string& s : a.sets) {
    std::string error;
    auto o = dsim::parse_override(s, error);
    if (!o) {
      std::cerr << "dsim: " << error << "\n";
      return kExitInvalid;
    }
    overrides.push_back(*o);
  }
  dsim::LoadResult loaded = dsim::load_scenario_file(a.file, overrides);
  if (!loaded.scenario) {
    std::cerr << loaded.diagnostics.to_string();
    return kExitInvalid;
  }

  dsim::Simulation sim(*loaded.scenario);
  std::ofstream csv;
  std::unique_ptr<dsim::TimeseriesCsvWriter> ts;
  std::filesystem::path out_dir(a.out_dir);
  if (!a.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
      std::cerr << "dsim: cannot create " << a.out_dir << ": " << ec.message() << "\n";
      return kExitRuntime;
    }
    csv.open(out_dir / "timeseries.csv.tmp", std::ios::binary);
    if (!csv) {
      std::cerr << "dsim: cannot write " << (out_dir / "timeseries.csv").string() << "\n";
      return kExitRuntime;
    }
    ts = std::make_unique<dsim::TimeseriesCsvWriter>(csv);
    sim.add_observer(ts.get());
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
  // A half-written time series must not be left behind if the run fails.
  struct RemoveTemporaryOnError {
    std::filesystem::path path;
    bool armed;
    ~RemoveTemporaryOnError() {
      std::error_code ec;
      if (armed) std::filesystem::remove(path, ec);
    }
  } cleanup{out_dir / "timeseries.csv.tmp", !a.out_dir.empty()};
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
  cleanup.armed = false;
  if (!a.out_dir.empty()) {
    csv.close();
    std::error_code ec;
    std::filesystem::rename(out_dir / "timeseries.csv.tmp", out_dir / "timeseries.csv", ec);
    if (ec || !write_file(out_dir / "summary.json", dsim::format_summary_json(summary))) {
      std::cerr << "dsim: cannot write results to " << a.out_dir << "\n";
      return kExitRuntime;
    }
  }
  if (!a.report.empty()) {
    dsim::TopologyGraph topology;
    for (const auto& c : sim.components()) topology.nodes.push_back({c->name(), c->kind()});
    for (const dsim::ComponentLink& l : dsim::component_links(*loaded.scenario))
      topology.edges.push_back({l.from, l.to, l.keys});
    const std::vector<dsim::ExpectationResult> expectations;  // (the expect: section is to come)
    const dsim::HtmlReportInput report{summary,      *recorder,
                                       topology,     sim.fault_windows(),
                                       expectations, loaded.scenario->description,
                                       a.file,       sim.window().seconds()};
    if (!write_file(a.report, dsim::render_html_report(report))) {
      std::cerr << "dsim: cannot write the report " << a.report << "\n";
      return kExitRuntime;
    }
  }
  if (!summary.complete)
    std::cerr << "dsim: interrupted; results cover the simulated time reached\n";
  return kExitOk;
}

int validate_command(const std::vector<std::string>& files) {
  int rc = kExitOk;
  for (const std::string& f : files) {
    dsim::LoadResult r = dsim::load_scenario_file(f);
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
      "\nExit codes: 0 ok, 1 runtime error, 2 invalid scenario or arguments.");
  app.require_subcommand(1);

  RunArgs ra;
  CLI::App* run = app.add_subcommand("run", "Run a scenario headless and print its summary.");
  run->add_option("file", ra.file, "Scenario YAML file")->required();
  run->add_option("--seed", ra.seed, "Root random seed (overrides the scenario's)");
  run->add_option("--duration", ra.duration, "Simulated time to run, e.g. 10m");
  run->add_option("--warmup", ra.warmup, "Initial time excluded from statistics, e.g. 1m");
  run->add_option("--set", ra.sets, "Override a scenario value: path=value (repeatable)")
      ->type_name("PATH=VALUE");
  run->add_option("--out", ra.out_dir, "Write summary.json and timeseries.csv into this folder");
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
      "  dsim run scenarios/mm1.yaml --json | jq .workloads\n"
      "  dsim run scenarios/jackson.yaml --report report.html");

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
