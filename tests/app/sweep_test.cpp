// `xarb sweep` on the first part of the committed recording (data/sim/...5min.jsonl.gz): a
// two-key grid with a walk-forward split prints its tables and draws its heat maps, and the same
// sweep emitted as jobs, run by GNU parallel and merged, gives the same table.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <zlib.h>

#include <xarb/app/sweep_command.hpp>

#include "test_support.hpp"

namespace xarb::app {
namespace {

namespace fs = std::filesystem;

fs::path dir() {
  const fs::path d = fs::temp_directory_path() / ("xarb_sweep_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

// The recording's first `count` lines (about two minutes), uncompressed.
fs::path short_recording(std::size_t count) {
  const fs::path out = dir() / "short.jsonl";
  if (fs::exists(out)) return out;
  gzFile f = gzopen((test::data_dir() / "sim" / "synthetic_3venues_5min.jsonl.gz").c_str(), "rb");
  EXPECT_NE(f, nullptr);
  std::ofstream o(out);
  char chunk[65536];
  std::size_t lines = 0;
  while (lines < count && gzgets(f, chunk, sizeof chunk) != nullptr) {
    o << chunk;
    const std::string_view c(chunk);
    if (!c.empty() && c.back() == '\n') ++lines;
  }
  gzclose(f);
  return out;
}

SweepArgs grid(const std::string& out_dir) {
  SweepArgs a;
  a.config = (test::data_dir().parent_path() / "configs" / "backtest.toml").string();
  a.captures = {short_recording(6000).string()};
  a.sets = {"strategy.entry_bps=30:50:20", "strategy.timeout_s=10,40"};
  a.walk_forward = 0.5;
  a.threads = 2;
  a.out_dir = (dir() / out_dir).string();
  a.xarb = XARB_BINARY;
  return a;
}

TEST(Sweep, TwoKeysWalkForwardPrintTheirTablesAndDrawHeatMaps) {
  const SweepArgs a = grid("in_process");
  std::ostringstream out, err;
  ASSERT_EQ(sweep_command(a, out, err), 0) << err.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("8 backtests on 2 threads"), std::string::npos) << text;
  EXPECT_NE(text.find("in sample (the first 50 % of the recording)"), std::string::npos) << text;
  EXPECT_NE(text.find("out of sample (the rest)"), std::string::npos);
  EXPECT_NE(text.find("chosen in sample: strategy.entry_bps="), std::string::npos);
  // Four variants, each in a row of both tables: entry_bps then timeout_s, slowest first.
  for (const char* row : {"30                 10", "30                 40", "50                 10",
                          "50                 40"}) {
    std::size_t n = 0;
    for (std::size_t at = text.find(row); at != std::string::npos; at = text.find(row, at + 1)) ++n;
    EXPECT_EQ(n, 2u) << row << "\n" << text;
  }
  const std::string csv = test::read_file(fs::path(a.out_dir) / "sweep.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 9) << csv;  // header, 4 in, 4 out
  if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) {
    EXPECT_GT(fs::file_size(fs::path(a.out_dir) / "heatmap.png"), 1000u);
    EXPECT_GT(fs::file_size(fs::path(a.out_dir) / "heatmap-out.png"), 1000u);
  }
}

TEST(Sweep, JobsRunByGnuParallelMergeIntoTheSameTable) {
  if (std::system("command -v parallel > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "GNU parallel is not installed (scripts/install-deps installs it)";
  }
  const SweepArgs in_process = grid("reference");
  std::ostringstream out, err;
  ASSERT_EQ(sweep_command(in_process, out, err), 0) << err.str();

  SweepArgs emit = grid("jobs");
  emit.emit_jobs = (dir() / "jobs.txt").string();
  ASSERT_EQ(sweep_command(emit, out, err), 0) << err.str();
  const std::string jobs = test::read_file(emit.emit_jobs);
  EXPECT_EQ(std::count(jobs.begin(), jobs.end(), '\n'), 8) << jobs;
  EXPECT_NE(jobs.find(" backtest --config '/"), std::string::npos) << jobs;  // absolute paths
  const std::string run = "parallel --will-cite -j 2 --halt now,fail=1 < '" + emit.emit_jobs + "'";
  ASSERT_EQ(std::system(run.c_str()), 0) << run;

  SweepArgs merge = grid("merged");
  merge.merge = emit.out_dir;
  std::ostringstream merged, merge_err;
  ASSERT_EQ(sweep_command(merge, merged, merge_err), 0) << merge_err.str();
  EXPECT_EQ(test::read_file(fs::path(emit.out_dir) / "sweep.txt"),
            test::read_file(fs::path(in_process.out_dir) / "sweep.txt"));
  EXPECT_EQ(test::read_file(fs::path(emit.out_dir) / "sweep.csv"),
            test::read_file(fs::path(in_process.out_dir) / "sweep.csv"));

  // A folder of another sweep's variants is not taken for this one's.
  SweepArgs other = grid("other");
  other.sets = {"strategy.entry_bps=35:55:20", "strategy.timeout_s=10,40"};
  other.merge = emit.out_dir;
  std::ostringstream o2, e2;
  EXPECT_EQ(sweep_command(other, o2, e2), 2);
  EXPECT_NE(e2.str().find("not this sweep's variant"), std::string::npos) << e2.str();
}

TEST(Sweep, BadRangesAndKeysAreRefusedBeforeAnythingRuns) {
  SweepArgs a = grid("bad");
  a.sets = {"strategy.entry_bps=50:30:10"};
  std::ostringstream out, err;
  EXPECT_EQ(sweep_command(a, out, err), 2);
  EXPECT_NE(err.str().find("FROM <= TO and STEP > 0"), std::string::npos) << err.str();
  a.sets = {"strategy.entry_pbs=30:50:10"};
  std::ostringstream e2;
  EXPECT_EQ(sweep_command(a, out, e2), 2);
  EXPECT_NE(e2.str().find("--set strategy.entry_pbs=30: "), std::string::npos) << e2.str();
  EXPECT_FALSE(fs::exists(fs::path(a.out_dir) / "v001"));
}

}  // namespace
}  // namespace xarb::app
