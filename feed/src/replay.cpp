#include <xarb/core/clock.hpp>
#include <xarb/feed/replay.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::feed {

Replayer::Replayer(const SymbolMap& symbols, BinanceBookSource binance_source)
    : symbols_(symbols),
      binance_(symbols),
      upbit_(symbols, 1 << 20, venues::kUpbit),
      bithumb_(symbols, 1 << 20, venues::kBithumb),
      books_(symbols, binance_source) {}

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
  if (event.kind == CaptureKind::ws) {
    ++stats_.frames;
    const ParsedFrame f = event.venue == venues::kBinance   ? binance_.parse(event.msg)
                          : event.venue == venues::kBithumb ? bithumb_.parse(event.msg)
                                                            : upbit_.parse(event.msg);
    const std::int64_t parsed_ns = clock::mono_ns();
    publish(books_.apply(event.venue, f), event, parsed_ns, sink);
    return;
  }
  if (event.kind == CaptureKind::http && event.venue == venues::kBinance &&
      event.url.find("/depth") != std::string_view::npos) {
    const InstrumentId id = symbols_.find(venues::kBinance, query_param(event.url, "symbol"));
    if (id == kNoInstrument) {
      ++stats_.skipped;
      return;
    }
    ++stats_.rest_snapshots;
    const ParsedFrame f = binance_.parse_depth_snapshot(event.msg, id);
    const std::int64_t parsed_ns = clock::mono_ns();
    publish(books_.apply(venues::kBinance, f), event, parsed_ns, sink);
    return;
  }
  ++stats_.skipped;
}

}  // namespace xarb::feed
