#pragma once

// The venue registry: one row per exchange this build trades. A venue's id is its row; core and
// the strategy carry only the id, everything venue-specific is looked up from it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <xarb/core/ids.hpp>

namespace xarb {
namespace venues {

// Fixed ids: journals, captures and reports written by earlier versions store them.
inline constexpr Venue kBinance{0};
inline constexpr Venue kUpbit{1};
inline constexpr Venue kBithumb{2};

// What the config needs to know of a venue: where it is, what it charges, where its keys come
// from, how it names a market. A config section [venues.<name>] starts from these.
struct VenueDefaults {
  std::string_view ws_url;          // public market data
  std::string_view rest_url;
  std::string_view private_ws_url;  // empty: the venue's private path on ws_url's host
  double taker_fee_bps = 0.0;       // the base rate; coupons and tiers lower it
  bool on_by_default = false;       // traded without a section ([venues.<name>] enabled = false)
  bool ws_order_entry = false;      // a WebSocket API that takes orders (order_entry = "ws")
  // An asset besides the traded ones that its commissions may be paid in (Binance's BNB); empty:
  // none. The ledger keeps it, and any order on the venue may move it.
  std::string_view fee_asset;
  std::string_view key_env;         // environment variables of its API key and secret
  std::string_view secret_env;
  // A symbol's market on it: the [[symbols]] key that names it, and the default from the base
  // asset (prefix + base + suffix: "KRW-" "BTC" "", "" "BTC" "USDT").
  std::string_view market_key;
  std::string_view market_prefix;
  std::string_view market_suffix;
  // Its public websocket: the streams its feed adapter can build books from ([venues.<name>]
  // book; the first is the default, an empty name ends the list), the text keep-alive it needs
  // (ping_ms; 0: none, the venue pings), and how long the venue keeps a connection open before it
  // closes it (lifetime_s; 0: no limit): the feed renews it before then.
  std::array<std::string_view, 3> books;
  std::int64_t ping_ms = 0;
  std::int64_t lifetime_s = 0;
};

struct VenueInfo {
  Venue id = kNoVenue;
  std::string_view name;         // config section, journal and report name
  std::string_view quote_asset;  // the currency its markets are quoted in and its orders paid in
  char code = '?';               // in client order ids ("x<run>-<intent>-B0"): unique per venue
  VenueDefaults defaults;
};

inline constexpr auto kRegistry = std::to_array<VenueInfo>({
    {kBinance, "binance", "USDT", 'B',
     {"wss://stream.binance.com:9443", "https://api.binance.com",
      "wss://ws-api.binance.com:443/ws-api/v3", 10.0, true, true, "BNB", "XARB_BINANCE_API_KEY",
      "XARB_BINANCE_API_SECRET", "binance_symbol", "", "USDT",
      {"diff_depth", "partial_depth", "book_ticker"}, 0, 24 * 3600 - 600}},
    {kUpbit, "upbit", "KRW", 'U',
     {"wss://api.upbit.com/websocket/v1", "https://api.upbit.com", "", 5.0, true, false, "",
      "XARB_UPBIT_ACCESS_KEY", "XARB_UPBIT_SECRET_KEY", "upbit_market", "KRW-", "",
      {"orderbook"}, 30'000, 0}},
    // Bithumb's base taker fee is 0.25 %; coupons lower it (set taker_fee_bps to what the account
    // pays: a fee assumed lower than the real one turns every entry into a loss).
    {kBithumb, "bithumb", "KRW", 'H',
     {"wss://ws-api.bithumb.com/websocket/v1", "https://api.bithumb.com", "", 25.0, false, false,
      "", "XARB_BITHUMB_ACCESS_KEY", "XARB_BITHUMB_SECRET_KEY", "bithumb_market", "KRW-", "",
      {"orderbook"}, 30'000, 0}},
    // A test fixture (tests/app/fourth_venue_test.cpp): Upbit's protocol under another name and
    // id, made of its own files and one row per registry. Loopback only, never on by default.
    {Venue{3}, "krwcopy", "KRW", 'K',
     {"wss://127.0.0.1:1/websocket/v1", "https://127.0.0.1:1", "", 5.0, false, false, "",
      "XARB_KRWCOPY_ACCESS_KEY", "XARB_KRWCOPY_SECRET_KEY", "krwcopy_market", "KRW-", "",
      {"orderbook"}, 30'000, 0}},
});
static_assert(kRegistry.size() <= kMaxVenues);

// The first pair the engine trades: Upbit (KRW) against Binance (USDT), priced through the FX
// rate. Journals written before positions named their pair traded only it (their migration
// fills it in), and messages cite it as the example of a pair.
inline constexpr VenuePair kUpbitBinance{kUpbit, kBinance};
inline constexpr VenuePair kLegacyPair = kUpbitBinance;

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

// The asset besides the traded ones a venue's commissions may be paid in ("" for none).
[[nodiscard]] constexpr std::string_view fee_asset(Venue v) noexcept {
  const VenueInfo* i = info(v);
  return i != nullptr ? i->defaults.fee_asset : std::string_view{};
}

// The asset a venue's markets are quoted in (and its orders paid in).
[[nodiscard]] constexpr std::string_view quote_asset(Venue v) noexcept {
  const VenueInfo* i = info(v);
  return i != nullptr ? i->quote_asset : std::string_view{};
}

// A base asset's market on a venue by the venue's naming ("KRW-" "BTC", "BTC" "USDT"); empty for
// an id no row has.
[[nodiscard]] inline std::string default_market(Venue v, std::string_view base) {
  const VenueInfo* i = info(v);
  if (i == nullptr) return {};
  std::string out(i->defaults.market_prefix);
  out.append(base).append(i->defaults.market_suffix);
  return out;
}

}  // namespace venues

// A venue's registry name ("binance"), or "unknown" for an id no row has.
[[nodiscard]] constexpr std::string_view to_string(Venue v) noexcept {
  const venues::VenueInfo* i = venues::info(v);
  return i != nullptr ? i->name : std::string_view{"unknown"};
}

}  // namespace xarb
