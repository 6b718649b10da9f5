#include <string>
#include <utility>

#include <xarb/app/config.hpp>

#include "journal_internal.hpp"

namespace xarb::app::journal_detail {
namespace {

// Migration 1: the schema as it stood when versions began to be kept. CREATE ... IF NOT EXISTS,
// so that a journal written before then (version 0 with tables) gets only what it lacks.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs(
  run_id INTEGER PRIMARY KEY, started_ns INTEGER, ended_ns INTEGER, mode TEXT, config TEXT,
  report TEXT);
CREATE TABLE IF NOT EXISTS intents(
  run_id INTEGER, intent_id INTEGER, position_id INTEGER, kind TEXT, direction TEXT,
  exit_reason TEXT, symbol TEXT, fx_rate TEXT, edge_bps REAL,
  outcome TEXT, refusal TEXT, wall_ns INTEGER, reported_ns INTEGER,
  PRIMARY KEY(run_id, intent_id));
CREATE TABLE IF NOT EXISTS intent_legs(
  run_id INTEGER, intent_id INTEGER, venue TEXT, side TEXT, qty TEXT, limit_price TEXT,
  PRIMARY KEY(run_id, intent_id, venue));
CREATE TABLE IF NOT EXISTS orders(
  run_id INTEGER, intent_id INTEGER, position_id INTEGER, venue TEXT, side TEXT, symbol TEXT,
  client_order_id TEXT, state TEXT, status TEXT, requested_qty TEXT, filled_qty TEXT,
  avg_price TEXT, unwound_qty TEXT, unwind_avg_price TEXT, fee TEXT, latency_ns INTEGER,
  http_status INTEGER, error_code INTEGER, error_name TEXT, error_message TEXT, wall_ns INTEGER,
  PRIMARY KEY(run_id, intent_id, venue));
CREATE TABLE IF NOT EXISTS fills(
  run_id INTEGER, intent_id INTEGER, position_id INTEGER, venue TEXT, side TEXT, symbol TEXT,
  qty TEXT, price TEXT, fee TEXT, unwind INTEGER, wall_ns INTEGER,
  fee_base TEXT DEFAULT '0', fee_bnb TEXT DEFAULT '0',
  PRIMARY KEY(run_id, intent_id, venue, unwind));
CREATE TABLE IF NOT EXISTS positions(
  position_id INTEGER PRIMARY KEY, run_id INTEGER, symbol TEXT, direction TEXT, state TEXT,
  exit_reason TEXT, qty TEXT, entry_fx TEXT, close_fx TEXT, realized_pnl_krw REAL,
  created_ns INTEGER, opened_ns INTEGER, closed_ns INTEGER, note TEXT,
  first_venue TEXT, second_venue TEXT);
CREATE TABLE IF NOT EXISTS position_events(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, position_id INTEGER, symbol TEXT,
  direction TEXT, from_state TEXT, to_state TEXT, exit_reason TEXT, qty TEXT, fx_rate TEXT,
  realized_pnl_krw REAL, wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS refusals(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, reason TEXT, symbol TEXT,
  direction TEXT, kind TEXT, edge_bps REAL, wall_ns INTEGER, pair TEXT);
CREATE TABLE IF NOT EXISTS alerts(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, channel TEXT, kind TEXT, severity TEXT,
  key TEXT, text TEXT, sent INTEGER, attempts INTEGER, error TEXT, wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS controls(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, command TEXT, ok INTEGER, effect TEXT,
  wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS logs(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, level TEXT, text TEXT, wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS balances(
  run_id INTEGER, venue TEXT, asset TEXT, qty TEXT, PRIMARY KEY(run_id, venue, asset));
CREATE TABLE IF NOT EXISTS acceptances(
  run_id INTEGER, venue TEXT, asset TEXT, expected TEXT, held TEXT, wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS reconciliations(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, venue TEXT, asset TEXT, expected TEXT,
  held TEXT, wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS transfers(
  id INTEGER PRIMARY KEY AUTOINCREMENT, run_id INTEGER, venue TEXT, asset TEXT, qty TEXT,
  wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS searched_runs(
  run_id INTEGER PRIMARY KEY, by_run INTEGER, wall_ns INTEGER);
CREATE TABLE IF NOT EXISTS dust(
  run_id INTEGER, position_id INTEGER, venue TEXT, asset TEXT, qty TEXT, wall_ns INTEGER,
  PRIMARY KEY(position_id, venue));
CREATE INDEX IF NOT EXISTS fills_by_position ON fills(position_id);
CREATE INDEX IF NOT EXISTS positions_by_state ON positions(state);
)sql";

// Migration 2: the columns journals written before version 1 may lack, and their intents' legs
// copied from a column set per venue into rows. Each step looks first: a journal may be at any
// point of that history.
void add_columns_of_early_journals(sqlite3* db) {
  // Journals written before commissions were kept by asset: add the columns (their fills were
  // all counted in the quote currency).
  for (const char* column : {"fee_base", "fee_bnb"}) {
    Stmt has(db, "SELECT COUNT(*) FROM pragma_table_info('fills') WHERE name=?1");
    has.bind(1, std::string_view(column));
    if (has.step() == SQLITE_ROW && has.i64(0) == 0) {
      exec(db, "ALTER TABLE fills ADD COLUMN " + std::string(column) + " TEXT DEFAULT '0'");
    }
  }
  // Journals written before positions named their pair traded the registry's legacy pair.
  for (const auto& [column, venue] : {std::pair{"first_venue", venues::kLegacyPair.first},
                                      std::pair{"second_venue", venues::kLegacyPair.second}}) {
    Stmt has(db, "SELECT COUNT(*) FROM pragma_table_info('positions') WHERE name=?1");
    has.bind(1, std::string_view(column));
    if (has.step() == SQLITE_ROW && has.i64(0) == 0) {
      exec(db, "ALTER TABLE positions ADD COLUMN " + std::string(column) + " TEXT DEFAULT '" +
                   std::string(to_string(venue)) + "'");
    }
  }
  // Journals written before refusals named their pair: theirs were the legacy pair's.
  {
    Stmt has(db, "SELECT COUNT(*) FROM pragma_table_info('refusals') WHERE name='pair'");
    if (has.step() == SQLITE_ROW && has.i64(0) == 0) {
      exec(db, "ALTER TABLE refusals ADD COLUMN pair TEXT DEFAULT '" +
                   to_string(venues::kLegacyPair) + "'");
    }
  }
  // Journals written before intents kept their legs as rows had a column set per venue: copy
  // them into intent_legs (idempotent; rows written since leave those columns empty). Those
  // columns were named after the legacy pair's venues (<venue>_side, _qty, _limit).
  {
    Stmt has(db, "SELECT COUNT(*) FROM pragma_table_info('intents') WHERE name=?1");
    const std::string legacy_column = std::string(to_string(venues::kLegacyPair.first)) + "_side";
    has.bind(1, std::string_view(legacy_column));
    if (has.step() == SQLITE_ROW && has.i64(0) != 0) {
      for (const Venue v : {venues::kLegacyPair.first, venues::kLegacyPair.second}) {
        const std::string n(to_string(v));
        exec(db,
             "INSERT OR IGNORE INTO intent_legs(run_id,intent_id,venue,side,qty,limit_price) "
             "SELECT run_id,intent_id,'" +
                 n + "'," + n + "_side," + n + "_qty," + n + "_limit FROM intents WHERE " + n +
                 "_side IS NOT NULL");
      }
    }
  }
}

// Numbered migrations: migration k brings version k-1 to k. A later schema change is a new entry
// here (ALTER TABLE, CREATE INDEX, ...), never a change to an earlier one.
void run_migration(sqlite3* db, int version) {
  switch (version) {
    case 1:
      exec(db, kSchema);
      break;
    case 2:
      add_columns_of_early_journals(db);
      break;
    default:
      throw std::runtime_error("journal: no migration to version " + std::to_string(version));
  }
}

}  // namespace

void exec(sqlite3* db, std::string_view sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string text = msg != nullptr ? msg : "unknown error";
    sqlite3_free(msg);
    throw std::runtime_error("journal: " + text);
  }
}

int schema_version(sqlite3* db) {
  Stmt st(db, "PRAGMA user_version");
  return st.step() == SQLITE_ROW ? static_cast<int>(st.i64(0)) : 0;
}

void refuse_newer(sqlite3* db, int version) {
  if (version <= kSchemaVersion) return;
  const char* file = sqlite3_db_filename(db, "main");
  throw std::runtime_error("journal " + std::string(file != nullptr ? file : "") +
                           " is at schema version " + std::to_string(version) +
                           ", newer than this xarb's " + std::to_string(kSchemaVersion) +
                           ": use the xarb that wrote it, or a newer one");
}

void migrate(sqlite3* db) {
  refuse_newer(db, schema_version(db));
  for (int v = schema_version(db); v < kSchemaVersion; ++v) {
    exec(db, "BEGIN IMMEDIATE");
    try {
      // Another process may have migrated meanwhile: the version is read again under the lock.
      if (schema_version(db) == v) {
        run_migration(db, v + 1);
        exec(db, "PRAGMA user_version=" + std::to_string(v + 1));
      }
      exec(db, "COMMIT");
    } catch (...) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }
}

}  // namespace xarb::app::journal_detail
