// The simulator's connections: HTTP requests answered by the venue's REST front end (or the
// /sim/ control endpoint), and websocket sessions that write what the venue's front end sends.

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "simulator_internal.hpp"
#include "text.hpp"
#include "venues/registry.hpp"

namespace xarb::sim {

using text::lower;

// ---------------------------------------------------------------------------------------------
// Websocket sessions

WsSession::WsSession(Simulator::Impl& m, Stream&& stream, Venue venue, bool private_stream,
                     std::string account)
    : m_(m),
      ws_(std::move(stream)),
      venue_(venue),
      front_(m.fronts[index(venue)]->connect()),
      private_(private_stream),
      account_(std::move(account)) {}

void WsSession::run(http::request<http::string_body> req) {
  target_ = std::string(req.target());
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
  ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
    if (ec) return;
    self->on_accept();
  });
}

void WsSession::ping() {
  if (closed_ || !m_.fronts[index(venue_)]->pings()) return;
  ws_.async_ping({}, [self = shared_from_this()](error_code) {});
}

void WsSession::close() {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

void WsSession::on_accept() {
  ++m_.counts.ws_connections;
  m_.sessions.push_back(weak_from_this());
  front_->on_open({target_, private_, account_});
  read();
}

void WsSession::read() {
  ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
    if (ec) {
      self->closed_ = true;
      return;
    }
    const std::string msg = beast::buffers_to_string(self->buffer_.data());
    self->buffer_.consume(self->buffer_.size());
    self->front_->on_message(msg, *self);
    if (!self->closed_) self->read();
  });
}

void WsSession::send_later(std::string frame, int delay_ms) {
  auto timer = std::make_shared<asio::steady_timer>(m_.io);
  timer->expires_after(std::chrono::milliseconds(delay_ms));
  timer->async_wait([self = shared_from_this(), timer, frame = std::move(frame)](error_code) {
    self->send(frame, false);
  });
}

HttpResult WsSession::request(const HttpRequest& r) {
  return m_.serve(venue_, r, clock::steady_ns());
}

void WsSession::send(std::string msg, bool binary) {
  if (closed_) return;
  if (queue_.size() > 20'000) {  // a consumer this far behind is dropped, as the venues do
    close();
    return;
  }
  queue_.push_back({std::move(msg), binary, m_.probe.armed});
  if (!writing_) write_next();
}

// While frames are queued behind the one being written, the socket is corked: the kernel sends
// full segments instead of one per frame (on loopback, each send also runs the receiver's side
// of TCP, so per-frame segments cost more than the TLS). Uncorking when the queue drains sends
// the rest at once, so a frame that finds the queue empty is not delayed at all.
void WsSession::cork(bool on) {
  if (on == corked_ || closed_) return;
  corked_ = on;
  const int v = on ? 1 : 0;
  ::setsockopt(beast::get_lowest_layer(ws_).socket().native_handle(), IPPROTO_TCP, TCP_CORK, &v,
               sizeof v);
}

void WsSession::write_next() {
  cork(queue_.size() > 1);
  if (queue_.empty() || closed_) {
    writing_ = false;
    if (close_after_write_ && !closed_) {
      ws_.async_close(websocket::close_code::policy_error,
                      [self = shared_from_this()](error_code) { self->closed_ = true; });
    }
    return;
  }
  writing_ = true;
  if (queue_.front().probe && m_.probe.written_ns == 0) m_.probe.written_ns = clock::steady_ns();
  ws_.binary(queue_.front().binary);
  ws_.async_write(asio::buffer(queue_.front().text),
                  [self = shared_from_this()](error_code ec, std::size_t) {
                    if (ec) {
                      self->closed_ = true;
                      return;
                    }
                    ++self->m_.counts.ws_messages;
                    self->queue_.pop_front();
                    self->write_next();
                  });
}

// ---------------------------------------------------------------------------------------------
// HTTP sessions

HttpResult Simulator::Impl::serve(Venue v, const HttpRequest& r, std::int64_t received_ns) {
  ++counts.http_requests;
  match_probe(v, r, received_ns);
  std::vector<std::pair<Venue, std::size_t>> touched;
  HttpResult result = r.path().rfind("/sim/", 0) == 0 ? control(r) : exchange.handle(v, r, touched);
  for (const auto& [tv, i] : touched) broadcast(tv, i);
  publish_trades();
  publish_private();
  return result;
}

HttpSession::HttpSession(Simulator::Impl& m, tcp::socket socket, Venue venue)
    : m_(m), stream_(std::move(socket), m.tls), venue_(venue), timer_(m.io) {}

void HttpSession::run() {
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(10));
  stream_.async_handshake(ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
    if (!ec) self->read();
  });
}

void HttpSession::read() {
  req_ = {};
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(120));
  http::async_read(stream_, buffer_, req_, [self = shared_from_this()](error_code ec, std::size_t) {
    if (ec) return;
    self->on_request();
  });
}

void HttpSession::on_request() {
  const std::int64_t received_ns = clock::steady_ns();
  HttpRequest r;
  r.method = std::string(req_.method_string());
  r.target = std::string(req_.target());
  r.body = req_.body();
  for (const auto& f : req_)
    r.headers[lower(std::string(f.name_string()))] = std::string(f.value());
  if (websocket::is_upgrade(req_)) {
    // A private endpoint authenticates the upgrade; the front end refuses what it then asks
    // for when the token did not verify (the venue's INVALID_AUTH).
    const SimVenue* sv = find_venue(venue_);
    const bool private_stream =
        sv != nullptr && !sv->private_ws_path.empty() && r.path() == sv->private_ws_path;
    std::string account = private_stream ? m_.exchange.stream_account(venue_, r) : std::string();
    beast::get_lowest_layer(stream_).expires_never();
    std::make_shared<WsSession>(m_, std::move(stream_), venue_, private_stream, std::move(account))
        ->run(std::move(req_));
    return;
  }
  HttpResult result = m_.serve(venue_, r, received_ns);
  if (result.drop) {
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    return;
  }
  auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(result.status), req_.version());
  res->set(http::field::content_type, "application/json;charset=UTF-8");
  res->set(http::field::server, "xarb-sim");
  for (const auto& [k, v] : result.headers) res->set(k, v);
  res->body() = std::move(result.body);
  res->keep_alive(req_.keep_alive());
  res->prepare_payload();
  if (result.delay_ms > 0) {
    timer_.expires_after(std::chrono::milliseconds(result.delay_ms));
    timer_.async_wait([self = shared_from_this(), res](error_code) { self->write(res); });
  } else {
    write(res);
  }
}

void HttpSession::write(const std::shared_ptr<http::response<http::string_body>>& res) {
  http::async_write(stream_, *res, [self = shared_from_this(), res](error_code ec, std::size_t) {
    if (ec) return;
    if (res->keep_alive()) {
      self->read();
    } else {
      self->stream_.async_shutdown([self](error_code) {});
    }
  });
}

}  // namespace xarb::sim
