#include <algorithm>
#include <cstdlib>
#include <ostream>

#include <xarb/app/backtest.hpp>
#include <xarb/app/backtest_command.hpp>
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
  BacktestOptions o;
  o.captures = args.captures;
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
    if (const std::string gap = not_covered(held, loaded.config); !gap.empty()) {
      err << args.captures.front() << ":1: " << gap << '\n';
      return kExitBadInput;
    }
  }
  const BacktestResult r = run_backtest(loaded.config, o, out, err);
  if (r.exit_code != 0) return r.exit_code;
  out << "backtest: " << r.frames << " capture lines in " << r.wall_s << " s ("
      << static_cast<double>(r.frames) / std::max(r.wall_s, 1e-9) << " lines/s); report, "
      << "trades.csv and backtest journal in " << args.out_dir << '\n';
  return 0;
}

}  // namespace xarb::app
