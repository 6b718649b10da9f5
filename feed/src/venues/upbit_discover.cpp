// The markets an Upbit-protocol subscription names (Upbit's and Bithumb's), for a capture that
// replays without a config: [{"ticket":..},{"type":"orderbook","codes":["KRW-BTC.15",..]},..].

#include <string>

#include <xarb/venues/registry.hpp>

#include "../json_input.hpp"
#include "discover.hpp"

namespace xarb::feed::adapters {
namespace {

namespace od = detail::od;

// An instrument named after the market, or after venue and market when another venue's
// capture already named one so ("bithumb:KRW-BTC").
void add_market(SymbolMap& map, Venue venue, std::string_view market) {
  if (market.empty() || map.find(venue, market) != kNoInstrument) return;
  if (map.find_base(market) == kNoInstrument) {
    (void)map.add(market, {{venue, market}});
    return;
  }
  const std::string base = std::string(to_string(venue)) + ":" + std::string(market);
  (void)map.add(base, {{venue, market}});
}

}  // namespace

void discover_upbit_protocol(const CaptureEvent& e, SymbolMap& map) {
  if (e.kind != CaptureKind::ws_send) return;
  od::parser parser;
  simdjson::padded_string text(e.msg);
  od::document doc;
  od::array items;
  if (parser.iterate(text).get(doc) != simdjson::SUCCESS ||
      doc.get_array().get(items) != simdjson::SUCCESS) {
    return;
  }
  for (auto item : items) {
    od::object obj;
    if (item.get_object().get(obj) != simdjson::SUCCESS) continue;
    od::array codes;
    if (obj.find_field_unordered("codes").get_array().get(codes) != simdjson::SUCCESS) continue;
    for (auto code : codes) {
      std::string_view c;
      if (code.get_string().get(c) == simdjson::SUCCESS) {
        add_market(map, e.venue, c.substr(0, c.find('.')));
      }
    }
  }
}

}  // namespace xarb::feed::adapters
