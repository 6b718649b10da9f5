#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/core/published.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/feed/book_keeper.hpp>
#include <xarb/feed/parsed_frame.hpp>
#include <xarb/net/ws_client.hpp>

namespace xarb::feed {

struct VenueEndpoint {
  std::string ws_url;    // wss://host[:port][/path]
  std::string rest_url;  // https://host[:port][/prefix] (book snapshots of diff-synced venues)
  std::string ca_file;   // PEM bundle to verify the venue; empty: the system trust store
  bool enabled = true;
  // Resolve + TCP + TLS (+ websocket) handshake, for its websocket and its snapshots; zero: the
  // feed's ws.connect_timeout.
  std::chrono::milliseconds connect_timeout{0};
  // The stream its books are built from, by one of the names its registry row lists (Binance:
  // "diff_depth", "partial_depth", "book_ticker"); its text keep-alive; the lifetime after which
  // its connection is renewed. Empty or zero: the registry row's.
  std::string book{};  // (initializers: aggregate initializations may omit these)
  std::chrono::milliseconds ping{0};
  std::chrono::milliseconds lifetime{0};
};

struct FeedOptions {
  // Each venue's endpoints, by venue id: a venue is connected when it is enabled and an
  // instrument lists it.
  std::array<VenueEndpoint, kMaxVenues> endpoints{};
  [[nodiscard]] VenueEndpoint& endpoint(Venue v) noexcept { return endpoints[index(v)]; }
  [[nodiscard]] const VenueEndpoint& endpoint(Venue v) const noexcept {
    return endpoints[index(v)];
  }
  int depth_snapshot_limit = 1000;  // levels asked of a diff-synced venue's book snapshot
  // Every venue's websocket: timeouts, watchdog, backoff, message size (also the limit of a
  // depth snapshot). Its keep-alive and lifetime are its endpoint's.
  net::WsClientOptions ws;
};

// A venue's book stream, keep-alive and lifetime: its endpoint's, else its registry row's.
[[nodiscard]] std::string_view book_stream(const FeedOptions& options, Venue venue) noexcept;
[[nodiscard]] std::chrono::milliseconds keepalive(const FeedOptions& options, Venue venue) noexcept;
[[nodiscard]] std::chrono::milliseconds lifetime(const FeedOptions& options, Venue venue) noexcept;

// Default options but for one venue's book stream (a replay of that stream).
[[nodiscard]] inline FeedOptions books_from(Venue venue, std::string_view stream) {
  FeedOptions o;
  o.endpoint(venue).book = std::string(stream);
  return o;
}

// A venue's feed: its websocket's history (net::WsStats: connects, disconnects, watchdog trips,
// lifetime renewals, pings, last error) and what came over it.
struct VenueFeedStats : net::WsStats {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t snapshot_requests = 0;
  std::uint64_t snapshot_failures = 0;
  std::uint64_t resyncs = 0;    // books reset on reconnect or gap
  std::uint64_t ring_full = 0;  // publishes that found the ring full (republished later)
};

// What the stage publishes for other threads (the ops thread's report and /metrics): every
// venue's feed and parser counts, by venue index.
struct FeedTelemetry {
  std::array<VenueFeedStats, kMaxVenues> venues{};
  std::array<ParserStats, kMaxVenues> parsers{};
};

// Observes raw traffic, for `xarb record` (which may allocate and block in it) and `xarb run
// --record` (which copies into a ring and returns). Called on the feed thread.
class FrameObserver {
 public:
  virtual ~FrameObserver() = default;
  virtual void on_connect(Venue venue, std::string_view url) = 0;
  virtual void on_send(Venue venue, std::string_view message) = 0;
  // A frame as received, with its receive time and the venue's own event time in it (epoch ns;
  // 0 when the frame carries none), after the feed has applied it and published its book.
  virtual void on_frame(Venue venue, std::int64_t recv_wall_ns, std::int64_t exchange_ns,
                        std::string_view frame) = 0;
  virtual void on_http(Venue venue, std::string_view url, std::int64_t recv_wall_ns,
                       std::string_view body) = 0;
};

// The market-data stage: one TLS websocket per enabled venue that lists an instrument, each
// venue's feed adapter (feed/src/venues/: its URL and subscription, keep-alive, parser and book
// sync), the books, and a BookSnapshot published into `out` after every applied update.
//
// Connections verify the venue's certificate and host name (SNI set), reconnect with exponential
// backoff and jitter, resubscribe and resync every book of the venue; a watchdog reconnects a
// venue silent for longer than FeedOptions::watchdog. Diff books (Binance's) fetch their REST
// snapshot when they need one.
//
// Everything runs on the thread that calls poll() / run_for(): the stage's own io_context, no
// locks. The producer side of `out` belongs to that thread.
class FeedStage {
 public:
  // Throws std::invalid_argument for a URL that is not wss:// / https://, std::runtime_error
  // when a CA file cannot be loaded.
  FeedStage(FeedOptions options, const SymbolMap& symbols, SpscRing<BookSnapshot>& out,
            FrameObserver* observer = nullptr);
  ~FeedStage();
  FeedStage(const FeedStage&) = delete;
  FeedStage& operator=(const FeedStage&) = delete;

  // Starts connecting; returns at once.
  void start();
  // Runs the handlers that are ready, without blocking; returns how many ran.
  std::size_t poll() noexcept;
  // Runs handlers for up to `d` (blocking while idle); returns how many ran.
  std::size_t run_for(std::chrono::nanoseconds d) noexcept;
  // Parks on the sockets: blocks until a handler ran or `d` elapsed, then runs whatever else is
  // ready, and returns (a hot thread's idle wait, so a frame is handled as soon as it arrives).
  std::size_t wait(std::chrono::nanoseconds d) noexcept;
  // Closes the connections and cancels timers. The stage can be destroyed afterwards.
  void stop() noexcept;

  // The live counts: on the thread running the stage.
  [[nodiscard]] const VenueFeedStats& stats(Venue venue) const noexcept;
  [[nodiscard]] const ParserStats& parser_stats(Venue venue) const noexcept;
  // Copies the live counts into the published telemetry: on the thread running the stage.
  void publish_telemetry() noexcept;
  // The counts last published: any thread.
  [[nodiscard]] FeedTelemetry telemetry() const noexcept;
  [[nodiscard]] const BookKeeper& books() const noexcept;
  [[nodiscard]] bool connected(Venue venue) const noexcept;

  struct Impl;  // opaque: Beast and OpenSSL stay in feed_stage.cpp

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace xarb::feed
