#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <xarb/core/ids.hpp>
#include <xarb/feed/parsed_frame.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::feed {

// Parses Upbit market-data frames (binary frames holding UTF-8 JSON) with simdjson's on-demand
// API: orderbook in DEFAULT and SIMPLE formats (any number of units, zero-padded levels, numbers
// in exponent form), and recognises ticker, trade, {"status":"UP"} and error objects.
//
// Bithumb's frames use the same framing: a parser constructed with venues::kBithumb looks the
// markets up as Bithumb's, and reads a timestamp in microseconds (which Bithumb has been seen to
// send) as well as one in milliseconds.
//
// One parser per thread; parse() does not allocate, never throws and never crashes: unusable
// frames come back as MsgKind::dropped with their reason and are counted in stats().
class UpbitParser {
 public:
  explicit UpbitParser(const SymbolMap& symbols, std::size_t max_message_bytes = 1 << 20,
                       Venue venue = venues::kUpbit);
  ~UpbitParser();
  UpbitParser(const UpbitParser&) = delete;
  UpbitParser& operator=(const UpbitParser&) = delete;

  [[nodiscard]] ParsedFrame parse(std::string_view frame) noexcept;
  [[nodiscard]] const ParserStats& stats() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xarb::feed
