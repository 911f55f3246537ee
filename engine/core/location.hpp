// Where a piece of a scenario came from, for file:line:col error messages.
#pragma once

#include <string>

namespace dsim {

struct Location {
  std::string file;  // a path, or "--set a.b.c" for a command-line override
  int line = 0;      // 1-based; 0 when unknown
  int column = 0;    // 1-based; 0 when unknown

  std::string to_string() const {
    if (line <= 0) return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
};

}  // namespace dsim
