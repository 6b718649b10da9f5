#pragma once

// The engine's parts, shared by the files that hold its jobs: engine.cpp (the run, its threads,
// the ops loop, wind-down), engine_startup.cpp (venue start-up, restore and the search of earlier
// runs' orders), engine_report.cpp (telemetry and the run report). Internal to app/engine.

#include <algorithm>
#include <bit>
#include <deque>
#include <fstream>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include <xarb/app/alerts.hpp>
#include <xarb/app/control.hpp>
#include <xarb/app/engine.hpp>
#include <xarb/app/event_log.hpp>
#include <xarb/app/inventory.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/app/metrics.hpp>
#include <xarb/app/ops_watch.hpp>
#include <xarb/app/reconciler.hpp>
#include <xarb/app/recorder.hpp>
#include <xarb/app/report_output.hpp>
#include <xarb/app/stage_options.hpp>
#include <xarb/app/stop_signals.hpp>
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

namespace xarb::app::engine_detail {

inline constexpr std::size_t kMaxThreads = 8;
inline constexpr std::size_t kRefusals = static_cast<std::size_t>(RefusalReason::count);
inline constexpr std::int64_t kPublishEveryNs = 100'000'000;
inline constexpr std::chrono::milliseconds kAlertsDrain{
    5'000};                                           // the end waits this long for alerts
inline constexpr std::size_t kOpsPerProducer = 4096;  // the ops thread drains every 5 ms

// The run report's parts that a backtest fills as a run does: what the strategy did (intents,
// refusals, outcomes, positions and PnL by symbol and pair), and the inventory (each venue's
// quote asset and bases, each direction's headroom, the rebalance plan).
struct ReportScope {
  const Config& config;
  const std::vector<Venue>& venues;
  const SymbolMap& symbols;
  const std::vector<VenuePair>& pairs;
};
void report_strategy(RunReport& r, const signal::SignalTelemetry& s, const ReportScope& scope,
                     std::uint64_t restored);
void report_inventory(RunReport& r, const signal::SignalTelemetry& s, const ReportScope& scope);
// Paper balances: [inventory.paper_balance], else ten times each symbol's position limit, and
// quote to match (1,000,000,000 KRW or 1,000,000 USDT).
void set_paper_balances(const Config& config, Venue v, const SymbolMap& symbols,
                        exec::PaperVenue& venue);

// What the ops thread learns from the events it journals.
struct OpsTally {
  std::array<std::uint64_t, kMaxVenues> orders{};
  std::array<std::uint64_t, kMaxVenues> order_errors{};
};

inline std::string stages_text(const ThreadConfig& t) {
  std::string s;
  for (const HotStage h : t.stages) {
    if (!s.empty()) s += '+';
    s += to_string(h);
  }
  return s;
}

inline bool hosts(const ThreadConfig& t, HotStage h) {
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

// An operator's command, from the ops thread to the hot thread that hosts signal, which applies
// it to the strategy (as it applies the journal's and the reconciler's REDUCING).
enum class ControlKind : std::uint8_t {
  pause,
  resume,
  flatten,
  clear_reducing,
  set_params,
  transfer
};
struct ControlCommand {
  std::uint64_t seq = 0;
  ControlKind kind = ControlKind::pause;
  InstrumentId instrument = kNoInstrument;  // flatten: this symbol only; transfer: the base asset
                                            // moved (none: the quote asset)
  Venue venue = kNoVenue;                   // transfer: where it moved in or out
  Decimal qty;                              // transfer: + in, - out
  signal::StrategyParams params{};          // set_params: the thresholds and limits to take
};

// A command line from the control socket, answered by the ops thread.
struct ControlRequest {
  std::string line;
  std::promise<std::string> answer;
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
  // run()'s steps before the venues: the threads' layout, the journal; after: the reconciler.
  bool plan_threads(std::string& error);
  bool open_journal(int& exit_code, std::string& error);
  void start_reconciler();
  bool start_venues(std::string& error);
  // Restore, in its phases: the strategy from the journal, late orders waited out, unresolved
  // intents read back from the venues, open positions held again, balances checked against the
  // ledger (live), inventory seeded from the venues, stages built.
  bool restore(std::string& error);
  void wait_out_late_orders(const std::vector<UnresolvedIntent>& unresolved,
                            const std::vector<std::uint64_t>& unsearched);
  std::vector<std::uint64_t> resolve_intents(const std::vector<UnresolvedIntent>& unresolved,
                                             const std::vector<std::uint64_t>& unsearched,
                                             const signal::Now& now);
  bool restore_positions(const std::vector<std::uint64_t>& unreconciled, const signal::Now& now,
                         std::string& error);
  void check_balances();
  void seed_inventory();
  void build_stages();
  void probe_unjournaled(std::uint64_t run, std::int64_t wall_ns);
  // Start-up found a cause that holds for the whole run: REDUCING, and `why` (what lifts it)
  // kept for clear-reducing's answer.
  void reduce_at_start(std::string why);
  // What still holds REDUCING (the ops thread): empty when clear-reducing may lift it.
  [[nodiscard]] std::vector<std::string> reducing_causes() const;
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
  // The ops thread's watch: a report snapshot in, the notices it finds out (the structured log).
  void watch(const RunReport& r, std::int64_t mono_ns);
  void tell(std::vector<Notice>& notices);
  void open_event_log();
  void collect_alerts();  // the alerts' outcomes into the journal and the log (ops thread)
  // Live control: the socket (start-up), the ops thread's side, the signal host's side.
  void open_control();
  void serve_control();
  [[nodiscard]] std::string control(const std::string& line);
  [[nodiscard]] bool send_control(ControlCommand& c, std::string& error);
  [[nodiscard]] std::string control_state(bool with_inventory = false) const;
  // The commands that need more than a line of control(): each returns its effect, or empty
  // with `error`.
  [[nodiscard]] std::string flatten_command(const std::vector<std::string>& words,
                                            std::string& error);
  [[nodiscard]] std::string clear_reducing(std::string& error);
  [[nodiscard]] std::string set_live(const std::vector<std::string>& words, std::string& error);
  // A command that asked for a change, and what it did (the effect or the refusal).
  void tell_control(const std::string& line, const std::string& command, bool ok,
                    const std::string& what);
  // `transfer VENUE ASSET AMOUNT`: records an operator's deposit or withdrawal; the effect, or
  // empty with `error`.
  [[nodiscard]] std::string transfer(const std::vector<std::string>& words, std::string& error);
  void apply_control(bool& journal_unsafe, bool& balance_unexplained);
  [[nodiscard]] bool flatten_at_end() const noexcept {
    return opt_.flatten_on_exit || flatten_on_stop_.load();
  }
  [[nodiscard]] RunReport build_report() const;
  // build_report's parts.
  void add_venues(RunReport& r, const feed::FeedTelemetry& f, const exec::ExecTelemetry& x,
                  bool has_exec) const;
  void add_strategy(RunReport& r, const signal::SignalTelemetry& s) const;
  void add_engine(RunReport& r, const feed::FeedTelemetry& f,
                  const signal::StrategyStats& st) const;
  void add_inventory(RunReport& r, const signal::SignalTelemetry& s) const;
  void finish(RunResult& result);
  [[nodiscard]] bool ready(std::string& missing) const;

  const Config& cfg_;
  const std::vector<Venue> venues_;     // the venues this run trades
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
  // --record: the feed's tap (feed thread) and the file the ops thread writes it to.
  std::unique_ptr<RecordingTap> tap_;
  std::unique_ptr<RecordingWriter> recording_;
  std::atomic<std::int64_t> stop_wall_ns_{0};  // when wind-down stopped entries (wall clock)
  bool stop_recorded_ = false;                 // the ops thread wrote it to the recording
  PipelineLatencies latencies_;
  // Each hot thread's CPU time, published by it every 100 ms (the stages publish their own).
  std::array<std::atomic<std::uint64_t>, kMaxThreads> thread_cpu_ns_{};
  std::uint64_t restored_ = 0;
  // Written by start-up on the main thread before the ops thread starts; read-only after.
  std::vector<std::string> startup_causes_;       // hold REDUCING until a restart
  std::vector<std::string> startup_differences_;  // balances not accepted: until explained

  // Layout: one entry per hot thread, then the ops thread.
  std::vector<ThreadConfig> layout_;
  std::vector<WaitStrategy> waits_;
  std::array<Doorbell, kMaxThreads> bells_;
  std::size_t feed_host_ = 0, signal_host_ = 0, exec_host_ = 0;
  std::atomic<bool> trading_{false};  // the hot threads run (status lines from then on)
  std::atomic<int> phase_{0};         // 0 trading, 1 winding down (no entries), 2 stop
  std::atomic<bool> ops_stop_{false};
  std::unique_ptr<std::latch> go_;  // releases the hot threads together
  std::vector<std::jthread> threads_;
  std::jthread ops_thread_;
  std::int64_t ops_cpu_ns_ = 0;  // written by the ops thread before it exits
  OpsTally tally_;               // the ops thread's
  std::atomic<std::uint64_t> journal_events_{0}, journal_errors_{0};
  std::uint64_t ops_dropped_reported_ = 0;  // the ops thread's
  std::unique_ptr<Reconciler> reconciler_;  // live: venues' balances against the ledger
  std::unique_ptr<EventLog> events_;        // the structured log ([log]); the ops thread's
  std::unique_ptr<OpsWatch> watch_;         // the ops thread's
  std::vector<Notice> notices_;             // found and not yet told (the ops thread's)
  std::unique_ptr<Alerter> alerter_;        // [alerts] channels: a thread of its own
  std::unique_ptr<ControlServer> control_;  // [control] socket: a thread of its own
  std::mutex control_mu_;
  std::deque<ControlRequest*> control_inbox_;  // guarded by control_mu_
  SpscRing<ControlCommand> control_ring_{8};   // ops -> the thread hosting signal
  std::atomic<std::uint64_t> control_applied_{0};
  // The last command either taken by the thread hosting signal or abandoned by the ops thread
  // (whichever moves it to the command's seq first): a command given up on is never applied late.
  std::atomic<std::uint64_t> control_taken_{0};
  std::uint64_t control_seq_ = 0;            // the ops thread's
  std::atomic<bool> stop_requested_{false};  // `xarb ctl kill`
  std::atomic<bool> flatten_on_stop_{false};
  Config live_cfg_;  // the config as `set` changed it (the ops thread's)
};

}  // namespace xarb::app::engine_detail
