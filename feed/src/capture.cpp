#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

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

struct CaptureReader::Impl {
  std::FILE* file = nullptr;
  char* line = nullptr;  // getline's buffer, kept with room for simdjson's padding
  std::size_t capacity = 0;
  od::parser parser;
  Venue ws_venue = kNoVenue;
  bool ws_venue_known = false;
};

CaptureReader::CaptureReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

std::unique_ptr<CaptureReader> CaptureReader::open(const std::string& path, std::string& error) {
  auto impl = std::make_unique<Impl>();
  impl->file = std::fopen(path.c_str(), "rb");
  if (impl->file == nullptr) {
    error = "cannot open capture " + path + ": " + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<CaptureReader>(new CaptureReader(std::move(impl)));
}

void CaptureReader::rewind() noexcept {
  std::rewind(impl_->file);
  impl_->ws_venue_known = false;
}

CaptureReader::~CaptureReader() {
  std::fclose(impl_->file);
  std::free(impl_->line);
}

bool CaptureReader::next(CaptureEvent& event) noexcept {
  Impl& m = *impl_;
  const ssize_t read = ::getline(&m.line, &m.capacity, m.file);
  if (read < 0) return false;
  ++lines_;
  auto length = static_cast<std::size_t>(read);
  while (length > 0 && (m.line[length - 1] == '\n' || m.line[length - 1] == '\r')) --length;
  if (m.capacity < length + simdjson::SIMDJSON_PADDING) {
    // Rare: grow once so that this and shorter lines parse in place.
    const std::size_t wanted = length + simdjson::SIMDJSON_PADDING;
    char* grown = static_cast<char*>(std::realloc(m.line, wanted));
    if (grown == nullptr) return false;
    m.line = grown;
    m.capacity = wanted;
  }
  event = CaptureEvent{};
  event.kind = CaptureKind::malformed;
  od::document doc;
  od::object root;
  if (length == 0 || m.parser.iterate(m.line, length, m.capacity).get(doc) != simdjson::SUCCESS ||
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
    } else if (key == "ts") {
      // Receive time in epoch seconds with up to 7 decimals: exact as a Decimal, then ns.
      // Past year 2262 the nanoseconds do not fit an int64: refused, never wrapped.
      Decimal seconds;
      ok = Decimal::parse(detail::number_text(value.raw_json_token()), Rounding::down, seconds) ==
               Errc::ok &&
           seconds.mantissa() >= 0 && seconds.mantissa() <= INT64_MAX / 10;
      event.recv_ns = ok ? seconds.mantissa() * 10 : 0;
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

}  // namespace xarb::feed
