// The live feed over real sockets: an in-test TLS websocket + REST server on 127.0.0.1 plays a
// recorded Binance capture (keeping its own std::map reference books, from which it answers
// depth snapshots) or Upbit orderbooks; the feed connects with certificate verification on.
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <xarb/feed/capture.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/venues/registry.hpp>

#include "alloc_counter.hpp"
#include "test_support.hpp"
#include "tls_test_server.hpp"

namespace xarb::feed {
namespace {

using namespace std::chrono_literals;

std::int64_t mantissa(std::string_view text) {
  Decimal d;
  EXPECT_EQ(Decimal::parse(text, d), Errc::ok);
  return d.mantissa();
}

// Plays the 3-symbol Binance capture like the venue would: diff frames in order (from each
// symbol's REST snapshot on), and /api/v3/depth answered from the books those frames built.
class BinanceVenue {
 public:
  BinanceVenue() {
    simdjson::dom::parser dom;
    std::string error;
    auto reader = CaptureReader::open(
        (test::data_dir() /
         "binance/2021-04-04_btcusdt_ethusdt_dotusdt_depth_aggtrade.events.jsonl")
            .string(),
        error);
    CaptureEvent e;
    std::vector<std::pair<std::string, std::string>> ws;  // (symbol or "", frame)
    while (reader->next(e)) {
      if (e.kind == CaptureKind::http) {
        const std::size_t at = e.url.find("symbol=");
        const std::string symbol(e.url.substr(at + 7, e.url.find('&', at) - at - 7));
        simdjson::dom::element msg = dom.parse(std::string(e.msg));
        Book& b = books_[symbol];
        b.last = uint64_t(msg["lastUpdateId"]);
        for (simdjson::dom::array l : msg["bids"]) set(b.bids, l);
        for (simdjson::dom::array l : msg["asks"]) set(b.asks, l);
      } else if (e.kind == CaptureKind::ws) {
        simdjson::dom::element msg = dom.parse(std::string(e.msg));
        std::string_view type;
        std::string symbol;
        if (msg["data"]["e"].get(type) == simdjson::SUCCESS && type == "depthUpdate") {
          symbol = std::string(std::string_view(msg["data"]["s"]));
        }
        ws.emplace_back(symbol, std::string(e.msg));
      }
    }
    // Keep the diffs that follow each symbol's snapshot (and every non-depth frame).
    for (auto& [symbol, frame] : ws) {
      if (!symbol.empty()) {
        simdjson::dom::element msg = dom.parse(frame);
        if (uint64_t(msg["data"]["u"]) <= books_[symbol].last) continue;
      }
      frames_.push_back({symbol, std::move(frame)});
    }
  }

  // Sends frames from the shared cursor; returns when done, killed or the server stops.
  void serve(test::WsPeer& peer, int connection, const test::TlsTestServer& server) {
    int sent_here = 0;
    while (!server.stopping()) {
      std::string frame;
      // The kill: after `kill_after` frames the stream pauses until the test says the client's
      // books are synchronised (`may_kill`: no snapshot request is outstanding), then 50 more
      // frames go out back to back and the connection is dropped under them.
      if (connection == kill_on_connection && sent_here == kill_after) {
        while (!may_kill.load() && !server.stopping()) std::this_thread::sleep_for(1ms);
      }
      if (hold_after > 0 && sent_here == hold_after) {
        while (!release.load() && !server.stopping()) std::this_thread::sleep_for(1ms);
      }
      const bool kill = connection == kill_on_connection && sent_here == kill_after + 50;
      if (kill) {
        {
          std::lock_guard lock(mutex_);
          killed_ = true;
        }
        peer.kill();
        return;
      }
      {
        std::lock_guard lock(mutex_);
        if (cursor_ == frames_.size()) break;
        const auto& [symbol, text] = frames_[cursor_++];
        if (!symbol.empty()) apply(symbol, text);
        frame = text;
      }
      if (!peer.send(frame, false)) return;
      ++sent_here;
      if (stall_after > 0 && sent_here == stall_after && connection == 0) break;
      if (sent_here % 100 == 0) std::this_thread::sleep_for(1ms);
    }
    if (ping_when_done) {
      peer.set_pong_counter(&pongs);
      peer.ping();
      (void)peer.receive();  // pongs are seen while reading; returns when the connection ends
      return;
    }
    while (!server.stopping()) std::this_thread::sleep_for(5ms);  // hold the connection, silent
  }

  std::string depth(const std::string& target, int& status) {
    const std::size_t at = target.find("symbol=");
    const std::string symbol = target.substr(at + 7, target.find('&', at) - at - 7);
    std::lock_guard lock(mutex_);
    ++depth_requests;
    if (killed_) ++depth_requests_after_kill_[symbol];
    if (depth_failures_left > 0) {
      --depth_failures_left;
      status = 500;
      return R"({"code":-1001,"msg":"Internal error; unable to process your request. Please try again."})";
    }
    if (books_.count(symbol) == 0) {
      status = 400;
      return R"({"code":-1121,"msg":"Invalid symbol."})";
    }
    const Book& b = books_[symbol];
    std::string body = "{\"lastUpdateId\":" + std::to_string(b.last) + ",\"bids\":[";
    auto side = [&body](const auto& levels) {
      bool first = true;
      for (const auto& [p, q] : levels) {
        body += first ? "" : ",";
        first = false;
        body += "[\"" + text(p) + "\",\"" + text(q) + "\"]";
      }
    };
    side(b.bids);
    body += "],\"asks\":[";
    side(b.asks);
    body += "]}";
    return body;
  }

  bool done() {
    std::lock_guard lock(mutex_);
    return cursor_ == frames_.size();
  }

  // The server's books, to compare with the feed's.
  void expect_same_books(const FeedStage& feed, const SymbolMap& symbols) {
    std::lock_guard lock(mutex_);
    for (const auto& [symbol, b] : books_) {
      const book::L2Book* mine =
          feed.books().book(venues::kBinance, symbols.find(venues::kBinance, symbol));
      ASSERT_NE(mine, nullptr) << symbol;
      EXPECT_EQ(mine->flags(), 0) << symbol;
      EXPECT_EQ(mine->sequence(), b.last) << symbol;
      std::size_t i = 0;
      for (auto it = b.bids.begin(); it != b.bids.end() && i < 20; ++it, ++i) {
        ASSERT_EQ(mine->bids().level(i).price.mantissa(), it->first) << symbol << " bid " << i;
        ASSERT_EQ(mine->bids().level(i).qty.mantissa(), it->second) << symbol << " bid " << i;
      }
      i = 0;
      for (auto it = b.asks.begin(); it != b.asks.end() && i < 20; ++it, ++i) {
        ASSERT_EQ(mine->asks().level(i).price.mantissa(), it->first) << symbol << " ask " << i;
        ASSERT_EQ(mine->asks().level(i).qty.mantissa(), it->second) << symbol << " ask " << i;
      }
    }
  }

  std::size_t frame_count() const { return frames_.size(); }

  // Depth snapshots requested for `symbol` after the connection was killed.
  int depth_requests_after_kill(const std::string& symbol) {
    std::lock_guard lock(mutex_);
    const auto it = depth_requests_after_kill_.find(symbol);
    return it == depth_requests_after_kill_.end() ? 0 : it->second;
  }

  // True once every feed book has reached the server's last update id for its symbol.
  bool caught_up(const FeedStage& feed, const SymbolMap& symbols) {
    std::lock_guard lock(mutex_);
    if (cursor_ != frames_.size()) return false;
    for (const auto& [symbol, b] : books_) {
      const auto* d =
          feed.books().diff_book(venues::kBinance, symbols.find(venues::kBinance, symbol));
      if (d == nullptr || d->needs_snapshot() || d->last_update_id() != b.last) return false;
    }
    return true;
  }

  int kill_on_connection = -1;
  int kill_after = 0;
  std::atomic<bool> may_kill{false};  // set by the test once the client's books are in sync
  int hold_after = 0;                 // the stream pauses after this many frames ...
  std::atomic<bool> release{false};   // ... until the test sets this
  int stall_after = 0;
  bool ping_when_done = false;
  std::atomic<std::uint64_t> pongs{0};
  int depth_requests = 0;
  int depth_failures_left = 0;

 private:
  struct Book {
    std::map<std::int64_t, std::int64_t, std::greater<>> bids;
    std::map<std::int64_t, std::int64_t> asks;
    std::uint64_t last = 0;
  };
  static std::string text(std::int64_t m) {
    char buf[32];
    const FormatResult r = Decimal::from_mantissa(m).to_chars(buf, buf + sizeof buf, 8);
    return std::string(buf, r.end);
  }
  template <class Side>
  static void set(Side& side, simdjson::dom::array l) {
    const std::int64_t p = mantissa(std::string_view(l.at(0))),
                       q = mantissa(std::string_view(l.at(1)));
    if (q == 0)
      side.erase(p);
    else
      side[p] = q;
  }
  void apply(const std::string& symbol, const std::string& frame) {
    simdjson::dom::parser dom;
    simdjson::dom::element d = dom.parse(frame)["data"];
    Book& b = books_[symbol];
    for (simdjson::dom::array l : d["b"]) set(b.bids, l);
    for (simdjson::dom::array l : d["a"]) set(b.asks, l);
    b.last = uint64_t(d["u"]);
  }

  std::mutex mutex_;
  std::map<std::string, Book> books_;
  std::vector<std::pair<std::string, std::string>> frames_;
  std::size_t cursor_ = 0;
  bool killed_ = false;  // the connection was killed (kill_on_connection)
  std::map<std::string, int> depth_requests_after_kill_;
};

SymbolMap binance_symbols() {
  SymbolMap m;
  EXPECT_EQ(m.add("BTC", {{venues::kBinance, "BTCUSDT"}}), Errc::ok);
  EXPECT_EQ(m.add("ETH", {{venues::kBinance, "ETHUSDT"}}), Errc::ok);
  EXPECT_EQ(m.add("DOT", {{venues::kBinance, "DOTUSDT"}}), Errc::ok);
  return m;
}

FeedOptions binance_options(const test::TlsTestServer& server) {
  FeedOptions o;
  o.endpoint(venues::kBinance) = {server.ws_url(), server.https_url(), server.ca_file(), true};
  o.endpoint(venues::kUpbit).enabled = false;
  o.ws.reconnect_min = 20ms;
  o.ws.reconnect_max = 200ms;
  o.ws.watchdog = 2'000ms;
  return o;
}

struct Fixture {
  BinanceVenue venue;
  test::TlsTestServer server{
      [this](test::WsPeer& peer, int connection) { venue.serve(peer, connection, server); },
      [this](const std::string& target, int& status) { return venue.depth(target, status); }};
};

// Drains the ring as the signal thread would, checking what it sees.
struct Consumer {
  SpscRing<BookSnapshot>& ring;
  std::uint64_t received = 0;
  std::uint64_t tradable = 0;
  std::map<InstrumentId, bool> last_tradable{};  // of the latest snapshot of each instrument
  void drain() {
    while (const BookSnapshot* s = ring.front()) {
      ++received;
      if (s->tradable()) ++tradable;
      last_tradable[s->instrument] = s->tradable();
      EXPECT_GE(s->stamps.get(Stage::applied), s->stamps.get(Stage::parsed));
      ring.pop();
    }
  }
};

TEST(FeedStage, BinanceBooksOverTlsEqualTheServersBooks) {
  Fixture f;
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(4096);
  Consumer consumer{ring};
  FeedStage feed(binance_options(f.server), symbols, ring);
  feed.start();
  // Every frame read and every book synchronised up to the server's last update.
  const bool done = test::poll_until(
      [&] {
        return feed.stats(venues::kBinance).frames == f.venue.frame_count() &&
               f.venue.caught_up(feed, symbols);
      },
      [&] {
        feed.run_for(5ms);
        consumer.drain();
      },
      60s);
  ASSERT_TRUE(done) << "frames " << feed.stats(venues::kBinance).frames << " of "
                    << f.venue.frame_count() << "; "
                    << feed.stats(venues::kBinance).last_error.view();
  consumer.drain();
  f.venue.expect_same_books(feed, symbols);
  const VenueFeedStats& st = feed.stats(venues::kBinance);
  EXPECT_EQ(st.connects, 1u);
  EXPECT_EQ(st.disconnects, 0u);
  EXPECT_GE(st.snapshot_requests, 3u);
  EXPECT_EQ(feed.parser_stats(venues::kBinance).count(MsgKind::dropped), 0u);
  // How many snapshots were published before each book's REST snapshot arrived depends on this
  // machine; that the books end tradable does not.
  EXPECT_GT(consumer.tradable, 0u);
  ASSERT_EQ(consumer.last_tradable.size(), 3u);
  for (const auto& [id, tradable] : consumer.last_tradable) EXPECT_TRUE(tradable) << id;
  feed.stop();
}

TEST(FeedStage, SteadyStateFramesDoNotAllocateOnTheFeedThread) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  Fixture f;
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(8192);
  Consumer consumer{ring};
  // The stream pauses after 1,500 frames until the warm-up is over, so that however long the
  // REST snapshots take on this machine, the counted part has the other 3,000 frames.
  f.venue.hold_after = 1500;
  FeedStage feed(binance_options(f.server), symbols, ring);
  feed.start();
  // Warm-up: connected, every book synchronised, buffers grown.
  ASSERT_TRUE(test::poll_until(
      [&] {
        for (InstrumentId id = 0; id < 3; ++id) {
          if (feed.books().diff_book(venues::kBinance, id)->needs_snapshot()) return false;
        }
        return feed.stats(venues::kBinance).frames >= 1500;
      },
      [&] {
        feed.run_for(1ms);
        consumer.drain();
      },
      60s));
  // Counted on this thread only (the server's threads allocate as they like).
  test::AllocationScope scope;
  const std::uint64_t frames_before = feed.stats(venues::kBinance).frames;
  f.venue.release.store(true);
  test::poll_until(
      [&] {
        return f.venue.done() && feed.stats(venues::kBinance).frames >= f.venue.frame_count();
      },
      [&] {
        feed.run_for(1ms);
        consumer.drain();
      },
      60s);
  const std::uint64_t frames = feed.stats(venues::kBinance).frames - frames_before;
  EXPECT_GT(frames, 1000u);
  EXPECT_EQ(scope.count(), 0u) << "allocations over " << frames << " frames";
  feed.stop();
}

TEST(FeedStage, AKilledConnectionReconnectsResubscribesAndResyncs) {
  Fixture f;
  f.venue.kill_on_connection = 0;
  f.venue.kill_after = 1500;
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(4096);
  Consumer consumer{ring};
  FeedStage feed(binance_options(f.server), symbols, ring);
  feed.start();
  // Frames in flight when the connection died are lost; the snapshot fetched after the
  // reconnect covers them, so the books still end equal to the server's.
  const bool done =
      test::poll_until([&] { return f.venue.caught_up(feed, symbols); },
                       [&] {
                         feed.run_for(5ms);
                         consumer.drain();
                         bool synced = true;
                         for (InstrumentId id = 0; id < 3; ++id) {
                           synced = synced &&
                                    !feed.books().diff_book(venues::kBinance, id)->needs_snapshot();
                         }
                         if (synced) f.venue.may_kill.store(true);
                       },
                       60s);
  ASSERT_TRUE(done) << feed.stats(venues::kBinance).last_error.view();
  const VenueFeedStats& st = feed.stats(venues::kBinance);
  EXPECT_EQ(st.connects, 2u);
  EXPECT_EQ(st.disconnects, 1u);
  EXPECT_GE(st.resyncs, 1u);
  // Every book fetched again after the reconnect (the kill waited until no snapshot request was
  // outstanding, so the count does not depend on how far the first connection had got).
  for (const char* symbol : {"BTCUSDT", "ETHUSDT", "DOTUSDT"}) {
    EXPECT_GE(f.venue.depth_requests_after_kill(symbol), 1) << symbol;
  }
  EXPECT_GE(f.server.connections(), 2);
  f.venue.expect_same_books(feed, symbols);
  feed.stop();
}

TEST(FeedStage, AFailedSnapshotLeavesTheBookStaleAndIsRetried) {
  Fixture f;
  f.venue.depth_failures_left = 2;  // the venue answers 500 twice
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(4096);
  Consumer consumer{ring};
  FeedStage feed(binance_options(f.server), symbols, ring);
  feed.start();
  bool saw_stale_while_failing = false;
  const bool done = test::poll_until([&] { return f.venue.caught_up(feed, symbols); },
                                     [&] {
                                       feed.run_for(5ms);
                                       consumer.drain();
                                       if (feed.stats(venues::kBinance).snapshot_failures > 0 &&
                                           feed.books()
                                               .diff_book(venues::kBinance, 0)
                                               ->needs_snapshot()) {
                                         saw_stale_while_failing = true;
                                       }
                                     },
                                     60s);
  ASSERT_TRUE(done) << feed.stats(venues::kBinance).last_error.view();
  EXPECT_EQ(feed.stats(venues::kBinance).snapshot_failures, 2u);
  EXPECT_NE(feed.stats(venues::kBinance).last_error.view().find("HTTP 500"), std::string::npos)
      << feed.stats(venues::kBinance).last_error.view();
  EXPECT_TRUE(saw_stale_while_failing);
  f.venue.expect_same_books(feed, symbols);
  feed.stop();
}

TEST(FeedStage, TheWatchdogReconnectsASilentFeed) {
  Fixture f;
  f.venue.stall_after = 300;  // the first connection goes quiet
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(4096);
  Consumer consumer{ring};
  FeedOptions o = binance_options(f.server);
  o.ws.watchdog = 300ms;
  FeedStage feed(o, symbols, ring);
  feed.start();
  const bool tripped = test::poll_until(
      [&] {
        return feed.stats(venues::kBinance).watchdog_trips >= 1 &&
               feed.stats(venues::kBinance).connects >= 2;
      },
      [&] {
        feed.run_for(5ms);
        consumer.drain();
      },
      30s);
  EXPECT_TRUE(tripped) << feed.stats(venues::kBinance).last_error.view();
  EXPECT_NE(feed.stats(venues::kBinance).last_error.view().find("watchdog"), std::string::npos);
  feed.stop();
}

TEST(FeedStage, BinanceConnectionsAreRenewedBeforeTheirLifetimeEnds) {
  Fixture f;
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(8192);
  Consumer consumer{ring};
  FeedOptions o = binance_options(f.server);
  o.endpoint(venues::kBinance).lifetime = 400ms;  // stands in for Binance's 24 h
  FeedStage feed(o, symbols, ring);
  feed.start();
  const bool renewed = test::poll_until(
      [&] {
        return feed.stats(venues::kBinance).lifetime_renewals >= 1 &&
               feed.stats(venues::kBinance).connects >= 2;
      },
      [&] {
        feed.run_for(5ms);
        consumer.drain();
      },
      30s);
  EXPECT_TRUE(renewed) << feed.stats(venues::kBinance).last_error.view();
  EXPECT_EQ(feed.stats(venues::kBinance).watchdog_trips, 0u);
  feed.stop();
}

TEST(FeedStage, BeastAnswersTheServersPings) {
  Fixture f;
  f.venue.ping_when_done = true;
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(8192);
  Consumer consumer{ring};
  FeedStage feed(binance_options(f.server), symbols, ring);
  feed.start();
  const bool ponged = test::poll_until([&] { return f.venue.pongs.load() >= 1; },
                                       [&] {
                                         feed.run_for(5ms);
                                         consumer.drain();
                                       },
                                       60s);
  EXPECT_TRUE(ponged);
  EXPECT_GE(feed.stats(venues::kBinance).pings_received, 1u);
  feed.stop();
}

TEST(FeedStage, AnUntrustedCertificateIsRefused) {
  Fixture f;
  const SymbolMap symbols = binance_symbols();
  SpscRing<BookSnapshot> ring(64);
  FeedOptions o = binance_options(f.server);
  o.endpoint(venues::kBinance)
      .ca_file.clear();  // the system trust store does not know the test certificate
  FeedStage feed(o, symbols, ring);
  feed.start();
  test::poll_until([&] { return !feed.stats(venues::kBinance).last_error.empty(); },
                   [&] { feed.run_for(5ms); }, 10s);
  EXPECT_EQ(feed.stats(venues::kBinance).connects, 0u);
  EXPECT_EQ(feed.stats(venues::kBinance).frames, 0u);
  EXPECT_NE(feed.stats(venues::kBinance).last_error.view().find("tls handshake"), std::string::npos)
      << feed.stats(venues::kBinance).last_error.view();
  feed.stop();
}

TEST(FeedStage, UpbitSubscribesPingsAndReadsBinaryFrames) {
  std::string subscription;
  std::atomic<int> pings{0};
  const std::string book =
      test::read_file(test::source_dir() / "tests/data/upbit/ws_orderbook_default.json");
  test::TlsTestServer server(
      [&](test::WsPeer& peer, int) {
        const auto sub = peer.receive();
        if (!sub) return;
        subscription = *sub;
        for (int i = 0; i < 50; ++i) peer.send(book, /*binary=*/true);
        while (!server.stopping()) {
          const auto msg = peer.receive();
          if (!msg) return;
          if (*msg == "PING") {
            ++pings;
            peer.send(R"({"status":"UP"})", true);
          }
        }
      },
      [](const std::string&, int& status) {
        status = 404;
        return std::string("{}");
      });
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  ASSERT_EQ(symbols.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
  FeedOptions o;
  o.endpoint(venues::kBinance).enabled = false;
  o.endpoint(venues::kUpbit) = {server.ws_url() + "/websocket/v1", "", server.ca_file(), true};
  o.endpoint(venues::kUpbit).ping = 100ms;
  SpscRing<BookSnapshot> ring(256);
  Consumer consumer{ring};
  FeedStage feed(o, symbols, ring);
  feed.start();
  const bool ok = test::poll_until(
      [&] {
        return pings.load() >= 2 && feed.parser_stats(venues::kUpbit).count(MsgKind::status) >= 2;
      },
      [&] {
        feed.run_for(5ms);
        consumer.drain();
      },
      20s);
  ASSERT_TRUE(ok) << feed.stats(venues::kUpbit).last_error.view();
  EXPECT_NE(subscription.find(R"({"type":"orderbook","codes":["KRW-BTC","KRW-USDT"]})"),
            std::string::npos)
      << subscription;
  EXPECT_NE(subscription.find(R"("ticket":"xarb-)"), std::string::npos);
  EXPECT_NE(subscription.find(R"({"format":"SIMPLE"})"), std::string::npos);
  EXPECT_EQ(feed.parser_stats(venues::kUpbit).count(MsgKind::orderbook), 50u);
  const book::L2Book* b =
      feed.books().book(venues::kUpbit, symbols.find(venues::kUpbit, "KRW-BTC"));
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->asks().size(), 27u);
  EXPECT_EQ(b->flags(), 0);
  EXPECT_GE(consumer.tradable, 50u);
  feed.stop();
}

}  // namespace
}  // namespace xarb::feed
