#include "venue_stubs.hpp"

#include <thread>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <simdjson.h>

#include <xarb/sim/venues/auth.hpp>

#include "test_support.hpp"

namespace xarb::test {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string param(const std::string& params, const std::string& name) {
  std::size_t pos = 0;
  while (pos <= params.size()) {
    const std::size_t amp = params.find('&', pos);
    const std::string part = params.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return {};
}

double to_d(const std::string& s) { return s.empty() ? 0.0 : std::stod(s); }

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.8f", v);
  return buf;
}

HttpReply json(int status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Binance

BinanceStub::BinanceStub(std::string key, std::string secret)
    : key_(std::move(key)), secret_(std::move(secret)) {
  // exchangeInfo from the recorded symbol objects (lines 2 and 3 of the recorded file).
  std::ifstream in(data_dir() / "binance/exchangeInfo_btcusdt_ethusdt_2021-10-12.jsonl");
  std::string line, symbols;
  std::getline(in, line);
  while (std::getline(in, line)) {
    if (!symbols.empty()) symbols += ",";
    symbols += line;
  }
  exchange_info_ = R"({"timezone":"UTC","serverTime":0,"rateLimits":[],"symbols":[)" + symbols + "]}";
  balances_ = {{"USDT", "10000.00000000"}, {"BTC", "1.00000000"}, {"ETH", "10.00000000"}};
  server_ = std::make_unique<TlsTestServer>(
      nullptr, TlsTestServer::RestHandler([this](const HttpExchange& ex) { return handle(ex); }));
}

BinanceStub::~BinanceStub() = default;

void BinanceStub::script(Scripted s) {
  std::lock_guard lock(mutex_);
  script_.push_back(std::move(s));
}

void BinanceStub::set_balance(const std::string& asset, const std::string& free) {
  std::lock_guard lock(mutex_);
  balances_[asset] = free;
}

HttpReply BinanceStub::handle(const HttpExchange& ex) {
  const std::string path = ex.path();
  const std::int64_t server_ms = now_ms() + skew_ms_.load();
  if (path == "/api/v3/time") {
    ++time_requests;
    return json(200, R"({"serverTime":)" + std::to_string(server_ms) + "}");
  }
  if (path == "/api/v3/exchangeInfo") return json(200, exchange_info_);
  // Signed endpoints.
  if (ex.header("x-mbx-apikey") != key_) {
    ++auth_failures;
    return json(401, R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})");
  }
  // The signature covers the query string followed directly by the body.
  const std::string all = ex.query() + ex.body;
  if (!sim::binance_signature_valid(all, secret_)) {
    ++auth_failures;
    return json(400, R"({"code":-1022,"msg":"Signature for this request is not valid."})");
  }
  const std::int64_t ts = std::stoll(param(all, "timestamp"));
  const std::string rw = param(all, "recvWindow");
  const std::int64_t recv_window = rw.empty() ? 5000 : std::stoll(rw);
  if (ts > server_ms + 1000 || server_ms - ts > recv_window) {
    ++auth_failures;
    return json(400, R"({"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."})");
  }
  ++signed_ok;
  if (path == "/api/v3/order" && ex.method == "GET") {
    // Held (outside the lock: other connections are served meanwhile) while a test says so.
    ++queries_held;
    while (hold_queries.load() && !server_->stopping()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  std::lock_guard lock(mutex_);
  if (path == "/api/v3/account") {
    std::string list;
    for (const auto& [asset, free] : balances_) {
      if (!list.empty()) list += ",";
      list += R"({"asset":")" + asset + R"(","free":")" + free + R"(","locked":"0.00000000"})";
    }
    return json(200, R"({"makerCommission":10,"balances":[)" + list + "]}");
  }
  if (path == "/api/v3/openOrders") return json(200, "[]");
  const std::string cid = param(all, ex.method == "POST" ? "newClientOrderId" : "origClientOrderId");
  if (path == "/api/v3/order" && ex.method == "GET") {
    const auto it = orders_.find(cid);
    if (it == orders_.end() || it->second.symbol != param(all, "symbol")) {
      return json(400, R"({"code":-2013,"msg":"Order does not exist."})");
    }
    return json(200, it->second.query_json);
  }
  if (path == "/api/v3/myTrades" && ex.method == "GET") {
    ++trade_requests;
    for (const auto& [id, o] : orders_) {
      if (o.symbol == param(all, "symbol") && o.order_id == param(all, "orderId")) {
        return json(200, o.trades_json);
      }
    }
    return json(200, "[]");
  }
  if (path == "/api/v3/order" && ex.method == "DELETE") {
    return json(400, R"({"code":-2011,"msg":"Unknown order sent."})");
  }
  if (path == "/api/v3/order" && ex.method == "POST") {
    ++orders;
    Scripted s;
    if (!script_.empty()) {
      s = script_.front();
      script_.pop_front();
    }
    HttpReply reply;
    reply.delay_ms = s.delay_ms;
    reply.drop = s.drop;
    reply.headers = s.headers;
    reply.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(orders.load()));
    reply.headers.emplace_back("X-MBX-ORDER-COUNT-10S", std::to_string(orders.load()));
    if (s.status != 200) {
      reply.status = s.status;
      reply.body = s.body;
      return reply;
    }
    const std::string symbol = param(all, "symbol");
    const std::string side = param(all, "side");
    const std::string order_id = std::to_string(orders.load());
    const double qty = to_d(param(all, "quantity"));
    const double price = to_d(param(all, "price"));
    const double filled = qty * s.fill_share;
    const std::string status = filled >= qty ? "FILLED" : "EXPIRED";
    // Without BNB, Binance takes 0.1% of what the trade brought in: the base asset on a buy,
    // USDT on a sell.
    const bool buy = side == "BUY";
    const std::string commission =
        R"("commission":")" + num(buy ? filled * 0.001 : filled * price * 0.001) +
        R"(","commissionAsset":")" + (buy ? symbol.substr(0, symbol.size() - 4) : "USDT") + '"';
    std::string fills, trades;
    if (filled > 0) {
      fills = R"({"price":")" + num(price) + R"(","qty":")" + num(filled) + R"(",)" + commission +
              R"(,"tradeId":1})";
      trades = R"({"symbol":")" + symbol + R"(","id":1,"orderId":)" + order_id +
               R"(,"orderListId":-1,"price":")" + num(price) + R"(","qty":")" + num(filled) +
               R"(","quoteQty":")" + num(filled * price) + R"(",)" + commission +
               R"(,"time":)" + std::to_string(server_ms) + R"(,"isBuyer":)" +
               (buy ? "true" : "false") + R"(,"isMaker":false,"isBestMatch":true})";
    }
    const std::string common = R"({"symbol":")" + symbol + R"(","orderId":)" + order_id +
                               R"(,"orderListId":-1,"clientOrderId":")" + cid + R"(","price":")" +
                               num(price) + R"(","origQty":")" + num(qty) +
                               R"(","executedQty":")" + num(filled) +
                               R"(","cummulativeQuoteQty":")" + num(filled * price) +
                               R"(","status":")" + status + R"(","timeInForce":")" +
                               param(all, "timeInForce") + R"(","type":"LIMIT","side":")" + side +
                               '"';
    orders_[cid] = StoredOrder{symbol, order_id,
                               common + R"(,"time":)" + std::to_string(server_ms) +
                                   R"(,"updateTime":)" + std::to_string(server_ms) +
                                   R"(,"isWorking":true})",
                               "[" + trades + "]"};
    reply.body = common + R"(,"transactTime":)" + std::to_string(server_ms) + R"(,"fills":[)" +
                 fills + "]}";
    return reply;
  }
  return json(404, R"({"code":-1000,"msg":"Unknown path."})");
}

// ---------------------------------------------------------------------------------------------
// Upbit

UpbitStub::UpbitStub(std::string access_key, std::string secret_key)
    : access_(std::move(access_key)), secret_(std::move(secret_key)) {
  balances_ = {{"KRW", "100000000.0"}, {"BTC", "1.0"}};
  server_ = std::make_unique<TlsTestServer>(
      nullptr, TlsTestServer::RestHandler([this](const HttpExchange& ex) { return handle(ex); }));
}

UpbitStub::~UpbitStub() = default;

void UpbitStub::script(Scripted s) {
  std::lock_guard lock(mutex_);
  script_.push_back(std::move(s));
}

void UpbitStub::set_balance(const std::string& currency, const std::string& balance) {
  std::lock_guard lock(mutex_);
  balances_[currency] = balance;
}

std::string UpbitStub::verify(const HttpExchange& ex) {
  const sim::UpbitAuth auth = sim::verify_upbit(
      ex.header("authorization"), ex.query(), ex.body,
      [this](std::string_view access) { return access == access_ ? secret_ : std::string(); });
  if (!auth.error.empty()) return auth.error;
  std::lock_guard lock(mutex_);
  return nonces_.insert(auth.nonce).second ? std::string() : std::string("nonce_used");
}

HttpReply UpbitStub::handle(const HttpExchange& ex) {
  const std::string path = ex.path();
  HttpReply reply;
  reply.headers.emplace_back("Remaining-Req", "group=default; min=1800; sec=29");
  if (path == "/v1/orderbook/instruments") {
    if (!instruments_) return json(404, R"({"error":{"name":"not_found","message":"Not found"}})");
    reply.body = R"([{"market":"KRW-BTC","quote_currency":"KRW","tick_size":"1000","supported_levels":["0"]}])";
    return reply;
  }
  if (const std::string err = verify(ex); !err.empty()) {
    ++auth_failures;
    {
      std::lock_guard lock(mutex_);
      last_auth_error = err;
    }
    return json(401, R"({"error":{"name":")" + err + R"(","message":"authentication failed"}})");
  }
  ++signed_ok;
  std::lock_guard lock(mutex_);
  if (path == "/v1/accounts") {
    std::string list;
    for (const auto& [cur, bal] : balances_) {
      if (!list.empty()) list += ",";
      list += R"({"currency":")" + cur + R"(","balance":")" + bal +
              R"(","locked":"0.0","avg_buy_price":"0","avg_buy_price_modified":false,"unit_currency":"KRW"})";
    }
    reply.body = "[" + list + "]";
    return reply;
  }
  if (path == "/v1/orders/open") {
    reply.body = "[]";
    return reply;
  }
  if (path == "/v1/order" && ex.method == "GET") {
    ++queries;
    const auto it = orders_.find(param(ex.query(), "identifier"));
    if (it == orders_.end()) {
      return json(404, R"({"error":{"name":"order_not_found","message":"주문을 찾지 못했습니다."}})");
    }
    reply.body = it->second;
    return reply;
  }
  if (path == "/v1/orders" && ex.method == "POST") {
    ++orders;
    Scripted s;
    if (!script_.empty()) {
      s = script_.front();
      script_.pop_front();
    }
    reply.delay_ms = s.delay_ms;
    reply.drop = s.drop;
    for (auto& h : s.headers) reply.headers.push_back(h);
    if (s.status != 200) {
      reply.status = s.status;
      reply.body = s.body;
      return reply;
    }
    simdjson::dom::parser bp;
    simdjson::dom::element body = bp.parse(ex.body);
    const std::string id(body["identifier"].get_string().value());
    const std::string market(body["market"].get_string().value());
    const std::string side(body["side"].get_string().value());
    const double volume = to_d(std::string(body["volume"].get_string().value()));
    const double price = to_d(std::string(body["price"].get_string().value()));
    const double filled = volume * s.fill_share;
    const std::string common = R"({"uuid":"u-)" + id + R"(","side":")" + side +
                               R"(","ord_type":"limit","price":")" + num(price) +
                               R"(","market":")" + market + R"(","volume":")" + num(volume) +
                               R"(","identifier":")" + id + R"(",)";
    // The POST answers while the order is still working, as Upbit does; the fill is seen by
    // querying it.
    reply.body = common + R"("state":"wait","executed_volume":"0.0","paid_fee":"0.0","trades_count":0})";
    orders_[id] = common + R"("state":")" + (filled >= volume ? "done" : "cancel") +
                  R"(","executed_volume":")" + num(filled) + R"(","paid_fee":")" +
                  num(filled * price * 0.0005) + R"(","trades_count":1,"trades":[{"market":")" +
                  market + R"(","price":")" + num(price) + R"(","volume":")" + num(filled) +
                  R"(","funds":")" + num(filled * price) + R"(","side":")" + side + R"("}]})";
    return reply;
  }
  return json(404, R"({"error":{"name":"not_found","message":"Not found"}})");
}

}  // namespace xarb::test
