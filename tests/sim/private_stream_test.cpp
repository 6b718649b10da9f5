// The KRW venues' private websockets as xarb-sim serves them: the upgrade's JWT names the
// account, myOrder and myAsset push every change of that account's orders and balances in the
// venue's shape (Upbit v1, Bithumb v2), and what they push adds up to what the venue holds and
// what its REST answers say. Binance's WebSocket API likewise: signed requests answered in its
// envelope with its rate limits, orders placed, queried and cancelled on it, and the user data
// stream's events. A plain Beast client, as a third-party library would connect.

#include <deque>
#include <map>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <xarb/core/clock.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/exec/signing.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/net/names.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "sim_accounts.hpp"

namespace xarb::sim {
namespace {

using namespace xarb::net::names;  // asio, beast, http, websocket, ssl, tcp, error_code

// A private websocket client: the bearer token goes in the upgrade's Authorization header.
class PrivateClient {
 public:
  PrivateClient(const std::string& ca_file, unsigned short port, const std::string& target,
                const std::string& token)
      : tls_(ssl::context::tls_client), ws_(io_, tls_) {
    tls_.load_verify_file(ca_file);
    tls_.set_verify_mode(ssl::verify_peer);
    tcp::resolver resolver(io_);
    asio::connect(beast::get_lowest_layer(ws_),
                  resolver.resolve("127.0.0.1", std::to_string(port)));
    // A read that waits 10 s fails instead of hanging the test.
    const timeval limit{10, 0};
    ::setsockopt(beast::get_lowest_layer(ws_).native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit,
                 sizeof limit);
    ws_.next_layer().handshake(ssl::stream_base::client);
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }));
    ws_.handshake("127.0.0.1", target);
  }
  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(asio::buffer(text));
  }
  // The next message; empty when none came in 10 s or the server closed.
  std::string read() {
    beast::flat_buffer b;
    error_code ec;
    ws_.read(b, ec);
    return ec ? std::string() : beast::buffers_to_string(b.data());
  }

 private:
  asio::io_context io_;
  ssl::context tls_;
  websocket::stream<beast::ssl_stream<tcp::socket>> ws_;
};

std::string token(const char* access, const char* secret, const char* nonce,
                  std::int64_t timestamp_ms = -1) {
  char buf[1024];
  const std::size_t n =
      exec::upbit_jwt(access, secret, nonce, "", exec::JwtAlg::hs256, buf, timestamp_ms);
  return std::string(buf, n);
}

SimOptions options() {
  SimOptions o;
  o.symbols = {test::sim_btc()};
  o.venues[index(venues::kBithumb)].served = true;
  o.market.seed = 11;
  o.updates_per_second = 100.0;
  o.venues[index(venues::kUpbit)].order_limit = 50;
  o.venues[index(venues::kUpbit)].request_limit = 100;
  o.accounts = test::sim_accounts(1'000'000, 1'000'000'000, 10);
  // A second Upbit account: its stream sees nothing of the first one's orders.
  o.accounts.push_back({venues::kUpbit,
                        "ukey-other-000001",
                        "usecret2",
                        {{"KRW", 1'000'000'000 * Decimal::kOne}, {"BTC", 10 * Decimal::kOne}}});
  return o;
}

// The number at `pointer` in `message` (or the number a string there holds), read exactly from its
// text (a double would round the last digits of a KRW balance).
Decimal dec(const std::string& message, const std::string& pointer) {
  simdjson::ondemand::parser p;
  const simdjson::padded_string text(message);
  simdjson::ondemand::document doc = p.iterate(text);
  std::string_view raw = doc.at_pointer(pointer).raw_json_token();
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) raw.remove_suffix(1);
  if (raw.size() >= 2 && raw.front() == '"') raw = raw.substr(1, raw.size() - 2);  // Binance's
  Decimal out;
  EXPECT_EQ(Decimal::parse(raw, out), Errc::ok) << pointer << ": " << raw;
  return out;
}

class PrivateStreamTest : public ::testing::Test {
 protected:
  PrivateStreamTest() : sim(options()) {
    sim.start();
    sim.set_rate(0.0);  // the books stay where the test reads them
  }

  exec::RestVenue venue_for(Venue v, SymbolMap& map, const char* key, const char* secret) {
    EXPECT_EQ(map.add("BTC", {{v, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}), Errc::ok);
    exec::RestVenueOptions ro;
    ro.venue = v;
    ro.rest_url = sim.rest_url(v);
    ro.ca_file = sim.ca_file();
    ro.credentials = {key, secret};
    return exec::RestVenue(map, ro);
  }

  std::int64_t held(Venue v, const std::string& key, const char* asset) {
    std::int64_t m = 0;
    sim.with_exchange([&](Exchange& x, SyntheticMarket&) { m = x.balance(v, key, asset); });
    return m;
  }

  SimBook book(Venue v) {
    SimBook b;
    sim.with_exchange([&](Exchange&, SyntheticMarket& m) { b = m.book(v, 0); });
    return b;
  }

  Simulator sim;
  simdjson::dom::parser parser;
};

TEST_F(PrivateStreamTest, UpbitPushesEachExecutionTheOrdersEndAndTheBalances) {
  PrivateClient c(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1/private",
                  token("ukey-0123456789", "usecret", "n-stream-1"));
  c.send(R"([{"ticket":"p1"},{"type":"myOrder"},{"type":"myAsset"}])");
  // Another account's stream on the same venue sees none of it.
  PrivateClient other(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1/private",
                      token("ukey-other-000001", "usecret2", "n-stream-2"));
  other.send(R"([{"ticket":"p2"},{"type":"myOrder"},{"type":"myAsset"}])");

  SymbolMap map;
  exec::RestVenue venue = venue_for(venues::kUpbit, map, "ukey-0123456789", "usecret");
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  // A buy through the two best asks: two executions.
  const SimBook b = book(venues::kUpbit);
  ASSERT_GE(b.asks.size(), 2u);
  auto second = std::next(b.asks.begin());
  exec::OrderRequest buy;
  buy.client_id.assign("x1-1-U0");
  buy.instrument = 0;
  buy.side = Side::buy;
  buy.price = Decimal::from_mantissa(second->first);
  buy.qty = Decimal::from_mantissa(b.asks.begin()->second + second->second / 2);
  exec::OrderStatus placed, s;
  ASSERT_TRUE(venue.place_blocking(buy, placed, error)) << error;
  ASSERT_TRUE(venue.get_blocking(0, buy.client_id, s, error)) << error;
  ASSERT_EQ(s.state, OrderState::filled);

  std::vector<std::string> states;
  std::int64_t traded = 0, funds = 0, last_fee = 0;  // mantissas
  std::string last;
  while (states.empty() || (states.back() != "done" && states.back() != "cancel")) {
    last = c.read();
    ASSERT_FALSE(last.empty()) << "the stream stopped after " << states.size() << " events";
    simdjson::dom::element e = parser.parse(last);
    if (std::string_view(e["type"].get_string()) != "myOrder") continue;
    EXPECT_EQ(std::string_view(e["code"].get_string()), "KRW-BTC");
    EXPECT_EQ(std::string_view(e["identifier"].get_string()), "x1-1-U0");
    EXPECT_EQ(std::string_view(e["uuid"].get_string()), placed.venue_id.view());
    EXPECT_EQ(std::string_view(e["ask_bid"].get_string()), "BID");
    states.emplace_back(std::string_view(e["state"].get_string()));
    if (states.back() == "trade") {
      // price and volume are the execution's; executed_volume the running total.
      traded += dec(last, "/volume").mantissa();
      funds += static_cast<std::int64_t>(static_cast<Int128>(dec(last, "/price").mantissa()) *
                                         dec(last, "/volume").mantissa() / Decimal::kOne);
      EXPECT_EQ(dec(last, "/executed_volume").mantissa(), traded);
      EXPECT_FALSE(e["trade_uuid"].is_null());
      last_fee = dec(last, "/paid_fee").mantissa();
    }
    if (states.back() == "done") {
      EXPECT_EQ(dec(last, "/executed_volume"), s.filled_qty);
      EXPECT_EQ(dec(last, "/executed_funds").mantissa(), funds) << "the executions' amounts, added";
      EXPECT_EQ(dec(last, "/paid_fee"), s.fee_quote) << "the same fee as the REST answer";
      EXPECT_EQ(dec(last, "/paid_fee").mantissa(), last_fee);
      EXPECT_EQ(dec(last, "/remaining_volume"), Decimal{});
    }
  }
  EXPECT_EQ((std::vector<std::string>{"wait", "trade", "trade", "done"}), states) << last;
  EXPECT_EQ(traded, s.filled_qty.mantissa());

  // Then the balances the order moved, as the venue holds them.
  const std::string assets = c.read();
  simdjson::dom::element a = parser.parse(assets);
  ASSERT_EQ(std::string_view(a["type"].get_string()), "myAsset");
  int seen = 0;
  for (simdjson::dom::element x : simdjson::dom::array(a["assets"])) {
    const std::string cur(std::string_view(x["currency"].get_string()));
    EXPECT_EQ(dec(assets, "/assets/" + std::to_string(seen) + "/balance").mantissa(),
              held(venues::kUpbit, "ukey-0123456789", cur.c_str()))
        << cur;
    ++seen;
  }
  EXPECT_EQ(seen, 2) << "KRW and BTC";

  // A deposit is a balance change too; the other account still saw nothing of ours.
  sim.with_exchange([&](Exchange& x, SyntheticMarket&) {
    x.adjust_balance(venues::kUpbit, "ukey-other-000001", "KRW", 5 * Decimal::kOne);
  });
  // The market's next tick publishes what is due.
  const std::string deposit = other.read();
  simdjson::dom::element dep = parser.parse(deposit);
  EXPECT_EQ(std::string_view(dep["type"].get_string()), "myAsset")
      << "the first thing the other account sees is its own deposit";
  EXPECT_EQ(dec(deposit, "/assets/0/balance"),
            Decimal::from_mantissa(1'000'000'005 * Decimal::kOne));
}

TEST_F(PrivateStreamTest, ATokenThatDoesNotVerifyIsRefusedWithInvalidAuth) {
  for (const std::string& t : {token("ukey-0123456789", "wrong", "n-bad-1"), std::string()}) {
    PrivateClient c(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1/private", t);
    c.send(R"([{"ticket":"p1"},{"type":"myOrder"}])");
    simdjson::dom::element e = parser.parse(c.read());
    EXPECT_EQ(std::string_view(e["error"]["name"].get_string()), "INVALID_AUTH");
    EXPECT_EQ(c.read(), "") << "closed after the error";
  }
  // The public endpoint does not serve private types.
  PrivateClient pub(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1",
                    token("ukey-0123456789", "usecret", "n-pub-1"));
  pub.send(R"([{"ticket":"p1"},{"type":"myOrder"}])");
  simdjson::dom::element e = parser.parse(pub.read());
  EXPECT_EQ(std::string_view(e["error"]["name"].get_string()), "INVALID_PARAM");
}

// Bithumb's v2 frames: order and execution prices in fields of their own, side buy/sell, the
// client id as client_order_id, and an IOC that executed in part ends `done`, tif_cancel.
TEST_F(PrivateStreamTest, BithumbPushesV2FramesAndAPartialIocEndsDone) {
  PrivateClient c(sim.ca_file(), sim.port(venues::kBithumb), "/websocket/v2/private",
                  token("hkey-0123456789", "hsecret", "n-h-1", clock::wall_ms()));
  c.send(R"([{"ticket":"h1"},{"type":"myOrder","codes":["KRW-BTC"]},{"type":"myAsset"}])");
  SymbolMap map;
  exec::RestVenue venue = venue_for(venues::kBithumb, map, "hkey-0123456789", "hsecret");
  std::string error;
  ASSERT_TRUE(venue.start(error)) << error;
  const SimBook b = book(venues::kBithumb);
  exec::OrderRequest sell;
  sell.client_id.assign("x1-2-H0");
  sell.instrument = 0;
  sell.side = Side::sell;
  sell.price = Decimal::from_mantissa(b.bids.rbegin()->first);
  sell.qty = Decimal::from_mantissa(b.bids.rbegin()->second + Decimal::kOne / 10);
  exec::OrderStatus placed, s;
  ASSERT_TRUE(venue.place_blocking(sell, placed, error)) << error;
  ASSERT_TRUE(venue.get_blocking(0, sell.client_id, s, error)) << error;

  std::vector<std::string> states;
  while (states.empty() || states.back() == "wait" || states.back() == "trade") {
    const std::string m = c.read();
    ASSERT_FALSE(m.empty());
    simdjson::dom::element e = parser.parse(m);
    if (std::string_view(e["type"].get_string()) != "myOrder") continue;
    EXPECT_EQ(std::string_view(e["client_order_id"].get_string()), "x1-2-H0");
    EXPECT_EQ(std::string_view(e["order_id"].get_string()), placed.venue_id.view());
    EXPECT_EQ(std::string_view(e["side"].get_string()), "sell");
    states.emplace_back(std::string_view(e["state"].get_string()));
    if (states.back() == "trade") {
      EXPECT_EQ(dec(m, "/trade_price"), sell.price);
      EXPECT_EQ(dec(m, "/trade_quantity").mantissa(), b.bids.rbegin()->second);
    }
    if (states.back() == "done") {
      EXPECT_EQ(std::string_view(e["cancel_type"].get_string()), "tif_cancel");
      EXPECT_EQ(dec(m, "/executed_quantity"), s.filled_qty);
      EXPECT_EQ(dec(m, "/paid_fee"), s.fee_quote);
      EXPECT_EQ(dec(m, "/remaining_quantity"), Decimal::from_mantissa(Decimal::kOne / 10));
    }
  }
  EXPECT_EQ((std::vector<std::string>{"wait", "trade", "done"}), states);
  const std::string assets = c.read();
  simdjson::dom::element a = parser.parse(assets);
  ASSERT_EQ(std::string_view(a["type"].get_string()), "myAsset");
  int seen = 0;
  for (simdjson::dom::element x : simdjson::dom::array(a["assets"])) {
    const std::string cur(std::string_view(x["currency"].get_string()));
    EXPECT_EQ(dec(assets, "/assets/" + std::to_string(seen) + "/balance").mantissa(),
              held(venues::kBithumb, "hkey-0123456789", cur.c_str()))
        << cur;
    ++seen;
  }
  EXPECT_EQ(seen, 2) << "KRW and BTC";
}

// ---------------------------------------------------------------------------------------------
// Binance's WebSocket API

std::string text_of(std::int64_t mantissa) {
  char buf[Decimal::kMaxChars];
  const FormatResult r = Decimal::from_mantissa(mantissa).to_chars(buf, buf + sizeof buf);
  return std::string(buf, r.end);
}

// A signed request: every parameter but the signature, sorted by name, as k=v joined by &.
std::string signed_request(const std::string& id, const std::string& method,
                           std::map<std::string, std::string> params,
                           const std::string& secret = "bsecret") {
  std::string payload, json;
  for (const auto& [k, v] : params) {
    payload += (payload.empty() ? "" : "&") + k + "=" + v;
    json += (json.empty() ? "\"" : ",\"") + k + "\":\"" + v + "\"";
  }
  const exec::Hex256 sig = exec::hmac_sha256_hex(secret, payload);
  return R"({"id":")" + id + R"(","method":")" + method + R"(","params":{)" + json +
         R"(,"signature":")" + std::string(sig.data(), sig.size()) + R"("}})";
}

class BinanceWsApiTest : public PrivateStreamTest {
 protected:
  BinanceWsApiTest()
      : api(sim.ca_file(), sim.port(venues::kBinance), "/ws-api/v3", std::string()) {}

  std::map<std::string, std::string> keyed() {
    return {{"apiKey", "bkey-0123456789"}, {"timestamp", std::to_string(clock::wall_ms())}};
  }
  std::map<std::string, std::string> order(const std::string& id, const char* side,
                                           std::int64_t price, std::int64_t qty,
                                           const char* tif = "IOC") {
    auto p = keyed();
    p.insert({{"symbol", "BTCUSDT"},
              {"side", side},
              {"type", "LIMIT"},
              {"timeInForce", tif},
              {"price", text_of(price)},
              {"quantity", text_of(qty)},
              {"newClientOrderId", id},
              {"newOrderRespType", "FULL"}});
    return p;
  }
  // Reads until the answer to request `id`, keeping the user data events met on the way.
  simdjson::dom::element answer(const std::string& id) {
    for (int i = 0; i < 50; ++i) {
      std::string m = api.read();
      if (m.empty()) break;
      simdjson::dom::element e = parser.parse(m);
      std::string_view got;
      if (e["id"].get(got) == simdjson::SUCCESS && got == id) {
        answers.push_back(m);
        return parser.parse(answers.back());
      }
      events.push_back(m);
    }
    ADD_FAILURE() << "no answer to " << id;
    answers.emplace_back("{}");
    return parser.parse(answers.back());
  }
  // Reads events until one of type `type` has `key` = `value` (or 50 messages have passed).
  bool wait_event(const char* type, const char* key, const std::string& value) {
    const auto match = [&](const std::string& m) {
      simdjson::dom::parser p;
      simdjson::dom::element e = p.parse(m);
      simdjson::dom::element ev;
      std::string_view t, v;
      return e["event"].get(ev) == simdjson::SUCCESS && ev["e"].get(t) == simdjson::SUCCESS &&
             t == type && ev[key].get(v) == simdjson::SUCCESS && v == value;
    };
    for (const std::string& m : events) {
      if (match(m)) return true;
    }
    for (int i = 0; i < 50; ++i) {
      std::string m = api.read();
      if (m.empty()) return false;
      events.push_back(m);
      if (match(m)) return true;
    }
    return false;
  }

  PrivateClient api;
  std::deque<std::string> answers;  // kept: the parsed elements point into them
  std::vector<std::string> events;
};

TEST_F(BinanceWsApiTest, AnOrderPlacedOnTheApiIsAnsweredAndItsExecutionsPushed) {
  api.send(signed_request("sub-1", "userDataStream.subscribe.signature", keyed()));
  simdjson::dom::element sub = answer("sub-1");
  ASSERT_EQ(std::int64_t(sub["status"]), 200) << simdjson::to_string(sub);
  EXPECT_EQ(std::int64_t(sub["result"]["subscriptionId"]), 0);
  // A second subscription of the same account on this connection is refused.
  api.send(signed_request("sub-2", "userDataStream.subscribe.signature", keyed()));
  EXPECT_EQ(std::int64_t(answer("sub-2")["status"]), 400);

  // A buy through the two best asks: two executions, the commission in BTC.
  const SimBook b = book(venues::kBinance);
  ASSERT_GE(b.asks.size(), 2u);
  const auto second = std::next(b.asks.begin());
  const std::int64_t qty =
      b.asks.begin()->second + second->second / 2 / 1000 * 1000;  // on the 0.00001 step
  api.send(signed_request("p-1", "order.place", order("ws-1", "BUY", second->first, qty)));
  simdjson::dom::element placed = answer("p-1");
  ASSERT_EQ(std::int64_t(placed["status"]), 200) << simdjson::to_string(placed);
  const std::string placed_text = answers.back();
  EXPECT_EQ(std::string_view(placed["result"]["status"]), "FILLED");
  EXPECT_EQ(dec(placed_text, "/result/executedQty"), Decimal::from_mantissa(qty));
  std::int64_t answer_fee = 0;
  for (std::size_t i = 0; i < 2; ++i) {
    const std::string at = "/result/fills/" + std::to_string(i);
    EXPECT_EQ(std::string_view(placed["result"]["fills"].at(i)["commissionAsset"]), "BTC");
    answer_fee += dec(placed_text, at + "/commission").mantissa();
  }
  // The answer states the limits it counted against.
  bool orders_10s = false;
  for (auto l : placed["rateLimits"].get_array()) {
    if (std::string_view(l["rateLimitType"]) == "ORDERS" &&
        std::string_view(l["interval"]) == "SECOND") {
      orders_10s = true;
      EXPECT_EQ(std::int64_t(l["intervalNum"]), 10);
      EXPECT_GE(std::int64_t(l["count"]), 1);
    }
  }
  EXPECT_TRUE(orders_10s) << simdjson::to_string(placed["rateLimits"]);

  // The user data stream: NEW, then each TRADE (l, n per execution; z, Z cumulative), the last
  // FILLED, then the balances the order moved.
  ASSERT_TRUE(wait_event("executionReport", "X", "FILLED"));
  ASSERT_TRUE(wait_event("outboundAccountPosition", "e", "outboundAccountPosition"));
  std::vector<std::string> types;
  std::int64_t executed = 0, fees = 0;
  Int128 notional = 0;
  std::string filled;
  for (const std::string& m : events) {
    simdjson::dom::element e = parser.parse(m);
    EXPECT_EQ(std::int64_t(e["subscriptionId"]), 0);
    simdjson::dom::element ev = e["event"];
    if (std::string_view(ev["e"]) == "outboundAccountPosition") {
      // The free balances are the venue's own.
      for (std::size_t i = 0; i < 2; ++i) {
        const std::string asset(std::string_view(ev["B"].at(i)["a"]));
        EXPECT_EQ(dec(m, "/event/B/" + std::to_string(i) + "/f").mantissa(),
                  held(venues::kBinance, "bkey-0123456789", asset.c_str()))
            << asset;
      }
      continue;
    }
    EXPECT_EQ(std::string_view(ev["c"]), "ws-1");
    EXPECT_EQ(std::string_view(ev["s"]), "BTCUSDT");
    types.emplace_back(std::string_view(ev["x"]));
    if (types.back() != "TRADE") continue;
    executed += dec(m, "/event/l").mantissa();
    notional += static_cast<Int128>(dec(m, "/event/L").mantissa()) * dec(m, "/event/l").mantissa();
    EXPECT_EQ(std::string_view(ev["N"]), "BTC");
    fees += dec(m, "/event/n").mantissa();
    EXPECT_EQ(dec(m, "/event/z").mantissa(), executed) << "z is cumulative";
    filled = m;
  }
  EXPECT_EQ((std::vector<std::string>{"NEW", "TRADE", "TRADE"}), types);
  EXPECT_EQ(executed, qty);
  EXPECT_EQ(fees, answer_fee) << "the events' commissions add up to the answer's";
  EXPECT_EQ(dec(filled, "/event/Z").mantissa(),
            static_cast<std::int64_t>(notional / Decimal::kOne));
  EXPECT_EQ(dec(filled, "/event/Z"), dec(placed_text, "/result/cummulativeQuoteQty"));
}

TEST_F(BinanceWsApiTest, StatusAndCancelAnswerAndTheCancelIsPushedWithTheOriginalId) {
  api.send(signed_request("sub", "userDataStream.subscribe.signature", keyed()));
  ASSERT_EQ(std::int64_t(answer("sub")["status"]), 200);
  // A GTC bid far below the book rests.
  const SimBook b = book(venues::kBinance);
  const std::int64_t low = b.bids.rbegin()->first / 2 / Decimal::kOne * Decimal::kOne;
  api.send(
      signed_request("p", "order.place", order("rest-1", "BUY", low, Decimal::kOne / 1000, "GTC")));
  ASSERT_EQ(std::string_view(answer("p")["result"]["status"]), "NEW");
  auto q = keyed();
  q.insert({{"symbol", "BTCUSDT"}, {"origClientOrderId", "rest-1"}});
  api.send(signed_request("s", "order.status", q));
  simdjson::dom::element s = answer("s");
  EXPECT_EQ(std::int64_t(s["status"]), 200);
  EXPECT_EQ(std::string_view(s["result"]["status"]), "NEW");
  api.send(signed_request("c", "order.cancel", q));
  simdjson::dom::element c = answer("c");
  EXPECT_EQ(std::int64_t(c["status"]), 200);
  EXPECT_EQ(std::string_view(c["result"]["status"]), "CANCELED");
  EXPECT_EQ(std::string_view(c["result"]["origClientOrderId"]), "rest-1");
  ASSERT_TRUE(wait_event("executionReport", "x", "CANCELED"));
  simdjson::dom::element ev = parser.parse(events.back())["event"];
  EXPECT_EQ(std::string_view(ev["C"]), "rest-1") << "the order's own id is in C";
  EXPECT_EQ(std::string_view(ev["X"]), "CANCELED");
  // An order it does not know: the venue's own code.
  q["origClientOrderId"] = "never-placed";
  api.send(signed_request("u", "order.status", q));
  simdjson::dom::element u = answer("u");
  EXPECT_EQ(std::int64_t(u["status"]), 400);
  EXPECT_EQ(std::int64_t(u["error"]["code"]), -2013);
}

TEST_F(BinanceWsApiTest, SignaturesAndKeysAreCheckedAsTheVenueDoes) {
  api.send(signed_request(
      "bad-sig", "order.place",
      order("x-1", "BUY", book(venues::kBinance).asks.begin()->first, Decimal::kOne / 1000),
      "not-the-secret"));
  simdjson::dom::element a = answer("bad-sig");
  EXPECT_EQ(std::int64_t(a["status"]), 400);
  EXPECT_EQ(std::int64_t(a["error"]["code"]), -1022);
  auto unknown = keyed();
  unknown["apiKey"] = "no-such-key";
  api.send(signed_request("bad-key", "userDataStream.subscribe.signature", unknown));
  simdjson::dom::element k = answer("bad-key");
  EXPECT_EQ(std::int64_t(k["status"]), 401);
  EXPECT_EQ(std::int64_t(k["error"]["code"]), -2015);
  api.send(R"({"id":"m","method":"no.such.method","params":{}})");
  EXPECT_EQ(std::int64_t(answer("m")["status"]), 400);
  int orders = 0;
  sim.with_exchange([&](Exchange& x, SyntheticMarket&) { orders = int(x.orders().size()); });
  EXPECT_EQ(orders, 0) << "nothing refused was placed";
}

TEST_F(BinanceWsApiTest, ALostAnswerIsMinus1007AndTheOrderStillExecuted) {
  api.send(signed_request("sub", "userDataStream.subscribe.signature", keyed()));
  ASSERT_EQ(std::int64_t(answer("sub")["status"]), 200);
  sim.with_exchange([](Exchange& x, SyntheticMarket&) { x.faults().timeout_share = 1.0; });
  const SimBook b = book(venues::kBinance);
  api.send(signed_request("p", "order.place",
                          order("lost-1", "SELL", b.bids.rbegin()->first, Decimal::kOne / 1000)));
  simdjson::dom::element a = answer("p");
  EXPECT_EQ(std::int64_t(a["error"]["code"]), -1007) << "sent, outcome unknown";
  // The stream says what happened.
  EXPECT_TRUE(wait_event("executionReport", "X", "FILLED"));
  sim.with_exchange([](Exchange& x, SyntheticMarket&) { x.faults().timeout_share = 0.0; });
  auto q = keyed();
  q.insert({{"symbol", "BTCUSDT"}, {"origClientOrderId", "lost-1"}});
  api.send(signed_request("s", "order.status", q));
  EXPECT_EQ(std::string_view(answer("s")["result"]["status"]), "FILLED");
}

}  // namespace
}  // namespace xarb::sim
