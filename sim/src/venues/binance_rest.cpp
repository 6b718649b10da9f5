// Binance's REST front end: its endpoints, its HMAC authentication, its weights and order limits,
// and its answers in the documented shapes.

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <simdjson.h>

#include <xarb/exec/signing.hpp>
#include <xarb/sim/venues/auth.hpp>
#include <xarb/sim/exchange.hpp>
#include <xarb/venues/registry.hpp>

#include "../text.hpp"
#include "registry.hpp"
#include "rest_front.hpp"

namespace xarb::sim {

using namespace text;  // NOLINT(google-build-using-namespace): this file is the helpers' user

namespace {

// An error answer in the venue's shape.
HttpResult binance_error(int status, int code, const std::string& msg) {
  return answer(status, R"({"code":)" + std::to_string(code) + R"(,"msg":")" + msg + R"("})");
}

// Binance's REST API (docs/venues.md): the router, its signed endpoints and its answers.
class BinanceRest final : public RestFront {
 public:
  explicit BinanceRest(Exchange& x) : RestFront(x) {}
  HttpResult handle(const HttpRequest& r, Touched& touched) override;

 private:
  HttpResult& binance_weights(HttpResult& res, const AccountSpec& account);
  HttpResult binance_account(AccountSpec& account);
  HttpResult binance_open_orders(const HttpRequest& r, const Params& p, AccountSpec& account);
  HttpResult binance_my_trades(const Params& p, AccountSpec& account);
  HttpResult binance_lookup(const HttpRequest& r, const Params& p, AccountSpec& account, int i);
  HttpResult binance_place(const Params& p, AccountSpec& account, int i, Touched& touched);
  // True when the request is signed as Binance requires; else false with the error answer.
  bool binance_auth(const HttpRequest& r, const std::string& params, AccountSpec*& account,
                    HttpResult& error);
  [[nodiscard]] std::string exchange_info() const;
  [[nodiscard]] std::string binance_order_json(const SimOrder& o, bool full) const;
  [[nodiscard]] std::string commission_json(const SimOrder& o, const Trade& t) const;
  // The user data stream for an order just taken and matched: NEW, each TRADE, EXPIRED when its
  // time in force ended it unfilled or in part; then the balances it moved.
  void binance_order_events(const std::string& key);
};


}  // namespace

bool BinanceRest::binance_auth(const HttpRequest& r, const std::string& all, AccountSpec*& account,
                            HttpResult& error) {
  account = nullptr;
  const std::string key = r.header("x-mbx-apikey");
  for (AccountSpec& a : accounts_) {
    if (a.venue == venues::kBinance && a.key == key && !key.empty()) account = &a;
  }
  if (account == nullptr) {
    ++stats_.auth_failures;
    error = binance_error(401, -2015, "Invalid API-key, IP, or permissions for action.");
    return false;
  }
  const auto sig_at = all.rfind("&signature=");
  const std::string sig = sig_at == std::string::npos ? std::string() : all.substr(sig_at + 11);
  if (sig.empty()) {
    ++stats_.auth_failures;
    error = binance_error(
        400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    return false;
  }
  if (!binance_signature_valid(all, account->secret)) {
    ++stats_.auth_failures;
    error = binance_error(400, -1022, "Signature for this request is not valid.");
    return false;
  }
  const auto p = params_of(all);
  const auto ts = p.find("timestamp");
  if (ts == p.end()) {
    ++stats_.auth_failures;
    error = binance_error(
        400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    return false;
  }
  const std::int64_t server = now_ms();
  const auto rw = p.find("recvWindow");
  const std::int64_t window =
      rw == p.end() ? 5000 : std::min<std::int64_t>(std::stoll(rw->second), 60'000);
  const std::int64_t t = std::stoll(ts->second);
  if (t > server + 1000 || server - t > window) {
    ++stats_.auth_failures;
    error = binance_error(400, -1021, "Timestamp for this request is outside of the recvWindow.");
    return false;
  }
  return true;
}

HttpResult binance_refusal(Refusal why, std::int64_t banned_until_ms) {
  switch (why) {
    case Refusal::banned:
      return binance_error(418, -1003,
                           "Way too much request weight used; IP banned until " +
                               std::to_string(banned_until_ms) + ".");
    case Refusal::unavailable:
      return binance_error(503, -1001,
                           "Internal error; unable to process your request. Please try again.");
    case Refusal::too_many:
      break;
  }
  return binance_error(429, -1003, "Too many requests; current request has limited.");
}

bool binance_places(const SimVenue& /*row*/, const HttpRequest& r, const std::string& market,
                    bool buy) {
  const std::string text = r.target + "&" + r.body;
  return r.method == "POST" && r.path() == "/api/v3/order" &&
         text.find(buy ? "side=BUY" : "side=SELL") != std::string::npos &&
         text.find("symbol=" + market) != std::string::npos;
}

std::string BinanceRest::exchange_info() const {
  std::string symbols;
  for (std::size_t i = 0; i < market_.specs().size(); ++i) {
    if (!symbols.empty()) symbols += ",";
    const exec::InstrumentRules r = rules(venues::kBinance, i);
    symbols += R"({"symbol":")" + market_.market_name(venues::kBinance, i) +
               R"(","status":"TRADING","baseAsset":")" + market_.specs()[i].base +
               R"(","baseAssetPrecision":8,"quoteAsset":"USDT","quotePrecision":8,"quoteAssetPrecision":8,)" +
               R"("orderTypes":["LIMIT","LIMIT_MAKER","MARKET"],"icebergAllowed":true,"ocoAllowed":false,)" +
               R"("isSpotTradingAllowed":true,"isMarginTradingAllowed":false,"filters":[)" +
               R"({"filterType":"PRICE_FILTER","minPrice":")" + dec8(r.min_price.mantissa()) +
               R"(","maxPrice":")" + dec8(r.max_price.mantissa()) + R"(","tickSize":")" +
               dec8(r.tick.mantissa()) + R"("},{"filterType":"LOT_SIZE","minQty":")" +
               dec8(r.min_qty.mantissa()) + R"(","maxQty":")" + dec8(r.max_qty.mantissa()) +
               R"(","stepSize":")" + dec8(r.step.mantissa()) +
               R"("},{"filterType":"NOTIONAL","minNotional":")" + dec8(r.min_notional.mantissa()) +
               R"(","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5}],)" +
               R"("permissions":["SPOT"]})";
  }
  return R"({"timezone":"UTC","serverTime":)" + std::to_string(now_ms()) +
         R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":)" +
         std::to_string(venues_[index(venues::kBinance)].request_limit) +
         R"(},{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":)" +
         std::to_string(venues_[index(venues::kBinance)].order_limit) + R"(}],"exchangeFilters":[],"symbols":[)" +
         symbols + "]}";
}

// "commission":"...","commissionAsset":"..." of one Binance trade.
std::string BinanceRest::commission_json(const SimOrder& o, const Trade& t) const {
  const auto [amount, asset] = commission(o, t);
  return R"("commission":")" + dec8(amount) + R"(","commissionAsset":")" + asset + "\"";
}

void BinanceRest::binance_order_events(const std::string& key) {
  const SimOrder& o = orders_.at(key);
  const std::int64_t at = std::max(now_ms(), o.visible_from_ms);
  const auto order_event = [&](int trade, const char* type) {
    private_.push_back({o.venue, o.account, key, trade, type, {}, at});
  };
  order_event(-1, "NEW");
  for (std::size_t i = 0; i < o.trades.size(); ++i) order_event(static_cast<int>(i), "TRADE");
  if (o.status == "EXPIRED" || o.status == "CANCELED") order_event(-1, o.status.c_str());
  if (o.executed > 0) {
    std::vector<std::string> assets{market_.specs()[o.symbol].base,
                                    std::string(venues::quote_asset(o.venue))};
    if (o.fee_bnb > 0) assets.emplace_back("BNB");
    private_.push_back({o.venue, o.account, {}, -1, {}, std::move(assets), at});
  }
}

std::string BinanceRest::binance_order_json(const SimOrder& o, bool full) const {
  std::string out = R"({"symbol":")" + market_.market_name(venues::kBinance, o.symbol) +
                    R"(","orderId":)" + o.venue_id +
                    R"(,"orderListId":-1,"clientOrderId":")" + o.client_id +
                    R"(","transactTime":)" + std::to_string(o.time_ms) + R"(,"price":")" +
                    dec8(o.price) + R"(","origQty":")" + dec8(o.qty) + R"(","executedQty":")" +
                    dec8(o.executed) + R"(","cummulativeQuoteQty":")" +
                    dec8(static_cast<std::int64_t>(o.notional_e16 / kOne)) + R"(","status":")" +
                    o.status + R"(","timeInForce":")" + o.tif + R"(","type":")" + o.type +
                    R"(","side":")" + (o.buy ? "BUY" : "SELL") + R"(","workingTime":)" +
                    std::to_string(o.time_ms) + R"(,"selfTradePreventionMode":"NONE")";
  if (full) {
    out += R"(,"fills":[)";
    for (std::size_t i = 0; i < o.trades.size(); ++i) {
      const Trade& t = o.trades[i];
      if (i > 0) out += ",";
      out += R"({"price":")" + dec8(t.price) + R"(","qty":")" + dec8(t.qty) + R"(",)" +
             commission_json(o, t) + R"(,"tradeId":)" + std::to_string(t.id) + "}";
    }
    out += "]";
  }
  return out + "}";
}

// The weight and order counts Binance sends with a signed endpoint's answer.
HttpResult& BinanceRest::binance_weights(HttpResult& res, const AccountSpec& account) {
  const Limiter& l = limiters_[std::string("binance:") + account.key];
  res.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(l.weight_times.size()));
  res.headers.emplace_back("X-MBX-ORDER-COUNT-10S", std::to_string(l.order_times.size()));
  res.headers.emplace_back("X-MBX-ORDER-COUNT-1D", std::to_string(l.order_times.size()));
  return res;
}

// The router: public endpoints limited per IP, then signed ones (authenticated, limited per
// account) by path and method.
HttpResult BinanceRest::handle(const HttpRequest& r, Touched& touched) {
  const std::string path = r.path();
  const std::string query = r.query();
  HttpResult limit_error;
  const std::string ip_key = "ip";  // public endpoints are limited per IP: one client here
  if (path == "/api/v3/ping") return answer(200, "{}");
  if (path == "/api/v3/time") {
    if (!admit(venues::kBinance, ip_key, 1, false, limit_error)) return limit_error;
    return answer(200, R"({"serverTime":)" + std::to_string(now_ms()) + "}");
  }
  if (path == "/api/v3/exchangeInfo") {
    if (!admit(venues::kBinance, ip_key, 20, false, limit_error)) return limit_error;
    return answer(200, exchange_info());
  }
  if (path == "/api/v3/depth") {
    const auto p = params_of(query);
    const auto sym = p.find("symbol");
    const int i = sym == p.end() ? -1 : find_symbol(venues::kBinance, sym->second);
    if (i < 0) return binance_error(400, -1121, "Invalid symbol.");
    const auto lim = p.find("limit");
    const std::size_t n =
        lim == p.end() ? 100 : std::min<std::size_t>(std::stoul(lim->second), 5000);
    if (!admit(venues::kBinance, ip_key, n <= 100 ? 5 : n <= 500 ? 25 : 50, false, limit_error)) {
      return limit_error;
    }
    const SimBook& b = market_.book(venues::kBinance, static_cast<std::size_t>(i));
    return answer(200, R"({"lastUpdateId":)" + std::to_string(b.update_id) + R"(,"bids":)" +
                           levels(b.bids, true, n) + R"(,"asks":)" + levels(b.asks, false, n) +
                           "}");
  }
  // Signed endpoints: parameters in the query string and/or the body.
  const std::string all = query + r.body;
  AccountSpec* account = nullptr;
  HttpResult error;
  if (!binance_auth(r, all, account, error)) return error;
  const auto p = params_of(all);
  const bool order_post = path == "/api/v3/order" && r.method == "POST";
  if (!admit(venues::kBinance, account->key, order_post ? 1 : 4, order_post, limit_error)) {
    return limit_error;
  }
  if (path == "/ws-api/v3/userDataStream.subscribe.signature") {
    HttpResult res = answer(200, "{}");  // the connection's front end numbers the subscription
    return binance_weights(res, *account);
  }
  if (path == "/api/v3/account" && r.method == "GET") return binance_account(*account);
  if (path == "/api/v3/openOrders" && (r.method == "GET" || r.method == "DELETE")) {
    return binance_open_orders(r, p, *account);
  }
  if (path == "/api/v3/myTrades" && r.method == "GET") return binance_my_trades(p, *account);
  if (path != "/api/v3/order") return binance_error(404, -1000, "Unknown endpoint.");
  const int i = find_symbol(venues::kBinance, param(p, "symbol"));
  if (i < 0) return binance_error(400, -1121, "Invalid symbol.");
  if (r.method == "GET" || r.method == "DELETE") return binance_lookup(r, p, *account, i);
  if (r.method != "POST") return binance_error(405, -1000, "Method not allowed.");
  return binance_place(p, *account, i, touched);
}

HttpResult BinanceRest::binance_account(AccountSpec& account) {
  std::string list;
  for (const auto& [asset, free] : account.balances) {
    if (!list.empty()) list += ",";
    list +=
        R"({"asset":")" + asset + R"(","free":")" + dec8(free) + R"(","locked":"0.00000000"})";
  }
  HttpResult res =
      answer(200, R"({"makerCommission":10,"takerCommission":10,"canTrade":true,)"
                  R"("canWithdraw":false,"canDeposit":false,"accountType":"SPOT","balances":[)" +
                      list + R"(],"permissions":["SPOT"]})");
  return binance_weights(res, account);
}

// Open orders (GET), or all of them cancelled (DELETE).
HttpResult BinanceRest::binance_open_orders(const HttpRequest& r, const Params& p, AccountSpec& account) {
  const std::string symbol = param(p, "symbol");
  std::string list;
  for (auto& [k, o] : orders_) {
    if (o.venue != venues::kBinance || o.account != account.key) continue;
    if (o.status != "NEW" && o.status != "PARTIALLY_FILLED") continue;
    if (!symbol.empty() && market_.market_name(venues::kBinance, o.symbol) != symbol) continue;
    if (r.method == "DELETE") {
      o.status = "CANCELED";
      private_.push_back({o.venue, o.account, k, -1, "CANCELED", {}, now_ms()});
    }
    if (!list.empty()) list += ",";
    list += binance_order_json(o, false);
  }
  HttpResult res = answer(200, "[" + list + "]");
  return binance_weights(res, account);
}

// One order's trades (orderId requires the symbol), as Binance lists them.
HttpResult BinanceRest::binance_my_trades(const Params& p, AccountSpec& account) {
  const int i = find_symbol(venues::kBinance, param(p, "symbol"));
  if (i < 0) return binance_error(400, -1121, "Invalid symbol.");
  const std::string order_id = param(p, "orderId");
  std::string list;
  for (const auto& [k, o] : orders_) {
    if (o.venue != venues::kBinance || o.account != account.key ||
        o.symbol != static_cast<std::size_t>(i) || !visible(o) ||
        (!order_id.empty() && o.venue_id != order_id)) {
      continue;
    }
    for (const Trade& t : o.trades) {
      if (!list.empty()) list += ",";
      list += R"({"symbol":")" + market_.market_name(venues::kBinance, o.symbol) + R"(","id":)" +
              std::to_string(t.id) + R"(,"orderId":)" + o.venue_id +
              R"(,"orderListId":-1,"price":")" + dec8(t.price) + R"(","qty":")" + dec8(t.qty) +
              R"(","quoteQty":")" +
              dec8(static_cast<std::int64_t>(static_cast<Int128>(t.price) * t.qty / kOne)) +
              R"(",)" + commission_json(o, t) + R"(,"time":)" + std::to_string(o.time_ms) +
              R"(,"isBuyer":)" + (o.buy ? "true" : "false") +
              R"(,"isMaker":false,"isBestMatch":true})";
    }
  }
  HttpResult res = answer(200, "[" + list + "]");
  return binance_weights(res, account);
}

// By client id (origClientOrderId) or by the venue's id (orderId), as Binance accepts either.
HttpResult BinanceRest::binance_lookup(const HttpRequest& r, const Params& p, AccountSpec& account,
                                    int i) {
  const std::string id = param(p, "origClientOrderId");
  const std::string order_id = param(p, "orderId");
  if (id.empty() && order_id.empty()) {
    return binance_error(400, -1102,
                         "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                         "empty/null!");
  }
  auto it = orders_.end();
  if (!id.empty()) {
    // The symbol is part of the lookup: another symbol's order under this id is not found.
    it = orders_.find("binance:" + account.key + ":" + id);
    if (it != orders_.end() &&
        (it->second.symbol != static_cast<std::size_t>(i) || !visible(it->second))) {
      it = orders_.end();
    }
  } else {
    for (auto o = orders_.begin(); o != orders_.end(); ++o) {
      if (o->second.venue == venues::kBinance && o->second.account == account.key &&
          o->second.venue_id == order_id && o->second.symbol == static_cast<std::size_t>(i) &&
          visible(o->second)) {
        it = o;
        break;
      }
    }
  }
  if (it == orders_.end()) {
    return r.method == "GET" ? binance_error(400, -2013, "Order does not exist.")
                             : binance_error(400, -2011, "Unknown order sent.");
  }
  SimOrder& o = it->second;
  if (r.method == "DELETE") {
    if (o.status != "NEW" && o.status != "PARTIALLY_FILLED") {
      return binance_error(400, -2011, "Unknown order sent.");
    }
    o.status = "CANCELED";
    private_.push_back({o.venue, o.account, it->first, -1, "CANCELED", {}, now_ms()});
    // As Binance answers a cancel: the order's id as origClientOrderId, and clientOrderId is
    // the cancel request's own (newClientOrderId, or one the venue makes up).
    std::string cancel_id = param(p, "newClientOrderId");
    if (cancel_id.empty()) cancel_id = "simcancel" + std::to_string(next_order_id_++);
    std::string body = binance_order_json(o, false);
    const std::string own = R"("clientOrderId":")" + o.client_id + "\"";
    body.replace(body.find(own), own.size(), R"("clientOrderId":")" + cancel_id + "\"");
    const std::size_t after_symbol = body.find(',') + 1;
    body.insert(after_symbol, R"("origClientOrderId":")" + o.client_id + "\",");
    HttpResult res = answer(200, body);
    return binance_weights(res, account);
  }
  HttpResult res = answer(200, binance_order_json(o, false));
  return binance_weights(res, account);
}

// A new order: its parameters checked as Binance checks them, the filters, the balance, then
// matched.
HttpResult BinanceRest::binance_place(const Params& p, AccountSpec& account, int i,
                                   Touched& touched) {
  SimOrder o;
  o.venue = venues::kBinance;
  o.account = account.key;
  o.symbol = static_cast<std::size_t>(i);
  o.client_id = param(p, "newClientOrderId");
  if (o.client_id.empty()) o.client_id = "sim" + std::to_string(next_order_id_);
  o.venue_id = std::to_string(next_order_id_++);
  o.buy = param(p, "side") == "BUY";
  o.type = param(p, "type");
  o.tif = param(p, "timeInForce");
  o.time_ms = now_ms();
  if (param(p, "side") != "BUY" && param(p, "side") != "SELL") {
    return binance_error(400, -1102,
                         "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
  }
  if (orders_.contains("binance:" + account.key + ":" + o.client_id)) {
    return binance_error(400, -2010, "Duplicate order sent.");
  }
  const exec::InstrumentRules rules_i = rules(venues::kBinance, o.symbol);
  if (o.type == "LIMIT") {
    if (o.tif.empty())
      return binance_error(
          400, -1102,
          "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
    if (!decimal(param(p, "price"), o.price) || !decimal(param(p, "quantity"), o.qty)) {
      return binance_error(
          400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    }
    switch (exec::check_order(rules_i, Decimal::from_mantissa(o.price),
                              Decimal::from_mantissa(o.qty))) {
      case exec::RuleViolation::none:
        break;
      case exec::RuleViolation::price_tick:
      case exec::RuleViolation::price_range:
        return binance_error(400, -1013, "Filter failure: PRICE_FILTER");
      case exec::RuleViolation::notional_min:
      case exec::RuleViolation::notional_max:
        return binance_error(400, -1013, "Filter failure: NOTIONAL");
      default:
        return binance_error(400, -1013, "Filter failure: LOT_SIZE");
    }
  } else if (o.type == "MARKET") {
    o.tif = "IOC";
    if (!decimal(param(p, "quantity"), o.qty)) {
      if (!decimal(param(p, "quoteOrderQty"), o.quote_qty)) {
        return binance_error(
            400, -1102,
            "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
      }
    }
  } else {
    return binance_error(400, -1116, "Invalid orderType.");
  }
  // Balance: a buy needs the quote at the limit (or the book's worst for a market order).
  const SymbolSpec& spec = market_.specs()[o.symbol];
  const SimBook& book = market_.book(venues::kBinance, o.symbol);
  const std::int64_t ref = o.type == "LIMIT" ? o.price
                           : o.buy           ? (book.asks.empty() ? 0 : book.asks.rbegin()->first)
                                             : 0;
  const bool enough =
      o.buy ? account.balances["USDT"] >=
                  static_cast<std::int64_t>(static_cast<Int128>(ref) * o.qty / kOne + o.quote_qty)
            : account.balances[spec.base] >= o.qty;
  if (!enough || (faults_.reject_share > 0.0 && roll() < faults_.reject_share)) {
    if (enough) ++stats_.faults;
    ++stats_.orders_by_outcome["REJECTED"];
    HttpResult res =
        binance_error(400, -2010, "Account has insufficient balance for requested action.");
    return binance_weights(res, account);
  }
  match(o, account, touched);
  ++stats_.orders_by_outcome[o.status];
  const std::string key = "binance:" + account.key + ":" + o.client_id;
  orders_[key] = o;
  HttpResult res = answer(200, binance_order_json(o, param(p, "newOrderRespType") != "ACK" &&
                                                         param(p, "newOrderRespType") != "RESULT"));
  lose_answer(orders_[key], res);
  binance_order_events(key);
  return binance_weights(res, account);
}

std::unique_ptr<RestFront> make_binance_rest(Exchange& exchange) {
  return std::make_unique<BinanceRest>(exchange);
}

}  // namespace xarb::sim
