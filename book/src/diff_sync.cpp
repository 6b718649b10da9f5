#include <xarb/book/diff_sync.hpp>

namespace xarb::book {

DiffSyncBook::DiffSyncBook(Venue venue, InstrumentId instrument) : book_(venue, instrument) {
  pending_.reserve(kMaxBufferedEvents);
  pool_.reserve(kMaxBufferedLevels);
  book_.mark_stale(/*resyncing=*/true);
}

void DiffSyncBook::resync() noexcept {
  state_ = State::awaiting_snapshot;
  first_after_snapshot_ = false;
  pending_.clear();
  pool_.clear();
  book_.mark_stale(/*resyncing=*/true);
  ++resyncs_;
}

void DiffSyncBook::buffer(const DepthDiff& diff) noexcept {
  const std::size_t levels = diff.bids.size() + diff.asks.size();
  if (levels > kMaxBufferedLevels) {  // cannot be kept at all
    ++buffer_overflows_;
    pending_.clear();
    pool_.clear();
    return;
  }
  if (pending_.size() == kMaxBufferedEvents || pool_.size() + levels > kMaxBufferedLevels) {
    // Full: older events are superseded by any snapshot fetched from now on.
    ++buffer_overflows_;
    pending_.clear();
    pool_.clear();
  }
  Pending p{diff.first_id,
            diff.last_id,
            diff.exchange_ns,
            static_cast<std::uint32_t>(pool_.size()),
            static_cast<std::uint32_t>(diff.bids.size()),
            0,
            static_cast<std::uint32_t>(diff.asks.size())};
  pool_.insert(pool_.end(), diff.bids.begin(), diff.bids.end());
  p.ask_offset = static_cast<std::uint32_t>(pool_.size());
  pool_.insert(pool_.end(), diff.asks.begin(), diff.asks.end());
  pending_.push_back(p);
}

DepthDiff DiffSyncBook::view(const Pending& p) const noexcept {
  return {p.first_id, p.last_id, p.exchange_ns,
          std::span<const Level>(pool_.data() + p.bid_offset, p.bid_count),
          std::span<const Level>(pool_.data() + p.ask_offset, p.ask_count)};
}

SyncResult DiffSyncBook::apply(const DepthDiff& diff) noexcept {
  book_.apply(diff.bids, diff.asks, diff.last_id, diff.exchange_ns);
  last_id_ = diff.last_id;
  first_after_snapshot_ = false;
  if (book_.crossed()) {
    ++gaps_;
    resync();
    return SyncResult::crossed;
  }
  return SyncResult::applied;
}

bool DiffSyncBook::in_sequence(const DepthDiff& diff) const noexcept {
  return first_after_snapshot_ ? diff.first_id <= last_id_ + 1 && last_id_ + 1 <= diff.last_id
                               : diff.first_id == last_id_ + 1;
}

SyncResult DiffSyncBook::on_diff(const DepthDiff& diff) noexcept {
  if (state_ != State::synced) {
    buffer(diff);
    return SyncResult::buffered;
  }
  if (diff.last_id <= last_id_) return SyncResult::ignored_old;
  if (!in_sequence(diff)) {
    ++gaps_;
    resync();
    buffer(diff);  // the first event of the new synchronisation
    return SyncResult::gap;
  }
  return apply(diff);
}

SyncResult DiffSyncBook::on_snapshot(const DepthSnapshot& snapshot) noexcept {
  // A snapshot older than the synced book would move it backwards.
  if (state_ == State::synced && snapshot.last_update_id <= last_id_) {
    return SyncResult::ignored_old;
  }
  // The first buffered event that the snapshot does not already contain.
  std::size_t i = 0;
  while (i < pending_.size() && pending_[i].last_id <= snapshot.last_update_id) ++i;
  if (i < pending_.size() && pending_[i].first_id > snapshot.last_update_id + 1) {
    return SyncResult::snapshot_too_old;  // updates between the two are missing: fetch again
  }
  book_.replace(snapshot.bids, snapshot.asks, snapshot.last_update_id, book_.exchange_ns());
  last_id_ = snapshot.last_update_id;
  state_ = State::synced;
  first_after_snapshot_ = true;
  SyncResult result = SyncResult::applied;
  for (; i < pending_.size(); ++i) {
    const DepthDiff d = view(pending_[i]);
    if (!in_sequence(d)) {
      ++gaps_;
      ++resyncs_;
      // The buffered events from the gap on start the next synchronisation: keep them (their
      // levels stay where they are in the pool).
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(i));
      state_ = State::awaiting_snapshot;
      first_after_snapshot_ = false;
      book_.mark_stale(/*resyncing=*/true);
      return SyncResult::gap;
    }
    result = apply(d);
    if (result == SyncResult::crossed) return result;
  }
  if (state_ == State::synced) {
    pending_.clear();
    pool_.clear();
  }
  return result;
}

}  // namespace xarb::book
