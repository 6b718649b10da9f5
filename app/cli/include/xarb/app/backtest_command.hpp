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
  std::vector<std::string> sets;  // KEY=VALUE: the config with these changed (a sweep's variant)
  std::int64_t trade_from_ns = 0;   // the trading window (BacktestOptions)
  std::int64_t trade_until_ns = 0;
  bool quiet = false;               // no report on the output
  bool plots = true;                // --no-plots: none (a sweep's variants)
  // --compare-journal: the live run that made the recording, and the targets of the agreement.
  std::string compare_journal;
  std::uint64_t compare_run = 0;
  double match_ms = 50.0;
  double min_match = 95.0;
  double max_pnl_diff = 5.0;
  double pnl_floor_bps = 1.0;
  std::uint64_t max_extra = 0;
};

// Checks the config and the captures (each recording's header must hold every venue, symbol and
// market the config trades), then runs the backtest, and with compare_journal measures its
// agreement with that run (agreement.json beside the report). Returns the exit code: 0 ok, 2 bad
// input, 1 a failure or an agreement short of its targets.
int backtest_command(const BacktestArgs& args, std::ostream& out, std::ostream& err);

}  // namespace xarb::app
