#pragma once

// The simulator's venue registry: one line per venue it serves (registry.cpp), naming the
// protocol of its front ends and, for Upbit's protocol, the venue's dialect.

#include <cstdint>
#include <memory>
#include <string_view>

#include <xarb/core/ids.hpp>

#include "ws_front.hpp"

namespace xarb::sim {

struct UpbitFront;

enum class Protocol : std::uint8_t { binance, upbit };

struct SimVenue {
  Venue id = kNoVenue;
  Protocol protocol = Protocol::binance;
  const UpbitFront* dialect = nullptr;  // Protocol::upbit
  std::string_view ws_path;             // the public websocket's path on its port
  std::string_view private_ws_path;     // the private websocket's (own orders, balances)
};

// The venue's row; null for a venue the simulator does not serve.
[[nodiscard]] const SimVenue* find_venue(Venue v) noexcept;

// The venue's public websocket market data (ws_front.hpp).
[[nodiscard]] std::unique_ptr<WsVenueFront> make_ws_front(Venue v, SyntheticMarket& market,
                                                          const Exchange& exchange);

}  // namespace xarb::sim
