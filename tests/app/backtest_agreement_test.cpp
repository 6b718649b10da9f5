// The proof of the backtest: a live run against xarb-sim records what it receives (xarb run
// --record), and a backtest of that recording, its latency model the run's own round trips
// (xarb journal latency), decides the entries the run decided. Measured here on a short run;
// the 10-minute figures are in bench/RESULTS.md.

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <xarb/app/backtest.hpp>
#include <xarb/app/backtest_command.hpp>
#include <xarb/app/journal_commands.hpp>

#include "engine_fixture.hpp"

namespace xarb::app {
namespace {

TEST_F(EngineTest, ABacktestOfTheRunsOwnRecordingDecidesItsEntries) {
  start_sim(sim_options(42));
  const fs::path recording = dir_ / "recording.jsonl";
  const RunResult r = run(config(), 20s, /*flatten=*/true, closed_one, recording.string());
  ASSERT_EQ(r.exit_code, 0) << r.error;
  ASSERT_GT(r.report.entries, 0u);

  // The recording says what it holds and holds what the run received.
  feed::RecordingHeader header;
  bool found = false;
  std::ostringstream header_err;
  ASSERT_TRUE(read_recording_header(recording.string(), header, found, header_err));
  ASSERT_TRUE(found);
  EXPECT_EQ(header.recorder, "xarb run");
  const std::string text = slurp(recording);
  std::size_t frames = 0;
  for (std::size_t at = text.find("{\"t\":\"ws\""); at != std::string::npos;
       at = text.find("{\"t\":\"ws\"", at + 1)) {
    ++frames;
  }
  EXPECT_EQ(frames, r.report.venues[index(venues::kBinance)].frames +
                        r.report.venues[index(venues::kUpbit)].frames)
      << "every frame the feed received is in the recording";
  EXPECT_NE(text.find("/api/v3/exchangeInfo"), std::string::npos) << "the rules are kept";
  EXPECT_NE(text.find("{\"t\":\"control\""), std::string::npos) << "and the stop";

  // The run's round trips, as xarb journal latency exports them.
  {
    Journal j(dir_ / "journal.sqlite", Journal::read_only);
    std::ofstream csv(dir_ / "latency.csv");
    std::ostringstream e;
    ASSERT_TRUE(print_latency(j, csv, e, r.report.run_id)) << e.str();
  }
  std::ofstream(dir_ / "config.toml") << config_text();
  BacktestArgs a;
  a.config = (dir_ / "config.toml").string();
  a.captures = {recording.string()};
  a.latency_from = (dir_ / "latency.csv").string();
  a.out_dir = (dir_ / "backtest").string();
  a.compare_journal = (dir_ / "journal.sqlite").string();
  a.quiet = true;
  a.plots = false;
  // Under the sanitizers on a shared 2-core machine the live run is slower than it would be
  // (its book ring can overflow, which a backtest does not reproduce): the bar here is half the
  // entries, the targets of the 10-minute measurement are checked by hand (bench/RESULTS.md).
  a.min_match = 50;
  a.max_extra = r.report.entries;
  a.max_pnl_diff = 1e9;
  std::ostringstream out, err;
  const int rc = backtest_command(a, out, err);
  std::cout << out.str() << err.str();
  ASSERT_EQ(rc, 0) << err.str();
  const nlohmann::json agreement =
      nlohmann::json::parse(slurp(dir_ / "backtest" / "agreement.json"));
  EXPECT_EQ(agreement["live_run"].get<std::uint64_t>(), r.report.run_id);
  EXPECT_EQ(agreement["live_entries"].get<std::uint64_t>(), r.report.entries);
  EXPECT_GE(agreement["match_pct"].get<double>(), 50.0) << agreement.dump(2);
  EXPECT_TRUE(agreement["met"].get<bool>());
  EXPECT_NE(out.str().find("agreement with live run"), std::string::npos);
}

}  // namespace
}  // namespace xarb::app
