// The paper venue with a market, as a backtest uses it: an order executes when it reaches the
// venue, against the book as it stands then, walking its levels and taking their depth; round
// trips drawn from measured samples under a seed; the venue's rate window enforced.

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/exec/paper_venue.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::exec {
namespace {

constexpr std::int64_t kMs = 1'000'000;
constexpr InstrumentId kBtc = 0;
using ::xarb::test::d;

// One book per venue and instrument, as a replay would hold it.
class Market final : public PaperMarket {
 public:
  void set(std::vector<Level> asks, std::vector<Level> bids) {
    asks_ = std::move(asks);
    bids_ = std::move(bids);
    ++version_;
  }
  std::span<const Level> levels(Venue, InstrumentId, Side side) const noexcept override {
    return side == Side::buy ? std::span<const Level>(asks_) : std::span<const Level>(bids_);
  }
  std::uint64_t version(Venue, InstrumentId) const noexcept override { return version_; }

 private:
  std::vector<Level> asks_, bids_;
  std::uint64_t version_ = 1;
};

class PaperMarketTest : public ::testing::Test {
 protected:
  PaperMarketTest() {
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
    std::string error;
    EXPECT_EQ(load_binance_rules(test::read_file(test::data_dir() /
                                                 "binance/exchangeInfo_btcusdt_ethusdt_2021-10-12.jsonl"),
                                 symbols, rules, error),
              1u);
    load_upbit_default_rules(symbols, rules);
    params.latency_ns = 10 * kMs;
    params.fee_bps = 10.0;
    params.market = &market;
  }

  PaperVenue& make(Venue v = venues::kBinance) {
    venue = std::make_unique<PaperVenue>(v, rules, params);
    venue->set_base(kBtc, d("1"));
    venue->set_quote(d("1000000"));
    venue->poll(now);
    return *venue;
  }

  OrderRequest order(Side side, const char* price, const char* qty) {
    OrderRequest o;
    o.client_id.assign("x-" + std::to_string(++ids));
    o.instrument = kBtc;
    o.side = side;
    o.price = d(price);
    o.qty = d(qty);
    return o;
  }

  // Polls until the answer of the request comes; fails the test if it does not within 1 s.
  VenueEvent answer() {
    VenueEvent ev;
    for (int i = 0; i < 1000; ++i) {
      venue->poll(now);
      if (venue->next_event(ev)) return ev;
      now += kMs;
    }
    ADD_FAILURE() << "no answer";
    return ev;
  }

  SymbolMap symbols;
  RulesTable rules;
  PaperParams params;
  Market market;
  std::unique_ptr<PaperVenue> venue;
  std::int64_t now = 1'000 * kMs;
  int ids = 0;
};

// The book the order meets is the one standing when it arrives (half the round trip), not the one
// of the decision; the answer comes after the whole round trip.
TEST_F(PaperMarketTest, AnOrderFillsAgainstTheBookWhenItArrives) {
  market.set({{d("100000"), d("1")}}, {{d("99990"), d("1")}});
  PaperVenue& v = make();
  ASSERT_TRUE(v.place(order(Side::buy, "100100", "0.5"), {}));
  EXPECT_EQ(v.next_due_ns(), now + 5 * kMs);  // it reaches the venue half way
  now += 4 * kMs;
  v.poll(now);
  market.set({{d("100050"), d("1")}}, {{d("99990"), d("1")}});  // the book moves before it arrives
  const std::int64_t sent = now - 4 * kMs;
  const VenueEvent ev = answer();
  EXPECT_EQ(now, sent + 10 * kMs);
  EXPECT_EQ(ev.latency_ns, 10 * kMs);
  EXPECT_EQ(ev.status.state, OrderState::filled);
  EXPECT_EQ(ev.status.filled_qty, d("0.5"));
  EXPECT_EQ(ev.status.avg_price(), d("100050"));
  // Binance takes a buy's commission in the coin bought.
  EXPECT_EQ(ev.status.fee_base, d("0.0005"));
  EXPECT_EQ(v.free_base(kBtc), d("1.4995"));
}

// A thin book fills part of the order across its levels within the limit; the rest of the IOC
// expires as Binance ends it. A book that moved past the limit fills nothing.
TEST_F(PaperMarketTest, ATakerWalksTheLevelsWithinItsLimitAndTheRestExpires) {
  market.set({{d("100000"), d("0.2")}, {d("100010"), d("0.3")}, {d("100100"), d("5")}}, {});
  PaperVenue& v = make();
  ASSERT_TRUE(v.place(order(Side::buy, "100050", "1"), {}));
  VenueEvent ev = answer();
  EXPECT_EQ(ev.status.state, OrderState::expired);
  EXPECT_EQ(ev.status.filled_qty, d("0.5"));
  EXPECT_EQ(ev.status.filled_notional_e16,
            static_cast<Int128>(d("100000").mantissa()) * d("0.2").mantissa() +
                static_cast<Int128>(d("100010").mantissa()) * d("0.3").mantissa());

  market.set({{d("100200"), d("5")}}, {});
  ASSERT_TRUE(v.place(order(Side::buy, "100050", "1"), {}));
  ev = answer();
  EXPECT_EQ(ev.status.state, OrderState::expired);
  EXPECT_EQ(ev.status.filled_qty, Decimal{});
}

// What an order took stays taken until the book changes: a second order on the same book meets
// only the rest; a new book gives the depth back.
TEST_F(PaperMarketTest, DepthTakenStaysTakenUntilTheBookChanges) {
  market.set({}, {{d("99990"), d("0.4")}, {d("99980"), d("1")}});
  PaperVenue& v = make();
  ASSERT_TRUE(v.place(order(Side::sell, "99980", "0.3"), {}));
  EXPECT_EQ(answer().status.avg_price(), d("99990"));
  ASSERT_TRUE(v.place(order(Side::sell, "99980", "0.3"), {}));
  VenueEvent ev = answer();
  EXPECT_EQ(ev.status.filled_qty, d("0.3"));
  // 0.1 left at 99990, then 0.2 at 99980.
  EXPECT_EQ(ev.status.filled_notional_e16,
            static_cast<Int128>(d("99990").mantissa()) * d("0.1").mantissa() +
                static_cast<Int128>(d("99980").mantissa()) * d("0.2").mantissa());
  market.set({}, {{d("99990"), d("0.4")}});
  ASSERT_TRUE(v.place(order(Side::sell, "99990", "0.4"), {}));
  EXPECT_EQ(answer().status.filled_qty, d("0.4"));
}

// Round trips come from the samples given, by request kind, the same under the same seed.
TEST_F(PaperMarketTest, RoundTripsAreDrawnFromTheSamplesUnderTheSeed) {
  market.set({{d("100000"), d("100")}}, {});
  const std::vector<std::int64_t> place{3 * kMs, 7 * kMs, 40 * kMs};
  params.latency_samples[0] = place;
  const auto draws = [&] {
    PaperVenue& v = make();
    std::vector<std::int64_t> out;
    for (int i = 0; i < 30; ++i) {
      EXPECT_TRUE(v.place(order(Side::buy, "100000", "0.001"), {}));
      out.push_back(answer().latency_ns);
    }
    EXPECT_EQ(v.drawn(), 30u);
    return out;
  };
  const std::vector<std::int64_t> first = draws();
  for (const std::int64_t l : first) {
    EXPECT_TRUE(l == 3 * kMs || l == 7 * kMs || l == 40 * kMs) << l;
  }
  EXPECT_NE(std::count(first.begin(), first.end(), first[0]), 30);  // not one value
  EXPECT_EQ(draws(), first);
  params.seed = 2;
  EXPECT_NE(draws(), first);
}

// Past the venue's rate window an order is refused with its 429, and the budget says so first.
TEST_F(PaperMarketTest, OrdersPastTheRateWindowAreRefusedAsTheVenueRefusesThem) {
  market.set({{d("100000"), d("100")}}, {});
  params.orders_per_window = 3;
  params.order_window_ns = 1'000 * kMs;
  params.rate_block_ns = 2'000 * kMs;
  PaperVenue& v = make();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(v.place(order(Side::buy, "100000", "0.001"), {}));
    EXPECT_EQ(answer().status.state, OrderState::filled);
  }
  EXPECT_EQ(v.budget(now).orders_available, 0);
  ASSERT_TRUE(v.place(order(Side::buy, "100000", "0.001"), {}));
  const VenueEvent ev = answer();
  EXPECT_EQ(ev.status.state, OrderState::rejected);
  EXPECT_EQ(ev.status.error.http_status, 429);
  EXPECT_EQ(ev.status.error.kind, VenueErrorKind::rate_limited);
  EXPECT_GT(v.budget(now).blocked_until_ns, now);
  now += 2'100 * kMs;
  v.poll(now);
  EXPECT_EQ(v.budget(now).orders_available, 3);
  ASSERT_TRUE(v.place(order(Side::buy, "100000", "0.001"), {}));
  EXPECT_EQ(answer().status.state, OrderState::filled);
}

// A KRW venue charges its fee in KRW and checks its price unit and minimum order.
TEST_F(PaperMarketTest, AKrwVenueChargesKrwAndKeepsItsRules) {
  market.set({{d("140000000"), d("1")}}, {});
  PaperVenue& v = make(venues::kUpbit);
  v.set_quote(d("100000000"));
  ASSERT_TRUE(v.place(order(Side::buy, "140000000", "0.01"), {}));
  VenueEvent ev = answer();
  EXPECT_EQ(ev.status.state, OrderState::filled);
  EXPECT_EQ(ev.status.fee_quote, d("1400"));  // 10 bps of 1,400,000 KRW
  EXPECT_EQ(ev.status.fee_base, Decimal{});
  ASSERT_TRUE(v.place(order(Side::buy, "140000500", "0.01"), {}));  // off the 1,000 KRW unit
  ev = answer();
  EXPECT_EQ(ev.status.state, OrderState::rejected);
  ASSERT_TRUE(v.place(order(Side::buy, "140000000", "0.00001"), {}));  // 1,400 KRW < 5,000
  ev = answer();
  EXPECT_EQ(ev.status.state, OrderState::rejected);
}

}  // namespace
}  // namespace xarb::exec
