#include <algorithm>
#include <array>
#include <iterator>

#include <simdjson.h>

#include <xarb/exec/rules.hpp>
#include <xarb/net/json.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {
namespace {

Decimal dec(std::int64_t mantissa) noexcept { return Decimal::from_mantissa(mantissa); }
constexpr std::int64_t kOne = Decimal::kOne;

// A decimal ("0.01000000"); false when absent or not a decimal.
bool get_decimal(simdjson::simdjson_result<simdjson::ondemand::value> v, Decimal& out) noexcept {
  simdjson::ondemand::value value;
  if (std::move(v).get(value) != simdjson::SUCCESS) return false;
  return net::json::read_decimal(value, out, /*exact=*/false) == net::json::NumberStatus::ok;
}

// One Binance symbol object: its filters.
bool read_binance_symbol(simdjson::ondemand::object symbol, const SymbolMap& symbols,
                         RulesTable& table, std::size_t& loaded) noexcept {
  std::string_view name;
  InstrumentId id = kNoInstrument;
  InstrumentRules r;
  for (auto field : symbol) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    if (key == "symbol") {
      if (field.value().get_string().get(name) != simdjson::SUCCESS) return false;
      id = symbols.find(venues::kBinance, name);
    } else if (key == "filters") {
      simdjson::ondemand::array filters;
      if (field.value().get_array().get(filters) != simdjson::SUCCESS) return false;
      for (auto f : filters) {
        simdjson::ondemand::object filter;
        if (f.get_object().get(filter) != simdjson::SUCCESS) return false;
        std::string_view type;
        Decimal a, b, c;
        // Keys come in the venue's order; read them by name, whatever the order.
        for (auto kv : filter) {
          std::string_view k;
          if (kv.unescaped_key().get(k) != simdjson::SUCCESS) return false;
          if (k == "filterType") {
            if (kv.value().get_string().get(type) != simdjson::SUCCESS) return false;
          } else if (k == "minPrice" || k == "minQty" || k == "minNotional") {
            (void)get_decimal(kv.value(), a);
          } else if (k == "maxPrice" || k == "maxQty" || k == "maxNotional") {
            (void)get_decimal(kv.value(), b);
          } else if (k == "tickSize" || k == "stepSize") {
            (void)get_decimal(kv.value(), c);
          }
        }
        if (type == "PRICE_FILTER") {
          r.min_price = a;
          r.max_price = b;
          r.tick = c;
        } else if (type == "LOT_SIZE") {
          r.min_qty = a;
          r.max_qty = b;
          r.step = c;
        } else if (type == "MIN_NOTIONAL" || type == "NOTIONAL") {
          r.min_notional = a;
          if (type == "NOTIONAL") r.max_notional = b;
        }
      }
    }
  }
  if (id == kNoInstrument) return true;  // a symbol we do not trade
  if (!r.tick.is_positive() || !r.step.is_positive()) return false;
  r.loaded = true;
  table.at(venues::kBinance, id) = r;
  ++loaded;
  return true;
}

}  // namespace

namespace {

// Upbit's KRW table since 2025-07-31 (docs.upbit.com/kr/docs/krw-market-info, docs/venues.md),
// down to the 8 decimals a Decimal holds.
constexpr TickBand kUpbitBands[] = {
    {0, 1},
    {kOne / 10'000, 10},
    {kOne / 1'000, 100},
    {kOne / 100, 1'000},
    {kOne / 10, kOne / 10'000},
    {kOne, kOne / 1'000},
    {10 * kOne, kOne / 100},
    {100 * kOne, kOne},
    {5'000 * kOne, 5 * kOne},
    {10'000 * kOne, 10 * kOne},
    {50'000 * kOne, 50 * kOne},
    {100'000 * kOne, 100 * kOne},
    {500'000 * kOne, 500 * kOne},
    {1'000'000 * kOne, 1'000 * kOne},
};
// KRW-USDT and KRW-USDC: Upbit's table, but one band of 0.5 KRW from 1,000 to 10,000 (since
// 2025-03-21) where the others have 1 (from 1,000) and 5 (from 5,000).
constexpr auto kUpbitStableBands = [] {
  std::array<TickBand, std::size(kUpbitBands)> out{};
  std::size_t n = 0;
  for (const TickBand& b : kUpbitBands) {
    out[n++] = b.from == 5'000 * kOne ? TickBand{1'000 * kOne, kOne / 2} : b;
  }
  return out;
}();
constexpr TickBand kBithumbBands[] = {
    {0, kOne / 10'000},           {kOne, kOne / 1'000},
    {10 * kOne, kOne / 100},      {100 * kOne, kOne},
    {5'000 * kOne, 5 * kOne},     {10'000 * kOne, 10 * kOne},
    {50'000 * kOne, 50 * kOne},   {100'000 * kOne, 100 * kOne},
    {500'000 * kOne, 500 * kOne}, {1'000'000 * kOne, 1'000 * kOne},
};

}  // namespace

const TickTable kUpbitKrwTicks{kUpbitBands};
const TickTable kUpbitKrwStableTicks{kUpbitStableBands};
const TickTable kBithumbKrwTicks{kBithumbBands};

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

Decimal upbit_krw_tick(Decimal price) noexcept { return kUpbitKrwTicks.at(price); }
Decimal bithumb_krw_tick(Decimal price) noexcept { return kBithumbKrwTicks.at(price); }

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

std::size_t load_binance_rules(std::string_view body, const SymbolMap& symbols, RulesTable& table,
                               std::string& error) {
  simdjson::ondemand::parser parser;
  std::size_t loaded = 0;
  // A whole response: {"symbols":[...]}.
  {
    const simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object root;
    simdjson::ondemand::array list;
    if (parser.iterate(padded).get(doc) == simdjson::SUCCESS &&
        doc.get_object().get(root) == simdjson::SUCCESS &&
        root.find_field_unordered("symbols").get_array().get(list) == simdjson::SUCCESS) {
      for (auto item : list) {
        simdjson::ondemand::object o;
        if (item.get_object().get(o) != simdjson::SUCCESS ||
            !read_binance_symbol(o, symbols, table, loaded)) {
          error = "exchangeInfo: unreadable symbol object";
          return loaded;
        }
      }
      return loaded;
    }
  }
  // Otherwise one document per line, as in the shared capture: symbol objects are read, others
  // (the rate limits line) skipped.
  std::size_t start = 0;
  bool any = false;
  while (start < body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object root;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(root) != simdjson::SUCCESS) {
      error = "exchangeInfo: not a JSON object";
      return loaded;
    }
    std::string_view name;
    if (root.find_field_unordered("symbol").get_string().get(name) != simdjson::SUCCESS) {
      any = true;
      continue;
    }
    any = true;
    if (root.reset().error() != simdjson::SUCCESS ||
        !read_binance_symbol(root, symbols, table, loaded)) {
      error = "exchangeInfo: unreadable symbol object";
      return loaded;
    }
  }
  if (!any) error = "exchangeInfo: empty";
  return loaded;
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

void load_upbit_default_rules(const SymbolMap& symbols, RulesTable& table) {
  load_krw_default_rules(venues::kUpbit, kUpbitKrwTicks, kUpbitMinOrderKrw, symbols, table);
  for (const Instrument& i : symbols) {
    const std::string_view market = i.symbol(venues::kUpbit);
    if (market != "KRW-USDT" && market != "KRW-USDC") continue;
    table.at(venues::kUpbit, i.id).krw_table = &kUpbitKrwStableTicks;
  }
}

std::size_t load_upbit_instruments(std::string_view body, const SymbolMap& symbols,
                                   RulesTable& table, std::string& error,
                                   std::size_t* exceptions_out) {
  std::size_t ignored = 0;
  std::size_t& exceptions = exceptions_out != nullptr ? *exceptions_out : ignored;
  exceptions = 0;
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array list;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_array().get(list) != simdjson::SUCCESS) {
    error = "orderbook/instruments: not a JSON array";
    return 0;
  }
  std::size_t updated = 0;
  for (auto item : list) {
    simdjson::ondemand::object o;
    if (item.get_object().get(o) != simdjson::SUCCESS) {
      error = "orderbook/instruments: not an object";
      return updated;
    }
    std::string_view market;
    Decimal tick;
    bool have_tick = false;
    for (auto field : o) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
      if (key == "market") {
        if (field.value().get_string().get(market) != simdjson::SUCCESS) break;
      } else if (key == "tick_size") {
        // A string in the documentation; accept a number too.
        simdjson::ondemand::value v;
        if (field.value().get(v) != simdjson::SUCCESS) break;
        std::string_view text;
        simdjson::ondemand::json_type type{};
        if (v.type().get(type) != simdjson::SUCCESS) break;
        if (type == simdjson::ondemand::json_type::string) {
          if (v.get_string().get(text) != simdjson::SUCCESS) break;
        } else {
          text = net::json::number_text(v.raw_json_token());
        }
        have_tick = Decimal::parse(text, Rounding::down, tick) == Errc::ok && tick.is_positive();
      }
    }
    const InstrumentId id = symbols.find(venues::kUpbit, market);
    if (id == kNoInstrument || !have_tick) continue;
    InstrumentRules& r = table.at(venues::kUpbit, id);
    if (!r.loaded) {
      r.loaded = true;
      r.step = dec(1);
      r.min_notional = dec(kUpbitMinOrderKrw * kOne);
    }
    ++updated;
    // The answer is the tick at the market's price of this moment, not for the run: a KRW
    // market keeps its table, applied at each order's own price. A tick the table does not have
    // is the market's own exception (or a newer table): orders are never priced finer than it.
    if (r.krw_table != nullptr && r.krw_table->has(tick)) {
      r.tick = Decimal{};
      continue;
    }
    r.tick = tick;
    if (r.krw_table != nullptr) ++exceptions;
  }
  return updated;
}

}  // namespace xarb::exec
