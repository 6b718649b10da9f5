#include <array>
#include <cstdio>
#include <iomanip>
#include <memory>
#include <ostream>
#include <vector>

#include <xarb/app/feed_commands.hpp>
#include <xarb/app/recorder.hpp>
#include <xarb/app/stop_signals.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/signal/fx.hpp>
#include <xarb/signal/premium.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

constexpr int kExitBadInput = 2;

// `xarb record`'s observer: every event straight to the file, on the feed's thread.
class DirectRecorder : public feed::FrameObserver {
 public:
  explicit DirectRecorder(RecordingWriter& w) : w_(w) {}
  void on_connect(Venue v, std::string_view url) override { w_.connect(v, url, clock::wall_ns()); }
  void on_send(Venue v, std::string_view message) override {
    w_.send(v, message, clock::wall_ns());
  }
  void on_frame(Venue v, std::int64_t wall_ns, std::int64_t exchange_ns,
                std::string_view frame) override {
    w_.frame(v, wall_ns, exchange_ns, frame);
  }
  void on_http(Venue v, std::string_view target, std::int64_t wall_ns,
               std::string_view body) override {
    w_.http(v, target, wall_ns, body);
  }

 private:
  RecordingWriter& w_;
};

bool load(const std::string& path, Config& config, std::ostream& err) {
  const LoadResult r = load_config(path);
  if (!r.ok()) {
    for (const auto& issue : r.errors) err << issue.to_string() << '\n';
    return false;
  }
  config = r.config;
  return true;
}

void print_feed_stats(std::ostream& out, const feed::FeedStage& feed) {
  for (const Venue v : venues::kAll) {
    const feed::VenueFeedStats& s = feed.stats(v);
    if (s.connects == 0 && s.last_error.empty()) continue;
    out << "  " << to_string(v) << ": frames " << s.frames << ", bytes " << s.bytes << ", connects "
        << s.connects << ", disconnects " << s.disconnects << " (watchdog " << s.watchdog_trips
        << "), resyncs " << s.resyncs << ", snapshots " << s.snapshot_requests << " (failed "
        << s.snapshot_failures << "), dropped frames "
        << feed.parser_stats(v).count(feed::MsgKind::dropped);
    if (!s.last_error.empty()) out << ", last error: " << s.last_error.view();
    out << '\n';
  }
}

}  // namespace

int run_record(const std::string& config_path, const std::string& out_path,
               std::chrono::milliseconds duration, std::ostream& out, std::ostream& err) {
  Config config;
  if (!load(config_path, config, err)) return kExitBadInput;
  RecordingWriter writer;
  std::string error;
  if (!writer.open(out_path, error)) {
    err << error << '\n';
    return kExitBadInput;
  }
  const SymbolMap symbols = build_symbol_map(config);
  // First, what the recording holds: its venues and their book streams, symbols and FX book.
  writer.header(recording_header(config, "xarb record"), config);
  DirectRecorder recorder(writer);
  // Then each venue's start-up answers (server time, trading rules), as the engine reads them:
  // a backtest of the recording trades by these rules.
  for (const Venue v : config.venues()) {
    exec::RestVenueOptions o = rest_options(config, v);
    o.credentials = {};
    o.private_stream = false;
    o.on_startup_answer = [&writer, v](std::string_view target, std::string_view body) {
      writer.http(v, target, clock::wall_ns(), body);
    };
    try {
      exec::RestVenue venue(symbols, o);
      if (!venue.start(error)) {
        out << "warning: " << to_string(v) << "'s trading rules not recorded (" << error
            << "): xarb backtest cannot use this recording\n";
      }
    } catch (const std::exception& e) {
      out << "warning: " << to_string(v) << "'s trading rules not recorded: " << e.what() << '\n';
    }
  }
  SpscRing<BookSnapshot> ring(4096);
  std::unique_ptr<feed::FeedStage> feed;
  try {
    feed = std::make_unique<feed::FeedStage>(feed_options(config), symbols, ring, &recorder);
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return kExitBadInput;
  }
  detail::install_stop_signals();
  const std::int64_t until = clock::steady_ns() + std::chrono::nanoseconds(duration).count();
  feed->start();
  while (!detail::stop_signalled() && clock::steady_ns() < until) {
    feed->run_for(std::chrono::milliseconds(20));
    while (ring.front() != nullptr) ring.pop();  // recording only: the books are not used
  }
  feed->stop();
  writer.flush();
  out << "recorded " << writer.frames() << " frames to " << out_path << '\n';
  print_feed_stats(out, *feed);
  return 0;
}

namespace {

// What `xarb watch` has seen: the latest book of each symbol on each venue, when it came, and the
// FX rate, kept as the strategy keeps them.
struct WatchState {
  WatchState(const SymbolMap& s, const signal::StrategyParams& p)
      : symbols(s), params(p), fx(p.fx), latest(s.size() * kMaxVenues), seen_at(latest.size()) {}
  const SymbolMap& symbols;
  const signal::StrategyParams& params;
  signal::FxTracker fx;
  std::vector<BookSnapshot> latest;
  std::vector<std::int64_t> seen_at;

  void on_book(const BookSnapshot& b, std::int64_t now) {
    if (b.instrument >= symbols.size()) return;
    latest[b.instrument * kMaxVenues + index(b.venue)] = b;
    seen_at[b.instrument * kMaxVenues + index(b.venue)] = now;
    if (b.instrument == symbols.fx()) fx.on_book(b, now);
  }
  const BookSnapshot& book(Venue v, InstrumentId id) const {
    return latest[id * kMaxVenues + index(v)];
  }
  std::string age(Venue v, InstrumentId id, std::int64_t now) const {
    const std::int64_t t = seen_at[id * kMaxVenues + index(v)];
    return t == 0 ? "-" : std::to_string((now - t) / 1'000'000) + "ms";
  }
};

std::string top(const BookSnapshot& b, bool bid) {
  if (!b.tradable()) return "-";
  return to_string(bid ? b.bids[0].price : b.asks[0].price);
}

std::string bps(const signal::Premium& p) {
  if (!p.valid) return "-";
  char text[48];
  std::snprintf(text, sizeof text, "%.1f (%.1f)", p.premium_bps(), p.edge_bps());
  return text;
}

// One table per traded pair: each symbol's top of book on both venues, the premium each way at
// executable prices for its trade size (the strategy's own premium()) and its edge after fees.
void draw_watch(std::ostream& out, const WatchState& w, const feed::FeedStage& feed,
                const std::vector<Venue>& venues) {
  const std::int64_t now = clock::mono_ns();
  char line[512];
  out << "\x1b[H\x1b[2J";  // home, clear: refresh in place
  out << "xarb watch  FX " << std::fixed << std::setprecision(2) << w.fx.last() << " KRW/USDT ";
  out.unsetf(std::ios::floatfield);
  for (const Venue v : venues) {
    out << ' ' << to_string(v) << (feed.connected(v) ? " connected" : " DISCONNECTED");
  }
  out << "\npremium and edge after fees in bps, at each symbol's trade size\n";
  for (std::size_t k = 0; k < w.params.pair_count; ++k) {
    const signal::PairParams& pp = w.params.pairs[k];
    const Venue a = pp.pair.first, b = pp.pair.second;
    const double rate = pp.fx ? w.fx.last() : 1.0;
    std::snprintf(line, sizeof line, "\n%-8s %14s %14s %14s %14s %18s %18s %8s %8s\n",
                  to_string(pp.pair).c_str(), (std::string(to_string(a)) + " bid").c_str(),
                  (std::string(to_string(a)) + " ask").c_str(),
                  (std::string(to_string(b)) + " bid").c_str(),
                  (std::string(to_string(b)) + " ask").c_str(), "kimchi", "reverse",
                  ("age " + std::string(to_string(a).substr(0, 1))).c_str(),
                  ("age " + std::string(to_string(b).substr(0, 1))).c_str());
    out << line;
    for (const Instrument& i : w.symbols) {
      if (i.is_fx || !i.listed_on(a) || !i.listed_on(b)) continue;
      const BookSnapshot& first = w.book(a, i.id);
      const BookSnapshot& second = w.book(b, i.id);
      const Decimal qty = w.params.symbols[i.id].trade_qty;
      const signal::Premium kimchi =
          signal::premium(first, second, rate, Direction::kimchi, qty, pp.fees);
      const signal::Premium reverse =
          signal::premium(first, second, rate, Direction::reverse, qty, pp.fees);
      std::snprintf(line, sizeof line, "%-8s %14s %14s %14s %14s %18s %18s %8s %8s\n",
                    std::string(i.base.view()).c_str(), top(first, true).c_str(),
                    top(first, false).c_str(), top(second, true).c_str(),
                    top(second, false).c_str(), bps(kimchi).c_str(), bps(reverse).c_str(),
                    w.age(a, i.id, now).c_str(), w.age(b, i.id, now).c_str());
      out << line;
    }
  }
  out.flush();
}

}  // namespace

int run_watch(const std::string& config_path, std::chrono::milliseconds duration, std::ostream& out,
              std::ostream& err) {
  Config config;
  if (!load(config_path, config, err)) return kExitBadInput;
  const SymbolMap symbols = build_symbol_map(config);
  const signal::StrategyParams params = strategy_params(config, symbols);
  SpscRing<BookSnapshot> ring(4096);
  std::unique_ptr<feed::FeedStage> feed;
  try {
    feed = std::make_unique<feed::FeedStage>(feed_options(config), symbols, ring);
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return kExitBadInput;
  }
  WatchState state(symbols, params);
  const std::vector<Venue> venues = config.venues();
  detail::install_stop_signals();
  const std::int64_t start = clock::steady_ns();
  const std::int64_t until =
      duration.count() == 0 ? INT64_MAX : start + std::chrono::nanoseconds(duration).count();
  std::int64_t next_draw = start;
  (void)clock::calibrate_mono();
  feed->start();
  while (!detail::stop_signalled() && clock::steady_ns() < until) {
    feed->run_for(std::chrono::milliseconds(20));
    while (const BookSnapshot* s = ring.front()) {
      state.on_book(*s, clock::mono_ns());
      ring.pop();
    }
    if (clock::steady_ns() >= next_draw) {
      draw_watch(out, state, *feed, venues);
      next_draw = clock::steady_ns() + 500'000'000;
    }
  }
  draw_watch(out, state, *feed, venues);
  feed->stop();
  out << '\n';
  print_feed_stats(out, *feed);
  return 0;
}

}  // namespace xarb::app
