// The journal read back at start-up: the positions and intents a run left open, the runs whose
// unjournaled window is still to be searched, and what that search resolved.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <xarb/app/config.hpp>

#include "journal_internal.hpp"

namespace xarb::app {

using namespace journal_detail;

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

}  // namespace xarb::app
