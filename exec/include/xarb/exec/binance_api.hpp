#pragma once

// Binance spot REST (docs/venues.md): signed requests written as complete HTTP/1.1 messages into
// fixed buffers, and the venue's JSON answers parsed into OrderStatus. No I/O here: the venue
// classes send what this writes and hand back what they receive.

#include <cstdint>
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

using HttpRequestText = TextBuffer<4096>;

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
  // Public.
  bool server_time(HttpRequestText& out) noexcept;
  bool exchange_info(std::string_view symbols_json_array, HttpRequestText& out) noexcept;

  [[nodiscard]] const Credentials& credentials() const noexcept { return credentials_; }
  [[nodiscard]] const net::Url& endpoint() const noexcept { return endpoint_; }

 private:
  bool signed_request(std::string_view method, std::string_view path, TextBuffer<1024>& params,
                      std::int64_t timestamp_ms, bool body, HttpRequestText& out) noexcept;

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
  // Start-up and operator commands (allocate).
  [[nodiscard]] Errc parse_account(std::string_view body, std::vector<Balance>& out);
  [[nodiscard]] Errc parse_open_orders(std::string_view body, std::vector<OrderStatus>& out,
                                       std::vector<std::string>& symbols);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A response header that carries rate-limit state, folded into `state`.
void binance_header(std::string_view name, std::string_view value, RateLimitState& state) noexcept;

}  // namespace xarb::exec
