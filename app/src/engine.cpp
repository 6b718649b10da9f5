#include <xarb/app/engine.hpp>

#include <algorithm>
#include <bit>
#include <fstream>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <xarb/app/feed_commands.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/app/metrics.hpp>
#include <xarb/app/venue_commands.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/core/latency_histogram.hpp>
#include <xarb/core/ops_queue.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/core/wait.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/exec/paper_venue.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/exec/stage.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/signal/stage.hpp>
#include <xarb/signal/strategy.hpp>
#include <xarb/tuning/threads.hpp>
#include <xarb/venues/registry.hpp>

#include "reconciler.hpp"
#include "stop_signals.hpp"

namespace xarb::app {
namespace {

constexpr std::size_t kMaxThreads = 8;
constexpr std::size_t kRefusals = static_cast<std::size_t>(RefusalReason::count);
constexpr std::int64_t kPublishEveryNs = 100'000'000;
constexpr std::size_t kOpsPerProducer = 4096;  // the ops thread drains every 5 ms

using Counter = std::atomic<std::uint64_t>;

void put(Counter& c, std::uint64_t v) noexcept { c.store(v, std::memory_order_relaxed); }
void put(Counter& c, double v) noexcept { c.store(std::bit_cast<std::uint64_t>(v), std::memory_order_relaxed); }
std::uint64_t get(const Counter& c) noexcept { return c.load(std::memory_order_relaxed); }
double get_double(const Counter& c) noexcept { return std::bit_cast<double>(get(c)); }

// The figures the hot threads publish for the ops thread: relaxed atomic copies of each stage's
// own counters, refreshed every 100 ms by the thread hosting the stage (never per message).
struct Telemetry {
  struct Feed {
    Counter frames, bytes, dropped, connects, disconnects, resyncs, snapshot_failures, ring_full;
  };
  std::array<Feed, kMaxVenues> feed;
  Counter books, entries, exit_intents, opened, closed, wins, broken, open_positions,
      dropped_intents, dust_writeoffs, realized, unrealized, risk_mode;
  std::array<Counter, kExitReasonCount> exits;
  std::array<Counter, 5> outcomes;
  std::array<Counter, kRefusals> refusals;
  std::array<Counter, kMaxInstruments> sym_entries, sym_closed, sym_wins, sym_broken, sym_open,
      sym_realized;
  std::array<Counter, kMaxPairs> pair_entries, pair_closed, pair_wins, pair_broken, pair_open,
      pair_realized;
  Counter exec_retries, exec_unwinds, exec_queries, exec_active, exec_unsettled, exec_settled, ops_dropped_signal,
      ops_dropped_exec;
  std::array<Counter, kMaxThreads> thread_cpu_ns;
};

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

// What the ops thread learns from the events it journals.
struct OpsTally {
  std::array<std::uint64_t, kMaxVenues> orders{};
  std::array<std::uint64_t, kMaxVenues> order_errors{};
};

std::string stages_text(const ThreadConfig& t) {
  std::string s;
  for (const HotStage h : t.stages) {
    if (!s.empty()) s += '+';
    s += to_string(h);
  }
  return s;
}

bool hosts(const ThreadConfig& t, HotStage h) {
  return std::find(t.stages.begin(), t.stages.end(), h) != t.stages.end();
}

// What the orders of one intent did on one venue, read back by client id: index 0 is the first
// order's side (the first order and its retries), index 1 the other side (unwinds).
struct VenueOrders {
  std::optional<Side> first_side;
  std::array<std::int64_t, 2> qty{};
  std::array<Int128, 2> notional{};
  std::array<Decimal, 2> fee{};       // quote currency
  std::array<Decimal, 2> fee_base{};  // taken in the base asset
  std::array<Decimal, 2> fee_bnb{};
  bool any = false;  // at least one order exists

  // The journal fills these orders amount to (none for a side that traded nothing).
  [[nodiscard]] std::vector<JournalFill> fills(std::uint64_t run_id, std::uint64_t intent_id,
                                               std::uint64_t position_id, Venue v,
                                               const std::string& symbol,
                                               std::int64_t wall_ns) const {
    std::vector<JournalFill> out;
    for (std::size_t k = 0; k < 2; ++k) {
      if (qty[k] == 0 || !first_side) continue;
      out.push_back({run_id, intent_id, position_id, v,
                     k == 0 ? *first_side : opposite(*first_side), symbol,
                     Decimal::from_mantissa(qty[k]),
                     Decimal::from_mantissa(static_cast<std::int64_t>(notional[k] / qty[k])),
                     fee[k], k == 1, wall_ns, fee_base[k], fee_bnb[k]});
    }
    return out;
  }
};

class Engine {
 public:
  Engine(const Config& config, const RunOptions& options, const std::atomic<bool>& stop,
         std::ostream& out, std::ostream& err)
      : cfg_(config),
        venues_(config.venues()),
        pairs_(config.pairs()),
        opt_(options),
        stop_(stop),
        out_(out),
        err_(err) {}

  RunResult run();

 private:
  bool start_venues(std::string& error);
  bool restore(std::string& error);
  void probe_unjournaled(std::uint64_t run, std::int64_t wall_ns);
  bool read_orders(std::uint64_t run_id, std::uint64_t intent_id, Venue v, InstrumentId i,
                   VenueOrders& out, int attempts = exec::TwoLegExecutor::kMaxAttempts);
  bool warm_up(std::string& error);
  void start_threads();
  void host_loop(std::size_t k, std::latch& go);
  void publish_telemetry(bool with_feed, bool with_signal, bool with_exec) noexcept;
  void ops_loop();
  void wind_down();
  void drain_ops();
  void handle(const OpsEvent& e);
  [[nodiscard]] RunReport build_report() const;
  void finish(RunResult& result);
  [[nodiscard]] bool ready(std::string& missing) const;

  const Config& cfg_;
  const std::vector<Venue> venues_;  // the venues this run trades
  const std::vector<VenuePair> pairs_;  // the pairs it trades, in the strategy's order
  RunOptions opt_;
  const std::atomic<bool>& stop_;
  std::ostream& out_;
  std::ostream& err_;

  SymbolMap symbols_;
  bool live_ = false;
  [[nodiscard]] const char* mode_name() const noexcept { return live_ ? "live" : "paper"; }
  std::uint64_t run_id_ = 0;
  std::int64_t started_mono_ = 0;
  std::atomic<std::int64_t> ended_mono_{0};
  std::mutex out_mu_;  // `out_` once the ops thread prints status lines
  std::unique_ptr<Journal> journal_;
  std::unique_ptr<MetricsServer> metrics_;

  std::array<std::unique_ptr<exec::RestVenue>, kMaxVenues> rest_;
  std::array<std::unique_ptr<exec::PaperVenue>, kMaxVenues> paper_;
  std::unique_ptr<exec::TwoLegExecutor> executor_;

  SpscRing<BookSnapshot> books_{8192};
  SpscRing<OrderIntent> intents_{256};
  SpscRing<ExecReport> reports_{256};
  OpsQueue ops_{kOpsPerProducer, 3};  // signal, exec and one spare
  OpsQueue::Producer signal_producer_{ops_};
  OpsQueue::Producer exec_producer_{ops_};

  std::unique_ptr<signal::Strategy> strategy_;
  std::unique_ptr<signal::SignalStage> signal_;
  std::unique_ptr<exec::ExecStage> exec_;
  std::unique_ptr<feed::FeedStage> feed_;
  PipelineLatencies latencies_;
  Telemetry telemetry_;
  std::uint64_t restored_ = 0;

  // Layout: one entry per hot thread, then the ops thread.
  std::vector<ThreadConfig> layout_;
  std::vector<WaitStrategy> waits_;
  std::array<Doorbell, kMaxThreads> bells_;
  std::size_t feed_host_ = 0, signal_host_ = 0, exec_host_ = 0;
  std::atomic<bool> trading_{false};  // the hot threads run (status lines from then on)
  std::atomic<int> phase_{0};  // 0 trading, 1 winding down (no entries), 2 stop
  std::atomic<bool> ops_stop_{false};
  std::unique_ptr<std::latch> go_;  // releases the hot threads together
  std::vector<std::jthread> threads_;
  std::jthread ops_thread_;
  std::int64_t ops_cpu_ns_ = 0;  // written by the ops thread before it exits
  OpsTally tally_;               // the ops thread's
  std::atomic<std::uint64_t> journal_events_{0}, journal_errors_{0};
  std::uint64_t ops_dropped_reported_ = 0;  // the ops thread's
  std::unique_ptr<Reconciler> reconciler_;  // live: venues' balances against the ledger
};

RunResult Engine::run() {
  RunResult result;
  live_ = opt_.live;
  if (opt_.live && cfg_.mode != Mode::live) {
    result.exit_code = 2;
    result.error = "--live needs mode = \"live\" in the config; it says \"" +
                   std::string(to_string(cfg_.mode)) + "\"";
    return result;
  }
  if (!opt_.live && cfg_.mode == Mode::live) {
    out_ << "config says mode = \"live\" but --live was not given: running in paper mode\n";
  }
  symbols_ = build_symbol_map(cfg_);
  run_id_ = static_cast<std::uint64_t>(clock::wall_ns() / 1'000'000);

  // Thread layout: validated before anything connects.
  const std::vector<int> allowed = tuning::allowed_cpus();
  layout_ = cfg_.threads.hot;
  std::vector<tuning::ThreadPlan> plan;
  for (const ThreadConfig& t : layout_) {
    const WaitStrategy w = resolve_wait(t.wait, static_cast<unsigned>(allowed.size()),
                                        static_cast<unsigned>(layout_.size()));
    waits_.push_back(w);
    plan.push_back({t.name, t.cpu, w, true});
  }
  plan.push_back({"ops", cfg_.threads.ops_cpu, WaitStrategy::park, false});
  if (layout_.empty() || layout_.size() > kMaxThreads - 1) {
    result.exit_code = 2;
    result.error = "[threads]: between 1 and 7 hot threads";
    return result;
  }
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    if (hosts(layout_[k], HotStage::feed)) feed_host_ = k;
    if (hosts(layout_[k], HotStage::signal)) signal_host_ = k;
    if (hosts(layout_[k], HotStage::exec)) exec_host_ = k;
  }
  bool fatal = false;
  for (const auto& p : tuning::validate_layout(plan, allowed, tuning::online_cpus())) {
    (p.fatal ? err_ : out_) << (p.fatal ? "error" : "warning") << ": [threads] " << p.thread
                            << ": " << p.message << '\n';
    fatal = fatal || p.fatal;
  }
  if (fatal) {
    result.exit_code = 2;
    result.error = "the thread layout does not fit this host";
    return result;
  }

  try {
    journal_ = std::make_unique<Journal>(cfg_.journal.path,
                                         static_cast<int>(cfg_.journal.busy_timeout_ms));
    // Paper and live never share positions: a paper run on a live journal would restore the live
    // positions and "close" them with paper fills, and the next live run would take the paper
    // run's positions for real ones. The easy slip is forgetting --live on a live config.
    const std::string_view other = live_ ? "paper" : "live";
    if (const std::uint64_t n = journal_->runs_of_mode(other); n != 0 && !opt_.share_journal) {
      result.exit_code = 2;
      result.error = "journal " + cfg_.journal.path + " holds " + std::to_string(n) + " " +
                     std::string(other) + " run" + (n == 1 ? "" : "s") + "; a " + mode_name() +
                     " run does not use it" + (live_ ? "" : " (did you mean --live?)") +
                     ". Give each mode its own [journal] path, or pass --share-journal (the "
                     "modes' positions stay apart)";
      return result;
    }
    journal_->begin_run(run_id_, clock::wall_ns(), mode_name(), opt_.config_text, symbols_);
  } catch (const std::exception& e) {
    result.exit_code = 1;
    result.error = e.what();
    return result;
  }
  out_ << "run " << run_id_ << " (" << mode_name() << "), journal " << cfg_.journal.path << '\n';

  std::string error;
  if (!start_venues(error) || !restore(error)) {
    result.exit_code = 1;
    result.error = error;
    journal_->end_run(clock::wall_ns(), "{}");
    return result;
  }
  if (cfg_.metrics.port != 0) {
    try {
      metrics_ = std::make_unique<MetricsServer>(cfg_.metrics.bind, cfg_.metrics.port);
      out_ << "metrics: http://" << cfg_.metrics.bind << ':' << metrics_->port() << "/metrics\n";
    } catch (const std::exception& e) {
      result.exit_code = 1;
      result.error = e.what();
      journal_->end_run(clock::wall_ns(), "{}");
      return result;
    }
  }

  started_mono_ = clock::mono_ns();
  ops_thread_ = std::jthread([this] { ops_loop(); });
  if (!warm_up(error)) {
    result.exit_code = 1;
    result.error = error;
    {
      std::lock_guard lock(out_mu_);
      err_ << error << '\n';
    }
    phase_.store(2);
    ended_mono_.store(clock::mono_ns());
    finish(result);
    result.exit_code = 1;
    return result;
  }
  start_threads();
  if (live_ && cfg_.risk.reconcile_every_s > 0) {
    reconciler_ = std::make_unique<Reconciler>(
        cfg_, symbols_, cfg_.journal.path, run_id_,
        // An order no venue has settled yet may still move a balance: no difference is
        // confirmed while one is out.
        [this] { return get(telemetry_.exec_active) == 0 && get(telemetry_.exec_unsettled) == 0; },
        err_, out_mu_);
    reconciler_->start();
  }

  // The main thread waits for the end: the duration, a signal, or the caller's stop flag.
  const std::int64_t end_ns =
      opt_.duration.count() > 0
          ? clock::mono_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(opt_.duration).count()
          : INT64_MAX;
  while (!stop_.load() && !detail::stop_signalled() && clock::mono_ns() < end_ns) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  wind_down();
  finish(result);
  return result;
}

bool Engine::start_venues(std::string& error) {
  for (const Venue v : venues_) {
    exec::RestVenueOptions o = rest_options(cfg_, v);
    if (live_) {
      if (!o.credentials.present() && !load_credentials(cfg_, v, o.credentials, error)) {
        return false;
      }
    } else {
      o.credentials = {};  // paper: public endpoints only (trading rules)
    }
    // A venue that answers 5xx or not at all during start-up gets a few more tries (exchanges
    // have bad seconds); a refusal (bad key, unknown symbol) fails at once.
    std::string why;
    bool started = false;
    for (int attempt = 1; attempt <= 5 && !started; ++attempt) {
      rest_[index(v)] = std::make_unique<exec::RestVenue>(symbols_, o);
      why.clear();
      started = rest_[index(v)]->start(why);
      // 5xx, or no answer at all (the transport's "... failed", a timeout).
      const bool transient = why.find("HTTP 5") != std::string::npos ||
                             why.find(" failed") != std::string::npos ||
                             why.find("timed out") != std::string::npos;
      if (!started && (!transient || attempt == 5)) break;
      if (!started) {
        out_ << "start-up: " << to_string(v) << ": " << why << "; trying again\n";
        std::this_thread::sleep_for(std::chrono::milliseconds(250 * attempt));
      }
    }
    if (!started) {
      error = "start-up: " + std::string(to_string(v)) + ": " + why;
      return false;
    }
    out_ << "start-up: " << to_string(v) << " reachable, trading rules loaded";
    if (v == venues::kBinance) {
      out_ << ", server time offset " << rest_[index(v)]->time_offset_ms() << " ms";
    }
    out_ << (live_ ? ", balances read" : "") << '\n';
  }
  std::array<exec::VenueClient*, kMaxVenues> clients{};
  if (live_) {
    for (const Venue v : venues_) clients[index(v)] = rest_[index(v)].get();
  } else {
    for (const Venue v : venues_) {
      exec::PaperParams p;
      p.fee_bps = cfg_.venue(v).taker_fee_bps;
      p.seed = run_id_ + index(v);
      auto venue = std::make_unique<exec::PaperVenue>(v, rest_[index(v)]->rules_table(), p);
      // Paper balances: ten times each symbol's position limit, and quote to match.
      for (const SymbolConfig& s : cfg_.symbols) {
        const InstrumentId i = symbols_.find_base(s.base);
        venue->set_base(i, Decimal::from_mantissa(s.max_position_qty.mantissa() * 10));
      }
      venue->set_quote(v == venues::kUpbit ? Decimal::from_mantissa(1'000'000'000 * Decimal::kOne)
                                           : Decimal::from_mantissa(1'000'000 * Decimal::kOne));
      clients[index(v)] = venue.get();
      paper_[index(v)] = std::move(venue);
    }
  }
  exec::ExecParams xp;
  xp.run_id = run_id_;
  xp.hedge_reserve_ratio = cfg_.risk.hedge_reserve_ratio;
  executor_ = std::make_unique<exec::TwoLegExecutor>(clients, xp);
  return true;
}

// Positions the journal holds open from earlier runs come back before trading: intents whose
// outcome was never journaled are resolved by querying their client order ids (live), fills are
// folded in once (the journal's keys make a second insert a no-op), and what still does not add
// up is BROKEN, which blocks entries until an operator looks.
bool Engine::restore(std::string& error) {
  signal::StrategyParams params = strategy_params(cfg_, symbols_);
  params.first_position_id = journal_->max_position_id() + 1;
  params.risk.kill_switch = true;  // no entries until the start-up checks pass
  strategy_ = std::make_unique<signal::Strategy>(symbols_, params);

  // An order sent just before the previous run died may still be accepted by its venue (a
  // request in flight, a late acceptance): "not found" means "not sent" only once the venues can
  // no longer take it, so the orders are read after their grace period has run out. (A run that
  // ended cleanly settled its orders, unless some stayed unknown.)
  // Every earlier run that died without ending and was never searched counts, not just the last
  // one: a run killed while it waited here searched nothing.
  const std::vector<UnresolvedIntent> unresolved = journal_->unresolved_intents(mode_name());
  const std::vector<std::uint64_t> unsearched =
      live_ ? journal_->unsearched_runs(run_id_, "live") : std::vector<std::uint64_t>{};
  if (const std::uint64_t previous = live_ ? journal_->last_run_id(run_id_, "live") : 0;
      previous != 0 && (!unsearched.empty() || !unresolved.empty())) {
    std::int64_t grace = 0;
    for (const Venue v : venues_) {
      grace = std::max(grace, rest_[index(v)]->not_found_grace_ns());
    }
    std::int64_t last = journal_->last_activity_ns(previous);
    for (const std::uint64_t run : unsearched) {
      last = std::max(last, journal_->last_activity_ns(run));
    }
    const std::int64_t wait = last + grace - clock::wall_ns();
    if (last > 0 && wait > 0) {
      out_ << "restore: the previous run was active " << (clock::wall_ns() - last) / 1'000'000
           << " ms ago: waiting " << wait / 1'000'000
           << " ms before reading its orders (a venue may still accept one)\n";
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
  }
  const signal::Now now{clock::mono_ns(), clock::wall_ns()};
  std::vector<std::uint64_t> unreconciled;
  for (const UnresolvedIntent& u : unresolved) {
    const InstrumentId instrument = symbols_.find_base(u.symbol);
    bool resolved = live_ && instrument != kNoInstrument;
    std::vector<JournalFill> found;
    for (const Venue v : venues_) {
      if (!resolved || !u.qty[index(v)].is_positive()) continue;
      VenueOrders orders;
      orders.first_side = u.sides[index(v)];
      resolved = read_orders(u.run_id, u.intent_id, v, instrument, orders);
      for (JournalFill& f :
           orders.fills(u.run_id, u.intent_id, u.position_id, v, u.symbol, now.wall_ns)) {
        found.push_back(std::move(f));
      }
    }
    if (resolved) {
      // Every order of the intent was read: the venues' word replaces what the journal had.
      journal_->resolve_intent(u.run_id, u.intent_id, found);
      for (const JournalFill& f : found) {
        out_ << "reconcile: intent " << u.intent_id << " of run " << u.run_id << ": "
             << to_string(f.venue) << ' ' << to_string(f.side) << ' ' << to_string(f.qty) << ' '
             << u.symbol << " at " << to_string(f.price) << " found on the venue\n";
      }
    }
    if (!resolved) unreconciled.push_back(u.position_id);
  }
  journal_->commit();
  for (const std::uint64_t run : unsearched) probe_unjournaled(run, now.wall_ns);

  for (JournalPosition& jp : journal_->open_positions(symbols_, mode_name())) {
    signal::Position& p = jp.position;
    const bool unknown =
        std::find(unreconciled.begin(), unreconciled.end(), p.id) != unreconciled.end();
    if (p.instrument == kNoInstrument) {
      err_ << "restore: position " << p.id << " trades " << jp.symbol
           << ", which the config no longer lists: left in the journal, entries blocked\n";
      strategy_->risk().set_reducing(true);
      continue;
    }
    if (strategy_->pair_index(p.pair) == strategy_->pairs().size()) {
      err_ << "restore: position " << p.id << " trades " << to_string(p.pair.first) << " against "
           << to_string(p.pair.second)
           << ", a pair this engine does not trade: left in the journal, entries blocked\n";
      strategy_->risk().set_reducing(true);
      continue;
    }
    if (p.flat() && !unknown) {
      // Nothing is held: it never traded (or was unwound); close it in the journal.
      PositionChange c;
      c.position_id = p.id;
      c.instrument = p.instrument;
      c.pair = p.pair;
      c.direction = p.direction;
      c.from = p.state;
      c.to = PositionState::closed;
      c.fx_rate = p.entry_fx;
      journal_->record(OpsEvent{now.wall_ns, c});
      continue;
    }
    if (unknown) {
      // Held as it is, neither leg closed on its own, until a venue settles the order.
      p.state = PositionState::broken;
      p.unknown_orders = 1;
      journal_->mark_broken(p.id, now.wall_ns,
                            live_ ? "an order's outcome could not be read back from the venue"
                                  : "an intent's outcome was lost with the paper venue");
    }
    const signal::Position* held = strategy_->restore(p, jp.opened_wall_ns, now);
    if (held == nullptr) {
      error = "restore: position " + std::to_string(p.id) + " cannot be held";
      return false;
    }
    if (held->state == PositionState::broken && !unknown) {
      journal_->mark_broken(p.id, now.wall_ns, "legs not hedged after restart");
    }
    ++restored_;
    out_ << "restore: position " << p.id << ' ' << jp.symbol << ' ' << to_string(p.direction)
         << " qty " << to_string(p.qty()) << ' '
         << to_string(held->state) << '\n';
  }
  journal_->commit();
  if (restored_ == 0) out_ << "restore: no open positions in the journal\n";

  // Live: each venue's balances (bases, quote, BNB) must be what the previous run started with
  // plus its journaled fills. A difference is a fill the journal never saw (the process died
  // between sending an order and journaling its intent): entries stay blocked until an operator
  // looks. (What the quote ledger's rounding leaves is not a difference: the held balance becomes
  // the next baseline.)
  if (live_) {
    const std::uint64_t previous = journal_->last_run_id(run_id_, "live");
    for (const Venue v : venues_) {
      for (const std::string& asset : ledger_assets(symbols_, v)) {
        const InstrumentId id = symbols_.find_base(asset);
        const Decimal now_held = id != kNoInstrument ? rest_[index(v)]->free_base(id)
                                                     : rest_[index(v)]->read_free(asset);
        BalanceReport b;
        b.held = now_held;
        Decimal& expected = b.expected;
        Decimal baseline = now_held;
        if (previous != 0 &&
            journal_->expected_balance(previous, v, asset, expected, &b.tolerance) &&
            b.differs()) {
          if (opt_.accept_balances) {
            journal_->record_acceptance(run_id_, v, asset, expected, now_held, clock::wall_ns());
            out_ << "reconcile: " << to_string(v) << ' ' << asset << " holds "
                 << to_string(now_held) << ", the journal expected " << to_string(expected)
                 << ": accepted (--accept-balances), journaled\n";
          } else {
            err_ << "reconcile: " << to_string(v) << ' ' << asset << " holds "
                 << to_string(now_held) << ", the journal explains " << to_string(expected)
                 << ": entries blocked (REDUCING) at this start and every later one until "
                    "accepted with --accept-balances\n";
            strategy_->risk().set_reducing(true);
            // The baseline stays what the journal explains, so the next start sees the same
            // difference (before, the held balance became the baseline and it was forgotten).
            baseline = expected;
          }
        }
        journal_->record_balance(run_id_, v, asset, baseline);
      }
    }
    journal_->commit();
  }

  // The strategy's inventory starts from what the venues hold.
  for (const Venue v : venues_) {
    exec::VenueClient* c = live_ ? static_cast<exec::VenueClient*>(rest_[index(v)].get())
                                 : static_cast<exec::VenueClient*>(paper_[index(v)].get());
    for (const Instrument& s : symbols_) {
      if (!s.is_fx) strategy_->inventory().set_base(v, s.id, c->free_base(s.id));
    }
    strategy_->inventory().set_quote(v, c->free_quote());
  }

  std::array<SpscRing<BookSnapshot>*, 1> rings = {&books_};
  signal_ = std::make_unique<signal::SignalStage>(*strategy_, rings, reports_, intents_, &ops_,
                                                  &signal_producer_);
  signal_->set_latencies(&latencies_);
  exec_ = std::make_unique<exec::ExecStage>(*executor_, intents_, reports_, &ops_, &exec_producer_);
  exec_->set_latencies(&latencies_);
  feed_ = std::make_unique<feed::FeedStage>(feed_options(cfg_), symbols_, books_);
  return true;
}

// Every order the executor may have sent for an intent on one venue: the first, retries, unwinds;
// client ids numbered 0, 1, ... Sums what filled on the first order's side ([0]) and the other
// ([1]). Every attempt is asked for: one that never reached the venue (its request lost) does
// not mean the next one was not sent. An order of another symbol under the same id (Upbit finds
// orders by identifier alone) is not this symbol's. False when the venue could not answer.
bool Engine::read_orders(std::uint64_t run_id, std::uint64_t intent_id, Venue v, InstrumentId i,
                         VenueOrders& out, int attempts) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const ClientOrderId id = exec::TwoLegExecutor::client_id(run_id, intent_id, v, attempt);
    exec::OrderStatus st;
    std::string why;
    bool answered = false;
    // Start-up is not in a hurry: a venue that says "too many requests" is waited for (its
    // Retry-After, or its window) and asked again, up to half a minute.
    for (int wait = 0; wait < 60; ++wait) {
      answered = rest_[index(v)]->get_blocking(i, id, st, why);
      if (answered || st.error.kind != VenueErrorKind::rate_limited) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (!answered) {
      if (st.error.kind == VenueErrorKind::unknown_order ||
          st.error.kind == VenueErrorKind::mismatch) {
        continue;  // not sent, or not this symbol's
      }
      err_ << "reconcile: " << to_string(v) << " order " << id.view() << ": " << why << '\n';
      return false;
    }
    out.any = true;
    if (!out.first_side && st.side) out.first_side = st.side;
    const std::size_t k = st.side && out.first_side && *st.side != *out.first_side ? 1 : 0;
    out.qty[k] += st.filled_qty.mantissa();
    out.notional[k] += st.filled_notional_e16;
    // Overflow: a fee past 92 billion is not one.
    (void)add(out.fee[k], st.fee_quote, out.fee[k]);
    (void)add(out.fee_base[k], st.fee_base, out.fee_base[k]);
    (void)add(out.fee_bnb[k], st.fee_other, out.fee_bnb[k]);
  }
  return true;
}

// The window a journal cannot close without blocking the hot path: an intent sent to the venues
// just before the process died, whose journal entry never committed. Intent ids are sequential,
// so the orders of the ids after the last journaled one are looked up on the venues; what they
// filled becomes a BROKEN position (entries blocked) that the strategy then closes. `run` is
// marked searched once every venue answered, so a later start searches it again otherwise.
void Engine::probe_unjournaled(std::uint64_t run, std::int64_t wall_ns) {
  bool answered = true;
  // An intent id without orders does not end the search: exec may have refused that intent (or
  // the strategy's next one) and sent a later one before the process died. The search ends after
  // kGap ids in a row without orders.
  constexpr int kGap = 3;
  int empty = 0;
  for (std::uint64_t intent = journal_->max_intent_id(run) + 1; empty < kGap; ++intent) {
    bool found = false;
    for (const Instrument& s : symbols_) {
      if (s.is_fx) continue;
      // An intent's first orders first: a later attempt follows one that was answered (or
      // given up on after the venue's grace period), seconds during which a live process would
      // have journaled the intent.
      std::array<VenueOrders, kMaxVenues> first{};
      for (const Venue v : venues_) {
        if (!read_orders(run, intent, v, s.id, first[index(v)], 1)) {
          strategy_->risk().set_reducing(true);
          answered = false;
        }
      }
      if (std::none_of(first.begin(), first.end(), [](const VenueOrders& o) { return o.any; })) {
        continue;
      }
      std::array<VenueOrders, kMaxVenues> orders{};
      for (const Venue v : venues_) {
        if (!read_orders(run, intent, v, s.id, orders[index(v)])) {
          strategy_->risk().set_reducing(true);
          answered = false;
        }
      }
      found = true;
      const std::uint64_t position = journal_->max_position_id() + 1;
      // The intent's pair: the traded pair whose venues both have its orders, else one that
      // has them on a venue. Selling on its first venue or buying on its second opens the
      // kimchi direction.
      VenuePair pair;
      for (const bool both : {true, false}) {
        for (const signal::PairParams& pp : strategy_->pairs()) {
          const bool a = orders[index(pp.pair.first)].any, b = orders[index(pp.pair.second)].any;
          if (!pair.valid() && (both ? a && b : a || b)) pair = pp.pair;
        }
      }
      if (!pair.valid()) pair = strategy_->pairs()[0].pair;  // every venue is in a pair
      const std::optional<Side>& opening = orders[index(pair.first)].first_side;
      const bool kimchi =
          opening ? *opening == Side::sell
                  : orders[index(pair.second)].first_side.value_or(Side::buy) == Side::buy;
      const std::string symbol(s.base.view());
      journal_->record_recovered_position(position, run, symbol, pair,
                                          kimchi ? Direction::kimchi : Direction::reverse, wall_ns,
                                          "orders of intent " + std::to_string(intent) +
                                              " were never journaled; recovered from the venues");
      for (const Venue v : venues_) {
        for (const JournalFill& f :
             orders[index(v)].fills(run, intent, position, v, symbol, wall_ns)) {
          journal_->record_fill(f);
          err_ << "reconcile: intent " << intent << " of run " << run
               << " was never journaled: " << to_string(v) << ' ' << to_string(f.side) << ' '
               << to_string(f.qty) << ' ' << symbol << " at " << to_string(f.price)
               << " found on the venue; position " << position << " BROKEN\n";
        }
      }
      journal_->commit();
    }
    empty = found ? 0 : empty + 1;
  }
  if (answered) {
    journal_->mark_searched(run, wall_ns);
    journal_->commit();
  }
}

bool Engine::ready(std::string& missing) const {
  const std::int64_t now = clock::mono_ns();
  for (const Instrument& s : symbols_) {
    if (s.is_fx) continue;  // the FX book feeds the rate, checked below
    // The books the strategy trades on: its pairs' (a symbol a venue of a pair does not list
    // is not traded on that pair).
    for (const signal::PairParams& pp : strategy_->pairs()) {
      const VenuePair pair = pp.pair;
      if (!s.listed_on(pair.first) || !s.listed_on(pair.second)) continue;
      for (const Venue v : {pair.first, pair.second}) {
        if (!strategy_->have_book(s.id, v) || !strategy_->book(s.id, v).tradable()) {
          missing = std::string(to_string(v)) + " " + std::string(s.symbol(v)) + " book";
          return false;
        }
      }
    }
  }
  const auto q = strategy_->fx().quote(now);
  if (strategy_->needs_fx() && q.refusal != RefusalReason::none) {
    missing = "FX rate (" + std::string(to_string(q.refusal)) + ")";
    return false;
  }
  return true;
}

// Start-up on the main thread: the feeds connect and the books synchronise while every stage is
// polled in turn (the same poll steps the hot threads run later), entries still switched off.
bool Engine::warm_up(std::string& error) {
  feed_->start();
  const std::int64_t t0 = clock::mono_ns();
  const std::int64_t deadline =
      t0 + std::chrono::duration_cast<std::chrono::nanoseconds>(opt_.startup_timeout).count();
  std::string missing = "books";
  while (clock::mono_ns() < deadline) {
    if (stop_.load() || detail::stop_signalled()) {
      error = "stopped during start-up";
      return false;
    }
    feed_->run_for(std::chrono::milliseconds(2));
    signal_->poll(1024);
    exec_->poll(clock::mono_ns());
    if (ready(missing)) {
      out_ << "start-up: books synchronised and FX " << strategy_->fx().last() << " KRW/USDT after "
           << (clock::mono_ns() - t0) / 1'000'000 << " ms\n";
      strategy_->risk().set_kill_switch(cfg_.risk.kill_switch);
      if (cfg_.risk.kill_switch) out_ << "start-up: kill switch on (config): exits only\n";
      return true;
    }
  }
  error = "start-up: no usable " + missing + " within " +
          std::to_string(opt_.startup_timeout.count()) + " ms";
  for (const Venue v : venues_) {
    const auto& s = feed_->stats(v);
    if (!s.last_error.empty()) error += "; " + std::string(to_string(v)) + ": " + s.last_error;
  }
  return false;
}

void Engine::start_threads() {
  // A member, not a local: a thread may still be inside arrive_and_wait() after the last
  // arrival released this one.
  go_ = std::make_unique<std::latch>(static_cast<std::ptrdiff_t>(layout_.size()) + 1);
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    threads_.emplace_back([this, k] { host_loop(k, *go_); });
  }
  go_->arrive_and_wait();
  trading_.store(true);
  std::lock_guard lock(out_mu_);
  out_ << "trading: ";
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    out_ << (k == 0 ? "" : ", ") << layout_[k].name << " [" << stages_text(layout_[k]) << "] cpu "
         << (layout_[k].cpu < 0 ? std::string("any") : std::to_string(layout_[k].cpu)) << ' '
         << to_string(waits_[k]);
  }
  out_ << '\n';
}

// One hot thread: its stages polled round robin, the wait strategy when a round finds nothing.
void Engine::host_loop(std::size_t k, std::latch& go) {
  const ThreadConfig& t = layout_[k];
  tuning::name_current_thread(t.name);
  if (t.cpu >= 0) {
    std::string why;
    if (!tuning::pin_current_thread(t.cpu, why)) {
      std::lock_guard lock(out_mu_);
      (live_ ? err_ : out_) << (live_ ? "error: " : "warning: ") << t.name << ": " << why << '\n';
      if (live_) phase_.store(2);
    }
  }
  const bool has_feed = hosts(t, HotStage::feed);
  const bool has_signal = hosts(t, HotStage::signal);
  const bool has_exec = hosts(t, HotStage::exec);
  const WaitStrategy wait = waits_[k];
  Doorbell& bell = bells_[k];
  // Threads whose input another thread produces are woken by its doorbell; sockets are polled
  // at least this often when parked.
  const bool cross_thread_input = (has_signal && (feed_host_ != k || exec_host_ != k)) ||
                                  (has_exec && signal_host_ != k);
  bool entries_stopped = false;
  bool journal_unsafe = false;
  bool balance_unexplained = false;
  std::int64_t next_publish = 0;
  std::int64_t idle_since = 0;
  go.arrive_and_wait();

  while (phase_.load(std::memory_order_relaxed) < 2) {
    const std::uint32_t epoch = bell.epoch();
    std::size_t work = 0;
    if (has_feed) {
      const std::size_t n = feed_->poll();
      work += n;
      if (n != 0 && signal_host_ != k) bells_[signal_host_].ring();
    }
    if (has_signal) {
      // The journal cannot silently lose what reached a venue: a dropped ops event or a failed
      // write stops entries.
      if (!journal_unsafe &&
          (ops_.dropped() != 0 || journal_errors_.load(std::memory_order_relaxed) != 0)) {
        journal_unsafe = true;
        strategy_->risk().set_reducing(true);
      }
      // A venue holds what the ledger cannot explain: entries stop.
      if (!balance_unexplained && reconciler_ && reconciler_->unexplained()) {
        balance_unexplained = true;
        strategy_->risk().set_reducing(true);
      }
      if (!entries_stopped && phase_.load(std::memory_order_relaxed) >= 1) {
        entries_stopped = true;
        strategy_->risk().set_kill_switch(true);
        if (opt_.flatten_on_exit) strategy_->close_all(ExitReason::flatten);
      }
      const std::size_t n = signal_->poll();
      work += n;
      if (n != 0 && exec_host_ != k) bells_[exec_host_].ring();
    }
    if (has_exec) {
      const std::size_t n = exec_->poll(clock::mono_ns());
      work += n;
      if (n != 0 && signal_host_ != k) bells_[signal_host_].ring();
    }
    const std::int64_t now = clock::mono_ns();
    if (now >= next_publish) {
      next_publish = now + kPublishEveryNs;
      publish_telemetry(has_feed, has_signal, has_exec);
      put(telemetry_.thread_cpu_ns[k], static_cast<std::uint64_t>(tuning::current_thread_cpu_ns()));
    }
    if (work != 0) {
      idle_since = 0;
      continue;
    }
    if (wait == WaitStrategy::spin) {
      cpu_relax();
      continue;
    }
    if (wait == WaitStrategy::spin_then_park) {
      if (idle_since == 0) idle_since = now;
      if (now - idle_since < 50'000) {
        cpu_relax();
        continue;
      }
    }
    // Park: on the feed's sockets when this thread owns them, else on the doorbell. Orders in
    // flight shorten the nap: their answers arrive on exec's sockets, which nothing rings for.
    const bool orders_out = has_exec && executor_->active() != 0;
    const std::int64_t nap = (orders_out || cross_thread_input) ? 100'000 : 1'000'000;
    if (has_feed) {
      feed_->wait(std::chrono::nanoseconds(cross_thread_input ? std::min<std::int64_t>(nap, 50'000) : nap));
    } else {
      bell.wait(epoch, nap);
    }
  }
  publish_telemetry(has_feed, has_signal, has_exec);
  put(telemetry_.thread_cpu_ns[k], static_cast<std::uint64_t>(tuning::current_thread_cpu_ns()));
}

// Copies the named stages' counters into the telemetry. Called by the thread hosting them.
void Engine::publish_telemetry(bool with_feed, bool with_signal, bool with_exec) noexcept {
  if (with_feed) publish_feed(*feed_, venues_, telemetry_);
  if (with_signal) publish_signal(*strategy_, *signal_, telemetry_);
  if (with_exec) publish_exec(*executor_, *exec_, telemetry_);
}

void Engine::handle(const OpsEvent& e) {
  journal_->record(e);
  if (const auto* r = std::get_if<ExecReport>(&e.body)) {
    for (const LegReport& leg : r->legs) {
      if (leg.status == LegStatus::not_sent) continue;
      ++tally_.orders[index(leg.venue)];
      if (leg.error.present()) ++tally_.order_errors[index(leg.venue)];
    }
  } else if (const auto* log = std::get_if<LogRecord>(&e.body)) {
    std::lock_guard lock(out_mu_);
    out_ << log->text.view() << '\n';
  }
}

void Engine::drain_ops() {
  std::array<OpsEvent, 64> batch;
  for (;;) {
    const std::size_t n = ops_.try_pop_bulk(batch.data(), batch.size());
    for (std::size_t i = 0; i < n; ++i) handle(batch[i]);
    if (n < batch.size()) break;
  }
  journal_->commit();
  journal_events_.store(journal_->events());
  const std::uint64_t errors = journal_->write_errors();
  if (errors != journal_errors_.load() || ops_.dropped() != ops_dropped_reported_) {
    // What reached a venue may now be missing from the journal: entries stop (the hot thread
    // that hosts signal sees journal_errors_ / ops_.dropped() and switches to REDUCING).
    std::lock_guard lock(out_mu_);
    err_ << "error: the journal lost events (" << errors << " write errors, last: "
         << journal_->last_error() << "; " << ops_.dropped()
         << " ops events dropped): entries stopped (REDUCING)\n";
    ops_dropped_reported_ = ops_.dropped();
  }
  journal_errors_.store(errors);
}

// The ops thread: journal, status lines, /metrics. Never on a hot core.
void Engine::ops_loop() {
  tuning::name_current_thread("ops");
  if (cfg_.threads.ops_cpu >= 0) {
    std::string why;
    if (!tuning::pin_current_thread(cfg_.threads.ops_cpu, why)) {
      std::lock_guard lock(out_mu_);
      out_ << "warning: ops: " << why << '\n';
    }
  }
  std::int64_t next_status = clock::mono_ns() + opt_.status_every.count() * 1'000'000;
  std::int64_t next_metrics = 0;
  while (!ops_stop_.load()) {
    drain_ops();
    const std::int64_t now = clock::mono_ns();
    if (trading_.load() && now >= next_status) {
      next_status = now + opt_.status_every.count() * 1'000'000;
      const RunReport r = build_report();
      std::lock_guard lock(out_mu_);
      print_status_line(out_, r);
    }
    if (metrics_ && now >= next_metrics) {
      next_metrics = now + 1'000'000'000;
      metrics_->publish(prometheus_text(build_report()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  drain_ops();
  ops_cpu_ns_ = tuning::current_thread_cpu_ns();
}

void Engine::wind_down() {
  std::unique_lock lock(out_mu_);
  out_ << "stopping: no new entries" << (opt_.flatten_on_exit ? ", closing open positions" : "")
       << ", draining the queues\n";
  lock.unlock();
  phase_.store(1);
  const std::int64_t deadline =
      clock::mono_ns() +
      std::chrono::duration_cast<std::chrono::nanoseconds>(opt_.drain_timeout).count();
  int quiet = 0;
  while (clock::mono_ns() < deadline && quiet < 5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The counters lag by up to 100 ms; five quiet looks in a row settle it.
    const bool idle = get(telemetry_.exec_active) == 0 && intents_.size_approx() == 0 &&
                      reports_.size_approx() == 0 &&
                      (!opt_.flatten_on_exit || get(telemetry_.open_positions) == 0);
    quiet = idle ? quiet + 1 : 0;
  }
  if (quiet < 5) {
    std::lock_guard relock(out_mu_);
    err_ << "stopping: still busy after " << opt_.drain_timeout.count()
         << " ms (orders in flight or positions open); the journal keeps them for the next run\n";
  }
  phase_.store(2);
  threads_.clear();  // joins
  ended_mono_.store(clock::mono_ns());
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
    LatencyReport l{std::string(name), h->count(), h->percentile(0.5), h->percentile(0.99),
                    h->percentile(0.999), h->max(), h->sum(), {}};
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

void Engine::finish(RunResult& result) {
  ops_stop_.store(true);
  if (ops_thread_.joinable()) ops_thread_.join();
  if (feed_) feed_->stop();
  if (reconciler_) {
    // Everything is journaled: a last reconciliation for the report.
    reconciler_->stop();
    (void)reconciler_->round(true);
  }
  // Every thread has stopped: the stages' own counters are final and read directly.
  publish_telemetry(feed_ != nullptr, signal_ != nullptr, exec_ != nullptr);
  result.report = build_report();
  if (strategy_) {
    for (const Instrument& s : symbols_) {
      if (s.is_fx) continue;
      for (const Venue v : venues_) {
        result.inventory.push_back(
            {v, std::string(s.base.view()), strategy_->inventory().base(v, s.id)});
      }
    }
  }
  const std::string json = report_json(result.report);
  std::error_code ec;
  std::filesystem::create_directories(opt_.report_dir, ec);
  std::ofstream(opt_.report_dir / "report.json") << json;
  {
    std::ofstream txt(opt_.report_dir / "report.txt");
    print_report(txt, result.report);
  }
  journal_->end_run(clock::wall_ns(), json);
  print_report(out_, result.report);
  out_ << "report: " << (opt_.report_dir / "report.json").string() << ", journal "
       << cfg_.journal.path << '\n';
  if (result.report.journal_errors != 0) {
    err_ << "journal: " << result.report.journal_errors << " write errors, last: "
         << journal_->last_error() << '\n';
  }
}

}  // namespace

RunResult run_engine(const Config& config, const RunOptions& options,
                     const std::atomic<bool>& stop, std::ostream& out, std::ostream& err) {
  try {
    Engine engine(config, options, stop, out, err);
    RunResult r = engine.run();
    if (!r.error.empty() && r.report.run_id == 0) err << r.error << '\n';
    return r;
  } catch (const std::exception& e) {
    RunResult r;
    r.exit_code = 1;
    r.error = e.what();
    err << r.error << '\n';
    return r;
  }
}

int run_command(const std::string& config_path, RunOptions options, std::ostream& out,
                std::ostream& err) {
  const LoadResult loaded = load_config(config_path);
  if (!loaded.ok()) {
    for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
    return 2;
  }
  options.config_text = dump_config(loaded.config);
  // Every line out at once, also into a file or a pipe: an operator tails them while it runs.
  out.setf(std::ios::unitbuf);
  err.setf(std::ios::unitbuf);
  detail::install_stop_signals();
  const std::atomic<bool> never{false};
  const RunResult r = run_engine(loaded.config, options, never, out, err);
  detail::remove_stop_signals();
  return r.exit_code;
}

int journal_command(const std::string& config_path, const std::string& journal_path,
                    const std::string& action, bool all, std::size_t limit, std::ostream& out,
                    std::ostream& err) {
  std::string path = journal_path;
  if (path.empty()) {
    const LoadResult loaded = load_config(config_path);
    if (!loaded.ok()) {
      for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
      return 2;
    }
    path = loaded.config.journal.path;
  }
  if (!std::filesystem::exists(path)) {
    err << "no journal at " << path << '\n';
    return 1;
  }
  try {
    Journal j(path);
    if (action == "summary") {
      j.print_summary(out);
    } else if (action == "trades") {
      j.print_trades(out, limit);
    } else if (action == "positions") {
      j.print_positions(out, all);
    } else if (action == "balances") {
      j.print_balances(out);
    } else {
      err << "journal: unknown action " << action << '\n';
      return 2;
    }
  } catch (const std::exception& e) {
    err << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace xarb::app
