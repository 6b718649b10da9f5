// Property tests over random premium paths (fixed seeds): every opened position is closed once
// the premium reverts, no position stays OPEN past its timeout beyond one update, the books of
// positions and inventory agree, and the steady state allocates nothing.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/signal/strategy.hpp>
#include <xarb/venues/registry.hpp>

#include "alloc_counter.hpp"
#include "signal_harness.hpp"

namespace xarb::signal {
namespace {

using test::kSecond;

// splitmix64: the same stream on every platform and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double normal() {  // Box-Muller
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  std::uint64_t s_;
};

// Five levels a side around `mid`, `tick` apart (price mantissas rounded to the tick), `qty` each.
BookSnapshot make_book(Venue v, InstrumentId id, double mid, double tick, double half_spread,
                       std::int64_t qty_m, std::int64_t now) {
  BookSnapshot s;
  s.venue = v;
  s.instrument = id;
  const double bid = std::floor((mid - half_spread) / tick) * tick;
  const double ask = std::max(std::ceil((mid + half_spread) / tick) * tick, bid + tick);
  for (int k = 0; k < 5; ++k) {
    s.bids[s.bid_count++] = {Decimal::from_mantissa(std::llround((bid - k * tick) * 1e8)),
                             Decimal::from_mantissa(qty_m)};
    s.asks[s.ask_count++] = {Decimal::from_mantissa(std::llround((ask + k * tick) * 1e8)),
                             Decimal::from_mantissa(qty_m)};
  }
  s.stamps.set(Stage::received, now);
  return s;
}

struct Market {
  InstrumentId id;
  double binance_mid;
  double binance_tick;
  double upbit_tick;
  double premium_bps = 0.0;  // gross, Upbit over Binance
};

// Answers intents as an exec thread would, with some partial fills, rejections and, rarely, an
// unhedged leg; exits always trade (fully or in part) so that timeouts are testable.
class RandomExec {
 public:
  RandomExec(Rng& rng, Fees fees) : rng_(rng), fees_(fees) {}
  ExecReport answer(const OrderIntent& in) {
    const double u = rng_.uniform();
    if (in.kind == IntentKind::exit) {
      return u < 0.1 ? test::fill(in, fees_, 0.3 + 0.6 * rng_.uniform()) : test::fill(in, fees_);
    }
    if (u < 0.05) return test::reject(in);
    if (u < 0.12) return test::fill(in, fees_, 0.2 + 0.7 * rng_.uniform());
    if (u < 0.125) {
      ExecReport r = test::fill(in, fees_);
      r.leg(venues::kBinance) = test::reject(in).leg(venues::kBinance);
      r.outcome = ExecOutcome::failed;
      return r;
    }
    return test::fill(in, fees_);
  }

 private:
  Rng& rng_;
  Fees fees_;
};

class PropertyTest : public ::testing::Test {
 protected:
  PropertyTest() {
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
    EXPECT_EQ(symbols.add("ETH", {{venues::kUpbit, "KRW-ETH"}, {venues::kBinance, "ETHUSDT"}}),
              Errc::ok);
    EXPECT_EQ(symbols.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
    params.pairs[0].fees = {5.0, 10.0};
    params.fx.side = FxSide::mid;
    params.baseline = BaselineMode::zero;
    params.entry_bps = 30.0;
    params.take_profit_bps = 20.0;
    params.stop_loss_bps = 60.0;
    params.reversal_bps = -25.0;
    params.timeout_ns = 30 * kSecond;
    params.cooldown_ns = 2 * kSecond;
    params.max_open_per_symbol = 2;
    params.max_open_total = 4;
    params.risk.halt_cooldown_ns = 20 * kSecond;
    params.risk.daily_loss_limit_krw = 1'000'000'000;
    params.symbols[0].trade_qty = Decimal::from_mantissa(1'000'000);    // 0.01 BTC
    params.symbols[1].trade_qty = Decimal::from_mantissa(10'000'000);  // 0.1 ETH
  }

  void fund(Strategy& s) {
    for (InstrumentId i : {InstrumentId{0}, InstrumentId{1}}) {
      s.inventory().set_base(venues::kUpbit, i, Decimal::from_mantissa(100 * Decimal::kOne));
      s.inventory().set_base(venues::kBinance, i, Decimal::from_mantissa(100 * Decimal::kOne));
    }
    s.inventory().set_quote(venues::kUpbit, Decimal::from_mantissa(10'000'000'000 * Decimal::kOne));
    s.inventory().set_quote(venues::kBinance, Decimal::from_mantissa(10'000'000 * Decimal::kOne));
  }

  SymbolMap symbols;
  StrategyParams params = [] {
    StrategyParams p;
    p.pairs[0].pair = venues::kUpbitBinance;
    return p;
  }();
};

// One run: `steps` of 100 ms, each moving both markets and the FX rate and updating every book;
// then `calm_steps` with the premium back at zero. Checks the timeout property on every update.
struct RunResult {
  std::uint64_t opened = 0;
  std::uint64_t closed_events = 0;
  std::uint64_t timeout_violations = 0;
  std::uint64_t allocations = 0;
};

RunResult run_path(const SymbolMap& symbols, const StrategyParams& params, Strategy& strategy,
                   std::uint64_t seed, int steps, int calm_steps, bool count_allocations) {
  Rng rng(seed);
  RandomExec exec(rng, params.pairs[0].fees);
  test::RecordingSink sink;
  std::vector<Market> markets = {{0, 60'000.0, 0.01, 1000.0}, {1, 3'000.0, 0.01, 1000.0}};
  double fx = 1400.0;
  RunResult result;
  std::map<std::uint64_t, PositionState> states;
  std::vector<std::uint64_t> due;  // OPEN positions past their timeout before an update
  due.reserve(64);
  std::vector<OrderIntent> pending;
  pending.reserve(64);
  std::uint64_t base_allocations = 0;
  const int warm_up = steps / 4;

  for (int step = 0; step < steps + calm_steps; ++step) {
    if (count_allocations && step == warm_up) base_allocations = ::xarb::test::total_allocations();
    const bool calm = step >= steps;
    const std::int64_t now = (step + 1) * kSecond / 10;
    const Now t{now, now};
    fx *= 1.0 + 0.00002 * rng.normal();
    for (Market& m : markets) {
      m.binance_mid *= 1.0 + 0.0002 * rng.normal();
      if (calm) {
        m.premium_bps *= 0.9;  // reverts to zero
      } else {
        m.premium_bps += -0.004 * m.premium_bps + 1.8 * rng.normal();  // mean-reverting
        if (rng.uniform() < 0.002) m.premium_bps += (rng.uniform() < 0.5 ? -1 : 1) * 90.0;
      }
    }
    const BookSnapshot fx_book =
        make_book(venues::kUpbit, symbols.fx(), fx, 0.5, 0.25, 1'000'000 * Decimal::kOne, now);
    strategy.on_book(fx_book, t, sink);
    for (const Market& m : markets) {
      const double upbit_mid = m.binance_mid * fx * (1.0 + m.premium_bps * 1e-4);
      const BookSnapshot b = make_book(venues::kBinance, m.id, m.binance_mid, m.binance_tick,
                                       m.binance_mid * 0.5e-4, 50 * Decimal::kOne, now);
      const BookSnapshot u = make_book(venues::kUpbit, m.id, upbit_mid, m.upbit_tick,
                                       upbit_mid * 0.5e-4, 50 * Decimal::kOne, now);
      for (const BookSnapshot* snap : {&b, &u}) {
        // Which OPEN positions of this symbol are due for a timeout exit at this update.
        due.clear();
        for (std::size_t k = 0; k < strategy.positions().size(); ++k) {
          const Position& p = strategy.positions()[k];
          if (p.instrument == m.id && p.state == PositionState::open && !p.exit_in_flight &&
              now - p.opened_ns >= params.timeout_ns && now >= p.retry_after_ns) {
            due.push_back(p.id);
          }
        }
        strategy.on_book(*snap, t, sink);
        for (const std::uint64_t id : due) {
          bool closing = false;
          for (std::size_t k = 0; k < strategy.positions().size(); ++k) {
            const Position& p = strategy.positions()[k];
            if (p.id == id) closing = p.state == PositionState::closing;
          }
          if (!closing) ++result.timeout_violations;
        }
      }
    }
    // Exec answers everything sent in this step.
    while (!sink.intents.empty()) {
      pending.assign(sink.intents.begin(), sink.intents.end());
      sink.intents.clear();
      for (const OrderIntent& in : pending) strategy.on_report(exec.answer(in), t, sink);
    }
    if (!count_allocations) {
      for (const PositionChange& c : sink.changes) {
        if (c.to == PositionState::open && c.from == PositionState::opening) ++result.opened;
        if (c.to == PositionState::closed) ++result.closed_events;
        states[c.position_id] = c.to;
      }
    }
    sink.changes.clear();
    sink.refusals.clear();
    // An operator clears REDUCING once the broken position is closed.
    if (strategy.risk().mode() == RiskMode::reducing) {
      bool broken = false;
      for (std::size_t k = 0; k < strategy.positions().size(); ++k) {
        broken = broken || strategy.positions()[k].state == PositionState::broken;
      }
      if (!broken) strategy.risk().set_reducing(false);
    }
  }
  if (count_allocations) result.allocations = ::xarb::test::total_allocations() - base_allocations;
  return result;
}

TEST_F(PropertyTest, EveryOpenedPositionClosesOnceThePremiumReverts) {
  std::uint64_t reversals = 0;
  for (const std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    Strategy strategy(symbols, params);
    fund(strategy);
    // 20,000 steps of 100 ms, then 60 s of calm: longer than the timeout.
    const RunResult r = run_path(symbols, params, strategy, seed, 20'000, 600, false);
    const StrategyStats& s = strategy.stats();
    SCOPED_TRACE(seed);
    EXPECT_GT(s.entries, 50u);
    EXPECT_GT(r.opened, 20u);
    EXPECT_EQ(strategy.positions().size(), 0u) << "every position closed after the reversion";
    EXPECT_EQ(r.timeout_violations, 0u);
    EXPECT_EQ(s.closed + s.unfilled, r.closed_events);
    // Each exit reason occurs on these paths (reversals are rare: over all seeds, below).
    EXPECT_GT(s.exits_by(ExitReason::take_profit), 0u);
    EXPECT_GT(s.exits_by(ExitReason::stop_loss), 0u);
    EXPECT_GT(s.exits_by(ExitReason::timeout), 0u);
    reversals += s.exits_by(ExitReason::reversal);
    // With every position closed, each venue holds what it started with, and the PnL of the
    // positions is exactly the change of the quote balances (USDT at the closing rates).
    for (InstrumentId i : {InstrumentId{0}, InstrumentId{1}}) {
      EXPECT_EQ(strategy.inventory().base(venues::kUpbit, i).mantissa(), 100 * Decimal::kOne);
      EXPECT_EQ(strategy.inventory().base(venues::kBinance, i).mantissa(), 100 * Decimal::kOne);
    }
    EXPECT_EQ(strategy.inventory().free_quote_e16(venues::kUpbit),
              strategy.inventory().quote_e16(venues::kUpbit))
        << "no reservation left behind";
    std::printf(
        "seed %llu: entries %llu opened %llu closed %llu unfilled %llu broken %llu "
        "tp %llu sl %llu timeout %llu reversal %llu winrate %.2f pnl %.0f KRW\n",
        static_cast<unsigned long long>(seed), static_cast<unsigned long long>(s.entries),
        static_cast<unsigned long long>(r.opened), static_cast<unsigned long long>(s.closed),
        static_cast<unsigned long long>(s.unfilled), static_cast<unsigned long long>(s.broken),
        static_cast<unsigned long long>(s.exits_by(ExitReason::take_profit)),
        static_cast<unsigned long long>(s.exits_by(ExitReason::stop_loss)),
        static_cast<unsigned long long>(s.exits_by(ExitReason::timeout)),
        static_cast<unsigned long long>(s.exits_by(ExitReason::reversal)), s.winrate(),
        s.realized_krw());
  }
  EXPECT_GT(reversals, 0u);
}

TEST_F(PropertyTest, OnlyTimeoutsCloseWhenTheOtherExitsAreOff) {
  // Take-profit, stop-loss and reversal out of reach: every position must leave by timeout.
  params.take_profit_bps = 10'000.0;
  params.reversal_bps = -10'000.0;
  params.stop_loss_bps = 10'000.0;
  Strategy strategy(symbols, params);
  fund(strategy);
  const RunResult r = run_path(symbols, params, strategy, 7, 10'000, 0, false);
  EXPECT_EQ(r.timeout_violations, 0u);
  EXPECT_GT(strategy.stats().exits_by(ExitReason::timeout), 10u);
  EXPECT_EQ(strategy.stats().exits_by(ExitReason::timeout) +
                strategy.stats().exits_by(ExitReason::unhedged),
            strategy.stats().exit_intents);
}

TEST_F(PropertyTest, SteadyStateAllocatesNothing) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  Strategy strategy(symbols, params);
  fund(strategy);
  const RunResult r = run_path(symbols, params, strategy, 11, 8'000, 0, true);
  EXPECT_GT(strategy.stats().entries, 10u);
  EXPECT_EQ(r.allocations, 0u) << "book updates, intents and reports after warm-up";
}

}  // namespace
}  // namespace xarb::signal
