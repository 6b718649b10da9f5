#pragma once

// Trading rules per venue and instrument: price tick, lot step, quantity and notional bounds
// (docs/venues.md). Binance's come from exchangeInfo (PRICE_FILTER, LOT_SIZE, MIN_NOTIONAL or
// NOTIONAL); Upbit's from /v1/orderbook/instruments when it answers, else from the KRW tick table
// with the KRW-USDT exception and the 5,000 KRW minimum. Loaded at start-up (parsing allocates);
// rounding and checking are allocation-free.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <xarb/core/decimal.hpp>
#include <xarb/core/errc.hpp>
#include <xarb/core/ids.hpp>

namespace xarb::exec {

// A KRW venue's price ticks: each band from its lowest price up, lowest band first.
struct TickBand {
  std::int64_t from = 0;  // Decimal mantissa
  std::int64_t tick = 0;  // Decimal mantissa
};
struct TickTable {
  std::span<const TickBand> bands;
  // The tick at `price` (the first band's below it).
  [[nodiscard]] Decimal at(Decimal price) const noexcept;
  // Whether some band of the table has this tick.
  [[nodiscard]] bool has(Decimal tick) const noexcept;
};
extern const TickTable kUpbitKrwTicks;        // docs/venues.md, the table of 2025-07-31
extern const TickTable kUpbitKrwStableTicks;  // KRW-USDT, KRW-USDC: 0.5 from 1,000 to 10,000
extern const TickTable kBithumbKrwTicks;      // docs/venues.md

struct InstrumentRules {
  bool loaded = false;
  const TickTable* krw_table = nullptr;  // a KRW market: the tick depends on the price
  // The price step; with krw_table, a market's own tick the table lacks (zero: none), under
  // which no order is priced.
  Decimal tick;
  Decimal step;            // quantity step
  Decimal min_qty;
  Decimal max_qty;         // zero: no bound
  Decimal min_price;
  Decimal max_price;       // zero: no bound
  Decimal min_notional;    // in the quote currency; zero: none
  Decimal max_notional;    // zero: none
};

// Upbit's and Bithumb's KRW tick for a price.
[[nodiscard]] Decimal upbit_krw_tick(Decimal price) noexcept;
[[nodiscard]] Decimal bithumb_krw_tick(Decimal price) noexcept;
// The tick at `price` under `rules`.
[[nodiscard]] Decimal tick_at(const InstrumentRules& rules, Decimal price) noexcept;

// Rounds a limit price onto the tick so that it never becomes more aggressive: a buy cap rounds
// down, a sell floor rounds up (price_rounding). Fails with invalid_argument when no rules are
// loaded or the result is not positive.
[[nodiscard]] Errc round_price(const InstrumentRules& rules, Side side, Decimal price,
                               Decimal& out) noexcept;
// Rounds a quantity down onto the lot step.
[[nodiscard]] Decimal round_qty(const InstrumentRules& rules, Decimal qty) noexcept;

enum class RuleViolation : std::uint8_t {
  none,
  not_loaded,
  price_tick,
  price_range,
  qty_step,
  qty_min,
  qty_max,
  notional_min,
  notional_max,
};
[[nodiscard]] std::string_view to_string(RuleViolation v) noexcept;

// Checks an order already rounded: on the tick and step, within the bounds.
[[nodiscard]] RuleViolation check_order(const InstrumentRules& rules, Decimal price,
                                        Decimal qty) noexcept;

class RulesTable {
 public:
  [[nodiscard]] InstrumentRules& at(Venue v, InstrumentId i) noexcept { return rules_[index(v)][i]; }
  [[nodiscard]] const InstrumentRules& at(Venue v, InstrumentId i) const noexcept {
    return rules_[index(v)][i];
  }

 private:
  std::array<std::array<InstrumentRules, kMaxInstruments>, kMaxVenues> rules_{};
};

// Fills the Binance rules of every instrument of `symbols` found in an exchangeInfo body (the
// whole response, or one symbol object per line as in data/). Returns the number of
// instruments loaded; `error` names what could not be read.
std::size_t load_binance_rules(std::string_view body, const SymbolMap& symbols, RulesTable& table,
                               std::string& error);

// A KRW venue's table-based defaults for every KRW market of `symbols` it lists: its tick table,
// volumes to 8 decimals, a minimum order of `min_order_krw`.
void load_krw_default_rules(Venue venue, const TickTable& ticks, std::int64_t min_order_krw,
                            const SymbolMap& symbols, RulesTable& table);
// Upbit: the KRW defaults, and the stablecoin markets' table (0.5 KRW from 1,000 to 10,000).
void load_upbit_default_rules(const SymbolMap& symbols, RulesTable& table);
// Upbit: checks the tick sizes of a /v1/orderbook/instruments body against the tables. The
// answer gives each market's tick at its price of the moment, so a tick the market's table has
// changes nothing (the table goes on applying at each order's own price); one it lacks becomes
// the market's smallest tick. Returns the number of markets read; `exceptions` (when given) the
// number whose tick the table lacks.
std::size_t load_upbit_instruments(std::string_view body, const SymbolMap& symbols,
                                   RulesTable& table, std::string& error,
                                   std::size_t* exceptions = nullptr);

inline constexpr std::int64_t kUpbitMinOrderKrw = 5'000;
// Bithumb's minimum order total per market is in /v1/orders/chance (private); 5,000 KRW is the
// documented figure for KRW markets until it is read (docs/venues.md).
inline constexpr std::int64_t kBithumbMinOrderKrw = 5'000;

}  // namespace xarb::exec
