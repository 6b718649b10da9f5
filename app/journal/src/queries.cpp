// What the journal tells its readers: totals, runs, trades, positions, alerts and controls.
#include <string>
#include <utility>
#include <vector>

#include <xarb/app/config.hpp>

#include "journal_internal.hpp"

namespace xarb::app {

using namespace journal_detail;

std::vector<JournalControl> Journal::controls(std::uint64_t run_id) {
  std::vector<JournalControl> out;
  Stmt st(db_->db, "SELECT command,ok,effect,wall_ns FROM controls WHERE run_id=?1 ORDER BY id");
  st.bind(1, run_id);
  while (st.step() == SQLITE_ROW) {
    out.push_back({st.text(0), st.i64(1) != 0, st.text(2), st.i64(3)});
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

std::vector<std::pair<Venue, std::int64_t>> Journal::order_latencies(std::uint64_t run_id) {
  Stmt st(db_->db,
          "SELECT venue, latency_ns FROM orders WHERE run_id=?1 AND latency_ns > 0 "
          "ORDER BY wall_ns, intent_id, venue");
  st.bind(1, run_id);
  std::vector<std::pair<Venue, std::int64_t>> out;
  while (st.step() == SQLITE_ROW) out.emplace_back(parse_venue(st.text(0)), st.i64(1));
  return out;
}

std::vector<JournalEntry> Journal::entries(std::uint64_t run_id) {
  commit();
  Stmt st(db_->db,
          "SELECT i.intent_id, i.position_id, i.symbol, i.direction, COALESCE(p.first_venue,''), "
          "COALESCE(p.second_venue,''), i.wall_ns, COALESCE(p.state,''), "
          "COALESCE(p.exit_reason,''), COALESCE(p.realized_pnl_krw,0), COALESCE(p.closed_ns,0), "
          "COALESCE(p.entry_fx,'') FROM intents i LEFT JOIN positions p "
          "ON p.position_id=i.position_id WHERE i.run_id=?1 AND i.kind='entry' "
          "ORDER BY i.wall_ns, i.intent_id");
  st.bind(1, run_id);
  std::vector<JournalEntry> out;
  while (st.step() == SQLITE_ROW) {
    JournalEntry e;
    e.intent_id = static_cast<std::uint64_t>(st.i64(0));
    e.position_id = static_cast<std::uint64_t>(st.i64(1));
    e.symbol = st.text(2);
    e.direction = st.text(3);
    e.first_venue = st.text(4);
    e.second_venue = st.text(5);
    e.wall_ns = st.i64(6);
    e.state = st.text(7);
    e.exit_reason = st.text(8);
    e.realized_pnl_krw = st.real(9);
    e.closed_ns = st.i64(10);
    e.entry_fx = st.text(11);
    out.push_back(std::move(e));
  }
  return out;
}

std::string Journal::refusal_near(std::uint64_t run_id, std::string_view symbol,
                                  std::string_view direction, std::string_view pair,
                                  std::int64_t at_ns, std::int64_t window_ns) {
  Stmt st(db_->db,
          "SELECT reason FROM refusals WHERE run_id=?1 AND symbol=?2 AND direction=?3 AND "
          "pair=?4 AND kind='entry' AND wall_ns BETWEEN ?5 - ?6 AND ?5 + ?6 "
          "ORDER BY ABS(wall_ns - ?5) LIMIT 1");
  st.bind(1, run_id).bind(2, symbol).bind(3, direction).bind(4, pair).bind(5, at_ns);
  st.bind(6, window_ns);
  return st.step() == SQLITE_ROW ? st.text(0) : std::string();
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

std::vector<JournalRun> Journal::runs() {
  commit();
  Stmt st(db_->db,
          "SELECT run_id, mode, started_ns, COALESCE(ended_ns,0) FROM runs ORDER BY run_id");
  std::vector<JournalRun> out;
  while (st.step() == SQLITE_ROW) {
    out.push_back({static_cast<std::uint64_t>(st.i64(0)), st.text(1), st.i64(2), st.i64(3)});
  }
  return out;
}

std::vector<JournalTrade> Journal::latest_trades(std::size_t limit) {
  commit();
  Stmt st(db_->db,
          "SELECT f.wall_ns, f.run_id, f.intent_id, f.position_id, f.venue, f.side, f.symbol, "
          "f.qty, f.price, f.fee, f.unwind, COALESCE(o.client_order_id,'') FROM fills f LEFT JOIN "
          "orders o ON o.run_id=f.run_id AND o.intent_id=f.intent_id AND o.venue=f.venue "
          "ORDER BY f.wall_ns DESC LIMIT ?1");
  st.bind(1, static_cast<std::int64_t>(limit));
  std::vector<JournalTrade> out;
  while (st.step() == SQLITE_ROW) {
    JournalTrade t;
    t.wall_ns = st.i64(0);
    t.run_id = static_cast<std::uint64_t>(st.i64(1));
    t.intent_id = static_cast<std::uint64_t>(st.i64(2));
    t.position_id = static_cast<std::uint64_t>(st.i64(3));
    t.venue = st.text(4);
    t.side = st.text(5);
    t.symbol = st.text(6);
    t.qty = st.text(7);
    t.price = st.text(8);
    t.fee = st.text(9);
    t.unwind = st.i64(10) != 0;
    t.client_order_id = st.text(11);
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<JournalPositionRow> Journal::positions(bool all) {
  commit();
  Stmt st(db_->db,
          "SELECT position_id, run_id, symbol, direction, state, exit_reason, qty, entry_fx, "
          "COALESCE(close_fx,''), realized_pnl_krw, COALESCE(note,'') FROM positions "
          "WHERE ?1=1 OR state<>'closed' ORDER BY position_id");
  st.bind(1, all ? 1 : 0);
  std::vector<JournalPositionRow> out;
  while (st.step() == SQLITE_ROW) {
    JournalPositionRow p;
    p.position_id = static_cast<std::uint64_t>(st.i64(0));
    p.run_id = static_cast<std::uint64_t>(st.i64(1));
    p.symbol = st.text(2);
    p.direction = st.text(3);
    p.state = st.text(4);
    p.exit_reason = st.text(5);
    p.qty = st.text(6);
    p.entry_fx = st.text(7);
    p.close_fx = st.text(8);
    p.realized_pnl_krw = st.real(9);
    p.note = st.text(10);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace xarb::app
