#pragma once

// One kept-alive HTTPS connection, driven by polling its io_context: requests (complete HTTP/1.1
// messages written by the caller) go out one at a time in the order submitted; answers come back
// with their status, headers (to a sink, while they are read) and body. A lost connection fails
// the request in flight (its outcome is unknown to the caller) and is re-established for the
// next one. Peer certificates and host names are verified. No allocation per request once
// warm: the request slots, answer bodies and parser buffers are reserved up front.
//
// A request waits behind the one in flight on the same connection: an owner that must never
// make one kind of request wait for another (an order behind a query) uses two clients.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http.hpp>

#include <xarb/core/handler_memory.hpp>
#include <xarb/net/tls.hpp>
#include <xarb/net/url.hpp>

namespace xarb::net {

struct HttpAnswer {
  std::uint64_t tag = 0;
  bool transport_error = false;  // no answer: connection failed, lost or timed out
  std::string_view what;         // the transport step that failed
  int status = 0;
  std::string_view body;         // valid until the next call to next()
  std::int64_t latency_ns = 0;   // request written -> answer read
};

// Called for every header of every answer, before next() returns it.
using HeaderSink = std::function<void(std::string_view name, std::string_view value)>;

struct HttpsClientOptions {
  std::chrono::milliseconds connect_timeout{5'000};  // resolve + TCP + TLS handshake
  std::chrono::milliseconds request_timeout{5'000};  // written -> answer read (see expire())
  std::size_t max_body_bytes = 8 << 20;              // a longer answer fails as "read"
  std::size_t max_request_bytes = 4096;              // submit() refuses a longer request
  // A connection idle this long is replaced by a fresh one (see expire()), before the server's
  // own idle timeout can close it under the next request; 0: never.
  std::chrono::milliseconds max_idle{0};
};

namespace detail {

// One HTTP response, parsed without allocating: each header goes straight to the sink and the
// body into a buffer reserved once (beast's response_parser stores every header field in a newly
// allocated node, five or more per answer).
class AnswerParser final : public beast::http::basic_parser<false> {
 public:
  AnswerParser(const HeaderSink& sink, std::string& body, std::size_t body_limit)
      : sink_(sink), body_(body) {
    this->body_limit(body_limit);
  }
  [[nodiscard]] int status() const noexcept { return status_; }

 private:
  void on_request_impl(beast::http::verb, beast::string_view, beast::string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, error_code&) override {
    status_ = code;
  }
  void on_field_impl(beast::http::field, beast::string_view name, beast::string_view value,
                     error_code&) override {
    if (sink_) sink_({name.data(), name.size()}, {value.data(), value.size()});
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    body_.clear();
    if (length && body_.capacity() < *length) body_.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view part, error_code&) override {
    body_.append(part.data(), part.size());
    return part.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view part, error_code&) override {
    body_.append(part.data(), part.size());
    return part.size();
  }
  void on_finish_impl(error_code&) override {}

  const HeaderSink& sink_;
  std::string& body_;
  int status_ = 0;
};

}  // namespace detail

class HttpsClient {
 public:
  // `ready`, when given, is called each time an answer (or a transport failure) is ready for
  // next(), from inside the io_context's handler, after the client's own state is settled: it
  // may call next() and submit(). Owners that poll next() leave it empty.
  HttpsClient(asio::io_context& io, ssl::context& tls, Url endpoint, HttpsClientOptions options,
              HeaderSink headers, std::function<void()> ready = {});
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Opens the connection ahead of the first request (warming it).
  void connect();
  // Queues a request; false when the queue is full or the request is longer than allowed.
  [[nodiscard]] bool submit(std::string_view request, std::uint64_t tag) noexcept;
  // Fails the request in flight when it was written more than the request timeout before
  // `now_ns` (clock::mono_ns): its outcome is unknown; the connection is re-opened for the next.
  // Also replaces a connection idle for longer than max_idle, so that a request after a quiet
  // spell does not meet a connection the server has closed (its outcome would be unknown).
  // The owner calls it from its poll loop (no timer per request: arming one costs syscalls on
  // the order's path).
  void expire(std::int64_t now_ns) noexcept;
  // The next finished request.
  [[nodiscard]] bool next(HttpAnswer& out) noexcept;
  // Drops the connection and every queued request (their answers never come).
  void close() noexcept;

  [[nodiscard]] bool connected() const noexcept {
    return state_ == State::ready || state_ == State::busy;
  }
  [[nodiscard]] bool busy() const noexcept { return count_ > 0; }
  [[nodiscard]] std::size_t queued() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t reconnects() const noexcept { return reconnects_; }
  [[nodiscard]] std::uint64_t idle_renewals() const noexcept { return idle_renewals_; }
  [[nodiscard]] const Url& endpoint() const noexcept { return endpoint_; }

 private:
  enum class State : std::uint8_t { closed, connecting, ready, busy };
  struct Slot {
    std::string bytes;
    std::uint64_t tag = 0;
  };
  struct Done {
    HttpAnswer answer;
    std::string body;
  };

  void start_next();
  void on_connected(error_code ec, const char* step);
  void on_written(unsigned epoch, error_code ec);
  void on_read(unsigned epoch, error_code ec);
  void fail_current(const char* what);
  void drop_connection() noexcept;
  void push_done(const HttpAnswer& a, std::string_view body) noexcept;
  void notify();

  asio::io_context& io_;
  ssl::context& tls_;
  Url endpoint_;
  HttpsClientOptions options_;
  HeaderSink headers_;
  std::function<void()> ready_;
  TlsConnector connector_;
  HandlerMemory memory_;  // declared before stream_: outlives its pending operations
  std::unique_ptr<TlsStream> stream_;
  beast::flat_buffer buffer_;
  std::optional<detail::AnswerParser> parser_;
  std::string body_;  // the answer being read (AnswerParser's buffer)
  State state_ = State::closed;
  unsigned epoch_ = 0;
  static constexpr std::size_t kSlots = 16;
  std::array<Slot, kSlots> slots_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::int64_t sent_ns_ = 0;
  std::int64_t idle_since_ns_ = 0;  // when the connection last finished a request or opened
  bool timed_out_ = false;  // expire() cancelled the request in flight
  // Finished answers waiting for next(), each with its own body buffer (reserved up front).
  std::array<Done, kSlots> done_{};
  std::size_t done_head_ = 0;
  std::size_t done_count_ = 0;
  std::uint64_t reconnects_ = 0;
  std::uint64_t idle_renewals_ = 0;
};

}  // namespace xarb::net
