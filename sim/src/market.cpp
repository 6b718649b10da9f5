#include <algorithm>
#include <cmath>
#include <functional>

#include <xarb/sim/market.hpp>
#include <xarb/venues/registry.hpp>

#include "venues/registry.hpp"

namespace xarb::sim {

SyntheticMarket::SyntheticMarket(std::vector<SymbolSpec> specs, MarketParams params,
                                 const SimVenues& venues)
    : specs_(std::move(specs)), params_(params), venues_(venues), rng_(params.seed), fx_(params.fx) {
  for (const Venue v : venues::kAll) {
    if (!venues_[index(v)].served || find_venue(v) == nullptr) continue;
    served_.push_back(v);
    if (usdt(v) && usdt_ == kNoVenue) usdt_ = v;
    if (!usdt(v) && krw_lead_ == kNoVenue) krw_lead_ = v;
  }
  for (SymbolSpec& s : specs_) {
    mid_.push_back(s.price_usdt);
    premium_.push_back(params_.premium_bps);
    for (const Venue v : venues::kAll) {
      if (s.markets[index(v)].empty()) s.markets[index(v)] = venues::default_market(v, s.base);
    }
  }
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    books_[v].resize(specs_.size());
    replayed_[v].assign(specs_.size(), false);
    const SimVenue* row = find_venue(Venue{static_cast<std::uint8_t>(v)});
    gap_[v].assign(specs_.size(), row != nullptr && row->gap ? venues_[v].gap_bps : 0.0);
  }
}

bool SyntheticMarket::usdt(Venue v) const { return venues::quote_asset(v) == "USDT"; }

bool SyntheticMarket::any_replayed(std::size_t i) const {
  for (const Venue v : served_) {
    if (replayed_[index(v)][i]) return true;
  }
  return false;
}

const std::string& SyntheticMarket::market_name(Venue v, std::size_t i) const {
  static const std::string none;
  return valid(v) && venues_[index(v)].served ? specs_[i].markets[index(v)] : none;
}

void SyntheticMarket::apply(Venue v, std::size_t i, const Levels& bids, const Levels& asks,
                            std::uint64_t update_id, bool snapshot, std::int64_t now_ms) {
  const bool fx = i == specs_.size();
  if (fx) {
    fx_replayed_ = true;
  } else {
    replayed_[index(v)][i] = true;
  }
  SimBook& b = fx ? fx_book_ : books_[index(v)][i];
  if (snapshot) {
    b.bids.clear();
    b.asks.clear();
  }
  apply_diff(b.bids, bids);
  apply_diff(b.asks, asks);
  b.update_id = update_id != 0 ? update_id : b.update_id + 1;
  b.time_ms = now_ms;
  if (b.bids.empty() || b.asks.empty()) return;
  const double mid = static_cast<double>(b.bids.rbegin()->first + b.asks.begin()->first) / 2e8;
  if (fx) {
    fx_ = mid;
  } else if (usdt(v)) {
    mid_[i] = mid;
  } else if (usdt_ == kNoVenue || !replayed_[index(usdt_)][i]) {
    mid_[i] = mid / krw_factor(v, i);
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
  const SimVenue* row = find_venue(v);
  if (usdt(v) || row == nullptr || row->krw_ticks == nullptr) {
    fill(books_[index(v)][i], mid_[i], s.tick.to_double(), mid_[i] * half, s.level_qty,
         s.step.mantissa(), now_ms);
  } else {
    const double krw = mid_[i] * krw_factor(v, i);
    const double tick =
        row->krw_ticks->at(Decimal::from_mantissa(static_cast<std::int64_t>(krw * 1e8))).to_double();
    fill(books_[index(v)][i], krw, tick, krw * half, s.level_qty, 1, now_ms);
  }
}

void SyntheticMarket::rebuild_fx(std::int64_t now_ms) {
  fill(fx_book_, fx_, 0.5, 0.25, 50'000.0, 1, now_ms);
}

void SyntheticMarket::rebuild_all(std::int64_t now_ms) {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    for (const Venue v : served_) rebuild(v, i, now_ms);
  }
  rebuild_fx(now_ms);
}

BookUpdate SyntheticMarket::jump(std::size_t symbol, double bps, std::int64_t now_ms) {
  premium_[symbol] += bps;
  const Venue lead = krw_lead_;
  if (lead == kNoVenue) return {kNoVenue, BookUpdate::kNone};
  if (!replayed(lead, symbol)) {
    rebuild(lead, symbol, now_ms);
    return {lead, symbol};
  }
  // The KRW book is the capture's: the USDT book moves the other way instead.
  const SimBook& k = books_[index(lead)][symbol];
  if (usdt_ == kNoVenue || replayed(usdt_, symbol) || k.bids.empty() || k.asks.empty()) {
    return {lead, BookUpdate::kNone};
  }
  mid_[symbol] = static_cast<double>(k.bids.rbegin()->first + k.asks.begin()->first) / 2e8 /
                 krw_factor(lead, symbol);
  rebuild(usdt_, symbol, now_ms);
  return {usdt_, symbol};
}

BookUpdate SyntheticMarket::step(double dt, std::int64_t now_ms) {
  const double sq = std::sqrt(std::max(dt, 0.0));
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (!any_replayed(i)) mid_[i] *= std::exp(params_.price_vol * sq * normal_(rng_));
    // Ornstein-Uhlenbeck around the level, plus rare jumps either way.
    premium_[i] += params_.premium_reversion * (params_.premium_bps - premium_[i]) * dt +
                   params_.premium_vol_bps * sq * normal_(rng_);
    if (uniform_(rng_) < params_.jump_probability * dt) {
      premium_[i] += (uniform_(rng_) < 0.5 ? -1.0 : 1.0) * params_.jump_bps;
    }
    // A venue with a gap of its own: the same process around its level.
    for (const Venue v : served_) {
      if (!find_venue(v)->gap) continue;
      const SimVenueParams& p = venues_[index(v)];
      double& gap = gap_[index(v)][i];
      gap += params_.premium_reversion * (p.gap_bps - gap) * dt + p.gap_vol_bps * sq * normal_(rng_);
      if (uniform_(rng_) < params_.jump_probability * dt) {
        gap += (uniform_(rng_) < 0.5 ? -1.0 : 1.0) * params_.jump_bps;
      }
    }
  }
  const double fx_move = std::exp(params_.fx_vol * sq * normal_(rng_));
  if (!fx_replayed_) fx_ *= fx_move;
  // The next book round robin that no capture drives: a symbol's next venue stands in for a
  // replayed one (so it follows the capture as often as a synthetic book would move).
  const std::size_t per_symbol = served_.size();
  const std::size_t books = per_symbol * specs_.size() + 1;
  for (std::size_t tries = 0; tries < books; ++tries) {
    const std::size_t k = next_++ % books;
    if (k == books - 1) {
      if (fx_replayed_) continue;
      rebuild_fx(now_ms);
      return {fx_venue(), specs_.size()};
    }
    const std::size_t i = k / per_symbol;
    for (std::size_t j = 0; j < per_symbol; ++j) {
      const Venue v = served_[(k + j) % per_symbol];
      if (replayed(v, i)) continue;
      rebuild(v, i, now_ms);
      return {v, i};
    }
  }
  return {fx_venue(), BookUpdate::kNone};
}

}  // namespace xarb::sim
