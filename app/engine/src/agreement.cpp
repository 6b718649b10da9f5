// `xarb backtest --compare-journal` (backtest.hpp): does the backtest do what the live run did?

#include <cmath>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <xarb/app/backtest.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

std::string pair_of(const JournalEntry& e) { return e.first_venue + "-" + e.second_venue; }

// Each position's fees in KRW (a USDT venue's at the position's entry FX rate, a fee in the coin
// bought at its fill price) and the run's traded notional in KRW, from the journal's fills.
struct FillTotals {
  std::map<std::uint64_t, double> fees_krw;  // by position
  double notional_krw = 0.0;
};

FillTotals fill_totals(Journal& j, std::uint64_t run, const std::vector<JournalEntry>& entries) {
  std::map<std::uint64_t, double> fx;
  for (const JournalEntry& e : entries) fx[e.position_id] = std::atof(e.entry_fx.c_str());
  FillTotals t;
  for (const JournalFill& f : j.fills(run)) {
    const bool krw = venues::quote_asset(f.venue) == "KRW";
    const double rate = krw ? 1.0 : (fx.count(f.position_id) != 0 ? fx[f.position_id] : 0.0);
    const double price = f.price.to_double();
    t.notional_krw += f.qty.to_double() * price * rate;
    t.fees_krw[f.position_id] +=
        (f.fee.to_double() + f.fee_base.to_double() * price) * rate;
  }
  return t;
}

}  // namespace

std::uint64_t compared_run(Journal& journal, std::uint64_t run_id) {
  if (run_id != 0) return run_id;
  for (const JournalRun& r : journal.runs()) {
    if (r.mode != "backtest") run_id = std::max(run_id, r.run_id);
  }
  return run_id;
}

bool compare_with_journal(const AgreementOptions& o, const std::filesystem::path& backtest_journal,
                          std::uint64_t backtest_run, Agreement& out, std::string& error) {
  try {
    Journal live(o.journal, Journal::read_only);
    Journal back(backtest_journal, Journal::read_only);
    out.live_run = compared_run(live, o.run_id);
    if (out.live_run == 0) {
      error = o.journal.string() + " holds no run to compare with (only backtests, or none)";
      return false;
    }
    out.backtest_run = backtest_run;
    const std::vector<JournalEntry> a = live.entries(out.live_run);
    const std::vector<JournalEntry> b = back.entries(backtest_run);
    out.live_entries = a.size();
    out.backtest_entries = b.size();
    const FillTotals fa = fill_totals(live, out.live_run, a);
    const FillTotals fb = fill_totals(back, backtest_run, b);
    out.traded_notional_krw = fa.notional_krw;
    for (const JournalEntry& e : a) out.live_pnl_krw += e.realized_pnl_krw;
    for (const JournalEntry& e : b) out.backtest_pnl_krw += e.realized_pnl_krw;

    std::map<std::string, AgreementCause> causes;
    const auto add = [&](const std::string& name, double pnl) {
      AgreementCause& c = causes[name];
      c.name = name;
      ++c.entries;
      c.pnl_krw += pnl;
    };
    // Nearest first: every (live, backtest) pair of the same kind within the window, by distance.
    struct Candidate {
      std::int64_t distance;
      std::size_t live, back;
    };
    std::vector<Candidate> candidates;
    for (std::size_t i = 0; i < a.size(); ++i) {
      for (std::size_t k = 0; k < b.size(); ++k) {
        const std::int64_t d = std::llabs(a[i].wall_ns - b[k].wall_ns);
        if (d <= o.window_ns && a[i].symbol == b[k].symbol && a[i].direction == b[k].direction &&
            pair_of(a[i]) == pair_of(b[k])) {
          candidates.push_back({d, i, k});
        }
      }
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& x, const Candidate& y) {
      return x.distance != y.distance ? x.distance < y.distance
                                      : (x.live != y.live ? x.live < y.live : x.back < y.back);
    });
    std::vector<bool> used_a(a.size()), used_b(b.size());
    for (const Candidate& c : candidates) {
      if (used_a[c.live] || used_b[c.back]) continue;
      used_a[c.live] = used_b[c.back] = true;
      ++out.matched;
      const JournalEntry& x = a[c.live];
      const JournalEntry& y = b[c.back];
      const double fee = fb.fees_krw.count(y.position_id) != 0 ? fb.fees_krw.at(y.position_id) : 0.0;
      const double live_fee =
          fa.fees_krw.count(x.position_id) != 0 ? fa.fees_krw.at(x.position_id) : 0.0;
      const double diff = y.realized_pnl_krw - x.realized_pnl_krw;
      // Fees apart; the rest is the fills' prices when both closed alike, else the exit.
      add("fee", -(fee - live_fee));
      const bool same_exit =
          x.exit_reason == y.exit_reason && std::llabs(x.closed_ns - y.closed_ns) <= o.window_ns;
      add(same_exit ? "fill" : "exit", diff + (fee - live_fee));
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (used_a[i]) continue;
      ++out.missed;
      const std::string why = back.refusal_near(backtest_run, a[i].symbol, a[i].direction,
                                                pair_of(a[i]), a[i].wall_ns, o.window_ns);
      add("missed:" + (why.empty() ? std::string("no signal") : why), -a[i].realized_pnl_krw);
    }
    for (std::size_t k = 0; k < b.size(); ++k) {
      if (used_b[k]) continue;
      ++out.extra;
      const std::string why = live.refusal_near(out.live_run, b[k].symbol, b[k].direction,
                                                pair_of(b[k]), b[k].wall_ns, o.window_ns);
      add("extra:" + (why.empty() ? std::string("no signal live") : why), b[k].realized_pnl_krw);
    }
    for (auto& [name, c] : causes) out.causes.push_back(c);

    out.allowed_pnl_diff_krw = std::max(o.max_pnl_diff_pct * 1e-2 * std::fabs(out.live_pnl_krw),
                                        o.pnl_floor_bps * 1e-4 * out.traded_notional_krw);
    std::ostringstream why;
    if (out.match_pct() + 1e-9 < o.min_match_pct) {
      why << std::fixed << std::setprecision(1) << out.match_pct() << " % of the live entries "
          << "matched, under " << o.min_match_pct << " %";
      out.shortfalls.push_back(why.str());
    }
    if (out.extra > o.max_extra) {
      out.shortfalls.push_back(std::to_string(out.extra) + " entries the live run did not make " +
                               "(at most " + std::to_string(o.max_extra) + ")");
    }
    if (const double d = std::fabs(out.backtest_pnl_krw - out.live_pnl_krw);
        d > out.allowed_pnl_diff_krw) {
      std::ostringstream p;
      p << std::fixed << std::setprecision(2) << "realised PnL differs by " << d
        << " KRW, more than " << out.allowed_pnl_diff_krw << " KRW";
      out.shortfalls.push_back(p.str());
    }
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
  return true;
}

void Agreement::print(std::ostream& out) const {
  out << std::fixed << std::setprecision(2);
  out << "agreement with live run " << live_run << " (backtest run " << backtest_run << ")\n"
      << "  entries: live " << live_entries << ", backtest " << backtest_entries << "; matched "
      << matched << " (" << std::setprecision(1) << match_pct() << " % of live), missed "
      << missed << ", extra " << extra << '\n'
      << std::setprecision(2) << "  realised PnL: live " << live_pnl_krw << " KRW, backtest "
      << backtest_pnl_krw << " KRW, difference " << backtest_pnl_krw - live_pnl_krw
      << " KRW (allowed " << allowed_pnl_diff_krw << " KRW; live notional "
      << traded_notional_krw << " KRW)\n"
      << "  difference by cause (entries, KRW backtest minus live):\n";
  for (const AgreementCause& c : causes) {
    out << "    " << std::left << std::setw(32) << c.name << std::right << std::setw(6)
        << c.entries << std::setw(14) << c.pnl_krw << '\n';
  }
  if (met()) {
    out << "  agreed: every target met\n";
  } else {
    for (const std::string& s : shortfalls) out << "  short: " << s << '\n';
  }
  out.unsetf(std::ios::floatfield);
}

std::string Agreement::json() const {
  nlohmann::json j;
  j["live_run"] = live_run;
  j["backtest_run"] = backtest_run;
  j["live_entries"] = live_entries;
  j["backtest_entries"] = backtest_entries;
  j["matched"] = matched;
  j["missed"] = missed;
  j["extra"] = extra;
  j["match_pct"] = match_pct();
  j["live_pnl_krw"] = live_pnl_krw;
  j["backtest_pnl_krw"] = backtest_pnl_krw;
  j["traded_notional_krw"] = traded_notional_krw;
  j["allowed_pnl_diff_krw"] = allowed_pnl_diff_krw;
  j["causes"] = nlohmann::json::array();
  for (const AgreementCause& c : causes) {
    j["causes"].push_back({{"cause", c.name}, {"entries", c.entries}, {"pnl_krw", c.pnl_krw}});
  }
  j["shortfalls"] = shortfalls;
  j["met"] = met();
  return j.dump(2);
}

}  // namespace xarb::app
