#pragma once

// One kept-alive HTTPS connection to a venue's REST API, driven by polling its io_context:
// requests (complete HTTP/1.1 messages written by BinanceApi / UpbitApi) go out one at a time in
// the order submitted; answers come back with their status, rate-limit headers and body. A lost
// connection fails the request in flight (its outcome is unknown to the caller) and is
// re-established for the next one. Peer certificates and host names are verified.

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <xarb/core/handler_memory.hpp>
#include <xarb/exec/binance_api.hpp>
#include <xarb/exec/orders.hpp>

namespace xarb::exec::detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;
using TcpStream = beast::basic_stream<tcp, net::io_context::executor_type>;
using TlsStream = beast::ssl_stream<TcpStream>;

// A TLS client context verifying peers against `ca_file` (the system store when empty). Throws
// std::runtime_error when the trust store cannot be loaded (start-up only).
std::unique_ptr<ssl::context> make_client_tls(const std::string& ca_file);

struct HttpAnswer {
  std::uint64_t tag = 0;
  bool transport_error = false;  // no answer: connection failed, lost or timed out
  std::string_view what;         // the transport step that failed
  int status = 0;
  std::string_view body;         // valid until the next call to next()
  std::int64_t latency_ns = 0;   // request written -> answer read
};

using HeaderSink = std::function<void(std::string_view name, std::string_view value)>;

// One HTTP response, parsed without allocating: each header goes straight to the sink and the
// body into a buffer reserved once (beast's response_parser stores every header field in a newly
// allocated node, five or more per answer, on the hot thread).
class AnswerParser final : public http::basic_parser<false> {
 public:
  AnswerParser(const HeaderSink& sink, std::string& body) : sink_(sink), body_(body) {
    body_limit(8 * 1024 * 1024);
  }
  [[nodiscard]] int status() const noexcept { return status_; }

 private:
  void on_request_impl(http::verb, beast::string_view, beast::string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, beast::string_view, int, error_code&) override {
    status_ = code;
  }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
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

class HttpsClient {
 public:
  // Called for every header of every answer, before next() returns it.
  using HeaderSink = detail::HeaderSink;

  HttpsClient(net::io_context& io, ssl::context& tls, RestEndpoint endpoint,
              std::chrono::milliseconds connect_timeout, std::chrono::milliseconds request_timeout,
              HeaderSink headers);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Opens the connection ahead of the first request (warming it).
  void connect();
  // Queues a request; false when the queue is full.
  [[nodiscard]] bool submit(std::string_view request, std::uint64_t tag) noexcept;
  // Fails the request in flight when it was written more than the request timeout before
  // `now_ns` (clock::mono_ns): its outcome is unknown; the connection is re-opened for the next.
  // The owner calls it from its poll loop.
  void expire(std::int64_t now_ns) noexcept;
  // The next finished request.
  [[nodiscard]] bool next(HttpAnswer& out) noexcept;

  [[nodiscard]] bool connected() const noexcept { return state_ == State::ready || state_ == State::busy; }
  [[nodiscard]] std::size_t queued() const noexcept { return count_; }
  [[nodiscard]] std::uint64_t reconnects() const noexcept { return reconnects_; }

 private:
  enum class State : std::uint8_t { closed, connecting, ready, busy };
  struct Slot {
    HttpRequestText bytes;
    std::uint64_t tag = 0;
  };

  void start_next();
  void on_connected(error_code ec, const char* step);
  void fail_current(const char* what);
  void close() noexcept;

  net::io_context& io_;
  ssl::context& tls_;
  RestEndpoint endpoint_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds request_timeout_;
  HeaderSink headers_;
  tcp::resolver resolver_;
  HandlerMemory memory_;  // declared before stream_: outlives its pending operations
  std::unique_ptr<TlsStream> stream_;
  beast::flat_buffer buffer_;
  std::optional<AnswerParser> parser_;
  std::string body_;  // the answer being read (AnswerParser's buffer)
  State state_ = State::closed;
  unsigned epoch_ = 0;
  static constexpr std::size_t kSlots = 16;
  std::array<Slot, kSlots> slots_{};
  std::size_t head_ = 0;
  std::size_t count_ = 0;
  std::int64_t sent_ns_ = 0;
  bool timed_out_ = false;  // expire() cancelled the request in flight
  // Finished answers waiting for next(), each with its own body buffer (reserved up front).
  struct Done {
    HttpAnswer answer;
    std::string body;
  };
  std::array<Done, kSlots> done_{};
  std::size_t done_head_ = 0;
  std::size_t done_count_ = 0;
  std::uint64_t reconnects_ = 0;

  void push_done(const HttpAnswer& a, std::string_view body) noexcept;
};

}  // namespace xarb::exec::detail
