#include <xarb/core/clock.hpp>
#include <xarb/feed/book_keeper.hpp>

namespace xarb::feed {

void fill_snapshot(const book::L2Book& book, std::int64_t received_ns, std::int64_t parsed_ns,
                   BookSnapshot& out) noexcept {
  out.stamps = {};
  book.publish(out);
  out.stamps.set(Stage::received, received_ns);
  out.stamps.set(Stage::parsed, parsed_ns);
  out.stamps.set(Stage::applied, clock::mono_ns());
}

BookKeeper::BookKeeper(const SymbolMap& symbols, const Syncs& syncs)
    : syncs_(syncs), instruments_(symbols.size()) {
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    diff_[v].resize(instruments_);
    plain_[v].resize(instruments_);
  }
  for (const Instrument& i : symbols) {
    for (std::size_t v = 0; v < kMaxVenues; ++v) {
      const Venue venue = static_cast<Venue>(v);
      if (!i.listed_on(venue)) continue;
      switch (syncs_[v]) {
        case BookSync::none:
          break;
        case BookSync::diff_depth:
          diff_[v][i.id] = std::make_unique<book::DiffSyncBook>(venue, i.id);
          break;
        case BookSync::whole_book:
        case BookSync::partial_depth:
        case BookSync::book_ticker:
          plain_[v][i.id] = std::make_unique<book::L2Book>(venue, i.id);
          break;
      }
    }
  }
}

BookSync BookKeeper::sync(Venue venue) const noexcept {
  return valid(venue) ? syncs_[index(venue)] : BookSync::none;
}

ApplyOutcome BookKeeper::apply(Venue venue, const ParsedFrame& f) noexcept {
  ApplyOutcome out;
  out.instrument = f.instrument;
  if (!f.has_book() || f.instrument >= instruments_ || !valid(venue)) return out;
  const std::int64_t ts = f.exchange_ns;
  const std::size_t v = index(venue);
  switch (syncs_[v]) {
    case BookSync::none:
      ++ignored_;
      return out;
    case BookSync::whole_book: {
      book::L2Book* b = plain_[v][f.instrument].get();
      if (f.kind != MsgKind::orderbook || b == nullptr) {
        ++ignored_;
        return out;
      }
      b->replace(f.bids, f.asks, b->sequence() + 1, ts);  // no sequence: count updates
      out.book = b;
      return out;
    }
    case BookSync::diff_depth: {
      book::DiffSyncBook* b = diff_[v][f.instrument].get();
      if (b == nullptr || (f.kind != MsgKind::depth_diff && f.kind != MsgKind::depth_snapshot)) {
        ++ignored_;
        return out;
      }
      out.sync = f.kind == MsgKind::depth_diff
                     ? b->on_diff({f.first_id, f.last_id, ts, f.bids, f.asks})
                     : b->on_snapshot({f.last_id, f.bids, f.asks});
      // A gap or a crossed book changed the book to stale: publish that too, so the strategy
      // stops trading on it at once.
      if (out.sync != book::SyncResult::buffered && out.sync != book::SyncResult::ignored_old &&
          out.sync != book::SyncResult::snapshot_too_old) {
        out.book = &b->book();
      }
      out.needs_snapshot = b->needs_snapshot();
      return out;
    }
    case BookSync::partial_depth:
    case BookSync::book_ticker: {
      book::L2Book* b = plain_[v][f.instrument].get();
      const MsgKind wanted =
          syncs_[v] == BookSync::partial_depth ? MsgKind::partial_depth : MsgKind::book_ticker;
      if (b == nullptr || f.kind != wanted) {
        ++ignored_;
        return out;
      }
      // bookTicker ids only grow; an older one arriving late is not applied.
      if (f.last_id < b->sequence()) {
        out.sync = book::SyncResult::ignored_old;
        return out;
      }
      b->replace(f.bids, f.asks, f.last_id, ts != 0 ? ts : b->exchange_ns());
      out.book = b;
      return out;
    }
  }
  return out;
}

void BookKeeper::resync_venue(Venue venue) noexcept {
  if (!valid(venue)) return;
  for (auto& b : diff_[index(venue)]) {
    if (b) b->resync();
  }
  for (auto& b : plain_[index(venue)]) {
    if (b) b->mark_stale(false);
  }
}

const book::L2Book* BookKeeper::book(Venue venue, InstrumentId instrument) const noexcept {
  if (instrument >= instruments_ || !valid(venue)) return nullptr;
  if (const auto& d = diff_[index(venue)][instrument]) return &d->book();
  return plain_[index(venue)][instrument].get();
}

const book::DiffSyncBook* BookKeeper::diff_book(Venue venue,
                                                InstrumentId instrument) const noexcept {
  if (instrument >= instruments_ || !valid(venue)) return nullptr;
  return diff_[index(venue)][instrument].get();
}

std::uint64_t BookKeeper::gaps() const noexcept {
  std::uint64_t n = 0;
  for (const auto& venue : diff_) {
    for (const auto& b : venue) {
      if (b) n += b->gaps();
    }
  }
  return n;
}

}  // namespace xarb::feed
