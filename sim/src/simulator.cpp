// The simulator's lifecycle and public calls: start (certificate, acceptors, the venues' front
// ends, the market, timers, the thread), stop, and the calls tests make from other threads.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include <xarb/sim/certificate.hpp>
#include <xarb/venues/registry.hpp>

#include "simulator_internal.hpp"
#include "text.hpp"
#include "venues/registry.hpp"

namespace xarb::sim {

using text::dec8;

std::string SimSummary::text() const {
  std::ostringstream out;
  out << "xarb-sim summary\n"
      << "  book updates      " << book_updates << "\n"
      << "  ws messages sent  " << ws_messages << " over " << ws_connections << " connections ("
      << ws_dropped << " dropped by faults; the market waited " << backpressure_ticks
      << " ms for slow clients; " << private_missed << " private events withheld)\n"
      << "  REST requests     " << http_requests << " (" << exchange.auth_failures
      << " refused by authentication, " << exchange.rate_limited << " rate limited, "
      << exchange.banned << " while blocked, " << exchange.faults << " faults injected)\n";
  if (replaying) {
    out << "  replay            " << replay_applied << " capture events applied, " << replay_skipped
        << " skipped" << (replay_finished ? " (every capture played to its end)" : "") << "\n";
  }
  out << "  orders by outcome";
  for (const auto& [k, n] : exchange.orders_by_outcome) out << "  " << k << " " << n;
  if (probes.sent > 0) {
    std::vector<std::int64_t> l = probes.latencies_ns;
    std::sort(l.begin(), l.end());
    const auto at = [&](double q) {
      return l.empty() ? 0.0 : static_cast<double>(l[std::min(l.size() - 1, static_cast<std::size_t>(q * static_cast<double>(l.size())))]) / 1e3;
    };
    out << "\n  latency probes    " << probes.sent << " sent, " << probes.answered
        << " answered; frame written -> order read p50 " << at(0.5) << " us, p99 " << at(0.99)
        << " us";
  }
  out << "\n  balances\n";
  for (const AccountSpec& a : accounts) {
    out << "    " << to_string(a.venue) << " " << a.key.substr(0, 4) << "...";
    for (const auto& [asset, m] : a.balances) out << "  " << asset << " " << dec8(m);
    out << "\n";
  }
  return out.str();
}

Simulator::Impl::Impl(SimOptions o)
    : options(std::move(o)),
      market(options.symbols, options.market, options.venues),
      exchange(market, options.accounts, options.venues, options.limits, options.faults,
               options.market.seed),
      tick(io),
      ping(io),
      drop(io) {
  exchange.set_bnb_usdt(options.bnb_usdt.mantissa());
}

void Simulator::Impl::accept(Venue v) {
  acceptors[index(v)]->async_accept([this, v](error_code ec, tcp::socket socket) {
    if (ec) return;
    // As the venues do: every frame and answer goes out at once (no Nagle delay behind an
    // unacknowledged segment, which with delayed ACKs can hold a frame for tens of ms).
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    std::make_shared<HttpSession>(*this, std::move(socket), v)->run();
    accept(v);
  });
}

// ---------------------------------------------------------------------------------------------

Simulator::Simulator(SimOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Simulator::~Simulator() { stop(); }

void Simulator::start() {
  Impl& m = *impl_;
  // One account per (venue, key): a second would hold balances no request can reach.
  const auto& accounts = m.options.accounts;
  for (std::size_t i = 0; i < accounts.size(); ++i) {
    for (std::size_t j = i + 1; j < accounts.size(); ++j) {
      if (accounts[i].venue == accounts[j].venue && accounts[i].key == accounts[j].key) {
        throw std::invalid_argument("two " + std::string(to_string(accounts[i].venue)) +
                                    " accounts have the key " + accounts[i].key.substr(0, 4) +
                                    "...");
      }
    }
  }
  const Pem pem = make_self_signed_certificate();
  m.ca_file = m.options.cert_out;
  if (m.ca_file.empty()) {
    m.ca_file = (std::filesystem::temp_directory_path() /
                 ("xarb_sim_ca_" + std::to_string(::getpid()) + "_" +
                  std::to_string(reinterpret_cast<std::uintptr_t>(this)) + ".pem"))
                    .string();
  }
  std::ofstream(m.ca_file) << pem.cert;
  if (!std::ofstream(m.ca_file, std::ios::app)) {
    throw std::runtime_error("cannot write the certificate to " + m.ca_file);
  }
  m.tls.use_certificate_chain(asio::buffer(pem.cert));
  m.tls.use_private_key(asio::buffer(pem.key), ssl::context::pem);
  for (const Venue v : m.market.served()) {
    m.fronts[index(v)] = make_ws_front(v, m.market, m.exchange);
    if (!m.fronts[index(v)]) continue;
    const tcp::endpoint loopback(asio::ip::make_address("127.0.0.1"),
                                 m.options.venues[index(v)].port);
    auto a = std::make_unique<tcp::acceptor>(m.io);
    a->open(loopback.protocol());
    a->set_option(asio::socket_base::reuse_address(true));
    a->bind(loopback);
    a->listen();
    m.acceptors[index(v)] = std::move(a);
    m.accept(v);
  }
  m.market.rebuild_all(clock::wall_ms());
  if (!m.options.replay_files.empty()) {
    m.replay = std::make_unique<CaptureReplay>(m.options.replay_files, m.options.replay_speed);
    m.counts.replaying = true;
    m.replay_start = std::chrono::steady_clock::now();
  }
  for (auto& f : m.fronts) {
    if (f) f->reset();
  }
  m.last_tick = std::chrono::steady_clock::now();
  m.next_stall = m.last_tick + std::chrono::seconds(10);
  m.tick.expires_after(std::chrono::milliseconds(1));
  m.tick.async_wait([&m](error_code ec) {
    if (!ec) m.on_tick();
  });
  // A venue that pings (WsVenueFront::pings) pings every connection every SimOptions::ping.
  struct Pinger {
    Impl& m;
    void operator()(error_code ec) const {
      if (ec) return;
      for (const auto& w : m.sessions) {
        if (auto s = w.lock()) s->ping();
      }
      m.ping.expires_after(m.options.ping);
      m.ping.async_wait(*this);
    }
  };
  m.ping.expires_after(m.options.ping);
  m.ping.async_wait(Pinger{m});
  if (m.options.faults.drop_ws_every_s > 0.0) {
    struct Dropper {
      Impl& m;
      void operator()(error_code ec) const {
        if (ec) return;
        m.drop_sessions();
        m.drop.expires_after(std::chrono::milliseconds(
            static_cast<std::int64_t>(m.options.faults.drop_ws_every_s * 1000)));
        m.drop.async_wait(*this);
      }
    };
    m.drop.expires_after(std::chrono::milliseconds(
        static_cast<std::int64_t>(m.options.faults.drop_ws_every_s * 1000)));
    m.drop.async_wait(Dropper{m});
  }
  m.thread = std::thread([&m] { m.io.run(); });
}

void Simulator::stop() {
  Impl& m = *impl_;
  if (!m.thread.joinable()) return;
  asio::post(m.io, [&m] {
    error_code ignored;
    m.tick.cancel();
    m.ping.cancel();
    m.drop.cancel();
    for (auto& a : m.acceptors) {
      if (a) a->close(ignored);
    }
    for (const auto& w : m.sessions) {
      if (auto s = w.lock()) s->close();
    }
    m.io.stop();
  });
  m.thread.join();
  if (m.options.cert_out.empty()) std::filesystem::remove(m.ca_file);
}

unsigned short Simulator::port(Venue v) const noexcept {
  const auto& a = impl_->acceptors[index(v)];
  return a ? a->local_endpoint().port() : 0;
}
std::string Simulator::ws_url(Venue v) const {
  const SimVenue* s = find_venue(v);
  return "wss://127.0.0.1:" + std::to_string(port(v)) +
         std::string(s != nullptr ? s->ws_path : std::string_view{});
}
std::string Simulator::rest_url(Venue v) const {
  return "https://127.0.0.1:" + std::to_string(port(v));
}
const std::string& Simulator::ca_file() const noexcept { return impl_->ca_file; }

void Simulator::with_exchange(const std::function<void(Exchange&, SyntheticMarket&)>& fn) {
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    fn(impl_->exchange, impl_->market);
    done.set_value();
  });
  done.get_future().wait();
}

void Simulator::set_rate(double updates_per_second) {
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    impl_->options.updates_per_second = updates_per_second;
    impl_->owed = 0.0;
    done.set_value();
  });
  done.get_future().wait();
}

void Simulator::drop_websockets() {
  std::promise<void> done;
  asio::post(impl_->io, [&] {
    impl_->drop_sessions();
    done.set_value();
  });
  done.get_future().wait();
}

SimSummary Simulator::Impl::summary_now() {
  SimSummary out = counts;
  out.probes = probe.stats;
  out.exchange = exchange.stats();
  out.accounts = exchange.accounts();
  return out;
}

SimSummary Simulator::summary() {
  SimSummary out;
  if (impl_->thread.joinable() && !impl_->io.stopped()) {
    std::promise<void> done;
    asio::post(impl_->io, [&] {
      out = impl_->summary_now();
      done.set_value();
    });
    done.get_future().wait();
  } else {
    out = impl_->summary_now();
  }
  return out;
}

}  // namespace xarb::sim
