// The two REST front ends of the simulator's exchange: Binance's and Upbit's endpoints, their
// authentication, and their answers in the documented shapes.

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <simdjson.h>

#include <xarb/exec/signing.hpp>
#include <xarb/sim/auth.hpp>
#include <xarb/sim/exchange.hpp>
#include <xarb/venues/registry.hpp>

#include "text.hpp"

namespace xarb::sim {

using namespace text;  // NOLINT(google-build-using-namespace): this file is the helpers' user

// ---------------------------------------------------------------------------------------------
// Binance

bool Exchange::binance_auth(const HttpRequest& r, const std::string& all, AccountSpec*& account,
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

// "commission":"...","commissionAsset":"..." of one Binance trade.
std::string Exchange::commission_json(const SimOrder& o, const Trade& t) const {
  const std::string asset = t.fee_bnb > 0    ? std::string("BNB")
                            : t.fee_base > 0 ? market_.specs()[o.symbol].base
                                             : std::string(venues::quote_asset(o.venue));
  return R"("commission":")" + dec8(t.fee_bnb > 0 ? t.fee_bnb : t.fee_base > 0 ? t.fee_base : t.fee) +
         R"(","commissionAsset":")" + asset + "\"";
}

std::string Exchange::binance_order_json(const SimOrder& o, bool full) const {
  const SymbolSpec& s = market_.specs()[o.symbol];
  std::string out = R"({"symbol":")" + s.binance_symbol + R"(","orderId":)" + o.venue_id +
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

HttpResult Exchange::binance(const HttpRequest& r,
                             std::vector<std::pair<Venue, std::size_t>>& touched) {
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
  const auto get = [&](const char* k) {
    const auto it = p.find(k);
    return it == p.end() ? std::string() : it->second;
  };
  const bool order_post = path == "/api/v3/order" && r.method == "POST";
  if (!admit(venues::kBinance, account->key, order_post ? 1 : 4, order_post, limit_error)) {
    return limit_error;
  }
  const auto headers = [&](HttpResult& res) {
    const Limiter& l = limiters_[std::string("binance:") + account->key];
    res.headers.emplace_back("X-MBX-USED-WEIGHT-1M", std::to_string(l.weight_times.size()));
    res.headers.emplace_back("X-MBX-ORDER-COUNT-10S", std::to_string(l.order_times.size()));
    res.headers.emplace_back("X-MBX-ORDER-COUNT-1D", std::to_string(l.order_times.size()));
    return res;
  };
  if (path == "/api/v3/account" && r.method == "GET") {
    std::string list;
    for (const auto& [asset, free] : account->balances) {
      if (!list.empty()) list += ",";
      list +=
          R"({"asset":")" + asset + R"(","free":")" + dec8(free) + R"(","locked":"0.00000000"})";
    }
    HttpResult res =
        answer(200, R"({"makerCommission":10,"takerCommission":10,"canTrade":true,)"
                    R"("canWithdraw":false,"canDeposit":false,"accountType":"SPOT","balances":[)" +
                        list + R"(],"permissions":["SPOT"]})");
    return headers(res);
  }
  if (path == "/api/v3/openOrders" && (r.method == "GET" || r.method == "DELETE")) {
    const std::string symbol = get("symbol");
    std::string list;
    for (auto& [k, o] : orders_) {
      if (o.venue != venues::kBinance || o.account != account->key) continue;
      if (o.status != "NEW" && o.status != "PARTIALLY_FILLED") continue;
      if (!symbol.empty() && market_.specs()[o.symbol].binance_symbol != symbol) continue;
      if (r.method == "DELETE") o.status = "CANCELED";
      if (!list.empty()) list += ",";
      list += binance_order_json(o, false);
    }
    HttpResult res = answer(200, "[" + list + "]");
    return headers(res);
  }
  if (path == "/api/v3/myTrades" && r.method == "GET") {
    // One order's trades (orderId requires the symbol), as Binance lists them.
    const int i = find_symbol(venues::kBinance, get("symbol"));
    if (i < 0) return binance_error(400, -1121, "Invalid symbol.");
    const std::string order_id = get("orderId");
    std::string list;
    for (const auto& [k, o] : orders_) {
      if (o.venue != venues::kBinance || o.account != account->key ||
          o.symbol != static_cast<std::size_t>(i) || !visible(o) ||
          (!order_id.empty() && o.venue_id != order_id)) {
        continue;
      }
      for (const Trade& t : o.trades) {
        if (!list.empty()) list += ",";
        list += R"({"symbol":")" + market_.specs()[o.symbol].binance_symbol + R"(","id":)" +
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
    return headers(res);
  }
  if (path != "/api/v3/order") return binance_error(404, -1000, "Unknown endpoint.");
  const int i = find_symbol(venues::kBinance, get("symbol"));
  if (i < 0) return binance_error(400, -1121, "Invalid symbol.");
  if (r.method == "GET" || r.method == "DELETE") {
    // By client id (origClientOrderId) or by the venue's id (orderId), as Binance accepts either.
    const std::string id = get("origClientOrderId");
    const std::string order_id = get("orderId");
    if (id.empty() && order_id.empty()) {
      return binance_error(400, -1102,
                           "Param 'origClientOrderId' or 'orderId' must be sent, but both were "
                           "empty/null!");
    }
    auto it = orders_.end();
    if (!id.empty()) {
      // The symbol is part of the lookup: another symbol's order under this id is not found.
      it = orders_.find("binance:" + account->key + ":" + id);
      if (it != orders_.end() &&
          (it->second.symbol != static_cast<std::size_t>(i) || !visible(it->second))) {
        it = orders_.end();
      }
    } else {
      for (auto o = orders_.begin(); o != orders_.end(); ++o) {
        if (o->second.venue == venues::kBinance && o->second.account == account->key &&
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
      // As Binance answers a cancel: the order's id as origClientOrderId, and clientOrderId is
      // the cancel request's own (newClientOrderId, or one the venue makes up).
      std::string cancel_id = get("newClientOrderId");
      if (cancel_id.empty()) cancel_id = "simcancel" + std::to_string(next_order_id_++);
      std::string body = binance_order_json(o, false);
      const std::string own = R"("clientOrderId":")" + o.client_id + "\"";
      body.replace(body.find(own), own.size(), R"("clientOrderId":")" + cancel_id + "\"");
      const std::size_t after_symbol = body.find(',') + 1;
      body.insert(after_symbol, R"("origClientOrderId":")" + o.client_id + "\",");
      HttpResult res = answer(200, body);
      return headers(res);
    }
    HttpResult res = answer(200, binance_order_json(o, false));
    return headers(res);
  }
  if (r.method != "POST") return binance_error(405, -1000, "Method not allowed.");
  // New order.
  SimOrder o;
  o.venue = venues::kBinance;
  o.account = account->key;
  o.symbol = static_cast<std::size_t>(i);
  o.client_id = get("newClientOrderId");
  if (o.client_id.empty()) o.client_id = "sim" + std::to_string(next_order_id_);
  o.venue_id = std::to_string(next_order_id_++);
  o.buy = get("side") == "BUY";
  o.type = get("type");
  o.tif = get("timeInForce");
  o.time_ms = now_ms();
  if (get("side") != "BUY" && get("side") != "SELL") {
    return binance_error(400, -1102,
                         "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
  }
  if (orders_.contains("binance:" + account->key + ":" + o.client_id)) {
    return binance_error(400, -2010, "Duplicate order sent.");
  }
  const exec::InstrumentRules rules_i = rules(venues::kBinance, o.symbol);
  if (o.type == "LIMIT") {
    if (o.tif.empty())
      return binance_error(
          400, -1102,
          "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
    if (!decimal(get("price"), o.price) || !decimal(get("quantity"), o.qty)) {
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
    if (!decimal(get("quantity"), o.qty)) {
      if (!decimal(get("quoteOrderQty"), o.quote_qty)) {
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
      o.buy ? account->balances["USDT"] >=
                  static_cast<std::int64_t>(static_cast<Int128>(ref) * o.qty / kOne + o.quote_qty)
            : account->balances[spec.base] >= o.qty;
  if (!enough || (faults_.reject_share > 0.0 && roll() < faults_.reject_share)) {
    if (enough) ++stats_.faults;
    ++stats_.orders_by_outcome["REJECTED"];
    HttpResult res =
        binance_error(400, -2010, "Account has insufficient balance for requested action.");
    return headers(res);
  }
  match(o, *account, touched);
  ++stats_.orders_by_outcome[o.status];
  const std::string key = "binance:" + account->key + ":" + o.client_id;
  orders_[key] = o;
  HttpResult res = answer(200, binance_order_json(o, get("newOrderRespType") != "ACK" &&
                                                         get("newOrderRespType") != "RESULT"));
  lose_answer(orders_[key], res);
  return headers(res);
}

// ---------------------------------------------------------------------------------------------
// Upbit and Bithumb

bool Exchange::krw_auth(Venue v, const HttpRequest& r, AccountSpec*& account, HttpResult& error) {
  account = nullptr;
  const UpbitAuth auth = verify_upbit(r.header("authorization"), url_decode(r.query()), r.body,
                                      [&](std::string_view access) {
                                        for (AccountSpec& a : accounts_) {
                                          if (a.venue == v && a.key == access) {
                                            account = &a;
                                            return a.secret;
                                          }
                                        }
                                        return std::string();
                                      });
  std::string name = auth.error;
  // Bithumb's token carries its time: required, and stale after a minute (the window is not
  // documented; a token from another minute is refused here as expired).
  if (name.empty() && v == venues::kBithumb &&
      (auth.timestamp_ms < 0 || std::llabs(auth.timestamp_ms - now_ms()) > 60'000)) {
    name = auth.timestamp_ms < 0 ? "jwt_verification" : "expired_jwt";
  }
  if (name.empty() && !nonces_.insert(auth.access_key + ":" + auth.nonce).second)
    name = "nonce_used";
  if (name.empty()) return true;
  ++stats_.auth_failures;
  account = nullptr;
  error = upbit_error(401, name,
                      name == "nonce_used" ? "This nonce was used before."
                                           : "The request's authentication failed.");
  return false;
}

// Upbit states: wait (working), done (fully executed), cancel (the rest cancelled). Bithumb: an
// order whose rest its time in force cancelled (IOC) is `done` once anything executed.
std::string_view Exchange::upbit_state(const SimOrder& o) {
  if (o.status == "NEW" || o.status == "PARTIALLY_FILLED") return "wait";
  if (o.status == "FILLED") return "done";
  return o.venue == venues::kBithumb && o.status == "EXPIRED" && o.executed > 0 ? "done" : "cancel";
}

std::string Exchange::upbit_order_json(const SimOrder& o, bool with_trades) const {
  const bool fx = o.symbol == market_.specs().size();
  const std::string market = fx ? "KRW-USDT" : market_.market_name(o.venue, o.symbol);
  const bool bithumb = o.venue == venues::kBithumb;
  const bool tif_cancelled = o.status == "EXPIRED";
  const std::string_view state = upbit_state(o);
  std::int64_t funds = 0;  // what the trades cost or brought, each truncated as its line is
  for (const Trade& t : o.trades) {
    funds += static_cast<std::int64_t>(static_cast<Int128>(t.price) * t.qty / kOne);
  }
  std::string out =
      R"({"uuid":")" + o.venue_id + R"(","side":")" + (o.buy ? "bid" : "ask") +
      R"(","ord_type":")" + o.type + R"(","price":")" + dec8(o.price) + R"(","state":")" +
      std::string(state) + R"(","market":")" + market +
      R"(","created_at":"2026-01-01T00:00:00+09:00","volume":")" + dec8(o.qty) +
      R"(","remaining_volume":")" + dec8(std::max<std::int64_t>(o.qty - o.executed, 0)) +
      R"(","reserved_fee":"0","remaining_fee":"0","paid_fee":")" + dec8(o.fee) +
      R"(","locked":"0","executed_volume":")" + dec8(o.executed) + R"(","executed_funds":")" +
      dec8(funds) + R"(","trades_count":)" + std::to_string(o.trades.size()) +
      (bithumb ? R"(,"client_order_id":")" : R"(,"identifier":")") + o.client_id + "\"";
  if (!o.tif.empty()) out += R"(,"time_in_force":")" + o.tif + "\"";
  if (bithumb && tif_cancelled) out += R"(,"cancel_type":"tif_cancel")";
  if (with_trades) {
    out += R"(,"trades":[)";
    for (std::size_t i = 0; i < o.trades.size(); ++i) {
      const Trade& t = o.trades[i];
      if (i > 0) out += ",";
      out += R"({"market":")" + market + R"(","uuid":")" + o.venue_id + "-" + std::to_string(i) +
             R"(","price":")" + dec8(t.price) + R"(","volume":")" + dec8(t.qty) + R"(","funds":")" +
             dec8(static_cast<std::int64_t>(static_cast<Int128>(t.price) * t.qty / kOne)) +
             R"(","side":")" + (o.buy ? "bid" : "ask") + R"("})";
    }
    out += "]";
  }
  return out + "}";
}

HttpResult Exchange::krw(Venue v, const HttpRequest& r,
                         std::vector<std::pair<Venue, std::size_t>>& touched) {
  const bool bithumb = v == venues::kBithumb;
  const std::string name(to_string(v));
  const std::string path = r.path();
  const auto q = params_of(r.query());
  HttpResult limit_error;
  const auto remaining = [&](HttpResult& res, const std::string& group, const std::string& key) {
    if (bithumb) return res;  // Bithumb documents no remaining-count header
    const bool orders = group == "order";
    const Limiter& l = limiters_["upbit:" + key + (orders ? ":order" : "")];
    const std::int64_t limit =
        orders ? limits_.upbit_requests_per_second : limits_.upbit_default_per_second;
    const std::int64_t left =
        std::max<std::int64_t>(limit - static_cast<std::int64_t>(l.weight_times.size()), 0);
    res.headers.emplace_back("Remaining-Req",
                             "group=" + group + "; min=1800; sec=" + std::to_string(left));
    return res;
  };
  // Public.
  if (path == "/v1/market/all") {
    std::string list;
    for (std::size_t i = 0; i < market_.specs().size(); ++i) {
      const std::string& m = market_.market_name(v, i);
      if (m.empty()) continue;
      if (!list.empty()) list += ",";
      list += R"({"market":")" + m + R"(","korean_name":")" + market_.specs()[i].base +
              R"(","english_name":")" + market_.specs()[i].base + R"("})";
    }
    if (!bithumb) list += R"(,{"market":"KRW-USDT","korean_name":"테더","english_name":"Tether"})";
    HttpResult res = answer(200, "[" + list + "]");
    return remaining(res, "market", "ip");
  }
  if (path == "/v1/orderbook" || (path == "/v1/orderbook/instruments" && !bithumb)) {
    const auto it = q.find("markets");
    if (it == q.end()) return upbit_error(400, "validation_error", "markets is required.");
    std::string list;
    for (const std::string& m : split_csv(it->second)) {
      const int i = find_symbol(v, m);
      if (i < 0) return upbit_error(404, "not_found", "Code not found: " + m);
      const bool fx = static_cast<std::size_t>(i) == market_.specs().size();
      SimBook& b = fx ? market_.fx_book() : market_.book(v, static_cast<std::size_t>(i));
      if (!list.empty()) list += ",";
      if (path == "/v1/orderbook/instruments") {
        const std::int64_t best = b.bids.empty() ? 0 : b.bids.rbegin()->first;
        const Decimal tick = fx ? Decimal::from_mantissa(kOne / 2)
                                : exec::upbit_krw_tick(Decimal::from_mantissa(best));
        list += R"({"market":")" + m + R"(","quote_currency":"KRW","tick_size":")" +
                dec8(tick.mantissa()) + R"(","supported_levels":["0"]})";
        continue;
      }
      std::string units;
      double tas = 0, tbs = 0;
      auto bit = b.bids.rbegin();
      auto ait = b.asks.begin();
      for (int k = 0; k < 30 && bit != b.bids.rend() && ait != b.asks.end(); ++k, ++bit, ++ait) {
        if (k > 0) units += ",";
        units += R"({"ask_price":)" + dec8(ait->first) + R"(,"bid_price":)" + dec8(bit->first) +
                 R"(,"ask_size":)" + dec8(ait->second) + R"(,"bid_size":)" + dec8(bit->second) +
                 "}";
        tas += static_cast<double>(ait->second) / kOne;
        tbs += static_cast<double>(bit->second) / kOne;
      }
      char totals[96];
      std::snprintf(totals, sizeof totals, R"("total_ask_size":%.8f,"total_bid_size":%.8f)", tas,
                    tbs);
      list += R"({"market":")" + m + R"(","timestamp":)" + std::to_string(b.time_ms) + "," +
              totals + R"(,"orderbook_units":[)" + units + R"(],"level":0})";
    }
    HttpResult res = answer(200, "[" + list + "]");
    return remaining(res, "orderbook", "ip");
  }
  // Private.
  AccountSpec* account = nullptr;
  HttpResult error;
  if (!krw_auth(v, r, account, error)) return error;
  const bool order_post = path == (bithumb ? "/v2/orders" : "/v1/orders") && r.method == "POST";
  if (!admit(v, account->key + (order_post ? ":order" : ""), 1, order_post, limit_error)) {
    return limit_error;
  }
  const std::string group = order_post ? "order" : "default";
  if (path == "/v1/accounts") {
    std::string list;
    for (const auto& [cur, bal] : account->balances) {
      if (!list.empty()) list += ",";
      list +=
          R"({"currency":")" + cur + R"(","balance":")" + dec8(bal) +
          R"(","locked":"0","avg_buy_price":"0","avg_buy_price_modified":false,"unit_currency":"KRW"})";
    }
    HttpResult res = answer(200, "[" + list + "]");
    return remaining(res, group, account->key);
  }
  if (path == "/v1/orders/chance") {
    const auto it = q.find("market");
    const int i = it == q.end() ? -1 : find_symbol(v, it->second);
    if (i < 0) return upbit_error(404, "not_found", "market not found");
    const bool fx = static_cast<std::size_t>(i) == market_.specs().size();
    const std::string base = fx ? "USDT" : market_.specs()[static_cast<std::size_t>(i)].base;
    const double fee = fee_bps_[index(v)] * 1e-4;
    char fees[64];
    std::snprintf(fees, sizeof fees, "%.4f", fee);
    HttpResult res = answer(
        200,
        R"({"bid_fee":")" + std::string(fees) + R"(","ask_fee":")" + fees +
            R"(","market":{"id":")" + it->second + R"(","name":")" + base +
            R"(/KRW","order_types":["limit"],"order_sides":["ask","bid"],"bid":{"currency":"KRW","min_total":"5000"},"ask":{"currency":")" +
            base + R"(","min_total":"5000"},"max_total":"1000000000","state":"active"},)" +
            R"("bid_account":{"currency":"KRW","balance":")" + dec8(account->balances["KRW"]) +
            R"(","locked":"0"},"ask_account":{"currency":")" + base + R"(","balance":")" +
            dec8(account->balances[base]) + R"(","locked":"0"}})");
    return remaining(res, group, account->key);
  }
  // Lists: open orders (Upbit /v1/orders/open, Bithumb /v2/orders/pending), and Bithumb's v1
  // list by state (`state=wait|watch|done|cancel`, default wait), an array as Upbit's was.
  const bool open_list =
      path == (bithumb ? "/v2/orders/pending" : "/v1/orders/open") && r.method == "GET";
  const bool state_list = bithumb && path == "/v1/orders" && r.method == "GET";
  if (open_list || state_list) {
    const auto it = q.find("market");
    const std::string wanted = state_list && q.contains("state") ? q.at("state") : "wait";
    if (wanted != "wait" && wanted != "watch" && wanted != "done" && wanted != "cancel") {
      return upbit_error(400, "invalid_parameter", "state is invalid.");
    }
    std::string list;
    for (auto& [k, o] : orders_) {
      if (o.venue != v || o.account != account->key || !visible(o)) continue;
      const std::string_view state = upbit_state(o);
      if (state != (wanted == "watch" ? "wait" : wanted)) continue;
      if (it != q.end() && find_symbol(v, it->second) != static_cast<int>(o.symbol)) continue;
      if (!list.empty()) list += ",";
      list += upbit_order_json(o, false);
    }
    HttpResult res = answer(
        200, bithumb && open_list ? R"({"data":[)" + list + R"(],"has_next":false,"next_key":null})"
                                  : "[" + list + "]");
    return remaining(res, group, account->key);
  }
  // Look-ups: GET /v1/order on both; cancels: DELETE /v1/order (Upbit), /v2/order (Bithumb).
  const bool get_order = path == "/v1/order" && r.method == "GET";
  const bool cancel_order = path == (bithumb ? "/v2/order" : "/v1/order") && r.method == "DELETE";
  if (get_order || cancel_order) {
    const char* id_key = bithumb ? "client_order_id" : "identifier";
    const char* venue_key = bithumb && cancel_order ? "order_id" : "uuid";
    SimOrder* found = nullptr;
    for (auto& [k, o] : orders_) {
      if (o.venue != v || o.account != account->key || !visible(o)) continue;
      if ((q.contains(venue_key) && o.venue_id == q.at(venue_key)) ||
          (q.contains(id_key) && o.client_id == q.at(id_key))) {
        found = &o;
      }
    }
    if (found == nullptr) return upbit_error(404, "order_not_found", "주문을 찾지 못했습니다.");
    if (cancel_order) {
      if (found->status != "NEW" && found->status != "PARTIALLY_FILLED") {
        return upbit_error(400, "order_not_found", "취소할 수 없는 주문입니다.");
      }
      found->status = "CANCELED";
      if (bithumb) {
        HttpResult res = answer(200, R"({"order_id":")" + found->venue_id +
                                         R"(","created_at":"2026-01-01T00:00:00+09:00"})");
        return remaining(res, group, account->key);
      }
    }
    HttpResult res = answer(200, upbit_order_json(*found, get_order));
    return remaining(res, group, account->key);
  }
  if (!order_post) return upbit_error(404, "not_found", "Not found.");
  simdjson::dom::parser bp;
  simdjson::dom::element body;
  if (bp.parse(r.body).get(body) != simdjson::SUCCESS) {
    return upbit_error(400, "validation_error", "The body is not JSON.");
  }
  const auto field = [&](const char* k) {
    std::string_view sv;
    return body[k].get(sv) == simdjson::SUCCESS ? std::string(sv) : std::string();
  };
  // Bithumb's names for the same fields, and its one name for a bad parameter.
  const std::string invalid = bithumb ? "invalid_parameter" : "validation_error";
  SimOrder o;
  o.venue = v;
  o.account = account->key;
  const int i = find_symbol(v, field("market"));
  if (i < 0) return upbit_error(400, invalid, "market is invalid.");
  o.symbol = static_cast<std::size_t>(i);
  const std::string side = field("side");
  if (side != "bid" && side != "ask") return upbit_error(400, invalid, "side is invalid.");
  o.buy = side == "bid";
  o.type = field(bithumb ? "order_type" : "ord_type");
  o.tif = field("time_in_force");
  o.client_id = field(bithumb ? "client_order_id" : "identifier");
  o.time_ms = now_ms();
  o.venue_id = bithumb ? "C01010000" + std::to_string(1'000'000'000 + next_order_id_++)
                       : "sim-" + std::to_string(next_order_id_++) + "-0000-4000-8000-000000000000";
  if (bithumb &&
      (o.client_id.size() > 36 ||
       o.client_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_-") != std::string::npos)) {
    return upbit_error(400, invalid, "client_order_id must be 1-36 of [A-Za-z0-9_-].");
  }
  if (!o.client_id.empty()) {
    for (const auto& [k, x] : orders_) {
      if (x.venue == v && x.account == account->key && x.client_id == o.client_id) {
        return upbit_error(400, bithumb ? "duplicate_client_order_id" : "duplicate_identifier",
                           "the client id is already used.");
      }
    }
  } else {
    o.client_id = o.venue_id;
  }
  const bool fx = o.symbol == market_.specs().size();
  const std::string base = fx ? "USDT" : market_.specs()[o.symbol].base;
  const std::string err_side = o.buy ? "bid" : "ask";
  if (o.type == "limit") {
    if (!decimal(field("price"), o.price) || !decimal(field("volume"), o.qty)) {
      return upbit_error(400, invalid, "price and volume are required.");
    }
    switch (exec::check_order(rules(v, o.symbol), Decimal::from_mantissa(o.price),
                              Decimal::from_mantissa(o.qty))) {
      case exec::RuleViolation::none:
        break;
      case exec::RuleViolation::notional_min:
        return upbit_error(400, (bithumb ? "under_price_limit_" : "under_min_total_") + err_side,
                           "최소주문금액 이상으로 주문해주세요.");
      case exec::RuleViolation::qty_step:
      case exec::RuleViolation::qty_min:
      case exec::RuleViolation::qty_max:
        return upbit_error(400, invalid, "volume is invalid.");
      default:
        return upbit_error(400, "invalid_price_" + err_side,
                           "주문 가격 단위를 잘못 입력하셨습니다.");
    }
  } else if (o.type == "price" && o.buy) {
    if (!decimal(field("price"), o.quote_qty))
      return upbit_error(400, "validation_error", "price is required.");
  } else if (o.type == "market" && !o.buy) {
    if (!decimal(field("volume"), o.qty))
      return upbit_error(400, "validation_error", "volume is required.");
  } else if (o.type == "best") {
    if (o.tif != "ioc" && o.tif != "fok")
      return upbit_error(400, "validation_error", "best needs ioc or fok.");
    if (o.buy ? !decimal(field("price"), o.quote_qty) : !decimal(field("volume"), o.qty)) {
      return upbit_error(400, "validation_error", "price or volume is required.");
    }
  } else {
    return upbit_error(400, invalid, "the order type is invalid.");
  }
  const std::int64_t need =
      o.buy ? (o.type == "limit"
                   ? static_cast<std::int64_t>(static_cast<Int128>(o.price) * o.qty / kOne)
                   : o.quote_qty)
            : o.qty;
  const bool enough = account->balances[o.buy ? "KRW" : base] >= need;
  if (!enough || (faults_.reject_share > 0.0 && roll() < faults_.reject_share)) {
    if (enough) ++stats_.faults;
    ++stats_.orders_by_outcome["REJECTED"];
    return upbit_error(400, "insufficient_funds_" + err_side, "주문가능한 금액이 부족합니다.");
  }
  match(o, *account, touched);
  ++stats_.orders_by_outcome[o.status];
  const std::string key = name + ":" + account->key + ":" + o.client_id;
  orders_[key] = o;
  // Upbit answers as the order is taken: state wait, nothing executed yet; Bithumb with an
  // acknowledgement that has no state at all. The result is read with GET /v1/order.
  SimOrder taken = o;
  taken.status = "NEW";
  taken.executed = 0;
  taken.fee = 0;
  taken.trades.clear();
  HttpResult res = answer(201, bithumb ? R"({"order_id":")" + o.venue_id + R"(","market":")" +
                                             market_.market_name(v, o.symbol) + R"(","side":")" +
                                             side + R"(","order_type":")" + o.type +
                                             R"(","created_at":"2026-01-01T00:00:00+09:00"})"
                                       : upbit_order_json(taken, false));
  lose_answer(orders_[key], res);
  return remaining(res, group, account->key);
}

}  // namespace xarb::sim
