// Restarts: a run killed with -9 or stopped with SIGTERM, orders an earlier run sent without
// journaling them, paper and live runs on one journal, a journal that cannot be written, and a
// balance difference found at start that only an operator's acceptance lifts.

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <xarb/app/ctl_commands.hpp>
#include <xarb/app/journal_commands.hpp>
#include <xarb/app/metrics.hpp>
#include <xarb/app/reconciler.hpp>

#include "engine_fixture.hpp"

namespace xarb::app {
namespace {

// The real binary, killed with SIGKILL while trading, then restarted on the same journal: the
// restart restores what was open, resolves intents whose answers were lost with the process by
// querying their client ids, and closes everything; no fill is lost or counted twice.
TEST_F(EngineTest, KillNineThenRestartLosesNothing) {
  start_sim(sim_options(11));
  const fs::path cfg = dir_ / "run.toml";
  std::ofstream(cfg) << config_text();
  const auto launch = [&](const std::string& duration, bool flatten) {
    return spawn(cfg, duration, flatten, dir_ / ("run-" + duration + ".log"));
  };

  // Run until the journal shows an open position, then kill -9.
  const pid_t first = launch("60s", false);
  ASSERT_GT(first, 0);
  bool open_seen = false;
  for (int k = 0; k < 400 && !open_seen; ++k) {
    std::this_thread::sleep_for(100ms);
    if (!fs::exists(dir_ / "journal.sqlite")) continue;
    try {
      Journal j(dir_ / "journal.sqlite");
      open_seen = j.totals().open > 0;
    } catch (const std::exception&) {
    }
  }
  ASSERT_TRUE(open_seen) << "no position opened within 40 s";
  ASSERT_EQ(kill(first, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(first, &status, 0), first);
  ASSERT_TRUE(WIFSIGNALED(status));

  std::uint64_t open_before = 0;
  {
    Journal j(dir_ / "journal.sqlite");
    open_before = j.totals().open;
  }
  const pid_t second = launch("8s", true);
  ASSERT_GT(second, 0);
  ASSERT_EQ(waitpid(second, &status, 0), second);
  std::ifstream log(dir_ / "run-8s.log");
  std::stringstream text;
  text << log.rdbuf();
  std::printf("%s", text.str().c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(text.str().find("restore: position"), std::string::npos) << "positions restored";
  // Killed just after a position opened: the restart waits out the venues' grace before reading
  // the orders (one may still have been on its way to a venue).
  EXPECT_NE(text.str().find("before reading its orders (a venue may still accept one)"),
            std::string::npos);

  Journal j(dir_ / "journal.sqlite");
  const JournalTotals t = j.totals();
  EXPECT_GE(open_before, 1u);
  EXPECT_EQ(t.open, t.broken) << "every restored position closed unless BROKEN";
  EXPECT_EQ(t.broken, 0u);
  EXPECT_EQ(t.runs, 2u);
  expect_balances_match_journal();

  // `xarb journal` reads the same journal.
  const std::string cmd = std::string(XARB_BINARY) + " journal summary --journal " +
                          (dir_ / "journal.sqlite").string() + " > " +
                          (dir_ / "summary.txt").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const std::string summary = slurp(dir_ / "summary.txt");
  EXPECT_NE(summary.find("runs 2,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("did not end cleanly"), std::string::npos) << "the killed run" << summary;
  const std::string positions_cmd =
      std::string(XARB_BINARY) + " journal positions --all --journal " +
      (dir_ / "journal.sqlite").string() + " > " + (dir_ / "positions.txt").string();
  ASSERT_EQ(std::system(positions_cmd.c_str()), 0);
  EXPECT_NE(slurp(dir_ / "positions.txt").find("closed"), std::string::npos);
}

// A run killed between sending an intent's orders and journaling the intent leaves orders no
// journal row names: the restart looks up the ids after the last journaled intent. An id without
// orders (an intent exec refused, or one never sent) does not end the search: here intent 1 sent
// nothing and intent 2 bought 0.01 BTC on Binance.
TEST_F(EngineTest, AnUnjournaledOrderIsFoundPastAnIntentThatSentNothing) {
  LoadResult c;
  ASSERT_NO_FATAL_FAILURE(c = start_after_an_unjournaled_buy(kDeadRun));
  const RunResult r = run(c.config, 3s, /*flatten=*/true);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  Journal j(dir_ / "journal.sqlite");
  bool found = false;
  for (const JournalFill& f : j.fills(kDeadRun)) {
    found = found || (f.intent_id == 2 && f.venue == venues::kBinance && f.side == Side::buy &&
                      f.qty == test::d("0.01"));
  }
  EXPECT_TRUE(found) << "intent 2's fill recovered from the venue";
  EXPECT_EQ(r.report.broken, 1u) << "the recovered position is BROKEN (and closed)";
  expect_balances_match_journal();
}

// The same window one run further back: the run that sent the unjournaled order was killed, and so
// was the next one, while it waited out the venues' grace before searching (it searched nothing and
// recorded no balances). The third start searches both, finds the first one's order, and its
// balance check stands on the first run's balances plus the recovered fill: no difference.
TEST_F(EngineTest, AnUnjournaledOrderOfTheRunBeforeTheLastIsFound) {
  const sim::SimOptions so = sim_options(9);
  start_sim(so);
  LoadResult c = parse_config(config_text(), "engine_test.toml", dir_);
  ASSERT_TRUE(c.ok()) << c.errors[0].to_string();
  const SymbolMap symbols = build_symbol_map(c.config);
  const std::uint64_t sent = 1'700'000'000'000;
  const std::uint64_t waited = sent + 1'000;
  begin_live_run(symbols, sent, clock::wall_ns() - 40'000'000'000);
  ASSERT_NO_FATAL_FAILURE(buy_without_journaling(c.config, symbols, so, sent, 1));
  {
    Journal j(dir_ / "journal.sqlite");
    j.begin_run(waited, clock::wall_ns() - 30'000'000'000, "live", "", symbols);
    ASSERT_EQ(j.unsearched_runs(waited + 1, "live"), (std::vector<std::uint64_t>{sent, waited}));
  }
  const RunResult r = run(c.config, 3s, /*flatten=*/true);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  Journal j(dir_ / "journal.sqlite");
  bool found = false;
  for (const JournalFill& f : j.fills(sent)) {
    found = found || (f.intent_id == 1 && f.venue == venues::kBinance && f.side == Side::buy &&
                      f.qty == test::d("0.01"));
  }
  EXPECT_TRUE(found) << "the first run's fill recovered from the venue";
  EXPECT_EQ(r.report.broken, 1u) << "the recovered position is BROKEN (and closed)";
  // The start-up check found no difference: had it found one, this run's baseline would be what
  // the journal explains, 0.01 BTC short of what Binance holds.
  for (const sim::AccountSpec& a : sim_->summary().accounts) {
    if (a.venue != venues::kBinance || a.key != std::getenv("XARB_BINANCE_API_KEY")) continue;
    Decimal expected;
    ASSERT_TRUE(j.expected_balance(r.report.run_id, venues::kBinance, "BTC", expected));
    EXPECT_EQ(expected.mantissa(), a.balances.at("BTC"));
  }
  EXPECT_TRUE(j.unsearched_runs(UINT64_MAX, "live").empty()) << "both runs marked searched";
  expect_balances_match_journal();
}

// SIGTERM (and SIGINT) end a run the orderly way: entries stop, --flatten-on-exit closes what is
// open, the report and the journal are written, exit code 0.
TEST_F(EngineTest, SigtermStopsTheRunCleanly) {
  start_sim(sim_options(3));
  const fs::path cfg = dir_ / "run.toml";
  std::ofstream(cfg) << config_text();
  const fs::path log = dir_ / "term.log";
  const pid_t pid = spawn(cfg, "0", true, log);
  ASSERT_GT(pid, 0);
  bool trading = false;
  for (int k = 0; k < 300 && !trading; ++k) {
    std::this_thread::sleep_for(100ms);
    trading = slurp(log).find("trading:") != std::string::npos;
  }
  ASSERT_TRUE(trading) << slurp(log);
  std::this_thread::sleep_for(3s);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  const std::string text = slurp(log);
  ASSERT_TRUE(WIFEXITED(status)) << text;
  EXPECT_EQ(WEXITSTATUS(status), 0) << text;
  EXPECT_NE(text.find("stopping: no new entries, closing open positions"), std::string::npos);
  EXPECT_NE(text.find("== xarb run"), std::string::npos) << "the report";
  EXPECT_TRUE(fs::exists(dir_ / "report.json"));
  Journal j(dir_ / "journal.sqlite");
  EXPECT_EQ(j.totals().open, 0u);
  EXPECT_EQ(j.totals().runs, 1u);
}

// Paper and live never share positions. A live run leaves positions open; the same config run
// without --live (the easy slip) is refused before anything connects; with --share-journal the
// paper run neither restores nor closes the live positions, and the next live run still finds
// them and closes them with real orders.
TEST_F(EngineTest, PaperAndLiveNeverShareAJournalsPositions) {
  start_sim(sim_options(42));
  // The live run must end with a position open. With the demo's exits a position opened just
  // before the run was told to stop could still close while it winds down (a reversal within
  // the drain: seen in a fresh-clone CI run); here no exit fires on its own.
  EngineSettings no_exits;
  no_exits.take_profit_bps = 10000;
  no_exits.stop_loss_bps = 10000;
  no_exits.reversal_bps = -10000;
  no_exits.timeout_s = 3600;
  const LoadResult live_config = parsed(no_exits);
  ASSERT_TRUE(live_config.ok()) << live_config.errors[0].to_string();
  const RunResult first = run(live_config.config, 3s, /*flatten=*/false,
                              [](const JournalTotals& t) { return t.open > 0; });
  ASSERT_EQ(first.exit_code, 0) << first.error;
  std::uint64_t live_open = 0;
  {
    Journal j(dir_ / "journal.sqlite");
    live_open = j.totals().open;
  }
  ASSERT_GT(live_open, 0u) << "the live run left a position open";
  std::uint64_t sim_orders = 0;
  for (const auto& [outcome, n] : sim_->summary().exchange.orders_by_outcome) sim_orders += n;

  RunOptions paper;
  paper.duration = 4s;
  paper.flatten_on_exit = true;
  paper.report_dir = dir_;
  std::atomic<bool> stop{false};
  std::ostringstream out, err;
  const RunResult refused = run_engine(config(), paper, stop, out, err);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(
      refused.error.find("holds 1 live run; a paper run does not use it (did you mean --live?)"),
      std::string::npos)
      << refused.error;
  {
    Journal j(dir_ / "journal.sqlite");
    EXPECT_EQ(j.totals().runs, 1u) << "the refused run left no trace";
    EXPECT_EQ(j.totals().open, live_open);
  }

  paper.share_journal = true;
  std::ostringstream out2, err2;
  const RunResult shared = run_engine(config(), paper, stop, out2, err2);
  ASSERT_EQ(shared.exit_code, 0) << shared.error << err2.str();
  EXPECT_EQ(shared.report.restored_positions, 0u) << out2.str();
  EXPECT_NE(out2.str().find("restore: no open positions in the journal"), std::string::npos)
      << out2.str();
  std::uint64_t sim_orders_after_paper = 0;
  for (const auto& [outcome, n] : sim_->summary().exchange.orders_by_outcome) {
    sim_orders_after_paper += n;
  }
  EXPECT_EQ(sim_orders_after_paper, sim_orders) << "the paper run sent nothing";
  {
    Journal j(dir_ / "journal.sqlite");
    EXPECT_EQ(j.totals(first.report.run_id).open, live_open)
        << "the live run's positions are untouched by the paper run";
  }

  // The next live run (sharing the journal the paper run now also holds) restores and closes them.
  RunOptions live;
  live.live = true;
  live.duration = 8s;
  live.flatten_on_exit = true;
  live.report_dir = dir_;
  live.share_journal = true;
  std::ostringstream out3, err3;
  const RunResult second = run_engine(config(), live, stop, out3, err3);
  ASSERT_EQ(second.exit_code, 0) << second.error << err3.str();
  EXPECT_EQ(second.report.restored_positions, live_open) << out3.str();
  Journal j(dir_ / "journal.sqlite");
  EXPECT_EQ(j.totals(first.report.run_id).open, 0u) << "closed by the second live run";
  EXPECT_EQ(j.totals().broken, 0u);
  expect_balances_match_journal(shared.report.run_id);
}

// The journal cannot silently lose what reached a venue. Another process holds the journal locked,
// so the engine's writes fail after its busy timeout: entries stop (REDUCING), the run says so, and
// the report counts the errors.
TEST_F(EngineTest, AJournalThatCannotBeWrittenStopsEntries) {
  start_sim(sim_options(42));
  // Entries all the time (a low bar over a zero baseline), so that the journal has something to
  // write while it is locked, whatever path the market takes.
  EngineSettings s;
  s.baseline = "zero";
  s.entry_bps = 1;
  s.journal_busy_timeout_ms = 50;
  const LoadResult loaded = parsed(s);
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  const Config& c = loaded.config;
  RunOptions o;
  o.live = true;
  o.duration = 12s;
  o.flatten_on_exit = true;
  o.report_dir = dir_;
  o.status_every = 5s;
  std::atomic<bool> stop{false}, run_over{false};
  // Once the first intent is journaled, another connection takes the write lock and holds it to
  // the end of the run: every later write (the flatten at the end at least) fails after the
  // 50 ms busy timeout.
  std::thread locker([&] {
    const fs::path path = dir_ / "journal.sqlite";
    for (int k = 0; k < 600 && !fs::exists(path); ++k) std::this_thread::sleep_for(50ms);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    for (int k = 0; k < 600 && !run_over.load(); ++k) {
      sqlite3_stmt* st = nullptr;
      std::int64_t intents = 0;
      if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM intents", -1, &st, nullptr) == SQLITE_OK &&
          sqlite3_step(st) == SQLITE_ROW) {
        intents = sqlite3_column_int64(st, 0);
      }
      sqlite3_finalize(st);
      if (intents > 0) break;
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
    while (!run_over.load()) std::this_thread::sleep_for(20ms);
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  });
  std::ostringstream out, err;
  const RunResult r = run_engine(c, o, stop, out, err);
  run_over.store(true);
  locker.join();
  ASSERT_EQ(r.exit_code, 0) << r.error;
  EXPECT_GT(r.report.journal_errors, 0u) << out.str();
  EXPECT_EQ(r.report.risk_mode, "reducing") << "entries stopped";
  EXPECT_NE(err.str().find("the journal lost events"), std::string::npos) << err.str();
}

TEST_F(EngineTest, AnUnexplainedBalanceStaysReducingUntilAccepted) {
  const sim::SimOptions so = sim_options(42);
  start_sim(so);
  const auto quick = [&](bool accept) {
    RunOptions o;
    o.live = true;
    o.duration = 1s;
    o.flatten_on_exit = true;
    o.report_dir = dir_;
    o.accept_balances = accept;
    std::atomic<bool> stop{false};
    std::ostringstream out, err;
    RunResult r = run_engine(config(), o, stop, out, err);
    EXPECT_EQ(r.exit_code, 0) << r.error << err.str();
    return std::make_pair(r.report.risk_mode, out.str() + err.str());
  };
  EXPECT_EQ(quick(false).first, "normal") << "the first run records the baseline";
  std::string binance_key;
  for (const sim::AccountSpec& a : so.accounts) {
    if (a.venue == venues::kBinance) binance_key = a.key;
  }
  sim_->with_exchange([&](sim::Exchange& x, sim::SyntheticMarket&) {
    x.adjust_balance(venues::kBinance, binance_key, "BTC", 1'000'000);  // +0.01 BTC from elsewhere
  });
  const auto second = quick(false);
  EXPECT_EQ(second.first, "reducing");
  EXPECT_NE(second.second.find("reconcile: binance BTC holds"), std::string::npos) << second.second;
  EXPECT_EQ(quick(false).first, "reducing") << "not forgotten by the next start";
  const auto accepted = quick(true);
  EXPECT_EQ(accepted.first, "normal");
  EXPECT_NE(accepted.second.find("accepted (--accept-balances), journaled"), std::string::npos)
      << accepted.second;
  EXPECT_EQ(quick(false).first, "normal") << "accepted for good";
  Journal j(dir_ / "journal.sqlite");
  EXPECT_EQ(j.acceptances(), 1u);
}

}  // namespace
}  // namespace xarb::app
