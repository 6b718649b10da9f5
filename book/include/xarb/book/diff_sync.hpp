#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <xarb/book/order_book.hpp>

namespace xarb::book {

// A Binance diff-depth event (`depthUpdate`): update ids U (first) and u (last).
struct DepthDiff {
  std::uint64_t first_id = 0;
  std::uint64_t last_id = 0;
  std::int64_t exchange_ns = 0;
  std::span<const Level> bids;
  std::span<const Level> asks;
};

// A REST depth snapshot (`GET /api/v3/depth`).
struct DepthSnapshot {
  std::uint64_t last_update_id = 0;
  std::span<const Level> bids;
  std::span<const Level> asks;
};

enum class SyncResult : std::uint8_t {
  applied,           // the book changed
  buffered,          // waiting for a snapshot; kept for after it
  ignored_old,       // already contained in the book (u <= last applied id)
  gap,               // a missing update: the book is stale and a snapshot is needed
  snapshot_too_old,  // the snapshot ends before the first buffered event: fetch another
  crossed,           // the diff crossed the book: it is stale and a snapshot is needed
};

[[nodiscard]] constexpr std::string_view to_string(SyncResult r) noexcept {
  switch (r) {
    case SyncResult::applied:
      return "applied";
    case SyncResult::buffered:
      return "buffered";
    case SyncResult::ignored_old:
      return "ignored_old";
    case SyncResult::gap:
      return "gap";
    case SyncResult::snapshot_too_old:
      return "snapshot_too_old";
    case SyncResult::crossed:
      return "crossed";
  }
  return "unknown";
}

// Keeps a local Binance book from a REST snapshot plus the diff stream, exactly as the venue
// documents: buffer diffs until a snapshot arrives; drop buffered events with u <= lastUpdateId;
// the first applied event must have U <= lastUpdateId + 1 <= u; after that each U must be the
// previous u + 1. A gap or a crossed book discards the book and waits for a new snapshot
// (needs_snapshot() turns true; the feed fetches it).
//
// Single-threaded: the feed thread. The diff buffer is preallocated; when it is full the oldest
// buffered events are discarded, which is safe because a later snapshot supersedes them.
class DiffSyncBook {
 public:
  static constexpr std::size_t kMaxBufferedEvents = 1024;
  static constexpr std::size_t kMaxBufferedLevels = std::size_t{16} * 1024;

  DiffSyncBook(Venue venue, InstrumentId instrument);

  [[nodiscard]] SyncResult on_diff(const DepthDiff& diff) noexcept;
  [[nodiscard]] SyncResult on_snapshot(const DepthSnapshot& snapshot) noexcept;

  // Discards the book and waits for a snapshot (reconnects call this).
  void resync() noexcept;

  [[nodiscard]] bool needs_snapshot() const noexcept { return state_ != State::synced; }
  [[nodiscard]] const L2Book& book() const noexcept { return book_; }
  [[nodiscard]] std::uint64_t last_update_id() const noexcept { return last_id_; }
  [[nodiscard]] std::uint64_t gaps() const noexcept { return gaps_; }
  [[nodiscard]] std::uint64_t resyncs() const noexcept { return resyncs_; }
  [[nodiscard]] std::uint64_t buffer_overflows() const noexcept { return buffer_overflows_; }
  [[nodiscard]] std::size_t buffered() const noexcept { return pending_.size(); }

 private:
  enum class State : std::uint8_t { awaiting_snapshot, synced };

  struct Pending {
    std::uint64_t first_id;
    std::uint64_t last_id;
    std::int64_t exchange_ns;
    std::uint32_t bid_offset, bid_count, ask_offset, ask_count;
  };

  void buffer(const DepthDiff& diff) noexcept;
  // Binance's continuity rule: the first event after a snapshot must straddle it
  // (U <= lastUpdateId + 1 <= u); every later one must start at the previous u + 1.
  [[nodiscard]] bool in_sequence(const DepthDiff& diff) const noexcept;
  // Applies one in-sequence event; returns crossed when it crossed the book.
  [[nodiscard]] SyncResult apply(const DepthDiff& diff) noexcept;
  [[nodiscard]] DepthDiff view(const Pending& p) const noexcept;

  L2Book book_;
  State state_ = State::awaiting_snapshot;
  bool first_after_snapshot_ = false;
  std::uint64_t last_id_ = 0;
  std::vector<Pending> pending_;  // capacity reserved at construction; never grows past it
  std::vector<Level> pool_;
  std::uint64_t gaps_ = 0;
  std::uint64_t resyncs_ = 0;
  std::uint64_t buffer_overflows_ = 0;
};

}  // namespace xarb::book
