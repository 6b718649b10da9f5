#pragma once

// The journal: an SQLite database in WAL mode written by the ops thread (off the hot path) with
// every intent, order, fill, position transition and risk refusal of every run, timestamped. A
// restarted `xarb run` reads the positions that were not closed back from it; `xarb journal`
// prints it. Not thread-safe: one thread owns a Journal.
//
// Quantities and prices are stored as exact decimal text; PnL figures in KRW as REAL.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xarb/app/report.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/signal/position.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

// One alert delivery: a notice on one channel, sent or given up (with the channel's words).
struct JournalAlert {
  std::string channel;  // telegram | slack | webhook
  std::string kind;     // the notice's: reducing, broken, ...
  std::string severity;
  std::string key;
  std::string text;
  bool sent = false;
  int attempts = 0;
  std::string error;
  std::int64_t wall_ns = 0;  // the notice's
};

// An operator's command (`xarb ctl`) and what it did.
struct JournalControl {
  std::string command;  // "set strategy.entry_bps=35"
  bool ok = false;
  std::string effect;  // what changed, or why it was refused
  std::int64_t wall_ns = 0;
};

// An operator moved an asset in or out of a venue (`xarb ctl transfer`): a deposit (qty > 0) or
// a withdrawal (qty < 0) the ledger adds to what the venue should hold. The engine never moves
// funds itself; this records what an operator did.
struct JournalTransfer {
  std::uint64_t run_id = 0;
  Venue venue = kNoVenue;
  std::string asset;
  Decimal qty;
  std::int64_t wall_ns = 0;
};

// One fill row: everything a leg traded on one side for one intent.
struct JournalFill {
  std::uint64_t run_id = 0;
  std::uint64_t intent_id = 0;
  std::uint64_t position_id = 0;
  Venue venue = kNoVenue;
  Side side = Side::buy;
  std::string symbol;  // the base, "BTC"
  Decimal qty;
  Decimal price;
  Decimal fee;  // quote currency of the venue
  bool unwind = false;
  std::int64_t wall_ns = 0;
  Decimal fee_base;  // commission taken in the base asset (not held)
  Decimal fee_bnb;   // commission paid in BNB
};

// A position that was not closed when its run ended, rebuilt from its fills.
struct JournalPosition {
  signal::Position position;  // id, instrument, direction, state, legs, entry fx
  std::uint64_t run_id = 0;
  std::string symbol;
  std::int64_t opened_wall_ns = 0;
};

// An intent the journal has no report for: its orders may have executed.
struct UnresolvedIntent {
  std::uint64_t run_id = 0;
  std::uint64_t intent_id = 0;
  std::uint64_t position_id = 0;
  IntentKind kind = IntentKind::entry;
  std::string symbol;
  std::array<Side, kMaxVenues> sides{};
  std::array<Decimal, kMaxVenues> qty{};
};

struct JournalTotals {
  std::uint64_t runs = 0;
  std::uint64_t intents = 0;
  std::uint64_t orders = 0;
  std::uint64_t fills = 0;
  std::uint64_t refusals = 0;
  std::map<std::string, std::uint64_t> refusals_by_reason;  // "inventory_floor" -> 3
  std::uint64_t closed = 0;
  std::uint64_t wins = 0;
  std::uint64_t open = 0;
  std::uint64_t broken = 0;
  double realized_pnl_krw = 0.0;        // as the strategy reported each close
  double realized_from_fills_krw = 0.0;  // recomputed from the fills at each close's FX rate
};

// One pair's positions over every run: those closed after trading, their wins and PnL (as the
// strategy reported each close), and those still open.
struct JournalPairTotals {
  std::string pair;  // "upbit-binance"
  std::uint64_t closed = 0;
  std::uint64_t wins = 0;
  std::uint64_t open = 0;
  double realized_pnl_krw = 0.0;
};

// One run: its mode and when it started and ended (0: it did not end cleanly).
struct JournalRun {
  std::uint64_t run_id = 0;
  std::string mode;
  std::int64_t started_ns = 0;
  std::int64_t ended_ns = 0;
};

// One fill as `xarb journal trades` lists it: quantities, prices and fees as exact text.
struct JournalTrade {
  std::int64_t wall_ns = 0;
  std::uint64_t run_id = 0;
  std::uint64_t intent_id = 0;
  std::uint64_t position_id = 0;
  std::string venue, side, symbol, qty, price, fee;
  bool unwind = false;
  std::string client_order_id;
};

// One position as `xarb journal positions` lists it.
struct JournalPositionRow {
  std::uint64_t position_id = 0;
  std::uint64_t run_id = 0;
  std::string symbol, direction, state, exit_reason, qty, entry_fx, close_fx;
  double realized_pnl_krw = 0.0;
  std::string note;
};

// An entry a run decided, with the position it opened (`xarb backtest --compare-journal`).
struct JournalEntry {
  std::uint64_t intent_id = 0;
  std::uint64_t position_id = 0;
  std::string symbol, direction, first_venue, second_venue;
  std::int64_t wall_ns = 0;  // when it was decided
  std::string state, exit_reason;
  double realized_pnl_krw = 0.0;
  std::int64_t closed_ns = 0;  // 0: not closed
  std::string entry_fx;
};

// What a run started with on a venue, and what its fills explain now (unknown: none recorded).
struct JournalLedgerRow {
  std::string venue, asset, start;
  bool expected_known = false;
  Decimal expected;
};

// A balance difference: confirmed by a reconciliation, or accepted by an operator.
struct JournalDifference {
  std::int64_t wall_ns = 0;
  std::uint64_t run_id = 0;
  std::string venue, asset, expected, held;
};

// The assets a venue's ledger tracks: every traded base asset, and on Binance the BNB it may
// charge commissions in.
[[nodiscard]] std::vector<std::string> ledger_assets(const SymbolMap& symbols, Venue venue);

class Journal {
 public:
  // Opens or creates the database (WAL mode, schema created if missing). Throws
  // std::runtime_error with SQLite's message when the file cannot be opened or written.
  // `busy_timeout_ms`: how long a statement waits for another connection's lock.
  // Migrates an older journal to this build's schema (numbered migrations, PRAGMA user_version).
  explicit Journal(const std::filesystem::path& path, int busy_timeout_ms = 2'000);
  // Opens an existing journal read-only, for the commands that only read it: nothing is
  // created or migrated. Throws when the file is missing, or its schema is not this build's
  // (saying how to migrate it).
  struct ReadOnly {};
  static constexpr ReadOnly read_only{};
  Journal(const std::filesystem::path& path, ReadOnly, int busy_timeout_ms = 2'000);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // A run starts; `symbols` names instruments in every later row.
  void begin_run(std::uint64_t run_id, std::int64_t wall_ns, std::string_view mode,
                 std::string_view config_text, const SymbolMap& symbols);
  void end_run(std::int64_t wall_ns, std::string_view report_json);

  // Writes one event inside the current transaction (opened on demand). Never throws: a failed
  // write is counted in write_errors() and remembered in last_error().
  void record(const OpsEvent& event) noexcept;
  // Fills found by reconciliation (an order whose answer the killed run never journaled).
  void record_fill(const JournalFill& fill) noexcept;
  // What became of an alert on one channel: sent, or not and why.
  void record_alert(const JournalAlert& alert) noexcept;
  [[nodiscard]] std::vector<JournalAlert> alerts(std::uint64_t run_id);
  void record_control(const JournalControl& c) noexcept;
  [[nodiscard]] std::vector<JournalControl> controls(std::uint64_t run_id);
  // A transfer into the current transaction (throws when it cannot be written: the operator is
  // told, nothing else changes).
  void record_transfer(const JournalTransfer& t);
  // Of one run (0: every run), oldest first.
  [[nodiscard]] std::vector<JournalTransfer> transfers(std::uint64_t run_id = 0);
  // What a restart read back from the venues for an unresolved intent is their word on all of
  // its orders: `fills` replace the intent's fill rows (a report may have journaled part of
  // them); its unknown orders and its missing outcome become "recovered".
  void resolve_intent(std::uint64_t run_id, std::uint64_t intent_id,
                      const std::vector<JournalFill>& fills);
  // Commits the open transaction. The ops thread calls it after each batch.
  void commit() noexcept;

  [[nodiscard]] std::uint64_t write_errors() const noexcept { return write_errors_; }
  [[nodiscard]] const std::string& last_error() const noexcept { return last_error_; }
  [[nodiscard]] std::uint64_t events() const noexcept { return events_; }
  // Bytes SQLite holds in this process (page cache, statements, every connection). Any thread.
  [[nodiscard]] static std::int64_t memory_used() noexcept;

  // Reading (start-up and `xarb journal`). `mode` ("live" or "paper") restricts a query to the
  // runs of that mode: a paper run never sees a live run's positions or intents, nor the reverse.
  // Empty: every run.
  [[nodiscard]] std::vector<JournalPosition> open_positions(const SymbolMap& symbols,
                                                            std::string_view mode = {});
  // Intents without a journaled outcome, or with an order whose outcome stayed unknown.
  [[nodiscard]] std::vector<UnresolvedIntent> unresolved_intents(std::string_view mode = {});
  [[nodiscard]] std::uint64_t max_position_id();
  // The newest run before `before` (0: none), of `mode` when given.
  [[nodiscard]] std::uint64_t last_run_id(std::uint64_t before = UINT64_MAX,
                                          std::string_view mode = {});
  // The wall clock of the last thing a run journaled (0: nothing): about when it last sent an
  // order, if it died without ending.
  [[nodiscard]] std::int64_t last_activity_ns(std::uint64_t run_id);
  // The runs of `mode` before `before` that died without ending and whose unjournaled window (the
  // orders they may have sent without journaling them) no later run has searched yet, oldest
  // first. A run killed during its own start-up checks leaves its predecessors here too.
  [[nodiscard]] std::vector<std::uint64_t> unsearched_runs(std::uint64_t before,
                                                           std::string_view mode);
  // The current run searched `run_id`'s unjournaled window on every venue.
  void mark_searched(std::uint64_t run_id, std::int64_t wall_ns);
  // The run ended cleanly (its end and report were journaled).
  [[nodiscard]] bool ended(std::uint64_t run_id);
  // How many runs of `mode` the journal holds, the current one included once begun.
  [[nodiscard]] std::uint64_t runs_of_mode(std::string_view mode);
  // The highest intent id journaled for a run (0: none).
  [[nodiscard]] std::uint64_t max_intent_id(std::uint64_t run_id);
  // A BROKEN position for fills found on the venues that no journaled intent explains.
  void record_recovered_position(std::uint64_t position_id, std::uint64_t run_id,
                                 std::string_view symbol, VenuePair pair, Direction direction,
                                 std::int64_t wall_ns, std::string_view why);
  // A venue's base balance when a run started (live runs record them).
  void record_balance(std::uint64_t run_id, Venue venue, std::string_view asset, Decimal qty);
  // An operator accepted that `venue` holds `held` of `asset` where the journal expected
  // `expected` (xarb run --accept-balances); kept with when.
  void record_acceptance(std::uint64_t run_id, Venue venue, std::string_view asset,
                         Decimal expected, Decimal held, std::int64_t wall_ns);
  [[nodiscard]] std::uint64_t acceptances();
  // The dust ledger: what closed positions left at each venue, per venue and asset, of one run
  // (0: every run).
  [[nodiscard]] std::vector<DustReport> dust(std::uint64_t run_id = 0);
  // A difference the running reconciliation confirmed: `venue` held `held` of `asset` where the
  // ledger explained `expected`.
  void record_reconciliation(std::uint64_t run_id, Venue venue, std::string_view asset,
                             Decimal expected, Decimal held, std::int64_t wall_ns);
  [[nodiscard]] std::uint64_t reconciliations(std::uint64_t run_id = 0);
  // What `run_id` started with on `venue` plus that run's journaled fills, net of commissions
  // taken in the asset (base on Binance buys; the quote asset on the rest; BNB for "BNB"), plus
  // the transfers an operator recorded (`xarb ctl transfer`). A run
  // that recorded no balance for the asset (killed during its start-up) stands on the newest
  // earlier run of its mode that did, plus the fills of every run since; false when none did. The
  // quote asset moves by each fill's quantity times its average price: `tolerance` (when given) is
  // what that rounding can leave, at most qty + 3 units of 1e-8 per fill row; zero for the other
  // assets, which are exact.
  [[nodiscard]] bool expected_balance(std::uint64_t run_id, Venue venue, std::string_view asset,
                                      Decimal& out, Decimal* tolerance = nullptr);
  [[nodiscard]] std::vector<JournalFill> fills(std::uint64_t run_id = 0);
  // Each order's round trip as exec measured it (request written -> outcome known) in `run_id`,
  // by venue, in the order journaled: what a backtest draws from (`xarb journal latency`).
  [[nodiscard]] std::vector<std::pair<Venue, std::int64_t>> order_latencies(std::uint64_t run_id);
  // The entries `run_id` decided, in time order, each with its position as it stands.
  [[nodiscard]] std::vector<JournalEntry> entries(std::uint64_t run_id);
  // The reason of `run_id`'s entry refusal for `symbol`, `direction` and `pair` nearest to
  // `at_ns` within `window_ns`; empty when there was none.
  [[nodiscard]] std::string refusal_near(std::uint64_t run_id, std::string_view symbol,
                                         std::string_view direction, std::string_view pair,
                                         std::int64_t at_ns, std::int64_t window_ns);
  // Per pair, in the order the pairs first traded.
  [[nodiscard]] std::vector<JournalPairTotals> pair_totals();
  // Totals over every run (run_id 0) or one run.
  [[nodiscard]] JournalTotals totals(std::uint64_t run_id = 0);
  // A position the restart could not reconcile: marked BROKEN in the journal.
  void mark_broken(std::uint64_t position_id, std::int64_t wall_ns, std::string_view why);

  // Every run, oldest first.
  [[nodiscard]] std::vector<JournalRun> runs();
  // The latest `limit` fills, newest first, with their orders' client ids.
  [[nodiscard]] std::vector<JournalTrade> latest_trades(std::size_t limit);
  // The positions not closed (all: every one), by id.
  [[nodiscard]] std::vector<JournalPositionRow> positions(bool all);
  // The newest live run that recorded balances (0: none), and the report it ended with (empty
  // when it did not end).
  [[nodiscard]] std::uint64_t last_live_run_with_balances(std::string* report = nullptr);
  // What `run_id` started with per venue and asset, and what its fills explain now.
  [[nodiscard]] std::vector<JournalLedgerRow> ledger(std::uint64_t run_id);
  // Every difference a reconciliation confirmed while running, and every one an operator
  // accepted (--accept-balances), in the order they happened.
  [[nodiscard]] std::vector<JournalDifference> confirmed_differences();
  [[nodiscard]] std::vector<JournalDifference> accepted_differences();

  struct Db;

 private:
  std::unique_ptr<Db> db_;
  std::uint64_t run_id_ = 0;
  std::vector<std::string> symbol_names_;  // by InstrumentId
  std::uint64_t write_errors_ = 0;
  std::uint64_t events_ = 0;
  std::string last_error_;
  bool in_txn_ = false;

  void fail(std::string_view what) noexcept;
  void prepare_writes();
  // One event of each kind (record's cases).
  void record_intent(const OrderIntent& intent, std::int64_t wall_ns);
  void record_report(const ExecReport& report, std::int64_t wall_ns);
  void record_settlement(const ExecReport& r, std::int64_t wall_ns);
  void record_position(const PositionChange& change, std::int64_t wall_ns);
  void record_refusal(const RiskRefusal& refusal, std::int64_t wall_ns);
  void record_log(const LogRecord& log, std::int64_t wall_ns);
  void record_dust(std::uint64_t position_id, std::int64_t wall_ns);
  void record_difference(std::string_view table, std::uint64_t run_id, Venue venue,
                         std::string_view asset, Decimal expected, Decimal held,
                         std::int64_t wall_ns);
  [[nodiscard]] std::string_view symbol(InstrumentId i) const noexcept;
};

}  // namespace xarb::app
