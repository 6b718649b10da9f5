// The latency probe (SimOptions::probe_every_ms): the first symbol's Upbit premium jumps and
// falls back on schedule; the time from the first jumped frame written to the engine's first
// entry order read is recorded.

#include <xarb/venues/registry.hpp>

#include "simulator_internal.hpp"

namespace xarb::sim {

std::string ProbeStats::json() const {
  std::string out = R"({"sent":)" + std::to_string(sent) + R"(,"answered":)" +
                    std::to_string(answered) + R"(,"latencies_ns":[)";
  for (std::size_t i = 0; i < latencies_ns.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(latencies_ns[i]);
  }
  return out + "]}";
}

// Jump up, hold, fall back, wait: one probe per period. A jump not answered by the time it is
// taken back is given up (the engine was cooling down, or already in a position): an order after
// that answers something else.
void Simulator::Impl::on_probe(std::chrono::steady_clock::time_point now) {
  if (probe.up && now >= probe.fall) {
    probe.up = false;
    probe.written_ns = 0;
    const BookUpdate u = market.jump(0, -options.probe_jump_bps, clock::wall_ms());
    broadcast(u.venue, u.symbol);
  }
  if (probe.up || now < probe.next || market.specs().empty()) return;
  probe.next = now + std::chrono::milliseconds(options.probe_every_ms);
  probe.fall = now + std::chrono::milliseconds(options.probe_hold_ms);
  probe.up = true;
  ++probe.stats.sent;
  probe.written_ns = 0;
  const BookUpdate u = market.jump(0, options.probe_jump_bps, clock::wall_ms());
  probe.armed = true;
  broadcast(u.venue, u.symbol);
  probe.armed = false;
}

// The first kimchi entry order on the probed symbol after a jumped frame went out: sell on Upbit
// (side=ask) or buy on Binance (side=BUY).
void Simulator::Impl::match_probe(Venue v, const HttpRequest& r, std::int64_t received_ns) {
  if (probe.written_ns == 0 || r.method != "POST" || market.specs().empty()) return;
  const SymbolSpec& s = market.specs()[0];
  const std::string text = r.target + "&" + r.body;
  const bool entry = v == venues::kBinance
                         ? r.path() == "/api/v3/order" &&
                               text.find("side=BUY") != std::string::npos &&
                               text.find("symbol=" + s.binance_symbol) != std::string::npos
                         : r.path() == "/v1/orders" &&
                               (text.find(R"("side":"ask")") != std::string::npos ||
                                text.find("side=ask") != std::string::npos) &&
                               text.find(s.upbit_market) != std::string::npos;
  if (!entry) return;
  probe.stats.latencies_ns.push_back(received_ns - probe.written_ns);
  ++probe.stats.answered;
  probe.written_ns = 0;
}

}  // namespace xarb::sim
