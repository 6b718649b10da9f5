// Order build + sign + serialise for each venue, and order-answer parsing, against a plain
// std::string / std::ostringstream / nlohmann::json implementation of the same work, in the same
// run. Allocations are counted inside the timed loop (OpenSSL's own included).
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <xarb/exec/venues/binance_api.hpp>
#include <xarb/exec/venues/upbit_api.hpp>

#include "alloc_counter.hpp"
#include "bench_support.hpp"

namespace xarb::bench {
namespace {

const exec::Credentials kKeys{"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                              "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"};

net::Url endpoint(const char* url) { return net::parse_url(url, "https://"); }

exec::OrderRequest order(Side side) {
  exec::OrderRequest o;
  o.client_id.assign("xloyw3v28-1a2b-B0");
  o.instrument = 0;
  o.side = side;
  (void)Decimal::parse(side == Side::buy ? "100050.01" : "140630000", o.price);
  (void)Decimal::parse("0.01234", o.qty);
  return o;
}

// OpenSSL allocates with its own malloc wrappers, not operator new: count those too.
std::atomic<std::uint64_t> g_openssl_allocs{0};
void* counting_malloc(std::size_t n, const char*, int) {
  g_openssl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
  g_openssl_allocs.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) { std::free(p); }

struct Before {
  std::uint64_t news = test::total_allocations();
  std::uint64_t openssl = g_openssl_allocs.load();
};

void rate(benchmark::State& state, const Before& before) {
  state.counters["orders/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["allocs/msg"] = static_cast<double>(test::total_allocations() - before.news) /
                                 static_cast<double>(state.iterations());
  state.counters["openssl_allocs/msg"] =
      static_cast<double>(g_openssl_allocs.load() - before.openssl) /
      static_cast<double>(state.iterations());
}

std::string hex(const unsigned char* p, unsigned n) {
  std::ostringstream s;
  for (unsigned i = 0; i < n; ++i) s << std::hex << std::setw(2) << std::setfill('0') << int(p[i]);
  return s.str();
}

std::string b64url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

// --- Binance ---------------------------------------------------------------------------------

void BinanceOrder_xarb(benchmark::State& state) {
  exec::BinanceApi api(kKeys, endpoint("https://api.binance.com"), 5000);
  const exec::OrderRequest o = order(Side::buy);
  exec::HttpRequestText out;
  std::int64_t ts = 1'700'000'000'000;
  (void)api.new_order(o, "BTCUSDT", ts, out);  // warm-up
  const Before before;
  for (auto _ : state) {
    benchmark::DoNotOptimize(api.new_order(o, "BTCUSDT", ++ts, out));
    benchmark::DoNotOptimize(out.view().data());
  }
  rate(state, before);
}

void BinanceOrder_baseline(benchmark::State& state) {
  std::int64_t ts = 1'700'000'000'000;
  const Before before;
  for (auto _ : state) {
    std::ostringstream p;
    p << "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=IOC&quantity=" << std::fixed
      << std::setprecision(5) << 0.01234 << "&price=" << std::setprecision(2) << 100050.01
      << "&newClientOrderId=xloyw3v28-1a2b-B0&newOrderRespType=FULL&recvWindow=5000&timestamp="
      << ++ts;
    std::string params = p.str();
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), kKeys.secret.data(), static_cast<int>(kKeys.secret.size()),
         reinterpret_cast<const unsigned char*>(params.data()), params.size(), mac, &len);
    params += "&signature=" + hex(mac, len);
    std::string req = "POST /api/v3/order HTTP/1.1\r\nHost: api.binance.com\r\nX-MBX-APIKEY: " +
                      kKeys.key +
                      "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                      std::to_string(params.size()) + "\r\n\r\n" + params;
    benchmark::DoNotOptimize(req.data());
  }
  rate(state, before);
}

// --- Upbit -----------------------------------------------------------------------------------

void UpbitOrder_xarb(benchmark::State& state) {
  exec::UpbitApi api(kKeys, endpoint("https://api.upbit.com"));
  const exec::OrderRequest o = order(Side::sell);
  exec::HttpRequestText out;
  (void)api.new_order(o, "KRW-BTC", out);
  const Before before;
  for (auto _ : state) {
    benchmark::DoNotOptimize(api.new_order(o, "KRW-BTC", out));
    benchmark::DoNotOptimize(out.view().data());
  }
  rate(state, before);
}

void UpbitOrder_baseline(benchmark::State& state) {
  std::uint64_t n = 0;
  const Before before;
  for (auto _ : state) {
    nlohmann::ordered_json body = {{"market", "KRW-BTC"}, {"side", "ask"}, {"volume", "0.01234"},
                                   {"price", "140630000"}, {"ord_type", "limit"},
                                   {"time_in_force", "ioc"}, {"identifier", "xloyw3v28-1a2b-U0"}};
    std::string query;
    for (auto& [k, v] : body.items()) {
      if (!query.empty()) query += "&";
      query += k + "=" + v.get<std::string>();
    }
    unsigned char digest[64];
    SHA512(reinterpret_cast<const unsigned char*>(query.data()), query.size(), digest);
    nlohmann::ordered_json payload = {{"access_key", kKeys.key},
                                      {"nonce", "b2f1e3f8-2dc1-4d6f-a838-" + std::to_string(++n)},
                                      {"query_hash", hex(digest, 64)},
                                      {"query_hash_alg", "SHA512"}};
    const std::string input = b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + b64url(payload.dump());
    unsigned char mac[32];
    unsigned len = 0;
    HMAC(EVP_sha256(), kKeys.secret.data(), static_cast<int>(kKeys.secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
    const std::string token = input + "." + b64url(std::string(reinterpret_cast<char*>(mac), len));
    const std::string text = body.dump();
    std::string req = "POST /v1/orders HTTP/1.1\r\nHost: api.upbit.com\r\nAuthorization: Bearer " +
                      token + "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
                      std::to_string(text.size()) + "\r\n\r\n" + text;
    benchmark::DoNotOptimize(req.data());
  }
  rate(state, before);
}

// --- Answers ---------------------------------------------------------------------------------

const std::string kBinanceFull = R"({"symbol":"BTCUSDT","orderId":28,"orderListId":-1,"clientOrderId":"xloyw3v28-1a2b-B0","transactTime":1507725176595,"price":"100050.01000000","origQty":"0.01234000","executedQty":"0.01234000","cummulativeQuoteQty":"1234.56000000","status":"FILLED","timeInForce":"IOC","type":"LIMIT","side":"BUY","fills":[{"price":"100000.00000000","qty":"0.01000000","commission":"1.00000000","commissionAsset":"USDT","tradeId":56},{"price":"100040.00000000","qty":"0.00234000","commission":"0.23409360","commissionAsset":"USDT","tradeId":57}]})";

void BinanceAnswer_xarb(benchmark::State& state) {
  exec::BinanceParser parser;
  exec::OrderStatus s;
  (void)parser.parse_order(kBinanceFull, "BTC", "USDT", s);
  const Before before;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse_order(kBinanceFull, "BTC", "USDT", s));
    benchmark::DoNotOptimize(s.filled_notional_e16);
  }
  rate(state, before);
}

void BinanceAnswer_baseline(benchmark::State& state) {
  const Before before;
  for (auto _ : state) {
    const auto j = nlohmann::json::parse(kBinanceFull);
    double qty = 0, notional = 0, fee = 0;
    for (const auto& f : j["fills"]) {
      const double q = std::stod(f["qty"].get<std::string>());
      qty += q;
      notional += q * std::stod(f["price"].get<std::string>());
      fee += std::stod(f["commission"].get<std::string>());
    }
    benchmark::DoNotOptimize(qty + notional + fee);
    benchmark::DoNotOptimize(j["status"].get<std::string>().size());
  }
  rate(state, before);
}

// Upbit's documented GET /v1/order answer for a filled order, with its trade.
const std::string kUpbitDone = R"({"uuid":"9ca023a5-851b-4fec-9f0a-48cd83c2eaae","side":"ask","ord_type":"limit","price":"4280000.0","state":"done","market":"KRW-BTC","created_at":"2019-01-04T13:48:09+09:00","volume":"1.0","remaining_volume":"0.0","reserved_fee":"0.0","remaining_fee":"0.0","paid_fee":"2140.0","locked":"0.0","executed_volume":"1.0","trades_count":1,"identifier":"xloyw3v28-1a2b-U0","trades":[{"market":"KRW-BTC","uuid":"9e8f8eba-7050-4837-8969-cfc272cbe083","price":"4280000.0","volume":"1.0","funds":"4280000.0","side":"ask"}]})";

void UpbitAnswer_xarb(benchmark::State& state) {
  exec::UpbitParser parser;
  exec::OrderStatus s;
  (void)parser.parse_order(kUpbitDone, s);
  const Before before;
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse_order(kUpbitDone, s));
    benchmark::DoNotOptimize(s.filled_notional_e16);
  }
  rate(state, before);
}

void UpbitAnswer_baseline(benchmark::State& state) {
  const Before before;
  for (auto _ : state) {
    const auto j = nlohmann::json::parse(kUpbitDone);
    double qty = 0, funds = 0;
    for (const auto& t : j["trades"]) {
      qty += std::stod(t["volume"].get<std::string>());
      funds += std::stod(t["funds"].get<std::string>());
    }
    benchmark::DoNotOptimize(qty + funds + std::stod(j["paid_fee"].get<std::string>()));
    benchmark::DoNotOptimize(j["state"].get<std::string>().size());
  }
  rate(state, before);
}

}  // namespace

BENCHMARK(BinanceOrder_xarb)->Name("BinanceOrderBuildSign/xarb");
BENCHMARK(BinanceOrder_baseline)->Name("BinanceOrderBuildSign/baseline");
BENCHMARK(UpbitOrder_xarb)->Name("UpbitOrderBuildSignJwt/xarb");
BENCHMARK(UpbitOrder_baseline)->Name("UpbitOrderBuildSignJwt/baseline");
BENCHMARK(BinanceAnswer_xarb)->Name("BinanceFullAnswerParse/xarb");
BENCHMARK(BinanceAnswer_baseline)->Name("BinanceFullAnswerParse/baseline");
BENCHMARK(UpbitAnswer_xarb)->Name("UpbitOrderAnswerParse/xarb");
BENCHMARK(UpbitAnswer_baseline)->Name("UpbitOrderAnswerParse/baseline");

}  // namespace xarb::bench

int main(int argc, char** argv) {
  // Before OpenSSL allocates anything.
  CRYPTO_set_mem_functions(xarb::bench::counting_malloc, xarb::bench::counting_realloc,
                           xarb::bench::counting_free);
  return xarb::bench::run_main(argc, argv);
}
