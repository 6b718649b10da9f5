// The simulator's venue registry: one line per venue it serves.

#include "registry.hpp"

#include <xarb/venues/registry.hpp>

#include "upbit_protocol.hpp"

namespace xarb::sim {

std::unique_ptr<WsVenueFront> make_binance_ws(SyntheticMarket& market, const Exchange& exchange);
std::unique_ptr<WsVenueFront> make_upbit_ws(const UpbitFront& d, SyntheticMarket& market,
                                          const Exchange& exchange);

namespace {

constexpr SimVenue kSimVenues[] = {
    {venues::kBinance, Protocol::binance, nullptr, "", ""},
    {venues::kUpbit, Protocol::upbit, &kUpbitDialect, "/websocket/v1", "/websocket/v1/private"},
    {venues::kBithumb, Protocol::upbit, &kBithumbDialect, "/websocket/v1", "/websocket/v2/private"},
};

}  // namespace

const SimVenue* find_venue(Venue v) noexcept {
  for (const SimVenue& s : kSimVenues) {
    if (s.id == v) return &s;
  }
  return nullptr;
}

std::unique_ptr<WsVenueFront> make_ws_front(Venue v, SyntheticMarket& market,
                                            const Exchange& exchange) {
  const SimVenue* s = find_venue(v);
  if (s == nullptr) return nullptr;
  return s->protocol == Protocol::binance ? make_binance_ws(market, exchange)
                                          : make_upbit_ws(*s->dialect, market, exchange);
}

}  // namespace xarb::sim
