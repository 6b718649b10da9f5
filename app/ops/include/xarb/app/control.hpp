#pragma once

// Live control of a running engine (`xarb ctl`): a Unix socket, mode 0600, that takes one
// command line per connection and answers one line of JSON. The server's thread only moves
// bytes: `handler` (the engine's) decides, on the ops thread, and the answer goes back.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace xarb::app {

class ControlServer {
 public:
  using Handler = std::function<std::string(const std::string& line)>;
  // Listens on `path`. A stale socket (nobody listening) is replaced; anything else there, or a
  // running engine on it, is an error. Throws std::runtime_error naming the path and why.
  ControlServer(const std::string& path, Handler handler);
  ~ControlServer();  // stops listening and removes the socket
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  [[nodiscard]] const std::string& path() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Sends one command to the engine listening on `path` and returns its answer (one line of JSON).
// False with `error` when nothing answers in time.
[[nodiscard]] bool control_request(const std::string& path, const std::string& line,
                                   std::chrono::milliseconds timeout, std::string& answer,
                                   std::string& error);

}  // namespace xarb::app
