#pragma once

// The venue registry: one line per exchange this build trades. A venue's id is its row; core and
// the strategy carry only the id, everything venue-specific is looked up from it.

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include <xarb/core/ids.hpp>

namespace xarb {
namespace venues {

// Fixed ids: journals, captures and reports written by earlier versions store them.
inline constexpr Venue kBinance{0};
inline constexpr Venue kUpbit{1};
inline constexpr Venue kBithumb{2};

struct VenueInfo {
  Venue id = kNoVenue;
  std::string_view name;         // config section, journal and report name
  std::string_view quote_asset;  // the currency its markets are quoted in and its orders paid in
  char code = '?';               // in client order ids ("x<run>-<intent>-B0"): unique per venue
};

inline constexpr std::array<VenueInfo, 3> kRegistry = {{
    {kBinance, "binance", "USDT", 'B'},
    {kUpbit, "upbit", "KRW", 'U'},
    {kBithumb, "bithumb", "KRW", 'H'},
}};
static_assert(kRegistry.size() <= kMaxVenues);

// The pair the engine trades: Upbit (KRW) against Binance (USDT), priced through the FX rate.
inline constexpr VenuePair kUpbitBinance{kUpbit, kBinance};

// Every venue of the registry, in id order.
inline constexpr std::array<Venue, kRegistry.size()> kAll = [] {
  std::array<Venue, kRegistry.size()> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = kRegistry[i].id;
  return all;
}();

[[nodiscard]] constexpr const VenueInfo* info(Venue v) noexcept {
  for (const VenueInfo& i : kRegistry) {
    if (i.id == v) return &i;
  }
  return nullptr;
}

// The venue a config, journal or capture names; nullopt for a name no row has.
[[nodiscard]] constexpr std::optional<Venue> from_name(std::string_view name) noexcept {
  for (const VenueInfo& i : kRegistry) {
    if (i.name == name) return i.id;
  }
  return std::nullopt;
}

// The asset a venue's markets are quoted in (and its orders paid in).
[[nodiscard]] constexpr std::string_view quote_asset(Venue v) noexcept {
  const VenueInfo* i = info(v);
  return i != nullptr ? i->quote_asset : std::string_view{};
}

}  // namespace venues

// A venue's registry name ("binance"), or "unknown" for an id no row has.
[[nodiscard]] constexpr std::string_view to_string(Venue v) noexcept {
  const venues::VenueInfo* i = venues::info(v);
  return i != nullptr ? i->name : std::string_view{"unknown"};
}

}  // namespace xarb
