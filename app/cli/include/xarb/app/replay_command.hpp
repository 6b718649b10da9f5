#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace xarb::app {

struct ReplayOptions {
  std::string input;       // capture in the data/ JSONL format
  std::string config;      // optional: symbols from this config instead of the capture's
  std::string emit_books;  // optional: one JSONL line per top-of-book change
  // VENUE=STREAM: the stream a venue's books are built from (default: the config's, else the
  // venue's first); one per venue.
  std::vector<std::string> books;
  double speed = 0.0;  // 0: as fast as possible; 1: recorded speed; 2: twice as fast
};

// `xarb replay`: feeds a capture through the engine's parsers and books. Writes a summary to
// `out`, problems to `err`; returns the process exit code (0 ok, 2 bad input or options).
int run_replay(const ReplayOptions& options, std::ostream& out, std::ostream& err);

}  // namespace xarb::app
