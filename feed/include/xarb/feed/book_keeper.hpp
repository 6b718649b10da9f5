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

// How a venue's books are built from its frames; each venue's feed adapter says which (from the
// book stream its endpoint names). Frames of the other book kinds are counted and ignored, so
// that two sources never write one book.
enum class BookSync : std::uint8_t {
  none,           // the venue has no books here
  whole_book,     // every orderbook frame is the whole book (Upbit, Bithumb)
  diff_depth,     // diffs with update ids, synchronised with a REST snapshot (DiffSyncBook)
  partial_depth,  // every partial-depth frame is the top levels
  book_ticker,    // best bid and ask, ids only growing
};

struct ApplyOutcome {
  const book::L2Book* book = nullptr;  // the book that changed: publish it; null when none did
  InstrumentId instrument = kNoInstrument;
  bool needs_snapshot = false;  // a diff book waiting for its venue's REST snapshot
  book::SyncResult sync = book::SyncResult::applied;
};

// Writes `book`'s top levels into `out` with the stage stamps of the update that changed it
// (received, parsed, and applied = now). No allocation, feed thread.
void fill_snapshot(const book::L2Book& book, std::int64_t received_ns, std::int64_t parsed_ns,
                   BookSnapshot& out) noexcept;

// The books of one feed thread, one per (venue, instrument) of the symbol map that the venue
// lists, allocated at construction, each built as its venue's BookSync says. apply() routes a
// parsed frame to its book. Single-threaded; apply() does not allocate.
class BookKeeper {
 public:
  using Syncs = std::array<BookSync, kMaxVenues>;  // by venue index
  BookKeeper(const SymbolMap& symbols, const Syncs& syncs);

  [[nodiscard]] ApplyOutcome apply(Venue venue, const ParsedFrame& frame) noexcept;

  // Marks every book of a venue stale and, for diff books, waiting for a snapshot (after a
  // reconnect).
  void resync_venue(Venue venue) noexcept;

  [[nodiscard]] const book::L2Book* book(Venue venue, InstrumentId instrument) const noexcept;
  // The venue's diff book of the instrument; null unless the venue syncs diff_depth.
  [[nodiscard]] const book::DiffSyncBook* diff_book(Venue venue,
                                                    InstrumentId instrument) const noexcept;
  [[nodiscard]] std::uint64_t ignored_frames() const noexcept { return ignored_; }
  [[nodiscard]] std::uint64_t gaps() const noexcept;
  [[nodiscard]] BookSync sync(Venue venue) const noexcept;

 private:
  Syncs syncs_{};
  std::size_t instruments_ = 0;
  // By venue index, then instrument; null where the venue does not list the instrument.
  std::array<std::vector<std::unique_ptr<book::DiffSyncBook>>, kMaxVenues> diff_;
  std::array<std::vector<std::unique_ptr<book::L2Book>>, kMaxVenues> plain_;
  std::uint64_t ignored_ = 0;
};

}  // namespace xarb::feed
