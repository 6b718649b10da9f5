#include <filesystem>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <utility>

#include <xarb/app/config.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/app/journal_commands.hpp>

namespace xarb::app {

void print_summary(Journal& j, std::ostream& out) {
  const JournalTotals t = j.totals();
  out << "runs " << t.runs << ", intents " << t.intents << ", orders " << t.orders << ", fills "
      << t.fills << ", refusals " << t.refusals << '\n';
  out << "positions closed " << t.closed << " (wins " << t.wins << ", winrate " << std::fixed
      << std::setprecision(2)
      << (t.closed == 0 ? 0.0 : static_cast<double>(t.wins) / static_cast<double>(t.closed))
      << "), open " << t.open << ", broken " << t.broken << '\n';
  out << "realised PnL " << t.realized_pnl_krw << " KRW (from fills: " << t.realized_from_fills_krw
      << " KRW)\n";
  for (const JournalPairTotals& p : j.pair_totals()) {
    out << "  pair " << p.pair << ": closed " << p.closed << " (wins " << p.wins << "), open "
        << p.open << ", realised PnL " << p.realized_pnl_krw << " KRW\n";
  }
  for (const JournalRun& r : j.runs()) {
    out << "  run " << r.run_id << " " << r.mode << ", "
        << (r.ended_ns == 0 ? std::string("did not end cleanly")
                            : std::to_string((r.ended_ns - r.started_ns) / 1'000'000'000) + " s")
        << '\n';
  }
  out.unsetf(std::ios::floatfield);
}

void print_trades(Journal& j, std::ostream& out, std::size_t limit) {
  out << "wall_ns              position intent venue   side symbol qty          price          "
         "fee          order\n";
  for (const JournalTrade& t : j.latest_trades(limit)) {
    out << t.wall_ns << ' ' << std::setw(8) << t.position_id << ' ' << std::setw(6) << t.intent_id
        << ' ' << std::left << std::setw(7) << t.venue << ' ' << std::setw(4) << t.side
        << (t.unwind ? "*" : " ") << std::setw(6) << t.symbol << ' ' << std::setw(12) << t.qty
        << ' ' << std::setw(14) << t.price << ' ' << std::setw(12) << t.fee << ' '
        << t.client_order_id << std::right << '\n';
  }
  out << "(* an unwind)\n";
}

void print_positions(Journal& j, std::ostream& out, bool all) {
  out << "position run            symbol direction state   exit        qty          entry_fx  "
         "close_fx  pnl_krw\n";
  for (const JournalPositionRow& p : j.positions(all)) {
    out << std::setw(8) << p.position_id << ' ' << std::setw(14) << p.run_id << ' ' << std::left
        << std::setw(6) << p.symbol << ' ' << std::setw(9) << p.direction << ' ' << std::setw(7)
        << p.state << ' ' << std::setw(11) << p.exit_reason << ' ' << std::setw(12) << p.qty << ' '
        << std::setw(9) << p.entry_fx << ' ' << std::setw(9) << p.close_fx << std::right << ' '
        << std::fixed << std::setprecision(2) << p.realized_pnl_krw;
    out.unsetf(std::ios::floatfield);
    if (!p.note.empty()) out << "  (" << p.note << ')';
    out << '\n';
  }
}

namespace {

void print_differences(std::ostream& out, const char* title,
                       const std::vector<JournalDifference>& rows) {
  if (rows.empty()) {
    out << title << ": none\n";
    return;
  }
  out << title << "\n  wall_ns              run            venue   asset expected         held\n";
  for (const JournalDifference& d : rows) {
    out << "  " << d.wall_ns << ' ' << std::setw(14) << d.run_id << ' ' << std::left << std::setw(7)
        << d.venue << ' ' << std::setw(5) << d.asset << ' ' << std::setw(16) << d.expected << ' '
        << d.held << std::right << '\n';
  }
}

// What the venues held at a run's last reconciliation, from the report it ended with.
std::map<std::pair<std::string, std::string>, std::string> held_in(const std::string& report) {
  std::map<std::pair<std::string, std::string>, std::string> held;
  const nlohmann::json j = nlohmann::json::parse(report, nullptr, false);
  if (!j.is_object() || !j.contains("balances") || !j["balances"].is_array()) return held;
  for (const auto& b : j["balances"]) {
    if (b.contains("venue") && b.contains("asset") && b.contains("held") && b["held"].is_string()) {
      held[{b["venue"].get<std::string>(), b["asset"].get<std::string>()}] =
          b["held"].get<std::string>();
    }
  }
  return held;
}

}  // namespace

void print_balances(Journal& j, std::ostream& out) {
  std::string report;
  const std::uint64_t run = j.last_live_run_with_balances(&report);
  if (run == 0) {
    out << "no live run has recorded balances\n";
    return;
  }
  const auto held = held_in(report);
  out << "run " << run
      << "\nvenue   asset start            expected         held (last reconciliation)\n";
  for (const JournalLedgerRow& row : j.ledger(run)) {
    const auto h = held.find({row.venue, row.asset});
    out << std::left << std::setw(8) << row.venue << std::setw(6) << row.asset << std::setw(17)
        << row.start << std::setw(17)
        << (row.expected_known ? to_string(row.expected) : std::string("-"))
        << (h == held.end() ? std::string("-") : h->second) << std::right << '\n';
  }
  print_differences(out, "differences confirmed while running", j.confirmed_differences());
  print_differences(out, "differences accepted (--accept-balances)", j.accepted_differences());
  const std::vector<JournalTransfer> moved = j.transfers();
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
  const std::vector<DustReport> all = j.dust();
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

bool print_latency(Journal& journal, std::ostream& out, std::ostream& err, std::uint64_t run_id) {
  if (run_id == 0) run_id = journal.last_run_id();
  const std::vector<std::pair<Venue, std::int64_t>> rows = journal.order_latencies(run_id);
  if (rows.empty()) {
    err << "run " << run_id << " journaled no order with a latency\n";
    return false;
  }
  out << "venue,action,latency_ns\n";
  for (const auto& [venue, ns] : rows) out << to_string(venue) << ",place," << ns << '\n';
  return true;
}

int journal_command(const std::string& config_path, const std::string& journal_path,
                    JournalAction action, bool all, std::size_t limit, std::ostream& out,
                    std::ostream& err, std::uint64_t run_id) {
  std::string path = journal_path;
  if (path.empty()) {
    const LoadResult loaded = load_config(config_path);
    if (!loaded.ok()) {
      for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
      return 2;
    }
    path = loaded.config.journal.path;
  }
  if (!std::filesystem::exists(path)) {
    err << "no journal at " << path << '\n';
    return 1;
  }
  try {
    if (action == JournalAction::migrate) {
      const Journal migrated(path);  // a writer: brings the schema to this build's version
      out << path << ": schema up to date\n";
      return 0;
    }
    Journal j(path, Journal::read_only);
    switch (action) {
      case JournalAction::summary:
        print_summary(j, out);
        break;
      case JournalAction::trades:
        print_trades(j, out, limit);
        break;
      case JournalAction::positions:
        print_positions(j, out, all);
        break;
      case JournalAction::balances:
        print_balances(j, out);
        break;
      case JournalAction::migrate:  // done above, by a writer
        break;
      case JournalAction::latency:
        if (!print_latency(j, out, err, run_id)) return 1;
        break;
    }
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace xarb::app
