#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

#include <xarb/app/stage_options.hpp>

namespace xarb::app {

// `xarb record`: connects to the configured venues and writes every raw frame (and every REST
// depth snapshot) with its receive time in the JSONL format of data/, so that
// `xarb replay` reads it back. Each ws line names its connection's url. Runs for `duration`
// or until SIGINT/SIGTERM. Returns the exit code.
int run_record(const std::string& config_path, const std::string& out_path,
               std::chrono::milliseconds duration, std::ostream& out, std::ostream& err);

// `xarb watch`: a terminal view per symbol, refreshed in place: Upbit bid/ask in KRW, Binance
// bid/ask in USDT, the FX rate, the top-of-book premium both ways, book ages and connection
// state. Runs for `duration` (0: until SIGINT/SIGTERM). Returns the exit code.
int run_watch(const std::string& config_path, std::chrono::milliseconds duration, std::ostream& out,
              std::ostream& err);

}  // namespace xarb::app
