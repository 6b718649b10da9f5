#include <xarb/app/control.hpp>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include <xarb/tuning/threads.hpp>

namespace xarb::app {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {
constexpr std::size_t kMaxLine = 1024;
constexpr std::size_t kMaxPath = sizeof(sockaddr_un::sun_path) - 1;
// How long a client has to send its line, and then to take its answer.
constexpr std::chrono::seconds kReadDeadline{5};
}  // namespace

struct ControlServer::Impl {
  std::string path;
  Handler handler;
  asio::io_context io{1};
  local::acceptor acceptor{io};
  std::thread thread;

  // One connection: a line read within kReadDeadline, its answer written, closed. Reads are
  // asynchronous, so a client that connects and says nothing (or says it a byte a second)
  // holds nobody else up: the commands of every other client are read beside it, and kill,
  // flatten and pause are always reachable. Commands are answered one at a time, in the order
  // their lines are complete.
  struct Session : std::enable_shared_from_this<Session> {
    Session(Impl& owner, local::socket socket)
        : impl(owner), s(std::move(socket)), deadline(owner.io) {}
    Impl& impl;
    local::socket s;
    asio::streambuf in{kMaxLine};
    asio::steady_timer deadline;
    std::string answer;

    void start() {
      deadline.expires_after(kReadDeadline);
      deadline.async_wait([self = shared_from_this()](boost::system::error_code ec) {
        if (ec) return;  // cancelled: the line came in time
        self->s.close(ec);
      });
      asio::async_read_until(s, in, '\n',
                             [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                               self->deadline.cancel();
                               self->on_line(ec);
                             });
    }

    void on_line(boost::system::error_code ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) return;
      std::string line;
      if (!ec || ec == asio::error::eof) {
        std::istream is(&in);
        std::getline(is, line);
      }
      if (ec && ec != asio::error::eof) {
        answer = R"({"ok":false,"error":"a command is one line of at most 1024 bytes"})";
      } else if (line.empty() && ec == asio::error::eof) {
        return;  // connected and closed without a word
      } else {
        answer = impl.handler(line);
      }
      answer += '\n';
      deadline.expires_after(kReadDeadline);
      deadline.async_wait([self = shared_from_this()](boost::system::error_code e) {
        if (!e) self->s.close(e);
      });
      asio::async_write(s, asio::buffer(answer),
                        [self = shared_from_this()](boost::system::error_code, std::size_t) {
                          self->deadline.cancel();
                          boost::system::error_code ignored;
                          self->s.close(ignored);
                        });
    }
  };

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, local::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(*this, std::move(s))->start();
      accept();
    });
  }

  void run() {
    tuning::name_current_thread("control");
    accept();
    io.run();
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
  impl_->thread = std::thread([impl = impl_.get()] { impl->run(); });
}

ControlServer::~ControlServer() {
  // Sessions still open are dropped with the io_context: their clients read end of file.
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
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
