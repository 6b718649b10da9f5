#pragma once

// Recordings (data/README.md's JSONL, first line xarb's header): `xarb record` writes what its own
// feed receives straight to the file; `xarb run --record` has the running engine's feed copy each
// frame into a preallocated ring (RecordingTap: no allocation, no lock, no system call on the feed
// thread) that the ops thread drains into the file.

#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include <xarb/app/config.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/feed/feed_stage.hpp>

namespace xarb::app {

// What a recording made with `config` holds: its venues and their book streams, its symbols and
// markets, the FX book.
[[nodiscard]] feed::RecordingHeader recording_header(const Config& config, std::string recorder);

// Writes a recording's lines. One thread.
class RecordingWriter {
 public:
  // Opens `path` for writing; false (error set) when it cannot.
  [[nodiscard]] bool open(const std::string& path, std::string& error);
  // The header line, then each venue's REST base (the URLs of its http lines).
  void header(const feed::RecordingHeader& h, const Config& config);
  void connect(Venue v, std::string_view url, std::int64_t wall_ns);
  void send(Venue v, std::string_view message, std::int64_t wall_ns);
  // `exchange_ns` (the venue's event time), when the frame carries one, as "et" beside "ts".
  void frame(Venue v, std::int64_t wall_ns, std::int64_t exchange_ns, std::string_view frame);
  // A REST answer: `target` is the request's path and query on the venue's REST URL.
  void http(Venue v, std::string_view target, std::int64_t wall_ns, std::string_view body);
  // The run stopped taking entries at `wall_ns` (and closed its positions when `flatten`): a
  // backtest of the recording does the same then.
  void stopped(std::int64_t wall_ns, bool flatten);
  void flush();
  [[nodiscard]] std::uint64_t frames() const noexcept { return frames_; }

 private:
  void line(const char* type, Venue v, std::string_view url, std::int64_t wall_ns,
            std::string_view msg, std::int64_t exchange_ns = 0);

  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  std::string url_[kMaxVenues];        // each venue's websocket URL (its frames' url)
  std::string rest_base_[kMaxVenues];  // each venue's REST URL
  std::uint64_t frames_ = 0;
};

// The feed's observer in `xarb run --record`: each event copied into a ring of `capacity` bytes
// allocated here (the feed thread's side), taken out by drain() on another thread (the ops
// thread's side). An event the ring has no room for is counted in dropped(), never waited for.
class RecordingTap final : public feed::FrameObserver {
 public:
  explicit RecordingTap(std::size_t capacity);

  void on_connect(Venue venue, std::string_view url) override;
  void on_send(Venue venue, std::string_view message) override;
  void on_frame(Venue venue, std::int64_t recv_wall_ns, std::int64_t exchange_ns,
                std::string_view frame) override;
  void on_http(Venue venue, std::string_view url, std::int64_t recv_wall_ns,
               std::string_view body) override;

  // Writes the events in the ring to `out`, up to the first one after `until_wall_ns`; returns
  // how many.
  std::size_t drain(RecordingWriter& out, std::int64_t until_wall_ns = INT64_MAX);
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
  }

 private:
  enum class Kind : std::uint8_t { connect, send, frame, http, wrap };
  // Each record in the ring: this, then its payload, padded to a multiple of its size.
  struct Record {
    std::uint32_t size = 0;  // payload bytes
    Kind kind = Kind::frame;
    Venue venue = kNoVenue;
    std::int64_t wall_ns = 0;
    std::int64_t exchange_ns = 0;
    std::int64_t unused = 0;
  };
  void put(Kind kind, Venue venue, std::int64_t wall_ns, std::int64_t exchange_ns,
           std::string_view payload, std::string_view second = {}) noexcept;

  std::unique_ptr<char[]> ring_;
  std::size_t capacity_;
  alignas(64) std::atomic<std::size_t> head_{0};  // written by the feed thread
  alignas(64) std::atomic<std::size_t> tail_{0};  // written by the draining thread
  alignas(64) std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace xarb::app
