#pragma once

// `xarb backtest`: the engine's own signal and exec stages (the strategy, its risk guard and the
// two-leg executor) over recordings merged by receive time, on the recording's clock, against a
// paper venue per venue that models what a live order meets (exec::PaperVenue with a market):
// a round trip per venue drawn from a constant or from a live run's measured latencies, taker
// fills walking the recorded book as it stands when the order arrives, each venue's fee in the
// asset it charges, its trading rules as the recording's start-up answers gave them and its
// documented order limit; the two legs timed independently. Deterministic: the same recordings,
// config and seed give the same report, byte for byte. Writes the run report (text and JSON, as
// `xarb run` does, mode "backtest"), a trades CSV and a journal marked as a backtest.

#include <array>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <xarb/app/config.hpp>
#include <xarb/app/report.hpp>
#include <xarb/feed/capture.hpp>

namespace xarb::app {

// The round trips a backtest draws, by venue index: samples measured live (`xarb journal
// latency`), else the constant.
struct LatencyModel {
  std::array<std::int64_t, kMaxVenues> constant_ns{};  // 0: the paper venue's default
  std::array<std::vector<std::int64_t>, kMaxVenues> samples{};
};

// Reads `xarb journal latency`'s CSV (venue,action,latency_ns) into `out`'s samples (the
// place action's). False with `error` naming the file, the line and what is wrong.
[[nodiscard]] bool read_latency_csv(const std::string& path, LatencyModel& out,
                                    std::string& error);

struct BacktestOptions {
  std::vector<std::string> captures;
  std::uint64_t seed = 1;
  LatencyModel latency;
  std::filesystem::path out_dir = ".";  // report.txt, report.json, trades.csv
  // The backtest's journal; empty: <out_dir>/backtest.sqlite, replaced at each run. A journal
  // holding runs other than backtests is refused.
  std::filesystem::path journal;
  // After the last frame, in-flight orders are followed this long (recording time) at most.
  std::int64_t drain_ns = 60'000'000'000;
  bool quiet = false;  // no report text on `out` (a sweep's variants)
};

struct BacktestResult {
  int exit_code = 0;  // 0 ok, 2 bad input (a capture, the config, the options), 1 failure
  RunReport report;
  std::uint64_t frames = 0;  // capture lines replayed
  double wall_s = 0.0;       // how long it took
};

[[nodiscard]] BacktestResult run_backtest(const Config& config, const BacktestOptions& options,
                                          std::ostream& out, std::ostream& err);

// A recording's own header (its first line, when xarb made it): false with `err` told (file:1)
// when the header is there but unreadable; `found` says whether there was one.
[[nodiscard]] bool read_recording_header(const std::string& path, feed::RecordingHeader& header,
                                         bool& found, std::ostream& err);
// What a config needs of a recording that the recording does not hold: a venue it trades, a
// symbol, or a market named otherwise; empty when the recording covers the config.
[[nodiscard]] std::string not_covered(const feed::RecordingHeader& h, const Config& c);

}  // namespace xarb::app
