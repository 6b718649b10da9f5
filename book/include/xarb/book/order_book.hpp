#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>

namespace xarb::book {

// Levels kept per side. Binance REST snapshots go to 5,000 levels; deeper levels than this are
// dropped (and counted), which never affects the top of the book.
inline constexpr std::size_t kMaxLevels = 8192;

// One side of an L2 book: a flat array sorted worst to best, so the best level is at the back and
// the updates that matter (near the top) move few bytes. Lookups are binary searches.
// Single-threaded: the feed thread that owns the book. Nothing allocates.
class BookSide {
 public:
  explicit BookSide(Side side) noexcept : side_(side) {}

  // Sets the quantity at `price`; a zero quantity removes the level (removing an absent level is
  // not an error: venues send removals for levels deeper than a client keeps). Returns false when
  // the level was not kept because the side is full and the price is worse than every kept one.
  [[nodiscard]] bool set(Decimal price, Decimal qty) noexcept;
  void clear() noexcept { size_ = 0; }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  // The i-th best level, 0 = best. Precondition: i < size().
  [[nodiscard]] const Level& level(std::size_t i) const noexcept { return levels_[size_ - 1 - i]; }
  [[nodiscard]] const Level& best() const noexcept { return level(0); }
  [[nodiscard]] Side side() const noexcept { return side_; }

 private:
  // True when price a is worse than b on this side (lower bid, higher ask).
  [[nodiscard]] bool worse(Decimal a, Decimal b) const noexcept {
    return side_ == Side::buy ? a < b : a > b;
  }

  Side side_;
  std::size_t size_ = 0;
  std::array<Level, kMaxLevels> levels_;
};

// A full L2 book of one (venue, instrument). About 256 KB: allocate it once at start-up.
// Single-threaded: the feed thread that owns it.
class L2Book {
 public:
  L2Book(Venue venue, InstrumentId instrument) noexcept : venue_(venue), instrument_(instrument) {}

  // Replaces both sides (an Upbit orderbook, a Binance partial depth or bookTicker, a REST
  // snapshot). Zero-quantity or zero-price levels (Upbit pads with them) are skipped. Clears the
  // stale flag; sets the crossed flag when the best bid is at or above the best ask.
  void replace(std::span<const Level> bids, std::span<const Level> asks, std::uint64_t sequence,
               std::int64_t exchange_ns) noexcept;

  // Applies a diff to both sides (no sequence checks here: see DiffSyncBook). Updates the crossed
  // flag. Levels the sides could not keep are counted in dropped_levels().
  void apply(std::span<const Level> bids, std::span<const Level> asks, std::uint64_t sequence,
             std::int64_t exchange_ns) noexcept;

  // Marks the book unusable until the next replace(): a gap, a failed snapshot, a lost feed.
  void mark_stale(bool resyncing) noexcept;
  void clear() noexcept;

  // Writes the top kBookDepth levels, ids, sequence and flags into `out` (stamps are the
  // caller's). Never fails, does not allocate.
  void publish(BookSnapshot& out) const noexcept;

  [[nodiscard]] const BookSide& bids() const noexcept { return bids_; }
  [[nodiscard]] const BookSide& asks() const noexcept { return asks_; }
  [[nodiscard]] std::uint64_t sequence() const noexcept { return sequence_; }
  [[nodiscard]] std::int64_t exchange_ns() const noexcept { return exchange_ns_; }
  [[nodiscard]] std::uint8_t flags() const noexcept { return flags_; }
  [[nodiscard]] bool crossed() const noexcept { return (flags_ & book_flags::kCrossed) != 0; }
  [[nodiscard]] std::uint32_t generation() const noexcept { return generation_; }
  [[nodiscard]] std::uint64_t dropped_levels() const noexcept { return dropped_levels_; }
  [[nodiscard]] Venue venue() const noexcept { return venue_; }
  [[nodiscard]] InstrumentId instrument() const noexcept { return instrument_; }

 private:
  void update_crossed() noexcept;

  Venue venue_;
  InstrumentId instrument_;
  std::uint8_t flags_ = book_flags::kStale;  // stale until the first full book
  std::uint32_t generation_ = 0;
  std::uint64_t sequence_ = 0;
  std::int64_t exchange_ns_ = 0;
  std::uint64_t dropped_levels_ = 0;
  BookSide bids_{Side::buy};
  BookSide asks_{Side::sell};
};

}  // namespace xarb::book
