// Scripted scenarios for the strategy: one per exit reason with hand-computed PnL, entry intents,
// clips, FX, and the position state machine under partial, failed and unhedged executions.

#include <cmath>
#include <cstdint>
#include <optional>

#include <gtest/gtest.h>

#include <xarb/signal/strategy.hpp>
#include <xarb/venues/registry.hpp>

#include "signal_harness.hpp"

namespace xarb::signal {
namespace {

using test::book;
using test::d;

using StrategyTest = test::ScenarioTest;
using test::kSecond;

TEST_F(StrategyTest, EntryIntentCarriesBothLegsLimitsAndLevels) {
  start();
  binance("99990", "100000", kSecond);
  EXPECT_TRUE(sink.intents.empty()) << "no Upbit book yet";
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent& in = sink.intents[0];
  EXPECT_EQ(in.kind, IntentKind::entry);
  EXPECT_EQ(in.direction, Direction::kimchi);
  EXPECT_EQ(in.fx_rate, d("1400"));
  // 140,700,000 x 0.9995 / (1,400 x 100,000 x 1.001) - 1, in bps.
  EXPECT_NEAR(in.edge_bps, (140'700'000.0 * 0.9995 / (140'000'000.0 * 1.001) - 1.0) * 1e4, 1e-9);
  EXPECT_EQ(in.deadline_ns, kSecond + params.exec_deadline_ns);
  const LegIntent& u = in.leg(venues::kUpbit);
  EXPECT_EQ(u.side, Side::sell);
  EXPECT_EQ(u.quantity, d("0.01"));
  EXPECT_EQ(u.limit_price, d("140629650"));  // 140,700,000 less 5 bps
  ASSERT_EQ(u.level_count, 1);
  EXPECT_EQ(u.levels[0].price, d("140700000"));
  const LegIntent& b = in.leg(venues::kBinance);
  EXPECT_EQ(b.side, Side::buy);
  EXPECT_EQ(b.quantity, d("0.01"));
  EXPECT_EQ(b.limit_price, d("100050"));  // 100,000 plus 5 bps
  EXPECT_EQ(b.levels[0].price, d("100000"));
  ASSERT_EQ(sink.changes.size(), 1u);
  EXPECT_EQ(sink.changes[0].to, PositionState::opening);
  EXPECT_EQ(strategy->stats().entries, 1u);

  // The same books again: the one open pair per symbol is taken.
  upbit("140700000", "140800000", 2 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::max_open_symbol), 1u);
}

// The strategy knows venues only as its pair: any two ids trade as Upbit and Binance do, and
// books from venues outside the pair are not traded on.
TEST(StrategyPair, AnyTwoVenuesTradeAsAPair) {
  constexpr Venue kKrw{3}, kUsdt{2}, kOther{0};
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{kKrw, "KRW-BTC"}, {kUsdt, "BTCUSDT"}, {kOther, "BTCUSDT"}}),
            Errc::ok);
  StrategyParams params;
  params.pairs[0].pair = {kKrw, kUsdt};
  params.fx.fixed = true;
  params.fx.fixed_rate = d("1400");
  params.baseline = BaselineMode::zero;
  params.risk.check_balances = false;
  params.symbols[0].trade_qty = d("0.01");
  params.symbols[0].max_position_qty = d("0.05");
  Strategy strategy(symbols, params);
  test::RecordingSink sink;
  const auto at = [](std::int64_t t) { return Now{t, test::kWall + t}; };
  // A cheap book on a venue outside the pair, with the pair's KRW book: no premium to trade.
  strategy.on_book(book(kOther, 0, {{"99990", "1"}}, {{"100000", "1"}}, kSecond), at(kSecond),
                   sink);
  strategy.on_book(book(kKrw, 0, {{"140700000", "1"}}, {{"140800000", "1"}}, kSecond), at(kSecond),
                   sink);
  EXPECT_TRUE(sink.intents.empty());
  strategy.on_book(book(kUsdt, 0, {{"99990", "1"}}, {{"100000", "1"}}, kSecond), at(kSecond), sink);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent& in = sink.intents[0];
  EXPECT_EQ(in.direction, Direction::kimchi);
  EXPECT_FALSE(in.has_leg(kOther));
  EXPECT_EQ(in.leg(kKrw).side, Side::sell);  // kimchi sells on the first venue
  EXPECT_EQ(in.leg(kKrw).limit_price, d("140629650"));
  EXPECT_EQ(in.leg(kUsdt).side, Side::buy);
  EXPECT_EQ(in.leg(kUsdt).limit_price, d("100050"));
  EXPECT_EQ(in.leg(kUsdt).quantity, d("0.01"));

  // Without a valid pair the strategy trades nothing.
  StrategyParams none = params;
  none.pairs[0].pair = {kKrw, kKrw};
  Strategy idle(symbols, none);
  test::RecordingSink quiet;
  idle.on_book(book(kKrw, 0, {{"140700000", "1"}}, {{"140800000", "1"}}, kSecond), at(kSecond),
               quiet);
  idle.on_book(book(kUsdt, 0, {{"99990", "1"}}, {{"100000", "1"}}, kSecond), at(kSecond), quiet);
  idle.on_timer(at(2 * kSecond), quiet);
  EXPECT_TRUE(quiet.intents.empty());
}

// One strategy trades several pairs. Upbit against Bithumb is KRW against KRW: it needs no FX rate
// (none is fed here) and its PnL is in KRW as it is. Upbit against Binance, in the same
// strategy, waits for the rate. Each pair's trades are counted on their own.
TEST(StrategyPairs, KrwAgainstKrwTradesWithoutARateBesideAPairThatNeedsOne) {
  const Venue up = venues::kUpbit, bt = venues::kBithumb, bn = venues::kBinance;
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{up, "KRW-BTC"}, {bt, "KRW-BTC"}, {bn, "BTCUSDT"}}), Errc::ok);
  ASSERT_EQ(symbols.add_fx(up, "KRW-USDT"), Errc::ok);
  StrategyParams params;
  params.pairs[0] = {venues::kUpbitBinance, {5.0, 10.0}, true};
  params.pairs[1] = {{up, bt}, {5.0, 4.0}, false};
  params.pair_count = 2;
  params.baseline = BaselineMode::zero;
  params.risk.check_balances = false;
  params.reversal_bps = -1000.0;
  params.symbols[0].trade_qty = d("0.01");
  params.symbols[0].max_position_qty = d("0.05");
  Strategy strategy(symbols, params);
  EXPECT_TRUE(strategy.needs_fx());
  EXPECT_EQ(strategy.pair_index({up, bt}), 1u);
  EXPECT_EQ(strategy.pair_index({bt, bn}), 2u) << "not traded";
  test::RecordingSink sink;
  const auto at = [](std::int64_t t) { return Now{t, test::kWall + t}; };
  const auto feed = [&](Venue v, const char* bid, const char* ask, std::int64_t t) {
    strategy.on_book(book(v, 0, {{bid, "1"}}, {{ask, "1"}}, t), at(t), sink);
  };
  // Upbit's bid 50 bps over Bithumb's ask: 140,700,000 x 0.9995 / (140,000,000 x 1.0004) - 1 is
  // 40.97 bps after fees, over the 30 bps threshold.
  feed(bn, "99990", "100000", kSecond);
  feed(bt, "139990000", "140000000", kSecond);
  feed(up, "140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent entry = sink.intents[0];
  EXPECT_EQ(entry.direction, Direction::kimchi);
  EXPECT_EQ(entry.fx_rate, d("1")) << "no rate: KRW against KRW";
  EXPECT_NEAR(entry.edge_bps, (140'700'000.0 * 0.9995 / (140'000'000.0 * 1.0004) - 1.0) * 1e4,
              1e-9);
  EXPECT_FALSE(entry.has_leg(bn));
  EXPECT_EQ(entry.leg(up).side, Side::sell);
  EXPECT_EQ(entry.leg(bt).side, Side::buy);
  EXPECT_EQ(entry.leg(bt).quantity, d("0.01"));
  EXPECT_EQ(entry.leg(bt).limit_price, d("140070000"));  // 140,000,000 plus 5 bps
  EXPECT_GE(strategy.risk().refusals(RefusalReason::fx_missing), 1u)
      << "Upbit against Binance has no rate";
  const ExecReport filled = test::fill(entry, params.pairs[1].fees, 1.0, {up, bt});
  strategy.on_report(filled, at(2 * kSecond), sink);
  ASSERT_EQ(strategy.positions().size(), 1u);
  EXPECT_EQ(strategy.positions()[0].pair, (VenuePair{up, bt}));
  EXPECT_EQ(strategy.positions()[0].state, PositionState::open);
  sink.clear();

  // Upbit falls to Bithumb's level: the mark is 1,407,000 - 703.5 (Upbit's sell and fee)
  // - 1,400,000 - 560 (Bithumb's buy and fee) - 1,400,700 (buying back at 140,000,000 with
  // 5 bps) + 1,399,340.04 (selling at 139,990,000 less 4 bps) = 4,376.54 KRW, 31.1 bps: over
  // the 15 bps take-profit.
  feed(up, "139900000", "140000000", 3 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent exit = sink.intents[0];
  EXPECT_EQ(exit.exit_reason, ExitReason::take_profit);
  EXPECT_EQ(exit.leg(up).side, Side::buy);
  EXPECT_EQ(exit.leg(bt).side, Side::sell);
  EXPECT_FALSE(exit.has_leg(bn));
  strategy.on_report(test::fill(exit, params.pairs[1].fees, 1.0, {up, bt}), at(4 * kSecond), sink);
  EXPECT_EQ(strategy.positions().size(), 0u);
  const StrategyStats& s = strategy.stats();
  EXPECT_NEAR(s.realized_krw(), 4376.54, 1e-6);
  EXPECT_EQ(s.pairs[1].entries, 1u);
  EXPECT_EQ(s.pairs[1].closed, 1u);
  EXPECT_EQ(s.pairs[1].wins, 1u);
  EXPECT_NEAR(s.pairs[1].realized_krw(), 4376.54, 1e-6);
  EXPECT_EQ(s.pairs[0].entries, 0u);
  EXPECT_EQ(s.pairs[0].closed, 0u);
}

// The intent ring's slots are reused: a slot last written for Bithumb <-> Binance, as an exit
// with independent legs, is claimed for an Upbit <-> Bithumb entry. The entry is written whole:
// its legs are Upbit's and Bithumb's only (finding no free leg for Upbit once aborted the engine
// after 256 intents on three venues), and it is a pair, not two independent legs.
TEST(StrategyPairs, AnIntentSlotLastUsedByAnotherPairIsWrittenWhole) {
  const Venue up = venues::kUpbit, bt = venues::kBithumb, bn = venues::kBinance;
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{up, "KRW-BTC"}, {bt, "KRW-BTC"}, {bn, "BTCUSDT"}}), Errc::ok);
  ASSERT_EQ(symbols.add_fx(up, "KRW-USDT"), Errc::ok);
  StrategyParams params;
  params.pairs[0] = {{up, bt}, {5.0, 4.0}, false};
  params.pair_count = 1;
  params.baseline = BaselineMode::zero;
  params.risk.check_balances = false;
  params.symbols[0].trade_qty = d("0.01");
  params.symbols[0].max_position_qty = d("0.05");
  Strategy strategy(symbols, params);
  test::RecordingSink sink;
  OrderIntent& left = sink.slot();
  left.legs[0].venue = bt;
  left.legs[0].quantity = d("7");
  left.legs[1].venue = bn;
  left.legs[1].quantity = d("7");
  left.independent_legs = true;
  left.exit_reason = ExitReason::stop_loss;
  const auto at = [](std::int64_t t) { return Now{t, test::kWall + t}; };
  strategy.on_book(book(bt, 0, {{"139990000", "1"}}, {{"140000000", "1"}}, kSecond), at(kSecond),
                   sink);
  strategy.on_book(book(up, 0, {{"140700000", "1"}}, {{"140800000", "1"}}, kSecond), at(kSecond),
                   sink);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent& entry = sink.intents[0];
  EXPECT_EQ(entry.kind, IntentKind::entry);
  EXPECT_FALSE(entry.independent_legs);
  EXPECT_EQ(entry.exit_reason, ExitReason::none);
  EXPECT_FALSE(entry.has_leg(bn));
  EXPECT_EQ(entry.leg(up).side, Side::sell);
  EXPECT_EQ(entry.leg(up).quantity, d("0.01"));
  EXPECT_EQ(entry.leg(bt).side, Side::buy);
  EXPECT_EQ(entry.leg(bt).quantity, d("0.01"));
}

// Limits of a venue and of a pair: Upbit <-> Bithumb (KRW against KRW) holds BTC worth
// 1,407,000 KRW (0.01 at Upbit's 140,700,000). An ETH entry of 503,000 KRW (0.1 at 5,030,000)
// would take the pair, and each of its venues, to 1,910,000 KRW: over a 1,600,000 limit on
// Bithumb it is refused as venue_exposure, over the same limit on the pair as pair_exposure, and
// with neither limit it goes out.
TEST(StrategyLimits, AVenueOrAPairAtItsLimitRefusesTheNextEntry) {
  const Venue up = venues::kUpbit, bt = venues::kBithumb;
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{up, "KRW-BTC"}, {bt, "KRW-BTC"}}), Errc::ok);
  ASSERT_EQ(symbols.add("ETH", {{up, "KRW-ETH"}, {bt, "KRW-ETH"}}), Errc::ok);
  struct Outcome {
    std::size_t eth_intents = 0;
    std::uint64_t venue_refusals = 0, pair_refusals = 0;
  };
  const auto run = [&](std::int64_t venue_limit, std::int64_t pair_limit) {
    StrategyParams params;
    params.pairs[0] = {{up, bt}, {5.0, 4.0}, false, pair_limit};
    params.pair_count = 1;
    params.baseline = BaselineMode::zero;
    params.risk.check_balances = false;
    params.risk.max_venue_exposure_krw[index(bt)] = venue_limit;
    params.symbols[0].trade_qty = d("0.01");
    params.symbols[1].trade_qty = d("0.1");
    Strategy strategy(symbols, params);
    test::RecordingSink sink;
    const auto at = [](std::int64_t t) { return Now{t, test::kWall + t}; };
    const auto feed = [&](Venue v, InstrumentId i, const char* bid, const char* ask,
                          std::int64_t t) {
      strategy.on_book(book(v, i, {{bid, "1"}}, {{ask, "1"}}, t), at(t), sink);
    };
    Outcome out;
    feed(bt, 0, "139990000", "140000000", kSecond);
    feed(up, 0, "140700000", "140800000", kSecond);
    EXPECT_EQ(sink.intents.size(), 1u) << "the BTC entry";
    if (sink.intents.size() != 1) return out;
    strategy.on_report(test::fill(sink.intents[0], params.pairs[0].fees, 1.0, {up, bt}),
                       at(2 * kSecond), sink);
    sink.clear();
    feed(bt, 1, "4999000", "5000000", 3 * kSecond);
    feed(up, 1, "5030000", "5031000", 3 * kSecond);
    out.eth_intents = sink.intents.size();
    out.venue_refusals = strategy.risk().refusals(RefusalReason::venue_exposure);
    out.pair_refusals = strategy.risk().refusals(RefusalReason::pair_exposure);
    return out;
  };
  for (const auto& [venue_limit, pair_limit] :
       {std::pair<std::int64_t, std::int64_t>{0, 0}, {0, 2'000'000}, {2'000'000, 0}}) {
    const Outcome o = run(venue_limit, pair_limit);
    EXPECT_EQ(o.eth_intents, 1u) << "limits " << venue_limit << ", " << pair_limit;
    EXPECT_EQ(o.venue_refusals + o.pair_refusals, 0u);
  }
  const Outcome venue = run(1'600'000, 0);
  EXPECT_EQ(venue.eth_intents, 0u);
  EXPECT_GE(venue.venue_refusals, 1u);
  EXPECT_EQ(venue.pair_refusals, 0u);
  const Outcome pair = run(0, 1'600'000);
  EXPECT_EQ(pair.eth_intents, 0u);
  EXPECT_EQ(pair.venue_refusals, 0u);
  EXPECT_GE(pair.pair_refusals, 1u);
}

// Every exit scenario's entry fills at the levels: Upbit sells 0.01 at 140,700,000 (+1,407,000
// KRW, fee 703.5 KRW), Binance buys 0.01 at 100,000 (-1,000 USDT, fee 1 USDT).

TEST_F(StrategyTest, TakeProfitFiresOnTheFirstUpdateAtOrOverTheTarget) {
  start();
  enter(kSecond);
  // Marks at Upbit ask X and Binance bid 99,990 (both after exit fees):
  //   KRW 1,407,000 - 703.5 - 0.01 X 1.0005, USDT -1,001 + 999.9 x 0.999 = -2.0999 (x 1,400).
  upbit("140100000", "140200000", 2 * kSecond);  // +655.64 KRW = 4.66 bps
  upbit("140000000", "140100000", 3 * kSecond);  // +1,656.14 KRW = 11.77 bps
  EXPECT_TRUE(sink.intents.empty());
  upbit("139900000", "140000000", 4 * kSecond);  // +2,656.64 KRW = 18.88 bps >= 15
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent exit = sink.intents[0];
  EXPECT_EQ(exit.kind, IntentKind::exit);
  EXPECT_EQ(exit.exit_reason, ExitReason::take_profit);
  EXPECT_NEAR(exit.edge_bps, 2656.64 / 1'407'000.0 * 1e4, 1e-6);
  EXPECT_EQ(exit.leg(venues::kUpbit).side, Side::buy);
  EXPECT_EQ(exit.leg(venues::kUpbit).quantity, d("0.01"));
  EXPECT_EQ(exit.leg(venues::kBinance).side, Side::sell);
  EXPECT_EQ(exit.leg(venues::kBinance).quantity, d("0.01"));
  EXPECT_EQ(strategy->positions()[0].state, PositionState::closing);

  // Exit fills: Upbit buys at 140,000,000 (-1,400,000 KRW, fee 700), Binance sells at 99,990
  // (+999.9 USDT, fee 0.9999). KRW 5,596.5; USDT -2.0999 x 1,400 = -2,939.86. Total 2,656.64.
  report(test::fill(exit, params.pairs[0].fees), 5 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  const StrategyStats& s = strategy->stats();
  EXPECT_NEAR(s.realized_krw(), 2656.64, 1e-6);
  EXPECT_EQ(std::llround(s.realized_krw()), 2657);
  EXPECT_EQ(s.closed, 1u);
  EXPECT_EQ(s.wins, 1u);
  EXPECT_DOUBLE_EQ(s.winrate(), 1.0);
  EXPECT_EQ(s.exits_by(ExitReason::take_profit), 1u);
  EXPECT_EQ(s.symbols[kBtc].closed, 1u);
  ASSERT_FALSE(sink.changes.empty());
  const PositionChange& closed = sink.changes.back();
  EXPECT_EQ(closed.to, PositionState::closed);
  EXPECT_EQ(closed.exit_reason, ExitReason::take_profit);
  EXPECT_EQ(closed.fx_rate, d("1400"));
  EXPECT_NEAR(closed.realized_krw.to_double(), 2656.64, 1e-6);
  EXPECT_NEAR(strategy->risk().daily_realized_krw(), 2656.64, 1e-6);
  // Inventory moved by the fills: Upbit sold then bought 0.01 BTC, paid fees and the spread.
  EXPECT_EQ(strategy->inventory().base(venues::kUpbit, kBtc), d("1"));
  EXPECT_NEAR(strategy->inventory().quote(venues::kUpbit), 1'000'000'000.0 + 5'596.5, 1e-6);
  EXPECT_NEAR(strategy->inventory().quote(venues::kBinance), 1'000'000.0 - 2.0999, 1e-9);
}

// `xarb ctl set`: a threshold changed while a position is open applies to its next decision;
// what is not safe to change live (clips, pairs, sizes) is ignored.
TEST_F(StrategyTest, LiveParamsChangeTheThresholdsOfOpenPositions) {
  start();
  enter(kSecond);
  upbit("140000000", "140100000", 2 * kSecond);  // +11.77 bps: under the 15 bps target
  EXPECT_TRUE(sink.intents.empty());
  StrategyParams p = params;
  p.take_profit_bps = 10.0;
  p.clips = 7;
  p.risk.max_notional_krw = 123;
  strategy->apply_live_params(p);
  EXPECT_EQ(strategy->params().clips, params.clips);
  EXPECT_EQ(strategy->params().risk.max_notional_krw, 123);
  upbit("140000000", "140100000", 3 * kSecond);  // the same +11.77 bps: over 10 now
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::take_profit);
}

// `xarb ctl flatten SYMBOL`: the symbol's positions close on the next decision, others stay.
TEST_F(StrategyTest, FlattenClosesOnlyTheNamedSymbolsPositions) {
  start();
  enter(kSecond);
  strategy->close_instrument(static_cast<InstrumentId>(kBtc + 1), ExitReason::flatten);
  upbit("140600000", "140700000", 2 * kSecond);
  EXPECT_TRUE(sink.intents.empty()) << "another symbol's flatten leaves BTC open";
  strategy->close_instrument(kBtc, ExitReason::flatten);
  upbit("140600000", "140700000", 3 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].kind, IntentKind::exit);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::flatten);
}

TEST_F(StrategyTest, StopLossFiresOnTheFirstUpdateAtOrUnderTheLimit) {
  start();
  enter(kSecond);
  upbit("140700000", "140800000", 2 * kSecond);  // -5,347.36 KRW = -38.0 bps
  EXPECT_TRUE(sink.intents.empty());
  upbit("140800000", "140900000", 3 * kSecond);  // -6,347.86 KRW = -45.1 bps <= -40
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::stop_loss);
  // Upbit buys back at 140,900,000 (-1,409,000 KRW, fee 704.5): KRW -3,408; USDT -2,939.86.
  report(test::fill(sink.intents[0], params.pairs[0].fees), 4 * kSecond);
  EXPECT_NEAR(strategy->stats().realized_krw(), -6347.86, 1e-6);
  EXPECT_EQ(std::llround(strategy->stats().realized_krw()), -6348);
  EXPECT_EQ(strategy->stats().wins, 0u);
  EXPECT_EQ(strategy->stats().exits_by(ExitReason::stop_loss), 1u);
}

TEST_F(StrategyTest, TimeoutFiresOnTheFirstUpdateAfterTheHoldingTime) {
  params.take_profit_bps = 1000.0;
  params.stop_loss_bps = 1000.0;
  params.timeout_ns = 60 * kSecond;
  start();
  enter(kSecond);
  binance("99990", "100000", kSecond + 60 * kSecond - 1);
  upbit("140700000", "140800000", kSecond + 60 * kSecond - 1);
  EXPECT_TRUE(sink.intents.empty());
  binance("99990", "100000", kSecond + 60 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::timeout);
  // Upbit buys back at 140,800,000 (-1,408,000 KRW, fee 704): KRW -2,407.5; USDT -2,939.86.
  report(test::fill(sink.intents[0], params.pairs[0].fees), 62 * kSecond);
  EXPECT_NEAR(strategy->stats().realized_krw(), -5347.36, 1e-6);
  EXPECT_EQ(std::llround(strategy->stats().realized_krw()), -5347);
}

TEST_F(StrategyTest, TimeoutAlsoFiresFromTheTimerWhenBooksAreQuiet) {
  params.take_profit_bps = 1000.0;
  params.stop_loss_bps = 1000.0;
  params.timeout_ns = 5 * kSecond;
  params.exit_max_book_age_ns = 60 * kSecond;
  start();
  enter(kSecond);
  strategy->on_timer(at(5 * kSecond), sink);
  EXPECT_TRUE(sink.intents.empty());
  strategy->on_timer(at(6 * kSecond), sink);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::timeout);
}

TEST_F(StrategyTest, ReversalFiresWhenTheEntryEdgeFallsBackThroughTheLevel) {
  params.take_profit_bps = 1000.0;
  params.stop_loss_bps = 1000.0;
  params.reversal_bps = 0.0;
  start();
  enter(kSecond);
  // Kimchi edge at Upbit bid B: B x 0.9995 / (140,000,000 x 1.001) - 1.
  upbit("140300000", "140400000", 2 * kSecond);  // +6.41 bps: still above 0
  EXPECT_TRUE(sink.intents.empty());
  upbit("140200000", "140300000", 3 * kSecond);  // -0.72 bps: crossed back
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::reversal);
  // Upbit buys back at 140,300,000 (-1,403,000 KRW, fee 701.5): KRW 2,595; USDT -2,939.86.
  report(test::fill(sink.intents[0], params.pairs[0].fees), 4 * kSecond);
  EXPECT_NEAR(strategy->stats().realized_krw(), -344.86, 1e-6);
  EXPECT_EQ(std::llround(strategy->stats().realized_krw()), -345);
}

TEST_F(StrategyTest, ReverseDirectionBuysUpbitAndSellsBinance) {
  params.kimchi = false;
  start();
  binance("100000", "100010", kSecond);  // 140,000,000 KRW at the bid
  upbit("139200000", "139300000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent& in = sink.intents[0];
  EXPECT_EQ(in.direction, Direction::reverse);
  EXPECT_EQ(in.leg(venues::kUpbit).side, Side::buy);
  EXPECT_EQ(in.leg(venues::kBinance).side, Side::sell);
  // 1,400 x 100,000 x 0.999 / (139,300,000 x 1.0005) - 1.
  EXPECT_NEAR(in.edge_bps, (140'000'000.0 * 0.999 / (139'300'000.0 * 1.0005) - 1.0) * 1e4, 1e-9);
}

TEST_F(StrategyTest, FxFromTheUpbitBookGatesEntriesWhenMissingOrStale) {
  params.fx.fixed = false;
  params.fx.side = FxSide::mid;
  params.fx.max_age_ns = 5 * kSecond;
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  EXPECT_TRUE(sink.intents.empty());
  // No FX yet: no premium at all, so nothing to refuse.
  const InstrumentId fx = symbols.fx();
  strategy->on_book(book(venues::kUpbit, fx, {{"1399.5", "1000"}}, {{"1400.5", "1000"}}, kSecond),
                    at(kSecond), sink);
  ASSERT_EQ(sink.intents.size(), 1u) << "the FX update re-evaluates the symbol";
  EXPECT_EQ(sink.intents[0].fx_rate, d("1400"));  // the mid
  // An unusable KRW-USDT book clears the rate: exits of the open position wait for it.
  report(test::fill(sink.intents[0], params.pairs[0].fees), kSecond);
  ASSERT_EQ(strategy->positions()[0].state, PositionState::open);
  strategy->on_book(book(venues::kUpbit, fx, {{"1401", "1000"}}, {{"1400", "1000"}}, 2 * kSecond),
                    at(2 * kSecond), sink);  // crossed
  const std::uint64_t deferred = strategy->stats().exit_deferred;
  upbit("130000000", "130100000", 2 * kSecond);  // would be a take-profit
  EXPECT_GT(strategy->stats().exit_deferred, deferred);
  EXPECT_EQ(sink.intents.size(), 1u);
}

// Exec says Upbit cannot be reached (a status-only report): no entry is decided while it lasts,
// exits are; once exec says it answers again, entries resume.
TEST_F(StrategyTest, AVenueExecCannotReachGetsNoEntriesUntilItRecovers) {
  start();
  ExecReport status;
  status.status_only = true;
  status.venue_healthy[index(venues::kUpbit)] = false;
  report(status, kSecond);
  EXPECT_EQ(strategy->stats().unknown_reports, 0u) << "a status is not a stray report";
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  EXPECT_TRUE(sink.intents.empty());
  EXPECT_GE(strategy->risk().refusals(RefusalReason::venue_unhealthy), 1u);
  status.venue_healthy[index(venues::kUpbit)] = true;
  report(status, 2 * kSecond);
  upbit("140700000", "140800000", 2 * kSecond);
  EXPECT_EQ(sink.intents.size(), 1u);
}

TEST_F(StrategyTest, StaleFxRefusesEntries) {
  params.fx.fixed = false;
  params.fx.max_age_ns = 5 * kSecond;
  start();
  strategy->on_book(
      book(venues::kUpbit, symbols.fx(), {{"1399.5", "1000"}}, {{"1400.5", "1000"}}, kSecond),
      at(kSecond), sink);
  binance("99990", "100000", 7 * kSecond);
  upbit("140700000", "140800000", 7 * kSecond);
  EXPECT_TRUE(sink.intents.empty());
  EXPECT_EQ(strategy->risk().refusals(RefusalReason::fx_stale), 1u);
  ASSERT_EQ(sink.refusals.size(), 1u);
  EXPECT_EQ(sink.refusals[0].reason, RefusalReason::fx_stale);
  strategy->on_book(
      book(venues::kUpbit, symbols.fx(), {{"1399.5", "1000"}}, {{"1400.5", "1000"}}, 7 * kSecond),
      at(7 * kSecond), sink);
  EXPECT_EQ(sink.intents.size(), 1u);
}

TEST_F(StrategyTest, PartialEntryOpensWhatBothLegsHoldAndExitsThatMuch) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const ExecReport r = test::fill(sink.intents[0], params.pairs[0].fees, 0.5);
  ASSERT_EQ(r.outcome, ExecOutcome::partial_hedged);
  report(r, kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::open);
  EXPECT_EQ(strategy->positions()[0].qty(), d("0.005"));
  sink.clear();
  upbit("139900000", "140000000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].leg(venues::kUpbit).quantity, d("0.005"));
  EXPECT_EQ(sink.intents[0].leg(venues::kBinance).quantity, d("0.005"));
  report(test::fill(sink.intents[0], params.pairs[0].fees), 3 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  EXPECT_NEAR(strategy->stats().realized_krw(), 2656.64 / 2, 1e-6);
}

// Binance takes a buy's commission from the base asset: after a kimchi entry of 0.01 BTC the
// Binance leg holds 0.01 less 0.00001. The position is hedged (the difference is the commission,
// not an unfilled leg), it holds net quantities, and its exit closes on each venue what that
// venue holds: Upbit buys back 0.01, Binance sells 0.00999, and neither keeps a remainder.
TEST_F(StrategyTest, ACommissionTakenInTheBaseAssetIsNotHeldAndEachVenueClosesItsOwn) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  ExecReport r = test::fill(sink.intents[0], params.pairs[0].fees);
  ASSERT_EQ(r.leg(venues::kBinance).side, Side::buy);
  r.leg(venues::kBinance).fee = Decimal{};
  r.leg(venues::kBinance).fee_base = d("0.00001");
  report(r, kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  const Position& p = strategy->positions()[0];
  EXPECT_EQ(p.state, PositionState::open) << "a commission is not a hedging failure";
  EXPECT_EQ(p.leg(venues::kBinance).held(), d("0.00999").mantissa());
  EXPECT_EQ(p.leg(venues::kUpbit).held(), d("0.01").mantissa());
  EXPECT_EQ(p.qty(), d("0.00999"));
  EXPECT_EQ(strategy->inventory().base(venues::kBinance, 0),
            Decimal::from_mantissa(d("1").mantissa() + d("0.00999").mantissa()))
      << "the inventory is net of the commission too";
  sink.clear();
  upbit("139900000", "140000000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_FALSE(sink.intents[0].independent_legs);
  EXPECT_EQ(sink.intents[0].leg(venues::kUpbit).quantity, d("0.01"));
  EXPECT_EQ(sink.intents[0].leg(venues::kBinance).quantity, d("0.00999"));
  report(test::fill(sink.intents[0], params.pairs[0].fees), 3 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  EXPECT_EQ(strategy->stats().closed, 1u);
  EXPECT_EQ(strategy->stats().dust_writeoffs, 0u);
}

TEST_F(StrategyTest, FailedExitReturnsToOpenAndRetriesAfterTheDelay) {
  params.exit_retry_ns = kSecond;
  start();
  enter(kSecond);
  upbit("139900000", "140000000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  report(test::reject(sink.intents[0]), 2 * kSecond);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::open);
  upbit("139900000", "140000000", 2 * kSecond + kSecond - 1);
  EXPECT_EQ(sink.intents.size(), 1u);
  upbit("139900000", "140000000", 3 * kSecond);
  ASSERT_EQ(sink.intents.size(), 2u);
  EXPECT_EQ(sink.intents[1].exit_reason, ExitReason::take_profit);
  report(test::fill(sink.intents[1], params.pairs[0].fees), 3 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  EXPECT_NEAR(strategy->stats().realized_krw(), 2656.64, 1e-6);
}

TEST_F(StrategyTest, PartialExitKeepsTheRestOpenAndClosesItNext) {
  start();
  enter(kSecond);
  upbit("139900000", "140000000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  report(test::fill(sink.intents[0], params.pairs[0].fees, 0.4), 2 * kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::open);
  EXPECT_EQ(strategy->positions()[0].qty(), d("0.006"));
  upbit("139900000", "140000000", 3 * kSecond);
  ASSERT_EQ(sink.intents.size(), 2u);
  EXPECT_EQ(sink.intents[1].leg(venues::kUpbit).quantity, d("0.006"));
  report(test::fill(sink.intents[1], params.pairs[0].fees), 3 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  // The same trades as a full exit, in two pieces.
  EXPECT_NEAR(strategy->stats().realized_krw(), 2656.64, 1e-6);
  EXPECT_EQ(strategy->stats().closed, 1u);
}

TEST_F(StrategyTest, RolledBackEntryClosesWithTheUnwindCostRealised) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  ExecReport r = test::fill(sink.intents[0], params.pairs[0].fees);
  // Binance filled nothing; the Upbit sale was bought back at 140,800,000.
  r.leg(venues::kBinance) = test::reject(sink.intents[0]).leg(venues::kBinance);
  LegReport& u = r.leg(venues::kUpbit);
  u.unwound_qty = d("0.01");
  u.unwind_avg_price = d("140800000");
  u.fee = d("1407.5");  // 703.5 + 704
  r.outcome = ExecOutcome::rolled_back;
  report(r, kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  // 1,407,000 - 1,408,000 - 1,407.5
  EXPECT_NEAR(strategy->stats().realized_krw(), -2407.5, 1e-9);
  EXPECT_EQ(strategy->stats().closed, 1u);
  EXPECT_EQ(strategy->risk().consecutive_failures(), 1);
  EXPECT_EQ(strategy->inventory().base(venues::kUpbit, kBtc), d("1"));
}

TEST_F(StrategyTest, UnhedgedEntryIsBrokenReducesAndItsResidualIsClosed) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  ExecReport r = test::fill(sink.intents[0], params.pairs[0].fees);
  r.leg(venues::kBinance) = test::reject(sink.intents[0]).leg(venues::kBinance);
  r.outcome = ExecOutcome::failed;
  report(r, kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::broken);
  EXPECT_EQ(strategy->risk().mode(), RiskMode::reducing);
  EXPECT_EQ(strategy->stats().broken, 1u);
  sink.clear();
  // The next usable update closes what Upbit holds, and only that.
  upbit("140700000", "140800000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent& exit = sink.intents[0];
  EXPECT_EQ(exit.exit_reason, ExitReason::unhedged);
  EXPECT_EQ(exit.leg(venues::kUpbit).side, Side::buy);
  EXPECT_EQ(exit.leg(venues::kUpbit).quantity, d("0.01"));
  EXPECT_TRUE(exit.leg(venues::kBinance).quantity.is_zero());
  report(test::fill(exit, params.pairs[0].fees), 2 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  // 1,407,000 - 703.5 - 1,408,000 - 704
  EXPECT_NEAR(strategy->stats().realized_krw(), -2407.5, 1e-9);
  EXPECT_EQ(strategy->stats().exits_by(ExitReason::unhedged), 1u);
  // REDUCING stays until an operator clears it.
  EXPECT_EQ(strategy->risk().mode(), RiskMode::reducing);
}

// An order whose outcome the venue never told (its queries ran out) is not "unfilled": the
// position stays BROKEN with entries stopped, and nothing is traded on it (closing the known leg
// could unhedge the unknown one) until a restart asks the venue. Before, it closed as flat and
// was forgotten.
TEST_F(StrategyTest, AnOrderLeftUnknownKeepsItsPositionBrokenAndUntouched) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  ExecReport r = test::reject(sink.intents[0]);
  r.leg(venues::kUpbit).state =
      OrderState::unknown;  // both show nothing filled; Upbit's is unknown
  report(r, kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u) << "not closed as flat";
  EXPECT_EQ(strategy->positions()[0].state, PositionState::broken);
  EXPECT_EQ(strategy->risk().mode(), RiskMode::reducing);
  sink.clear();
  upbit("140700000", "140800000", 2 * kSecond);
  binance("99990", "100000", 2 * kSecond);
  EXPECT_TRUE(sink.intents.empty()) << "no exit and no entry while it is unknown";
}

// Exec keeps asking about an order it left unknown; when the venue settles it, a settling report
// carries that order's fills. The position is then what it holds: here the Upbit sell did fill,
// so it is hedged and OPEN again, exited on its own terms.
TEST_F(StrategyTest, AnUnknownOrderSettledFilledLaterMakesItsPositionOpenAgain) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent entry = sink.intents[0];
  ExecReport r = test::fill(entry, params.pairs[0].fees);
  r.leg(venues::kUpbit) = LegReport{};
  r.leg(venues::kUpbit).venue = venues::kUpbit;
  r.leg(venues::kUpbit).side = Side::sell;
  r.leg(venues::kUpbit).instrument = entry.leg(venues::kUpbit).instrument;
  r.leg(venues::kUpbit).state = OrderState::unknown;
  r.outcome = ExecOutcome::failed;
  report(r, kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::broken);
  EXPECT_TRUE(strategy->positions()[0].outcome_unknown());
  sink.clear();
  upbit("140700000", "140800000", 2 * kSecond);
  EXPECT_TRUE(sink.intents.empty()) << "held while unknown";

  ExecReport settled;
  settled.intent_id = entry.intent_id;
  settled.position_id = entry.position_id;
  settled.settles = true;
  settled.leg(venues::kUpbit) =
      test::fill_leg(entry.leg(venues::kUpbit), params.pairs[0].fees.first_bps);
  settled.leg(venues::kBinance).venue = venues::kBinance;
  report(settled, 3 * kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  const signal::Position& p = strategy->positions()[0];
  EXPECT_FALSE(p.outcome_unknown());
  EXPECT_TRUE(p.hedged());
  EXPECT_EQ(p.state, PositionState::open);
  EXPECT_EQ(p.leg(venues::kUpbit).held(), d("0.01").mantissa()) << "what it sold to enter";
  EXPECT_EQ(strategy->stats().settled, 1u);
  EXPECT_EQ(strategy->risk().mode(), RiskMode::reducing) << "REDUCING stays for the operator";
}

// Settled with nothing traded: the Binance leg is unhedged, the position stays BROKEN and its
// exit, held while the order was unknown, now sells what Binance holds.
TEST_F(StrategyTest, AnUnknownOrderSettledUnfilledLetsTheBrokenPositionClose) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent entry = sink.intents[0];
  ExecReport r = test::fill(entry, params.pairs[0].fees);
  r.leg(venues::kUpbit) = LegReport{};
  r.leg(venues::kUpbit).venue = venues::kUpbit;
  r.leg(venues::kUpbit).instrument = entry.leg(venues::kUpbit).instrument;
  r.leg(venues::kUpbit).state = OrderState::unknown;
  r.outcome = ExecOutcome::failed;
  report(r, kSecond);
  ExecReport settled;
  settled.intent_id = entry.intent_id;
  settled.position_id = entry.position_id;
  settled.settles = true;
  settled.leg(venues::kUpbit).venue = venues::kUpbit;
  settled.leg(venues::kUpbit).state = OrderState::canceled;
  settled.leg(venues::kBinance).venue = venues::kBinance;
  report(settled, 2 * kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::broken);
  EXPECT_FALSE(strategy->positions()[0].outcome_unknown());
  sink.clear();
  upbit("140700000", "140800000", 3 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::unhedged);
  EXPECT_TRUE(sink.intents[0].independent_legs);
  EXPECT_EQ(sink.intents[0].leg(venues::kBinance).side, Side::sell);
  EXPECT_TRUE(sink.intents[0].leg(venues::kUpbit).quantity.is_zero());
}

// A BROKEN position holding +0.01 BTC on Binance and -0.00001 on Upbit: the Upbit residual is under
// Upbit's minimum, so exec reports that leg below_minimum and closes the Binance one. Only the
// Upbit residual is written off; the Binance 0.01 is sold, never written off with it.
TEST_F(StrategyTest, AResidualUnderOneVenuesMinimumIsWrittenOffForThatVenueOnly) {
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  ExecReport r = test::fill(sink.intents[0], params.pairs[0].fees);
  r.leg(venues::kUpbit) =
      test::fill_leg(sink.intents[0].leg(venues::kUpbit), params.pairs[0].fees.first_bps,
                     0.001);  // 0.00001 of 0.01 sold on Upbit
  r.outcome = ExecOutcome::failed;
  report(r, kSecond);
  ASSERT_EQ(strategy->positions().size(), 1u);
  ASSERT_EQ(strategy->positions()[0].state, PositionState::broken);
  sink.clear();
  upbit("140700000", "140800000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  OrderIntent exit = sink.intents[0];
  EXPECT_EQ(exit.leg(venues::kBinance).quantity, d("0.01"));
  EXPECT_EQ(exit.leg(venues::kUpbit).quantity, d("0.00001"));
  // Exec: the Upbit leg is below Upbit's minimum, the Binance one fills.
  ExecReport done = test::fill(exit, params.pairs[0].fees);
  done.leg(venues::kUpbit) = LegReport{};
  done.leg(venues::kUpbit).venue = venues::kUpbit;
  done.leg(venues::kUpbit).status = LegStatus::below_minimum;
  done.outcome = ExecOutcome::partial_hedged;
  report(done, 2 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u) << "closed: Binance sold, the Upbit dust written off";
  EXPECT_EQ(strategy->stats().dust_writeoffs, 1u);

}

// A pair exit refused as under the minimum may be under one venue's minimum only (Binance's 10 USDT
// against Upbit's 5,000 KRW): the legs are then closed independently, and only the leg exec reports
// below_minimum is written off. The split exit goes out on the next update: exec's refusal reached
// no venue, there is nothing to wait for.
TEST_F(StrategyTest, APairExitTooSmallForOneVenueClosesTheOtherLeg) {
  start();
  const std::uint64_t id = enter(kSecond);
  ASSERT_EQ(strategy->positions()[0].id, id);
  strategy->close_all(ExitReason::flatten);
  binance("99990", "100000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  const OrderIntent pair = sink.intents[0];
  EXPECT_FALSE(pair.independent_legs);
  ExecReport refused = test::reject(pair);
  refused.outcome = ExecOutcome::blocked;
  refused.refusal = RefusalReason::min_notional;
  report(refused, 2 * kSecond);
  EXPECT_EQ(strategy->stats().dust_writeoffs, 0u) << "nothing written off yet";
  ASSERT_EQ(strategy->positions().size(), 1u);
  sink.clear();
  binance("99990", "100000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u) << "asked again leg by leg, at once";
  const OrderIntent split = sink.intents[0];
  EXPECT_TRUE(split.independent_legs);
  ExecReport done = test::fill(split, params.pairs[0].fees);
  done.leg(venues::kBinance) = LegReport{};
  done.leg(venues::kBinance).venue = venues::kBinance;
  done.leg(venues::kBinance).status = LegStatus::below_minimum;
  done.outcome = ExecOutcome::partial_hedged;
  report(done, 2 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u) << "Upbit closed, the Binance residual written off";
  EXPECT_EQ(strategy->stats().dust_writeoffs, 1u);
}

TEST_F(StrategyTest, ReportsForUnknownIntentsAreCountedAndIgnored) {
  start();
  const std::uint64_t id = enter(kSecond);
  ExecReport stray;
  stray.intent_id = 999;
  stray.position_id = id;
  stray.kind = IntentKind::exit;
  stray.leg(venues::kUpbit).filled_qty = d("0.01");
  report(stray, 2 * kSecond);
  EXPECT_EQ(strategy->stats().unknown_reports, 1u);
  EXPECT_EQ(strategy->positions()[0].qty(), d("0.01"));
}

TEST_F(StrategyTest, FullRingDropsTheDecisionAndAnExitIsDecidedAgain) {
  start();
  sink.full = true;
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  EXPECT_EQ(strategy->stats().dropped, 1u);
  EXPECT_EQ(strategy->positions().size(), 0u) << "no position without an intent";
  sink.full = false;
  upbit("140700000", "140800000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  report(test::fill(sink.intents[0], params.pairs[0].fees), 2 * kSecond);
  sink.clear();
  sink.full = true;
  upbit("139900000", "140000000", 3 * kSecond);
  EXPECT_EQ(strategy->stats().dropped, 2u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::open);
  sink.full = false;
  upbit("139900000", "140000000", 4 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::take_profit);
}

TEST_F(StrategyTest, ClipsSplitTheEntryIntoOnePositionSentOneAtATime) {
  params.clips = 2;
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].leg(venues::kUpbit).quantity, d("0.005"));
  upbit("140700000", "140800000", kSecond + 1);
  EXPECT_EQ(sink.intents.size(), 1u) << "the next clip waits for the first one's report";
  report(test::fill(sink.intents[0], params.pairs[0].fees), kSecond + 2);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::opening);
  upbit("140700000", "140800000", kSecond + 3);
  ASSERT_EQ(sink.intents.size(), 2u);
  EXPECT_EQ(sink.intents[1].position_id, sink.intents[0].position_id);
  report(test::fill(sink.intents[1], params.pairs[0].fees), kSecond + 4);
  ASSERT_EQ(strategy->positions().size(), 1u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::open);
  EXPECT_EQ(strategy->positions()[0].qty(), d("0.01"));
  EXPECT_EQ(strategy->stats().entries, 2u);
}

TEST_F(StrategyTest, ClipsStopWhenTheSignalGoes) {
  params.clips = 2;
  start();
  binance("99990", "100000", kSecond);
  upbit("140700000", "140800000", kSecond);
  report(test::fill(sink.intents[0], params.pairs[0].fees), kSecond);
  upbit("140300000", "140400000", 2 * kSecond);  // edge +6 bps: below the threshold
  ASSERT_EQ(strategy->positions().size(), 1u);
  EXPECT_EQ(strategy->positions()[0].state, PositionState::open);
  EXPECT_EQ(strategy->positions()[0].qty(), d("0.005"));
  EXPECT_EQ(sink.intents.size(), 1u);
}

TEST_F(StrategyTest, EwmaBaselineEntersOnlyOnAMoveAwayFromThePersistentLevel) {
  params.baseline = BaselineMode::ewma;
  params.ewma_half_life_ns = 10 * kSecond;
  start();
  // A steady 35 bps edge for a minute: the baseline learns it, nothing enters.
  for (int k = 1; k <= 60; ++k) {
    binance("99990", "100000", k * kSecond);
    upbit("140700000", "140800000", k * kSecond);
  }
  EXPECT_TRUE(sink.intents.empty());
  const double steady = (140'700'000.0 * 0.9995 / (140'000'000.0 * 1.001) - 1.0) * 1e4;
  EXPECT_NEAR(strategy->baseline_bps(kBtc, Direction::kimchi), steady, 1e-9);
  // A jump to about 71 bps is about 36 bps over the baseline.
  upbit("141200000", "141300000", 61 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].direction, Direction::kimchi);
}

TEST_F(StrategyTest, CloseAllExitsEveryPositionWithTheGivenReason) {
  params.take_profit_bps = 1000.0;
  params.stop_loss_bps = 1000.0;
  start();
  enter(kSecond);
  strategy->close_all(ExitReason::flatten);
  upbit("140700000", "140800000", 2 * kSecond);
  ASSERT_EQ(sink.intents.size(), 1u);
  EXPECT_EQ(sink.intents[0].exit_reason, ExitReason::flatten);
  // A partial fill leaves the rest under the same request.
  report(test::fill(sink.intents[0], params.pairs[0].fees, 0.5), 2 * kSecond);
  upbit("140700000", "140800000", 3 * kSecond);
  ASSERT_EQ(sink.intents.size(), 2u);
  EXPECT_EQ(sink.intents[1].exit_reason, ExitReason::flatten);
  EXPECT_EQ(sink.intents[1].leg(venues::kUpbit).quantity, d("0.005"));
  report(test::fill(sink.intents[1], params.pairs[0].fees), 3 * kSecond);
  EXPECT_EQ(strategy->positions().size(), 0u);
  EXPECT_EQ(strategy->stats().exits_by(ExitReason::flatten), 2u);
}

TEST_F(StrategyTest, UnrealizedPnlIsTheLastMarkOfOpenPositions) {
  params.take_profit_bps = 1000.0;
  params.stop_loss_bps = 1000.0;
  start();
  enter(kSecond);
  upbit("140000000", "140100000", 2 * kSecond);
  EXPECT_NEAR(strategy->unrealized_krw(), 1656.14, 1e-6);
}

}  // namespace
}  // namespace xarb::signal
