#pragma once

// `xarb run`: the pipeline of docs/design.md wired from a config. Feed -> SPSC -> signal -> SPSC ->
// exec -> SPSC (reports) -> signal; every stage -> MPMC -> the ops thread (journal, metrics,
// status lines). Hot stages are hosted by the threads of [threads] (one pinned thread hosting
// all three on 2 cores, or one each); the rings are the same in every layout.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <xarb/app/config.hpp>
#include <xarb/app/report.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

struct RunOptions {
  bool live = false;                      // --live: real orders (needs mode = "live" and keys)
  std::chrono::milliseconds duration{0};  // 0: until SIGINT / SIGTERM
  bool flatten_on_exit = false;           // close open positions before exiting
  std::filesystem::path report_dir = ".";  // report.json and report.txt go here
  std::chrono::milliseconds status_every{10'000};
  std::chrono::milliseconds startup_timeout{30'000};  // books and FX must be there by then
  // In-flight intents (and a flatten) on exit: long enough for a lost answer's not-found grace
  // (Upbit 10 s) and a retry.
  std::chrono::milliseconds drain_timeout{30'000};
  std::string config_text;  // the effective config, stored with the run in the journal
  // --share-journal: run on a journal that holds runs of the other mode (paper and live). Off, such
  // a journal is refused before anything connects. On, the modes still never see each other's
  // positions or intents.
  bool share_journal = false;
  // --accept-balances: the venues' balances at start become the journal's baseline, whatever
  // it expected; each difference accepted is journaled with the time. Without it a difference
  // puts the engine in REDUCING, at this start and at every later one until it is accepted.
  bool accept_balances = false;
  // --record FILE: the frames this run's feed receives, with each venue's start-up answers, as a
  // recording (xarb backtest reads it). The feed copies each frame into a ring of
  // record_buffer_bytes that the ops thread writes out; a frame the ring has no room for is
  // counted and left out, never waited for.
  std::string record_path;
  std::size_t record_buffer_bytes = 64u << 20;
};

// What the strategy believes a venue holds of an asset at the end of the run.
struct HeldAsset {
  Venue venue = kNoVenue;
  std::string asset;  // "BTC"
  Decimal qty;
};

struct RunResult {
  int exit_code = 0;  // 0 ok, 1 start-up or run failure, 2 bad input (config, options)
  RunReport report;
  std::string error;
  std::vector<HeldAsset> inventory;  // base assets, from the venues' balances at start + fills
};

// Runs the engine until `duration` or until `stop` turns true, then winds down: entries stop,
// open positions are closed when flatten_on_exit, queues drain, the journal is committed and the
// report is written. Progress and the report go to `out`, problems to `err`.
[[nodiscard]] RunResult run_engine(const Config& config, const RunOptions& options,
                                   const std::atomic<bool>& stop, std::ostream& out,
                                   std::ostream& err);

}  // namespace xarb::app
