#include <charconv>
#include <cmath>
#include <mutex>
#include <sstream>
#include <thread>
#include <type_traits>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <xarb/app/metrics.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct MetricsServer::Impl {
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::mutex mu;
  std::string text = "# no figures yet\n";
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed
      serve(std::make_shared<beast::tcp_stream>(std::move(socket)));
      accept();
    });
  }

  void serve(std::shared_ptr<beast::tcp_stream> stream) {
    auto buffer = std::make_shared<beast::flat_buffer>();
    auto req = std::make_shared<http::request<http::empty_body>>();
    stream->expires_after(std::chrono::seconds(5));
    http::async_read(*stream, *buffer, *req,
                     [this, stream, buffer, req](beast::error_code ec, std::size_t) {
                       if (ec) return;
                       auto res = std::make_shared<http::response<http::string_body>>();
                       res->version(req->version());
                       res->keep_alive(false);
                       if (req->method() != http::verb::get || req->target() != "/metrics") {
                         res->result(http::status::not_found);
                         res->body() = "try /metrics\n";
                       } else {
                         res->result(http::status::ok);
                         res->set(http::field::content_type, "text/plain; version=0.0.4");
                         std::lock_guard lock(mu);
                         res->body() = text;
                       }
                       res->prepare_payload();
                       http::async_write(*stream, *res,
                                         [stream, res](beast::error_code, std::size_t) {
                                           beast::error_code ignored;
                                           stream->socket().shutdown(tcp::socket::shutdown_both,
                                                                     ignored);
                                         });
                     });
  }
};

MetricsServer::MetricsServer(const std::string& bind, int port) : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  const auto address = asio::ip::make_address(bind, ec);
  if (ec) throw std::runtime_error("metrics: bad bind address " + bind);
  const tcp::endpoint ep(address, static_cast<unsigned short>(port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("metrics: cannot listen on " + bind + ":" + std::to_string(port) +
                             ": " + ec.message());
  }
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

MetricsServer::~MetricsServer() {
  asio::post(impl_->io, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->io.stop();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

void MetricsServer::publish(std::string text) {
  std::lock_guard lock(impl_->mu);
  impl_->text = std::move(text);
}

int MetricsServer::port() const noexcept { return impl_->acceptor.local_endpoint().port(); }

namespace {

// A double as the shortest text that reads back as the same double: 1234567.89, not ostream's
// six significant digits (1.23457e+06). Prometheus spells the specials NaN, +Inf and -Inf.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : "NaN";
}

// Nanoseconds as seconds, exact: 376800 -> "0.0003768".
std::string seconds(std::int64_t ns) {
  const bool negative = ns < 0;
  const std::uint64_t mag =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(ns) : static_cast<std::uint64_t>(ns);
  std::string out = (negative ? "-" : "") + std::to_string(mag / 1'000'000'000);
  std::uint64_t frac = mag % 1'000'000'000;
  if (frac == 0) return out;
  char digits[9];
  for (int k = 8; k >= 0; --k, frac /= 10) digits[k] = static_cast<char>('0' + frac % 10);
  std::size_t n = 9;
  while (digits[n - 1] == '0') --n;
  return out + '.' + std::string(digits, n);
}

// A sample's value: integers as they are, money (Decimal) as its exact decimal text, doubles at
// full precision.
template <typename T>
void put(std::ostream& o, T v) {
  if constexpr (std::is_same_v<T, Decimal>) {
    o << to_string(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    o << number(v);
  } else {
    o << v;
  }
}

}  // namespace

std::string prometheus_text(const RunReport& r) {
  std::ostringstream o;
  const auto metric = [&](std::string_view name, std::string_view type, std::string_view help) {
    o << "# HELP xarb_" << name << ' ' << help << "\n# TYPE xarb_" << name << ' ' << type << '\n';
  };
  const auto scalar = [&](std::string_view name, std::string_view type, std::string_view help,
                          auto value) {
    metric(name, type, help);
    o << "xarb_" << name << ' ';
    put(o, value);
    o << '\n';
  };
  const auto per_venue = [&](std::string_view name, std::string_view help, auto field) {
    metric(name, "counter", help);
    for (const Venue v : r.traded) {
      o << "xarb_" << name << "{venue=\"" << to_string(v) << "\"} ";
      put(o, field(r.venues[index(v)]));
      o << '\n';
    }
  };
  per_venue("frames_total", "Market data frames received.",
            [](const VenueReport& s) { return s.frames; });
  per_venue("dropped_frames_total", "Frames counted and dropped as malformed or unknown.",
            [](const VenueReport& s) { return s.dropped_frames; });
  per_venue("reconnects_total", "Websocket connections lost.",
            [](const VenueReport& s) { return s.disconnects; });
  per_venue("resyncs_total", "Books reset and resynchronised.",
            [](const VenueReport& s) { return s.resyncs; });
  per_venue("orders_total", "Order requests sent.", [](const VenueReport& s) { return s.orders; });
  per_venue("order_errors_total", "Orders that ended with a venue error.",
            [](const VenueReport& s) { return s.order_errors; });
  metric("venue_healthy", "gauge", "1 while exec can reach the venue (entries on it allowed).");
  for (const Venue v : r.traded) {
    o << "xarb_venue_healthy{venue=\"" << to_string(v) << "\"} "
      << (r.venues[index(v)].healthy ? 1 : 0) << '\n';
  }
  metric("private_stream_up", "gauge",
         "1 while the venue's private stream settles orders (up, subscribed, reconciled).");
  for (const Venue v : r.traded) {
    if (r.venues[index(v)].private_stream) {
      o << "xarb_private_stream_up{venue=\"" << to_string(v) << "\"} "
        << (r.venues[index(v)].stream_up ? 1 : 0) << '\n';
    }
  }
  per_venue("private_stream_order_ends_total", "Orders whose end the private stream pushed.",
            [](const VenueReport& s) { return s.stream_fills; });
  per_venue("private_stream_reconnects_total", "Private stream connections lost.",
            [](const VenueReport& s) { return s.stream_disconnects; });
  per_venue("private_stream_malformed_total", "Private stream messages counted and dropped.",
            [](const VenueReport& s) { return s.stream_malformed; });
  per_venue("private_stream_balance_mismatches_total",
            "Balances the private stream pushed that differ from what the fills predicted.",
            [](const VenueReport& s) { return s.stream_balance_mismatches; });
  per_venue("private_stream_incomplete_total",
            "Order events the private stream could not settle (an execution unseen): queried.",
            [](const VenueReport& s) { return s.stream_incomplete; });
  per_venue("private_stream_requests_total",
            "Orders, queries and cancels sent on the private stream's connection (order_entry ws).",
            [](const VenueReport& s) { return s.stream_requests; });
  // One gauge per venue and asset of `rows` (balances, inventory): Decimal text, exact whatever
  // the magnitude.
  const auto per_asset = [&](const auto& rows, std::string_view name, std::string_view help,
                             auto field) {
    metric(name, "gauge", help);
    for (const auto& b : rows) {
      o << "xarb_" << name << "{venue=\"" << to_string(b.venue) << "\",asset=\"" << b.asset
        << "\"} " << to_string(field(b)) << '\n';
    }
  };
  if (!r.balances.empty()) {
    const auto balance = [&](std::string_view name, std::string_view help, auto field) {
      per_asset(r.balances, name, help, field);
    };
    balance("balance_held", "Free balance the venue reported at the last reconciliation.",
            [](const BalanceReport& b) { return b.held; });
    balance("balance_expected", "Balance the ledger explains (start + fills net of commissions).",
            [](const BalanceReport& b) { return b.expected; });
    balance("balance_difference", "Held minus expected.",
            [](const BalanceReport& b) { return b.difference(); });
    metric("balance_unexplained", "gauge",
           "1 while a difference the ledger's rounding cannot explain persists (REDUCING).");
    for (const BalanceReport& b : r.balances) {
      o << "xarb_balance_unexplained{venue=\"" << to_string(b.venue) << "\",asset=\"" << b.asset
        << "\"} " << (b.confirmed ? 1 : 0) << '\n';
    }
  }
  if (!r.inventory.empty()) {
    const auto holding = [&](std::string_view name, std::string_view help, auto field) {
      per_asset(r.inventory, name, help, field);
    };
    holding("inventory_held",
            "What the venue holds of the asset (live: at the last reconciliation; paper: the "
            "engine's figure).",
            [](const InventoryReport& i) { return i.held; });
    holding("inventory_locked", "Set aside by the engine for intents in flight.",
            [](const InventoryReport& i) { return i.locked; });
    holding("inventory_expected",
            "What the ledger (live) or the engine (paper) expects: start + fills net of fees.",
            [](const InventoryReport& i) { return i.expected; });
    holding("inventory_difference", "Held minus expected.",
            [](const InventoryReport& i) { return i.difference(); });
    holding("inventory_floor", "The floor entries stop at ([inventory.floor]; 0: none).",
            [](const InventoryReport& i) { return i.floor; });
    holding("inventory_above_floor", "Expected less locked less the floor: what entries may spend.",
            [](const InventoryReport& i) { return i.above_floor(); });
  }
  if (!r.headroom.empty()) {
    const auto room = [&](std::string_view name, std::string_view help, auto field) {
      metric(name, "gauge", help);
      for (const HeadroomReport& h : r.headroom) {
        if (!h.known) continue;  // no books yet: no figure rather than a false zero
        o << "xarb_" << name << "{pair=\"" << h.pair << "\",symbol=\"" << h.symbol
          << "\",direction=\"" << h.direction << "\"} " << field(h) << '\n';
      }
    };
    room("inventory_headroom_qty",
         "Base units the direction can still enter before an asset it spends reaches its floor.",
         [](const HeadroomReport& h) { return to_string(h.qty); });
    room("inventory_headroom_entries", "Whole trade_qty entries in that headroom.",
         [](const HeadroomReport& h) { return std::to_string(h.entries); });
  }
  scalar("rebalance_moves", "gauge",
         "Transfers the rebalance plan proposes now (xarb inventory; nothing is withdrawn).",
         r.rebalance.moves.size());
  if (!r.dust.empty()) {
    metric("dust", "gauge", "What positions closed this run left at the venue, under its minimum.");
    for (const DustReport& d : r.dust) {
      o << "xarb_dust{venue=\"" << to_string(d.venue) << "\",asset=\"" << d.asset << "\"} "
        << to_string(d.qty) << '\n';
    }
  }
  metric("risk_mode", "gauge",
         "1 for the risk mode the engine is in: normal, halted (circuit breaker) or reducing "
         "(exits only).");
  for (const std::string_view mode : {"normal", "halted", "reducing"}) {
    o << "xarb_risk_mode{mode=\"" << mode << "\"} " << (r.risk_mode == mode ? 1 : 0) << '\n';
  }
  scalar("entries_total", "counter", "Entry intents.", r.entries);
  const auto per_pair = [&](std::string_view name, std::string_view type, std::string_view help,
                            auto field) {
    metric(name, type, help);
    for (const TradeReport& p : r.pairs) {
      o << "xarb_" << name << "{pair=\"" << p.name << "\"} ";
      put(o, field(p));
      o << '\n';
    }
  };
  per_pair("pair_entries_total", "counter", "Entry intents of the pair.",
           [](const TradeReport& p) { return p.entries; });
  per_pair("pair_closed_total", "counter", "Positions of the pair closed after trading.",
           [](const TradeReport& p) { return p.closed; });
  per_pair("pair_wins_total", "counter", "Positions of the pair closed with a profit.",
           [](const TradeReport& p) { return p.wins; });
  per_pair("pair_broken_total", "counter", "Positions of the pair that went BROKEN.",
           [](const TradeReport& p) { return p.broken; });
  per_pair("pair_open_positions", "gauge", "Open positions of the pair.",
           [](const TradeReport& p) { return p.open; });
  per_pair("pair_realized_pnl_krw", "gauge", "Realised PnL of the pair in KRW.",
           [](const TradeReport& p) { return p.realized_krw; });
  metric("exits_total", "counter", "Exit intents by reason.");
  for (std::size_t k = 1; k < kExitReasonCount; ++k) {
    o << "xarb_exits_total{reason=\"" << to_string(static_cast<ExitReason>(k)) << "\"} "
      << r.exits[k] << '\n';
  }
  metric("blocked_total", "counter", "Intents refused, by reason.");
  for (const auto& [reason, n] : r.blocked) {
    o << "xarb_blocked_total{reason=\"" << reason << "\"} " << n << '\n';
  }
  metric("exec_outcomes_total", "counter", "Two-leg execution outcomes.");
  for (std::size_t k = 0; k < r.outcomes.size(); ++k) {
    o << "xarb_exec_outcomes_total{outcome=\"" << to_string(static_cast<ExecOutcome>(k)) << "\"} "
      << r.outcomes[k] << '\n';
  }
  scalar("orders_unsettled", "gauge",
         "Orders whose outcome no venue has settled yet (their positions held BROKEN).",
         r.exec_unsettled);
  scalar("orders_settled_late_total", "counter",
         "Orders left unknown that their venue settled later in the run.", r.exec_settled);
  scalar("positions_closed_total", "counter", "Positions closed after trading.", r.closed);
  scalar("positions_open", "gauge", "Positions not closed.", r.open_positions);
  scalar("positions_broken_total", "counter", "Positions that became BROKEN.", r.broken);
  scalar("winrate", "gauge", "Share of closed positions with a positive PnL.", r.winrate);
  scalar("realized_pnl_krw", "gauge", "Realised PnL in KRW.", r.realized_krw);
  scalar("unrealized_pnl_krw", "gauge", "Unrealised PnL of open positions in KRW.", r.unrealized_krw);
  metric("latency_seconds", "summary", "Pipeline latencies per stage.");
  for (const LatencyReport& l : r.latencies) {
    const auto q = [&](std::string_view quantile, std::int64_t ns) {
      o << "xarb_latency_seconds{stage=\"" << l.name << "\",quantile=\"" << quantile << "\"} "
        << seconds(ns) << '\n';
    };
    q("0.5", l.p50_ns);
    q("0.99", l.p99_ns);
    q("0.999", l.p999_ns);
    q("1", l.max_ns);
    o << "xarb_latency_seconds_sum{stage=\"" << l.name << "\"} "
      << seconds(static_cast<std::int64_t>(l.sum_ns)) << '\n';
    o << "xarb_latency_seconds_count{stage=\"" << l.name << "\"} " << l.count << '\n';
  }
  metric("stage_latency_seconds", "histogram", "Pipeline latencies per stage.");
  for (const LatencyReport& l : r.latencies) {
    for (std::size_t k = 0; k < l.at_most.size() && k < kLatencyBucketsNs.size(); ++k) {
      o << "xarb_stage_latency_seconds_bucket{stage=\"" << l.name << "\",le=\""
        << seconds(kLatencyBucketsNs[k]) << "\"} " << l.at_most[k] << '\n';
    }
    o << "xarb_stage_latency_seconds_bucket{stage=\"" << l.name << "\",le=\"+Inf\"} " << l.count
      << '\n';
    o << "xarb_stage_latency_seconds_sum{stage=\"" << l.name << "\"} "
      << seconds(static_cast<std::int64_t>(l.sum_ns)) << '\n';
    o << "xarb_stage_latency_seconds_count{stage=\"" << l.name << "\"} " << l.count << '\n';
  }
  metric("queue_high_water", "gauge", "Deepest a queue has been.");
  for (const QueueReport& q : r.queues) {
    o << "xarb_queue_high_water{queue=\"" << q.name << "\"} " << q.high_water << '\n';
  }
  metric("queue_drops_total", "counter", "Messages a full queue could not take.");
  for (const QueueReport& q : r.queues) {
    o << "xarb_queue_drops_total{queue=\"" << q.name << "\"} " << q.drops << '\n';
  }
  metric("thread_cpu_seconds_total", "counter", "CPU time per thread.");
  for (const ThreadReport& t : r.threads) {
    o << "xarb_thread_cpu_seconds_total{thread=\"" << t.name << "\"} " << number(t.cpu_s) << '\n';
  }
  scalar("resident_memory_bytes", "gauge", "Resident set size.", r.rss_kib * 1024);
  scalar("heap_in_use_bytes", "gauge", "C heap handed out and not freed.", r.heap_in_use_bytes);
  scalar("heap_held_bytes", "gauge", "C heap the allocator holds from the system.",
         r.heap_held_bytes);
  scalar("journal_events_total", "counter", "Events the journal wrote.", r.journal_events);
  scalar("journal_errors_total", "counter", "Journal writes that failed.", r.journal_errors);
  scalar("journal_memory_bytes", "gauge", "SQLite's allocations (page cache, statements).",
         r.journal_memory_bytes);
  return o.str();
}

}  // namespace xarb::app
