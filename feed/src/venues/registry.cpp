// Feed's venue registry: one line per venue whose market data it reads.

#include <xarb/venues/registry.hpp>

#include "adapter.hpp"

namespace xarb::feed::adapters {
namespace {

struct FeedVenue {
  Venue id;
  MakeFeedAdapter make;
};

constexpr FeedVenue kFeedVenues[] = {
    {venues::kBinance, &make_binance},
    {venues::kUpbit, &make_upbit},
    {venues::kBithumb, &make_bithumb},
};

}  // namespace

std::unique_ptr<FeedAdapter> make(Venue venue, const SymbolMap& symbols,
                                  const FeedOptions& options) {
  for (const FeedVenue& v : kFeedVenues) {
    if (v.id == venue) return v.make(symbols, options);
  }
  return nullptr;
}

}  // namespace xarb::feed::adapters
