// Book correctness on the real Binance captures: every applied event is checked against a slow,
// obvious reference built in the test (its own JSON parsing with simdjson's DOM API, std::map
// books, the synchronisation rules written out again).
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <simdjson.h>

#include <xarb/feed/capture.hpp>
#include <xarb/feed/replay.hpp>

#include "alloc_counter.hpp"
#include "test_support.hpp"
#include <xarb/venues/registry.hpp>

namespace xarb::feed {
namespace {

namespace fs = std::filesystem;

std::int64_t mantissa(std::string_view text) {
  Decimal d;
  EXPECT_EQ(Decimal::parse(text, d), Errc::ok) << text;
  return d.mantissa();
}

struct RefDiff {
  std::uint64_t first, last;
  std::vector<std::pair<std::int64_t, std::int64_t>> bids, asks;
};

// The reference: per symbol, buffer until the snapshot, then U/u continuity.
struct RefBook {
  std::map<std::int64_t, std::int64_t, std::greater<>> bids;
  std::map<std::int64_t, std::int64_t> asks;
  bool synced = false;
  bool first = false;
  std::uint64_t last = 0;
  std::vector<RefDiff> buffer;

  static void set(auto& side, std::int64_t p, std::int64_t q) {
    if (q == 0)
      side.erase(p);
    else
      side[p] = q;
  }
  // Returns true when the event was applied.
  bool apply(const RefDiff& e) {
    if (e.last <= last) return false;
    const bool ok = first ? (e.first <= last + 1 && last + 1 <= e.last) : e.first == last + 1;
    if (!ok) {
      synced = false;
      buffer = {e};
      return false;
    }
    for (auto [p, q] : e.bids) set(bids, p, q);
    for (auto [p, q] : e.asks) set(asks, p, q);
    last = e.last;
    first = false;
    return true;
  }
};

std::vector<std::pair<std::int64_t, std::int64_t>> levels(simdjson::dom::array arr) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (simdjson::dom::array pair : arr) {
    out.emplace_back(mantissa(std::string_view(pair.at(0))),
                     mantissa(std::string_view(pair.at(1))));
  }
  return out;
}

class RecordingSink : public SnapshotSink {
 public:
  void on_snapshot(const BookSnapshot& s) noexcept override {
    last = s;
    ++count;
  }
  BookSnapshot last;
  std::uint64_t count = 0;
};

void expect_same_top(const BookSnapshot& s, const RefBook& ref, const std::string& where) {
  std::size_t i = 0;
  for (auto it = ref.bids.begin(); it != ref.bids.end() && i < kBookDepth; ++it, ++i) {
    ASSERT_EQ(s.bids[i].price.mantissa(), it->first) << where << " bid level " << i;
    ASSERT_EQ(s.bids[i].qty.mantissa(), it->second) << where << " bid level " << i;
  }
  ASSERT_EQ(s.bid_count, i) << where;
  i = 0;
  for (auto it = ref.asks.begin(); it != ref.asks.end() && i < kBookDepth; ++it, ++i) {
    ASSERT_EQ(s.asks[i].price.mantissa(), it->first) << where << " ask level " << i;
    ASSERT_EQ(s.asks[i].qty.mantissa(), it->second) << where << " ask level " << i;
  }
  ASSERT_EQ(s.ask_count, i) << where;
}

struct CaptureCheck {
  std::uint64_t applied = 0;  // diff events the reference applied
  std::uint64_t snapshots = 0;
  std::uint64_t compared = 0;
};

// Replays one capture through Replayer and the reference side by side. `skip_diff` drops the
// n-th diff event of `skip_symbol` from both (a cut message).
CaptureCheck check_capture(const fs::path& path, const std::string& skip_symbol = "",
                           int skip_diff = -1, bool* saw_gap = nullptr) {
  CaptureCheck result;
  SymbolMap symbols;
  std::string error;
  EXPECT_TRUE(discover_symbols(path.string(), symbols, error)) << error;
  Replayer replayer(symbols, FeedOptions{});
  std::map<std::string, RefBook> refs;
  simdjson::dom::parser dom;
  RecordingSink sink;
  std::string error2;
  auto reader = CaptureReader::open(path.string(), error2);
  EXPECT_TRUE(reader) << error2;
  CaptureEvent e;
  std::map<std::string, int> diff_index;
  while (reader->next(e)) {
    if (!e.venue_known || e.venue != venues::kBinance) continue;
    std::string symbol;
    bool is_diff = false, is_snapshot = false;
    RefDiff diff{};
    simdjson::dom::element msg;
    if (e.kind == CaptureKind::ws) {
      msg = dom.parse(std::string(e.msg));
      std::string_view stream;
      if (msg["stream"].get(stream) != simdjson::SUCCESS) continue;
      simdjson::dom::element data = msg["data"];
      std::string_view type;
      if (data["e"].get(type) != simdjson::SUCCESS || type != "depthUpdate") {
        replayer.feed(e, sink);
        continue;
      }
      symbol = std::string(std::string_view(data["s"]));
      diff = {uint64_t(data["U"]), uint64_t(data["u"]), levels(data["b"]), levels(data["a"])};
      is_diff = true;
      if (symbol == skip_symbol && diff_index[symbol]++ == skip_diff) continue;  // cut
    } else if (e.kind == CaptureKind::http && e.url.find("/depth") != std::string_view::npos) {
      msg = dom.parse(std::string(e.msg));
      const std::size_t at = e.url.find("symbol=");
      symbol = std::string(e.url.substr(at + 7, e.url.find('&', at) - at - 7));
      is_snapshot = true;
    } else {
      continue;
    }
    RefBook& ref = refs[symbol];
    const std::uint64_t published_before = sink.count;
    bool ref_applied = false;
    if (is_diff) {
      if (!ref.synced) {
        ref.buffer.push_back(diff);
      } else {
        const bool was_synced = ref.synced;
        ref_applied = ref.apply(diff);
        if (was_synced && !ref.synced && saw_gap != nullptr) *saw_gap = true;
      }
      if (ref_applied) ++result.applied;
    } else if (is_snapshot) {
      ++result.snapshots;
      const std::uint64_t id = uint64_t(msg["lastUpdateId"]);
      ref.bids.clear();
      ref.asks.clear();
      for (auto [p, q] : levels(msg["bids"]))
        if (q != 0) ref.bids[p] = q;
      for (auto [p, q] : levels(msg["asks"]))
        if (q != 0) ref.asks[p] = q;
      ref.last = id;
      ref.synced = true;
      ref.first = true;
      auto pending = std::move(ref.buffer);
      ref.buffer.clear();
      for (const RefDiff& d : pending) {
        if (d.last <= id) continue;
        if (!ref.synced) {
          ref.buffer.push_back(d);
          continue;
        }
        if (ref.apply(d)) ++result.applied;
      }
      ref_applied = ref.synced;
    }
    replayer.feed(e, sink);
    const std::string where = path.filename().string() + " " + symbol;
    if (ref_applied) {
      EXPECT_GT(sink.count, published_before) << where << ": the book did not publish";
      EXPECT_EQ(symbols[sink.last.instrument].symbol(venues::kBinance), symbol) << where;
      EXPECT_TRUE(sink.last.tradable()) << where;
      expect_same_top(sink.last, ref, where);
      if (::testing::Test::HasFatalFailure()) return result;
      ++result.compared;
    } else if (sink.count > published_before) {
      // Anything published while the reference is out of sync must say so.
      EXPECT_FALSE(sink.last.tradable()) << where;
    }
  }
  return result;
}

std::vector<fs::path> binance_depth_captures() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(test::data_dir() / "binance")) {
    if (entry.path().filename().string().find("depth") != std::string::npos)
      out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A capture of Bithumb's websocket beside Upbit's (as `xarb record` writes them: ws_connect with
// the host, the subscription sent, the frames): the venues are told apart by host and by name,
// the markets discovered per venue even when both list KRW-BTC, and each venue's frames build
// that venue's book.
TEST(CaptureReader, ABithumbCaptureReplaysIntoBithumbsBooks) {
  const fs::path path =
      fs::temp_directory_path() / ("xarb_capture_bithumb_" + std::to_string(::getpid()) + ".jsonl");
  // Upbit's time in milliseconds, Bithumb's in microseconds.
  const auto frame = [](const char* code, const char* bid, const char* ts = "1764748800123456") {
    return std::string(R"({"type":"orderbook","code":")") + code + R"(","timestamp":)" + ts +
           R"(,"orderbook_units":[{"ask_price":140100000,)" + R"("bid_price":)" + bid +
           R"(,"ask_size":0.5,"bid_size":0.25}],"stream_type":"REALTIME"})";
  };
  std::ofstream(path)
      << R"({"t":"ws_connect","ts":1764748800.0,"url":"wss://api.upbit.com/websocket/v1"})" << '\n'
      << R"({"t":"ws_send","ts":1764748800.0,"msg":[{"ticket":"a"},{"type":"orderbook","codes":["KRW-BTC"]}]})"
      << '\n'
      << R"({"t":"ws","ts":1764748800.1,"msg":)" << frame("KRW-BTC", "140000000", "1764748800123")
      << "}\n"
      << R"({"t":"ws_connect","ts":1764748800.2,"url":"wss://ws-api.bithumb.com/websocket/v1"})"
      << '\n'
      << R"({"t":"ws_send","ts":1764748800.2,"msg":[{"ticket":"b"},{"type":"orderbook","codes":["KRW-BTC","KRW-XRP"]}]})"
      << '\n'
      << R"({"t":"ws","ts":1764748800.3,"msg":)" << frame("KRW-BTC", "139900000") << "}\n"
      << R"({"t":"ws","ts":1764748800.4,"venue":"bithumb","msg":)" << frame("KRW-XRP", "3105")
      << "}\n";
  SymbolMap map;
  std::string error;
  ASSERT_TRUE(discover_symbols(path.string(), map, error)) << error;
  const InstrumentId upbit_btc = map.find(venues::kUpbit, "KRW-BTC");
  const InstrumentId bithumb_btc = map.find(venues::kBithumb, "KRW-BTC");
  const InstrumentId bithumb_xrp = map.find(venues::kBithumb, "KRW-XRP");
  ASSERT_NE(upbit_btc, kNoInstrument);
  ASSERT_NE(bithumb_btc, kNoInstrument);
  ASSERT_NE(bithumb_xrp, kNoInstrument);
  EXPECT_NE(upbit_btc, bithumb_btc) << "one instrument per venue's market in a capture";

  struct Sink : SnapshotSink {
    std::vector<BookSnapshot> seen;
    void on_snapshot(const BookSnapshot& s) noexcept override { seen.push_back(s); }
  } sink;
  Replayer replayer(map, FeedOptions{});
  auto reader = CaptureReader::open(path.string(), error);
  ASSERT_TRUE(reader) << error;
  CaptureEvent e;
  while (reader->next(e)) replayer.feed(e, sink);
  ASSERT_EQ(sink.seen.size(), 3u);
  EXPECT_EQ(sink.seen[0].venue, venues::kUpbit);
  EXPECT_EQ(sink.seen[1].venue, venues::kBithumb);
  EXPECT_EQ(sink.seen[1].instrument, bithumb_btc);
  EXPECT_EQ(sink.seen[1].bids[0].price, Decimal::from_mantissa(139'900'000LL * Decimal::kOne));
  EXPECT_EQ(sink.seen[2].instrument, bithumb_xrp);
  EXPECT_EQ(replayer.parser_stats(venues::kBithumb).count(MsgKind::orderbook), 2u);
  EXPECT_EQ(replayer.parser_stats(venues::kUpbit).count(MsgKind::dropped), 0u);
  fs::remove(path);
}

// A receive time whose nanoseconds do not fit an int64 (past 2262) is a malformed line, counted
// and skipped; before, it wrapped around to a negative time.
TEST(CaptureReader, AReceiveTimePastInt64NanosecondsIsMalformed) {
  const fs::path path =
      fs::temp_directory_path() / ("xarb_capture_ts_" + std::to_string(::getpid()) + ".jsonl");
  std::ofstream(path) << R"({"t":"ws","ts":1617580800.1234567,"msg":{"u":1}})" << '\n'
                      << R"({"t":"ws","ts":92233720368.5477581,"msg":{"u":2}})" << '\n'
                      << R"({"t":"ws","ts":-1.5,"msg":{"u":3}})" << '\n';
  std::string error;
  auto reader = CaptureReader::open(path.string(), error);
  ASSERT_TRUE(reader) << error;
  CaptureEvent e;
  ASSERT_TRUE(reader->next(e));
  EXPECT_EQ(e.kind, CaptureKind::ws);
  EXPECT_EQ(e.recv_ns, 1'617'580'800'123'456'700);
  ASSERT_TRUE(reader->next(e));
  EXPECT_EQ(e.kind, CaptureKind::malformed);
  ASSERT_TRUE(reader->next(e));
  EXPECT_EQ(e.kind, CaptureKind::malformed) << "a negative time too";
  fs::remove(path);
}

TEST(ReplayBooks, EveryAppliedEventMatchesTheReferenceOnAllBinanceCaptures) {
  const auto files = binance_depth_captures();
  ASSERT_EQ(files.size(), 5u);
  std::uint64_t applied = 0, compared = 0, snapshots = 0;
  for (const auto& f : files) {
    const CaptureCheck c = check_capture(f);
    if (HasFatalFailure()) return;
    applied += c.applied;
    compared += c.compared;
    snapshots += c.snapshots;
  }
  EXPECT_EQ(snapshots, 31u);
  EXPECT_GT(applied, 5'000u);
  EXPECT_EQ(compared, applied + snapshots);
  std::printf("diff events applied and compared: %llu, snapshots: %llu\n",
              static_cast<unsigned long long>(applied), static_cast<unsigned long long>(snapshots));
}

TEST(ReplayBooks, ACutMessageIsDetectedAndTheBookStaysStale) {
  const fs::path f = test::data_dir() /
                     "binance/2021-04-04_btcusdt_ethusdt_dotusdt_depth_aggtrade.events.jsonl";
  bool saw_gap = false;
  // The 50th diff of BTCUSDT never arrives.
  const CaptureCheck c = check_capture(f, "BTCUSDT", 50, &saw_gap);
  EXPECT_TRUE(saw_gap);
  EXPECT_GT(c.compared, 0u);

  SymbolMap symbols;
  std::string error;
  ASSERT_TRUE(discover_symbols(f.string(), symbols, error));
  Replayer replayer(symbols, FeedOptions{});
  RecordingSink sink;
  auto reader = CaptureReader::open(f.string(), error);
  CaptureEvent e;
  int btc_diffs = 0;
  const InstrumentId btc = symbols.find(venues::kBinance, "BTCUSDT");
  while (reader->next(e)) {
    if (e.kind == CaptureKind::ws && e.msg.find("\"btcusdt@depth") != std::string_view::npos &&
        btc_diffs++ == 50) {
      continue;
    }
    replayer.feed(e, sink);
  }
  const book::DiffSyncBook* b = replayer.books().diff_book(venues::kBinance, btc);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->gaps(), 1u);
  EXPECT_TRUE(b->needs_snapshot());
  EXPECT_TRUE(b->book().flags() & book_flags::kStale);
  EXPECT_GE(replayer.stats().snapshot_requests, 1u);
  // The other symbols are untouched.
  EXPECT_FALSE(replayer.books()
                   .diff_book(venues::kBinance, symbols.find(venues::kBinance, "ETHUSDT"))
                   ->needs_snapshot());
}

TEST(ReplayBooks, TheWholeReplayPathDoesNotAllocateAfterWarmUp) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  const fs::path f =
      test::data_dir() / "binance/2021-04-05_10sym_bookticker_depth_aggtrade.events.jsonl";
  SymbolMap symbols;
  std::string error;
  ASSERT_TRUE(discover_symbols(f.string(), symbols, error));
  Replayer replayer(symbols, books_from(venues::kBinance, "book_ticker"));
  RecordingSink sink;
  auto reader = CaptureReader::open(f.string(), error);
  CaptureEvent e;
  while (reader->next(e)) replayer.feed(e, sink);  // warm-up: buffers reach their sizes
  reader->rewind();
  const std::uint64_t published = sink.count;
  test::AllocationScope scope;
  std::uint64_t lines = 0;
  while (reader->next(e)) {
    replayer.feed(e, sink);
    ++lines;
  }
  EXPECT_EQ(scope.count(), 0u) << "over " << lines << " lines";
  EXPECT_EQ(lines, 11'369u);
  EXPECT_GT(sink.count, published);
}

}  // namespace
}  // namespace xarb::feed
