// Upbit's market data: its framing is KrwFeed's (krw_feed.hpp).

#include <xarb/venues/registry.hpp>

#include "krw_feed.hpp"

namespace xarb::feed::adapters {

std::unique_ptr<FeedAdapter> make_upbit(const SymbolMap& symbols, const FeedOptions& options) {
  return std::make_unique<KrwFeed>(venues::kUpbit, symbols, options);
}

}  // namespace xarb::feed::adapters
