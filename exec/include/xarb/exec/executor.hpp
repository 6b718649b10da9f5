#pragma once

// Two-leg execution (docs/design.md: Execution and legging risk). An OrderIntent becomes one IOC
// limit order per venue, rounded to each venue's tick and step and checked against trading rules,
// balances, rate budget (a reserve kept for hedges) and health before anything is sent; a leg
// that fails a check blocks both. Both legs go out at once. A shortfall is retried on its venue at
// a capped worse price within the intent's deadline, else the excess of the other leg is unwound;
// a residual under a venue's minimum goes to the dust ledger. A leg whose answer was lost is
// queried by client id until the venue says what happened: it is never assumed filled or not.
// The result is one ExecReport per intent. Single-threaded (the exec thread), no allocation.

#include <array>
#include <cstdint>
#include <string_view>

#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/exec/orders.hpp>
#include <xarb/exec/venue.hpp>

namespace xarb::exec {

struct ExecParams {
  double retry_slippage_bps = 10.0;   // a shortfall retry may pay this much past the leg's limit
  int max_retries = 2;                // shortfall retries per leg
  double unwind_slippage_bps = 30.0;  // an unwind may give up this much against its fill price
  int max_unwinds = 2;
  std::int64_t query_interval_ns = 100'000'000;  // first query after a lost answer; doubles
  // An order answered as still working on a venue whose private stream is up: its end is
  // expected from the stream, and it is queried only this long after the answer (or at once
  // when the stream goes down).
  std::int64_t stream_fallback_ns = 500'000'000;
  std::int64_t max_query_interval_ns = 2'000'000'000;
  int max_queries = 30;
  // An order still unsettled after max_queries stays watched: asked again every settle interval
  // (doubling up to the maximum) until its venue says what happened, however long that takes.
  std::int64_t settle_interval_ns = 5'000'000'000;
  std::int64_t max_settle_interval_ns = 60'000'000'000;
  // Share of each venue's order allowance per window that entries may not use: it is kept for
  // hedges, retries, unwinds and exits (at least one order when the share is above 0).
  double hedge_reserve_ratio = 0.2;
  double fee_estimate_bps = 20.0;  // for balance checks of buys
  std::uint64_t run_id = 0;        // makes client ids unique across restarts (e.g. start time, ms)
};

struct ExecStats {
  std::uint64_t intents = 0;
  std::uint64_t orders = 0;   // order requests sent
  std::uint64_t queries = 0;  // status queries after lost answers or unfinished orders
  std::uint64_t stream_ends = 0;  // legs settled by their venue's private stream, not a query
  std::uint64_t retries = 0;
  std::uint64_t unwinds = 0;
  std::array<std::uint64_t, 5> outcomes{};  // by ExecOutcome
  std::array<std::uint64_t, static_cast<std::size_t>(RefusalReason::count)> blocked{};
  std::uint64_t busy = 0;  // intents that waited for a free job slot
  std::uint64_t settled = 0;     // watched orders their venue settled later (settling reports)
  std::uint64_t unwatched = 0;   // unsettled orders the watch list had no room for (restart asks)
};

// Base quantity below a venue's minimum, left over from legging, per venue and instrument.
class DustLedger {
 public:
  void add(Venue v, InstrumentId i, std::int64_t qty) noexcept { dust_[index(v)][i] += qty; }
  [[nodiscard]] Decimal get(Venue v, InstrumentId i) const noexcept {
    return Decimal::from_mantissa(dust_[index(v)][i]);
  }

 private:
  std::array<std::array<std::int64_t, kMaxInstruments>, kMaxVenues> dust_{};
};

class TwoLegExecutor {
 public:
  // `venues` indexed by index(Venue); they outlive the executor.
  TwoLegExecutor(std::array<VenueClient*, kMaxVenues> venues, const ExecParams& params) noexcept;

  // Takes an intent: checks it and sends its legs, or reports it blocked. False when every job
  // slot is busy (leave the intent in the ring and offer it again).
  [[nodiscard]] bool submit(const OrderIntent& intent, std::int64_t now_ns) noexcept;
  // Drives the venues and the jobs.
  void poll(std::int64_t now_ns) noexcept;
  // The next finished report, if any.
  [[nodiscard]] bool next_report(ExecReport& out) noexcept;
  // Reports waiting for next_report().
  [[nodiscard]] std::size_t pending_reports() const noexcept { return report_count_; }

  [[nodiscard]] std::size_t active() const noexcept;
  // Orders whose outcome no venue has settled yet (watched, queried at the slow pace).
  [[nodiscard]] std::size_t unsettled() const noexcept;
  // A bit per instrument (1 << id) with an intent in flight or an order unsettled on `v`: what
  // may still move that venue's balances of the instrument and of its quote.
  [[nodiscard]] std::uint64_t busy(Venue v) const noexcept;
  [[nodiscard]] bool has_venue(Venue v) const noexcept {
    return valid(v) && venues_[index(v)] != nullptr;
  }
  // False for a venue this executor has no client for.
  [[nodiscard]] bool venue_healthy(Venue v) const noexcept {
    return valid(v) && venues_[index(v)] != nullptr && venues_[index(v)]->healthy();
  }
  [[nodiscard]] const ExecStats& stats() const noexcept { return stats_; }
  [[nodiscard]] const DustLedger& dust() const noexcept { return dust_; }
  // A venue's private stream: whether it settles orders now, and its history (nullptr: none).
  [[nodiscard]] bool venue_streaming(Venue v) const noexcept {
    return valid(v) && venues_[index(v)] != nullptr && venues_[index(v)]->streaming();
  }
  [[nodiscard]] const StreamStats* venue_stream(Venue v) const noexcept {
    return valid(v) && venues_[index(v)] != nullptr ? venues_[index(v)]->stream() : nullptr;
  }

  // Orders one leg of an intent may send: the first, max_retries retries and max_unwinds unwinds
  // (the constructor caps the two so that they fit). A restart asks the venues for attempts
  // 0 .. kMaxAttempts - 1 of every unresolved intent.
  static constexpr int kMaxAttempts = 8;
  // A client id: "x<run>-<intent>-<venue letter><attempt>", base 36, at most 36 characters.
  [[nodiscard]] static ClientOrderId client_id(std::uint64_t run_id, std::uint64_t intent_id,
                                               Venue venue, int attempt) noexcept;

 private:
  // Orders of `b`'s window an entry must leave unused (hedge_reserve_ratio of the allowance).
  [[nodiscard]] std::int64_t hedge_reserve(const RateBudget& b) const noexcept;

  enum class LegPhase : std::uint8_t {
    idle,      // nothing to do on this venue (zero quantity) or finished
    sending,   // place() refused for now: try again on the next poll
    waiting,   // a request is out
    querying,  // the answer was lost or the order is not final: ask again at next_query_ns
  };
  enum class OrderRole : std::uint8_t { primary, retry, unwind };

  struct LegJob {
    LegIntent intent;
    Decimal target;  // rounded quantity the leg should trade
    OrderRequest order;
    OrderRole role = OrderRole::primary;
    LegPhase phase = LegPhase::idle;
    int attempts = 0;  // orders sent on this venue (client id suffix)
    int retries = 0;
    int unwinds = 0;
    int queries = 0;
    std::int64_t query_interval_ns = 0;
    std::int64_t next_query_ns = 0;
    bool stream_expected = false;  // querying later: the venue's stream should settle it first
    std::int64_t first_sent_ns = 0;
    std::int64_t last_sent_ns = 0;  // when the current attempt was written
    std::int64_t done_ns = 0;
    bool unresolved = false;  // the venue never settled an order
    bool below_minimum = false;  // an independent leg too small to send (the other one goes)
    // Totals over every order of the leg.
    std::int64_t filled = 0;  // on the leg's side
    Int128 filled_notional = 0;
    std::int64_t unwound = 0;  // on the opposite side
    Int128 unwound_notional = 0;
    Int128 fee_quote_e16 = 0;
    std::int64_t fee_base = 0;  // commission taken from the base asset (Binance buys)
    std::int64_t fee_bnb = 0;   // commission paid in BNB
    OrderState last_state = OrderState::created;
    ClientOrderId first_id;
    VenueError error;
  };
  struct Job {
    bool active = false;
    OrderIntent intent;
    std::array<Venue, kPairLegs> venues{kNoVenue, kNoVenue};  // the intent's legs, in its order
    std::array<LegJob, kMaxVenues> legs{};                    // by venue
    bool hedged = true;  // both legs trade the same quantity (not a BROKEN position's exit)
    // What a hedged leg trades beyond the common quantity: an exit closes on each venue what
    // that venue holds, and a venue that took its commission in the base asset holds less.
    std::array<std::int64_t, kMaxVenues> offset{};
    std::int64_t deadline_ns = 0;
    std::int64_t dust = 0;
  };

  // An order a job gave up asking about: its outcome is not known, so it stays watched.
  struct Watch {
    bool active = false;
    bool waiting = false;  // a query is out
    Venue venue = kNoVenue;
    bool unwind = false;   // on the leg's opposite side
    Side leg_side = Side::buy;
    IntentKind kind = IntentKind::entry;
    InstrumentId instrument = kNoInstrument;
    std::uint64_t intent_id = 0;
    std::uint64_t position_id = 0;
    ClientOrderId id;
    Decimal qty;
    std::int64_t sent_ns = 0;
    std::int64_t next_query_ns = 0;
    std::int64_t interval_ns = 0;
  };

  // What an answer about an order sent at `sent_ns` says: it was never placed (not found past the
  // venue's grace), the request failed (nothing learnt), the order is not final yet (or the
  // answer was lost), or it is final.
  enum class Reading : std::uint8_t { never_placed, request_failed, not_final, final };
  [[nodiscard]] Reading read_answer(const VenueEvent& ev, Venue v, std::int64_t sent_ns,
                                    std::int64_t now_ns) const noexcept;

  [[nodiscard]] RefusalReason prepare(Job& job, std::int64_t now_ns) noexcept;
  [[nodiscard]] std::array<Decimal, kMaxVenues> leg_quantities(Job& job) const noexcept;
  [[nodiscard]] RefusalReason can_send(IntentKind kind, const LegIntent& leg, VenueClient& venue,
                                       Decimal price, Decimal qty,
                                       std::int64_t now_ns) const noexcept;
  void watch(const Job& job, Venue v, const LegJob& leg, std::int64_t now_ns) noexcept;
  void on_watch_event(Watch& w, const VenueEvent& ev, std::int64_t now_ns) noexcept;
  void settle(Watch& w, const OrderStatus& s, std::int64_t now_ns) noexcept;
  void send(Job& job, Venue v, std::int64_t now_ns) noexcept;
  void on_event(const VenueEvent& ev, std::int64_t now_ns) noexcept;
  void apply(LegJob& leg, const OrderStatus& s) noexcept;
  void advance(Job& job, std::int64_t now_ns) noexcept;
  void finish_unhedged(Job& job, bool unresolved) noexcept;
  void finish(Job& job, ExecOutcome outcome, RefusalReason refusal) noexcept;
  [[nodiscard]] bool below_minimum(Venue v, InstrumentId i, std::int64_t qty,
                                   Decimal price) const noexcept;
  [[nodiscard]] Job* find_job(const ClientOrderId& id, Venue& venue) noexcept;
  // The next report, built in place in the queue of reports not yet taken (cleared). The queue
  // holds one per job and watch, so it never runs out.
  [[nodiscard]] ExecReport& new_report() noexcept;

  std::array<VenueClient*, kMaxVenues> venues_;
  ExecParams params_;
  ExecStats stats_;
  DustLedger dust_;
  static constexpr std::size_t kJobs = 32;
  std::array<Job, kJobs> jobs_{};
  static constexpr std::size_t kWatches = 32;
  std::array<Watch, kWatches> watches_{};
  // Room for every job's report and every watched order's settling report.
  static constexpr std::size_t kReports = kJobs + kWatches;
  std::array<ExecReport, kReports> reports_{};
  std::size_t report_head_ = 0;
  std::size_t report_count_ = 0;
};

}  // namespace xarb::exec
