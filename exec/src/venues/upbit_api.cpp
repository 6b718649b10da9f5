#include <algorithm>
#include <charconv>
#include <string>

#include <simdjson.h>

#include <xarb/core/clock.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/net/json.hpp>

namespace xarb::exec {

std::size_t upbit_jwt(std::string_view access_key, HmacKey& key, JwtAlg alg, Sha512& hasher,
                      std::string_view nonce, std::string_view query, std::span<char> out,
                      std::int64_t timestamp_ms) noexcept {
  TextBuffer<512> payload;
  payload.put(R"({"access_key":")").put(access_key).put(R"(","nonce":")").put(nonce).put(R"(")");
  if (timestamp_ms >= 0) payload.put(R"(,"timestamp":)").put(timestamp_ms);
  if (!query.empty()) {
    const Hex512 hash = hasher.hex(query);
    payload.put(R"(,"query_hash":")")
        .put(std::string_view(hash.data(), hash.size()))
        .put(R"(","query_hash_alg":"SHA512")");
  }
  payload.put(R"(})");
  if (payload.overflow()) return 0;
  return hmac_jwt(payload.view(), key, alg, out);
}

std::size_t upbit_jwt(std::string_view access_key, std::string_view secret_key,
                      std::string_view nonce, std::string_view query, JwtAlg alg,
                      std::span<char> out, std::int64_t timestamp_ms) noexcept {
  HmacKey key(secret_key, alg == JwtAlg::hs256 ? HmacKey::Hash::sha256 : HmacKey::Hash::sha512);
  Sha512 hasher;
  return upbit_jwt(access_key, key, alg, hasher, nonce, query, out, timestamp_ms);
}
namespace {

using simdjson::SUCCESS;
namespace od = simdjson::ondemand;

// Upbit sends numbers as strings ("0.01") in order objects; numbers are accepted too, and null
// (an amount an order does not have yet) reads as zero. Every one is >= 0.
bool decimal_of(od::value v, Decimal& out) noexcept {
  return net::json::read_amount(v, out, /*null_is_zero=*/true);
}

std::string_view tif_text(TimeInForce t) noexcept {
  return t == TimeInForce::ioc ? "ioc" : t == TimeInForce::fok ? "fok" : "";
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

}  // namespace

OrderState upbit_order_state(std::string_view state, Decimal executed, Decimal volume) noexcept {
  if (state == "wait" || state == "watch") {
    return executed.is_positive() ? OrderState::partially_filled : OrderState::acked;
  }
  if (state == "done") {
    return executed.is_positive() && executed < volume ? OrderState::partially_filled
                                                       : OrderState::filled;
  }
  if (state == "cancel") return OrderState::canceled;
  return OrderState::unknown;
}

OrderState bithumb_order_state(std::string_view state, Decimal executed, Decimal volume) noexcept {
  if (state == "done") return executed < volume ? OrderState::canceled : OrderState::filled;
  return upbit_order_state(state, executed, volume);
}

UpbitApi::UpbitApi(Credentials credentials, net::Url endpoint, JwtAlg alg, UpbitDialect dialect)
    : credentials_(std::move(credentials)),
      endpoint_(std::move(endpoint)),
      host_header_(endpoint_.host_header()),
      path_prefix_(endpoint_.path_prefix()),
      alg_(alg),
      dialect_(dialect),
      signer_(std::make_unique<HmacKey>(credentials_.secret, alg == JwtAlg::hs256
                                                                 ? HmacKey::Hash::sha256
                                                                 : HmacKey::Hash::sha512)),
      hasher_(std::make_unique<Sha512>()) {}

bool UpbitApi::request(std::string_view method, std::string_view path, std::string_view query,
                       std::string_view json_body, bool authenticated,
                       HttpRequestText& out) noexcept {
  out.clear();
  out.put(method).put(" ").put(path_prefix_).put(path);
  if (!query.empty() && json_body.empty()) out.put("?").put(query);
  out.put(" HTTP/1.1\r\nHost: ").put(host_header_).put("\r\nUser-Agent: xarb\r\n");
  if (authenticated) {
    const UuidSource::Text nonce = nonces_.next();
    char token[1024];
    const std::size_t n = upbit_jwt(
        credentials_.key, *signer_, alg_, *hasher_, std::string_view(nonce.data(), nonce.size()),
        query, std::span<char>(token, sizeof token),
        dialect_ == UpbitDialect::bithumb ? clock::wall_ns() / 1'000'000 : -1);
    if (n == 0) return false;
    out.put("Authorization: Bearer ").put(std::string_view(token, n)).put("\r\n");
  }
  if (!json_body.empty()) {
    out.put("Content-Type: application/json; charset=utf-8\r\nContent-Length: ")
        .put(static_cast<std::int64_t>(json_body.size()))
        .put("\r\n");
  }
  out.put("\r\n");
  if (!json_body.empty()) out.put(json_body);
  return !out.overflow();
}

std::string UpbitApi::stream_authorization() {
  const UuidSource::Text nonce = nonces_.next();
  char token[1024];
  const std::size_t n = upbit_jwt(
      credentials_.key, *signer_, alg_, *hasher_, std::string_view(nonce.data(), nonce.size()), {},
      std::span<char>(token, sizeof token),
      dialect_ == UpbitDialect::bithumb ? clock::wall_ns() / 1'000'000 : -1);
  return n == 0 ? std::string() : "Bearer " + std::string(token, n);
}

bool UpbitApi::new_order(const OrderRequest& o, std::string_view market,
                         HttpRequestText& out) noexcept {
  // The same parameters twice: as the JSON body, and as key=value& for the query_hash, in the
  // same order and unescaped (docs/venues.md).
  // Bithumb names the type and the client id differently and places on /v2.
  const bool bithumb = dialect_ == UpbitDialect::bithumb;
  const std::string_view type_key = bithumb ? "order_type" : "ord_type";
  const std::string_view id_key = bithumb ? "client_order_id" : "identifier";
  const std::string_view side = o.side == Side::buy ? "bid" : "ask";
  TextBuffer<512> query;
  TextBuffer<512> body;
  query.put("market=").put(market).put("&side=").put(side).put("&volume=").put(o.qty);
  query.put("&price=").put(o.price).put("&").put(type_key).put("=limit");
  body.put(R"({"market":")").put(market).put(R"(","side":")").put(side);
  body.put(R"(","volume":")").put(o.qty).put(R"(","price":")").put(o.price);
  body.put(R"(",")").put(type_key).put(R"(":"limit")");
  if (o.tif != TimeInForce::gtc) {
    query.put("&time_in_force=").put(tif_text(o.tif));
    body.put(R"(,"time_in_force":")").put(tif_text(o.tif)).put(R"(")");
  }
  query.put("&").put(id_key).put("=").put(o.client_id.view());
  body.put(R"(,")").put(id_key).put(R"(":")").put(o.client_id.view()).put(R"("})");
  if (query.overflow() || body.overflow()) return false;
  return request("POST", bithumb ? "/v2/orders" : "/v1/orders", query.view(), body.view(), true,
                 out);
}

bool UpbitApi::get_order(std::string_view identifier, HttpRequestText& out) noexcept {
  TextBuffer<256> q;
  q.put(dialect_ == UpbitDialect::bithumb ? "client_order_id=" : "identifier=").put(identifier);
  return !q.overflow() && request("GET", "/v1/order", q.view(), {}, true, out);
}

bool UpbitApi::cancel_order(std::string_view identifier, HttpRequestText& out) noexcept {
  const bool bithumb = dialect_ == UpbitDialect::bithumb;
  TextBuffer<256> q;
  q.put(bithumb ? "client_order_id=" : "identifier=").put(identifier);
  return !q.overflow() &&
         request("DELETE", bithumb ? "/v2/order" : "/v1/order", q.view(), {}, true, out);
}

bool UpbitApi::accounts(HttpRequestText& out) noexcept {
  return request("GET", "/v1/accounts", {}, {}, true, out);
}

bool UpbitApi::open_orders(std::string_view market, HttpRequestText& out) noexcept {
  TextBuffer<256> q;
  if (!market.empty()) q.put("market=").put(market);
  const std::string_view path =
      dialect_ == UpbitDialect::bithumb ? "/v2/orders/pending" : "/v1/orders/open";
  return !q.overflow() && request("GET", path, q.view(), {}, true, out);
}

bool UpbitApi::instruments(std::string_view markets_csv, HttpRequestText& out) noexcept {
  TextBuffer<512> q;
  q.put("markets=").put(markets_csv);
  return !q.overflow() && request("GET", "/v1/orderbook/instruments", q.view(), {}, false, out);
}

bool UpbitApi::orderbook(std::string_view markets_csv, HttpRequestText& out) noexcept {
  TextBuffer<512> q;
  q.put("markets=").put(markets_csv);
  return !q.overflow() && request("GET", "/v1/orderbook", q.view(), {}, false, out);
}

// ---------------------------------------------------------------------------------------------

struct UpbitParser::Impl {
  UpbitDialect dialect = UpbitDialect::upbit;
  od::parser parser;
  net::json::JsonInput input{64 * 1024, 8 << 20};  // grows rarely, up to the largest answer

  simdjson::error_code start(std::string_view body, od::document& doc) noexcept {
    return input.start(body, parser, doc);
  }
};

UpbitParser::UpbitParser(UpbitDialect dialect) : impl_(std::make_unique<Impl>()) {
  impl_->dialect = dialect;
  // simdjson sizes its parser to the document: reserve, so answers do not reallocate it.
  // (Should it fail, iterate() allocates when it needs to.)
  [[maybe_unused]] const auto reserved = impl_->parser.allocate(64 * 1024);
}
UpbitParser::~UpbitParser() = default;

namespace {

// Reads one order object; `market` receives its market when asked.
Errc read_order(od::object obj, UpbitDialect dialect, OrderStatus& out,
                std::string_view* market) noexcept {
  out = OrderStatus{};
  const std::string_view id_key = dialect == UpbitDialect::bithumb ? "client_order_id" : "identifier";
  std::string_view state;
  Decimal volume, limit_price, executed_funds, trades_qty;
  bool have_state = false, have_funds = false, have_trades = false;
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
      return Errc::malformed;
    }
    if (key == "uuid" || key == "order_id") {
      std::string_view s;
      if (v.get_string().get(s) == SUCCESS) out.venue_id.assign(s);
    } else if (key == id_key) {
      std::string_view s;
      if (v.get_string().get(s) == SUCCESS) out.client_id.assign(s);
    } else if (key == "state") {
      if (v.get_string().get(state) != SUCCESS) return Errc::malformed;
      have_state = true;
    } else if (key == "market") {
      std::string_view s;
      if (v.get_string().get(s) == SUCCESS) {
        out.symbol.assign(s);
        if (market != nullptr) *market = s;
      }
    } else if (key == "side") {
      std::string_view s;
      if (v.get_string().get(s) == SUCCESS && (s == "bid" || s == "ask")) {
        out.side = s == "bid" ? Side::buy : Side::sell;
      }
    } else if (key == "volume") {
      if (!decimal_of(v, volume)) return Errc::malformed;
    } else if (key == "price") {
      bool null = false;
      if (v.is_null().get(null) == SUCCESS && null) continue;  // a market order has none
      if (!decimal_of(v, limit_price)) return Errc::malformed;
    } else if (key == "executed_funds") {
      if (!decimal_of(v, executed_funds)) return Errc::malformed;
      have_funds = true;
    } else if (key == "executed_volume") {
      if (!decimal_of(v, out.filled_qty)) return Errc::malformed;
    } else if (key == "paid_fee") {
      if (!decimal_of(v, out.fee_quote)) return Errc::malformed;
    } else if (key == "trades") {
      od::array trades;
      if (v.get_array().get(trades) != SUCCESS) return Errc::malformed;
      Int128 notional = 0;
      for (auto t : trades) {
        od::object trade;
        if (t.get_object().get(trade) != SUCCESS) return Errc::malformed;
        Decimal price, qty;
        for (auto tf : trade) {
          std::string_view k;
          od::value tv;
          if (tf.unescaped_key().get(k) != SUCCESS || tf.value().get(tv) != SUCCESS) {
            return Errc::malformed;
          }
          if (k == "price") {
            if (!decimal_of(tv, price)) return Errc::malformed;
          } else if (k == "volume") {
            if (!decimal_of(tv, qty)) return Errc::malformed;
          }
        }
        if (price.mantissa() < 0 || qty.mantissa() <= 0) return Errc::malformed;
        notional += static_cast<Int128>(price.mantissa()) * qty.mantissa();
        if (add(trades_qty, qty, trades_qty) != Errc::ok) return Errc::malformed;
      }
      out.filled_notional_e16 = notional;
      have_trades = true;
    }
  }
  if (!have_state) {
    // Bithumb acknowledges a placed or cancelled order with its id and no state.
    if (dialect != UpbitDialect::bithumb || out.venue_id.empty()) return Errc::malformed;
    out.state = OrderState::acked;
    out.filled_qty = Decimal{};
    out.filled_notional_e16 = 0;
    return Errc::ok;
  }
  // Negative, or more filled than ordered: no answer about this order.
  if (out.filled_qty.mantissa() < 0 || (volume.is_positive() && out.filled_qty > volume)) {
    return Errc::malformed;
  }
  // What the fills cost: the trades when they account for the whole executed volume; else
  // executed_funds; else, at worst, the limit price (a bid paid no more, an ask got no less).
  // An executed volume with none of these cannot be priced: the answer is unusable.
  if (have_trades && trades_qty == out.filled_qty) {
    out.fills_known = true;
  } else if (!out.filled_qty.is_positive()) {
    out.filled_notional_e16 = 0;
  } else if (have_funds && executed_funds.is_positive()) {
    out.filled_notional_e16 = static_cast<Int128>(executed_funds.mantissa()) * Decimal::kOne;
  } else if (limit_price.is_positive()) {
    out.filled_notional_e16 =
        static_cast<Int128>(limit_price.mantissa()) * out.filled_qty.mantissa();
  } else {
    return Errc::malformed;
  }
  out.orig_qty = volume;
  out.state = dialect == UpbitDialect::bithumb ? bithumb_order_state(state, out.filled_qty, volume)
                                             : upbit_order_state(state, out.filled_qty, volume);
  return Errc::ok;
}

}  // namespace

Errc UpbitParser::parse_order(std::string_view body, OrderStatus& out) noexcept {
  od::document doc;
  od::object obj;
  if (impl_->start(body, doc) != SUCCESS || doc.get_object().get(obj) != SUCCESS) {
    return Errc::malformed;
  }
  return read_order(obj, impl_->dialect, out, nullptr);
}

bool UpbitParser::parse_error(std::string_view body, VenueError& out) noexcept {
  od::document doc;
  od::object err;
  if (impl_->start(body, doc) != SUCCESS || doc["error"].get_object().get(err) != SUCCESS) {
    return false;
  }
  bool have_name = false;
  for (auto field : err) {
    std::string_view key, value;
    if (field.unescaped_key().get(key) != SUCCESS) return false;
    od::value v;
    if (field.value().get(v) != SUCCESS) return false;
    // Bithumb's name may be a number: kept as its text.
    std::uint64_t number = 0;
    char digits[24];
    if (key == "name" && v.get_uint64().get(number) == SUCCESS) {
      const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, number);
      value = std::string_view(digits, static_cast<std::size_t>(end - digits));
    } else if (v.get_string().get(value) != SUCCESS) {
      continue;
    }
    if (key == "name") {
      out.name.assign(value);
      have_name = true;
    } else if (key == "message") {
      out.message.assign_utf8(value);
    }
  }
  return have_name;
}

Errc UpbitParser::parse_accounts(std::string_view body, std::vector<UpbitAccount>& out) {
  od::document doc;
  od::array list;
  if (impl_->start(body, doc) != SUCCESS || doc.get_array().get(list) != SUCCESS) {
    return Errc::malformed;
  }
  for (auto item : list) {
    od::object o;
    if (item.get_object().get(o) != SUCCESS) return Errc::malformed;
    UpbitAccount a;
    for (auto field : o) {
      std::string_view key;
      od::value v;
      if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
        return Errc::malformed;
      }
      if (key == "currency") {
        std::string_view s;
        if (v.get_string().get(s) != SUCCESS) return Errc::malformed;
        a.currency = std::string(s);
      } else if (key == "balance") {
        if (!decimal_of(v, a.balance)) return Errc::malformed;
      } else if (key == "locked") {
        if (!decimal_of(v, a.locked)) return Errc::malformed;
      }
    }
    out.push_back(std::move(a));
  }
  return Errc::ok;
}

Errc UpbitParser::parse_orders(std::string_view body, std::vector<OrderStatus>& out,
                               std::vector<std::string>& markets) {
  od::document doc;
  od::array list;
  if (impl_->start(body, doc) != SUCCESS) return Errc::malformed;
  // Bithumb's pending orders come as {"data":[..],"has_next":..,"next_key":..}.
  const bool wrapped = impl_->dialect == UpbitDialect::bithumb;
  if ((wrapped ? doc["data"].get_array().get(list) : doc.get_array().get(list)) != SUCCESS) {
    return Errc::malformed;
  }
  for (auto item : list) {
    od::object o;
    if (item.get_object().get(o) != SUCCESS) return Errc::malformed;
    OrderStatus s;
    std::string_view market;
    if (const Errc e = read_order(o, impl_->dialect, s, &market); e != Errc::ok) return e;
    markets.emplace_back(market);
    out.push_back(s);
  }
  return Errc::ok;
}

namespace {

// myAsset's assets: [{currency, balance, locked}, ...].
bool read_assets(od::value v, StreamUpdate& out) noexcept {
  od::array list;
  if (v.get_array().get(list) != SUCCESS) return false;
  for (auto item : list) {
    od::object o;
    if (item.get_object().get(o) != SUCCESS) return false;
    StreamUpdate::Asset a;
    for (auto field : o) {
      std::string_view key;
      od::value fv;
      if (field.unescaped_key().get(key) != SUCCESS || field.value().get(fv) != SUCCESS) {
        return false;
      }
      if (key == "currency") {
        std::string_view c;
        if (fv.get_string().get(c) != SUCCESS) return false;
        a.currency.assign(c);
      } else if (key == "balance") {
        if (!decimal_of(fv, a.balance)) return false;
      } else if (key == "locked") {
        if (!decimal_of(fv, a.locked)) return false;
      }
    }
    if (a.currency.empty()) return false;
    if (out.asset_count < StreamUpdate::kMaxAssets) out.assets[out.asset_count++] = a;
  }
  return true;
}

}  // namespace

Errc UpbitParser::parse_stream(std::string_view frame, StreamUpdate& out) noexcept {
  out.kind = StreamUpdate::Kind::none;
  out.order = OrderStatus{};
  out.asset_count = 0;
  out.error = VenueError{};
  od::document doc;
  od::object obj;
  if (impl_->start(frame, doc) != SUCCESS || doc.get_object().get(obj) != SUCCESS) {
    return Errc::malformed;
  }
  const bool bithumb = impl_->dialect == UpbitDialect::bithumb;
  // The names of the two dialects (docs/venues.md): Upbit v1, Bithumb v2.
  const std::string_view id_key = bithumb ? "client_order_id" : "identifier";
  const std::string_view venue_id_key = bithumb ? "order_id" : "uuid";
  const std::string_view side_key = bithumb ? "side" : "ask_bid";
  const std::string_view executed_key = bithumb ? "executed_quantity" : "executed_volume";
  const std::string_view remaining_key = bithumb ? "remaining_quantity" : "remaining_volume";
  const std::string_view funds_key = bithumb ? "executed_amount" : "executed_funds";
  std::string_view type, state;
  Decimal remaining, funds;
  bool have_executed = false, have_remaining = false, have_funds = false, have_assets = false;
  OrderStatus& o = out.order;
  for (auto field : obj) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) != SUCCESS || field.value().get(v) != SUCCESS) {
      return Errc::malformed;
    }
    std::string_view text;
    if (key == "type") {
      if (v.get_string().get(type) != SUCCESS) return Errc::malformed;
    } else if (key == "error") {
      od::object err;
      if (v.get_object().get(err) != SUCCESS) return Errc::malformed;
      for (auto ef : err) {
        std::string_view k, t;
        od::value ev;
        if (ef.unescaped_key().get(k) != SUCCESS || ef.value().get(ev) != SUCCESS) {
          return Errc::malformed;
        }
        if (ev.get_string().get(t) != SUCCESS) continue;
        if (k == "name") out.error.name.assign(t);
        if (k == "message") out.error.message.assign_utf8(t);
      }
      out.kind = StreamUpdate::Kind::error;
      return Errc::ok;
    } else if (key == "code") {
      if (v.get_string().get(text) != SUCCESS) return Errc::malformed;
      o.symbol.assign(text);
    } else if (key == venue_id_key) {
      if (v.get_string().get(text) == SUCCESS) o.venue_id.assign(text);
    } else if (key == id_key) {
      if (v.get_string().get(text) == SUCCESS) o.client_id.assign(text);
    } else if (key == side_key) {
      if (v.get_string().get(text) != SUCCESS) return Errc::malformed;
      if (text == "BID" || text == "bid" || text == "buy") o.side = Side::buy;
      if (text == "ASK" || text == "ask" || text == "sell") o.side = Side::sell;
    } else if (key == "state") {
      if (v.get_string().get(state) != SUCCESS) return Errc::malformed;
    } else if (key == executed_key) {
      if (!decimal_of(v, o.filled_qty)) return Errc::malformed;
      have_executed = true;
    } else if (key == remaining_key) {
      if (!decimal_of(v, remaining)) return Errc::malformed;
      have_remaining = true;
    } else if (key == funds_key) {
      if (!decimal_of(v, funds)) return Errc::malformed;
      have_funds = true;
    } else if (key == "paid_fee") {
      if (!decimal_of(v, o.fee_quote)) return Errc::malformed;
    } else if (key == "assets") {
      if (!read_assets(v, out)) return Errc::malformed;
      have_assets = true;
    }
  }
  if (type == "myAsset") {
    if (!have_assets) return Errc::malformed;
    out.kind = StreamUpdate::Kind::assets;
    return Errc::ok;
  }
  if (type != "myOrder") return Errc::ok;  // nothing for exec
  // Every number that settles an order must be there: an event without them is dropped, and
  // the order is settled by a query instead.
  if (state.empty() || o.symbol.empty() || !have_executed || !have_remaining ||
      (o.filled_qty.is_positive() && !have_funds) || (o.client_id.empty() && o.venue_id.empty())) {
    return Errc::malformed;
  }
  // On Upbit's `trade` events `volume` is the execution's: the order's is executed + remaining.
  if (add(o.filled_qty, remaining, o.orig_qty) != Errc::ok) return Errc::malformed;
  o.filled_notional_e16 = static_cast<Int128>(funds.mantissa()) * Decimal::kOne;
  if (state == "trade" || state == "watch") state = "wait";  // still working
  if (state == "prevented") state = "cancel";                // self-trade prevention ended it
  o.state = bithumb ? bithumb_order_state(state, o.filled_qty, o.orig_qty)
                    : upbit_order_state(state, o.filled_qty, o.orig_qty);
  if (o.state == OrderState::unknown) return Errc::malformed;
  out.kind = StreamUpdate::Kind::order;
  return Errc::ok;
}

void upbit_header(std::string_view name, std::string_view value, RateLimitState& state) noexcept {
  if (iequals(name, "Retry-After")) {
    std::int64_t v = -1;
    (void)std::from_chars(value.data(), value.data() + value.size(), v);
    state.retry_after_s = v;
    return;
  }
  if (!iequals(name, "Remaining-Req")) return;
  // "group=default; min=1800; sec=29"
  while (!value.empty()) {
    const std::size_t semi = value.find(';');
    std::string_view part = value.substr(0, semi);
    value = semi == std::string_view::npos ? std::string_view{} : value.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view k = part.substr(0, eq), v = part.substr(eq + 1);
    if (k == "group") {
      state.remaining_group.assign(v);
    } else if (k == "sec") {
      std::int64_t n = -1;
      (void)std::from_chars(v.data(), v.data() + v.size(), n);
      state.remaining_sec = n;
    }
  }
}

}  // namespace xarb::exec
