#pragma once

// One venue's REST as RestVenue needs it: how its requests are written and signed, how its
// answers, errors and rate-limit headers read, what it needs at start-up (server time, trading
// rules) and as upkeep. RestVenue owns the connections, the requests in flight, the balances
// and the events; an adapter does no I/O. One adapter per venue (exec/src/venues/<venue>.cpp),
// and one registry line (registry.cpp) maps a venue id to it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/core/errc.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/exec/venues/binance_api.hpp>
#include <xarb/exec/orders.hpp>
#include <xarb/exec/paper_venue.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/exec/rules.hpp>
#include <xarb/exec/venue.hpp>
#include <xarb/net/https_client.hpp>
#include <xarb/net/url.hpp>
#include <xarb/net/ws_client.hpp>

namespace xarb::exec::adapters {

// The orders this process wrote, by time: what a venue's own counters (the headers of answers
// still to come) may not have told yet. The venue's thread only; does not allocate.
class SentOrders {
 public:
  void note(std::int64_t now_ns) noexcept { at_[next_++ % at_.size()] = now_ns; }
  // How many were written after `since_ns` (at most the ring's size, above any venue's window).
  [[nodiscard]] std::int64_t after(std::int64_t since_ns) const noexcept {
    std::int64_t n = 0;
    for (const std::int64_t t : at_) n += t != 0 && t > since_ns ? 1 : 0;
    return n;
  }

 private:
  std::array<std::int64_t, 256> at_{};  // mono ns
  std::size_t next_ = 0;
};

// Whether `part` occurs in `text` (error messages and names).
[[nodiscard]] inline bool contains(std::string_view text, std::string_view part) noexcept {
  return text.find(part) != std::string_view::npos;
}

// The venues' parsers list open orders as two columns, statuses and their market names; a
// RestAdapter hands them on as rows.
inline void append_open_orders(const std::vector<OrderStatus>& orders,
                               const std::vector<std::string>& names, std::vector<OpenOrder>& out) {
  for (std::size_t i = 0; i < orders.size() && i < names.size(); ++i) {
    out.push_back({names[i], orders[i]});
  }
}

// Start-up's blocking request: sends `request` and gives back the answer's HTTP status and body,
// or false with `error` naming what failed on the way.
using Roundtrip = std::function<bool(int& status, std::string& body, std::string& error)>;

class RestAdapter {
 public:
  virtual ~RestAdapter() = default;

  // Requests, written into `out`; false when one does not fit the buffer. `symbol` is the
  // instrument's symbol on this venue.
  virtual bool place(const OrderRequest& order, std::string_view symbol,
                     HttpRequestText& out) noexcept = 0;
  virtual bool query(std::string_view symbol, const ClientOrderId& id,
                     HttpRequestText& out) noexcept = 0;
  virtual bool cancel(std::string_view symbol, const ClientOrderId& id,
                      HttpRequestText& out) noexcept = 0;
  virtual bool balances(HttpRequestText& out) noexcept = 0;
  virtual bool open_orders(HttpRequestText& out) noexcept = 0;
  // A cheap public request: the health probe of a venue that stopped answering.
  virtual bool probe(HttpRequestText& out) noexcept = 0;

  // An order object of a place, query or cancel answer.
  [[nodiscard]] virtual Errc parse_order(std::string_view body, const Instrument& instrument,
                                         OrderStatus& out) noexcept = 0;
  // The venue's error object, with its kind set; false when the body is not one.
  [[nodiscard]] virtual bool parse_error(std::string_view body, VenueError& out) noexcept = 0;
  [[nodiscard]] virtual Errc parse_balances(std::string_view body,
                                            std::vector<AssetBalance>& out) = 0;
  [[nodiscard]] virtual Errc parse_open_orders(std::string_view body,
                                               std::vector<OpenOrder>& out) = 0;

  // An order answer that does not settle its commissions (Binance's GET and DELETE list no
  // fills): writes the request whose answer does. False when `s` needs none.
  virtual bool follow_up(const OrderStatus& s, std::string_view symbol,
                         HttpRequestText& out) noexcept {
    (void)s, (void)symbol, (void)out;
    return false;
  }
  [[nodiscard]] virtual Errc parse_follow_up(std::string_view body, const Instrument& instrument,
                                             OrderStatus& out) noexcept {
    (void)body, (void)instrument, (void)out;
    return Errc::malformed;
  }

  // Blocking start-up, after the connections are up: server time, trading rules. Each request
  // is written into `scratch` and sent with `roundtrip`.
  [[nodiscard]] virtual bool start(const SymbolMap& symbols, RulesTable& rules,
                                   HttpRequestText& scratch, const Roundtrip& roundtrip,
                                   std::string& error) = 0;
  // Periodic upkeep (Binance's server time): writes the request when one is due at `now_ns`.
  virtual bool upkeep(std::int64_t now_ns, HttpRequestText& out) noexcept {
    (void)now_ns, (void)out;
    return false;
  }
  // The upkeep request upkeep() wrote could not be sent (no free request slot): due again.
  virtual void upkeep_not_sent() noexcept {}
  // The answer of an upkeep or probe request written at `sent_wall_ms`.
  virtual void on_upkeep(const net::HttpAnswer& a, std::int64_t sent_wall_ms) noexcept {
    (void)a, (void)sent_wall_ms;
  }
  // A refused order request (after parse_error): Binance resynchronises its clock on -1021.
  virtual void on_rejected(const VenueError& e) noexcept { (void)e; }
  [[nodiscard]] virtual std::optional<std::int64_t> time_offset_ms() const noexcept {
    return std::nullopt;
  }

  // Rate limits: a response header; how many orders may go out now; how long a 429 without
  // Retry-After blocks; whether it blocks only its own group (orders, or the rest) rather than
  // the whole venue.
  virtual void on_header(std::string_view name, std::string_view value,
                         RateLimitState& rate) noexcept = 0;
  virtual void order_budget(std::int64_t now_ns, const RateLimitState& rate,
                            RateBudget& out) const noexcept = 0;
  [[nodiscard]] virtual std::int64_t default_block_ns() const noexcept = 0;
  [[nodiscard]] virtual bool blocks_by_group() const noexcept = 0;
  // See VenueClient::not_found_grace_ns.
  [[nodiscard]] virtual std::int64_t not_found_grace_ns() const noexcept = 0;

  // The private stream (the account's own orders and balances, pushed). An adapter without one
  // leaves these alone, and its orders are settled by queries.
  // Its websocket's path on the host of the venue's public websocket; empty: none.
  [[nodiscard]] virtual std::string_view private_stream_path() const noexcept { return {}; }
  // The upgrade's Authorization header for a new connection (a fresh token each time).
  [[nodiscard]] virtual std::string stream_authorization() { return {}; }
  // The subscription written once a connection is open (signed, where the venue signs it).
  [[nodiscard]] virtual std::string stream_subscription(std::uint64_t ticket) {
    (void)ticket;
    return {};
  }
  // The venue's keep-alive and silence rules for the stream's connection.
  virtual void tune_stream(net::WsClientOptions& options) const noexcept { (void)options; }
  // One message of the stream.
  [[nodiscard]] virtual Errc parse_stream(std::string_view frame, StreamUpdate& out) noexcept {
    (void)frame, (void)out;
    return Errc::malformed;
  }

  // Order entry on the private stream's connection (a venue's WebSocket API: order_entry = ws):
  // the request for `tag`, written into `out`; false when the venue has none or it does not
  // fit. Its answer comes back from parse_stream() as StreamUpdate::Kind::answer.
  virtual bool stream_place(const OrderRequest& order, std::string_view symbol, std::uint64_t tag,
                            WsRequestText& out) noexcept {
    (void)order, (void)symbol, (void)tag, (void)out;
    return false;
  }
  virtual bool stream_query(std::string_view symbol, const ClientOrderId& id, std::uint64_t tag,
                            WsRequestText& out) noexcept {
    (void)symbol, (void)id, (void)tag, (void)out;
    return false;
  }
  virtual bool stream_cancel(std::string_view symbol, const ClientOrderId& id, std::uint64_t tag,
                             WsRequestText& out) noexcept {
    (void)symbol, (void)id, (void)tag, (void)out;
    return false;
  }
  [[nodiscard]] virtual bool has_stream_orders() const noexcept { return false; }

  // "HTTP 400 code -1013 ...: message": an answer that refused a request, for an operator.
  [[nodiscard]] std::string describe(int status, std::string_view body);
};

// A venue's documented order limit (docs/venues.md): its adapter's budget, and the paper
// venue's window in a backtest.
struct OrderLimit {
  std::int64_t orders = 0;
  std::int64_t window_ns = 0;
};
inline constexpr OrderLimit kBinanceOrders{50, 10'000'000'000};  // ORDERS: 50 per 10 s
inline constexpr OrderLimit kUpbitOrders{8, 1'000'000'000};      // order group: 8 per second
// 140 order requests a second per IP, but more than about 20 orders and cancels a second on one
// coin may be restricted: 20.
inline constexpr OrderLimit kBithumbOrders{20, 1'000'000'000};

// What exec knows of a venue, one registry line each (registry.cpp).
// How the venue behaves where the paper venue stands in for it.
struct PaperQuirks {
  // Its error for a refusal (code or name, message; HTTP status set by the caller).
  void (*refusal)(PaperRefusal why, Side side, VenueError& out) noexcept = nullptr;
  bool buy_fee_in_base = false;  // a buy's commission is taken from the base asset bought
  OrderState ioc_rest = OrderState::canceled;  // the state of an IOC whose rest went unfilled
  OrderLimit orders;  // its documented order limit
};

struct ExecVenue {
  Venue id = kNoVenue;
  std::unique_ptr<RestAdapter> (*make_rest)(const RestVenueOptions& options,
                                            const net::Url& endpoint) = nullptr;
  VenueErrorKind (*error_kind)(const VenueError& e) noexcept = nullptr;
  PaperQuirks paper;
};

// The venue's line; nullptr for a venue exec cannot trade.
[[nodiscard]] const ExecVenue* find(Venue venue) noexcept;

// The adapters.
std::unique_ptr<RestAdapter> make_binance(const RestVenueOptions& options,
                                          const net::Url& endpoint);
VenueErrorKind binance_error_kind(const VenueError& e) noexcept;
std::unique_ptr<RestAdapter> make_upbit(const RestVenueOptions& options, const net::Url& endpoint);
VenueErrorKind upbit_error_kind(const VenueError& e) noexcept;
std::unique_ptr<RestAdapter> make_bithumb(const RestVenueOptions& options,
                                          const net::Url& endpoint);
VenueErrorKind bithumb_error_kind(const VenueError& e) noexcept;
void binance_paper_refusal(PaperRefusal why, Side side, VenueError& out) noexcept;
void upbit_paper_refusal(PaperRefusal why, Side side, VenueError& out) noexcept;
void bithumb_paper_refusal(PaperRefusal why, Side side, VenueError& out) noexcept;

}  // namespace xarb::exec::adapters
