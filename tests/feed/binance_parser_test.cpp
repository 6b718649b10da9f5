#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include <xarb/feed/venues/binance_parser.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::feed {
namespace {

namespace fs = std::filesystem;

SymbolMap symbols() {
  SymbolMap m;
  EXPECT_EQ(m.add("BNB", {{venues::kBinance, "BNBUSDT"}}), Errc::ok);
  EXPECT_EQ(m.add("BNBBTC", {{venues::kBinance, "BNBBTC"}}), Errc::ok);
  EXPECT_EQ(m.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}), Errc::ok);
  return m;
}

std::string fixture(const char* name) {
  std::string s = test::read_file(test::source_dir() / "tests/data/binance" / name);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

Decimal d(std::string_view s) {
  Decimal v;
  EXPECT_EQ(Decimal::parse(s, v), Errc::ok);
  return v;
}

TEST(BinanceParser, DocumentedBookTicker) {
  const SymbolMap m = symbols();
  BinanceParser p(m);
  const ParsedFrame f = p.parse(fixture("ws_bookticker.json"));
  ASSERT_EQ(f.kind, MsgKind::book_ticker) << to_string(f.drop);
  EXPECT_EQ(f.instrument, m.find(venues::kBinance, "BNBUSDT"));
  EXPECT_EQ(f.last_id, 400900217u);
  ASSERT_EQ(f.bids.size(), 1u);
  EXPECT_EQ(f.bids[0].price, d("25.35190000"));
  EXPECT_EQ(f.bids[0].qty, d("31.21"));
  EXPECT_EQ(f.asks[0].price, d("25.3652"));
  EXPECT_EQ(f.asks[0].qty, d("40.66"));
}

TEST(BinanceParser, DocumentedDiffDepthOnARawStream) {
  const SymbolMap m = symbols();
  BinanceParser p(m);
  const ParsedFrame f = p.parse(fixture("ws_depthupdate.json"));
  ASSERT_EQ(f.kind, MsgKind::depth_diff) << to_string(f.drop);
  EXPECT_EQ(f.instrument, m.find(venues::kBinance, "BNBBTC"));
  EXPECT_EQ(f.first_id, 157u);
  EXPECT_EQ(f.last_id, 160u);
  EXPECT_EQ(f.exchange_ns, 1672515782136'000'000);
  ASSERT_EQ(f.bids.size(), 1u);
  EXPECT_EQ(f.bids[0].price, d("0.0024"));
  EXPECT_EQ(f.asks[0].qty, d("100"));
}

TEST(BinanceParser, PartialDepthTakesTheSymbolFromTheStreamName) {
  const SymbolMap m = symbols();
  BinanceParser p(m);
  const ParsedFrame f = p.parse(fixture("ws_partial_depth_combined.json"));
  ASSERT_EQ(f.kind, MsgKind::partial_depth) << to_string(f.drop);
  EXPECT_EQ(f.instrument, m.find(venues::kBinance, "BTCUSDT"));
  EXPECT_EQ(f.last_id, 160u);
  // On a raw stream the frame names no symbol: the connection's instrument is used.
  const ParsedFrame raw = p.parse(R"({"lastUpdateId":5,"bids":[],"asks":[["1","2"]]})");
  EXPECT_EQ(raw.kind, MsgKind::dropped);
  EXPECT_EQ(raw.drop, DropReason::unknown_symbol);
  p.set_raw_stream_instrument(m.find(venues::kBinance, "BNBUSDT"));
  const ParsedFrame raw2 = p.parse(R"({"lastUpdateId":5,"bids":[],"asks":[["1","2"]]})");
  EXPECT_EQ(raw2.kind, MsgKind::partial_depth);
  EXPECT_EQ(raw2.instrument, m.find(venues::kBinance, "BNBUSDT"));
}

TEST(BinanceParser, RecognisesRepliesErrorsAndCountedKinds) {
  const SymbolMap m = symbols();
  BinanceParser p(m);
  EXPECT_EQ(p.parse(R"({"result":null,"id":1})").kind, MsgKind::subscription);
  const ParsedFrame err = p.parse(R"({"code":-1121,"msg":"Invalid symbol."})");
  EXPECT_EQ(err.kind, MsgKind::venue_error);
  EXPECT_EQ(err.error_name.view(), "-1121");
  EXPECT_EQ(err.error_message.view(), "Invalid symbol.");
  EXPECT_EQ(p.parse(R"({"e":"aggTrade","E":1,"s":"BNBUSDT","a":5,"p":"1","q":"1"})").kind,
            MsgKind::trade);
  EXPECT_EQ(p.parse(R"({"stream":"bnbusdt@kline_1m","data":{"e":"kline","k":{}}})").kind,
            MsgKind::kline);
  EXPECT_EQ(p.stats().count(MsgKind::trade), 1u);
}

struct Bad {
  const char* name;
  std::string frame;
  DropReason reason;
};

class BinanceBadInput : public ::testing::TestWithParam<Bad> {};

TEST_P(BinanceBadInput, IsCountedAndDroppedNeverCrashes) {
  const SymbolMap m = symbols();
  BinanceParser p(m, 1 << 20);
  const ParsedFrame f = p.parse(GetParam().frame);
  EXPECT_EQ(f.kind, MsgKind::dropped);
  EXPECT_EQ(f.drop, GetParam().reason) << to_string(f.drop);
  EXPECT_EQ(p.stats().count(GetParam().reason), 1u);
  // The parser is still usable afterwards.
  EXPECT_EQ(p.parse(fixture("ws_bookticker.json")).kind, MsgKind::book_ticker);
}

std::string big_frame() {
  std::string s = R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[)";
  while (s.size() < 10 * 1024 * 1024) s += R"(["1.0","1.0"],)";
  s += R"(["1","1"]],"a":[]})";
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Frames, BinanceBadInput,
    ::testing::Values(
        Bad{"Empty", "", DropReason::malformed}, Bad{"NotJson", "hello", DropReason::malformed},
        Bad{"Truncated", R"({"u":400900217,"s":"BNBUSDT","b":"25.3519)", DropReason::malformed},
        Bad{"TruncatedDepth",
            R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1","2"],["3")",
            DropReason::malformed},
        Bad{"Array", "[1,2,3]", DropReason::wrong_type},
        Bad{"PriceAsObject", R"({"u":1,"s":"BNBUSDT","b":{},"B":"1","a":"2","A":"1"})",
            DropReason::wrong_type},
        Bad{"IdAsString", R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":"1","u":2,"b":[],"a":[]})",
            DropReason::wrong_type},
        Bad{"ThirtyDigitPrice",
            R"({"u":1,"s":"BNBUSDT","b":"123456789012345678901234567890","B":"1","a":"2","A":"1"})",
            DropReason::bad_number},
        Bad{"TooPrecise", R"({"u":1,"s":"BNBUSDT","b":"1.123456789","B":"1","a":"2","A":"1"})",
            DropReason::bad_number},
        Bad{"NegativeQty",
            R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1","-2"]],"a":[]})",
            DropReason::bad_number},
        Bad{"NegativeTickerPrice",
            R"({"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"-25.36520000","A":"40.66000000"})",
            DropReason::bad_number},
        Bad{"IdsBackwards", R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":5,"u":2,"b":[],"a":[]})",
            DropReason::bad_number},
        Bad{"MissingLastId", R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"b":[],"a":[]})",
            DropReason::missing_field},
        Bad{"ShortLevel",
            R"({"e":"depthUpdate","E":1,"s":"BNBBTC","U":1,"u":2,"b":[["1"]],"a":[]})",
            DropReason::missing_field},
        Bad{"UnknownSymbol", R"({"u":1,"s":"XRPUSDT","b":"1","B":"1","a":"2","A":"1"})",
            DropReason::unknown_symbol},
        Bad{"UnknownEvent", R"({"e":"outboundAccountPosition","E":1})", DropReason::unknown_type},
        Bad{"UnknownShape", R"({"hello":"world"})", DropReason::unknown_type},
        Bad{"StreamWithoutData", R"({"stream":"bnbusdt@bookTicker"})", DropReason::missing_field},
        Bad{"TenMegabytes", big_frame(), DropReason::oversized}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// Every Binance capture in data/ parses with zero errors; counts per type asserted.
TEST(BinanceParserCaptures, EveryFrameOfEveryCaptureParses) {
  ParserStats total;
  std::uint64_t snapshots = 0;
  for (const auto& entry : fs::directory_iterator(test::data_dir() / "binance")) {
    const std::string name = entry.path().filename().string();
    if (name.find(".events.jsonl") == std::string::npos) continue;
    SymbolMap m;
    std::string error;
    ASSERT_TRUE(discover_symbols(entry.path().string(), m, error)) << error;
    BinanceParser p(m);
    auto reader = CaptureReader::open(entry.path().string(), error);
    ASSERT_TRUE(reader) << error;
    CaptureEvent e;
    while (reader->next(e)) {
      ASSERT_NE(e.kind, CaptureKind::malformed) << name << " line " << reader->lines();
      if (e.kind == CaptureKind::ws) {
        const ParsedFrame f = p.parse(e.msg);
        ASSERT_NE(f.kind, MsgKind::dropped)
            << name << " line " << reader->lines() << ": " << to_string(f.drop) << "\n"
            << e.msg.substr(0, 300);
      } else if (e.kind == CaptureKind::http) {
        const std::size_t at = e.url.find("symbol=");
        const ParsedFrame f = p.parse_depth_snapshot(
            e.msg, m.find(venues::kBinance, e.url.substr(at + 7, e.url.find('&', at) - at - 7)));
        ASSERT_EQ(f.kind, MsgKind::depth_snapshot) << name << ": " << to_string(f.drop);
        ++snapshots;
      }
    }
    for (std::size_t k = 0; k < total.by_kind.size(); ++k) total.by_kind[k] += p.stats().by_kind[k];
  }
  EXPECT_EQ(total.count(MsgKind::dropped), 0u);
  EXPECT_EQ(total.count(MsgKind::depth_diff), 8734u);
  EXPECT_EQ(total.count(MsgKind::book_ticker), 6474u);
  EXPECT_EQ(total.count(MsgKind::trade), 3204u);
  EXPECT_EQ(total.count(MsgKind::kline), 157u);
  EXPECT_EQ(total.count(MsgKind::depth_snapshot), 31u);
  EXPECT_EQ(snapshots, 31u);
  std::printf("simdjson kernel: %.*s\n", static_cast<int>(json_kernel().size()),
              json_kernel().data());
}

}  // namespace
}  // namespace xarb::feed
