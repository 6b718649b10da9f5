#include <algorithm>

#include <xarb/signal/premium.hpp>

namespace xarb::signal {

Walk walk_book(std::span<const Level> levels, Decimal qty) noexcept {
  Walk w;
  if (!qty.is_positive()) return w;
  std::int64_t left = qty.mantissa();
  for (const Level& l : levels) {
    if (left == 0 || !l.price.is_positive() || !l.qty.is_positive()) break;
    const std::int64_t take = std::min(left, l.qty.mantissa());
    w.notional_e16 += static_cast<Int128>(l.price.mantissa()) * take;
    w.worst = l.price;
    ++w.levels;
    left -= take;
  }
  w.qty = Decimal::from_mantissa(qty.mantissa() - left);
  return w;
}

Decimal side_depth(std::span<const Level> levels) noexcept {
  std::int64_t total = 0;
  for (const Level& l : levels) {
    if (!l.price.is_positive() || !l.qty.is_positive()) break;
    if (__builtin_add_overflow(total, l.qty.mantissa(), &total)) return Decimal::max();
  }
  return Decimal::from_mantissa(total);
}

Premium premium(const BookSnapshot& first, const BookSnapshot& second, double fx,
                Direction direction, Decimal qty, const Fees& fees) noexcept {
  Premium p;
  p.direction = direction;
  const bool kimchi = direction == Direction::kimchi;
  // Kimchi sells into the first venue's bids and buys the second's asks; reverse the other way.
  const std::span<const Level> u = kimchi
                                       ? std::span<const Level>(first.bids.data(), first.bid_count)
                                       : std::span<const Level>(first.asks.data(), first.ask_count);
  const std::span<const Level> b =
      kimchi ? std::span<const Level>(second.asks.data(), second.ask_count)
             : std::span<const Level>(second.bids.data(), second.bid_count);
  if (!(fx > 0.0) || u.empty() || b.empty()) return p;
  // The size both books can fill.
  const Decimal size = std::min({qty, side_depth(u), side_depth(b)});
  const Walk wu = walk_book(u, size);
  const Walk wb = walk_book(b, size);
  if (wu.empty() || wb.empty()) return p;
  p.qty = size;
  p.first_vwap = wu.vwap();
  p.second_vwap = wb.vwap();
  p.first_worst = wu.worst;
  p.second_worst = wb.worst;
  const double fu = fees.first_bps * 1e-4, fb = fees.second_bps * 1e-4;
  p.premium = p.first_vwap / (fx * p.second_vwap) - 1.0;
  p.edge = kimchi ? p.first_vwap * (1.0 - fu) / (fx * p.second_vwap * (1.0 + fb)) - 1.0
                  : fx * p.second_vwap * (1.0 - fb) / (p.first_vwap * (1.0 + fu)) - 1.0;
  p.valid = true;
  return p;
}

double fx_rate(const BookSnapshot& krw_usdt, FxSide side) noexcept {
  if (!krw_usdt.tradable()) return 0.0;
  const double bid = krw_usdt.bids[0].price.to_double();
  const double ask = krw_usdt.asks[0].price.to_double();
  if (!(bid > 0.0) || !(ask > bid)) return 0.0;  // crossed or empty, flagged or not
  switch (side) {
    case FxSide::bid:
      return bid;
    case FxSide::ask:
      return ask;
    case FxSide::mid:
      return (bid + ask) / 2.0;
  }
  return 0.0;
}

}  // namespace xarb::signal
