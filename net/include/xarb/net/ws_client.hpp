#pragma once

// One client websocket over TLS to one URL, kept up until stopped: connect (the TlsConnector,
// then the websocket handshake), read frames into one reused buffer and hand them to the owner,
// keep the connection alive (a text keep-alive on an interval where the venue wants one; Beast
// answers the server's pings), notice silence (a watchdog), renew the connection before the
// venue's lifetime limit, and reconnect with backoff after any failure. The owner says what the
// connection is for: it subscribes in on_open() and reads frames in on_frame().
//
// Runs on the owner's io_context, on the thread that polls it; steady-state reads and the
// keep-alive do not allocate.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <xarb/core/fixed_string.hpp>
#include <xarb/net/url.hpp>

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}  // namespace ssl
}  // namespace boost::asio

namespace xarb::net {

struct WsClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};  // resolve + TCP + TLS + websocket handshake
  std::chrono::milliseconds watchdog{10'000};        // reconnect after this long without a frame
  std::chrono::milliseconds reconnect_min{100};      // backoff doubles from here ...
  std::chrono::milliseconds reconnect_max{10'000};   // ... up to here, plus up to 50 % jitter
  // A connection that stayed up this long starts the backoff over. A venue that drops every
  // connection sooner (right after its first frames) is reconnected to ever more slowly.
  std::chrono::milliseconds stable_after{2'000};
  std::size_t max_message_bytes = 4 << 20;
  std::string keepalive_text;                      // sent every keepalive_interval; empty: none
  std::chrono::milliseconds keepalive_interval{0};
  std::chrono::milliseconds lifetime{0};  // reconnect after this long (a venue's limit); 0: never
};

// A connection's history. The owner may embed it in its own statistics; trivially copyable, so a
// stage can publish it whole to another thread.
struct WsStats {
  std::uint64_t connects = 0;           // websocket handshakes completed
  std::uint64_t disconnects = 0;        // connections lost or closed, for any reason
  std::uint64_t watchdog_trips = 0;     // of which: silent longer than the watchdog
  std::uint64_t lifetime_renewals = 0;  // of which: the planned lifetime reached
  std::uint64_t pings_received = 0;     // answered with pongs by Beast
  std::uint64_t pings_sent = 0;         // keep-alive texts written
  FixedString<200> last_error;          // why the last connection ended (cut to fit)
};

class WsClient;

class WsHandler {
 public:
  virtual ~WsHandler() = default;
  // A connection is about to upgrade: the value of its Authorization header (a private stream's
  // bearer token, fresh for each connection); empty: none. Called once per connection attempt.
  virtual std::string authorization() { return {}; }
  // The websocket is open: subscribe here (client.send()).
  virtual void on_open(WsClient& client) = 0;
  // One message, as received; `frame` is valid until the handler returns.
  virtual void on_frame(std::string_view frame, std::int64_t recv_ns) = 0;
  // The connection is gone (lost, silent, renewed or failed to open); a reconnect follows.
  virtual void on_close() = 0;
};

class WsClient {
 public:
  WsClient(boost::asio::io_context& io, boost::asio::ssl::context& tls, Url url,
           WsClientOptions options, WsHandler& handler, WsStats& stats);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void start();
  void stop() noexcept;
  // Queues a text message; false when the connection is not open or the outbox is full.
  bool send(std::string_view text);
  // Drops the connection now and reconnects after the backoff (the owner found it unusable).
  void restart(std::string reason);

  [[nodiscard]] bool connected() const noexcept;
  [[nodiscard]] const Url& url() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xarb::net
