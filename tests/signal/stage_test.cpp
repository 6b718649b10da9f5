// The signal stage over real rings: snapshots in, intents out in place, reports back, events to
// the ops queue; and the same across three threads (feed, signal, exec), run under TSan too.

#include <atomic>
#include <cmath>
#include <cstdint>
#include <thread>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/core/clock.hpp>
#include <xarb/signal/stage.hpp>
#include <xarb/venues/registry.hpp>

#include "signal_harness.hpp"

namespace xarb::signal {
namespace {

using test::book;
using test::d;

StrategyParams scenario_params() {
  StrategyParams p;
  p.pairs[0].pair = venues::kUpbitBinance;
  p.pairs[0].fees = {5.0, 10.0};
  p.fx.fixed = true;
  p.fx.fixed_rate = d("1400");
  p.baseline = BaselineMode::zero;
  p.risk.check_balances = false;
  p.symbols[0].trade_qty = d("0.01");
  return p;
}

TEST(SignalStage, SnapshotsInIntentsOutReportsBackEventsToOps) {
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  Strategy strategy(symbols, scenario_params());
  SpscRing<BookSnapshot> binance(16), upbit(16);
  SpscRing<ExecReport> reports(16);
  SpscRing<OrderIntent> intents(16);
  OpsQueue ops(256, 2);
  OpsQueue::Producer producer(ops);
  std::array<SpscRing<BookSnapshot>*, 2> rings = {&binance, &upbit};
  SignalStage stage(strategy, rings, reports, intents, &ops, &producer);

  const std::int64_t t = clock::mono_ns();
  ASSERT_TRUE(binance.try_push(book(venues::kBinance, 0, {{"99990", "1"}}, {{"100000", "1"}}, t)));
  ASSERT_TRUE(
      upbit.try_push(book(venues::kUpbit, 0, {{"140700000", "1"}}, {{"140800000", "1"}}, t)));
  EXPECT_EQ(stage.poll(), 2u);
  OrderIntent in;
  ASSERT_TRUE(intents.try_pop(in));
  EXPECT_EQ(in.kind, IntentKind::entry);
  EXPECT_GT(in.stamps.get(Stage::decided), 0);

  std::vector<OpsEvent> events(16);
  std::size_t n = ops.try_pop_bulk(events.data(), events.size());
  ASSERT_EQ(n, 2u);  // position created (OPENING), the intent
  EXPECT_TRUE(std::holds_alternative<PositionChange>(events[0].body));
  ASSERT_TRUE(std::holds_alternative<OrderIntent>(events[1].body));
  EXPECT_EQ(std::get<OrderIntent>(events[1].body).intent_id, in.intent_id);

  ASSERT_TRUE(reports.try_push(test::fill(in, {5.0, 10.0})));
  stage.poll();
  ASSERT_EQ(strategy.positions().size(), 1u);
  EXPECT_EQ(strategy.positions()[0].state, PositionState::open);
  n = ops.try_pop_bulk(events.data(), events.size());
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(std::get<PositionChange>(events[0].body).to, PositionState::open);
  EXPECT_EQ(stage.stats().books, 2u);
  EXPECT_EQ(stage.stats().reports, 1u);
}

TEST(SignalStage, BudgetBoundsTheWorkOfOnePoll) {
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  Strategy strategy(symbols, scenario_params());
  SpscRing<BookSnapshot> binance(64);
  SpscRing<ExecReport> reports(4);
  SpscRing<OrderIntent> intents(4);
  std::array<SpscRing<BookSnapshot>*, 1> rings = {&binance};
  SignalStage stage(strategy, rings, reports, intents, nullptr, nullptr);
  for (int k = 0; k < 40; ++k) {
    ASSERT_TRUE(binance.try_push(book(venues::kBinance, 0, {{"99990", "1"}}, {{"100000", "1"}})));
  }
  EXPECT_EQ(stage.poll(16), 16u);
  EXPECT_EQ(stage.poll(16), 16u);
  EXPECT_EQ(stage.poll(16), 8u);
  EXPECT_EQ(stage.poll(16), 0u);
}

TEST(SignalStage, FullIntentRingDropsTheDecision) {
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  Strategy strategy(symbols, scenario_params());
  SpscRing<BookSnapshot> books(16);
  SpscRing<ExecReport> reports(4);
  SpscRing<OrderIntent> intents(1);
  ASSERT_TRUE(intents.try_push(OrderIntent{}));  // exec is behind
  std::array<SpscRing<BookSnapshot>*, 1> rings = {&books};
  SignalStage stage(strategy, rings, reports, intents, nullptr, nullptr);
  const std::int64_t t = clock::mono_ns();
  ASSERT_TRUE(books.try_push(book(venues::kBinance, 0, {{"99990", "1"}}, {{"100000", "1"}}, t)));
  ASSERT_TRUE(
      books.try_push(book(venues::kUpbit, 0, {{"140700000", "1"}}, {{"140800000", "1"}}, t)));
  stage.poll();
  EXPECT_EQ(strategy.stats().dropped, 1u);
  EXPECT_EQ(strategy.positions().size(), 0u);
}

// Three threads as in production: a feed thread publishing both venues' books for a premium that
// swings +-70 bps, the signal stage, and an exec thread filling every intent. At the end every
// position is flattened and closed.
TEST(SignalStage, ThreeThreadsEndFlat) {
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  StrategyParams p = scenario_params();
  p.cooldown_ns = 0;
  p.max_book_age_ns = 5'000'000'000;  // sanitizers and a loaded machine slow the threads down
  p.exit_max_book_age_ns = 60'000'000'000;
  Strategy strategy(symbols, p);
  SpscRing<BookSnapshot> books(1024);
  SpscRing<ExecReport> reports(256);
  SpscRing<OrderIntent> intents(256);
  std::array<SpscRing<BookSnapshot>*, 1> rings = {&books};
  SignalStage stage(strategy, rings, reports, intents, nullptr, nullptr);

  constexpr int kUpdates = 20'000;
  std::atomic<bool> feed_done{false};
  std::atomic<bool> stop_exec{false};
  std::atomic<std::uint64_t> filled{0};
  std::thread feed([&] {
    for (int k = 0; k < kUpdates; ++k) {
      const double premium = 70.0 * std::sin(k * 2.0 * 3.141592653589793 / 2000.0);
      const auto upbit_bid = static_cast<std::int64_t>(140'000'000.0 * (1.0 + premium * 1e-4) / 1000.0) * 1000;
      BookSnapshot* slot = nullptr;
      while ((slot = books.try_claim()) == nullptr) std::this_thread::yield();
      *slot = BookSnapshot{};
      slot->instrument = 0;
      slot->bid_count = slot->ask_count = 1;
      if (k % 2 == 0) {
        slot->venue = venues::kBinance;
        slot->bids[0] = {Decimal::from_mantissa(9'999'000'000'000), Decimal::from_mantissa(100'000'000)};
        slot->asks[0] = {Decimal::from_mantissa(10'000'000'000'000), Decimal::from_mantissa(100'000'000)};
      } else {
        slot->venue = venues::kUpbit;
        slot->bids[0] = {Decimal::from_mantissa(upbit_bid * Decimal::kOne), Decimal::from_mantissa(100'000'000)};
        slot->asks[0] = {Decimal::from_mantissa((upbit_bid + 100'000) * Decimal::kOne),
                         Decimal::from_mantissa(100'000'000)};
      }
      slot->stamps.set(Stage::received, clock::mono_ns());
      books.publish();
    }
    feed_done.store(true, std::memory_order_release);
  });
  std::thread exec([&] {
    OrderIntent in;
    while (!stop_exec.load(std::memory_order_acquire)) {
      if (!intents.try_pop(in)) {
        std::this_thread::yield();
        continue;
      }
      const ExecReport r = test::fill(in, {5.0, 10.0});
      while (!reports.try_push(r)) std::this_thread::yield();
      filled.fetch_add(1, std::memory_order_relaxed);
    }
  });
  while (!feed_done.load(std::memory_order_acquire) || books.size_approx() > 0) {
    if (stage.poll() == 0) std::this_thread::yield();
  }
  // Flatten and wait for every position to close.
  strategy.close_all(ExitReason::flatten);
  const std::int64_t deadline = clock::mono_ns() + 30'000'000'000;
  while (strategy.open_positions() > 0 && clock::mono_ns() < deadline) {
    stage.poll();
    std::this_thread::yield();
  }
  stop_exec.store(true, std::memory_order_release);
  exec.join();
  feed.join();

  const StrategyStats& s = strategy.stats();
  EXPECT_EQ(stage.stats().books, static_cast<std::uint64_t>(kUpdates));
  // How many entries there are depends on how fast exec answers (one open pair at a time).
  EXPECT_GT(s.entries, 0u);
  EXPECT_EQ(strategy.open_positions(), 0u);
  EXPECT_EQ(s.closed, s.entries);
  EXPECT_EQ(filled.load(), s.entries + s.exit_intents);
  EXPECT_EQ(s.unknown_reports, 0u);
}

}  // namespace
}  // namespace xarb::signal
