// The market loop: a tick every millisecond moves the market (model or captures), each changed
// book and each trade goes to its venue's websocket sessions through the venue's front end, and
// the websocket faults (stalls, drops) are applied.

#include <algorithm>

#include <xarb/venues/registry.hpp>

#include "simulator_internal.hpp"

namespace xarb::sim {

void Simulator::Impl::broadcast(Venue v, std::size_t i) {
  if (i == BookUpdate::kNone || !valid(v)) return;
  ++counts.book_updates;
  // Drop sessions that have gone.
  sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                [](const std::weak_ptr<WsSession>& w) { return w.expired(); }),
                 sessions.end());
  WsVenueFront* front = fronts[index(v)].get();
  if (front == nullptr || !front->book_changed(i)) return;
  for (const auto& w : sessions) {
    if (auto s = w.lock(); s && s->venue() == v) s->on_book(i);
  }
}

void Simulator::Impl::publish_trades() {
  for (const PublicTrade& t : exchange.take_trades()) {
    WsVenueFront* front = fronts[index(t.venue)].get();
    if (front == nullptr) continue;
    front->trade(t);
    for (const auto& w : sessions) {
      if (auto s = w.lock(); s && s->venue() == t.venue) s->on_trade(t);
    }
  }
}

void Simulator::Impl::publish_private() {
  // A stalled private stream holds its events (the exchange keeps them) and sends them late.
  const auto now = std::chrono::steady_clock::now();
  if (const int stall = exchange.faults().stall_private_ms;
      stall > 0 && now >= next_private_stall) {
    private_stall_until = now + std::chrono::milliseconds(stall);
    next_private_stall = now + std::chrono::seconds(10);
  }
  if (now < private_stall_until) return;
  const double miss = exchange.faults().private_miss_share;
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  for (const PrivateEvent& e : exchange.take_private()) {
    if (miss > 0.0 && uni(fault_rng) < miss) {
      ++counts.private_missed;
      continue;
    }
    for (const auto& w : sessions) {
      if (auto s = w.lock(); s && s->venue() == e.venue) s->on_private(e);
    }
  }
}

void Simulator::Impl::drop_sessions() {
  for (const auto& w : sessions) {
    if (auto s = w.lock()) {
      s->close();
      ++counts.ws_dropped;
    }
  }
}

void Simulator::Impl::on_tick() {
  const auto now = std::chrono::steady_clock::now();
  const double dt = std::chrono::duration<double>(now - last_tick).count();
  last_tick = now;
  const FaultParams& f = exchange.faults();
  if (f.stall_feed_ms > 0 && now >= next_stall) {
    stall_until = now + std::chrono::milliseconds(f.stall_feed_ms);
    next_stall = now + std::chrono::seconds(10);
  }
  // Backpressure: while a client's socket is behind, the market waits for it rather than drop
  // messages (the summary counts the ticks it waited).
  bool behind = false;
  for (const auto& w : sessions) {
    if (auto s = w.lock(); s && s->backlog() > 1'000) behind = true;
  }
  if (behind) {
    ++counts.backpressure_ticks;
    owed = 0.0;
  } else if (now >= stall_until) {
    if (replay) {
      for (const BookUpdate& u :
           replay->advance(std::chrono::duration<double>(now - replay_start).count(), market,
                           clock::wall_ms())) {
        broadcast(u.venue, u.symbol);
      }
      counts.replay_applied = replay->applied();
      counts.replay_skipped = replay->skipped();
      counts.replay_finished = replay->finished();
    }
    // At most 5 ms worth of updates per tick, so that writes to the sockets interleave with
    // the market; a rate this thread cannot sustain shows as fewer updates, never as a backlog.
    owed =
        std::min(owed + options.updates_per_second * dt, options.updates_per_second * 0.005 + 1.0);
    const int n = static_cast<int>(owed);
    owed -= n;
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    for (int k = 0; k < n; ++k) {
      const BookUpdate u = market.step(dt / std::max(n, 1), clock::wall_ms());
      broadcast(u.venue, u.symbol);
      // The market's own trades: now and then a small one at the touch (streams stay lively
      // without orders; they do not consume the books).
      if (u.symbol < market.specs().size() && uni(fault_rng) < 0.2) {
        const SimBook& b = market.book(u.venue, u.symbol);
        const bool buy = uni(fault_rng) < 0.5;
        if (!b.bids.empty() && !b.asks.empty()) {
          const std::int64_t step =
              u.venue == market.usdt_venue() ? market.specs()[u.symbol].step.mantissa() : 1;
          const std::int64_t qty = std::max<std::int64_t>(
              step, static_cast<std::int64_t>(uni(fault_rng) * 1e6) / step * step);
          exchange.add_trade({u.venue, u.symbol,
                              buy ? b.asks.begin()->first : b.bids.rbegin()->first, qty, buy,
                              clock::wall_ms(), 0});
        }
      }
    }
    publish_trades();
  }
  publish_private();  // an order accepted late is announced when it is accepted
  if (f.drop_ws_probability > 0.0) {
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    for (const auto& w : sessions) {
      if (auto s = w.lock(); s && uni(fault_rng) < f.drop_ws_probability * dt) {
        s->close();
        ++counts.ws_dropped;
      }
    }
  }
  if (options.probe_every_ms > 0) on_probe(now);
  tick.expires_after(std::chrono::milliseconds(1));
  tick.async_wait([this](error_code ec) {
    if (!ec) on_tick();
  });
}

}  // namespace xarb::sim
