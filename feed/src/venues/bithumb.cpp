// Bithumb's market data: Upbit's framing (upbit_feed.hpp) on its own markets; its parser reads a
// timestamp in microseconds as well as in milliseconds (UpbitParser, venues::kBithumb).

#include <xarb/venues/registry.hpp>

#include "upbit_feed.hpp"

namespace xarb::feed::adapters {

std::unique_ptr<FeedAdapter> make_bithumb(const SymbolMap& symbols, const FeedOptions& options) {
  return std::make_unique<UpbitFeed>(venues::kBithumb, symbols, options);
}

}  // namespace xarb::feed::adapters
