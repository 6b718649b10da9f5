#pragma once

#include <cstdint>

#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/feed/binance_parser.hpp>
#include <xarb/feed/book_keeper.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/feed/upbit_parser.hpp>

namespace xarb::feed {

// Receives every book snapshot a replay publishes. Called on the replaying thread.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void on_snapshot(const BookSnapshot& snapshot) noexcept = 0;
};

struct ReplayStats {
  std::uint64_t frames = 0;             // ws frames fed to a parser
  std::uint64_t rest_snapshots = 0;     // http depth bodies fed to a book
  std::uint64_t published = 0;          // snapshots handed to the sink
  std::uint64_t snapshot_requests = 0;  // times a Binance book asked for a REST snapshot
  std::uint64_t skipped = 0;            // events with no venue, or not market data
};

// Feeds capture events through the same parsers and books the live feed uses, and publishes a
// BookSnapshot (with received / parsed / applied stamps) after every applied update. The venue
// of each frame comes from the capture's URLs. Single-threaded; after warm-up feed() does not
// allocate.
class Replayer {
 public:
  Replayer(const SymbolMap& symbols, BinanceBookSource binance_source);

  void feed(const CaptureEvent& event, SnapshotSink& sink) noexcept;

  [[nodiscard]] const ParserStats& binance_stats() const noexcept { return binance_.stats(); }
  [[nodiscard]] const ParserStats& upbit_stats() const noexcept { return upbit_.stats(); }
  [[nodiscard]] const ParserStats& bithumb_stats() const noexcept { return bithumb_.stats(); }
  [[nodiscard]] const BookKeeper& books() const noexcept { return books_; }
  [[nodiscard]] const ReplayStats& stats() const noexcept { return stats_; }

 private:
  void publish(const ApplyOutcome& outcome, const CaptureEvent& event, std::int64_t parsed_ns,
               SnapshotSink& sink) noexcept;

  const SymbolMap& symbols_;
  BinanceParser binance_;
  UpbitParser upbit_;
  UpbitParser bithumb_;  // Upbit's framing, Bithumb's markets
  BookKeeper books_;
  BookSnapshot scratch_;
  ReplayStats stats_;
};

}  // namespace xarb::feed
