#include <filesystem>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include <xarb/app/replay_command.hpp>

#include "test_support.hpp"

namespace xarb::app {
namespace {

namespace fs = std::filesystem;

fs::path capture(const char* name) { return test::data_dir() / name; }

fs::path out_file(const char* name) {
  return fs::temp_directory_path() /
         (std::string("xarb_replay_") + std::to_string(::getpid()) + name);
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(ReplayCommand, EmitsTheSameBooksOnEveryRun) {
  ReplayOptions o;
  o.input = capture("binance/2021-04-04_btcusdt_ethusdt_dotusdt_depth_aggtrade.events.jsonl");
  o.emit_books = out_file("a.jsonl");
  std::ostringstream out, err;
  ASSERT_EQ(run_replay(o, out, err), 0) << err.str();
  const std::string first = test::read_file(o.emit_books);
  EXPECT_NE(out.str().find("gaps 0"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("dropped"), std::string::npos) << out.str();
  o.emit_books = out_file("b.jsonl");
  ASSERT_EQ(run_replay(o, out, err), 0) << err.str();
  const std::string second = test::read_file(o.emit_books);
  EXPECT_EQ(first, second);
  EXPECT_GT(count_lines(first), 500u);
  // Every line names a configured symbol and carries exact decimal strings.
  EXPECT_NE(first.find(R"({"venue":"binance","symbol":"BTCUSDT","seq":)"), std::string::npos);
  EXPECT_EQ(first.find("e+"), std::string::npos);  // never a float rendering
  fs::remove(out_file("a.jsonl"));
  fs::remove(out_file("b.jsonl"));
}

TEST(ReplayCommand, BookTickerSourceBuildsOneLevelBooks) {
  ReplayOptions o;
  o.input = capture("binance/2021-04-05_10sym_bookticker_depth_aggtrade.events.jsonl");
  o.emit_books = out_file("t.jsonl");
  o.books = {"binance=book_ticker"};
  std::ostringstream out, err;
  ASSERT_EQ(run_replay(o, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("books from binance=book_ticker upbit=orderbook"), std::string::npos)
      << out.str();
  const std::string books = test::read_file(o.emit_books);
  EXPECT_NE(books.find(R"("levels":[1,1])"), std::string::npos);
  EXPECT_EQ(books.find(R"("levels":[10,10])"), std::string::npos);
  fs::remove(o.emit_books);
}

TEST(ReplayCommand, UpbitCapturesReplayToo) {
  ReplayOptions o;
  o.input = capture("upbit/2021-04-17_simple_orderbook_trade.events.jsonl");
  std::ostringstream out, err;
  ASSERT_EQ(run_replay(o, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("upbit: orderbook="), std::string::npos) << out.str();
}

TEST(ReplayCommand, BadOptionsAreRejectedBeforeAnythingRuns) {
  std::ostringstream out, err;
  ReplayOptions o;
  o.input = "/nonexistent/capture.jsonl";
  EXPECT_EQ(run_replay(o, out, err), 2);
  EXPECT_NE(err.str().find("cannot open capture /nonexistent/capture.jsonl"), std::string::npos)
      << err.str();
  o.input = capture("upbit/2021-04-17_simple_orderbook_trade.events.jsonl");
  o.books = {"binance=depth9000"};
  err.str("");
  EXPECT_EQ(run_replay(o, out, err), 2);
  EXPECT_NE(err.str().find("--book binance=depth9000: binance's books are built from one of "
                           "diff_depth, partial_depth, book_ticker"),
            std::string::npos)
      << err.str();
  o.books = {"kraken=book_ticker"};
  err.str("");
  EXPECT_EQ(run_replay(o, out, err), 2);
  EXPECT_NE(err.str().find("--book takes VENUE=STREAM with a venue this build knows, not "
                           "\"kraken=book_ticker\""),
            std::string::npos)
      << err.str();
}

}  // namespace
}  // namespace xarb::app
