// A fault's threshold trigger: `after: {when: "max(queue.depth, of: orders) > 500"}`.
//
// The condition is an expectation of the scenario's `expect:` grammar (scenario/expectation.hpp,
// parsed by the same parser, so it reads and fails the same way), restricted to measures of one
// component. It is checked at the end of every time-series window, over that window alone, on the
// component's window figures - the ones an expectation `during [a, b]` over that single window
// reads (output/expectation_check.cpp), and the ones timeseries.csv shows. Window ends are
// instants of simulated time and the figures are exact, so a trigger fires at the same instant
// in every run of the same scenario and seed.
//
// Only a component's figures are kept per window: a condition on a workload or on the whole
// system (requests end to end) is refused at load time, as is recovery_time (a measure of a
// whole stretch of the run, not of one window).
#pragma once

#include <optional>
#include <string>

#include "core/station_metrics.hpp"
#include "core/time.hpp"
#include "scenario/expectation.hpp"

namespace dsim {

// Why `condition` cannot trigger a fault ("" if it can).
std::string trigger_problem(const Expectation& condition);

// The measure's value over the window (start, end] that is closing now, from the component's
// window figures (read before the simulation resets them), or nothing when the window has no
// value for it (no request completed, for a latency; no lookup, for a hit ratio).
std::optional<double> window_value(const Measure& measure, const StationMetrics& metrics,
                                   Time start, Time end);

// Whether the condition holds over that window (never when the window has no value).
bool trigger_holds(const Expectation& condition, const StationMetrics& metrics, Time start,
                   Time end);

}  // namespace dsim
