// The writer: the ops thread's events into the current transaction, one statement each,
// prepared once.
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include <xarb/app/config.hpp>

#include "journal_internal.hpp"

namespace xarb::app::journal_detail {

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

}  // namespace xarb::app::journal_detail

namespace xarb::app {

using namespace journal_detail;

void Journal::Db::open(const std::filesystem::path& path, int flags, int busy_timeout_ms) {
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    throw std::runtime_error("journal " + path.string() + ": " +
                             (db != nullptr ? sqlite3_errmsg(db) : "cannot open"));
  }
  sqlite3_busy_timeout(db, busy_timeout_ms);
}

Journal::Journal(const std::filesystem::path& path, int busy_timeout_ms)
    : db_(std::make_unique<Db>()) {
  db_->open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busy_timeout_ms);
  // WAL: the ops thread appends, readers (xarb journal) never block it. A small page cache keeps
  // the engine's memory flat however long it runs.
  db_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-512;");
  journal_detail::migrate(db_->db);
  prepare_writes();
}

Journal::Journal(const std::filesystem::path& path, ReadOnly, int busy_timeout_ms)
    : db_(std::make_unique<Db>()) {
  db_->open(path, SQLITE_OPEN_READONLY, busy_timeout_ms);
  const int version = schema_version(db_->db);
  if (version < kSchemaVersion) {
    throw std::runtime_error("journal " + path.string() + " is at schema version " +
                             std::to_string(version) + " and this xarb reads version " +
                             std::to_string(kSchemaVersion) + ": `xarb journal migrate --journal " +
                             path.string() +
                             "` (or the next `xarb run` on it) "
                             "upgrades it");
  }
  refuse_newer(db_->db, version);
  prepare_writes();  // a write then fails on the read-only connection and is counted
}

// The statements the writer runs for every event, prepared once.
void Journal::prepare_writes() {
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
      "exit_reason,qty,fx_rate,realized_pnl_krw,wall_ns) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  db_->refusal = std::make_unique<Stmt>(
      d,
      "INSERT INTO refusals(run_id,reason,symbol,direction,kind,edge_bps,wall_ns,pair) "
      "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
  db_->log =
      std::make_unique<Stmt>(d, "INSERT INTO logs(run_id,level,text,wall_ns) VALUES(?1,?2,?3,?4)");
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
  Stmt st(db_->db,
          "INSERT OR REPLACE INTO runs(run_id,started_ns,mode,config) VALUES(?1,?2,?3,?4)");
  st.bind(1, run_id).bind(2, wall_ns).bind(3, mode).bind(4, config_text);
  if (st.step() != SQLITE_DONE)
    throw std::runtime_error(std::string("journal: ") + sqlite3_errmsg(db_->db));
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
    st.bind(7, f.qty)
        .bind(8, f.price)
        .bind(9, f.fee)
        .bind(10, f.unwind ? 1 : 0)
        .bind(11, f.wall_ns);
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

// An order a report left unknown, settled later in the same run: its fills are added to the
// intent's rows for its venue (one row per side: quantities add, prices average by quantity,
// commissions add) and the order row takes the venue's final word.
void Journal::record_settlement(const ExecReport& r, std::int64_t wall_ns) {
  for (const LegReport& leg : r.legs) {
    if (leg.client_order_id.empty()) continue;
    for (const bool unwind : {false, true}) {
      const Decimal q = unwind ? leg.unwound_qty : leg.filled_qty;
      if (!q.is_positive()) continue;
      JournalFill f{run_id_,
                    r.intent_id,
                    r.position_id,
                    leg.venue,
                    unwind ? opposite(leg.side) : leg.side,
                    std::string(symbol(leg.instrument)),
                    q,
                    unwind ? leg.unwind_avg_price : leg.avg_price,
                    leg.fee,
                    unwind,
                    wall_ns,
                    leg.fee_base,
                    leg.fee_bnb};
      Stmt old(db_->db,
               "SELECT qty,price,fee,fee_base,fee_bnb FROM fills WHERE run_id=?1 AND "
               "intent_id=?2 AND venue=?3 AND unwind=?4");
      old.bind(1, run_id_)
          .bind(2, r.intent_id)
          .bind(3, to_string(leg.venue))
          .bind(4, unwind ? 1 : 0);
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
      del.bind(1, run_id_)
          .bind(2, r.intent_id)
          .bind(3, to_string(leg.venue))
          .bind(4, unwind ? 1 : 0);
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
            record_intent(body, event.wall_ns);
          } else if constexpr (std::is_same_v<T, ExecReport>) {
            if (body.settles) {
              record_settlement(body, event.wall_ns);
            } else {
              record_report(body, event.wall_ns);
            }
          } else if constexpr (std::is_same_v<T, PositionChange>) {
            record_position(body, event.wall_ns);
          } else if constexpr (std::is_same_v<T, RiskRefusal>) {
            record_refusal(body, event.wall_ns);
          } else if constexpr (std::is_same_v<T, LogRecord>) {
            record_log(body, event.wall_ns);
          }
        },
        event.body);
  } catch (...) {
    fail("record");
  }
}

void Journal::record_intent(const OrderIntent& b, std::int64_t wall_ns) {
  // The strategy writes the pair's first venue's leg first.
  const LegIntent& first = b.legs[0];
  Stmt& st = *db_->intent;
  st.bind(1, run_id_).bind(2, b.intent_id).bind(3, b.position_id);
  st.bind(4, to_string(b.kind)).bind(5, to_string(b.direction));
  st.bind(6, to_string(b.exit_reason)).bind(7, symbol(first.instrument));
  st.bind(8, b.fx_rate).bind(9, b.edge_bps).bind(10, wall_ns);
  if (st.step() != SQLITE_DONE) fail("intent");
  st.reset();
  for (const LegIntent& leg : b.legs) {
    if (leg.venue == kNoVenue) continue;
    Stmt& sl = *db_->intent_leg;
    sl.bind(1, run_id_).bind(2, b.intent_id).bind(3, to_string(leg.venue));
    sl.bind(4, to_string(leg.side)).bind(5, leg.quantity).bind(6, leg.limit_price);
    if (sl.step() != SQLITE_DONE) fail("intent leg");
    sl.reset();
  }
  // The position exists from its first intent on, whichever event a crash kept.
  Stmt& pn = *db_->position_new;
  pn.bind(1, b.position_id).bind(2, run_id_).bind(3, symbol(first.instrument));
  pn.bind(4, to_string(b.direction)).bind(5, to_string(PositionState::opening));
  pn.bind(6, Decimal{}).bind(7, b.fx_rate).bind(8, wall_ns);
  pn.bind(9, to_string(b.legs[0].venue)).bind(10, to_string(b.legs[1].venue));
  if (pn.step() != SQLITE_DONE) fail("position");
  pn.reset();
}

void Journal::record_report(const ExecReport& b, std::int64_t wall_ns) {
  Stmt& io = *db_->intent_outcome;
  io.bind(1, run_id_).bind(2, b.intent_id).bind(3, to_string(b.outcome));
  io.bind(4, to_string(b.refusal)).bind(5, wall_ns);
  io.bind(6, b.position_id).bind(7, to_string(b.kind));
  if (io.step() != SQLITE_DONE) fail("intent outcome");
  io.reset();
  for (const LegReport& leg : b.legs) {
    if (leg.requested_qty.is_zero() && leg.filled_qty.is_zero()) continue;
    Stmt& st = *db_->order;
    st.bind(1, run_id_).bind(2, b.intent_id).bind(3, b.position_id);
    st.bind(4, to_string(leg.venue)).bind(5, to_string(leg.side));
    st.bind(6, symbol(leg.instrument)).bind(7, leg.client_order_id.view());
    st.bind(8, to_string(leg.state)).bind(9, to_string(leg.status));
    st.bind(10, leg.requested_qty).bind(11, leg.filled_qty).bind(12, leg.avg_price);
    st.bind(13, leg.unwound_qty).bind(14, leg.unwind_avg_price).bind(15, leg.fee);
    st.bind(16, leg.latency_ns).bind(17, leg.error.http_status).bind(18, leg.error.code);
    st.bind(19, leg.error.name.view()).bind(20, leg.error.message.view());
    st.bind(21, wall_ns);
    if (st.step() != SQLITE_DONE) fail("order");
    st.reset();
    // The leg's commissions go on its first row, whichever side they were charged on.
    JournalFill f{run_id_,        b.intent_id,   b.position_id,
                  leg.venue,      leg.side,      std::string(symbol(leg.instrument)),
                  leg.filled_qty, leg.avg_price, leg.fee,
                  false,          wall_ns,       leg.fee_base,
                  leg.fee_bnb};
    if (leg.filled_qty.is_positive() || leg.fee.is_positive() || leg.fee_base.is_positive() ||
        leg.fee_bnb.is_positive()) {
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
}

void Journal::record_position(const PositionChange& b, std::int64_t wall_ns) {
  if (b.from == b.to || b.to == PositionState::opening) {
    Stmt& st = *db_->position_new;
    st.bind(1, b.position_id).bind(2, run_id_).bind(3, symbol(b.instrument));
    st.bind(4, to_string(b.direction)).bind(5, to_string(b.to));
    st.bind(6, b.qty).bind(7, b.fx_rate).bind(8, wall_ns);
    st.bind(9, to_string(b.pair.first)).bind(10, to_string(b.pair.second));
    if (st.step() != SQLITE_DONE) fail("position");
    st.reset();
  }
  Stmt& up = *db_->position_update;
  up.bind(1, b.position_id).bind(2, to_string(b.to));
  up.bind(3, to_string(b.exit_reason)).bind(4, b.qty).bind(5, b.fx_rate);
  up.bind(6, b.realized_krw.to_double()).bind(7, wall_ns);
  if (up.step() != SQLITE_DONE) fail("position update");
  up.reset();
  Stmt& ev = *db_->position_event;
  ev.bind(1, run_id_).bind(2, b.position_id).bind(3, symbol(b.instrument));
  ev.bind(4, to_string(b.direction)).bind(5, to_string(b.from));
  ev.bind(6, to_string(b.to)).bind(7, to_string(b.exit_reason)).bind(8, b.qty);
  ev.bind(9, b.fx_rate).bind(10, b.realized_krw.to_double()).bind(11, wall_ns);
  if (ev.step() != SQLITE_DONE) fail("position event");
  ev.reset();
  if (b.to == PositionState::closed) record_dust(b.position_id, wall_ns);
}

void Journal::record_refusal(const RiskRefusal& b, std::int64_t wall_ns) {
  Stmt& st = *db_->refusal;
  st.bind(1, run_id_).bind(2, to_string(b.reason)).bind(3, symbol(b.instrument));
  st.bind(4, to_string(b.direction)).bind(5, to_string(b.kind));
  st.bind(6, b.edge_bps).bind(7, wall_ns).bind(8, to_string(b.pair));
  if (st.step() != SQLITE_DONE) fail("refusal");
  st.reset();
}

void Journal::record_log(const LogRecord& b, std::int64_t wall_ns) {
  constexpr std::array<std::string_view, 4> kLevels = {"debug", "info", "warn", "error"};
  Stmt& st = *db_->log;
  st.bind(1, run_id_).bind(2, kLevels[static_cast<std::size_t>(b.level) & 3]);
  st.bind(3, b.text.view()).bind(4, wall_ns);
  if (st.step() != SQLITE_DONE) fail("log");
  st.reset();
}

}  // namespace xarb::app
