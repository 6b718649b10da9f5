#pragma once

// Upbit's market-data framing, which Bithumb's public websocket shares: one `orderbook`
// subscription naming every market the venue lists (SIMPLE format: the same book with short
// keys, about 40 % fewer bytes to decrypt and parse than DEFAULT; the parser reads both), a text
// PING as keep-alive (both drop a connection idle for 120 s), and every frame a whole book.
// upbit.cpp and bithumb.cpp each make one for their venue.

#include <xarb/feed/venues/upbit_parser.hpp>

#include "adapter.hpp"

namespace xarb::feed::adapters {

class UpbitFeed final : public FeedAdapter {
 public:
  UpbitFeed(Venue venue, const SymbolMap& symbols, const FeedOptions& options)
      : parser_(symbols, options.ws.max_message_bytes, venue), ping_(keepalive(options, venue)) {
    for (const Instrument& i : symbols) {
      if (!i.listed_on(venue)) continue;
      if (!codes_.empty()) codes_ += ',';
      codes_.append(1, '"').append(i.symbol(venue)).append(1, '"');
    }
  }

  BookSync sync() const noexcept override { return BookSync::whole_book; }
  bool lists_any() const noexcept override { return !codes_.empty(); }
  std::string url(const VenueEndpoint& endpoint) const override { return endpoint.ws_url; }
  std::string subscription(std::uint64_t ticket) const override {
    return "[{\"ticket\":\"xarb-" + std::to_string(ticket) +
           "\"},{\"type\":\"orderbook\",\"codes\":[" + codes_ + "]},{\"format\":\"SIMPLE\"}]";
  }
  void tune(net::WsClientOptions& options) const override {
    options.keepalive_text = "PING";
    options.keepalive_interval = ping_;
  }

  ParsedFrame parse(std::string_view frame) noexcept override { return parser_.parse(frame); }
  const ParserStats& stats() const noexcept override { return parser_.stats(); }

 private:
  UpbitParser parser_;
  std::chrono::milliseconds ping_;
  std::string codes_;  // the venue's markets, quoted, comma separated
};

}  // namespace xarb::feed::adapters
