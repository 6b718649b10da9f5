#pragma once

// The simulator's venue registry: one line per venue it serves (registry.cpp), naming the
// protocol of its front ends and, for Upbit's protocol, the venue's dialect; how its books are
// priced; what it charges by default; how it limits requests and how it words a refusal.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <xarb/core/ids.hpp>
#include <xarb/exec/rules.hpp>

#include "ws_front.hpp"

namespace xarb::sim {

struct UpbitFront;
class RestFront;

enum class Protocol : std::uint8_t { binance, upbit };

// A refusal every venue words its own way.
enum class Refusal : std::uint8_t {
  too_many,     // 429: over a rate limit
  banned,       // still sending while blocked: Binance answers 418 and bans
  unavailable,  // 503
};

// A rate limit: `limit` units per `window_ms`; `key` names it under [limits] after the venue's
// name ("binance_weight_1m").
struct SimLimit {
  std::string_view key{};
  std::int64_t limit = 0;
  std::int64_t window_ms = 1'000;
};

struct SimVenue {
  Venue id = kNoVenue;
  Protocol protocol = Protocol::binance;
  const UpbitFront* dialect = nullptr;  // Protocol::upbit
  std::string_view ws_path{};           // the public websocket's path on its port
  std::string_view private_ws_path{};   // the private websocket's (own orders, balances)
  bool served = false;                  // served without being asked for
  double fee_bps = 0.0;                 // its taker fee until [fees] <name>_bps says otherwise
  bool buy_fee_in_base = false;         // a buy pays its fee in the coin bought (Binance)
  // A KRW venue's price unit and minimum order total (KRW), its FX market if it lists one (its
  // price unit then), and whether its books keep a gap of their own to the premium (Bithumb's,
  // against Upbit's) or quote the premium itself.
  const exec::TickTable* krw_ticks = nullptr;
  std::int64_t min_order_krw = 0;
  std::string_view fx_market{};
  const exec::TickTable* fx_ticks = nullptr;
  bool gap = false;
  double gap_bps = 0.0;
  double gap_vol_bps = 0.0;
  // Its limits. Weighted (Binance): every request costs its weight in `requests` and an order
  // counts in `orders` too; else (Upbit's groups) an order counts in `orders` only, any other
  // request in `requests`. Bans: a client still sending through its 429s is banned (418).
  SimLimit requests{};
  SimLimit orders{};
  bool weighted = false;
  bool bans = false;
  // Its refusal in its own words; `detail` is the time a ban ends.
  HttpResult (*refuse)(Refusal why, std::int64_t detail) = nullptr;
  // Whether `r` places an order on `market` on the side `buy` (the latency probe's entry).
  bool (*places)(const SimVenue& row, const HttpRequest& r, const std::string& market,
                 bool buy) = nullptr;
};

// The venue's row; null for a venue the simulator does not serve.
[[nodiscard]] const SimVenue* find_venue(Venue v) noexcept;
// The venue that lists the FX market (KRW-USDT); kNoVenue for none.
[[nodiscard]] Venue fx_venue() noexcept;

// The venue's REST front end over `exchange`'s state (rest_front.hpp); null for no row.
[[nodiscard]] std::unique_ptr<RestFront> make_rest_front(Venue v, Exchange& exchange);

// The venue's public websocket market data (ws_front.hpp).
[[nodiscard]] std::unique_ptr<WsVenueFront> make_ws_front(Venue v, SyntheticMarket& market,
                                                          const Exchange& exchange);

// Each protocol's refusals and order recognition (binance_rest.cpp, upbit_rest.cpp).
HttpResult binance_refusal(Refusal why, std::int64_t banned_until_ms);
HttpResult upbit_refusal(Refusal why, std::int64_t unused);
bool binance_places(const SimVenue& row, const HttpRequest& r, const std::string& market, bool buy);
bool upbit_places(const SimVenue& row, const HttpRequest& r, const std::string& market, bool buy);

}  // namespace xarb::sim
