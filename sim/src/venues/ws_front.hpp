#pragma once

// One venue's public websocket as the simulator serves it: what a connection subscribes to (in
// the upgrade's target or in messages), and the frames each market event becomes. A session
// (ws_session.cpp) owns the socket, its queue and its writes; the market loop tells every
// session of the venue what changed.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <xarb/sim/exchange.hpp>
#include <xarb/sim/market.hpp>

namespace xarb::sim {

// Where a front end's frames go: its session's queue.
class WsOut {
 public:
  virtual ~WsOut() = default;
  virtual void send(std::string frame, bool binary) = 0;
  // Sends what is queued, then closes the connection (a refused subscription).
  virtual void close_after_write() = 0;
  // Sends `frame` (text) `delay_ms` from now: an answer the venue writes late.
  virtual void send_later(std::string frame, int delay_ms) = 0;
  // A request to the venue's REST front end on this connection's behalf (Binance's WebSocket
  // API methods are its REST endpoints): answered as over HTTP, the books, trades and private
  // events it caused published.
  virtual HttpResult request(const HttpRequest& r) = 0;
};

// Who opened a connection: its upgrade's target (Binance names streams in it) and, on a private
// endpoint, the account its token authenticated (empty: it did not).
struct WsOpen {
  std::string_view target;
  bool private_stream = false;
  std::string_view account;
};

// One connection's subscriptions and frames.
class WsSessionFront {
 public:
  virtual ~WsSessionFront() = default;
  virtual void on_open(const WsOpen& open) = 0;
  virtual void on_message(std::string_view message, WsOut& out) = 0;
  // Book `symbol` of this venue changed (specs().size(): the KRW-USDT book).
  virtual void on_book(std::size_t symbol, WsOut& out) = 0;
  virtual void on_trade(const PublicTrade& trade, WsOut& out) = 0;
  // An account's order or balances changed (private streams; Exchange::take_private).
  virtual void on_private(const PrivateEvent& event, WsOut& out) { (void)event, (void)out; }
};

// A venue's websocket market data: what its connections share.
class WsVenueFront {
 public:
  virtual ~WsVenueFront() = default;
  // The books were built (start-up): what was last broadcast starts from them.
  virtual void reset() {}
  // Book `symbol` changed: prepares what every connection shares; false: nothing to send.
  virtual bool book_changed(std::size_t symbol) = 0;
  // A trade on this venue: prepares what every connection shares.
  virtual void trade(const PublicTrade&) {}
  [[nodiscard]] virtual std::unique_ptr<WsSessionFront> connect() = 0;
  // Whether the venue pings its connections (Binance: every SimOptions::ping).
  [[nodiscard]] virtual bool pings() const noexcept = 0;
};

}  // namespace xarb::sim
