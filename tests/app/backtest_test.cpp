// `xarb backtest` on the committed recording of xarb-sim's synthetic market
// (data/sim/synthetic_3venues_5min.jsonl.gz, made with configs/backtest.toml): the same report byte
// for byte on every run, a journal `xarb journal` reads and marks as a backtest, the latency model
// read back from that journal, and every kind of bad capture refused with its file and line.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <unistd.h>

#include <gtest/gtest.h>
#include <zlib.h>

#include <xarb/app/backtest.hpp>
#include <xarb/app/backtest_command.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/app/journal_commands.hpp>

#include "test_support.hpp"

namespace xarb::app {
namespace {

namespace fs = std::filesystem;

fs::path recording() { return test::data_dir() / "sim" / "synthetic_3venues_5min.jsonl.gz"; }
fs::path config_path() { return test::data_dir().parent_path() / "configs" / "backtest.toml"; }

fs::path scratch(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb_backtest_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

Config load(const fs::path& path) {
  const LoadResult r = load_config(path.string());
  EXPECT_TRUE(r.ok());
  return r.config;
}

// The recording's first `count` lines, uncompressed.
std::vector<std::string> head(std::size_t count) {
  std::vector<std::string> lines;
  gzFile f = gzopen(recording().c_str(), "rb");
  EXPECT_NE(f, nullptr);
  std::string line;
  char chunk[65536];
  while (lines.size() < count && gzgets(f, chunk, sizeof chunk) != nullptr) {
    line += chunk;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      lines.push_back(line);
      line.clear();
    }
  }
  gzclose(f);
  return lines;
}

void write_lines(const fs::path& path, const std::vector<std::string>& lines,
                 const std::string& tail = {}) {
  std::ofstream out(path);
  for (const std::string& l : lines) out << l << '\n';
  out << tail;
}

int command(const std::vector<std::string>& captures, const fs::path& out_dir, std::string& err,
            const fs::path& config = config_path()) {
  BacktestArgs a;
  a.config = config.string();
  a.captures = captures;
  a.out_dir = out_dir.string();
  std::ostringstream out, e;
  const int rc = backtest_command(a, out, e);
  err = e.str();
  return rc;
}

TEST(Backtest, TheSameInputsGiveTheSameReportByteForByte) {
  const Config config = load(config_path());
  BacktestOptions o;
  o.captures = {recording().string()};
  o.seed = 7;
  o.quiet = true;
  // Drawn round trips: the draws are part of what must repeat.
  o.latency.samples[index(venues::kBinance)] = {2'000'000, 9'000'000, 30'000'000};
  o.latency.constant_ns[index(venues::kUpbit)] = 15'000'000;
  std::ostringstream out, err;
  o.out_dir = scratch("first");
  const BacktestResult a = run_backtest(config, o, out, err);
  ASSERT_EQ(a.exit_code, 0) << err.str();
  o.out_dir = scratch("second");
  const BacktestResult b = run_backtest(config, o, out, err);
  ASSERT_EQ(b.exit_code, 0) << err.str();
  for (const char* f : {"report.json", "report.txt", "trades.csv"}) {
    const std::string x = test::read_file(scratch("first") / f);
    EXPECT_FALSE(x.empty()) << f;
    EXPECT_EQ(x, test::read_file(scratch("second") / f)) << f;
  }
  // It traded: the strategy entered and exited on the recorded market, on every pair's venues.
  EXPECT_EQ(a.report.mode, "backtest");
  EXPECT_GT(a.report.entries, 5u);
  EXPECT_GT(a.report.closed, 3u);
  EXPECT_EQ(a.report.broken, 0u);
  for (const Venue v : {venues::kBinance, venues::kUpbit, venues::kBithumb}) {
    EXPECT_GT(a.report.venues[index(v)].frames, 1000u) << to_string(v);
    EXPECT_EQ(a.report.venues[index(v)].dropped_frames, 0u) << to_string(v);
  }
  // The latencies drawn are the model's: Binance's from its three samples, Upbit's constant.
  for (const LatencyReport& l : a.report.latencies) {
    if (l.name == "order_upbit") {
      EXPECT_EQ(l.max_ns, 15'000'000) << l.name;
    }
    if (l.name == "order_binance") {
      EXPECT_GT(l.count, 0u);
      EXPECT_LE(l.max_ns, 30'500'000);
      EXPECT_GE(l.p50_ns, 1'900'000);
    }
  }
  // The plots: each pair's premium per symbol, PnL and drawdown, the round trips drawn; their
  // data always, the PNGs where gnuplot is installed (scripts/install-deps installs it).
  const fs::path plots = scratch("first") / "plots";
  EXPECT_NE(test::read_file(plots / "premium-upbit-bithumb-ETH-marks.dat").find('\n'),
            std::string::npos);
  EXPECT_GT(fs::file_size(plots / "pnl.dat"), 100u);
  if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) {
    for (const char* png : {"premium-upbit-binance-BTC.png", "premium-bithumb-binance-ETH.png",
                            "pnl.png", "latency.png"}) {
      EXPECT_TRUE(fs::exists(plots / png)) << png;
    }
  }
  // One row per position in trades.csv.
  const std::string csv = test::read_file(scratch("first") / "trades.csv");
  EXPECT_EQ(static_cast<std::uint64_t>(std::count(csv.begin(), csv.end(), '\n')),
            a.report.opened + 1);

  // Another seed draws other Binance round trips.
  o.seed = 8;
  o.out_dir = scratch("other_seed");
  ASSERT_EQ(run_backtest(config, o, out, err).exit_code, 0) << err.str();
  EXPECT_NE(test::read_file(scratch("first") / "report.json"),
            test::read_file(scratch("other_seed") / "report.json"));
}

// The backtest's journal is one `xarb journal` reads, marked as a backtest; its order round trips
// export as the CSV a later backtest draws from.
TEST(Backtest, WritesAJournalMarkedAsABacktestWhoseLatenciesExport) {
  std::string err;
  ASSERT_EQ(command({recording().string()}, scratch("journal"), err), 0) << err;
  Journal j(scratch("journal") / "backtest.sqlite", Journal::read_only);
  EXPECT_EQ(j.runs_of_mode("backtest"), 1u);
  EXPECT_EQ(j.runs_of_mode("live") + j.runs_of_mode("paper"), 0u);
  EXPECT_GT(j.fills().size(), 10u);
  std::ostringstream summary;
  print_summary(j, summary);
  EXPECT_NE(summary.str().find("backtest"), std::string::npos) << summary.str();

  std::ostringstream csv, csv_err;
  ASSERT_TRUE(print_latency(j, csv, csv_err, 0)) << csv_err.str();
  std::ofstream(scratch("latency.csv")) << csv.str();
  LatencyModel model;
  std::string error;
  ASSERT_TRUE(read_latency_csv(scratch("latency.csv").string(), model, error)) << error;
  std::size_t samples = 0;
  for (const auto& s : model.samples) samples += s.size();
  EXPECT_EQ(samples, j.order_latencies(j.last_run_id()).size());
  EXPECT_GT(samples, 10u);

  // A journal of live or paper runs is never written into by a backtest.
  BacktestArgs a;
  a.config = config_path().string();
  a.captures = {recording().string()};
  a.out_dir = scratch("refused").string();
  a.journal = scratch("live.sqlite").string();
  {
    Journal live(scratch("live.sqlite"));
    live.begin_run(1, 1, "live", "", SymbolMap{});
  }
  std::ostringstream out, e;
  EXPECT_NE(backtest_command(a, out, e), 0);
  EXPECT_NE(e.str().find("holds live run 1"), std::string::npos) << e.str();
}

TEST(Backtest, ATruncatedCaptureIsNamedWithItsLine) {
  std::vector<std::string> lines = head(400);
  const std::string cut = lines.back().substr(0, lines.back().size() / 2);
  lines.pop_back();
  write_lines(scratch("truncated.jsonl"), lines, cut);
  std::string err;
  EXPECT_EQ(command({scratch("truncated.jsonl").string()}, scratch("t"), err), 2);
  EXPECT_NE(err.find("truncated.jsonl:400: not a capture record"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(scratch("t") / "report.json"));
}

TEST(Backtest, AFrameOutOfOrderIsNamedWithItsLine) {
  std::vector<std::string> lines = head(400);
  // Line 300 received a minute before line 299.
  std::string& l = lines[299];
  const std::size_t ts = l.find("\"ts\":") + 5;
  const std::size_t dot = l.find('.', ts);
  const long long s = std::stoll(l.substr(ts, dot - ts));
  l.replace(ts, dot - ts, std::to_string(s - 60));
  write_lines(scratch("disorder.jsonl"), lines);
  std::string err;
  EXPECT_EQ(command({scratch("disorder.jsonl").string()}, scratch("d"), err), 2);
  EXPECT_NE(err.find("disorder.jsonl:300: out of order"), std::string::npos) << err;
}

// A config whose symbols or venues the recording does not hold is refused before anything runs.
TEST(Backtest, ARecordingOfAnotherSymbolSetOrWithoutAVenueIsRefused) {
  std::string text = test::read_file(config_path());
  const fs::path sol = scratch("sol.toml");
  std::ofstream(sol) << text << "\n[[symbols]]\nbase = \"SOL\"\ntrade_qty = \"1\"\n"
                     << "max_position_qty = \"5\"\n";
  std::string err;
  EXPECT_EQ(command({recording().string()}, scratch("s"), err, sol), 2);
  EXPECT_NE(err.find("synthetic_3venues_5min.jsonl.gz:1: the config's symbol SOL is not in the "
                     "recording (it holds BTC, ETH)"),
            std::string::npos)
      << err;
  // The recording's header without Bithumb, the config trading it.
  std::vector<std::string> lines = head(200);
  const std::size_t at = lines[0].find(",{\"venue\":\"bithumb\"");
  ASSERT_NE(at, std::string::npos) << lines[0];
  lines[0].erase(at, lines[0].find('}', at) - at + 1);
  write_lines(scratch("two.jsonl"), lines);
  EXPECT_EQ(command({scratch("two.jsonl").string()}, scratch("v"), err), 2);
  EXPECT_NE(err.find("two.jsonl:1: the config trades bithumb, which the recording does not hold"),
            std::string::npos)
      << err;
}

TEST(Backtest, BadLatencyOptionsAreRefused) {
  BacktestArgs a;
  a.config = config_path().string();
  a.captures = {recording().string()};
  a.latency = {"nowhere=5"};
  std::ostringstream out, err;
  EXPECT_EQ(backtest_command(a, out, err), 2);
  EXPECT_NE(err.str().find("--latency nowhere=5: expected VENUE=MS"), std::string::npos);
  std::ofstream(scratch("bad.csv")) << "venue,action,latency_ns\nbinance,place,fast\n";
  a.latency.clear();
  a.latency_from = scratch("bad.csv").string();
  std::ostringstream e2;
  EXPECT_EQ(backtest_command(a, out, e2), 2);
  EXPECT_NE(e2.str().find("bad.csv:2: latency_ns must be a positive integer"), std::string::npos)
      << e2.str();
}

}  // namespace
}  // namespace xarb::app
