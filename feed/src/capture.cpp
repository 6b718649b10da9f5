#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include <zlib.h>

#include <xarb/core/decimal.hpp>
#include <xarb/feed/capture.hpp>
#include <xarb/venues/registry.hpp>

#include "json_input.hpp"

namespace xarb::feed {

namespace od = detail::od;

std::string_view query_param(std::string_view url, std::string_view name) noexcept {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = url.substr(q + 1);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return {};
}

bool venue_of_url(std::string_view url, Venue& venue) noexcept {
  const std::size_t scheme = url.find("://");
  std::string_view host = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  host = host.substr(0, host.find_first_of("/?:"));
  // A venue's host names carry its registry name (api.binance.com, api.upbit.com,
  // ws-api.bithumb.com).
  for (const venues::VenueInfo& v : venues::kRegistry) {
    if (host.find(v.name) != std::string_view::npos) {
      venue = v.id;
      return true;
    }
  }
  return false;
}

// Lines are read through zlib, which reads a gzip-compressed recording (.gz) and a plain one
// alike, in chunks into one buffer; a line is parsed in place there, the bytes after it (or the
// reserve kept at the buffer's end) serving as simdjson's padding.
struct CaptureReader::Impl {
  static constexpr std::size_t kChunk = 1 << 20;
  gzFile file = nullptr;
  std::unique_ptr<char[]> buffer;
  std::size_t capacity = 0;
  std::size_t begin = 0;  // the next line starts here
  std::size_t end = 0;    // bytes read so far end here
  bool eof = false;
  od::parser parser;
  Venue ws_venue = kNoVenue;
  bool ws_venue_known = false;

  // The next line (without its line break) into `line`, `length`; false at the end.
  bool next_line(char*& line, std::size_t& length) noexcept {
    for (;;) {
      if (const void* nl = std::memchr(buffer.get() + begin, '\n', end - begin); nl != nullptr) {
        line = buffer.get() + begin;
        length = static_cast<std::size_t>(static_cast<const char*>(nl) - line);
        begin += length + 1;
        return true;
      }
      if (eof) {
        if (begin == end) return false;
        line = buffer.get() + begin;  // a last line without a line break
        length = end - begin;
        begin = end;
        return true;
      }
      std::memmove(buffer.get(), buffer.get() + begin, end - begin);
      end -= begin;
      begin = 0;
      if (capacity - end < kChunk + simdjson::SIMDJSON_PADDING) {
        // Rare: a line longer than the buffer. Grow it (this allocates).
        const std::size_t grown = std::max(capacity * 2, end + kChunk + simdjson::SIMDJSON_PADDING);
        auto bigger = std::unique_ptr<char[]>(new (std::nothrow) char[grown]);
        if (!bigger) return false;
        std::memcpy(bigger.get(), buffer.get(), end);
        buffer = std::move(bigger);
        capacity = grown;
      }
      const int n = gzread(file, buffer.get() + end, static_cast<unsigned>(kChunk));
      if (n <= 0) {
        eof = true;  // the end, or a damaged file: what was read is handed out, then the end
      } else {
        end += static_cast<std::size_t>(n);
      }
    }
  }
};

CaptureReader::CaptureReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<CaptureReader> CaptureReader::open(const std::string& path, std::string& error) {
  auto impl = std::make_unique<Impl>();
  errno = 0;
  impl->file = gzopen(path.c_str(), "rb");
  if (impl->file == nullptr) {
    error = "cannot open capture " + path + ": " +
            (errno != 0 ? std::strerror(errno) : "out of memory");
    return nullptr;
  }
  gzbuffer(impl->file, 256 * 1024);
  impl->capacity = 2 * Impl::kChunk + simdjson::SIMDJSON_PADDING;
  impl->buffer = std::make_unique<char[]>(impl->capacity);
  return std::unique_ptr<CaptureReader>(new CaptureReader(std::move(impl)));
}

void CaptureReader::rewind() noexcept {
  gzrewind(impl_->file);
  impl_->begin = impl_->end = 0;
  impl_->eof = false;
  impl_->ws_venue_known = false;
  lines_ = 0;
  malformed_ = 0;
}

CaptureReader::~CaptureReader() { gzclose(impl_->file); }

bool CaptureReader::next(CaptureEvent& event) noexcept {
  Impl& m = *impl_;
  char* line = nullptr;
  std::size_t length = 0;
  if (!m.next_line(line, length)) return false;
  ++lines_;
  while (length > 0 && line[length - 1] == '\r') --length;
  // Room after the line: the rest of the buffer, never less than the padding kept at its end.
  const std::size_t room = m.capacity - static_cast<std::size_t>(line - m.buffer.get());
  event = CaptureEvent{};
  event.kind = CaptureKind::malformed;
  od::document doc;
  od::object root;
  if (length == 0 || m.parser.iterate(line, length, room).get(doc) != simdjson::SUCCESS ||
      doc.get_object().get(root) != simdjson::SUCCESS) {
    ++malformed_;
    return true;
  }
  std::string_view type, venue_name;
  bool ok = true;
  for (auto item : root) {
    od::field field;
    std::string_view key;
    if (detail::field_key(item, field, key) != simdjson::SUCCESS) {
      ok = false;
      break;
    }
    od::value value = field.value();
    if (key == "t") {
      ok = value.get_string().get(type) == simdjson::SUCCESS;
    } else if (key == "url") {
      ok = value.get_string().get(event.url) == simdjson::SUCCESS;
    } else if (key == "venue") {  // written by xarb record, whose URLs may be loopback ones
      ok = value.get_string().get(venue_name) == simdjson::SUCCESS;
    } else if (key == "ts" || key == "et") {
      // Receive ("ts") or the venue's event time ("et") in epoch seconds with up to 7 decimals:
      // exact as a Decimal, then ns. Past year 2262 the nanoseconds do not fit an int64: refused,
      // never wrapped.
      Decimal seconds;
      ok = Decimal::parse(detail::number_text(value.raw_json_token()), Rounding::down, seconds) ==
               Errc::ok &&
           seconds.mantissa() >= 0 && seconds.mantissa() <= INT64_MAX / 10;
      (key == "ts" ? event.recv_ns : event.exch_ns) = ok ? seconds.mantissa() * 10 : 0;
    } else if (key == "msg") {
      od::json_type t;
      if (value.type().get(t) != simdjson::SUCCESS) {
        ok = false;
      } else if (t == od::json_type::object) {
        od::object o;
        ok = value.get_object().get(o) == simdjson::SUCCESS &&
             o.raw_json().get(event.msg) == simdjson::SUCCESS;
      } else if (t == od::json_type::array) {
        od::array a;
        ok = value.get_array().get(a) == simdjson::SUCCESS &&
             a.raw_json().get(event.msg) == simdjson::SUCCESS;
      } else if (t == od::json_type::string) {
        ok = value.get_string().get(event.msg) == simdjson::SUCCESS;  // a text frame
      } else {
        event.msg = value.raw_json_token();
      }
    }
    if (!ok) break;
  }
  if (!ok) {
    ++malformed_;
    event.kind = CaptureKind::malformed;
    return true;
  }
  if (type == "ws")
    event.kind = CaptureKind::ws;
  else if (type == "http")
    event.kind = CaptureKind::http;
  else if (type == "ws_connect")
    event.kind = CaptureKind::ws_connect;
  else if (type == "ws_send")
    event.kind = CaptureKind::ws_send;
  else if (type == "recording")
    event.kind = CaptureKind::recording;
  else if (type == "control")
    event.kind = CaptureKind::control;
  else
    event.kind = CaptureKind::other;

  if (const std::optional<Venue> named = venues::from_name(venue_name)) {
    event.venue = *named;
    event.venue_known = true;
    if (event.kind == CaptureKind::ws_connect) {
      m.ws_venue = event.venue;
      m.ws_venue_known = true;
    }
  } else if (!event.url.empty()) {
    event.venue_known = venue_of_url(event.url, event.venue);
    if (event.kind == CaptureKind::ws_connect && event.venue_known) {
      m.ws_venue = event.venue;
      m.ws_venue_known = true;
    }
  } else if (event.kind == CaptureKind::ws || event.kind == CaptureKind::ws_send) {
    event.venue = m.ws_venue;
    event.venue_known = m.ws_venue_known;
  }
  return true;
}

namespace {

// `text` as a JSON string literal.
std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

// Appended piece by piece (GCC 12 at -O3 warns falsely on chains of operator+ here).
std::string RecordingHeader::line() const {
  std::string out = R"({"t":"recording","msg":{"version":)";
  out += std::to_string(version);
  out += R"(,"recorder":)";
  out += json_string(recorder);
  out += R"(,"venues":[)";
  for (std::size_t i = 0; i < venues.size(); ++i) {
    if (i != 0) out += ',';
    out += R"({"venue":)";
    out += json_string(to_string(venues[i].venue));
    out += R"(,"book":)";
    out += json_string(venues[i].book);
    out += '}';
  }
  out += R"(],"symbols":[)";
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    if (i != 0) out += ',';
    out += R"({"base":)";
    out += json_string(symbols[i].base);
    out += R"(,"markets":{)";
    bool first = true;
    for (const Venue v : venues::kAll) {
      const std::string& m = symbols[i].markets[index(v)];
      if (m.empty()) continue;
      if (!first) out += ',';
      out += json_string(to_string(v));
      out += ':';
      out += json_string(m);
      first = false;
    }
    out += "}}";
  }
  out += ']';
  if (fx_venue != kNoVenue) {
    out += R"(,"fx":{"venue":)";
    out += json_string(to_string(fx_venue));
    out += R"(,"market":)";
    out += json_string(fx_market);
    out += '}';
  }
  out += "}}";
  return out;
}

std::string RecordingHeader::summary() const {
  std::string out;
  for (const VenueBook& v : venues) {
    if (!out.empty()) out += ", ";
    out += to_string(v.venue);
    out += " (";
    out += v.book;
    out += ')';
  }
  out += "; ";
  out += std::to_string(symbols.size());
  out += symbols.size() == 1 ? " symbol" : " symbols";
  for (std::size_t i = 0; i < symbols.size(); ++i) {
    out += i == 0 ? ": " : ", ";
    out += symbols[i].base;
  }
  if (fx_venue != kNoVenue) {
    out += "; FX ";
    out += to_string(fx_venue);
    out += ' ';
    out += fx_market;
  }
  return out;
}

bool parse_recording_header(std::string_view msg, RecordingHeader& out, std::string& error) {
  out = RecordingHeader{};
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(msg.data(), msg.size()).get(root) != simdjson::SUCCESS) {
    error = "the recording header is not a JSON object";
    return false;
  }
  const auto venue_of = [&](std::string_view name, const char* where, Venue& v) {
    const std::optional<Venue> id = venues::from_name(name);
    if (!id) error = std::string(where) + " names \"" + std::string(name) + "\", a venue this build does not know";
    if (id) v = *id;
    return id.has_value();
  };
  std::int64_t version = 0;
  std::string_view recorder;
  simdjson::dom::array list, symbols;
  if (root["version"].get(version) != simdjson::SUCCESS ||
      root["recorder"].get(recorder) != simdjson::SUCCESS ||
      root["venues"].get(list) != simdjson::SUCCESS ||
      root["symbols"].get(symbols) != simdjson::SUCCESS) {
    error = "the recording header lacks version, recorder, venues or symbols";
    return false;
  }
  if (version < 1 || version > RecordingHeader::kVersion) {
    error = "the recording header's version " + std::to_string(version) +
            " is not one this build reads (1 to " + std::to_string(RecordingHeader::kVersion) + ")";
    return false;
  }
  out.version = static_cast<int>(version);
  out.recorder = std::string(recorder);
  for (simdjson::dom::element e : list) {
    std::string_view name, book;
    RecordingHeader::VenueBook vb;
    if (e["venue"].get(name) != simdjson::SUCCESS || e["book"].get(book) != simdjson::SUCCESS) {
      error = "a venue of the recording header lacks venue or book";
      return false;
    }
    if (!venue_of(name, "the recording header's venues", vb.venue)) return false;
    vb.book = std::string(book);
    out.venues.push_back(std::move(vb));
  }
  for (simdjson::dom::element e : symbols) {
    std::string_view base;
    simdjson::dom::object markets;
    if (e["base"].get(base) != simdjson::SUCCESS || e["markets"].get(markets) != simdjson::SUCCESS) {
      error = "a symbol of the recording header lacks base or markets";
      return false;
    }
    RecordingHeader::Symbol s;
    s.base = std::string(base);
    for (const auto field : markets) {
      Venue v = kNoVenue;
      std::string_view market;
      if (!venue_of(field.key, "the recording header's markets", v)) return false;
      if (field.value.get(market) != simdjson::SUCCESS) {
        error = "the market of " + s.base + " on " + std::string(field.key) + " is not a string";
        return false;
      }
      s.markets[index(v)] = std::string(market);
    }
    out.symbols.push_back(std::move(s));
  }
  simdjson::dom::object fx;
  if (root["fx"].get(fx) == simdjson::SUCCESS) {
    std::string_view name, market;
    if (fx["venue"].get(name) != simdjson::SUCCESS || fx["market"].get(market) != simdjson::SUCCESS) {
      error = "the recording header's fx lacks venue or market";
      return false;
    }
    if (!venue_of(name, "the recording header's fx", out.fx_venue)) return false;
    out.fx_market = std::string(market);
  }
  return true;
}

}  // namespace xarb::feed
