#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <xarb/book/diff_sync.hpp>
#include <xarb/book/order_book.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/feed/parsed_frame.hpp>

namespace xarb::feed {

// Which Binance stream builds the Binance books: the diff stream synchronised with REST
// snapshots (full depth, the default), partial depth (top 5/10/20 every 100 ms), or bookTicker
// (best bid and ask only). Frames of the other book kinds are counted and ignored, so that two
// sources never write one book.
enum class BinanceBookSource : std::uint8_t { diff_depth, partial_depth, book_ticker };

[[nodiscard]] std::string_view to_string(BinanceBookSource s) noexcept;

struct ApplyOutcome {
  const book::L2Book* book = nullptr;  // the book that changed: publish it; null when none did
  InstrumentId instrument = kNoInstrument;
  bool needs_snapshot = false;  // Binance diff book waiting for GET /api/v3/depth
  book::SyncResult sync = book::SyncResult::applied;
};

// Writes `book`'s top levels into `out` with the stage stamps of the update that changed it
// (received, parsed, and applied = now). No allocation, feed thread.
void fill_snapshot(const book::L2Book& book, std::int64_t received_ns, std::int64_t parsed_ns,
                   BookSnapshot& out) noexcept;

// The books of one feed thread, one per (venue, instrument) of the symbol map, allocated at
// construction. apply() routes a parsed frame to its book. Single-threaded; apply() does not
// allocate.
class BookKeeper {
 public:
  BookKeeper(const SymbolMap& symbols, BinanceBookSource binance_source);

  [[nodiscard]] ApplyOutcome apply(Venue venue, const ParsedFrame& frame) noexcept;

  // Marks every book of a venue stale and, for Binance diff books, waiting for a snapshot
  // (after a reconnect).
  void resync_venue(Venue venue) noexcept;

  [[nodiscard]] const book::L2Book* book(Venue venue, InstrumentId instrument) const noexcept;
  [[nodiscard]] const book::DiffSyncBook* diff_book(InstrumentId instrument) const noexcept;
  [[nodiscard]] std::uint64_t ignored_frames() const noexcept { return ignored_; }
  [[nodiscard]] std::uint64_t gaps() const noexcept;
  [[nodiscard]] BinanceBookSource binance_source() const noexcept { return source_; }

 private:
  BinanceBookSource source_;
  std::vector<std::unique_ptr<book::DiffSyncBook>> binance_diff_;  // by instrument; may be null
  std::vector<std::unique_ptr<book::L2Book>> binance_top_;         // partial depth / bookTicker
  // Venues whose every frame is a whole book (Upbit, Bithumb), by venue then instrument.
  std::array<std::vector<std::unique_ptr<book::L2Book>>, kMaxVenues> whole_;
  std::uint64_t ignored_ = 0;
};

}  // namespace xarb::feed
