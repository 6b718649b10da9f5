#pragma once

// The simulator's insides, shared by its parts: sessions.cpp (the TLS connections: HTTP
// requests and websocket sessions), market_loop.cpp (the market's ticks, the broadcast of books
// and trades, the websocket faults), control.cpp (the /sim/ endpoints), probe.cpp (the latency
// probe) and simulator.cpp (start, stop and the public calls). Each venue's protocol is its
// front ends' (venues/).

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <xarb/core/clock.hpp>
#include <xarb/net/tls.hpp>
#include <xarb/sim/replay.hpp>
#include <xarb/sim/simulator.hpp>

#include "venues/ws_front.hpp"

namespace xarb::sim {

using namespace xarb::net::names;  // asio, beast, http, websocket, ssl, tcp, error_code
using Stream = xarb::net::ServerTlsStream;

class WsSession;

struct Simulator::Impl {
  explicit Impl(SimOptions o);

  // One request to a venue's REST front end (or /sim/) received at `received_ns`, over HTTP or
  // a WebSocket API: matched against the latency probe, answered, and the books, trades and
  // private events it caused published.
  HttpResult serve(Venue v, const HttpRequest& r, std::int64_t received_ns);
  void broadcast(Venue v, std::size_t symbol);
  void publish_trades();
  // Hands the exchange's due private events to the sessions of their venue.
  void publish_private();
  void on_tick();
  // Closes every websocket (a fault, or a test's drop), counting each.
  void drop_sessions();
  // The control endpoint: GET /sim/summary; GET /sim/accounts (balances as JSON); GET
  // /sim/orders (every order that executed something); GET or POST /sim/faults?name=value&...
  // changes the injected faults while running.
  HttpResult control(const HttpRequest& r);
  void accept(Venue v);
  [[nodiscard]] SimSummary summary_now();

  SimOptions options;
  asio::io_context io{1};
  ssl::context tls{ssl::context::tls_server};
  SyntheticMarket market;
  Exchange exchange;
  std::unique_ptr<WsVenueFront> fronts[kMaxVenues];  // the venues served
  std::unique_ptr<tcp::acceptor> acceptors[kMaxVenues];
  asio::steady_timer tick, ping, drop;
  std::thread thread;
  std::vector<std::weak_ptr<WsSession>> sessions;
  SimSummary counts;
  std::string ca_file;
  std::chrono::steady_clock::time_point last_tick;
  double owed = 0.0;  // book updates due but not yet made
  std::chrono::steady_clock::time_point stall_until{};
  std::chrono::steady_clock::time_point next_stall{};
  std::chrono::steady_clock::time_point private_stall_until{}, next_private_stall{};
  std::mt19937_64 fault_rng{0xFA17};
  std::unique_ptr<CaptureReplay> replay;
  std::chrono::steady_clock::time_point replay_start;
  // The latency probe (SimOptions::probe_every_ms).
  struct Probe {
    std::chrono::steady_clock::time_point next{};
    std::chrono::steady_clock::time_point fall{};  // when the jump is taken back
    bool up = false;
    bool armed = false;           // the jumped frames are being queued (broadcast in progress)
    std::int64_t written_ns = 0;  // the first jumped frame handed to a socket; 0: none waiting
    ProbeStats stats;
  } probe;
  void on_probe(std::chrono::steady_clock::time_point now);
  void match_probe(Venue v, const HttpRequest& r, std::int64_t received_ns);
};

// One websocket connection: its venue's front end decides what it sends; the session queues,
// corks and writes it.
class WsSession : public std::enable_shared_from_this<WsSession>, public WsOut {
 public:
  // `private_stream`: opened on the venue's private endpoint, by `account` (empty: the token
  // did not verify).
  WsSession(Simulator::Impl& m, Stream&& stream, Venue venue, bool private_stream = false,
            std::string account = {});

  void run(http::request<http::string_body> req);
  void on_book(std::size_t symbol) { front_->on_book(symbol, *this); }
  void on_trade(const PublicTrade& t) { front_->on_trade(t, *this); }
  void on_private(const PrivateEvent& e) { front_->on_private(e, *this); }
  void ping();
  void close();
  void send(std::string msg, bool binary) override;
  void close_after_write() override { close_after_write_ = true; }
  void send_later(std::string frame, int delay_ms) override;
  HttpResult request(const HttpRequest& r) override;

  [[nodiscard]] Venue venue() const noexcept { return venue_; }
  [[nodiscard]] std::size_t backlog() const noexcept { return queue_.size(); }

 private:
  void on_accept();
  void read();
  void cork(bool on);
  void write_next();

  struct Out {
    std::string text;
    bool binary = false;
    bool probe = false;  // a latency probe's jumped frame
  };
  Simulator::Impl& m_;
  websocket::stream<Stream> ws_;
  Venue venue_;
  std::unique_ptr<WsSessionFront> front_;
  std::string target_;
  bool private_ = false;
  std::string account_;
  beast::flat_buffer buffer_;
  std::deque<Out> queue_;
  bool writing_ = false;
  bool corked_ = false;
  bool closed_ = false;
  bool close_after_write_ = false;
};

// One TLS connection to a venue's port: HTTP requests to its REST front end (or /sim/), until
// one upgrades to a websocket.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Simulator::Impl& m, tcp::socket socket, Venue venue);
  void run();

 private:
  void read();
  void on_request();
  void write(const std::shared_ptr<http::response<http::string_body>>& res);

  Simulator::Impl& m_;
  Stream stream_;
  Venue venue_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
};

}  // namespace xarb::sim
