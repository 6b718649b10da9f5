#include <algorithm>
#include <charconv>
#include <deque>
#include <optional>
#include <random>
#include <stdexcept>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <xarb/core/clock.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/net/backoff.hpp>
#include <xarb/net/https_client.hpp>
#include <xarb/net/tls.hpp>
#include <xarb/net/ws_client.hpp>

#include "venues/adapter.hpp"

namespace xarb::feed {

using namespace net::names;  // asio, beast, ssl, tcp, error_code

class Connection;
class SnapshotFetcher;

struct FeedStage::Impl {
  Impl(FeedOptions o, const SymbolMap& s, SpscRing<BookSnapshot>& ring, FrameObserver* obs)
      : options(std::move(o)),
        symbols(s),
        out(ring),
        observer(obs),
        adapters(adapters::make_all(s, options)),
        books(s, adapters::syncs(adapters)),
        dirty(s.size() * kMaxVenues, 0),
        rng(std::random_device{}()) {}

  void on_frame(Venue venue, std::string_view frame, std::int64_t recv_ns, std::int64_t wall_ns);
  void on_snapshot(Venue venue, InstrumentId id, std::string_view url, std::string_view body);
  void on_disconnect(Venue venue);
  void publish(const book::L2Book& b, std::int64_t recv_ns, std::int64_t parsed_ns) noexcept;
  std::size_t republish_dirty() noexcept;

  FeedOptions options;
  const SymbolMap& symbols;
  SpscRing<BookSnapshot>& out;
  FrameObserver* observer;
  adapters::Adapters adapters;  // by venue index; null for a venue without market data here
  BookKeeper books;
  std::vector<std::uint8_t> dirty;  // (instrument, venue) books waiting for room in the ring
  std::size_t dirty_count = 0;
  std::mt19937_64 rng;
  asio::io_context io{1};
  std::unique_ptr<asio::ssl::context> tls[kMaxVenues];
  std::unique_ptr<Connection> connections[kMaxVenues];
  std::unique_ptr<SnapshotFetcher> fetchers[kMaxVenues];
  VenueFeedStats stats[kMaxVenues];
  Published<FeedTelemetry> published;
  bool stopping = false;
};

// One venue's market-data websocket (net::WsClient keeps it up): what it subscribes to, and
// where its frames go.
class Connection final : public net::WsHandler {
 public:
  Connection(FeedStage::Impl& impl, Venue venue, std::string url, asio::ssl::context& tls,
             std::string subscription, net::WsClientOptions options)
      : impl_(impl),
        venue_(venue),
        full_url_(url),
        subscription_(std::move(subscription)),
        client_(impl.io, tls, net::parse_url(url, "wss://"), std::move(options), *this,
                impl.stats[index(venue)]) {}

  void start() { client_.start(); }
  void stop() noexcept { client_.stop(); }
  [[nodiscard]] bool connected() const noexcept { return client_.connected(); }

 private:
  void on_open(net::WsClient& client) override {
    if (impl_.observer != nullptr) impl_.observer->on_connect(venue_, full_url_);
    if (subscription_.empty()) return;
    if (impl_.observer != nullptr) impl_.observer->on_send(venue_, subscription_);
    client.send(subscription_);
  }
  void on_frame(std::string_view frame, std::int64_t recv_ns) override {
    impl_.on_frame(venue_, frame, recv_ns, clock::wall_ns());
  }
  void on_close() override { impl_.on_disconnect(venue_); }

  FeedStage::Impl& impl_;
  Venue venue_;
  std::string full_url_;
  std::string subscription_;
  net::WsClient client_;
};

// A diff-synced venue's book snapshots (Binance: GET /api/v3/depth) over one kept-alive HTTPS
// connection, one request at a time, retried with backoff on failure.
class SnapshotFetcher {
 public:
  SnapshotFetcher(FeedStage::Impl& impl, Venue venue, const std::string& base_url,
                  asio::ssl::context& tls)
      : impl_(impl),
        venue_(venue),
        client_(
            impl.io, tls, net::parse_url(base_url, "https://"), client_options(impl.options, venue),
            [this](std::string_view name, std::string_view value) { on_header(name, value); },
            [this] { on_answers(); }),
        prefix_(client_.endpoint().path_prefix()),
        backoff_(impl.options.ws.reconnect_min, impl.options.ws.reconnect_max),
        retry_timer_(impl.io),
        expiry_timer_(impl.io),
        pending_(impl.symbols.size(), 0) {}

  void request(InstrumentId id) {
    if (id >= pending_.size() || pending_[id] != 0) return;
    pending_[id] = 1;
    queue_.push_back(id);
    if (!busy_) next();
  }

  void stop() noexcept {
    stopped_ = true;
    retry_timer_.cancel();
    expiry_timer_.cancel();
    client_.close();
  }

 private:
  static net::HttpsClientOptions client_options(const FeedOptions& o, Venue v) {
    net::HttpsClientOptions c;
    const std::chrono::milliseconds own = o.endpoint(v).connect_timeout;
    c.connect_timeout = own.count() > 0 ? own : o.ws.connect_timeout;
    c.request_timeout = c.connect_timeout;  // a snapshot that takes longer is asked again
    c.max_body_bytes = o.ws.max_message_bytes;
    return c;
  }

  VenueFeedStats& stats() noexcept { return impl_.stats[index(venue_)]; }

  void next() {
    if (queue_.empty() || stopped_) {
      busy_ = false;
      return;
    }
    busy_ = true;
    current_ = queue_.front();
    queue_.pop_front();
    ++stats().snapshot_requests;
    target_ = prefix_ + impl_.adapters[index(venue_)]->snapshot_target(current_);
    retry_after_s_ = -1;
    const std::string request = "GET " + target_ + " HTTP/1.1\r\nHost: " +
                                client_.endpoint().host_header() +
                                "\r\nUser-Agent: xarb\r\n\r\n";
    if (!client_.submit(request, current_)) return fail_with("request too long");
    arm_expiry();
  }

  // The request timeout is enforced by asking the client to expire it now and then.
  void arm_expiry() {
    expiry_timer_.expires_after(std::chrono::milliseconds(250));
    expiry_timer_.async_wait([this](error_code ec) {
      if (ec || stopped_ || !client_.busy()) return;
      client_.expire(clock::mono_ns());
      arm_expiry();
    });
  }

  void on_header(std::string_view name, std::string_view value) {
    if (!beast::iequals(beast::string_view(name.data(), name.size()), "retry-after")) return;
    long long parsed = 0;
    if (std::from_chars(value.data(), value.data() + value.size(), parsed).ec == std::errc{} &&
        parsed > 0) {
      retry_after_s_ = parsed;
    }
  }

  void on_answers() {
    net::HttpAnswer a;
    while (client_.next(a)) {
      if (stopped_) continue;
      expiry_timer_.cancel();
      if (a.transport_error) {
        fail_with(std::string(a.what) + " failed");
      } else if (a.status != 200) {
        // 429 / 418: the venue says how long to stay away (the same IP places the orders);
        // without Retry-After, a minute (418, a ban: two).
        std::chrono::milliseconds wait{0};
        if (a.status == 429 || a.status == 418) {
          wait = std::chrono::seconds(retry_after_s_ > 0 ? retry_after_s_
                                      : a.status == 418  ? 120
                                                         : 60);
        }
        fail_with("HTTP " + std::to_string(a.status) + ": " +
                      std::string(a.body.substr(0, 200)),
                  wait);
      } else {
        pending_[current_] = 0;
        backoff_.reset();
        impl_.on_snapshot(venue_, current_, target_, a.body);
        next();
      }
    }
  }

  // Retried after the backoff, or after `at_least` when the venue asked for longer.
  void fail_with(std::string reason, std::chrono::milliseconds at_least = {}) {
    if (stopped_) return;
    ++stats().snapshot_failures;
    stats().last_error.assign_utf8("depth snapshot: " + reason);
    queue_.push_back(current_);  // retried after a pause
    retry_timer_.expires_after(std::max(backoff_.next(), at_least));
    retry_timer_.async_wait([this](error_code ec) {
      if (ec || stopped_) return;
      next();
    });
  }

  FeedStage::Impl& impl_;
  Venue venue_;
  net::HttpsClient client_;
  std::string prefix_;  // the base URL's path, before the snapshot's
  net::Backoff backoff_;
  asio::steady_timer retry_timer_;
  asio::steady_timer expiry_timer_;
  std::deque<InstrumentId> queue_;
  std::vector<std::uint8_t> pending_;
  std::string target_;
  InstrumentId current_ = kNoInstrument;
  long long retry_after_s_ = -1;
  bool busy_ = false;
  bool stopped_ = false;
};

void FeedStage::Impl::publish(const book::L2Book& b, std::int64_t recv_ns,
                              std::int64_t parsed_ns) noexcept {
  const std::size_t slot_index = b.instrument() * kMaxVenues + index(b.venue());
  BookSnapshot* slot = out.try_claim();
  if (slot == nullptr) {
    ++stats[index(b.venue())].ring_full;
    if (dirty[slot_index] == 0) {
      dirty[slot_index] = 1;
      ++dirty_count;
    }
    return;
  }
  fill_snapshot(b, recv_ns, parsed_ns, *slot);
  out.publish();
  if (dirty[slot_index] != 0) {
    dirty[slot_index] = 0;
    --dirty_count;
  }
}

std::size_t FeedStage::Impl::republish_dirty() noexcept {
  if (dirty_count == 0) return 0;
  std::size_t done = 0;
  for (std::size_t i = 0; i < dirty.size() && dirty_count > 0; ++i) {
    if (dirty[i] == 0) continue;
    const auto* b =
        books.book(static_cast<Venue>(i % kMaxVenues), static_cast<InstrumentId>(i / kMaxVenues));
    if (b == nullptr) continue;
    const std::int64_t now = clock::mono_ns();
    publish(*b, now, now);
    if (dirty[i] != 0) break;  // still full
    ++done;
  }
  return done;
}

void FeedStage::Impl::on_frame(Venue venue, std::string_view frame, std::int64_t recv_ns,
                               std::int64_t wall_ns) {
  VenueFeedStats& st = stats[index(venue)];
  ++st.frames;
  st.bytes += frame.size();
  const ParsedFrame f = adapters[index(venue)]->parse(frame);  // a connection has an adapter
  const std::int64_t parsed = clock::mono_ns();
  const ApplyOutcome outcome = books.apply(venue, f);
  if (outcome.sync == book::SyncResult::gap || outcome.sync == book::SyncResult::crossed) {
    ++st.resyncs;
  }
  SnapshotFetcher* fetcher = fetchers[index(venue)].get();
  if (outcome.needs_snapshot && fetcher != nullptr) fetcher->request(outcome.instrument);
  if (outcome.book != nullptr) publish(*outcome.book, recv_ns, parsed);
  // A recorder sees the frame once its book is out: it delays no decision.
  if (observer != nullptr) observer->on_frame(venue, wall_ns, f.exchange_ns, frame);
}

void FeedStage::Impl::on_snapshot(Venue venue, InstrumentId id, std::string_view url,
                                  std::string_view body) {
  if (observer != nullptr) observer->on_http(venue, url, clock::wall_ns(), body);
  const std::int64_t recv = clock::mono_ns();
  const ParsedFrame f = adapters[index(venue)]->parse_snapshot(body, id);
  const std::int64_t parsed = clock::mono_ns();
  const ApplyOutcome outcome = books.apply(venue, f);
  if (outcome.needs_snapshot) fetchers[index(venue)]->request(id);  // too old: fetch another
  if (outcome.book != nullptr) publish(*outcome.book, recv, parsed);
}

void FeedStage::Impl::on_disconnect(Venue venue) {
  ++stats[index(venue)].resyncs;
  books.resync_venue(venue);
  // Tell the consumer at once that these books are stale.
  for (const Instrument& i : symbols) {
    if (const book::L2Book* b = books.book(venue, i.id)) {
      const std::int64_t now = clock::mono_ns();
      publish(*b, now, now);
    }
  }
}

FeedStage::FeedStage(FeedOptions options, const SymbolMap& symbols, SpscRing<BookSnapshot>& out,
                     FrameObserver* observer)
    : impl_(std::make_unique<Impl>(std::move(options), symbols, out, observer)) {
  Impl& m = *impl_;
  std::uniform_int_distribution<std::uint64_t> ticket;
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    const Venue venue = static_cast<Venue>(v);
    const adapters::FeedAdapter* a = m.adapters[v].get();
    const VenueEndpoint& endpoint = m.options.endpoint(venue);
    if (a == nullptr || !endpoint.enabled || !a->lists_any()) continue;
    m.tls[v] = net::make_client_tls(endpoint.ca_file);
    net::WsClientOptions ws = m.options.ws;
    if (endpoint.connect_timeout.count() > 0) ws.connect_timeout = endpoint.connect_timeout;
    a->tune(ws);
    m.connections[v] = std::make_unique<Connection>(m, venue, a->url(endpoint), *m.tls[v],
                                                    a->subscription(ticket(m.rng)), ws);
    if (a->sync() == BookSync::diff_depth) {
      m.fetchers[v] = std::make_unique<SnapshotFetcher>(m, venue, endpoint.rest_url, *m.tls[v]);
    }
  }
}

FeedStage::~FeedStage() { stop(); }

void FeedStage::start() {
  for (auto& c : impl_->connections) {
    if (c) c->start();
  }
}

std::size_t FeedStage::poll() noexcept {
  std::size_t n = impl_->republish_dirty();
  n += impl_->io.poll();  // handlers do not throw
  return n;
}

std::size_t FeedStage::run_for(std::chrono::nanoseconds d) noexcept {
  std::size_t n = impl_->republish_dirty();
  n += impl_->io.run_for(d);
  if (impl_->io.stopped()) impl_->io.restart();
  return n;
}

std::size_t FeedStage::wait(std::chrono::nanoseconds d) noexcept {
  std::size_t n = impl_->republish_dirty();
  if (n == 0) n += impl_->io.run_one_for(d);
  n += impl_->io.poll();
  if (impl_->io.stopped()) impl_->io.restart();
  return n;
}

void FeedStage::stop() noexcept {
  Impl& m = *impl_;
  if (m.stopping) return;
  m.stopping = true;
  for (auto& c : m.connections) {
    if (c) c->stop();
  }
  for (auto& f : m.fetchers) {
    if (f) f->stop();
  }
  m.io.poll();  // let the cancelled handlers run and release their state
}

const VenueFeedStats& FeedStage::stats(Venue venue) const noexcept {
  return impl_->stats[index(venue)];
}
const ParserStats& FeedStage::parser_stats(Venue venue) const noexcept {
  return adapters::parser_stats(impl_->adapters, venue);
}
void FeedStage::publish_telemetry() noexcept {
  FeedTelemetry t;
  for (std::size_t k = 0; k < kMaxVenues; ++k) {
    t.venues[k] = impl_->stats[k];
    if (impl_->adapters[k]) t.parsers[k] = impl_->adapters[k]->stats();
  }
  impl_->published.publish(t);
}
FeedTelemetry FeedStage::telemetry() const noexcept { return impl_->published.read(); }
const BookKeeper& FeedStage::books() const noexcept { return impl_->books; }
bool FeedStage::connected(Venue venue) const noexcept {
  const auto& c = impl_->connections[index(venue)];
  return c && c->connected();
}

}  // namespace xarb::feed
