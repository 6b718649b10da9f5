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

// A KRW venue's table-based defaults for every KRW market of `symbols` it lists: its tick table,
// volumes to 8 decimals, a minimum order of `min_order_krw`.
void load_krw_default_rules(Venue venue, const TickTable& ticks, std::int64_t min_order_krw,
                            const SymbolMap& symbols, RulesTable& table);

}  // namespace xarb::exec
