#pragma once

// Positions: one hedged pair (a leg on each venue) from its entry intent to closed, with every
// fill from the exec reports, exact cash flows and PnL in KRW (docs/design.md: Execution and
// legging risk; Strategy).

#include <array>
#include <cstddef>
#include <cstdint>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>

namespace xarb::signal {

// Trades on one side of one venue: quantity and exact notional (price x qty, 1e-16 units).
struct Fills {
  std::int64_t qty = 0;  // Decimal mantissa
  Int128 notional_e16 = 0;

  void add(Decimal q, Decimal price) noexcept {
    qty += q.mantissa();
    notional_e16 += notional_e16_of(price, q);
  }
  [[nodiscard]] Decimal quantity() const noexcept { return Decimal::from_mantissa(qty); }
  // Average price; 0 without fills.
  [[nodiscard]] double avg_price() const noexcept {
    return qty == 0 ? 0.0
                    : static_cast<double>(notional_e16) /
                          (static_cast<double>(qty) * static_cast<double>(Decimal::kOne));
  }

 private:
  static Int128 notional_e16_of(Decimal price, Decimal q) noexcept {
    return static_cast<Int128>(price.mantissa()) * q.mantissa();
  }
};

// One venue's side of a position. Entry trades are on `entry_side`; exits and unwinds on the
// opposite side. Cash is in the venue's quote currency.
struct PositionLeg {
  Side entry_side = Side::buy;
  Fills opened;           // entry side
  Fills closed;           // exit side: exits and unwinds
  Int128 fees_e16 = 0;    // quote currency
  std::int64_t fee_base = 0;  // commission the venue took in the base asset (from a buy)
  std::int64_t fee_bnb = 0;   // commission paid in BNB

  // Base units still held on this venue (short for a sell entry), >= 0 unless over-closed: net
  // of the commission taken in the base asset, which a buy never received.
  [[nodiscard]] std::int64_t held() const noexcept {
    return opened.qty - closed.qty + (entry_side == Side::buy ? -fee_base : fee_base);
  }
  // Quote received minus quote paid, fees included, 1e-16 units.
  [[nodiscard]] Int128 cash_e16() const noexcept {
    const Int128 flow = opened.notional_e16 - closed.notional_e16;
    return (entry_side == Side::sell ? flow : -flow) - fees_e16;
  }
};

// Which side a venue of the pair trades to open a position of `d`: kimchi sells on the first
// venue and buys on the second; reverse the other way round.
[[nodiscard]] constexpr Side entry_side(Direction d, bool first_venue) noexcept {
  const bool sell = (d == Direction::kimchi) == first_venue;
  return sell ? Side::sell : Side::buy;
}

struct Position {
  std::uint64_t id = 0;
  InstrumentId instrument = kNoInstrument;
  VenuePair pair;  // its legs: legs[index(pair.first)] and legs[index(pair.second)]
  Direction direction = Direction::kimchi;
  PositionState state = PositionState::opening;
  ExitReason exit_reason = ExitReason::none;     // of the last exit intent
  ExitReason close_request = ExitReason::none;   // manual / flatten, served on the next update
  std::uint8_t clips_planned = 1;
  std::uint8_t clips_sent = 0;
  std::uint8_t clips_reported = 0;
  bool exit_in_flight = false;
  // Orders of this position whose outcome no venue has settled (exec keeps asking; a restart
  // asks again). While any is, the position is held BROKEN: never closed as flat on what is
  // known, no leg closed on its own (it could unhedge what the unknown order did).
  std::uint8_t unknown_orders = 0;
  [[nodiscard]] bool outcome_unknown() const noexcept { return unknown_orders != 0; }
  // A pair exit was refused because one venue's leg is under its minimum: the legs now close
  // independently, so the tradable one is sold and only the other is written off.
  bool split_exit = false;
  Decimal clip_qty;
  std::int64_t dust = 0;          // accepted residual mismatch between the legs (mantissa)
  // A leg's residual under its venue's minimum (no order can close it): written off for that
  // venue only; the other venue's holding stays a position to close.
  std::array<std::int64_t, kMaxVenues> leg_dust{};
  std::int64_t created_ns = 0;    // mono: first entry intent
  std::int64_t opened_ns = 0;     // mono: all entry clips reported, both legs hedged
  std::int64_t closed_ns = 0;
  std::int64_t retry_after_ns = 0;  // no exit intent before this (after an exit that failed)
  double entry_edge_bps = 0.0;
  double exposure_krw = 0.0;  // notional counted against exposure limits
  Decimal entry_fx;           // KRW per USDT at the entry decision
  Decimal close_fx;           // KRW per USDT the USDT leg was converted at on close
  Int128 realized_e16 = 0;    // KRW, set on close
  double pending_krw = 0.0;       // notional of entry intents in flight
  std::int64_t pending_qty = 0;   // their quantity (mantissa)
  double last_mark_krw = 0.0;     // unrealised PnL at the last exit check
  std::array<PositionLeg, kMaxVenues> legs{};
  // The legs in doubles for marking on every update, recomputed by refresh() after fills.
  std::array<double, kMaxVenues> cash{};   // quote units
  std::array<double, kMaxVenues> held{};   // base units
  double entry_notional = 0.0;             // KRW

  [[nodiscard]] PositionLeg& leg(Venue v) noexcept { return legs[index(v)]; }
  [[nodiscard]] const PositionLeg& leg(Venue v) const noexcept { return legs[index(v)]; }
  [[nodiscard]] PositionLeg& first() noexcept { return leg(pair.first); }
  [[nodiscard]] const PositionLeg& first() const noexcept { return leg(pair.first); }
  [[nodiscard]] PositionLeg& second() noexcept { return leg(pair.second); }
  [[nodiscard]] const PositionLeg& second() const noexcept { return leg(pair.second); }
  [[nodiscard]] bool active() const noexcept {
    return state != PositionState::closed;
  }
  // The hedged quantity: what both venues hold.
  [[nodiscard]] Decimal qty() const noexcept;
  // Its move from its state to `to`, naming the position; the caller adds what the change
  // carries (exit reason, quantity, rate, PnL).
  [[nodiscard]] PositionChange change(PositionState to) const noexcept {
    PositionChange c;
    c.position_id = id;
    c.instrument = instrument;
    c.pair = pair;
    c.direction = direction;
    c.from = state;
    c.to = to;
    return c;
  }
  // True when neither venue holds anything beyond the dust (or its base-asset commissions).
  [[nodiscard]] bool flat() const noexcept;
  // True when both venues hold the same quantity, up to the dust and to the commissions taken in
  // the base asset (a venue that took one holds that much less; no order can buy it back to the
  // unit).
  [[nodiscard]] bool hedged() const noexcept;
  // KRW notional of the first venue's entry fills: the base of bps figures.
  [[nodiscard]] double entry_notional_krw() const noexcept;
  // Cash flows of both legs with the second venue's converted at `fx`, KRW in 1e-16 units.
  [[nodiscard]] Int128 cash_krw_e16(Decimal fx) const noexcept;
  [[nodiscard]] double realized_krw() const noexcept;
  // Recomputes the cached doubles from the exact legs; call after any fill.
  void refresh() noexcept;
};

// Marks a position at executable exit prices: what closing it now would earn, after the exit
// fees. `first_exit_vwap` / `second_exit_vwap` are the VWAPs of walking each venue's exit side
// for what it holds.
struct Mark {
  double pnl_krw = 0.0;
  double pnl_bps = 0.0;  // of the entry notional
};
[[nodiscard]] Mark mark(const Position& p, double first_exit_vwap, double second_exit_vwap,
                        double fx, double first_fee_bps, double second_fee_bps) noexcept;

// Fixed-capacity position storage: slots are reused after close; ids never are.
inline constexpr std::size_t kMaxPositions = 256;

class PositionBook {
 public:
  explicit PositionBook(std::uint64_t first_id = 1) noexcept;

  // A new position in OPENING, or nullptr when every slot is taken.
  // A new position of `instrument` across `pair`; null when the book is full or the pair is not
  // two valid venues.
  [[nodiscard]] Position* open(InstrumentId instrument, Direction direction,
                               VenuePair pair) noexcept;
  // A position carried over from an earlier run (the journal), keeping its id; nullptr when
  // every slot is taken, the id is active already or its pair is not two valid venues. Later ids
  // continue after it.
  [[nodiscard]] Position* adopt(const Position& restored) noexcept;
  // Frees the slot of a CLOSED position.
  void release(Position& p) noexcept;
  [[nodiscard]] Position* find(std::uint64_t id) noexcept;

  // Active positions, densely packed: iterate [0, size()).
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] Position& operator[](std::size_t i) noexcept { return slots_[order_[i]]; }
  [[nodiscard]] const Position& operator[](std::size_t i) const noexcept {
    return slots_[order_[i]];
  }

 private:
  std::array<Position, kMaxPositions> slots_{};
  std::array<std::uint16_t, kMaxPositions> order_{};  // active slot indices
  std::array<std::uint16_t, kMaxPositions> free_{};
  std::size_t count_ = 0;
  std::size_t free_count_ = kMaxPositions;
  std::uint64_t next_id_ = 1;
};

}  // namespace xarb::signal
