#include <string>

#include <gtest/gtest.h>

#include <xarb/core/ids.hpp>

namespace xarb {
namespace {

TEST(SymbolMap, MapsBothVenuesToOneInstrument) {
  SymbolMap map;
  ASSERT_EQ(map.add("BTC", "KRW-BTC", "BTCUSDT"), Errc::ok);
  ASSERT_EQ(map.add("ETH", "KRW-ETH", "ETHUSDT"), Errc::ok);
  ASSERT_EQ(map.add_fx("KRW-USDT"), Errc::ok);
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.find_upbit("KRW-BTC"), 0);
  EXPECT_EQ(map.find_binance("BTCUSDT"), 0);
  EXPECT_EQ(map.find_binance("btcusdt"), 0);  // stream names are lower case
  EXPECT_EQ(map.find_binance("ethusdt"), 1);
  EXPECT_EQ(map.find_base("ETH"), 1);
  EXPECT_EQ(map.fx(), 2);
  EXPECT_EQ(map.find_upbit("KRW-USDT"), 2);
  EXPECT_TRUE(map[2].is_fx);
  EXPECT_EQ(map[1].upbit_market.view(), "KRW-ETH");
  EXPECT_EQ(map.find_upbit("KRW-XRP"), kNoInstrument);
  EXPECT_EQ(map.find_binance(""), kNoInstrument);
  EXPECT_EQ(map.find_binance("BTCUSD"), kNoInstrument);
  int n = 0;
  for (const Instrument& i : map) n += i.id == static_cast<InstrumentId>(n) ? 1 : 0;
  EXPECT_EQ(n, 3);
}

TEST(SymbolMap, RejectsDuplicatesBadNamesAndOverflow) {
  SymbolMap map;
  ASSERT_EQ(map.add("BTC", "KRW-BTC", "BTCUSDT"), Errc::ok);
  EXPECT_EQ(map.add("BTC", "KRW-BTC2", "BTC2USDT"), Errc::invalid_argument);
  EXPECT_EQ(map.add("XBT", "KRW-BTC", "XBTUSDT"), Errc::invalid_argument);
  EXPECT_EQ(map.add("XBT", "KRW-XBT", "btcusdt"), Errc::invalid_argument);
  EXPECT_EQ(map.add("", "KRW-A", "AUSDT"), Errc::invalid_argument);
  EXPECT_EQ(map.add("A", "", ""), Errc::invalid_argument);
  ASSERT_EQ(map.add("DOT", "", "DOTUSDT"), Errc::ok);  // one venue only
  EXPECT_EQ(map.find_upbit(""), kNoInstrument);
  EXPECT_EQ(map.find_binance("dotusdt"), map.find_base("DOT"));
  EXPECT_EQ(map.add("A", "KRW-AAAAAAAAAAAAAAAAAAAAAAAAAAA", "AUSDT"), Errc::invalid_argument);
  ASSERT_EQ(map.add_fx("KRW-USDT"), Errc::ok);
  EXPECT_EQ(map.add_fx("KRW-USDC"), Errc::invalid_argument);
  for (std::size_t i = map.size(); i < kMaxInstruments; ++i) {
    const std::string base = "C" + std::to_string(i);
    ASSERT_EQ(map.add(base, "KRW-" + base, base + "USDT"), Errc::ok);
  }
  EXPECT_EQ(map.add("LAST", "KRW-LAST", "LASTUSDT"), Errc::invalid_argument);
}

TEST(Sides, PriceRoundingNeverImprovesTheLimit) {
  EXPECT_EQ(price_rounding(Side::buy), Rounding::down);
  EXPECT_EQ(price_rounding(Side::sell), Rounding::up);
  EXPECT_EQ(kQuantityRounding, Rounding::down);
  EXPECT_EQ(opposite(Side::buy), Side::sell);
}

}  // namespace
}  // namespace xarb
