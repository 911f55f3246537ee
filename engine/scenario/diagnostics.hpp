// Errors found while loading a scenario, each with where it is. The loader keeps going after an
// error so that one pass reports as many problems as it can. Warnings are for what is valid but
// almost certainly not meant (a fault that starts after the run ends): the scenario still loads.
#pragma once

#include <string>
#include <vector>

#include "core/location.hpp"

namespace dsim {

struct Diagnostic {
  Location where;
  std::string message;
  bool warning = false;
  std::string to_string() const {
    return where.to_string() + (warning ? ": warning: " : ": error: ") + message;
  }
};

class Diagnostics {
 public:
  // Control characters in the message (a newline in a quoted value, or in a yaml-cpp message)
  // are escaped: one error, one line.
  void error(Location where, std::string message) {
    if (items_.size() < kMaxErrors) items_.push_back({std::move(where), one_line(message)});
    ++count_;
  }
  void warning(Location where, std::string message) {
    if (warnings_.size() < kMaxErrors) {
      warnings_.push_back({std::move(where), one_line(message), /*warning=*/true});
    }
  }
  // Appends `text` to the errors kept from index `first` on (those a step has just reported).
  void append_to_errors_since(size_t first, const std::string& text) {
    for (size_t k = first; k < items_.size(); ++k) items_[k].message += one_line(text);
  }
  bool ok() const { return count_ == 0; }
  // True once further errors are only counted, not kept: their wording need not be worked out.
  bool full() const { return items_.size() >= kMaxErrors; }
  size_t count() const { return count_; }
  const std::vector<Diagnostic>& items() const { return items_; }
  const std::vector<Diagnostic>& warnings() const { return warnings_; }
  // All error messages, one per line, plus a note when some were not kept.
  std::string to_string() const;
  // All warnings, one per line ("" when none).
  std::string warnings_text() const;
  // `text` with control characters escaped (\n, \r, \x01); tabs are kept.
  static std::string one_line(const std::string& text);

 private:
  static constexpr size_t kMaxErrors = 100;
  std::vector<Diagnostic> items_;
  std::vector<Diagnostic> warnings_;
  size_t count_ = 0;
};

}  // namespace dsim
