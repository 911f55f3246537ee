// Writes every window of every component as one CSV row (long format: easy to load in pandas,
// R or a spreadsheet and to plot per component).
#pragma once

#include <ostream>

#include "core/observer.hpp"

namespace dsim {

class TimeseriesCsvWriter final : public Observer {
 public:
  explicit TimeseriesCsvWriter(std::ostream& out);
  void on_window(const Simulation& sim, const WindowReport& report) override;

  static const std::string& header();

 private:
  std::ostream& out_;
};

}  // namespace dsim
