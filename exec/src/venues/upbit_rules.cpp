// Upbit's trading rules: its KRW tick table, the stablecoin markets' own, and the tick sizes
// /v1/orderbook/instruments answers (docs/venues.md).

#include <array>
#include <iterator>

#include <simdjson.h>

#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/net/json.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {
namespace {

Decimal dec(std::int64_t mantissa) noexcept { return Decimal::from_mantissa(mantissa); }
constexpr std::int64_t kOne = Decimal::kOne;

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
}  // namespace

const TickTable kUpbitKrwTicks{kUpbitBands};
const TickTable kUpbitKrwStableTicks{kUpbitStableBands};

Decimal upbit_krw_tick(Decimal price) noexcept { return kUpbitKrwTicks.at(price); }

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
