#include <algorithm>
#include <cmath>
#include <functional>

#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/sim/market.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::sim {

SyntheticMarket::SyntheticMarket(std::vector<SymbolSpec> specs, MarketParams params)
    : specs_(std::move(specs)), params_(params), rng_(params.seed), fx_(params.fx) {
  for (const SymbolSpec& s : specs_) {
    mid_.push_back(s.price_usdt);
    premium_.push_back(params_.premium_bps);
    gap_.push_back(params_.bithumb_gap_bps);
  }
  for (auto& v : books_) v.resize(specs_.size());
  replayed_.assign(specs_.size(), false);
  upbit_replayed_.assign(specs_.size() + 1, false);
}

const std::string& SyntheticMarket::market_name(Venue v, std::size_t i) const {
  static const std::string none;
  if (v == venues::kUpbit) return specs_[i].upbit_market;
  if (v == venues::kBithumb && params_.bithumb) return specs_[i].bithumb_market;
  if (v == venues::kBinance) return specs_[i].binance_symbol;
  return none;
}

void SyntheticMarket::apply_upbit(std::size_t i,
                                  const std::vector<std::pair<std::int64_t, std::int64_t>>& bids,
                                  const std::vector<std::pair<std::int64_t, std::int64_t>>& asks,
                                  std::int64_t now_ms) {
  upbit_replayed_[i] = true;
  SimBook& b = i == specs_.size() ? fx_book_ : books_[index(venues::kUpbit)][i];
  b.bids.clear();
  b.asks.clear();
  for (const auto& [p, q] : bids) b.bids[p] = q;
  for (const auto& [p, q] : asks) b.asks[p] = q;
  ++b.update_id;
  b.time_ms = now_ms;
  if (b.bids.empty() || b.asks.empty()) return;
  const double mid = static_cast<double>(b.bids.rbegin()->first + b.asks.begin()->first) / 2e8;
  if (i == specs_.size()) {
    fx_ = mid;
  } else if (!replayed_[i]) {
    mid_[i] = mid / (fx_ * (1.0 + premium_[i] * 1e-4));
  }
}

void SyntheticMarket::apply_binance(std::size_t i,
                                    const std::vector<std::pair<std::int64_t, std::int64_t>>& bids,
                                    const std::vector<std::pair<std::int64_t, std::int64_t>>& asks,
                                    std::uint64_t update_id, bool snapshot, std::int64_t now_ms) {
  replayed_[i] = true;
  SimBook& b = books_[index(venues::kBinance)][i];
  if (snapshot) {
    b.bids.clear();
    b.asks.clear();
  }
  const auto apply = [](BookSide& side, const std::vector<std::pair<std::int64_t, std::int64_t>>& levels) {
    for (const auto& [p, q] : levels) {
      if (q == 0) {
        side.erase(p);
      } else {
        side[p] = q;
      }
    }
  };
  apply(b.bids, bids);
  apply(b.asks, asks);
  b.update_id = update_id;
  b.time_ms = now_ms;
  if (!b.bids.empty() && !b.asks.empty()) {
    mid_[i] = static_cast<double>(b.bids.rbegin()->first + b.asks.begin()->first) / 2e8;
  }
}

std::vector<std::pair<std::int64_t, std::int64_t>> side_diff(const BookSide& before,
                                                             const BookSide& after) {
  // One merge walk over both sides (each sorted by price): ascending prices.
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      out.emplace_back(b->first, 0);  // gone
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      out.emplace_back(a->first, a->second);  // new
      ++a;
    } else {
      if (a->second != b->second) out.emplace_back(a->first, a->second);  // changed
      ++a;
      ++b;
    }
  }
  return out;
}

void apply_diff(BookSide& side, const std::vector<std::pair<std::int64_t, std::int64_t>>& diff) {
  for (const auto& [p, q] : diff) {
    if (q == 0) {
      side.erase(p);
    } else {
      side.insert_or_assign(p, q);
    }
  }
}

void SyntheticMarket::fill(SimBook& b, double mid, double tick, double half_spread, double qty,
                           std::int64_t step_m, std::int64_t now_ms) {
  // The price grid follows the mid; a level that stays on the grid keeps its quantity, except a
  // couple redrawn per update, as real books change a few levels at a time.
  const double best_bid = std::floor((mid - half_spread) / tick) * tick;
  const double best_ask = std::max(std::ceil((mid + half_spread) / tick) * tick, best_bid + tick);
  const auto draw = [&](int k) {
    const double q = qty * (1.0 + 0.35 * k) * (0.7 + 0.6 * uniform_(rng_));
    return std::max<std::int64_t>(step_m, static_cast<std::int64_t>(q * 1e8) / step_m * step_m);
  };
  const int redraw_bid = static_cast<int>(uniform_(rng_) * params_.levels);
  const int redraw_ask = static_cast<int>(uniform_(rng_) * params_.levels);
  // In place: levels that left the grid go, the rest keep their nodes (no map is rebuilt).
  grid_bids_.clear();
  grid_asks_.clear();
  for (int k = 0; k < params_.levels; ++k) {
    grid_bids_.push_back(static_cast<std::int64_t>(std::llround((best_bid - k * tick) * 1e8)));
    grid_asks_.push_back(static_cast<std::int64_t>(std::llround((best_ask + k * tick) * 1e8)));
  }
  // Everything outside the grid's range goes in two range erases; inside it, only a level off the
  // grid (the tick changed with the price) is looked up and erased. The bid grid descends, the
  // ask grid ascends.
  const auto keep_grid = [](BookSide& side, std::int64_t lo, std::int64_t hi, auto on_grid) {
    side.erase(side.begin(), side.lower_bound(lo));
    side.erase(side.upper_bound(hi), side.end());
    for (auto it = side.begin(); it != side.end();) it = on_grid(it->first) ? std::next(it) : side.erase(it);
  };
  if (params_.levels > 0) {
    keep_grid(b.bids, grid_bids_.back(), grid_bids_.front(), [this](std::int64_t p) {
      return std::binary_search(grid_bids_.begin(), grid_bids_.end(), p, std::greater<>());
    });
    keep_grid(b.asks, grid_asks_.front(), grid_asks_.back(), [this](std::int64_t p) {
      return std::binary_search(grid_asks_.begin(), grid_asks_.end(), p);
    });
  }
  for (int k = 0; k < params_.levels; ++k) {
    const std::int64_t bid = grid_bids_[static_cast<std::size_t>(k)];
    const std::int64_t ask = grid_asks_[static_cast<std::size_t>(k)];
    if (bid > 0) {
      const auto [it, added] = b.bids.try_emplace(bid, 0);
      if (added || k == redraw_bid) it->second = draw(k);
    }
    const auto [it, added] = b.asks.try_emplace(ask, 0);
    if (added || k == redraw_ask) it->second = draw(k);
  }
  ++b.update_id;
  b.time_ms = now_ms;
}

void SyntheticMarket::rebuild(Venue v, std::size_t i, std::int64_t now_ms) {
  const SymbolSpec& s = specs_[i];
  const double half = params_.spread_bps * 1e-4;
  if (v == venues::kBinance) {
    fill(books_[index(v)][i], mid_[i], s.binance_tick.to_double(), mid_[i] * half, s.level_qty,
         s.step.mantissa(), now_ms);
  } else {
    const bool bithumb = v == venues::kBithumb;
    const double premium = premium_[i] + (bithumb ? gap_[i] : 0.0);
    const double krw = mid_[i] * fx_ * (1.0 + premium * 1e-4);
    const Decimal at = Decimal::from_mantissa(static_cast<std::int64_t>(krw * 1e8));
    const double tick =
        (bithumb ? exec::bithumb_krw_tick(at) : exec::upbit_krw_tick(at)).to_double();
    fill(books_[index(v)][i], krw, tick, krw * half, s.level_qty, 1, now_ms);
  }
}

void SyntheticMarket::rebuild_fx(std::int64_t now_ms) {
  fill(fx_book_, fx_, 0.5, 0.25, 50'000.0, 1, now_ms);
}

void SyntheticMarket::rebuild_all(std::int64_t now_ms) {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    rebuild(venues::kBinance, i, now_ms);
    rebuild(venues::kUpbit, i, now_ms);
    if (params_.bithumb) rebuild(venues::kBithumb, i, now_ms);
  }
  rebuild_fx(now_ms);
}

BookUpdate SyntheticMarket::jump(std::size_t symbol, double bps, std::int64_t now_ms) {
  premium_[symbol] += bps;
  if (!upbit_replayed_[symbol]) {
    rebuild(venues::kUpbit, symbol, now_ms);
    return {venues::kUpbit, symbol};
  }
  // The Upbit book is the capture's: the Binance book moves the other way instead.
  const SimBook& u = books_[index(venues::kUpbit)][symbol];
  if (replayed_[symbol] || u.bids.empty() || u.asks.empty()) {
    return {venues::kUpbit, BookUpdate::kNone};
  }
  mid_[symbol] = static_cast<double>(u.bids.rbegin()->first + u.asks.begin()->first) / 2e8 /
                 (fx_ * (1.0 + premium_[symbol] * 1e-4));
  rebuild(venues::kBinance, symbol, now_ms);
  return {venues::kBinance, symbol};
}

BookUpdate SyntheticMarket::step(double dt, std::int64_t now_ms) {
  const double sq = std::sqrt(std::max(dt, 0.0));
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (!replayed_[i] && !upbit_replayed_[i]) mid_[i] *= std::exp(params_.price_vol * sq * normal_(rng_));
    // Ornstein-Uhlenbeck around the level, plus rare jumps either way.
    premium_[i] += params_.premium_reversion * (params_.premium_bps - premium_[i]) * dt +
                   params_.premium_vol_bps * sq * normal_(rng_);
    if (uniform_(rng_) < params_.jump_probability * dt) {
      premium_[i] += (uniform_(rng_) < 0.5 ? -1.0 : 1.0) * params_.jump_bps;
    }
    if (params_.bithumb) {
      gap_[i] += params_.premium_reversion * (params_.bithumb_gap_bps - gap_[i]) * dt +
                 params_.bithumb_gap_vol_bps * sq * normal_(rng_);
      if (uniform_(rng_) < params_.jump_probability * dt) {
        gap_[i] += (uniform_(rng_) < 0.5 ? -1.0 : 1.0) * params_.jump_bps;
      }
    }
  }
  const double fx_move = std::exp(params_.fx_vol * sq * normal_(rng_));
  if (!upbit_replayed_[specs_.size()]) fx_ *= fx_move;
  // The next book round robin that no capture drives: a symbol's other venue stands in for a
  // replayed one (so it follows the capture as often as a synthetic book would move).
  const std::size_t per_symbol = params_.bithumb ? 3 : 2;
  const std::size_t books = per_symbol * specs_.size() + 1;
  for (std::size_t tries = 0; tries < books; ++tries) {
    const std::size_t k = next_++ % books;
    if (k == books - 1) {
      if (upbit_replayed_[specs_.size()]) continue;
      rebuild_fx(now_ms);
      return {venues::kUpbit, specs_.size()};
    }
    const std::size_t i = k / per_symbol;
    if (k % per_symbol == 2) {  // Bithumb: never replayed (captures hold Binance and Upbit)
      rebuild(venues::kBithumb, i, now_ms);
      return {venues::kBithumb, i};
    }
    Venue v = k % per_symbol == 0 ? venues::kBinance : venues::kUpbit;
    if (replayed(v, i)) v = v == venues::kBinance ? venues::kUpbit : venues::kBinance;
    if (replayed(v, i)) continue;
    rebuild(v, i, now_ms);
    return {v, i};
  }
  return {venues::kUpbit, BookUpdate::kNone};
}

}  // namespace xarb::sim
