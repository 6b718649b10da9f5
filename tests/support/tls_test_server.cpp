#include "tls_test_server.hpp"

#include <xarb/net/names.hpp>
#include <xarb/sim/certificate.hpp>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace xarb::test {

using namespace xarb::net::names;  // asio, beast, http, websocket, ssl, tcp, error_code

namespace {

class BeastPeer : public WsPeer {
 public:
  BeastPeer(websocket::stream<ssl::stream<tcp::socket>&>& ws, int fd, std::string target)
      : ws_(ws), fd_(fd), target_(std::move(target)) {
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) {
        ++pongs_;
        if (counter_ != nullptr) ++*counter_;
      }
    });
  }
  bool send(const std::string& data, bool binary) override {
    beast::error_code ec;
    ws_.binary(binary);
    ws_.write(asio::buffer(data), ec);
    return !ec;
  }
  std::optional<std::string> receive() override {
    beast::flat_buffer buffer;
    beast::error_code ec;
    ws_.read(buffer, ec);
    if (ec) return std::nullopt;
    return beast::buffers_to_string(buffer.data());
  }
  bool ping() override {
    beast::error_code ec;
    ws_.ping({}, ec);
    return !ec;
  }
  void kill() override { ::shutdown(fd_, SHUT_RDWR); }
  std::uint64_t pongs() const override { return pongs_.load(); }
  void set_pong_counter(std::atomic<std::uint64_t>* counter) override { counter_ = counter; }
  std::string target() const override { return target_; }

 private:
  websocket::stream<ssl::stream<tcp::socket>&>& ws_;
  int fd_;
  std::string target_;
  std::atomic<std::uint64_t> pongs_{0};
  std::atomic<std::uint64_t>* counter_ = nullptr;
};

}  // namespace

struct TlsTestServer::Impl {
  asio::io_context io;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  std::mutex mutex;
  std::vector<std::thread> threads;
  std::vector<int> fds;
  WsHandler ws_handler;
  HttpHandler http_handler;
  RestHandler rest_handler;
};

std::string HttpExchange::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

TlsTestServer::TlsTestServer(WsHandler ws, RestHandler rest)
    : TlsTestServer(std::move(ws), HttpHandler{}) {
  impl_->rest_handler = std::move(rest);
}

TlsTestServer::TlsTestServer(WsHandler ws, HttpHandler http) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.ws_handler = std::move(ws);
  m.http_handler = std::move(http);
  const sim::Pem pem = sim::make_self_signed_certificate();
  ca_file_ = (std::filesystem::temp_directory_path() /
              ("xarb_test_ca_" + std::to_string(::getpid()) + "_" +
               std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".pem"))
                 .string();
  std::ofstream(ca_file_) << pem.cert;
  m.tls.use_certificate_chain(asio::buffer(pem.cert));
  m.tls.use_private_key(asio::buffer(pem.key), ssl::context::pem);
  const tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"), 0);
  m.acceptor.open(loopback.protocol());
  m.acceptor.set_option(asio::socket_base::reuse_address(true));
  m.acceptor.bind(loopback);
  m.acceptor.listen();
  port_ = m.acceptor.local_endpoint().port();
  m.accept_thread = std::thread([this] {
    Impl& mm = *impl_;
    for (int index = 0;; ++index) {
      beast::error_code ec;
      tcp::socket socket(mm.io);
      mm.acceptor.accept(socket, ec);
      if (ec || stopping_) return;
      const int fd = socket.native_handle();
      ++connections_;
      std::lock_guard lock(mm.mutex);
      mm.fds.push_back(fd);
      mm.threads.emplace_back([this, s = std::move(socket), index]() mutable {
        Impl& mi = *impl_;
        const int fd2 = s.native_handle();
        ssl::stream<tcp::socket> stream(std::move(s), mi.tls);
        beast::error_code e;
        stream.handshake(ssl::stream_base::server, e);
        if (e) return;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::read(stream, buffer, req, e);
        if (e) return;
        if (websocket::is_upgrade(req)) {
          websocket::stream<ssl::stream<tcp::socket>&> ws(stream);
          ws.accept(req, e);
          if (e) return;
          BeastPeer peer(ws, fd2, std::string(req.target()));
          mi.ws_handler(peer, index);
          return;
        }
        if (mi.rest_handler) {
          // Kept-alive: answer requests on this connection until the client closes it.
          for (;;) {
            HttpExchange ex;
            ex.method = std::string(req.method_string());
            ex.target = std::string(req.target());
            ex.body = req.body();
            ex.connection = index;
            for (const auto& f : req) {
              std::string name(f.name_string());
              for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
              ex.headers.emplace_back(std::move(name), std::string(f.value()));
            }
            const HttpReply reply = mi.rest_handler(ex);
            if (reply.delay_ms > 0) {
              std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
            }
            if (reply.drop || stopping_) return;
            http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
            res.set(http::field::content_type, "application/json;charset=UTF-8");
            for (const auto& [k, v] : reply.headers) res.set(k, v);
            res.body() = reply.body;
            res.keep_alive(req.keep_alive());
            res.prepare_payload();
            http::write(stream, res, e);
            if (e || !req.keep_alive()) break;
            req = {};
            http::read(stream, buffer, req, e);
            if (e) return;
          }
          stream.shutdown(e);
          return;
        }
        int status = 200;
        const std::string body = mi.http_handler(std::string(req.target()), status);
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::content_type, "application/json");
        res.body() = body;
        res.keep_alive(false);  // one request per connection, and the answer says so
        res.prepare_payload();
        http::write(stream, res, e);
        stream.shutdown(e);
      });
    }
  });
}

TlsTestServer::~TlsTestServer() {
  Impl& m = *impl_;
  stopping_ = true;
  beast::error_code ec;
  {
    // Closing a listening socket does not wake a blocked accept() on Linux: connect to it.
    tcp::socket poke(m.io);
    poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }
  if (m.accept_thread.joinable()) m.accept_thread.join();
  m.acceptor.close(ec);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(m.mutex);
    for (int fd : m.fds) ::shutdown(fd, SHUT_RDWR);
    threads.swap(m.threads);
  }
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
  std::filesystem::remove(ca_file_);
}

bool poll_until(const std::function<bool()>& done, const std::function<void()>& step,
                std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    step();
  }
  return done();
}

}  // namespace xarb::test
