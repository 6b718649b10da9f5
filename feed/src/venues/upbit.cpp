// Upbit's market data: its framing is UpbitFeed's (upbit_feed.hpp).

#include <xarb/venues/registry.hpp>

#include "upbit_feed.hpp"

namespace xarb::feed::adapters {

std::unique_ptr<FeedAdapter> make_upbit(const SymbolMap& symbols, const FeedOptions& options) {
  return std::make_unique<UpbitFeed>(venues::kUpbit, symbols, options);
}

}  // namespace xarb::feed::adapters
