// Real Binance BTCUSDT and ETHUSDT depth from data/, replayed through the feed's
// parsers and books into the strategy, against synthetic Upbit books: the Binance book in KRW,
// offset by a premium that swings +-70 bps with a 30 s period. The strategy must enter, exit and
// end flat, deciding on the capture's own clock.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/feed/capture.hpp>
#include <xarb/feed/replay.hpp>
#include <xarb/signal/strategy.hpp>
#include <xarb/venues/registry.hpp>

#include "signal_harness.hpp"
#include "test_support.hpp"

namespace xarb::signal {
namespace {

constexpr double kFx = 1130.5;  // KRW per USDT in April 2021
constexpr double kUpbitTick = 1000.0;

class StrategyFeeder final : public feed::SnapshotSink {
 public:
  StrategyFeeder(const SymbolMap& symbols, Strategy& strategy, const Fees& fees)
      : symbols_(symbols), strategy_(strategy), fees_(fees) {}

  void on_snapshot(const BookSnapshot& b) noexcept override {
    if (b.venue != venues::kBinance) return;
    const std::int64_t t = b.stamps.get(Stage::received);
    if (start_ns == 0) start_ns = t;
    const Now now{t, t};
    ++binance_books;
    if (b.tradable()) ++tradable;
    // The FX book, then the real Binance book, then its synthetic Upbit twin.
    BookSnapshot fx;
    fx.venue = venues::kUpbit;
    fx.instrument = symbols_.fx();
    fx.bid_count = fx.ask_count = 1;
    fx.bids[0] = {Decimal::from_mantissa(113'000'000'000), Decimal::from_mantissa(1'000'000 * Decimal::kOne)};
    fx.asks[0] = {Decimal::from_mantissa(113'100'000'000), Decimal::from_mantissa(1'000'000 * Decimal::kOne)};
    fx.stamps.set(Stage::received, t);
    strategy_.on_book(fx, now, sink);
    strategy_.on_book(b, now, sink);
    strategy_.on_book(upbit_twin(b, t), now, sink);
    answer(now);
  }

  void answer(const Now& now) {
    while (!sink.intents.empty()) {
      pending.assign(sink.intents.begin(), sink.intents.end());
      sink.intents.clear();
      for (const OrderIntent& in : pending) {
        strategy_.on_report(test::fill(in, fees_), now, sink);
        ++reports;
      }
    }
  }

  double premium_bps(std::int64_t t) const {
    const double s = static_cast<double>(t - start_ns) * 1e-9;
    return 70.0 * std::sin(2.0 * 3.141592653589793 * s / 30.0);
  }

  BookSnapshot upbit_twin(const BookSnapshot& b, std::int64_t t) const {
    BookSnapshot u = b;
    u.venue = venues::kUpbit;
    const double k = kFx * (1.0 + premium_bps(t) * 1e-4);
    const auto krw = [&](Decimal usdt, bool up) {
      const double v = usdt.to_double() * k / kUpbitTick;
      return Decimal::from_mantissa(std::llround((up ? std::ceil(v) : std::floor(v)) * kUpbitTick) *
                                    Decimal::kOne);
    };
    for (std::uint8_t i = 0; i < u.bid_count; ++i) u.bids[i].price = krw(b.bids[i].price, false);
    for (std::uint8_t i = 0; i < u.ask_count; ++i) u.asks[i].price = krw(b.asks[i].price, true);
    return u;
  }

  test::RecordingSink sink;
  std::vector<OrderIntent> pending;
  std::int64_t start_ns = 0;
  std::uint64_t binance_books = 0;
  std::uint64_t tradable = 0;
  std::uint64_t reports = 0;

 private:
  const SymbolMap& symbols_;
  Strategy& strategy_;
  Fees fees_;
};

TEST(SignalReplay, RealBinanceDepthAgainstASyntheticUpbitPremiumEntersAndExits) {
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  ASSERT_EQ(symbols.add("ETH", {{venues::kUpbit, "KRW-ETH"}, {venues::kBinance, "ETHUSDT"}}),
            Errc::ok);
  ASSERT_EQ(symbols.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
  StrategyParams params;
  params.pairs[0].pair = venues::kUpbitBinance;
  params.pairs[0].fees = {5.0, 10.0};
  params.baseline = BaselineMode::zero;
  params.entry_bps = 30.0;
  params.take_profit_bps = 15.0;
  params.stop_loss_bps = 60.0;
  params.reversal_bps = -20.0;
  params.timeout_ns = 60'000'000'000;
  params.cooldown_ns = 2'000'000'000;
  params.symbols[0].trade_qty = Decimal::from_mantissa(1'000'000);    // 0.01 BTC
  params.symbols[1].trade_qty = Decimal::from_mantissa(10'000'000);  // 0.1 ETH
  params.risk.check_balances = false;
  Strategy strategy(symbols, params);

  const auto path = ::xarb::test::data_dir() /
                    "binance/2021-04-04_btcusdt_ethusdt_dotusdt_depth_aggtrade.events.jsonl";
  std::string error;
  auto reader = feed::CaptureReader::open(path.string(), error);
  ASSERT_TRUE(reader) << error;
  feed::Replayer replayer(symbols, feed::FeedOptions{});
  StrategyFeeder feeder(symbols, strategy, params.pairs[0].fees);
  feed::CaptureEvent e;
  while (reader->next(e)) replayer.feed(e, feeder);

  const StrategyStats& s = strategy.stats();
  std::printf(
      "binance books %llu (tradable %llu), entries %llu, exits tp %llu sl %llu "
      "reversal %llu timeout %llu, open at end %zu, pnl %.0f KRW\n",
      static_cast<unsigned long long>(feeder.binance_books),
      static_cast<unsigned long long>(feeder.tradable), static_cast<unsigned long long>(s.entries),
      static_cast<unsigned long long>(s.exits_by(ExitReason::take_profit)),
      static_cast<unsigned long long>(s.exits_by(ExitReason::stop_loss)),
      static_cast<unsigned long long>(s.exits_by(ExitReason::reversal)),
      static_cast<unsigned long long>(s.exits_by(ExitReason::timeout)), strategy.positions().size(),
      s.realized_krw());
  EXPECT_GT(feeder.binance_books, 1500u);
  EXPECT_GT(s.entries, 4u);
  EXPECT_GT(s.exit_intents, 2u);
  EXPECT_GT(s.closed, 2u);
  EXPECT_EQ(s.unknown_reports, 0u);
  // Both directions trade on a premium that swings both ways.
  std::uint64_t kimchi = 0, reverse = 0;
  for (const PositionChange& c : feeder.sink.changes) {
    if (c.to != PositionState::open) continue;
    (c.direction == Direction::kimchi ? kimchi : reverse) += 1;
  }
  EXPECT_GT(kimchi, 0u);
  EXPECT_GT(reverse, 0u);

  // Flatten what is left at the end of the capture, on the last books.
  strategy.close_all(ExitReason::flatten);
  const std::int64_t end = feeder.start_ns + 92'000'000'000;
  strategy.on_timer({end, end}, feeder.sink);
  feeder.answer({end, end});
  EXPECT_EQ(strategy.positions().size(), 0u);
  EXPECT_EQ(s.closed + s.unfilled, s.entries) << "every entry ended closed";
}

}  // namespace
}  // namespace xarb::signal
