#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <xarb/book/order_book.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/feed/venues/upbit_parser.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::feed {
namespace {

namespace fs = std::filesystem;

SymbolMap symbols() {
  SymbolMap m;
  EXPECT_EQ(m.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}), Errc::ok);
  EXPECT_EQ(m.add_fx(venues::kUpbit, "KRW-USDT"), Errc::ok);
  return m;
}

std::string fixture(const char* name) {
  std::string s = test::read_file(test::source_dir() / "tests/data/upbit" / name);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

book::L2Book book_from(UpbitParser& p, const std::string& frame) {
  const ParsedFrame f = p.parse(frame);
  EXPECT_EQ(f.kind, MsgKind::orderbook) << to_string(f.drop);
  book::L2Book b(venues::kUpbit, f.instrument);
  b.replace(f.bids, f.asks, 1, f.exchange_ns);
  return b;
}

TEST(UpbitParser, DefaultAndSimpleFormatsGiveIdenticalBooks) {
  const SymbolMap m = symbols();
  UpbitParser p(m);
  const ParsedFrame def = p.parse(fixture("ws_orderbook_default.json"));
  ASSERT_EQ(def.kind, MsgKind::orderbook) << to_string(def.drop);
  EXPECT_EQ(def.instrument, m.find(venues::kUpbit, "KRW-BTC"));
  EXPECT_EQ(def.bids.size(), 30u);  // 27 real units and 3 zero-padded ones
  EXPECT_EQ(def.exchange_ns, 1758857403123'000'000);
  const book::L2Book a = book_from(p, fixture("ws_orderbook_default.json"));
  const book::L2Book b = book_from(p, fixture("ws_orderbook_simple.json"));
  ASSERT_EQ(a.bids().size(), 27u);  // padding skipped
  ASSERT_EQ(a.asks().size(), 27u);
  ASSERT_EQ(a.bids().size(), b.bids().size());
  for (std::size_t i = 0; i < a.bids().size(); ++i) {
    EXPECT_EQ(a.bids().level(i), b.bids().level(i)) << i;
    EXPECT_EQ(a.asks().level(i), b.asks().level(i)) << i;
  }
  // 1.58201E8 is 158,201,000 KRW exactly.
  EXPECT_EQ(a.asks().best().price, Decimal::from_mantissa(158'201'000LL * Decimal::kOne));
  EXPECT_EQ(a.bids().best().price, Decimal::from_mantissa(158'200'000LL * Decimal::kOne));
  EXPECT_EQ(a.bids().best().qty, Decimal::from_mantissa(2'000'000));  // 0.02
  EXPECT_FALSE(a.crossed());
}

// Bithumb's public websocket frames in Upbit's framing (docs/venues.md): the parser built for
// Bithumb finds Bithumb's markets (not Upbit's), and reads the microsecond timestamp Bithumb has
// been seen to send as the same instant as a millisecond one.
TEST(UpbitParser, BithumbFramesFindBithumbsMarketsAndMicrosecondTimes) {
  SymbolMap m;
  ASSERT_EQ(m.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}), Errc::ok);
  ASSERT_EQ(m.add("XRP", {{venues::kBithumb, "KRW-XRP"}, {venues::kBinance, "XRPUSDT"}}), Errc::ok);
  UpbitParser bithumb(m, 1 << 20, venues::kBithumb);
  const std::string frame =
      test::read_file(test::source_dir() / "tests/data/bithumb" / "ws_orderbook_us.json");
  const ParsedFrame f = bithumb.parse(frame);
  ASSERT_EQ(f.kind, MsgKind::orderbook) << to_string(f.drop);
  EXPECT_EQ(f.instrument, m.find(venues::kBithumb, "KRW-XRP"));
  EXPECT_EQ(f.exchange_ns, 1764748800123'000'000) << "microseconds read as such";
  ASSERT_EQ(f.bids.size(), 2u);
  EXPECT_EQ(f.bids[0].price, Decimal::from_mantissa(3'105LL * Decimal::kOne));
  EXPECT_EQ(f.asks[1].qty, Decimal::from_mantissa(15'250'000'000));  // 152.5
  // The same frame with milliseconds is the same instant.
  std::string ms = frame;
  ms.replace(ms.find("1764748800123456"), 16, "1764748800123");
  EXPECT_EQ(bithumb.parse(ms).exchange_ns, 1764748800123'000'000);
  // KRW-BTC is an Upbit market here, not a Bithumb one.
  std::string btc = frame;
  btc.replace(btc.find("KRW-XRP"), 7, "KRW-BTC");
  EXPECT_EQ(bithumb.parse(btc).drop, DropReason::unknown_symbol);
  // The Upbit parser keeps its millisecond rule: a microsecond time is a bad number there.
  UpbitParser upbit(m);
  std::string on_upbit = btc;
  EXPECT_EQ(upbit.parse(on_upbit).drop, DropReason::bad_number);
}

TEST(UpbitParser, RecognisesStatusErrorsTickerAndTrade) {
  const SymbolMap m = symbols();
  UpbitParser p(m);
  EXPECT_EQ(p.parse(R"({"status":"UP"})").kind, MsgKind::status);
  const ParsedFrame err = p.parse(R"({"error":{"name":"INVALID_PARAM","message":"bad codes"}})");
  EXPECT_EQ(err.kind, MsgKind::venue_error);
  EXPECT_EQ(err.error_name.view(), "INVALID_PARAM");
  EXPECT_EQ(err.error_message.view(), "bad codes");
  // The documented DEFAULT ticker frames (with 0E-8 and 10-decimal ratios) are tickers.
  const std::string tickers =
      test::read_file(test::data_dir() / "upbit/default_ticker_krw-btc_2025-09-26.jsonl");
  std::size_t start = 0, n = 0;
  while (start < tickers.size()) {
    std::size_t end = tickers.find('\n', start);
    if (end == std::string::npos) end = tickers.size();
    if (end > start) {
      EXPECT_EQ(p.parse(std::string_view(tickers).substr(start, end - start)).kind,
                MsgKind::ticker);
      ++n;
    }
    start = end + 1;
  }
  EXPECT_EQ(n, 2u);
}

TEST(UpbitParser, BadInputIsCountedAndDropped) {
  const SymbolMap m = symbols();
  UpbitParser p(m, 1 << 20);
  struct Case {
    std::string frame;
    DropReason reason;
  };
  const Case cases[] = {
      {"", DropReason::malformed},
      {"PONG", DropReason::malformed},
      {R"({"ty":"orderbook","cd":"KRW-BTC","tms":1,"obu":[{"ap":1,"bp":1,"as":1)",
       DropReason::malformed},
      {R"({"ty":"orderbook","cd":"KRW-BTC","tms":1,"obu":[{"ap":"x","bp":1,"as":1,"bs":1}]})",
       DropReason::bad_number},
      {R"({"ty":"orderbook","cd":"KRW-BTC","tms":1,"obu":[{"ap":1e40,"bp":1,"as":1,"bs":1}]})",
       DropReason::bad_number},
      {R"({"ty":"orderbook","cd":"KRW-BTC","tms":1,"obu":[{"ap":123456789012345678901234567890,"bp":1,"as":1,"bs":1}]})",
       DropReason::bad_number},
      {R"({"ty":"orderbook","cd":"KRW-BTC","tms":1,"obu":[{"ap":1,"bp":1,"as":1}]})",
       DropReason::missing_field},
      {R"({"ty":"orderbook","cd":"KRW-BTC","tms":1,"obu":{}})", DropReason::wrong_type},
      {R"({"ty":"orderbook","cd":"KRW-BTC","tms":1})", DropReason::missing_field},
      {R"({"ty":"orderbook","cd":"KRW-DOGE","tms":1,"obu":[]})", DropReason::unknown_symbol},
      {R"({"ty":"candle","cd":"KRW-BTC"})", DropReason::unknown_type},
      {R"({"cd":"KRW-BTC"})", DropReason::unknown_type},
      {std::string(2 << 20, ' '), DropReason::oversized},
  };
  for (const Case& c : cases) {
    const ParsedFrame f = p.parse(c.frame);
    EXPECT_EQ(f.kind, MsgKind::dropped) << c.frame.substr(0, 80);
    EXPECT_EQ(f.drop, c.reason) << c.frame.substr(0, 80) << " -> " << to_string(f.drop);
  }
  EXPECT_EQ(p.stats().count(MsgKind::dropped), std::size(cases));
  EXPECT_EQ(p.parse(fixture("ws_orderbook_simple.json")).kind, MsgKind::orderbook);
}

TEST(UpbitParserCaptures, EverySimpleFrameParses) {
  ParserStats total;
  for (const char* name : {"upbit/2021-04-05_simple_orderbook_trade.events.jsonl",
                           "upbit/2021-04-17_simple_orderbook_trade.events.jsonl"}) {
    const fs::path path = test::data_dir() / name;
    SymbolMap m;
    std::string error;
    ASSERT_TRUE(discover_symbols(path.string(), m, error)) << error;
    UpbitParser p(m);
    auto reader = CaptureReader::open(path.string(), error);
    ASSERT_TRUE(reader);
    CaptureEvent e;
    while (reader->next(e)) {
      if (e.kind != CaptureKind::ws) continue;
      const ParsedFrame f = p.parse(e.msg);
      ASSERT_NE(f.kind, MsgKind::dropped)
          << name << " line " << reader->lines() << ": " << to_string(f.drop);
      if (f.kind == MsgKind::orderbook) {
        ASSERT_EQ(f.bids.size(), 15u);  // 2021: 15 levels
        book::L2Book b(venues::kUpbit, f.instrument);
        b.replace(f.bids, f.asks, 1, f.exchange_ns);
        ASSERT_FALSE(b.crossed()) << name << " line " << reader->lines();
      }
    }
    for (std::size_t k = 0; k < total.by_kind.size(); ++k) total.by_kind[k] += p.stats().by_kind[k];
  }
  EXPECT_EQ(total.count(MsgKind::dropped), 0u);
  EXPECT_EQ(total.count(MsgKind::orderbook), 1206u);
  EXPECT_EQ(total.count(MsgKind::trade), 976u);
}

}  // namespace
}  // namespace xarb::feed
