#pragma once

// Binance spot REST (docs/venues.md): signed requests written as complete HTTP/1.1 messages into
// fixed buffers, and the venue's JSON answers parsed into OrderStatus. No I/O here: the venue
// classes send what this writes and hand back what they receive.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/core/errc.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/exec/orders.hpp>
#include <xarb/exec/signing.hpp>
#include <xarb/net/url.hpp>

namespace xarb::exec {

[[nodiscard]] OrderState binance_order_state(std::string_view status) noexcept;

class BinanceApi {
 public:
  BinanceApi(Credentials credentials, net::Url endpoint, std::int64_t recv_window_ms);

  // Signed requests; `timestamp_ms` is the local clock plus the server offset. False when the
  // request does not fit the buffer.
  bool new_order(const OrderRequest& order, std::string_view symbol, std::int64_t timestamp_ms,
                 HttpRequestText& out) noexcept;
  bool query_order(std::string_view symbol, std::string_view client_id, std::int64_t timestamp_ms,
                   HttpRequestText& out) noexcept;
  bool cancel_order(std::string_view symbol, std::string_view client_id,
                    std::int64_t timestamp_ms, HttpRequestText& out) noexcept;
  // GET /api/v3/myTrades for one order: its commissions, which GET /api/v3/order does not list.
  bool my_trades(std::string_view symbol, std::string_view order_id, std::int64_t timestamp_ms,
                 HttpRequestText& out) noexcept;
  bool account(std::int64_t timestamp_ms, HttpRequestText& out) noexcept;
  bool open_orders(std::string_view symbol, std::int64_t timestamp_ms,
                   HttpRequestText& out) noexcept;
  // The WebSocket API request that subscribes its connection to this key's user data stream
  // (userDataStream.subscribe.signature, HMAC over the sorted parameters), with request id `id`.
  [[nodiscard]] std::string stream_subscription(std::int64_t timestamp_ms, std::uint64_t id) const;
  // The same orders, queries and cancels as WebSocket API requests (order.place, order.status,
  // order.cancel) with request id "o-<tag>": every parameter, apiKey included, sorted by name and
  // signed as the API signs (not percent-encoded).
  bool ws_new_order(const OrderRequest& order, std::string_view symbol, std::int64_t timestamp_ms,
                    std::uint64_t tag, WsRequestText& out) noexcept;
  bool ws_query_order(std::string_view symbol, std::string_view client_id,
                      std::int64_t timestamp_ms, std::uint64_t tag, WsRequestText& out) noexcept;
  bool ws_cancel_order(std::string_view symbol, std::string_view client_id,
                       std::int64_t timestamp_ms, std::uint64_t tag, WsRequestText& out) noexcept;
  // Public.
  bool server_time(HttpRequestText& out) noexcept;
  bool exchange_info(std::string_view symbols_json_array, HttpRequestText& out) noexcept;

  [[nodiscard]] const Credentials& credentials() const noexcept { return credentials_; }
  [[nodiscard]] const net::Url& endpoint() const noexcept { return endpoint_; }

 private:
  bool signed_request(std::string_view method, std::string_view path, TextBuffer<1024>& params,
                      std::int64_t timestamp_ms, bool body, HttpRequestText& out) noexcept;
  // `pairs`: the parameters as name, value, name, value, ... sorted by name, without apiKey,
  // recvWindow and timestamp (added in their places).
  bool ws_request(std::string_view method, std::uint64_t tag,
                  std::initializer_list<std::string_view> pairs, std::int64_t timestamp_ms,
                  WsRequestText& out) noexcept;

  Credentials credentials_;
  net::Url endpoint_;
  std::string host_header_;
  std::string path_prefix_;
  std::int64_t recv_window_ms_;
  std::unique_ptr<HmacKey> signer_;  // keyed once with the secret
};

struct Balance {
  std::string asset;
  Decimal free;
  Decimal locked;
};

// Parses Binance answers. One per thread; reuses its buffers (after warm-up an order response
// parses without allocating).
class BinanceParser {
 public:
  BinanceParser();
  ~BinanceParser();
  BinanceParser(const BinanceParser&) = delete;
  BinanceParser& operator=(const BinanceParser&) = delete;

  // An order object (the FULL answer of POST, or GET / DELETE). `base` and `quote` name the
  // instrument's assets so that commissions are sorted by asset.
  [[nodiscard]] Errc parse_order(std::string_view body, std::string_view base,
                                 std::string_view quote, OrderStatus& out) noexcept;
  // The answer of my_trades() for the order `out` describes (its venue_id and filled_qty set by
  // parse_order): sets its notional and commissions by asset. Malformed when a trade belongs to
  // another order or the trades do not add up to the order's executed quantity.
  [[nodiscard]] Errc parse_trades(std::string_view body, std::string_view base,
                                  std::string_view quote, OrderStatus& out) noexcept;
  // {"code":-2010,"msg":"..."}: true when the body is an error object.
  [[nodiscard]] bool parse_error(std::string_view body, VenueError& out) noexcept;
  [[nodiscard]] Errc parse_server_time(std::string_view body, std::int64_t& ms) noexcept;
  // One message on the WebSocket API connection that holds the user data stream: an event
  // ({"subscriptionId":N,"event":{...}}) or the answer to a request ({"id","status",...}).
  // executionReport: an order (z and Z cumulative, this event's execution in `execution`; its
  // fees are not summed here, see BinanceExecutions); outboundAccountPosition: balances; an
  // answer with an error, eventStreamTerminated or serverShutdown: an error; the rest: none.
  [[nodiscard]] Errc parse_stream(std::string_view frame, StreamUpdate& out) noexcept;
  // Start-up and operator commands (allocate).
  [[nodiscard]] Errc parse_account(std::string_view body, std::vector<Balance>& out);
  [[nodiscard]] Errc parse_open_orders(std::string_view body, std::vector<OrderStatus>& out,
                                       std::vector<std::string>& symbols);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Binance states an order's commission per execution only (executionReport n, N): its totals are
// the sum over the executions seen. Keeps that sum per order, for the last kOrders orders, in
// place (no allocation).
class BinanceExecutions {
 public:
  static constexpr std::size_t kOrders = 64;
  // Adds `u`'s execution to its order's sums. When they cover the order's cumulative quantity,
  // states the exact notional and the fees by asset (base and quote name the instrument's) in
  // `u.order`, with fills_known; else sets u.complete = false. An order that ended is forgotten.
  void apply(StreamUpdate& u, std::string_view base, std::string_view quote) noexcept;

 private:
  struct Sums {
    ClientOrderId id;
    Int128 notional = 0;
    std::int64_t qty = 0, fee_quote = 0, fee_base = 0, fee_other = 0;
    std::uint64_t used = 0;  // 0: free
  };
  std::array<Sums, kOrders> orders_{};
  std::uint64_t clock_ = 0;
};

// A response header that carries rate-limit state, folded into `state`.
void binance_header(std::string_view name, std::string_view value, RateLimitState& state) noexcept;

}  // namespace xarb::exec
