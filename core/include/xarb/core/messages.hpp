#pragma once

// The messages passed between threads. Each is a trivially copyable, fixed-size struct written in
// place into a preallocated ring slot; layouts are pinned by static_asserts at the end of this
// file.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <type_traits>
#include <variant>

#include <xarb/core/cache_line.hpp>
#include <xarb/core/decimal.hpp>
#include <xarb/core/fixed_string.hpp>
#include <xarb/core/ids.hpp>

namespace xarb {

// Levels per side carried by a BookSnapshot and by each leg of an OrderIntent.
inline constexpr std::size_t kBookDepth = 10;

// One timestamp per pipeline stage, in clock::mono_ns() except `exchange` (venue time, wall ns).
enum class Stage : std::uint8_t {
  exchange,       // event time stamped by the venue
  received,       // frame read from the socket
  parsed,         // parser done
  applied,        // book updated, snapshot published
  decided,        // signal emitted the intent
  exec_dequeued,  // exec took the intent
  order_written,  // last order byte handed to the socket (or the paper venue)
  count
};
inline constexpr std::size_t kStageCount = static_cast<std::size_t>(Stage::count);

[[nodiscard]] constexpr std::string_view to_string(Stage s) noexcept {
  constexpr std::array<std::string_view, kStageCount> kNames = {
      "exchange", "received", "parsed", "applied", "decided", "exec_dequeued", "order_written"};
  return s < Stage::count ? kNames[static_cast<std::size_t>(s)] : "unknown";
}

struct StageStamps {
  std::array<std::int64_t, kStageCount> ns{};  // 0 = not reached

  constexpr void set(Stage s, std::int64_t t) noexcept { ns[static_cast<std::size_t>(s)] = t; }
  [[nodiscard]] constexpr std::int64_t get(Stage s) const noexcept {
    return ns[static_cast<std::size_t>(s)];
  }
  // Duration between two stages, or -1 when either was not reached.
  [[nodiscard]] constexpr std::int64_t between(Stage from, Stage to) const noexcept {
    const std::int64_t a = get(from), b = get(to);
    return (a == 0 || b == 0) ? -1 : b - a;
  }
};

struct Level {
  Decimal price;
  Decimal qty;
  friend constexpr bool operator==(const Level&, const Level&) noexcept = default;
};

// ---------------------------------------------------------------------------------------------
// Feed -> signal

namespace book_flags {
inline constexpr std::uint8_t kStale = 1u << 0;      // do not trade on this book
inline constexpr std::uint8_t kResyncing = 1u << 1;  // waiting for a snapshot after a gap
inline constexpr std::uint8_t kCrossed = 1u << 2;    // best bid >= best ask
}  // namespace book_flags

// Top kBookDepth levels of one (venue, instrument) book after an applied update. Bids best
// (highest) first, asks best (lowest) first; levels past bid_count / ask_count are zero.
struct alignas(kCacheLine) BookSnapshot {
  StageStamps stamps;
  std::uint64_t sequence = 0;    // venue update id (Binance `u`), or a local counter (Upbit)
  std::uint32_t generation = 0;  // incremented on every resync of this book
  InstrumentId instrument = kNoInstrument;
  Venue venue = kNoVenue;
  std::uint8_t flags = 0;
  std::uint8_t bid_count = 0;
  std::uint8_t ask_count = 0;
  std::array<Level, kBookDepth> bids{};
  std::array<Level, kBookDepth> asks{};

  [[nodiscard]] constexpr bool tradable() const noexcept {
    return (flags & (book_flags::kStale | book_flags::kResyncing | book_flags::kCrossed)) == 0 &&
           bid_count > 0 && ask_count > 0;
  }
};

// ---------------------------------------------------------------------------------------------
// Signal -> exec

// Of a pair of venues, the first is a KRW venue. Kimchi: the first is dear, sell there and buy on
// the second. Reverse: buy on the first, sell on the second.
enum class Direction : std::uint8_t { kimchi = 0, reverse = 1 };
enum class IntentKind : std::uint8_t { entry = 0, exit = 1 };
enum class ExitReason : std::uint8_t {
  none = 0,
  take_profit,
  stop_loss,
  timeout,
  reversal,
  manual,   // operator asked
  flatten,   // shutdown with --flatten-on-exit
  unhedged,  // closing what a BROKEN position holds on either venue
  count
};
inline constexpr std::size_t kExitReasonCount = static_cast<std::size_t>(ExitReason::count);

[[nodiscard]] constexpr std::string_view to_string(Direction d) noexcept {
  return d == Direction::kimchi ? "kimchi" : "reverse";
}
[[nodiscard]] constexpr std::string_view to_string(IntentKind k) noexcept {
  return k == IntentKind::entry ? "entry" : "exit";
}
[[nodiscard]] constexpr std::string_view to_string(ExitReason r) noexcept {
  switch (r) {
    case ExitReason::none:
      return "none";
    case ExitReason::take_profit:
      return "take_profit";
    case ExitReason::stop_loss:
      return "stop_loss";
    case ExitReason::timeout:
      return "timeout";
    case ExitReason::reversal:
      return "reversal";
    case ExitReason::manual:
      return "manual";
    case ExitReason::flatten:
      return "flatten";
    case ExitReason::unhedged:
      return "unhedged";
    case ExitReason::count:
      break;
  }
  return "unknown";
}

// Why an intent was refused, by the signal's risk guard or by exec's pre-send checks. Counted and
// reported per reason.
enum class RefusalReason : std::uint8_t {
  none = 0,
  kill_switch,
  halted,    // circuit breaker cooling down
  reducing,  // exits only
  daily_loss,
  total_exposure,
  symbol_exposure,
  max_notional,
  min_notional,
  balance,
  venue_unhealthy,
  rate_limit,
  max_open_symbol,
  max_open_total,
  cooldown,
  book_stale,
  book_age,
  fx_missing,
  fx_stale,
  clock_skew,
  depth,
  trading_rules,    // tick, step or filter could not be met
  venue_exposure,   // a venue's open notional at its limit
  pair_exposure,    // a pair's open notional at its limit
  inventory_floor,  // the entry would take a venue's asset under its configured floor
  count
};

[[nodiscard]] constexpr std::string_view to_string(RefusalReason r) noexcept {
  constexpr std::array<std::string_view, static_cast<std::size_t>(RefusalReason::count)> kNames = {
      "none",
      "kill_switch",
      "halted",
      "reducing",
      "daily_loss",
      "total_exposure",
      "symbol_exposure",
      "max_notional",
      "min_notional",
      "balance",
      "venue_unhealthy",
      "rate_limit",
      "max_open_symbol",
      "max_open_total",
      "cooldown",
      "book_stale",
      "book_age",
      "fx_missing",
      "fx_stale",
      "clock_skew",
      "depth",
      "trading_rules",
      "venue_exposure",
      "pair_exposure",
      "inventory_floor"};
  return r < RefusalReason::count ? kNames[static_cast<std::size_t>(r)] : "unknown";
}

// An intent and its report trade a pair of venues: one leg on each.
inline constexpr std::size_t kPairLegs = 2;

// The empty leg a lookup of a venue outside the pair reads.
template <class Leg>
inline constexpr Leg kNoLeg{};

// The leg of `legs` on venue `v` (see OrderIntent::leg). Taking a leg for a third venue is a
// programming error: it stops the process rather than trade on the wrong venue.
template <class Leg>
[[nodiscard]] Leg& pair_leg(std::array<Leg, kPairLegs>& legs, Venue v) noexcept {
  if (v == kNoVenue) std::abort();
  for (Leg& l : legs) {
    if (l.venue == v) return l;
  }
  for (Leg& l : legs) {
    if (l.venue == kNoVenue) {
      l.venue = v;
      return l;
    }
  }
  std::abort();
}
template <class Leg>
[[nodiscard]] const Leg& pair_leg(const std::array<Leg, kPairLegs>& legs, Venue v) noexcept {
  if (v == kNoVenue) return kNoLeg<Leg>;
  for (const Leg& l : legs) {
    if (l.venue == v) return l;
  }
  return kNoLeg<Leg>;
}

// One leg: an IOC limit order on one venue, with the book side it expects to hit (the paper venue
// fills against these levels).
struct LegIntent {
  Venue venue = kNoVenue;
  Side side = Side::buy;
  InstrumentId instrument = kNoInstrument;
  std::uint8_t level_count = 0;
  Decimal limit_price;  // worst level walked plus the slippage cap; exec rounds it to the tick
  Decimal quantity;     // exec rounds it down to the lot step; zero: no order on this venue
  std::array<Level, kBookDepth> levels{};
};

struct alignas(kCacheLine) OrderIntent {
  std::uint64_t intent_id = 0;
  std::uint64_t position_id = 0;
  IntentKind kind = IntentKind::entry;
  Direction direction = Direction::kimchi;
  ExitReason exit_reason = ExitReason::none;
  // Each leg trades on its own (closing residuals): one too small for its venue does not stop the
  // other. Otherwise the legs are a pair and trade the same quantity, or not at all.
  bool independent_legs = false;
  Decimal fx_rate;               // KRW per USDT the decision used
  double edge_bps = 0.0;         // net edge (entry) or pair PnL (exit) expected at decision
  std::int64_t deadline_ns = 0;  // mono_ns by which both legs must be complete or unwound
  StageStamps stamps;
  std::array<LegIntent, kPairLegs> legs{};  // one per venue of the pair, found by leg(venue)

  // The leg on venue `v`. Writing to the leg of a venue the intent has none on yet takes its
  // first unused leg; reading it gives an empty leg.
  [[nodiscard]] LegIntent& leg(Venue v) noexcept { return pair_leg(legs, v); }
  [[nodiscard]] const LegIntent& leg(Venue v) const noexcept { return pair_leg(legs, v); }
  [[nodiscard]] bool has_leg(Venue v) const noexcept {
    return &pair_leg(legs, v) != &kNoLeg<LegIntent>;
  }
};

// ---------------------------------------------------------------------------------------------
// Exec -> signal

enum class ExecOutcome : std::uint8_t {
  success,         // both legs filled
  partial_hedged,  // a shortfall was completed by a retry
  rolled_back,     // the excess of the fuller leg was unwound
  failed,          // a venue error; nothing or a hedged remainder is open
  blocked,         // refused before sending (see refusal)
};

// Per-order state machine (docs/design.md: Execution and legging risk).
enum class OrderState : std::uint8_t {
  created,
  sent,
  acked,
  partially_filled,
  filled,
  canceled,
  rejected,
  expired,
  unknown,  // request timed out or 5xx: resolved by querying the venue
};

enum class LegStatus : std::uint8_t {
  not_sent,
  accepted,
  partially_filled,
  filled,
  canceled,
  failed,
  below_minimum,  // not sent: the quantity is under the venue's minimum or step (a residual)
};

[[nodiscard]] constexpr std::string_view to_string(ExecOutcome o) noexcept {
  switch (o) {
    case ExecOutcome::success:
      return "success";
    case ExecOutcome::partial_hedged:
      return "partial_hedged";
    case ExecOutcome::rolled_back:
      return "rolled_back";
    case ExecOutcome::failed:
      return "failed";
    case ExecOutcome::blocked:
      return "blocked";
  }
  return "unknown";
}
[[nodiscard]] constexpr std::string_view to_string(OrderState s) noexcept {
  switch (s) {
    case OrderState::created:
      return "created";
    case OrderState::sent:
      return "sent";
    case OrderState::acked:
      return "acked";
    case OrderState::partially_filled:
      return "partially_filled";
    case OrderState::filled:
      return "filled";
    case OrderState::canceled:
      return "canceled";
    case OrderState::rejected:
      return "rejected";
    case OrderState::expired:
      return "expired";
    case OrderState::unknown:
      return "unknown";
  }
  return "unknown";
}
[[nodiscard]] constexpr std::string_view to_string(LegStatus s) noexcept {
  switch (s) {
    case LegStatus::not_sent:
      return "not_sent";
    case LegStatus::accepted:
      return "accepted";
    case LegStatus::partially_filled:
      return "partially_filled";
    case LegStatus::filled:
      return "filled";
    case LegStatus::canceled:
      return "canceled";
    case LegStatus::failed:
      return "failed";
    case LegStatus::below_minimum:
      return "below_minimum";
  }
  return "unknown";
}

// What a venue error means for exec, whatever the venue's own code or name.
enum class VenueErrorKind : std::uint8_t {
  none,
  insufficient_balance,
  filter_failure,  // price, quantity or notional outside the trading rules
  auth,            // key, signature or token refused
  timestamp,       // outside the receive window (Binance -1021)
  rate_limited,    // 429 / 418 / -1003
  unknown_order,   // no such order (-2013, -2011, order_not_found)
  duplicate,       // client order id used before
  server,          // 5xx: the outcome is unknown
  transport,       // no answer: connection lost or timed out
  other,
  mismatch,  // the answer is about another symbol or client id: never a fill of the order asked
};

[[nodiscard]] constexpr std::string_view to_string(VenueErrorKind k) noexcept {
  constexpr std::array<std::string_view, 12> kNames = {
      "none",      "insufficient_balance", "filter_failure", "auth",
      "timestamp", "rate_limited",         "unknown_order",  "duplicate",
      "server",    "transport",            "other",          "mismatch"};
  return static_cast<std::size_t>(k) < kNames.size() ? kNames[static_cast<std::size_t>(k)]
                                                     : "unknown";
}

// The venue's own error: Binance's numeric code (-2010) or Upbit's name
// ("insufficient_funds_bid"), with the venue's message, truncated to fit, and its meaning.
struct VenueError {
  std::int32_t http_status = 0;
  std::int32_t code = 0;
  VenueErrorKind kind = VenueErrorKind::none;
  FixedString<32> name;
  FixedString<44> message;

  [[nodiscard]] constexpr bool present() const noexcept {
    return http_status != 0 || code != 0 || !name.empty();
  }
};

// Binance's newClientOrderId and Upbit's identifier are at most 36 characters.
using ClientOrderId = FixedString<37>;

// What one venue did for one leg of an intent. `filled_qty` at `avg_price` is everything traded
// on the leg's side (first order and retries); `unwound_qty` at `unwind_avg_price` is what was
// traded back on the opposite side to unwind an excess. The venue's net position change is
// filled_qty - unwound_qty on the leg's side, less `fee_base`. Fees cover both sides, each in the
// asset the venue charged it in: the quote currency (`fee`), the base asset (`fee_base`: Binance
// takes a buy's commission from what it bought, which then holds that much less) or BNB
// (`fee_bnb`: Binance with the BNB fee option).
struct LegReport {
  Venue venue = kNoVenue;
  Side side = Side::buy;
  OrderState state = OrderState::created;
  LegStatus status = LegStatus::not_sent;
  InstrumentId instrument = kNoInstrument;
  Decimal requested_qty;
  Decimal filled_qty;
  Decimal avg_price;  // quote currency: KRW on Upbit, USDT on Binance
  Decimal unwound_qty;
  Decimal unwind_avg_price;
  Decimal fee;       // in the quote currency
  Decimal fee_base;  // in the base asset: not held
  Decimal fee_bnb;   // in BNB
  std::int64_t latency_ns = 0;  // request written -> final state known
  ClientOrderId client_order_id;
  VenueError error;
};

struct alignas(kCacheLine) ExecReport {
  std::uint64_t intent_id = 0;
  std::uint64_t position_id = 0;
  IntentKind kind = IntentKind::entry;
  ExecOutcome outcome = ExecOutcome::failed;
  RefusalReason refusal = RefusalReason::none;  // when blocked
  // Whether exec can reach each venue now (every report carries it, so the signal side stops
  // deciding entries that exec would refuse). A status-only report carries nothing else: exec
  // sends one when a venue's health changes.
  std::array<bool, kMaxVenues> venue_healthy{true, true, true, true};
  bool status_only = false;
  // A late word on one order an earlier report of this intent left unknown: its leg carries that
  // order's fills only (on its side, or as unwound on the opposite one); the other leg is empty.
  bool settles = false;
  Decimal dust_qty;  // residual below a venue minimum, moved to the dust ledger
  StageStamps stamps;
  std::array<LegReport, kPairLegs> legs{};  // one per venue of the pair, found by leg(venue)

  // As OrderIntent::leg.
  [[nodiscard]] LegReport& leg(Venue v) noexcept { return pair_leg(legs, v); }
  [[nodiscard]] const LegReport& leg(Venue v) const noexcept { return pair_leg(legs, v); }
  [[nodiscard]] bool has_leg(Venue v) const noexcept {
    return &pair_leg(legs, v) != &kNoLeg<LegReport>;
  }
};

// ---------------------------------------------------------------------------------------------
// All threads -> ops (journal, metrics, logs)

enum class PositionState : std::uint8_t { opening, open, closing, closed, broken };

[[nodiscard]] constexpr std::string_view to_string(PositionState s) noexcept {
  switch (s) {
    case PositionState::opening:
      return "opening";
    case PositionState::open:
      return "open";
    case PositionState::closing:
      return "closing";
    case PositionState::closed:
      return "closed";
    case PositionState::broken:
      return "broken";
  }
  return "unknown";
}

enum class LogLevel : std::uint8_t { debug, info, warn, error };

struct LogRecord {
  LogLevel level = LogLevel::info;
  FixedString<200> text;
};

struct PositionChange {
  std::uint64_t position_id = 0;
  InstrumentId instrument = kNoInstrument;
  VenuePair pair;
  Direction direction = Direction::kimchi;
  PositionState from = PositionState::opening;
  PositionState to = PositionState::opening;
  ExitReason exit_reason = ExitReason::none;
  Decimal qty;
  Decimal fx_rate;
  Decimal realized_krw;  // on close: the position's cash in KRW, exact to 1e-8 (rounded down)
};

struct RiskRefusal {
  RefusalReason reason = RefusalReason::none;
  InstrumentId instrument = kNoInstrument;
  VenuePair pair;  // the pair the entry would have traded
  Direction direction = Direction::kimchi;
  IntentKind kind = IntentKind::entry;
  double edge_bps = 0.0;
};

struct OpsEvent {
  std::int64_t wall_ns = 0;
  std::variant<LogRecord, OrderIntent, ExecReport, PositionChange, RiskRefusal> body;
};

// ---------------------------------------------------------------------------------------------
// Layout: messages cross threads by memcpy into ring slots; a change here is deliberate.

template <class T>
inline constexpr bool kIsTrivialStandardLayout =
    std::is_trivially_copyable_v<T>&& std::is_standard_layout_v<T>;
template <class T>
// NOLINTNEXTLINE(misc-redundant-expression): clang-tidy 14 misreads sizeof % alignof in a template.
inline constexpr bool kIsMessage = kIsTrivialStandardLayout<T> && sizeof(T) % alignof(T) == 0;

static_assert(sizeof(Decimal) == 8 && std::is_trivially_copyable_v<Decimal>);
static_assert(sizeof(StageStamps) == 56);
static_assert(sizeof(Level) == 16);
static_assert(kIsMessage<BookSnapshot> && alignof(BookSnapshot) == kCacheLine);
static_assert(sizeof(BookSnapshot) == 7 * kCacheLine, "header line + 10 levels per side");
static_assert(offsetof(BookSnapshot, bids) == kCacheLine + 16, "header fits the first lines");
static_assert(kIsMessage<OrderIntent> && alignof(OrderIntent) == kCacheLine);
static_assert(sizeof(OrderIntent) == 8 * kCacheLine);
static_assert(kIsMessage<ExecReport> && alignof(ExecReport) == kCacheLine);
static_assert(sizeof(ExecReport) <= 8 * kCacheLine);
static_assert(sizeof(LegReport) == 208, "two legs and the header fit 8 cache lines");
static_assert(std::is_trivially_copyable_v<OpsEvent>);
static_assert(sizeof(OpsEvent) <= 10 * kCacheLine, "sizes the ops queue's preallocation");

}  // namespace xarb
