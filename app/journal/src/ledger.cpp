// The ledger: what each run started with per venue and asset, the transfers, dust and
// differences recorded since, and the balance the journal expects from them.
#include <string>
#include <utility>
#include <vector>

#include <xarb/app/config.hpp>

#include "journal_internal.hpp"

namespace xarb::app {

using namespace journal_detail;

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
  if (const std::string_view fee = venues::fee_asset(venue);
      !fee.empty() && symbols.find_base(fee) == kNoInstrument) {
    assets.emplace_back(fee);
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
      const auto notional =
          static_cast<std::int64_t>(static_cast<Int128>(q) * f.dec(5).mantissa() / Decimal::kOne);
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

std::uint64_t Journal::last_live_run_with_balances(std::string* report) {
  commit();
  Stmt last(db_->db,
            "SELECT r.run_id, COALESCE(r.report,'') FROM runs r WHERE r.mode='live' AND "
            "EXISTS(SELECT 1 FROM balances b WHERE b.run_id=r.run_id) ORDER BY r.run_id DESC "
            "LIMIT 1");
  if (last.step() != SQLITE_ROW) return 0;
  if (report != nullptr) *report = last.text(1);
  return static_cast<std::uint64_t>(last.i64(0));
}

std::vector<JournalLedgerRow> Journal::ledger(std::uint64_t run_id) {
  commit();
  Stmt st(db_->db, "SELECT venue, asset, qty FROM balances WHERE run_id=?1 ORDER BY venue, asset");
  st.bind(1, run_id);
  std::vector<JournalLedgerRow> out;
  while (st.step() == SQLITE_ROW) out.push_back({st.text(0), st.text(1), st.text(2), false, {}});
  for (JournalLedgerRow& row : out) {
    row.expected_known = expected_balance(run_id, parse_venue(row.venue), row.asset, row.expected);
  }
  return out;
}

namespace {

std::vector<JournalDifference> differences(sqlite3* db, const char* sql) {
  Stmt q(db, sql);
  std::vector<JournalDifference> out;
  while (q.step() == SQLITE_ROW) {
    out.push_back({q.i64(0), static_cast<std::uint64_t>(q.i64(1)), q.text(2), q.text(3), q.text(4),
                   q.text(5)});
  }
  return out;
}

}  // namespace

std::vector<JournalDifference> Journal::confirmed_differences() {
  commit();
  return differences(db_->db,
                     "SELECT wall_ns, run_id, venue, asset, expected, held FROM "
                     "reconciliations ORDER BY id");
}

std::vector<JournalDifference> Journal::accepted_differences() {
  commit();
  return differences(db_->db,
                     "SELECT wall_ns, run_id, venue, asset, expected, held FROM "
                     "acceptances ORDER BY wall_ns");
}

}  // namespace xarb::app
