#pragma once

// `xarb backtest`: the command line over app::run_backtest (backtest.hpp).

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace xarb::app {

struct BacktestArgs {
  std::string config;
  std::vector<std::string> captures;
  std::uint64_t seed = 1;
  std::vector<std::string> latency;  // VENUE=MS: a constant round trip for a venue
  std::string latency_from;          // `xarb journal latency`'s CSV
  std::string out_dir = "backtest";
  std::string journal;
};

// Checks the config and the captures (each recording's header must hold every venue, symbol and
// market the config trades), then runs the backtest. Returns the exit code: 0 ok, 2 bad input.
int backtest_command(const BacktestArgs& args, std::ostream& out, std::ostream& err);

}  // namespace xarb::app
