#include <initializer_list>
#include <utility>

#include <gtest/gtest.h>

#include <xarb/signal/premium.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::signal {
namespace {

using ::xarb::test::d;

BookSnapshot book(Venue venue, std::initializer_list<std::pair<const char*, const char*>> bids,
                  std::initializer_list<std::pair<const char*, const char*>> asks) {
  BookSnapshot s;
  s.venue = venue;
  for (const auto& [p, q] : bids) s.bids[s.bid_count++] = {d(p), d(q)};
  for (const auto& [p, q] : asks) s.asks[s.ask_count++] = {d(p), d(q)};
  return s;
}

// KRW-BTC on Upbit and BTCUSDT on Binance, small enough to check by hand.
const BookSnapshot kUpbit =
    book(venues::kUpbit, {{"158000000", "0.01"}, {"157900000", "0.02"}, {"157800000", "0.05"}},
         {{"158100000", "0.015"}, {"158200000", "0.03"}});
const BookSnapshot kBinance = book(venues::kBinance, {{"109990", "0.03"}, {"109980", "0.04"}},
                                   {{"110000", "0.005"}, {"110010", "0.02"}, {"110020", "0.1"}});
const Fees kFees{5.0, 10.0};

TEST(WalkBook, FillsLevelByLevelWithAnExactNotional) {
  const Walk w = walk_book({kUpbit.bids.data(), kUpbit.bid_count}, d("0.02"));
  EXPECT_EQ(w.qty, d("0.02"));
  // 0.01 x 158,000,000 + 0.01 x 157,900,000 = 3,159,000 KRW exactly.
  EXPECT_EQ(w.notional_e16, static_cast<Int128>(3'159'000) * 10'000'000'000'000'000LL);
  EXPECT_DOUBLE_EQ(w.vwap(), 157'950'000.0);
  const Walk all = walk_book({kUpbit.bids.data(), kUpbit.bid_count}, d("5"));
  EXPECT_EQ(all.qty, d("0.08"));  // bounded by the levels
  EXPECT_TRUE(walk_book({kUpbit.bids.data(), kUpbit.bid_count}, d("0")).empty());
  EXPECT_TRUE(walk_book({}, d("1")).empty());
}

TEST(Premium, KimchiAtExecutablePricesNetOfBothFees) {
  const Premium p = premium(kUpbit, kBinance, 1400.0, Direction::kimchi, d("0.02"), kFees);
  ASSERT_TRUE(p.valid);
  EXPECT_EQ(p.qty, d("0.02"));
  EXPECT_DOUBLE_EQ(p.first_vwap, 157'950'000.0);  // Upbit bids walked
  EXPECT_DOUBLE_EQ(p.second_vwap, 110'007.5);     // Binance asks walked: 2,200.15 USDT / 0.02
  // 157,950,000 / (1,400 x 110,007.5) - 1, and after 5 bps + 10 bps (Python's decimal).
  EXPECT_NEAR(p.premium, 0.025579424779479321, 1e-15);
  EXPECT_NEAR(p.edge, 0.024042592474614967, 1e-15);
  EXPECT_NEAR(p.edge_bps(), 240.42592474614967, 1e-9);
}

TEST(Premium, ReverseBuysUpbitAsksAndSellsBinanceBids) {
  const Premium p = premium(kUpbit, kBinance, 1400.0, Direction::reverse, d("0.02"), kFees);
  ASSERT_TRUE(p.valid);
  EXPECT_DOUBLE_EQ(p.first_vwap, 158'125'000.0);  // 0.015 @ 158.1M + 0.005 @ 158.2M
  EXPECT_DOUBLE_EQ(p.second_vwap, 109'990.0);
  EXPECT_NEAR(p.premium, 0.026879066928162300, 1e-15);
  // Buying KRW-BTC dear and selling it cheap loses: a negative edge.
  EXPECT_NEAR(p.edge, -0.027635500826661768, 1e-15);
}

TEST(Premium, ThinBooksBoundTheTradeSize) {
  const Premium p = premium(kUpbit, kBinance, 1400.0, Direction::kimchi, d("1"), kFees);
  ASSERT_TRUE(p.valid);
  EXPECT_EQ(p.qty, d("0.08"));                    // all Upbit's bids; Binance's asks hold 0.125
  EXPECT_DOUBLE_EQ(p.first_vwap, 157'850'000.0);  // 12,628,000 KRW / 0.08
  EXPECT_DOUBLE_EQ(p.second_vwap, 110'016.25);    // 8,801.3 USDT / 0.08
  EXPECT_NEAR(p.premium, 0.024848601911081318, 1e-15);
}

TEST(Premium, NeverInventsAPriceOrARate) {
  BookSnapshot empty_upbit = kUpbit;
  empty_upbit.bid_count = 0;
  EXPECT_FALSE(premium(empty_upbit, kBinance, 1400.0, Direction::kimchi, d("0.02"), kFees).valid);
  EXPECT_TRUE(premium(empty_upbit, kBinance, 1400.0, Direction::reverse, d("0.02"), kFees).valid);
  EXPECT_FALSE(premium(kUpbit, kBinance, 0.0, Direction::kimchi, d("0.02"), kFees).valid);
  EXPECT_FALSE(premium(kUpbit, kBinance, -1.0, Direction::kimchi, d("0.02"), kFees).valid);

  BookSnapshot fx = book(venues::kUpbit, {{"1399.5", "100"}}, {{"1400.5", "100"}});
  EXPECT_DOUBLE_EQ(fx_rate(fx, FxSide::mid), 1400.0);
  EXPECT_DOUBLE_EQ(fx_rate(fx, FxSide::bid), 1399.5);
  EXPECT_DOUBLE_EQ(fx_rate(fx, FxSide::ask), 1400.5);
  fx.flags = book_flags::kStale;
  EXPECT_EQ(fx_rate(fx, FxSide::mid), 0.0);  // a stale FX book gives no rate, never 1.0
  fx.flags = 0;
  fx.ask_count = 0;
  EXPECT_EQ(fx_rate(fx, FxSide::mid), 0.0);
  // Crossed without the flag (as a hand-made or corrupted snapshot could be): no rate either.
  const BookSnapshot crossed = book(venues::kUpbit, {{"1401", "100"}}, {{"1400", "100"}});
  EXPECT_EQ(fx_rate(crossed, FxSide::bid), 0.0);
}

}  // namespace
}  // namespace xarb::signal
