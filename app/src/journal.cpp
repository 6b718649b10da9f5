#include <xarb/app/journal.hpp>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <iomanip>
#include <map>
#include <ostream>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <variant>

#include <xarb/app/config.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

// SQL: the row of table alias `t` belongs to a run of the same mode as run ?1 (a journal written
// before runs were recorded has no mode: its rows are all of one).
std::string same_mode(std::string_view t) {
  return "COALESCE((SELECT mode FROM runs WHERE run_id=" + std::string(t) +
         ".run_id),'')=COALESCE((SELECT mode FROM runs WHERE run_id=?1),'')";
}

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

// A prepared statement, reset after each use.
class Stmt {
 public:
  Stmt(sqlite3* db, std::string_view sql) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("journal: ") + sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, Decimal v) { return bind(i, std::string_view(to_string(v))); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }

  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  [[nodiscard]] std::int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  [[nodiscard]] double real(int col) const { return sqlite3_column_double(stmt_, col); }
  [[nodiscard]] std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  [[nodiscard]] Decimal dec(int col) const {
    Decimal d;
    return Decimal::parse(text(col), d) == Errc::ok ? d : Decimal{};
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

template <class E>
E parse_enum(std::string_view text, E count) {
  for (int k = 0; k < static_cast<int>(count); ++k) {
    if (to_string(static_cast<E>(k)) == text) return static_cast<E>(k);
  }
  return static_cast<E>(0);
}

Side parse_side(std::string_view s) { return s == "sell" ? Side::sell : Side::buy; }
// kNoVenue for a name the registry does not have.
Venue parse_venue(std::string_view s) { return venues::from_name(s).value_or(kNoVenue); }
Direction parse_direction(std::string_view s) {
  return s == "reverse" ? Direction::reverse : Direction::kimchi;
}

// The columns fold_fills reads, in its order.
constexpr const char* kFoldColumns = "venue,side,qty,price,fee,fee_base,fee_bnb";

// Adds the fills a statement yields (kFoldColumns) to the position's legs, as the strategy adds a
// report's legs.
void fold_fills(Stmt& fills, signal::Position& p) {
  if (!p.pair.valid()) return;  // a position row that names no pair of known venues
  p.first().entry_side = signal::entry_side(p.direction, true);
  p.second().entry_side = signal::entry_side(p.direction, false);
  while (fills.step() == SQLITE_ROW) {
    const Venue venue = parse_venue(fills.text(0));
    if (!p.pair.contains(venue)) continue;  // never written: fills are on the pair
    signal::PositionLeg& leg = p.leg(venue);
    const Side side = parse_side(fills.text(1));
    (side == leg.entry_side ? leg.opened : leg.closed).add(fills.dec(2), fills.dec(3));
    leg.fees_e16 += static_cast<Int128>(fills.dec(4).mantissa()) * Decimal::kOne;
    leg.fee_base += fills.dec(5).mantissa();
    leg.fee_bnb += fills.dec(6).mantissa();
  }
  fills.reset();
  p.refresh();
}

}  // namespace

struct Journal::Db {
  sqlite3* db = nullptr;
  std::unique_ptr<Stmt> intent, intent_leg, order, fill, position_new, position_update,
      position_event, refusal, log, intent_outcome, alert;

  ~Db() {
    intent.reset();
    intent_leg.reset();
    order.reset();
    fill.reset();
    position_new.reset();
    position_update.reset();
    position_event.reset();
    refusal.reset();
    log.reset();
    intent_outcome.reset();
    alert.reset();
    if (db != nullptr) sqlite3_close(db);
  }
  void exec(std::string_view sql) const {
    char* msg = nullptr;
    if (sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string text = msg != nullptr ? msg : "unknown error";
      sqlite3_free(msg);
      throw std::runtime_error("journal: " + text);
    }
  }
};

Journal::Journal(const std::filesystem::path& path, int busy_timeout_ms)
    : db_(std::make_unique<Db>()) {
  if (sqlite3_open_v2(path.c_str(), &db_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    throw std::runtime_error("journal " + path.string() + ": " +
                             (db_->db != nullptr ? sqlite3_errmsg(db_->db) : "cannot open"));
  }
  sqlite3_busy_timeout(db_->db, busy_timeout_ms);
  // WAL: the ops thread appends, readers (xarb journal) never block it. A small page cache keeps
  // the engine's memory flat however long it runs.
  db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-512;");
  db_->exec(kSchema);
  // Journals written before commissions were kept by asset: add the columns (their fills were
  // all counted in the quote currency).
  for (const char* column : {"fee_base", "fee_bnb"}) {
    Stmt has(db_->db, "SELECT COUNT(*) FROM pragma_table_info('fills') WHERE name=?1");
    has.bind(1, std::string_view(column));
    if (has.step() == SQLITE_ROW && has.i64(0) == 0) {
      db_->exec("ALTER TABLE fills ADD COLUMN " + std::string(column) + " TEXT DEFAULT '0'");
    }
  }
  // Journals written before positions named their pair traded Upbit against Binance.
  for (const auto& [column, venue] : {std::pair{"first_venue", venues::kUpbitBinance.first},
                                      std::pair{"second_venue", venues::kUpbitBinance.second}}) {
    Stmt has(db_->db, "SELECT COUNT(*) FROM pragma_table_info('positions') WHERE name=?1");
    has.bind(1, std::string_view(column));
    if (has.step() == SQLITE_ROW && has.i64(0) == 0) {
      db_->exec("ALTER TABLE positions ADD COLUMN " + std::string(column) + " TEXT DEFAULT '" +
                std::string(to_string(venue)) + "'");
    }
  }
  // Journals written before refusals named their pair: theirs were Upbit's against Binance.
  {
    Stmt has(db_->db, "SELECT COUNT(*) FROM pragma_table_info('refusals') WHERE name='pair'");
    if (has.step() == SQLITE_ROW && has.i64(0) == 0) {
      db_->exec("ALTER TABLE refusals ADD COLUMN pair TEXT DEFAULT '" +
                to_string(venues::kUpbitBinance) + "'");
    }
  }
  // Journals written before intents kept their legs as rows had a column set per venue: copy
  // them into intent_legs (idempotent; rows written since leave those columns empty).
  {
    Stmt has(db_->db, "SELECT COUNT(*) FROM pragma_table_info('intents') WHERE name='upbit_side'");
    if (has.step() == SQLITE_ROW && has.i64(0) != 0) {
      for (const Venue v : {venues::kUpbit, venues::kBinance}) {
        const std::string n(to_string(v));
        db_->exec(
            "INSERT OR IGNORE INTO intent_legs(run_id,intent_id,venue,side,qty,limit_price) "
            "SELECT run_id,intent_id,'" +
            n + "'," + n + "_side," + n + "_qty," + n + "_limit FROM intents WHERE " + n +
            "_side IS NOT NULL");
      }
    }
  }
  sqlite3* d = db_->db;
  db_->intent = std::make_unique<Stmt>(
      d,
      "INSERT INTO intents(run_id,intent_id,position_id,kind,direction,exit_reason,"
      "symbol,fx_rate,edge_bps,wall_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10) "
      // The ops queue orders events per producer only: exec's report may come first.
      "ON CONFLICT(run_id,intent_id) DO UPDATE SET position_id=excluded.position_id,"
      "kind=excluded.kind,direction=excluded.direction,exit_reason=excluded.exit_reason,"
      "symbol=excluded.symbol,fx_rate=excluded.fx_rate,edge_bps=excluded.edge_bps,"
      "wall_ns=excluded.wall_ns");
  db_->intent_leg = std::make_unique<Stmt>(
      d,
      "INSERT OR REPLACE INTO intent_legs(run_id,intent_id,venue,side,qty,limit_price) "
      "VALUES(?1,?2,?3,?4,?5,?6)");
  db_->intent_outcome = std::make_unique<Stmt>(
      d,
      "INSERT INTO intents(run_id,intent_id,position_id,kind,outcome,refusal,reported_ns) "
      "VALUES(?1,?2,?6,?7,?3,?4,?5) ON CONFLICT(run_id,intent_id) DO UPDATE SET "
      "outcome=excluded.outcome,refusal=excluded.refusal,reported_ns=excluded.reported_ns");
  db_->order = std::make_unique<Stmt>(
      d,
      "INSERT OR REPLACE INTO orders(run_id,intent_id,position_id,venue,side,symbol,"
      "client_order_id,state,status,requested_qty,filled_qty,avg_price,unwound_qty,"
      "unwind_avg_price,fee,latency_ns,http_status,error_code,error_name,error_message,wall_ns) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)");
  db_->fill = std::make_unique<Stmt>(
      d,
      "INSERT OR IGNORE INTO fills(run_id,intent_id,position_id,venue,side,symbol,qty,price,fee,"
      "unwind,wall_ns,fee_base,fee_bnb) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  db_->position_new = std::make_unique<Stmt>(
      d,
      "INSERT OR IGNORE INTO positions(position_id,run_id,symbol,direction,state,exit_reason,qty,"
      "entry_fx,realized_pnl_krw,created_ns,first_venue,second_venue) "
      "VALUES(?1,?2,?3,?4,?5,'none',?6,?7,0,?8,?9,?10)");
  db_->position_update = std::make_unique<Stmt>(
      d,
      "UPDATE positions SET state=?2, exit_reason=?3, qty=CASE WHEN ?4='0' THEN qty ELSE ?4 END,"
      " entry_fx=CASE WHEN ?2='open' THEN ?5 ELSE entry_fx END,"
      " close_fx=CASE WHEN ?2='closed' THEN ?5 ELSE close_fx END,"
      " realized_pnl_krw=CASE WHEN ?2='closed' THEN ?6 ELSE realized_pnl_krw END,"
      " opened_ns=CASE WHEN ?2='open' AND opened_ns IS NULL THEN ?7 ELSE opened_ns END,"
      " closed_ns=CASE WHEN ?2='closed' THEN ?7 ELSE closed_ns END WHERE position_id=?1");
  db_->position_event = std::make_unique<Stmt>(
      d,
      "INSERT INTO position_events(run_id,position_id,symbol,direction,from_state,to_state,"
      "exit_reason,qty,fx_rate,realized_pnl_krw,wall_ns) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  db_->refusal = std::make_unique<Stmt>(
      d,
      "INSERT INTO refusals(run_id,reason,symbol,direction,kind,edge_bps,wall_ns,pair) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
  db_->log = std::make_unique<Stmt>(
      d, "INSERT INTO logs(run_id,level,text,wall_ns) VALUES(?1,?2,?3,?4)");
  db_->alert = std::make_unique<Stmt>(
      d,
      "INSERT INTO alerts(run_id,channel,kind,severity,key,text,sent,attempts,error,wall_ns) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)");
}

Journal::~Journal() { commit(); }

void Journal::fail(std::string_view what) noexcept {
  ++write_errors_;
  try {
    last_error_ = std::string(what) + ": " + sqlite3_errmsg(db_->db);
  } catch (...) {
  }
}

std::string_view Journal::symbol(InstrumentId i) const noexcept {
  return i < symbol_names_.size() ? std::string_view(symbol_names_[i]) : std::string_view("?");
}

void Journal::begin_run(std::uint64_t run_id, std::int64_t wall_ns, std::string_view mode,
                        std::string_view config_text, const SymbolMap& symbols) {
  run_id_ = run_id;
  symbol_names_.clear();
  for (const Instrument& s : symbols) symbol_names_.emplace_back(s.base.view());
  Stmt st(db_->db, "INSERT OR REPLACE INTO runs(run_id,started_ns,mode,config) VALUES(?1,?2,?3,?4)");
  st.bind(1, run_id).bind(2, wall_ns).bind(3, mode).bind(4, config_text);
  if (st.step() != SQLITE_DONE) throw std::runtime_error(std::string("journal: ") + sqlite3_errmsg(db_->db));
}

void Journal::end_run(std::int64_t wall_ns, std::string_view report_json) {
  commit();
  Stmt st(db_->db, "UPDATE runs SET ended_ns=?2, report=?3 WHERE run_id=?1");
  st.bind(1, run_id_).bind(2, wall_ns).bind(3, report_json);
  if (st.step() != SQLITE_DONE) fail("end_run");
}

std::int64_t Journal::memory_used() noexcept { return sqlite3_memory_used(); }

void Journal::commit() noexcept {
  if (!in_txn_) return;
  in_txn_ = false;
  if (sqlite3_exec(db_->db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) fail("commit");
}

void Journal::record_fill(const JournalFill& f) noexcept {
  try {
    Stmt& st = *db_->fill;
    st.bind(1, f.run_id).bind(2, f.intent_id).bind(3, f.position_id);
    st.bind(4, to_string(f.venue)).bind(5, to_string(f.side)).bind(6, std::string_view(f.symbol));
    st.bind(7, f.qty).bind(8, f.price).bind(9, f.fee).bind(10, f.unwind ? 1 : 0).bind(11, f.wall_ns);
    st.bind(12, f.fee_base).bind(13, f.fee_bnb);
    if (st.step() != SQLITE_DONE) fail("fill");
    st.reset();
  } catch (...) {
    fail("fill");
  }
}

void Journal::record_alert(const JournalAlert& a) noexcept {
  try {
    Stmt& st = *db_->alert;
    st.bind(1, run_id_).bind(2, std::string_view(a.channel)).bind(3, std::string_view(a.kind));
    st.bind(4, std::string_view(a.severity)).bind(5, std::string_view(a.key));
    st.bind(6, std::string_view(a.text)).bind(7, a.sent ? 1 : 0).bind(8, a.attempts);
    st.bind(9, std::string_view(a.error)).bind(10, a.wall_ns);
    if (st.step() != SQLITE_DONE) fail("alert");
    st.reset();
  } catch (...) {
    fail("alert");
  }
}

void Journal::record_control(const JournalControl& c) noexcept {
  try {
    Stmt st(db_->db,
            "INSERT INTO controls(run_id,command,ok,effect,wall_ns) VALUES(?1,?2,?3,?4,?5)");
    st.bind(1, run_id_).bind(2, std::string_view(c.command)).bind(3, c.ok ? 1 : 0);
    st.bind(4, std::string_view(c.effect)).bind(5, c.wall_ns);
    if (st.step() != SQLITE_DONE) fail("control");
  } catch (...) {
    fail("control");
  }
}

std::vector<JournalControl> Journal::controls(std::uint64_t run_id) {
  std::vector<JournalControl> out;
  Stmt st(db_->db, "SELECT command,ok,effect,wall_ns FROM controls WHERE run_id=?1 ORDER BY id");
  st.bind(1, run_id);
  while (st.step() == SQLITE_ROW) {
    out.push_back({st.text(0), st.i64(1) != 0, st.text(2), st.i64(3)});
  }
  return out;
}

void Journal::record_transfer(const JournalTransfer& t) {
  Stmt st(db_->db, "INSERT INTO transfers(run_id,venue,asset,qty,wall_ns) VALUES(?1,?2,?3,?4,?5)");
  st.bind(1, t.run_id).bind(2, to_string(t.venue)).bind(3, std::string_view(t.asset));
  st.bind(4, t.qty).bind(5, t.wall_ns);
  if (st.step() != SQLITE_DONE) throw std::runtime_error("journal: cannot write the transfer");
}

std::vector<JournalTransfer> Journal::transfers(std::uint64_t run_id) {
  commit();
  std::vector<JournalTransfer> out;
  Stmt st(
      db_->db,
      "SELECT run_id,venue,asset,qty,wall_ns FROM transfers WHERE ?1=0 OR run_id=?1 ORDER BY id");
  st.bind(1, run_id);
  while (st.step() == SQLITE_ROW) {
    out.push_back({static_cast<std::uint64_t>(st.i64(0)), parse_venue(st.text(1)), st.text(2),
                   st.dec(3), st.i64(4)});
  }
  return out;
}

std::vector<JournalAlert> Journal::alerts(std::uint64_t run_id) {
  std::vector<JournalAlert> out;
  Stmt st(db_->db,
          "SELECT channel,kind,severity,key,text,sent,attempts,error,wall_ns FROM alerts "
          "WHERE run_id=?1 ORDER BY id");
  st.bind(1, run_id);
  while (st.step() == SQLITE_ROW) {
    out.push_back({st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.i64(5) != 0,
                   static_cast<int>(st.i64(6)), st.text(7), st.i64(8)});
  }
  return out;
}

// An order a report left unknown, settled later in the same run: its fills are added to the
// intent's rows for its venue (one row per side: quantities add, prices average by quantity,
// commissions add) and the order row takes the venue's final word.
void Journal::record_settlement(const ExecReport& r, std::int64_t wall_ns) {
  for (const LegReport& leg : r.legs) {
    if (leg.client_order_id.empty()) continue;
    for (const bool unwind : {false, true}) {
      const Decimal q = unwind ? leg.unwound_qty : leg.filled_qty;
      if (!q.is_positive()) continue;
      JournalFill f{run_id_, r.intent_id, r.position_id, leg.venue,
                    unwind ? opposite(leg.side) : leg.side, std::string(symbol(leg.instrument)),
                    q, unwind ? leg.unwind_avg_price : leg.avg_price, leg.fee, unwind, wall_ns,
                    leg.fee_base, leg.fee_bnb};
      Stmt old(db_->db,
               "SELECT qty,price,fee,fee_base,fee_bnb FROM fills WHERE run_id=?1 AND "
               "intent_id=?2 AND venue=?3 AND unwind=?4");
      old.bind(1, run_id_).bind(2, r.intent_id).bind(3, to_string(leg.venue)).bind(4, unwind ? 1 : 0);
      if (old.step() == SQLITE_ROW) {
        const Decimal oq = old.dec(0);
        const Decimal total = Decimal::from_mantissa(oq.mantissa() + q.mantissa());
        if (total.is_positive()) {
          const Int128 notional = static_cast<Int128>(oq.mantissa()) * old.dec(1).mantissa() +
                                  static_cast<Int128>(q.mantissa()) * f.price.mantissa();
          f.price = Decimal::from_mantissa(static_cast<std::int64_t>(notional / total.mantissa()));
        }
        f.qty = total;
        f.fee = Decimal::from_mantissa(old.dec(2).mantissa() + f.fee.mantissa());
        f.fee_base = Decimal::from_mantissa(old.dec(3).mantissa() + f.fee_base.mantissa());
        f.fee_bnb = Decimal::from_mantissa(old.dec(4).mantissa() + f.fee_bnb.mantissa());
      }
      Stmt del(db_->db,
               "DELETE FROM fills WHERE run_id=?1 AND intent_id=?2 AND venue=?3 AND unwind=?4");
      del.bind(1, run_id_).bind(2, r.intent_id).bind(3, to_string(leg.venue)).bind(4, unwind ? 1 : 0);
      if (del.step() != SQLITE_DONE) fail("settle fill");
      record_fill(f);
    }
    Stmt up(db_->db,
            "UPDATE orders SET state=?4, status=?5, "
            "filled_qty=COALESCE((SELECT qty FROM fills f WHERE f.run_id=?1 AND f.intent_id=?2 "
            "AND f.venue=?3 AND f.unwind=0), filled_qty), "
            "avg_price=COALESCE((SELECT price FROM fills f WHERE f.run_id=?1 AND f.intent_id=?2 "
            "AND f.venue=?3 AND f.unwind=0), avg_price), "
            "unwound_qty=COALESCE((SELECT qty FROM fills f WHERE f.run_id=?1 AND f.intent_id=?2 "
            "AND f.venue=?3 AND f.unwind=1), unwound_qty) "
            "WHERE run_id=?1 AND intent_id=?2 AND venue=?3");
    up.bind(1, run_id_).bind(2, r.intent_id).bind(3, to_string(leg.venue));
    up.bind(4, to_string(leg.state)).bind(5, to_string(leg.status));
    if (up.step() != SQLITE_DONE) fail("settle order");
  }
}

// What a closed position leaves at each venue: its fills there, net of the commissions taken in
// the base. Anything but zero is dust (the strategy closes a position only when what is left is
// under the venues' minimums); it is kept per position and venue.
void Journal::record_dust(std::uint64_t position_id, std::int64_t wall_ns) {
  Stmt st(db_->db, "SELECT venue, side, qty, fee_base, symbol FROM fills WHERE position_id=?1");
  st.bind(1, position_id);
  std::map<std::string, std::pair<std::int64_t, std::string>> left;  // venue -> (qty, asset)
  while (st.step() == SQLITE_ROW) {
    auto& [m, asset] = left[st.text(0)];
    const std::int64_t q = st.dec(2).mantissa();
    m += (parse_side(st.text(1)) == Side::buy ? q : -q) - st.dec(3).mantissa();
    asset = st.text(4);
  }
  for (const auto& [venue, rest] : left) {
    if (rest.first == 0) continue;
    Stmt in(db_->db,
            "INSERT OR REPLACE INTO dust(run_id,position_id,venue,asset,qty,wall_ns) "
            "VALUES(?1,?2,?3,?4,?5,?6)");
    in.bind(1, run_id_).bind(2, position_id).bind(3, venue).bind(4, rest.second);
    in.bind(5, Decimal::from_mantissa(rest.first)).bind(6, wall_ns);
    if (in.step() != SQLITE_DONE) fail("dust");
  }
}

std::vector<DustReport> Journal::dust(std::uint64_t run_id) {
  commit();
  Stmt st(db_->db,
          "SELECT venue, asset, qty FROM dust WHERE (?1=0 OR run_id=?1) ORDER BY venue, asset");
  st.bind(1, run_id);
  std::vector<DustReport> out;
  while (st.step() == SQLITE_ROW) {
    const Venue v = parse_venue(st.text(0));
    const std::string asset = st.text(1);
    if (out.empty() || out.back().venue != v || out.back().asset != asset) {
      out.push_back(DustReport{v, asset, Decimal{}, 0});
    }
    out.back().qty = Decimal::from_mantissa(out.back().qty.mantissa() + st.dec(2).mantissa());
    ++out.back().positions;
  }
  return out;
}

void Journal::resolve_intent(std::uint64_t run_id, std::uint64_t intent_id,
                             const std::vector<JournalFill>& fills) {
  commit();
  Stmt del(db_->db, "DELETE FROM fills WHERE run_id=?1 AND intent_id=?2");
  del.bind(1, run_id).bind(2, intent_id);
  if (del.step() != SQLITE_DONE) fail("resolve fills");
  for (const JournalFill& f : fills) record_fill(f);
  Stmt up(db_->db,
          "UPDATE orders SET state='recovered' WHERE run_id=?1 AND intent_id=?2 AND "
          "state='unknown'");
  up.bind(1, run_id).bind(2, intent_id);
  if (up.step() != SQLITE_DONE) fail("resolve orders");
  Stmt io(db_->db,
          "UPDATE intents SET outcome='recovered' WHERE run_id=?1 AND intent_id=?2 AND "
          "outcome IS NULL");
  io.bind(1, run_id).bind(2, intent_id);
  if (io.step() != SQLITE_DONE) fail("resolve intent");
}

void Journal::record(const OpsEvent& event) noexcept {
  if (!in_txn_) {
    if (sqlite3_exec(db_->db, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
      fail("begin");
      return;
    }
    in_txn_ = true;
  }
  ++events_;
  try {
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, OrderIntent>) {
            // The strategy writes the pair's first venue's leg first.
            const LegIntent& first = body.legs[0];
            Stmt& st = *db_->intent;
            st.bind(1, run_id_).bind(2, body.intent_id).bind(3, body.position_id);
            st.bind(4, to_string(body.kind)).bind(5, to_string(body.direction));
            st.bind(6, to_string(body.exit_reason)).bind(7, symbol(first.instrument));
            st.bind(8, body.fx_rate).bind(9, body.edge_bps).bind(10, event.wall_ns);
            if (st.step() != SQLITE_DONE) fail("intent");
            st.reset();
            for (const LegIntent& leg : body.legs) {
              if (leg.venue == kNoVenue) continue;
              Stmt& sl = *db_->intent_leg;
              sl.bind(1, run_id_).bind(2, body.intent_id).bind(3, to_string(leg.venue));
              sl.bind(4, to_string(leg.side)).bind(5, leg.quantity).bind(6, leg.limit_price);
              if (sl.step() != SQLITE_DONE) fail("intent leg");
              sl.reset();
            }
            // The position exists from its first intent on, whichever event a crash kept.
            Stmt& pn = *db_->position_new;
            pn.bind(1, body.position_id).bind(2, run_id_).bind(3, symbol(first.instrument));
            pn.bind(4, to_string(body.direction)).bind(5, to_string(PositionState::opening));
            pn.bind(6, Decimal{}).bind(7, body.fx_rate).bind(8, event.wall_ns);
            pn.bind(9, to_string(body.legs[0].venue)).bind(10, to_string(body.legs[1].venue));
            if (pn.step() != SQLITE_DONE) fail("position");
            pn.reset();
          } else if constexpr (std::is_same_v<T, ExecReport>) {
            if (body.settles) {
              record_settlement(body, event.wall_ns);
              return;
            }
            Stmt& io = *db_->intent_outcome;
            io.bind(1, run_id_).bind(2, body.intent_id).bind(3, to_string(body.outcome));
            io.bind(4, to_string(body.refusal)).bind(5, event.wall_ns);
            io.bind(6, body.position_id).bind(7, to_string(body.kind));
            if (io.step() != SQLITE_DONE) fail("intent outcome");
            io.reset();
            for (const LegReport& leg : body.legs) {
              if (leg.requested_qty.is_zero() && leg.filled_qty.is_zero()) continue;
              Stmt& st = *db_->order;
              st.bind(1, run_id_).bind(2, body.intent_id).bind(3, body.position_id);
              st.bind(4, to_string(leg.venue)).bind(5, to_string(leg.side));
              st.bind(6, symbol(leg.instrument)).bind(7, leg.client_order_id.view());
              st.bind(8, to_string(leg.state)).bind(9, to_string(leg.status));
              st.bind(10, leg.requested_qty).bind(11, leg.filled_qty).bind(12, leg.avg_price);
              st.bind(13, leg.unwound_qty).bind(14, leg.unwind_avg_price).bind(15, leg.fee);
              st.bind(16, leg.latency_ns).bind(17, leg.error.http_status).bind(18, leg.error.code);
              st.bind(19, leg.error.name.view()).bind(20, leg.error.message.view());
              st.bind(21, event.wall_ns);
              if (st.step() != SQLITE_DONE) fail("order");
              st.reset();
              // The leg's commissions go on its first row, whichever side they were charged on.
              JournalFill f{run_id_, body.intent_id, body.position_id, leg.venue, leg.side,
                            std::string(symbol(leg.instrument)), leg.filled_qty, leg.avg_price,
                            leg.fee, false, event.wall_ns, leg.fee_base, leg.fee_bnb};
              if (leg.filled_qty.is_positive() || leg.fee.is_positive() ||
                  leg.fee_base.is_positive() || leg.fee_bnb.is_positive()) {
                record_fill(f);
              }
              if (leg.unwound_qty.is_positive()) {
                f.side = opposite(leg.side);
                f.qty = leg.unwound_qty;
                f.price = leg.unwind_avg_price;
                f.fee = f.fee_base = f.fee_bnb = Decimal{};
                f.unwind = true;
                record_fill(f);
              }
            }
          } else if constexpr (std::is_same_v<T, PositionChange>) {
            if (body.from == body.to || body.to == PositionState::opening) {
              Stmt& st = *db_->position_new;
              st.bind(1, body.position_id).bind(2, run_id_).bind(3, symbol(body.instrument));
              st.bind(4, to_string(body.direction)).bind(5, to_string(body.to));
              st.bind(6, body.qty).bind(7, body.fx_rate).bind(8, event.wall_ns);
              st.bind(9, to_string(body.pair.first)).bind(10, to_string(body.pair.second));
              if (st.step() != SQLITE_DONE) fail("position");
              st.reset();
            }
            Stmt& up = *db_->position_update;
            up.bind(1, body.position_id).bind(2, to_string(body.to));
            up.bind(3, to_string(body.exit_reason)).bind(4, body.qty).bind(5, body.fx_rate);
            up.bind(6, body.realized_krw.to_double()).bind(7, event.wall_ns);
            if (up.step() != SQLITE_DONE) fail("position update");
            up.reset();
            Stmt& ev = *db_->position_event;
            ev.bind(1, run_id_).bind(2, body.position_id).bind(3, symbol(body.instrument));
            ev.bind(4, to_string(body.direction)).bind(5, to_string(body.from));
            ev.bind(6, to_string(body.to)).bind(7, to_string(body.exit_reason)).bind(8, body.qty);
            ev.bind(9, body.fx_rate)
                .bind(10, body.realized_krw.to_double())
                .bind(11, event.wall_ns);
            if (ev.step() != SQLITE_DONE) fail("position event");
            ev.reset();
            if (body.to == PositionState::closed) record_dust(body.position_id, event.wall_ns);
          } else if constexpr (std::is_same_v<T, RiskRefusal>) {
            Stmt& st = *db_->refusal;
            st.bind(1, run_id_).bind(2, to_string(body.reason)).bind(3, symbol(body.instrument));
            st.bind(4, to_string(body.direction)).bind(5, to_string(body.kind));
            st.bind(6, body.edge_bps).bind(7, event.wall_ns).bind(8, to_string(body.pair));
            if (st.step() != SQLITE_DONE) fail("refusal");
            st.reset();
          } else if constexpr (std::is_same_v<T, LogRecord>) {
            constexpr std::array<std::string_view, 4> kLevels = {"debug", "info", "warn", "error"};
            Stmt& st = *db_->log;
            st.bind(1, run_id_).bind(2, kLevels[static_cast<std::size_t>(body.level) & 3]);
            st.bind(3, body.text.view()).bind(4, event.wall_ns);
            if (st.step() != SQLITE_DONE) fail("log");
            st.reset();
          }
        },
        event.body);
  } catch (...) {
    fail("record");
  }
}

std::vector<JournalFill> Journal::fills(std::uint64_t run_id) {
  Stmt st(db_->db,
          "SELECT run_id,intent_id,position_id,venue,side,symbol,qty,price,fee,unwind,wall_ns,"
          "fee_base,fee_bnb FROM fills WHERE ?1=0 OR run_id=?1 ORDER BY wall_ns, intent_id, venue");
  st.bind(1, run_id);
  std::vector<JournalFill> out;
  while (st.step() == SQLITE_ROW) {
    out.push_back({static_cast<std::uint64_t>(st.i64(0)), static_cast<std::uint64_t>(st.i64(1)),
                   static_cast<std::uint64_t>(st.i64(2)), parse_venue(st.text(3)),
                   parse_side(st.text(4)), st.text(5), st.dec(6), st.dec(7), st.dec(8),
                   st.i64(9) != 0, st.i64(10), st.dec(11), st.dec(12)});
  }
  return out;
}

std::vector<JournalPosition> Journal::open_positions(const SymbolMap& symbols,
                                                    std::string_view mode) {
  commit();
  std::vector<JournalPosition> out;
  Stmt st(db_->db,
          "SELECT position_id,run_id,symbol,direction,state,entry_fx,"
          "COALESCE(opened_ns,created_ns),first_venue,second_venue FROM positions "
          "WHERE state<>'closed' AND "
          "(COALESCE(?1,'')='' OR run_id IN (SELECT run_id FROM runs WHERE mode=?1)) "
          "ORDER BY position_id");
  st.bind(1, mode);
  Stmt fills(db_->db, std::string("SELECT ") + kFoldColumns +
                         " FROM fills WHERE position_id=?1 ORDER BY wall_ns, intent_id");
  while (st.step() == SQLITE_ROW) {
    JournalPosition jp;
    signal::Position& p = jp.position;
    p.id = static_cast<std::uint64_t>(st.i64(0));
    jp.run_id = static_cast<std::uint64_t>(st.i64(1));
    jp.symbol = st.text(2);
    p.instrument = symbols.find_base(jp.symbol);
    p.direction = parse_direction(st.text(3));
    p.state = parse_enum(st.text(4), static_cast<PositionState>(5));
    p.entry_fx = st.dec(5);
    jp.opened_wall_ns = st.i64(6);
    p.pair = {parse_venue(st.text(7)), parse_venue(st.text(8))};
    fills.bind(1, p.id);
    fold_fills(fills, p);
    out.push_back(std::move(jp));
  }
  return out;
}

std::vector<UnresolvedIntent> Journal::unresolved_intents(std::string_view mode) {
  commit();
  std::vector<UnresolvedIntent> out;
  Stmt st(db_->db,
          "SELECT run_id,intent_id,position_id,kind,symbol FROM intents "
          "WHERE (outcome IS NULL OR EXISTS (SELECT 1 FROM orders o "
          "WHERE o.run_id=intents.run_id AND o.intent_id=intents.intent_id AND "
          "o.state='unknown')) AND "
          "(COALESCE(?1,'')='' OR run_id IN (SELECT run_id FROM runs WHERE mode=?1)) "
          "ORDER BY run_id, intent_id");
  st.bind(1, mode);
  Stmt legs(db_->db, "SELECT venue,side,qty FROM intent_legs WHERE run_id=?1 AND intent_id=?2");
  while (st.step() == SQLITE_ROW) {
    UnresolvedIntent u;
    u.run_id = static_cast<std::uint64_t>(st.i64(0));
    u.intent_id = static_cast<std::uint64_t>(st.i64(1));
    u.position_id = static_cast<std::uint64_t>(st.i64(2));
    u.kind = st.text(3) == "exit" ? IntentKind::exit : IntentKind::entry;
    u.symbol = st.text(4);
    legs.bind(1, u.run_id).bind(2, u.intent_id);
    while (legs.step() == SQLITE_ROW) {
      const Venue v = parse_venue(legs.text(0));
      if (!valid(v)) continue;
      u.sides[index(v)] = parse_side(legs.text(1));
      u.qty[index(v)] = legs.dec(2);
    }
    legs.reset();
    out.push_back(std::move(u));
  }
  return out;
}

void Journal::mark_broken(std::uint64_t position_id, std::int64_t wall_ns, std::string_view why) {
  commit();
  Stmt st(db_->db, "UPDATE positions SET state='broken', note=?2 WHERE position_id=?1");
  st.bind(1, position_id).bind(2, why);
  if (st.step() != SQLITE_DONE) fail("mark_broken");
  Stmt ev(db_->db,
          "INSERT INTO position_events(run_id,position_id,symbol,direction,from_state,to_state,"
          "exit_reason,qty,fx_rate,realized_pnl_krw,wall_ns) SELECT ?1,position_id,symbol,"
          "direction,state,'broken','none',qty,entry_fx,0,?3 FROM positions WHERE position_id=?2");
  ev.bind(1, run_id_).bind(2, position_id).bind(3, wall_ns);
  if (ev.step() != SQLITE_DONE) fail("mark_broken event");
}

std::uint64_t Journal::max_position_id() {
  commit();
  Stmt st(db_->db, "SELECT COALESCE(MAX(position_id),0) FROM positions");
  return st.step() == SQLITE_ROW ? static_cast<std::uint64_t>(st.i64(0)) : 0;
}

std::uint64_t Journal::last_run_id(std::uint64_t before, std::string_view mode) {
  commit();
  Stmt st(db_->db,
          "SELECT COALESCE(MAX(run_id),0) FROM runs WHERE run_id < ?1 AND "
          "(COALESCE(?2,'')='' OR mode=?2)");
  st.bind(1, static_cast<std::int64_t>(std::min<std::uint64_t>(before, INT64_MAX))).bind(2, mode);
  return st.step() == SQLITE_ROW ? static_cast<std::uint64_t>(st.i64(0)) : 0;
}

std::int64_t Journal::last_activity_ns(std::uint64_t run_id) {
  commit();
  Stmt st(db_->db,
          "SELECT MAX(t) FROM ("
          "SELECT MAX(wall_ns) AS t FROM intents WHERE run_id=?1 UNION ALL "
          "SELECT MAX(wall_ns) FROM orders WHERE run_id=?1 UNION ALL "
          "SELECT MAX(wall_ns) FROM position_events WHERE run_id=?1 UNION ALL "
          "SELECT MAX(wall_ns) FROM logs WHERE run_id=?1 UNION ALL "
          "SELECT MAX(COALESCE(ended_ns, started_ns)) FROM runs WHERE run_id=?1)");
  st.bind(1, run_id);
  return st.step() == SQLITE_ROW ? st.i64(0) : 0;
}

std::vector<std::uint64_t> Journal::unsearched_runs(std::uint64_t before, std::string_view mode) {
  commit();
  Stmt st(db_->db,
          "SELECT run_id FROM runs WHERE run_id < ?1 AND mode=?2 AND ended_ns IS NULL AND "
          "run_id NOT IN (SELECT run_id FROM searched_runs) ORDER BY run_id");
  st.bind(1, static_cast<std::int64_t>(std::min<std::uint64_t>(before, INT64_MAX))).bind(2, mode);
  std::vector<std::uint64_t> out;
  while (st.step() == SQLITE_ROW) out.push_back(static_cast<std::uint64_t>(st.i64(0)));
  return out;
}

void Journal::mark_searched(std::uint64_t run_id, std::int64_t wall_ns) {
  commit();
  Stmt st(db_->db, "INSERT OR REPLACE INTO searched_runs(run_id,by_run,wall_ns) VALUES(?1,?2,?3)");
  st.bind(1, run_id).bind(2, run_id_).bind(3, wall_ns);
  if (st.step() != SQLITE_DONE) fail("searched run");
}

bool Journal::ended(std::uint64_t run_id) {
  commit();
  Stmt st(db_->db, "SELECT ended_ns IS NOT NULL FROM runs WHERE run_id=?1");
  st.bind(1, run_id);
  return st.step() == SQLITE_ROW && st.i64(0) != 0;
}

std::uint64_t Journal::runs_of_mode(std::string_view mode) {
  commit();
  Stmt st(db_->db, "SELECT COUNT(*) FROM runs WHERE mode=?1");
  st.bind(1, mode);
  return st.step() == SQLITE_ROW ? static_cast<std::uint64_t>(st.i64(0)) : 0;
}

std::uint64_t Journal::max_intent_id(std::uint64_t run_id) {
  commit();
  Stmt st(db_->db, "SELECT COALESCE(MAX(intent_id),0) FROM intents WHERE run_id=?1");
  st.bind(1, run_id);
  return st.step() == SQLITE_ROW ? static_cast<std::uint64_t>(st.i64(0)) : 0;
}

void Journal::record_recovered_position(std::uint64_t position_id, std::uint64_t run_id,
                                        std::string_view symbol, VenuePair pair,
                                        Direction direction, std::int64_t wall_ns,
                                        std::string_view why) {
  commit();
  Stmt st(db_->db,
          "INSERT OR IGNORE INTO positions(position_id,run_id,symbol,direction,state,exit_reason,"
          "qty,entry_fx,realized_pnl_krw,created_ns,note,first_venue,second_venue) "
          "VALUES(?1,?2,?3,?4,'broken','none','0','0',0,?5,?6,?7,?8)");
  st.bind(1, position_id).bind(2, run_id).bind(3, symbol).bind(4, to_string(direction));
  st.bind(5, wall_ns).bind(6, why).bind(7, to_string(pair.first)).bind(8, to_string(pair.second));
  if (st.step() != SQLITE_DONE) fail("recovered position");
}

void Journal::record_balance(std::uint64_t run_id, Venue venue, std::string_view asset,
                             Decimal qty) {
  Stmt st(db_->db, "INSERT OR REPLACE INTO balances(run_id,venue,asset,qty) VALUES(?1,?2,?3,?4)");
  st.bind(1, run_id).bind(2, to_string(venue)).bind(3, asset).bind(4, qty);
  if (st.step() != SQLITE_DONE) fail("balance");
}

// A balance difference into `table` (acceptances or reconciliations: the same columns).
void Journal::record_difference(std::string_view table, std::uint64_t run_id, Venue venue,
                                std::string_view asset, Decimal expected, Decimal held,
                                std::int64_t wall_ns) {
  Stmt st(db_->db, "INSERT INTO " + std::string(table) +
                       "(run_id,venue,asset,expected,held,wall_ns) VALUES(?1,?2,?3,?4,?5,?6)");
  st.bind(1, run_id).bind(2, to_string(venue)).bind(3, asset).bind(4, expected).bind(5, held);
  st.bind(6, wall_ns);
  if (st.step() != SQLITE_DONE) fail(table);
}

void Journal::record_acceptance(std::uint64_t run_id, Venue venue, std::string_view asset,
                                Decimal expected, Decimal held, std::int64_t wall_ns) {
  record_difference("acceptances", run_id, venue, asset, expected, held, wall_ns);
}

void Journal::record_reconciliation(std::uint64_t run_id, Venue venue, std::string_view asset,
                                    Decimal expected, Decimal held, std::int64_t wall_ns) {
  record_difference("reconciliations", run_id, venue, asset, expected, held, wall_ns);
}

std::vector<std::string> ledger_assets(const SymbolMap& symbols, Venue venue) {
  std::vector<std::string> assets;
  for (const Instrument& s : symbols) {
    if (!s.is_fx) assets.emplace_back(s.base.view());
  }
  if (venue == venues::kBinance && symbols.find_base("BNB") == kNoInstrument) {
    assets.emplace_back("BNB");
  }
  assets.emplace_back(venues::quote_asset(venue));
  return assets;
}

std::uint64_t Journal::reconciliations(std::uint64_t run_id) {
  commit();
  Stmt st(db_->db, "SELECT COUNT(*) FROM reconciliations WHERE ?1=0 OR run_id=?1");
  st.bind(1, run_id);
  return st.step() == SQLITE_ROW ? static_cast<std::uint64_t>(st.i64(0)) : 0;
}

std::uint64_t Journal::acceptances() {
  commit();
  Stmt st(db_->db, "SELECT COUNT(*) FROM acceptances");
  return st.step() == SQLITE_ROW ? static_cast<std::uint64_t>(st.i64(0)) : 0;
}

bool Journal::expected_balance(std::uint64_t run_id, Venue venue, std::string_view asset,
                               Decimal& out, Decimal* tolerance) {
  commit();
  // The newest run of the same mode up to `run_id` that recorded the asset: a run killed before
  // it recorded its own start (during its restart checks) leaves the one before it as the
  // baseline, and every fill journaled under the runs since counts.
  Stmt st(db_->db,
          "SELECT b.run_id, b.qty FROM balances b WHERE b.run_id<=?1 AND b.venue=?2 AND "
          "b.asset=?3 AND " +
              same_mode("b") + " ORDER BY b.run_id DESC LIMIT 1");
  st.bind(1, run_id).bind(2, to_string(venue)).bind(3, asset);
  if (st.step() != SQLITE_ROW) return false;
  const auto since = static_cast<std::uint64_t>(st.i64(0));
  std::int64_t m = st.dec(1).mantissa();
  // A base asset moves by the fills net of the commissions taken in it; BNB by the commissions
  // paid in it, whatever the symbol.
  const bool bnb = asset == "BNB";
  const bool quote = asset == venues::quote_asset(venue);
  Stmt f(db_->db,
         "SELECT side, qty, fee_base, fee_bnb, symbol, price, fee FROM fills f WHERE "
         "f.run_id>=?5 AND f.run_id<=?1 AND " +
             same_mode("f") +
             " AND venue=?2 AND "
             "(symbol=?3 OR ?4=1)");
  f.bind(1, run_id).bind(2, to_string(venue)).bind(3, asset).bind(4, bnb || quote ? 1 : 0);
  f.bind(5, since);
  std::int64_t slack = 0;
  while (f.step() == SQLITE_ROW) {
    const std::int64_t q = f.dec(1).mantissa();
    const bool buy = parse_side(f.text(0)) == Side::buy;
    if (f.text(4) == asset) m += (buy ? q : -q) - f.dec(2).mantissa();
    if (bnb) m -= f.dec(3).mantissa();
    if (quote) {
      const auto notional = static_cast<std::int64_t>(static_cast<Int128>(q) *
                                                      f.dec(5).mantissa() / Decimal::kOne);
      m += (buy ? -notional : notional) - f.dec(6).mantissa();
      slack += q / Decimal::kOne + 3;
    }
  }
  // What operators moved in and out of the venue since that baseline.
  Stmt t(db_->db, "SELECT qty FROM transfers t WHERE t.run_id>=?4 AND t.run_id<=?1 AND " +
                      same_mode("t") + " AND venue=?2 AND asset=?3");
  t.bind(1, run_id).bind(2, to_string(venue)).bind(3, asset).bind(4, since);
  while (t.step() == SQLITE_ROW) m += t.dec(0).mantissa();
  out = Decimal::from_mantissa(m);
  if (tolerance != nullptr) *tolerance = Decimal::from_mantissa(slack);
  return true;
}

JournalTotals Journal::totals(std::uint64_t run_id) {
  commit();
  JournalTotals t;
  const auto count = [&](const char* sql) -> std::uint64_t {
    Stmt st(db_->db, sql);
    st.bind(1, run_id);
    return st.step() == SQLITE_ROW ? static_cast<std::uint64_t>(st.i64(0)) : 0;
  };
  t.runs = count("SELECT COUNT(*) FROM runs WHERE ?1=0 OR run_id=?1");
  t.intents = count("SELECT COUNT(*) FROM intents WHERE ?1=0 OR run_id=?1");
  t.orders = count("SELECT COUNT(*) FROM orders WHERE ?1=0 OR run_id=?1");
  t.fills = count("SELECT COUNT(*) FROM fills WHERE ?1=0 OR run_id=?1");
  t.refusals = count("SELECT COUNT(*) FROM refusals WHERE ?1=0 OR run_id=?1");
  {
    Stmt st(db_->db,
            "SELECT reason, COUNT(*) FROM refusals WHERE ?1=0 OR run_id=?1 GROUP BY reason");
    st.bind(1, run_id);
    while (st.step() == SQLITE_ROW) {
      t.refusals_by_reason[st.text(0)] = static_cast<std::uint64_t>(st.i64(1));
    }
  }
  t.open = count("SELECT COUNT(*) FROM positions WHERE (?1=0 OR run_id=?1) AND state<>'closed'");
  t.broken = count("SELECT COUNT(*) FROM positions WHERE (?1=0 OR run_id=?1) AND state='broken'");
  // Closes: positions whose close event belongs to the run (a restored position closes in a
  // later run than it opened in).
  Stmt closed(db_->db,
              "SELECT p.position_id, p.direction, e.fx_rate, e.realized_pnl_krw, p.first_venue, "
              "p.second_venue FROM "
              "position_events e JOIN positions p ON p.position_id=e.position_id "
              "WHERE e.to_state='closed' AND (?1=0 OR e.run_id=?1)");
  closed.bind(1, run_id);
  Stmt fills(db_->db, std::string("SELECT ") + kFoldColumns + " FROM fills WHERE position_id=?1");
  while (closed.step() == SQLITE_ROW) {
    // Positions closed without a trade (refused or unfilled entries) are not counted, as in the
    // strategy's own figures.
    signal::Position p;
    p.direction = parse_direction(closed.text(1));
    p.pair = {parse_venue(closed.text(4)), parse_venue(closed.text(5))};
    if (!p.pair.valid()) continue;
    fills.bind(1, static_cast<std::uint64_t>(closed.i64(0)));
    fold_fills(fills, p);
    if (p.first().opened.qty == 0 && p.second().opened.qty == 0) continue;
    ++t.closed;
    const double reported = closed.real(3);
    t.realized_pnl_krw += reported;
    if (reported > 0.0) ++t.wins;
    t.realized_from_fills_krw += static_cast<double>(p.cash_krw_e16(closed.dec(2))) * 1e-16;
  }
  return t;
}

std::vector<JournalPairTotals> Journal::pair_totals() {
  commit();
  Stmt st(db_->db,
          "SELECT first_venue||'-'||second_venue, "
          "SUM(state='closed' AND EXISTS(SELECT 1 FROM fills f WHERE f.position_id=p.position_id)),"
          "SUM(state='closed' AND realized_pnl_krw>0 AND EXISTS(SELECT 1 FROM fills f WHERE "
          "f.position_id=p.position_id)), SUM(state<>'closed'), "
          "SUM(CASE WHEN state='closed' THEN realized_pnl_krw ELSE 0 END) FROM positions p "
          "GROUP BY first_venue, second_venue ORDER BY MIN(position_id)");
  std::vector<JournalPairTotals> out;
  while (st.step() == SQLITE_ROW) {
    out.push_back({st.text(0), static_cast<std::uint64_t>(st.i64(1)),
                   static_cast<std::uint64_t>(st.i64(2)), static_cast<std::uint64_t>(st.i64(3)),
                   st.real(4)});
  }
  return out;
}

void Journal::print_summary(std::ostream& out) {
  const JournalTotals t = totals();
  out << "runs " << t.runs << ", intents " << t.intents << ", orders " << t.orders << ", fills "
      << t.fills << ", refusals " << t.refusals << '\n';
  out << "positions closed " << t.closed << " (wins " << t.wins << ", winrate "
      << std::fixed << std::setprecision(2)
      << (t.closed == 0 ? 0.0 : static_cast<double>(t.wins) / static_cast<double>(t.closed))
      << "), open " << t.open << ", broken " << t.broken << '\n';
  out << "realised PnL " << t.realized_pnl_krw << " KRW (from fills: " << t.realized_from_fills_krw
      << " KRW)\n";
  for (const JournalPairTotals& p : pair_totals()) {
    out << "  pair " << p.pair << ": closed " << p.closed << " (wins " << p.wins << "), open "
        << p.open << ", realised PnL " << p.realized_pnl_krw << " KRW\n";
  }
  Stmt runs(db_->db,
            "SELECT run_id, mode, started_ns, COALESCE(ended_ns,0) FROM runs ORDER BY run_id");
  while (runs.step() == SQLITE_ROW) {
    const std::int64_t started = runs.i64(2), ended = runs.i64(3);
    out << "  run " << runs.i64(0) << " " << runs.text(1) << ", "
        << (ended == 0 ? std::string("did not end cleanly")
                       : std::to_string((ended - started) / 1'000'000'000) + " s")
        << '\n';
  }
  out.unsetf(std::ios::floatfield);
}

void Journal::print_trades(std::ostream& out, std::size_t limit) {
  commit();
  Stmt st(db_->db,
          "SELECT f.wall_ns, f.run_id, f.intent_id, f.position_id, f.venue, f.side, f.symbol, "
          "f.qty, f.price, f.fee, f.unwind, COALESCE(o.client_order_id,'') FROM fills f LEFT JOIN "
          "orders o ON o.run_id=f.run_id AND o.intent_id=f.intent_id AND o.venue=f.venue "
          "ORDER BY f.wall_ns DESC LIMIT ?1");
  st.bind(1, static_cast<std::int64_t>(limit));
  out << "wall_ns              position intent venue   side symbol qty          price          "
         "fee          order\n";
  while (st.step() == SQLITE_ROW) {
    out << st.i64(0) << ' ' << std::setw(8) << st.i64(3) << ' ' << std::setw(6) << st.i64(2)
        << ' ' << std::left << std::setw(7) << st.text(4) << ' ' << std::setw(4) << st.text(5)
        << (st.i64(10) != 0 ? "*" : " ") << std::setw(6) << st.text(6) << ' ' << std::setw(12)
        << st.text(7) << ' ' << std::setw(14) << st.text(8) << ' ' << std::setw(12) << st.text(9)
        << ' ' << st.text(11) << std::right << '\n';
  }
  out << "(* an unwind)\n";
}

void Journal::print_positions(std::ostream& out, bool all) {
  commit();
  Stmt st(db_->db,
          "SELECT position_id, run_id, symbol, direction, state, exit_reason, qty, entry_fx, "
          "COALESCE(close_fx,''), realized_pnl_krw, COALESCE(note,'') FROM positions "
          "WHERE ?1=1 OR state<>'closed' ORDER BY position_id");
  st.bind(1, all ? 1 : 0);
  out << "position run            symbol direction state   exit        qty          entry_fx  "
         "close_fx  pnl_krw\n";
  while (st.step() == SQLITE_ROW) {
    out << std::setw(8) << st.i64(0) << ' ' << std::setw(14) << st.i64(1) << ' ' << std::left
        << std::setw(6) << st.text(2) << ' ' << std::setw(9) << st.text(3) << ' ' << std::setw(7)
        << st.text(4) << ' ' << std::setw(11) << st.text(5) << ' ' << std::setw(12) << st.text(6)
        << ' ' << std::setw(9) << st.text(7) << ' ' << std::setw(9) << st.text(8) << std::right
        << ' ' << std::fixed << std::setprecision(2) << st.real(9);
    out.unsetf(std::ios::floatfield);
    if (!st.text(10).empty()) out << "  (" << st.text(10) << ')';
    out << '\n';
  }
}

void Journal::print_balances(std::ostream& out) {
  commit();
  Stmt last(db_->db,
            "SELECT r.run_id, COALESCE(r.report,'') FROM runs r WHERE r.mode='live' AND "
            "EXISTS(SELECT 1 FROM balances b WHERE b.run_id=r.run_id) ORDER BY r.run_id DESC "
            "LIMIT 1");
  if (last.step() != SQLITE_ROW) {
    out << "no live run has recorded balances\n";
    return;
  }
  const auto run = static_cast<std::uint64_t>(last.i64(0));
  // What the venues held at the run's last reconciliation, from its report (when it ended).
  std::map<std::pair<std::string, std::string>, std::string> held;
  const nlohmann::json report = nlohmann::json::parse(last.text(1), nullptr, false);
  if (report.is_object() && report.contains("balances") && report["balances"].is_array()) {
    for (const auto& b : report["balances"]) {
      if (b.contains("venue") && b.contains("asset") && b.contains("held") && b["held"].is_string()) {
        held[{b["venue"].get<std::string>(), b["asset"].get<std::string>()}] =
            b["held"].get<std::string>();
      }
    }
  }
  out << "run " << run << "\nvenue   asset start            expected         held (last reconciliation)\n";
  Stmt st(db_->db, "SELECT venue, asset, qty FROM balances WHERE run_id=?1 ORDER BY venue, asset");
  st.bind(1, run);
  std::vector<std::tuple<std::string, std::string, std::string>> rows;
  while (st.step() == SQLITE_ROW) rows.emplace_back(st.text(0), st.text(1), st.text(2));
  for (const auto& [venue, asset, start] : rows) {
    Decimal expected;
    const bool known = expected_balance(run, parse_venue(venue), asset, expected);
    const auto h = held.find({venue, asset});
    out << std::left << std::setw(8) << venue << std::setw(6) << asset << std::setw(17) << start
        << std::setw(17) << (known ? to_string(expected) : std::string("-"))
        << (h == held.end() ? std::string("-") : h->second) << std::right << '\n';
  }
  const auto list = [&](const char* title, const char* sql) {
    Stmt q(db_->db, sql);
    bool any = false;
    while (q.step() == SQLITE_ROW) {
      if (!any) out << title << "\n  wall_ns              run            venue   asset expected         held\n";
      any = true;
      out << "  " << q.i64(0) << ' ' << std::setw(14) << q.i64(1) << ' ' << std::left
          << std::setw(7) << q.text(2) << ' ' << std::setw(5) << q.text(3) << ' ' << std::setw(16)
          << q.text(4) << ' ' << q.text(5) << std::right << '\n';
    }
    if (!any) out << title << ": none\n";
  };
  list("differences confirmed while running",
       "SELECT wall_ns, run_id, venue, asset, expected, held FROM reconciliations ORDER BY id");
  list("differences accepted (--accept-balances)",
       "SELECT wall_ns, run_id, venue, asset, expected, held FROM acceptances ORDER BY wall_ns");
  const std::vector<JournalTransfer> moved = transfers();
  if (moved.empty()) {
    out << "transfers recorded by an operator (xarb ctl transfer): none\n";
  } else {
    out << "transfers recorded by an operator (xarb ctl transfer; + in, - out)\n"
           "  wall_ns              run            venue   asset qty\n";
    for (const JournalTransfer& x : moved) {
      out << "  " << x.wall_ns << ' ' << std::setw(14) << x.run_id << ' ' << std::left
          << std::setw(7) << to_string(x.venue) << ' ' << std::setw(5) << x.asset << ' '
          << std::right << to_string(x.qty) << '\n';
    }
  }
  const std::vector<DustReport> all = dust();
  if (all.empty()) {
    out << "dust left by closed positions: none\n";
  } else {
    out << "dust left by closed positions (every run; held at the venue, under its minimum)\n";
    for (const DustReport& d : all) {
      out << "  " << std::left << std::setw(8) << to_string(d.venue) << std::setw(6) << d.asset
          << std::right << to_string(d.qty) << "  (" << d.positions << " positions)\n";
    }
  }
}

}  // namespace xarb::app
