#pragma once

// Replay as a market source: recorded Binance depth (REST snapshots and diff streams, in the
// ../shared/data JSONL format) drives the simulator's Binance books at the recorded speed or a
// multiple of it; each symbol's Upbit book follows the replayed mid with the model's premium.

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <xarb/sim/market.hpp>

namespace xarb::sim {

class CaptureReplay {
 public:
  // Throws std::runtime_error when the file cannot be opened.
  CaptureReplay(const std::string& path, double speed);

  // Applies every event due `elapsed_s` seconds after the start (recorded time / speed) to
  // `market`; returns the Binance books that changed (symbol indices, in order).
  std::vector<std::size_t> advance(double elapsed_s, SyntheticMarket& market, std::int64_t now_ms);

  [[nodiscard]] bool finished() const noexcept { return finished_; }
  [[nodiscard]] std::uint64_t applied() const noexcept { return applied_; }
  [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }

 private:
  bool read_next();  // into next_line_ / next_ts_

  std::ifstream in_;
  double speed_;
  double first_ts_ = -1.0;
  std::string next_line_;
  double next_ts_ = 0.0;
  bool have_next_ = false;
  bool finished_ = false;
  std::vector<bool> synced_;              // per symbol: a snapshot was applied
  std::vector<std::uint64_t> last_u_;     // per symbol: last applied update id
  std::uint64_t applied_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace xarb::sim
