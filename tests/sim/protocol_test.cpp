// Protocol conformance of the simulator's websocket front ends, with a plain Beast client: what a
// third-party client library written for the real venues would see.

#include <chrono>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <xarb/net/names.hpp>
#include <xarb/sim/simulator.hpp>

namespace xarb::sim {
namespace {

using namespace xarb::net::names;  // asio, beast, http, websocket, ssl, tcp, error_code

class Client {
 public:
  Client(const std::string& ca_file, unsigned short port, const std::string& target)
      : tls_(ssl::context::tls_client), ws_(io_, tls_) {
    tls_.load_verify_file(ca_file);
    tls_.set_verify_mode(ssl::verify_peer);
    tcp::resolver resolver(io_);
    asio::connect(beast::get_lowest_layer(ws_), resolver.resolve("127.0.0.1", std::to_string(port)));
    ws_.next_layer().handshake(ssl::stream_base::client);
    ws_.handshake("127.0.0.1", target);
  }
  void send(const std::string& text) {
    ws_.text(true);
    ws_.write(asio::buffer(text));
  }
  // The next message, and whether it came as a binary frame.
  std::string read(bool* binary = nullptr) {
    beast::flat_buffer b;
    ws_.read(b);
    if (binary != nullptr) *binary = ws_.got_binary();
    return beast::buffers_to_string(b.data());
  }
  // True when the server closes the connection (frames already on their way are skipped).
  bool closed_by_server() {
    for (int k = 0; k < 100; ++k) {
      beast::flat_buffer b;
      beast::error_code ec;
      ws_.read(b, ec);
      if (ec) return true;
    }
    return false;
  }

 private:
  asio::io_context io_;
  ssl::context tls_;
  websocket::stream<beast::ssl_stream<tcp::socket>> ws_;
};

SimOptions options() {
  SimOptions o;
  SymbolSpec btc;
  btc.base = "BTC";
  btc.markets[index(venues::kBinance)] = "BTCUSDT";
  btc.markets[index(venues::kUpbit)] = "KRW-BTC";
  o.symbols = {btc};
  o.updates_per_second = 300.0;
  return o;
}

class ProtocolTest : public ::testing::Test {
 protected:
  ProtocolTest() : sim(options()) { sim.start(); }
  Simulator sim;
  simdjson::dom::parser parser;
};

TEST_F(ProtocolTest, BinanceRawStreamsSubscribeAndCombinedWrapper) {
  Client raw(sim.ca_file(), sim.port(venues::kBinance), "/ws/btcusdt@bookTicker");
  const std::string ticker = raw.read();
  simdjson::dom::element t = parser.parse(ticker);
  EXPECT_EQ(std::string_view(t["s"].get_string()), "BTCUSDT");
  std::string_view bid, ask;
  EXPECT_EQ(t["b"].get(bid), simdjson::SUCCESS) << "prices are strings";
  EXPECT_EQ(t["a"].get(ask), simdjson::SUCCESS);
  EXPECT_TRUE(t["u"].is_int64());
  // SUBSCRIBE on the same connection: {"result":null,"id":7}, then partial depth arrives.
  raw.send(R"({"method":"SUBSCRIBE","params":["btcusdt@depth5@100ms"],"id":7})");
  bool answered = false, depth5 = false;
  for (int i = 0; i < 200 && !(answered && depth5); ++i) {
    const std::string m = raw.read();
    if (m == R"({"result":null,"id":7})") answered = true;
    if (m.find("\"lastUpdateId\"") != std::string::npos) {
      simdjson::dom::element e = parser.parse(m);
      EXPECT_EQ(simdjson::dom::array(e["bids"]).size(), 5u);
      depth5 = true;
    }
  }
  EXPECT_TRUE(answered);
  EXPECT_TRUE(depth5);

  Client combined(sim.ca_file(), sim.port(venues::kBinance), "/stream?streams=btcusdt@depth@100ms");
  std::uint64_t last_u = 0;
  for (int i = 0; i < 20; ++i) {
    simdjson::dom::element e = parser.parse(combined.read());
    EXPECT_EQ(std::string_view(e["stream"].get_string()), "btcusdt@depth@100ms");
    simdjson::dom::element data = e["data"];
    EXPECT_EQ(std::string_view(data["e"].get_string()), "depthUpdate");
    const auto first = static_cast<std::uint64_t>(int64_t(data["U"]));
    const auto last = static_cast<std::uint64_t>(int64_t(data["u"]));
    if (last_u != 0) {
      EXPECT_EQ(first, last_u + 1) << "continuous U/u";
    }
    last_u = last;
  }
}

TEST_F(ProtocolTest, UpbitSubscriptionFormatsDepthPingAndErrors) {
  Client c(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1");
  c.send(R"([{"ticket":"t1"},{"type":"orderbook","codes":["KRW-BTC.5","KRW-USDT"]},{"format":"SIMPLE"}])");
  bool binary = false;
  simdjson::dom::element first = parser.parse(c.read(&binary));
  EXPECT_TRUE(binary) << "Upbit sends binary frames";
  EXPECT_EQ(std::string_view(first["ty"].get_string()), "orderbook");
  EXPECT_EQ(std::string_view(first["st"].get_string()), "SNAPSHOT");
  EXPECT_EQ(std::string_view(first["cd"].get_string()), "KRW-BTC");
  EXPECT_EQ(simdjson::dom::array(first["obu"]).size(), 5u) << "the requested depth";
  c.send("PING");
  bool pong = false;
  for (int i = 0; i < 500 && !pong; ++i) pong = c.read() == R"({"status":"UP"})";
  EXPECT_TRUE(pong);

  Client def(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1");
  def.send(R"([{"ticket":"t2"},{"type":"orderbook","codes":["KRW-BTC"]}])");
  simdjson::dom::element d = parser.parse(def.read());
  EXPECT_EQ(std::string_view(d["type"].get_string()), "orderbook");
  EXPECT_EQ(simdjson::dom::array(d["orderbook_units"]).size(), 20u) << "all the sim's levels, up to 30";
  EXPECT_TRUE(d["total_ask_size"].is_number());

  Client bad(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1");
  bad.send(R"([{"type":"orderbook","codes":["KRW-BTC"]}])");
  simdjson::dom::element err = parser.parse(bad.read());
  EXPECT_EQ(std::string_view(err["error"]["name"].get_string()), "NO_TICKET");
  EXPECT_TRUE(bad.closed_by_server());
}

TEST_F(ProtocolTest, TradeStreamsOnBothVenues) {
  Client b(sim.ca_file(), sim.port(venues::kBinance), "/stream?streams=btcusdt@trade/btcusdt@aggTrade");
  bool trade = false, agg = false;
  for (int i = 0; i < 2'000 && !(trade && agg); ++i) {
    simdjson::dom::element e = parser.parse(b.read());
    simdjson::dom::element d = e["data"];
    const std::string_view kind = d["e"].get_string();
    EXPECT_EQ(std::string_view(d["s"].get_string()), "BTCUSDT");
    std::string_view price;
    EXPECT_EQ(d["p"].get(price), simdjson::SUCCESS);
    trade = trade || kind == "trade";
    agg = agg || kind == "aggTrade";
  }
  EXPECT_TRUE(trade);
  EXPECT_TRUE(agg);
  Client u(sim.ca_file(), sim.port(venues::kUpbit), "/websocket/v1");
  u.send(R"([{"ticket":"t3"},{"type":"trade","codes":["KRW-BTC"]}])");
  simdjson::dom::element t = parser.parse(u.read());
  EXPECT_EQ(std::string_view(t["type"].get_string()), "trade");
  EXPECT_EQ(std::string_view(t["code"].get_string()), "KRW-BTC");
  EXPECT_TRUE(t["trade_price"].is_number());
  const std::string_view side = t["ask_bid"].get_string();
  EXPECT_TRUE(side == "ASK" || side == "BID");
}

}  // namespace
}  // namespace xarb::sim
