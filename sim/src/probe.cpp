// The latency probe (SimOptions::probe_every_ms): the first symbol's premium on the first KRW
// venue jumps and falls back on schedule; the time from the first jumped frame written to the engine's first
// entry order read is recorded.

#include "simulator_internal.hpp"
#include "venues/registry.hpp"

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

// The first kimchi entry order on the probed symbol after a jumped frame went out: a sell on the
// KRW venue whose premium jumped, or a buy on the USDT venue.
void Simulator::Impl::match_probe(Venue v, const HttpRequest& r, std::int64_t received_ns) {
  if (probe.written_ns == 0 || market.specs().empty()) return;
  const bool krw = v == market.krw_lead();
  if (!krw && v != market.usdt_venue()) return;
  const SimVenue* row = find_venue(v);
  if (row == nullptr || !row->places(*row, r, market.market_name(v, 0), !krw)) return;
  probe.stats.latencies_ns.push_back(received_ns - probe.written_ns);
  ++probe.stats.answered;
  probe.written_ns = 0;
}

}  // namespace xarb::sim
