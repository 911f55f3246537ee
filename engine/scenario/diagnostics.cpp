#include "scenario/diagnostics.hpp"

namespace dsim {

std::string Diagnostics::to_string() const {
  std::string out;
  for (const Diagnostic& d : items_) out += d.to_string() + "\n";
  if (count_ > items_.size()) {
    out += "(" + std::to_string(count_ - items_.size()) + " more errors not shown)\n";
  }
  return out;
}

}  // namespace dsim
