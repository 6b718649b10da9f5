// Request text and answer parsing for both venues' REST APIs: exact bytes of signed requests,
// the venues' documented answers, and the real error bodies in data/.

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <xarb/core/clock.hpp>
#include <xarb/exec/venues/binance_api.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/venues/registry.hpp>

#include "alloc_counter.hpp"
#include "test_support.hpp"

namespace xarb::exec {
namespace {

using ::xarb::test::d;

const Credentials kBinanceKeys{"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                               "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"};

net::Url endpoint(const char* url) { return net::parse_url(url, "https://"); }

std::string unbase64url(std::string_view s) {
  std::string out;
  EXPECT_TRUE(base64url_decode(s, out)) << s;
  return out;
}

TEST(BinanceApi, NewOrderIsAFormBodySignedOverEverythingBeforeTheSignature) {
  BinanceApi api(kBinanceKeys, endpoint("https://api.binance.com"), 5000);
  OrderRequest o;
  o.client_id.assign("xarb-1-b");
  o.side = Side::buy;
  o.price = d("100050.01");
  o.qty = d("0.01");
  HttpRequestText out;
  ASSERT_TRUE(api.new_order(o, "BTCUSDT", 1499827319559, out));
  const std::string params =
      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=IOC&quantity=0.01&price=100050.01"
      "&newClientOrderId=xarb-1-b&newOrderRespType=FULL&recvWindow=5000&timestamp=1499827319559";
  const Hex256 sig = hmac_sha256_hex(kBinanceKeys.secret, params);
  const std::string body = params + "&signature=" + std::string(sig.data(), sig.size());
  EXPECT_EQ(std::string(out.view()),
            "POST /api/v3/order HTTP/1.1\r\nHost: api.binance.com\r\nUser-Agent: xarb\r\n"
            "X-MBX-APIKEY: " + kBinanceKeys.key +
                "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body);
}

TEST(BinanceApi, QueriesCarryTheSignedParametersInTheQueryString) {
  BinanceApi api(kBinanceKeys, endpoint("https://127.0.0.1:9443"), 5000);
  HttpRequestText out;
  ASSERT_TRUE(api.query_order("BTCUSDT", "xarb-1-b", 1499827319559, out));
  const std::string params =
      "symbol=BTCUSDT&origClientOrderId=xarb-1-b&recvWindow=5000&timestamp=1499827319559";
  const Hex256 sig = hmac_sha256_hex(kBinanceKeys.secret, params);
  EXPECT_TRUE(std::string(out.view()).starts_with("GET /api/v3/order?" + params + "&signature=" +
                                                  std::string(sig.data(), sig.size()) +
                                                  " HTTP/1.1\r\nHost: 127.0.0.1:9443\r\n"));
  ASSERT_TRUE(api.cancel_order("BTCUSDT", "xarb-1-b", 1499827319559, out));
  EXPECT_TRUE(out.view().starts_with("DELETE /api/v3/order?symbol=BTCUSDT&origClientOrderId="));
  ASSERT_TRUE(api.account(1499827319559, out));
  EXPECT_TRUE(out.view().starts_with("GET /api/v3/account?recvWindow=5000&timestamp="));
  ASSERT_TRUE(api.exchange_info(R"(["BTCUSDT","ETHUSDT"])", out));
  EXPECT_TRUE(out.view().starts_with(
      "GET /api/v3/exchangeInfo?symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D HTTP/1.1\r\n"));
  ASSERT_TRUE(api.server_time(out));
  EXPECT_EQ(out.view().find("X-MBX-APIKEY"), std::string_view::npos) << "public: no key sent";
}

TEST(BinanceParser, DocumentedFullOrderResponse) {
  // Binance's documented FULL response (spot API docs, POST /api/v3/order).
  const std::string body = R"({"symbol":"BTCUSDT","orderId":28,"orderListId":-1,
    "clientOrderId":"6gCrw2kRUAF9CvJDGP16IP","transactTime":1507725176595,"price":"0.00000000",
    "origQty":"10.00000000","executedQty":"10.00000000","cummulativeQuoteQty":"10.00000000",
    "status":"FILLED","timeInForce":"GTC","type":"MARKET","side":"SELL","fills":[
    {"price":"4000.00000000","qty":"1.00000000","commission":"4.00000000","commissionAsset":"USDT","tradeId":56},
    {"price":"3999.00000000","qty":"5.00000000","commission":"19.99500000","commissionAsset":"USDT","tradeId":57},
    {"price":"3998.00000000","qty":"2.00000000","commission":"7.99600000","commissionAsset":"USDT","tradeId":58},
    {"price":"3997.00000000","qty":"1.00000000","commission":"3.99700000","commissionAsset":"USDT","tradeId":59},
    {"price":"3995.00000000","qty":"1.00000000","commission":"3.99500000","commissionAsset":"BNB","tradeId":60}]})";
  BinanceParser parser;
  OrderStatus s;
  ASSERT_EQ(parser.parse_order(body, "BTC", "USDT", s), Errc::ok);
  EXPECT_EQ(s.state, OrderState::filled);
  EXPECT_EQ(s.client_id.view(), "6gCrw2kRUAF9CvJDGP16IP");
  EXPECT_EQ(s.venue_id.view(), "28");
  EXPECT_EQ(s.filled_qty, d("10"));
  EXPECT_TRUE(s.fills_known);
  // 4,000 + 19,995 + 7,996 + 3,997 + 3,995 = 39,983 USDT over 10: 3,998.3.
  EXPECT_EQ(s.filled_notional_e16, static_cast<Int128>(39'983) * 10'000'000'000'000'000LL);
  EXPECT_EQ(s.avg_price(), d("3998.3"));
  EXPECT_EQ(s.fee_quote, d("35.988"));
  EXPECT_EQ(s.fee_other, d("3.995"));
  EXPECT_TRUE(s.fee_base.is_zero());

  // An IOC that expired after a partial fill, fee in the base asset; and a query answer, which
  // has no fills: the notional comes from cummulativeQuoteQty.
  ASSERT_EQ(parser.parse_order(R"({"orderId":7,"clientOrderId":"a","status":"EXPIRED",
      "origQty":"0.02","executedQty":"0.01","cummulativeQuoteQty":"1000.5",
      "fills":[{"price":"100050","qty":"0.01","commission":"0.00001","commissionAsset":"BTC"}]})",
                               "BTC", "USDT", s),
            Errc::ok);
  EXPECT_EQ(s.state, OrderState::expired);
  EXPECT_EQ(s.fee_base, d("0.00001"));
  ASSERT_EQ(parser.parse_order(R"({"symbol":"BTCUSDT","orderId":7,"clientOrderId":"a",
      "status":"PARTIALLY_FILLED","origQty":"0.02","executedQty":"0.01",
      "cummulativeQuoteQty":"1000.5"})",
                               "BTC", "USDT", s),
            Errc::ok);
  EXPECT_FALSE(s.fills_known);
  EXPECT_EQ(s.avg_price(), d("100050"));
  EXPECT_EQ(parser.parse_order("[1,2]", "BTC", "USDT", s), Errc::malformed);
  // A negative quantity, price or fee would count as a negative fill (found by the
  // venue_answer_fuzz target's invariant): malformed, whichever field carries it.
  for (const char* bad : {R"("executedQty":"-0.01")", R"("origQty":"-0.02")"}) {
    std::string answer = R"({"symbol":"BTCUSDT","orderId":7,"clientOrderId":"a",
        "status":"PARTIALLY_FILLED","origQty":"0.02","executedQty":"0.01",
        "cummulativeQuoteQty":"1000.5"})";
    const std::string field = std::string(bad).substr(0, std::string(bad).find(':') + 1);
    const auto at = answer.find(field);
    answer.replace(at, answer.find(',', at) - at, bad);
    EXPECT_EQ(parser.parse_order(answer, "BTC", "USDT", s), Errc::malformed) << bad;
  }
  EXPECT_EQ(parser.parse_order(R"({"orderId":7,"clientOrderId":"a","status":"FILLED",
      "origQty":"0.01","executedQty":"0.01","cummulativeQuoteQty":"1000.5",
      "fills":[{"price":"100050","qty":"-0.01","commission":"0","commissionAsset":"BTC"}]})",
                               "BTC", "USDT", s),
            Errc::malformed);
  EXPECT_EQ(parser.parse_order(R"({"orderId":7})", "BTC", "USDT", s), Errc::malformed);
}

// GET /api/v3/order lists no fills; the order's trades (GET /api/v3/myTrades, the documented
// shape) give the commissions by asset. A trade of another order, or trades that do not add up
// to the executed quantity, are never taken.
TEST(BinanceParser, AnOrdersTradesGiveItsCommissionsByAsset) {
  BinanceParser parser;
  OrderStatus s;
  ASSERT_EQ(parser.parse_order(
                R"({"symbol":"BTCUSDT","orderId":28,"clientOrderId":"x1","price":"100000.00",)"
                R"("origQty":"0.02","executedQty":"0.02","cummulativeQuoteQty":"2000.00",)"
                R"("status":"FILLED","timeInForce":"IOC","type":"LIMIT","side":"BUY"})",
                "BTC", "USDT", s),
            Errc::ok);
  EXPECT_FALSE(s.fills_known);
  const std::string trades =
      R"([{"symbol":"BTCUSDT","id":28457,"orderId":28,"orderListId":-1,"price":"99990.00",)"
      R"("qty":"0.01","quoteQty":"999.90","commission":"0.00001","commissionAsset":"BTC",)"
      R"("time":1499865549590,"isBuyer":true,"isMaker":false,"isBestMatch":true},)"
      R"({"symbol":"BTCUSDT","id":28458,"orderId":28,"orderListId":-1,"price":"100010.00",)"
      R"("qty":"0.01","quoteQty":"1000.10","commission":"0.0015","commissionAsset":"BNB",)"
      R"("time":1499865549590,"isBuyer":true,"isMaker":false,"isBestMatch":true}])";
  OrderStatus t = s;
  ASSERT_EQ(parser.parse_trades(trades, "BTC", "USDT", t), Errc::ok);
  EXPECT_TRUE(t.fills_known);
  EXPECT_EQ(t.fee_base, Decimal::from_mantissa(1'000));
  EXPECT_EQ(t.fee_other, Decimal::from_mantissa(150'000));
  EXPECT_TRUE(t.fee_quote.is_zero());
  EXPECT_EQ(t.filled_notional_e16, static_cast<Int128>(9'999'000'000'000) * 1'000'000 +
                                       static_cast<Int128>(10'001'000'000'000) * 1'000'000);
  // Another order's trade.
  t = s;
  std::string other = trades;
  other.replace(other.find("\"orderId\":28,"), 13, "\"orderId\":29,");
  EXPECT_EQ(parser.parse_trades(other, "BTC", "USDT", t), Errc::malformed);
  // Only one of the two trades listed yet.
  t = s;
  const std::string one = trades.substr(0, trades.find("},{") + 1) + "]";
  EXPECT_EQ(parser.parse_trades(one, "BTC", "USDT", t), Errc::malformed);
}

// An answer that does not add up is not believed. `fills: []` with an executed quantity booked
// an average price of 0; fills that sum to less than executedQty left commissions out. Both now
// leave the fills unknown (the order's trades are then read), more filled than ordered is
// refused, and hostile values (negative, or sums past an int64) are refused, never summed.
TEST(BinanceParser, FillsThatDoNotAddUpAreNotBelieved) {
  BinanceParser parser;
  OrderStatus s;
  const std::string head =
      R"({"symbol":"BTCUSDT","orderId":28,"clientOrderId":"x1","transactTime":1507725176595,)"
      R"("price":"100000.00","origQty":"0.02","executedQty":"0.02","cummulativeQuoteQty":"2000.00",)"
      R"("status":"FILLED","timeInForce":"IOC","type":"LIMIT","side":"BUY","fills":)";
  const std::string fill =
      R"({"price":"100000.00","qty":"0.01","commission":"0.00001","commissionAsset":"BTC","tradeId":1})";
  ASSERT_EQ(parser.parse_order(head + "[" + fill + "," + fill + "]}", "BTC", "USDT", s), Errc::ok);
  EXPECT_TRUE(s.fills_known);
  EXPECT_EQ(s.fee_base, d("0.00002"));
  EXPECT_EQ(s.avg_price(), d("100000"));

  ASSERT_EQ(parser.parse_order(head + "[]}", "BTC", "USDT", s), Errc::ok);
  EXPECT_FALSE(s.fills_known) << "no fills listed for 0.02 executed";
  EXPECT_EQ(s.avg_price(), d("100000")) << "from cummulativeQuoteQty, never 0";
  EXPECT_TRUE(s.fee_base.is_zero());

  ASSERT_EQ(parser.parse_order(head + "[" + fill + "]}", "BTC", "USDT", s), Errc::ok);
  EXPECT_FALSE(s.fills_known) << "0.01 listed for 0.02 executed";
  EXPECT_TRUE(s.fee_base.is_zero()) << "half the commissions are not the commissions";

  std::string over = head + "[" + fill + "]}";
  over.replace(over.find("\"executedQty\":\"0.02\""), 20, "\"executedQty\":\"0.03\"");
  EXPECT_EQ(parser.parse_order(over, "BTC", "USDT", s), Errc::malformed) << "0.03 of 0.02";

  std::string negative = fill;
  negative.replace(negative.find("\"qty\":\"0.01\""), 12, "\"qty\":\"-0.01\"");
  EXPECT_EQ(parser.parse_order(head + "[" + negative + "]}", "BTC", "USDT", s), Errc::malformed);
  std::string huge = fill;
  huge.replace(huge.find("\"qty\":\"0.01\""), 12, "\"qty\":\"90000000000\"");
  EXPECT_EQ(parser.parse_order(head + "[" + huge + "," + huge + "]}", "BTC", "USDT", s),
            Errc::malformed)
      << "a sum past an int64";
}

TEST(BinanceParser, RealErrorBodies) {
  std::ifstream in(test::data_dir() / "binance/real_error_bodies.jsonl");
  std::string line;
  simdjson::dom::parser dom;
  BinanceParser parser;
  int seen = 0;
  while (std::getline(in, line)) {
    const auto doc = dom.parse(line);
    // Most lines quote the body; the others quote the library's (code, msg) from the body.
    std::string body;
    if (doc["body"].is_string()) {
      body = std::string(doc["body"].get_string().value());
    } else {
      body = "{\"code\":" + std::to_string(doc["code"].get_int64().value()) + ",\"msg\":\"" +
             std::string(doc["msg"].get_string().value()) + "\"}";
    }
    VenueError e;
    ASSERT_TRUE(parser.parse_error(body, e)) << body;
    EXPECT_LT(e.code, 0) << body;
    EXPECT_FALSE(e.message.empty()) << body;
    // Every recorded error maps to what it means.
    classify(venues::kBinance, e);
    const VenueErrorKind want = e.code == -2010   ? VenueErrorKind::insufficient_balance
                                : e.code == -1013 ? VenueErrorKind::filter_failure
                                                  : VenueErrorKind::rate_limited;
    EXPECT_EQ(e.kind, want) << body;
    ++seen;
  }
  EXPECT_EQ(seen, 7);
  VenueError e;
  ASSERT_TRUE(parser.parse_error(R"({"code":-2010,"msg":"Account has insufficient balance for requested action."})", e));
  EXPECT_EQ(e.code, -2010);
  EXPECT_EQ(e.message.view(), std::string_view("Account has insufficient balance for requested action.").substr(0, 43));
  EXPECT_FALSE(parser.parse_error(R"({"orderId":1})", e));
  std::int64_t ms = 0;
  ASSERT_EQ(parser.parse_server_time(R"({"serverTime":1499827319559})", ms), Errc::ok);
  EXPECT_EQ(ms, 1499827319559);
}

TEST(BinanceParser, AccountAndOpenOrders) {
  BinanceParser parser;
  std::vector<Balance> balances;
  ASSERT_EQ(parser.parse_account(R"({"makerCommission":15,"balances":[
      {"asset":"BTC","free":"4723846.89208129","locked":"0.00000000"},
      {"asset":"USDT","free":"1000.5","locked":"2"}]})",
                                 balances),
            Errc::ok);
  ASSERT_EQ(balances.size(), 2u);
  EXPECT_EQ(balances[1].asset, "USDT");
  EXPECT_EQ(balances[1].locked, d("2"));
  std::vector<OrderStatus> orders;
  std::vector<std::string> symbols;
  ASSERT_EQ(parser.parse_open_orders(R"([{"symbol":"LTCBTC","orderId":1,"clientOrderId":"myOrder1",
      "price":"0.1","origQty":"1.0","executedQty":"0.0","cummulativeQuoteQty":"0.0","status":"NEW"}])",
                                     orders, symbols),
            Errc::ok);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(symbols[0], "LTCBTC");
  EXPECT_EQ(orders[0].state, OrderState::acked);
}

TEST(BinanceHeaders, RateLimitsAndRetryAfter) {
  RateLimitState s;
  binance_header("x-mbx-used-weight-1m", "37", s);
  binance_header("X-MBX-ORDER-COUNT-10S", "2", s);
  binance_header("X-MBX-ORDER-COUNT-1D", "120", s);
  binance_header("Retry-After", "12", s);
  binance_header("Content-Type", "application/json", s);
  EXPECT_EQ(s.used_weight_1m, 37);
  EXPECT_EQ(s.order_count_10s, 2);
  EXPECT_EQ(s.order_count_1d, 120);
  EXPECT_EQ(s.retry_after_s, 12);
}

TEST(UpbitApi, OrderBodyAndItsQueryHashNameTheSameParameters) {
  const Credentials keys{"access-key-0123456789", "secret-key-0123456789"};
  UpbitApi api(keys, endpoint("https://api.upbit.com"));
  OrderRequest o;
  o.client_id.assign("xarb-1-u");
  o.side = Side::sell;
  o.price = d("140629000");
  o.qty = d("0.01");
  HttpRequestText out;
  ASSERT_TRUE(api.new_order(o, "KRW-BTC", out));
  const std::string text(out.view());
  const std::string body =
      R"({"market":"KRW-BTC","side":"ask","volume":"0.01","price":"140629000","ord_type":"limit","time_in_force":"ioc","identifier":"xarb-1-u"})";
  EXPECT_TRUE(text.starts_with("POST /v1/orders HTTP/1.1\r\nHost: api.upbit.com\r\n")) << text;
  EXPECT_TRUE(text.ends_with("\r\n\r\n" + body)) << text;
  EXPECT_NE(text.find("Content-Type: application/json; charset=utf-8\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n"),
            std::string::npos);
  // The JWT: HS256, query_hash = SHA-512 of the same parameters as key=value&..., unescaped.
  const auto auth = text.find("Authorization: Bearer ");
  ASSERT_NE(auth, std::string::npos);
  const std::string token = text.substr(auth + 22, text.find("\r\n", auth) - auth - 22);
  const std::string payload =
      unbase64url(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
  const Hex512 hash = sha512_hex(
      "market=KRW-BTC&side=ask&volume=0.01&price=140629000&ord_type=limit&time_in_force=ioc"
      "&identifier=xarb-1-u");
  EXPECT_NE(payload.find(R"("query_hash":")" + std::string(hash.data(), hash.size()) + "\""),
            std::string::npos)
      << payload;
  EXPECT_NE(payload.find(R"("access_key":"access-key-0123456789","nonce":")"), std::string::npos);
  EXPECT_EQ(text.find(keys.secret), std::string::npos) << "the secret never appears";

  // Two requests never share a nonce.
  HttpRequestText again;
  ASSERT_TRUE(api.new_order(o, "KRW-BTC", again));
  EXPECT_NE(std::string(again.view()), text);

  ASSERT_TRUE(api.get_order("xarb-1-u", out));
  EXPECT_TRUE(out.view().starts_with("GET /v1/order?identifier=xarb-1-u HTTP/1.1\r\n"));
  ASSERT_TRUE(api.instruments("KRW-BTC,KRW-USDT", out));
  EXPECT_EQ(out.view().find("Authorization"), std::string_view::npos);
}

TEST(UpbitParser, DocumentedOrderWithTradesAndErrors) {
  UpbitParser parser;
  OrderStatus s;
  ASSERT_EQ(parser.parse_order(R"({"uuid":"9ca023a5-851b-4fec-9f0a-48cd83c2eaae","side":"ask",
      "ord_type":"limit","price":"4280000.0","state":"done","market":"KRW-BTC",
      "created_at":"2019-01-04T13:48:09+09:00","volume":"1.0","remaining_volume":"0.0",
      "reserved_fee":"0.0","remaining_fee":"0.0","paid_fee":"2140.0","locked":"0.0",
      "executed_volume":"1.0","trades_count":1,"trades":[{"market":"KRW-BTC",
      "uuid":"9e8f8eba-7050-4837-8969-cfc272cbe083","price":"4280000.0","volume":"1.0",
      "funds":"4280000.0","side":"ask"}]})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.state, OrderState::filled);
  EXPECT_EQ(s.venue_id.view(), "9ca023a5-851b-4fec-9f0a-48cd83c2eaae");
  EXPECT_EQ(s.filled_qty, d("1"));
  EXPECT_EQ(s.avg_price(), d("4280000"));
  EXPECT_EQ(s.fee_quote, d("2140"));
  // An IOC cancelled after a partial fill; a fresh order (wait, nothing done).
  ASSERT_EQ(parser.parse_order(R"({"uuid":"u","state":"cancel","volume":"0.02",
      "executed_volume":"0.01","paid_fee":"703.5","identifier":"xarb-2-u","trades":[
      {"price":"140700000","volume":"0.01"}]})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.state, OrderState::canceled);
  EXPECT_EQ(s.client_id.view(), "xarb-2-u");
  EXPECT_EQ(s.filled_qty, d("0.01"));
  EXPECT_EQ(s.avg_price(), d("140700000"));
  ASSERT_EQ(parser.parse_order(R"({"uuid":"u","state":"wait","volume":"0.02","executed_volume":"0"})", s),
            Errc::ok);
  EXPECT_EQ(s.state, OrderState::acked);
  // Negative quantities or fees: malformed (a negative fill otherwise).
  EXPECT_EQ(parser.parse_order(R"({"uuid":"u","state":"cancel","volume":"0.02","executed_volume":"-0.01"})", s),
            Errc::malformed);
  EXPECT_EQ(parser.parse_order(R"({"uuid":"u","state":"cancel","volume":"0.02","executed_volume":"0.01",
      "paid_fee":"-703.5","trades":[{"price":"140700000","volume":"0.01"}]})", s),
            Errc::malformed);
  EXPECT_EQ(parser.parse_order(R"({"uuid":"u","state":"cancel","volume":"0.02","executed_volume":"0.01",
      "trades":[{"price":"140700000","volume":"-0.01"}]})", s),
            Errc::malformed);

  VenueError e;
  ASSERT_TRUE(parser.parse_error(
      R"({"error":{"name":"insufficient_funds_bid","message":"주문가능한 금액(KRW)이 부족합니다."}})", e));
  EXPECT_EQ(e.name.view(), "insufficient_funds_bid");
  EXPECT_FALSE(e.message.empty());
  // A long Korean message is cut between characters, never inside one.
  ASSERT_TRUE(parser.parse_error(
      R"({"error":{"name":"validation_error","message":"잘못된 파라미터입니다. 주문 수량과 가격을 다시 확인해 주세요. 최소 주문 금액은 5000원입니다."}})", e));
  const std::string_view m = e.message.view();
  ASSERT_FALSE(m.empty());
  // Valid UTF-8 throughout: every lead byte's sequence is complete.
  for (std::size_t i = 0; i < m.size();) {
    const auto c = static_cast<unsigned char>(m[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    ASSERT_LE(i + len, m.size()) << "a character cut in half at byte " << i;
    i += len;
  }
  EXPECT_FALSE(parser.parse_error(R"({"uuid":"x"})", e));

  std::vector<UpbitAccount> accounts;
  ASSERT_EQ(parser.parse_accounts(R"([{"currency":"KRW","balance":"1000000.0","locked":"0.0",
      "avg_buy_price":"0","avg_buy_price_modified":false,"unit_currency":"KRW"},
      {"currency":"BTC","balance":"2.0","locked":"0.5","avg_buy_price":"101000","unit_currency":"KRW"}])",
                                  accounts),
            Errc::ok);
  ASSERT_EQ(accounts.size(), 2u);
  EXPECT_EQ(accounts[1].locked, d("0.5"));
}

// An executed volume must be priced. Trades that account for all of it give the exact cost; if
// they are missing (or cover less), executed_funds does; failing that, the limit price bounds it
// (a bid paid no more, an ask got no less). Before, no trades meant an average price of 0.
TEST(UpbitParser, AnExecutedVolumeIsPricedEvenWithoutTrades) {
  UpbitParser parser;
  OrderStatus s;
  ASSERT_EQ(parser.parse_order(R"({"uuid":"u","market":"KRW-BTC","state":"done","price":"140000000",
      "volume":"0.01","executed_volume":"0.01","executed_funds":"1399000","paid_fee":"699.5"})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.avg_price(), d("139900000"));
  EXPECT_FALSE(s.fills_known);
  EXPECT_EQ(s.symbol.view(), "KRW-BTC");
  ASSERT_EQ(parser.parse_order(R"({"uuid":"u","state":"done","price":"140000000",
      "volume":"0.01","executed_volume":"0.01","trades":[]})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.avg_price(), d("140000000")) << "at worst the limit";
  // Trades covering only part of the volume do not price all of it.
  ASSERT_EQ(parser.parse_order(R"({"uuid":"u","state":"done","price":"140000000","volume":"0.02",
      "executed_volume":"0.02","executed_funds":"2799000","trades":[{"price":"139900000",
      "volume":"0.01"}]})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.avg_price(), d("139950000"));
  // Nothing to price it with: unusable, asked again rather than booked at 0.
  EXPECT_EQ(parser.parse_order(R"({"uuid":"u","state":"done","price":null,"volume":"0.01",
      "executed_volume":"0.01"})",
                               s),
            Errc::malformed);
  // More executed than ordered, or a negative trade: not an answer about this order.
  EXPECT_EQ(parser.parse_order(R"({"uuid":"u","state":"done","price":"140000000","volume":"0.01",
      "executed_volume":"0.02","executed_funds":"2800000"})",
                               s),
            Errc::malformed);
  EXPECT_EQ(parser.parse_order(R"({"uuid":"u","state":"done","price":"140000000","volume":"0.02",
      "executed_volume":"0.02","trades":[{"price":"140000000","volume":"-0.01"}]})",
                               s),
            Errc::malformed);
}

// A cancel's answer carries the cancel request's own new clientOrderId; the order's is
// origClientOrderId, whichever comes first. Both venues' answers name their symbol.
TEST(BinanceParser, ACancelAnswerIsTheOriginalOrdersWithItsSymbol) {
  BinanceParser parser;
  OrderStatus s;
  ASSERT_EQ(parser.parse_order(R"({"symbol":"ETHUSDT","origClientOrderId":"x1-2-B0","orderId":4,
      "orderListId":-1,"clientOrderId":"cancelMyOrder1","transactTime":1684804350068,
      "price":"2000.00000000","origQty":"0.01000000","executedQty":"0.00000000",
      "cummulativeQuoteQty":"0.00000000","status":"CANCELED","timeInForce":"GTC","type":"LIMIT",
      "side":"BUY"})",
                               "ETH", "USDT", s),
            Errc::ok);
  EXPECT_EQ(s.client_id.view(), "x1-2-B0");
  EXPECT_EQ(s.symbol.view(), "ETHUSDT");
  ASSERT_EQ(parser.parse_order(R"({"symbol":"ETHUSDT","clientOrderId":"cancelMyOrder1",
      "orderId":4,"origClientOrderId":"x1-2-B0","status":"CANCELED","executedQty":"0"})",
                               "ETH", "USDT", s),
            Errc::ok);
  EXPECT_EQ(s.client_id.view(), "x1-2-B0");
}

TEST(VenueErrors, KindsFromCodesNamesAndStatuses) {
  const auto kind = [](Venue v, int status, int code, const char* name, const char* msg) {
    VenueError e;
    e.http_status = status;
    e.code = code;
    e.name.assign(name);
    e.message.assign(msg);
    classify(v, e);
    return e.kind;
  };
  EXPECT_EQ(kind(venues::kBinance, 400, -1021, "",
                 "Timestamp for this request is outside of the recvWindow."),
            VenueErrorKind::timestamp);
  EXPECT_EQ(kind(venues::kBinance, 400, -1022, "", "Signature for this request is not valid."),
            VenueErrorKind::auth);
  EXPECT_EQ(kind(venues::kBinance, 400, -2013, "", "Order does not exist."),
            VenueErrorKind::unknown_order);
  EXPECT_EQ(kind(venues::kBinance, 400, -2010, "", "Duplicate order sent."),
            VenueErrorKind::duplicate);
  EXPECT_EQ(kind(venues::kBinance, 418, -1003, "", "Way too much request weight used"),
            VenueErrorKind::rate_limited);
  EXPECT_EQ(kind(venues::kBinance, 503, 0, "", ""), VenueErrorKind::server);
  EXPECT_EQ(kind(venues::kBinance, 0, 0, "", "timeout"), VenueErrorKind::transport);
  EXPECT_EQ(kind(venues::kUpbit, 400, 0, "insufficient_funds_bid", ""),
            VenueErrorKind::insufficient_balance);
  EXPECT_EQ(kind(venues::kUpbit, 400, 0, "under_min_total_ask", ""),
            VenueErrorKind::filter_failure);
  EXPECT_EQ(kind(venues::kUpbit, 401, 0, "jwt_verification", ""), VenueErrorKind::auth);
  EXPECT_EQ(kind(venues::kUpbit, 404, 0, "order_not_found", ""), VenueErrorKind::unknown_order);
  EXPECT_EQ(kind(venues::kUpbit, 429, 0, "", ""), VenueErrorKind::rate_limited);
  EXPECT_EQ(kind(venues::kBithumb, 400, 0, "under_price_limit_bid", ""),
            VenueErrorKind::filter_failure);
  EXPECT_EQ(kind(venues::kBithumb, 401, 0, "expired_jwt", ""), VenueErrorKind::auth);
  EXPECT_EQ(kind(venues::kBithumb, 401, 0, "NotAllowIP", ""), VenueErrorKind::auth);
  EXPECT_EQ(kind(venues::kBithumb, 404, 0, "order_not_found", ""), VenueErrorKind::unknown_order);
  EXPECT_EQ(kind(venues::kBithumb, 422, 0, "order_not_ready", ""), VenueErrorKind::other);
}

// Bithumb (docs/venues.md): Upbit's JWT with a timestamp claim; orders on /v2 with order_type
// and client_order_id; lookups and cancels by client_order_id.
TEST(BithumbApi, OrdersGoToV2WithTheirOwnNamesAndATimestampClaim) {
  const Credentials keys{"bithumb-access-0123456789", "bithumb-secret-0123456789"};
  UpbitApi api(keys, endpoint("https://api.bithumb.com"), JwtAlg::hs256, UpbitDialect::bithumb);
  OrderRequest o;
  o.client_id.assign("x7-12-H0");
  o.side = Side::buy;
  o.price = d("140629000");
  o.qty = d("0.0123");
  HttpRequestText out;
  ASSERT_TRUE(api.new_order(o, "KRW-BTC", out));
  const std::string text(out.view());
  const std::string body =
      R"({"market":"KRW-BTC","side":"bid","volume":"0.0123","price":"140629000","order_type":"limit","time_in_force":"ioc","client_order_id":"x7-12-H0"})";
  EXPECT_TRUE(text.starts_with("POST /v2/orders HTTP/1.1\r\nHost: api.bithumb.com\r\n")) << text;
  EXPECT_TRUE(text.ends_with("\r\n\r\n" + body)) << text;
  const auto auth = text.find("Authorization: Bearer ");
  ASSERT_NE(auth, std::string::npos);
  const std::string token = text.substr(auth + 22, text.find("\r\n", auth) - auth - 22);
  EXPECT_EQ(unbase64url(token.substr(0, token.find('.'))), R"({"alg":"HS256","typ":"JWT"})");
  const std::string payload =
      unbase64url(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
  const Hex512 hash = sha512_hex(
      "market=KRW-BTC&side=bid&volume=0.0123&price=140629000&order_type=limit"
      "&time_in_force=ioc&client_order_id=x7-12-H0");
  EXPECT_NE(payload.find(R"("query_hash":")" + std::string(hash.data(), hash.size()) +
                         R"(","query_hash_alg":"SHA512"})"),
            std::string::npos)
      << payload;
  // "timestamp" is a number of milliseconds, now.
  const auto ts = payload.find(R"(","timestamp":)");
  ASSERT_NE(ts, std::string::npos) << payload;
  const std::int64_t ms = std::stoll(payload.substr(ts + 14));
  EXPECT_LT(std::llabs(ms - clock::wall_ns() / 1'000'000), 5'000) << payload;
  EXPECT_EQ(text.find(keys.secret), std::string::npos) << "the secret never appears";

  ASSERT_TRUE(api.get_order("x7-12-H0", out));
  EXPECT_TRUE(out.view().starts_with("GET /v1/order?client_order_id=x7-12-H0 HTTP/1.1\r\n"));
  ASSERT_TRUE(api.cancel_order("x7-12-H0", out));
  EXPECT_TRUE(out.view().starts_with("DELETE /v2/order?client_order_id=x7-12-H0 HTTP/1.1\r\n"));
  ASSERT_TRUE(api.open_orders("", out));
  EXPECT_TRUE(out.view().starts_with("GET /v2/orders/pending HTTP/1.1\r\n"));
  ASSERT_TRUE(api.orderbook("KRW-BTC", out));
  EXPECT_TRUE(out.view().starts_with("GET /v1/orderbook?markets=KRW-BTC HTTP/1.1\r\n"));
  EXPECT_EQ(out.view().find("Authorization"), std::string_view::npos) << "public";
}

TEST(BithumbParser, AnAckHasNoStateAndAnIocThatFilledInPartEndsDone) {
  UpbitParser parser(UpbitDialect::bithumb);
  OrderStatus s;
  // POST /v2/orders: an acknowledgement without state or fills (exec then queries the order).
  ASSERT_EQ(parser.parse_order(R"({"order_id":"C0101000003152350309","market":"KRW-BTC",
      "side":"bid","order_type":"limit","created_at":"2026-07-04T14:39:04+09:00",
      "stp_type":"cancel_taker"})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.state, OrderState::acked);
  EXPECT_EQ(s.venue_id.view(), "C0101000003152350309");
  EXPECT_EQ(s.symbol.view(), "KRW-BTC");
  EXPECT_FALSE(s.filled_qty.is_positive());

  // GET /v1/order: an IOC that met half its volume ends `done`, the rest cancelled. That is
  // final, with its fill: never "partially filled, still working".
  ASSERT_EQ(parser.parse_order(R"({"uuid":"C0101000003152406454","side":"bid","ord_type":"limit",
      "price":"140629000","state":"done","market":"KRW-BTC","created_at":"2026-07-04T15:05:46+09:00",
      "volume":"0.02","remaining_volume":"0","executed_volume":"0.01","paid_fee":"562.52",
      "client_order_id":"x7-12-H0","time_in_force":"ioc","cancel_type":"tif_cancel",
      "trades":[{"market":"KRW-BTC","uuid":"t1","price":"140629000","volume":"0.01",
                 "funds":"1406290","side":"bid"}]})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.state, OrderState::canceled);
  EXPECT_TRUE(s.final());
  EXPECT_EQ(s.client_id.view(), "x7-12-H0");
  EXPECT_EQ(s.filled_qty, d("0.01"));
  EXPECT_EQ(s.avg_price(), d("140629000"));
  EXPECT_EQ(s.fee_quote, d("562.52"));
  EXPECT_TRUE(s.fills_known);

  // The same with the whole volume: filled.
  ASSERT_EQ(parser.parse_order(R"({"uuid":"C2","state":"done","market":"KRW-BTC","side":"ask",
      "volume":"0.01","executed_volume":"0.01","executed_funds":"1406290","paid_fee":"0",
      "client_order_id":"x7-13-H0"})",
                               s),
            Errc::ok);
  EXPECT_EQ(s.state, OrderState::filled);

  // Errors, including a numeric name (kept as its text).
  VenueError e;
  EXPECT_TRUE(parser.parse_error(
      R"({"error":{"name":"under_price_limit_bid","message":"최소 주문금액 이상으로 주문해주세요"}})",
      e));
  EXPECT_EQ(e.name.view(), "under_price_limit_bid");
  VenueError n;
  EXPECT_TRUE(parser.parse_error(R"({"error":{"name":5600,"message":"bad"}})", n));
  EXPECT_EQ(n.name.view(), "5600");

  // GET /v2/orders/pending wraps its rows.
  std::vector<OrderStatus> orders;
  std::vector<std::string> markets;
  ASSERT_EQ(parser.parse_orders(R"({"data":[{"order_id":"C3","market":"KRW-ETH","side":"bid",
      "state":"wait","volume":"1","executed_volume":"0","price":"5000000",
      "client_order_id":"a"}],"has_next":false,"next_key":null})",
                                orders, markets),
            Errc::ok);
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(markets[0], "KRW-ETH");
  EXPECT_EQ(orders[0].state, OrderState::acked);
}

// The private streams' messages (docs/venues.md): Upbit's v1 myOrder with numbers as JSON
// numbers, its `trade` events whose price and volume are the execution's, the order's end,
// myAsset, an error and the keep-alive answer; and what must not settle an order.
TEST(UpbitParser, PrivateStreamOrdersAssetsAndErrors) {
  UpbitParser p;
  StreamUpdate u;
  // A trade event: `volume` is this execution's; the order's is executed + remaining.
  ASSERT_EQ(
      p.parse_stream(
          R"({"type":"myOrder","code":"KRW-BTC","uuid":"ac2dc2a3-fce9-40a2-a4f6-5987c25c438f",)"
          R"("ask_bid":"BID","order_type":"limit","state":"trade","trade_uuid":"68315169",)"
          R"("price":140630000,"avg_price":140630000,"volume":0.004,"remaining_volume":0.006,)"
          R"("executed_volume":0.004,"trades_count":1,"reserved_fee":703.15,)"
          R"("remaining_fee":421.89,"paid_fee":281.26,"locked":844500.89,)"
          R"("executed_funds":562520,"time_in_force":"ioc","trade_fee":281.26,)"
          R"("is_maker":false,"identifier":"x1-7-U0","trade_timestamp":1727052318148,)"
          R"("order_timestamp":1727052318074,"timestamp":1727052318148,"stream_type":"REALTIME"})",
          u),
      Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::order);
  EXPECT_EQ(u.order.client_id.view(), "x1-7-U0");
  EXPECT_EQ(u.order.symbol.view(), "KRW-BTC");
  EXPECT_EQ(u.order.side, Side::buy);
  EXPECT_EQ(u.order.state, OrderState::partially_filled);
  EXPECT_FALSE(u.order.final());
  EXPECT_EQ(u.order.orig_qty, d("0.01"));
  EXPECT_EQ(u.order.filled_qty, d("0.004"));
  EXPECT_EQ(u.order.fee_quote, d("281.26"));
  EXPECT_EQ(u.order.avg_price(), d("140630000"));
  // The IOC's end with part of it filled: cancel.
  ASSERT_EQ(
      p.parse_stream(
          R"({"type":"myOrder","code":"KRW-BTC","uuid":"ac2d","ask_bid":"ASK","state":"cancel",)"
          R"("price":140631000,"volume":0.01,"remaining_volume":0.0035,)"
          R"("executed_volume":0.0065,"paid_fee":457.05,"executed_funds":914101.5,)"
          R"("identifier":"x1-8-U0"})",
          u),
      Errc::ok);
  EXPECT_EQ(u.order.state, OrderState::canceled);
  EXPECT_TRUE(u.order.final());
  EXPECT_EQ(u.order.side, Side::sell);
  EXPECT_EQ(u.order.filled_qty, d("0.0065"));
  EXPECT_EQ(u.order.filled_notional_e16,
            static_cast<Int128>(d("914101.5").mantissa()) * Decimal::kOne);
  // Balances, to the last digit (a KRW balance a double would round).
  ASSERT_EQ(
      p.parse_stream(
          R"({"type":"myAsset","asset_uuid":"e635","assets":[{"currency":"KRW",)"
          R"("balance":934634366.12217293,"locked":0},{"currency":"BTC","balance":"1.00650000",)"
          R"("locked":"0.0"}],"asset_timestamp":1727052318148,"timestamp":1727052318148})",
          u),
      Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::assets);
  ASSERT_EQ(u.asset_count, 2u);
  EXPECT_EQ(u.assets[0].currency.view(), "KRW");
  EXPECT_EQ(u.assets[0].balance, d("934634366.12217293"));
  EXPECT_EQ(u.assets[1].balance, d("1.0065"));
  ASSERT_EQ(p.parse_stream(R"({"error":{"name":"INVALID_AUTH","message":"bad token"}})", u),
            Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::error);
  EXPECT_EQ(u.error.name.view(), "INVALID_AUTH");
  ASSERT_EQ(p.parse_stream(R"({"status":"UP"})", u), Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::none);
  // Never settled by: a fill without its funds, a missing remaining volume, an unknown state,
  // broken JSON, a negative amount.
  for (
      const char* bad :
      {R"({"type":"myOrder","code":"KRW-BTC","identifier":"a","state":"done","remaining_volume":0,"executed_volume":0.01,"paid_fee":1})",
       R"({"type":"myOrder","code":"KRW-BTC","identifier":"a","state":"done","executed_volume":0.01,"executed_funds":1000})",
       R"({"type":"myOrder","code":"KRW-BTC","identifier":"a","state":"gone","remaining_volume":0,"executed_volume":0,"executed_funds":0})",
       R"({"type":"myOrder","code":"KRW-BTC","identifier":"a","state":"done","remaining_volume":0,"executed_volume":-0.01,"executed_funds":1000})",
       R"({"type":"myOrder","code":"KRW-BTC",)", R"([1,2,3])"}) {
    EXPECT_NE(p.parse_stream(bad, u), Errc::ok) << bad;
  }
}

// Bithumb's v2 names: order_id, client_order_id, side buy/sell, executed_quantity and
// executed_amount; an IOC that filled in part ends `done`.
TEST(BithumbParser, PrivateStreamV2Names) {
  UpbitParser p(UpbitDialect::bithumb);
  StreamUpdate u;
  ASSERT_EQ(
      p.parse_stream(
          R"({"type":"myOrder","code":"KRW-BTC","order_id":"C0101000001","client_order_id":"x1-9-H0",)"
          R"("side":"sell","order_type":"limit","state":"done","time_in_force":"ioc",)"
          R"("order_price":140000000,"order_quantity":0.01,"order_amount":0,)"
          R"("remaining_quantity":0.004,"executed_quantity":0.006,"executed_amount":840000,)"
          R"("trade_id":null,"trade_price":null,"trade_quantity":null,"trade_amount":null,)"
          R"("reserved_fee":0,"remaining_fee":0,"paid_fee":2100,"cancel_type":"tif_cancel",)"
          R"("trade_timestamp":null,"order_timestamp":1,"timestamp":2,"stream_type":"REALTIME"})",
          u),
      Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::order);
  EXPECT_EQ(u.order.client_id.view(), "x1-9-H0");
  EXPECT_EQ(u.order.venue_id.view(), "C0101000001");
  EXPECT_EQ(u.order.side, Side::sell);
  EXPECT_EQ(u.order.state, OrderState::canceled) << "Bithumb's partial IOC ends done";
  EXPECT_EQ(u.order.filled_qty, d("0.006"));
  EXPECT_EQ(u.order.orig_qty, d("0.01"));
  EXPECT_EQ(u.order.fee_quote, d("2100"));
  EXPECT_EQ(u.order.avg_price(), d("140000000"));
  // Upbit's names mean nothing in Bithumb's dialect: no client id, no quantities.
  EXPECT_NE(p.parse_stream(R"({"type":"myOrder","code":"KRW-BTC","identifier":"a","state":"done",)"
                           R"("remaining_volume":0,"executed_volume":0.01,"executed_funds":1000})",
                           u),
            Errc::ok);
}

// Binance's user data stream on the WebSocket API: the envelope, executionReport's
// case-sensitive keys (c and C, x and X, l and L), the balances, and the answers to requests.
TEST(BinanceParser, UserDataStreamEventsAndAnswers) {
  BinanceParser p;
  StreamUpdate u;
  ASSERT_EQ(p.parse_stream(R"({"id":"uds-1","status":200,"result":{"subscriptionId":0},)"
                           R"("rateLimits":[]})",
                           u),
            Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::none);
  ASSERT_EQ(p.parse_stream(R"({"id":"uds-2","status":401,"error":{"code":-2015,)"
                           R"("msg":"Invalid API-key, IP, or permissions for action."}})",
                           u),
            Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::error);
  EXPECT_EQ(u.error.code, -2015);
  // An execution: l, L, n, N are its own; z and Z the order's so far.
  ASSERT_EQ(
      p.parse_stream(
          R"({"subscriptionId":0,"event":{"e":"executionReport","E":1764748800100,"s":"BTCUSDT",)"
          R"("c":"x1-2-B0","S":"BUY","o":"LIMIT","f":"IOC","q":"0.00200000","p":"60010.00000000",)"
          R"("P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":"TRADE","X":"PARTIALLY_FILLED",)"
          R"("r":"NONE","i":12345678901,"l":"0.00120000","z":"0.00120000","L":"60000.01000000",)"
          R"("n":"0.00000120","N":"BTC","T":1764748800100,"t":77,"I":9,"w":false,"m":false,)"
          R"("M":true,"O":1764748800099,"Z":"72.00001200","Y":"72.00001200","Q":"0.00000000"}})",
          u),
      Errc::ok);
  ASSERT_EQ(u.kind, StreamUpdate::Kind::order);
  EXPECT_EQ(u.order.client_id.view(), "x1-2-B0");
  EXPECT_EQ(u.order.venue_id.view(), "12345678901");
  EXPECT_EQ(u.order.symbol.view(), "BTCUSDT");
  EXPECT_EQ(u.order.state, OrderState::partially_filled);
  EXPECT_EQ(u.order.side, Side::buy);
  EXPECT_EQ(u.order.orig_qty, d("0.002"));
  EXPECT_EQ(u.order.filled_qty, d("0.0012"));
  EXPECT_EQ(u.order.filled_notional_e16,
            static_cast<Int128>(d("72.000012").mantissa()) * Decimal::kOne);
  EXPECT_EQ(u.execution.qty, d("0.0012"));
  EXPECT_EQ(u.execution.price, d("60000.01"));
  EXPECT_EQ(u.execution.commission, d("0.0000012"));
  EXPECT_EQ(u.execution.commission_asset.view(), "BTC");
  // A cancel's event: c is the cancel request's id, C the order's.
  ASSERT_EQ(
      p.parse_stream(
          R"({"subscriptionId":0,"event":{"e":"executionReport","s":"BTCUSDT","c":"cancel-9",)"
          R"("S":"SELL","q":"1.00000000","C":"x1-3-B0","x":"CANCELED","X":"CANCELED","i":5,)"
          R"("l":"0.00000000","z":"0.00000000","L":"0.00000000","n":"0","N":null,)"
          R"("Z":"0.00000000"}})",
          u),
      Errc::ok);
  EXPECT_EQ(u.order.client_id.view(), "x1-3-B0");
  EXPECT_EQ(u.order.state, OrderState::canceled);
  EXPECT_FALSE(u.execution.qty.is_positive());
  // Balances, exactly.
  ASSERT_EQ(p.parse_stream(R"({"subscriptionId":0,"event":{"e":"outboundAccountPosition",)"
                           R"("E":1,"u":1,"B":[{"a":"USDT","f":"99976.88637182","l":"0"},)"
                           R"({"a":"BTC","f":"1.99986000","l":"0.00000000"}]}})",
                           u),
            Errc::ok);
  ASSERT_EQ(u.kind, StreamUpdate::Kind::assets);
  ASSERT_EQ(u.asset_count, 2u);
  EXPECT_EQ(u.assets[0].currency.view(), "USDT");
  EXPECT_EQ(u.assets[0].balance, d("99976.88637182"));
  EXPECT_EQ(u.assets[1].balance, d("1.99986"));
  // A deposit's delta is not a balance; the position event that follows is.
  ASSERT_EQ(p.parse_stream(R"({"subscriptionId":0,"event":{"e":"balanceUpdate","E":1,)"
                           R"("a":"BTC","d":"0.5","T":1}})",
                           u),
            Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::none);
  ASSERT_EQ(
      p.parse_stream(R"({"subscriptionId":0,"event":{"e":"eventStreamTerminated","E":1}})", u),
      Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::error);
  // A subscription refused without an error object is named by its status.
  u = StreamUpdate{};
  ASSERT_EQ(p.parse_stream(R"({"id":"sub","status":503})", u), Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::error);
  EXPECT_EQ(u.error.name.view(), "status 503");
  // Without what settles an order, the event is dropped (a query settles it).
  for (const char* bad :
       {R"({"subscriptionId":0,"event":{"e":"executionReport","s":"BTCUSDT","c":"a","x":"TRADE",)"
        R"("X":"FILLED","Z":"1"}})",
        R"({"subscriptionId":0,"event":{"e":"executionReport","s":"BTCUSDT","c":"a","x":"TRADE",)"
        R"("X":"SOMETHING","z":"1","Z":"1"}})",
        R"({"subscriptionId":0,"event":{"e":"executionReport","s":"BTCUSDT","c":"a","x":"TRADE",)"
        R"("X":"FILLED","z":"-1","Z":"1"}})",
        R"({"subscriptionId":0,"event":[]})", "not json"}) {
    EXPECT_NE(p.parse_stream(bad, u), Errc::ok) << bad;
  }
}

// The private streams' steady state allocates nothing: Binance's executionReport parsed and its
// execution summed, its balances; the KRW venues' myOrder and myAsset; each after the first.
TEST(BinanceParser, UserDataEventsParseWithoutAllocating) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  BinanceParser p;
  BinanceExecutions sums;
  StreamUpdate u;
  const std::string report =
      R"({"subscriptionId":0,"event":{"e":"executionReport","E":1764748800100,"s":"BTCUSDT",)"
      R"("c":"x1-2-B0","S":"BUY","o":"LIMIT","f":"IOC","q":"0.00200000","p":"60010.00000000",)"
      R"("C":"","x":"TRADE","X":"PARTIALLY_FILLED","i":12345678901,"l":"0.00100000",)"
      R"("z":"0.00100000","L":"60000.01000000","n":"0.00000100","N":"BTC","T":1764748800100,)"
      R"("t":77,"Z":"60.00001000"}})";
  const std::string position =
      R"({"subscriptionId":0,"event":{"e":"outboundAccountPosition","E":1,"u":1,)"
      R"("B":[{"a":"USDT","f":"99976.88637182","l":"0"},{"a":"BTC","f":"1.99986","l":"0"}]}})";
  ASSERT_EQ(p.parse_stream(report, u), Errc::ok);  // warm-up
  sums.apply(u, "BTC", "USDT");
  test::AllocationScope scope;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(p.parse_stream(report, u), Errc::ok);
    sums.apply(u, "BTC", "USDT");
    ASSERT_EQ(p.parse_stream(position, u), Errc::ok);
  }
  EXPECT_EQ(scope.count(), 0u) << scope.first();
  // The KRW venues' myOrder and myAsset likewise.
  UpbitParser krw;
  const std::string order =
      R"({"type":"myOrder","code":"KRW-BTC","uuid":"ac2dc2a3-fce9-40a2-a4f6-5987c25c438f",)"
      R"("ask_bid":"BID","order_type":"limit","state":"done","price":140630000,)"
      R"("volume":0.01,"remaining_volume":0,"executed_volume":0.01,"executed_funds":1406300,)"
      R"("paid_fee":703.15,"identifier":"x1-2-U0","timestamp":1764748800100})";
  const std::string assets =
      R"({"type":"myAsset","asset_uuid":"a-1","assets":[{"currency":"KRW","balance":1000.5,)"
      R"("locked":0},{"currency":"BTC","balance":0.01,"locked":0}],"timestamp":1})";
  ASSERT_EQ(krw.parse_stream(order, u), Errc::ok);  // warm-up
  ASSERT_EQ(u.kind, StreamUpdate::Kind::order);
  test::AllocationScope krw_scope;
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(krw.parse_stream(order, u), Errc::ok);
    ASSERT_EQ(krw.parse_stream(assets, u), Errc::ok);
  }
  EXPECT_EQ(krw_scope.count(), 0u) << krw_scope.first();
}

// Order entry on the WebSocket API: every parameter (apiKey, recvWindow and timestamp included)
// sorted by name, signed as the API signs; the answer is read as the REST answer, with its
// rateLimits as the REST headers; -1007 is an unknown outcome.
TEST(BinanceApi, WebSocketApiOrdersAndTheirAnswers) {
  BinanceApi api({"key-1", "secret-1"}, endpoint("https://api.binance.com"), 5000);
  OrderRequest o;
  o.client_id.assign("x9-1-B0");
  o.side = Side::sell;
  o.price = d("60000.5");
  o.qty = d("0.0012");
  WsRequestText out;
  ASSERT_TRUE(api.ws_new_order(o, "BTCUSDT", 1764748800000, 7, out));
  const std::string payload =
      "apiKey=key-1&newClientOrderId=x9-1-B0&newOrderRespType=FULL&price=60000.5&"
      "quantity=0.0012&recvWindow=5000&side=SELL&symbol=BTCUSDT&timeInForce=IOC&"
      "timestamp=1764748800000&type=LIMIT";
  const Hex256 sig = hmac_sha256_hex("secret-1", payload);
  EXPECT_EQ(out.view(),
            R"({"id":"o-7","method":"order.place","params":{"apiKey":"key-1",)"
            R"("newClientOrderId":"x9-1-B0","newOrderRespType":"FULL","price":"60000.5",)"
            R"("quantity":"0.0012","recvWindow":5000,"side":"SELL","symbol":"BTCUSDT",)"
            R"("timeInForce":"IOC","timestamp":1764748800000,"type":"LIMIT","signature":")" +
                std::string(sig.data(), sig.size()) + R"("}})");
  ASSERT_TRUE(api.ws_query_order("BTCUSDT", "x9-1-B0", 1764748800000, 8, out));
  EXPECT_NE(out.view().find(R"("method":"order.status")"), std::string_view::npos);

  BinanceParser p;
  StreamUpdate u;
  const std::string answer =
      R"({"id":"o-7","status":200,"result":{"symbol":"BTCUSDT","orderId":1,)"
      R"("clientOrderId":"x9-1-B0","status":"FILLED","executedQty":"0.00120000",)"
      R"("cummulativeQuoteQty":"72.00060000","fills":[]},"rateLimits":[)"
      R"({"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":9},)"
      R"({"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":100,"count":3},)"
      R"({"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":200000,"count":40}]})";
  ASSERT_EQ(p.parse_stream(answer, u), Errc::ok);
  ASSERT_EQ(u.kind, StreamUpdate::Kind::answer);
  EXPECT_EQ(u.answer.tag, 7u);
  EXPECT_EQ(u.answer.status, 200);
  EXPECT_TRUE(u.answer.body.starts_with(R"({"symbol":"BTCUSDT")"));
  EXPECT_TRUE(u.answer.body.ends_with(R"("fills":[]})"));
  RateLimitState rate;
  for (std::size_t i = 0; i < u.answer.limit_count; ++i) {
    binance_header(u.answer.limits[i].first, u.answer.limits[i].second, rate);
  }
  EXPECT_EQ(rate.used_weight_1m, 9);
  EXPECT_EQ(rate.order_count_10s, 3);
  EXPECT_EQ(rate.order_count_1d, 40);
  ASSERT_EQ(p.parse_stream(R"({"id":"o-8","status":400,"error":{"code":-2010,)"
                           R"("msg":"Account has insufficient balance for requested action."}})",
                           u),
            Errc::ok);
  EXPECT_EQ(u.kind, StreamUpdate::Kind::answer);
  EXPECT_EQ(u.answer.status, 400);
  VenueError e;
  const std::string body(u.answer.body);  // (a view into the parser's own input)
  ASSERT_TRUE(p.parse_error(body, e));
  EXPECT_EQ(e.code, -2010);
  ASSERT_EQ(p.parse_stream(R"({"id":"o-9","status":408,"error":{"code":-1007,)"
                           R"("msg":"Timeout waiting for response from backend server."}})",
                           u),
            Errc::ok);
  EXPECT_EQ(u.answer.status, 503) << "sent, outcome unknown";
}

// The commissions of an order are the sum over its executions; an execution not seen leaves
// the order to a query.
TEST(BinanceExecutions, SumsEachOrdersExecutionsAndKnowsWhenOneIsMissing) {
  BinanceExecutions sums;
  const auto event = [](const char* id, const char* state, const char* z, const char* l,
                        const char* price, const char* fee, const char* asset) {
    StreamUpdate u;
    u.kind = StreamUpdate::Kind::order;
    u.order.client_id.assign(id);
    u.order.state = binance_order_state(state);
    u.order.filled_qty = d(z);
    u.execution.qty = d(l);
    u.execution.price = d(price);
    u.execution.commission = d(fee);
    u.execution.commission_asset.assign(asset);
    return u;
  };
  StreamUpdate u = event("a", "NEW", "0", "0", "0", "0", "");
  sums.apply(u, "BTC", "USDT");
  EXPECT_TRUE(u.complete);
  u = event("a", "PARTIALLY_FILLED", "0.001", "0.001", "60000", "0.000001", "BTC");
  sums.apply(u, "BTC", "USDT");
  EXPECT_TRUE(u.complete);
  u = event("a", "FILLED", "0.003", "0.002", "60000.5", "0.000002", "BTC");
  sums.apply(u, "BTC", "USDT");
  ASSERT_TRUE(u.complete);
  EXPECT_TRUE(u.order.fills_known);
  EXPECT_EQ(u.order.fee_base, d("0.000003"));
  EXPECT_EQ(u.order.fee_quote, Decimal{});
  EXPECT_EQ(u.order.filled_notional_e16,
            static_cast<Int128>(d("60000").mantissa()) * d("0.001").mantissa() +
                static_cast<Int128>(d("60000.5").mantissa()) * d("0.002").mantissa());
  // A sell whose first execution was missed: its end cannot be settled from the stream.
  u = event("b", "FILLED", "0.003", "0.002", "60000", "0.12", "USDT");
  sums.apply(u, "BTC", "USDT");
  EXPECT_FALSE(u.complete);
  EXPECT_FALSE(u.order.fills_known);
  // A commission in BNB is kept apart.
  u = event("c", "FILLED", "0.001", "0.001", "60000", "0.0001", "BNB");
  sums.apply(u, "BTC", "USDT");
  EXPECT_TRUE(u.complete);
  EXPECT_EQ(u.order.fee_other, d("0.0001"));
  EXPECT_EQ(u.order.fee_base, Decimal{});
}

TEST(BithumbRules, ItsOwnTickTable) {
  EXPECT_EQ(bithumb_krw_tick(d("140123456")), d("1000"));
  EXPECT_EQ(bithumb_krw_tick(d("999999")), d("500"));
  EXPECT_EQ(bithumb_krw_tick(d("5000")), d("5"));
  EXPECT_EQ(bithumb_krw_tick(d("4999")), d("1"));
  EXPECT_EQ(bithumb_krw_tick(d("99")), d("0.01"));
  EXPECT_EQ(bithumb_krw_tick(d("1")), d("0.001"));
  // Below 1 KRW Bithumb keeps 0.0001 where Upbit goes to 0.00001 under 0.1.
  EXPECT_EQ(bithumb_krw_tick(d("0.05")), d("0.0001"));
  EXPECT_EQ(upbit_krw_tick(d("0.05")), d("0.00001"));
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kBithumb, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  RulesTable table;
  load_krw_default_rules(venues::kBithumb, kBithumbKrwTicks, kBithumbMinOrderKrw, symbols, table);
  const InstrumentRules& r = table.at(venues::kBithumb, 0);
  ASSERT_TRUE(r.loaded);
  EXPECT_EQ(r.min_notional, d("5000"));
  Decimal p;
  ASSERT_EQ(round_price(r, Side::buy, d("140629499"), p), Errc::ok);
  EXPECT_EQ(p, d("140629000"));
  EXPECT_FALSE(table.at(venues::kUpbit, 0).loaded) << "only the venue asked for";
}

TEST(UpbitHeaders, RemainingReq) {
  RateLimitState s;
  upbit_header("Remaining-Req", "group=order; min=1800; sec=7", s);
  EXPECT_EQ(s.remaining_group.view(), "order");
  EXPECT_EQ(s.remaining_sec, 7);
  upbit_header("remaining-req", "group=default; sec=29", s);
  EXPECT_EQ(s.remaining_sec, 29);
}

}  // namespace
}  // namespace xarb::exec
