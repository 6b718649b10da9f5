// A recording's header read and checked against a config (backtest.hpp).

#include <algorithm>
#include <ostream>

#include <xarb/app/backtest.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

bool read_recording_header(const std::string& path, feed::RecordingHeader& header, bool& found,
                           std::ostream& err) {
  found = false;
  std::string error;
  auto reader = feed::CaptureReader::open(path, error);
  if (!reader) return true;  // told by the caller's own open
  feed::CaptureEvent e;
  if (!reader->next(e) || e.kind != feed::CaptureKind::recording) return true;
  found = true;
  if (!feed::parse_recording_header(e.msg, header, error)) {
    err << path << ":1: " << error << '\n';
    return false;
  }
  return true;
}

std::string not_covered(const feed::RecordingHeader& h, const Config& c) {
  std::string held;
  for (const feed::RecordingHeader::VenueBook& v : h.venues) {
    held += (held.empty() ? "" : ", ") + std::string(to_string(v.venue));
  }
  for (const Venue v : c.venues()) {
    const bool recorded = std::any_of(h.venues.begin(), h.venues.end(),
                                      [&](const auto& r) { return r.venue == v; });
    if (!recorded) {
      return "the config trades " + std::string(to_string(v)) +
             ", which the recording does not hold (it holds " + held + ")";
    }
  }
  for (const SymbolConfig& s : c.symbols) {
    const auto it = std::find_if(h.symbols.begin(), h.symbols.end(),
                                 [&](const auto& r) { return r.base == s.base; });
    if (it == h.symbols.end()) {
      std::string bases;
      for (const auto& r : h.symbols) bases += (bases.empty() ? "" : ", ") + r.base;
      return "the config's symbol " + s.base + " is not in the recording (it holds " + bases + ")";
    }
    for (const Venue v : c.venues()) {
      const std::string& want = s.market(v);
      const std::string& got = it->markets[index(v)];
      if (!want.empty() && want != got) {
        return s.base + "'s market on " + std::string(to_string(v)) + " is " + want +
               " in the config and " + (got.empty() ? "absent" : got) + " in the recording";
      }
    }
  }
  return {};
}

}  // namespace xarb::app
