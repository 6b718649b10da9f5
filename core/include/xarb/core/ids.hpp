#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include <xarb/core/decimal.hpp>
#include <xarb/core/errc.hpp>
#include <xarb/core/fixed_string.hpp>

namespace xarb {

// A venue is an id given by the venue registry (the `venues` library): core, the book and the
// strategy name no exchange. Ids are dense and below kMaxVenues, so per-venue state is an array.
enum class Venue : std::uint8_t {};
inline constexpr std::size_t kMaxVenues = 4;
inline constexpr Venue kNoVenue{0xFF};

[[nodiscard]] constexpr std::size_t index(Venue v) noexcept { return static_cast<std::size_t>(v); }
[[nodiscard]] constexpr bool valid(Venue v) noexcept { return index(v) < kMaxVenues; }

// The two venues a strategy trades an instrument across. `first` quotes in KRW and is the dear
// one in a kimchi premium (Direction::kimchi sells there and buys on `second`); `second` quotes in
// USDT (priced through the FX rate) or, later, in KRW too.
struct VenuePair {
  Venue first = kNoVenue;
  Venue second = kNoVenue;

  [[nodiscard]] constexpr bool valid() const noexcept {
    return xarb::valid(first) && xarb::valid(second) && first != second;
  }
  [[nodiscard]] constexpr bool contains(Venue v) const noexcept {
    return v == first || v == second;
  }
  friend constexpr bool operator==(const VenuePair&, const VenuePair&) noexcept = default;
};

// Every unordered pair of distinct venues.
inline constexpr std::size_t kMaxPairs = kMaxVenues * (kMaxVenues - 1) / 2;

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

// Dense index of an instrument in the SymbolMap; the same id names its market on every venue.
using InstrumentId = std::uint16_t;
inline constexpr InstrumentId kNoInstrument = 0xFFFF;
inline constexpr std::size_t kMaxInstruments = 64;

using SymbolText = FixedString<24>;

// One traded asset and its market on each venue that lists it, or the FX instrument (a market
// on one venue that prices one quote currency in another).
struct Instrument {
  InstrumentId id = kNoInstrument;
  SymbolText base;                               // "BTC" (empty for the FX instrument)
  std::array<SymbolText, kMaxVenues> symbols{};  // by venue: "BTCUSDT", "KRW-BTC"; empty: unlisted
  bool is_fx = false;

  [[nodiscard]] constexpr std::string_view symbol(Venue v) const noexcept {
    return valid(v) ? symbols[index(v)].view() : std::string_view{};
  }
  [[nodiscard]] constexpr bool listed_on(Venue v) const noexcept { return !symbol(v).empty(); }
};

// An instrument's market on one venue, for SymbolMap::add.
struct VenueSymbol {
  Venue venue = kNoVenue;
  std::string_view symbol;
};

// Maps venue symbols to instrument ids. Built once at start-up from the config (add*), then read
// by any thread without synchronisation: lookups are const, allocation-free and noexcept.
class SymbolMap {
 public:
  // Adds a traded asset with its market on each venue that lists it (an instrument may be seen
  // on one venue only, as in a one-venue capture). Fails with invalid_argument when no venue
  // lists it, a venue is out of range or listed twice, a name is too long or already used on
  // its venue, or the map is full (kMaxInstruments).
  [[nodiscard]] Errc add(std::string_view base, std::span<const VenueSymbol> symbols) noexcept;
  [[nodiscard]] Errc add(std::string_view base,
                         std::initializer_list<VenueSymbol> symbols) noexcept {
    return add(base, std::span<const VenueSymbol>(symbols.begin(), symbols.size()));
  }
  // Adds the FX instrument, a market on one venue ("KRW-USDT" on Upbit); at most one.
  [[nodiscard]] Errc add_fx(Venue venue, std::string_view market) noexcept;

  // The instrument whose market on `venue` is `symbol`, matched ASCII case-insensitively (Binance
  // payloads say "BTCUSDT", its stream names "btcusdt"). kNoInstrument when absent.
  [[nodiscard]] InstrumentId find(Venue venue, std::string_view symbol) const noexcept;
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
