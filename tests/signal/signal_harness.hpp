#pragma once

// A harness for strategy tests: books built from text, a sink that records what the strategy
// emits (storage reserved up front, so steady-state runs do not allocate), and a fill model that
// answers intents the way an exec thread would.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/core/decimal.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/signal/strategy.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::signal::test {

using ::xarb::test::d;

using Levels = std::initializer_list<std::pair<const char*, const char*>>;

inline BookSnapshot book(Venue venue, InstrumentId id, Levels bids, Levels asks,
                         std::int64_t received_ns = 0, std::int64_t exchange_ns = 0) {
  BookSnapshot s;
  s.venue = venue;
  s.instrument = id;
  for (const auto& [p, q] : bids) s.bids[s.bid_count++] = {d(p), d(q)};
  for (const auto& [p, q] : asks) s.asks[s.ask_count++] = {d(p), d(q)};
  s.stamps.set(Stage::received, received_ns);
  s.stamps.set(Stage::exchange, exchange_ns);
  return s;
}

class RecordingSink final : public SignalSink {
 public:
  RecordingSink() {
    intents.reserve(1 << 16);
    changes.reserve(1 << 16);
    refusals.reserve(1 << 16);
  }
  OrderIntent* claim_intent() noexcept override {
    if (full) return nullptr;
    return &slot_;
  }
  void publish_intent() noexcept override { intents.push_back(slot_); }
  void on_position(const PositionChange& c) noexcept override { changes.push_back(c); }
  void on_refusal(const RiskRefusal& r) noexcept override { refusals.push_back(r); }

  void clear() {
    intents.clear();
    changes.clear();
    refusals.clear();
  }

  // The one slot claim_intent hands out, as a ring slot is: what an earlier intent left in it.
  OrderIntent& slot() noexcept { return slot_; }

  bool full = false;  // a full ring: claim_intent fails
  std::vector<OrderIntent> intents;
  std::vector<PositionChange> changes;
  std::vector<RiskRefusal> refusals;

 private:
  OrderIntent slot_{};
};

// Fee of a notional (1e-16 units) at `bps`, as a Decimal rounded half up.
inline Decimal fee_of(Int128 notional_e16, double bps) {
  const auto centi = static_cast<Int128>(bps * 100.0 + 0.5);
  const Int128 e8 = (notional_e16 * centi + 500'000LL * 100'000'000LL) / (1'000'000LL * 100'000'000LL);
  return Decimal::from_mantissa(static_cast<std::int64_t>(e8));
}

// Fills one leg against the levels it carries, within its limit, up to `share` of the quantity
// (rounded down to 1e-8).
inline LegReport fill_leg(const LegIntent& leg, double fee_bps, double share = 1.0) {
  LegReport r;
  r.venue = leg.venue;
  r.side = leg.side;
  r.instrument = leg.instrument;
  r.requested_qty = leg.quantity;
  if (!leg.quantity.is_positive()) return r;
  auto want = static_cast<std::int64_t>(static_cast<double>(leg.quantity.mantissa()) * share);
  std::int64_t left = want;
  Int128 notional = 0;
  for (std::uint8_t k = 0; k < leg.level_count && left > 0; ++k) {
    const Level& l = leg.levels[k];
    const bool within = leg.side == Side::buy ? l.price <= leg.limit_price
                                              : l.price >= leg.limit_price;
    if (!within) break;
    const std::int64_t take = std::min(left, l.qty.mantissa());
    notional += static_cast<Int128>(l.price.mantissa()) * take;
    left -= take;
  }
  const std::int64_t filled = want - left;
  r.state = filled == 0 ? OrderState::canceled
            : filled == leg.quantity.mantissa() ? OrderState::filled
                                                : OrderState::partially_filled;
  r.status = filled == 0 ? LegStatus::canceled
             : filled == leg.quantity.mantissa() ? LegStatus::filled
                                                 : LegStatus::partially_filled;
  r.filled_qty = Decimal::from_mantissa(filled);
  if (filled > 0) {
    r.avg_price = Decimal::from_mantissa(static_cast<std::int64_t>(notional / filled));
    r.fee = fee_of(notional, fee_bps);
  }
  return r;
}

// The report of an intent with both legs filled against their levels.
inline ExecReport fill(const OrderIntent& intent, const Fees& fees, double share = 1.0,
                       VenuePair pair = venues::kUpbitBinance) {
  ExecReport r;
  r.intent_id = intent.intent_id;
  r.position_id = intent.position_id;
  r.kind = intent.kind;
  r.stamps = intent.stamps;
  r.leg(pair.first) = fill_leg(intent.leg(pair.first), fees.first_bps, share);
  r.leg(pair.second) = fill_leg(intent.leg(pair.second), fees.second_bps, share);
  const bool both = r.leg(pair.first).status == LegStatus::filled &&
                    r.leg(pair.second).status == LegStatus::filled;
  const bool none =
      r.leg(pair.first).filled_qty.is_zero() && r.leg(pair.second).filled_qty.is_zero();
  r.outcome = both ? ExecOutcome::success : none ? ExecOutcome::failed : ExecOutcome::partial_hedged;
  return r;
}

// A report where nothing filled: the venue refused.
inline ExecReport reject(const OrderIntent& intent) {
  ExecReport r;
  r.intent_id = intent.intent_id;
  r.position_id = intent.position_id;
  r.kind = intent.kind;
  r.outcome = ExecOutcome::failed;
  for (const Venue v : {venues::kUpbit, venues::kBinance}) {
    r.leg(v).venue = v;
    r.leg(v).side = intent.leg(v).side;
    r.leg(v).instrument = intent.leg(v).instrument;
    r.leg(v).status = LegStatus::failed;
    r.leg(v).state = OrderState::rejected;
  }
  return r;
}

constexpr std::int64_t kSecond = 1'000'000'000;
// 2026-11-21 00:00:00 UTC: the wall clock of every scenario (09:00 in Seoul).
constexpr std::int64_t kWall = 1'795'219'200LL * kSecond;

// The scenario every strategy test starts from: BTC on both venues, fixed FX at 1,400 KRW per
// USDT, 5 + 10 bps of fees, zero baseline, funded accounts.
class ScenarioTest : public ::testing::Test {
 protected:
  ScenarioTest() {
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
    EXPECT_EQ(symbols.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
    params.pairs[0].fees = {5.0, 10.0};
    params.fx.fixed = true;
    params.fx.fixed_rate = d("1400");
    params.baseline = BaselineMode::zero;
    params.entry_bps = 30.0;
    params.take_profit_bps = 15.0;
    params.stop_loss_bps = 40.0;
    params.reversal_bps = -1000.0;  // off unless a test wants it
    params.timeout_ns = 300 * kSecond;
    params.cooldown_ns = 10 * kSecond;
    params.slippage_bps = 5.0;
    params.symbols[kBtc].trade_qty = d("0.01");
    params.symbols[kBtc].max_position_qty = d("0.05");
  }

  // Builds the strategy from `params` with funded accounts on both venues.
  Strategy& start() {
    strategy.emplace(symbols, params);
    Inventory& inv = strategy->inventory();
    inv.set_base(venues::kUpbit, kBtc, d("1"));
    inv.set_base(venues::kBinance, kBtc, d("1"));
    inv.set_quote(venues::kUpbit, d("1000000000"));
    inv.set_quote(venues::kBinance, d("1000000"));
    return *strategy;
  }

  Now at(std::int64_t t) const { return {t, kWall + t}; }

  void upbit(const char* bid, const char* ask, std::int64_t t) {
    strategy->on_book(book(venues::kUpbit, kBtc, {{bid, "1"}}, {{ask, "1"}}, t), at(t), sink);
  }
  void binance(const char* bid, const char* ask, std::int64_t t) {
    strategy->on_book(book(venues::kBinance, kBtc, {{bid, "1"}}, {{ask, "1"}}, t), at(t), sink);
  }
  void report(const ExecReport& r, std::int64_t t) { strategy->on_report(r, at(t), sink); }

  // The entry of every exit scenario: kimchi at 50 bps gross. Upbit bid 140,700,000 KRW against
  // Binance ask 100,000 USDT x 1,400 = 140,000,000 KRW; after 5 + 10 bps of fees the edge is
  // about 35 bps, over the 30 bps threshold. Returns the position id, OPEN.
  std::uint64_t enter(std::int64_t t) {
    binance("99990", "100000", t);
    upbit("140700000", "140800000", t);
    EXPECT_EQ(sink.intents.size(), 1u);
    const OrderIntent entry = sink.intents.back();
    report(test::fill(entry, params.pairs[0].fees), t);
    EXPECT_EQ(strategy->positions().size(), 1u);
    EXPECT_EQ(strategy->positions()[0].state, PositionState::open);
    sink.clear();
    return entry.position_id;
  }

  static constexpr InstrumentId kBtc = 0;
  SymbolMap symbols;
  StrategyParams params = [] {
    StrategyParams p;
    p.pairs[0].pair = venues::kUpbitBinance;
    return p;
  }();
  std::optional<Strategy> strategy;
  test::RecordingSink sink;
};

}  // namespace xarb::signal::test
