#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/core/ids.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::feed {

// One line of a capture in the JSONL format of data/ (see its README):
//   {"t":"ws","ts":<epoch seconds>,"msg":<frame>}, {"t":"http","url":..,"ts":..,"msg":<body>},
//   {"t":"ws_connect","url":..}, {"t":"ws_send","msg":..}, {"t":"config",...}, first in a
//   recording made by xarb, {"t":"recording","msg":<what it holds: RecordingHeader>}, and in one
//   made by `xarb run --record`, {"t":"control","ts":..,"msg":{..}} (CaptureKind::control).
// An optional "venue":"binance"|"upbit" (written by xarb record) names the venue outright;
// otherwise it comes from the URL's host.
enum class CaptureKind : std::uint8_t {
  ws,
  http,
  ws_connect,
  ws_send,
  recording,  // xarb's recording header (RecordingHeader)
  // What the recording run did besides receiving (`xarb run --record`): {"t":"control","ts":..,
  // "msg":{"stop":true,"flatten":true}} when it stopped taking entries (and closed its positions).
  control,
  other,
  malformed
};

struct CaptureEvent {
  CaptureKind kind = CaptureKind::other;
  Venue venue = kNoVenue;  // from the url, or the last ws_connect for frames
  bool venue_known = false;
  std::int64_t recv_ns = 0;  // the "ts" field; 0 when absent
  std::int64_t exch_ns = 0;  // the "et" field (the venue's own event time); 0 when absent
  std::string_view url;
  std::string_view msg;  // the message text exactly as captured
};

// The value of `name` in a URL's query string ("DOTUSDT" for symbol in ...?symbol=DOTUSDT&limit=5);
// empty when absent.
[[nodiscard]] std::string_view query_param(std::string_view url, std::string_view name) noexcept;

// Venue of a URL by its host, if it names one.
[[nodiscard]] bool venue_of_url(std::string_view url, Venue& venue) noexcept;

// Reads a capture line by line through one reused buffer, plain or gzip-compressed (.gz): after
// the longest line has been seen, next() does not allocate. Views in the event are valid until
// the next call. Single-threaded.
class CaptureReader {
 public:
  // Opens `path`; null with `error` set when it cannot.
  [[nodiscard]] static std::unique_ptr<CaptureReader> open(const std::string& path,
                                                           std::string& error);
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // The next line; false at the end of the file. A line that is not a capture record comes back
  // as CaptureKind::malformed (counted), never an exception.
  [[nodiscard]] bool next(CaptureEvent& event) noexcept;

  // Back to the first line, the counts to zero (the buffer is kept, so a second pass does not
  // allocate).
  void rewind() noexcept;

  [[nodiscard]] std::uint64_t lines() const noexcept { return lines_; }
  [[nodiscard]] std::uint64_t malformed() const noexcept { return malformed_; }

 private:
  struct Impl;
  explicit CaptureReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::uint64_t lines_ = 0;
  std::uint64_t malformed_ = 0;
};

// What a recording made by xarb (`xarb record`) holds, as its first line says:
//   {"t":"recording","msg":{"version":1,"recorder":"xarb record",
//     "venues":[{"venue":"binance","book":"diff_depth"},{"venue":"upbit","book":"orderbook"}],
//     "symbols":[{"base":"BTC","markets":{"binance":"BTCUSDT","upbit":"KRW-BTC"}}],
//     "fx":{"venue":"upbit","market":"KRW-USDT"}}}
struct RecordingHeader {
  static constexpr int kVersion = 1;
  struct VenueBook {
    Venue venue = kNoVenue;
    std::string book;  // the stream its books were built from (its registry row's names)
  };
  struct Symbol {
    std::string base;
    std::array<std::string, kMaxVenues> markets{};  // by venue; empty: not recorded there
  };
  int version = 0;
  std::string recorder;
  std::vector<VenueBook> venues;
  std::vector<Symbol> symbols;
  Venue fx_venue = kNoVenue;  // whose book gave the FX rate; kNoVenue: none recorded
  std::string fx_market;

  // The header's line ({"t":"recording","msg":{...}}), without a line break.
  [[nodiscard]] std::string line() const;
  // One line for people: "binance (diff_depth), upbit (orderbook); 2 symbols: BTC, ETH; FX upbit
  // KRW-USDT".
  [[nodiscard]] std::string summary() const;
};

// Reads a header's "msg" object (CaptureKind::recording). False with `error` naming what is wrong
// (a field missing or of the wrong type, a venue no registry row has, a newer version).
[[nodiscard]] bool parse_recording_header(std::string_view msg, RecordingHeader& out,
                                          std::string& error);

// The instruments a capture subscribes to, from its ws_connect URLs (Binance stream lists),
// ws_send subscriptions (Upbit codes) and REST URLs (symbol=), so that a capture can be replayed
// without a config. Binance symbols and Upbit markets become one-venue instruments named by
// themselves. False with `error` set when the file cannot be read.
[[nodiscard]] bool discover_symbols(const std::string& path, SymbolMap& out, std::string& error);

}  // namespace xarb::feed
