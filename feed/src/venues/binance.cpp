// Binance's market data: combined streams of every configured symbol on one connection (the
// stream kind follows its endpoint's book: diff_depth, partial_depth or book_ticker), diff books
// synchronised with GET /api/v3/depth, and a connection renewed before Binance closes it at 24 h.

#include <xarb/feed/venues/binance_parser.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/venues/registry.hpp>

#include "adapter.hpp"

namespace xarb::feed::adapters {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Which stream builds the books: the diff stream synchronised with REST snapshots (full depth),
// the top-20 partial book stream (no REST), or bookTicker (best bid and ask only). The names are
// the registry row's `books`.
enum class BookSource : std::uint8_t { diff_depth, partial_depth, book_ticker };

BookSource book_source(std::string_view name) noexcept {
  if (name == "partial_depth") return BookSource::partial_depth;
  if (name == "book_ticker") return BookSource::book_ticker;
  return BookSource::diff_depth;
}

class BinanceFeed final : public FeedAdapter {
 public:
  BinanceFeed(const SymbolMap& symbols, const FeedOptions& options)
      : symbols_(symbols),
        parser_(symbols, options.ws.max_message_bytes),
        source_(book_source(book_stream(options, venues::kBinance))),
        lifetime_(lifetime(options, venues::kBinance)),
        depth_limit_(options.depth_snapshot_limit) {
    const char* suffix = source_ == BookSource::diff_depth      ? "@depth@100ms"
                         : source_ == BookSource::partial_depth ? "@depth20@100ms"
                                                                       : "@bookTicker";
    for (const Instrument& i : symbols) {
      if (!i.listed_on(venues::kBinance)) continue;
      if (!streams_.empty()) streams_ += '/';
      streams_ += lower(i.symbol(venues::kBinance)) + suffix;
    }
  }

  BookSync sync() const noexcept override {
    switch (source_) {
      case BookSource::diff_depth:
        return BookSync::diff_depth;
      case BookSource::partial_depth:
        return BookSync::partial_depth;
      case BookSource::book_ticker:
        return BookSync::book_ticker;
    }
    return BookSync::none;
  }
  bool lists_any() const noexcept override { return !streams_.empty(); }
  std::string url(const VenueEndpoint& endpoint) const override {
    std::string base = endpoint.ws_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    return base + "/stream?streams=" + streams_;
  }
  std::string subscription(std::uint64_t) const override { return {}; }  // in the URL
  void tune(net::WsClientOptions& options) const override { options.lifetime = lifetime_; }

  ParsedFrame parse(std::string_view frame) noexcept override { return parser_.parse(frame); }
  const ParserStats& stats() const noexcept override { return parser_.stats(); }

  std::string snapshot_target(InstrumentId id) const override {
    return "/api/v3/depth?symbol=" + std::string(symbols_[id].symbol(venues::kBinance)) +
           "&limit=" + std::to_string(depth_limit_);
  }
  ParsedFrame parse_snapshot(std::string_view body, InstrumentId id) noexcept override {
    return parser_.parse_depth_snapshot(body, id);
  }
  InstrumentId snapshot_of(std::string_view url) const noexcept override {
    if (url.find("/depth") == std::string_view::npos) return kNoInstrument;
    return symbols_.find(venues::kBinance, query_param(url, "symbol"));
  }

 private:
  const SymbolMap& symbols_;
  BinanceParser parser_;
  BookSource source_;
  std::chrono::milliseconds lifetime_;
  int depth_limit_;
  std::string streams_;
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

void add_symbol(SymbolMap& map, std::string_view symbol) {
  const std::string name = upper(symbol);
  if (!name.empty() && map.find(venues::kBinance, name) == kNoInstrument) {
    (void)map.add(name, {{venues::kBinance, name}});
  }
}

}  // namespace

// The streams of a connect URL (/stream?streams=btcusdt@depth@100ms/ethusdt@bookTicker or
// /ws/btcusdt@depth) and the symbol of a REST snapshot request.
void discover_binance(const CaptureEvent& e, SymbolMap& map) {
  if (e.kind == CaptureKind::http) {
    add_symbol(map, query_param(e.url, "symbol"));
    return;
  }
  if (e.kind != CaptureKind::ws_connect) return;
  std::string_view streams = query_param(e.url, "streams");
  if (streams.empty()) {
    const std::size_t ws = e.url.find("/ws/");
    if (ws != std::string_view::npos) streams = e.url.substr(ws + 4);
  }
  while (!streams.empty()) {
    const std::size_t slash = streams.find('/');
    const std::string_view stream = streams.substr(0, slash);
    add_symbol(map, stream.substr(0, stream.find('@')));
    if (slash == std::string_view::npos) break;
    streams = streams.substr(slash + 1);
  }
}

std::unique_ptr<FeedAdapter> make_binance(const SymbolMap& symbols, const FeedOptions& options) {
  return std::make_unique<BinanceFeed>(symbols, options);
}

}  // namespace xarb::feed::adapters
