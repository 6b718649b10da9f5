#include <cerrno>
#include <cstring>

#include <xarb/app/recorder.hpp>
#include <xarb/app/stage_options.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

// Writes JSON text as it is when it is a JSON object or array, else as a JSON string. A raw
// line break in JSON text can only be whitespace between tokens (strings cannot hold one), so it
// is written as a space: one record stays one line.
void write_json_value(std::FILE* f, std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
    ++i;
  if (i < text.size() && (text[i] == '{' || text[i] == '[')) {
    for (const char c : text) std::fputc(c == '\n' || c == '\r' ? ' ' : c, f);
    return;
  }
  std::fputc('"', f);
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      std::fputc('\\', f);
      std::fputc(c, f);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      std::fprintf(f, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      std::fputc(c, f);
    }
  }
  std::fputc('"', f);
}

void write_ts(std::FILE* f, std::int64_t wall_ns) {
  std::fprintf(f, "%lld.%06lld", static_cast<long long>(wall_ns / 1'000'000'000),
               static_cast<long long>((wall_ns % 1'000'000'000) / 1000));
}

}  // namespace

feed::RecordingHeader recording_header(const Config& config, std::string recorder) {
  feed::RecordingHeader h;
  h.version = feed::RecordingHeader::kVersion;
  h.recorder = std::move(recorder);
  const feed::FeedOptions options = feed_options(config);
  for (const Venue v : config.venues()) {
    h.venues.push_back({v, std::string(feed::book_stream(options, v))});
  }
  for (const SymbolConfig& s : config.symbols) h.symbols.push_back({s.base, s.markets});
  if (config.fx.source == FxSource::book) {
    h.fx_venue = config.fx_venue();
    h.fx_market = config.fx.market;
  }
  return h;
}

bool RecordingWriter::open(const std::string& path, std::string& error) {
  file_.reset(std::fopen(path.c_str(), "w"));
  if (!file_) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

void RecordingWriter::header(const feed::RecordingHeader& h, const Config& config) {
  std::fputs(h.line().c_str(), file_.get());
  std::fputc('\n', file_.get());
  for (const Venue v : config.venues()) rest_base_[index(v)] = config.venue(v).rest_url;
}

void RecordingWriter::connect(Venue v, std::string_view url, std::int64_t wall_ns) {
  url_[index(v)] = std::string(url);
  std::FILE* f = file_.get();
  std::fprintf(f, "{\"t\":\"ws_connect\",\"venue\":\"%s\",\"url\":", to_string(v).data());
  write_json_value(f, url);
  std::fputs(",\"ts\":", f);
  write_ts(f, wall_ns);
  std::fputs("}\n", f);
}

void RecordingWriter::send(Venue v, std::string_view message, std::int64_t wall_ns) {
  line("ws_send", v, url_[index(v)], wall_ns, message);
}

void RecordingWriter::frame(Venue v, std::int64_t wall_ns, std::int64_t exchange_ns,
                            std::string_view frame) {
  ++frames_;
  line("ws", v, url_[index(v)], wall_ns, frame, exchange_ns);
}

void RecordingWriter::http(Venue v, std::string_view target, std::int64_t wall_ns,
                           std::string_view body) {
  line("http", v, rest_base_[index(v)] + std::string(target), wall_ns, body);
}

void RecordingWriter::stopped(std::int64_t wall_ns, bool flatten) {
  std::FILE* f = file_.get();
  std::fputs("{\"t\":\"control\",\"ts\":", f);
  write_ts(f, wall_ns);
  std::fprintf(f, ",\"msg\":{\"stop\":true,\"flatten\":%s}}\n", flatten ? "true" : "false");
}

void RecordingWriter::flush() { std::fflush(file_.get()); }

void RecordingWriter::line(const char* type, Venue v, std::string_view url, std::int64_t wall_ns,
                           std::string_view msg, std::int64_t exchange_ns) {
  std::FILE* f = file_.get();
  std::fprintf(f, "{\"t\":\"%s\",\"venue\":\"%s\",\"url\":", type, to_string(v).data());
  write_json_value(f, url);
  std::fputs(",\"ts\":", f);
  write_ts(f, wall_ns);
  if (exchange_ns > 0) {
    std::fputs(",\"et\":", f);
    write_ts(f, exchange_ns);
  }
  std::fputs(",\"msg\":", f);
  write_json_value(f, msg);
  std::fputs("}\n", f);
}

namespace {
constexpr std::size_t kAlign = 32;
static_assert(kAlign % alignof(std::int64_t) == 0);
std::size_t padded(std::size_t n) noexcept { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

RecordingTap::RecordingTap(std::size_t capacity)
    : ring_(std::make_unique<char[]>(padded(capacity))), capacity_(padded(capacity)) {
  static_assert(sizeof(Record) == kAlign);
}

void RecordingTap::put(Kind kind, Venue venue, std::int64_t wall_ns, std::int64_t exchange_ns,
                       std::string_view payload, std::string_view second) noexcept {
  // Two parts are joined by a line break (an http record: its target, then its body).
  const std::size_t size = payload.size() + (second.empty() ? 0 : 1 + second.size());
  const std::size_t need = sizeof(Record) + padded(size);
  std::size_t head = head_.load(std::memory_order_relaxed);
  const std::size_t tail = tail_.load(std::memory_order_acquire);
  const std::size_t pos = head % capacity_;
  const std::size_t to_end = capacity_ - pos;
  const std::size_t total = need > to_end ? to_end + need : need;
  if (need > capacity_ / 2 || head - tail + total > capacity_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (need > to_end) {  // the rest of the ring is skipped: a wrap record says so
    Record wrap;
    wrap.kind = Kind::wrap;
    std::memcpy(ring_.get() + pos, &wrap, sizeof wrap);
    head += to_end;
  }
  Record r;
  r.size = static_cast<std::uint32_t>(size);
  r.kind = kind;
  r.venue = venue;
  r.wall_ns = wall_ns;
  r.exchange_ns = exchange_ns;
  char* at = ring_.get() + head % capacity_;
  std::memcpy(at, &r, sizeof r);
  if (!payload.empty()) std::memcpy(at + sizeof r, payload.data(), payload.size());
  if (!second.empty()) {
    at[sizeof r + payload.size()] = '\n';
    std::memcpy(at + sizeof r + payload.size() + 1, second.data(), second.size());
  }
  head_.store(head + need, std::memory_order_release);
}

void RecordingTap::on_connect(Venue venue, std::string_view url) {
  put(Kind::connect, venue, clock::wall_ns(), 0, url);
}
void RecordingTap::on_send(Venue venue, std::string_view message) {
  put(Kind::send, venue, clock::wall_ns(), 0, message);
}
void RecordingTap::on_frame(Venue venue, std::int64_t recv_wall_ns, std::int64_t exchange_ns,
                            std::string_view frame) {
  put(Kind::frame, venue, recv_wall_ns, exchange_ns, frame);
}
void RecordingTap::on_http(Venue venue, std::string_view url, std::int64_t recv_wall_ns,
                           std::string_view body) {
  // The snapshot's whole URL: only its target goes in, the writer prefixes the venue's REST URL.
  std::string_view target = url;
  if (const std::size_t scheme = target.find("://"); scheme != std::string_view::npos) {
    const std::size_t path = target.find('/', scheme + 3);
    target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
  }
  put(Kind::http, venue, recv_wall_ns, 0, target, body.empty() ? std::string_view(" ") : body);
}

std::size_t RecordingTap::drain(RecordingWriter& out, std::int64_t until_wall_ns) {
  std::size_t tail = tail_.load(std::memory_order_relaxed);
  const std::size_t head = head_.load(std::memory_order_acquire);
  std::size_t n = 0;
  while (tail != head) {
    const std::size_t pos = tail % capacity_;
    Record r;
    std::memcpy(&r, ring_.get() + pos, sizeof r);
    if (r.kind == Kind::wrap) {
      tail += capacity_ - pos;
      continue;
    }
    if (r.wall_ns > until_wall_ns) break;
    const std::string_view payload(ring_.get() + pos + sizeof r, r.size);
    switch (r.kind) {
      case Kind::connect:
        out.connect(r.venue, payload, r.wall_ns);
        break;
      case Kind::send:
        out.send(r.venue, payload, r.wall_ns);
        break;
      case Kind::frame:
        out.frame(r.venue, r.wall_ns, r.exchange_ns, payload);
        break;
      case Kind::http: {
        const std::size_t nl = payload.find('\n');
        out.http(r.venue, payload.substr(0, nl), r.wall_ns,
                 nl == std::string_view::npos ? std::string_view{} : payload.substr(nl + 1));
        break;
      }
      case Kind::wrap:
        break;
    }
    tail += sizeof r + padded(r.size);
    ++n;
  }
  tail_.store(tail, std::memory_order_release);
  return n;
}

}  // namespace xarb::app
