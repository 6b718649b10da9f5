#include <charconv>
#include <limits>
#include <stdexcept>
#include <system_error>

#include <xarb/sim/replay.hpp>
#include <xarb/venues/registry.hpp>

#include "registry.hpp"

namespace xarb::sim {
namespace {

using Levels = std::vector<std::pair<std::int64_t, std::int64_t>>;

// Binance levels: [["43.50830000","7.00000000"], ...], numbers as strings.
bool read_levels(simdjson::dom::element list, Levels& out) {
  simdjson::dom::array arr;
  if (list.get(arr) != simdjson::SUCCESS) return false;
  for (auto level : arr) {
    std::string_view p, q;
    if (level.at(0).get(p) != simdjson::SUCCESS || level.at(1).get(q) != simdjson::SUCCESS) return false;
    Decimal dp, dq;
    if (Decimal::parse(p, Rounding::down, dp) != Errc::ok ||
        Decimal::parse(q, Rounding::down, dq) != Errc::ok) {
      return false;
    }
    out.emplace_back(dp.mantissa(), dq.mantissa());
  }
  return true;
}

// Upbit numbers are JSON numbers (1590.0, 65730.51527189). The DOM holds them as doubles; the
// shortest fixed text that reads back as the same double is the text Upbit sent whenever that had
// at most 15 significant digits (every price and size in the captures), and Decimal reads it
// exactly, to 8 decimals.
bool number(simdjson::dom::element e, std::int64_t& out) {
  double v = 0;
  if (e.get_double().get(v) != simdjson::SUCCESS || !(v >= 0)) return false;
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  Decimal d;
  if (r.ec != std::errc{} ||
      Decimal::parse(std::string_view(buf, static_cast<std::size_t>(r.ptr - buf)), Rounding::down,
                     d) != Errc::ok) {
    return false;
  }
  out = d.mantissa();
  return true;
}

}  // namespace

CaptureReplay::CaptureReplay(const std::vector<std::string>& paths, double speed) : speed_(speed) {
  for (const std::string& path : paths) {
    Source s;
    s.in.open(path);
    if (!s.in) throw std::runtime_error("cannot open the capture " + path);
    sources_.push_back(std::move(s));
  }
  if (!(speed_ > 0.0)) speed_ = 1e9;  // 0: as fast as possible
}

bool CaptureReplay::finished() const noexcept {
  for (const Source& s : sources_) {
    if (!s.done) return false;
  }
  return true;
}

bool CaptureReplay::read_next(Source& s) {
  while (std::getline(s.in, s.line)) {
    simdjson::dom::element e;
    double ts = 0;
    if (parser_.parse(s.line).get(e) != simdjson::SUCCESS || e["ts"].get(ts) != simdjson::SUCCESS) {
      continue;
    }
    s.ts = ts;
    if (s.first_ts < 0) s.first_ts = ts;
    return true;
  }
  return false;
}

std::vector<BookUpdate> CaptureReplay::advance(double elapsed_s, SyntheticMarket& market,
                                               std::int64_t now_ms) {
  std::vector<BookUpdate> changed;
  if (synced_.size() != market.specs().size()) {
    synced_.assign(market.specs().size(), false);
    last_u_.assign(market.specs().size(), 0);
  }
  // Merge the captures by time since their own start: always the earliest due event next.
  while (true) {
    Source* next = nullptr;
    for (Source& s : sources_) {
      if (s.done) continue;
      if (!s.have && !(s.have = read_next(s))) {
        s.done = true;
        continue;
      }
      if ((s.ts - s.first_ts) / speed_ > elapsed_s) continue;
      if (next == nullptr || s.ts - s.first_ts < next->ts - next->first_ts) next = &s;
    }
    if (next == nullptr) break;
    next->have = false;
    apply(next->line, market, now_ms, changed);
  }
  return changed;
}

void CaptureReplay::apply(std::string_view line, SyntheticMarket& market, std::int64_t now_ms,
                          std::vector<BookUpdate>& changed) {
  const auto& specs = market.specs();
  simdjson::dom::element e;
  if (parser_.parse(line.data(), line.size()).get(e) != simdjson::SUCCESS) return;
  std::string_view kind, url;
  if (e["t"].get(kind) != simdjson::SUCCESS) return;
  simdjson::dom::element msg;
  if (e["msg"].get(msg) != simdjson::SUCCESS) return;
  const auto symbol_index = [&](std::string_view sym) -> int {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (market.market_name(venues::kBinance, i) == sym) return static_cast<int>(i);
    }
    return -1;
  };
  if (kind == "http" && e["url"].get(url) == simdjson::SUCCESS) {
    // A Binance REST depth snapshot: .../depth?symbol=BTCUSDT&limit=...
    const auto at = url.find("symbol=");
    if (at == std::string_view::npos) return;
    std::string_view sym = url.substr(at + 7);
    sym = sym.substr(0, sym.find('&'));
    const int i = symbol_index(sym);
    if (i < 0) return;  // a market not simulated
    std::int64_t last = 0;
    Levels bids, asks;
    if (msg["lastUpdateId"].get(last) != simdjson::SUCCESS ||
        !read_levels(msg["bids"], bids) || !read_levels(msg["asks"], asks)) {
      ++skipped_;
      return;
    }
    market.apply(venues::kBinance, static_cast<std::size_t>(i), bids, asks,
                 static_cast<std::uint64_t>(last), true, now_ms);
    synced_[static_cast<std::size_t>(i)] = true;
    last_u_[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(last);
    changed.push_back({venues::kBinance, static_cast<std::size_t>(i)});
    ++applied_;
    return;
  }
  if (kind != "ws") return;
  simdjson::dom::element data = msg;
  simdjson::dom::element wrapped;
  if (msg["data"].get(wrapped) == simdjson::SUCCESS) data = wrapped;
  if (apply_orderbook(data, market, now_ms, changed)) return;
  std::string_view event, sym;
  if (data["e"].get(event) != simdjson::SUCCESS || event != "depthUpdate" ||
      data["s"].get(sym) != simdjson::SUCCESS) {
    return;
  }
  const int i = symbol_index(sym);
  if (i < 0) return;  // a market not simulated
  std::int64_t first = 0, last = 0;
  Levels bids, asks;
  if (data["U"].get(first) != simdjson::SUCCESS || data["u"].get(last) != simdjson::SUCCESS ||
      !read_levels(data["b"], bids) || !read_levels(data["a"], asks)) {
    ++skipped_;
    return;
  }
  const auto k = static_cast<std::size_t>(i);
  // Binance's rule: diffs apply after a snapshot, from the one that spans it.
  if (!synced_[k] || static_cast<std::uint64_t>(last) <= last_u_[k]) {
    ++skipped_;
    return;
  }
  market.apply(venues::kBinance, k, bids, asks, static_cast<std::uint64_t>(last), false, now_ms);
  last_u_[k] = static_cast<std::uint64_t>(last);
  changed.push_back({venues::kBinance, k});
  ++applied_;
}

// An Upbit orderbook frame, SIMPLE ({"ty":"orderbook","cd":..,"obu":[{"ap","bp","as","bs"}]}) or
// DEFAULT ({"type":"orderbook","code":..,"orderbook_units":[{"ask_price",..}]}). Returns false
// for anything that is not an Upbit orderbook (the caller then tries Binance).
bool CaptureReplay::apply_orderbook(simdjson::dom::element data, SyntheticMarket& market,
                                std::int64_t now_ms, std::vector<BookUpdate>& changed) {
  std::string_view type, code;
  bool simple = true;
  if (data["ty"].get(type) != simdjson::SUCCESS) {
    simple = false;
    if (data["type"].get(type) != simdjson::SUCCESS) return false;
  }
  if (type != "orderbook") return type == "trade" || type == "ticker";  // Upbit, not a book
  simdjson::dom::array units;
  if (data[simple ? "cd" : "code"].get(code) != simdjson::SUCCESS ||
      data[simple ? "obu" : "orderbook_units"].get(units) != simdjson::SUCCESS) {
    ++skipped_;
    return true;
  }
  const auto& specs = market.specs();
  std::size_t i = std::numeric_limits<std::size_t>::max();
  for (std::size_t k = 0; k < specs.size(); ++k) {
    if (market.market_name(venues::kUpbit, k) == code) i = k;
  }
  if (code == find_venue(venues::kUpbit)->fx_market) i = specs.size();
  if (i == std::numeric_limits<std::size_t>::max()) return true;  // a market not simulated
  Levels bids, asks;
  for (auto unit : units) {
    std::int64_t ap = 0, bp = 0, as = 0, bs = 0;
    if (!number(unit[simple ? "ap" : "ask_price"], ap) ||
        !number(unit[simple ? "bp" : "bid_price"], bp) ||
        !number(unit[simple ? "as" : "ask_size"], as) ||
        !number(unit[simple ? "bs" : "bid_size"], bs)) {
      ++skipped_;
      return true;
    }
    if (ap > 0 && as > 0) asks.emplace_back(ap, as);
    if (bp > 0 && bs > 0) bids.emplace_back(bp, bs);
  }
  if (bids.empty() || asks.empty()) {
    ++skipped_;
    return true;
  }
  market.apply(venues::kUpbit, i, bids, asks, 0, true, now_ms);
  changed.push_back({venues::kUpbit, i});
  ++applied_;
  return true;
}

}  // namespace xarb::sim
