#pragma once

// Replay as a market source: captures in the data/ JSONL format drive the simulator's
// books at the recorded speed or a multiple of it (sim/src/venues/replay.cpp: it reads each
// venue's frames).
// - Binance depth (REST snapshots, then the diffs that continue them) drives the Binance books.
// - Upbit orderbook frames (SIMPLE or DEFAULT; each one a whole book) drive the Upbit books, and
//   KRW-USDT frames the FX book.
// A book no capture drives follows the model: the other venue's replayed mid with the model's
// premium and FX rate. Several captures play side by side, each from its own first event (the
// Binance and Upbit captures here were recorded at different times and share no symbol).

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include <xarb/sim/market.hpp>

namespace xarb::sim {

class CaptureReplay {
 public:
  // Throws std::runtime_error when a file cannot be opened.
  CaptureReplay(const std::vector<std::string>& paths, double speed);

  // Applies every event due `elapsed_s` seconds after the start (recorded time / speed) to
  // `market`; returns the books that changed, in order (Upbit symbol == specs().size(): the
  // KRW-USDT book).
  std::vector<BookUpdate> advance(double elapsed_s, SyntheticMarket& market, std::int64_t now_ms);

  [[nodiscard]] bool finished() const noexcept;
  [[nodiscard]] std::uint64_t applied() const noexcept { return applied_; }
  // Book events of a simulated market that did not apply: Binance diffs before the first
  // snapshot or behind it, malformed levels. Markets not simulated are ignored, not counted.
  [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }

 private:
  struct Source {
    std::ifstream in;
    std::string line;        // the next event, read ahead
    double ts = 0.0;         // its receive time
    double first_ts = -1.0;  // the capture's first event: its time zero
    bool have = false;
    bool done = false;
  };
  bool read_next(Source& s);
  void apply(std::string_view line, SyntheticMarket& market, std::int64_t now_ms,
             std::vector<BookUpdate>& changed);
  bool apply_orderbook(simdjson::dom::element data, SyntheticMarket& market, std::int64_t now_ms,
                   std::vector<BookUpdate>& changed);

  std::vector<Source> sources_;
  double speed_;
  simdjson::dom::parser parser_;
  std::vector<bool> synced_;           // per symbol: a Binance snapshot was applied
  std::vector<std::uint64_t> last_u_;  // per symbol: last applied Binance update id
  std::uint64_t applied_ = 0;
  std::uint64_t skipped_ = 0;
};

}  // namespace xarb::sim
