#pragma once

// The simulator's market: one price path per symbol shared by every venue, a KRW premium that
// mean-reverts around a configured level with occasional jumps (each KRW venue at that premium,
// or at a gap of its own to it), a KRW-USDT rate, and books of realistic shape around them.
// Deterministic under a seed.

#include <array>
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
  std::string base;  // BTC
  // Its market on each venue, by venue id ("BTCUSDT", "KRW-BTC"); empty: the registry's default
  // for the base (venues::market_name).
  std::array<std::string, kMaxVenues> markets;
  double price_usdt = 60'000.0;
  Decimal tick = Decimal::from_mantissa(1'000'000);  // 0.01: the USDT market's price step
  Decimal step = Decimal::from_mantissa(1'000);              // 0.00001
  double level_qty = 0.5;  // base units at the best level; deeper levels grow
};

// One venue as the simulator runs it (SimOptions::venues, by id). Defaults: the venue's row in
// the simulator's registry (sim/src/venues/registry.cpp); configs/sim.toml names each key.
struct SimVenueParams {
  bool served = false;  // its front ends listen and its books move
  unsigned short port = 0;  // 0: any free port
  double fee_bps = 0.0;
  // A KRW venue whose row keeps a gap: its premium is the market's plus this gap, which reverts
  // to gap_bps with gap_vol_bps noise per sqrt(second) and the premium's jumps.
  double gap_bps = 0.0;
  double gap_vol_bps = 0.0;
  std::int64_t request_limit = 0;  // per the row's window (a weighted venue: weight)
  std::int64_t order_limit = 0;    // orders per the row's order window
};
using SimVenues = std::array<SimVenueParams, kMaxVenues>;
// Every venue of the simulator's registry at its row's defaults.
[[nodiscard]] SimVenues default_sim_venues();

struct MarketParams {
  std::uint64_t seed = 1;
  int levels = 20;
  double premium_bps = 250.0;       // level the KRW premium reverts to
  double premium_reversion = 0.2;   // per second
  double premium_vol_bps = 15.0;    // per sqrt(second)
  double jump_probability = 0.01;   // per second
  double jump_bps = 80.0;
  double price_vol = 0.0005;        // per sqrt(second), relative
  double fx = 1400.0;               // KRW per USDT
  double fx_vol = 0.0001;
  double spread_bps = 1.0;          // half-spread at the top
};

// A venue book update produced by a market step.
struct BookUpdate {
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);  // no book changed
  Venue venue = kNoVenue;
  std::size_t symbol = 0;  // index into the specs; specs.size() = the FX book (its venue's)
};

// Levels that differ between two versions of a book side: (price, new qty), qty 0 = removed.
std::vector<std::pair<std::int64_t, std::int64_t>> side_diff(const BookSide& before,
                                                             const BookSide& after);
// Applies such levels to `side`: afterwards side == after.
void apply_diff(BookSide& side, const std::vector<std::pair<std::int64_t, std::int64_t>>& diff);

class SyntheticMarket {
 public:
  using Levels = std::vector<std::pair<std::int64_t, std::int64_t>>;  // (price, qty) mantissas

  // The books of every venue `venues` serves; a symbol's market left empty takes the venue's
  // default name.
  SyntheticMarket(std::vector<SymbolSpec> specs, MarketParams params,
                  const SimVenues& venues = default_sim_venues());

  // Advances the model by `dt_s` seconds and rebuilds one book, chosen round robin over every
  // (venue, symbol) book and the FX book, skipping books a capture drives. Returns which
  // (symbol kNone when a capture drives every book).
  BookUpdate step(double dt_s, std::int64_t now_ms);
  // The market of `symbol` on venue `v` ("" when the simulator does not serve that venue).
  [[nodiscard]] const std::string& market_name(Venue v, std::size_t symbol) const;
  // Moves symbol's premium by `bps` at once and rebuilds its book on the first KRW venue served
  // (the latency probe's); if a capture drives that book, the USDT book moves instead.
  BookUpdate jump(std::size_t symbol, double bps, std::int64_t now_ms);
  // Rebuilds every book (start-up).
  void rebuild_all(std::int64_t now_ms);

  // Replay: venue `v`'s book `symbol` (specs().size(): the FX book) is driven by a capture
  // instead of the model: a snapshot replaces it, a diff changes its levels (qty 0 removes one);
  // update_id 0 counts on from the book's own. Its mid then drives the symbol's other books
  // through the model's premium and FX rate (a USDT book first, unless a capture drives none);
  // a recorded FX book drives the FX rate.
  void apply(Venue v, std::size_t symbol, const Levels& bids, const Levels& asks,
             std::uint64_t update_id, bool snapshot, std::int64_t now_ms);
  [[nodiscard]] bool replayed(Venue v, std::size_t symbol) const {
    return symbol < specs_.size() ? replayed_[index(v)][symbol] : fx_replayed_;
  }

  [[nodiscard]] SimBook& book(Venue v, std::size_t symbol) { return books_[index(v)][symbol]; }
  [[nodiscard]] SimBook& fx_book() { return fx_book_; }
  [[nodiscard]] const std::vector<SymbolSpec>& specs() const noexcept { return specs_; }
  [[nodiscard]] double premium_bps(std::size_t symbol) const { return premium_[symbol]; }
  // A venue's gap to the premium (0 for a venue quoting the premium itself).
  [[nodiscard]] double gap_bps(Venue v, std::size_t symbol) const { return gap_[index(v)][symbol]; }
  [[nodiscard]] double fx() const noexcept { return fx_; }
  [[nodiscard]] double mid_usdt(std::size_t symbol) const { return mid_[symbol]; }
  // The venues served, in id order; the first KRW one (the probe's); the one whose USDT book
  // drives the mid.
  [[nodiscard]] const std::vector<Venue>& served() const noexcept { return served_; }
  [[nodiscard]] Venue krw_lead() const noexcept { return krw_lead_; }
  [[nodiscard]] Venue usdt_venue() const noexcept { return usdt_; }

 private:
  void rebuild(Venue v, std::size_t symbol, std::int64_t now_ms);
  void rebuild_fx(std::int64_t now_ms);
  void fill(SimBook& b, double mid, double tick, double half_spread, double qty, std::int64_t step_m,
            std::int64_t now_ms);
  [[nodiscard]] bool usdt(Venue v) const;
  [[nodiscard]] bool any_replayed(std::size_t symbol) const;
  // The KRW price of symbol's mid on `v`, at the premium and v's gap.
  [[nodiscard]] double krw_factor(Venue v, std::size_t symbol) const {
    return fx_ * (1.0 + (premium_[symbol] + gap_[index(v)][symbol]) * 1e-4);
  }

  std::vector<SymbolSpec> specs_;
  MarketParams params_;
  SimVenues venues_;
  std::vector<Venue> served_;
  Venue krw_lead_ = kNoVenue;
  Venue usdt_ = kNoVenue;
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_{0.0, 1.0};
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
  std::vector<double> mid_;
  std::vector<double> premium_;
  std::vector<double> gap_[kMaxVenues];  // each venue's gap to the premium
  double fx_;
  std::vector<SimBook> books_[kMaxVenues];
  std::vector<bool> replayed_[kMaxVenues];  // books driven by a capture
  bool fx_replayed_ = false;
  SimBook fx_book_;
  std::vector<std::int64_t> grid_bids_, grid_asks_;  // fill()'s scratch: the new price grid
  std::size_t next_ = 0;
};

}  // namespace xarb::sim
