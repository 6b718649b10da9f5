#include <xarb/net/ws_client.hpp>

#include <algorithm>
#include <array>

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <xarb/core/clock.hpp>
#include <xarb/core/handler_memory.hpp>
#include <xarb/net/backoff.hpp>
#include <xarb/net/tls.hpp>

namespace xarb::net {


struct WsClient::Impl {
  using Ws = websocket::stream<TlsStream>;

  Impl(WsClient& owner_, asio::io_context& io_, ssl::context& tls_, Url url_,
       WsClientOptions options_, WsHandler& handler_, WsStats& stats_)
      : owner(owner_),
        io(io_),
        tls(tls_),
        url(std::move(url_)),
        options(std::move(options_)),
        handler(handler_),
        stats(stats_),
        connector(io_),
        backoff(options.reconnect_min, options.reconnect_max),
        reconnect_timer(io_),
        watchdog_timer(io_),
        keepalive_timer(io_),
        lifetime_timer(io_) {
    buffer.reserve(std::min<std::size_t>(options.max_message_bytes, 1 << 20));
    for (std::string& s : outbox) s.reserve(256);
  }

  void connect();
  void on_tls(unsigned epoch);
  void on_open(unsigned epoch);
  void read(unsigned epoch);
  void on_read(unsigned epoch, error_code ec);
  void write_next(unsigned epoch);
  void arm_keepalive(unsigned epoch);
  void arm_lifetime(unsigned epoch);
  void arm_watchdog();
  void on_watchdog(error_code ec);
  void fail(error_code ec, const char* what);
  void restart(std::string reason, std::chrono::milliseconds delay);
  void close_socket() noexcept;

  WsClient& owner;
  asio::io_context& io;
  ssl::context& tls;
  Url url;
  WsClientOptions options;
  WsHandler& handler;
  WsStats& stats;
  TlsConnector connector;
  Backoff backoff;
  HandlerMemory memory;  // declared before ws: outlives its pending operations
  std::unique_ptr<Ws> ws;
  beast::flat_buffer buffer;
  asio::steady_timer reconnect_timer, watchdog_timer, keepalive_timer, lifetime_timer;
  static constexpr std::size_t kOutbox = 8;
  std::array<std::string, kOutbox> outbox;  // texts waiting to be written, one write at a time
  std::size_t out_head = 0;
  std::size_t out_count = 0;
  bool writing = false;
  unsigned epoch = 0;
  bool running = false;
  bool connected = false;
  std::int64_t connected_ns = 0;  // mono: when the current connection opened
  std::int64_t last_frame_ns = 0;
};

void WsClient::Impl::close_socket() noexcept {
  if (!ws) return;
  error_code ignored;
  beast::get_lowest_layer(*ws).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(*ws).socket().close(ignored);
}

void WsClient::Impl::connect() {
  const unsigned e = ++epoch;
  writing = false;
  out_count = 0;
  ws = std::make_unique<Ws>(io, tls);
  connector.start(ws->next_layer(), url, options.connect_timeout,
                  [this, e](error_code ec, const char* step) {
                    if (e != epoch) return;
                    if (ec) return fail(ec, step);
                    on_tls(e);
                  });
}

void WsClient::Impl::on_tls(unsigned e) {
  websocket::stream_base::timeout timeouts{};
  timeouts.handshake_timeout = options.connect_timeout;
  timeouts.idle_timeout = websocket::stream_base::none();  // the watchdog covers silence
  timeouts.keep_alive_pings = false;
  ws->set_option(timeouts);
  ws->read_message_max(options.max_message_bytes);
  // Beast answers the server's pings with pongs itself; this only counts them.
  ws->control_callback([this](websocket::frame_type kind, beast::string_view) {
    if (kind == websocket::frame_type::ping) ++stats.pings_received;
  });
  // A private stream authenticates its upgrade; the decorator holds this connection's token.
  if (std::string auth = handler.authorization(); !auth.empty()) {
    ws->set_option(
        websocket::stream_base::decorator([auth = std::move(auth)](websocket::request_type& req) {
          req.set(http::field::authorization, auth);
        }));
  }
  ws->async_handshake(url.host_header(), url.target, [this, e](error_code ec) {
    if (e != epoch) return;
    if (ec) return fail(ec, "websocket handshake");
    on_open(e);
  });
}

void WsClient::Impl::on_open(unsigned e) {
  connected = true;
  connected_ns = clock::mono_ns();
  last_frame_ns = connected_ns;
  ++stats.connects;
  read(e);
  if (options.keepalive_interval.count() > 0 && !options.keepalive_text.empty()) arm_keepalive(e);
  if (options.lifetime.count() > 0) arm_lifetime(e);
  handler.on_open(owner);
}

void WsClient::Impl::read(unsigned e) {
  // The read's memory (and that of the pongs Beast writes from inside it) comes from memory.
  ws->async_read(buffer, with_memory(memory, [this, e](error_code ec, std::size_t) {
                   on_read(e, ec);
                 }));
}

void WsClient::Impl::on_read(unsigned e, error_code ec) {
  if (e != epoch) return;
  if (ec) return fail(ec, "read");
  const std::int64_t recv = clock::mono_ns();
  last_frame_ns = recv;
  // The backoff starts over once a connection has stayed up for stable_after: one frame is not
  // proof that it works (a venue that drops every connection after a few frames must not be
  // reconnected to as fast as at first: the same IP places the orders).
  if (backoff.attempts() != 0 &&
      recv - connected_ns >= std::chrono::nanoseconds(options.stable_after).count()) {
    backoff.reset();
  }
  const auto data = buffer.cdata();
  handler.on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()), recv);
  buffer.consume(buffer.size());
  if (e == epoch) read(e);  // the handler may have restarted the connection
}

void WsClient::Impl::write_next(unsigned e) {
  if (writing || out_count == 0) return;
  writing = true;
  ws->text(true);
  const std::string& text = outbox[out_head];
  ws->async_write(asio::buffer(text), with_memory(memory, [this, e](error_code ec, std::size_t) {
                    if (e != epoch) return;
                    writing = false;
                    out_head = (out_head + 1) % kOutbox;
                    --out_count;
                    if (ec) return fail(ec, "write");
                    write_next(e);
                  }));
}

void WsClient::Impl::arm_keepalive(unsigned e) {
  keepalive_timer.expires_after(options.keepalive_interval);
  keepalive_timer.async_wait([this, e](error_code ec) {
    if (ec || e != epoch) return;
    if (owner.send(options.keepalive_text)) ++stats.pings_sent;
    arm_keepalive(e);
  });
}

void WsClient::Impl::arm_lifetime(unsigned e) {
  lifetime_timer.expires_after(options.lifetime);
  lifetime_timer.async_wait([this, e](error_code ec) {
    if (ec || e != epoch) return;
    ++stats.lifetime_renewals;
    restart("the connection reached its planned lifetime", std::chrono::milliseconds(0));
  });
}

void WsClient::Impl::arm_watchdog() {
  watchdog_timer.expires_after(options.watchdog / 4);
  watchdog_timer.async_wait([this](error_code ec) { on_watchdog(ec); });
}

void WsClient::Impl::on_watchdog(error_code ec) {
  if (ec || !running) return;
  const auto silent_ns = clock::mono_ns() - last_frame_ns;
  if (connected && silent_ns > std::chrono::nanoseconds(options.watchdog).count()) {
    ++stats.watchdog_trips;
    restart("watchdog: no frame for " + std::to_string(silent_ns / 1'000'000) + " ms",
            backoff.next());
  }
  arm_watchdog();
}

void WsClient::Impl::fail(error_code ec, const char* what) {
  if (!running) return;
  restart(std::string(what) + ": " + ec.message(), backoff.next());
}

// Drops the connection, tells the owner, and reconnects after `delay`.
void WsClient::Impl::restart(std::string reason, std::chrono::milliseconds delay) {
  const unsigned e = ++epoch;  // handlers of this connection are now ignored
  stats.last_error.assign_utf8(reason);
  connector.cancel();
  keepalive_timer.cancel();
  lifetime_timer.cancel();
  close_socket();
  writing = false;
  out_count = 0;
  if (connected) {
    connected = false;
    ++stats.disconnects;
  }
  handler.on_close();
  reconnect_timer.expires_after(delay);
  reconnect_timer.async_wait([this, e](error_code ec) {
    if (ec || e != epoch || !running) return;
    connect();
  });
}

WsClient::WsClient(asio::io_context& io, ssl::context& tls, Url url, WsClientOptions options,
                   WsHandler& handler, WsStats& stats)
    : impl_(std::make_unique<Impl>(*this, io, tls, std::move(url), std::move(options), handler,
                                   stats)) {}

WsClient::~WsClient() {
  stop();
  // A read or write cancelled by stop() still holds its memory in Impl::memory, which goes with
  // this object: run the cancelled handlers now (they see the new epoch and return), so that the
  // io_context, which may outlive this client, finds nothing of ours to destroy later.
  asio::io_context& io = impl_->io;
  if (io.stopped()) io.restart();
  for (int round = 0; round < 16 && io.poll() > 0; ++round) {
  }
}

void WsClient::start() {
  Impl& m = *impl_;
  if (m.running) return;
  m.running = true;
  m.connect();
  m.arm_watchdog();
}

void WsClient::stop() noexcept {
  Impl& m = *impl_;
  m.running = false;
  ++m.epoch;
  m.connector.cancel();
  m.reconnect_timer.cancel();
  m.watchdog_timer.cancel();
  m.keepalive_timer.cancel();
  m.lifetime_timer.cancel();
  m.close_socket();
  m.connected = false;
}

bool WsClient::send(std::string_view text) {
  Impl& m = *impl_;
  if (!m.connected || m.out_count == Impl::kOutbox) return false;
  m.outbox[(m.out_head + m.out_count) % Impl::kOutbox].assign(text);
  ++m.out_count;
  m.write_next(m.epoch);
  return true;
}

void WsClient::restart(std::string reason) {
  Impl& m = *impl_;
  if (!m.running) return;
  m.restart(std::move(reason), m.backoff.next());
}

bool WsClient::connected() const noexcept { return impl_->connected; }
const Url& WsClient::url() const noexcept { return impl_->url; }

}  // namespace xarb::net
