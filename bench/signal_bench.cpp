// The signal stage per book update: premium both ways at the trade size, exit checks of every open
// position at executable prices, the entry rules and the baseline, with 0, 10 and 100 positions
// open on the updated symbol. Ten levels a side, as the feeds publish them. The /floors variant
// tracks balances with inventory floors set and the preference on (two headroom computations
// per update on top of the balance check), against the same loop without them.
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>

#include <benchmark/benchmark.h>

#include <xarb/signal/strategy.hpp>
#include <xarb/venues/registry.hpp>

#include "alloc_counter.hpp"
#include "bench_support.hpp"

namespace xarb::bench {
namespace {

using signal::Now;
using signal::Strategy;

class BenchSink final : public signal::SignalSink {
 public:
  OrderIntent* claim_intent() noexcept override { return &slot; }
  void publish_intent() noexcept override { ++published; }
  OrderIntent slot{};
  std::uint64_t published = 0;
};

// Ten levels a side: Binance around `mid` USDT, 0.01 apart; Upbit around mid x 1,400 x (1 + p).
BookSnapshot make_book(Venue v, double mid, double tick) {
  BookSnapshot s;
  s.venue = v;
  s.instrument = 0;
  for (int k = 0; k < 10; ++k) {
    s.bids[s.bid_count++] = {Decimal::from_mantissa(std::llround((mid - (k + 1) * tick) * 1e8)),
                             Decimal::from_mantissa(5'000'000 + 1'000'000 * k)};
    s.asks[s.ask_count++] = {Decimal::from_mantissa(std::llround((mid + (k + 1) * tick) * 1e8)),
                             Decimal::from_mantissa(5'000'000 + 1'000'000 * k)};
  }
  return s;
}

signal::Fees fees() { return {5.0, 10.0}; }

// Fills an intent at its first level (enough for the set-up).
ExecReport fill(const OrderIntent& in) {
  ExecReport r;
  r.intent_id = in.intent_id;
  r.position_id = in.position_id;
  r.kind = in.kind;
  r.outcome = ExecOutcome::success;
  for (const Venue v : {venues::kUpbit, venues::kBinance}) {
    const LegIntent& l = in.leg(v);
    LegReport& lr = r.leg(v);
    lr.venue = v;
    lr.side = l.side;
    lr.instrument = l.instrument;
    lr.status = LegStatus::filled;
    lr.filled_qty = l.quantity;
    lr.avg_price = l.levels[0].price;
  }
  return r;
}

void SignalUpdate(benchmark::State& state) {
  const auto open = static_cast<int>(state.range(0));
  const bool floors = state.range(1) != 0;
  SymbolMap symbols;
  (void)symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}});
  signal::StrategyParams p;
  p.pairs[0].pair = venues::kUpbitBinance;
  p.pairs[0].fees = fees();
  p.fx.fixed = true;
  p.fx.fixed_rate = Decimal::from_mantissa(1400 * Decimal::kOne);
  p.baseline = signal::BaselineMode::zero;
  p.entry_bps = 30.0;
  p.take_profit_bps = p.stop_loss_bps = 10'000.0;  // positions stay open during the loop
  p.reversal_bps = -10'000.0;
  p.timeout_ns = INT64_MAX / 2;
  p.cooldown_ns = 0;
  p.max_open_per_symbol = p.max_open_total = open;
  p.risk.max_total_exposure_krw = p.risk.max_symbol_exposure_krw = INT64_MAX / 4;
  p.risk.check_balances = floors;
  if (floors) {
    p.inventory.prefer_bps = 10.0;
    p.inventory.floor_base[index(venues::kUpbit)][0] = 10 * Decimal::kOne;
    p.inventory.floor_quote_e16[index(venues::kBinance)] =
        static_cast<Int128>(1'000) * Decimal::kOne * Decimal::kOne;
  }
  p.symbols[0].trade_qty = Decimal::from_mantissa(1'000'000);
  p.symbols[0].max_position_qty = Decimal::from_mantissa(1'000'000 * 1000);
  auto strategy = std::make_unique<Strategy>(symbols, p);
  for (const Venue v : {venues::kUpbit, venues::kBinance}) {
    strategy->inventory().set_base(v, 0, Decimal::from_mantissa(1'000 * Decimal::kOne));
    strategy->inventory().set_quote(v, Decimal::from_mantissa(1'000'000'000 * Decimal::kOne));
  }
  BenchSink sink;

  // Open `open` positions at a 60 bps premium.
  BookSnapshot b = make_book(venues::kBinance, 100'000.0, 0.01);
  BookSnapshot wide = make_book(venues::kUpbit, 100'000.0 * 1400.0 * 1.006, 1000.0);
  std::int64_t t = 1'000'000'000;
  for (int k = 0; k < open; ++k) {
    strategy->on_book(b, {t, t}, sink);
    strategy->on_book(wide, {t, t}, sink);
    if (sink.published > 0) {
      strategy->on_report(fill(sink.slot), {t, t}, sink);
      sink.published = 0;
    }
    t += 1'000'000;
  }
  if (strategy->open_positions() != static_cast<std::size_t>(open)) {
    state.SkipWithError("set-up did not open the positions");
    return;
  }
  // The loop: a premium of 20 bps (no entry) moving by a tick on every update.
  std::array<BookSnapshot, 2> upbit = {
      make_book(venues::kUpbit, 100'000.0 * 1400.0 * 1.002, 1000.0),
      make_book(venues::kUpbit, 100'000.0 * 1400.0 * 1.002 + 1000.0, 1000.0)};
  std::array<BookSnapshot, 2> binance = {b, make_book(venues::kBinance, 100'000.01, 0.01)};
  std::size_t i = 0;
  const std::uint64_t before = test::total_allocations();
  for (auto _ : state) {
    BookSnapshot& s = (i & 1) != 0 ? upbit[(i >> 1) & 1] : binance[(i >> 1) & 1];
    s.stamps.set(Stage::received, t);
    strategy->on_book(s, {t, t}, sink);
    t += 100'000;
    ++i;
  }
  state.counters["updates/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["allocs/msg"] = static_cast<double>(test::total_allocations() - before) /
                                 static_cast<double>(state.iterations());
  state.counters["open"] = static_cast<double>(strategy->open_positions());
  if (sink.published != 0) state.SkipWithError("the loop emitted intents");
}

BENCHMARK(SignalUpdate)->Name("SignalUpdate/open:0/xarb")->Args({0, 0});
BENCHMARK(SignalUpdate)->Name("SignalUpdate/open:10/xarb")->Args({10, 0});
BENCHMARK(SignalUpdate)->Name("SignalUpdate/open:100/xarb")->Args({100, 0});
BENCHMARK(SignalUpdate)->Name("SignalUpdate/open:0/floors")->Args({0, 1});
BENCHMARK(SignalUpdate)->Name("SignalUpdate/open:10/floors")->Args({10, 1});

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) { return xarb::bench::run_main(argc, argv); }
