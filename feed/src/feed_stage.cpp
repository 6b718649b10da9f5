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
#include <xarb/feed/binance_parser.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/feed/upbit_parser.hpp>
#include <xarb/net/backoff.hpp>
#include <xarb/net/https_client.hpp>
#include <xarb/net/tls.hpp>
#include <xarb/net/ws_client.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::feed {

using namespace net::names;  // asio, beast, ssl, tcp, error_code

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

class Connection;
class SnapshotFetcher;

struct FeedStage::Impl {
  Impl(FeedOptions o, const SymbolMap& s, SpscRing<BookSnapshot>& ring, FrameObserver* obs)
      : options(std::move(o)),
        symbols(s),
        out(ring),
        observer(obs),
        binance_parser(s, options.ws.max_message_bytes),
        upbit_parser(s, options.ws.max_message_bytes, venues::kUpbit),
        bithumb_parser(s, options.ws.max_message_bytes, venues::kBithumb),
        books(s, options.binance_source),
        dirty(s.size() * kMaxVenues, 0),
        rng(std::random_device{}()) {}

  void on_frame(Venue venue, std::string_view frame, std::int64_t recv_ns, std::int64_t wall_ns);
  void on_snapshot(InstrumentId id, std::string_view url, std::string_view body);
  void on_disconnect(Venue venue);
  void publish(const book::L2Book& b, std::int64_t recv_ns, std::int64_t parsed_ns) noexcept;
  std::size_t republish_dirty() noexcept;

  FeedOptions options;
  const SymbolMap& symbols;
  SpscRing<BookSnapshot>& out;
  FrameObserver* observer;
  BinanceParser binance_parser;
  // Upbit and Bithumb: the same framing, each venue its own parser (its own symbols and stats).
  UpbitParser upbit_parser;
  UpbitParser bithumb_parser;
  [[nodiscard]] UpbitParser& krw_parser(Venue v) noexcept {
    return v == venues::kBithumb ? bithumb_parser : upbit_parser;
  }
  BookKeeper books;
  std::vector<std::uint8_t> dirty;  // (instrument, venue) books waiting for room in the ring
  std::size_t dirty_count = 0;
  std::mt19937_64 rng;
  asio::io_context io{1};
  std::unique_ptr<asio::ssl::context> binance_tls;
  std::unique_ptr<asio::ssl::context> krw_tls[kMaxVenues];
  std::unique_ptr<Connection> connections[kMaxVenues];
  std::unique_ptr<SnapshotFetcher> fetcher;
  VenueFeedStats stats[kMaxVenues];
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

// GET /api/v3/depth over one kept-alive HTTPS connection, one request at a time, retried with
// backoff on failure.
class SnapshotFetcher {
 public:
  SnapshotFetcher(FeedStage::Impl& impl, const std::string& base_url, asio::ssl::context& tls)
      : impl_(impl),
        client_(impl.io, tls, net::parse_url(base_url, "https://"), client_options(impl.options),
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
  static net::HttpsClientOptions client_options(const FeedOptions& o) {
    net::HttpsClientOptions c;
    c.connect_timeout = o.ws.connect_timeout;
    c.request_timeout = o.ws.connect_timeout;  // a snapshot that takes longer is asked again
    c.max_body_bytes = o.ws.max_message_bytes;
    return c;
  }

  VenueFeedStats& stats() noexcept { return impl_.stats[index(venues::kBinance)]; }

  void next() {
    if (queue_.empty() || stopped_) {
      busy_ = false;
      return;
    }
    busy_ = true;
    current_ = queue_.front();
    queue_.pop_front();
    ++stats().snapshot_requests;
    target_ = prefix_ + "/api/v3/depth?symbol=" +
              std::string(impl_.symbols[current_].symbol(venues::kBinance)) +
              "&limit=" + std::to_string(impl_.options.depth_snapshot_limit);
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
        impl_.on_snapshot(current_, target_, a.body);
        next();
      }
    }
  }

  // Retried after the backoff, or after `at_least` when the venue asked for longer.
  void fail_with(std::string reason, std::chrono::milliseconds at_least = {}) {
    if (stopped_) return;
    ++stats().snapshot_failures;
    stats().last_error = "depth snapshot: " + reason;
    queue_.push_back(current_);  // retried after a pause
    retry_timer_.expires_after(std::max(backoff_.next(), at_least));
    retry_timer_.async_wait([this](error_code ec) {
      if (ec || stopped_) return;
      next();
    });
  }

  FeedStage::Impl& impl_;
  net::HttpsClient client_;
  std::string prefix_;  // the base URL's path, before /api/v3/depth
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
  if (observer != nullptr) observer->on_frame(venue, wall_ns, frame);
  const ParsedFrame f =
      venue == venues::kBinance ? binance_parser.parse(frame) : krw_parser(venue).parse(frame);
  const std::int64_t parsed = clock::mono_ns();
  const ApplyOutcome outcome = books.apply(venue, f);
  if (outcome.sync == book::SyncResult::gap || outcome.sync == book::SyncResult::crossed) {
    ++st.resyncs;
  }
  if (outcome.needs_snapshot && fetcher) fetcher->request(outcome.instrument);
  if (outcome.book != nullptr) publish(*outcome.book, recv_ns, parsed);
}

void FeedStage::Impl::on_snapshot(InstrumentId id, std::string_view url, std::string_view body) {
  if (observer != nullptr) observer->on_http(venues::kBinance, url, clock::wall_ns(), body);
  const std::int64_t recv = clock::mono_ns();
  const ParsedFrame f = binance_parser.parse_depth_snapshot(body, id);
  const std::int64_t parsed = clock::mono_ns();
  const ApplyOutcome outcome = books.apply(venues::kBinance, f);
  if (outcome.needs_snapshot && fetcher) fetcher->request(id);  // too old: fetch another
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
  std::string streams;
  std::string codes[kMaxVenues];  // Upbit's and Bithumb's markets, quoted, comma separated
  const char* suffix = m.options.binance_source == BinanceBookSource::diff_depth ? "@depth@100ms"
                       : m.options.binance_source == BinanceBookSource::partial_depth
                           ? "@depth20@100ms"
                           : "@bookTicker";
  for (const Instrument& i : symbols) {
    if (!i.symbol(venues::kBinance).empty()) {
      if (!streams.empty()) streams += '/';
      streams += lower(i.symbol(venues::kBinance)) + suffix;
    }
    for (const Venue v : {venues::kUpbit, venues::kBithumb}) {
      if (!i.listed_on(v)) continue;
      std::string& c = codes[index(v)];
      if (!c.empty()) c += ',';
      c.append(1, '"').append(i.symbol(v)).append(1, '"');
    }
  }
  if (m.options.binance.enabled && !streams.empty()) {
    m.binance_tls = net::make_client_tls(m.options.binance.ca_file);
    std::string base = m.options.binance.ws_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    net::WsClientOptions binance_ws = m.options.ws;
    binance_ws.lifetime = m.options.binance_lifetime;  // Binance closes a connection at 24 h
    m.connections[index(venues::kBinance)] = std::make_unique<Connection>(
        m, venues::kBinance, base + "/stream?streams=" + streams, *m.binance_tls, "", binance_ws);
    if (m.options.binance_source == BinanceBookSource::diff_depth) {
      m.fetcher = std::make_unique<SnapshotFetcher>(m, m.options.binance.rest_url, *m.binance_tls);
    }
  }
  // Upbit and Bithumb: the same subscription frame and keep-alive (docs/venues.md).
  for (const Venue v : {venues::kUpbit, venues::kBithumb}) {
    const VenueEndpoint& endpoint = v == venues::kUpbit ? m.options.upbit : m.options.bithumb;
    if (!endpoint.enabled || codes[index(v)].empty()) continue;
    m.krw_tls[index(v)] = net::make_client_tls(endpoint.ca_file);
    std::uniform_int_distribution<std::uint64_t> ticket;
    // SIMPLE: the same book with short keys (ty, cd, obu, ap/bp/as/bs), about 40 % fewer bytes to
    // decrypt and parse per frame than DEFAULT; the parser reads both.
    const std::string subscription = "[{\"ticket\":\"xarb-" + std::to_string(ticket(m.rng)) +
                                     "\"},{\"type\":\"orderbook\",\"codes\":[" + codes[index(v)] +
                                     "]},{\"format\":\"SIMPLE\"}]";
    net::WsClientOptions krw_ws = m.options.ws;
    krw_ws.keepalive_text = "PING";  // both drop a connection idle for 120 s
    krw_ws.keepalive_interval = m.options.upbit_ping;
    m.connections[index(v)] = std::make_unique<Connection>(
        m, v, endpoint.ws_url, *m.krw_tls[index(v)], subscription, krw_ws);
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
  if (m.fetcher) m.fetcher->stop();
  m.io.poll();  // let the cancelled handlers run and release their state
}

const VenueFeedStats& FeedStage::stats(Venue venue) const noexcept {
  return impl_->stats[index(venue)];
}
const ParserStats& FeedStage::parser_stats(Venue venue) const noexcept {
  return venue == venues::kBinance ? impl_->binance_parser.stats()
                                   : impl_->krw_parser(venue).stats();
}
const BookKeeper& FeedStage::books() const noexcept { return impl_->books; }
bool FeedStage::connected(Venue venue) const noexcept {
  const auto& c = impl_->connections[index(venue)];
  return c && c->connected();
}

}  // namespace xarb::feed
