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

class Journal;

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
  // What the venues hold at the start (a live run's, from its journal); an asset not named here
  // starts with the paper run's default ([inventory] paper_balance, else ten position limits).
  struct Balance {
    Venue venue = kNoVenue;
    std::string asset;
    Decimal qty;
  };
  std::vector<Balance> balances;
  // Trading window on the recording's clock (epoch ns; 0: its start, its end). Before it the
  // books and the baselines warm up with entries off; at its end entries stop, open positions
  // are closed (as --flatten-on-exit), and the backtest ends once they are.
  std::int64_t trade_from_ns = 0;
  std::int64_t trade_until_ns = 0;
  // After the last frame, in-flight orders are followed this long (recording time) at most.
  std::int64_t drain_ns = 60'000'000'000;
  bool quiet = false;  // no report text on `out` (a sweep's variants)
  // PNG plots in <out_dir>/plots (gnuplot): each pair's premium per symbol with its baseline,
  // entry thresholds, entries and exits; cumulative PnL and drawdown; the round trips drawn.
  bool plots = true;
};

// What a sweep compares variants by (summary.json beside each report).
struct BacktestSummary {
  std::uint64_t entries = 0;
  std::uint64_t closed = 0;
  std::uint64_t wins = 0;
  std::array<std::uint64_t, kExitReasonCount> exits{};  // exit intents by reason
  double winrate = 0.0;
  double pnl_krw = 0.0;           // realised
  double fees_krw = 0.0;          // every fill's fee, in KRW at the FX rate of the moment
  double turnover_krw = 0.0;      // every fill's notional, in KRW
  double max_drawdown_krw = 0.0;  // the deepest fall of realised PnL from a high
  // The summary as JSON, and read back (false with `error` when it is not one).
  [[nodiscard]] std::string json() const;
  [[nodiscard]] static bool parse(const std::string& text, BacktestSummary& out,
                                  std::string& error);
};

struct BacktestResult {
  int exit_code = 0;  // 0 ok, 2 bad input (a capture, the config, the options), 1 failure
  RunReport report;
  BacktestSummary summary;
  std::uint64_t frames = 0;  // capture lines replayed
  double wall_s = 0.0;       // how long it took
};

[[nodiscard]] BacktestResult run_backtest(const Config& config, const BacktestOptions& options,
                                          std::ostream& out, std::ostream& err);

// The receive times of the first and the last frame of the captures (a full read). False with
// `error` when one cannot be read.
[[nodiscard]] bool capture_span(const std::vector<std::string>& captures, std::int64_t& first_ns,
                                std::int64_t& last_ns, std::string& error);

// `xarb backtest --compare-journal`: the backtest's entries and PnL against the live run that
// made the recording, from both journals.
struct AgreementOptions {
  std::filesystem::path journal;   // the live run's journal
  std::uint64_t run_id = 0;        // 0: its latest run that is not a backtest
  std::int64_t window_ns = 50'000'000;  // an entry matches one decided this close
  double min_match_pct = 95.0;     // of the live entries
  std::uint64_t max_extra = 0;     // backtest entries the live run did not make
  double max_pnl_diff_pct = 5.0;   // of the live realised PnL ...
  double pnl_floor_bps = 1.0;      // ... or this share of the live traded notional, the larger
};

// Where the PnL difference comes from.
struct AgreementCause {
  std::string name;  // fill, fee, exit, missed:<why>, extra:<why>
  std::uint64_t entries = 0;
  double pnl_krw = 0.0;  // backtest minus live
};

struct Agreement {
  std::uint64_t live_run = 0, backtest_run = 0;
  std::uint64_t live_entries = 0, backtest_entries = 0;
  std::uint64_t matched = 0, missed = 0, extra = 0;
  double live_pnl_krw = 0.0, backtest_pnl_krw = 0.0;
  double traded_notional_krw = 0.0;  // the live run's fills, in KRW
  double allowed_pnl_diff_krw = 0.0;
  std::vector<AgreementCause> causes;
  std::vector<std::string> shortfalls;  // each target not met; empty: agreed

  [[nodiscard]] double match_pct() const noexcept {
    return live_entries == 0 ? 100.0 : 100.0 * static_cast<double>(matched) /
                                           static_cast<double>(live_entries);
  }
  [[nodiscard]] bool met() const noexcept { return shortfalls.empty(); }
  void print(std::ostream& out) const;
  [[nodiscard]] std::string json() const;
};

// The run of `journal` a comparison is with: `run_id`, or (0) its latest run that is not a
// backtest; 0 when it has none.
[[nodiscard]] std::uint64_t compared_run(Journal& journal, std::uint64_t run_id);

// Matches the entries of `backtest_run` in `backtest_journal` against the live run's: same
// symbol, direction and pair, decided within the window (each used once, nearest first). False
// with `error` when a journal or run cannot be read.
[[nodiscard]] bool compare_with_journal(const AgreementOptions& options,
                                        const std::filesystem::path& backtest_journal,
                                        std::uint64_t backtest_run, Agreement& out,
                                        std::string& error);

// A recording's own header (its first line, when xarb made it): false with `err` told (file:1)
// when the header is there but unreadable; `found` says whether there was one.
[[nodiscard]] bool read_recording_header(const std::string& path, feed::RecordingHeader& header,
                                         bool& found, std::ostream& err);
// What a config needs of a recording that the recording does not hold: a venue it trades, a
// symbol, or a market named otherwise; empty when the recording covers the config.
[[nodiscard]] std::string not_covered(const feed::RecordingHeader& h, const Config& c);

}  // namespace xarb::app
