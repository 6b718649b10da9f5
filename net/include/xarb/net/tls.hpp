#pragma once

// TLS for the clients: the stream types, the client context (trust store) and the connector
// that opens a verified connection (resolve -> connect -> SNI and host-name check -> handshake).

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <xarb/net/names.hpp>
#include <xarb/net/url.hpp>

namespace xarb::net {

// Bound to the io_context's own executor rather than the type-erased any_io_executor of
// beast::tcp_stream: completions then run without wrapping each handler in an allocated
// executor_function, so steady-state reads do not allocate.
using TcpStream = beast::basic_stream<tcp, asio::io_context::executor_type>;
using TlsStream = beast::ssl_stream<TcpStream>;
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
};

}  // namespace xarb::net
