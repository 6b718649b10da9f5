#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include <xarb/app/feed_commands.hpp>
#include <xarb/app/replay_command.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"
#include "tls_test_server.hpp"

namespace xarb::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Both venues on one loopback TLS server: Binance bookTicker frames on /stream, Upbit orderbooks
// (KRW-BTC from the DEFAULT fixture, KRW-USDT around 1,400) on /websocket/v1. Every 20 ms, or,
// with `rounds`, that many rounds at once and then silence (the connection held open).
class TwoVenues {
 public:
  explicit TwoVenues(int rounds = 0)
      : rounds_(rounds),
        upbit_btc_(
            test::read_file(test::source_dir() / "tests/data/upbit/ws_orderbook_default.json")),
        server_([this](test::WsPeer& peer, int) { serve(peer); },
                [](const std::string&, int& status) {
                  status = 404;
                  return std::string(R"({"code":-1,"msg":"not here"})");
                }) {}

  const test::TlsTestServer& server() const { return server_; }

  fs::path write_config(const fs::path& dir) const {
    const fs::path path = dir / "venues.toml";
    std::ofstream(path) << "[venues.binance]\nws_url = \"" << server_.ws_url()
                        << "\"\nrest_url = \"" << server_.https_url() << "\"\nca_file = \""
                        << server_.ca_file() << "\"\nbook = \"book_ticker\"\n[venues.upbit]\nws_url = \""
                        << server_.ws_url() << "/websocket/v1\"\nrest_url = \""
                        << server_.https_url() << "\"\nca_file = \"" << server_.ca_file()
                        << "\"\n[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"0.01\"\n";
    return path;
  }

 private:
  void serve(test::WsPeer& peer) {
    const bool upbit = peer.target().starts_with("/websocket/v1");
    if (upbit && !peer.receive()) return;  // the subscription
    for (std::uint64_t u = 1; !server_.stopping(); ++u) {
      if (rounds_ > 0 && u > static_cast<std::uint64_t>(rounds_)) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      bool ok = true;
      if (upbit) {
        ok =
            peer.send(upbit_btc_, true) &&
            peer.send(
                R"({"type":"orderbook","code":"KRW-USDT","timestamp":1758857403123,"orderbook_units":[{"ask_price":1400.5,"bid_price":1399.5,"ask_size":100,"bid_size":100}]})",
                true);
      } else {
        ok = peer.send(R"({"stream":"btcusdt@bookTicker","data":{"u":)" + std::to_string(u) +
                           R"(,"s":"BTCUSDT","b":"109990.00","B":"1.5","a":"110000.00","A":"2"}})",
                       false);
      }
      if (!ok) return;
      if (rounds_ == 0) std::this_thread::sleep_for(20ms);
    }
  }

  int rounds_;
  std::string upbit_btc_;
  test::TlsTestServer server_;
};

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("xarb_feed_cmd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(RecordCommand, RecordsBothVenuesInTheSharedFormatAndReplaysIt) {
  // 25 rounds sent at once, then silence: what the recording holds does not depend on how many
  // frames a paced server managed to send in the recording's time.
  TwoVenues venues(25);
  const fs::path dir = temp_dir();
  const fs::path config = venues.write_config(dir);
  const fs::path out_file = dir / "recording.jsonl";
  std::ostringstream out, err;
  ASSERT_EQ(run_record(config.string(), out_file.string(), 3s, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("recorded "), std::string::npos) << out.str();

  // The first line says what the recording holds: the config's venues with their book streams,
  // its symbols with their markets, and the FX book.
  std::string error;
  auto reader = feed::CaptureReader::open(out_file.string(), error);
  ASSERT_TRUE(reader) << error;
  feed::CaptureEvent e;
  ASSERT_TRUE(reader->next(e));
  ASSERT_EQ(e.kind, feed::CaptureKind::recording);
  feed::RecordingHeader header;
  ASSERT_TRUE(feed::parse_recording_header(e.msg, header, error)) << error;
  EXPECT_EQ(header.version, feed::RecordingHeader::kVersion);
  EXPECT_EQ(header.recorder, "xarb record");
  ASSERT_EQ(header.venues.size(), 2u);
  EXPECT_EQ(header.venues[0].venue, venues::kBinance);
  EXPECT_EQ(header.venues[0].book, "book_ticker");
  EXPECT_EQ(header.venues[1].venue, venues::kUpbit);
  EXPECT_EQ(header.venues[1].book, "orderbook");
  ASSERT_EQ(header.symbols.size(), 1u);
  EXPECT_EQ(header.symbols[0].base, "BTC");
  EXPECT_EQ(header.symbols[0].markets[index(venues::kBinance)], "BTCUSDT");
  EXPECT_EQ(header.symbols[0].markets[index(venues::kUpbit)], "KRW-BTC");
  EXPECT_EQ(header.fx_venue, venues::kUpbit);
  EXPECT_EQ(header.fx_market, "KRW-USDT");
  // The header reads back as it was written.
  feed::RecordingHeader again;
  const std::string line = header.line();
  ASSERT_TRUE(feed::parse_recording_header(
      std::string_view(line).substr(line.find(R"("msg":)") + 6, line.size() - line.find(R"("msg":)") - 7),
      again, error))
      << error;
  EXPECT_EQ(again.line(), line);

  // Every other line reads back as a capture event with its venue known.
  int connects = 0, sends = 0, frames[2] = {0, 0};
  while (reader->next(e)) {
    ASSERT_NE(e.kind, feed::CaptureKind::malformed) << "line " << reader->lines();
    ASSERT_TRUE(e.venue_known) << "line " << reader->lines();
    if (e.kind == feed::CaptureKind::ws_connect) ++connects;
    if (e.kind == feed::CaptureKind::ws_send) ++sends;
    if (e.kind == feed::CaptureKind::ws) {
      ++frames[index(e.venue)];
      EXPECT_GT(e.recv_ns, 1'700'000'000'000'000'000);
      // The venue's own event time beside the receive time: Upbit's "timestamp" (ms) in each
      // orderbook frame; Binance's bookTicker carries none.
      if (e.venue == venues::kUpbit) {
        EXPECT_EQ(e.exch_ns, 1'758'857'403'123'000'000) << "line " << reader->lines();
      } else {
        EXPECT_EQ(e.exch_ns, 0) << "line " << reader->lines();
      }
    }
  }
  EXPECT_EQ(connects, 2);
  EXPECT_EQ(sends, 1);  // the Upbit subscription
  EXPECT_EQ(frames[index(venues::kBinance)], 25);
  EXPECT_EQ(frames[index(venues::kUpbit)], 50);  // KRW-BTC and KRW-USDT each round

  // The recording replays through the same parsers and books.
  ReplayOptions replay;
  replay.input = out_file.string();
  replay.config = config.string();
  replay.books = {"binance=book_ticker"};
  replay.emit_books = (dir / "books.jsonl").string();
  std::ostringstream rout, rerr;
  ASSERT_EQ(run_replay(replay, rout, rerr), 0) << rerr.str();
  const std::string books = test::read_file(replay.emit_books);
  EXPECT_NE(books.find(R"({"venue":"binance","symbol":"BTCUSDT")"), std::string::npos)
      << books.substr(0, 300);
  EXPECT_NE(books.find(R"({"venue":"upbit","symbol":"KRW-BTC")"), std::string::npos);
  EXPECT_NE(books.find(R"("ask_px":"110000")"), std::string::npos);

  // Without a config, the replay takes the recording's own symbols and book streams, and says so.
  ReplayOptions bare;
  bare.input = out_file.string();
  bare.emit_books = (dir / "bare_books.jsonl").string();
  std::ostringstream bout, berr;
  ASSERT_EQ(run_replay(bare, bout, berr), 0) << berr.str();
  EXPECT_NE(bout.str().find("recording (xarb record): binance (book_ticker), upbit (orderbook); 1 "
                            "symbol: BTC; FX upbit KRW-USDT"),
            std::string::npos)
      << bout.str();
  EXPECT_NE(bout.str().find("instruments 2"), std::string::npos) << "BTC and the FX market\n"
                                                                  << bout.str();
  EXPECT_EQ(test::read_file(bare.emit_books), books) << "the same books as with the config";
  fs::remove_all(dir);
}

// A recording made for another config is refused against this one, with the file, the line and
// what it lacks: a venue the config trades, a symbol, a market named otherwise.
TEST(RecordCommand, ARecordingThatLacksWhatTheConfigTradesIsRefused) {
  TwoVenues venues(2);
  const fs::path dir = temp_dir();
  const fs::path config = venues.write_config(dir);
  const fs::path recording = dir / "recording.jsonl";
  std::ostringstream out, err;
  ASSERT_EQ(run_record(config.string(), recording.string(), 1s, out, err), 0) << err.str();
  const std::string base = test::read_file(config);
  const auto refused = [&](const std::string& extra, const std::string& expected) {
    const fs::path other = dir / "other.toml";
    std::ofstream(other) << base << extra;
    ReplayOptions o;
    o.input = recording.string();
    o.config = other.string();
    std::ostringstream rout, rerr;
    EXPECT_EQ(run_replay(o, rout, rerr), 2) << extra;
    EXPECT_NE(rerr.str().find(recording.string() + ":1: " + expected), std::string::npos)
        << rerr.str();
  };
  refused("[[symbols]]\nbase = \"ETH\"\ntrade_qty = \"0.1\"\n",
          "the config's symbol ETH is not in the recording (it holds BTC)");
  refused("upbit_market = \"KRW-XBT\"\n",
          "BTC's market on upbit is KRW-XBT in the config and KRW-BTC in the recording");
  refused("[venues.bithumb]\nws_url = \"" + venues.server().ws_url() + "\"\nrest_url = \"" +
              venues.server().https_url() + "\"\n",
          "the config trades bithumb, which the recording does not hold (it holds binance, upbit)");
  fs::remove_all(dir);
}

// A recording whose header is wrong is refused with its file and line, before anything replays.
TEST(RecordCommand, AWrongHeaderIsToldWithItsFileAndLine) {
  const fs::path dir = temp_dir();
  const fs::path file = dir / "bad_header.jsonl";
  {
    std::ofstream(file) << R"({"t":"recording","msg":{"version":1,"recorder":"xarb record","venues":[{"venue":"okx","book":"depth"}],"symbols":[]}})"
                        << "\n";
  }
  ReplayOptions o;
  o.input = file.string();
  std::ostringstream out, err;
  EXPECT_EQ(run_replay(o, out, err), 2);
  EXPECT_NE(err.str().find(file.string() + ":1: the recording header's venues names \"okx\""),
            std::string::npos)
      << err.str();
  {
    std::ofstream(file) << R"({"t":"recording","msg":{"version":9,"recorder":"x","venues":[],"symbols":[]}})"
                        << "\n";
  }
  std::ostringstream out2, err2;
  EXPECT_EQ(run_replay(o, out2, err2), 2);
  EXPECT_NE(err2.str().find(":1: the recording header's version 9 is not one this build reads"),
            std::string::npos)
      << err2.str();
  fs::remove_all(dir);
}

TEST(WatchCommand, ShowsBooksFxAndPremiumBothWays) {
  TwoVenues venues;
  const fs::path dir = temp_dir();
  const fs::path config = venues.write_config(dir);
  std::ostringstream out, err;
  ASSERT_EQ(run_watch(config.string(), 1500ms, out, err), 0) << err.str();
  const std::string screen = out.str();
  EXPECT_NE(screen.find("FX 1400.00 KRW/USDT"), std::string::npos) << screen;
  EXPECT_NE(screen.find("binance connected upbit connected"), std::string::npos) << screen;
  // The strategy's premium at the trade size, in bps, with the edge after both venues' fees:
  // 158,200,000 / (1,400 x 110,000) - 1 = 2.727 %; 158,201,000 / (1,400 x 109,990) - 1 = 2.737 %.
  EXPECT_NE(screen.find("upbit-binance"), std::string::npos) << screen;
  EXPECT_NE(screen.find("272.7 ("), std::string::npos) << screen;
  EXPECT_NE(screen.find("273.7 ("), std::string::npos) << screen;
  EXPECT_NE(screen.find("\x1b[H\x1b[2J"), std::string::npos);  // refreshed in place
  fs::remove_all(dir);
}

TEST(FeedCommands, BadConfigsAndDurationsAreRejected) {
  std::chrono::milliseconds d{};
  EXPECT_TRUE(parse_duration("90", d));
  EXPECT_EQ(d, 90'000ms);
  EXPECT_TRUE(parse_duration("5m", d));
  EXPECT_EQ(d, 300'000ms);
  EXPECT_TRUE(parse_duration("250ms", d));
  EXPECT_EQ(d, 250ms);
  EXPECT_FALSE(parse_duration("soon", d));
  EXPECT_FALSE(parse_duration("5 days", d));
  std::ostringstream out, err;
  EXPECT_EQ(run_watch("/nonexistent/xarb.toml", 10ms, out, err), 2);
  EXPECT_NE(err.str().find("cannot open the file"), std::string::npos);
}

}  // namespace
}  // namespace xarb::app
