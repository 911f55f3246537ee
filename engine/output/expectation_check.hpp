// Measures a scenario's expectations during a run and gives the verdicts at its end.
//
// An Observer: what an expectation needs is gathered as the run goes, because a window of the
// run ("during [5m, 10m]", "after fault X ends + 2m") needs figures of that window and not an
// average of per-window summaries. Where the figures come from:
//
//   scope                 whole measured period            a window of the run
//   system / workload     requests finished (created        requests finished in the window
//                         after warm-up), as the summary
//   component             its StationMetrics (exact)       the time-series windows that
//                                                           overlap the window
//
// recovery_time compares the inner measure of each time-series window after the fault's end with
// its value before the fault (see docs/scenario-format.md, "Expectations").
#pragma once

#include <memory>
#include <vector>

#include "core/observer.hpp"
#include "core/simulation.hpp"
#include "output/expectation_result.hpp"
#include "scenario/expectation.hpp"

namespace dsim {

class ExpectationCheck final : public Observer {
 public:
  // Attaches itself to `sim`, which must not have started yet; it must outlive the run.
  ExpectationCheck(Simulation& sim, const std::vector<Expectation>& expectations);
  ~ExpectationCheck() override;
  ExpectationCheck(const ExpectationCheck&) = delete;
  ExpectationCheck& operator=(const ExpectationCheck&) = delete;

  // Where fault windows are read: by default sim.fault_windows(). Tests substitute a timeline of
  // their own (it may change between driving calls, as the simulation's does).
  void use_fault_windows(const std::vector<FaultWindow>& windows) { faults_ = &windows; }

  bool wants_requests() const override { return wants_requests_; }
  void on_request_finished(const Simulation& sim, const Request& r, Outcome outcome, Reason reason,
                           uint32_t component) override;
  void on_window(const Simulation& sim, const WindowReport& report) override;

  // One verdict per expectation, in the scenario's order. Call once the run has finished (or
  // stopped): what was not measured by then fails with a detail saying why.
  std::vector<ExpectationResult> results(const Simulation& sim) const;

  struct Probe;

 private:
  std::vector<std::unique_ptr<Probe>> probes_;
  const std::vector<FaultWindow>* faults_;
  bool wants_requests_ = false;
};

// True when every result passed (also for none).
bool all_passed(const std::vector<ExpectationResult>& results);

}  // namespace dsim
