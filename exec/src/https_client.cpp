#include "https_client.hpp"

#include <stdexcept>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include <xarb/core/clock.hpp>

namespace xarb::exec::detail {

std::unique_ptr<ssl::context> make_client_tls(const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(ca_file, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot load the trust store " +
                             (ca_file.empty() ? std::string("(system)") : ca_file) + ": " +
                             ec.message());
  }
  return ctx;
}

HttpsClient::HttpsClient(net::io_context& io, ssl::context& tls, RestEndpoint endpoint,
                         std::chrono::milliseconds connect_timeout,
                         std::chrono::milliseconds request_timeout, HeaderSink headers)
    : io_(io),
      tls_(tls),
      endpoint_(std::move(endpoint)),
      connect_timeout_(connect_timeout),
      request_timeout_(request_timeout),
      headers_(std::move(headers)),
      resolver_(io) {
  for (Done& d : done_) d.body.reserve(64 * 1024);
  buffer_.reserve(64 * 1024);
  body_.reserve(64 * 1024);
}

HttpsClient::~HttpsClient() {
  close();
  // A write or read cancelled by close() still holds its memory in memory_, which goes with this
  // object: run the cancelled handlers now (they see the new epoch and return), so that the
  // io_context's shutdown finds nothing of ours to destroy later. The io_context belongs to the
  // owner (RestVenue) and serves this connection alone.
  if (io_.stopped()) io_.restart();
  for (int round = 0; round < 16 && io_.poll() > 0; ++round) {
  }
}

void HttpsClient::close() noexcept {
  ++epoch_;
  resolver_.cancel();
  if (stream_) {
    error_code ignored;
    beast::get_lowest_layer(*stream_).socket().close(ignored);
  }
  state_ = State::closed;
}

void HttpsClient::push_done(const HttpAnswer& a, std::string_view body) noexcept {
  if (done_count_ == kSlots) return;  // cannot happen: at most kSlots requests are queued
  Done& d = done_[(done_head_ + done_count_) % kSlots];
  d.answer = a;
  d.body.assign(body);
  ++done_count_;
}

bool HttpsClient::next(HttpAnswer& out) noexcept {
  if (done_count_ == 0) return false;
  Done& d = done_[done_head_];
  out = d.answer;
  out.body = d.body;
  done_head_ = (done_head_ + 1) % kSlots;
  --done_count_;
  return true;
}

void HttpsClient::connect() {
  if (state_ != State::closed) return;
  state_ = State::connecting;
  const unsigned epoch = ++epoch_;
  stream_ = std::make_unique<TlsStream>(io_, tls_);
  buffer_.clear();
  resolver_.async_resolve(
      endpoint_.host, endpoint_.port,
      [this, epoch](error_code ec, tcp::resolver::results_type results) {
        if (epoch != epoch_) return;
        if (ec) return on_connected(ec, "resolve");
        beast::get_lowest_layer(*stream_).expires_after(connect_timeout_);
        beast::get_lowest_layer(*stream_).async_connect(
            results, [this, epoch](error_code ec2, const tcp::endpoint&) {
              if (epoch != epoch_) return;
              if (ec2) return on_connected(ec2, "connect");
              // An order is written the moment it is ready: Nagle's algorithm would hold a
              // small segment back while an earlier one is unacknowledged.
              error_code ignored;
              beast::get_lowest_layer(*stream_).socket().set_option(tcp::no_delay(true), ignored);
              // SNI and host-name verification (SSL_set_tlsext_host_name without its C cast).
              if (SSL_ctrl(stream_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME,
                           TLSEXT_NAMETYPE_host_name,
                           const_cast<char*>(endpoint_.host.c_str())) != 1) {
                return on_connected(net::error::invalid_argument, "tls setup");
              }
              stream_->set_verify_callback(ssl::host_name_verification(endpoint_.host));
              stream_->async_handshake(ssl::stream_base::client, [this, epoch](error_code ec3) {
                if (epoch == epoch_) on_connected(ec3, "tls handshake");
              });
            });
      });
}

void HttpsClient::on_connected(error_code ec, const char* step) {
  if (ec) {
    state_ = State::closed;
    // The request at the head of the queue cannot be sent: it fails as a transport error (it
    // was never written, but the caller treats every transport failure the same: unknown).
    if (count_ > 0) fail_current(step);
    return;
  }
  state_ = State::ready;
  beast::get_lowest_layer(*stream_).expires_never();
  start_next();
}

bool HttpsClient::submit(std::string_view request, std::uint64_t tag) noexcept {
  if (count_ == kSlots) return false;
  Slot& s = slots_[(head_ + count_) % kSlots];
  s.bytes.clear();
  s.bytes.put(request);
  s.tag = tag;
  ++count_;
  if (state_ == State::closed) {
    ++reconnects_;
    connect();
  } else if (state_ == State::ready) {
    start_next();
  }
  return true;
}

void HttpsClient::fail_current(const char* what) {
  HttpAnswer a;
  a.tag = slots_[head_].tag;
  a.transport_error = true;
  a.what = what;
  a.latency_ns = sent_ns_ > 0 ? clock::mono_ns() - sent_ns_ : 0;
  head_ = (head_ + 1) % kSlots;
  --count_;
  push_done(a, {});
  sent_ns_ = 0;
  // Remaining requests go out on a new connection.
  if (count_ > 0) {
    ++reconnects_;
    close();
    connect();
  }
}

void HttpsClient::expire(std::int64_t now_ns) noexcept {
  if (state_ != State::busy || sent_ns_ == 0 || timed_out_) return;
  if (now_ns - sent_ns_ < std::chrono::nanoseconds(request_timeout_).count()) return;
  // Cancel, do not close: the stream must outlive its pending operations, whose handlers (run by
  // the next poll, with operation_aborted) fail the request as timed out and reconnect.
  timed_out_ = true;
  error_code ignored;
  beast::get_lowest_layer(*stream_).socket().cancel(ignored);
}

void HttpsClient::start_next() {
  if (state_ != State::ready || count_ == 0) return;
  state_ = State::busy;
  const unsigned epoch = epoch_;
  Slot& s = slots_[head_];
  sent_ns_ = clock::mono_ns();
  timed_out_ = false;
  // No timer per request: arming one costs syscalls (clock, timerfd) on the order's path.
  // expire(), called from the venue's poll, enforces the request timeout instead.
  // The write's and the read's operations take their memory from memory_: asio's per-thread
  // cache has one slot, and the read is started before the write's memory is given back.
  net::async_write(*stream_, net::buffer(s.bytes.view().data(), s.bytes.size()),
                   with_memory(memory_, [this, epoch](error_code ec, std::size_t) {
                     if (epoch != epoch_) return;
                     if (ec) {
                       close();
                       return fail_current(timed_out_ ? "timeout" : "write");
                     }
                     body_.clear();
                     parser_.emplace(headers_, body_);
                     http::async_read(
                         *stream_, buffer_, *parser_,
                         with_memory(memory_, [this, epoch](error_code ec2, std::size_t) {
                           if (epoch != epoch_) return;
                           if (ec2) {
                             close();
                             return fail_current(
                                 timed_out_ || ec2 == beast::error::timeout ? "timeout" : "read");
                           }
                           // The headers already went to the sink, while the parser read them.
                           HttpAnswer a;
                           a.tag = slots_[head_].tag;
                           a.status = parser_->status();
                           a.latency_ns = clock::mono_ns() - sent_ns_;
                           push_done(a, body_);
                           head_ = (head_ + 1) % kSlots;
                           --count_;
                           sent_ns_ = 0;
                           const bool keep = parser_->keep_alive();
                           parser_.reset();
                           if (!keep) {
                             close();
                             if (count_ > 0) {
                               ++reconnects_;
                               connect();
                             }
                             return;
                           }
                           state_ = State::ready;
                           start_next();
                         }));
                   }));
}

}  // namespace xarb::exec::detail
