// The simulator's venue registry: one line per venue it serves.

#include "registry.hpp"

#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/sim/market.hpp>
#include <xarb/venues/registry.hpp>

#include "rest_front.hpp"
#include "upbit_protocol.hpp"

namespace xarb::sim {

std::unique_ptr<RestFront> make_binance_rest(Exchange& exchange);
std::unique_ptr<RestFront> make_upbit_rest(const UpbitFront& d, Exchange& exchange);
std::unique_ptr<WsVenueFront> make_binance_ws(SyntheticMarket& market, const Exchange& exchange);
std::unique_ptr<WsVenueFront> make_upbit_ws(const UpbitFront& d, SyntheticMarket& market,
                                            const Exchange& exchange);

extern const UpbitFront kKrwCopyDialect;

namespace {

// Binance: 1,200 weight a minute and 50 orders per 10 s (its exchangeInfo). Upbit: 8 orders and 30
// other private requests a second (its order and default groups). Bithumb: 20 orders per coin and
// 140 requests a second before it restricts (docs/venues.md).
constexpr SimVenue kSimVenues[] = {
    {.id = venues::kBinance, .protocol = Protocol::binance, .served = true, .fee_bps = 10.0,
     .buy_fee_in_base = true,
     .requests = {"weight_1m", 1'200, 60'000}, .orders = {"orders_10s", 50, 10'000},
     .weighted = true, .bans = true, .refuse = binance_refusal, .places = binance_places},
    {.id = venues::kUpbit, .protocol = Protocol::upbit, .dialect = &kUpbitDialect,
     .ws_path = "/websocket/v1", .private_ws_path = "/websocket/v1/private", .served = true,
     .fee_bps = 5.0, .krw_ticks = &exec::kUpbitKrwTicks, .min_order_krw = exec::kUpbitMinOrderKrw,
     .fx_market = "KRW-USDT", .fx_ticks = &exec::kUpbitKrwStableTicks,
     .requests = {"default_per_second", 30}, .orders = {"requests_per_second", 8},
     .refuse = upbit_refusal, .places = upbit_places},
    {.id = venues::kBithumb, .protocol = Protocol::upbit, .dialect = &kBithumbDialect,
     .ws_path = "/websocket/v1", .private_ws_path = "/websocket/v2/private", .fee_bps = 4.0,
     .krw_ticks = &exec::kBithumbKrwTicks, .min_order_krw = exec::kBithumbMinOrderKrw,
     .gap = true, .gap_bps = -60.0, .gap_vol_bps = 10.0,
     .requests = {"default_per_second", 140}, .orders = {"orders_per_second", 20},
     .refuse = upbit_refusal, .places = upbit_places},
    {.id = *venues::from_name("krwcopy"), .protocol = Protocol::upbit,
     .dialect = &kKrwCopyDialect, .ws_path = "/websocket/v1",
     .private_ws_path = "/websocket/v1/private", .fee_bps = 5.0,
     .krw_ticks = &exec::kUpbitKrwTicks, .min_order_krw = exec::kUpbitMinOrderKrw,
     .requests = {"default_per_second", 30}, .orders = {"requests_per_second", 8},
     .refuse = upbit_refusal, .places = upbit_places},
};

}  // namespace

const SimVenue* find_venue(Venue v) noexcept {
  for (const SimVenue& s : kSimVenues) {
    if (s.id == v) return &s;
  }
  return nullptr;
}

Venue fx_venue() noexcept {
  for (const SimVenue& s : kSimVenues) {
    if (!s.fx_market.empty()) return s.id;
  }
  return kNoVenue;
}

SimVenues default_sim_venues() {
  SimVenues out{};
  for (const SimVenue& s : kSimVenues) {
    SimVenueParams& p = out[index(s.id)];
    p.served = s.served;
    p.fee_bps = s.fee_bps;
    p.gap_bps = s.gap_bps;
    p.gap_vol_bps = s.gap_vol_bps;
    p.request_limit = s.requests.limit;
    p.order_limit = s.orders.limit;
  }
  return out;
}

std::unique_ptr<RestFront> make_rest_front(Venue v, Exchange& exchange) {
  const SimVenue* s = find_venue(v);
  if (s == nullptr) return nullptr;
  return s->protocol == Protocol::binance ? make_binance_rest(exchange)
                                          : make_upbit_rest(*s->dialect, exchange);
}

std::unique_ptr<WsVenueFront> make_ws_front(Venue v, SyntheticMarket& market,
                                            const Exchange& exchange) {
  const SimVenue* s = find_venue(v);
  if (s == nullptr) return nullptr;
  return s->protocol == Protocol::binance ? make_binance_ws(market, exchange)
                                          : make_upbit_ws(*s->dialect, market, exchange);
}

}  // namespace xarb::sim
