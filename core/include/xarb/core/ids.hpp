#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xarb/core/decimal.hpp>
#include <xarb/core/errc.hpp>
#include <xarb/core/fixed_string.hpp>

namespace xarb {

enum class Venue : std::uint8_t { binance = 0, upbit = 1 };
inline constexpr std::size_t kVenueCount = 2;
// Every venue, for loops over both.
inline constexpr std::array<Venue, kVenueCount> kVenues = {Venue::binance, Venue::upbit};

[[nodiscard]] constexpr std::string_view to_string(Venue v) noexcept {
  return v == Venue::binance ? "binance" : "upbit";
}
[[nodiscard]] constexpr std::size_t index(Venue v) noexcept { return static_cast<std::size_t>(v); }
// The asset a venue's markets are quoted in (and its orders paid in).
[[nodiscard]] constexpr std::string_view quote_asset(Venue v) noexcept {
  return v == Venue::binance ? "USDT" : "KRW";
}

enum class Side : std::uint8_t { buy = 0, sell = 1 };

[[nodiscard]] constexpr std::string_view to_string(Side s) noexcept {
  return s == Side::buy ? "buy" : "sell";
}
[[nodiscard]] constexpr Side opposite(Side s) noexcept {
  return s == Side::buy ? Side::sell : Side::buy;
}
// The limit price of an order is rounded so that it never becomes more aggressive than intended:
// a buy cap rounds down, a sell floor rounds up. Quantities always round down.
[[nodiscard]] constexpr Rounding price_rounding(Side s) noexcept {
  return s == Side::buy ? Rounding::down : Rounding::up;
}
inline constexpr Rounding kQuantityRounding = Rounding::down;

// Dense index of an instrument in the SymbolMap; the same id names the pair on both venues.
using InstrumentId = std::uint16_t;
inline constexpr InstrumentId kNoInstrument = 0xFFFF;
inline constexpr std::size_t kMaxInstruments = 64;

using SymbolText = FixedString<24>;

// One traded asset and its market on each venue, or the FX instrument (Upbit only).
struct Instrument {
  InstrumentId id = kNoInstrument;
  SymbolText base;            // "BTC"
  SymbolText upbit_market;    // "KRW-BTC"
  SymbolText binance_symbol;  // "BTCUSDT" (empty for the FX instrument)
  bool is_fx = false;
};

// Maps venue symbols to instrument ids. Built once at start-up from the config (add*), then read
// by any thread without synchronisation: lookups are const, allocation-free and noexcept.
class SymbolMap {
 public:
  // Adds a traded pair. One venue name may be empty (an instrument seen on one venue only, as in
  // a one-venue capture). Fails with invalid_argument when both are empty, a name is too long or
  // already used, or the map is full (kMaxInstruments).
  [[nodiscard]] Errc add(std::string_view base, std::string_view upbit_market,
                         std::string_view binance_symbol) noexcept;
  // Adds the FX instrument (Upbit "KRW-USDT" by default); at most one.
  [[nodiscard]] Errc add_fx(std::string_view upbit_market) noexcept;

  // Exact match on Upbit's code ("KRW-BTC"). kNoInstrument when absent.
  [[nodiscard]] InstrumentId find_upbit(std::string_view market) const noexcept;
  // ASCII case-insensitive match on Binance's symbol: payloads say "BTCUSDT", stream names
  // "btcusdt". kNoInstrument when absent.
  [[nodiscard]] InstrumentId find_binance(std::string_view symbol) const noexcept;
  [[nodiscard]] InstrumentId find_base(std::string_view base) const noexcept;

  [[nodiscard]] const Instrument& operator[](InstrumentId id) const noexcept { return items_[id]; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] InstrumentId fx() const noexcept { return fx_; }
  [[nodiscard]] const Instrument* begin() const noexcept { return items_.data(); }
  [[nodiscard]] const Instrument* end() const noexcept { return items_.data() + size_; }

 private:
  [[nodiscard]] Errc append(Instrument item) noexcept;

  std::array<Instrument, kMaxInstruments> items_{};
  std::size_t size_ = 0;
  InstrumentId fx_ = kNoInstrument;
};

}  // namespace xarb
