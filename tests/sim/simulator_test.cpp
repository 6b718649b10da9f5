// xarb-sim over real sockets: the engine's own feed and venue code against it. Books equal the
// simulator's; orders fill against its books with fees and balances; tampered requests are
// refused with the venues' errors; matching (levels, IOC, FOK, balance); faults are survived;
// the market is deterministic under a seed.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include <xarb/core/clock.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/exec/signing.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/sim/config.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::sim {
namespace {

using namespace std::chrono_literals;

using ::xarb::test::d;

SimOptions options() {
  SimOptions o;
  SymbolSpec btc;
  btc.base = "BTC";
  btc.markets[index(venues::kBinance)] = "BTCUSDT";
  btc.markets[index(venues::kUpbit)] = "KRW-BTC";
  btc.price_usdt = 60'000.0;
  SymbolSpec eth;
  eth.base = "ETH";
  eth.markets[index(venues::kBinance)] = "ETHUSDT";
  eth.markets[index(venues::kUpbit)] = "KRW-ETH";
  eth.price_usdt = 3'000.0;
  eth.step = Decimal::from_mantissa(10'000);
  eth.level_qty = 5.0;
  o.symbols = {btc, eth};
  o.market.seed = 7;
  o.updates_per_second = 400.0;
  o.venues[index(venues::kUpbit)].order_limit = 50;  // the real 8/s (30/s for the rest) would throttle
  o.venues[index(venues::kUpbit)].request_limit = 100;  // a fast test run
  o.accounts = {{venues::kBinance,
                 "bkey-0123456789",
                 "bsecret",
                 {{"USDT", 1'000'000 * Decimal::kOne},
                  {"BTC", 10 * Decimal::kOne},
                  {"ETH", 100 * Decimal::kOne}}},
                {venues::kUpbit,
                 "ukey-0123456789",
                 "usecret",
                 {{"KRW", 1'000'000'000 * Decimal::kOne}, {"BTC", 10 * Decimal::kOne}}}};
  return o;
}

SymbolMap symbols() {
  SymbolMap m;
  EXPECT_EQ(m.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}), Errc::ok);
  EXPECT_EQ(m.add("ETH", {{venues::kUpbit, "KRW-ETH"}, {venues::kBinance, "ETHUSDT"}}), Errc::ok);
  EXPECT_EQ(m.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
  return m;
}

// Where the levels `ours` holds differ from the simulator book's top levels; empty when they are
// the same, level for level.
std::string top_difference(const SimBook& sim, const book::L2Book& ours) {
  BookSnapshot s;
  ours.publish(s);
  if (s.bid_count == 0) return "no bids";
  auto bit = sim.bids.rbegin();
  for (std::uint8_t k = 0; k < s.bid_count; ++k, ++bit) {
    if (bit == sim.bids.rend()) return "bid " + std::to_string(k) + " not in the simulator's book";
    if (s.bids[k].price.mantissa() != bit->first || s.bids[k].qty.mantissa() != bit->second) {
      return "bid " + std::to_string(k) + ": " + std::to_string(s.bids[k].price.mantissa()) +
             " x " + std::to_string(s.bids[k].qty.mantissa()) + " against the simulator's " +
             std::to_string(bit->first) + " x " + std::to_string(bit->second);
    }
  }
  auto ait = sim.asks.begin();
  for (std::uint8_t k = 0; k < s.ask_count; ++k, ++ait) {
    if (ait == sim.asks.end()) return "ask " + std::to_string(k) + " not in the simulator's book";
    if (s.asks[k].price.mantissa() != ait->first || s.asks[k].qty.mantissa() != ait->second) {
      return "ask " + std::to_string(k) + ": " + std::to_string(s.asks[k].price.mantissa()) +
             " x " + std::to_string(s.asks[k].qty.mantissa()) + " against the simulator's " +
             std::to_string(ait->first) + " x " + std::to_string(ait->second);
    }
  }
  return {};
}

void expect_same_top(const SimBook& sim, const book::L2Book& ours, const char* what) {
  EXPECT_EQ(top_difference(sim, ours), "") << what;
}

// Runs `stage` (dropping what it publishes, counted in `popped`) until `done()` holds, checked
// every 20 ms, or `timeout` passed; returns done(). How long the feed needs to get somewhere
// depends on this machine, so tests wait for the state they assert, with a bound for failure.
bool feed_until(feed::FeedStage& stage, SpscRing<BookSnapshot>& ring,
                const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::uint64_t* popped = nullptr) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  BookSnapshot s;
  for (;;) {
    for (int k = 0; k < 10; ++k) {
      stage.run_for(2ms);
      while (ring.try_pop(s)) {
        if (popped != nullptr) ++*popped;
      }
    }
    if (done()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
  }
}

// True when every (simulator book, feed book) pair `pairs` returns holds the same top levels.
using BookPairs = std::vector<std::pair<const SimBook*, const book::L2Book*>>;
bool same_tops(Simulator& sim, const std::function<BookPairs(SyntheticMarket&)>& pairs) {
  bool same = true;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    for (const auto& [theirs, ours] : pairs(m))
      same = same && top_difference(*theirs, *ours).empty();
  });
  return same;
}

// Pauses the market, then runs the feed until its books of symbols 0 and 1 (and the FX book
// when `fx` is given) hold what the simulator's hold: what was on the way has arrived.
void settle(Simulator& sim, feed::FeedStage& stage, SpscRing<BookSnapshot>& ring,
            std::optional<InstrumentId> fx, std::uint64_t* popped = nullptr) {
  sim.set_rate(0.0);
  const bool same = feed_until(
      stage, ring,
      [&] {
        return same_tops(sim, [&](SyntheticMarket& m) {
          BookPairs p;
          for (InstrumentId i : {InstrumentId{0}, InstrumentId{1}}) {
            p.emplace_back(&m.book(venues::kBinance, i),
                           &stage.books().diff_book(venues::kBinance, i)->book());
            p.emplace_back(&m.book(venues::kUpbit, i), stage.books().book(venues::kUpbit, i));
          }
          if (fx) p.emplace_back(&m.fx_book(), stage.books().book(venues::kUpbit, *fx));
          return p;
        });
      },
      20s, popped);
  EXPECT_TRUE(same) << "the feed's books did not reach the paused simulator's within 20 s";
}

// The engine's feed pointed at `sim`, both venues.
feed::FeedOptions feed_options_for(const Simulator& sim) {
  feed::FeedOptions f;
  f.endpoint(venues::kBinance) = {sim.ws_url(venues::kBinance), sim.rest_url(venues::kBinance), sim.ca_file(),
                                  true};
  f.endpoint(venues::kUpbit) = {sim.ws_url(venues::kUpbit), sim.rest_url(venues::kUpbit), sim.ca_file(), true};
  return f;
}

// A venue client for `sim` with the test accounts' keys (or a wrong secret).
exec::RestVenueOptions venue_options_for(const Simulator& sim, Venue v,
                                         const char* secret = nullptr) {
  exec::RestVenueOptions o;
  o.venue = v;
  o.rest_url = v == venues::kBinance ? sim.rest_url(venues::kBinance) : sim.rest_url(venues::kUpbit);
  o.ca_file = sim.ca_file();
  o.credentials = v == venues::kBinance
                      ? exec::Credentials{"bkey-0123456789", secret ? secret : "bsecret"}
                      : exec::Credentials{"ukey-0123456789", secret ? secret : "usecret"};
  return o;
}

class SimulatorTest : public ::testing::Test {
 protected:
  SimulatorTest() : sim(options()), map(symbols()) { sim.start(); }

  feed::FeedOptions feed_options() const {
    feed::FeedOptions f = feed_options_for(sim);
    f.ws.reconnect_min = 20ms;
    f.ws.reconnect_max = 200ms;
    return f;
  }

  exec::RestVenueOptions venue_options(Venue v, const char* secret = nullptr) const {
    return venue_options_for(sim, v, secret);
  }

  // Runs the feed for `d`, counting what it publishes.
  void run_feed(feed::FeedStage& stage, SpscRing<BookSnapshot>& ring, std::chrono::milliseconds d) {
    (void)feed_until(
        stage, ring, [] { return false; }, d, &snapshots);
  }

  void settle(feed::FeedStage& stage, SpscRing<BookSnapshot>& ring) {
    sim::settle(sim, stage, ring, map.fx(), &snapshots);
  }

  Simulator sim;
  SymbolMap map;
  std::uint64_t snapshots = 0;
};

TEST_F(SimulatorTest, EngineFeedBooksEqualTheSimulatorsBooks) {
  SpscRing<BookSnapshot> ring(1 << 14);
  feed::FeedStage stage(feed_options(), map, ring);
  stage.start();
  // The market moves for 2.5 s and at least until 200 books reached the feed.
  run_feed(stage, ring, 2'500ms);
  ASSERT_TRUE(feed_until(
      stage, ring, [&] { return snapshots > 200; }, 30s, &snapshots));
  settle(stage, ring);
  EXPECT_EQ(stage.parser_stats(venues::kBinance).count(feed::MsgKind::dropped), 0u);
  EXPECT_EQ(stage.parser_stats(venues::kUpbit).count(feed::MsgKind::dropped), 0u);
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    for (InstrumentId i : {InstrumentId{0}, InstrumentId{1}}) {
      const book::DiffSyncBook* b = stage.books().diff_book(venues::kBinance, i);
      ASSERT_NE(b, nullptr);
      expect_same_top(m.book(venues::kBinance, i), b->book(), "binance");
      expect_same_top(m.book(venues::kUpbit, i), *stage.books().book(venues::kUpbit, i), "upbit");
    }
    expect_same_top(m.fx_book(), *stage.books().book(venues::kUpbit, map.fx()), "krw-usdt");
  });
  EXPECT_EQ(stage.books().gaps(), 0u) << "U/u continuous";
  stage.stop();
}

TEST_F(SimulatorTest, FeedSurvivesDroppedConnectionsAndResyncs) {
  SpscRing<BookSnapshot> ring(1 << 14);
  feed::FeedStage stage(feed_options(), map, ring);
  stage.start();
  // Connected and publishing on both venues, then every websocket dropped at once.
  ASSERT_TRUE(feed_until(
      stage, ring,
      [&] {
        return stage.stats(venues::kBinance).connects >= 1 &&
               stage.stats(venues::kUpbit).connects >= 1 && snapshots > 50;
      },
      30s, &snapshots));
  sim.drop_websockets();
  const bool reconnected = feed_until(
      stage, ring,
      [&] {
        return stage.stats(venues::kBinance).connects >= 2 &&
               stage.stats(venues::kUpbit).connects >= 2;
      },
      30s, &snapshots);
  EXPECT_TRUE(reconnected);
  EXPECT_GE(stage.stats(venues::kBinance).connects, 2u);
  EXPECT_GE(stage.stats(venues::kUpbit).connects, 2u);
  run_feed(stage, ring, 300ms);  // the market moves on after the reconnect
  settle(stage, ring);
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    expect_same_top(m.book(venues::kBinance, 0),
                    stage.books().diff_book(venues::kBinance, 0)->book(), "binance after drop");
    expect_same_top(m.book(venues::kUpbit, 0), *stage.books().book(venues::kUpbit, 0),
                    "upbit after drop");
  });
  stage.stop();
}

TEST_F(SimulatorTest, BinanceOrdersFillAgainstTheBookWithFeesAndBalances) {
  sim.set_rate(0.0);
  exec::RestVenue venue(map, venue_options(venues::kBinance));
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  EXPECT_EQ(venue.free_quote(), d("1000000"));
  EXPECT_EQ(venue.rules(0).tick, d("0.01"));
  std::int64_t best_ask = 0, second = 0, q1 = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    auto it = m.book(venues::kBinance, 0).asks.begin();
    best_ask = it->first;
    q1 = it->second;
    second = std::next(it)->first;
  });
  // Buy more than the best level holds, limit at the second: fills over two levels.
  exec::OrderRequest o;
  o.client_id.assign("sim-b-1");
  o.instrument = 0;
  o.side = Side::buy;
  o.price = Decimal::from_mantissa(second);
  o.qty = Decimal::from_mantissa(q1 + 1'000'000);  // + 0.01
  exec::OrderStatus s;
  ASSERT_TRUE(venue.place_blocking(o, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::filled);
  EXPECT_EQ(s.filled_qty, o.qty);
  const Int128 notional =
      static_cast<Int128>(best_ask) * q1 + static_cast<Int128>(second) * 1'000'000;
  EXPECT_EQ(s.filled_notional_e16, notional);
  // As Binance charges it without BNB: a buy's commission is taken from the base it bought,
  // 10 bps of the quantity rounded up to the satoshi; nothing in USDT.
  const std::int64_t fee_base = (o.qty.mantissa() * 1000 + 999'999) / 1'000'000;
  EXPECT_EQ(s.fee_base.mantissa(), fee_base);
  EXPECT_TRUE(s.fee_quote.is_zero());
  EXPECT_EQ(venue.free_base(0).mantissa(), 10 * Decimal::kOne + o.qty.mantissa() - fee_base)
      << "the venue's local balance is net of the commission";
  // IOC remainder expires: a huge order at the best ask takes what is there.
  o.client_id.assign("sim-b-2");
  o.qty = d("10");
  o.price = Decimal::from_mantissa(best_ask);
  std::string err2;
  ASSERT_TRUE(venue.place_blocking(o, s, err2)) << err2;
  EXPECT_EQ(s.state, OrderState::expired);
  // FOK: all or nothing.
  o.client_id.assign("sim-b-3");
  o.tif = exec::TimeInForce::fok;
  o.price = Decimal::from_mantissa(second);
  o.qty = d("10");
  ASSERT_TRUE(venue.place_blocking(o, s, err2)) << err2;
  EXPECT_EQ(s.state, OrderState::expired);
  EXPECT_TRUE(s.filled_qty.is_zero());
  // The query answers the first order as filled. GET /api/v3/order lists no fills: the
  // commission, and the asset it was charged in, come from the order's trades (myTrades).
  ASSERT_TRUE(venue.get_blocking(0, ClientOrderId{{'s', 'i', 'm', '-', 'b', '-', '1'}, 7}, s, err2))
      << err2;
  EXPECT_EQ(s.state, OrderState::filled);
  EXPECT_TRUE(s.fills_known);
  EXPECT_EQ(s.fee_base.mantissa(), fee_base);
  EXPECT_TRUE(s.fee_quote.is_zero());
  EXPECT_EQ(s.filled_notional_e16, notional);
  // The balances moved by the fills net of their commissions, to the satoshi.
  const Decimal before_read = venue.free_base(0);
  std::vector<exec::AssetBalance> balances;
  ASSERT_TRUE(venue.read_balances(balances, err2));
  bool seen = false;
  for (const auto& b : balances) {
    if (b.asset == "BTC") {
      // Both buys (the IOC took what the best level held) net of their commissions, as the
      // venue's local balance tracked them from the answers.
      EXPECT_EQ(b.free, before_read);
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  // A sell pays in the quote it received.
  exec::OrderRequest sell;
  sell.client_id.assign("sim-b-sell");
  sell.instrument = 0;
  sell.side = Side::sell;
  sell.price = d("30000");  // far under the bid: fills
  sell.qty = d("0.01");
  ASSERT_TRUE(venue.place_blocking(sell, s, err2)) << err2;
  EXPECT_EQ(s.filled_qty, sell.qty);
  EXPECT_TRUE(s.fee_base.is_zero());
  EXPECT_GT(s.fee_quote.mantissa(), 0);
  // Insufficient balance: the venue's -2010.
  o.client_id.assign("sim-b-4");
  o.tif = exec::TimeInForce::ioc;
  o.side = Side::sell;
  o.qty = d("500");
  EXPECT_FALSE(venue.place_blocking(o, s, err2));
  EXPECT_NE(err2.find("-2010"), std::string::npos) << err2;
}

// An account with Binance's BNB fee option pays every commission in BNB (a quarter off, at the
// simulator's BNB price) while it holds enough, and in the usual assets once it runs out.
TEST(SimulatorFees, BinanceChargesBnbWhileTheAccountHoldsEnough) {
  SimOptions o = options();
  o.accounts[0].bnb_fees = true;
  o.accounts[0].balances["BNB"] = 20'000;  // 0.0002 BNB: enough for one 60 USDT trade
  o.bnb_usdt = Decimal::from_mantissa(500 * Decimal::kOne);
  Simulator sim(o);
  sim.start();
  sim.set_rate(0.0);
  SymbolMap map = symbols();
  exec::RestVenue venue(map, venue_options_for(sim, venues::kBinance));
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  std::int64_t best_ask = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    best_ask = m.book(venues::kBinance, 0).asks.begin()->first;
  });
  exec::OrderRequest buy;
  buy.client_id.assign("bnb-1");
  buy.instrument = 0;
  buy.side = Side::buy;
  buy.price = Decimal::from_mantissa(best_ask);
  buy.qty = d("0.001");  // about 60 USDT: one trade at the best level
  exec::OrderStatus s;
  ASSERT_TRUE(venue.place_blocking(buy, s, error)) << error;
  ASSERT_EQ(s.filled_qty, buy.qty);
  // 10 bps of the notional in USDT, a quarter off, over 500 USDT/BNB, rounded up.
  const Int128 fee_e16 = s.filled_notional_e16 * 1000 / 1'000'000;
  const auto bnb = static_cast<std::int64_t>((fee_e16 * 3 / 4 + 500 * Decimal::kOne - 1) /
                                             (500 * Decimal::kOne));
  EXPECT_EQ(s.fee_other.mantissa(), bnb);
  EXPECT_TRUE(s.fee_base.is_zero());
  EXPECT_TRUE(s.fee_quote.is_zero());
  // The same from the order's trades, after a query.
  exec::OrderStatus q;
  ASSERT_TRUE(venue.get_blocking(0, buy.client_id, q, error)) << error;
  EXPECT_EQ(q.fee_other, s.fee_other);
  // Too little BNB left for the next one: the commission falls back to the base asset.
  buy.client_id.assign("bnb-2");
  buy.qty = d("0.01");
  ASSERT_TRUE(venue.place_blocking(buy, s, error)) << error;
  EXPECT_TRUE(s.fee_other.is_zero());
  EXPECT_EQ(s.fee_base.mantissa(), 1'000);  // 0.01 BTC x 10 bps
  const SimSummary summary = sim.summary();
  EXPECT_EQ(summary.accounts[0].balances.at("BNB"), 20'000 - bnb);
  EXPECT_EQ(summary.accounts[0].balances.at("BTC"),
            10 * Decimal::kOne + 100'000 + 1'000'000 - 1'000);
}

// An order accepted after the client gave up: its answer never comes and the venue's lookups do
// not find it for a while; then it is there, executed. (Why "not found" right after a lost answer
// is not final.)
TEST_F(SimulatorTest, AnOrderAcceptedLateIsNotFoundAtFirstThenFound) {
  sim.set_rate(0.0);
  exec::RestVenueOptions vo = venue_options(venues::kBinance);
  vo.request_timeout = 300ms;
  exec::RestVenue venue(map, vo);
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  sim.with_exchange([](Exchange& x, SyntheticMarket&) {
    x.faults().late_accept_share = 1.0;
    x.faults().late_accept_ms = 1500;
  });
  std::int64_t best_ask = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    best_ask = m.book(venues::kBinance, 0).asks.begin()->first;
  });
  exec::OrderRequest o;
  o.client_id.assign("late-1");
  o.instrument = 0;
  o.side = Side::buy;
  o.price = Decimal::from_mantissa(best_ask);
  o.qty = d("0.001");
  exec::OrderStatus s;
  const auto sent = std::chrono::steady_clock::now();
  EXPECT_FALSE(venue.place_blocking(o, s, error)) << "the answer is lost";
  sim.with_exchange([](Exchange& x, SyntheticMarket&) { x.faults().late_accept_share = 0.0; });
  EXPECT_FALSE(venue.get_blocking(0, o.client_id, s, error));
  EXPECT_EQ(s.error.kind, VenueErrorKind::unknown_order) << error;
  std::this_thread::sleep_until(sent + 1600ms);
  ASSERT_TRUE(venue.get_blocking(0, o.client_id, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::filled);
  EXPECT_EQ(s.filled_qty, o.qty);
  EXPECT_EQ(s.fee_base.mantissa(), 100) << "its commission, from its trades";
}

TEST_F(SimulatorTest, TamperedRequestsAreRefusedWithTheVenuesErrors) {
  exec::RestVenue binance(map, venue_options(venues::kBinance, "wrong"));
  std::string error;
  EXPECT_FALSE(binance.start(error));
  EXPECT_NE(error.find("-1022"), std::string::npos) << error;
  exec::RestVenue upbit(map, venue_options(venues::kUpbit, "wrong"));
  EXPECT_FALSE(upbit.start(error));
  EXPECT_NE(error.find("jwt_verification"), std::string::npos) << error;
  exec::RestVenueOptions o = venue_options(venues::kBinance);
  o.credentials.key = "unknown-key-000";
  exec::RestVenue nokey(map, o);
  EXPECT_FALSE(nokey.start(error));
  EXPECT_NE(error.find("-2015"), std::string::npos) << error;
  EXPECT_GE(sim.summary().exchange.auth_failures, 3u);
}

TEST_F(SimulatorTest, UpbitOrderIsTakenThenDoneOnQuery) {
  sim.set_rate(0.0);
  exec::RestVenue venue(map, venue_options(venues::kUpbit));
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  std::int64_t best_bid = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    best_bid = m.book(venues::kUpbit, 0).bids.rbegin()->first;
  });
  exec::OrderRequest o;
  o.client_id.assign("sim-u-1");
  o.instrument = 0;
  o.side = Side::sell;
  o.price = Decimal::from_mantissa(best_bid);
  o.qty = d("0.01");
  exec::OrderStatus s;
  ASSERT_TRUE(venue.place_blocking(o, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::acked) << "Upbit answers while the order is taken";
  ASSERT_TRUE(venue.get_blocking(0, o.client_id, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::filled);
  EXPECT_EQ(s.avg_price(), Decimal::from_mantissa(best_bid));
  EXPECT_GT(s.fee_quote.mantissa(), 0);
  // The identifier is unique forever.
  EXPECT_FALSE(venue.place_blocking(o, s, error));
  EXPECT_NE(error.find("duplicate_identifier"), std::string::npos) << error;
}

// A KRW order's answer carries the time the venue took it (in Korea's time, as Upbit writes it),
// not a fixed date: a client that ages or orders by created_at reads it right.
TEST_F(SimulatorTest, KrwAnswersCarryTheOrdersOwnTime) {
  sim.set_rate(0.0);
  const auto kst = [](std::int64_t ms) {
    const std::time_t t = ms / 1000 + 9 * 3600;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M", &tm));
  };
  std::string created;
  const std::int64_t before = clock::wall_ms();
  sim.with_exchange([&](Exchange& x, SyntheticMarket& m) {
    const std::string price = to_string(Decimal::from_mantissa(m.book(venues::kUpbit, 0).asks.begin()->first));
    const std::string query =
        "market=KRW-BTC&side=bid&volume=0.001&price=" + price + "&ord_type=limit&identifier=t-created";
    const std::string body = R"({"market":"KRW-BTC","side":"bid","volume":"0.001","price":")" +
                             price + R"(","ord_type":"limit","identifier":"t-created"})";
    char token[1024];
    const std::size_t n = exec::upbit_jwt("ukey-0123456789", "usecret", "nonce-created-at", query,
                                          exec::JwtAlg::hs256, token);
    ASSERT_GT(n, 0u);
    HttpRequest r;
    r.method = "POST";
    r.target = "/v1/orders";
    r.body = body;
    r.headers["authorization"] = "Bearer " + std::string(token, n);
    r.headers["content-type"] = "application/json";
    std::vector<std::pair<Venue, std::size_t>> touched;
    const HttpResult res = x.handle(venues::kUpbit, r, touched);
    ASSERT_EQ(res.status, 201) << res.body;
    const std::size_t at = res.body.find("\"created_at\":\"");
    ASSERT_NE(at, std::string::npos) << res.body;
    created = res.body.substr(at + 14, 25);
  });
  const std::int64_t after = clock::wall_ms();
  EXPECT_TRUE(created.starts_with(kst(before)) || created.starts_with(kst(after))) << created;
  EXPECT_TRUE(created.ends_with("+09:00")) << created;
}

// An order is (venue, symbol, client id). Upbit finds an order by identifier alone, so asking
// for it as another market's order returns it anyway: the engine must refuse that answer, never
// book it as a fill of the symbol it asked about. Binance finds orders by symbol and client id.
// A Binance cancel answers with the order's id as origClientOrderId and a new clientOrderId.
TEST_F(SimulatorTest, AnAnswerAboutAnotherSymbolIsNeverAFill) {
  sim.set_rate(0.0);
  exec::RestVenue upbit(map, venue_options(venues::kUpbit));
  exec::RestVenue binance(map, venue_options(venues::kBinance));
  std::string error;
  ASSERT_TRUE(upbit.start(error)) << error;
  ASSERT_TRUE(binance.start(error)) << error;
  std::int64_t upbit_ask = 0, binance_ask = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    upbit_ask = m.book(venues::kUpbit, 1).asks.begin()->first;
    binance_ask = m.book(venues::kBinance, 1).asks.begin()->first;
  });
  exec::OrderRequest eth;
  eth.client_id.assign("same-id-1");
  eth.instrument = 1;  // ETH
  eth.side = Side::buy;
  eth.price = Decimal::from_mantissa(upbit_ask);
  eth.qty = d("0.1");
  exec::OrderStatus s;
  ASSERT_TRUE(upbit.place_blocking(eth, s, error)) << error;
  EXPECT_FALSE(upbit.get_blocking(0, eth.client_id, s, error)) << "found as a BTC order";
  EXPECT_EQ(s.error.kind, VenueErrorKind::mismatch) << error;
  EXPECT_EQ(s.filled_qty, Decimal{});
  ASSERT_TRUE(upbit.get_blocking(1, eth.client_id, s, error)) << error;
  EXPECT_EQ(s.filled_qty, d("0.1"));

  eth.price = Decimal::from_mantissa(binance_ask);
  ASSERT_TRUE(binance.place_blocking(eth, s, error)) << error;
  EXPECT_FALSE(binance.get_blocking(0, eth.client_id, s, error));
  EXPECT_EQ(s.error.kind, VenueErrorKind::unknown_order) << error;
  ASSERT_TRUE(binance.get_blocking(1, eth.client_id, s, error)) << error;
  EXPECT_EQ(s.filled_qty, d("0.1"));

  // A resting GTC order cancelled: the answer is the original order's.
  exec::OrderRequest rest = eth;
  rest.client_id.assign("gtc-1");
  rest.tif = exec::TimeInForce::gtc;
  rest.price = Decimal::from_mantissa(binance_ask / 2 - (binance_ask / 2) % 1'000'000);
  ASSERT_TRUE(binance.place_blocking(rest, s, error)) << error;
  ASSERT_TRUE(binance.cancel_blocking(1, rest.client_id, s, error)) << error;
  EXPECT_EQ(s.client_id.view(), "gtc-1");
  EXPECT_EQ(s.symbol.view(), "ETHUSDT");
  EXPECT_EQ(s.state, OrderState::canceled);
}

// Two-leg execution over both simulated venues with faults switched on: answers lost after the
// order executed, 5xx before it did, partial fills and rejections. Every intent ends in a report;
// no leg is left unknown; what the reports say filled is what the balances moved by.
TEST_F(SimulatorTest, TwoLegExecutionSurvivesInjectedFaults) {
  exec::RestVenueOptions bo = venue_options(venues::kBinance);
  exec::RestVenueOptions uo = venue_options(venues::kUpbit);
  bo.request_timeout = uo.request_timeout = 300ms;
  exec::RestVenue binance(map, bo), upbit(map, uo);
  std::string error;
  ASSERT_TRUE(binance.start(error)) << error;
  ASSERT_TRUE(upbit.start(error)) << error;
  const Decimal btc_b0 = binance.free_base(0), btc_u0 = upbit.free_base(0);
  sim.set_rate(20.0);
  sim.with_exchange([](Exchange& x, SyntheticMarket&) {
    x.faults().error_5xx_share = 0.1;
    x.faults().timeout_share = 0.1;
    x.faults().partial_share = 0.2;
    x.faults().reject_share = 0.05;
  });
  exec::ExecParams params;
  params.run_id = 99;
  params.query_interval_ns = 20'000'000;
  exec::TwoLegExecutor exec({&binance, &upbit}, params);
  std::map<ExecOutcome, int> outcomes;
  std::int64_t net_b = 0, net_u = 0;
  for (std::uint64_t k = 1; k <= 12; ++k) {
    std::int64_t ask_b = 0, bid_u = 0;
    sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
      ask_b = m.book(venues::kBinance, 0).asks.begin()->first;
      bid_u = m.book(venues::kUpbit, 0).bids.rbegin()->first;
    });
    OrderIntent in;
    in.intent_id = k;
    in.position_id = k;
    in.deadline_ns = clock::mono_ns() + 2'000'000'000;
    in.leg(venues::kBinance) = {
        venues::kBinance, Side::buy, 0, 0, Decimal::from_mantissa(ask_b + ask_b / 1000),
        d("0.01"),        {}};
    in.leg(venues::kUpbit) = {
        venues::kUpbit, Side::sell, 0, 0, Decimal::from_mantissa(bid_u - bid_u / 1000),
        d("0.01"),      {}};
    ASSERT_TRUE(exec.submit(in, clock::mono_ns()));
    ExecReport r;
    const auto until = std::chrono::steady_clock::now() + 15s;
    bool done = false;
    while (!done && std::chrono::steady_clock::now() < until) {
      exec.poll(clock::mono_ns());
      done = exec.next_report(r);
      std::this_thread::sleep_for(200us);
    }
    ASSERT_TRUE(done) << "intent " << k;
    ++outcomes[r.outcome];
    if (std::getenv("XARB_TEST_VERBOSE") != nullptr) {
      std::printf("intent %llu %s: binance %s %lld-%lld, upbit %s %lld-%lld\n",
                  static_cast<unsigned long long>(k), std::string(to_string(r.outcome)).c_str(),
                  std::string(to_string(r.leg(venues::kBinance).status)).c_str(),
                  static_cast<long long>(r.leg(venues::kBinance).filled_qty.mantissa()),
                  static_cast<long long>(r.leg(venues::kBinance).unwound_qty.mantissa()),
                  std::string(to_string(r.leg(venues::kUpbit).status)).c_str(),
                  static_cast<long long>(r.leg(venues::kUpbit).filled_qty.mantissa()),
                  static_cast<long long>(r.leg(venues::kUpbit).unwound_qty.mantissa()));
    }
    for (const LegReport& leg : r.legs) {
      EXPECT_NE(leg.state, OrderState::unknown) << "a leg left unresolved in intent " << k;
    }
    const LegReport& lb = r.leg(venues::kBinance);
    const LegReport& lu = r.leg(venues::kUpbit);
    // Net of the commission Binance took from the BTC bought (the reports carry it, also for
    // fills found by a query, whose answer lists no fills: the order's trades say).
    net_b += lb.filled_qty.mantissa() - lb.unwound_qty.mantissa() - lb.fee_base.mantissa();
    net_u -= lu.filled_qty.mantissa() - lu.unwound_qty.mantissa();
  }
  sim.with_exchange([](Exchange& x, SyntheticMarket&) { x.faults() = FaultParams{}; });
  // The venues' own balances moved by what the reports say.
  std::vector<exec::AssetBalance> balances;
  ASSERT_TRUE(binance.read_balances(balances, error)) << error;
  ASSERT_TRUE(upbit.read_balances(balances, error)) << error;
  EXPECT_EQ(binance.free_base(0).mantissa() - btc_b0.mantissa(), net_b);
  EXPECT_EQ(upbit.free_base(0).mantissa() - btc_u0.mantissa(), net_u);
  EXPECT_GT(sim.summary().exchange.faults, 0u);
  std::printf(
      "outcomes: success %d partial_hedged %d rolled_back %d failed %d blocked %d; "
      "queries %llu retries %llu unwinds %llu\n",
      outcomes[ExecOutcome::success], outcomes[ExecOutcome::partial_hedged],
      outcomes[ExecOutcome::rolled_back], outcomes[ExecOutcome::failed],
      outcomes[ExecOutcome::blocked], static_cast<unsigned long long>(exec.stats().queries),
      static_cast<unsigned long long>(exec.stats().retries),
      static_cast<unsigned long long>(exec.stats().unwinds));
}

TEST_F(SimulatorTest, RateLimitAnswers429WithRetryAfterAndTheEngineStopsSending) {
  sim.set_rate(0.0);
  sim.with_exchange([](Exchange&, SyntheticMarket&) {});
  exec::RestVenue venue(map, venue_options(venues::kBinance));
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  std::int64_t ask = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    ask = m.book(venues::kBinance, 0).asks.begin()->first;
  });
  // 50 orders per 10 s: the 51st is refused with 429 and Retry-After.
  int refused = 0;
  for (int k = 0; k < 51; ++k) {
    exec::OrderRequest o;
    o.client_id.assign("rl-" + std::to_string(k));
    o.instrument = 0;
    o.side = Side::buy;
    o.price = Decimal::from_mantissa(ask);
    o.qty = d("0.001");
    exec::OrderStatus s;
    if (!venue.place_blocking(o, s, error)) {
      ++refused;
      EXPECT_NE(error.find("HTTP 429"), std::string::npos) << error;
    }
  }
  EXPECT_EQ(refused, 1);
  EXPECT_GT(venue.budget(clock::mono_ns()).blocked_until_ns, clock::mono_ns());
  // The engine sends nothing more until Retry-After: never a 418.
  exec::OrderRequest o;
  o.client_id.assign("rl-x");
  o.instrument = 0;
  o.price = Decimal::from_mantissa(ask);
  o.qty = d("0.001");
  EXPECT_FALSE(venue.place(o, {}));
  EXPECT_EQ(sim.summary().exchange.banned, 0u);
}

// A 429 blocks for Retry-After; requests already in flight when it was written get 429 too, and
// only a client that keeps sending (the ban_after_requests-th request during the block) is
// banned with 418 for ban_s.
TEST_F(SimulatorTest, BinanceBansOnlyAClientThatKeepsSendingAfter429) {
  sim.with_exchange([](Exchange& ex, SyntheticMarket&) {
    HttpRequest time;
    time.method = "GET";
    time.target = "/api/v3/time";
    std::vector<std::pair<Venue, std::size_t>> touched;
    int ok = 0;
    HttpResult r;
    // Weight 1 each, 1,200 a minute: the 1,201st is refused.
    while ((r = ex.handle(venues::kBinance, time, touched)).status == 200) ++ok;
    EXPECT_EQ(ok, 1200);
    EXPECT_EQ(r.status, 429);
    EXPECT_NE(r.body.find("-1003"), std::string::npos) << r.body;
    EXPECT_EQ(ex.handle(venues::kBinance, time, touched).status, 429);  // in flight
    EXPECT_EQ(ex.handle(venues::kBinance, time, touched).status, 429);  // in flight
    r = ex.handle(venues::kBinance, time, touched);                     // still sending: banned
    EXPECT_EQ(r.status, 418);
    EXPECT_NE(r.body.find("banned until"), std::string::npos) << r.body;
    bool retry_after = false;
    for (const auto& [name, value] : r.headers) {
      if (name == "Retry-After") retry_after = std::stoi(value) > 100;  // ban_s = 120
    }
    EXPECT_TRUE(retry_after);
    EXPECT_EQ(ex.handle(venues::kBinance, time, touched).status, 418);
  });
}

// Replay as the market source: the recorded Binance depth of 2021-04-04 drives the simulator's
// Binance books at 50x; the engine's feed ends with the same books, and Upbit follows the
// replayed BTC price with the premium.
// Runs the feed while the replay plays to its end (at most 60 s), then pauses the market's own
// updates and runs the feed until its books of the two symbols hold what the simulator's hold.
void play_replay(Simulator& sim, feed::FeedStage& stage, SpscRing<BookSnapshot>& ring) {
  EXPECT_TRUE(feed_until(
      stage, ring, [&] { return sim.summary().replay_finished; }, 60s))
      << "the replay did not finish within 60 s";
  settle(sim, stage, ring, std::nullopt);
}

// Bithumb's front end, traded by the engine's own Bithumb adapter: an IOC buy acknowledged
// without a state and found filled on query; an IOC sell bigger than the best level, which
// Bithumb ends `done` with part of it filled (final: never "still working"); a resting order
// cancelled; a reused client id refused with Bithumb's error. After each, what the engine holds
// is what the venue's accounts hold, to the last unit.
TEST(SimulatorBithumb, OrdersFillAndTheEnginesBalancesAreTheVenues) {
  SimOptions o = options();
  o.venues[index(venues::kBithumb)].served = true;
  o.accounts.push_back({venues::kBithumb,
                        "hkey-0123456789",
                        "hsecret",
                        {{"KRW", 1'000'000'000 * Decimal::kOne}, {"BTC", 10 * Decimal::kOne}}});
  Simulator sim(o);
  sim.start();
  sim.set_rate(0.0);
  ASSERT_NE(sim.port(venues::kBithumb), 0);
  SymbolMap map;
  ASSERT_EQ(map.add("BTC", {{venues::kBithumb, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  exec::RestVenueOptions ro;
  ro.venue = venues::kBithumb;
  ro.rest_url = sim.rest_url(venues::kBithumb);
  ro.ca_file = sim.ca_file();
  ro.credentials = {"hkey-0123456789", "hsecret"};
  exec::RestVenue venue(map, ro);
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  EXPECT_EQ(venue.free_quote(), d("1000000000"));
  EXPECT_EQ(venue.free_base(0), d("10"));
  EXPECT_TRUE(venue.rules(0).krw_table == &exec::kBithumbKrwTicks);

  // What the venue holds for the account, and what the engine believes it holds: equal.
  const auto held = [&](const char* asset) {
    std::int64_t m = 0;
    sim.with_exchange([&](Exchange& x, SyntheticMarket&) {
      for (const AccountSpec& a : x.accounts()) {
        if (a.venue == venues::kBithumb) m = a.balances.count(asset) ? a.balances.at(asset) : 0;
      }
    });
    return Decimal::from_mantissa(m);
  };
  const auto balances_agree = [&] {
    EXPECT_EQ(venue.free_quote(), held("KRW"));
    EXPECT_EQ(venue.free_base(0), held("BTC"));
  };

  std::int64_t ask = 0, bid = 0, bid_qty = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    const SimBook& b = m.book(venues::kBithumb, 0);
    ask = b.asks.begin()->first;
    bid = b.bids.rbegin()->first;
    bid_qty = b.bids.rbegin()->second;
  });
  exec::OrderRequest buy;
  buy.client_id.assign("x1-1-H0");
  buy.instrument = 0;
  buy.side = Side::buy;
  buy.price = Decimal::from_mantissa(ask);
  buy.qty = d("0.01");
  exec::OrderStatus s;
  ASSERT_TRUE(venue.place_blocking(buy, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::acked) << "Bithumb acknowledges without a state";
  EXPECT_FALSE(s.venue_id.empty());
  ASSERT_TRUE(venue.get_blocking(0, buy.client_id, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::filled);
  EXPECT_EQ(s.filled_qty, d("0.01"));
  EXPECT_EQ(s.avg_price(), Decimal::from_mantissa(ask));
  EXPECT_GT(s.fee_quote.mantissa(), 0) << "paid in KRW";
  balances_agree();

  // More than the best bid holds, priced at it: the rest is cancelled and the order is done.
  exec::OrderRequest sell = buy;
  sell.client_id.assign("x1-2-H0");
  sell.side = Side::sell;
  sell.price = Decimal::from_mantissa(bid);
  sell.qty = Decimal::from_mantissa(bid_qty + 5 * Decimal::kOne / 10);
  ASSERT_TRUE(venue.place_blocking(sell, s, error)) << error;
  ASSERT_TRUE(venue.get_blocking(0, sell.client_id, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::canceled);
  EXPECT_TRUE(s.final());
  EXPECT_EQ(s.filled_qty, Decimal::from_mantissa(bid_qty));
  balances_agree();

  // A resting order (GTC, far below the book) cancelled: the cancel is acknowledged, the order
  // then reads canceled with nothing filled, and nothing moved.
  exec::OrderRequest rest = buy;
  rest.client_id.assign("x1-3-H0");
  rest.tif = exec::TimeInForce::gtc;
  rest.price = d("50000000");
  ASSERT_TRUE(venue.place_blocking(rest, s, error)) << error;
  ASSERT_TRUE(venue.cancel_blocking(0, rest.client_id, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::acked);
  ASSERT_TRUE(venue.get_blocking(0, rest.client_id, s, error)) << error;
  EXPECT_EQ(s.state, OrderState::canceled);
  EXPECT_EQ(s.filled_qty, Decimal{});

  // The client id is unique: Bithumb's own error, classified.
  EXPECT_FALSE(venue.place_blocking(buy, s, error));
  EXPECT_NE(error.find("duplicate_client_order_id"), std::string::npos) << error;
  EXPECT_EQ(s.error.kind, VenueErrorKind::duplicate);
  // Under the minimum total: Bithumb's name for it.
  exec::OrderRequest tiny = buy;
  tiny.client_id.assign("x1-4-H0");
  tiny.qty = d("0.00000001");
  EXPECT_FALSE(venue.place_blocking(tiny, s, error));
  EXPECT_NE(error.find("under_price_limit_bid"), std::string::npos) << error;
  EXPECT_EQ(s.error.kind, VenueErrorKind::filter_failure);

  // A fresh read of the venue's balances says what the engine already held.
  const Decimal quote = venue.free_quote(), base = venue.free_base(0);
  std::vector<exec::AssetBalance> read;
  ASSERT_TRUE(venue.read_balances(read, error)) << error;
  EXPECT_EQ(venue.free_quote(), quote);
  EXPECT_EQ(venue.free_base(0), base);
  balances_agree();

  // Another venue's keys are not Bithumb's.
  exec::RestVenueOptions wrong = ro;
  wrong.credentials = {"ukey-0123456789", "usecret"};
  exec::RestVenue stranger(map, wrong);
  EXPECT_FALSE(stranger.start(error));
}

// A KRW venue's price unit moves with the price. The coin starts just under 5,000 KRW, where the
// unit is 1 (and Upbit's orderbook/instruments says so), then its book is set across every band
// of the venue's table in turn: at each edge an IOC buy over the best ask and an IOC sell under
// the best bid, priced by the engine's own rounding, are accepted by the venue (never
// invalid_price), and what the engine holds is what the venue holds.
void walk_every_band(Venue v) {
  SimOptions o = options();
  SymbolSpec coin;
  coin.base = "XRP";
  coin.markets[index(venues::kBinance)] = "XRPUSDT";
  coin.markets[index(venues::kUpbit)] = "KRW-XRP";
  coin.markets[index(venues::kBithumb)] = "KRW-XRP";
  coin.price_usdt = 4'985.0 / (1'400.0 * 1.025);
  coin.tick = d("0.0001");
  coin.step = d("0.1");
  o.symbols = {coin};
  o.venues[index(venues::kBithumb)].served = v == venues::kBithumb;
  o.market.price_vol = 0.0;
  o.market.premium_vol_bps = 0.0;
  o.market.jump_probability = 0.0;
  const exec::Credentials& c = v == venues::kUpbit ? exec::Credentials{"ukey-0123456789", "usecret"}
                                                   : exec::Credentials{"hkey-0123456789", "hsecret"};
  std::erase_if(o.accounts, [&](const AccountSpec& a) { return a.venue == v; });
  o.accounts.push_back(
      {v, c.key, c.secret, {{"KRW", 10'000'000'000 * Decimal::kOne}, {"XRP", 1'000'000'000 * Decimal::kOne}}});
  Simulator sim(o);
  sim.start();
  sim.set_rate(0.0);
  SymbolMap map;
  ASSERT_EQ(map.add("XRP", {{v, "KRW-XRP"}, {venues::kBinance, "XRPUSDT"}}), Errc::ok);
  exec::RestVenueOptions ro;
  ro.venue = v;
  ro.rest_url = sim.rest_url(v);
  ro.ca_file = sim.ca_file();
  ro.credentials = c;
  exec::RestVenue venue(map, ro);
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  const exec::InstrumentRules& rules = venue.rules(0);
  ASSERT_TRUE(rules.krw_table != nullptr) << "the table applies at each order's own price";
  EXPECT_EQ(exec::tick_at(rules, d("4985")), d("1"));
  EXPECT_EQ(exec::tick_at(rules, d("5003")), d("5"));

  int n = 0;
  for (const exec::TickBand& band : rules.krw_table->bands) {
    if (band.from == 0) continue;
    const std::int64_t below = exec::tick_at(rules, Decimal::from_mantissa(band.from - 1)).mantissa();
    const std::int64_t at = exec::tick_at(rules, Decimal::from_mantissa(band.from)).mantissa();
    // Enough for the 5,000 KRW minimum at this price, on the 1e-8 volume step.
    const std::int64_t qty = static_cast<std::int64_t>(
        static_cast<Int128>(6'000) * Decimal::kOne * Decimal::kOne / band.from + 1);
    sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
      SimBook& b = m.book(v, 0);
      b.bids.clear();
      b.asks.clear();
      for (std::int64_t k = 1; k <= 5; ++k) {
        b.bids[band.from - k * below] = 10 * qty;
        b.asks[band.from + (k - 1) * at] = 10 * qty;
      }
    });
    for (const Side side : {Side::buy, Side::sell}) {
      // Over the best ask (under the best bid) by 0.07 %: off the grid, as a slippage cap is.
      const Int128 best = side == Side::buy ? band.from : band.from - below;
      const Int128 capped = side == Side::buy ? best * 10'007 / 10'000 : best * 9'993 / 10'000;
      exec::OrderRequest order;
      order.client_id.assign("band-" + std::to_string(++n));
      order.instrument = 0;
      order.side = side;
      order.qty = Decimal::from_mantissa(qty);
      ASSERT_EQ(exec::round_price(rules, side, Decimal::from_mantissa(static_cast<std::int64_t>(capped)),
                                  order.price),
                Errc::ok);
      exec::OrderStatus s;
      EXPECT_TRUE(venue.place_blocking(order, s, error))
          << to_string(v) << " refused " << to_string(order.price) << " at the band from "
          << to_string(Decimal::from_mantissa(band.from)) << ": " << error;
      ASSERT_TRUE(venue.get_blocking(0, order.client_id, s, error)) << error;
      EXPECT_EQ(s.filled_qty, order.qty) << to_string(order.price);
    }
  }
  EXPECT_GT(n, 16);
  sim.with_exchange([&](Exchange& x, SyntheticMarket&) {
    for (const AccountSpec& a : x.accounts()) {
      if (a.venue != v) continue;
      EXPECT_EQ(venue.free_quote(), Decimal::from_mantissa(a.balances.at("KRW")));
      EXPECT_EQ(venue.free_base(0), Decimal::from_mantissa(a.balances.at("XRP")));
    }
  });
}

TEST(SimulatorPriceUnits, UpbitOrdersArePricedOnTheUnitOfTheirOwnPriceAcrossEveryBand) {
  walk_every_band(venues::kUpbit);
}

TEST(SimulatorPriceUnits, BithumbOrdersArePricedOnTheUnitOfTheirOwnPriceAcrossEveryBand) {
  walk_every_band(venues::kBithumb);
}

// The feed on three venues: Bithumb's public websocket (Upbit's framing, its own markets) beside
// Binance's and Upbit's. Every Bithumb book the engine holds is the simulator's, level for level,
// and its premium differs from Upbit's (a KRW <-> KRW spread to trade).
TEST(SimulatorBithumb, TheFeedsBithumbBooksAreTheSimulators) {
  SimOptions o = options();
  o.venues[index(venues::kBithumb)].served = true;
  Simulator sim(o);
  sim.start();
  SymbolMap map;
  for (const char* base : {"BTC", "ETH"}) {
    const std::string krw = std::string("KRW-") + base, usdt = std::string(base) + "USDT";
    ASSERT_EQ(
        map.add(base, {{venues::kUpbit, krw}, {venues::kBinance, usdt}, {venues::kBithumb, krw}}),
        Errc::ok);
  }
  ASSERT_EQ(map.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
  feed::FeedOptions f = feed_options_for(sim);
  f.endpoint(venues::kBithumb) = {sim.ws_url(venues::kBithumb), "", sim.ca_file(), true};
  SpscRing<BookSnapshot> ring(1 << 14);
  feed::FeedStage stage(f, map, ring);
  stage.start();
  std::uint64_t snapshots = 0;
  ASSERT_TRUE(feed_until(
      stage, ring, [&] { return stage.stats(venues::kBithumb).frames > 100; }, 30s, &snapshots));
  sim.set_rate(0.0);
  const bool same = feed_until(
      stage, ring,
      [&] {
        return same_tops(sim, [&](SyntheticMarket& m) {
          BookPairs p;
          for (InstrumentId i : {InstrumentId{0}, InstrumentId{1}}) {
            p.emplace_back(&m.book(venues::kBithumb, i), stage.books().book(venues::kBithumb, i));
            p.emplace_back(&m.book(venues::kUpbit, i), stage.books().book(venues::kUpbit, i));
          }
          return p;
        });
      },
      20s, &snapshots);
  EXPECT_TRUE(same) << "the feed's Bithumb and Upbit books did not reach the simulator's";
  EXPECT_EQ(stage.parser_stats(venues::kBithumb).count(feed::MsgKind::dropped), 0u);
  EXPECT_GT(stage.parser_stats(venues::kBithumb).count(feed::MsgKind::orderbook), 100u);
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    for (InstrumentId i : {InstrumentId{0}, InstrumentId{1}}) {
      expect_same_top(m.book(venues::kBithumb, i), *stage.books().book(venues::kBithumb, i),
                      "bithumb");
      EXPECT_NE(m.book(venues::kBithumb, i).bids.rbegin()->first,
                m.book(venues::kUpbit, i).bids.rbegin()->first)
          << "Bithumb's premium is its own";
    }
  });
  stage.stop();
}

TEST(SimulatorReplay, RecordedBinanceDepthDrivesTheBooksTheEngineSees) {
  SimOptions o = options();
  o.replay_files = {std::string(XARB_DATA_DIR) +
                    "/binance/2021-04-04_btcusdt_ethusdt_dotusdt_depth_aggtrade.events.jsonl"};
  o.replay_speed = 50.0;
  o.updates_per_second = 50.0;
  Simulator sim(o);
  sim.start();
  const SymbolMap map = symbols();
  SpscRing<BookSnapshot> ring(1 << 14);
  feed::FeedStage stage(feed_options_for(sim), map, ring);
  stage.start();
  play_replay(sim, stage, ring);  // the capture is 92 s: 1.9 s at 50x
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    const SimBook& btc = m.book(venues::kBinance, 0);
    ASSERT_FALSE(btc.bids.empty());
    const double mid =
        static_cast<double>(btc.bids.rbegin()->first + btc.asks.begin()->first) / 2e8;
    EXPECT_GT(mid, 55'000.0) << "BTCUSDT in April 2021";
    EXPECT_LT(mid, 61'000.0);
    EXPECT_GT(btc.update_id, 1'000'000u) << "the capture's own update ids";
    expect_same_top(btc, stage.books().diff_book(venues::kBinance, 0)->book(),
                    "replayed binance BTC");
    expect_same_top(m.book(venues::kBinance, 1),
                    stage.books().diff_book(venues::kBinance, 1)->book(), "replayed binance ETH");
    expect_same_top(m.book(venues::kUpbit, 0), *stage.books().book(venues::kUpbit, 0),
                    "upbit following");
  });
  EXPECT_EQ(stage.books().gaps(), 0u);
  stage.stop();
}

// The last KRW-ADA orderbook frame of the Upbit capture, read from its text with a regex (not
// the simulator's JSON path): (price, size) mantissas, asks and bids.
struct CapturedBook {
  std::vector<std::pair<std::int64_t, std::int64_t>> asks, bids;
};
CapturedBook last_captured_upbit_book(const std::string& path, const std::string& code) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line)) {
    if (line.find(R"("ty":"orderbook","cd":")" + code + "\"") != std::string::npos) last = line;
  }
  CapturedBook out;
  const std::regex unit(R"re(\{"ap":([0-9.]+),"bp":([0-9.]+),"as":([0-9.]+),"bs":([0-9.]+)\})re");
  for (std::sregex_iterator it(last.begin(), last.end(), unit), end; it != end; ++it) {
    const auto m = [&](std::size_t k) { return d((*it)[k].str().c_str()).mantissa(); };
    out.asks.emplace_back(m(1), m(3));
    out.bids.emplace_back(m(2), m(4));
  }
  return out;
}

// Both captures at once: the Binance one drives BTCUSDT's book (and KRW-BTC follows), the Upbit
// one drives KRW-ADA's book (and ADAUSDT follows it through the premium and the FX rate). What
// the engine's feed ends with is the capture's last KRW-ADA book, level for level.
TEST(SimulatorReplay, RecordedUpbitBooksDriveTheUpbitBooksTheEngineSees) {
  SimOptions o = options();
  SymbolSpec ada;
  ada.base = "ADA";
  ada.markets[index(venues::kBinance)] = "ADAUSDT";
  ada.markets[index(venues::kUpbit)] = "KRW-ADA";
  ada.price_usdt = 1.0;  // the capture moves it to its own level (1,585 KRW in April 2021)
  ada.tick = Decimal::from_mantissa(1'000);  // 0.00001
  ada.step = Decimal::from_mantissa(10'000'000);     // 0.1
  ada.level_qty = 1'000.0;
  o.symbols = {o.symbols[0], ada};
  const std::string upbit_capture =
      std::string(XARB_DATA_DIR) + "/upbit/2021-04-05_simple_orderbook_trade.events.jsonl";
  o.replay_files = {std::string(XARB_DATA_DIR) +
                        "/binance/2021-04-04_btcusdt_ethusdt_dotusdt_depth_aggtrade.events.jsonl",
                    upbit_capture};
  o.replay_speed = 50.0;  // 92 s and 120 s of capture: 2.4 s
  o.updates_per_second = 50.0;
  Simulator sim(o);
  sim.start();
  SymbolMap map;
  ASSERT_EQ(map.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}), Errc::ok);
  ASSERT_EQ(map.add("ADA", {{venues::kUpbit, "KRW-ADA"}, {venues::kBinance, "ADAUSDT"}}), Errc::ok);
  ASSERT_EQ(map.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
  SpscRing<BookSnapshot> ring(1 << 14);
  feed::FeedStage stage(feed_options_for(sim), map, ring);
  stage.start();
  play_replay(sim, stage, ring);
  const CapturedBook captured = last_captured_upbit_book(upbit_capture, "KRW-ADA");
  ASSERT_EQ(captured.asks.size(), 15u);
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    ASSERT_TRUE(m.replayed(venues::kUpbit, 1));
    ASSERT_FALSE(m.replayed(venues::kBinance, 1));
    const SimBook& u = m.book(venues::kUpbit, 1);
    // The simulator's KRW-ADA book is the capture's last one, exactly.
    ASSERT_EQ(u.asks.size(), captured.asks.size());
    ASSERT_EQ(u.bids.size(), captured.bids.size());
    auto ait = u.asks.begin();
    auto bit = u.bids.rbegin();
    for (std::size_t k = 0; k < captured.asks.size(); ++k, ++ait, ++bit) {
      EXPECT_EQ(ait->first, captured.asks[k].first) << "ask " << k;
      EXPECT_EQ(ait->second, captured.asks[k].second) << "ask " << k;
      EXPECT_EQ(bit->first, captured.bids[k].first) << "bid " << k;
      EXPECT_EQ(bit->second, captured.bids[k].second) << "bid " << k;
    }
    // ... and what the engine's feed holds.
    expect_same_top(u, *stage.books().book(venues::kUpbit, 1), "replayed upbit ADA");
    // ADAUSDT follows: its mid is the Upbit mid at the model's premium and FX rate.
    const SimBook& b = m.book(venues::kBinance, 1);
    ASSERT_FALSE(b.bids.empty());
    const double upbit_mid =
        static_cast<double>(u.bids.rbegin()->first + u.asks.begin()->first) / 2e8;
    const double binance_mid =
        static_cast<double>(b.bids.rbegin()->first + b.asks.begin()->first) / 2e8;
    EXPECT_NEAR(binance_mid, upbit_mid / (m.fx() * (1.0 + m.premium_bps(1) * 1e-4)),
                binance_mid * 0.01);
    expect_same_top(b, *stage.books().book(venues::kBinance, 1), "binance ADA following");
    // The Binance capture still drives BTC.
    EXPECT_TRUE(m.replayed(venues::kBinance, 0));
    EXPECT_GT(m.book(venues::kBinance, 0).update_id, 1'000'000u);
    expect_same_top(m.book(venues::kBinance, 0),
                    stage.books().diff_book(venues::kBinance, 0)->book(), "replayed binance BTC");
  });
  EXPECT_EQ(stage.books().gaps(), 0u);
  stage.stop();
}

// The shipped configs load as they are, and the replay variant's captures are the project's own
// (data/), not files beside the project.
TEST(SimConfig, ShippedConfigsLoadAndReplayTheProjectsOwnCaptures) {
  SimOptions o;
  std::string error;
  ASSERT_TRUE(load_sim_options((test::source_dir() / "configs/sim.toml").string(), o, error))
      << error;
  EXPECT_TRUE(o.replay_files.empty());
  // One test account per venue it ships: scripts/demo and tests/thirdparty serve Bithumb with it.
  for (const Venue v : {venues::kBinance, venues::kUpbit, venues::kBithumb}) {
    EXPECT_EQ(std::count_if(o.accounts.begin(), o.accounts.end(),
                            [&](const AccountSpec& a) { return a.venue == v; }),
              1)
        << to_string(v);
  }
  // Its commented-out Bithumb port is a key the loader takes (it refused it once).
  {
    std::ifstream in(test::source_dir() / "configs/sim.toml");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t at = text.find("# bithumb_port = 0");
    ASSERT_NE(at, std::string::npos);
    text.replace(at, 18, "bithumb_port = 12345");
    const std::filesystem::path copy = std::filesystem::temp_directory_path() /
                                       ("xarb-sim-port-" + std::to_string(::getpid()) + ".toml");
    std::ofstream(copy) << text;
    SimOptions with_port;
    EXPECT_TRUE(load_sim_options(copy.string(), with_port, error)) << error;
    EXPECT_EQ(with_port.venues[index(venues::kBithumb)].port, 12345);
    std::filesystem::remove(copy);
  }
  ASSERT_TRUE(load_sim_options((test::source_dir() / "configs/sim-replay.toml").string(), o, error))
      << error;
  ASSERT_EQ(o.replay_files.size(), 2u);
  const std::filesystem::path data = std::filesystem::canonical(test::data_dir());
  for (const std::string& f : o.replay_files) {
    const std::filesystem::path p = std::filesystem::canonical(f);
    EXPECT_EQ(p.string().rfind(data.string() + "/", 0), 0u) << p << " is not under " << data;
  }
}

// Two accounts of one venue with one key: the second's balances no request could reach, so the
// simulator refuses to start (configs/sim.toml's own Bithumb account and a test's were once both
// there).
TEST(SimConfig, TwoAccountsOfAVenueWithOneKeyAreRefused) {
  SimOptions o = options();
  o.accounts.push_back(o.accounts.front());
  Simulator sim(o);
  try {
    sim.start();
    ADD_FAILURE() << "started with two accounts of one key";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("accounts have the key"), std::string::npos) << e.what();
  }
}

// replay_file: one path or a list, relative to the config's folder; a missing file or a wrong
// type is refused with the file, line and key before anything starts.
TEST(SimConfig, ReplayFilesAreOneOrAListRelativeToTheConfig) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("xarb_sim_config_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "captures");
  std::ofstream(dir / "captures" / "a.jsonl") << "\n";
  std::ofstream(dir / "captures" / "b.jsonl") << "\n";
  const auto load = [&](const std::string& market, SimOptions& o, std::string& error) {
    const std::string path = (dir / "sim.toml").string();
    std::ofstream(path) << "[market]\n" << market << "\n[[symbols]]\nbase = \"BTC\"\n";
    return load_sim_options(path, o, error);
  };
  SimOptions o;
  std::string error;
  ASSERT_TRUE(load("source = \"replay\"\nreplay_file = \"captures/a.jsonl\"", o, error)) << error;
  EXPECT_EQ(o.replay_files, std::vector<std::string>{(dir / "captures" / "a.jsonl").string()});
  ASSERT_TRUE(load("source = \"replay\"\nreplay_file = [\"captures/a.jsonl\", \"" +
                       (dir / "captures" / "b.jsonl").string() + "\"]",
                   o, error))
      << error;
  EXPECT_EQ(o.replay_files, (std::vector<std::string>{(dir / "captures" / "a.jsonl").string(),
                                                      (dir / "captures" / "b.jsonl").string()}));
  ASSERT_TRUE(load("source = \"synthetic\"\nreplay_file = \"captures/a.jsonl\"", o, error));
  EXPECT_TRUE(o.replay_files.empty()) << "synthetic ignores the captures";
  EXPECT_FALSE(load("source = \"replay\"\nreplay_file = \"captures/missing.jsonl\"", o, error));
  EXPECT_NE(error.find("sim.toml:3:"), std::string::npos) << error;
  EXPECT_NE(error.find("market.replay_file: no such file"), std::string::npos) << error;
  EXPECT_FALSE(load("source = \"replay\"\nreplay_file = [\"captures/a.jsonl\", 3]", o, error));
  EXPECT_NE(error.find("market.replay_file: must be a path or a list of paths"), std::string::npos)
      << error;
  EXPECT_FALSE(load("source = \"replay\"", o, error));
  EXPECT_NE(error.find("market.replay_file: is required"), std::string::npos) << error;
  std::filesystem::remove_all(dir);
}

// The simulator reads its file through the engine's settings reader: every problem at once, each
// with file, line, column and key, an unknown key with the nearest known one.
TEST(SimConfig, EveryProblemIsToldWithItsPlace) {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("xarb_sim_bad_" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << "[market]\nlevles = 5\n\n[fees]\nbinance_bps = \"ten\"\n\n"
                         "[[symbols]]\nbase = \"BTC\"\ntick = \"-1\"\n\n"
                         "[[accounts]]\nvenue = \"okx\"\nkey = \"k\"\nsecret = \"s\"\n";
  SimOptions o;
  std::string error;
  EXPECT_FALSE(load_sim_options(path.string(), o, error));
  std::string names;  // every venue of the registry
  for (const venues::VenueInfo& v : venues::kRegistry) {
    names += (names.empty() ? "" : ", ") + std::string(v.name);
  }
  for (const std::string& expected :
       {std::string(":2:1: market.levles: unknown key (did you mean 'levels'?)"),
        std::string(":5:15: fees.binance_bps: expected a number, got a string"),
        std::string(":9:8: symbols.tick: must be greater than 0, got -1"),
        ":12:9: accounts.venue: must be one of " + names + ", not \"okx\""}) {
    EXPECT_NE(error.find(path.string() + expected), std::string::npos) << expected << " in\n"
                                                                        << error;
  }
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 3) << error;
  std::filesystem::remove(path);
}

// The latency probe: the premium jumps and falls back on schedule, the jumped Upbit frame reaches
// the feed, and only a kimchi entry order on the probed symbol (an Upbit ask; not a Binance SELL)
// is timed against it, once.
TEST(SimulatorProbe, TimesTheFirstEntryOrderAfterAJumpedFrame) {
  SimOptions o = options();
  o.updates_per_second = 50.0;
  o.probe_every_ms = 200;
  o.probe_hold_ms = 100;
  o.probe_jump_bps = 400.0;
  Simulator sim(o);
  sim.start();
  const SymbolMap map = symbols();
  SpscRing<BookSnapshot> ring(1 << 14);
  feed::FeedStage stage(feed_options_for(sim), map, ring);
  stage.start();
  // The Upbit BTC bid seen by the feed over a few probe periods: the 400 bps jumps (the market's
  // own moves in a second are a few bps).
  double high = 0, low = 1e18;
  BookSnapshot s;
  const auto jumped = [&] { return (high / low - 1.0) * 1e4 > 300.0; };
  const auto watch = [&](std::chrono::milliseconds at_least, const std::function<bool()>& done) {
    const auto start = std::chrono::steady_clock::now();
    const auto limit = start + at_least + 30s;
    for (;;) {
      stage.run_for(2ms);
      while (ring.try_pop(s)) {
        if (s.venue != venues::kUpbit || s.instrument != 0 || s.bid_count == 0) continue;
        high = std::max(high, s.bids[0].price.to_double());
        low = std::min(low, s.bids[0].price.to_double());
      }
      const auto now = std::chrono::steady_clock::now();
      if ((now - start >= at_least && done()) || now > limit) return;
    }
  };
  watch(900ms, jumped);  // four probe periods, and until a jump was seen
  EXPECT_TRUE(jumped()) << "the jumps of 400 bps reached the feed: " << low << " .. " << high;

  exec::RestVenue binance(map, venue_options_for(sim, venues::kBinance));
  exec::RestVenue upbit(map, venue_options_for(sim, venues::kUpbit));
  std::string error;
  ASSERT_TRUE(binance.start(error)) << error;
  ASSERT_TRUE(upbit.start(error)) << error;
  std::int64_t bid = 0;
  sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
    bid = m.book(venues::kBinance, 0).bids.rbegin()->first;
  });
  exec::OrderRequest sell;
  sell.client_id.assign("probe-b-sell");
  sell.instrument = 0;
  sell.side = Side::sell;
  sell.price = Decimal::from_mantissa(bid);
  sell.qty = d("0.001");
  sell.tif = exec::TimeInForce::ioc;
  exec::OrderStatus st;
  ASSERT_TRUE(binance.place_blocking(sell, st, error)) << error;
  EXPECT_EQ(sim.summary().probes.answered, 0u) << "a Binance SELL is not a kimchi entry";
  // An Upbit ask (a market-able sell) right after a jumped frame went out is timed; retry across
  // the instant a new probe re-arms.
  std::uint64_t answered = 0;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  for (int k = 0; answered == 0 && std::chrono::steady_clock::now() < give_up; ++k) {
    watch(60ms, [] { return true; });
    sim.with_exchange([&](Exchange&, SyntheticMarket& m) {
      bid = m.book(venues::kUpbit, 0).bids.rbegin()->first;
    });
    exec::OrderRequest ask;
    ask.client_id.assign("probe-u-" + std::to_string(k));
    ask.instrument = 0;
    ask.side = Side::sell;
    ask.price = Decimal::from_mantissa(bid);
    ask.qty = d("0.001");
    ask.tif = exec::TimeInForce::ioc;
    ASSERT_TRUE(upbit.place_blocking(ask, st, error)) << error;
    answered = sim.summary().probes.answered;
  }
  const SimSummary summary = sim.summary();
  EXPECT_EQ(summary.probes.answered, 1u);
  ASSERT_EQ(summary.probes.latencies_ns.size(), 1u);
  EXPECT_GT(summary.probes.latencies_ns[0], 0);
  EXPECT_LT(summary.probes.latencies_ns[0], 1'000'000'000);
  EXPECT_GE(summary.probes.sent, 4u);
  EXPECT_NE(summary.probes.json().find(R"("answered":1)"), std::string::npos)
      << summary.probes.json();
  stage.stop();
}

// The Binance diff stream's base: the levels side_diff finds, applied with apply_diff, turn the
// old side into the new one exactly (gone levels as qty 0), in ascending price order, for random
// books that share some levels, change some and lose some.
TEST(SyntheticMarket, SideDiffAppliedGivesTheNewBook) {
  std::mt19937_64 rng(3);
  for (int round = 0; round < 500; ++round) {
    BookSide before, after;
    for (int k = 0; k < 30; ++k) {
      const std::int64_t p = static_cast<std::int64_t>(rng() % 60) * 100;
      if (rng() % 3 != 0) before[p] = static_cast<std::int64_t>(1 + rng() % 5);
      if (rng() % 3 != 0)
        after[p] = rng() % 2 == 0 && before.contains(p) ? before[p]
                                                        : static_cast<std::int64_t>(1 + rng() % 5);
    }
    const auto diff = side_diff(before, after);
    for (std::size_t k = 1; k < diff.size(); ++k) ASSERT_LT(diff[k - 1].first, diff[k].first);
    for (const auto& [p, q] : diff) {
      ASSERT_EQ(q, after.contains(p) ? after.at(p) : 0) << p;
      ASSERT_TRUE(!before.contains(p) || !after.contains(p) || before.at(p) != after.at(p)) << p;
    }
    BookSide applied = before;
    apply_diff(applied, diff);
    ASSERT_EQ(applied, after) << "round " << round;
  }
}

// Books refilled in place keep their shape: `levels` levels a side on the price grid, bids
// below asks, every quantity a positive multiple of the step, over many updates.
TEST(SyntheticMarket, BooksKeepTheirShapeOverManyUpdates) {
  SimOptions o = options();
  SyntheticMarket m(o.symbols, o.market);
  m.rebuild_all(0);
  for (int k = 0; k < 20'000; ++k) {
    const BookUpdate u = m.step(0.001, k);
    ASSERT_NE(u.symbol, BookUpdate::kNone);
    if (u.symbol == o.symbols.size()) continue;
    const SimBook& b = m.book(u.venue, u.symbol);
    ASSERT_EQ(b.bids.size(), static_cast<std::size_t>(o.market.levels)) << k;
    ASSERT_EQ(b.asks.size(), static_cast<std::size_t>(o.market.levels)) << k;
    ASSERT_LT(b.bids.rbegin()->first, b.asks.begin()->first) << k;
    if (u.venue == venues::kBinance) {
      const std::int64_t tick = o.symbols[u.symbol].tick.mantissa();
      const std::int64_t step = o.symbols[u.symbol].step.mantissa();
      for (const auto& [p, q] : b.bids) {
        ASSERT_EQ(p % tick, 0) << k;
        ASSERT_TRUE(q > 0 && q % step == 0) << k;
      }
      ASSERT_EQ(b.asks.rbegin()->first - b.asks.begin()->first, (o.market.levels - 1) * tick) << k;
    }
  }
}

TEST(SyntheticMarket, SameSeedSameStream) {
  SimOptions o = options();
  SyntheticMarket a(o.symbols, o.market), b(o.symbols, o.market);
  o.market.seed = 8;
  SyntheticMarket c(o.symbols, o.market);
  a.rebuild_all(0);
  b.rebuild_all(0);
  c.rebuild_all(0);
  bool differs = false;
  for (int k = 0; k < 2'000; ++k) {
    const BookUpdate ua = a.step(0.01, k);
    const BookUpdate ub = b.step(0.01, k);
    (void)c.step(0.01, k);
    ASSERT_EQ(ua.venue, ub.venue);
    ASSERT_EQ(ua.symbol, ub.symbol);
  }
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(a.book(venues::kBinance, i).bids, b.book(venues::kBinance, i).bids);
    EXPECT_EQ(a.book(venues::kUpbit, i).asks, b.book(venues::kUpbit, i).asks);
    differs = differs || a.book(venues::kBinance, i).bids != c.book(venues::kBinance, i).bids;
  }
  EXPECT_TRUE(differs);
  // The premium stays around its level over time (mean reversion).
  EXPECT_NEAR(a.premium_bps(0), o.market.premium_bps, 200.0);
}

}  // namespace
}  // namespace xarb::sim
