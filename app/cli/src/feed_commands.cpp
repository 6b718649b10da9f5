#include <cstdio>
#include <memory>
#include <ostream>
#include <vector>

#include <xarb/app/feed_commands.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/venues/registry.hpp>

#include <xarb/app/stop_signals.hpp>

namespace xarb::app {
namespace {

constexpr int kExitBadInput = 2;

// Writes JSON text as it is when it is a JSON object or array, else as a JSON string. A raw
// line break in JSON text can only be whitespace between tokens (strings cannot hold one), so it
// is written as a space: one record stays one line.
void write_json_value(std::FILE* f, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
    ++i;
  if (i < text.size() && (text[i] == '{' || text[i] == '[')) {
    for (const char c : text) std::fputc(c == '\n' || c == '\r' ? ' ' : c, f);
    return;
  }
  std::fputc('"', f);
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      std::fputc('\\', f);
      std::fputc(c, f);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      std::fprintf(f, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      std::fputc(c, f);
    }
  }
  std::fputc('"', f);
}

void write_ts(std::FILE* f, std::int64_t wall_ns) {
  std::fprintf(f, "%lld.%06lld", static_cast<long long>(wall_ns / 1'000'000'000),
               static_cast<long long>((wall_ns % 1'000'000'000) / 1000));
}

class JsonlRecorder : public feed::FrameObserver {
 public:
  explicit JsonlRecorder(std::FILE* f) : f_(f) {}

  void on_connect(Venue v, std::string_view url) override {
    url_[index(v)] = std::string(url);
    std::fprintf(f_, "{\"t\":\"ws_connect\",\"venue\":\"%s\",\"url\":", to_string(v).data());
    write_json_value(f_, url);
    std::fputs(",\"ts\":", f_);
    write_ts(f_, clock::wall_ns());
    std::fputs("}\n", f_);
  }
  void on_send(Venue v, std::string_view message) override {
    line("ws_send", v, url_[index(v)], clock::wall_ns(), message);
  }
  void on_frame(Venue v, std::int64_t wall_ns, std::string_view frame) override {
    ++frames;
    line("ws", v, url_[index(v)], wall_ns, frame);
  }
  void on_http(Venue v, std::string_view target, std::int64_t wall_ns,
               std::string_view body) override {
    line("http", v, rest_base + std::string(target), wall_ns, body);
  }

  std::uint64_t frames = 0;
  std::string rest_base;

 private:
  void line(const char* type, Venue v, std::string_view url, std::int64_t wall_ns,
            std::string_view msg) {
    std::fprintf(f_, "{\"t\":\"%s\",\"venue\":\"%s\",\"url\":", type, to_string(v).data());
    write_json_value(f_, url);
    std::fputs(",\"ts\":", f_);
    write_ts(f_, wall_ns);
    std::fputs(",\"msg\":", f_);
    write_json_value(f_, msg);
    std::fputs("}\n", f_);
  }

  std::FILE* f_;
  std::string url_[kMaxVenues];
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
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(out_path.c_str(), "w"),
                                                       &std::fclose);
  if (!file) {
    err << "cannot write " << out_path << '\n';
    return kExitBadInput;
  }
  const SymbolMap symbols = build_symbol_map(config);
  JsonlRecorder recorder(file.get());
  recorder.rest_base = config.binance.rest_url;
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
  std::fflush(file.get());
  out << "recorded " << recorder.frames << " frames to " << out_path << '\n';
  print_feed_stats(out, *feed);
  return 0;
}

int run_watch(const std::string& config_path, std::chrono::milliseconds duration, std::ostream& out,
              std::ostream& err) {
  Config config;
  if (!load(config_path, config, err)) return kExitBadInput;
  const SymbolMap symbols = build_symbol_map(config);
  SpscRing<BookSnapshot> ring(4096);
  std::unique_ptr<feed::FeedStage> feed;
  try {
    feed = std::make_unique<feed::FeedStage>(feed_options(config), symbols, ring);
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return kExitBadInput;
  }
  std::vector<BookSnapshot> latest(symbols.size() * kMaxVenues);
  std::vector<std::int64_t> seen_at(symbols.size() * kMaxVenues, 0);
  detail::install_stop_signals();
  const std::int64_t start = clock::steady_ns();
  const std::int64_t until =
      duration.count() == 0 ? INT64_MAX : start + std::chrono::nanoseconds(duration).count();
  std::int64_t next_draw = start;
  (void)clock::calibrate_mono();
  feed->start();
  auto draw = [&] {
    const std::int64_t now = clock::mono_ns();
    auto top = [&](Venue v, InstrumentId id, bool bid) -> double {
      const BookSnapshot& s = latest[id * kMaxVenues + index(v)];
      if (!s.tradable()) return 0.0;
      return bid ? s.bids[0].price.to_double() : s.asks[0].price.to_double();
    };
    auto age = [&](Venue v, InstrumentId id) -> std::string {
      const std::int64_t t = seen_at[id * kMaxVenues + index(v)];
      return t == 0 ? "-" : std::to_string((now - t) / 1'000'000) + "ms";
    };
    double fx = 0.0;
    if (config.fx.source == FxSource::fixed) {
      fx = config.fx.fixed_rate.to_double();
    } else if (symbols.fx() != kNoInstrument) {
      const double b = top(venues::kUpbit, symbols.fx(), true),
                   a = top(venues::kUpbit, symbols.fx(), false);
      if (b > 0 && a > 0)
        fx = config.fx.side == FxSide::bid ? b : config.fx.side == FxSide::ask ? a : (a + b) / 2;
    }
    char line[512];
    out << "\x1b[H\x1b[2J";  // home, clear: refresh in place
    std::snprintf(line, sizeof line, "xarb watch  FX %s %.2f KRW/USDT  binance %s  upbit %s\n\n",
                  config.fx.market.c_str(), fx,
                  feed->connected(venues::kBinance) ? "connected" : "DISCONNECTED",
                  feed->connected(venues::kUpbit) ? "connected" : "DISCONNECTED");
    out << line;
    std::snprintf(line, sizeof line, "%-8s %16s %16s %12s %12s %10s %10s %8s %8s\n", "symbol",
                  "upbit bid KRW", "upbit ask KRW", "bnb bid USDT", "bnb ask USDT", "kimchi %",
                  "reverse %", "age U", "age B");
    out << line;
    for (const Instrument& i : symbols) {
      if (i.is_fx) continue;
      const double ub = top(venues::kUpbit, i.id, true), ua = top(venues::kUpbit, i.id, false);
      const double bb = top(venues::kBinance, i.id, true), ba = top(venues::kBinance, i.id, false);
      const double kimchi = (fx > 0 && ba > 0 && ub > 0) ? (ub / (fx * ba) - 1) * 100 : 0.0;
      const double reverse = (fx > 0 && bb > 0 && ua > 0) ? (ua / (fx * bb) - 1) * 100 : 0.0;
      std::snprintf(line, sizeof line, "%-8s %16.0f %16.0f %12.2f %12.2f %10.3f %10.3f %8s %8s\n",
                    std::string(i.base.view()).c_str(), ub, ua, bb, ba, kimchi, reverse,
                    age(venues::kUpbit, i.id).c_str(), age(venues::kBinance, i.id).c_str());
      out << line;
    }
    if (config.bithumb) {
      // Bithumb against Binance (a second kimchi pair) and against Upbit (KRW to KRW, no FX).
      std::snprintf(line, sizeof line, "\n%-8s %16s %16s %10s %10s %12s %12s %8s  bithumb %s\n",
                    "symbol", "bithumb bid KRW", "bithumb ask KRW", "kimchi %", "reverse %",
                    "U->H gap %", "H->U gap %", "age H",
                    feed->connected(venues::kBithumb) ? "connected" : "DISCONNECTED");
      out << line;
      for (const Instrument& i : symbols) {
        if (i.is_fx || !i.listed_on(venues::kBithumb)) continue;
        const double hb = top(venues::kBithumb, i.id, true);
        const double ha = top(venues::kBithumb, i.id, false);
        const double ub = top(venues::kUpbit, i.id, true), ua = top(venues::kUpbit, i.id, false);
        const double bb = top(venues::kBinance, i.id, true);
        const double ba = top(venues::kBinance, i.id, false);
        const double kimchi = (fx > 0 && ba > 0 && hb > 0) ? (hb / (fx * ba) - 1) * 100 : 0.0;
        const double reverse = (fx > 0 && bb > 0 && ha > 0) ? (ha / (fx * bb) - 1) * 100 : 0.0;
        // Sell on one KRW venue, buy on the other: what the gap pays before fees.
        const double sell_u = (ub > 0 && ha > 0) ? (ub / ha - 1) * 100 : 0.0;
        const double sell_h = (hb > 0 && ua > 0) ? (hb / ua - 1) * 100 : 0.0;
        std::snprintf(line, sizeof line, "%-8s %16.0f %16.0f %10.3f %10.3f %12.3f %12.3f %8s\n",
                      std::string(i.base.view()).c_str(), hb, ha, kimchi, reverse, sell_u, sell_h,
                      age(venues::kBithumb, i.id).c_str());
        out << line;
      }
    }
    out.flush();
  };
  while (!detail::stop_signalled() && clock::steady_ns() < until) {
    feed->run_for(std::chrono::milliseconds(20));
    while (const BookSnapshot* s = ring.front()) {
      if (s->instrument < symbols.size()) {
        latest[s->instrument * kMaxVenues + index(s->venue)] = *s;
        seen_at[s->instrument * kMaxVenues + index(s->venue)] = clock::mono_ns();
      }
      ring.pop();
    }
    if (clock::steady_ns() >= next_draw) {
      draw();
      next_draw = clock::steady_ns() + 500'000'000;
    }
  }
  draw();
  feed->stop();
  out << '\n';
  print_feed_stats(out, *feed);
  return 0;
}

}  // namespace xarb::app
