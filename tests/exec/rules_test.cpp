// Trading rules: Binance's from the recorded exchangeInfo, Upbit's from the tick table and from
// /v1/orderbook/instruments; direction-aware rounding and every violation.

#include <string>

#include <gtest/gtest.h>

#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::exec {
namespace {

using ::xarb::test::d;

class RulesTest : public ::testing::Test {
 protected:
  RulesTest() {
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
    EXPECT_EQ(symbols.add("ETH", {{venues::kUpbit, "KRW-ETH"}, {venues::kBinance, "ETHUSDT"}}),
              Errc::ok);
    EXPECT_EQ(symbols.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
  }
  SymbolMap symbols;
  RulesTable table;
};

TEST_F(RulesTest, BinanceFiltersFromTheRecordedExchangeInfo) {
  const std::string body = test::read_file(test::data_dir() /
                                           "binance/exchangeInfo_btcusdt_ethusdt_2021-10-12.jsonl");
  std::string error;
  EXPECT_EQ(load_binance_rules(body, symbols, table, error), 2u) << error;
  const InstrumentRules& btc = table.at(venues::kBinance, 0);
  EXPECT_TRUE(btc.loaded);
  EXPECT_EQ(btc.tick, d("0.01"));
  EXPECT_EQ(btc.step, d("0.00001"));
  EXPECT_EQ(btc.min_qty, d("0.00001"));
  EXPECT_EQ(btc.max_qty, d("9000"));
  EXPECT_EQ(btc.min_notional, d("10"));
  EXPECT_EQ(btc.min_price, d("0.01"));
  EXPECT_EQ(btc.max_price, d("1000000"));
  EXPECT_EQ(table.at(venues::kBinance, 1).step, d("0.0001"));

  // The same filters inside a whole response, NOTIONAL flavour, keys in another order.
  RulesTable t2;
  const std::string response = R"({"timezone":"UTC","symbols":[{"filters":[
      {"tickSize":"0.10","filterType":"PRICE_FILTER","minPrice":"0.10","maxPrice":"100000"},
      {"filterType":"LOT_SIZE","minQty":"0.001","maxQty":"100","stepSize":"0.001"},
      {"filterType":"NOTIONAL","minNotional":"5","applyMinToMarket":true,"maxNotional":"9000000"}],
      "symbol":"ETHUSDT","status":"TRADING"},{"symbol":"XRPUSDT","filters":[]}]})";
  EXPECT_EQ(load_binance_rules(response, symbols, t2, error), 1u) << error;
  EXPECT_EQ(t2.at(venues::kBinance, 1).tick, d("0.1"));
  EXPECT_EQ(t2.at(venues::kBinance, 1).min_notional, d("5"));
  EXPECT_EQ(t2.at(venues::kBinance, 1).max_notional, d("9000000"));
  EXPECT_FALSE(t2.at(venues::kBinance, 0).loaded);

  RulesTable t3;
  EXPECT_EQ(load_binance_rules("{not json", symbols, t3, error), 0u);
  EXPECT_FALSE(error.empty());
}

TEST_F(RulesTest, RoundingNeverMakesAnOrderMoreAggressive) {
  std::string error;
  ASSERT_EQ(load_binance_rules(test::read_file(test::data_dir() /
                                               "binance/exchangeInfo_btcusdt_ethusdt_2021-10-12.jsonl"),
                               symbols, table, error),
            2u);
  const InstrumentRules& btc = table.at(venues::kBinance, 0);
  Decimal out;
  ASSERT_EQ(round_price(btc, Side::buy, d("100050.019"), out), Errc::ok);
  EXPECT_EQ(out, d("100050.01"));
  ASSERT_EQ(round_price(btc, Side::sell, d("100050.011"), out), Errc::ok);
  EXPECT_EQ(out, d("100050.02"));
  ASSERT_EQ(round_price(btc, Side::buy, d("100050.02"), out), Errc::ok);
  EXPECT_EQ(out, d("100050.02"));  // already on the tick
  EXPECT_EQ(round_qty(btc, d("0.0123456")), d("0.01234"));
  EXPECT_NE(round_price(InstrumentRules{}, Side::buy, d("1"), out), Errc::ok);
}

TEST_F(RulesTest, UpbitKrwTickTableAndTheKrwUsdtException) {
  load_upbit_default_rules(symbols, table);
  const InstrumentRules& btc = table.at(venues::kUpbit, 0);
  const InstrumentRules& fx = table.at(venues::kUpbit, symbols.fx());
  EXPECT_EQ(upbit_krw_tick(d("140123456")), d("1000"));
  EXPECT_EQ(upbit_krw_tick(d("1000000")), d("1000"));
  EXPECT_EQ(upbit_krw_tick(d("999999")), d("500"));
  EXPECT_EQ(upbit_krw_tick(d("500000")), d("500"));
  EXPECT_EQ(upbit_krw_tick(d("100000")), d("100"));
  EXPECT_EQ(upbit_krw_tick(d("50000")), d("50"));
  EXPECT_EQ(upbit_krw_tick(d("10000")), d("10"));
  EXPECT_EQ(upbit_krw_tick(d("5000")), d("5"));
  EXPECT_EQ(upbit_krw_tick(d("4999")), d("1"));
  EXPECT_EQ(upbit_krw_tick(d("100")), d("1"));
  EXPECT_EQ(upbit_krw_tick(d("99")), d("0.01"));
  Decimal out;
  ASSERT_EQ(round_price(btc, Side::buy, d("140123456"), out), Errc::ok);
  EXPECT_EQ(out, d("140123000"));
  ASSERT_EQ(round_price(btc, Side::sell, d("140123456"), out), Errc::ok);
  EXPECT_EQ(out, d("140124000"));
  // Across a band edge: 99,990 sells at 100,000, on the 100 KRW grid of its new band.
  ASSERT_EQ(round_price(btc, Side::sell, d("99990"), out), Errc::ok);
  EXPECT_EQ(out, d("100000"));
  EXPECT_EQ(check_order(btc, out, d("0.1")), RuleViolation::none);
  ASSERT_EQ(round_price(fx, Side::buy, d("1400.3"), out), Errc::ok);
  EXPECT_EQ(out, d("1400"));
  ASSERT_EQ(round_price(fx, Side::sell, d("1400.3"), out), Errc::ok);
  EXPECT_EQ(out, d("1400.5"));
  // 5,000 KRW minimum.
  EXPECT_EQ(check_order(btc, d("140000000"), d("0.00003")), RuleViolation::notional_min);
  EXPECT_EQ(check_order(btc, d("140000000"), d("0.00004")), RuleViolation::none);
  EXPECT_EQ(check_order(btc, d("140000500"), d("0.1")), RuleViolation::price_tick);
}

// orderbook/instruments answers each market's tick at its price of that moment. Taken as the
// tick for the whole run, it priced orders on the old grid once the price crossed a band (a coin
// at 4,985 KRW answered 1; at 5,003 the unit is 5 and Upbit refused invalid_price_bid). A tick
// the table has leaves the table in force at each order's own price; one it lacks becomes the
// market's smallest tick, never a finer one.
TEST_F(RulesTest, UpbitInstrumentsAnswerDoesNotFreezeTheTickOfItsMoment) {
  load_upbit_default_rules(symbols, table);
  std::string error;
  std::size_t exceptions = 0;
  const std::string body = R"([{"market":"KRW-BTC","quote_currency":"KRW","tick_size":"1","supported_levels":["0"]},
    {"market":"KRW-USDT","quote_currency":"KRW","tick_size":"0.5"},
    {"market":"KRW-DOGE","quote_currency":"KRW","tick_size":"0.1"}])";
  EXPECT_EQ(load_upbit_instruments(body, symbols, table, error, &exceptions), 2u) << error;
  EXPECT_EQ(exceptions, 0u);
  const InstrumentRules& btc = table.at(venues::kUpbit, 0);
  const InstrumentRules& fx = table.at(venues::kUpbit, symbols.fx());
  ASSERT_TRUE(btc.krw_table);
  EXPECT_EQ(tick_at(btc, d("4985")), d("1"));
  EXPECT_EQ(tick_at(btc, d("5003")), d("5"));
  Decimal out;
  ASSERT_EQ(round_price(btc, Side::buy, d("5008.9"), out), Errc::ok);
  EXPECT_EQ(out, d("5005"));
  EXPECT_EQ(check_order(btc, d("5003"), d("2")), RuleViolation::price_tick);
  ASSERT_EQ(round_price(fx, Side::sell, d("1400.3"), out), Errc::ok);
  EXPECT_EQ(out, d("1400.5"));
  EXPECT_EQ(tick_at(fx, d("10000")), d("10"));

  // A tick no band has (a table the engine does not know yet): nothing finer than it.
  const std::string odd = R"([{"market":"KRW-BTC","quote_currency":"KRW","tick_size":"2000"}])";
  EXPECT_EQ(load_upbit_instruments(odd, symbols, table, error, &exceptions), 1u);
  EXPECT_EQ(exceptions, 1u);
  EXPECT_EQ(tick_at(btc, d("140000000")), d("2000"));
  EXPECT_EQ(tick_at(btc, d("4985")), d("2000"));
  EXPECT_EQ(load_upbit_instruments("{\"error\":{}}", symbols, table, error), 0u);
  EXPECT_FALSE(error.empty());
}

// The documented bands, each edge and the tick on either side of it.
TEST_F(RulesTest, EveryBandOfTheKrwTablesAtItsEdges) {
  EXPECT_EQ(upbit_krw_tick(d("0.00009999")), d("0.00000001"));
  EXPECT_EQ(upbit_krw_tick(d("0.0001")), d("0.0000001"));
  EXPECT_EQ(upbit_krw_tick(d("0.001")), d("0.000001"));
  EXPECT_EQ(upbit_krw_tick(d("0.01")), d("0.00001"));
  EXPECT_EQ(upbit_krw_tick(d("0.1")), d("0.0001"));
  EXPECT_EQ(upbit_krw_tick(d("1")), d("0.001"));
  EXPECT_EQ(upbit_krw_tick(d("10")), d("0.01"));
  EXPECT_EQ(upbit_krw_tick(d("2000000")), d("1000"));
  EXPECT_EQ(kUpbitKrwStableTicks.at(d("999.9")), d("1"));
  EXPECT_EQ(kUpbitKrwStableTicks.at(d("1000")), d("0.5"));
  EXPECT_EQ(kUpbitKrwStableTicks.at(d("9999.5")), d("0.5"));
  EXPECT_EQ(kUpbitKrwStableTicks.at(d("10000")), d("10"));
  for (const TickTable* ticks : {&kUpbitKrwTicks, &kUpbitKrwStableTicks, &kBithumbKrwTicks}) {
    for (std::size_t i = 1; i < ticks->bands.size(); ++i) {
      const TickBand& b = ticks->bands[i];
      EXPECT_GT(b.from, ticks->bands[i - 1].from) << "bands ascend";
      EXPECT_EQ(b.from % b.tick, 0) << "a band starts on its own grid";
      EXPECT_EQ(ticks->at(Decimal::from_mantissa(b.from)).mantissa(), b.tick);
      EXPECT_EQ(ticks->at(Decimal::from_mantissa(b.from - 1)).mantissa(), ticks->bands[i - 1].tick);
      EXPECT_TRUE(ticks->has(Decimal::from_mantissa(b.tick)));
    }
  }
}

TEST_F(RulesTest, EveryViolation) {
  InstrumentRules r;
  r.loaded = true;
  r.tick = d("0.01");
  r.step = d("0.001");
  r.min_qty = d("0.002");
  r.max_qty = d("10");
  r.min_price = d("1");
  r.max_price = d("1000000");
  r.min_notional = d("10");
  r.max_notional = d("100000");
  EXPECT_EQ(check_order(InstrumentRules{}, d("1"), d("1")), RuleViolation::not_loaded);
  EXPECT_EQ(check_order(r, d("100.005"), d("1")), RuleViolation::price_tick);
  EXPECT_EQ(check_order(r, d("0.5"), d("1")), RuleViolation::price_range);
  EXPECT_EQ(check_order(r, d("100"), d("1.0005")), RuleViolation::qty_step);
  EXPECT_EQ(check_order(r, d("10000"), d("0.001")), RuleViolation::qty_min);
  EXPECT_EQ(check_order(r, d("100"), d("11")), RuleViolation::qty_max);
  EXPECT_EQ(check_order(r, d("100"), d("0.05")), RuleViolation::notional_min);
  EXPECT_EQ(check_order(r, d("20000"), d("6")), RuleViolation::notional_max);
  EXPECT_EQ(check_order(r, d("100"), d("1")), RuleViolation::none);
}

}  // namespace
}  // namespace xarb::exec
