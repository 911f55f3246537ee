#include "scenario/diagnostics.hpp"

namespace dsim {

std::string Diagnostics::to_string() const {
  std::string out;
  for (const Diagnostic& d : items_) out += d.to_string() + "\n";
  if (count_ > items_.size()) {
    // Appended piecewise: `"(" + std::to_string(...)` trips GCC 12's false -Wrestrict (PR 105329).
    out += '(';
    out += std::to_string(count_ - items_.size());
    out += " more errors not shown)\n";
  }
  return out;
}

}  // namespace dsim
