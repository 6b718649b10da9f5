// The journal on its own: numbered schema migrations (a journal of any earlier version opens
// and reads back), read-only opening for readers, the ledger (balances, transfers, dust) and
// settlements that arrive late.

#include <filesystem>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <xarb/app/config.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/app/journal_commands.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::app {
namespace {

namespace fs = std::filesystem;

// A fresh folder for one test's journal.
fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

int user_version(const fs::path& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  const int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

TEST(JournalSchema, ANewJournalIsAtTheCurrentVersion) {
  const fs::path path = fresh_dir("xarb-journal-new") / "journal.sqlite";
  { Journal j(path); }
  EXPECT_EQ(user_version(path), 2);
  // Opening it again runs no migration: the version stays, and what it holds reads back.
  {
    Journal j(path);
    j.begin_run(7, 1, "paper", "", SymbolMap{});
    j.end_run(2, "{}");
  }
  EXPECT_EQ(user_version(path), 2);
  Journal r(path, Journal::read_only);
  ASSERT_EQ(r.runs().size(), 1u);
  EXPECT_EQ(r.runs()[0].run_id, 7u);
}

TEST(JournalSchema, ReadersOpenReadOnlyAndCreateNothing) {
  const fs::path dir = fresh_dir("xarb-journal-ro");
  const fs::path path = dir / "journal.sqlite";
  EXPECT_THROW(Journal(path, Journal::read_only), std::runtime_error);
  EXPECT_FALSE(fs::exists(path)) << "a reader created the journal";
  {
    Journal j(path);
    j.begin_run(1, 1, "paper", "", SymbolMap{});
  }
  Journal r(path, Journal::read_only);
  EXPECT_EQ(r.totals().runs, 1u);
  // A reader cannot write: what it would write fails and is counted, nothing changes.
  r.record_balance(1, venues::kUpbit, "BTC", test::d("1"));
  EXPECT_GT(r.write_errors(), 0u);
}

// A journal from before versions were kept (user_version 0, tables without later columns) is
// refused by readers with the command that upgrades it; `xarb journal migrate` does, and readers
// then read it.
TEST(JournalSchema, AnOldJournalIsMigratedByTheWriterNeverByAReader) {
  const fs::path path = fresh_dir("xarb-journal-v0") / "journal.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE runs(run_id INTEGER PRIMARY KEY, started_ns INTEGER, "
                         "ended_ns INTEGER, mode TEXT, config TEXT, report TEXT);"
                         "INSERT INTO runs VALUES(3, 1, 2, 'paper', '', '{}');"
                         "CREATE TABLE refusals(id INTEGER PRIMARY KEY AUTOINCREMENT, run_id "
                         "INTEGER, reason TEXT, symbol TEXT, direction TEXT, kind TEXT, edge_bps "
                         "REAL, wall_ns INTEGER);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  try {
    Journal r(path, Journal::read_only);
    ADD_FAILURE() << "a reader opened a version-0 journal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("xarb journal migrate"), std::string::npos) << e.what();
  }
  EXPECT_EQ(user_version(path), 0) << "the reader changed the journal";
  std::ostringstream out, err;
  EXPECT_EQ(journal_command("", path.string(), JournalAction::migrate, false, 0, out, err), 0)
      << err.str();
  EXPECT_EQ(user_version(path), 2);
  std::ostringstream summary;
  EXPECT_EQ(journal_command("", path.string(), JournalAction::summary, false, 0, summary, err), 0)
      << err.str();
  EXPECT_NE(summary.str().find("run 3 paper"), std::string::npos) << summary.str();
  Journal r(path, Journal::read_only);
  EXPECT_EQ(r.totals().refusals, 0u);
}

TEST(JournalSchema, AJournalFromANewerXarbIsRefused) {
  const fs::path path = fresh_dir("xarb-journal-v99") / "journal.sqlite";
  { Journal j(path); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THROW(Journal(path, Journal::read_only), std::runtime_error);
  EXPECT_THROW(Journal{path}, std::runtime_error)
      << "an older writer would write rows it does not know";
}

// A journal written before commissions were kept by asset has no fee_base / fee_bnb columns:
// opening it adds them (its fills count as commission-free in the base), and its fills, its
// expected balances and new fills all read and write.
TEST(JournalMigration, AJournalWithoutCommissionColumnsGetsThem) {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb-journal-old-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path path = dir / "journal.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db,
                   "CREATE TABLE fills(run_id INTEGER, intent_id INTEGER, position_id INTEGER,"
                   " venue TEXT, side TEXT, symbol TEXT, qty TEXT, price TEXT, fee TEXT,"
                   " unwind INTEGER, wall_ns INTEGER,"
                   " PRIMARY KEY(run_id, intent_id, venue, unwind));"
                   "CREATE TABLE balances(run_id INTEGER, venue TEXT, asset TEXT, qty TEXT,"
                   " PRIMARY KEY(run_id, venue, asset));"
                   "INSERT INTO fills VALUES(7,1,1,'binance','buy','BTC','0.01','100000',"
                   "'1',0,1);"
                   "INSERT INTO balances VALUES(7,'binance','BTC','2');",
                   nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  {
    Journal j(path);
    ASSERT_EQ(j.fills(7).size(), 1u);
    EXPECT_TRUE(j.fills(7)[0].fee_base.is_zero());
    Decimal expected;
    ASSERT_TRUE(j.expected_balance(7, venues::kBinance, "BTC", expected));
    EXPECT_EQ(expected, Decimal::from_mantissa(201'000'000));
    JournalFill f{7,
                  2,
                  2,
                  venues::kBinance,
                  Side::buy,
                  "BTC",
                  Decimal::from_mantissa(1'000'000),
                  Decimal::from_mantissa(100'000 * Decimal::kOne),
                  Decimal{},
                  false,
                  2,
                  Decimal::from_mantissa(1'000),
                  Decimal{}};
    j.record_fill(f);
    j.commit();
    ASSERT_TRUE(j.expected_balance(7, venues::kBinance, "BTC", expected));
    EXPECT_EQ(expected, Decimal::from_mantissa(201'000'000 + 1'000'000 - 1'000))
        << "the new fill counts net of its commission in BTC";
    EXPECT_EQ(j.write_errors(), 0u);
  }
  Journal again(path);  // a second open finds the columns there
  EXPECT_EQ(again.fills(7).size(), 2u);
  fs::remove_all(dir);
}

// A journal written before intents kept their legs as rows (one column set per venue) and before
// positions named their pair: opening it copies the legs into rows and names the pair Upbit
// against Binance, so an unresolved intent and an open position read back as they were written.
TEST(JournalMigration, AJournalWithVenueColumnsReadsBackByRows) {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb-journal-legs-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path path = dir / "journal.sqlite";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(
          db,
          "CREATE TABLE runs(run_id INTEGER PRIMARY KEY, started_ns INTEGER, ended_ns INTEGER,"
          " mode TEXT, config TEXT, report TEXT);"
          "CREATE TABLE intents(run_id INTEGER, intent_id INTEGER, position_id INTEGER, kind TEXT,"
          " direction TEXT, exit_reason TEXT, symbol TEXT, fx_rate TEXT, edge_bps REAL,"
          " upbit_side TEXT, upbit_qty TEXT, upbit_limit TEXT,"
          " binance_side TEXT, binance_qty TEXT, binance_limit TEXT,"
          " outcome TEXT, refusal TEXT, wall_ns INTEGER, reported_ns INTEGER,"
          " PRIMARY KEY(run_id, intent_id));"
          "CREATE TABLE positions(position_id INTEGER PRIMARY KEY, run_id INTEGER, symbol TEXT,"
          " direction TEXT, state TEXT, exit_reason TEXT, qty TEXT, entry_fx TEXT, close_fx TEXT,"
          " realized_pnl_krw REAL, created_ns INTEGER, opened_ns INTEGER, closed_ns INTEGER,"
          " note TEXT);"
          "INSERT INTO runs VALUES(7,1,NULL,'live','',NULL);"
          "INSERT INTO intents(run_id,intent_id,position_id,kind,direction,exit_reason,symbol,"
          " fx_rate,edge_bps,upbit_side,upbit_qty,upbit_limit,binance_side,binance_qty,"
          " binance_limit,wall_ns) VALUES(7,3,2,'entry','kimchi','none','BTC','1400',35,'sell',"
          " '0.01','140629650','buy','0.01','100050',1);"
          "INSERT INTO positions(position_id,run_id,symbol,direction,state,exit_reason,qty,"
          " entry_fx,realized_pnl_krw,created_ns,opened_ns) VALUES(1,7,'BTC','kimchi','open',"
          " 'none','0.01','1400',0,1,1);",
          nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(db);
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  for (int open = 0; open < 2; ++open) {  // the second open finds the rows there already
    Journal j(path);
    const std::vector<UnresolvedIntent> u = j.unresolved_intents("live");
    ASSERT_EQ(u.size(), 1u);
    EXPECT_EQ(u[0].intent_id, 3u);
    EXPECT_EQ(u[0].sides[index(venues::kUpbit)], Side::sell);
    EXPECT_EQ(u[0].qty[index(venues::kUpbit)], test::d("0.01"));
    EXPECT_EQ(u[0].sides[index(venues::kBinance)], Side::buy);
    EXPECT_EQ(u[0].qty[index(venues::kBinance)], test::d("0.01"));
    const std::vector<JournalPosition> open_now = j.open_positions(symbols, "live");
    ASSERT_EQ(open_now.size(), 1u);
    EXPECT_EQ(open_now[0].position.pair, venues::kUpbitBinance);
    EXPECT_EQ(open_now[0].position.first().entry_side, Side::sell) << "kimchi sells on Upbit";
    EXPECT_EQ(j.write_errors(), 0u);
  }

  // New intents write their legs as rows, on whatever venues they name.
  {
    Journal j(path);
    j.begin_run(8, 2, "live", "", symbols);
    OrderIntent in;
    in.intent_id = 1;
    in.position_id = 5;
    LegIntent& first = in.leg(venues::kUpbit);
    first.side = Side::buy;
    first.instrument = 0;
    first.quantity = test::d("0.02");
    LegIntent& second = in.leg(venues::kBinance);
    second.side = Side::sell;
    second.instrument = 0;
    second.quantity = test::d("0.02");
    j.record(OpsEvent{5, in});
    j.commit();
    const std::vector<UnresolvedIntent> u = j.unresolved_intents("live");
    ASSERT_EQ(u.size(), 2u);
    EXPECT_EQ(u[1].run_id, 8u);
    EXPECT_EQ(u[1].sides[index(venues::kUpbit)], Side::buy);
    EXPECT_EQ(u[1].qty[index(venues::kBinance)], test::d("0.02"));
    EXPECT_EQ(j.write_errors(), 0u);
  }
  fs::remove_all(dir);
}

// A live run killed during its start-up checks records no balances: the next start's expected
// balance stands on the newest earlier live run that did, plus the fills journaled under every
// run since (a paper run's fills in between are not the venue's).
// The ledger adds what operators recorded moving (xarb ctl transfer) since the baseline it stands
// on, in runs of its own mode only; a newer baseline already holds what moved before it.
TEST(JournalBalances, TransfersMoveTheLedgerFromTheirBaseline) {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb-journal-transfers-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    Journal j(dir / "journal.sqlite");
    const SymbolMap symbols;
    const auto transfer = [&](std::uint64_t run, Venue v, std::string asset, std::string_view q) {
      j.record_transfer({run, v, std::move(asset), test::d(q), static_cast<std::int64_t>(run)});
    };
    j.begin_run(1, 1, "live", "", symbols);
    j.record_balance(1, venues::kUpbit, "ETH", test::d("20"));
    j.record_balance(1, venues::kUpbit, "KRW", test::d("100000000"));
    transfer(1, venues::kUpbit, "ETH", "-0.5");
    transfer(1, venues::kUpbit, "KRW", "2500000.5");
    transfer(1, venues::kBinance, "ETH", "0.4995");  // another venue's
    j.begin_run(2, 2, "paper", "", symbols);
    transfer(2, venues::kUpbit, "ETH", "7");  // a paper run's: not the live ledger's
    j.begin_run(3, 3, "live", "", symbols);
    transfer(3, venues::kUpbit, "ETH", "0.25");
    j.commit();
    Decimal expected;
    ASSERT_TRUE(j.expected_balance(3, venues::kUpbit, "ETH", expected));
    EXPECT_EQ(expected, test::d("19.75")) << "20 - 0.5 (run 1) + 0.25 (run 3)";
    ASSERT_TRUE(j.expected_balance(1, venues::kUpbit, "KRW", expected));
    EXPECT_EQ(expected, test::d("102500000.5"));
    ASSERT_TRUE(j.expected_balance(1, venues::kUpbit, "ETH", expected));
    EXPECT_EQ(expected, test::d("19.5")) << "run 3's transfer came after run 1";
    // Run 4 starts from what the venue held: the transfers before it are in that figure.
    j.begin_run(4, 4, "live", "", symbols);
    j.record_balance(4, venues::kUpbit, "ETH", test::d("19.75"));
    transfer(4, venues::kUpbit, "ETH", "-0.00000001");
    j.commit();
    ASSERT_TRUE(j.expected_balance(4, venues::kUpbit, "ETH", expected));
    EXPECT_EQ(expected, test::d("19.74999999"));
    const std::vector<JournalTransfer> all = j.transfers();
    ASSERT_EQ(all.size(), 6u);
    EXPECT_EQ(all[1].asset, "KRW");
    EXPECT_EQ(all[1].qty, test::d("2500000.5"));
    EXPECT_EQ(j.transfers(3).size(), 1u);
  }
  fs::remove_all(dir);
}

TEST(JournalBalances, ARunWithoutBalancesStandsOnTheOneBefore) {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb-journal-baseline-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    Journal j(dir / "journal.sqlite");
    const SymbolMap symbols;
    const auto fill = [&](std::uint64_t run, std::string_view qty, std::string_view fee_base) {
      JournalFill f{run,
                    1,
                    run,
                    venues::kBinance,
                    Side::buy,
                    "BTC",
                    test::d(qty),
                    test::d("100000"),
                    Decimal{},
                    false,
                    1,
                    test::d(fee_base),
                    Decimal{}};
      j.record_fill(f);
    };
    j.begin_run(1, 1, "live", "", symbols);
    j.record_balance(1, venues::kBinance, "BTC", test::d("2"));
    fill(1, "0.01", "0");
    j.begin_run(2, 2, "paper", "", symbols);
    fill(2, "1", "0");
    j.begin_run(3, 3, "live", "", symbols);
    fill(3, "0.02", "0.00002");
    j.commit();
    Decimal expected;
    ASSERT_TRUE(j.expected_balance(3, venues::kBinance, "BTC", expected));
    EXPECT_EQ(expected, test::d("2.02998")) << "run 1's balance and fills, run 3's fill";
    EXPECT_FALSE(j.expected_balance(2, venues::kBinance, "BTC", expected))
        << "no paper run recorded a balance";
    EXPECT_FALSE(j.expected_balance(3, venues::kUpbit, "BTC", expected));
    EXPECT_EQ(j.unsearched_runs(4, "live"), (std::vector<std::uint64_t>{1, 3}));
    j.mark_searched(1, 4);
    EXPECT_EQ(j.unsearched_runs(4, "live"), (std::vector<std::uint64_t>{3}));
    EXPECT_TRUE(j.unsearched_runs(4, "paper") == std::vector<std::uint64_t>{2});
    EXPECT_EQ(j.write_errors(), 0u);
  }
  fs::remove_all(dir);
}
// An order a report left unknown settles later in the run: its fills join the intent's row for that
// venue (quantities add, prices average by quantity, commissions add) and the intent is no longer
// unresolved. At a restart, what the venues say about every order of an intent replaces its rows: a
// report may have journaled part of a leg (an earlier attempt) before an unknown one.
TEST(JournalSettlement, LateFillsJoinTheirRowsAndARestartsReadReplacesThem) {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb-journal-settle-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  const auto dec = [](const char* t) { return test::d(t); };
  Journal j(dir / "journal.sqlite");
  j.begin_run(7, 1, "live", "", symbols);
  j.record_balance(7, venues::kUpbit, "BTC", dec("1"));
  j.record_balance(7, venues::kUpbit, "KRW", dec("1000000"));
  // Binance bought 0.01; Upbit sold 0.004 on a first attempt and its retry's answer was lost.
  const auto report = [&](std::uint64_t intent) {
    ExecReport r;
    r.intent_id = intent;
    r.position_id = intent;
    r.outcome = ExecOutcome::failed;
    LegReport& u = r.leg(venues::kUpbit);
    u.venue = venues::kUpbit;
    u.side = Side::sell;
    u.instrument = 0;
    u.requested_qty = dec("0.01");
    u.filled_qty = dec("0.004");
    u.avg_price = dec("140000000");
    u.fee = dec("280");
    u.state = OrderState::unknown;
    u.status = LegStatus::partially_filled;
    u.client_order_id.assign("x7-1-U0");
    LegReport& b = r.leg(venues::kBinance);
    b.venue = venues::kBinance;
    b.side = Side::buy;
    b.instrument = 0;
    b.requested_qty = b.filled_qty = dec("0.01");
    b.avg_price = dec("100000");
    b.fee_base = dec("0.00001");
    b.state = OrderState::filled;
    b.status = LegStatus::filled;
    b.client_order_id.assign("x7-1-B0");
    return r;
  };
  j.record(OpsEvent{10, report(1)});
  j.commit();
  ASSERT_EQ(j.unresolved_intents("live").size(), 1u);

  ExecReport late;
  late.intent_id = late.position_id = 1;
  late.settles = true;
  late.leg(venues::kBinance).venue = venues::kBinance;
  LegReport& u = late.leg(venues::kUpbit);
  u.venue = venues::kUpbit;
  u.side = Side::sell;
  u.instrument = 0;
  u.filled_qty = dec("0.006");
  u.avg_price = dec("141000000");
  u.fee = dec("423");
  u.state = OrderState::filled;
  u.status = LegStatus::filled;
  u.client_order_id.assign("x7-1-U1");
  j.record(OpsEvent{20, late});
  j.commit();
  EXPECT_TRUE(j.unresolved_intents("live").empty()) << "settled";
  const auto row = [&](std::uint64_t intent, Venue v) {
    for (const JournalFill& f : j.fills(7)) {
      if (f.intent_id == intent && f.venue == v && !f.unwind) return f;
    }
    return JournalFill{};
  };
  EXPECT_EQ(row(1, venues::kUpbit).qty, dec("0.01"));
  EXPECT_EQ(row(1, venues::kUpbit).price, dec("140600000"));
  EXPECT_EQ(row(1, venues::kUpbit).fee, dec("703"));
  EXPECT_EQ(row(1, venues::kBinance).qty, dec("0.01")) << "the other venue's row untouched";
  EXPECT_EQ(row(1, venues::kBinance).fee_base, dec("0.00001"));

  // The same unknown left for a restart: the venues' word on every order replaces the rows.
  j.record(OpsEvent{30, report(2)});
  j.commit();
  ASSERT_EQ(j.unresolved_intents("live").size(), 1u);
  std::vector<JournalFill> read = {
      {7, 2, 2, venues::kUpbit, Side::sell, "BTC", dec("0.01"), dec("140600000"), dec("703"), false,
       40, Decimal{}, Decimal{}},
      {7, 2, 2, venues::kBinance, Side::buy, "BTC", dec("0.01"), dec("100000"), Decimal{}, false,
       40, dec("0.00001"), Decimal{}}};
  j.resolve_intent(7, 2, read);
  j.commit();
  EXPECT_TRUE(j.unresolved_intents("live").empty()) << "a restart does not ask again";
  EXPECT_EQ(row(2, venues::kUpbit).qty, dec("0.01"));
  EXPECT_EQ(row(2, venues::kUpbit).fee, dec("703"));
  Decimal expected;
  ASSERT_TRUE(j.expected_balance(7, venues::kUpbit, "BTC", expected));
  EXPECT_EQ(expected, dec("0.98")) << "both intents sold 0.01 on Upbit";
  // The quote ledger: two sells of 0.01 at 140,600,000 KRW less 703 KRW commission each, within
  // the rounding of an average price (3 units of 1e-8 per fill row under one unit of base).
  Decimal tolerance;
  ASSERT_TRUE(j.expected_balance(7, venues::kUpbit, "KRW", expected, &tolerance));
  EXPECT_EQ(expected, dec("3810594"));
  EXPECT_EQ(tolerance, dec("0.00000006"));
  EXPECT_EQ(j.write_errors(), 0u);
  fs::remove_all(dir);
}

// The dust ledger: a position closes when what is left is under the venues' minimums; what its
// fills leave at each venue (net of the commission taken in the base) is journaled per position
// and venue, summed per venue and asset for the report, and listed by `xarb journal balances`.
TEST(JournalDust, AClosedPositionsRemainderIsJournaledPerVenueAndAsset) {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb-journal-dust-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  SymbolMap symbols;
  ASSERT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  const auto dec = [](const char* t) { return test::d(t); };
  Journal j(dir / "journal.sqlite");
  j.begin_run(7, 1, "live", "", symbols);
  j.record_balance(7, venues::kBinance, "BTC", dec("1"));
  const auto fill = [&](std::uint64_t intent, std::uint64_t position, Venue v, Side side,
                        const char* qty, const char* fee_base) {
    j.record_fill({7, intent, position, v, side, "BTC", dec(qty), dec("100000"), Decimal{}, false,
                   1, dec(fee_base), Decimal{}});
  };
  // Position 1: Binance bought 0.01 (0.00001 taken as commission) and sold 0.0099 back.
  fill(1, 1, venues::kBinance, Side::buy, "0.01", "0.00001");
  fill(1, 1, venues::kUpbit, Side::sell, "0.01", "0");
  fill(2, 1, venues::kBinance, Side::sell, "0.0099", "0");
  fill(2, 1, venues::kUpbit, Side::buy, "0.01", "0");
  // Position 2 closes even: nothing left.
  fill(3, 2, venues::kBinance, Side::buy, "0.01", "0.00001");
  fill(4, 2, venues::kBinance, Side::sell, "0.00999", "0");
  for (const std::uint64_t id : {1u, 2u}) {
    j.record(
        OpsEvent{5, PositionChange{id, 0, venues::kUpbitBinance, Direction::kimchi,
                                   PositionState::closing, PositionState::closed,
                                   ExitReason::take_profit, Decimal{}, dec("1400"), Decimal{}}});
  }
  j.commit();
  const std::vector<DustReport> dust = j.dust(7);
  ASSERT_EQ(dust.size(), 1u);
  EXPECT_EQ(dust[0].venue, venues::kBinance);
  EXPECT_EQ(dust[0].asset, "BTC");
  EXPECT_EQ(dust[0].qty, dec("0.00009"));
  EXPECT_EQ(dust[0].positions, 1u);
  std::ostringstream listing;
  print_balances(j, listing);
  EXPECT_NE(listing.str().find("binance BTC   0.00009  (1 positions)"), std::string::npos)
      << listing.str();
  EXPECT_EQ(j.write_errors(), 0u);
  fs::remove_all(dir);
}

// A balance the journal cannot explain (a deposit, or a trade someone else made on the account)
// keeps entries blocked at this start and at every later one, until an operator accepts it with
// --accept-balances, which is journaled.
}  // namespace
}  // namespace xarb::app
