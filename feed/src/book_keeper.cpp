#include <xarb/core/clock.hpp>
#include <xarb/feed/book_keeper.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::feed {

std::string_view to_string(BinanceBookSource s) noexcept {
  switch (s) {
    case BinanceBookSource::diff_depth:
      return "diff_depth";
    case BinanceBookSource::partial_depth:
      return "partial_depth";
    case BinanceBookSource::book_ticker:
      return "book_ticker";
  }
  return "unknown";
}

void fill_snapshot(const book::L2Book& book, std::int64_t received_ns, std::int64_t parsed_ns,
                   BookSnapshot& out) noexcept {
  out.stamps = {};
  book.publish(out);
  out.stamps.set(Stage::received, received_ns);
  out.stamps.set(Stage::parsed, parsed_ns);
  out.stamps.set(Stage::applied, clock::mono_ns());
}

BookKeeper::BookKeeper(const SymbolMap& symbols, BinanceBookSource binance_source)
    : source_(binance_source) {
  binance_diff_.resize(symbols.size());
  binance_top_.resize(symbols.size());
  for (auto& v : whole_) v.resize(symbols.size());
  for (const Instrument& i : symbols) {
    if (!i.symbol(venues::kBinance).empty()) {
      if (source_ == BinanceBookSource::diff_depth) {
        binance_diff_[i.id] = std::make_unique<book::DiffSyncBook>(venues::kBinance, i.id);
      } else {
        binance_top_[i.id] = std::make_unique<book::L2Book>(venues::kBinance, i.id);
      }
    }
    for (const Venue v : venues::kAll) {
      if (v != venues::kBinance && i.listed_on(v)) {
        whole_[index(v)][i.id] = std::make_unique<book::L2Book>(v, i.id);
      }
    }
  }
}

ApplyOutcome BookKeeper::apply(Venue venue, const ParsedFrame& f) noexcept {
  ApplyOutcome out;
  out.instrument = f.instrument;
  if (!f.has_book() || f.instrument >= binance_top_.size() || !valid(venue)) return out;
  const std::int64_t ts = f.exchange_ns;
  if (venue != venues::kBinance) {
    book::L2Book* b = whole_[index(venue)][f.instrument].get();
    if (f.kind != MsgKind::orderbook || b == nullptr) {
      ++ignored_;
      return out;
    }
    b->replace(f.bids, f.asks, b->sequence() + 1, ts);  // no sequence: count updates
    out.book = b;
    return out;
  }
  switch (source_) {
    case BinanceBookSource::diff_depth: {
      book::DiffSyncBook* b = binance_diff_[f.instrument].get();
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
    case BinanceBookSource::partial_depth:
    case BinanceBookSource::book_ticker: {
      book::L2Book* b = binance_top_[f.instrument].get();
      const MsgKind wanted = source_ == BinanceBookSource::partial_depth ? MsgKind::partial_depth
                                                                         : MsgKind::book_ticker;
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
  if (venue != venues::kBinance) {
    for (auto& b : whole_[index(venue)]) {
      if (b) b->mark_stale(false);
    }
    return;
  }
  for (auto& b : binance_diff_) {
    if (b) b->resync();
  }
  for (auto& b : binance_top_) {
    if (b) b->mark_stale(false);
  }
}

const book::L2Book* BookKeeper::book(Venue venue, InstrumentId instrument) const noexcept {
  if (instrument >= binance_top_.size() || !valid(venue)) return nullptr;
  if (venue != venues::kBinance) return whole_[index(venue)][instrument].get();
  if (binance_diff_[instrument]) return &binance_diff_[instrument]->book();
  return binance_top_[instrument].get();
}

const book::DiffSyncBook* BookKeeper::diff_book(InstrumentId instrument) const noexcept {
  return instrument < binance_diff_.size() ? binance_diff_[instrument].get() : nullptr;
}

std::uint64_t BookKeeper::gaps() const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : binance_diff_) {
    if (b) n += b->gaps();
  }
  return n;
}

}  // namespace xarb::feed
