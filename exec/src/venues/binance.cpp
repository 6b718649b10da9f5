// Binance spot REST as an adapter (docs/venues.md): HMAC-signed requests with the server-time
// offset, FULL order answers, myTrades for the commissions GET and DELETE do not list, the
// exchangeInfo filters, per-IP limits with the order count of the last 10 s. Its private stream
// is the user data stream, held on a WebSocket API connection (/ws-api/v3): subscribed with
// userDataStream.subscribe.signature, executionReport and outboundAccountPosition read, the
// commissions summed over each order's executions.

#include <algorithm>

#include <xarb/core/clock.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/venues/registry.hpp>

#include "adapter.hpp"

namespace xarb::exec::adapters {
namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;

class Binance final : public RestAdapter {
 public:
  Binance(const RestVenueOptions& o, const net::Url& endpoint)
      : options_(o), api_(o.credentials, endpoint, o.recv_window_ms) {}

  bool place(const OrderRequest& order, std::string_view symbol,
             HttpRequestText& out) noexcept override {
    if (!api_.new_order(order, symbol, now_ms(), out)) return false;
    sent_.note(clock::mono_ns());
    return true;
  }
  bool query(std::string_view symbol, const ClientOrderId& id,
             HttpRequestText& out) noexcept override {
    return api_.query_order(symbol, id.view(), now_ms(), out);
  }
  bool cancel(std::string_view symbol, const ClientOrderId& id,
              HttpRequestText& out) noexcept override {
    return api_.cancel_order(symbol, id.view(), now_ms(), out);
  }
  bool balances(HttpRequestText& out) noexcept override { return api_.account(now_ms(), out); }
  bool open_orders(HttpRequestText& out) noexcept override {
    return api_.open_orders("", now_ms(), out);
  }
  bool probe(HttpRequestText& out) noexcept override { return api_.server_time(out); }

  Errc parse_order(std::string_view body, const Instrument& instrument,
                   OrderStatus& out) noexcept override {
    return parser_.parse_order(body, instrument.base.view(), venues::quote_asset(venues::kBinance),
                               out);
  }
  bool parse_error(std::string_view body, VenueError& out) noexcept override {
    const bool parsed = parser_.parse_error(body, out);
    classify(venues::kBinance, out);
    return parsed;
  }
  Errc parse_balances(std::string_view body, std::vector<AssetBalance>& out) override {
    std::vector<Balance> list;
    const Errc e = parser_.parse_account(body, list);
    for (const Balance& b : list) out.push_back({b.asset, b.free, b.locked});
    return e;
  }
  Errc parse_open_orders(std::string_view body, std::vector<OpenOrder>& out) override {
    std::vector<OrderStatus> orders;
    std::vector<std::string> names;
    const Errc e = parser_.parse_open_orders(body, orders, names);
    append_open_orders(orders, names, out);
    return e;
  }

  // GET and DELETE answers list no fills, hence no commission, nor the asset it was charged in
  // (the base on a buy, the quote on a sell, or BNB): the order's trades say.
  bool follow_up(const OrderStatus& s, std::string_view symbol,
                 HttpRequestText& out) noexcept override {
    if (s.fills_known || !s.filled_qty.is_positive()) return false;
    return api_.my_trades(symbol, s.venue_id.view(), now_ms(), out);
  }
  Errc parse_follow_up(std::string_view body, const Instrument& instrument,
                       OrderStatus& out) noexcept override {
    return parser_.parse_trades(body, instrument.base.view(), venues::quote_asset(venues::kBinance),
                                out);
  }

  bool start(const SymbolMap& symbols, RulesTable& rules, HttpRequestText& scratch,
             const Roundtrip& roundtrip, std::string& error) override {
    symbols_ = &symbols;
    std::string body;
    int status = 0;
    const std::int64_t sent = clock::wall_ms();
    if (!api_.server_time(scratch) || !roundtrip(status, body, error)) {
      error = "server time: " + error;
      return false;
    }
    std::int64_t server = 0;
    if (status / 100 != 2 || parser_.parse_server_time(body, server) != Errc::ok) {
      error = "server time: " + describe(status, body);
      return false;
    }
    offset_ms_ = server - (sent + clock::wall_ms()) / 2;
    next_sync_ns_ = clock::mono_ns() + options_.time_sync_interval_ns;
    std::string list = "[";
    for (const Instrument& i : symbols) {
      if (!i.listed_on(venues::kBinance)) continue;
      if (list.size() > 1) list += ',';
      list.append("\"").append(i.symbol(venues::kBinance)).append("\"");
    }
    list += "]";
    if (!api_.exchange_info(list, scratch) || !roundtrip(status, body, error)) {
      error = "exchangeInfo: " + error;
      return false;
    }
    if (status / 100 != 2) {
      error = "exchangeInfo: " + describe(status, body);
      return false;
    }
    std::string parse_error;
    load_binance_rules(body, symbols, rules, parse_error);
    for (const Instrument& i : symbols) {
      if (i.listed_on(venues::kBinance) && !rules.at(venues::kBinance, i.id).loaded) {
        error = "exchangeInfo has no trading rules for " + std::string(i.symbol(venues::kBinance)) +
                (parse_error.empty() ? "" : " (" + parse_error + ")");
        return false;
      }
    }
    return true;
  }

  // Refreshes the server-time offset periodically and after a -1021.
  bool upkeep(std::int64_t now_ns, HttpRequestText& out) noexcept override {
    if (now_ns < next_sync_ns_ || next_sync_ns_ < 0 || !api_.server_time(out)) return false;
    next_sync_ns_ = now_ns + options_.time_sync_interval_ns;
    return true;
  }
  void upkeep_not_sent() noexcept override { next_sync_ns_ = 0; }
  void on_upkeep(const net::HttpAnswer& a, std::int64_t sent_wall_ms) noexcept override {
    std::int64_t server = 0;
    if (!a.transport_error && a.status / 100 == 2 &&
        parser_.parse_server_time(a.body, server) == Errc::ok) {
      // The server read its clock about halfway through the round trip.
      offset_ms_ = server - (sent_wall_ms + clock::wall_ms()) / 2;
    }
  }
  void on_rejected(const VenueError& e) noexcept override {
    if (e.code == -1021) next_sync_ns_ = 0;  // timestamp outside recvWindow: resync
  }
  std::optional<std::int64_t> time_offset_ms() const noexcept override { return offset_ms_; }

  // The user data stream: on the WebSocket API's host (ws-api.binance.com), not the market
  // data's, so the config names it (private_ws_url) unless ws_url points elsewhere (a simulator).
  std::string_view private_stream_path() const noexcept override { return "/ws-api/v3"; }
  std::string stream_subscription(std::uint64_t ticket) override {
    return api_.stream_subscription(now_ms(), ticket);
  }
  // The server pings every 20 s (Beast answers), but pings are not frames: the WebSocket API's
  // own ping request every 10 s is answered with one, so 25 s without a frame is a lost
  // connection, as on the KRW venues.
  void tune_stream(net::WsClientOptions& o) const noexcept override {
    o.keepalive_text = R"({"id":"keepalive","method":"ping"})";
    o.keepalive_interval = std::chrono::seconds(10);
    o.watchdog = std::chrono::seconds(25);
    o.lifetime = std::chrono::hours(23);  // the venue closes a connection after 24 h
  }
  // Orders, queries and cancels on the same connection (order_entry = ws).
  bool stream_place(const OrderRequest& order, std::string_view symbol, std::uint64_t tag,
                    WsRequestText& out) noexcept override {
    if (!api_.ws_new_order(order, symbol, now_ms(), tag, out)) return false;
    sent_.note(clock::mono_ns());
    return true;
  }
  bool stream_query(std::string_view symbol, const ClientOrderId& id, std::uint64_t tag,
                    WsRequestText& out) noexcept override {
    return api_.ws_query_order(symbol, id.view(), now_ms(), tag, out);
  }
  bool stream_cancel(std::string_view symbol, const ClientOrderId& id, std::uint64_t tag,
                     WsRequestText& out) noexcept override {
    return api_.ws_cancel_order(symbol, id.view(), now_ms(), tag, out);
  }
  bool has_stream_orders() const noexcept override { return true; }
  Errc parse_stream(std::string_view frame, StreamUpdate& out) noexcept override {
    const Errc e = parser_.parse_stream(frame, out);
    if (e != Errc::ok) return e;
    if (out.kind == StreamUpdate::Kind::error) classify(venues::kBinance, out.error);
    if (out.kind != StreamUpdate::Kind::order || symbols_ == nullptr) return e;
    const InstrumentId id = symbols_->find(venues::kBinance, out.order.symbol.view());
    if (id == kNoInstrument) return e;  // not a symbol this process trades
    executions_.apply(out, (*symbols_)[id].base.view(), venues::quote_asset(venues::kBinance));
    return e;
  }

  void on_header(std::string_view name, std::string_view value,
                 RateLimitState& rate) noexcept override {
    binance_header(name, value, rate);
    rate_seen_ns_ = clock::mono_ns();
  }
  // A count describes the 10 s it was sent in: once they have passed with no newer header, the
  // whole budget is back.
  void order_budget(std::int64_t now_ns, const RateLimitState& rate,
                    RateBudget& out) const noexcept override {
    // The venue's count, plus the orders written since it was sent; and never fewer than this
    // process wrote in the last 10 s (the header of an answer still to come would say so).
    const bool current = rate_seen_ns_ != 0 && now_ns - rate_seen_ns_ < 10 * kSecondNs;
    const std::int64_t counted =
        current ? std::max<std::int64_t>(rate.order_count_10s, 0) + sent_.after(rate_seen_ns_) : 0;
    // The ORDERS limit: 50 per 10 s per account (docs/venues.md).
    const std::int64_t limit =
        options_.order_limit > 0 ? options_.order_limit : kBinanceOrders.orders;
    out.orders_per_window = limit;
    out.orders_available =
        limit - std::max(counted, sent_.after(now_ns - kBinanceOrders.window_ns));
  }
  // Binance's limits are per IP over a minute, and cover every request.
  std::int64_t default_block_ns() const noexcept override { return 60 * kSecondNs; }
  bool blocks_by_group() const noexcept override { return false; }
  // A request is valid while its timestamp is inside recvWindow, plus a second of clock error.
  std::int64_t not_found_grace_ns() const noexcept override {
    return (options_.recv_window_ms + 1'000) * 1'000'000;
  }

 private:
  [[nodiscard]] std::int64_t now_ms() const noexcept { return clock::wall_ms() + offset_ms_; }
  const RestVenueOptions& options_;
  BinanceApi api_;
  BinanceParser parser_;
  BinanceExecutions executions_;
  const SymbolMap* symbols_ = nullptr;  // start()'s
  std::int64_t offset_ms_ = 0;
  std::int64_t next_sync_ns_ = 0;
  std::int64_t rate_seen_ns_ = 0;  // when the last order-count header arrived
  SentOrders sent_;
};

}  // namespace

std::unique_ptr<RestAdapter> make_binance(const RestVenueOptions& options,
                                          const net::Url& endpoint) {
  return std::make_unique<Binance>(options, endpoint);
}

// The venue's own codes and messages (docs/venues.md): -1013 filter failures, -2010 a refused
// new order, -1003 too many requests, -2013 a query and -2011 a cancel of an unknown order.
void binance_paper_refusal(PaperRefusal why, Side, VenueError& out) noexcept {
  const auto say = [&](int code, std::string_view message) {
    out.code = code;
    out.message.assign(message);
  };
  switch (why) {
    case PaperRefusal::lot_size:
      return say(-1013, "Filter failure: LOT_SIZE");
    case PaperRefusal::notional:
      return say(-1013, "Filter failure: NOTIONAL");
    case PaperRefusal::insufficient_balance:
      return say(-2010, "Account has insufficient balance for requested action.");
    case PaperRefusal::duplicate:
      return say(-2010, "Duplicate order sent.");
    case PaperRefusal::rate_limited:
      return say(-1003, "Too many requests.");
    case PaperRefusal::unknown_order:
      return say(-2013, "Order does not exist.");
    case PaperRefusal::unknown_cancel:
      return say(-2011, "Unknown order sent.");
  }
}

VenueErrorKind binance_error_kind(const VenueError& e) noexcept {
  switch (e.code) {
    case -1021:
      return VenueErrorKind::timestamp;
    case -1022:
    case -2014:
    case -2015:
      return VenueErrorKind::auth;
    case -1003:
    case -1015:
      return VenueErrorKind::rate_limited;
    case -1013:
      return VenueErrorKind::filter_failure;
    case -2011:
    case -2013:
      return VenueErrorKind::unknown_order;
    case -1001:
    case -1006:
    case -1007:
      return VenueErrorKind::server;
    case -2010:
      if (contains(e.message.view(), "insufficient balance")) {
        return VenueErrorKind::insufficient_balance;
      }
      if (contains(e.message.view(), "Duplicate")) return VenueErrorKind::duplicate;
      return VenueErrorKind::other;
    default:
      return VenueErrorKind::other;
  }
}

}  // namespace xarb::exec::adapters
