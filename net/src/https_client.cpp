#include <xarb/net/https_client.hpp>

#include <boost/asio/write.hpp>

#include <xarb/core/clock.hpp>

namespace xarb::net {


HttpsClient::HttpsClient(asio::io_context& io, ssl::context& tls, Url endpoint,
                         HttpsClientOptions options, HeaderSink headers,
                         std::function<void()> ready)
    : io_(io),
      tls_(tls),
      endpoint_(std::move(endpoint)),
      options_(options),
      headers_(std::move(headers)),
      ready_(std::move(ready)),
      connector_(io) {
  for (Slot& s : slots_) s.bytes.reserve(options_.max_request_bytes);
  for (Done& d : done_) d.body.reserve(64 * 1024);
  buffer_.reserve(64 * 1024);
  body_.reserve(64 * 1024);
}

HttpsClient::~HttpsClient() {
  close();
  // A write or read cancelled by close() still holds its memory in memory_, which goes with this
  // object: run the cancelled handlers now (they see the new epoch and return), so that the
  // io_context's shutdown finds nothing of ours to destroy later.
  if (io_.stopped()) io_.restart();
  for (int round = 0; round < 16 && io_.poll() > 0; ++round) {
  }
}

void HttpsClient::drop_connection() noexcept {
  ++epoch_;
  connector_.cancel();
  if (stream_) {
    error_code ignored;
    beast::get_lowest_layer(*stream_).socket().close(ignored);
  }
  state_ = State::closed;
}

void HttpsClient::close() noexcept {
  drop_connection();
  head_ = 0;
  count_ = 0;
  sent_ns_ = 0;
}

void HttpsClient::push_done(const HttpAnswer& a, std::string_view body) noexcept {
  if (done_count_ == kSlots) return;  // cannot happen: at most kSlots requests are queued
  Done& d = done_[(done_head_ + done_count_) % kSlots];
  d.answer = a;
  d.body.assign(body);
  ++done_count_;
}

void HttpsClient::notify() {
  if (ready_ && done_count_ > 0) ready_();
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
  ++epoch_;
  stream_ = std::make_unique<TlsStream>(io_, tls_);
  buffer_.clear();
  connector_.start(*stream_, endpoint_, options_.connect_timeout,
                   [this](error_code ec, const char* step) { on_connected(ec, step); });
}

void HttpsClient::on_connected(error_code ec, const char* step) {
  if (ec) {
    state_ = State::closed;
    // The request at the head of the queue cannot be sent: it fails as a transport error (it
    // was never written, but the caller treats every transport failure the same: unknown).
    if (count_ > 0) {
      fail_current(step);
      notify();
    }
    return;
  }
  state_ = State::ready;
  idle_since_ns_ = clock::mono_ns();
  start_next();
}

bool HttpsClient::submit(std::string_view request, std::uint64_t tag) noexcept {
  if (count_ == kSlots || request.size() > options_.max_request_bytes) return false;
  Slot& s = slots_[(head_ + count_) % kSlots];
  s.bytes.assign(request);  // within the capacity reserved at construction
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
    drop_connection();
    connect();
  }
}

void HttpsClient::expire(std::int64_t now_ns) noexcept {
  if (state_ == State::ready && count_ == 0 && options_.max_idle.count() > 0 &&
      now_ns - idle_since_ns_ > std::chrono::nanoseconds(options_.max_idle).count()) {
    ++idle_renewals_;
    drop_connection();
    connect();
    return;
  }
  if (state_ != State::busy || sent_ns_ == 0 || timed_out_) return;
  if (now_ns - sent_ns_ < std::chrono::nanoseconds(options_.request_timeout).count()) return;
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
  const Slot& s = slots_[head_];
  sent_ns_ = clock::mono_ns();
  timed_out_ = false;
  // The write's and the read's operations take their memory from memory_: asio's per-thread
  // cache has one slot, and the read is started before the write's memory is given back.
  asio::async_write(*stream_, asio::buffer(s.bytes.data(), s.bytes.size()),
                    with_memory(memory_, [this, epoch](error_code ec, std::size_t) {
                      on_written(epoch, ec);
                    }));
}

void HttpsClient::on_written(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  if (ec) {
    drop_connection();
    fail_current(timed_out_ ? "timeout" : "write");
    return notify();
  }
  body_.clear();
  parser_.emplace(headers_, body_, options_.max_body_bytes);
  http::async_read(*stream_, buffer_, *parser_,
                   with_memory(memory_, [this, epoch](error_code ec2, std::size_t) {
                     on_read(epoch, ec2);
                   }));
}

void HttpsClient::on_read(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  if (ec) {
    drop_connection();
    fail_current(timed_out_ || ec == beast::error::timeout ? "timeout" : "read");
    return notify();
  }
  // The headers already went to the sink, while the parser read them.
  const std::int64_t now = clock::mono_ns();
  HttpAnswer a;
  a.tag = slots_[head_].tag;
  a.status = parser_->status();
  a.latency_ns = now - sent_ns_;
  push_done(a, body_);
  head_ = (head_ + 1) % kSlots;
  --count_;
  sent_ns_ = 0;
  const bool keep = parser_->keep_alive();
  parser_.reset();
  if (!keep) {
    drop_connection();
    if (count_ > 0) {
      ++reconnects_;
      connect();
    }
  } else {
    state_ = State::ready;
    idle_since_ns_ = now;
    start_next();
  }
  notify();
}

}  // namespace xarb::net
