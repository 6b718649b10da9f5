#include "control.hpp"

#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <xarb/tuning/threads.hpp>

namespace xarb::app {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {
constexpr std::size_t kMaxLine = 1024;
constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
}  // namespace

struct ControlServer::Impl {
  std::string path;
  Handler handler;
  asio::io_context io{1};
  local::acceptor acceptor{io};
  std::thread thread;

  // One connection at a time, one line each: operators type commands, nothing here is busy.
  void run() {
    tuning::name_current_thread("control");
    for (;;) {
      boost::system::error_code ec;
      local::socket s(io);
      acceptor.accept(s, ec);
      if (ec) return;  // closed
      // A client that connects and says nothing does not hold the socket for long.
      const timeval tv{5, 0};
      ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      asio::streambuf in(kMaxLine);
      asio::read_until(s, in, '\n', ec);
      std::string line;
      if (!ec || ec == asio::error::eof) {
        std::istream is(&in);
        std::getline(is, line);
      }
      const std::string answer =
          ec && ec != asio::error::eof
              ? std::string(R"({"ok":false,"error":"a command is one line of at most 1024 bytes"})")
              : handler(line);
      asio::write(s, asio::buffer(answer + "\n"), ec);
    }
  }
};

ControlServer::ControlServer(const std::string& path, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->handler = std::move(handler);
  if (path.size() > kMaxPath) {
    throw std::runtime_error("control: the socket path " + path + " is longer than " +
                             std::to_string(kMaxPath) + " bytes; set [control] socket");
  }
  namespace fs = std::filesystem;
  std::error_code fec;
  const fs::file_status st = fs::symlink_status(path, fec);
  if (fs::exists(st)) {
    if (!fs::is_socket(st)) {
      throw std::runtime_error("control: " + path + " exists and is not a socket");
    }
    std::string answer, error;
    if (control_request(path, "status", std::chrono::milliseconds(500), answer, error)) {
      throw std::runtime_error("control: an engine already answers on " + path);
    }
    fs::remove(path, fec);  // stale: its engine is gone
  }
  boost::system::error_code ec;
  impl_->acceptor.open(local(), ec);
  // Readable and writable by the owner only, from the moment it exists: the socket's own mode
  // is what bind gives the file (then chmod, in case the system ignores it).
  if (!ec && ::fchmod(impl_->acceptor.native_handle(), 0600) != 0)
    ec.assign(errno, boost::system::system_category());
  if (!ec) impl_->acceptor.bind(local::endpoint(path), ec);
  if (!ec && ::chmod(path.c_str(), 0600) != 0) ec.assign(errno, boost::system::system_category());
  if (!ec) impl_->acceptor.listen(4, ec);
  if (ec) throw std::runtime_error("control: cannot listen on " + path + ": " + ec.message());
  impl_->thread = std::thread([this] { impl_->run(); });
}

ControlServer::~ControlServer() {
  boost::system::error_code ec;
  // A blocked accept() returns once the socket is shut down and closed.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor.close(ec);
  if (impl_->thread.joinable()) impl_->thread.join();
  std::error_code fec;
  std::filesystem::remove(impl_->path, fec);
}

const std::string& ControlServer::path() const noexcept { return impl_->path; }

bool control_request(const std::string& path, const std::string& line,
                     std::chrono::milliseconds timeout, std::string& answer, std::string& error) {
  asio::io_context io;
  local::socket s(io);
  boost::system::error_code ec;
  s.connect(local::endpoint(path), ec);
  if (ec) {
    error = "no engine answers on " + path + ": " + ec.message();
    return false;
  }
  timeval tv{};
  tv.tv_sec = timeout.count() / 1000;
  tv.tv_usec = (timeout.count() % 1000) * 1000;
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  asio::write(s, asio::buffer(line + "\n"), ec);
  asio::streambuf in;
  if (!ec) asio::read_until(s, in, '\n', ec);
  if (ec && ec != asio::error::eof) {
    error = "the engine on " + path + " did not answer: " + ec.message();
    return false;
  }
  std::istream is(&in);
  std::getline(is, answer);
  if (answer.empty()) {
    error = "the engine on " + path + " closed without answering";
    return false;
  }
  return true;
}

}  // namespace xarb::app
