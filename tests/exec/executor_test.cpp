// Two-leg execution against paper venues: every outcome path of docs/design.md, each asserting the
// final holdings and balances on both venues, not only the statuses.

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/exec/executor.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/exec/paper_venue.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::exec {
namespace {

constexpr std::int64_t kMs = 1'000'000;

using ::xarb::test::d;

class ExecutorTest : public ::testing::Test {
 protected:
  ExecutorTest() {
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
    std::string error;
    EXPECT_EQ(load_binance_rules(test::read_file(test::data_dir() /
                                                 "binance/exchangeInfo_btcusdt_ethusdt_2021-10-12.jsonl"),
                                 symbols, rules, error),
              1u);
    load_upbit_default_rules(symbols, rules);
    params.run_id = 1'700'000'000'000;
  }

  void start(PaperParams bp = {}, PaperParams up = {}) {
    bp.latency_ns = up.latency_ns = kMs;
    bp.fee_bps = 10.0;
    up.fee_bps = 5.0;
    binance = std::make_unique<PaperVenue>(venues::kBinance, rules, bp);
    upbit = std::make_unique<PaperVenue>(venues::kUpbit, rules, up);
    binance->set_base(kBtc, d("1"));
    binance->set_quote(d("10000"));
    upbit->set_base(kBtc, d("1"));
    upbit->set_quote(d("100000000"));
    exec = std::make_unique<TwoLegExecutor>(
        std::array<VenueClient*, kMaxVenues>{binance.get(), upbit.get()}, params);
  }

  // A kimchi entry of `qty`: sell on Upbit against `upbit_bids`, buy on Binance against
  // `binance_asks`, limits 5 bps past the worst level.
  OrderIntent kimchi(const char* qty, std::vector<Level> upbit_bids, std::vector<Level> binance_asks,
                     IntentKind kind = IntentKind::entry) {
    OrderIntent in;
    in.intent_id = ++next_intent;
    in.position_id = 1;
    in.kind = kind;
    in.deadline_ns = now + 2'000 * kMs;
    LegIntent& u = in.leg(venues::kUpbit);
    u.venue = venues::kUpbit;
    u.side = Side::sell;
    u.instrument = kBtc;
    u.quantity = d(qty);
    u.limit_price = d("140629650");
    u.level_count = static_cast<std::uint8_t>(upbit_bids.size());
    std::copy(upbit_bids.begin(), upbit_bids.end(), u.levels.begin());
    LegIntent& b = in.leg(venues::kBinance);
    b.venue = venues::kBinance;
    b.side = Side::buy;
    b.instrument = kBtc;
    b.quantity = d(qty);
    b.limit_price = d("100050");
    b.level_count = static_cast<std::uint8_t>(binance_asks.size());
    std::copy(binance_asks.begin(), binance_asks.end(), b.levels.begin());
    return in;
  }
  OrderIntent kimchi(const char* qty) {
    return kimchi(qty, {{d("140700000"), d("1")}}, {{d("100000"), d("1")}});
  }

  // Submits and polls in 1 ms steps until the report comes (at most `limit_ms`).
  ExecReport run(const OrderIntent& in, std::int64_t limit_ms = 5'000) {
    EXPECT_TRUE(exec->submit(in, now));
    ExecReport r;
    for (std::int64_t i = 0; i < limit_ms; ++i) {
      exec->poll(now);
      if (exec->next_report(r)) return r;
      now += kMs;
    }
    ADD_FAILURE() << "no report within " << limit_ms << " ms";
    return r;
  }

  static constexpr InstrumentId kBtc = 0;
  SymbolMap symbols;
  RulesTable rules;
  ExecParams params;
  std::unique_ptr<PaperVenue> binance, upbit;
  std::unique_ptr<TwoLegExecutor> exec;
  std::int64_t now = 1'000 * kMs;
  std::uint64_t next_intent = 0;
};

// The executor knows venues only as the intent's legs: any two venue ids with a client trade as
// Upbit and Binance do, and a leg on a venue without a client is refused before anything is sent.
TEST_F(ExecutorTest, AnyTwoVenuesTradeAsAPair) {
  constexpr Venue kKrw{3}, kUsdt{2};
  rules.at(kKrw, kBtc) = rules.at(venues::kUpbit, kBtc);
  rules.at(kUsdt, kBtc) = rules.at(venues::kBinance, kBtc);
  PaperParams pp;
  pp.latency_ns = kMs;
  PaperVenue usdt(kUsdt, rules, pp), krw(kKrw, rules, pp);
  usdt.set_base(kBtc, d("1"));
  usdt.set_quote(d("10000"));
  krw.set_base(kBtc, d("1"));
  krw.set_quote(d("100000000"));
  std::array<VenueClient*, kMaxVenues> clients{};
  clients[index(kUsdt)] = &usdt;
  clients[index(kKrw)] = &krw;
  exec = std::make_unique<TwoLegExecutor>(clients, params);

  OrderIntent in = kimchi("0.01");
  for (LegIntent& l : in.legs) l.venue = l.venue == venues::kUpbit ? kKrw : kUsdt;
  const ExecReport r = run(in);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(kKrw).side, Side::sell);
  EXPECT_EQ(r.leg(kKrw).filled_qty, d("0.01"));
  EXPECT_EQ(r.leg(kUsdt).side, Side::buy);
  EXPECT_EQ(r.leg(kUsdt).filled_qty, d("0.01"));
  EXPECT_NE(r.leg(kKrw).client_order_id, r.leg(kUsdt).client_order_id);
  EXPECT_EQ(krw.free_base(kBtc), d("0.99"));
  EXPECT_EQ(usdt.free_base(kBtc), d("1.01"));

  // A leg on a venue without a client: blocked, nothing sent, nothing moved.
  OrderIntent other = kimchi("0.01");
  for (LegIntent& l : other.legs) l.venue = l.venue == venues::kUpbit ? venues::kUpbit : kUsdt;
  const ExecReport blocked = run(other);
  EXPECT_EQ(blocked.outcome, ExecOutcome::blocked);
  EXPECT_EQ(blocked.refusal, RefusalReason::venue_unhealthy);
  EXPECT_EQ(usdt.free_base(kBtc), d("1.01"));
  EXPECT_EQ(exec->stats().orders, 2u);
}

TEST_F(ExecutorTest, BothLegsFilled) {
  start();
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  const LegReport& u = r.leg(venues::kUpbit);
  const LegReport& b = r.leg(venues::kBinance);
  EXPECT_EQ(u.status, LegStatus::filled);
  EXPECT_EQ(u.filled_qty, d("0.01"));
  EXPECT_EQ(u.avg_price, d("140700000"));
  EXPECT_EQ(u.fee, d("703.5"));
  EXPECT_EQ(b.status, LegStatus::filled);
  EXPECT_EQ(b.avg_price, d("100000"));
  // Binance takes a buy's commission from the base asset bought: 10 bps of 0.01 BTC.
  EXPECT_TRUE(b.fee.is_zero());
  EXPECT_EQ(b.fee_base, d("0.00001"));
  EXPECT_EQ(u.client_order_id.view(), "xloyw3v28-1-U0");
  EXPECT_EQ(b.client_order_id.view(), "xloyw3v28-1-B0");
  EXPECT_GT(r.stamps.get(Stage::order_written), 0);
  // Balances: Upbit sold 0.01 BTC for 1,407,000 KRW less 703.5; Binance paid 1,000 USDT for
  // 0.01 BTC of which it kept 0.00001.
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99"));
  EXPECT_EQ(upbit->free_quote(), d("101406296.5"));
  EXPECT_EQ(binance->free_base(kBtc), d("1.00999"));
  EXPECT_EQ(binance->free_quote(), d("9000"));
}

// An exit closes on each venue what that venue holds: after a Binance commission in the base
// asset, Upbit buys back 0.01 and Binance sells 0.00999. The legs differ by design: nothing is
// retried or unwound to "match" them.
TEST_F(ExecutorTest, AnExitsLegsMayDifferByTheCommissionOneVenueTookInTheBase) {
  start();
  OrderIntent in = kimchi("0.01", {{d("140700000"), d("1")}}, {{d("100000"), d("1")}},
                          IntentKind::exit);
  // Reverse sides: an exit of a kimchi position buys on Upbit and sells on Binance.
  in.leg(venues::kUpbit).side = Side::buy;
  in.leg(venues::kUpbit).limit_price = d("140770350");
  in.leg(venues::kBinance).side = Side::sell;
  in.leg(venues::kBinance).limit_price = d("99950");
  in.leg(venues::kBinance).quantity = d("0.00999");
  in.leg(venues::kBinance).levels[0] = {d("100000"), d("1")};
  in.leg(venues::kUpbit).levels[0] = {d("140700000"), d("1")};
  const ExecReport r = run(in);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.01"));
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.00999"));
  EXPECT_TRUE(r.leg(venues::kUpbit).unwound_qty.is_zero());
  EXPECT_TRUE(r.leg(venues::kBinance).unwound_qty.is_zero());
  EXPECT_EQ(exec->stats().retries + exec->stats().unwinds, 0u);
}

TEST_F(ExecutorTest, PricesAndQuantitiesAreRoundedPerVenueBeforeSending) {
  start();
  OrderIntent in = kimchi("0.01234567");  // Binance's step is 0.00001
  in.leg(venues::kUpbit).limit_price = d("140629650");
  in.leg(venues::kBinance).limit_price = d("100050.019");
  const ExecReport r = run(in);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  // Both legs trade the coarser step's quantity, so that the pair stays hedged.
  EXPECT_EQ(r.leg(venues::kBinance).requested_qty, d("0.01234"));
  EXPECT_EQ(r.leg(venues::kUpbit).requested_qty, d("0.01234"));
}

TEST_F(ExecutorTest, ChecksBlockBothLegsBeforeAnythingIsSent) {
  start();
  upbit->set_base(kBtc, d("0.005"));  // kimchi sells 0.01 on Upbit
  ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::blocked);
  EXPECT_EQ(r.refusal, RefusalReason::balance);
  EXPECT_EQ(r.leg(venues::kBinance).status, LegStatus::not_sent);
  EXPECT_EQ(binance->orders() + upbit->orders(), 0u);

  upbit->set_base(kBtc, d("1"));
  r = run(kimchi("0.00005"));  // 5 USDT on Binance: under its 10 USDT minimum
  EXPECT_EQ(r.refusal, RefusalReason::min_notional);

  binance->set_quote(d("500"));  // a 1,000 USDT buy
  r = run(kimchi("0.01"));
  EXPECT_EQ(r.refusal, RefusalReason::balance);
  EXPECT_EQ(binance->orders() + upbit->orders(), 0u);
  EXPECT_EQ(exec->stats().blocked[static_cast<std::size_t>(RefusalReason::balance)], 2u);
}

TEST_F(ExecutorTest, EntriesKeepARateBudgetReserveForHedges) {
  PaperParams tight;
  tight.orders_per_window = 2;
  params.hedge_reserve_ratio = 0.9;  // ceil(1.8): both orders of the window kept for hedges
  start(tight);
  ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.refusal, RefusalReason::rate_limit);
  r = run(kimchi("0.01", {{d("140700000"), d("1")}}, {{d("100000"), d("1")}}, IntentKind::exit));
  EXPECT_EQ(r.outcome, ExecOutcome::success) << "an exit may use the reserve";
}

TEST_F(ExecutorTest, RejectedLegWithoutRetryIsUnwound) {
  params.max_retries = 0;
  // The Upbit order is refused by the venue (its balance changed after the check).
  start();
  upbit->inject(VenueOp::place, PaperFault::reject);
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::rolled_back);
  const LegReport& u = r.leg(venues::kUpbit);
  const LegReport& b = r.leg(venues::kBinance);
  EXPECT_EQ(u.status, LegStatus::failed);
  EXPECT_EQ(u.error.name.view(), "insufficient_funds_ask");
  EXPECT_EQ(b.filled_qty, d("0.01"));
  EXPECT_EQ(b.unwound_qty, d("0.01"));
  // Sold back at the unwind cap: 100,000 less 30 bps = 99,700.
  EXPECT_EQ(b.unwind_avg_price, d("99700"));
  EXPECT_EQ(b.fee, d("0.997")) << "the unwind's, in USDT; the buy's was taken in BTC";
  EXPECT_EQ(b.fee_base, d("0.00001"));
  // Binance holds what it started with less the buy's commission; the unwind cost 3 USDT plus
  // its fee.
  EXPECT_EQ(binance->free_base(kBtc), d("0.99999"));
  EXPECT_EQ(binance->free_quote(), d("9996.003"));
  EXPECT_EQ(upbit->free_base(kBtc), d("1"));
  EXPECT_EQ(exec->stats().unwinds, 1u);
}

TEST_F(ExecutorTest, RejectedLegIsRetriedAndCompleted) {
  start();
  upbit->inject(VenueOp::place, PaperFault::reject);
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::partial_hedged);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.01"));
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.01"));
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99"));
  EXPECT_EQ(binance->free_base(kBtc), d("1.00999"));
  EXPECT_EQ(exec->stats().retries, 1u);
}

TEST_F(ExecutorTest, PartialFillCompletedByARetryAtACappedWorsePrice) {
  start();
  // 0.006 at 140,700,000, then 140,600,000: under the 140,630,000 limit, over the retry's cap.
  const ExecReport r =
      run(kimchi("0.01", {{d("140700000"), d("0.006")}, {d("140600000"), d("1")}},
                 {{d("100000"), d("1")}}));
  EXPECT_EQ(r.outcome, ExecOutcome::partial_hedged);
  const LegReport& u = r.leg(venues::kUpbit);
  EXPECT_EQ(u.filled_qty, d("0.01"));
  // 0.006 at 140,700,000, then the retry (cap 140,490,000) takes 0.004: 0.004 at 140,700,000 is
  // the first level again in the paper book, the rest not needed.
  EXPECT_EQ(u.status, LegStatus::filled);
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99"));
  EXPECT_EQ(binance->free_base(kBtc), d("1.00999"));
}

TEST_F(ExecutorTest, PartialFillThenUnwoundWhenTheRetryFindsNothing) {
  params.max_retries = 1;
  start();
  OrderIntent in = kimchi("0.01", {{d("140700000"), d("0.006")}}, {{d("100000"), d("1")}});
  ASSERT_TRUE(exec->submit(in, now));
  upbit->inject(VenueOp::place, PaperFault::no_fill);  // the retry meets an empty book
  ExecReport r;
  for (int i = 0; i < 5'000 && !exec->next_report(r); ++i) {
    exec->poll(now);
    now += kMs;
  }
  EXPECT_EQ(r.outcome, ExecOutcome::rolled_back);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.006"));
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.01"));
  EXPECT_EQ(r.leg(venues::kBinance).unwound_qty, d("0.004"));
  // Hedged at what Upbit sold.
  EXPECT_EQ(upbit->free_base(kBtc), d("0.994"));
  EXPECT_EQ(binance->free_base(kBtc), d("1.00599"));
}

TEST_F(ExecutorTest, LostAnswerIsResolvedByQueryingTheClientId) {
  start();
  upbit->inject(VenueOp::place, PaperFault::lost_answer);
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.01")) << "found filled by the query";
  EXPECT_EQ(exec->stats().queries, 1u);
  EXPECT_EQ(exec->stats().retries, 0u) << "never re-sent: the first order had filled";
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99"));
  EXPECT_GE(r.leg(venues::kUpbit).latency_ns, 100 * kMs) << "includes the query";
}

// Closing a BROKEN position's residuals (independent legs): a leg under its venue's minimum is
// reported below_minimum and the other leg still goes out.
TEST_F(ExecutorTest, AnIndependentLegUnderItsMinimumDoesNotStopTheOther) {
  start();
  OrderIntent in = kimchi("0.01", {{d("140700000"), d("1")}}, {{d("100000"), d("1")}},
                          IntentKind::exit);
  in.independent_legs = true;
  in.leg(venues::kUpbit).quantity = d("0.00001");  // 1,407 KRW: under Upbit's 5,000 KRW minimum
  const ExecReport r = run(in);
  EXPECT_NE(r.outcome, ExecOutcome::blocked);
  EXPECT_EQ(r.leg(venues::kUpbit).status, LegStatus::below_minimum);
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.01"));
  EXPECT_EQ(upbit->orders(), 0u);
  EXPECT_EQ(binance->orders(), 1u);
  // Both legs too small: refused as before.
  in = kimchi("0.00001", {{d("140700000"), d("1")}}, {{d("100000"), d("1")}}, IntentKind::exit);
  in.independent_legs = true;
  in.leg(venues::kBinance).quantity = d("0.00002");
  EXPECT_EQ(run(in).refusal, RefusalReason::min_notional);
}

// An independent leg rounded down to its venue's step leaves what the step cut off: no order on
// that venue can trade it, so the report counts it as dust and the dust ledger keeps it.
TEST_F(ExecutorTest, WhatAnIndependentLegsStepCutsOffIsDust) {
  start();
  OrderIntent in =
      kimchi("0.01", {{d("140700000"), d("1")}}, {{d("100000"), d("1")}}, IntentKind::exit);
  in.independent_legs = true;
  in.leg(venues::kBinance).quantity = d("0.0100099");  // Binance's step is 0.00001
  const ExecReport r = run(in);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.01"));
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.01"));
  EXPECT_EQ(r.dust_qty, d("0.0000099")) << "Binance's 0.0000099: under its step";
  EXPECT_EQ(exec->dust().get(venues::kBinance, kBtc), d("0.0000099"));
  // A leg that did not fill all it could trade leaves no dust: what is left is a position.
  in = kimchi("0.01", {{d("140700000"), d("1")}}, {{d("100000"), d("0.005")}}, IntentKind::exit);
  in.independent_legs = true;
  in.leg(venues::kBinance).quantity = d("0.0100099");
  EXPECT_TRUE(run(in).dust_qty.is_zero());
}

// Binance documents that an order can still execute after the client gave up on its answer. A "not
// found" while the venue could still take the request is not proof that nothing traded: the
// executor asks again until the grace period has passed, and then finds the fill.
TEST_F(ExecutorTest, NotFoundRightAfterALostAnswerIsNotFinal) {
  PaperParams up;
  up.late_accept_ns = 300 * kMs;   // taken 300 ms after it was written
  up.not_found_grace_ns = 1'000 * kMs;
  start({}, up);
  upbit->inject(VenueOp::place, PaperFault::late_accept);
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.01")) << "found once the venue had taken it";
  EXPECT_TRUE(r.leg(venues::kBinance).unwound_qty.is_zero()) << "nothing unwound";
  EXPECT_GE(exec->stats().queries, 2u) << "the first query found nothing";
  EXPECT_EQ(upbit->orders(), 1u) << "never re-sent";
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99"));
  EXPECT_EQ(binance->free_base(kBtc), d("1.00999"));
}

// An order still unknown after its queries is not given up: the job reports it unknown (its
// position BROKEN), and the order stays watched, asked at the slower settle pace, until the venue
// says what happened. Here the venue took it 10 s late: a settling report brings its fill.
TEST_F(ExecutorTest, AnOrderLeftUnknownIsWatchedUntilItsVenueSettlesIt) {
  params.max_queries = 2;
  params.settle_interval_ns = 1'000 * kMs;
  params.max_settle_interval_ns = 4'000 * kMs;
  PaperParams up;
  up.late_accept_ns = 10'000 * kMs;
  up.not_found_grace_ns = 60'000 * kMs;
  start({}, up);
  upbit->inject(VenueOp::place, PaperFault::late_accept);
  const OrderIntent in = kimchi("0.01");
  const ExecReport r = run(in);
  EXPECT_EQ(r.outcome, ExecOutcome::failed);
  EXPECT_EQ(r.leg(venues::kUpbit).state, OrderState::unknown);
  EXPECT_TRUE(r.leg(venues::kUpbit).filled_qty.is_zero());
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.01"));
  EXPECT_TRUE(r.leg(venues::kBinance).unwound_qty.is_zero()) << "nothing unwound on a guess";
  EXPECT_EQ(exec->unsettled(), 1u);
  EXPECT_EQ(upbit->orders(), 1u) << "never re-sent";

  ExecReport late;
  bool got = false;
  for (int i = 0; i < 30'000 && !got; ++i) {
    now += kMs;
    exec->poll(now);
    got = exec->next_report(late);
  }
  ASSERT_TRUE(got) << "settled within 30 s";
  EXPECT_TRUE(late.settles);
  EXPECT_EQ(late.intent_id, in.intent_id);
  EXPECT_EQ(late.position_id, in.position_id);
  const LegReport& u = late.leg(venues::kUpbit);
  EXPECT_EQ(u.client_order_id, r.leg(venues::kUpbit).client_order_id);
  EXPECT_EQ(u.filled_qty, d("0.01"));
  EXPECT_EQ(u.avg_price, d("140700000"));
  EXPECT_EQ(u.fee, d("703.5"));
  EXPECT_EQ(u.state, OrderState::filled);
  EXPECT_TRUE(late.leg(venues::kBinance).filled_qty.is_zero()) << "only the settled order";
  EXPECT_TRUE(late.leg(venues::kBinance).client_order_id.empty());
  EXPECT_EQ(exec->unsettled(), 0u);
  EXPECT_EQ(exec->stats().settled, 1u);
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99")) << "what the settling report says the venue did";
  // The slow pace: 10 s late at 1, 2, 4, 4... s apart is a handful of queries, not thousands.
  EXPECT_LT(exec->stats().queries, 12u);
}

// Watched past the venue's grace period, "not found" settles it as never placed.
TEST_F(ExecutorTest, AWatchedOrderNotFoundAfterTheGraceSettlesAsNothingTraded) {
  params.max_queries = 1;
  params.settle_interval_ns = 500 * kMs;
  PaperParams up;
  up.not_found_grace_ns = 2'000 * kMs;
  start({}, up);
  upbit->inject(VenueOp::place, PaperFault::server_error);  // nothing executed
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.leg(venues::kUpbit).state, OrderState::unknown);
  EXPECT_EQ(exec->unsettled(), 1u);
  ExecReport late;
  bool got = false;
  for (int i = 0; i < 10'000 && !got; ++i) {
    now += kMs;
    exec->poll(now);
    got = exec->next_report(late);
  }
  ASSERT_TRUE(got);
  EXPECT_TRUE(late.settles);
  EXPECT_TRUE(late.leg(venues::kUpbit).filled_qty.is_zero());
  EXPECT_EQ(late.leg(venues::kUpbit).state, OrderState::rejected);
  EXPECT_EQ(exec->unsettled(), 0u);
  EXPECT_EQ(upbit->free_base(kBtc), d("1"));
}

// Past the grace period "not found" is final: the request never became an order.
TEST_F(ExecutorTest, NotFoundAfterTheGracePeriodIsFinal) {
  PaperParams up;
  up.not_found_grace_ns = 200 * kMs;
  start({}, up);
  upbit->inject(VenueOp::place, PaperFault::server_error);  // nothing executed
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::partial_hedged) << "completed by a retry";
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99"));
  EXPECT_EQ(binance->free_base(kBtc), d("1.00999"));
  EXPECT_GE(r.leg(venues::kUpbit).latency_ns, 200 * kMs) << "waited out the grace period";
}

// A refused query (429) says nothing about the order: it filled, and the next query finds it.
// (Found by the engine's fault test: the fill was dropped and the leg unwound what it had.)
TEST_F(ExecutorTest, RefusedQueryIsAskedAgainAndTheFillCounted) {
  start();
  upbit->inject(VenueOp::place, PaperFault::lost_answer);
  upbit->inject(VenueOp::query, PaperFault::rate_limit);
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.01"));
  EXPECT_TRUE(r.leg(venues::kUpbit).unwound_qty.is_zero());
  EXPECT_EQ(exec->stats().queries, 2u) << "the refused query, then the one that found it";
  EXPECT_EQ(exec->stats().retries, 0u);
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99")) << "the venue sold exactly once";
}

// A job slot is reused: an intent refused on its first venue must not report what the slot's
// previous intent traded on the second. (Found by the engine's fault test as a fill counted
// twice in the journal.)
TEST_F(ExecutorTest, RefusedIntentReportsNothingFromTheSlotsPreviousJob) {
  start();
  const ExecReport first = run(kimchi("0.01"));
  ASSERT_EQ(first.outcome, ExecOutcome::success);
  // Binance is checked first: a quantity under its minimum is refused there.
  const ExecReport second = run(kimchi("0.000001"));
  ASSERT_EQ(second.outcome, ExecOutcome::blocked);
  for (const Venue v : {venues::kBinance, venues::kUpbit}) {
    EXPECT_TRUE(second.leg(v).filled_qty.is_zero()) << to_string(v);
    EXPECT_TRUE(second.leg(v).client_order_id.empty()) << to_string(v);
    EXPECT_EQ(second.leg(v).status, LegStatus::not_sent) << to_string(v);
  }
}

TEST_F(ExecutorTest, ServerErrorBeforeTheOrderExistedIsFoundUnfilledThenRetried) {
  start();
  upbit->inject(VenueOp::place, PaperFault::server_error);
  const ExecReport r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::partial_hedged);
  EXPECT_EQ(exec->stats().queries, 1u);
  EXPECT_EQ(upbit->orders(), 2u);
  EXPECT_EQ(upbit->free_base(kBtc), d("0.99"));
  EXPECT_EQ(binance->free_base(kBtc), d("1.00999"));
}

TEST_F(ExecutorTest, TooManyRequestsIsHonouredUntilRetryAfter) {
  start();
  binance->inject(VenueOp::place, PaperFault::rate_limit);
  ExecReport r = run(kimchi("0.01"));
  // Binance answered 429; nothing more goes there: Upbit's sale is bought back instead.
  EXPECT_EQ(r.outcome, ExecOutcome::rolled_back);
  EXPECT_EQ(r.leg(venues::kBinance).error.http_status, 429);
  EXPECT_EQ(binance->orders(), 1u);
  EXPECT_EQ(upbit->free_base(kBtc), d("1"));
  // Within Retry-After (10 s): the next intent is blocked before sending.
  r = run(kimchi("0.01"));
  EXPECT_EQ(r.refusal, RefusalReason::rate_limit);
  EXPECT_EQ(binance->orders(), 1u);
  now += 10'000 * kMs;
  r = run(kimchi("0.01"));
  EXPECT_EQ(r.outcome, ExecOutcome::success);
}

TEST_F(ExecutorTest, ResidualUnderBothMinimumsGoesToTheDustLedger) {
  start();
  // Upbit can sell 0.00997 of 0.01: 0.00003 BTC is 3 USDT on Binance (minimum 10) and 4,221 KRW
  // on Upbit (minimum 5,000). Neither venue can trade it.
  const ExecReport r =
      run(kimchi("0.01", {{d("140700000"), d("0.00997")}}, {{d("100000"), d("1")}}));
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.dust_qty, d("0.00003"));
  EXPECT_EQ(exec->dust().get(venues::kBinance, kBtc), d("0.00003"));
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.00997"));
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.01"));
}

TEST_F(ExecutorTest, ClientIdsAreUniqueAcrossRunsAndAttempts) {
  std::set<std::string> ids;
  for (std::uint64_t run : {1'700'000'000'000ULL, 1'700'000'000'001ULL}) {
    for (std::uint64_t intent = 1; intent < 200; ++intent) {
      for (const Venue v : {venues::kBinance, venues::kUpbit}) {
        for (int attempt = 0; attempt < 4; ++attempt) {
          const ClientOrderId id = TwoLegExecutor::client_id(run, intent, v, attempt);
          EXPECT_LE(id.view().size(), 36u);
          EXPECT_TRUE(ids.insert(std::string(id.view())).second) << id.view();
        }
      }
    }
  }
}

TEST_F(ExecutorTest, PaperVenueIsDeterministicUnderASeed) {
  const auto fills = [&](std::uint64_t seed) {
    PaperParams p;
    p.partial_probability = 0.5;
    p.slippage_bps = 2.0;
    p.seed = seed;
    start(p, p);
    std::vector<std::string> out;
    for (int i = 0; i < 20; ++i) {
      const ExecReport r = run(kimchi("0.01"));
      out.push_back(std::to_string(static_cast<int>(r.outcome)) + ":" +
                    std::to_string(r.leg(venues::kUpbit).filled_qty.mantissa()) + "@" +
                    std::to_string(r.leg(venues::kUpbit).avg_price.mantissa()) + "/" +
                    std::to_string(r.leg(venues::kBinance).filled_qty.mantissa()) + "@" +
                    std::to_string(r.leg(venues::kBinance).avg_price.mantissa()));
    }
    return out;
  };
  const std::vector<std::string> a = fills(7), b = fills(7), c = fills(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

// The paper venue says a refusal as the venue it stands in for would: Binance by code, Upbit and
// Bithumb by name (Bithumb's own where it differs), each classified as its own error kind. Its
// quirks come from exec's venue registry: a venue with no row would refuse with no words.
TEST(PaperVenue, RefusesInEachVenuesOwnWords) {
  const RulesTable rules;
  constexpr std::int64_t kLater = 1'000'000'000'000;  // past any answer's latency
  struct Want {
    Venue venue;
    int code;
    std::string_view name;
  };
  for (const Want w : {Want{venues::kBinance, -2013, ""}, Want{venues::kUpbit, 0, "order_not_found"},
                       Want{venues::kBithumb, 0, "order_not_found"}}) {
    PaperVenue venue(w.venue, rules, PaperParams{});
    ClientOrderId id;
    id.assign("x1-1-U0");
    ASSERT_TRUE(venue.query(0, id));
    venue.poll(kLater);
    VenueEvent ev;
    ASSERT_TRUE(venue.next_event(ev)) << to_string(w.venue);
    EXPECT_EQ(ev.status.state, OrderState::rejected);
    EXPECT_EQ(ev.status.error.code, w.code) << to_string(w.venue);
    EXPECT_EQ(ev.status.error.name.view(), w.name) << to_string(w.venue);
    EXPECT_EQ(ev.status.error.kind, VenueErrorKind::unknown_order) << to_string(w.venue);

    // A query refused for the rate: the venue's own rate-limit error.
    venue.inject(VenueOp::query, PaperFault::rate_limit);
    ASSERT_TRUE(venue.query(0, id));
    venue.poll(2 * kLater);
    ASSERT_TRUE(venue.next_event(ev));
    EXPECT_EQ(ev.status.error.kind, VenueErrorKind::rate_limited) << to_string(w.venue);
  }
}

}  // namespace
}  // namespace xarb::exec
