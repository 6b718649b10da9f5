#pragma once

// The venues' own trading rules: their tick tables and the loaders of their rules answers
// (exec/src/venues/<venue>_rules.cpp; docs/venues.md).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <xarb/core/ids.hpp>
#include <xarb/exec/rules.hpp>

namespace xarb::exec {

extern const TickTable kUpbitKrwTicks;        // docs/venues.md, the table of 2025-07-31
extern const TickTable kUpbitKrwStableTicks;  // KRW-USDT, KRW-USDC: 0.5 from 1,000 to 10,000
extern const TickTable kBithumbKrwTicks;      // docs/venues.md

// Upbit's and Bithumb's KRW tick for a price.
[[nodiscard]] Decimal upbit_krw_tick(Decimal price) noexcept;
[[nodiscard]] Decimal bithumb_krw_tick(Decimal price) noexcept;

// Fills the Binance rules of every instrument of `symbols` found in an exchangeInfo body (the
// whole response, or one symbol object per line as in data/). Returns the number of
// instruments loaded; `error` names what could not be read.
std::size_t load_binance_rules(std::string_view body, const SymbolMap& symbols, RulesTable& table,
                               std::string& error);

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
