// `xarb run` end to end over real sockets: the engine live against xarb-sim on loopback, its report
// against the journal and the journal against the simulator's balances, on two and three venues,
// in every thread layout, under the simulator's faults, and on paper.

#include <nlohmann/json.hpp>

#include <sqlite3.h>

#include <xarb/app/ctl_commands.hpp>
#include <xarb/app/journal_commands.hpp>
#include <xarb/app/metrics.hpp>
#include <xarb/app/reconciler.hpp>
#include <xarb/app/venue_commands.hpp>

#include "engine_fixture.hpp"

namespace xarb::app {
namespace {

TEST_F(EngineTest, TradesOverRealSocketsAndTheReportMatchesTheJournal) {
  start_sim(sim_options(42));
  const RunResult r = run(config(), 20s, /*flatten=*/true, closed_one);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  const RunReport& rep = r.report;
  EXPECT_GT(rep.venues[index(venues::kBinance)].frames, 1000u);
  EXPECT_GT(rep.venues[index(venues::kUpbit)].frames, 1000u);
  EXPECT_GT(rep.entries, 0u);
  EXPECT_GT(rep.closed, 0u);
  EXPECT_EQ(rep.open_positions, 0u) << "--flatten-on-exit closes every position";
  EXPECT_EQ(rep.broken, 0u);
  EXPECT_GT(rep.latencies.back().count, 0u) << "tick-to-order measured";

  Journal j(dir_ / "journal.sqlite");
  const JournalTotals t = j.totals(rep.run_id);
  EXPECT_EQ(t.closed, rep.closed);
  EXPECT_EQ(t.wins, rep.wins);
  EXPECT_NEAR(t.realized_pnl_krw, rep.realized_krw.to_double(), 1e-6);
  EXPECT_NEAR(t.realized_from_fills_krw, rep.realized_krw.to_double(), 1e-6)
      << "the report's PnL is the sum of the journal's fills at each close's FX rate";
  EXPECT_EQ(t.open, 0u);
  EXPECT_TRUE(fs::exists(dir_ / "report.json"));
  expect_balances_match_journal();
  expect_inventory_matches_simulator(r);
  // The run's last reconciliation: every venue's balance is what the ledger explains, Binance's
  // commissions (taken from the BTC and ETH it bought) included.
  EXPECT_GE(rep.reconciliations, 1u);
  ASSERT_FALSE(rep.balances.empty());
  int quotes = 0;
  for (const BalanceReport& b : rep.balances) {
    if (b.asset == venues::quote_asset(b.venue)) ++quotes;
    // Bases and BNB to the unit; the quote asset within its average prices' rounding.
    EXPECT_FALSE(b.differs()) << to_string(b.venue) << ' ' << b.asset << ": held "
                              << to_string(b.held) << ", expected " << to_string(b.expected);
    EXPECT_FALSE(b.unexplained);
  }
  EXPECT_EQ(quotes, 2) << "KRW and USDT are reconciled too";
  EXPECT_EQ(j.reconciliations(rep.run_id), 0u);
}

// A third venue in the config: [venues.bithumb] beside Upbit and Binance. The engine starts it
// (rules, balances), feeds its books and trades three pairs: Upbit <-> Binance and Bithumb <->
// Binance through the FX rate, Upbit <-> Bithumb KRW against KRW. Each pair enters and closes,
// and is reported on its own; every venue's balances moved by exactly the journal's fills; and
// the operator's `xarb venue --venue bithumb balances` reads Bithumb's.
TEST_F(EngineTest, AThirdVenueTradesThreePairsEachReported) {
  sim::SimOptions so = sim_options(42);
  so.venues[index(venues::kBithumb)].served = true;
  for (sim::AccountSpec& a : so.accounts) {  // configs/sim.toml's Bithumb account, poorer
    if (a.venue == venues::kBithumb) {
      a.balances = {{"KRW", 50'000'000 * Decimal::kOne}, {"BTC", 2 * Decimal::kOne}};
    }
  }
  start_sim(so);
  setenv("XARB_BITHUMB_ACCESS_KEY", "sim-bithumb-access-key-000000000", 1);
  setenv("XARB_BITHUMB_SECRET_KEY", "sim-bithumb-secret-key-000000000", 1);
  EngineSettings s;
  s.bithumb = true;
  const LoadResult loaded = parsed(s);
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  const Config& c = loaded.config;
  ASSERT_EQ(c.venues().size(), 3u);

  ASSERT_EQ(c.pairs(), (std::vector<VenuePair>{venues::kUpbitBinance,
                                               {venues::kBithumb, venues::kBinance},
                                               {venues::kUpbit, venues::kBithumb}}));
  // Until every pair has closed a position.
  const RunResult r = run(c, 10s, /*flatten=*/true, [&](const JournalTotals&) {
    Journal j(dir_ / "journal.sqlite");
    const std::vector<JournalPairTotals> pairs = j.pair_totals();
    return pairs.size() == 3 &&
           std::all_of(pairs.begin(), pairs.end(), [](const auto& p) { return p.closed > 0; });
  });
  unsetenv("XARB_BITHUMB_ACCESS_KEY");
  unsetenv("XARB_BITHUMB_SECRET_KEY");
  ASSERT_EQ(r.exit_code, 0) << r.error;
  const RunReport& rep = r.report;
  EXPECT_EQ(rep.traded, (std::vector<Venue>{venues::kBinance, venues::kUpbit, venues::kBithumb}));
  EXPECT_GT(rep.venues[index(venues::kBithumb)].frames, 100u) << "its books were fed";
  EXPECT_GT(rep.venues[index(venues::kBithumb)].orders, 0u);
  ASSERT_EQ(rep.pairs.size(), 3u);
  for (const TradeReport& p : rep.pairs) {
    EXPECT_GT(p.entries, 0u) << p.name;
    EXPECT_GT(p.closed, 0u) << p.name;
    EXPECT_EQ(p.open, 0u) << p.name << ": flattened";
  }
  EXPECT_EQ(rep.pairs[0].name, "upbit-binance");
  EXPECT_EQ(rep.pairs[1].name, "bithumb-binance");
  EXPECT_EQ(rep.pairs[2].name, "upbit-bithumb");
  EXPECT_EQ(rep.broken, 0u);
  {
    // The journal keeps each pair's positions and refusals apart.
    Journal j(dir_ / "journal.sqlite");
    const std::vector<JournalPairTotals> totals = j.pair_totals();
    ASSERT_EQ(totals.size(), 3u);
    for (const JournalPairTotals& t : totals) {
      const auto it = std::find_if(rep.pairs.begin(), rep.pairs.end(),
                                   [&](const TradeReport& p) { return p.name == t.pair; });
      ASSERT_NE(it, rep.pairs.end()) << t.pair;
      EXPECT_EQ(t.closed, it->closed) << t.pair;
      EXPECT_EQ(t.open, 0u) << t.pair;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "journal.sqlite").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT COUNT(DISTINCT pair) FROM refusals", -1, &st, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_GE(sqlite3_column_int64(st, 0), 2) << "refusals name their pair";
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  const std::string metrics = prometheus_text(rep);
  EXPECT_NE(metrics.find("xarb_pair_closed_total{pair=\"upbit-bithumb\"} " +
                         std::to_string(rep.pairs[2].closed)),
            std::string::npos)
      << metrics;
  expect_balances_match_journal();
  bool bithumb_reconciled = false;
  for (const BalanceReport& b : rep.balances) {
    EXPECT_FALSE(b.differs()) << to_string(b.venue) << ' ' << b.asset;
    bithumb_reconciled = bithumb_reconciled || b.venue == venues::kBithumb;
  }
  EXPECT_TRUE(bithumb_reconciled) << "Bithumb's balances are checked against the ledger too";
  std::string bithumb_btc;
  for (const sim::AccountSpec& a : sim_->summary().accounts) {
    if (a.venue == venues::kBithumb) {
      bithumb_btc = to_string(Decimal::from_mantissa(a.balances.at("BTC")));
    }
  }

  const fs::path file = dir_ / "three.toml";
  std::ofstream(file) << config_text(s);
  setenv("XARB_BITHUMB_ACCESS_KEY", "sim-bithumb-access-key-000000000", 1);
  setenv("XARB_BITHUMB_SECRET_KEY", "sim-bithumb-secret-key-000000000", 1);
  std::ostringstream out, err;
  VenueCommand cmd;
  cmd.action = "balances";
  cmd.venues = {venues::kBithumb};
  EXPECT_EQ(run_venue_command(file.string(), cmd, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("bithumb balances"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("BTC      free " + bithumb_btc + " "), std::string::npos) << out.str();
  unsetenv("XARB_BITHUMB_ACCESS_KEY");
  unsetenv("XARB_BITHUMB_SECRET_KEY");
  // A venue the config does not trade is refused by name, before anything connects.
  std::ofstream(dir_ / "two.toml") << config_text();
  EXPECT_EQ(run_venue_command((dir_ / "two.toml").string(), cmd, out, err), 2);
  EXPECT_NE(err.str().find("no [venues.bithumb] section"), std::string::npos) << err.str();
}

// With Binance's BNB fee option every commission there is paid in BNB: the positions hold the
// whole quantity bought, the BNB balance falls by what the journal's fills say it paid, and the
// ledger explains every asset to the unit.
TEST_F(EngineTest, CommissionsPaidInBnbAreInTheLedger) {
  sim::SimOptions so = sim_options(42);
  for (sim::AccountSpec& a : so.accounts) {
    if (a.venue != venues::kBinance) continue;
    a.bnb_fees = true;
    a.balances["BNB"] = 10 * Decimal::kOne;
  }
  start_sim(so);
  const RunResult r = run(config(), 10s, /*flatten=*/true, closed_one);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  ASSERT_GT(r.report.closed, 0u);
  Journal j(dir_ / "journal.sqlite");
  std::int64_t bnb = 0, base = 0;
  for (const JournalFill& f : j.fills()) {
    bnb += f.fee_bnb.mantissa();
    base += f.fee_base.mantissa();
  }
  EXPECT_GT(bnb, 0) << "commissions were paid in BNB";
  EXPECT_EQ(base, 0) << "none in the base asset while BNB lasts";
  expect_balances_match_journal();
  expect_inventory_matches_simulator(r);
  bool seen = false;
  for (const BalanceReport& b : r.report.balances) {
    // Bases and BNB to the unit; the quote asset within its average prices' rounding.
    EXPECT_FALSE(b.differs()) << to_string(b.venue) << ' ' << b.asset << ": held "
                              << to_string(b.held) << ", expected " << to_string(b.expected);
    seen = seen || b.asset == "BNB";
  }
  EXPECT_TRUE(seen) << "BNB is reconciled";
}

// The same rings and stages, one thread per stage (parked: this machine has 2 cores).
TEST_F(EngineTest, ThreeThreadLayoutTradesToo) {
  start_sim(sim_options(42));
  EngineSettings s;
  s.hot_threads = {"feed", "signal", "exec"};
  const LoadResult c = parsed(s);
  ASSERT_TRUE(c.ok()) << c.errors[0].to_string();
  ASSERT_EQ(c.config.threads.hot.size(), 3u);
  const RunResult r = run(c.config, 15s, /*flatten=*/true, closed_one);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  ASSERT_EQ(r.report.threads.size(), 4u);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_GT(r.report.threads[k].cpu_s, 0.0);
  EXPECT_GT(r.report.book_updates, 1000u);
  EXPECT_GT(r.report.entries, 0u);
  EXPECT_EQ(r.report.open_positions, 0u);
  Journal j(dir_ / "journal.sqlite");
  EXPECT_NEAR(j.totals(r.report.run_id).realized_from_fills_krw, r.report.realized_krw.to_double(),
              1e-6);
  expect_balances_match_journal();
  expect_inventory_matches_simulator(r);
}

TEST_F(EngineTest, SurvivesTheSimulatorsFaults) {
  sim::SimOptions o = sim_options(7);
  o.faults.drop_ws_every_s = 4.0;
  o.faults.reject_share = 0.05;
  o.faults.partial_share = 0.2;
  o.faults.error_5xx_share = 0.05;
  o.faults.timeout_share = 0.05;
  o.faults.clock_skew_ms = 150;
  o.faults.stall_feed_ms = 1500;
  start_sim(o);
  const RunResult r =
      run(config(), 25s, /*flatten=*/true, [](const JournalTotals& t) { return t.intents > 0; });
  ASSERT_EQ(r.exit_code, 0) << r.error;
  const RunReport& rep = r.report;
  EXPECT_GT(rep.venues[index(venues::kBinance)].disconnects, 0u);
  EXPECT_GT(rep.venues[index(venues::kUpbit)].disconnects, 0u);
  EXPECT_GT(rep.venues[index(venues::kBinance)].resyncs, 0u);
  EXPECT_GT(rep.entries, 0u);
  // Whatever is still open is BROKEN and reported: never an unhedged position that looks fine.
  Journal j(dir_ / "journal.sqlite");
  const JournalTotals t = j.totals(rep.run_id);
  EXPECT_EQ(t.open, t.broken);
  EXPECT_LE(rep.open_positions, rep.broken) << "every position still open is one that went BROKEN";
  EXPECT_NEAR(t.realized_from_fills_krw, rep.realized_krw.to_double(), 1e-6);
  expect_balances_match_journal();
  expect_inventory_matches_simulator(r);
}

// An inventory floor against the venue: Upbit holds 0.025 BTC over a floor of 0.02, so kimchi
// (which sells BTC there) can enter only while reverse positions have brought BTC in. The run
// refuses what would cross it; the venue's BTC never falls under it and is what the engine
// believes it holds; the report and `xarb inventory` (from report.json once the run has ended)
// show the floor, the headroom and what binds it.
TEST_F(EngineTest, AnInventoryFloorStopsTheDirectionThatWouldCrossIt) {
  sim::SimOptions so = sim_options(42);
  for (sim::AccountSpec& a : so.accounts) {
    if (a.venue == venues::kUpbit) a.balances["BTC"] = 2'500'000;
  }
  // The market drives the floor to bind: every second BTC's Upbit premium jumps 400 bps for
  // 300 ms (the simulator's latency probe), a kimchi entry that would sell Upbit's BTC under it.
  so.probe_every_ms = 1'000;
  start_sim(so);
  EngineSettings s;
  s.extra = "\n[inventory.floor.upbit]\nBTC = \"0.02\"\n";
  const Config c = config(s);
  const RunResult r = run(c, 5s, /*flatten=*/false, [](const JournalTotals& t) {
    return t.refusals_by_reason.contains("inventory_floor");
  });
  ASSERT_EQ(r.exit_code, 0) << r.error;
  const RunReport& rep = r.report;
  ASSERT_TRUE(rep.blocked.contains("inventory_floor")) << "the run stopped after 65 s without one";
  EXPECT_EQ(rep.broken, 0u);

  std::int64_t held = -1;
  for (const sim::AccountSpec& a : sim_->summary().accounts) {
    if (a.venue == venues::kUpbit && a.key == std::getenv("XARB_UPBIT_ACCESS_KEY")) {
      held = a.balances.at("BTC");
    }
  }
  EXPECT_GE(held, 2'000'000) << "the venue's BTC fell under the floor";
  expect_inventory_matches_simulator(r);
  bool seen = false;
  for (const InventoryReport& i : rep.inventory) {
    if (i.venue != venues::kUpbit || i.asset != "BTC") continue;
    seen = true;
    EXPECT_EQ(i.floor, test::d("0.02"));
    EXPECT_TRUE(i.from_venue) << "live: held is what the last reconciliation read";
    EXPECT_EQ(i.held.mantissa(), held);
    EXPECT_EQ(i.difference(), Decimal{});
    EXPECT_GE(i.above_floor().mantissa(), 0);
  }
  EXPECT_TRUE(seen);
  bool kimchi = false;
  for (const HeadroomReport& h : rep.headroom) {
    if (h.symbol != "BTC" || h.direction != "kimchi") continue;
    kimchi = true;
    ASSERT_TRUE(h.known);
    EXPECT_EQ(h.qty.mantissa(), held - 2'000'000)
        << "what Upbit holds over its floor (nothing is in flight at the end)";
    EXPECT_EQ(h.bound_by, "upbit BTC");
  }
  EXPECT_TRUE(kimchi);

  std::ostringstream out, err;
  EXPECT_EQ(inventory_command("", "", dir_, false, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("inventory of run " + std::to_string(rep.run_id) + " (live), from "),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("report.json (no engine answered"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("bound by upbit BTC"), std::string::npos) << out.str();
  std::ostringstream as_json;
  EXPECT_EQ(inventory_command("", "", dir_, true, as_json, err), 0) << err.str();
  for (const char* key : {"\"assets\"", "\"headroom\"", "\"rebalance\"", "\"above_floor\""}) {
    EXPECT_NE(as_json.str().find(key), std::string::npos) << key << " in " << as_json.str();
  }
}

// Without --live the engine trades on paper: the same market data, fills from the paper venue,
// and not one order reaches the (simulated) exchange.
TEST_F(EngineTest, PaperModeSendsNoOrders) {
  start_sim(sim_options(42));
  RunOptions o;
  o.duration = 12s;
  o.flatten_on_exit = true;
  o.report_dir = dir_;
  o.status_every = 5s;
  std::atomic<bool> stop{false};
  const RunResult r = run_engine(config(), o, stop, std::cout, std::cerr);
  ASSERT_EQ(r.exit_code, 0) << r.error;
  EXPECT_EQ(r.report.mode, "paper");
  EXPECT_GT(r.report.book_updates, 1000u);
  EXPECT_TRUE(sim_->summary().exchange.orders_by_outcome.empty()) << "no order reached the venues";
  EXPECT_EQ(r.report.open_positions, 0u);
}

// `--live` against a config that says paper is refused before anything connects.
TEST_F(EngineTest, LiveNeedsModeLiveInTheConfig) {
  start_sim(sim_options(1));
  EngineSettings s;
  s.mode = "paper";
  const LoadResult c = parsed(s);
  ASSERT_TRUE(c.ok());
  RunOptions o;
  o.live = true;
  o.duration = 1s;
  o.report_dir = dir_;
  std::atomic<bool> stop{false};
  std::ostringstream out, err;
  const RunResult r = run_engine(c.config, o, stop, out, err);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(err.str().find("--live needs mode = \"live\""), std::string::npos) << err.str();
  EXPECT_EQ(sim_->summary().http_requests, 0u) << "nothing connected";

  // mode = "live" and --live, but no keys: refused before any order could go out.
  unsetenv("XARB_UPBIT_SECRET_KEY");
  std::ostringstream out2, err2;
  const RunResult r2 = run_engine(config(), o, stop, out2, err2);
  EXPECT_EQ(r2.exit_code, 1);
  EXPECT_NE(err2.str().find("no credentials for upbit"), std::string::npos) << err2.str();
  EXPECT_TRUE(sim_->summary().exchange.orders_by_outcome.empty());
}

}  // namespace
}  // namespace xarb::app
