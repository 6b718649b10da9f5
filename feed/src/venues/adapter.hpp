#pragma once

// One venue's market data as FeedStage and Replayer need it: the websocket URL and the
// subscription for the configured instruments, the connection's keep-alive and lifetime, the
// parser of its frames, and how its books synchronise (whole books, or diffs with a REST
// snapshot). The stage owns the connections, the books and the ring; an adapter does no I/O.
// One adapter per venue (feed/src/venues/<venue>.cpp), and one registry line (registry.cpp)
// maps a venue id to it.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <xarb/core/ids.hpp>
#include <xarb/feed/book_keeper.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/feed/parsed_frame.hpp>
#include <xarb/net/ws_client.hpp>

#include "discover.hpp"

namespace xarb::feed::adapters {

class FeedAdapter {
 public:
  virtual ~FeedAdapter() = default;

  // How this venue's books are built from its frames.
  [[nodiscard]] virtual BookSync sync() const noexcept = 0;
  // Whether any configured instrument trades here: a venue listing none is not connected.
  [[nodiscard]] virtual bool lists_any() const noexcept = 0;
  // The websocket to open, from the configured endpoint (Binance names its streams in it).
  [[nodiscard]] virtual std::string url(const VenueEndpoint& endpoint) const = 0;
  // The message sent once connected; empty: none. `ticket` makes it unique per connection.
  [[nodiscard]] virtual std::string subscription(std::uint64_t ticket) const = 0;
  // Its keep-alive and the lifetime after which it renews a connection, from the stage's.
  virtual void tune(net::WsClientOptions& options) const = 0;

  // Hot path: one frame; never throws, never allocates after warm-up.
  [[nodiscard]] virtual ParsedFrame parse(std::string_view frame) noexcept = 0;
  [[nodiscard]] virtual const ParserStats& stats() const noexcept = 0;

  // Diff books only (BookSync::diff_depth): the REST request of an instrument's snapshot, as a
  // target after the base URL's path; the snapshot's parser; and, for a replayed capture, which
  // instrument a recorded request URL asked for (kNoInstrument: not a snapshot of this venue).
  [[nodiscard]] virtual std::string snapshot_target(InstrumentId) const { return {}; }
  [[nodiscard]] virtual ParsedFrame parse_snapshot(std::string_view, InstrumentId) noexcept {
    return {};
  }
  [[nodiscard]] virtual InstrumentId snapshot_of(std::string_view) const noexcept {
    return kNoInstrument;
  }
};

using MakeFeedAdapter = std::unique_ptr<FeedAdapter> (*)(const SymbolMap& symbols,
                                                         const FeedOptions& options);

// The venues' adapters (registry.cpp).
std::unique_ptr<FeedAdapter> make_binance(const SymbolMap& symbols, const FeedOptions& options);
std::unique_ptr<FeedAdapter> make_upbit(const SymbolMap& symbols, const FeedOptions& options);
std::unique_ptr<FeedAdapter> make_bithumb(const SymbolMap& symbols, const FeedOptions& options);

// The venue's discovery; null for a venue whose market data this build does not read.
[[nodiscard]] Discover discoverer(Venue venue) noexcept;

// The adapter of `venue`; null for a venue whose market data this build does not read.
[[nodiscard]] std::unique_ptr<FeedAdapter> make(Venue venue, const SymbolMap& symbols,
                                                const FeedOptions& options);

// Every venue's adapter, by venue index (null where make() gives none), as FeedStage and
// Replayer hold them; the books' sync each asks for; and a venue's parser counts (all zero
// for a venue without an adapter).
using Adapters = std::array<std::unique_ptr<FeedAdapter>, kMaxVenues>;
[[nodiscard]] Adapters make_all(const SymbolMap& symbols, const FeedOptions& options);
[[nodiscard]] BookKeeper::Syncs syncs(const Adapters& adapters) noexcept;
[[nodiscard]] const ParserStats& parser_stats(const Adapters& adapters, Venue venue) noexcept;

}  // namespace xarb::feed::adapters
