#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <ostream>
#include <thread>
#include <vector>

#include <xarb/app/backtest.hpp>
#include <xarb/app/config.hpp>
#include <xarb/app/replay_command.hpp>
#include <xarb/app/stage_options.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/feed/replay.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

constexpr int kExitBadInput = 2;

// Writes one line per change of the best bid or ask (or of the book's tradability), with
// prices and quantities as exact decimal strings.
class EmitBooksSink : public feed::SnapshotSink {
 public:
  EmitBooksSink(const SymbolMap& symbols, std::FILE* out)
      : symbols_(symbols), out_(out), last_(symbols.size() * kMaxVenues) {}

  void on_snapshot(const BookSnapshot& s) noexcept override {
    if (s.instrument >= symbols_.size()) return;
    Top& last = last_[s.instrument * kMaxVenues + index(s.venue)];
    const Top now{s.bid_count > 0 ? s.bids[0] : Level{}, s.ask_count > 0 ? s.asks[0] : Level{},
                  s.tradable()};
    if (last.seen && now.bid == last.bid && now.ask == last.ask && now.tradable == last.tradable) {
      return;
    }
    last = now;
    last.seen = true;
    ++emitted;
    if (out_ == nullptr) return;
    const Instrument& inst = symbols_[s.instrument];
    const std::string_view symbol = inst.symbol(s.venue);
    char bp[Decimal::kMaxChars + 2], bq[Decimal::kMaxChars + 2], ap[Decimal::kMaxChars + 2],
        aq[Decimal::kMaxChars + 2];
    std::fprintf(out_,
                 "{\"venue\":\"%s\",\"symbol\":\"%.*s\",\"seq\":%llu,\"exch_ts\":%lld,"
                 "\"recv_ts\":%lld,\"bid_px\":%s,\"bid_qty\":%s,\"ask_px\":%s,\"ask_qty\":%s,"
                 "\"levels\":[%u,%u],\"tradable\":%s}\n",
                 to_string(s.venue).data(), static_cast<int>(symbol.size()), symbol.data(),
                 static_cast<unsigned long long>(s.sequence),
                 static_cast<long long>(s.stamps.get(Stage::exchange)),
                 static_cast<long long>(s.stamps.get(Stage::received)),
                 quoted(bp, s.bid_count > 0, now.bid.price),
                 quoted(bq, s.bid_count > 0, now.bid.qty),
                 quoted(ap, s.ask_count > 0, now.ask.price),
                 quoted(aq, s.ask_count > 0, now.ask.qty), static_cast<unsigned>(s.bid_count),
                 static_cast<unsigned>(s.ask_count), now.tradable ? "true" : "false");
  }

  std::uint64_t emitted = 0;

 private:
  struct Top {
    Level bid, ask;
    bool tradable = false;
    bool seen = false;
  };

  // "43.5083" with quotes, or null when the side is empty.
  static const char* quoted(char* buf, bool present, Decimal v) noexcept {
    if (!present) return "null";
    buf[0] = '"';
    const FormatResult r = v.to_chars(buf + 1, buf + Decimal::kMaxChars + 1);
    *r.end = '"';
    *(r.end + 1) = '\0';
    return buf;
  }

  const SymbolMap& symbols_;
  std::FILE* out_;
  std::vector<Top> last_;
};

struct FileCloser {
  void operator()(std::FILE* f) const noexcept {
    if (f != nullptr) std::fclose(f);
  }
};

void print_stats(std::ostream& out, std::string_view venue, const feed::ParserStats& s) {
  if (s.total() == 0) return;
  out << "  " << venue << ":";
  for (std::size_t k = 0; k < s.by_kind.size(); ++k) {
    if (s.by_kind[k] != 0) {
      out << ' ' << feed::to_string(static_cast<feed::MsgKind>(k)) << '=' << s.by_kind[k];
    }
  }
  out << '\n';
  for (std::size_t r = 1; r < s.drops.size(); ++r) {
    if (s.drops[r] != 0) {
      out << "    dropped " << feed::to_string(static_cast<feed::DropReason>(r)) << ": "
          << s.drops[r] << '\n';
    }
  }
}

// --book VENUE=STREAM: the stream a venue's books are built from, one its registry row lists.
bool set_book(std::string_view text, feed::FeedOptions& feed, std::ostream& err) {
  const std::size_t eq = text.find('=');
  const venues::VenueInfo* row =
      eq == std::string_view::npos
          ? nullptr
          : venues::info(venues::from_name(text.substr(0, eq)).value_or(kNoVenue));
  if (row == nullptr) {
    err << "--book takes VENUE=STREAM with a venue this build knows, not \"" << text << "\"\n";
    return false;
  }
  const std::string_view stream = text.substr(eq + 1);
  std::string streams;
  for (const std::string_view b : row->defaults.books) {
    if (b.empty()) break;
    if (b == stream) {
      feed.endpoint(row->id).book = std::string(stream);
      return true;
    }
    streams += (streams.empty() ? "" : ", ") + std::string(b);
  }
  err << "--book " << row->name << "=" << stream << ": " << row->name
      << "'s books are built from one of " << streams << '\n';
  return false;
}

// The instruments and book streams a recording's header names (the symbols of the config that
// recorded it).
bool from_header(const feed::RecordingHeader& h, SymbolMap& symbols, feed::FeedOptions& feed,
                 std::ostream& err) {
  for (const feed::RecordingHeader::Symbol& s : h.symbols) {
    std::vector<VenueSymbol> markets;
    for (const Venue v : venues::kAll) {
      if (!s.markets[index(v)].empty()) markets.push_back({v, s.markets[index(v)]});
    }
    if (symbols.add(s.base, markets) != Errc::ok) {
      err << "the recording's symbol " << s.base << " cannot be added (a market named twice?)\n";
      return false;
    }
  }
  if (h.fx_venue != kNoVenue && symbols.add_fx(h.fx_venue, h.fx_market) != Errc::ok) {
    err << "the recording's FX market " << h.fx_market << " cannot be added\n";
    return false;
  }
  for (const feed::RecordingHeader::VenueBook& v : h.venues) feed.endpoint(v.venue).book = v.book;
  return true;
}

}  // namespace

int run_replay(const ReplayOptions& o, std::ostream& out, std::ostream& err) {
  if (o.speed < 0) {
    err << "--speed must be max or a positive factor\n";
    return kExitBadInput;
  }

  SymbolMap symbols;
  feed::FeedOptions feed;  // each venue's book stream: its registry row's, the config's, --book
  std::string error;
  feed::RecordingHeader header;
  bool recorded = false;  // the capture has xarb's header
  if (!read_recording_header(o.input, header, recorded, err)) return kExitBadInput;
  if (!o.config.empty()) {
    const LoadResult config = load_config(o.config);
    if (!config.ok()) {
      for (const auto& issue : config.errors) err << issue.to_string() << '\n';
      return kExitBadInput;
    }
    // A recording made for another config: refused, since its books would be missing.
    if (recorded) {
      if (const std::string gap = not_covered(header, config.config); !gap.empty()) {
        err << o.input << ":1: " << gap << '\n';
        return kExitBadInput;
      }
    }
    symbols = build_symbol_map(config.config);
    feed = feed_options(config.config);
  } else if (recorded) {
    if (!from_header(header, symbols, feed, err)) return kExitBadInput;
  } else if (!feed::discover_symbols(o.input, symbols, error)) {
    err << error << '\n';
    return kExitBadInput;
  }
  if (symbols.size() == 0) {
    err << o.input << ": the capture subscribes to no symbol; pass --config\n";
    return kExitBadInput;
  }
  for (const std::string& b : o.books) {
    if (!set_book(b, feed, err)) return kExitBadInput;
  }

  std::unique_ptr<std::FILE, FileCloser> emit;
  if (!o.emit_books.empty()) {
    emit.reset(std::fopen(o.emit_books.c_str(), "w"));
    if (!emit) {
      err << "cannot write " << o.emit_books << '\n';
      return kExitBadInput;
    }
  }
  auto reader = feed::CaptureReader::open(o.input, error);
  if (!reader) {
    err << error << '\n';
    return kExitBadInput;
  }

  (void)clock::calibrate_mono();
  feed::Replayer replayer(symbols, feed);
  EmitBooksSink sink(symbols, emit.get());
  feed::CaptureEvent event;
  const auto wall_start = std::chrono::steady_clock::now();
  std::int64_t first_recv = 0;
  const std::int64_t t0 = clock::mono_ns();
  while (reader->next(event)) {
    if (o.speed > 0 && event.recv_ns != 0) {
      if (first_recv == 0) first_recv = event.recv_ns;
      const auto offset = std::chrono::nanoseconds(
          static_cast<std::int64_t>(static_cast<double>(event.recv_ns - first_recv) / o.speed));
      std::this_thread::sleep_until(wall_start + offset);
    }
    replayer.feed(event, sink);
  }
  const double seconds = static_cast<double>(clock::mono_ns() - t0) / 1e9;

  const feed::ReplayStats& st = replayer.stats();
  out << "replay " << o.input << '\n';
  if (recorded) out << "  recording (" << header.recorder << "): " << header.summary() << '\n';
  out
      << "  lines " << reader->lines() << " (malformed " << reader->malformed() << "), frames "
      << st.frames << ", REST snapshots " << st.rest_snapshots << ", instruments " << symbols.size()
      << ", books from";
  for (const Venue v : venues::kAll) out << ' ' << to_string(v) << '=' << feed::book_stream(feed, v);
  out << '\n';
  for (const Venue v : venues::kAll) print_stats(out, to_string(v), replayer.parser_stats(v));
  out << "  books published " << st.published << ", top-of-book changes " << sink.emitted
      << ", gaps " << replayer.books().gaps() << ", snapshot requests " << st.snapshot_requests
      << ", frames for other book sources " << replayer.books().ignored_frames() << '\n';
  const double frames = static_cast<double>(st.frames + st.rest_snapshots);
  out << "  " << seconds << " s, "
      << static_cast<std::uint64_t>(seconds > 0 ? frames / seconds : 0.0) << " frames/s"
      << (o.speed > 0 ? " (paced)" : "") << '\n';
  if (emit && std::fflush(emit.get()) != 0) {
    err << "writing " << o.emit_books << " failed\n";
    return kExitBadInput;
  }
  return 0;
}

}  // namespace xarb::app
