// What every venue's rules share: tick tables, rounding onto the grid, an order's check, a KRW
// venue's table-based defaults. Each venue's own loaders and tables are in src/venues/.

#include <algorithm>

#include <xarb/exec/rules.hpp>

namespace xarb::exec {
namespace {

Decimal dec(std::int64_t mantissa) noexcept { return Decimal::from_mantissa(mantissa); }
constexpr std::int64_t kOne = Decimal::kOne;

}  // namespace

Decimal TickTable::at(Decimal price) const noexcept {
  std::int64_t tick = bands.empty() ? 0 : bands.front().tick;
  for (const TickBand& b : bands) {
    if (price.mantissa() >= b.from) tick = b.tick;
  }
  return dec(tick);
}

bool TickTable::has(Decimal tick) const noexcept {
  return std::any_of(bands.begin(), bands.end(),
                     [&](const TickBand& b) { return b.tick == tick.mantissa(); });
}

Decimal tick_at(const InstrumentRules& rules, Decimal price) noexcept {
  if (rules.krw_table == nullptr) return rules.tick;
  const Decimal table = rules.krw_table->at(price);
  // A market's own tick the table does not know (the venue named it): never finer than that.
  if (!rules.tick.is_positive() || rules.tick <= table) return table;
  return rules.tick;
}

Errc round_price(const InstrumentRules& rules, Side side, Decimal price, Decimal& out) noexcept {
  if (!rules.loaded || !price.is_positive()) return Errc::invalid_argument;
  Decimal tick = tick_at(rules, price);
  if (!tick.is_positive()) return Errc::invalid_argument;
  if (const Errc e = price.round_to_step(tick, price_rounding(side), out); e != Errc::ok) return e;
  // Rounding up can cross into a coarser tick band (999.99 -> 1,000 at a 0.01 tick is fine, but
  // 4,999 -> 5,000 must be on the 5 KRW grid): round again at the result's own tick.
  tick = tick_at(rules, out);
  if (const Errc e = out.round_to_step(tick, price_rounding(side), out); e != Errc::ok) return e;
  return out.is_positive() ? Errc::ok : Errc::invalid_argument;
}

Decimal round_qty(const InstrumentRules& rules, Decimal qty) noexcept {
  if (!rules.step.is_positive() || !qty.is_positive()) return Decimal{};
  Decimal out;
  return qty.round_to_step(rules.step, kQuantityRounding, out) == Errc::ok ? out : Decimal{};
}

std::string_view to_string(RuleViolation v) noexcept {
  switch (v) {
    case RuleViolation::none:
      return "none";
    case RuleViolation::not_loaded:
      return "no trading rules loaded";
    case RuleViolation::price_tick:
      return "price not on the tick";
    case RuleViolation::price_range:
      return "price out of range";
    case RuleViolation::qty_step:
      return "quantity not on the lot step";
    case RuleViolation::qty_min:
      return "quantity under the minimum";
    case RuleViolation::qty_max:
      return "quantity over the maximum";
    case RuleViolation::notional_min:
      return "notional under the minimum";
    case RuleViolation::notional_max:
      return "notional over the maximum";
  }
  return "unknown";
}

RuleViolation check_order(const InstrumentRules& rules, Decimal price, Decimal qty) noexcept {
  if (!rules.loaded) return RuleViolation::not_loaded;
  const Decimal tick = tick_at(rules, price);
  if (!price.is_positive() || !tick.is_positive() || price.mantissa() % tick.mantissa() != 0) {
    return RuleViolation::price_tick;
  }
  if ((rules.min_price.is_positive() && price < rules.min_price) ||
      (rules.max_price.is_positive() && price > rules.max_price)) {
    return RuleViolation::price_range;
  }
  if (!qty.is_positive() || qty.mantissa() % rules.step.mantissa() != 0) {
    return RuleViolation::qty_step;
  }
  if (qty < rules.min_qty) return RuleViolation::qty_min;
  if (rules.max_qty.is_positive() && qty > rules.max_qty) return RuleViolation::qty_max;
  const Int128 notional = notional_e16(price, qty);
  if (notional < static_cast<Int128>(rules.min_notional.mantissa()) * kOne) {
    return RuleViolation::notional_min;
  }
  if (rules.max_notional.is_positive() &&
      notional > static_cast<Int128>(rules.max_notional.mantissa()) * kOne) {
    return RuleViolation::notional_max;
  }
  return RuleViolation::none;
}

void load_krw_default_rules(Venue venue, const TickTable& ticks, std::int64_t min_order_krw,
                            const SymbolMap& symbols, RulesTable& table) {
  for (const Instrument& i : symbols) {
    if (!i.symbol(venue).starts_with("KRW-")) continue;
    InstrumentRules r;
    r.loaded = true;
    r.step = dec(1);  // volumes to 8 decimals
    r.min_notional = dec(min_order_krw * kOne);
    r.krw_table = &ticks;
    table.at(venue, i.id) = r;
  }
}

}  // namespace xarb::exec
