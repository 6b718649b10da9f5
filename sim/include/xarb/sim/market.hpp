#pragma once

// The simulator's market: one price path per symbol shared by both venues, an Upbit premium that
// mean-reverts around a configured level with occasional jumps, a KRW-USDT rate, and books of
// realistic shape around them. Deterministic under a seed.

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::sim {

// One side of a book: price -> quantity, in Decimal mantissas.
using BookSide = std::map<std::int64_t, std::int64_t>;

struct SimBook {
  BookSide bids;  // iterate with rbegin() for best first
  BookSide asks;
  std::uint64_t update_id = 1;  // Binance's lastUpdateId / u
  std::int64_t time_ms = 0;
};

struct SymbolSpec {
  std::string base;            // BTC
  std::string binance_symbol;  // BTCUSDT
  std::string upbit_market;    // KRW-BTC
  std::string bithumb_market;  // KRW-BTC (with MarketParams::bithumb)
  double price_usdt = 60'000.0;
  Decimal binance_tick = Decimal::from_mantissa(1'000'000);  // 0.01
  Decimal step = Decimal::from_mantissa(1'000);              // 0.00001
  double level_qty = 0.5;  // base units at the best level; deeper levels grow
};

struct MarketParams {
  std::uint64_t seed = 1;
  int levels = 20;
  double premium_bps = 250.0;       // level the Upbit premium reverts to
  double premium_reversion = 0.2;   // per second
  double premium_vol_bps = 15.0;    // per sqrt(second)
  double jump_probability = 0.01;   // per second
  double jump_bps = 80.0;
  double price_vol = 0.0005;        // per sqrt(second), relative
  double fx = 1400.0;               // KRW per USDT
  double fx_vol = 0.0001;
  double spread_bps = 1.0;          // half-spread at the top
  // Bithumb books too: its premium reverts to Upbit's plus this gap (so Upbit <-> Bithumb has a
  // spread of its own to trade), with its own noise and jumps. Off: the model and its random
  // sequence are what they were with two venues.
  bool bithumb = false;
  double bithumb_gap_bps = -60.0;
  double bithumb_gap_vol_bps = 10.0;  // per sqrt(second)
};

// A venue book update produced by a market step.
struct BookUpdate {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);  // no book changed
  Venue venue = venues::kBinance;
  std::size_t symbol = 0;  // index into the specs; specs.size() = the KRW-USDT book (Upbit)
};

// Levels that differ between two versions of a book side: (price, new qty), qty 0 = removed.
std::vector<std::pair<std::int64_t, std::int64_t>> side_diff(const BookSide& before,
                                                             const BookSide& after);
// Applies such levels to `side`: afterwards side == after.
void apply_diff(BookSide& side, const std::vector<std::pair<std::int64_t, std::int64_t>>& diff);

class SyntheticMarket {
 public:
  SyntheticMarket(std::vector<SymbolSpec> specs, MarketParams params);

  // Advances the model by `dt_s` seconds and rebuilds one book, chosen round robin over every
  // (venue, symbol) book and the FX book, skipping books a capture drives. Returns which
  // (symbol kNone when a capture drives every book).
  BookUpdate step(double dt_s, std::int64_t now_ms);
  // The KRW market of `symbol` on venue `v` ("" when that venue does not list it).
  [[nodiscard]] const std::string& market_name(Venue v, std::size_t symbol) const;
  // Moves symbol's Upbit premium by `bps` at once and rebuilds its Upbit book (the latency probe);
  // if a capture drives that book, the Binance book moves instead.
  BookUpdate jump(std::size_t symbol, double bps, std::int64_t now_ms);
  // Rebuilds every book (start-up).
  void rebuild_all(std::int64_t now_ms);

  // Replay: Binance book `symbol` is driven by recorded depth (snapshot or diff) instead of the
  // model; its mid then drives the symbol's Upbit book (unless a capture drives that too). Levels
  // are (price, qty) mantissas, qty 0 removes a level.
  void apply_binance(std::size_t symbol,
                     const std::vector<std::pair<std::int64_t, std::int64_t>>& bids,
                     const std::vector<std::pair<std::int64_t, std::int64_t>>& asks,
                     std::uint64_t update_id, bool snapshot, std::int64_t now_ms);
  // Replay: Upbit book `symbol` (specs().size(): KRW-USDT) becomes the recorded book, whole.
  // Its mid then drives the symbol's Binance book through the model's premium and FX rate
  // (unless a capture drives that too); a recorded KRW-USDT book drives the FX rate.
  void apply_upbit(std::size_t symbol, const std::vector<std::pair<std::int64_t, std::int64_t>>& bids,
                   const std::vector<std::pair<std::int64_t, std::int64_t>>& asks,
                   std::int64_t now_ms);
  [[nodiscard]] bool replayed(Venue v, std::size_t symbol) const {
    if (v == venues::kBithumb) return false;  // captures hold Binance and Upbit only
    return v == venues::kBinance ? replayed_[symbol] : upbit_replayed_[symbol];
  }

  [[nodiscard]] SimBook& book(Venue v, std::size_t symbol) { return books_[index(v)][symbol]; }
  [[nodiscard]] SimBook& fx_book() { return fx_book_; }
  [[nodiscard]] const std::vector<SymbolSpec>& specs() const noexcept { return specs_; }
  [[nodiscard]] double premium_bps(std::size_t symbol) const { return premium_[symbol]; }
  [[nodiscard]] double bithumb_gap_bps(std::size_t symbol) const { return gap_[symbol]; }
  [[nodiscard]] double fx() const noexcept { return fx_; }
  [[nodiscard]] double mid_usdt(std::size_t symbol) const { return mid_[symbol]; }

 private:
  void rebuild(Venue v, std::size_t symbol, std::int64_t now_ms);
  void rebuild_fx(std::int64_t now_ms);
  void fill(SimBook& b, double mid, double tick, double half_spread, double qty, std::int64_t step_m,
            std::int64_t now_ms);

  std::vector<SymbolSpec> specs_;
  MarketParams params_;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::vector<double> mid_;
  std::vector<double> premium_;
  std::vector<double> gap_;  // Bithumb's premium over Upbit's
  double fx_;
  std::vector<SimBook> books_[kMaxVenues];
  std::vector<bool> replayed_;        // Binance books driven by a capture
  std::vector<bool> upbit_replayed_;  // Upbit books (and, last, KRW-USDT) driven by a capture
  SimBook fx_book_;
  std::vector<std::int64_t> grid_bids_, grid_asks_;  // fill()'s scratch: the new price grid
  std::size_t next_ = 0;
};

}  // namespace xarb::sim
