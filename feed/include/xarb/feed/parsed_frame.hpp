#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include <xarb/core/fixed_string.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>

namespace xarb::feed {

// What a frame turned out to be. Book kinds carry levels; the others are recognised and counted.
enum class MsgKind : std::uint8_t {
  depth_diff,      // Binance depthUpdate (U/u)
  depth_snapshot,  // Binance REST /api/v3/depth
  partial_depth,   // Binance depth5/10/20: a full top-N book
  book_ticker,     // Binance bookTicker: best bid and ask
  orderbook,       // Upbit orderbook (DEFAULT or SIMPLE): a full book of up to 30 levels
  trade,           // Binance trade / aggTrade, Upbit trade
  kline,           // Binance kline
  ticker,          // Upbit ticker, Binance 24hrTicker
  status,          // Upbit {"status":"UP"} answering PING
  subscription,    // Binance {"result":null,"id":N}
  venue_error,     // Binance {"code","msg"}, Upbit {"error":{"name","message"}}
  dropped,         // see DropReason
  count
};

enum class DropReason : std::uint8_t {
  none,
  oversized,        // longer than the parser's maximum message size
  malformed,        // not JSON, or truncated
  wrong_type,       // a field of the wrong JSON type
  missing_field,    // a required field is absent
  bad_number,       // a price or quantity Decimal cannot hold exactly
  too_many_levels,  // more levels than the parser keeps
  unknown_symbol,   // a symbol that is not configured
  unknown_type,     // a message type this engine does not know
  count
};

[[nodiscard]] std::string_view to_string(MsgKind k) noexcept;
// The simdjson kernel the parsers were compiled for: "haswell", "westmere" or "fallback".
[[nodiscard]] std::string_view json_kernel() noexcept;
[[nodiscard]] std::string_view to_string(DropReason r) noexcept;

// Levels per side a parser keeps from one message (Binance snapshots go to 5,000).
inline constexpr std::size_t kMaxParsedLevels = 8192;

// The result of parsing one frame. Spans point into the parser and stay valid until its next
// parse call.
struct ParsedFrame {
  MsgKind kind = MsgKind::dropped;
  DropReason drop = DropReason::none;
  InstrumentId instrument = kNoInstrument;
  std::uint64_t first_id = 0;  // Binance U; equal to last_id for single-id messages
  std::uint64_t last_id = 0;   // Binance u or lastUpdateId
  std::int64_t exchange_ns = 0;
  std::span<const Level> bids;
  std::span<const Level> asks;
  FixedString<32> error_name;  // venue_error: Binance code as text, or Upbit's name
  FixedString<96> error_message;

  [[nodiscard]] bool has_book() const noexcept {
    return kind == MsgKind::depth_diff || kind == MsgKind::depth_snapshot ||
           kind == MsgKind::partial_depth || kind == MsgKind::book_ticker ||
           kind == MsgKind::orderbook;
  }
};

// Counts of every frame a parser saw, by kind and, for dropped ones, by reason.
struct ParserStats {
  std::array<std::uint64_t, static_cast<std::size_t>(MsgKind::count)> by_kind{};
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::count)> drops{};

  [[nodiscard]] std::uint64_t count(MsgKind k) const noexcept {
    return by_kind[static_cast<std::size_t>(k)];
  }
  [[nodiscard]] std::uint64_t count(DropReason r) const noexcept {
    return drops[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] std::uint64_t total() const noexcept {
    std::uint64_t n = 0;
    for (auto c : by_kind) n += c;
    return n;
  }
  void record(const ParsedFrame& f) noexcept {
    ++by_kind[static_cast<std::size_t>(f.kind)];
    if (f.kind == MsgKind::dropped) ++drops[static_cast<std::size_t>(f.drop)];
  }
};

}  // namespace xarb::feed
