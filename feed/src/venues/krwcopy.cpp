// krwcopy's market data (a test fixture: Upbit's protocol under another name; see
// tests/app/fourth_venue_test.cpp): Upbit's framing, UpbitFeed's (upbit_feed.hpp).

#include <xarb/venues/registry.hpp>

#include "upbit_feed.hpp"

namespace xarb::feed::adapters {

std::unique_ptr<FeedAdapter> make_krwcopy(const SymbolMap& symbols, const FeedOptions& options) {
  return std::make_unique<UpbitFeed>(*venues::from_name("krwcopy"), symbols, options);
}

}  // namespace xarb::feed::adapters
