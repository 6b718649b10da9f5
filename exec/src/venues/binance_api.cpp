#include <algorithm>
#include <charconv>
#include <string>

#include <simdjson.h>

#include <xarb/exec/venues/binance_api.hpp>
#include <xarb/net/json.hpp>

namespace xarb::exec {
namespace {

using simdjson::SUCCESS;
namespace od = simdjson::ondemand;

// Every number in these answers (quantities, prices, fees, balances) is >= 0.
bool decimal_of(od::value v, Decimal& out) noexcept { return net::json::read_amount(v, out); }

std::string_view side_text(Side s) noexcept { return s == Side::buy ? "BUY" : "SELL"; }
std::string_view tif_text(TimeInForce t) noexcept {
  return t == TimeInForce::ioc ? "IOC" : t == TimeInForce::fok ? "FOK" : "GTC";
}

std::int64_t to_int(std::string_view s) noexcept {
  std::int64_t v = -1;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc{} ? v : -1;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

}  // namespace

OrderState binance_order_state(std::string_view status) noexcept {
  if (status == "NEW" || status == "PENDING_NEW") return OrderState::acked;
  if (status == "PARTIALLY_FILLED") return OrderState::partially_filled;
  if (status == "FILLED") return OrderState::filled;
  if (status == "CANCELED" || status == "PENDING_CANCEL") return OrderState::canceled;
  if (status == "REJECTED") return OrderState::rejected;
  if (status == "EXPIRED" || status == "EXPIRED_IN_MATCH") return OrderState::expired;
  return OrderState::unknown;
}

BinanceApi::BinanceApi(Credentials credentials, net::Url endpoint, std::int64_t recv_window_ms)
    : credentials_(std::move(credentials)),
      endpoint_(std::move(endpoint)),
      host_header_(endpoint_.host_header()),
      path_prefix_(endpoint_.path_prefix()),
      recv_window_ms_(recv_window_ms),
      signer_(std::make_unique<HmacKey>(credentials_.secret, HmacKey::Hash::sha256)) {}

bool BinanceApi::signed_request(std::string_view method, std::string_view path,
                                TextBuffer<1024>& params, std::int64_t timestamp_ms, bool body,
                                HttpRequestText& out) noexcept {
  if (params.size() > 0) params.put("&");
  params.put("recvWindow=").put(recv_window_ms_).put("&timestamp=").put(timestamp_ms);
  // The signature covers the query string followed directly by the body; here the parameters
  // are in one or the other, never split.
  const Hex256 sig = signer_->sign_hex256(params.view());
  params.put("&signature=").put(std::string_view(sig.data(), sig.size()));
  if (params.overflow()) return false;
  out.clear();
  out.put(method).put(" ").put(path_prefix_).put(path);
  if (!body) out.put("?").put(params.view());
  out.put(" HTTP/1.1\r\nHost: ").put(host_header_);
  out.put("\r\nUser-Agent: xarb\r\nX-MBX-APIKEY: ").put(credentials_.key);
  if (body) {
    out.put("\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ")
        .put(static_cast<std::int64_t>(params.size()));
  }
  out.put("\r\n\r\n");
  if (body) out.put(params.view());
  return !out.overflow();
}

bool BinanceApi::new_order(const OrderRequest& o, std::string_view symbol,
                           std::int64_t timestamp_ms, HttpRequestText& out) noexcept {
  TextBuffer<1024> p;
  p.put("symbol=").put(symbol).put("&side=").put(side_text(o.side));
  p.put("&type=LIMIT&timeInForce=").put(tif_text(o.tif));
  p.put("&quantity=").put(o.qty).put("&price=").put(o.price);
  p.put("&newClientOrderId=").put(o.client_id.view()).put("&newOrderRespType=FULL");
  return signed_request("POST", "/api/v3/order", p, timestamp_ms, true, out);
}

bool BinanceApi::query_order(std::string_view symbol, std::string_view client_id,
                             std::int64_t timestamp_ms, HttpRequestText& out) noexcept {
  TextBuffer<1024> p;
  p.put("symbol=").put(symbol).put("&origClientOrderId=").put(client_id);
  return signed_request("GET", "/api/v3/order", p, timestamp_ms, false, out);
}

bool BinanceApi::my_trades(std::string_view symbol, std::string_view order_id,
                           std::int64_t timestamp_ms, HttpRequestText& out) noexcept {
  TextBuffer<1024> p;
  p.put("symbol=").put(symbol).put("&orderId=").put(order_id);
  return signed_request("GET", "/api/v3/myTrades", p, timestamp_ms, false, out);
}

bool BinanceApi::cancel_order(std::string_view symbol, std::string_view client_id,
                              std::int64_t timestamp_ms, HttpRequestText& out) noexcept {
  TextBuffer<1024> p;
  p.put("symbol=").put(symbol).put("&origClientOrderId=").put(client_id);
  return signed_request("DELETE", "/api/v3/order", p, timestamp_ms, false, out);
}

bool BinanceApi::account(std::int64_t timestamp_ms, HttpRequestText& out) noexcept {
  TextBuffer<1024> p;
  return signed_request("GET", "/api/v3/account", p, timestamp_ms, false, out);
}

bool BinanceApi::open_orders(std::string_view symbol, std::int64_t timestamp_ms,
                             HttpRequestText& out) noexcept {
  TextBuffer<1024> p;
  if (!symbol.empty()) p.put("symbol=").put(symbol);
  return signed_request("GET", "/api/v3/openOrders", p, timestamp_ms, false, out);
}

bool BinanceApi::ws_request(std::string_view method, std::uint64_t tag,
                            std::initializer_list<std::string_view> pairs,
                            std::int64_t timestamp_ms, WsRequestText& out) noexcept {
  struct Param {
    std::string_view name, value;
    bool number = false;
  };
  std::array<Param, 16> params{};
  std::size_t n = 0;
  char recv[24], stamp[24];
  const auto r = std::to_chars(recv, recv + sizeof recv, recv_window_ms_);
  const auto t = std::to_chars(stamp, stamp + sizeof stamp, timestamp_ms);
  params[n++] = {"apiKey", credentials_.key, false};
  params[n++] = {"recvWindow", std::string_view(recv, static_cast<std::size_t>(r.ptr - recv)),
                 true};
  params[n++] = {"timestamp", std::string_view(stamp, static_cast<std::size_t>(t.ptr - stamp)),
                 true};
  for (auto it = pairs.begin(); it != pairs.end() && std::next(it) != pairs.end(); it += 2) {
    if (n == params.size()) return false;
    params[n++] = {*it, *std::next(it), false};
  }
  // Signed as the API signs: sorted by name, k=v joined by &, not percent-encoded.
  std::sort(params.begin(), params.begin() + static_cast<std::ptrdiff_t>(n),
            [](const Param& a, const Param& b) { return a.name < b.name; });
  TextBuffer<1024> payload;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) payload.put("&");
    payload.put(params[i].name).put("=").put(params[i].value);
  }
  if (payload.overflow()) return false;
  const Hex256 sig = signer_->sign_hex256(payload.view());
  out.clear();
  out.put(R"({"id":"o-)").put(static_cast<std::int64_t>(tag)).put(R"(","method":")").put(method);
  out.put(R"(","params":{)");
  for (std::size_t i = 0; i < n; ++i) {
    out.put("\"").put(params[i].name).put(params[i].number ? "\":" : "\":\"");
    out.put(params[i].value).put(params[i].number ? "," : "\",");
  }
  out.put(R"("signature":")").put(std::string_view(sig.data(), sig.size())).put(R"("}})");
  return !out.overflow();
}

bool BinanceApi::ws_new_order(const OrderRequest& o, std::string_view symbol,
                              std::int64_t timestamp_ms, std::uint64_t tag,
                              WsRequestText& out) noexcept {
  char qty[Decimal::kMaxChars], price[Decimal::kMaxChars];
  const FormatResult q = o.qty.to_chars(qty, qty + sizeof qty);
  const FormatResult p = o.price.to_chars(price, price + sizeof price);
  return ws_request(
      "order.place", tag,
      {"newClientOrderId", o.client_id.view(), "newOrderRespType", "FULL", "price",
       std::string_view(price, static_cast<std::size_t>(p.end - price)), "quantity",
       std::string_view(qty, static_cast<std::size_t>(q.end - qty)), "side", side_text(o.side),
       "symbol", symbol, "timeInForce", tif_text(o.tif), "type", "LIMIT"},
      timestamp_ms, out);
}

bool BinanceApi::ws_query_order(std::string_view symbol, std::string_view client_id,
                                std::int64_t timestamp_ms, std::uint64_t tag,
                                WsRequestText& out) noexcept {
  return ws_request("order.status", tag, {"origClientOrderId", client_id, "symbol", symbol},
                    timestamp_ms, out);
}

bool BinanceApi::ws_cancel_order(std::string_view symbol, std::string_view client_id,
                                 std::int64_t timestamp_ms, std::uint64_t tag,
                                 WsRequestText& out) noexcept {
  return ws_request("order.cancel", tag, {"origClientOrderId", client_id, "symbol", symbol},
                    timestamp_ms, out);
}

std::string BinanceApi::stream_subscription(std::int64_t timestamp_ms, std::uint64_t id) const {
  // The WebSocket API signs every parameter but the signature, sorted by name.
  const std::string payload =
      "apiKey=" + credentials_.key + "&timestamp=" + std::to_string(timestamp_ms);
  const Hex256 sig = signer_->sign_hex256(payload);
  return R"({"id":"uds-)" + std::to_string(id) +
         R"(","method":"userDataStream.subscribe.signature","params":{"apiKey":")" +
         credentials_.key + R"(","timestamp":)" + std::to_string(timestamp_ms) +
         R"(,"signature":")" + std::string(sig.data(), sig.size()) + R"("}})";
}

bool BinanceApi::server_time(HttpRequestText& out) noexcept {
  out.clear();
  out.put("GET ").put(path_prefix_).put("/api/v3/time HTTP/1.1\r\nHost: ");
  out.put(host_header_).put("\r\nUser-Agent: xarb\r\n\r\n");
  return !out.overflow();
}

bool BinanceApi::exchange_info(std::string_view symbols_json_array, HttpRequestText& out) noexcept {
  out.clear();
  out.put("GET ").put(path_prefix_).put("/api/v3/exchangeInfo");
  if (!symbols_json_array.empty()) {
    // ["BTCUSDT","ETHUSDT"] percent-encoded: [ ] " , are not allowed raw in a query.
    out.put("?symbols=");
    for (char c : symbols_json_array) {
      switch (c) {
        case '[': out.put("%5B"); break;
        case ']': out.put("%5D"); break;
        case '"': out.put("%22"); break;
        case ',': out.put("%2C"); break;
        default: out.put(std::string_view(&c, 1));
      }
    }
  }
  out.put(" HTTP/1.1\r\nHost: ").put(host_header_).put("\r\nUser-Agent: xarb\r\n\r\n");
  return !out.overflow();
}

// ---------------------------------------------------------------------------------------------

struct BinanceParser::Impl {
  od::parser parser;
  net::json::JsonInput input{64 * 1024, 8 << 20};  // grows rarely, up to the largest answer

  simdjson::error_code start(std::string_view body, od::document& doc) noexcept {
    return input.start(body, parser, doc);
  }
};

BinanceParser::BinanceParser() : impl_(std::make_unique<Impl>()) {
  // simdjson sizes its parser to the document: without room reserved it reallocates whenever an
  // answer is longer than every one before (on the hot thread).
  // (Should it fail, iterate() allocates when it needs to.)
  [[maybe_unused]] const auto reserved = impl_->parser.allocate(64 * 1024);
}
BinanceParser::~BinanceParser() = default;

namespace {

// Trades of one order (an answer's "fills", or GET /api/v3/myTrades): the exact notional and the
// commissions sorted by the asset they were charged in.
struct FillSums {
  Int128 notional = 0;
  std::int64_t qty = 0;
  std::int64_t fee_quote = 0, fee_base = 0, fee_other = 0;

  // One trade object. With `order_id` set, a trade of another order is refused.
  bool add(od::object& fill, std::string_view base, std::string_view quote,
           std::string_view order_id) noexcept {
    Decimal price, q, commission;
    std::string_view asset;
    bool this_order = order_id.empty();
    for (auto ff : fill) {
      std::string_view k;
      od::value fv;
      if (ff.unescaped_key().get(k) != SUCCESS || ff.value().get(fv) != SUCCESS) return false;
      if (k == "price") {
        if (!decimal_of(fv, price)) return false;
      } else if (k == "qty") {
        if (!decimal_of(fv, q)) return false;
      } else if (k == "commission") {
        if (!decimal_of(fv, commission)) return false;
      } else if (k == "commissionAsset") {
        if (fv.get_string().get(asset) != SUCCESS) return false;
      } else if (k == "orderId" && !order_id.empty()) {
        this_order = net::json::number_text(fv.raw_json_token()) == order_id;
      }
    }
    if (!this_order) return false;
    // Hostile or broken values are refused, never summed: a negative trade, or a total past
    // what an int64 holds.
    if (price.mantissa() < 0 || q.mantissa() <= 0 || commission.mantissa() < 0) return false;
    std::int64_t& fee = asset == quote ? fee_quote : asset == base ? fee_base : fee_other;
    if (__builtin_add_overflow(qty, q.mantissa(), &qty) ||
        __builtin_add_overflow(fee, commission.mantissa(), &fee)) {
      return false;
    }
    notional += static_cast<Int128>(price.mantissa()) * q.mantissa();
    return true;
  }
  void store(OrderStatus& out) const noexcept {
    out.filled_notional_e16 = notional;
    out.fee_quote = Decimal::from_mantissa(fee_quote);
    out.fee_base = Decimal::from_mantissa(fee_base);
    out.fee_other = Decimal::from_mantissa(fee_other);
    out.fills_known = true;
  }
};

}  // namespace

Errc BinanceParser::parse_order(std::string_view body, std::string_view base,
                                std::string_view quote, OrderStatus& out) noexcept {
  out = OrderStatus{};
  od::document doc;
  od::object obj;
  if (impl_->start(body, doc) != SUCCESS || doc.get_object().get(obj) != SUCCESS) {
    return Errc::malformed;
  }
  Decimal cumulative_quote;
  bool have_status = false;
  bool orig_seen = false;
  std::int64_t fills_qty = 0;
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
      return Errc::malformed;
    }
    if (key == "orderId") {
      out.venue_id.assign(net::json::number_text(v.raw_json_token()));
    } else if (key == "clientOrderId" || key == "origClientOrderId") {
      // A cancel's answer carries the cancel request's own new clientOrderId; the order's is
      // origClientOrderId, which wins whichever comes first.
      std::string_view s;
      if (v.get_string().get(s) == SUCCESS && (key == "origClientOrderId" || !orig_seen)) {
        out.client_id.assign(s);
        orig_seen = orig_seen || key == "origClientOrderId";
      }
    } else if (key == "symbol") {
      std::string_view s;
      if (v.get_string().get(s) == SUCCESS) out.symbol.assign(s);
    } else if (key == "status") {
      std::string_view s;
      if (v.get_string().get(s) != SUCCESS) return Errc::malformed;
      out.state = binance_order_state(s);
      have_status = true;
    } else if (key == "side") {
      std::string_view s;
      if (v.get_string().get(s) == SUCCESS && (s == "BUY" || s == "SELL")) {
        out.side = s == "BUY" ? Side::buy : Side::sell;
      }
    } else if (key == "origQty") {
      if (!decimal_of(v, out.orig_qty)) return Errc::malformed;
    } else if (key == "executedQty") {
      if (!decimal_of(v, out.filled_qty)) return Errc::malformed;
    } else if (key == "cummulativeQuoteQty") {
      if (!decimal_of(v, cumulative_quote)) cumulative_quote = Decimal{};
    } else if (key == "fills") {
      od::array fills;
      if (v.get_array().get(fills) != SUCCESS) return Errc::malformed;
      FillSums sums;
      for (auto f : fills) {
        od::object fill;
        if (f.get_object().get(fill) != SUCCESS || !sums.add(fill, base, quote, {})) {
          return Errc::malformed;
        }
      }
      sums.store(out);
      fills_qty = sums.qty;
    }
  }
  if (!have_status || out.filled_qty.mantissa() < 0 || cumulative_quote.mantissa() < 0) {
    return Errc::malformed;
  }
  // More filled than ordered is no answer about this order.
  if (out.orig_qty.is_positive() && out.filled_qty > out.orig_qty) return Errc::malformed;
  // Fills that do not add up to executedQty ("fills": [] with a quantity, or one left out) say
  // nothing sure of the price or the commissions: taken as unknown, so that the order's trades
  // are read (as for a query's answer, which lists none).
  if (out.fills_known && fills_qty != out.filled_qty.mantissa()) {
    out.fills_known = false;
    out.fee_quote = out.fee_base = out.fee_other = Decimal{};
  }
  if (!out.fills_known) {
    out.filled_notional_e16 = static_cast<Int128>(cumulative_quote.mantissa()) * Decimal::kOne;
  }
  return Errc::ok;
}

Errc BinanceParser::parse_trades(std::string_view body, std::string_view base,
                                 std::string_view quote, OrderStatus& out) noexcept {
  od::document doc;
  od::array trades;
  if (impl_->start(body, doc) != SUCCESS || doc.get_array().get(trades) != SUCCESS) {
    return Errc::malformed;
  }
  FillSums sums;
  for (auto t : trades) {
    od::object trade;
    if (t.get_object().get(trade) != SUCCESS ||
        !sums.add(trade, base, quote, out.venue_id.view())) {
      return Errc::malformed;
    }
  }
  // Every trade of the order, or none of them: the venue may list a trade late.
  if (sums.qty != out.filled_qty.mantissa()) return Errc::malformed;
  sums.store(out);
  return Errc::ok;
}

bool BinanceParser::parse_error(std::string_view body, VenueError& out) noexcept {
  od::document doc;
  od::object obj;
  if (impl_->start(body, doc) != SUCCESS || doc.get_object().get(obj) != SUCCESS) return false;
  bool have_code = false;
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) return false;
    if (key == "code") {
      std::int64_t code = 0;
      if (v.get_int64().get(code) != SUCCESS) return false;
      out.code = static_cast<std::int32_t>(code);
      have_code = true;
    } else if (key == "msg") {
      std::string_view msg;
      if (v.get_string().get(msg) == SUCCESS) out.message.assign_utf8(msg);
    }
  }
  return have_code;
}

Errc BinanceParser::parse_server_time(std::string_view body, std::int64_t& ms) noexcept {
  od::document doc;
  if (impl_->start(body, doc) != SUCCESS) return Errc::malformed;
  return doc["serverTime"].get_int64().get(ms) == SUCCESS ? Errc::ok : Errc::malformed;
}

namespace {

// {"code":-2015,"msg":"..."}: the WebSocket API's error object.
bool read_error(od::object& err, VenueError& out) noexcept {
  for (auto f : err) {
    std::string_view k;
    od::value ev;
    if (f.unescaped_key().get(k) != SUCCESS || f.value().get(ev) != SUCCESS) return false;
    if (k == "code") {
      std::int64_t code = 0;
      if (ev.get_int64().get(code) == SUCCESS) out.code = static_cast<std::int32_t>(code);
    } else if (k == "msg") {
      std::string_view msg;
      if (ev.get_string().get(msg) == SUCCESS) out.message.assign_utf8(msg);
    }
  }
  return true;
}

// An answer's rateLimits, as the REST headers that state the same counts.
bool read_rate_limits(od::value v, StreamUpdate::Answer& a) noexcept {
  od::array list;
  if (v.get_array().get(list) != SUCCESS) return false;
  for (auto item : list) {
    od::object o;
    if (item.get_object().get(o) != SUCCESS) return false;
    std::string_view type, interval, count;
    std::int64_t num = 0;
    for (auto f : o) {
      std::string_view k;
      od::value fv;
      if (f.unescaped_key().get(k) != SUCCESS || f.value().get(fv) != SUCCESS) return false;
      if (k == "rateLimitType") {
        if (fv.get_string().get(type) != SUCCESS) return false;
      } else if (k == "interval") {
        if (fv.get_string().get(interval) != SUCCESS) return false;
      } else if (k == "intervalNum") {
        if (fv.get_int64().get(num) != SUCCESS) return false;
      } else if (k == "count") {
        count = net::json::number_text(fv.raw_json_token());
      }
    }
    const std::string_view header =
        type == "REQUEST_WEIGHT" && interval == "MINUTE" && num == 1 ? "X-MBX-USED-WEIGHT-1M"
        : type == "ORDERS" && interval == "SECOND" && num == 10      ? "X-MBX-ORDER-COUNT-10S"
        : type == "ORDERS" && interval == "DAY" && num == 1          ? "X-MBX-ORDER-COUNT-1D"
                                                                     : "";
    if (!header.empty() && !count.empty() && a.limit_count < a.limits.size()) {
      a.limits[a.limit_count++] = {header, count};
    }
  }
  return true;
}

// outboundAccountPosition's B: [{"a":"BTC","f":"1.0","l":"0.0"}, ...].
bool read_positions(od::value v, StreamUpdate& out) noexcept {
  od::array list;
  if (v.get_array().get(list) != SUCCESS) return false;
  for (auto item : list) {
    od::object o;
    if (item.get_object().get(o) != SUCCESS) return false;
    StreamUpdate::Asset a;
    bool have_asset = false, have_free = false;
    for (auto f : o) {
      std::string_view k, text;
      od::value fv;
      if (f.unescaped_key().get(k) != SUCCESS || f.value().get(fv) != SUCCESS) return false;
      if (k == "a") {
        if (fv.get_string().get(text) != SUCCESS) return false;
        a.currency.assign(text);
        have_asset = true;
      } else if (k == "f") {
        if (!decimal_of(fv, a.balance)) return false;
        have_free = true;
      } else if (k == "l") {
        if (!decimal_of(fv, a.locked)) return false;
      }
    }
    if (!have_asset || !have_free) return false;
    if (out.asset_count < StreamUpdate::kMaxAssets) out.assets[out.asset_count++] = a;
  }
  return true;
}

// One event of the user data stream.
Errc parse_event(od::object& ev, StreamUpdate& out) noexcept {
  std::string_view type, client, original, exec_type, status;
  Decimal cumulative_quote;
  bool have_z = false, have_quote = false;
  OrderStatus& o = out.order;
  StreamUpdate::Execution& x = out.execution;
  for (auto field : ev) {
    std::string_view key, text;
    od::value v;
    if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
      return Errc::malformed;
    }
    // Binance's keys are case-sensitive single letters: c and C, x and X, l and L, ...
    if (key == "e") {
      if (v.get_string().get(type) != SUCCESS) return Errc::malformed;
    } else if (key == "B") {
      if (type != "outboundAccountPosition" || !read_positions(v, out)) return Errc::malformed;
    } else if (type != "executionReport") {
      continue;
    } else if (key == "s") {
      if (v.get_string().get(text) != SUCCESS) return Errc::malformed;
      o.symbol.assign(text);
    } else if (key == "c") {
      if (v.get_string().get(client) != SUCCESS) return Errc::malformed;
    } else if (key == "C") {
      if (v.get_string().get(original) != SUCCESS) original = {};
    } else if (key == "S") {
      if (v.get_string().get(text) != SUCCESS) return Errc::malformed;
      if (text == "BUY" || text == "SELL") o.side = text == "BUY" ? Side::buy : Side::sell;
    } else if (key == "q") {
      if (!decimal_of(v, o.orig_qty)) return Errc::malformed;
    } else if (key == "x") {
      if (v.get_string().get(exec_type) != SUCCESS) return Errc::malformed;
    } else if (key == "X") {
      if (v.get_string().get(status) != SUCCESS) return Errc::malformed;
    } else if (key == "i") {
      o.venue_id.assign(net::json::number_text(v.raw_json_token()));
    } else if (key == "l") {
      if (!decimal_of(v, x.qty)) return Errc::malformed;
    } else if (key == "L") {
      if (!decimal_of(v, x.price)) return Errc::malformed;
    } else if (key == "n") {
      if (!decimal_of(v, x.commission)) return Errc::malformed;
    } else if (key == "N") {
      if (v.get_string().get(text) == SUCCESS) x.commission_asset.assign(text);  // null: none
    } else if (key == "z") {
      if (!decimal_of(v, o.filled_qty)) return Errc::malformed;
      have_z = true;
    } else if (key == "Z") {
      if (!decimal_of(v, cumulative_quote)) return Errc::malformed;
      have_quote = true;
    }
  }
  if (type == "outboundAccountPosition") {
    out.kind = StreamUpdate::Kind::assets;
    return Errc::ok;
  }
  if (type == "eventStreamTerminated" || type == "serverShutdown") {
    out.kind = StreamUpdate::Kind::error;
    out.error.name.assign(type);
    return Errc::ok;
  }
  if (type != "executionReport") return Errc::ok;  // balanceUpdate (a delta), and the rest
  // A cancel's event carries the cancel request's own id in c and the order's in C.
  o.client_id.assign(exec_type == "CANCELED" && !original.empty() ? original : client);
  o.state = binance_order_state(status);
  if (o.state == OrderState::unknown || o.symbol.empty() || o.client_id.empty() || !have_z ||
      !have_quote ||
      (x.qty.is_positive() && x.commission_asset.empty() && x.commission.is_positive())) {
    return Errc::malformed;
  }
  if (exec_type != "TRADE") x = StreamUpdate::Execution{};
  o.filled_notional_e16 = static_cast<Int128>(cumulative_quote.mantissa()) * Decimal::kOne;
  out.kind = StreamUpdate::Kind::order;
  return Errc::ok;
}

}  // namespace

Errc BinanceParser::parse_stream(std::string_view frame, StreamUpdate& out) noexcept {
  out.kind = StreamUpdate::Kind::none;
  out.order = OrderStatus{};
  out.execution = StreamUpdate::Execution{};
  out.answer = StreamUpdate::Answer{};
  out.complete = true;
  out.asset_count = 0;
  out.error = VenueError{};
  od::document doc;
  od::object obj;
  if (impl_->start(frame, doc) != SUCCESS || doc.get_object().get(obj) != SUCCESS) {
    return Errc::malformed;
  }
  std::int64_t status = 0;
  std::uint64_t tag = 0;  // an order request's ("o-<tag>")
  std::string_view result, error;
  StreamUpdate::Answer& a = out.answer;
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
      return Errc::malformed;
    }
    if (key == "id") {
      std::string_view id;
      if (v.get_string().get(id) == SUCCESS && id.starts_with("o-")) {
        const auto r = std::from_chars(id.data() + 2, id.data() + id.size(), tag);
        if (r.ec != std::errc{}) tag = 0;
      }
    } else if (key == "status") {
      if (v.get_int64().get(status) != SUCCESS) return Errc::malformed;
    } else if (key == "result" || key == "error") {
      od::object o;
      if (v.get_object().get(o) != SUCCESS) {
        if (key == "error") return Errc::malformed;
        continue;  // null, or a list (other requests' results)
      }
      if ((key == "result" ? o.raw_json().get(result) : o.raw_json().get(error)) != SUCCESS) {
        return Errc::malformed;
      }
    } else if (key == "rateLimits") {
      if (!read_rate_limits(v, a)) return Errc::malformed;
    } else if (key == "event") {
      od::object ev;
      if (v.get_object().get(ev) != SUCCESS) return Errc::malformed;
      return parse_event(ev, out);
    }
  }
  if (tag != 0) {
    // An order request's answer, read as its REST answer would be. -1007: the venue timed out
    // waiting for its matching engine; the order may exist (outcome unknown, as a 5xx).
    out.kind = StreamUpdate::Kind::answer;
    a.tag = tag;
    a.status = static_cast<int>(status);
    a.body = error.empty() ? result : error;
    if (!error.empty() && error.find("-1007") != std::string_view::npos) a.status = 503;
    return Errc::ok;
  }
  // The subscription's or a keep-alive's answer; refused, the connection is of no use.
  if (!error.empty() || (status != 0 && status / 100 != 2)) {
    out.kind = StreamUpdate::Kind::error;
    // (Read again from a copy: the parser's input buffer holds the frame it points into.)
    char copy[512];
    const std::size_t n = std::min(error.size(), sizeof copy);
    std::copy_n(error.data(), n, copy);
    od::document edoc;
    od::object eobj;
    if (n > 0 && impl_->start(std::string_view(copy, n), edoc) == SUCCESS &&
        edoc.get_object().get(eobj) == SUCCESS) {
      (void)read_error(eobj, out.error);
    }
    if (out.error.name.empty()) {
      // "status 503", written in place: no allocation on an answer's path, refused or not.
      char text[24] = "status ";
      const auto [end, ec] = std::to_chars(text + 7, text + sizeof text, status);
      out.error.name.assign(std::string_view(text, ec == std::errc{} ? end : text + 6));
    }
  }
  return Errc::ok;
}

void BinanceExecutions::apply(StreamUpdate& u, std::string_view base,
                              std::string_view quote) noexcept {
  OrderStatus& o = u.order;
  Sums* s = nullptr;
  Sums* oldest = &orders_[0];
  for (Sums& x : orders_) {
    if (x.used != 0 && x.id == o.client_id) s = &x;
    if (x.used < oldest->used) oldest = &x;
  }
  if (s == nullptr) {
    s = oldest;  // a free slot, or the order least recently heard of
    *s = Sums{};
    s->id = o.client_id;
  }
  s->used = ++clock_;
  const StreamUpdate::Execution& x = u.execution;
  if (x.qty.is_positive()) {
    s->qty += x.qty.mantissa();
    s->notional += static_cast<Int128>(x.price.mantissa()) * x.qty.mantissa();
    const std::string_view asset = x.commission_asset.view();
    (asset == quote  ? s->fee_quote
     : asset == base ? s->fee_base
                     : s->fee_other) += x.commission.mantissa();
  }
  u.complete = s->qty == o.filled_qty.mantissa();
  if (u.complete) {
    o.filled_notional_e16 = s->notional;
    o.fee_quote = Decimal::from_mantissa(s->fee_quote);
    o.fee_base = Decimal::from_mantissa(s->fee_base);
    o.fee_other = Decimal::from_mantissa(s->fee_other);
    o.fills_known = true;
  }
  if (o.final()) *s = Sums{};
}

Errc BinanceParser::parse_account(std::string_view body, std::vector<Balance>& out) {
  od::document doc;
  od::array balances;
  if (impl_->start(body, doc) != SUCCESS ||
      doc["balances"].get_array().get(balances) != SUCCESS) {
    return Errc::malformed;
  }
  for (auto b : balances) {
    Balance bal;
    std::string_view asset;
    od::object o;
    if (b.get_object().get(o) != SUCCESS) return Errc::malformed;
    for (auto field : o) {
      std::string_view key;
      od::value v;
      if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
        return Errc::malformed;
      }
      if (key == "asset") {
        if (v.get_string().get(asset) != SUCCESS) return Errc::malformed;
        bal.asset = std::string(asset);
      } else if (key == "free") {
        if (!decimal_of(v, bal.free)) return Errc::malformed;
      } else if (key == "locked") {
        if (!decimal_of(v, bal.locked)) return Errc::malformed;
      }
    }
    out.push_back(std::move(bal));
  }
  return Errc::ok;
}

Errc BinanceParser::parse_open_orders(std::string_view body, std::vector<OrderStatus>& out,
                                      std::vector<std::string>& symbols) {
  // Each element is an order object: parse them one by one through parse_order's logic by
  // re-serialising each element's raw text.
  od::document doc;
  od::array list;
  if (impl_->start(body, doc) != SUCCESS || doc.get_array().get(list) != SUCCESS) {
    return Errc::malformed;
  }
  std::vector<std::string> raw;
  for (auto item : list) {
    std::string_view text;
    od::object o;
    if (item.get_object().get(o) != SUCCESS || o.raw_json().get(text) != SUCCESS) {
      return Errc::malformed;
    }
    raw.emplace_back(text);
  }
  for (const std::string& text : raw) {
    OrderStatus s;
    if (const Errc e = parse_order(text, "", "", s); e != Errc::ok) return e;
    od::document d2;
    std::string_view sym;
    if (impl_->start(text, d2) != SUCCESS || d2["symbol"].get_string().get(sym) != SUCCESS) {
      return Errc::malformed;
    }
    symbols.emplace_back(sym);
    out.push_back(s);
  }
  return Errc::ok;
}

void binance_header(std::string_view name, std::string_view value, RateLimitState& state) noexcept {
  if (iequals(name, "X-MBX-USED-WEIGHT-1M")) {
    state.used_weight_1m = to_int(value);
  } else if (iequals(name, "X-MBX-ORDER-COUNT-10S")) {
    state.order_count_10s = to_int(value);
  } else if (iequals(name, "X-MBX-ORDER-COUNT-1D")) {
    state.order_count_1d = to_int(value);
  } else if (iequals(name, "Retry-After")) {
    state.retry_after_s = to_int(value);
  }
}

}  // namespace xarb::exec
