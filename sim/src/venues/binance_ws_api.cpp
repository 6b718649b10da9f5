// Binance's WebSocket API (wss://ws-api.binance.com:443/ws-api/v3) as the simulator serves it:
// requests {"id","method","params"} answered {"id","status","result"|"error","rateLimits"}.
// Signed methods are checked as the venue checks them: every parameter but `signature` (apiKey,
// timestamp and recvWindow included), sorted by name, joined as k=v with &, not percent-encoded,
// HMAC-SHA256 in hex. order.place, order.status, order.cancel and account.status are the REST
// endpoints' (the same checks, limits, matching and faults, through WsOut::request); an answer
// the REST front end would lose comes back as -1007 (sent, outcome unknown).
// userDataStream.subscribe.signature subscribes the connection to the key's account: its
// executionReport, outboundAccountPosition and balanceUpdate events, each wrapped as
// {"subscriptionId":N,"event":{...}}; one subscription per account per connection.

#include <algorithm>
#include <map>

#include <simdjson.h>

#include <xarb/sim/exchange.hpp>
#include <xarb/venues/registry.hpp>

#include "../text.hpp"
#include "ws_front.hpp"

namespace xarb::sim {
namespace {

using text::dec8;

constexpr std::int64_t kOrdersPerDay = 160'000;  // the venue's ORDERS DAY limit (not simulated)

// A JSON string literal (the ids and messages echoed back).
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

class BinanceWsApiSession final : public WsSessionFront {
 public:
  explicit BinanceWsApiSession(const Exchange& exchange) : x_(exchange) {}

  void on_open(const WsOpen&) override {}
  void on_book(std::size_t, WsOut&) override {}
  void on_trade(const PublicTrade&, WsOut&) override {}

  void on_message(std::string_view msg, WsOut& out) override {
    simdjson::dom::parser p;
    simdjson::dom::object req;
    if (p.parse(msg.data(), msg.size()).get(req) != simdjson::SUCCESS) {
      return out.send(envelope("null", 400, error(-1000, "Malformed request."), ""), false);
    }
    // The id is echoed as sent: a string, a number or null.
    std::string id = "null";
    simdjson::dom::element id_el;
    if (req["id"].get(id_el) == simdjson::SUCCESS) {
      std::string_view s;
      std::int64_t n = 0;
      if (id_el.get(s) == simdjson::SUCCESS) id = quoted(s);
      if (id_el.get(n) == simdjson::SUCCESS) id = std::to_string(n);
    }
    std::string_view method;
    if (req["method"].get(method) != simdjson::SUCCESS) {
      return out.send(
          envelope(id, 400, error(-1102, "Mandatory parameter 'method' was not sent."), ""), false);
    }
    std::map<std::string, std::string> params;
    simdjson::dom::object po;
    if (req["params"].get(po) == simdjson::SUCCESS) {
      for (auto [k, v] : po) {
        std::string_view s;
        if (v.get(s) == simdjson::SUCCESS) {
          params[std::string(k)] = std::string(s);
        } else {
          params[std::string(k)] = simdjson::to_string(v);  // numbers and booleans as written
        }
      }
    }
    if (method == "ping") return out.send(envelope(id, 200, "{}", ""), false);
    if (method == "time") {
      return out.send(
          envelope(id, 200, R"({"serverTime":)" + std::to_string(x_.now_ms()) + "}", ""), false);
    }
    const char* verb = nullptr;
    const char* path = nullptr;
    if (method == "order.place") {
      verb = "POST", path = "/api/v3/order";
    } else if (method == "order.status") {
      verb = "GET", path = "/api/v3/order";
    } else if (method == "order.cancel") {
      verb = "DELETE", path = "/api/v3/order";
    } else if (method == "account.status") {
      verb = "GET", path = "/api/v3/account";
    } else if (method == "userDataStream.subscribe.signature") {
      verb = "POST", path = kSubscribePath;
    } else if (method == "userDataStream.unsubscribe") {
      const auto it = params.find("subscriptionId");
      std::erase_if(subscriptions_, [&](const auto& s) {
        return it == params.end() || std::to_string(s.second) == it->second;
      });
      return out.send(envelope(id, 200, "{}", ""), false);
    } else {
      return out.send(envelope(id, 400, error(-1000, "Unknown method."), ""), false);
    }
    // The signed payload: every parameter but the signature, sorted by name (std::map), raw.
    HttpRequest r;
    r.method = verb;
    std::string payload;
    for (const auto& [k, v] : params) {
      if (k == "signature") continue;
      if (!payload.empty()) payload += '&';
      payload += k + "=" + v;
    }
    if (const auto sig = params.find("signature"); sig != params.end()) {
      payload += "&signature=" + sig->second;
    }
    r.target = std::string(path) + "?" + payload;
    if (const auto key = params.find("apiKey"); key != params.end()) {
      r.headers["x-mbx-apikey"] = key->second;
    }
    const HttpResult res = out.request(r);
    const bool order = method == "order.place" || method == "order.cancel";
    // returnRateLimits=false (a signed parameter) leaves them out of the answer.
    const auto want_limits = params.find("returnRateLimits");
    const std::string limits = want_limits != params.end() && want_limits->second == "false"
                                   ? std::string()
                                   : rate_limits(res, order);
    std::string frame;
    if (res.drop) {
      // The answer is lost on its way back: the venue gives up waiting for its matching engine.
      frame = envelope(id, 503,
                       error(-1007,
                             "Timeout waiting for response from backend server. Send status "
                             "unknown; execution status unknown."),
                       limits);
    } else if (res.status / 100 != 2) {
      frame = envelope(id, res.status, error_of(res), limits);
    } else if (std::string_view(path) == kSubscribePath) {
      const std::string account = params["apiKey"];
      if (std::any_of(subscriptions_.begin(), subscriptions_.end(),
                      [&](const auto& s) { return s.first == account; })) {
        frame = envelope(id, 400, error(-2036, "This account is already subscribed."), limits);
      } else {
        subscriptions_.emplace_back(account, next_subscription_);
        frame = envelope(
            id, 200, R"({"subscriptionId":)" + std::to_string(next_subscription_++) + "}", limits);
      }
    } else {
      frame = envelope(id, res.status, res.body, limits);
    }
    if (res.delay_ms > 0) return out.send_later(std::move(frame), res.delay_ms);
    out.send(std::move(frame), false);
  }

  void on_private(const PrivateEvent& e, WsOut& out) override {
    if (e.venue != venues::kBinance) return;
    for (const auto& [account, sub] : subscriptions_) {
      if (account != e.account) continue;
      const std::string head = R"({"subscriptionId":)" + std::to_string(sub) + R"(,"event":)";
      if (!e.order_key.empty()) {
        const auto it = x_.orders().find(e.order_key);
        if (it != x_.orders().end()) out.send(head + execution_report(it->second, e) + "}", false);
        continue;
      }
      if (e.state == "balanceUpdate" && e.assets.size() == 1) {
        out.send(head + R"({"e":"balanceUpdate","E":)" + std::to_string(e.time_ms) + R"(,"a":")" +
                     e.assets[0] + R"(","d":")" + dec8(e.delta) + R"(","T":)" +
                     std::to_string(e.time_ms) + "}}",
                 false);
      }
      out.send(head + account_position(e) + "}", false);
    }
  }

 private:
  static constexpr const char* kSubscribePath = "/ws-api/v3/userDataStream.subscribe.signature";

  static std::string error(int code, std::string_view msg) {
    return R"({"code":)" + std::to_string(code) + R"(,"msg":)" + quoted(msg) + "}";
  }
  // The REST front end's error object ({"code","msg"}), with the time a block ends on a 429/418.
  std::string error_of(const HttpResult& res) const {
    std::string body = res.body;
    if (body.empty() || body.front() != '{') return error(-1000, "An unknown error occurred.");
    for (const auto& [name, value] : res.headers) {
      if (name != "Retry-After") continue;
      const std::int64_t until = x_.now_ms() + std::stoll(value) * 1000;
      body.pop_back();
      body += R"(,"data":{"retryAfter":)" + std::to_string(until) + "}}";
    }
    return body;
  }
  static std::string envelope(const std::string& id, int status, const std::string& body,
                              const std::string& limits) {
    std::string out = R"({"id":)" + id + R"(,"status":)" + std::to_string(status) +
                      (status / 100 == 2 ? R"(,"result":)" : R"(,"error":)") + body;
    if (!limits.empty()) out += R"(,"rateLimits":)" + limits;
    return out + "}";
  }
  // The REST answer's usage headers as the WebSocket API states them.
  std::string rate_limits(const HttpResult& res, bool order) const {
    std::string weight, orders10s, orders1d;
    for (const auto& [name, value] : res.headers) {
      if (name == "X-MBX-USED-WEIGHT-1M") weight = value;
      if (name == "X-MBX-ORDER-COUNT-10S") orders10s = value;
      if (name == "X-MBX-ORDER-COUNT-1D") orders1d = value;
    }
    if (weight.empty()) return {};
    const SimVenueParams& l = x_.venue(venues::kBinance);
    std::string out = R"([{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,)"
                      R"("limit":)" +
                      std::to_string(l.request_limit) + R"(,"count":)" + weight + "}";
    if (order && !orders10s.empty()) {
      out += R"(,{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":)" +
             std::to_string(l.order_limit) + R"(,"count":)" + orders10s + "}";
      out += R"(,{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":)" +
             std::to_string(kOrdersPerDay) + R"(,"count":)" + orders1d + "}";
    }
    return out + "]";
  }

  // One executionReport: the order as it stood at the event (cumulative z and Z), the
  // execution's own l, L, n, N and t on a TRADE.
  std::string execution_report(const SimOrder& o, const PrivateEvent& e) const {
    std::int64_t z = 0;
    Int128 notional = 0;
    const std::size_t upto = e.state == "NEW" ? 0
                             : e.trade >= 0   ? static_cast<std::size_t>(e.trade) + 1
                                              : o.trades.size();
    for (std::size_t i = 0; i < upto && i < o.trades.size(); ++i) {
      z += o.trades[i].qty;
      notional += static_cast<Int128>(o.trades[i].price) * o.trades[i].qty;
    }
    const bool fill = e.state == "TRADE" && e.trade >= 0;
    const Trade* t = fill ? &o.trades[static_cast<std::size_t>(e.trade)] : nullptr;
    std::string status = e.state;
    if (e.state == "TRADE") status = o.qty > 0 && z >= o.qty ? "FILLED" : "PARTIALLY_FILLED";
    const bool canceled = e.state == "CANCELED";
    std::string commission = "0", asset = "null";
    if (fill) {
      const auto [amount, name] = x_.commission(o, *t);
      commission = dec8(amount);
      asset = "\"" + name + "\"";
    }
    const std::string& symbol = x_.symbol_of(venues::kBinance, o.symbol);
    return R"({"e":"executionReport","E":)" + std::to_string(e.time_ms) + R"(,"s":")" + symbol +
           R"(","c":")" + (canceled ? "simcancel" + o.venue_id : o.client_id) + R"(","S":")" +
           (o.buy ? "BUY" : "SELL") + R"(","o":")" + o.type + R"(","f":")" + o.tif + R"(","q":")" +
           dec8(o.qty) + R"(","p":")" + dec8(o.price) +
           R"(","P":"0.00000000","F":"0.00000000","g":-1,"C":")" +
           (canceled ? o.client_id : std::string()) + R"(","x":")" + e.state + R"(","X":")" +
           status + R"(","r":"NONE","i":)" + o.venue_id + R"(,"l":")" + dec8(fill ? t->qty : 0) +
           R"(","z":")" + dec8(z) + R"(","L":")" + dec8(fill ? t->price : 0) + R"(","n":")" +
           commission + R"(","N":)" + asset + R"(,"T":)" + std::to_string(e.time_ms) + R"(,"t":)" +
           (fill ? std::to_string(t->id) : "-1") + R"(,"v":0,"I":)" + std::to_string(o.time_ms) +
           R"(,"w":)" + (status == "NEW" ? "true" : "false") + R"(,"m":false,"M":)" +
           (fill ? "true" : "false") + R"(,"O":)" + std::to_string(o.time_ms) + R"(,"Z":")" +
           dec8(static_cast<std::int64_t>(notional / text::kOne)) + R"(","Y":")" +
           dec8(fill
                    ? static_cast<std::int64_t>(static_cast<Int128>(t->price) * t->qty / text::kOne)
                    : 0) +
           R"(","Q":")" + dec8(o.quote_qty) + R"(","W":)" + std::to_string(o.time_ms) +
           R"(,"V":"NONE"})";
  }

  // The balances of the assets that changed.
  std::string account_position(const PrivateEvent& e) const {
    std::string list;
    for (const std::string& asset : e.assets) {
      if (!list.empty()) list += ',';
      list += R"({"a":")" + asset + R"(","f":")" +
              dec8(x_.balance(venues::kBinance, e.account, asset)) + R"(","l":"0.00000000"})";
    }
    return R"({"e":"outboundAccountPosition","E":)" + std::to_string(e.time_ms) + R"(,"u":)" +
           std::to_string(e.time_ms) + R"(,"B":[)" + list + "]}";
  }

  const Exchange& x_;
  std::vector<std::pair<std::string, std::int64_t>> subscriptions_;  // (account key, id)
  std::int64_t next_subscription_ = 0;
};

}  // namespace

std::unique_ptr<WsSessionFront> make_binance_ws_api(const Exchange& exchange) {
  return std::make_unique<BinanceWsApiSession>(exchange);
}

}  // namespace xarb::sim
