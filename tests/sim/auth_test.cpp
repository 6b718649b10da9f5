// Every kind of tampering with a signed request, sent raw over HTTPS to the simulator: each is
// refused with the venue's own status and error, and the untampered request passes.

#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <gtest/gtest.h>

#include <xarb/net/names.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/exec/signing.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::sim {
namespace {

using namespace xarb::net::names;  // asio, beast, http, websocket, ssl, tcp, error_code

struct Answer {
  int status = 0;
  std::string body;
};

// One HTTPS request on its own connection, verifying the simulator's certificate.
Answer request(const std::string& ca, unsigned short port, http::verb method, const std::string& target,
               const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body = {}) {
  asio::io_context io;
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(ca);
  tls.set_verify_mode(ssl::verify_peer);
  beast::ssl_stream<tcp::socket> stream(io, tls);
  tcp::resolver resolver(io);
  asio::connect(stream.next_layer(), resolver.resolve("127.0.0.1", std::to_string(port)));
  stream.handshake(ssl::stream_base::client);
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty()) {
    req.body() = body;
    req.prepare_payload();
  }
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return {static_cast<int>(res.result_int()), res.body()};
}

std::string sign(const std::string& secret, const std::string& params) {
  const exec::Hex256 h = exec::hmac_sha256_hex(secret, params);
  return params + "&signature=" + std::string(h.data(), h.size());
}

std::string jwt(const std::string& access, const std::string& secret, const std::string& nonce,
                const std::string& query, exec::JwtAlg alg = exec::JwtAlg::hs256,
                std::int64_t timestamp_ms = -1) {
  char out[1024];
  const std::size_t n = exec::upbit_jwt(access, secret, nonce, query, alg, out, timestamp_ms);
  return "Bearer " + std::string(out, n);
}

class AuthTest : public ::testing::Test {
 protected:
  AuthTest() : sim(options()) { sim.start(); }
  static SimOptions options() {
    SimOptions o;
    SymbolSpec btc;
    btc.base = "BTC";
    btc.markets[index(venues::kBinance)] = "BTCUSDT";
    btc.markets[index(venues::kUpbit)] = "KRW-BTC";
    btc.markets[index(venues::kBithumb)] = "KRW-BTC";
    o.symbols = {btc};
    o.updates_per_second = 0;
    o.venues[index(venues::kBithumb)].served = true;
    o.accounts = {{venues::kBinance, "bkey", "bsecret", {{"USDT", 1'000 * Decimal::kOne}}},
                  {venues::kUpbit, "ukey", "usecret", {{"KRW", 1'000'000 * Decimal::kOne}}},
                  {venues::kBithumb, "hkey", "hsecret", {{"KRW", 1'000'000 * Decimal::kOne}}}};
    return o;
  }
  Answer binance(http::verb m, const std::string& target, const std::string& key = "bkey") {
    return request(sim.ca_file(), sim.port(venues::kBinance), m, target, {{"X-MBX-APIKEY", key}});
  }
  Answer upbit(http::verb m, const std::string& target, const std::string& auth, const std::string& body = {}) {
    std::vector<std::pair<std::string, std::string>> h = {{"Authorization", auth}};
    if (!body.empty()) h.emplace_back("Content-Type", "application/json; charset=utf-8");
    return request(sim.ca_file(), sim.port(venues::kUpbit), m, target, h, body);
  }
  Answer bithumb(http::verb m, const std::string& target, const std::string& auth) {
    return request(sim.ca_file(), sim.port(venues::kBithumb), m, target, {{"Authorization", auth}});
  }
  static std::string ts() { return std::to_string(clock::wall_ns() / 1'000'000); }

  Simulator sim;
};

TEST_F(AuthTest, BinanceEachTamperingIsRefusedWithItsError) {
  const std::string params = "recvWindow=5000&timestamp=" + ts();
  Answer a = binance(http::verb::get, "/api/v3/account?" + sign("bsecret", params));
  EXPECT_EQ(a.status, 200) << a.body;
  // A parameter changed after signing.
  std::string tampered = sign("bsecret", params);
  tampered.replace(tampered.find("recvWindow=5000"), 15, "recvWindow=6000");
  a = binance(http::verb::get, "/api/v3/account?" + tampered);
  EXPECT_EQ(a.status, 400);
  EXPECT_NE(a.body.find("-1022"), std::string::npos) << a.body;
  // Signed with another secret.
  a = binance(http::verb::get, "/api/v3/account?" + sign("other", params));
  EXPECT_NE(a.body.find("-1022"), std::string::npos) << a.body;
  // No signature.
  a = binance(http::verb::get, "/api/v3/account?" + params);
  EXPECT_NE(a.body.find("-1102"), std::string::npos) << a.body;
  // Unknown API key: 401 -2015.
  a = binance(http::verb::get, "/api/v3/account?" + sign("bsecret", params), "nokey");
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body.find("-2015"), std::string::npos) << a.body;
  // Older than recvWindow, or ahead of the server by more than 1 s: -1021.
  const std::int64_t now = clock::wall_ns() / 1'000'000;
  a = binance(http::verb::get, "/api/v3/account?" + sign("bsecret", "recvWindow=5000&timestamp=" + std::to_string(now - 6'000)));
  EXPECT_NE(a.body.find("-1021"), std::string::npos) << a.body;
  a = binance(http::verb::get, "/api/v3/account?" + sign("bsecret", "timestamp=" + std::to_string(now + 2'000)));
  EXPECT_NE(a.body.find("-1021"), std::string::npos) << a.body;
  // No timestamp at all.
  a = binance(http::verb::get, "/api/v3/account?" + sign("bsecret", "recvWindow=5000"));
  EXPECT_NE(a.body.find("-1102"), std::string::npos) << a.body;
  EXPECT_GE(sim.summary().exchange.auth_failures, 7u);
}

// Bithumb: Upbit's token with a timestamp claim, which it requires and checks.
TEST_F(AuthTest, BithumbWantsATimestampClaimAndRefusesAStaleOne) {
  const std::int64_t now = clock::wall_ns() / 1'000'000;
  Answer a = bithumb(http::verb::get, "/v1/accounts",
                     jwt("hkey", "hsecret", "h-1", "", exec::JwtAlg::hs256, now));
  EXPECT_EQ(a.status, 200) << a.body;
  // Without the claim (an Upbit token): refused.
  a = bithumb(http::verb::get, "/v1/accounts", jwt("hkey", "hsecret", "h-2", ""));
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body.find("jwt_verification"), std::string::npos) << a.body;
  // From five minutes ago: expired.
  a = bithumb(http::verb::get, "/v1/accounts",
              jwt("hkey", "hsecret", "h-3", "", exec::JwtAlg::hs256, now - 300'000));
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body.find("expired_jwt"), std::string::npos) << a.body;
  // A query whose hash does not match.
  a = bithumb(http::verb::get, "/v1/order?client_order_id=a",
              jwt("hkey", "hsecret", "h-4", "client_order_id=b", exec::JwtAlg::hs256, now));
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body.find("invalid_query_payload"), std::string::npos) << a.body;
  // Upbit's keys are not Bithumb's.
  a = bithumb(http::verb::get, "/v1/accounts",
              jwt("ukey", "usecret", "h-5", "", exec::JwtAlg::hs256, now));
  EXPECT_EQ(a.status, 401) << a.body;
}

TEST_F(AuthTest, UpbitEachTamperingIsRefusedWithItsError) {
  Answer a = upbit(http::verb::get, "/v1/accounts", jwt("ukey", "usecret", "n-1", ""));
  EXPECT_EQ(a.status, 200) << a.body;
  a = upbit(http::verb::get, "/v1/accounts", jwt("ukey", "usecret", "n-2", "", exec::JwtAlg::hs512));
  EXPECT_EQ(a.status, 200) << "HS512 is accepted too: " << a.body;
  // The same nonce again.
  a = upbit(http::verb::get, "/v1/accounts", jwt("ukey", "usecret", "n-1", ""));
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.body.find("nonce_used"), std::string::npos) << a.body;
  // Wrong secret; unknown access key; a token without "Bearer".
  a = upbit(http::verb::get, "/v1/accounts", jwt("ukey", "other", "n-3", ""));
  EXPECT_NE(a.body.find("jwt_verification"), std::string::npos) << a.body;
  a = upbit(http::verb::get, "/v1/accounts", jwt("nokey", "usecret", "n-4", ""));
  EXPECT_NE(a.body.find("invalid_access_key"), std::string::npos) << a.body;
  a = upbit(http::verb::get, "/v1/accounts", jwt("ukey", "usecret", "n-5", "").substr(7));
  EXPECT_NE(a.body.find("jwt_verification"), std::string::npos) << a.body;
  // query_hash over other parameters than those sent.
  a = upbit(http::verb::get, "/v1/orders/chance?market=KRW-BTC",
            jwt("ukey", "usecret", "n-6", "market=KRW-ETH"));
  EXPECT_NE(a.body.find("invalid_query_payload"), std::string::npos) << a.body;
  a = upbit(http::verb::get, "/v1/orders/chance?market=KRW-BTC", jwt("ukey", "usecret", "n-7", "market=KRW-BTC"));
  EXPECT_EQ(a.status, 200) << a.body;
  // A JSON body changed after signing.
  const std::string body = R"({"market":"KRW-BTC","side":"bid","volume":"0.0001","price":"100000000","ord_type":"limit","identifier":"t-1"})";
  const std::string signed_query = "market=KRW-BTC&side=bid&volume=0.0001&price=100000000&ord_type=limit&identifier=t-1";
  std::string changed = body;
  changed.replace(changed.find("0.0001"), 6, "0.0002");
  a = upbit(http::verb::post, "/v1/orders", jwt("ukey", "usecret", "n-8", signed_query), changed);
  EXPECT_NE(a.body.find("invalid_query_payload"), std::string::npos) << a.body;
  a = upbit(http::verb::post, "/v1/orders", jwt("ukey", "usecret", "n-9", signed_query), body);
  EXPECT_EQ(a.status, 201) << a.body;
  EXPECT_NE(a.body.find("\"state\":\"wait\""), std::string::npos) << a.body;
}

}  // namespace
}  // namespace xarb::sim
