#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>

#include <xarb/app/backtest.hpp>
#include <xarb/app/backtest_command.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/app/live_keys.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

constexpr int kExitBadInput = 2;

// The union of the captures' headers: a venue, symbol or market any of them holds.
void merge(feed::RecordingHeader& into, const feed::RecordingHeader& h) {
  for (const feed::RecordingHeader::VenueBook& v : h.venues) {
    if (std::none_of(into.venues.begin(), into.venues.end(),
                     [&](const auto& x) { return x.venue == v.venue; })) {
      into.venues.push_back(v);
    }
  }
  for (const feed::RecordingHeader::Symbol& s : h.symbols) {
    auto it = std::find_if(into.symbols.begin(), into.symbols.end(),
                           [&](const auto& x) { return x.base == s.base; });
    if (it == into.symbols.end()) {
      into.symbols.push_back(s);
      continue;
    }
    for (std::size_t v = 0; v < s.markets.size(); ++v) {
      if (it->markets[v].empty()) it->markets[v] = s.markets[v];
    }
  }
}

bool parse_latency(const std::string& text, LatencyModel& model, std::ostream& err) {
  const std::size_t eq = text.find('=');
  const auto venue = eq == std::string::npos ? std::nullopt
                                             : venues::from_name(std::string_view(text).substr(0, eq));
  char* end = nullptr;
  const double ms = eq == std::string::npos ? 0.0 : std::strtod(text.c_str() + eq + 1, &end);
  if (!venue || end == nullptr || end == text.c_str() + eq + 1 || *end != '\0' || !(ms > 0.0)) {
    err << "--latency " << text << ": expected VENUE=MS (binance=12.5), a known venue and a "
        << "positive round trip in milliseconds\n";
    return false;
  }
  model.constant_ns[index(*venue)] = static_cast<std::int64_t>(ms * 1e6);
  return true;
}

}  // namespace

int backtest_command(const BacktestArgs& args, std::ostream& out, std::ostream& err) {
  const LoadResult loaded = load_config(args.config);
  if (!loaded.ok()) {
    for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
    return kExitBadInput;
  }
  Config config = loaded.config;
  for (const std::string& set : args.sets) {
    const std::size_t eq = set.find('=');
    std::string error;
    if (eq == std::string::npos ||
        !apply_setting(config, set.substr(0, eq), set.substr(eq + 1), config, error)) {
      err << "--set " << set << ": " << (eq == std::string::npos ? "expected KEY=VALUE" : error)
          << '\n';
      return kExitBadInput;
    }
  }
  BacktestOptions o;
  o.captures = args.captures;
  o.trade_from_ns = args.trade_from_ns;
  o.trade_until_ns = args.trade_until_ns;
  o.quiet = args.quiet;
  o.plots = args.plots;
  o.seed = args.seed;
  o.out_dir = args.out_dir;
  o.journal = args.journal;
  for (const std::string& l : args.latency) {
    if (!parse_latency(l, o.latency, err)) return kExitBadInput;
  }
  if (!args.latency_from.empty()) {
    std::string error;
    if (!read_latency_csv(args.latency_from, o.latency, error)) {
      err << error << '\n';
      return kExitBadInput;
    }
  }
  // What the recordings hold must cover what the config trades.
  feed::RecordingHeader held;
  std::size_t with_header = 0;
  for (const std::string& path : args.captures) {
    feed::RecordingHeader h;
    bool found = false;
    if (!read_recording_header(path, h, found, err)) return kExitBadInput;
    if (found) {
      merge(held, h);
      ++with_header;
    }
  }
  if (with_header == args.captures.size()) {
    if (const std::string gap = not_covered(held, config); !gap.empty()) {
      err << args.captures.front() << ":1: " << gap << '\n';
      return kExitBadInput;
    }
  }
  if (!args.compare_journal.empty()) {
    // The live run's starting balances: its headroom is the backtest's.
    if (!std::filesystem::exists(args.compare_journal)) {
      err << "--compare-journal: no journal at " << args.compare_journal << '\n';
      return kExitBadInput;
    }
    try {
      Journal live(args.compare_journal, Journal::read_only);
      for (const JournalLedgerRow& row : live.ledger(compared_run(live, args.compare_run))) {
        Decimal qty;
        const auto v = venues::from_name(row.venue);
        if (v && Decimal::parse(row.start, Rounding::down, qty) == Errc::ok) {
          o.balances.push_back({*v, row.asset, qty});
        }
      }
    } catch (const std::exception& e) {
      err << "--compare-journal: " << e.what() << '\n';
      return kExitBadInput;
    }
  }
  const BacktestResult r = run_backtest(config, o, out, err);
  if (r.exit_code != 0) return r.exit_code;
  {
    // What this variant changed, for `xarb sweep --merge`.
    std::ofstream variant(std::filesystem::path(args.out_dir) / "variant.txt");
    for (const std::string& set : args.sets) variant << set << '\n';
  }
  if (!args.quiet) {
    out << "backtest: " << r.frames << " capture lines in " << r.wall_s << " s ("
        << static_cast<double>(r.frames) / std::max(r.wall_s, 1e-9) << " lines/s); report, "
        << "trades.csv and backtest journal in " << args.out_dir << '\n';
  }
  if (args.compare_journal.empty()) return 0;
  AgreementOptions a;
  a.journal = args.compare_journal;
  a.run_id = args.compare_run;
  a.window_ns = static_cast<std::int64_t>(args.match_ms * 1e6);
  a.min_match_pct = args.min_match;
  a.max_pnl_diff_pct = args.max_pnl_diff;
  a.pnl_floor_bps = args.pnl_floor_bps;
  a.max_extra = args.max_extra;
  Agreement agreement;
  std::string error;
  const std::filesystem::path journal =
      args.journal.empty() ? std::filesystem::path(args.out_dir) / "backtest.sqlite"
                           : std::filesystem::path(args.journal);
  if (!compare_with_journal(a, journal, r.report.run_id, agreement, error)) {
    err << "--compare-journal: " << error << '\n';
    return 1;
  }
  agreement.print(out);
  std::ofstream(std::filesystem::path(args.out_dir) / "agreement.json") << agreement.json() << '\n';
  return agreement.met() ? 0 : 1;
}

}  // namespace xarb::app
