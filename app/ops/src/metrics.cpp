#include <array>
#include <map>
#include <mutex>
#include <span>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <xarb/app/metrics.hpp>
#include <xarb/app/report_fields.hpp>
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
    http::async_read(
        *stream, *buffer, *req, [this, stream, buffer, req](beast::error_code ec, std::size_t) {
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
          http::async_write(*stream, *res, [stream, res](beast::error_code, std::size_t) {
            beast::error_code ignored;
            stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
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

std::string_view type_name(MetricType t) {
  return t == MetricType::counter ? "counter" : t == MetricType::gauge ? "gauge" : "untyped";
}

class Exposition {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    o_ << "# HELP xarb_" << name << ' ' << help << "\n# TYPE xarb_" << name << ' ' << type << '\n';
  }
  void sample(std::string_view name, std::string_view labels, std::string_view value) {
    o_ << "xarb_" << name;
    if (!labels.empty()) o_ << '{' << labels << '}';
    o_ << ' ' << value << '\n';
  }
  // Every metric of a field table over `rows` (pointers), each row's samples labelled by
  // `labels(row)`; rows that `keep` refuses have none.
  template <class Row, class Rows, class Labels, class Keep>
  void table(std::string_view prefix, std::span<const ReportField<Row>> fields, const Rows& rows,
             Labels labels, Keep keep) {
    for (const ReportField<Row>& f : fields) {
      if (f.metric.empty()) continue;
      const std::string name = std::string(prefix) + std::string(f.metric);
      family(name, type_name(f.type), f.help);
      for (const Row* row : rows) {
        if (keep(*row)) sample(name, labels(*row), metric_text(f.get(*row)));
      }
    }
  }
  template <class Row, class Rows, class Labels>
  void table(std::string_view prefix, std::span<const ReportField<Row>> fields, const Rows& rows,
             Labels labels) {
    table(prefix, fields, rows, labels, [](const Row&) { return true; });
  }
  [[nodiscard]] std::string text() const { return o_.str(); }

 private:
  std::ostringstream o_;
};

template <class Row>
std::vector<const Row*> pointers(const std::vector<Row>& rows) {
  std::vector<const Row*> out;
  for (const Row& r : rows) out.push_back(&r);
  return out;
}

std::string venue_asset(Venue v, const std::string& asset) {
  return "venue=\"" + std::string(to_string(v)) + "\",asset=\"" + asset + '"';
}

// The run's venues, their private streams, and what each run-wide table says.
void venue_metrics(Exposition& e, const RunReport& r) {
  std::vector<const VenueReport*> venues, streams;
  std::map<const VenueReport*, Venue> id;
  for (const Venue v : r.traded) {
    const VenueReport* s = &r.venues[index(v)];
    venues.push_back(s);
    if (s->private_stream) streams.push_back(s);
    id[s] = v;
  }
  const auto venue = [&](const VenueReport& s) {
    return "venue=\"" + std::string(to_string(id.at(&s))) + '"';
  };
  e.table("", venue_fields(), venues, venue);
  e.table("private_stream_", stream_fields(), streams, venue);
  const std::array<const RunReport*, 1> run = {&r};
  const auto none = [](const RunReport&) { return std::string(); };
  e.table("", run_fields(), run, none);
  e.table("", exec_fields(), run, none);
  e.table("", journal_fields(), run, none);
  e.table("pair_", trade_fields(), pointers(r.pairs),
          [](const TradeReport& p) { return "pair=\"" + p.name + '"'; });
}

// Balances, inventory, headroom and dust: rows per venue and asset (or direction).
void holding_metrics(Exposition& e, const RunReport& r) {
  const auto by_asset = [](const auto& row) { return venue_asset(row.venue, row.asset); };
  if (!r.balances.empty()) e.table("balance_", balance_fields(), pointers(r.balances), by_asset);
  if (!r.inventory.empty()) {
    e.table("inventory_", inventory_fields(), pointers(r.inventory), by_asset);
  }
  if (!r.headroom.empty()) {
    // No books yet: no figure rather than a false zero.
    e.table(
        "inventory_headroom_", headroom_fields(), pointers(r.headroom),
        [](const HeadroomReport& h) {
          return "pair=\"" + h.pair + "\",symbol=\"" + h.symbol + "\",direction=\"" + h.direction +
                 '"';
        },
        [](const HeadroomReport& h) { return h.known; });
  }
  e.family("rebalance_moves", "gauge",
           "Transfers the rebalance plan proposes now (xarb inventory; nothing is withdrawn).");
  e.sample("rebalance_moves", "", std::to_string(r.rebalance.moves.size()));
  if (!r.dust.empty()) e.table("", dust_fields(), pointers(r.dust), by_asset);
}

// Figures by reason, outcome and mode.
void reason_metrics(Exposition& e, const RunReport& r) {
  e.family("risk_mode", "gauge",
           "1 for the risk mode the engine is in: normal, halted (circuit breaker) or reducing "
           "(exits only).");
  for (const std::string_view mode : {"normal", "halted", "reducing"}) {
    e.sample("risk_mode", "mode=\"" + std::string(mode) + '"', r.risk_mode == mode ? "1" : "0");
  }
  e.family("exits_total", "counter", "Exit intents by reason.");
  for (std::size_t k = 1; k < kExitReasonCount; ++k) {
    e.sample("exits_total", "reason=\"" + std::string(to_string(static_cast<ExitReason>(k))) + '"',
             std::to_string(r.exits[k]));
  }
  e.family("blocked_total", "counter", "Intents refused, by reason.");
  for (const auto& [reason, n] : r.blocked) {
    e.sample("blocked_total", "reason=\"" + reason + '"', std::to_string(n));
  }
  e.family("exec_outcomes_total", "counter", "Two-leg execution outcomes.");
  for (std::size_t k = 0; k < r.outcomes.size(); ++k) {
    e.sample("exec_outcomes_total",
             "outcome=\"" + std::string(to_string(static_cast<ExecOutcome>(k))) + '"',
             std::to_string(r.outcomes[k]));
  }
}

// Latencies per stage (summary and histogram), queues and threads.
void engine_metrics(Exposition& e, const RunReport& r) {
  e.family("latency_seconds", "summary", "Pipeline latencies per stage.");
  for (const LatencyReport& l : r.latencies) {
    const std::string stage = "stage=\"" + l.name + '"';
    for (const auto& [q, ns] : {std::pair{"0.5", l.p50_ns}, std::pair{"0.99", l.p99_ns},
                                std::pair{"0.999", l.p999_ns}, std::pair{"1", l.max_ns}}) {
      e.sample("latency_seconds", stage + ",quantile=\"" + q + '"', seconds(ns));
    }
    e.sample("latency_seconds_sum", stage, seconds(static_cast<std::int64_t>(l.sum_ns)));
    e.sample("latency_seconds_count", stage, std::to_string(l.count));
  }
  e.family("stage_latency_seconds", "histogram", "Pipeline latencies per stage.");
  for (const LatencyReport& l : r.latencies) {
    const std::string stage = "stage=\"" + l.name + '"';
    for (std::size_t k = 0; k < l.at_most.size() && k < kLatencyBucketsNs.size(); ++k) {
      e.sample("stage_latency_seconds_bucket",
               stage + ",le=\"" + seconds(kLatencyBucketsNs[k]) + '"',
               std::to_string(l.at_most[k]));
    }
    e.sample("stage_latency_seconds_bucket", stage + ",le=\"+Inf\"", std::to_string(l.count));
    e.sample("stage_latency_seconds_sum", stage, seconds(static_cast<std::int64_t>(l.sum_ns)));
    e.sample("stage_latency_seconds_count", stage, std::to_string(l.count));
  }
  e.family("queue_high_water", "gauge", "Deepest a queue has been.");
  for (const QueueReport& q : r.queues) {
    e.sample("queue_high_water", "queue=\"" + q.name + '"', std::to_string(q.high_water));
  }
  e.family("queue_drops_total", "counter", "Messages a full queue could not take.");
  for (const QueueReport& q : r.queues) {
    e.sample("queue_drops_total", "queue=\"" + q.name + '"', std::to_string(q.drops));
  }
  e.family("thread_cpu_seconds_total", "counter", "CPU time per thread.");
  for (const ThreadReport& t : r.threads) {
    e.sample("thread_cpu_seconds_total", "thread=\"" + t.name + '"', metric_text(t.cpu_s));
  }
}

}  // namespace

std::string prometheus_text(const RunReport& r) {
  Exposition e;
  venue_metrics(e, r);
  holding_metrics(e, r);
  reason_metrics(e, r);
  engine_metrics(e, r);
  return e.text();
}

}  // namespace xarb::app
