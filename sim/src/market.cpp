#include <algorithm>
#include <cmath>

#include <xarb/exec/rules.hpp>
#include <xarb/sim/market.hpp>

namespace xarb::sim {

SyntheticMarket::SyntheticMarket(std::vector<SymbolSpec> specs, MarketParams params)
    : specs_(std::move(specs)), params_(params), rng_(params.seed), fx_(params.fx) {
  for (const SymbolSpec& s : specs_) {
    mid_.push_back(s.price_usdt);
    premium_.push_back(params_.premium_bps);
  }
  for (auto& v : books_) v.resize(specs_.size());
  for (auto& v : previous_) v.resize(specs_.size());
  replayed_.assign(specs_.size(), false);
}

void SyntheticMarket::apply_binance(std::size_t i,
                                    const std::vector<std::pair<std::int64_t, std::int64_t>>& bids,
                                    const std::vector<std::pair<std::int64_t, std::int64_t>>& asks,
                                    std::uint64_t update_id, bool snapshot, std::int64_t now_ms) {
  replayed_[i] = true;
  SimBook& b = books_[index(Venue::binance)][i];
  previous_[index(Venue::binance)][i] = b;
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
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& [p, q] : before) {
    if (!after.contains(p)) out.emplace_back(p, 0);
  }
  for (const auto& [p, q] : after) {
    const auto it = before.find(p);
    if (it == before.end() || it->second != q) out.emplace_back(p, q);
  }
  return out;
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
  BookSide bids, asks;
  for (int k = 0; k < params_.levels; ++k) {
    const auto bid = static_cast<std::int64_t>(std::llround((best_bid - k * tick) * 1e8));
    const auto ask = static_cast<std::int64_t>(std::llround((best_ask + k * tick) * 1e8));
    if (bid > 0) {
      const auto it = b.bids.find(bid);
      bids[bid] = it != b.bids.end() && k != redraw_bid ? it->second : draw(k);
    }
    const auto it = b.asks.find(ask);
    asks[ask] = it != b.asks.end() && k != redraw_ask ? it->second : draw(k);
  }
  b.bids.swap(bids);
  b.asks.swap(asks);
  ++b.update_id;
  b.time_ms = now_ms;
}

void SyntheticMarket::rebuild(Venue v, std::size_t i, std::int64_t now_ms) {
  const SymbolSpec& s = specs_[i];
  previous_[index(v)][i] = books_[index(v)][i];
  const double half = params_.spread_bps * 1e-4;
  if (v == Venue::binance) {
    fill(books_[index(v)][i], mid_[i], s.binance_tick.to_double(), mid_[i] * half, s.level_qty,
         s.step.mantissa(), now_ms);
  } else {
    const double krw = mid_[i] * fx_ * (1.0 + premium_[i] * 1e-4);
    const double tick = exec::upbit_krw_tick(Decimal::from_mantissa(static_cast<std::int64_t>(krw * 1e8))).to_double();
    fill(books_[index(v)][i], krw, tick, krw * half, s.level_qty, 1, now_ms);
  }
}

void SyntheticMarket::rebuild_fx(std::int64_t now_ms) {
  fill(fx_book_, fx_, 0.5, 0.25, 50'000.0, 1, now_ms);
}

void SyntheticMarket::rebuild_all(std::int64_t now_ms) {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    rebuild(Venue::binance, i, now_ms);
    rebuild(Venue::upbit, i, now_ms);
  }
  rebuild_fx(now_ms);
}

BookUpdate SyntheticMarket::jump(std::size_t symbol, double bps, std::int64_t now_ms) {
  premium_[symbol] += bps;
  rebuild(Venue::upbit, symbol, now_ms);
  return {Venue::upbit, symbol};
}

BookUpdate SyntheticMarket::step(double dt, std::int64_t now_ms) {
  const double sq = std::sqrt(std::max(dt, 0.0));
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (!replayed_[i]) mid_[i] *= std::exp(params_.price_vol * sq * normal_(rng_));
    // Ornstein-Uhlenbeck around the level, plus rare jumps either way.
    premium_[i] += params_.premium_reversion * (params_.premium_bps - premium_[i]) * dt +
                   params_.premium_vol_bps * sq * normal_(rng_);
    if (uniform_(rng_) < params_.jump_probability * dt) {
      premium_[i] += (uniform_(rng_) < 0.5 ? -1.0 : 1.0) * params_.jump_bps;
    }
  }
  fx_ *= std::exp(params_.fx_vol * sq * normal_(rng_));
  const std::size_t books = 2 * specs_.size() + 1;
  const std::size_t k = next_++ % books;
  if (k == books - 1) {
    rebuild_fx(now_ms);
    return {Venue::upbit, specs_.size()};
  }
  Venue v = k % 2 == 0 ? Venue::binance : Venue::upbit;
  if (v == Venue::binance && replayed_[k / 2]) v = Venue::upbit;  // the capture drives it
  rebuild(v, k / 2, now_ms);
  return {v, k / 2};
}

}  // namespace xarb::sim
