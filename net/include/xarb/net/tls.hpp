#pragma once

// TLS for the clients: the stream types, the client context (trust store) and the connector
// that opens a verified connection (resolve -> connect -> SNI and host-name check -> handshake).

#include <chrono>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <xarb/net/names.hpp>
#include <xarb/net/url.hpp>

namespace xarb::net {

// Bound to the io_context's own executor rather than the type-erased any_io_executor of
// beast::tcp_stream: completions then run without wrapping each handler in an allocated
// executor_function, so steady-state reads do not allocate.
using TcpStream = beast::basic_stream<tcp, asio::io_context::executor_type>;

// The clients' TLS stream. A write of several buffers (a websocket frame: its header, then its
// payload) is gathered into one buffer first, so that it goes out as one TLS record. This is what
// beast::ssl_stream does too, but its buffer is freed by every write of a single buffer (the pong
// Beast writes for each ping the server sends), so the first frame after each ping allocated it
// again. Here the buffer is allocated once, with the stream.
class TlsStream {
 public:
  using next_layer_type = ssl::stream<TcpStream>;
  using executor_type = next_layer_type::executor_type;
  // Beast gathers up to 16 KiB the same way; a longer write goes out as its first buffer
  // (write_some may write less than it was given).
  static constexpr std::size_t kGatherBytes = 16 * 1024;

  TlsStream(asio::io_context& io, ssl::context& ctx)
      : stream_(io, ctx), gather_(std::make_unique<char[]>(kGatherBytes)) {}

  executor_type get_executor() noexcept { return stream_.get_executor(); }
  next_layer_type& next_layer() noexcept { return stream_; }
  const next_layer_type& next_layer() const noexcept { return stream_; }
  SSL* native_handle() noexcept { return stream_.native_handle(); }

  template <class Callback>
  void set_verify_callback(Callback callback) {
    stream_.set_verify_callback(std::move(callback));
  }
  template <class Handler>
  auto async_handshake(ssl::stream_base::handshake_type type, Handler&& handler) {
    return stream_.async_handshake(type, std::forward<Handler>(handler));
  }
  template <class Handler>
  auto async_shutdown(Handler&& handler) {
    return stream_.async_shutdown(std::forward<Handler>(handler));
  }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return stream_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  // One write at a time, as on any asio stream (the websocket and HTTP clients keep to it): the
  // gathered bytes stay untouched until the write completes.
  template <class ConstBuffers, class Handler>
  auto async_write_some(const ConstBuffers& buffers, Handler&& handler) {
    auto first = asio::buffer_sequence_begin(buffers);
    const auto last = asio::buffer_sequence_end(buffers);
    if (first == last || std::next(first) == last) {
      return stream_.async_write_some(buffers, std::forward<Handler>(handler));
    }
    const std::size_t n = asio::buffer_copy(asio::buffer(gather_.get(), kGatherBytes), buffers);
    return stream_.async_write_some(asio::const_buffer(gather_.get(), n),
                                    std::forward<Handler>(handler));
  }

  template <class MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, error_code& ec) {
    return stream_.read_some(buffers, ec);
  }
  template <class ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, error_code& ec) {
    return stream_.write_some(buffers, ec);
  }

 private:
  next_layer_type stream_;
  std::unique_ptr<char[]> gather_;
};

// A websocket over TlsStream closes as one over the TLS stream beneath it (Beast's teardown for
// asio's ssl::stream: a TLS shutdown, then the TCP close).
void teardown(beast::role_type role, TlsStream& stream, error_code& ec);
template <class Handler>
void async_teardown(beast::role_type role, TlsStream& stream, Handler&& handler) {
  beast::async_teardown(role, stream.next_layer(), std::forward<Handler>(handler));
}

// The servers' side (the simulator, the tests' stubs), where an allocation per read is no cost.
using ServerTlsStream = beast::ssl_stream<beast::tcp_stream>;

// A TLS client context verifying peers against `ca_file` (the system store when empty). Throws
// std::runtime_error naming the file when the trust store cannot be loaded (start-up only).
[[nodiscard]] std::unique_ptr<ssl::context> make_client_tls(const std::string& ca_file);

// Opens one verified TLS connection at a time: resolves the URL's host, connects within the
// timeout, turns Nagle's algorithm off (an order, a pong or a subscription goes out at once),
// sets SNI and host-name verification, and runs the handshake. The owner keeps the connector and
// the stream alive while an attempt runs; cancel() ends an attempt without calling `done`.
class TlsConnector {
 public:
  // ec is empty on success; `step` names what failed ("resolve", "connect", "tls setup",
  // "tls handshake").
  using Done = std::function<void(error_code ec, const char* step)>;

  explicit TlsConnector(asio::io_context& io) : resolver_(io) {}

  void start(TlsStream& stream, const Url& url, std::chrono::milliseconds timeout, Done done);
  void cancel() noexcept;

 private:
  void on_resolved(unsigned epoch, error_code ec, const tcp::resolver::results_type& results);
  void on_connected(unsigned epoch, error_code ec);
  void on_handshake(unsigned epoch, error_code ec);
  void finish(error_code ec, const char* step);

  tcp::resolver resolver_;
  TlsStream* stream_ = nullptr;
  std::string host_;
  std::chrono::milliseconds timeout_{};
  Done done_;
  unsigned epoch_ = 0;
  // A resolve runs on the resolver's own thread and its handler is posted when it ends, even
  // after cancel() or this object's end: the handler holds this token and touches nothing of
  // ours once it has gone.
  std::shared_ptr<const bool> alive_ = std::make_shared<const bool>(true);
};

}  // namespace xarb::net
