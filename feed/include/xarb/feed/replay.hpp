#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/feed/book_keeper.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/feed/parsed_frame.hpp>

namespace xarb::feed {

namespace adapters {
class FeedAdapter;
}

// Receives every book snapshot a replay publishes. Called on the replaying thread.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual void on_snapshot(const BookSnapshot& snapshot) noexcept = 0;
};

struct ReplayStats {
  std::uint64_t frames = 0;             // ws frames fed to a parser
  std::uint64_t rest_snapshots = 0;     // http depth bodies fed to a book
  std::uint64_t published = 0;          // snapshots handed to the sink
  std::uint64_t snapshot_requests = 0;  // times a diff book asked for a REST snapshot
  std::uint64_t skipped = 0;            // events with no venue, or not market data
};

// Feeds capture events through the same venue adapters (parsers, book sync) and books the live
// feed uses, and publishes a BookSnapshot (with received / parsed / applied stamps) after every
// applied update. The venue of each frame comes from the capture's URLs. Single-threaded; after
// warm-up feed() does not allocate.
class Replayer {
 public:
  // `options`: each venue's book stream (its endpoint's book; the rest is not used).
  Replayer(const SymbolMap& symbols, const FeedOptions& options);
  ~Replayer();
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  void feed(const CaptureEvent& event, SnapshotSink& sink) noexcept;

  // A venue's parser counts (all zero for a venue this build reads no market data of).
  [[nodiscard]] const ParserStats& parser_stats(Venue venue) const noexcept;
  [[nodiscard]] const BookKeeper& books() const noexcept { return books_; }
  [[nodiscard]] const ReplayStats& stats() const noexcept { return stats_; }

 private:
  void publish(const ApplyOutcome& outcome, const CaptureEvent& event, std::int64_t parsed_ns,
               SnapshotSink& sink) noexcept;

  std::array<std::unique_ptr<adapters::FeedAdapter>, kMaxVenues> adapters_;
  BookKeeper books_;
  BookSnapshot scratch_;
  ReplayStats stats_;
};

}  // namespace xarb::feed
