#pragma once

// Executable prices and the premium between the venues (docs/design.md: Strategy).
// Pure functions of book snapshots: no state, no allocation, any thread.

#include <cstdint>
#include <span>

#include <xarb/core/decimal.hpp>
#include <xarb/core/messages.hpp>

namespace xarb::signal {

// The result of walking one side of a book for a quantity.
struct Walk {
  Decimal qty;              // what the levels can fill, at most the quantity asked
  Int128 notional_e16 = 0;  // exact sum of price x qty over the levels used, in 1e-16 units
  Decimal worst;            // price of the last level used: an IOC limit there fills the walk
  std::uint8_t levels = 0;  // levels used

  [[nodiscard]] bool empty() const noexcept { return qty.is_zero(); }
  // Volume-weighted average price of the walk; 0 when empty.
  [[nodiscard]] double vwap() const noexcept {
    return qty.is_zero()
               ? 0.0
               : static_cast<double>(notional_e16) /
                     (static_cast<double>(qty.mantissa()) * static_cast<double>(Decimal::kOne));
  }
};

// Walks `levels` (best first; zero levels end the walk) until `qty` is filled or the levels run
// out. Never fails; a negative or zero qty gives an empty walk.
[[nodiscard]] Walk walk_book(std::span<const Level> levels, Decimal qty) noexcept;

// The depth of one side within the carried levels.
[[nodiscard]] Decimal side_depth(std::span<const Level> levels) noexcept;

// Taker fees of both legs (the pair's first and second venue), in basis points.
struct Fees {
  double first_bps = 5.0;
  double second_bps = 10.0;
};

// One direction's premium at executable prices for a trade size.
//   kimchi  (sell on the first venue, buy on the second):
//     premium = VWAP_bid_1 / (fx * VWAP_ask_2) - 1
//   reverse (buy on the first venue, sell on the second):
//     premium = VWAP_ask_1 / (fx * VWAP_bid_2) - 1
// `edge` is what the pair earns per unit of notional after both fees:
//   kimchi:  VWAP_bid_1 (1 - f1) / (fx * VWAP_ask_2 (1 + f2)) - 1
//   reverse: fx * VWAP_bid_2 (1 - f2) / (VWAP_ask_1 (1 + f1)) - 1
// `fx` converts the second venue's quote currency into the first's (1 when both quote KRW).
struct Premium {
  Direction direction = Direction::kimchi;
  bool valid = false;         // false: a book side is empty or the FX rate is not positive
  Decimal qty;                // the size both books can fill, at most the size asked
  double first_vwap = 0.0;    // in the first venue's quote currency (KRW)
  double second_vwap = 0.0;   // in the second venue's (USDT)
  Decimal first_worst;        // last level each walk reached
  Decimal second_worst;
  double premium = 0.0;       // ratio (0.03 = 3 %)
  double edge = 0.0;          // ratio after fees

  [[nodiscard]] double premium_bps() const noexcept { return premium * 1e4; }
  [[nodiscard]] double edge_bps() const noexcept { return edge * 1e4; }
};

// The premium of `direction` for up to `qty`, bounded by what both books hold. `fx` is KRW per
// USDT. Never fails (an unusable input gives valid = false), does not allocate, any thread.
[[nodiscard]] Premium premium(const BookSnapshot& first, const BookSnapshot& second, double fx,
                              Direction direction, Decimal qty, const Fees& fees) noexcept;

// Which side of the KRW-USDT book gives the FX rate.
enum class FxSide : std::uint8_t { mid, bid, ask };

// KRW per USDT from Upbit's KRW-USDT book; 0 (never a fallback such as 1.0) when the book is not
// tradable, crossed, or a side is empty.
[[nodiscard]] double fx_rate(const BookSnapshot& krw_usdt, FxSide side) noexcept;

}  // namespace xarb::signal
