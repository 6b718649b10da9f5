// The live venues against in-test HTTPS stubs on 127.0.0.1 that authenticate every request as
// Binance and Upbit do: start-up, signed orders on a kept-alive connection, the venues' errors,
// 429 + Retry-After, 5xx and timeouts resolved by queries, -1021 time resync, and a two-leg
// execution over both.

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <xarb/core/clock.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"
#include "venue_stubs.hpp"

namespace xarb::exec {
namespace {

constexpr std::int64_t kMs = 1'000'000;

using ::xarb::test::d;

class RestVenueTest : public ::testing::Test {
 protected:
  RestVenueTest()
      : binance_stub("bkey-0123456789", "bsecret"), upbit_stub("ukey-0123456789", "usecret") {
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
  }

  std::unique_ptr<RestVenue> make(Venue v, std::string secret = {}) {
    RestVenueOptions o;
    o.venue = v;
    o.rest_url = v == venues::kBinance ? binance_stub.url() : upbit_stub.url();
    o.ca_file = v == venues::kBinance ? binance_stub.ca_file() : upbit_stub.ca_file();
    o.credentials = v == venues::kBinance
                        ? Credentials{"bkey-0123456789", secret.empty() ? "bsecret" : secret}
                        : Credentials{"ukey-0123456789", secret.empty() ? "usecret" : secret};
    o.request_timeout = std::chrono::milliseconds(500);
    return std::make_unique<RestVenue>(symbols, o);
  }

  static OrderRequest order(const char* id, Side side, const char* price, const char* qty) {
    OrderRequest o;
    o.client_id.assign(id);
    o.instrument = 0;
    o.side = side;
    o.price = d(price);
    o.qty = d(qty);
    return o;
  }

  // Polls `venue` until an event arrives (at most 10 s: every request here is answered or
  // times out well before, so the bound only matters when something is broken).
  static bool wait_event(RestVenue& venue, VenueEvent& ev) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      venue.poll(clock::mono_ns());
      if (venue.next_event(ev)) return true;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return false;
  }

  SymbolMap symbols;
  test::BinanceStub binance_stub;
  test::UpbitStub upbit_stub;
};

TEST_F(RestVenueTest, BinanceStartsWithTimeRulesAndBalances) {
  binance_stub.set_clock_skew_ms(1500);  // the venue's clock is 1.5 s ahead of ours
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  EXPECT_NEAR(static_cast<double>(venue->time_offset_ms().value_or(0)), 1500.0, 200.0);
  EXPECT_TRUE(venue->rules(0).loaded);
  EXPECT_EQ(venue->rules(0).step, d("0.00001"));
  EXPECT_EQ(venue->free_quote(), d("10000"));
  EXPECT_EQ(venue->free_base(0), d("1"));
  // Signed with the offset applied: the skewed stub accepted the account request.
  EXPECT_EQ(binance_stub.auth_failures.load(), 0);
}

// A venue destroyed with a request in flight: its write's and read's operations live in the
// connection's own handler memory, which must not be gone before the io_context lets go of them
// (AddressSanitizer reported a use after free here once, in CI).
TEST_F(RestVenueTest, DestroyedWithARequestInFlight) {
  for (int k = 0; k < 5; ++k) {
    auto venue = make(venues::kBinance);
    std::string error;
    ASSERT_TRUE(venue->start(error)) << error;
    const std::string id = "d-" + std::to_string(k);
    ASSERT_TRUE(venue->place(order(id.c_str(), Side::buy, "100000", "0.01"), {}));
    if (k % 2 == 1) venue->poll(clock::mono_ns());  // the write's handler has run: a read waits
  }
}

TEST_F(RestVenueTest, BinanceOrdersAreSignedAndShareOneConnection) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  const int connections = binance_stub.connections();
  for (int i = 0; i < 3; ++i) {
    const std::string id = "t-" + std::to_string(i);
    ASSERT_TRUE(venue->place(order(id.c_str(), Side::buy, "100000", "0.01"), {}));
    VenueEvent ev;
    ASSERT_TRUE(wait_event(*venue, ev));
    EXPECT_EQ(ev.status.state, OrderState::filled);
    EXPECT_EQ(ev.status.client_id.view(), id);
    EXPECT_EQ(ev.status.avg_price(), d("100000"));
    // A buy's commission comes out of the BTC bought (no BNB on the account).
    EXPECT_TRUE(ev.status.fee_quote.is_zero());
    EXPECT_EQ(ev.status.fee_base, d("0.00001"));
    EXPECT_GT(ev.latency_ns, 0);
  }
  EXPECT_EQ(binance_stub.connections(), connections) << "kept alive";
  EXPECT_EQ(binance_stub.orders.load(), 3);
  // Balances follow the fills: 3 x 1,000 USDT paid, 3 x (0.01 - 0.00001) BTC received.
  EXPECT_EQ(venue->free_quote(), d("7000"));
  EXPECT_EQ(venue->free_base(0), d("1.02997"));
  EXPECT_GE(venue->rate_limits().order_count_10s, 3);
}

// An order goes out on its own connection: it is answered while a query on the same venue is
// still waiting for its answer (the stub holds it until the order's answer has been seen).
TEST_F(RestVenueTest, AnOrderDoesNotWaitBehindAQueryInFlight) {
  RestVenueOptions o;
  o.venue = venues::kBinance;
  o.rest_url = binance_stub.url();
  o.ca_file = binance_stub.ca_file();
  o.credentials = Credentials{"bkey-0123456789", "bsecret"};
  o.request_timeout = std::chrono::seconds(20);  // the held query must not time out
  RestVenue venue(symbols, o);
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  ASSERT_TRUE(venue.place(order("w-1", Side::buy, "100000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(venue, ev));
  ASSERT_EQ(ev.status.state, OrderState::filled);

  binance_stub.hold_queries = true;
  ASSERT_TRUE(venue.query(0, ev.status.client_id));
  const bool query_arrived = test::poll_until([&] { return binance_stub.queries_held.load() > 0; },
                                              [&] { venue.poll(clock::mono_ns()); },
                                              std::chrono::seconds(10));
  ASSERT_TRUE(query_arrived);
  ASSERT_TRUE(venue.place(order("w-2", Side::buy, "100000", "0.01"), {}));
  ASSERT_TRUE(wait_event(venue, ev));
  EXPECT_EQ(ev.op, VenueOp::place);
  EXPECT_EQ(ev.status.client_id.view(), "w-2");
  EXPECT_EQ(ev.status.state, OrderState::filled);
  EXPECT_EQ(binance_stub.queries_held.load(), 1) << "the query is still held";

  binance_stub.hold_queries = false;
  ASSERT_TRUE(wait_event(venue, ev));
  EXPECT_EQ(ev.op, VenueOp::query);
  EXPECT_EQ(ev.status.client_id.view(), "w-1");
  EXPECT_EQ(ev.status.state, OrderState::filled);
}

TEST_F(RestVenueTest, AWrongSecretGetsTheVenuesOwnError) {
  auto venue = make(venues::kBinance, "not-the-secret");
  std::string error;
  EXPECT_FALSE(venue->start(error));
  EXPECT_NE(error.find("-1022"), std::string::npos) << error;
  EXPECT_NE(error.find("Signature for this request is not valid."), std::string::npos) << error;
  EXPECT_EQ(error.find("not-the-secret"), std::string::npos) << "never print the secret";
  EXPECT_GE(binance_stub.auth_failures.load(), 1);
}

TEST_F(RestVenueTest, InsufficientBalanceIsRejectedWithTheVenueCode) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  binance_stub.script(test::Scripted::error(
      400, R"({"code":-2010,"msg":"Account has insufficient balance for requested action."})"));
  ASSERT_TRUE(venue->place(order("r-1", Side::buy, "100000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::rejected);
  EXPECT_EQ(ev.status.error.code, -2010);
  EXPECT_EQ(ev.status.error.http_status, 400);
  EXPECT_EQ(ev.status.error.kind, VenueErrorKind::insufficient_balance);
}

TEST_F(RestVenueTest, TooManyRequestsBlocksUntilRetryAfter) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  test::Scripted s = test::Scripted::error(
      429, R"({"code":-1003,"msg":"Too many requests; current request has limited."})");
  s.headers = {{"Retry-After", "3"}};
  binance_stub.script(s);
  // The block runs 3 s from when the answer arrived, somewhere between these two instants
  // (bracketed rather than assumed "just now": this machine may be slow).
  const std::int64_t before = clock::mono_ns();
  ASSERT_TRUE(venue->place(order("l-1", Side::buy, "100000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  const std::int64_t after = clock::mono_ns();
  EXPECT_EQ(ev.status.error.http_status, 429);
  const RateBudget b = venue->budget(after);
  EXPECT_GE(b.blocked_until_ns, before + 3'000 * kMs);
  EXPECT_LE(b.blocked_until_ns, after + 3'000 * kMs);
  // Nothing is sent until then: the venue refuses to start a request.
  const int orders = binance_stub.orders.load();
  if (clock::mono_ns() >= b.blocked_until_ns)
    GTEST_SKIP() << "the block ran out before it could be checked";
  EXPECT_FALSE(venue->place(order("l-2", Side::buy, "100000", "0.01"), {}));
  EXPECT_FALSE(venue->query(0, ev.status.client_id));
  EXPECT_EQ(binance_stub.orders.load(), orders);
}

// A venue's order budget counts what this process sent in the last second, before any header
// could: Bithumb documents none, and Upbit's Remaining-Req of the order group arrives with the
// answer. (Bithumb's budget was a constant: exec sent bursts until a 429, which then blocked the
// hedge and unwind legs that had to go out next.)
TEST_F(RestVenueTest, OrdersSentThisSecondComeOffTheBudget) {
  auto venue = make(venues::kUpbit);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  EXPECT_EQ(venue->budget(clock::mono_ns()).orders_available, 8);
  const std::int64_t first = clock::mono_ns();
  for (int k = 0; k < 5; ++k) {
    ASSERT_TRUE(venue->place(order(("p-" + std::to_string(k)).c_str(), Side::sell, "140000000", "0.01"), {}));
    VenueEvent ev;
    ASSERT_TRUE(wait_event(*venue, ev));
  }
  const std::int64_t now = clock::mono_ns();
  if (now - first >= 1'000 * kMs) GTEST_SKIP() << "five orders took a second here";
  const RateBudget b = venue->budget(now);
  EXPECT_EQ(b.orders_per_window, 8);
  EXPECT_EQ(b.orders_available, 3);
  EXPECT_EQ(venue->budget(first + 2'000 * kMs).orders_available, 8) << "a second later";
}

// Binance's X-MBX-ORDER-COUNT-10S counts the orders of the window up to its answer; orders
// written since come off the budget too, before an answer could count them.
TEST_F(RestVenueTest, BinanceOrdersWrittenSinceTheLastCountComeOffTheBudget) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  const std::int64_t first = clock::mono_ns();
  ASSERT_TRUE(venue->place(order("b-0", Side::buy, "100000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  const std::int64_t counted = 50 - venue->budget(clock::mono_ns()).orders_available;
  EXPECT_GE(counted, 1) << "the header's count, or the order written";
  // Two more written, their answers not read yet: they count at once.
  ASSERT_TRUE(venue->place(order("b-1", Side::buy, "100000", "0.01"), {}));
  ASSERT_TRUE(venue->place(order("b-2", Side::buy, "100000", "0.01"), {}));
  const std::int64_t now = clock::mono_ns();
  if (now - first >= 10'000 * kMs) GTEST_SKIP() << "the window passed";
  EXPECT_EQ(venue->budget(now).orders_available, 50 - counted - 2);
}

// Upbit limits per group and per second. A 429 on an order without Retry-After blocks orders for
// Upbit's one-second window, not for a minute, and queries (the default group) go on: the
// query that settles an order, or an unwind's, is never held behind an order limit.
TEST_F(RestVenueTest, UpbitTooManyOrdersBlocksOrdersForItsWindowOnly) {
  auto venue = make(venues::kUpbit);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  ASSERT_TRUE(venue->place(order("g-1", Side::sell, "140000000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  upbit_stub.script(test::Scripted::error(
      429, R"({"error":{"name":"too_many_requests","message":"Too many requests"}})"));
  const std::int64_t before = clock::mono_ns();
  ASSERT_TRUE(venue->place(order("g-2", Side::sell, "140000000", "0.01"), {}));
  ASSERT_TRUE(wait_event(*venue, ev));
  const std::int64_t after = clock::mono_ns();
  EXPECT_EQ(ev.status.error.http_status, 429);
  const RateBudget b = venue->budget(after);
  EXPECT_GE(b.blocked_until_ns, before + 1'000 * kMs);
  EXPECT_LE(b.blocked_until_ns, after + 1'000 * kMs);
  // A query goes out at once.
  ClientOrderId first;
  first.assign("g-1");
  EXPECT_TRUE(venue->query(0, first)) << "the default group is not blocked";
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::filled);
  // After the window, orders go out again.
  while (clock::mono_ns() < b.blocked_until_ns) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(venue->place(order("g-3", Side::sell, "140000000", "0.01"), {}));
}

TEST_F(RestVenueTest, ServerErrorsAndTimeoutsAreUnknownNeverFilledOrNot) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  binance_stub.script(test::Scripted::error(
      503, R"({"code":-1001,"msg":"Internal error; unable to process your request."})"));
  ASSERT_TRUE(venue->place(order("u-1", Side::buy, "100000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::unknown);
  EXPECT_EQ(ev.status.error.http_status, 503);
  EXPECT_EQ(ev.status.error.code, -1001) << "the venue's own error, kept";
  // A timeout: the stub fills the order but answers after the 500 ms request timeout.
  test::Scripted slow;
  slow.delay_ms = 900;
  binance_stub.script(slow);
  ASSERT_TRUE(venue->place(order("u-2", Side::buy, "100000", "0.01"), {}));
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::unknown);
  // Querying by client id tells the truth: it filled. Binance's order query lists no fills, so
  // the venue asks for the order's trades: the commission is known before the fill is reported.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const int trades = binance_stub.trade_requests.load();
  ASSERT_TRUE(venue->query(0, ev.status.client_id));
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::filled);
  EXPECT_EQ(ev.status.filled_qty, d("0.01"));
  EXPECT_EQ(ev.status.avg_price(), d("100000"));
  EXPECT_EQ(ev.status.fee_base, d("0.00001"));
  EXPECT_EQ(binance_stub.trade_requests.load(), trades + 1);
}

// Three transport errors in a row mark a venue unhealthy, and then nothing is sent to it; it is
// probed with a public request every second until it answers, and is healthy again.
TEST_F(RestVenueTest, AnUnhealthyVenueIsProbedUntilItAnswers) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  for (int k = 0; k < 3; ++k) {
    test::Scripted lost;
    lost.drop = true;
    binance_stub.script(lost);
    ASSERT_TRUE(venue->place(order(("h-" + std::to_string(k)).c_str(), Side::buy, "100000", "0.01"),
                             {}));
    VenueEvent ev;
    ASSERT_TRUE(wait_event(*venue, ev));
    EXPECT_EQ(ev.status.state, OrderState::unknown);
  }
  EXPECT_FALSE(venue->healthy());
  const int times = binance_stub.time_requests.load();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!venue->healthy() && std::chrono::steady_clock::now() < deadline) {
    venue->poll(clock::mono_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(venue->healthy());
  EXPECT_GT(binance_stub.time_requests.load(), times) << "the probe";
}

// The venue keeps a record of each order it placed, to move its balances by the order's fills
// whenever an answer tells them. The records were a ring of 128 overwritten in turn: an order
// whose answer was lost, settled after 128 newer ones, found no record, and its fill never
// reached the balances exec checks orders against. A record is now reused only once its order
// has ended; and a transfer an operator records moves the balances at the next poll, with no
// private stream to wait for.
TEST_F(RestVenueTest, AnOrderSettledAfterManyNewerOnesStillMovesTheBalances) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  const Decimal base0 = venue->free_base(0), quote0 = venue->free_quote();
  Int128 base = 0, quote_e16 = 0;
  const auto book = [&](const OrderStatus& s) {
    base += s.filled_qty.mantissa() - s.fee_base.mantissa();
    quote_e16 -= s.filled_notional_e16 + static_cast<Int128>(s.fee_quote.mantissa()) * Decimal::kOne;
  };
  test::Scripted lost;
  lost.drop = true;  // executed, answer never sent
  binance_stub.script(lost);
  ASSERT_TRUE(venue->place(order("lost-0", Side::buy, "100000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  ASSERT_EQ(ev.status.state, OrderState::unknown);
  for (int k = 1; k <= 140; ++k) {
    ASSERT_TRUE(venue->place(order(("n-" + std::to_string(k)).c_str(), Side::buy, "100000", "0.001"), {}));
    ASSERT_TRUE(wait_event(*venue, ev));
    ASSERT_EQ(ev.status.state, OrderState::filled) << k;
    book(ev.status);
  }
  ClientOrderId lost_id;
  lost_id.assign("lost-0");
  ASSERT_TRUE(venue->query(0, lost_id));
  ASSERT_TRUE(wait_event(*venue, ev));
  ASSERT_EQ(ev.status.state, OrderState::filled);
  book(ev.status);
  EXPECT_EQ(venue->free_base(0).mantissa() - base0.mantissa(), static_cast<std::int64_t>(base))
      << "the lost order's 0.01 BTC";
  EXPECT_EQ(venue->free_quote().mantissa() - quote0.mantissa(),
            static_cast<std::int64_t>(quote_e16 / Decimal::kOne));

  const Decimal before = venue->free_base(0);
  venue->note_transfer(0, d("-0.5"));
  venue->poll(clock::mono_ns());
  EXPECT_EQ(venue->free_base(0), Decimal::from_mantissa(before.mantissa() - d("0.5").mantissa()))
      << "without a private stream too";
}

TEST_F(RestVenueTest, TimestampOutsideRecvWindowResynchronisesTheClock) {
  auto venue = make(venues::kBinance);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  const int times = binance_stub.time_requests.load();
  binance_stub.set_clock_skew_ms(-20'000);  // the venue's clock jumps back 20 s
  ASSERT_TRUE(venue->place(order("c-1", Side::buy, "100000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.error.code, -1021);
  // The next polls ask for the server time again and take its answer as the new offset;
  // then the next order is accepted.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline &&
         (binance_stub.time_requests.load() == times || venue->time_offset_ms().value_or(0) > -19'000)) {
    venue->poll(clock::mono_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_GT(binance_stub.time_requests.load(), times);
  EXPECT_NEAR(static_cast<double>(venue->time_offset_ms().value_or(0)), -20'000.0, 300.0);
  ASSERT_TRUE(venue->place(order("c-2", Side::buy, "100000", "0.01"), {}));
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::filled);
}

TEST_F(RestVenueTest, UpbitStartsWithInstrumentsOrTheTable) {
  auto venue = make(venues::kUpbit);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  EXPECT_TRUE(venue->rules(0).loaded);
  // The answer (1,000 at the price of the moment) agrees with the table, which stays in force.
  EXPECT_TRUE(venue->rules(0).krw_table);
  EXPECT_EQ(tick_at(venue->rules(0), d("4985")), d("1"));
  EXPECT_EQ(venue->free_quote(), d("100000000"));
  upbit_stub.set_instruments_available(false);
  auto fallback = make(venues::kUpbit);
  ASSERT_TRUE(fallback->start(error)) << error;
  EXPECT_TRUE(fallback->rules(0).krw_table);
}

TEST_F(RestVenueTest, UpbitOrderIsAuthenticatedThenFoundDoneByQuery) {
  auto venue = make(venues::kUpbit);
  std::string error;
  ASSERT_TRUE(venue->start(error)) << error;
  ASSERT_TRUE(venue->place(order("up-1", Side::sell, "140630000", "0.01"), {}));
  VenueEvent ev;
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::acked) << "Upbit answers while the order works";
  EXPECT_EQ(upbit_stub.auth_failures.load(), 0) << upbit_stub.last_auth_error;
  ASSERT_TRUE(venue->query(0, ev.status.client_id));
  ASSERT_TRUE(wait_event(*venue, ev));
  EXPECT_EQ(ev.status.state, OrderState::filled);
  EXPECT_EQ(ev.status.avg_price(), d("140630000"));
  EXPECT_EQ(ev.status.fee_quote, d("703.15"));
  EXPECT_EQ(venue->free_base(0), d("0.99"));
  // Every request had its own nonce and a matching query_hash.
  EXPECT_GE(upbit_stub.signed_ok.load(), 3);
  auto wrong = make(venues::kUpbit, "wrong-secret");
  EXPECT_FALSE(wrong->start(error));
  EXPECT_NE(error.find("jwt_verification"), std::string::npos) << error;
}

TEST_F(RestVenueTest, TwoLegExecutionOverBothVenues) {
  auto binance = make(venues::kBinance);
  auto upbit = make(venues::kUpbit);
  std::string error;
  ASSERT_TRUE(binance->start(error)) << error;
  ASSERT_TRUE(upbit->start(error)) << error;
  ExecParams params;
  params.run_id = 42;
  params.query_interval_ns = 20 * kMs;
  TwoLegExecutor exec({binance.get(), upbit.get()}, params);
  OrderIntent in;
  in.intent_id = 1;
  in.position_id = 1;
  in.deadline_ns = clock::mono_ns() + 10'000 * kMs;
  LegIntent& u = in.leg(venues::kUpbit);
  u = {venues::kUpbit, Side::sell, 0, 0, d("140629650"), d("0.01"), {}};
  LegIntent& b = in.leg(venues::kBinance);
  b = {venues::kBinance, Side::buy, 0, 0, d("100050"), d("0.01"), {}};
  ASSERT_TRUE(exec.submit(in, clock::mono_ns()));
  ExecReport r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  bool done = false;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    exec.poll(clock::mono_ns());
    done = exec.next_report(r);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_TRUE(done);
  EXPECT_EQ(r.outcome, ExecOutcome::success);
  // Upbit's limit 140,629,650 rounds up to its 1,000 KRW tick for a sell.
  EXPECT_EQ(r.leg(venues::kUpbit).avg_price, d("140630000"));
  EXPECT_EQ(r.leg(venues::kBinance).avg_price, d("100050"));
  EXPECT_EQ(r.leg(venues::kUpbit).filled_qty, d("0.01"));
  EXPECT_EQ(r.leg(venues::kBinance).filled_qty, d("0.01"));
  EXPECT_GE(exec.stats().queries, 1u) << "Upbit's IOC was settled by a query";
}

}  // namespace
}  // namespace xarb::exec
