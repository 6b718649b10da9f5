#include "engine_internal.hpp"

namespace xarb::app::engine_detail {

void publish_feed(const feed::FeedStage& f, const std::vector<Venue>& traded,
                  Telemetry& t) noexcept {
  for (const Venue v : traded) {
    const feed::VenueFeedStats& s = f.stats(v);
    Telemetry::Feed& o = t.feed[index(v)];
    put(o.frames, s.frames);
    put(o.bytes, s.bytes);
    put(o.dropped, f.parser_stats(v).count(feed::MsgKind::dropped));
    put(o.connects, s.connects);
    put(o.disconnects, s.disconnects);
    put(o.resyncs, s.resyncs);
    put(o.snapshot_failures, s.snapshot_failures);
    put(o.ring_full, s.ring_full);
  }
}

void publish_signal(const signal::Strategy& s, const signal::SignalStage& stage,
                    Telemetry& t) noexcept {
  const signal::StrategyStats& st = s.stats();
  put(t.books, stage.stats().books);
  put(t.entries, st.entries);
  put(t.exit_intents, st.exit_intents);
  put(t.opened, st.opened);
  put(t.closed, st.closed);
  put(t.wins, st.wins);
  put(t.broken, st.broken);
  put(t.open_positions, std::uint64_t{s.open_positions()});
  put(t.dropped_intents, st.dropped);
  put(t.dust_writeoffs, st.dust_writeoffs);
  put(t.realized, st.realized_krw);
  put(t.unrealized, s.unrealized_krw());
  put(t.risk_mode, static_cast<std::uint64_t>(s.risk().mode()));
  put(t.ops_dropped_signal, stage.stats().ops_dropped);
  for (std::size_t k = 0; k < kExitReasonCount; ++k) put(t.exits[k], st.exits[k]);
  for (std::size_t k = 0; k < 5; ++k) put(t.outcomes[k], st.outcomes[k]);
  for (std::size_t k = 0; k < kRefusals; ++k) {
    put(t.refusals[k], s.risk().refusals(static_cast<RefusalReason>(k)));
  }
  for (std::size_t i = 0; i < kMaxInstruments; ++i) {
    put(t.sym_entries[i], st.symbols[i].entries);
    put(t.sym_closed[i], st.symbols[i].closed);
    put(t.sym_wins[i], st.symbols[i].wins);
    put(t.sym_broken[i], st.symbols[i].broken);
    put(t.sym_realized[i], st.symbols[i].realized_krw);
  }
  for (std::size_t k = 0; k < kMaxPairs; ++k) {
    put(t.pair_entries[k], st.pairs[k].entries);
    put(t.pair_closed[k], st.pairs[k].closed);
    put(t.pair_wins[k], st.pairs[k].wins);
    put(t.pair_broken[k], st.pairs[k].broken);
    put(t.pair_realized[k], st.pairs[k].realized_krw);
  }
  std::array<std::uint64_t, kMaxInstruments> sym_open{};
  std::array<std::uint64_t, kMaxPairs> pair_open{};
  for (std::size_t n = 0; n < s.positions().size(); ++n) {
    const signal::Position& p = s.positions()[n];
    if (p.instrument < kMaxInstruments) ++sym_open[p.instrument];
    if (const std::size_t k = s.pair_index(p.pair); k < kMaxPairs) ++pair_open[k];
  }
  for (std::size_t i = 0; i < kMaxInstruments; ++i) put(t.sym_open[i], sym_open[i]);
  for (std::size_t k = 0; k < kMaxPairs; ++k) put(t.pair_open[k], pair_open[k]);
}

void publish_exec(const exec::TwoLegExecutor& x, const exec::ExecStage& stage,
                  Telemetry& t) noexcept {
  const exec::ExecStats& s = x.stats();
  put(t.exec_retries, s.retries);
  put(t.exec_unwinds, s.unwinds);
  put(t.exec_queries, s.queries);
  put(t.exec_active, std::uint64_t{x.active()});
  put(t.exec_unsettled, std::uint64_t{x.unsettled()});
  put(t.exec_settled, s.settled);
  put(t.ops_dropped_exec, stage.stats().ops_dropped);
}

RunReport Engine::build_report() const {
  RunReport r;
  r.run_id = run_id_;
  r.mode = mode_name();
  const std::int64_t ended = ended_mono_.load();
  const std::int64_t end = ended != 0 ? ended : clock::mono_ns();
  r.duration_s = static_cast<double>(end - started_mono_) * 1e-9;
  r.traded = venues_;
  const Telemetry& t = telemetry_;
  for (const Venue v : venues_) {
    const Telemetry::Feed& f = t.feed[index(v)];
    VenueReport& o = r.venues[index(v)];
    o.frames = get(f.frames);
    o.bytes = get(f.bytes);
    o.dropped_frames = get(f.dropped);
    o.connects = get(f.connects);
    o.disconnects = get(f.disconnects);
    o.resyncs = get(f.resyncs);
    o.snapshot_failures = get(f.snapshot_failures);
    o.ring_full = get(f.ring_full);
  }
  r.book_updates = get(t.books);
  r.entries = get(t.entries);
  r.exit_intents = get(t.exit_intents);
  for (std::size_t k = 0; k < kExitReasonCount; ++k) r.exits[k] = get(t.exits[k]);
  for (std::size_t k = 0; k < 5; ++k) r.outcomes[k] = get(t.outcomes[k]);
  for (std::size_t k = 1; k < kRefusals; ++k) {
    // The strategy counts exec's refusals too (from the blocked reports).
    const std::uint64_t n = get(t.refusals[k]);
    if (n != 0) r.blocked[std::string(to_string(static_cast<RefusalReason>(k)))] = n;
  }
  r.opened = get(t.opened);
  r.closed = get(t.closed);
  r.wins = get(t.wins);
  r.broken = get(t.broken);
  r.open_positions = get(t.open_positions);
  r.restored_positions = restored_;
  r.dropped_intents = get(t.dropped_intents);
  r.dust_writeoffs = get(t.dust_writeoffs);
  r.winrate = r.closed == 0 ? 0.0 : static_cast<double>(r.wins) / static_cast<double>(r.closed);
  r.realized_krw = get_double(t.realized);
  r.unrealized_krw = get_double(t.unrealized);
  r.exec_retries = get(t.exec_retries);
  r.exec_unwinds = get(t.exec_unwinds);
  r.exec_queries = get(t.exec_queries);
  r.exec_unsettled = get(t.exec_unsettled);
  r.exec_settled = get(t.exec_settled);
  const auto mode = static_cast<signal::RiskMode>(get(t.risk_mode));
  r.risk_mode = std::string(signal::to_string(mode));
  for (const Instrument& s : symbols_) {
    if (s.is_fx) continue;
    r.symbols.push_back({std::string(s.base.view()), get(t.sym_entries[s.id]),
                         get(t.sym_closed[s.id]), get(t.sym_wins[s.id]), get(t.sym_broken[s.id]),
                         get(t.sym_open[s.id]), get_double(t.sym_realized[s.id])});
  }
  for (std::size_t k = 0; k < pairs_.size(); ++k) {
    r.pairs.push_back({to_string(pairs_[k]), get(t.pair_entries[k]), get(t.pair_closed[k]),
                       get(t.pair_wins[k]), get(t.pair_broken[k]), get(t.pair_open[k]),
                       get_double(t.pair_realized[k])});
  }
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
  for (const Venue v : venues_) ring_full += get(t.feed[index(v)].ring_full);
  ring("books", books_, ring_full);
  ring("intents", intents_, get(t.dropped_intents));
  ring("reports", reports_, 0);
  r.queues.push_back({"ops", kOpsPerProducer, 0, ops_.dropped()});
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    r.threads.push_back({layout_[k].name, stages_text(layout_[k]), layout_[k].cpu,
                         std::string(to_string(waits_[k])),
                         static_cast<double>(get(t.thread_cpu_ns[k])) * 1e-9});
  }
  r.threads.push_back({"ops", "journal+metrics", cfg_.threads.ops_cpu, "sleep",
                       static_cast<double>(ops_cpu_ns_) * 1e-9});
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
  return r;
}

}  // namespace xarb::app::engine_detail
