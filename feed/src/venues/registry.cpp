// Feed's venue registry: one line per venue whose market data it reads.

#include <xarb/venues/registry.hpp>

#include <memory>
#include <string>

#include "adapter.hpp"

namespace xarb::feed::adapters {

std::unique_ptr<FeedAdapter> make_krwcopy(const SymbolMap& symbols, const FeedOptions& options);

namespace {

struct FeedVenue {
  Venue id;
  MakeFeedAdapter make;
  Discover discover;
};

constexpr FeedVenue kFeedVenues[] = {
    {venues::kBinance, &make_binance, &discover_binance},
    {venues::kUpbit, &make_upbit, &discover_upbit_protocol},
    {venues::kBithumb, &make_bithumb, &discover_upbit_protocol},
    {*venues::from_name("krwcopy"), &make_krwcopy, &discover_upbit_protocol},
};

}  // namespace

Discover discoverer(Venue venue) noexcept {
  for (const FeedVenue& v : kFeedVenues) {
    if (v.id == venue) return v.discover;
  }
  return nullptr;
}

std::unique_ptr<FeedAdapter> make(Venue venue, const SymbolMap& symbols,
                                  const FeedOptions& options) {
  for (const FeedVenue& v : kFeedVenues) {
    if (v.id == venue) return v.make(symbols, options);
  }
  return nullptr;
}

Adapters make_all(const SymbolMap& symbols, const FeedOptions& options) {
  Adapters a;
  for (std::size_t v = 0; v < kMaxVenues; ++v) a[v] = make(static_cast<Venue>(v), symbols, options);
  return a;
}

BookKeeper::Syncs syncs(const Adapters& adapters) noexcept {
  BookKeeper::Syncs out{};
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    out[v] = adapters[v] ? adapters[v]->sync() : BookSync::none;
  }
  return out;
}

const ParserStats& parser_stats(const Adapters& adapters, Venue venue) noexcept {
  static const ParserStats kNone{};
  if (!valid(venue) || !adapters[index(venue)]) return kNone;
  return adapters[index(venue)]->stats();
}

}  // namespace xarb::feed::adapters

namespace xarb::feed {

bool discover_symbols(const std::string& path, SymbolMap& map, std::string& error) {
  const std::unique_ptr<CaptureReader> reader = CaptureReader::open(path, error);
  if (!reader) return false;
  CaptureEvent e;
  while (reader->next(e)) {
    if (!e.venue_known) continue;
    // Each venue's adapter reads its own subscriptions.
    if (const adapters::Discover discover = adapters::discoverer(e.venue)) discover(e, map);
  }
  return true;
}

std::string_view book_stream(const FeedOptions& options, Venue venue) noexcept {
  if (valid(venue) && !options.endpoint(venue).book.empty()) return options.endpoint(venue).book;
  const venues::VenueInfo* i = venues::info(venue);
  return i != nullptr ? i->defaults.books[0] : std::string_view{};
}

std::chrono::milliseconds keepalive(const FeedOptions& options, Venue venue) noexcept {
  if (valid(venue) && options.endpoint(venue).ping.count() > 0) return options.endpoint(venue).ping;
  const venues::VenueInfo* i = venues::info(venue);
  return std::chrono::milliseconds(i != nullptr ? i->defaults.ping_ms : 0);
}

std::chrono::milliseconds lifetime(const FeedOptions& options, Venue venue) noexcept {
  if (valid(venue) && options.endpoint(venue).lifetime.count() > 0) {
    return options.endpoint(venue).lifetime;
  }
  const venues::VenueInfo* i = venues::info(venue);
  return std::chrono::seconds(i != nullptr ? i->defaults.lifetime_s : 0);
}

}  // namespace xarb::feed
