// The gates and the risk guard: every refusal reason the signal can give, each on its own, and
// the circuit breaker, REDUCING and daily-loss transitions.

#include <cstdint>

#include <gtest/gtest.h>

#include <xarb/signal/baseline.hpp>
#include <xarb/signal/risk.hpp>
#include <xarb/signal/strategy.hpp>
#include <xarb/venues/registry.hpp>

#include "signal_harness.hpp"

namespace xarb::signal {
namespace {

using test::book;
using test::d;
using test::kSecond;
using test::kWall;

class RiskTest : public test::ScenarioTest {
 protected:
  // Entry-ready books (kimchi edge about 35 bps) at time t.
  void offer(std::int64_t t) {
    binance("99990", "100000", t);
    upbit("140700000", "140800000", t);
  }
  // Offers once and expects exactly one refusal, of `reason`, and no intent.
  void expect_refused(RefusalReason reason, std::int64_t t = kSecond) {
    offer(t);
    EXPECT_TRUE(sink.intents.empty()) << to_string(reason);
    EXPECT_GE(strategy->risk().refusals(reason), 1u) << to_string(reason);
    ASSERT_FALSE(sink.refusals.empty()) << to_string(reason);
    EXPECT_EQ(sink.refusals.back().reason, reason);
    EXPECT_EQ(sink.refusals.back().instrument, kBtc);
    EXPECT_EQ(sink.refusals.back().direction, Direction::kimchi);
  }
};

TEST_F(RiskTest, KillSwitch) {
  params.risk.kill_switch = true;
  start();
  expect_refused(RefusalReason::kill_switch);
  strategy->risk().set_kill_switch(false);
  offer(2 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
}

TEST_F(RiskTest, TotalExposure) {
  params.risk.max_total_exposure_krw = 1'000'000;  // one entry is 1,407,000 KRW
  start();
  expect_refused(RefusalReason::total_exposure);
}

TEST_F(RiskTest, SymbolExposure) {
  params.risk.max_symbol_exposure_krw = 1'000'000;
  start();
  expect_refused(RefusalReason::symbol_exposure);
}

TEST_F(RiskTest, SymbolPositionSize) {
  params.symbols[kBtc].max_position_qty = d("0.005");
  start();
  expect_refused(RefusalReason::symbol_exposure);
}

TEST_F(RiskTest, MaxAndMinNotional) {
  params.risk.max_notional_krw = 1'000'000;
  start();
  expect_refused(RefusalReason::max_notional);
  params.risk.max_notional_krw = 10'000'000;
  params.risk.min_notional_krw = 2'000'000;
  start();
  sink.clear();
  expect_refused(RefusalReason::min_notional);
}

TEST_F(RiskTest, BalancesOnBothVenuesIncludingWhatIsInFlight) {
  start();
  strategy->inventory().set_base(venues::kUpbit, kBtc, d("0.005"));  // kimchi sells 0.01 there
  expect_refused(RefusalReason::balance);

  // Enough for one entry: the second, while the first is in flight, finds the USDT reserved.
  params.max_open_per_symbol = 2;
  params.max_open_total = 2;
  start();
  sink.clear();
  strategy->inventory().set_quote(venues::kBinance, d("1500"));  // 0.01 x 100,050 x 1.001 = 1,001.5
  offer(kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  upbit("140700000", "140800000", 2 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::balance), 1u);
  // The report releases the reservation and moves the balance by the fill: 1,500 - 1,001.
  report(test::fill(sink.intents[0], params.pairs[0].fees), 3 * kSecond);
  EXPECT_NEAR(strategy->inventory().quote(venues::kBinance), 499.0, 1e-9);
  EXPECT_EQ(strategy->inventory().free_quote_e16(venues::kBinance),
            strategy->inventory().quote_e16(venues::kBinance));
}

TEST_F(RiskTest, VenueUnhealthy) {
  start();
  strategy->risk().set_venue_healthy(venues::kBinance, false);
  expect_refused(RefusalReason::venue_unhealthy);
}

TEST_F(RiskTest, MaxOpenTotal) {
  params.max_open_per_symbol = 2;
  params.max_open_total = 1;
  start();
  offer(kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  upbit("140700000", "140800000", 2 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::max_open_total), 1u);
}

TEST_F(RiskTest, CooldownAfterAnExit) {
  start();
  enter(kSecond);
  upbit("139900000", "140000000", 2 * kSecond);  // take-profit
  ASSERT_EQ(sink.intents.size(), 1u);
  report(test::fill(sink.intents[0], params.pairs[0].fees), 3 * kSecond);
  sink.clear();
  expect_refused(RefusalReason::cooldown, 3 * kSecond + params.cooldown_ns - 1);
  offer(3 * kSecond + params.cooldown_ns);
  EXPECT_EQ(sink.intents.size(), 1u);
}

TEST_F(RiskTest, StaleBook) {
  start();
  BookSnapshot b = book(venues::kBinance, kBtc, {{"99990", "1"}}, {{"100000", "1"}}, kSecond);
  b.flags = book_flags::kResyncing;
  strategy->on_book(b, at(kSecond), sink);
  upbit("140700000", "140800000", kSecond);
  EXPECT_TRUE(sink.intents.empty());
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::book_stale), 1u);
}

TEST_F(RiskTest, OldBook) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond + params.max_book_age_ns + 1);
  EXPECT_TRUE(sink.intents.empty());
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::book_age), 1u);
}

TEST_F(RiskTest, FxMissing) {
  params.fx.fixed = false;
  params.reverse = false;
  start();
  expect_refused(RefusalReason::fx_missing);
}

TEST_F(RiskTest, ClockSkewBetweenTheVenues) {
  start();
  strategy->on_book(
      book(venues::kBinance, kBtc, {{"99990", "1"}}, {{"100000", "1"}}, kSecond, kWall),
      at(kSecond), sink);
  strategy->on_book(book(venues::kUpbit, kBtc, {{"140700000", "1"}}, {{"140800000", "1"}}, kSecond,
                         kWall + params.max_clock_skew_ns + 1),
                    at(kSecond), sink);
  EXPECT_TRUE(sink.intents.empty());
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::clock_skew), 1u);
}

TEST_F(RiskTest, DepthBelowTheTradeSize) {
  params.min_depth_ratio = 2.0;
  start();
  binance("99990", "100000", kSecond);
  strategy->on_book(
      book(venues::kUpbit, kBtc, {{"140700000", "0.015"}}, {{"140800000", "1"}}, kSecond),
      at(kSecond), sink);
  EXPECT_TRUE(sink.intents.empty());
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::depth), 1u);
}

TEST_F(RiskTest, ThinBookBoundsTheSizeWhenTheDepthRatioAllowsIt) {
  params.min_depth_ratio = 0.5;
  start();
  binance("99990", "100000", kSecond);
  strategy->on_book(
      book(venues::kUpbit, kBtc, {{"140700000", "0.006"}}, {{"140800000", "1"}}, kSecond),
      at(kSecond), sink);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].leg(venues::kUpbit).quantity, d("0.006"));
  EXPECT_EQ(sink.intents[0].leg(venues::kBinance).quantity, d("0.006"));
}

TEST_F(RiskTest, RefusalsAreCountedEveryTimeAndReportedOncePerChange) {
  params.risk.kill_switch = true;
  start();
  offer(kSecond);
  offer(2 * kSecond);
  offer(3 * kSecond);
  // Two updates per offer, each evaluating the kimchi direction once the books are both in.
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::kill_switch), 5u);
  EXPECT_EQ(sink.refusals.size(), 1u);
}

TEST_F(RiskTest, CircuitBreakerHaltsAfterConsecutiveFailuresThenResumes) {
  params.risk.max_consecutive_failures = 3;
  params.risk.halt_cooldown_ns = 60 * kSecond;
  start();
  for (int k = 0; k < 3; ++k) {
    offer((k + 1) * kSecond);
    ASSERT_EQ(sink.intents.size(), 1u) << k;
    report(test::reject(sink.intents[0]), (k + 1) * kSecond);
    sink.clear();
  }
  EXPECT_EQ(strategy->stats().unfilled, 3u);
  EXPECT_EQ(strategy->risk().mode(), RiskMode::halted);
  EXPECT_EQ(strategy->risk().halts(), 1u);
  expect_refused(RefusalReason::halted, 4 * kSecond);
  // The cool-down runs from the third failure.
  offer(3 * kSecond + 60 * kSecond - 1);
  EXPECT_TRUE(sink.intents.empty());
  offer(3 * kSecond + 60 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(strategy->risk().mode(), RiskMode::normal);
  EXPECT_EQ(strategy->risk().consecutive_failures(), 0);
}

TEST_F(RiskTest, SuccessResetsTheFailureCount) {
  start();
  offer(kSecond);
  report(test::reject(sink.intents[0]), kSecond);
  sink.clear();
  EXPECT_EQ(strategy->risk().consecutive_failures(), 1);
  enter(2 * kSecond);
  EXPECT_EQ(strategy->risk().consecutive_failures(), 0);
}

TEST_F(RiskTest, ReducingManuallyAllowsExitsOnly) {
  start();
  enter(kSecond);
  strategy->risk().set_reducing(true);
  upbit("139900000", "140000000", 2 * kSecond);  // take-profit still fires
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].kind, IntentKind::exit);
  report(test::fill(sink.intents[0], params.pairs[0].fees), 3 * kSecond);
  sink.clear();
  expect_refused(RefusalReason::reducing, 20 * kSecond);
  strategy->risk().set_reducing(false);
  offer(21 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
}

TEST_F(RiskTest, DailyLossLimitStopsEntriesUntilTheResetHour) {
  params.risk.daily_loss_limit_krw = 5'000;
  params.risk.daily_reset_hour_utc = 15;
  params.cooldown_ns = 0;
  start();
  enter(kSecond);
  upbit("140800000", "140900000", 2 * kSecond);  // stop-loss: -6,347.86 KRW
  ASSERT_EQ(sink.intents.size(), 1u);
  report(test::fill(sink.intents[0], params.pairs[0].fees), 3 * kSecond);
  sink.clear();
  EXPECT_NEAR(strategy->risk().daily_realized_krw(), -6347.86, 1e-6);
  // kWall is 00:00 UTC; the trading day runs to 15:00 UTC.
  const std::int64_t to_reset = 15 * 3600 * kSecond;
  const auto offer_at_wall = [&](std::int64_t wall_offset) {
    const Now n{4 * kSecond, kWall + wall_offset};
    strategy->on_book(book(venues::kBinance, kBtc, {{"99990", "1"}}, {{"100000", "1"}}, n.mono_ns),
                      n, sink);
    strategy->on_book(
        book(venues::kUpbit, kBtc, {{"140700000", "1"}}, {{"140800000", "1"}}, n.mono_ns), n, sink);
  };
  offer_at_wall(to_reset - 1);
  EXPECT_TRUE(sink.intents.empty());
  EXPECT_GE(strategy->risk().refusals(RefusalReason::daily_loss), 1u);
  offer_at_wall(to_reset);
  EXPECT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(strategy->risk().daily_realized_krw(), 0.0);
}

TEST(RiskGuard, DailyWindowRollsAtTheConfiguredHourInUtc) {
  RiskParams p;
  p.daily_loss_limit_krw = 100;
  p.daily_reset_hour_utc = 15;
  RiskGuard g(p);
  const std::int64_t day = 86'400 * kSecond;
  const std::int64_t h15 = 15 * 3600 * kSecond;
  g.on_realized(-150.0, {0, 10 * day + h15 - 1});
  EXPECT_EQ(g.check_global({0, 10 * day + h15 - 1}), RefusalReason::daily_loss);
  EXPECT_EQ(g.check_global({0, 10 * day + h15}), RefusalReason::none);
  g.on_realized(-99.0, {0, 10 * day + h15 + 1});
  EXPECT_EQ(g.check_global({0, 11 * day}), RefusalReason::none);
  g.on_realized(-1.0, {0, 11 * day});
  EXPECT_EQ(g.check_global({0, 11 * day + h15 - 1}), RefusalReason::daily_loss);
}

TEST(Ewma, HalfLifeInTime) {
  Ewma e(10 * kSecond);
  EXPECT_FALSE(e.ready());
  e.update(0.0, 0);
  EXPECT_EQ(e.value(), 0.0);
  e.update(100.0, 10 * kSecond);  // one half-life: halfway
  EXPECT_NEAR(e.value(), 50.0, 1e-12);
  e.update(100.0, 30 * kSecond);  // two more: three quarters of the rest
  EXPECT_NEAR(e.value(), 87.5, 1e-12);
  e.update(-1000.0, 30 * kSecond);  // same instant: no weight
  EXPECT_NEAR(e.value(), 87.5, 1e-12);
}

// Inventory floors: an entry may not take an asset it spends on a venue under its floor; what it
// receives there has none to respect. The other direction is preferred while one is starved.
class InventoryFloorTest : public RiskTest {
 protected:
  void floor_base(Venue v, const char* qty) {
    params.inventory.floor_base[index(v)][kBtc] = d(qty).mantissa();
  }
  void floor_quote(Venue v, const char* amount) {
    params.inventory.floor_quote_e16[index(v)] =
        static_cast<Int128>(d(amount).mantissa()) * Decimal::kOne;
  }
};

TEST_F(InventoryFloorTest, AnEntryStopsBeforeTheBaseItSellsFallsUnderItsFloor) {
  floor_base(venues::kUpbit, "0.995");  // kimchi sells 0.01 of Upbit's 1 BTC: 0.99 left
  start();
  expect_refused(RefusalReason::inventory_floor);
  EXPECT_EQ(to_string(RefusalReason::inventory_floor), "inventory_floor");

  floor_base(venues::kUpbit, "0.99");  // exactly the floor is left: allowed
  start();
  sink.clear();
  offer(kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
}

// An operator's withdrawal (xarb ctl transfer) moves the inventory the floors are checked against;
// the deposit that follows moves it back. The quote asset moves the same way.
TEST_F(InventoryFloorTest, ATransferMovesWhatTheFloorsAreCheckedAgainst) {
  floor_base(venues::kUpbit, "0.99");  // 1 BTC held, an entry sells 0.01: exactly the floor left
  start();
  strategy->inventory().apply_transfer(venues::kUpbit, kBtc, d("-0.00000001"));
  EXPECT_EQ(strategy->inventory().base(venues::kUpbit, kBtc), d("0.99999999"));
  expect_refused(RefusalReason::inventory_floor);
  strategy->inventory().apply_transfer(venues::kUpbit, kBtc, d("0.00000001"));
  sink.clear();
  offer(2 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);

  const Int128 before = strategy->inventory().quote_e16(venues::kBinance);
  strategy->inventory().apply_transfer(venues::kBinance, kNoInstrument, d("-250.5"));
  EXPECT_EQ(strategy->inventory().quote_e16(venues::kBinance),
            before - static_cast<Int128>(d("250.5").mantissa()) * Decimal::kOne);
  EXPECT_EQ(strategy->inventory().base(venues::kBinance, kBtc), d("1")) << "the base is untouched";
}

TEST_F(InventoryFloorTest, AnEntryStopsBeforeTheQuoteItPaysFallsUnderItsFloor) {
  // Kimchi buys 0.01 BTC on Binance: the limit 100,050 x 0.01 plus 10 bps is 1,001.5005 USDT.
  floor_quote(venues::kBinance, "998998");
  start();
  offer(kSecond);
  EXPECT_EQ(sink.intents.size(), 1u) << "1,000,000 - 1,001.5005 leaves 998,998.4995";
  floor_quote(venues::kBinance, "998999");
  start();
  sink.clear();
  expect_refused(RefusalReason::inventory_floor);
}

TEST_F(InventoryFloorTest, AFloorOnWhatTheEntryReceivesDoesNotStopIt) {
  // Kimchi receives BTC on Binance and KRW on Upbit: floors above what is held there do not bind.
  floor_base(venues::kBinance, "5");
  floor_quote(venues::kUpbit, "2000000000");
  start();
  offer(kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
}

TEST_F(InventoryFloorTest, HeadroomIsWhatEachDirectionCanStillSpendAndWhatBindsIt) {
  floor_base(venues::kUpbit, "0.95");
  floor_quote(venues::kBinance, "990000");
  start();
  EXPECT_FALSE(strategy->headroom(0, kBtc, Direction::kimchi).known) << "no books yet";
  binance("99990", "100000", 0);
  upbit("139950000", "140050000", 0);  // no edge either way: nothing sent, nothing reserved
  ASSERT_TRUE(sink.intents.empty());
  // Kimchi: Upbit's BTC above its floor is 0.05; Binance's 10,000 spare USDT buy
  // 10,000 / (100,050 x 1.001) = 0.09985...: Upbit's BTC binds.
  const Strategy::Headroom k = strategy->headroom(0, kBtc, Direction::kimchi);
  ASSERT_TRUE(k.known);
  EXPECT_EQ(k.qty, d("0.05").mantissa());
  EXPECT_EQ(k.venue, venues::kUpbit);
  EXPECT_FALSE(k.quote);
  // Reverse: 1 BTC to sell on Binance; 1e9 KRW buy 1e9 / (140,120,025 x 1.0005) = 7.13 on Upbit.
  const Strategy::Headroom r = strategy->headroom(0, kBtc, Direction::reverse);
  ASSERT_TRUE(r.known);
  EXPECT_EQ(r.qty, d("1").mantissa());
  EXPECT_EQ(r.venue, venues::kBinance);

  // Raise the Binance USDT floor so that only 500 USDT are spare: under one entry's worth.
  floor_quote(venues::kBinance, "999500");
  start();
  binance("99990", "100000", 0);
  upbit("139950000", "140050000", 0);
  const Strategy::Headroom q = strategy->headroom(0, kBtc, Direction::kimchi);
  EXPECT_EQ(q.venue, venues::kBinance);
  EXPECT_TRUE(q.quote);
  // 500e16 x 1e6 / (100,050e8 x 1,001,000) in 1e-8 BTC, rounded down.
  // room_for says what headroom says, without its divisions, either side of the boundary.
  for (const Direction d : {Direction::kimchi, Direction::reverse}) {
    const std::int64_t h = strategy->headroom(0, kBtc, d).qty;
    EXPECT_TRUE(strategy->room_for(0, kBtc, d, h)) << to_string(d);
    EXPECT_FALSE(strategy->room_for(0, kBtc, d, h + 1)) << to_string(d);
  }
  EXPECT_EQ(q.qty, static_cast<std::int64_t>(
                       static_cast<Int128>(500) * Decimal::kOne * Decimal::kOne * 1'000'000 /
                       (static_cast<Int128>(d("100050").mantissa()) * 1'001'000)));
}

TEST_F(InventoryFloorTest, TheDirectionThatRefillsAStarvedOneIsPreferred) {
  // A reverse edge of about 20 bps (Binance bid 100,000 x 1,400 against an Upbit ask of
  // 139,500,000, less 15 bps of fees): under the 30 bps threshold, over 30 - 15.
  params.inventory.prefer_bps = 15.0;
  const auto reverse_offer = [&](std::int64_t t) {
    binance("100000", "100010", t);
    upbit("139400000", "139500000", t);
  };
  start();
  reverse_offer(kSecond);
  EXPECT_TRUE(sink.intents.empty()) << "kimchi is not starved: no preference";

  floor_base(venues::kUpbit, "0.995");  // kimchi cannot take another clip
  start();
  sink.clear();
  reverse_offer(kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].direction, Direction::reverse);

  // Never under a zero edge: a preference larger than the threshold stops at zero.
  params.inventory.prefer_bps = 1000.0;
  start();
  sink.clear();
  binance("100000", "100010", kSecond);
  upbit("140700000", "140800000", kSecond);  // reverse is deeply negative here
  for (const OrderIntent& i : sink.intents) EXPECT_NE(i.direction, Direction::reverse);
}

}  // namespace
}  // namespace xarb::signal
