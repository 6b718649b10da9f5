#pragma once

// The run report of `xarb run`: what the engine did, printed as text at the end (and as one line
// every few seconds while running) and written as report.json with the same figures.

#include <array>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

struct VenueReport {
  std::uint64_t frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t dropped_frames = 0;  // malformed or not understood: counted and dropped
  std::uint64_t connects = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t snapshot_failures = 0;
  std::uint64_t ring_full = 0;
  std::uint64_t orders = 0;      // order requests the venue received from this run
  std::uint64_t order_errors = 0;  // legs that ended with a venue error
  bool healthy = true;             // exec can reach it (live: REST answers; paper: always)
  // The private stream (own orders and balances pushed), live runs on venues that have one.
  bool private_stream = false;
  bool stream_up = false;  // settling orders at the end of the run
  std::uint64_t stream_connects = 0;
  std::uint64_t stream_disconnects = 0;
  std::uint64_t stream_order_ends = 0;               // orders whose end came from the stream
  std::uint64_t stream_reconciled = 0;          // orders queried after a (re)connect
  std::uint64_t stream_malformed = 0;           // messages counted and dropped
  std::uint64_t stream_balance_mismatches = 0;  // balances pushed unlike the fills' prediction
  std::string stream_last_mismatch;             // which asset, and by how much
  std::uint64_t stream_incomplete = 0;  // order events without all their executions (queried)
  std::uint64_t stream_requests = 0;    // orders, queries, cancels sent on it (order_entry = ws)
};

// One venue's balance of one asset against the ledger (live runs).
struct BalanceReport {
  Venue venue = kNoVenue;
  std::string asset;
  Decimal held;      // what the venue says is free
  Decimal expected;  // what the ledger explains
  Decimal tolerance;  // what the ledger's rounding can leave (the quote asset's average prices)
  bool unexplained = false;  // a difference that persisted: entries stopped (REDUCING)
  [[nodiscard]] Decimal difference() const noexcept {
    return Decimal::from_mantissa(held.mantissa() - expected.mantissa());
  }
  // A difference the ledger's rounding cannot explain.
  [[nodiscard]] bool differs() const noexcept {
    const std::int64_t d = held.mantissa() - expected.mantissa();
    return (d < 0 ? -d : d) > tolerance.mantissa();
  }
};

// What closed positions left at a venue: each position's fills there net of its commissions in
// the base, under every venue's minimum (no order could trade it). Held at the venue, owned by
// no position; the ledger counts it like any other holding.
struct DustReport {
  Venue venue = kNoVenue;
  std::string asset;
  Decimal qty;  // signed: positive held beyond the positions, negative short of them
  std::uint64_t positions = 0;
};

// One venue's holding of one asset (`xarb inventory`): what is there, what intents in flight set
// aside, what the ledger expects, and the floor entries stop at.
struct InventoryReport {
  Venue venue = kNoVenue;
  std::string asset;
  Decimal held;      // the venue's balance at the last reconciliation (live); paper: the engine's
  Decimal locked;    // set aside by the engine for intents in flight
  Decimal expected;  // the ledger's (live) or the engine's own figure: start + fills net of fees
  Decimal floor;     // [inventory.floor]; zero: none
  bool from_venue = false;  // `held` is what the venue said (else the engine's figure)
  [[nodiscard]] Decimal difference() const noexcept {
    return Decimal::from_mantissa(held.mantissa() - expected.mantissa());
  }
  // What entries may still spend of it: expected, less what is set aside and the floor.
  [[nodiscard]] Decimal above_floor() const noexcept {
    return Decimal::from_mantissa(expected.mantissa() - locked.mantissa() - floor.mantissa());
  }
};

// How far one direction of one pair can still trade a symbol before an asset it spends on one
// of the pair's venues reaches its floor (or runs out).
struct HeadroomReport {
  std::string pair;           // "upbit-binance"
  std::string symbol;         // "BTC"
  std::string direction;      // kimchi (sell on the pair's first venue) | reverse
  bool known = false;         // both books seen
  Decimal qty;                // base units
  std::uint64_t entries = 0;  // whole trade_qty entries in qty
  std::string bound_by;       // "binance USDT": the asset that runs out first
};

// One transfer the rebalance plan proposes. Nothing is withdrawn: it is a plan for an operator.
struct RebalanceMove {
  std::string asset;
  Venue from = kNoVenue;
  Venue to = kNoVenue;
  Decimal amount;          // what arrives
  Decimal fee;             // the sending venue's withdrawal fee, on top of the amount
  bool fee_known = false;  // [inventory.withdrawal_fee] lists it
  Decimal from_after;      // what each venue holds once it has arrived
  Decimal to_after;
};

struct RebalancePlan {
  std::vector<RebalanceMove> moves;
  std::vector<std::string> notes;  // what the plan cannot do, and why
};

struct LatencyReport {
  std::string name;
  std::uint64_t count = 0;
  std::int64_t p50_ns = 0;
  std::int64_t p99_ns = 0;
  std::int64_t p999_ns = 0;
  std::int64_t max_ns = 0;
  std::uint64_t sum_ns = 0;
  // Cumulative counts at fixed upper bounds (kLatencyBucketsNs), for /metrics histograms from
  // which a scraper (scripts/soak) computes the percentiles of each interval.
  std::vector<std::uint64_t> at_most;
};

// Upper bounds of the /metrics latency histogram buckets, ns: 1-2-5 steps from 1 us to 1 s.
inline constexpr std::array<std::int64_t, 19> kLatencyBucketsNs = {
    1'000,       2'000,       5'000,       10'000,      20'000,     50'000,     100'000,
    200'000,     500'000,     1'000'000,   2'000'000,   5'000'000,  10'000'000, 20'000'000,
    50'000'000,  100'000'000, 200'000'000, 500'000'000, 1'000'000'000};

struct QueueReport {
  std::string name;
  std::uint64_t capacity = 0;
  std::uint64_t high_water = 0;
  std::uint64_t drops = 0;
};

struct ThreadReport {
  std::string name;
  std::string stages;  // "feed+signal+exec", "ops"
  int cpu = -1;
  std::string wait;
  double cpu_s = 0.0;
};

// What was traded, of one symbol ("BTC") or across one pair ("upbit-binance").
struct TradeReport {
  std::string name;
  std::uint64_t entries = 0;
  std::uint64_t closed = 0;
  std::uint64_t wins = 0;
  std::uint64_t broken = 0;
  std::uint64_t open = 0;
  Decimal realized_krw;  // exact to 1e-8 KRW (the positions' cash summed in 1e-16, rounded down)
};

struct RunReport {
  std::uint64_t run_id = 0;
  std::string mode;  // paper | live
  double duration_s = 0.0;
  std::vector<Venue> traded;                     // the venues of this run, in id order
  std::array<VenueReport, kMaxVenues> venues{};  // by index(Venue)
  std::uint64_t book_updates = 0;
  std::uint64_t entries = 0;
  std::uint64_t exit_intents = 0;
  std::array<std::uint64_t, kExitReasonCount> exits{};  // exit intents by reason
  std::map<std::string, std::uint64_t> blocked;          // refusals by reason (signal and exec)
  std::array<std::uint64_t, 5> outcomes{};              // by ExecOutcome
  std::uint64_t opened = 0;
  std::uint64_t closed = 0;
  std::uint64_t wins = 0;
  std::uint64_t broken = 0;
  std::uint64_t open_positions = 0;
  std::uint64_t restored_positions = 0;
  std::uint64_t dropped_intents = 0;
  std::uint64_t dust_writeoffs = 0;  // residuals below the venues' minimums, written off
  double winrate = 0.0;
  Decimal realized_krw;    // exact to 1e-8 KRW, as TradeReport's
  Decimal unrealized_krw;  // the open positions' marks (an estimate at the books' prices)
  std::uint64_t exec_retries = 0;
  std::uint64_t exec_unwinds = 0;
  std::uint64_t exec_queries = 0;
  std::uint64_t exec_settled = 0;    // orders left unknown that their venue settled later
  std::uint64_t exec_unsettled = 0;  // orders whose outcome is still unknown (BROKEN, asked)
  std::vector<TradeReport> symbols;
  std::vector<TradeReport> pairs;  // the pairs traded, in the strategy's order
  std::vector<LatencyReport> latencies;
  std::vector<QueueReport> queues;
  std::vector<ThreadReport> threads;
  std::int64_t peak_rss_kib = 0;
  std::int64_t rss_kib = 0;
  std::int64_t heap_in_use_bytes = 0;  // C heap handed out (tuning::heap_usage)
  std::int64_t heap_held_bytes = 0;    // C heap the allocator holds from the system
  std::int64_t journal_memory_bytes = 0;  // SQLite's own allocations
  std::uint64_t journal_events = 0;
  std::uint64_t journal_errors = 0;
  std::string risk_mode;
  std::vector<BalanceReport> balances;  // the last reconciliation (live)
  std::vector<DustReport> dust;         // left by the positions this run closed
  std::vector<InventoryReport> inventory;  // every venue's quote asset and symbols' bases
  std::vector<HeadroomReport> headroom;    // by pair, symbol and direction
  RebalancePlan rebalance;
  std::uint64_t reconciliations = 0;
};

}  // namespace xarb::app
