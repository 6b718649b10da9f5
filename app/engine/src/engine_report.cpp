#include "engine_internal.hpp"

namespace xarb::app::engine_detail {

namespace {
// KRW summed in 1e-16 units, to the report's 8 decimals.
Decimal krw_of(Int128 e16) noexcept {
  Decimal out;
  if (from_e16(e16, Rounding::down, out) != Errc::ok)
    out = e16 < 0 ? -Decimal::max() : Decimal::max();
  return out;
}
}  // namespace

// Each venue's market data (feed) and private stream and health (exec).
void Engine::add_venues(RunReport& r, const feed::FeedTelemetry& f, const exec::ExecTelemetry& x,
                        bool has_exec) const {
  for (const Venue v : venues_) {
    const feed::VenueFeedStats& in = f.venues[index(v)];
    VenueReport& o = r.venues[index(v)];
    o.frames = in.frames;
    o.bytes = in.bytes;
    o.dropped_frames = f.parsers[index(v)].count(feed::MsgKind::dropped);
    o.connects = in.connects;
    o.disconnects = in.disconnects;
    o.resyncs = in.resyncs;
    o.snapshot_failures = in.snapshot_failures;
    o.ring_full = in.ring_full;
    const exec::StreamTelemetry& ps = x.streams[index(v)];
    o.healthy = !has_exec || x.healthy[index(v)];
    o.private_stream = ps.present;
    o.stream_up = ps.streaming;
    o.stream_connects = ps.stats.ws.connects;
    o.stream_disconnects = ps.stats.ws.disconnects;
    o.stream_order_ends = ps.stats.fills;
    o.stream_reconciled = ps.stats.reconciled;
    o.stream_malformed = ps.stats.malformed;
    o.stream_balance_mismatches = ps.stats.balance_mismatches;
    o.stream_last_mismatch = std::string(ps.stats.last_mismatch.view());
    o.stream_incomplete = ps.stats.incomplete;
    o.stream_requests = ps.stats.requests;
  }
}

// What the strategy did: intents, refusals, outcomes, positions and PnL, per symbol and pair.
void report_strategy(RunReport& r, const signal::SignalTelemetry& s, const ReportScope& scope,
                     std::uint64_t restored) {
  const signal::StrategyStats& st = s.strategy;
  r.book_updates = s.stage.books;
  r.entries = st.entries;
  r.exit_intents = st.exit_intents;
  r.exits = st.exits;
  r.outcomes = st.outcomes;
  for (std::size_t k = 1; k < kRefusals; ++k) {
    // The strategy counts exec's refusals too (from the blocked reports).
    if (const std::uint64_t n = s.refusals[k]; n != 0) {
      r.blocked[std::string(to_string(static_cast<RefusalReason>(k)))] = n;
    }
  }
  r.opened = st.opened;
  r.closed = st.closed;
  r.wins = st.wins;
  r.broken = st.broken;
  r.open_positions = s.open_positions;
  r.restored_positions = restored;
  r.dropped_intents = st.dropped;
  r.dust_writeoffs = st.dust_writeoffs;
  r.winrate = st.winrate();
  r.realized_krw = krw_of(st.realized_e16);
  if (from_double(s.unrealized_krw, Rounding::down, r.unrealized_krw) != Errc::ok) {
    r.unrealized_krw = Decimal{};
  }
  r.risk_mode = std::string(signal::to_string(s.risk_mode));
  const auto traded = [](std::string name, const signal::TradeStats& t, std::uint64_t open) {
    return TradeReport{std::move(name),       t.entries, t.closed, t.wins, t.broken, open,
                       krw_of(t.realized_e16)};
  };
  for (const Instrument& i : scope.symbols) {
    if (i.is_fx) continue;
    r.symbols.push_back(
        traded(std::string(i.base.view()), st.symbols[i.id], s.open_by_symbol[i.id]));
  }
  for (std::size_t k = 0; k < scope.pairs.size(); ++k) {
    r.pairs.push_back(traded(to_string(scope.pairs[k]), st.pairs[k], s.open_by_pair[k]));
  }
}

void Engine::add_strategy(RunReport& r, const signal::SignalTelemetry& s) const {
  report_strategy(r, s, {cfg_, venues_, symbols_, pairs_}, restored_);
}

// How the engine ran: latencies, queues, threads.
void Engine::add_engine(RunReport& r, const feed::FeedTelemetry& f,
                        const signal::StrategyStats& st) const {
  for (const auto& [name, h] : latencies_.all()) {
    LatencyReport l{std::string(name),    h->count(), h->percentile(0.5), h->percentile(0.99),
                    h->percentile(0.999), h->max(),   h->sum(),           {}};
    for (const std::int64_t le : kLatencyBucketsNs) l.at_most.push_back(h->count_at_most(le));
    r.latencies.push_back(std::move(l));
  }
  const auto ring = [&](std::string name, const auto& q, std::uint64_t drops) {
    r.queues.push_back({std::move(name), q.capacity(), q.high_water(), drops});
  };
  std::uint64_t ring_full = 0;
  for (const Venue v : venues_) ring_full += f.venues[index(v)].ring_full;
  ring("books", books_, ring_full);
  ring("intents", intents_, st.dropped);
  ring("reports", reports_, 0);
  r.queues.push_back({"ops", kOpsPerProducer, 0, ops_.dropped()});
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    r.threads.push_back(
        {layout_[k].name, stages_text(layout_[k]), layout_[k].cpu,
         std::string(to_string(waits_[k])),
         static_cast<double>(thread_cpu_ns_[k].load(std::memory_order_relaxed)) * 1e-9});
  }
  r.threads.push_back({"ops", "journal+metrics", cfg_.threads.ops_cpu, "sleep",
                       static_cast<double>(ops_cpu_ns_) * 1e-9});
}

RunReport Engine::build_report() const {
  RunReport r;
  r.run_id = run_id_;
  r.mode = mode_name();
  const std::int64_t ended = ended_mono_.load();
  const std::int64_t end = ended != 0 ? ended : clock::mono_ns();
  r.duration_s = static_cast<double>(end - started_mono_) * 1e-9;
  r.traded = venues_;
  // Each stage's figures as its hosting thread last published them, whole.
  const feed::FeedTelemetry f = feed_ ? feed_->telemetry() : feed::FeedTelemetry{};
  const signal::SignalTelemetry s = signal_ ? signal_->telemetry() : signal::SignalTelemetry{};
  const exec::ExecTelemetry x = exec_ ? exec_->telemetry() : exec::ExecTelemetry{};
  const signal::StrategyStats& st = s.strategy;
  add_venues(r, f, x, exec_ != nullptr);
  add_strategy(r, s);
  r.exec_retries = x.executor.retries;
  r.exec_unwinds = x.executor.unwinds;
  r.exec_queries = x.executor.queries;
  r.exec_unsettled = x.unsettled;
  r.exec_settled = x.executor.settled;
  add_engine(r, f, st);
  for (const Venue v : venues_) {
    r.venues[index(v)].orders = tally_.orders[index(v)];
    r.venues[index(v)].order_errors = tally_.order_errors[index(v)];
  }
  r.peak_rss_kib = tuning::peak_rss_kib();
  r.rss_kib = tuning::current_rss_kib();
  const tuning::HeapUsage heap = tuning::heap_usage();
  r.heap_in_use_bytes = heap.in_use_bytes;
  r.heap_held_bytes = heap.held_bytes;
  r.journal_memory_bytes = Journal::memory_used();
  r.journal_events = journal_events_.load();
  r.journal_errors = journal_errors_.load();
  if (reconciler_) {
    r.balances = reconciler_->last();
    r.reconciliations = reconciler_->rounds();
    // A difference confirmed by the last round (after the hot thread stopped) is REDUCING too:
    // the next start keeps it so until an operator accepts it.
    if (reconciler_->unexplained()) r.risk_mode = "reducing";
  }
  // The ops thread owns the journal; finish() calls this after it has stopped.
  if (journal_) r.dust = journal_->dust(run_id_);
  add_inventory(r, s);
  return r;
}

// Every venue's quote asset and the bases of the symbols it lists: the engine's figures, the
// venue's at the last reconciliation (live), the floors, each direction's headroom and the plan.
void report_inventory(RunReport& r, const signal::SignalTelemetry& s, const ReportScope& scope) {
  const Config& cfg_ = scope.config;
  const auto add = [&](Venue v, std::string asset, Decimal expected, Decimal locked) {
    InventoryReport row{v, std::move(asset), expected, locked, expected, {}, false};
    row.floor = find_amount(cfg_.inventory.floor, v, row.asset).value_or(Decimal{});
    for (const BalanceReport& b : r.balances) {
      if (b.venue == v && b.asset == row.asset) {
        row.held = b.held;
        row.expected = b.expected;
        row.from_venue = true;
      }
    }
    r.inventory.push_back(std::move(row));
  };
  for (const Venue v : scope.venues) {
    Decimal locked;
    if (from_e16(s.reserved_quote_e16[index(v)], Rounding::up, locked) != Errc::ok) locked = {};
    add(v, std::string(venues::quote_asset(v)), krw_of(s.quote_e16[index(v)]), locked);
    for (const Instrument& i : scope.symbols) {
      if (i.is_fx || !i.listed_on(v)) continue;
      add(v, std::string(i.base.view()), Decimal::from_mantissa(s.base[index(v)][i.id]),
          Decimal::from_mantissa(s.reserved_base[index(v)][i.id]));
    }
  }
  for (std::size_t k = 0; k < scope.pairs.size() && k < kMaxPairs; ++k) {
    for (const Instrument& i : scope.symbols) {
      if (i.is_fx || !i.listed_on(scope.pairs[k].first) || !i.listed_on(scope.pairs[k].second)) continue;
      const auto sc = std::find_if(cfg_.symbols.begin(), cfg_.symbols.end(),
                                   [&](const SymbolConfig& c) { return c.base == i.base.view(); });
      const std::int64_t trade = sc == cfg_.symbols.end() ? 0 : sc->trade_qty.mantissa();
      for (const Direction d : {Direction::kimchi, Direction::reverse}) {
        const signal::Strategy::Headroom& h = s.headroom[k][i.id][static_cast<std::size_t>(d)];
        HeadroomReport row;
        row.pair = to_string(scope.pairs[k]);
        row.symbol = std::string(i.base.view());
        row.direction = std::string(to_string(d));
        row.known = h.known;
        if (h.known) {
          row.qty = Decimal::from_mantissa(h.qty);
          row.entries = trade > 0 ? static_cast<std::uint64_t>(h.qty / trade) : 0;
          row.bound_by = std::string(to_string(h.venue)) + " " +
                         (h.quote ? std::string(venues::quote_asset(h.venue)) : row.symbol);
        }
        r.headroom.push_back(std::move(row));
      }
    }
  }
  r.rebalance = plan_rebalance(r.inventory, r.headroom, cfg_.inventory);
}

void Engine::add_inventory(RunReport& r, const signal::SignalTelemetry& s) const {
  report_inventory(r, s, {cfg_, venues_, symbols_, pairs_});
}

}  // namespace xarb::app::engine_detail
