#pragma once

// A recording's instruments as a venue's own subscriptions name them (discover_symbols, so that
// a capture replays without a config): each adds to `map` what one captured event of its venue
// (a websocket connect, a message sent, a REST request) subscribes to. Kept apart from
// adapter.hpp so that the simdjson sources (built without exceptions) can include it.

#include <xarb/core/ids.hpp>
#include <xarb/feed/capture.hpp>

namespace xarb::feed::adapters {

using Discover = void (*)(const CaptureEvent& event, SymbolMap& map);

void discover_binance(const CaptureEvent& event, SymbolMap& map);
void discover_upbit_protocol(const CaptureEvent& event, SymbolMap& map);  // Upbit's, Bithumb's

}  // namespace xarb::feed::adapters
