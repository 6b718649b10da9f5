#include <algorithm>
#include <cstring>

#include <xarb/book/order_book.hpp>

namespace xarb::book {

bool BookSide::set(Decimal price, Decimal qty) noexcept {
  Level* first = levels_.data();
  Level* last = first + size_;
  // First level not worse than `price`: the slot for price in worst-to-best order.
  Level* it = std::lower_bound(first, last, price,
                               [this](const Level& l, Decimal p) { return worse(l.price, p); });
  if (it != last && it->price == price) {
    if (qty.is_zero()) {
      std::memmove(it, it + 1, static_cast<std::size_t>(last - it - 1) * sizeof(Level));
      --size_;
    } else {
      it->qty = qty;
    }
    return true;
  }
  if (qty.is_zero()) return true;
  if (size_ == kMaxLevels) {
    if (it == first) return false;  // worse than everything kept
    // Drop the worst level to make room: shift [first + 1, it) down by one.
    std::memmove(first, first + 1, static_cast<std::size_t>(it - first - 1) * sizeof(Level));
    *(it - 1) = {price, qty};
    return false;  // one level was lost either way; the caller counts it
  }
  std::memmove(it + 1, it, static_cast<std::size_t>(last - it) * sizeof(Level));
  *it = {price, qty};
  ++size_;
  return true;
}

void L2Book::replace(std::span<const Level> bids, std::span<const Level> asks,
                     std::uint64_t sequence, std::int64_t exchange_ns) noexcept {
  bids_.clear();
  asks_.clear();
  for (const Level& l : bids) {
    if (l.price.is_positive() && l.qty.is_positive() && !bids_.set(l.price, l.qty)) {
      ++dropped_levels_;
    }
  }
  for (const Level& l : asks) {
    if (l.price.is_positive() && l.qty.is_positive() && !asks_.set(l.price, l.qty)) {
      ++dropped_levels_;
    }
  }
  if ((flags_ & (book_flags::kStale | book_flags::kResyncing)) != 0) ++generation_;
  flags_ = 0;
  sequence_ = sequence;
  exchange_ns_ = exchange_ns;
  update_crossed();
}

void L2Book::apply(std::span<const Level> bids, std::span<const Level> asks, std::uint64_t sequence,
                   std::int64_t exchange_ns) noexcept {
  for (const Level& l : bids) {
    if (!bids_.set(l.price, l.qty)) ++dropped_levels_;
  }
  for (const Level& l : asks) {
    if (!asks_.set(l.price, l.qty)) ++dropped_levels_;
  }
  sequence_ = sequence;
  exchange_ns_ = exchange_ns;
  update_crossed();
}

void L2Book::mark_stale(bool resyncing) noexcept {
  flags_ |= book_flags::kStale;
  if (resyncing) flags_ |= book_flags::kResyncing;
}

void L2Book::clear() noexcept {
  bids_.clear();
  asks_.clear();
  flags_ |= book_flags::kStale;
}

void L2Book::update_crossed() noexcept {
  const bool crossed = !bids_.empty() && !asks_.empty() && bids_.best().price >= asks_.best().price;
  if (crossed) {
    flags_ |= book_flags::kCrossed;
  } else {
    flags_ &= static_cast<std::uint8_t>(~book_flags::kCrossed);
  }
}

void L2Book::publish(BookSnapshot& out) const noexcept {
  out.venue = venue_;
  out.instrument = instrument_;
  out.sequence = sequence_;
  out.generation = generation_;
  out.flags = flags_;
  out.stamps.set(Stage::exchange, exchange_ns_);
  const std::size_t nb = std::min(bids_.size(), kBookDepth);
  const std::size_t na = std::min(asks_.size(), kBookDepth);
  out.bid_count = static_cast<std::uint8_t>(nb);
  out.ask_count = static_cast<std::uint8_t>(na);
  for (std::size_t i = 0; i < kBookDepth; ++i) {
    out.bids[i] = i < nb ? bids_.level(i) : Level{};
    out.asks[i] = i < na ? asks_.level(i) : Level{};
  }
}

}  // namespace xarb::book
