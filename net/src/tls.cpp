#include <xarb/net/tls.hpp>

#include <stdexcept>

#include <openssl/err.h>

namespace xarb::net {

std::unique_ptr<ssl::context> make_client_tls(const std::string& ca_file) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_peer);
  error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
  } else {
    ctx->load_verify_file(ca_file, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot load the trust store " +
                             (ca_file.empty() ? std::string("(system)") : ca_file) + ": " +
                             ec.message());
  }
  return ctx;
}

void teardown(beast::role_type role, TlsStream& stream, error_code& ec) {
  beast::teardown(role, stream.next_layer(), ec);
}

void TlsConnector::start(TlsStream& stream, const Url& url, std::chrono::milliseconds timeout,
                         Done done) {
  const unsigned epoch = ++epoch_;
  stream_ = &stream;
  host_ = url.host;
  timeout_ = timeout;
  done_ = std::move(done);
  resolver_.async_resolve(url.host, url.port,
                          [this, epoch, alive = std::weak_ptr<const bool>(alive_)](
                              error_code ec, const tcp::resolver::results_type& r) {
                            if (alive.expired()) return;  // the connector has gone
                            on_resolved(epoch, ec, r);
                          });
}

void TlsConnector::cancel() noexcept {
  ++epoch_;
  resolver_.cancel();
}

void TlsConnector::on_resolved(unsigned epoch, error_code ec,
                               const tcp::resolver::results_type& results) {
  if (epoch != epoch_) return;
  if (ec) return finish(ec, "resolve");
  beast::get_lowest_layer(*stream_).expires_after(timeout_);
  beast::get_lowest_layer(*stream_).async_connect(
      results, [this, epoch](error_code ec2, const tcp::endpoint&) { on_connected(epoch, ec2); });
}

void TlsConnector::on_connected(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  if (ec) return finish(ec, "connect");
  error_code ignored;
  beast::get_lowest_layer(*stream_).socket().set_option(tcp::no_delay(true), ignored);
  // SNI (SSL_set_tlsext_host_name without its C cast) and host-name verification.
  if (SSL_ctrl(stream_->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(host_.c_str())) != 1) {
    return finish(error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
                  "tls setup");
  }
  stream_->set_verify_callback(ssl::host_name_verification(host_));
  stream_->async_handshake(ssl::stream_base::client,
                           [this, epoch](error_code ec2) { on_handshake(epoch, ec2); });
}

void TlsConnector::on_handshake(unsigned epoch, error_code ec) {
  if (epoch != epoch_) return;
  if (!ec) beast::get_lowest_layer(*stream_).expires_never();
  finish(ec, "tls handshake");
}

void TlsConnector::finish(error_code ec, const char* step) {
  ++epoch_;  // one outcome per attempt
  Done done = std::move(done_);
  done_ = nullptr;
  if (done) done(ec, step);
}

}  // namespace xarb::net
