// The REST front end of Upbit's protocol (each venue's dialect: upbit_protocol.hpp): public
// markets and books, JWT authentication, accounts, orders, lists, look-ups and cancels, and the
// answers in each venue's documented shapes.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>

#include <simdjson.h>

#include <xarb/sim/venues/auth.hpp>
#include <xarb/sim/exchange.hpp>
#include <xarb/venues/registry.hpp>

#include "../text.hpp"
#include "upbit_protocol.hpp"
#include "registry.hpp"
#include "rest_front.hpp"

namespace xarb::sim {

using namespace text;  // NOLINT(google-build-using-namespace): this file is the helpers' user

namespace {

// An error answer in the venue's shape.
HttpResult upbit_error(int status, const std::string& name, const std::string& msg) {
  return answer(status, R"({"error":{"name":")" + name + R"(","message":")" + msg + R"("}})");
}

// Upbit's protocol's REST API in one venue's dialect `d_` (upbit_protocol.hpp): the router, its
// endpoints, its authentication and its answers.
class UpbitRest final : public RestFront {
 public:
  UpbitRest(const UpbitFront& d, Exchange& x) : RestFront(x), d_(d) {}
  HttpResult handle(const HttpRequest& r, Touched& touched) override;
  std::string stream_account(const HttpRequest& upgrade) override;

 private:
  HttpResult& upbit_remaining(const UpbitFront& d, HttpResult& res, const std::string& group,
                              const std::string& key);
  HttpResult upbit_markets(const UpbitFront& d);
  HttpResult upbit_orderbook(const UpbitFront& d, const std::string& path, const Params& q);
  HttpResult upbit_accounts(AccountSpec& account);
  HttpResult upbit_chance(const UpbitFront& d, const Params& q, AccountSpec& account);
  HttpResult upbit_list(const UpbitFront& d, const Params& q, AccountSpec& account, bool open_list);
  HttpResult upbit_lookup(const UpbitFront& d, const Params& q, AccountSpec& account,
                          bool cancel_order);
  HttpResult upbit_place(const UpbitFront& d, const HttpRequest& r, AccountSpec& account,
                         Touched& touched);
  // True when the request's token verifies as the dialect requires; else false with the error.
  bool upbit_auth(const UpbitFront& d, const HttpRequest& r, AccountSpec*& account,
                  HttpResult& error);
  // An order object (Upbit's shape, the dialect's client-id name and states).
  [[nodiscard]] std::string upbit_order_json(const UpbitFront& d, const SimOrder& o,
                                             bool with_trades) const;
  [[nodiscard]] static std::string_view upbit_state(const UpbitFront& d, const SimOrder& o);
  // The private stream's events of an order just taken and matched (orders_[key]): taken, each
  // execution, its end unless it rests; then the balances it moved.
  void upbit_order_events(const UpbitFront& d, const std::string& key);

  const UpbitFront& d_;
};

}  // namespace

bool UpbitRest::upbit_auth(const UpbitFront& d, const HttpRequest& r, AccountSpec*& account,
                        HttpResult& error) {
  account = nullptr;
  const UpbitAuth auth = verify_upbit(r.header("authorization"), url_decode(r.query()), r.body,
                                      [&](std::string_view access) {
                                        for (AccountSpec& a : accounts_) {
                                          if (a.venue == d.venue && a.key == access) {
                                            account = &a;
                                            return a.secret;
                                          }
                                        }
                                        return std::string();
                                      });
  std::string name = auth.error;
  // A token that must carry its time: required, and refused as expired out of the window.
  if (name.empty() && d.token_window_ms > 0 &&
      (auth.timestamp_ms < 0 || std::llabs(auth.timestamp_ms - now_ms()) > d.token_window_ms)) {
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

std::string UpbitRest::stream_account(const HttpRequest& upgrade) {
  AccountSpec* account = nullptr;
  HttpResult error;
  return upbit_auth(d_, upgrade, account, error) ? account->key : std::string();
}

void UpbitRest::upbit_order_events(const UpbitFront& d, const std::string& key) {
  const SimOrder& o = orders_.at(key);
  const std::int64_t at = std::max(now_ms(), o.visible_from_ms);
  const auto order_event = [&](int trade, std::string_view state) {
    private_.push_back({o.venue, o.account, key, trade, std::string(state), {}, at});
  };
  order_event(-1, "wait");
  for (std::size_t i = 0; i < o.trades.size(); ++i) order_event(static_cast<int>(i), "trade");
  if (const std::string_view state = upbit_state(d, o); state != "wait") order_event(-1, state);
  if (o.executed > 0) {
    private_.push_back({o.venue, o.account, {}, -1, {}, {"KRW", base_of(o.symbol)}, at});
  }
}

// States: wait (working), done (fully executed), cancel (the rest cancelled); with tif_done
// (Bithumb) an order whose rest its time in force cancelled is `done` once anything executed.
std::string_view UpbitRest::upbit_state(const UpbitFront& d, const SimOrder& o) {
  if (o.status == "NEW" || o.status == "PARTIALLY_FILLED") return "wait";
  if (o.status == "FILLED") return "done";
  return d.tif_done && o.status == "EXPIRED" && o.executed > 0 ? "done" : "cancel";
}

std::string UpbitRest::upbit_order_json(const UpbitFront& d, const SimOrder& o,
                                     bool with_trades) const {
  const bool fx = o.symbol == market_.specs().size();
  const std::string market = fx ? "KRW-USDT" : market_.market_name(o.venue, o.symbol);
  const bool tif_cancelled = o.status == "EXPIRED";
  const std::string_view state = upbit_state(d, o);
  std::int64_t funds = 0;  // what the trades cost or brought, each truncated as its line is
  for (const Trade& t : o.trades) {
    funds += static_cast<std::int64_t>(static_cast<Int128>(t.price) * t.qty / kOne);
  }
  std::string out =
      R"({"uuid":")" + o.venue_id + R"(","side":")" + (o.buy ? "bid" : "ask") +
      R"(","ord_type":")" + o.type + R"(","price":")" + dec8(o.price) + R"(","state":")" +
      std::string(state) + R"(","market":")" + market +
      R"(","created_at":")" + text::kst_time(o.time_ms) + R"(","volume":")" + dec8(o.qty) +
      R"(","remaining_volume":")" + dec8(std::max<std::int64_t>(o.qty - o.executed, 0)) +
      R"(","reserved_fee":"0","remaining_fee":"0","paid_fee":")" + dec8(o.fee) +
      R"(","locked":"0","executed_volume":")" + dec8(o.executed) + R"(","executed_funds":")" +
      dec8(funds) + R"(","trades_count":)" + std::to_string(o.trades.size()) + ",\"" +
      std::string(d.client_id_key) + "\":\"" + o.client_id + "\"";
  if (!o.tif.empty()) out += R"(,"time_in_force":")" + o.tif + "\"";
  if (d.tif_done && tif_cancelled) out += R"(,"cancel_type":"tif_cancel")";
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

namespace {

// An order's price and amounts by its type, checked as the venue checks them (the rules of its
// market): the error answer, or nothing when they hold.
std::optional<HttpResult> read_amounts(const UpbitFront& d, const exec::InstrumentRules& rules,
                                       const std::function<std::string(const char*)>& field,
                                       SimOrder& o) {
  const std::string invalid(d.invalid);
  const std::string err_side = o.buy ? "bid" : "ask";
  if (o.type == "limit") {
    if (!decimal(field("price"), o.price) || !decimal(field("volume"), o.qty)) {
      return upbit_error(400, invalid, "price and volume are required.");
    }
    switch (exec::check_order(rules, Decimal::from_mantissa(o.price),
                              Decimal::from_mantissa(o.qty))) {
      case exec::RuleViolation::none:
        break;
      case exec::RuleViolation::notional_min:
        return upbit_error(400, std::string(d.under_min) + err_side,
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
      return upbit_error(400, invalid, "price is required.");
  } else if (o.type == "market" && !o.buy) {
    if (!decimal(field("volume"), o.qty)) return upbit_error(400, invalid, "volume is required.");
  } else if (o.type == "best") {
    if (o.tif != "ioc" && o.tif != "fok")
      return upbit_error(400, invalid, "best needs ioc or fok.");
    if (o.buy ? !decimal(field("price"), o.quote_qty) : !decimal(field("volume"), o.qty)) {
      return upbit_error(400, invalid, "price or volume is required.");
    }
  } else {
    return upbit_error(400, invalid, "the order type is invalid.");
  }
  return std::nullopt;
}

}  // namespace

// Remaining-Req (dialects that send it): what is left of this second's budget of `group`.
HttpResult& UpbitRest::upbit_remaining(const UpbitFront& d, HttpResult& res, const std::string& group,
                                      const std::string& key) {
  if (!d.remaining_req) return res;
  // The router limits orders under "<key>:order", apart from the account's other requests.
  const bool orders = group == "order";
  const Limiter& l = limiters_[std::string(to_string(d.venue)) + ":" + key + (orders ? ":order" : "")];
  const SimVenueParams& p = venues_[index(d.venue)];
  const std::int64_t limit = orders ? p.order_limit : p.request_limit;
  const auto used = static_cast<std::int64_t>((orders ? l.order_times : l.weight_times).size());
  const std::int64_t left = std::max<std::int64_t>(limit - used, 0);
  res.headers.emplace_back("Remaining-Req",
                           "group=" + group + "; min=1800; sec=" + std::to_string(left));
  return res;
}

// The router: public market data; then authentication and the rate limit; then the account's
// endpoints at the dialect's paths. A 2xx answer carries Remaining-Req.
HttpResult UpbitRest::handle(const HttpRequest& r, Touched& touched) {
  const UpbitFront& d = d_;
  const std::string path = r.path();
  const Params q = params_of(r.query());
  if (path == "/v1/market/all") {
    HttpResult res = upbit_markets(d);
    return upbit_remaining(d, res, "market", "ip");
  }
  if (path == "/v1/orderbook" || (path == "/v1/orderbook/instruments" && d.orderbook_instruments)) {
    HttpResult res = upbit_orderbook(d, path, q);
    return res.status / 100 == 2 ? upbit_remaining(d, res, "orderbook", "ip") : res;
  }
  AccountSpec* account = nullptr;
  HttpResult error;
  if (!upbit_auth(d, r, account, error)) return error;
  const bool order_post = path == d.place_path && r.method == "POST";
  if (!admit(d.venue, account->key + (order_post ? ":order" : ""), 1, order_post, error)) {
    return error;
  }
  HttpResult res;
  if (path == "/v1/accounts") {
    res = upbit_accounts(*account);
  } else if (path == "/v1/orders/chance") {
    res = upbit_chance(d, q, *account);
  } else if ((path == d.open_path || (d.state_list && path == "/v1/orders")) && r.method == "GET") {
    // Open orders, and (state_list: Bithumb) the v1 list by state.
    res = upbit_list(d, q, *account, path == d.open_path);
  } else if ((path == "/v1/order" && r.method == "GET") ||
             (path == d.cancel_path && r.method == "DELETE")) {
    res = upbit_lookup(d, q, *account, r.method == "DELETE");
  } else if (order_post) {
    res = upbit_place(d, r, *account, touched);
  } else {
    return upbit_error(404, "not_found", "Not found.");
  }
  if (res.status / 100 != 2) return res;
  return upbit_remaining(d, res, order_post ? "order" : "default", account->key);
}

HttpResult upbit_refusal(Refusal why, std::int64_t /*unused*/) {
  return why == Refusal::unavailable
             ? upbit_error(503, "server_error", "Service unavailable.")
             : upbit_error(429, "too_many_requests", "Too many API requests.");
}

bool upbit_places(const SimVenue& row, const HttpRequest& r, const std::string& market, bool buy) {
  const std::string text = r.target + "&" + r.body;
  const std::string side = buy ? "bid" : "ask";
  return r.method == "POST" && r.path() == row.dialect->place_path &&
         (text.find(R"("side":")" + side + '"') != std::string::npos ||
          text.find("side=" + side) != std::string::npos) &&
         text.find(market) != std::string::npos;
}

HttpResult UpbitRest::upbit_markets(const UpbitFront& d) {
  const Venue v = d.venue;
  std::string list;
  for (std::size_t i = 0; i < market_.specs().size(); ++i) {
    const std::string& m = market_.market_name(v, i);
    if (m.empty()) continue;
    if (!list.empty()) list += ",";
    list += R"({"market":")" + m + R"(","korean_name":")" + market_.specs()[i].base +
            R"(","english_name":")" + market_.specs()[i].base + R"("})";
  }
  const std::string_view fx = find_venue(v)->fx_market;
  if (!fx.empty()) {
    list += R"(,{"market":")" + std::string(fx) + R"(","korean_name":"테더","english_name":"Tether"})";
  }
  HttpResult res = answer(200, "[" + list + "]");
  return res;
}

// The books (or, where the dialect has it, each market's tick at its price of this moment).
HttpResult UpbitRest::upbit_orderbook(const UpbitFront& d, const std::string& path, const Params& q) {
  const Venue v = d.venue;
  const auto it = q.find("markets");
  if (it == q.end()) return upbit_error(400, std::string(d.invalid), "markets is required.");
  std::string list;
  for (const std::string& m : split_csv(it->second)) {
    const int i = find_symbol(v, m);
    if (i < 0) return upbit_error(404, "not_found", "Code not found: " + m);
    const bool fx = static_cast<std::size_t>(i) == market_.specs().size();
    SimBook& b = fx ? market_.fx_book() : market_.book(v, static_cast<std::size_t>(i));
    if (!list.empty()) list += ",";
    if (path == "/v1/orderbook/instruments") {
      const std::int64_t best = b.bids.empty() ? 0 : b.bids.rbegin()->first;
      // The tick at the market's price of this moment, as the venue answers it.
      const Decimal tick = exec::tick_at(rules(v, static_cast<std::size_t>(i)),
                                         Decimal::from_mantissa(best));
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
  return res;
}

HttpResult UpbitRest::upbit_accounts(AccountSpec& account) {
  std::string list;
  for (const auto& [cur, bal] : account.balances) {
    if (!list.empty()) list += ",";
    list +=
        R"({"currency":")" + cur + R"(","balance":")" + dec8(bal) +
        R"(","locked":"0","avg_buy_price":"0","avg_buy_price_modified":false,"unit_currency":"KRW"})";
  }
  HttpResult res = answer(200, "[" + list + "]");
  return res;
}

HttpResult UpbitRest::upbit_chance(const UpbitFront& d, const Params& q, AccountSpec& account) {
  const Venue v = d.venue;
  const auto it = q.find("market");
  const int i = it == q.end() ? -1 : find_symbol(v, it->second);
  if (i < 0) return upbit_error(404, "not_found", "market not found");
  const bool fx = static_cast<std::size_t>(i) == market_.specs().size();
  const std::string base = fx ? "USDT" : market_.specs()[static_cast<std::size_t>(i)].base;
  const double fee = venues_[index(v)].fee_bps * 1e-4;
  char fees[64];
  std::snprintf(fees, sizeof fees, "%.4f", fee);
  HttpResult res = answer(
      200,
      R"({"bid_fee":")" + std::string(fees) + R"(","ask_fee":")" + fees +
          R"(","market":{"id":")" + it->second + R"(","name":")" + base +
          R"(/KRW","order_types":["limit"],"order_sides":["ask","bid"],"bid":{"currency":"KRW","min_total":"5000"},"ask":{"currency":")" +
          base + R"(","min_total":"5000"},"max_total":"1000000000","state":"active"},)" +
          R"("bid_account":{"currency":"KRW","balance":")" + dec8(account.balances["KRW"]) +
          R"(","locked":"0"},"ask_account":{"currency":")" + base + R"(","balance":")" +
          dec8(account.balances[base]) + R"(","locked":"0"}})");
  return res;
}

  // Lists: open orders, and (state_list: Bithumb) the v1 list by state
  // (`state=wait|watch|done|cancel`, default wait), an array as Upbit's was.
HttpResult UpbitRest::upbit_list(const UpbitFront& d, const Params& q, AccountSpec& account,
                                bool open_list) {
  const Venue v = d.venue;
  const bool state_list = !open_list;
  const auto it = q.find("market");
  const std::string wanted = state_list && q.contains("state") ? q.at("state") : "wait";
  if (wanted != "wait" && wanted != "watch" && wanted != "done" && wanted != "cancel") {
    return upbit_error(400, std::string(d.invalid), "state is invalid.");
  }
  std::string list;
  for (auto& [k, o] : orders_) {
    if (o.venue != v || o.account != account.key || !visible(o)) continue;
    const std::string_view state = upbit_state(d, o);
    if (state != (wanted == "watch" ? "wait" : wanted)) continue;
    if (it != q.end() && find_symbol(v, it->second) != static_cast<int>(o.symbol)) continue;
    if (!list.empty()) list += ",";
    list += upbit_order_json(d, o, false);
  }
  HttpResult res =
      answer(200, d.open_wrapped && open_list
                      ? R"({"data":[)" + list + R"(],"has_next":false,"next_key":null})"
                      : "[" + list + "]");
  return res;
}

  // Look-ups: GET /v1/order on both; cancels at the dialect's path.
HttpResult UpbitRest::upbit_lookup(const UpbitFront& d, const Params& q, AccountSpec& account,
                                  bool cancel_order) {
  const Venue v = d.venue;
  const bool get_order = !cancel_order;
  const std::string id_key(d.client_id_key);
  const std::string venue_key(cancel_order ? d.cancel_id_key : "uuid");
  SimOrder* found = nullptr;
  std::string found_key;
  for (auto& [k, o] : orders_) {
    if (o.venue != v || o.account != account.key || !visible(o)) continue;
    if ((q.contains(venue_key) && o.venue_id == q.at(venue_key)) ||
        (q.contains(id_key) && o.client_id == q.at(id_key))) {
      found = &o;
      found_key = k;
    }
  }
  if (found == nullptr) return upbit_error(404, "order_not_found", "주문을 찾지 못했습니다.");
  if (cancel_order) {
    if (found->status != "NEW" && found->status != "PARTIALLY_FILLED") {
      return upbit_error(400, "order_not_found", "취소할 수 없는 주문입니다.");
    }
    found->status = "CANCELED";
    private_.push_back({v, account.key, found_key, -1, "cancel", {}, now_ms()});
    if (d.acks) {
      HttpResult res = answer(200, R"({"order_id":")" + found->venue_id +
                                       R"(","created_at":")" + text::kst_time(found->time_ms) +
                                       "\"}");
      return res;
    }
  }
  HttpResult res = answer(200, upbit_order_json(d, *found, get_order));
  return res;
}

// A new order: the body checked as the venue checks it, the rules, the balance, then matched.
HttpResult UpbitRest::upbit_place(const UpbitFront& d, const HttpRequest& r, AccountSpec& account,
                                 Touched& touched) {
  const Venue v = d.venue;
  const std::string name(to_string(v));
  simdjson::dom::parser bp;
  simdjson::dom::element body;
  if (bp.parse(r.body).get(body) != simdjson::SUCCESS) {
    return upbit_error(400, std::string(d.invalid), "The body is not JSON.");
  }
  const auto field = [&](const char* k) {
    std::string_view sv;
    return body[k].get(sv) == simdjson::SUCCESS ? std::string(sv) : std::string();
  };
  const std::string invalid(d.invalid);
  SimOrder o;
  o.venue = v;
  o.account = account.key;
  const int i = find_symbol(v, field("market"));
  if (i < 0) return upbit_error(400, invalid, "market is invalid.");
  o.symbol = static_cast<std::size_t>(i);
  const std::string side = field("side");
  if (side != "bid" && side != "ask") return upbit_error(400, invalid, "side is invalid.");
  o.buy = side == "bid";
  o.type = field(std::string(d.type_key).c_str());
  o.tif = field("time_in_force");
  o.client_id = field(std::string(d.client_id_key).c_str());
  o.time_ms = now_ms();
  o.venue_id = d.c_ids ? "C01010000" + std::to_string(1'000'000'000 + next_order_id_++)
                       : "sim-" + std::to_string(next_order_id_++) + "-0000-4000-8000-000000000000";
  if (d.client_id_max > 0 &&
      (o.client_id.size() > d.client_id_max ||
       o.client_id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789_-") != std::string::npos)) {
    return upbit_error(400, invalid, "client_order_id must be 1-36 of [A-Za-z0-9_-].");
  }
  if (!o.client_id.empty()) {
    for (const auto& [k, x] : orders_) {
      if (x.venue == v && x.account == account.key && x.client_id == o.client_id) {
        return upbit_error(400, std::string(d.duplicate), "the client id is already used.");
      }
    }
  } else {
    o.client_id = o.venue_id;
  }
  const bool fx = o.symbol == market_.specs().size();
  const std::string base = fx ? "USDT" : market_.specs()[o.symbol].base;
  const std::string err_side = o.buy ? "bid" : "ask";
  if (std::optional<HttpResult> refused = read_amounts(d, rules(v, o.symbol), field, o)) {
    return *refused;
  }
  const std::int64_t need =
      o.buy ? (o.type == "limit"
                   ? static_cast<std::int64_t>(static_cast<Int128>(o.price) * o.qty / kOne)
                   : o.quote_qty)
            : o.qty;
  const bool enough = account.balances[o.buy ? "KRW" : base] >= need;
  if (!enough || (faults_.reject_share > 0.0 && roll() < faults_.reject_share)) {
    if (enough) ++stats_.faults;
    ++stats_.orders_by_outcome["REJECTED"];
    return upbit_error(400, "insufficient_funds_" + err_side, "주문가능한 금액이 부족합니다.");
  }
  match(o, account, touched);
  ++stats_.orders_by_outcome[o.status];
  const std::string key = name + ":" + account.key + ":" + o.client_id;
  orders_[key] = o;
  // Upbit answers as the order is taken: state wait, nothing executed yet; Bithumb with an
  // acknowledgement that has no state at all. The result is read with GET /v1/order.
  SimOrder taken = o;
  taken.status = "NEW";
  taken.executed = 0;
  taken.fee = 0;
  taken.trades.clear();
  HttpResult res = answer(201, d.acks ? R"({"order_id":")" + o.venue_id + R"(","market":")" +
                                            market_.market_name(v, o.symbol) + R"(","side":")" +
                                            side + R"(","order_type":")" + o.type +
                                            R"(","created_at":")" + text::kst_time(o.time_ms) +
                                            "\"}"
                                      : upbit_order_json(d, taken, false));
  lose_answer(orders_[key], res);
  upbit_order_events(d, key);
  return res;
}

std::unique_ptr<RestFront> make_upbit_rest(const UpbitFront& d, Exchange& exchange) {
  return std::make_unique<UpbitRest>(d, exchange);
}

}  // namespace xarb::sim
