#pragma once

// The signal stage: latest books and FX -> premium -> exits of open positions, then entries ->
// risk guard -> OrderIntents; exec reports -> fills, positions, PnL (docs/design.md: Strategy;
// Risk guard). Single-threaded (the signal thread owns it), no locks, and no heap
// allocation after construction.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/signal/baseline.hpp>
#include <xarb/signal/fx.hpp>
#include <xarb/signal/params.hpp>
#include <xarb/signal/position.hpp>
#include <xarb/signal/premium.hpp>
#include <xarb/signal/risk.hpp>

namespace xarb::signal {

// Where the strategy's output goes: intents into the SPSC ring to exec (claimed in place, then
// published), and events for the ops thread. Called on the signal thread only.
class SignalSink {
 public:
  virtual ~SignalSink() = default;
  // A slot for the next intent, or nullptr when the ring is full (the decision is dropped and
  // counted; an exit is decided again on the next update).
  [[nodiscard]] virtual OrderIntent* claim_intent() noexcept = 0;
  virtual void publish_intent() noexcept = 0;
  virtual void on_position(const PositionChange& change) noexcept { (void)change; }
  // A refusal, reported once per change of reason for a symbol and direction (every one is
  // counted in the stats).
  virtual void on_refusal(const RiskRefusal& refusal) noexcept { (void)refusal; }
};

// What was traded, of one symbol or across one pair.
struct TradeStats {
  std::uint64_t entries = 0;  // entry intents
  std::uint64_t closed = 0;   // positions closed with a trade
  std::uint64_t wins = 0;
  std::uint64_t broken = 0;
  Int128 realized_e16 = 0;  // KRW in units of 1e-16: the closed positions' cash, summed exactly

  [[nodiscard]] double realized_krw() const noexcept {
    return static_cast<double>(realized_e16) * 1e-16;
  }
};

struct StrategyStats {
  std::uint64_t updates = 0;      // book snapshots consumed
  std::uint64_t entries = 0;      // entry intents (clips included)
  std::uint64_t exit_intents = 0;
  std::array<std::uint64_t, kExitReasonCount> exits{};  // exit intents by reason
  std::array<std::uint64_t, 5> outcomes{};              // reports by ExecOutcome
  std::uint64_t opened = 0;        // positions that reached OPEN
  std::uint64_t closed = 0;        // positions closed after trading
  std::uint64_t unfilled = 0;      // entries closed without a fill
  std::uint64_t wins = 0;
  std::uint64_t broken = 0;        // transitions to BROKEN
  std::uint64_t dropped = 0;       // intents not sent: ring or in-flight table full
  std::uint64_t exit_deferred = 0; // exit checks skipped: books or FX unusable for exits
  std::uint64_t unknown_reports = 0;
  std::uint64_t settled = 0;       // orders left unknown that their venue settled later
  std::uint64_t dust_writeoffs = 0;  // positions whose residual no order could close
  Int128 realized_e16 = 0;           // KRW in units of 1e-16, summed exactly
  std::array<TradeStats, kMaxInstruments> symbols{};
  std::array<TradeStats, kMaxPairs> pairs{};  // by pair index (StrategyParams::pairs)

  [[nodiscard]] double realized_krw() const noexcept {
    return static_cast<double>(realized_e16) * 1e-16;
  }
  [[nodiscard]] double winrate() const noexcept {
    return closed == 0 ? 0.0 : static_cast<double>(wins) / static_cast<double>(closed);
  }
  [[nodiscard]] std::uint64_t exits_by(ExitReason r) const noexcept {
    return exits[static_cast<std::size_t>(r)];
  }
  [[nodiscard]] std::uint64_t outcomes_by(ExecOutcome o) const noexcept {
    return outcomes[static_cast<std::size_t>(o)];
  }
};

class Strategy {
 public:
  Strategy(const SymbolMap& symbols, const StrategyParams& params) noexcept;

  // A book update from a feed: stores it, then runs exits and entries for its symbol (for every
  // traded symbol when it is the FX book).
  void on_book(const BookSnapshot& snapshot, const Now& now, SignalSink& sink) noexcept;
  // An execution report: fills, position transitions, PnL, breaker.
  void on_report(const ExecReport& report, const Now& now, SignalSink& sink) noexcept;
  // Re-runs the exit checks of every symbol with open positions (timeouts when books are quiet).
  void on_timer(const Now& now, SignalSink& sink) noexcept;

  // Operator controls.
  void close_all(ExitReason reason) noexcept;
  // Closes the positions of one instrument (kNoInstrument: all of them).
  void close_instrument(InstrumentId instrument, ExitReason reason) noexcept;
  // Takes the thresholds and limits that are safe to change while positions are open (entry,
  // exit and stop thresholds, timeouts, open-position counts, money limits) from `p`; the rest
  // of `p` (pairs, symbols, fees, books, FX) is ignored. Inventory floors and the preference
  // are taken too.
  void apply_live_params(const StrategyParams& p) noexcept;
  [[nodiscard]] const StrategyParams& params() const noexcept { return params_; }

  // Takes over a position from an earlier run (restored from the journal) before trading starts:
  // OPEN when its legs are hedged, BROKEN (entries blocked: REDUCING) otherwise. `opened_wall_ns`
  // dates it for the timeout. Returns the position as held, or nullptr when it cannot be held
  // (no slot, id in use, bad instrument).
  const Position* restore(const Position& position, std::int64_t opened_wall_ns,
                          const Now& now) noexcept;
  // Ids continue after the journal's: intents are numbered from here.
  void set_next_intent_id(std::uint64_t id) noexcept { next_intent_id_ = id; }

  // The last book seen for (instrument, venue); `have_book` says whether there was one.
  [[nodiscard]] const BookSnapshot& book(InstrumentId i, Venue v) const noexcept {
    return books_[i][index(v)];
  }
  [[nodiscard]] bool have_book(InstrumentId i, Venue v) const noexcept {
    return have_book_[i][index(v)];
  }
  [[nodiscard]] const FxTracker& fx() const noexcept { return fx_; }  // manual / flatten, on each symbol's next update
  [[nodiscard]] RiskGuard& risk() noexcept { return risk_; }
  [[nodiscard]] Inventory& inventory() noexcept { return inventory_; }

  [[nodiscard]] const StrategyStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const SymbolMap& symbols() const noexcept { return symbols_; }
  [[nodiscard]] const RiskGuard& risk() const noexcept { return risk_; }
  [[nodiscard]] const Inventory& inventory() const noexcept { return inventory_; }
  [[nodiscard]] const PositionBook& positions() const noexcept { return positions_; }
  [[nodiscard]] std::size_t open_positions() const noexcept { return positions_.size(); }
  [[nodiscard]] double baseline_bps(InstrumentId i, Direction d,
                                    std::size_t pair = 0) const noexcept {
    return baselines_[pair][i][static_cast<std::size_t>(d)].value();
  }
  // Sum of the last marks of active positions, in KRW.
  [[nodiscard]] double unrealized_krw() const noexcept;

  // How much more of instrument i direction d of pair k can enter before an asset it spends on
  // one of the pair's venues falls under its floor (zero floors: runs out), and which one binds.
  // A buy is priced at its venue's best ask plus the slippage cap and the fee, as an entry
  // reserves it; `known` is false without both books.
  struct Headroom {
    bool known = false;
    std::int64_t qty = 0;  // base mantissa, 0 when at or under the floor already
    Venue venue = kNoVenue;
    bool quote = false;  // the binding asset is the venue's quote asset (else the base)
  };
  [[nodiscard]] Headroom headroom(std::size_t k, InstrumentId i, Direction d) const noexcept;
  // Whether headroom(k, i, d) holds `qty` (base mantissa); true while it is unknown.
  [[nodiscard]] bool room_for(std::size_t k, InstrumentId i, Direction d,
                              std::int64_t qty) const noexcept;

  // The pairs traded (StrategyParams::pairs, the first pair_count).
  [[nodiscard]] std::span<const PairParams> pairs() const noexcept {
    return {params_.pairs.data(), params_.pair_count};
  }
  // The index of `pair` among pairs(); pairs().size() when it is not traded.
  [[nodiscard]] std::size_t pair_index(VenuePair pair) const noexcept;
  // A traded pair needs the FX rate (its venues quote different currencies).
  [[nodiscard]] bool needs_fx() const noexcept;

 private:
  // Balances an entry needs on each venue: base it sells, quote (fee included) it pays.
  struct Needs {
    std::array<std::int64_t, kMaxVenues> base{};
    std::array<Int128, kMaxVenues> quote_e16{};
  };
  struct InFlight {
    std::uint64_t intent_id = 0;  // 0: free
    std::uint64_t position_id = 0;
    InstrumentId instrument = kNoInstrument;
    IntentKind kind = IntentKind::entry;
    Decimal fx;
    double notional_krw = 0.0;
    std::int64_t qty = 0;
    Needs needs;  // reserved in the inventory until the report
  };
  struct Exposure {
    double total_krw = 0.0;
    double symbol_krw = 0.0;
    double pair_krw = 0.0;                       // of pair k
    std::array<double, kMaxVenues> venue_krw{};  // of the positions with a leg on each venue
    std::int64_t symbol_qty = 0;
    int symbol_open = 0;
    int total_open = 0;
  };

  void evaluate(std::size_t k, InstrumentId i, const StageStamps& trigger, const Now& now,
                bool entries, SignalSink& sink) noexcept;
  void run_exits(std::size_t k, InstrumentId i, const StageStamps& trigger, const Now& now,
                 const std::array<Premium, 2>& edges, SignalSink& sink) noexcept;
  // What the exit checks of one symbol share within an update.
  struct ExitContext {
    struct CachedWalk {
      bool valid = false;
      Side side = Side::buy;
      std::int64_t qty = 0;
      Walk walk;
      double vwap = 0.0;
    };
    bool usable = false;  // books and FX within the exit bound
    double fx = 0.0;
    std::array<CachedWalk, kMaxVenues> cache{};
    const CachedWalk& walk(const BookSnapshot& book, Venue v, Side side,
                           std::int64_t qty) noexcept;
  };
  void try_exit(std::size_t k, Position& p, const StageStamps& trigger, const Now& now,
                const std::array<Premium, 2>& edges, ExitContext& ctx, SignalSink& sink) noexcept;
  void run_entries(std::size_t k, InstrumentId i, const StageStamps& trigger, const Now& now,
                   const std::array<Premium, 2>& edges, SignalSink& sink) noexcept;
  // Entry checks in tier order (global, venue, symbol, trade); none when the entry may go.
  [[nodiscard]] RefusalReason check_entry(std::size_t k, InstrumentId i, const Premium& p,
                                          Decimal qty, const Now& now, const FxTracker::Quote& fx,
                                          const Exposure& e, bool continuation) noexcept;
  bool send_entry(std::size_t k, Position* cont, InstrumentId i, const Premium& pr, Decimal qty,
                  double fx, const StageStamps& trigger, const Now& now, SignalSink& sink) noexcept;
  void stop_clips(Position& p, const Now& now, SignalSink& sink) noexcept;
  [[nodiscard]] Exposure exposure(std::size_t k, InstrumentId i) const noexcept;
  [[nodiscard]] Needs needs(std::size_t k, const Premium& p, Decimal qty) const noexcept;
  [[nodiscard]] RefusalReason book_gate(std::size_t k, InstrumentId i, const Now& now,
                                        std::int64_t max_age_ns) const noexcept;
  [[nodiscard]] double edge_over_baseline(std::size_t k, InstrumentId i,
                                          const Premium& p) const noexcept;
  // The rate pair k converts at: the FX tracker's, or 1 (never stale) when it needs none.
  [[nodiscard]] FxTracker::Quote fx_quote(std::size_t k, std::int64_t mono_ns,
                                          std::int64_t max_age_ns = 0) const noexcept;
  [[nodiscard]] double fx_last(std::size_t k) const noexcept;
  void refuse(std::size_t k, InstrumentId i, Direction d, RefusalReason r, double edge_bps,
              SignalSink& sink) noexcept;
  void stamp(OrderIntent& intent, const Position& p, IntentKind kind, Decimal fx,
             const StageStamps& trigger, const Now& now) noexcept;
  void transition(Position& p, PositionState to, SignalSink& sink) noexcept;
  void settle_entry(Position& p, const Now& now, SignalSink& sink) noexcept;
  void on_settled(const ExecReport& report, const Now& now, SignalSink& sink) noexcept;
  void break_position(Position& p, SignalSink& sink) noexcept;
  void close(Position& p, Decimal decided_fx, const Now& now, SignalSink& sink) noexcept;
  void apply_leg(Position& p, const LegReport& leg) noexcept;
  [[nodiscard]] InFlight* free_in_flight() noexcept;
  [[nodiscard]] InFlight* find_in_flight(std::uint64_t intent_id) noexcept;

  const SymbolMap& symbols_;

  StrategyParams params_;
  FxTracker fx_;
  RiskGuard risk_;
  Inventory inventory_;
  PositionBook positions_;
  StrategyStats stats_;
  std::uint64_t next_intent_id_ = 1;
  std::array<std::array<BookSnapshot, kMaxVenues>, kMaxInstruments> books_{};
  std::array<std::array<bool, kMaxVenues>, kMaxInstruments> have_book_{};
  // By pair index, then instrument.
  template <class T>
  using PerPair = std::array<std::array<T, kMaxInstruments>, kMaxPairs>;
  PerPair<std::array<Ewma, 2>> baselines_{};
  PerPair<std::int64_t> last_exit_ns_{};
  PerPair<bool> exited_once_{};
  PerPair<std::int64_t> entry_after_ns_{};  // after a refused or unfilled entry
  PerPair<std::array<RefusalReason, 2>> last_refusal_{};
  static constexpr std::size_t kMaxInFlight = 512;
  std::array<InFlight, kMaxInFlight> in_flight_{};
};

}  // namespace xarb::signal
