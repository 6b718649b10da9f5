#pragma once

// A problem in a settings file, located by file, line, column and dotted key (light: no toml++).

#include <string>

namespace xarb::settings {

// One problem: "paper.toml:12:1: strategy.entry_bps: must be greater than 0".
struct Issue {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string key;
  std::string message;

  [[nodiscard]] std::string to_string() const;
};

}  // namespace xarb::settings
