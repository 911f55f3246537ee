// Sections: construction and the timeline; the live API; activation, plans and ramps; rebuilding
// the targets' fault state.
#include "faults/fault_controller.hpp"

#include <algorithm>
#include <stdexcept>

#include "components/source.hpp"
#include "core/format.hpp"
#include "core/simulation.hpp"
#include "faults/fault_registry.hpp"
#include "faults/fault_trigger.hpp"
#include "scenario/param_text.hpp"
#include "scenario/suggest.hpp"

namespace dsim {
namespace {

constexpr uint32_t kEndStep = 0xFFFF;
constexpr uint32_t kRampOutStep = 0x4000;  // + k: the k-th boundary of the ramp-out

uint64_t step_payload(uint32_t instance, uint16_t plan, uint32_t step) {
  return (static_cast<uint64_t>(instance) << 32) | (static_cast<uint64_t>(plan) << 16) | step;
}

// The k-th of n equal parts of `length` from `from`, in whole nanoseconds.
Time boundary(Time from, Time length, int64_t k, int64_t n) {
  // floor(length * k / n) without overflow: length = q n + r.
  const int64_t q = length.count_ns() / n, r = length.count_ns() % n;
  return from + Time::ns(q * k + r * k / n);
}

}  // namespace

// --- Construction and the timeline ----------------------------------------------------------

FaultController::FaultController(Simulation& sim, const std::vector<FaultSpec>& timeline,
                                 const std::vector<ComponentGroup>& groups)
    : sim_(sim),
      timeline_(timeline),
      groups_(groups),
      timeline_started_(timeline.size(), 0),
      trigger_component_(timeline.size(), UINT32_MAX),
      triggered_(timeline.size(), 0) {
  for (const auto& c : sim_.components()) {
    c->faults().rng = sim_.make_rng(*c, "faults");
  }
  bool any_trigger = false;
  for (size_t i = 0; i < timeline_.size(); ++i) {
    const FaultAfter& a = timeline_[i].params->after;
    if (!a.follows_condition()) continue;
    const Component* c =
        a.condition.empty() ? nullptr : sim_.find(a.condition.front().measure.scope_name);
    if (!c) {
      throw std::invalid_argument("faults." + timeline_[i].name +
                                  ".after.when: the condition was not checked by the loader");
    }
    trigger_component_[i] = c->index();
    any_trigger = true;
  }
  if (any_trigger) sim_.add_observer(&watch_);
}

void FaultController::on_run_start() {
  for (size_t i = 0; i < timeline_.size(); ++i) {
    const FaultAfter& a = timeline_[i].params->after;
    if (!a.present) {
      schedule_timeline(i, timeline_[i].params->at);
    } else if (a.follows_event()) {
      const Time at = event_instant(timeline_[i]);
      if (at != Time::max()) schedule_timeline(i, at + a.offset);
    }
  }
}

// The instant of an `after: {event: ...}` anchor, known when the run starts (max: never). The
// warm-up's end is scheduled before the timeline, so a fault at the same instant starts after it.
Time FaultController::event_instant(const FaultSpec& spec) const {
  const FaultAfter& a = spec.params->after;
  if (a.event == FaultAfter::kWarmupEnd) {
    const Time w = sim_.warmup();
    return w == Time::zero() || w < sim_.end_time() ? w : Time::max();
  }
  // A schedule step, as the source's parameters say when the run starts (a live change of its
  // arrivals later does not move the fault).
  const Component* c = sim_.find(a.of.name);
  const auto* p = c ? dynamic_cast<const SourceParams*>(&c->params()) : nullptr;
  if (!p || p->arrivals.mode != ArrivalSpec::Mode::schedule ||
      a.step >= static_cast<int64_t>(p->arrivals.schedule.size())) {
    throw std::runtime_error("fault timeline: faults." + spec.name +
                             ".after: " + quote_text(a.of.name) + " has no schedule step " +
                             std::to_string(a.step) + " when the run starts");
  }
  return p->arrivals.schedule[static_cast<size_t>(a.step)].at;
}

// The first window at whose end a `when:` condition holds starts its fault (plus the offset).
void FaultController::check_triggers(const WindowReport& report) {
  for (size_t i = 0; i < timeline_.size(); ++i) {
    if (trigger_component_[i] == UINT32_MAX || triggered_[i] || timeline_started_[i]) continue;
    const FaultAfter& a = timeline_[i].params->after;
    const StationMetrics& m = sim_.components()[trigger_component_[i]]->metrics();
    if (trigger_holds(a.condition.front(), m, report.start, report.end)) {
      triggered_[i] = 1;
      schedule_timeline(i, sim_.now() + a.offset);
    }
  }
}

// After every ordinary event of the instant, as a live call after run_until(at) would be.
void FaultController::schedule_timeline(size_t index, Time at) {
  sim_.queue_.push_after_instant(std::max(at, sim_.now()), Simulation::kSystem, kFaultTimeline,
                                 index);
}

void FaultController::on_system_event(const Event& e) {
  if (e.kind == kFaultTimeline) {
    const size_t i = e.payload;
    if (timeline_started_[i]) return;
    timeline_started_[i] = 1;
    if (std::string error = start(timeline_[i]); !error.empty()) {
      throw std::runtime_error("fault timeline at " + format_time(sim_.now()) + ": " + error);
    }
    return;
  }
  const auto instance = static_cast<uint32_t>(e.payload >> 32);
  const auto plan = static_cast<uint16_t>(e.payload >> 16);
  const auto step = static_cast<uint32_t>(e.payload & 0xFFFF);
  ActiveFault& f = faults_[instance];
  if (!f.active || f.plan != plan) return;  // cleared or re-planned since
  if (step == kEndStep) {
    deactivate(instance);
    return;
  }
  const double level = intensity_at(f, sim_.now());
  if (level == f.intensity) return;
  f.intensity = level;
  rebuild(f.targets);
  f.spec.params->apply(sim_, f);
}

// Faults of the timeline that follow `name`'s start (edge 0) or end (edge 1).
void FaultController::follow(const std::string& name, int edge) {
  for (size_t i = 0; i < timeline_.size(); ++i) {
    const FaultAfter& a = timeline_[i].params->after;
    if (a.follows_fault() && !timeline_started_[i] && a.fault == name && a.edge == edge) {
      schedule_timeline(i, sim_.now() + a.offset);
    }
  }
}

// --- The live API ---------------------------------------------------------------------------

std::string FaultController::refuse_unless_live() const {
  return sim_.state() == Lifecycle::finished ? "the run has finished" : std::string();
}

ComponentDirectory FaultController::directory() const {
  ComponentDirectory d;
  for (const auto& c : sim_.components()) d.add(c->name(), c->kind(), &c->params());
  for (const ComponentGroup& g : groups_) d.add_group(g);
  return d;
}

std::string FaultController::start(const FaultSpec& spec) {
  return activate(spec, -1);
}

std::string FaultController::start(const std::string& name, const std::string& kind,
                                   const std::vector<std::string>& targets,
                                   const std::vector<std::pair<std::string, std::string>>& params) {
  if (std::string e = refuse_unless_live(); !e.empty()) return e;
  const FaultKind* k = find_fault_kind(kind);
  if (!k) {
    return "unknown fault kind " + quote_text(kind) + did_you_mean(kind, fault_kind_names()) +
           "; known kinds: " + join_choices(fault_kind_names());
  }
  FaultSpec spec;
  spec.name = name;
  spec.kind = kind;
  spec.where = Location{"faults." + name, 0, 0};
  spec.params = k->make_params();
  std::vector<std::string> given;
  for (const std::string& t : targets) {
    FaultTarget& entry = spec.params->targets.items.emplace_back();
    entry.component.name = t;
    entry.present = true;
    entry.given = {"component"};
  }
  if (!targets.empty()) given.emplace_back("targets");
  for (const auto& [key, value] : params) {
    if (key == "targets") return "give the targets as the list of component (or group) names";
    std::string error = apply_param_text(*spec.params, name, key, value, /*live_only=*/false);
    if (!error.empty()) return error;
    given.push_back(key);
  }
  if (std::string problem = spec.params->check(given); !problem.empty()) {
    return name + ": " + problem;
  }
  return start(spec);
}

std::string FaultController::change(const std::string& name, const std::string& param,
                                    const std::string& value) {
  if (std::string e = refuse_unless_live(); !e.empty()) return e;
  uint32_t instance = UINT32_MAX;
  for (size_t i = 0; i < faults_.size(); ++i) {
    if (faults_[i].active && faults_[i].spec.name == name) instance = static_cast<uint32_t>(i);
  }
  if (instance == UINT32_MAX) return "no active fault named " + quote_text(name);
  ActiveFault& f = faults_[instance];
  FaultSpec changed = f.spec;
  std::string error = apply_param_text(*changed.params, name, param, value, /*live_only=*/true);
  if (!error.empty()) return error;
  Time end = f.end;
  if (param == "duration" || param == "end") {
    end = param == "duration" ? f.start + changed.params->duration : changed.params->end;
    if (end <= sim_.now()) {
      return name + "." + param + ": the fault would end at " + format_time(end) +
             ", not after now (" + format_time(sim_.now()) + "); clear it instead";
    }
    changed.params->duration_given = param == "duration";
    changed.params->end_given = param == "end";
  }
  f.spec = std::move(changed);
  if (end != f.end) {
    f.end = end;
    plan(instance);
  }
  faults_[instance].intensity = intensity_at(faults_[instance], sim_.now());
  rebuild(faults_[instance].targets);
  faults_[instance].spec.params->apply(sim_, faults_[instance]);
  return {};
}

std::string FaultController::clear(const std::string& name) {
  if (std::string e = refuse_unless_live(); !e.empty()) return e;
  for (size_t i = 0; i < faults_.size(); ++i) {
    if (faults_[i].active && faults_[i].spec.name == name) {
      deactivate(static_cast<uint32_t>(i));
      return {};
    }
  }
  return "no active fault named " + quote_text(name);
}

const ActiveFault* FaultController::find_active(const std::string& name) const {
  for (const ActiveFault& f : faults_) {
    if (f.active && f.spec.name == name) return &f;
  }
  return nullptr;
}

// --- Activation, plans and ramps ------------------------------------------------------------

std::string FaultController::activate(const FaultSpec& spec, int timeline) {
  (void)timeline;
  if (std::string e = refuse_unless_live(); !e.empty()) return e;
  if (!spec.params || !find_fault_kind(spec.kind)) {
    return "unknown fault kind " + quote_text(spec.kind) +
           did_you_mean(spec.kind, fault_kind_names());
  }
  if (spec.name.empty()) return "a fault needs a name";
  if (find_active(spec.name))
    return "a fault named " + quote_text(spec.name) + " is already active";
  ActiveFault f;
  f.spec = spec;
  const ComponentDirectory dir = directory();
  Location where;
  const std::string context = "faults." + spec.name;
  if (std::string e = resolve_fault_targets(f.spec, dir, context, f.targets, where); !e.empty()) {
    return e;
  }
  if (std::string e = f.spec.params->resolve(dir, where); !e.empty()) return context + "." + e;
  const FaultParams& p = *f.spec.params;
  const Time now = sim_.now();
  f.start = now;
  if (p.duration_given) {
    f.end = now + p.duration;
  } else if (p.end_given) {
    if (p.end <= now) {
      return context + ".end: " + format_time(p.end) + " is not after now (" + format_time(now) +
             ")";
    }
    f.end = p.end;
  } else if (p.implied_duration() != Time::max()) {
    f.end = now + p.implied_duration();
  }
  FaultWindow w;
  w.name = spec.name;
  w.kind = spec.kind;
  for (uint32_t c : f.targets) w.targets.push_back(sim_.components()[c]->name());
  w.start = now;
  f.window = sim_.fault_windows_.size();
  sim_.fault_windows_.push_back(std::move(w));
  const auto instance = static_cast<uint32_t>(faults_.size());
  faults_.push_back(std::move(f));
  plan(instance);
  ActiveFault& a = faults_[instance];
  a.intensity = intensity_at(a, now);
  rebuild(a.targets);
  a.spec.params->apply(sim_, a);
  follow(spec.name, 0);
  return {};
}

void FaultController::deactivate(uint32_t instance) {
  ActiveFault& f = faults_[instance];
  f.active = false;
  f.end = sim_.now();
  sim_.fault_windows_[f.window].end = sim_.now();
  rebuild(f.targets);
  faults_[instance].spec.params->retract(sim_, faults_[instance]);
  follow(faults_[instance].spec.name, 1);
}

// Schedules the ramp boundaries still ahead and the end, under a new plan number (so that the
// events of an earlier plan are ignored).
void FaultController::plan(uint32_t instance) {
  ActiveFault& f = faults_[instance];
  ++f.plan;
  const FaultParams& p = *f.spec.params;
  const Time now = sim_.now();
  const int64_t n = p.ramp_steps;
  auto at = [&](Time t, uint32_t step) {
    if (t > now) {
      sim_.queue_.push_after_instant(t, Simulation::kSystem, kFaultStep,
                                     step_payload(instance, f.plan, step));
    }
  };
  if (p.ramp_in > Time::zero()) {
    for (int64_t k = 1; k <= n; ++k) {
      at(boundary(f.start, p.ramp_in, k, n), static_cast<uint32_t>(k));
    }
  }
  if (f.end != Time::max()) {
    if (p.ramp_out > Time::zero()) {
      const Time from = f.end - p.ramp_out;
      for (int64_t k = 0; k < n; ++k) {
        at(boundary(from, p.ramp_out, k, n), kRampOutStep + static_cast<uint32_t>(k));
      }
    }
    if (f.end > now) {
      at(f.end, kEndStep);
    } else {
      sim_.queue_.push_after_instant(now, Simulation::kSystem, kFaultStep,
                                     step_payload(instance, f.plan, kEndStep));
    }
  }
}

// Linear ramps, held constant within each of the ramp_steps equal parts at the part's midpoint
// value: deterministic, and the mean intensity over a ramp is exactly one half.
double FaultController::intensity_at(const ActiveFault& f, Time t) const {
  const FaultParams& p = *f.spec.params;
  const int64_t n = p.ramp_steps;
  double level = 1;
  if (p.ramp_in > Time::zero() && t < f.start + p.ramp_in) {
    int64_t k = 0;
    while (k + 1 < n && boundary(f.start, p.ramp_in, k + 1, n) <= t) ++k;
    level = (static_cast<double>(k) + 0.5) / static_cast<double>(n);
  }
  if (f.end != Time::max() && p.ramp_out > Time::zero() && t >= f.end - p.ramp_out) {
    const Time from = f.end - p.ramp_out;
    int64_t k = 0;
    while (k + 1 < n && boundary(from, p.ramp_out, k + 1, n) <= t) ++k;
    level = std::min(level, 1 - (static_cast<double>(k) + 0.5) / static_cast<double>(n));
  }
  return level;
}

// --- Rebuilding the targets' fault state ----------------------------------------------------

// Every state first, then the notifications: a component told about its crash may answer calls
// at once, and their callers must already see the other targets' new state.
void FaultController::rebuild(const std::vector<uint32_t>& components) {
  std::vector<FaultEffects> before;
  before.reserve(components.size());
  for (uint32_t c : components) {
    FaultState& s = sim_.components_[c]->faults();
    before.push_back(s);
    s.reset_effects();
    for (const ActiveFault& f : faults_) {
      if (f.active && std::binary_search(f.targets.begin(), f.targets.end(), c)) {
        f.spec.params->contribute(s, f);
      }
    }
    s.clock.retune(sim_.now(), s.clock_rate, s.clock_offset);
  }
  for (size_t i = 0; i < components.size(); ++i) {
    Component& c = *sim_.components_[components[i]];
    if (!(static_cast<const FaultEffects&>(c.faults()) == before[i])) {
      c.on_faults_changed(sim_, before[i]);
    }
  }
}

}  // namespace dsim
