#include "scenario/diagnostics.hpp"

#include <cstdio>

namespace dsim {

std::string Diagnostics::one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 && c != '\t') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

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

std::string Diagnostics::warnings_text() const {
  std::string out;
  for (const Diagnostic& d : warnings_) out += d.to_string() + "\n";
  return out;
}

}  // namespace dsim
