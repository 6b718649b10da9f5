#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <xarb/core/ids.hpp>
#include <xarb/feed/parsed_frame.hpp>

namespace xarb::feed {

// Parses Binance market-data frames with simdjson's on-demand API: the combined-stream wrapper
// ({"stream":..,"data":..}), bookTicker, diff depth, partial depth (the symbol taken from the
// stream name, or from set_raw_stream_instrument() on a raw single-stream connection), REST depth
// snapshots, and recognises trade, aggTrade, kline, 24hrTicker, subscription replies and errors.
//
// One parser per thread; it owns a padded input buffer and level arrays sized at construction, so
// parse() does not allocate. parse() never throws and never crashes on any input: a frame that
// cannot be used comes back as MsgKind::dropped with its reason, and is counted in stats().
class BinanceParser {
 public:
  explicit BinanceParser(const SymbolMap& symbols, std::size_t max_message_bytes = 4 << 20);
  ~BinanceParser();
  BinanceParser(const BinanceParser&) = delete;
  BinanceParser& operator=(const BinanceParser&) = delete;

  // One websocket text frame.
  [[nodiscard]] ParsedFrame parse(std::string_view frame) noexcept;
  // The body of GET /api/v3/depth for `instrument`.
  [[nodiscard]] ParsedFrame parse_depth_snapshot(std::string_view body,
                                                 InstrumentId instrument) noexcept;
  // The instrument of a raw (/ws/<stream>) connection, whose partial-depth frames name none.
  void set_raw_stream_instrument(InstrumentId instrument) noexcept;

  [[nodiscard]] const ParserStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xarb::feed
