// Fills pushed, not polled: exec's venues hold their private streams (xarb-sim serves Upbit's v1
// and Bithumb's v2 shapes, and Binance's user data stream on its WebSocket API). While a stream is
// up an order's end is taken from it and no query goes out; the balances it moves equal the venue's
// to the last unit; a stream that loses events, goes down or reconnects falls back to queries and
// reconciles what was in flight.

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <xarb/core/clock.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "sim_accounts.hpp"
#include "test_support.hpp"

namespace xarb::exec {
namespace {

using ::xarb::test::d;

constexpr std::int64_t kMs = 1'000'000;

sim::SimOptions sim_options() {
  sim::SimOptions o;
  o.symbols = {test::sim_btc()};
  o.venues[index(venues::kBithumb)].served = true;
  o.market.seed = 7;
  o.updates_per_second = 100.0;
  o.venues[index(venues::kUpbit)].order_limit = 50;
  o.venues[index(venues::kUpbit)].request_limit = 100;
  o.accounts = test::sim_accounts(1'000'000, 1'000'000'000, 10);
  return o;
}

class StreamTest : public ::testing::Test {
 public:  // (pushed_fill below uses the helpers)
  StreamTest() : sim(sim_options()) {
    sim.start();
    sim.set_rate(0.0);  // the books stay where the test reads them
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"},
                                  {venues::kBithumb, "KRW-BTC"},
                                  {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
  }

  std::unique_ptr<RestVenue> make(Venue v, bool stream = true) {
    RestVenueOptions o;
    o.venue = v;
    o.rest_url = sim.rest_url(v);
    o.ws_url = sim.ws_url(v);
    o.ca_file = sim.ca_file();
    o.private_stream = stream;
    o.credentials = test::sim_credentials(v);
    auto venue = std::make_unique<RestVenue>(symbols, o);
    std::string error;
    EXPECT_TRUE(venue->start(error)) << error;
    return venue;
  }

  // Polls until `done` holds (at most 10 s).
  template <typename F>
  static bool poll_until(RestVenue& venue, F done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      venue.poll(clock::mono_ns());
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
  }

  std::int64_t held(Venue v, const char* key, const char* asset) {
    std::int64_t m = 0;
    sim.with_exchange(
        [&](sim::Exchange& x, sim::SyntheticMarket&) { m = x.balance(v, key, asset); });
    return m;
  }

  // A buy through the two best asks of `v`: two executions, one order.
  OrderRequest sweep(Venue v, const char* id) {
    sim::SimBook b;
    sim.with_exchange([&](sim::Exchange&, sim::SyntheticMarket& m) { b = m.book(v, 0); });
    EXPECT_GE(b.asks.size(), 2u);
    auto second = std::next(b.asks.begin());
    OrderRequest o;
    o.client_id.assign(id);
    o.instrument = 0;
    o.side = Side::buy;
    o.price = Decimal::from_mantissa(second->first);
    // (On Binance's 0.00001 step; finer for the KRW venues.)
    o.qty = Decimal::from_mantissa(b.asks.begin()->second + second->second / 2 / 1000 * 1000);
    return o;
  }

  void miss_private_events(double share) {
    sim.with_exchange(
        [&](sim::Exchange& x, sim::SyntheticMarket&) { x.faults().private_miss_share = share; });
  }

  SymbolMap symbols;
  sim::Simulator sim;
};

// Each KRW venue: the order is answered as working, and its end arrives on the stream with the
// fill, the funds and the fee, without a query; the balances then equal the venue's exactly,
// and the balances it pushes agree.
void pushed_fill(StreamTest& t, RestVenue& venue, const OrderRequest& order, Venue v,
                 const char* key) {
  ASSERT_TRUE(StreamTest::poll_until(venue, [&] { return venue.streaming(); }))
      << venue.private_stream_url() << ": " << venue.stream_stats().ws.last_error.view();
  ASSERT_TRUE(venue.place(order, {}));
  VenueEvent ev, placed, pushed;
  bool have_place = false, have_update = false;
  ASSERT_TRUE(StreamTest::poll_until(venue, [&] {
    while (venue.next_event(ev)) {
      if (ev.op == VenueOp::place) placed = ev, have_place = true;
      if (ev.op == VenueOp::update) pushed = ev, have_update = true;
    }
    return have_place && have_update;
  }));
  EXPECT_FALSE(placed.status.final()) << "the KRW venues answer an order while it works";
  EXPECT_EQ(pushed.status.client_id, order.client_id);
  EXPECT_EQ(pushed.status.state, OrderState::filled);
  EXPECT_EQ(pushed.status.filled_qty, order.qty);
  EXPECT_TRUE(pushed.status.fee_quote.is_positive());
  // What the venue holds now, to the last unit, is what the pushed fill says.
  EXPECT_EQ(venue.free_base(0).mantissa(), t.held(v, key, "BTC"));
  EXPECT_EQ(venue.free_quote().mantissa(), t.held(v, key, "KRW"));
  ASSERT_TRUE(StreamTest::poll_until(venue, [&] {
    return venue.stream_stats().balance_checks >= 2;
  })) << "myAsset for KRW and BTC";
  EXPECT_EQ(venue.stream_stats().balance_mismatches, 0u)
      << venue.stream_stats().last_mismatch.view();
  EXPECT_EQ(venue.stream_stats().fills, 1u);
  EXPECT_EQ(venue.stream_stats().malformed, 0u);
}

TEST_F(StreamTest, UpbitPushesTheOrdersEndAndItsBalances) {
  auto venue = make(venues::kUpbit);
  EXPECT_EQ(
      venue->private_stream_url(),
      "wss://127.0.0.1:" + std::to_string(sim.port(venues::kUpbit)) + "/websocket/v1/private");
  pushed_fill(*this, *venue, sweep(venues::kUpbit, "s1-1-U0"), venues::kUpbit, "ukey-0123456789");
}

TEST_F(StreamTest, BithumbPushesTheOrdersEndAndItsBalances) {
  auto venue = make(venues::kBithumb);
  EXPECT_EQ(
      venue->private_stream_url(),
      "wss://127.0.0.1:" + std::to_string(sim.port(venues::kBithumb)) + "/websocket/v2/private");
  pushed_fill(*this, *venue, sweep(venues::kBithumb, "s1-1-H0"), venues::kBithumb,
              "hkey-0123456789");
}

// A two-leg entry: Binance fills in its answer, Upbit's end comes from the stream; no query.
// Then the same with every private event lost: the stream is up but silent, so the leg is
// queried once the fallback has passed, and the outcome is the same. Then with the stream
// stalled: the query settles the leg, and the events that arrive late change nothing.
TEST_F(StreamTest, TwoLegsSettleFromTheStreamAndFallBackToQueriesWhenItIsSilentOrLate) {
  auto binance = make(venues::kBinance);
  auto upbit = make(venues::kUpbit);
  ASSERT_TRUE(poll_until(*upbit, [&] { return upbit->streaming(); }));
  ASSERT_TRUE(poll_until(*binance, [&] { return binance->streaming(); }));
  ExecParams params;
  params.run_id = 42;
  params.stream_fallback_ns = 300 * kMs;
  std::array<VenueClient*, kMaxVenues> clients{};
  clients[index(venues::kBinance)] = binance.get();
  clients[index(venues::kUpbit)] = upbit.get();
  TwoLegExecutor exec(clients, params);

  auto entry = [&](std::uint64_t id) {
    sim::SimBook ub, bb;
    sim.with_exchange([&](sim::Exchange&, sim::SyntheticMarket& m) {
      ub = m.book(venues::kUpbit, 0);
      bb = m.book(venues::kBinance, 0);
    });
    OrderIntent in;
    in.intent_id = id;
    in.position_id = id;
    in.deadline_ns = clock::mono_ns() + 10'000 * kMs;
    in.leg(venues::kUpbit) = {
        venues::kUpbit, Side::sell, 0, 0, Decimal::from_mantissa(ub.bids.begin()->first),
        d("0.001"),     {}};
    in.leg(venues::kBinance) = {
        venues::kBinance, Side::buy, 0, 0, Decimal::from_mantissa(bb.asks.begin()->first),
        d("0.001"),       {}};
    EXPECT_TRUE(exec.submit(in, clock::mono_ns()));
    ExecReport r;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      exec.poll(clock::mono_ns());
      if (exec.next_report(r)) return r;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ADD_FAILURE() << "no report";
    return r;
  };

  ExecReport r = entry(1);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.001"));
  EXPECT_EQ(exec.stats().queries, 0u) << "Upbit's end came from its stream";
  // Binance's: from its answer or its stream, whichever came first.
  const std::uint64_t ends = exec.stats().stream_ends;
  EXPECT_GE(ends, 1u);
  EXPECT_LE(ends, 2u);

  miss_private_events(1.0);
  r = entry(2);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.001"));
  EXPECT_GE(exec.stats().queries, 1u) << "the lost end was asked for";
  EXPECT_EQ(exec.stats().stream_ends, ends);
  EXPECT_EQ(upbit->free_base(0).mantissa(), held(venues::kUpbit, "ukey-0123456789", "BTC"));
  EXPECT_EQ(upbit->free_quote().mantissa(), held(venues::kUpbit, "ukey-0123456789", "KRW"));

  miss_private_events(0.0);
  sim.with_exchange(
      [](sim::Exchange& x, sim::SyntheticMarket&) { x.faults().stall_private_ms = 1'500; });
  const std::uint64_t queries = exec.stats().queries;
  r = entry(3);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  EXPECT_GT(exec.stats().queries, queries) << "the stalled end was asked for";
  // The held events arrive after the stall: the order has ended, so they move nothing, and the
  // balances they carry do not disagree with the fills. (They are not compared: entry 2's end
  // never came on the stream, so for kStreamLagNs it may still be behind.)
  const std::uint64_t assets = upbit->stream_stats().assets;
  ASSERT_TRUE(poll_until(*upbit, [&] { return upbit->stream_stats().assets > assets; }));
  EXPECT_EQ(upbit->stream_stats().balance_mismatches, 0u)
      << upbit->stream_stats().last_mismatch.view();
  EXPECT_EQ(upbit->free_base(0).mantissa(), held(venues::kUpbit, "ukey-0123456789", "BTC"));
  EXPECT_EQ(upbit->free_quote().mantissa(), held(venues::kUpbit, "ukey-0123456789", "KRW"));
}

// Binance: the user data stream on the WebSocket API's connection. An order whose answer is
// lost (the venue executed it and dropped the connection) is settled by its executionReports
// with the commissions summed over its two executions, without a query; the balances then equal
// the venue's to the last unit, and the positions it pushes agree. (An order with an execution's
// event missed is left to a query: BinanceExecutions in exec_api_test.)
TEST_F(StreamTest, BinancesUserDataStreamSettlesAnOrderWhoseAnswerWasLost) {
  auto venue = make(venues::kBinance);
  EXPECT_EQ(venue->private_stream_url(),
            "wss://127.0.0.1:" + std::to_string(sim.port(venues::kBinance)) + "/ws-api/v3");
  ASSERT_TRUE(poll_until(*venue, [&] { return venue->streaming(); }))
      << venue->stream_stats().ws.last_error.view();
  sim.with_exchange(
      [](sim::Exchange& x, sim::SyntheticMarket&) { x.faults().timeout_share = 1.0; });
  const OrderRequest order = sweep(venues::kBinance, "s5-1-B0");
  ASSERT_TRUE(venue->place(order, {}));
  VenueEvent ev, pushed;
  bool answered = false, updated = false;
  ASSERT_TRUE(poll_until(*venue, [&] {
    while (venue->next_event(ev)) {
      if (ev.op == VenueOp::place) answered = true;
      if (ev.op == VenueOp::update) pushed = ev, updated = true;
    }
    return answered && updated;
  }));
  EXPECT_EQ(pushed.status.client_id, order.client_id);
  EXPECT_EQ(pushed.status.state, OrderState::filled);
  EXPECT_EQ(pushed.status.filled_qty, order.qty);
  EXPECT_TRUE(pushed.status.fills_known);
  EXPECT_TRUE(pushed.status.fee_base.is_positive()) << "a buy pays in the base asset";
  EXPECT_EQ(venue->free_base(0).mantissa(), held(venues::kBinance, "bkey-0123456789", "BTC"));
  EXPECT_EQ(venue->free_quote().mantissa(), held(venues::kBinance, "bkey-0123456789", "USDT"));
  ASSERT_TRUE(poll_until(*venue, [&] { return venue->stream_stats().balance_checks >= 2; }))
      << "outboundAccountPosition for USDT and BTC";
  EXPECT_EQ(venue->stream_stats().balance_mismatches, 0u)
      << venue->stream_stats().last_mismatch.view();
  EXPECT_EQ(venue->stream_stats().malformed, 0u);
}

// order_entry = ws: Binance's orders, queries and cancels go on the WebSocket API's connection
// that holds the user data stream, answered there as over REST (the FULL answer, its fills and
// commissions; the rate limits it states). A lost answer (-1007) is unknown and the stream
// settles it. With the connection down they go over REST.
TEST_F(StreamTest, BinanceOrdersGoOverTheWebSocketApiAndOverRestWhenItIsDown) {
  RestVenueOptions o;
  o.venue = venues::kBinance;
  o.rest_url = sim.rest_url(venues::kBinance);
  o.ws_url = sim.ws_url(venues::kBinance);
  o.ca_file = sim.ca_file();
  o.credentials = test::kSimBinance;
  o.order_entry = OrderEntry::ws;
  RestVenue venue(symbols, o);
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  ASSERT_TRUE(poll_until(venue, [&] { return venue.streaming(); }))
      << venue.stream_stats().ws.last_error.view();
  const auto next = [&](VenueOp op) {
    VenueEvent ev, found;
    bool seen = false;
    EXPECT_TRUE(poll_until(venue, [&] {
      while (venue.next_event(ev)) {
        if (ev.op == op) found = ev, seen = true;
      }
      return seen;
    }));
    return found;
  };

  const OrderRequest order = sweep(venues::kBinance, "s6-1-B0");
  ASSERT_TRUE(venue.place(order, {}));
  EXPECT_EQ(venue.stream_requests(), 1u);
  const VenueEvent placed = next(VenueOp::place);
  EXPECT_EQ(placed.status.state, OrderState::filled);
  EXPECT_EQ(placed.status.filled_qty, order.qty);
  EXPECT_TRUE(placed.status.fills_known) << "the FULL answer lists the fills";
  EXPECT_TRUE(placed.status.fee_base.is_positive());
  EXPECT_GT(placed.latency_ns, 0);
  EXPECT_GE(venue.rate_limits().order_count_10s, 1) << "from the answer's rateLimits";
  EXPECT_GE(venue.rate_limits().used_weight_1m, 1);
  EXPECT_EQ(venue.free_base(0).mantissa(), held(venues::kBinance, "bkey-0123456789", "BTC"));
  EXPECT_EQ(venue.free_quote().mantissa(), held(venues::kBinance, "bkey-0123456789", "USDT"));
  ASSERT_TRUE(venue.query(0, order.client_id));
  const VenueEvent queried = next(VenueOp::query);
  EXPECT_EQ(queried.status.state, OrderState::filled);
  EXPECT_EQ(queried.status.client_id, order.client_id);
  EXPECT_EQ(venue.stream_requests(), 2u);

  // The answer is lost: -1007, unknown; the executionReports say it filled.
  sim.with_exchange(
      [](sim::Exchange& x, sim::SyntheticMarket&) { x.faults().timeout_share = 1.0; });
  const OrderRequest lost = sweep(venues::kBinance, "s6-2-B0");
  ASSERT_TRUE(venue.place(lost, {}));
  const VenueEvent unknown = next(VenueOp::place);
  EXPECT_EQ(unknown.status.state, OrderState::unknown);
  EXPECT_EQ(unknown.status.error.code, -1007);
  sim.with_exchange(
      [](sim::Exchange& x, sim::SyntheticMarket&) { x.faults().timeout_share = 0.0; });
  ASSERT_TRUE(poll_until(venue, [&] {
    return venue.free_base(0).mantissa() == held(venues::kBinance, "bkey-0123456789", "BTC");
  })) << "the stream's events settle the lost order";
  EXPECT_EQ(venue.free_quote().mantissa(), held(venues::kBinance, "bkey-0123456789", "USDT"));

  // The connection is gone: over REST, until it is back.
  sim.drop_websockets();
  ASSERT_TRUE(poll_until(venue, [&] { return !venue.streaming(); }));
  const std::uint64_t sent = venue.stream_requests();
  sim::SimBook b;
  sim.with_exchange(
      [&](sim::Exchange&, sim::SyntheticMarket& m) { b = m.book(venues::kBinance, 0); });
  OrderRequest sell = order;
  sell.client_id.assign("s6-3-B0");
  sell.side = Side::sell;
  sell.qty = d("0.001");
  sell.price = Decimal::from_mantissa(b.bids.rbegin()->first / Decimal::kOne * Decimal::kOne -
                                      10 * Decimal::kOne);  // through the best bid, on the tick
  ASSERT_TRUE(venue.place(sell, {}));
  const VenueEvent rest = next(VenueOp::place);
  EXPECT_EQ(rest.status.state, OrderState::filled);
  EXPECT_EQ(venue.stream_requests(), sent) << "not on the websocket";
  EXPECT_EQ(venue.free_base(0).mantissa(), held(venues::kBinance, "bkey-0123456789", "BTC"));
  EXPECT_EQ(venue.free_quote().mantissa(), held(venues::kBinance, "bkey-0123456789", "USDT"));
}

// The stream goes down with an order working: exec does not wait out the fallback but asks at
// once; when the stream is back, every order it may have missed is queried before it is
// trusted again.
TEST_F(StreamTest, ADroppedStreamIsReconciledBeforeItIsTrustedAgain) {
  auto upbit = make(venues::kUpbit);
  ASSERT_TRUE(poll_until(*upbit, [&] { return upbit->streaming(); }));
  miss_private_events(1.0);  // the order's end is never pushed
  const OrderRequest order = sweep(venues::kUpbit, "s3-1-U0");
  ASSERT_TRUE(upbit->place(order, {}));
  VenueEvent ev;
  ASSERT_TRUE(poll_until(*upbit, [&] { return upbit->next_event(ev); }));
  ASSERT_EQ(ev.op, VenueOp::place);
  EXPECT_FALSE(ev.status.final());
  miss_private_events(0.0);
  sim.drop_websockets();
  ASSERT_TRUE(poll_until(*upbit, [&] { return !upbit->streaming(); }));
  const std::uint64_t connects = upbit->stream_stats().ws.connects;
  // Back up: the order that was working is queried, and its end arrives as an update.
  bool updated = false;
  ASSERT_TRUE(poll_until(*upbit, [&] {
    while (upbit->next_event(ev)) {
      if (ev.op == VenueOp::update && ev.status.client_id == order.client_id) updated = true;
    }
    return updated && upbit->streaming();
  }));
  EXPECT_GT(upbit->stream_stats().ws.connects, connects);
  EXPECT_GE(upbit->stream_stats().reconciled, 1u);
  EXPECT_EQ(ev.status.state, OrderState::filled);
  EXPECT_EQ(upbit->free_base(0).mantissa(), held(venues::kUpbit, "ukey-0123456789", "BTC"));
  EXPECT_EQ(upbit->free_quote().mantissa(), held(venues::kUpbit, "ukey-0123456789", "KRW"));
}

// A reconnect's reconciliation query that does not find an order (the venue accepted it late,
// after its answer was lost) does not end it: the order's end comes once the venue has it, and
// nothing is taken as unfilled before (exec would send the leg again: a double fill).
TEST_F(StreamTest, AReconciliationThatDoesNotFindAnOrderDoesNotEndIt) {
  auto upbit = make(venues::kUpbit);
  ASSERT_TRUE(poll_until(*upbit, [&] { return upbit->streaming(); }));
  sim.with_exchange([](sim::Exchange& x, sim::SyntheticMarket&) {
    x.faults().late_accept_share = 1.0;
    x.faults().late_accept_ms = 1'500;
  });
  const OrderRequest order = sweep(venues::kUpbit, "s7-1-U0");
  ASSERT_TRUE(upbit->place(order, {}));
  VenueEvent ev;
  ASSERT_TRUE(poll_until(*upbit, [&] { return upbit->next_event(ev); }));
  ASSERT_EQ(ev.op, VenueOp::place);
  EXPECT_EQ(ev.status.state, OrderState::unknown) << "its answer was lost";
  sim.with_exchange(
      [](sim::Exchange& x, sim::SyntheticMarket&) { x.faults().late_accept_share = 0.0; });
  const std::uint64_t reconciled = upbit->stream_stats().reconciled;
  sim.drop_websockets();
  // Back up, the order is queried (not found yet); its end then comes from the stream.
  VenueEvent end;
  bool ended = false;
  ASSERT_TRUE(poll_until(*upbit, [&] {
    while (upbit->next_event(ev)) {
      if (ev.status.client_id == order.client_id && ev.status.final()) end = ev, ended = true;
    }
    return ended;
  }));
  EXPECT_GT(upbit->stream_stats().reconciled, reconciled);
  EXPECT_EQ(end.op, VenueOp::update);
  EXPECT_EQ(end.status.state, OrderState::filled) << "never \"not found\" taken as its end";
  EXPECT_EQ(upbit->free_base(0).mantissa(), held(venues::kUpbit, "ukey-0123456789", "BTC"));
  EXPECT_EQ(upbit->free_quote().mantissa(), held(venues::kUpbit, "ukey-0123456789", "KRW"));
}

// A stream the venue refuses (here: a path where it serves only public data, which answers the
// subscription with its error) leaves the venue trading on queries, says why, and keeps trying;
// a venue configured without one has none.
TEST_F(StreamTest, ARefusedStreamLeavesOrdersToQueries) {
  RestVenueOptions o;
  o.venue = venues::kUpbit;
  o.rest_url = sim.rest_url(venues::kUpbit);
  o.ca_file = sim.ca_file();
  o.credentials = test::kSimUpbit;
  o.private_ws_url = sim.ws_url(venues::kUpbit);  // the public endpoint
  RestVenue venue(symbols, o);
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  ASSERT_TRUE(poll_until(venue, [&] { return venue.stream_stats().errors >= 2; }))
      << "refused, and tried again";
  EXPECT_FALSE(venue.streaming());
  EXPECT_NE(venue.stream_stats().ws.last_error.view().find("INVALID_PARAM"), std::string_view::npos)
      << venue.stream_stats().ws.last_error.view();
  auto off = make(venues::kUpbit, /*stream=*/false);
  EXPECT_TRUE(off->private_stream_url().empty());
  EXPECT_FALSE(off->streaming());
}

}  // namespace
}  // namespace xarb::exec
