#include <string>

#include <gtest/gtest.h>

#include <xarb/core/ids.hpp>

namespace xarb {
namespace {

// Two venue ids: core knows venues by id only.
constexpr Venue kUsdtVenue{0};
constexpr Venue kKrwVenue{1};

TEST(SymbolMap, MapsBothVenuesToOneInstrument) {
  SymbolMap map;
  ASSERT_EQ(map.add("BTC", {{kKrwVenue, "KRW-BTC"}, {kUsdtVenue, "BTCUSDT"}}), Errc::ok);
  ASSERT_EQ(map.add("ETH", {{kKrwVenue, "KRW-ETH"}, {kUsdtVenue, "ETHUSDT"}}), Errc::ok);
  ASSERT_EQ(map.add_fx(kKrwVenue, "KRW-USDT"), Errc::ok);
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.find(kKrwVenue, "KRW-BTC"), 0);
  EXPECT_EQ(map.find(kUsdtVenue, "BTCUSDT"), 0);
  EXPECT_EQ(map.find(kUsdtVenue, "btcusdt"), 0);  // stream names are lower case
  EXPECT_EQ(map.find(kUsdtVenue, "ethusdt"), 1);
  EXPECT_EQ(map.find_base("ETH"), 1);
  EXPECT_EQ(map.fx(), 2);
  EXPECT_EQ(map.find(kKrwVenue, "KRW-USDT"), 2);
  EXPECT_TRUE(map[2].is_fx);
  EXPECT_EQ(map[1].symbol(kKrwVenue), "KRW-ETH");
  EXPECT_EQ(map.find(kKrwVenue, "KRW-XRP"), kNoInstrument);
  EXPECT_EQ(map.find(kUsdtVenue, ""), kNoInstrument);
  EXPECT_EQ(map.find(kUsdtVenue, "BTCUSD"), kNoInstrument);
  int n = 0;
  for (const Instrument& i : map) n += i.id == static_cast<InstrumentId>(n) ? 1 : 0;
  EXPECT_EQ(n, 3);
}

TEST(SymbolMap, EachVenueHasItsOwnNames) {
  // Two KRW venues name their markets alike ("KRW-BTC"): a lookup is always on one venue.
  constexpr Venue kOtherKrwVenue{2};
  SymbolMap map;
  ASSERT_EQ(map.add("BTC",
                    {{kUsdtVenue, "BTCUSDT"}, {kKrwVenue, "KRW-BTC"}, {kOtherKrwVenue, "KRW-BTC"}}),
            Errc::ok);
  ASSERT_EQ(map.add("ETH", {{kOtherKrwVenue, "KRW-ETH"}}), Errc::ok);  // listed on one venue
  EXPECT_EQ(map.find(kOtherKrwVenue, "KRW-BTC"), 0);
  EXPECT_EQ(map.find(kOtherKrwVenue, "KRW-ETH"), 1);
  EXPECT_EQ(map.find(kKrwVenue, "KRW-ETH"), kNoInstrument);
  EXPECT_EQ(map.find(kUsdtVenue, "KRW-BTC"), kNoInstrument);
  EXPECT_TRUE(map[1].listed_on(kOtherKrwVenue));
  EXPECT_FALSE(map[1].listed_on(kKrwVenue));
  EXPECT_EQ(map[0].symbol(kUsdtVenue), "BTCUSDT");
  // Out of range venues list nothing and find nothing; a venue listed twice is refused.
  EXPECT_EQ(map[0].symbol(Venue{kMaxVenues}), "");
  EXPECT_EQ(map.find(kNoVenue, "KRW-BTC"), kNoInstrument);
  EXPECT_EQ(map.add("XRP", {{Venue{kMaxVenues}, "XRPUSDT"}}), Errc::invalid_argument);
  EXPECT_EQ(map.add("XRP", {{kUsdtVenue, "XRPUSDT"}, {kUsdtVenue, "XRP2USDT"}}),
            Errc::invalid_argument);
  EXPECT_EQ(map.add("XRP", {{kUsdtVenue, ""}}), Errc::invalid_argument);  // listed nowhere
  EXPECT_EQ(map.size(), 2u);
}

TEST(SymbolMap, RejectsDuplicatesBadNamesAndOverflow) {
  SymbolMap map;
  ASSERT_EQ(map.add("BTC", {{kKrwVenue, "KRW-BTC"}, {kUsdtVenue, "BTCUSDT"}}), Errc::ok);
  EXPECT_EQ(map.add("BTC", {{kKrwVenue, "KRW-BTC2"}, {kUsdtVenue, "BTC2USDT"}}),
            Errc::invalid_argument);
  EXPECT_EQ(map.add("XBT", {{kKrwVenue, "KRW-BTC"}, {kUsdtVenue, "XBTUSDT"}}),
            Errc::invalid_argument);
  EXPECT_EQ(map.add("XBT", {{kKrwVenue, "KRW-XBT"}, {kUsdtVenue, "btcusdt"}}),
            Errc::invalid_argument);
  EXPECT_EQ(map.add("", {{kKrwVenue, "KRW-A"}, {kUsdtVenue, "AUSDT"}}), Errc::invalid_argument);
  EXPECT_EQ(map.add("A", {}), Errc::invalid_argument);
  ASSERT_EQ(map.add("DOT", {{kUsdtVenue, "DOTUSDT"}}), Errc::ok);  // one venue only
  EXPECT_EQ(map.find(kKrwVenue, ""), kNoInstrument);
  EXPECT_EQ(map.find(kUsdtVenue, "dotusdt"), map.find_base("DOT"));
  EXPECT_EQ(map.add("A", {{kKrwVenue, "KRW-AAAAAAAAAAAAAAAAAAAAAAAAAAA"}, {kUsdtVenue, "AUSDT"}}),
            Errc::invalid_argument);
  ASSERT_EQ(map.add_fx(kKrwVenue, "KRW-USDT"), Errc::ok);
  EXPECT_EQ(map.add_fx(kKrwVenue, "KRW-USDC"), Errc::invalid_argument);
  for (std::size_t i = map.size(); i < kMaxInstruments; ++i) {
    const std::string base = "C" + std::to_string(i);
    ASSERT_EQ(map.add(base, {{kKrwVenue, "KRW-" + base}, {kUsdtVenue, base + "USDT"}}), Errc::ok);
  }
  EXPECT_EQ(map.add("LAST", {{kKrwVenue, "KRW-LAST"}, {kUsdtVenue, "LASTUSDT"}}),
            Errc::invalid_argument);
}

TEST(Sides, PriceRoundingNeverImprovesTheLimit) {
  EXPECT_EQ(price_rounding(Side::buy), Rounding::down);
  EXPECT_EQ(price_rounding(Side::sell), Rounding::up);
  EXPECT_EQ(kQuantityRounding, Rounding::down);
  EXPECT_EQ(opposite(Side::buy), Side::sell);
}

}  // namespace
}  // namespace xarb
