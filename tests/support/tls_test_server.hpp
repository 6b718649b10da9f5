#pragma once

// A TLS server on 127.0.0.1 for integration tests: a self-signed certificate generated at start
// (written as PEM for clients to use as their CA file), websocket and HTTP on one ephemeral port,
// one thread per connection. Never listens on anything but loopback.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <string_view>
#include <utility>
#include <vector>

namespace xarb::test {

// The server side of one websocket connection (used from its connection thread only).
class WsPeer {
 public:
  virtual ~WsPeer() = default;
  virtual bool send(const std::string& data, bool binary) = 0;
  // Blocks until a message arrives; nullopt when the connection ended.
  virtual std::optional<std::string> receive() = 0;
  virtual bool ping() = 0;
  // Drops the TCP connection without a websocket close.
  virtual void kill() = 0;
  virtual std::uint64_t pongs() const = 0;
  // Also counts pongs into `counter` (observed while receive() blocks).
  virtual void set_pong_counter(std::atomic<std::uint64_t>* counter) = 0;
  virtual std::string target() const = 0;
};

// One HTTP request as a REST handler sees it.
struct HttpExchange {
  std::string method;
  std::string target;  // path and query
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercase
  std::string body;
  int connection = 0;  // index of the TCP connection it came on

  [[nodiscard]] std::string header(std::string_view name) const;
  [[nodiscard]] std::string path() const { return target.substr(0, target.find('?')); }
  [[nodiscard]] std::string query() const {
    const auto q = target.find('?');
    return q == std::string::npos ? std::string() : target.substr(q + 1);
  }
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;   // wait this long before answering
  bool drop = false;  // close the connection without answering
};

class TlsTestServer {
 public:
  using WsHandler = std::function<void(WsPeer&, int connection_index)>;
  // Returns the body; sets status. One request per connection.
  using HttpHandler = std::function<std::string(const std::string& target, int& status)>;
  // Full requests, kept-alive connections. Called from connection threads: synchronise.
  using RestHandler = std::function<HttpReply(const HttpExchange&)>;

  TlsTestServer(WsHandler ws, HttpHandler http);
  TlsTestServer(WsHandler ws, RestHandler rest);
  ~TlsTestServer();

  [[nodiscard]] unsigned short port() const noexcept { return port_; }
  [[nodiscard]] const std::string& ca_file() const noexcept { return ca_file_; }
  [[nodiscard]] std::string ws_url() const { return "wss://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::string https_url() const {
    return "https://127.0.0.1:" + std::to_string(port_);
  }
  [[nodiscard]] int connections() const noexcept { return connections_.load(); }
  [[nodiscard]] bool stopping() const noexcept { return stopping_.load(); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  unsigned short port_ = 0;
  std::string ca_file_;
  std::atomic<int> connections_{0};
  std::atomic<bool> stopping_{false};
};

// Polls `done` on the calling thread (driving `step`) until it holds or `timeout` passes.
bool poll_until(const std::function<bool()>& done, const std::function<void()>& step,
                std::chrono::milliseconds timeout);

}  // namespace xarb::test
