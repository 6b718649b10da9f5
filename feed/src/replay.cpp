#include <xarb/core/clock.hpp>
#include <xarb/feed/replay.hpp>

#include "venues/adapter.hpp"

namespace xarb::feed {

Replayer::Replayer(const SymbolMap& symbols, const FeedOptions& options)
    : adapters_(adapters::make_all(symbols, options)),
      books_(symbols, adapters::syncs(adapters_)) {}

Replayer::~Replayer() = default;

const ParserStats& Replayer::parser_stats(Venue venue) const noexcept {
  return adapters::parser_stats(adapters_, venue);
}

void Replayer::publish(const ApplyOutcome& outcome, const CaptureEvent& event,
                       std::int64_t parsed_ns, SnapshotSink& sink) noexcept {
  if (outcome.needs_snapshot && outcome.sync != book::SyncResult::buffered) {
    ++stats_.snapshot_requests;
  }
  if (outcome.book == nullptr) return;
  fill_snapshot(*outcome.book, event.recv_ns, parsed_ns, scratch_);
  ++stats_.published;
  sink.on_snapshot(scratch_);
}

void Replayer::feed(const CaptureEvent& event, SnapshotSink& sink) noexcept {
  if (!event.venue_known) {
    ++stats_.skipped;
    return;
  }
  adapters::FeedAdapter* a = valid(event.venue) ? adapters_[index(event.venue)].get() : nullptr;
  if (a == nullptr) {
    ++stats_.skipped;
    return;
  }
  if (event.kind == CaptureKind::ws) {
    ++stats_.frames;
    const ParsedFrame f = a->parse(event.msg);
    const std::int64_t parsed_ns = clock::mono_ns();
    publish(books_.apply(event.venue, f), event, parsed_ns, sink);
    return;
  }
  const InstrumentId id =
      event.kind == CaptureKind::http ? a->snapshot_of(event.url) : kNoInstrument;
  if (id == kNoInstrument) {
    ++stats_.skipped;
    return;
  }
  ++stats_.rest_snapshots;
  const ParsedFrame f = a->parse_snapshot(event.msg, id);
  const std::int64_t parsed_ns = clock::mono_ns();
  publish(books_.apply(event.venue, f), event, parsed_ns, sink);
}

}  // namespace xarb::feed
