// The network layer on its own: URLs, JSON numbers, backoff, the polled HTTPS client and the
// websocket client session, against the loopback TLS test server.

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <xarb/core/clock.hpp>
#include <xarb/net/backoff.hpp>
#include <xarb/net/https_client.hpp>
#include <xarb/net/json.hpp>
#include <xarb/net/tls.hpp>
#include <xarb/net/url.hpp>
#include <xarb/net/ws_client.hpp>

#include "alloc_counter.hpp"
#include "test_support.hpp"
#include "tls_test_server.hpp"

namespace xarb::net {
namespace {

using ::xarb::test::d;
using ::xarb::test::poll_until;
using ::xarb::test::TlsTestServer;

TEST(Url, SplitsHostPortAndTarget) {
  Url u = parse_url("https://api.binance.com", "https://");
  EXPECT_EQ(u.host, "api.binance.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/");
  EXPECT_EQ(u.host_header(), "api.binance.com");
  EXPECT_EQ(u.path_prefix(), "");

  u = parse_url("https://127.0.0.1:8443/upbit/", "https://");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.path_prefix(), "/upbit");
  EXPECT_EQ(u.host_header(), "127.0.0.1:8443");

  u = parse_url("wss://stream.binance.com:9443/stream?streams=btcusdt@depth", "wss://");
  EXPECT_EQ(u.port, "9443");
  EXPECT_EQ(u.target, "/stream?streams=btcusdt@depth");
  EXPECT_EQ(u.path_prefix(), "/stream");

  u = parse_url("wss://api.upbit.com?x=1", "wss://");
  EXPECT_EQ(u.target, "/?x=1");

  u = parse_url("https://[::1]:8443/v1", "https://");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "8443");
  EXPECT_EQ(u.host_header(), "[::1]:8443");
}

TEST(Url, RefusesWhatIsNotATlsEndpoint) {
  Url u;
  std::string error;
  EXPECT_FALSE(parse_url("http://api.binance.com", "https://", u, error));
  EXPECT_NE(error.find("must start with https://"), std::string::npos) << error;
  EXPECT_FALSE(parse_url("wss://api.upbit.com", "https://", u, error));
  EXPECT_FALSE(parse_url("https://", "https://", u, error));
  EXPECT_NE(error.find("no host"), std::string::npos) << error;
  EXPECT_FALSE(parse_url("https://host:/x", "https://", u, error));
  EXPECT_FALSE(parse_url("https://host:99999", "https://", u, error));
  EXPECT_FALSE(parse_url("https://host:12ab", "https://", u, error));
  EXPECT_FALSE(parse_url("https://[::1", "https://", u, error));
  EXPECT_THROW((void)parse_url("ftp://x", "wss://"), std::invalid_argument);
}

// The value of "v" in the one-object document `text` (valid until the next call).
class OneValue {
 public:
  simdjson::ondemand::value& of(const std::string& text) {
    EXPECT_EQ(input_.start(text, parser_, doc_), simdjson::SUCCESS) << text;
    EXPECT_EQ(doc_["v"].get(value_), simdjson::SUCCESS) << text;
    return value_;
  }

 private:
  simdjson::ondemand::parser parser_;
  json::JsonInput input_{64, 1 << 16};
  simdjson::ondemand::document doc_;
  simdjson::ondemand::value value_;
};

json::NumberStatus decimal_field(const std::string& text, Decimal& out, bool exact = true) {
  static OneValue one;
  return json::read_decimal(one.of(text), out, exact);
}

TEST(Json, ReadsDecimalsFromStringsAndNumbersExactly) {
  Decimal x;
  EXPECT_EQ(decimal_field(R"({"v":"43.50830000"})", x), json::NumberStatus::ok);
  EXPECT_EQ(x, d("43.5083"));
  EXPECT_EQ(decimal_field(R"({"v":1.16539E8})", x), json::NumberStatus::ok);
  EXPECT_EQ(x, d("116539000"));
  EXPECT_EQ(decimal_field(R"({"v": 0.1 })", x), json::NumberStatus::ok);
  EXPECT_EQ(x, d("0.1"));
  EXPECT_EQ(decimal_field(R"({"v":"-2.5"})", x), json::NumberStatus::ok);
  EXPECT_EQ(x, d("-2.5"));
  EXPECT_EQ(decimal_field(R"({"v":null})", x), json::NumberStatus::null);
  EXPECT_EQ(x, Decimal{});
  EXPECT_EQ(decimal_field(R"({"v":{"a":1}})", x), json::NumberStatus::wrong_type);
  EXPECT_EQ(decimal_field(R"({"v":true})", x), json::NumberStatus::wrong_type);
  EXPECT_EQ(decimal_field(R"({"v":"1\u0030"})", x), json::NumberStatus::bad_number);
  EXPECT_EQ(decimal_field(R"({"v":"abc"})", x), json::NumberStatus::bad_number);
  // Nine decimals: an error when exact, rounded down otherwise.
  EXPECT_EQ(decimal_field(R"({"v":"0.123456789"})", x), json::NumberStatus::bad_number);
  EXPECT_EQ(decimal_field(R"({"v":"0.123456789"})", x, false), json::NumberStatus::ok);
  EXPECT_EQ(x, d("0.12345678"));
}

TEST(Json, AnAmountIsNeverNegative) {
  OneValue one;
  const auto amount = [&](const std::string& text, Decimal& out, bool null_is_zero) {
    return json::read_amount(one.of(text), out, null_is_zero);
  };
  Decimal x;
  EXPECT_TRUE(amount(R"({"v":"0.00100000"})", x, false));
  EXPECT_EQ(x, d("0.001"));
  EXPECT_FALSE(amount(R"({"v":"-0.001"})", x, false));
  EXPECT_FALSE(amount(R"({"v":null})", x, false));
  EXPECT_TRUE(amount(R"({"v":null})", x, true));
  EXPECT_EQ(x, Decimal{});
}

TEST(Json, AnInputGrowsUpToItsMaximumAndRefusesMore) {
  json::JsonInput input(16, 64);
  EXPECT_EQ(input.capacity(), 16u);
  EXPECT_TRUE(input.load(std::string(40, ' ')));
  EXPECT_GE(input.capacity(), 40u);
  EXPECT_LE(input.capacity(), 64u);
  EXPECT_TRUE(input.load(std::string(64, ' ')));
  EXPECT_FALSE(input.load(std::string(65, ' ')));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  EXPECT_EQ(input.start(std::string(65, ' '), parser, doc), simdjson::CAPACITY);
}

TEST(Backoff, DoublesUpToTheMaximumWithJitterAndStartsOverOnReset) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  const std::int64_t base[] = {100, 200, 400, 800, 1000, 1000};
  for (const std::int64_t expected : base) {
    const auto delay = b.next().count();
    EXPECT_GE(delay, expected);
    EXPECT_LE(delay, expected + expected / 2);
  }
  b.reset();
  EXPECT_LE(b.next().count(), 150);
}

// HTTPS ---------------------------------------------------------------------------------------

std::string get(std::string_view target, const Url& u) {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: " + u.host_header() + "\r\n\r\n";
}

struct HttpsFixture {
  explicit HttpsFixture(TlsTestServer::RestHandler handler, HttpsClientOptions options = {},
                        std::function<void()> ready = {})
      : server(nullptr, std::move(handler)),
        tls(make_client_tls(server.ca_file())),
        url(parse_url(server.https_url(), "https://")),
        client(io, *tls, url, options,
               [this](std::string_view name, std::string_view value) {
                 if (name == "X-Count") headers.emplace_back(value);
               },
               std::move(ready)) {}

  // Runs the io_context until `n` answers arrived (or 10 s passed).
  std::vector<std::pair<HttpAnswer, std::string>> collect(std::size_t n) {
    std::vector<std::pair<HttpAnswer, std::string>> out;
    poll_until([&] { return out.size() >= n; },
               [&] {
                 if (io.stopped()) io.restart();
                 io.run_for(std::chrono::milliseconds(5));
                 client.expire(clock::mono_ns());
                 HttpAnswer a;
                 while (client.next(a)) out.emplace_back(a, std::string(a.body));
               },
               std::chrono::seconds(10));
    return out;
  }

  TlsTestServer server;
  asio::io_context io{1};
  std::unique_ptr<ssl::context> tls;
  Url url;
  std::vector<std::string> headers;
  HttpsClient client;
};

TEST(HttpsClient, AnswersInOrderOnOneKeptAliveConnectionWithTheirHeaders) {
  std::atomic<int> seen{0};
  HttpsFixture f([&](const test::HttpExchange& x) {
    test::HttpReply r;
    r.body = x.path() + " on " + std::to_string(x.connection);
    r.headers.emplace_back("X-Count", std::to_string(++seen));
    return r;
  });
  f.client.connect();
  ASSERT_TRUE(f.client.submit(get("/a", f.url), 1));
  ASSERT_TRUE(f.client.submit(get("/b", f.url), 2));
  ASSERT_TRUE(f.client.submit(get("/c", f.url), 3));
  const auto answers = f.collect(3);
  ASSERT_EQ(answers.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(answers[i].first.tag, i + 1);
    EXPECT_FALSE(answers[i].first.transport_error);
    EXPECT_EQ(answers[i].first.status, 200);
    EXPECT_GT(answers[i].first.latency_ns, 0);
  }
  // One connection served all three.
  EXPECT_EQ(answers[0].second, "/a on 0");
  EXPECT_EQ(answers[1].second, "/b on 0");
  EXPECT_EQ(answers[2].second, "/c on 0");
  EXPECT_EQ(f.server.connections(), 1);
  EXPECT_EQ(f.headers, (std::vector<std::string>{"1", "2", "3"}));
}

TEST(HttpsClient, ARequestPastItsTimeoutFailsAndTheNextGoesOutOnANewConnection) {
  HttpsClientOptions o;
  o.request_timeout = std::chrono::milliseconds(200);
  HttpsFixture f(
      [](const test::HttpExchange& x) {
        test::HttpReply r;
        if (x.path() == "/slow") r.delay_ms = 1500;
        r.body = std::to_string(x.connection);
        return r;
      },
      o);
  ASSERT_TRUE(f.client.submit(get("/slow", f.url), 1));
  ASSERT_TRUE(f.client.submit(get("/fast", f.url), 2));
  const auto answers = f.collect(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].first.transport_error);
  EXPECT_EQ(answers[0].first.what, "timeout");
  EXPECT_FALSE(answers[1].first.transport_error);
  EXPECT_EQ(answers[1].first.status, 200);
  EXPECT_EQ(answers[1].second, "1");  // the second connection
  EXPECT_GE(f.client.reconnects(), 2u);
}

TEST(HttpsClient, AnIdleConnectionIsReplacedBeforeTheServerClosesIt) {
  HttpsClientOptions o;
  o.max_idle = std::chrono::milliseconds(50);
  HttpsFixture f(
      [](const test::HttpExchange& x) {
        test::HttpReply r;
        r.body = std::to_string(x.connection);
        return r;
      },
      o);
  ASSERT_TRUE(f.client.submit(get("/", f.url), 1));
  auto answers = f.collect(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].second, "0");
  // Idle: polled until the client has opened a fresh connection of its own accord.
  const bool renewed = poll_until([&] { return f.client.idle_renewals() > 0; },
                                  [&] {
                                    f.io.run_for(std::chrono::milliseconds(5));
                                    f.client.expire(clock::mono_ns());
                                  },
                                  std::chrono::seconds(10));
  ASSERT_TRUE(renewed);
  ASSERT_TRUE(f.client.submit(get("/", f.url), 2));
  answers = f.collect(1);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_FALSE(answers[0].first.transport_error);
  EXPECT_NE(answers[0].second, "0") << "served on a new connection";
}

TEST(HttpsClient, ADroppedConnectionFailsItsRequestAsUnknown) {
  HttpsFixture f([](const test::HttpExchange& x) {
    test::HttpReply r;
    r.drop = x.path() == "/drop";
    return r;
  });
  ASSERT_TRUE(f.client.submit(get("/drop", f.url), 7));
  ASSERT_TRUE(f.client.submit(get("/ok", f.url), 8));
  const auto answers = f.collect(2);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_TRUE(answers[0].first.transport_error);
  EXPECT_EQ(answers[0].first.tag, 7u);
  EXPECT_EQ(answers[0].first.what, "read");
  EXPECT_FALSE(answers[1].first.transport_error);
  EXPECT_EQ(answers[1].first.tag, 8u);
}

TEST(HttpsClient, ReadyIsCalledForEachAnswerAndMaySubmitTheNext) {
  std::unique_ptr<HttpsFixture> f;
  std::vector<std::uint64_t> tags;
  f = std::make_unique<HttpsFixture>(
      [](const test::HttpExchange&) { return test::HttpReply{}; }, HttpsClientOptions{},
      [&] {
        HttpAnswer a;
        while (f->client.next(a)) {
          tags.push_back(a.tag);
          if (a.tag < 5) {
            EXPECT_TRUE(f->client.submit(get("/next", f->url), a.tag + 1));
          }
        }
      });
  ASSERT_TRUE(f->client.submit(get("/first", f->url), 1));
  poll_until([&] { return tags.size() >= 5; },
             [&] { f->io.run_for(std::chrono::milliseconds(5)); }, std::chrono::seconds(10));
  EXPECT_EQ(tags, (std::vector<std::uint64_t>{1, 2, 3, 4, 5}));
}

TEST(HttpsClient, AServerTheTrustStoreDoesNotVouchForIsRefused) {
  HttpsFixture f([](const test::HttpExchange&) { return test::HttpReply{}; });
  // The system store does not know the server's self-signed certificate.
  auto system_store = make_client_tls("");
  HttpsClient c(f.io, *system_store, f.url, HttpsClientOptions{}, nullptr);
  ASSERT_TRUE(c.submit(get("/", f.url), 1));
  HttpAnswer a;
  bool got = false;
  poll_until([&] { return got; },
             [&] {
               f.io.run_for(std::chrono::milliseconds(5));
               got = c.next(a);
             },
             std::chrono::seconds(10));
  ASSERT_TRUE(got);
  EXPECT_TRUE(a.transport_error);
  EXPECT_EQ(a.what, "tls handshake");
}

TEST(Tls, AMissingCaFileIsReportedByName) {
  try {
    (void)make_client_tls("/nonexistent/ca.pem");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ca.pem"), std::string::npos) << e.what();
  }
}

// Websocket -----------------------------------------------------------------------------------

struct Recorder final : WsHandler {
  void on_open(WsClient& c) override {
    ++opens;
    c.send("subscribe");
  }
  void on_frame(std::string_view frame, std::int64_t) override { frames.emplace_back(frame); }
  void on_close() override { ++closes; }
  int opens = 0;
  int closes = 0;
  std::vector<std::string> frames;
};

TEST(WsClient, SubscribesReadsKeepsAliveAndReconnectsAfterAKill) {
  std::mutex mu;
  std::vector<std::string> received;  // what the server read, per connection
  TlsTestServer server(
      [&](test::WsPeer& peer, int connection) {
        auto first = peer.receive();  // the subscription
        if (!first) return;
        {
          std::lock_guard lock(mu);
          received.push_back(std::to_string(connection) + ":" + *first);
        }
        peer.send("hello " + std::to_string(connection), false);
        if (connection == 0) {
          auto ping = peer.receive();  // the keep-alive text
          if (ping) {
            std::lock_guard lock(mu);
            received.push_back(std::to_string(connection) + ":" + *ping);
          }
          peer.kill();
          return;
        }
        while (peer.receive()) {
        }
      },
      TlsTestServer::HttpHandler{});
  asio::io_context io{1};
  auto tls = make_client_tls(server.ca_file());
  WsClientOptions o;
  o.reconnect_min = std::chrono::milliseconds(10);
  o.reconnect_max = std::chrono::milliseconds(50);
  o.keepalive_text = "PING";
  o.keepalive_interval = std::chrono::milliseconds(100);
  Recorder handler;
  WsStats stats;
  WsClient client(io, *tls, parse_url(server.ws_url(), "wss://"), o, handler, stats);
  client.start();
  poll_until([&] { return handler.frames.size() >= 2; },
             [&] { io.run_for(std::chrono::milliseconds(5)); }, std::chrono::seconds(10));
  client.stop();
  io.poll();
  EXPECT_EQ(handler.frames, (std::vector<std::string>{"hello 0", "hello 1"}));
  EXPECT_EQ(handler.opens, 2);
  EXPECT_GE(handler.closes, 1);
  EXPECT_EQ(stats.connects, 2u);
  EXPECT_GE(stats.disconnects, 1u);
  EXPECT_GE(stats.pings_sent, 1u);
  std::lock_guard lock(mu);
  ASSERT_GE(received.size(), 3u);
  EXPECT_EQ(received[0], "0:subscribe");
  EXPECT_EQ(received[1], "0:PING");
  EXPECT_EQ(received[2], "1:subscribe");  // subscribed again on the new connection
}

// The server pings between frames (Binance's WebSocket API every 20 s); Beast answers each ping
// with a pong of one buffer, and the client's next frame (header and payload, two buffers) is
// gathered into one TLS record. That record's buffer is kept across the pongs: the frames that
// follow a ping allocate nothing.
TEST(WsClient, FramesAfterTheServersPingsAllocateNothing) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  constexpr int kWarmUp = 10;  // past the outbox's 8 slots, each grown once to the text's size
  constexpr int kRounds = 50;
  TlsTestServer server(
      [&](test::WsPeer& peer, int) {
        // Each message is answered by a ping, then by a frame that asks for the next one.
        while (auto m = peer.receive()) {
          if (!peer.ping() || !peer.send("next", false)) return;
        }
      },
      TlsTestServer::HttpHandler{});
  struct Echo final : WsHandler {
    void on_open(WsClient& c) override {
      client = &c;
      c.send("subscribe");
    }
    void on_frame(std::string_view, std::int64_t) override {
      ++frames;
      // An order-sized text: the size of what the engine writes on a venue's stream.
      client->send(text);
    }
    void on_close() override {}
    WsClient* client = nullptr;
    int frames = 0;
    std::string text = std::string(300, 'o');
  } handler;
  asio::io_context io{1};
  auto tls = make_client_tls(server.ca_file());
  WsStats stats;
  WsClient client(io, *tls, parse_url(server.ws_url(), "wss://"), WsClientOptions{}, handler,
                  stats);
  client.start();
  const auto run_until = [&](int frames) {
    poll_until([&] { return handler.frames >= frames; },
               [&] { io.run_for(std::chrono::milliseconds(5)); }, std::chrono::seconds(10));
  };
  run_until(kWarmUp);
  ASSERT_GE(handler.frames, kWarmUp);
  std::uint64_t allocations = 0;
  std::string first;
  {
    test::AllocationScope scope;
    while (handler.frames < kWarmUp + kRounds) io.run_one_for(std::chrono::seconds(10));
    allocations = scope.count();
    first = scope.first();
  }
  client.stop();
  io.poll();
  EXPECT_EQ(handler.frames, kWarmUp + kRounds);
  EXPECT_GE(stats.pings_received, static_cast<std::uint64_t>(kWarmUp + kRounds));
  EXPECT_EQ(allocations, 0u) << first;
}

// A resolve runs on the resolver's own thread and its handler comes after it ends, even when the
// connector that started it has gone (a venue client destroyed during its first connect: the
// engine stopping at start-up). The late handler touches nothing of the connector's, and `done`
// is not called. Under AddressSanitizer, the old handler read the freed connector.
TEST(TlsConnector, AResolveThatEndsAfterTheConnectorIsGoneTouchesNothing) {
  asio::io_context io;
  auto tls = make_client_tls("");
  TlsStream stream(io, *tls);
  bool called = false;
  {
    TlsConnector connector(io);
    connector.start(stream, parse_url("https://127.0.0.1:1/", "https://"),
                    std::chrono::milliseconds(1000),
                    [&](error_code, const char*) { called = true; });
  }
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace xarb::net
