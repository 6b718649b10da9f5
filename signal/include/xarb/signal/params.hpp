#pragma once

// What the signal stage is told at start-up. Plain values, filled by the app from the config
// (app::strategy_params) or by a test by hand; the signal never reads a file.

#include <array>
#include <cstddef>
#include <cstdint>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/signal/premium.hpp>

namespace xarb::signal {

// The two clocks every decision is made against. `mono_ns` (clock::mono_ns, the stamps' clock)
// measures ages, holding times and cool-downs; `wall_ns` (UTC) places the daily loss reset.
// Passed in rather than read, so a replay decides exactly as the live run did.
struct Now {
  std::int64_t mono_ns = 0;
  std::int64_t wall_ns = 0;
};

struct FxParams {
  bool fixed = false;            // true: `fixed_rate`, never stale; false: the KRW-USDT book
  Decimal fixed_rate;            // KRW per USDT
  FxSide side = FxSide::mid;     // which side of the KRW-USDT book
  std::int64_t max_age_ns = 5'000'000'000;
};

enum class BaselineMode : std::uint8_t { zero, ewma };

// Global and per-trade limits (docs/design.md: Risk guard). Money in whole won.
struct RiskParams {
  bool kill_switch = false;
  std::int64_t daily_loss_limit_krw = 500'000;
  int daily_reset_hour_utc = 15;  // midnight in Seoul
  std::int64_t max_total_exposure_krw = 50'000'000;
  std::int64_t max_symbol_exposure_krw = 20'000'000;
  // Open notional (KRW) of the positions with a leg on the venue, by venue id; 0: no limit.
  std::array<std::int64_t, kMaxVenues> max_venue_exposure_krw{};
  std::int64_t max_notional_krw = 10'000'000;
  std::int64_t min_notional_krw = 10'000;
  int max_consecutive_failures = 3;
  std::int64_t halt_cooldown_ns = 300'000'000'000;
  bool check_balances = true;  // entries need the assets on both venues (tracked from fills)
};

// Floors under which an entry may not take a venue's inventory (docs/design.md: Operating it):
// an entry that would leave less than its floor of an asset it spends on a venue is refused
// (inventory_floor), and the other direction, which refills that asset, gets `prefer_bps` off its
// entry threshold while it is. Zero floors: no floor.
struct InventoryParams {
  std::array<std::array<std::int64_t, kMaxInstruments>, kMaxVenues> floor_base{};  // mantissas
  std::array<Int128, kMaxVenues> floor_quote_e16{};  // the venue's quote asset, 1e-16 units
  double prefer_bps = 0.0;
};

struct SymbolParams {
  Decimal trade_qty;         // base units per entry; zero: the symbol is not traded
  Decimal max_position_qty;  // open base units across the symbol's positions
};

// A pair of venues the strategy trades, with its taker fees. `fx`: the second venue quotes
// another currency (USDT against KRW), converted at the FX rate; false: both quote the same
// one (KRW against KRW), no rate involved.
struct PairParams {
  VenuePair pair;
  Fees fees;
  bool fx = true;
  std::int64_t max_exposure_krw = 0;  // open notional (KRW) of the pair's positions; 0: none
};

struct StrategyParams {
  // The pairs traded, the first `pair_count`; a pair that is not two valid venues opens nothing.
  std::array<PairParams, kMaxPairs> pairs{};
  std::size_t pair_count = 1;
  FxParams fx;
  BaselineMode baseline = BaselineMode::ewma;
  std::int64_t ewma_half_life_ns = 600'000'000'000;
  bool kimchi = true;
  bool reverse = true;
  double entry_bps = 30.0;  // net edge over the baseline needed to enter
  double take_profit_bps = 15.0;
  double stop_loss_bps = 40.0;
  double reversal_bps = 0.0;  // exit when the entry edge falls back to baseline + this
  std::int64_t timeout_ns = 300'000'000'000;
  std::int64_t cooldown_ns = 10'000'000'000;
  int max_open_per_symbol = 1;  // per pair
  int max_open_total = 3;
  int clips = 1;
  double min_depth_ratio = 1.0;
  double slippage_bps = 5.0;
  std::int64_t max_book_age_ns = 2'000'000'000;
  std::int64_t exit_max_book_age_ns = 10'000'000'000;
  std::int64_t max_clock_skew_ns = 500'000'000;
  std::int64_t exit_retry_ns = 1'000'000'000;   // after an exit that filled nothing
  std::int64_t exec_deadline_ns = 2'000'000'000;  // both legs complete or unwound by then
  std::uint64_t first_position_id = 1;           // the journal continues numbering after a restart
  RiskParams risk;
  InventoryParams inventory;
  std::array<SymbolParams, kMaxInstruments> symbols{};  // indexed by InstrumentId
};

}  // namespace xarb::signal
