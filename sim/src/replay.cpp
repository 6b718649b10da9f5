#include <stdexcept>

#include <simdjson.h>

#include <xarb/sim/replay.hpp>

namespace xarb::sim {
namespace {

using Levels = std::vector<std::pair<std::int64_t, std::int64_t>>;

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

}  // namespace

CaptureReplay::CaptureReplay(const std::string& path, double speed) : in_(path), speed_(speed) {
  if (!in_) throw std::runtime_error("cannot open the capture " + path);
  if (!(speed_ > 0.0)) speed_ = 1e9;  // 0: as fast as possible
}

bool CaptureReplay::read_next() {
  simdjson::dom::parser parser;
  while (std::getline(in_, next_line_)) {
    simdjson::dom::element e;
    double ts = 0;
    if (parser.parse(next_line_).get(e) != simdjson::SUCCESS || e["ts"].get(ts) != simdjson::SUCCESS) {
      continue;
    }
    next_ts_ = ts;
    return true;
  }
  return false;
}

std::vector<std::size_t> CaptureReplay::advance(double elapsed_s, SyntheticMarket& market,
                                                std::int64_t now_ms) {
  std::vector<std::size_t> changed;
  const auto& specs = market.specs();
  if (synced_.size() != specs.size()) {
    synced_.assign(specs.size(), false);
    last_u_.assign(specs.size(), 0);
  }
  simdjson::dom::parser parser;
  while (!finished_) {
    if (!have_next_) {
      have_next_ = read_next();
      if (!have_next_) {
        finished_ = true;
        break;
      }
      if (first_ts_ < 0) first_ts_ = next_ts_;
    }
    if ((next_ts_ - first_ts_) / speed_ > elapsed_s) break;
    have_next_ = false;
    simdjson::dom::element e;
    if (parser.parse(next_line_).get(e) != simdjson::SUCCESS) continue;
    std::string_view kind, url;
    if (e["t"].get(kind) != simdjson::SUCCESS) continue;
    simdjson::dom::element msg;
    if (e["msg"].get(msg) != simdjson::SUCCESS) continue;
    const auto symbol_index = [&](std::string_view sym) -> int {
      for (std::size_t i = 0; i < specs.size(); ++i) {
        if (specs[i].binance_symbol == sym) return static_cast<int>(i);
      }
      return -1;
    };
    if (kind == "http" && e["url"].get(url) == simdjson::SUCCESS) {
      // A REST depth snapshot: .../depth?symbol=BTCUSDT&limit=...
      const auto at = url.find("symbol=");
      if (at == std::string_view::npos) continue;
      std::string_view sym = url.substr(at + 7);
      sym = sym.substr(0, sym.find('&'));
      const int i = symbol_index(sym);
      std::int64_t last = 0;
      Levels bids, asks;
      if (i < 0 || msg["lastUpdateId"].get(last) != simdjson::SUCCESS ||
          !read_levels(msg["bids"], bids) || !read_levels(msg["asks"], asks)) {
        ++skipped_;
        continue;
      }
      market.apply_binance(static_cast<std::size_t>(i), bids, asks, static_cast<std::uint64_t>(last),
                           true, now_ms);
      synced_[static_cast<std::size_t>(i)] = true;
      last_u_[static_cast<std::size_t>(i)] = static_cast<std::uint64_t>(last);
      changed.push_back(static_cast<std::size_t>(i));
      ++applied_;
      continue;
    }
    if (kind != "ws") continue;
    simdjson::dom::element data = msg;
    simdjson::dom::element wrapped;
    if (msg["data"].get(wrapped) == simdjson::SUCCESS) data = wrapped;
    std::string_view event, sym;
    if (data["e"].get(event) != simdjson::SUCCESS || event != "depthUpdate" ||
        data["s"].get(sym) != simdjson::SUCCESS) {
      continue;
    }
    const int i = symbol_index(sym);
    std::int64_t first = 0, last = 0;
    Levels bids, asks;
    if (i < 0 || data["U"].get(first) != simdjson::SUCCESS || data["u"].get(last) != simdjson::SUCCESS ||
        !read_levels(data["b"], bids) || !read_levels(data["a"], asks)) {
      ++skipped_;
      continue;
    }
    const auto k = static_cast<std::size_t>(i);
    // Binance's rule: diffs apply after a snapshot, from the one that spans it.
    if (!synced_[k] || static_cast<std::uint64_t>(last) <= last_u_[k]) {
      ++skipped_;
      continue;
    }
    market.apply_binance(k, bids, asks, static_cast<std::uint64_t>(last), false, now_ms);
    last_u_[k] = static_cast<std::uint64_t>(last);
    changed.push_back(k);
    ++applied_;
  }
  return changed;
}

}  // namespace xarb::sim
