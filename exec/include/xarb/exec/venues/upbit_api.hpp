#pragma once

// Upbit REST (docs/venues.md): requests with a JWT bearer (a fresh UUID nonce each, query_hash over
// the parameters), JSON order bodies, written as complete HTTP/1.1 messages into fixed buffers;
// answers parsed into OrderStatus. No I/O here.
//
// Bithumb's JWT API follows Upbit's, and the same classes speak it with UpbitDialect::bithumb
// (docs/venues.md): a timestamp claim; orders placed on POST /v2/orders with order_type and
// client_order_id, acknowledged without a state; looked up on GET /v1/order and cancelled on
// DELETE /v2/order by client_order_id; open orders on GET /v2/orders/pending; an IOC order that
// filled in part ends `done`.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/core/errc.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/exec/venues/binance_api.hpp>
#include <xarb/exec/orders.hpp>
#include <xarb/exec/signing.hpp>

namespace xarb::exec {

enum class UpbitDialect : std::uint8_t { upbit, bithumb };

// Upbit's bearer token (and Bithumb's, which adds the timestamp claim): an HMAC JWT (hmac_jwt)
// with the payload
//   {"access_key":"..","nonce":".."}                                  (no parameters)
//   {"access_key":"..","nonce":"..","query_hash":"..","query_hash_alg":"SHA512"}
// where query_hash is the SHA-512 hex of `query` (the parameters as key=value&key=value, in the
// order sent, unescaped). `timestamp_ms` >= 0 adds "timestamp":<ms> after the nonce (Bithumb).
// Returns the token's length in `out`, or 0 when it does not fit.
[[nodiscard]] std::size_t upbit_jwt(std::string_view access_key, std::string_view secret_key,
                                    std::string_view nonce, std::string_view query, JwtAlg alg,
                                    std::span<char> out, std::int64_t timestamp_ms = -1) noexcept;
// The same with a prepared key (HS256: Hash::sha256, HS512: Hash::sha512) and hasher: what the
// venue uses for every request.
[[nodiscard]] std::size_t upbit_jwt(std::string_view access_key, HmacKey& key, JwtAlg alg,
                                    Sha512& hasher, std::string_view nonce, std::string_view query,
                                    std::span<char> out, std::int64_t timestamp_ms = -1) noexcept;

[[nodiscard]] OrderState upbit_order_state(std::string_view state, Decimal executed,
                                           Decimal volume) noexcept;
// Bithumb's states: as Upbit's, except that `done` is final whatever was filled (an IOC order's
// unfilled rest is cancelled and the order still ends `done`).
[[nodiscard]] OrderState bithumb_order_state(std::string_view state, Decimal executed,
                                             Decimal volume) noexcept;

class UpbitApi {
 public:
  UpbitApi(Credentials credentials, net::Url endpoint, JwtAlg alg = JwtAlg::hs256,
           UpbitDialect dialect = UpbitDialect::upbit);

  // An IOC (or FOK / GTC) limit order: {"market","side","volume","price","ord_type":"limit",
  // "time_in_force","identifier"}; the client id is the identifier.
  bool new_order(const OrderRequest& order, std::string_view market,
                 HttpRequestText& out) noexcept;
  bool get_order(std::string_view identifier, HttpRequestText& out) noexcept;
  bool cancel_order(std::string_view identifier, HttpRequestText& out) noexcept;
  bool accounts(HttpRequestText& out) noexcept;
  // "Bearer <JWT>" for a private websocket's upgrade: the REST token without query claims.
  [[nodiscard]] std::string stream_authorization();
  bool open_orders(std::string_view market, HttpRequestText& out) noexcept;
  bool instruments(std::string_view markets_csv, HttpRequestText& out) noexcept;
  // Public GET /v1/orderbook?markets=: Bithumb's health probe.
  bool orderbook(std::string_view markets_csv, HttpRequestText& out) noexcept;

  [[nodiscard]] const Credentials& credentials() const noexcept { return credentials_; }
  [[nodiscard]] const net::Url& endpoint() const noexcept { return endpoint_; }

 private:
  // Writes method + path (+ ?query) + headers with the JWT over `query` (+ JSON body).
  bool request(std::string_view method, std::string_view path, std::string_view query,
               std::string_view json_body, bool authenticated, HttpRequestText& out) noexcept;

  Credentials credentials_;
  net::Url endpoint_;
  std::string host_header_;
  std::string path_prefix_;
  JwtAlg alg_;
  UpbitDialect dialect_;
  UuidSource nonces_;
  std::unique_ptr<HmacKey> signer_;  // keyed once with the secret
  std::unique_ptr<Sha512> hasher_;
};

struct UpbitAccount {
  std::string currency;
  Decimal balance;
  Decimal locked;
};

class UpbitParser {
 public:
  explicit UpbitParser(UpbitDialect dialect = UpbitDialect::upbit);
  ~UpbitParser();
  UpbitParser(const UpbitParser&) = delete;
  UpbitParser& operator=(const UpbitParser&) = delete;

  // An order object (POST /v1/orders, GET or DELETE /v1/order). The fee (paid_fee) is in KRW.
  // Bithumb's place and cancel acknowledgements ({"order_id",..} without a state) read as
  // acked, with no fill.
  [[nodiscard]] Errc parse_order(std::string_view body, OrderStatus& out) noexcept;
  // {"error":{"name":"..","message":".."}}: true when the body is an error object.
  [[nodiscard]] bool parse_error(std::string_view body, VenueError& out) noexcept;
  [[nodiscard]] Errc parse_accounts(std::string_view body, std::vector<UpbitAccount>& out);
  [[nodiscard]] Errc parse_orders(std::string_view body, std::vector<OrderStatus>& out,
                                  std::vector<std::string>& markets);
  // One private-stream message: myOrder (Upbit's v1 names or Bithumb's v2 ones, DEFAULT
  // format) as the order's cumulative status, myAsset as balances, an error object, or
  // anything else (the {"status":"UP"} keep-alive answer) as nothing. Does not allocate once
  // warm.
  [[nodiscard]] Errc parse_stream(std::string_view frame, StreamUpdate& out) noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Remaining-Req: group=default; min=1800; sec=29
void upbit_header(std::string_view name, std::string_view value, RateLimitState& state) noexcept;

}  // namespace xarb::exec
