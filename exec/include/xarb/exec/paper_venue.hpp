#pragma once

// The paper venue: fills IOC limit orders against the book levels an intent carries, after a
// configured latency, with adverse slippage, a partial-fill probability and fees, deterministic
// under a seed; keeps balances per asset; answers like the venue it stands for (its error codes
// and names), through the same interface as the live venues.
//
// With a market (a backtest) it models what a live order meets instead: each request's round
// trip is drawn from a latency model (a constant, or samples measured live), an order reaches
// the venue part of the way through it and fills against the market's book as it stands then,
// walking its levels and taking their depth (what an earlier order took stays taken until the
// book next changes), and orders beyond the venue's rate window are refused as it refuses them.

#include <array>
#include <cstdint>
#include <span>

#include <xarb/core/ids.hpp>
#include <xarb/exec/venue.hpp>

namespace xarb::exec {
namespace adapters {
struct PaperQuirks;
}

// The books a backtest's venues fill against: each venue's latest book as the replay has it.
class PaperMarket {
 public:
  virtual ~PaperMarket() = default;
  // The levels an order of `side` takes on `venue` (asks for a buy), best first; empty when the
  // book is not there.
  [[nodiscard]] virtual std::span<const Level> levels(Venue venue, InstrumentId instrument,
                                                      Side side) const noexcept = 0;
  // Changes each time that book changes: what was taken from it stays taken until then.
  [[nodiscard]] virtual std::uint64_t version(Venue venue, InstrumentId instrument) const noexcept = 0;
};

struct PaperParams {
  std::int64_t latency_ns = 300'000;  // request -> answer
  double slippage_bps = 0.0;          // every fill price moves this much against the order
  double partial_probability = 0.0;   // chance that an order fills only part of what it could
  double fee_bps = 10.0;              // in the quote currency
  std::uint64_t seed = 1;
  std::int64_t orders_per_window = 50;  // the rate budget it reports
  std::int64_t late_accept_ns = 2'000'000'000;  // PaperFault::late_accept: taken this much later
  std::int64_t not_found_grace_ns = 0;          // reported as not_found_grace_ns()
  // The rate window orders_per_window counts over; 0: the budget is reported, never enforced.
  // Enforced, an order past it is refused with the venue's 429 and blocks the venue
  // rate_block_ns.
  std::int64_t order_window_ns = 0;
  std::int64_t rate_block_ns = 10'000'000'000;
  // Enforce the venue's own documented order limit and window (its adapter's), as a backtest
  // does, in place of the two above.
  bool venue_order_limit = false;
  // Round trips (request written -> answer read) to draw from, by VenueOp (place, query,
  // cancel), uniformly with the seed; empty: latency_ns. The caller keeps them alive.
  std::array<std::span<const std::int64_t>, 3> latency_samples{};
  // With a market: the share of a round trip after which the venue acts on the request.
  double arrival_share = 0.5;
  const PaperMarket* market = nullptr;  // null: fill against the levels the intent carried
};

// A fault to inject into the next request of a kind (tests and the simulator's drills).
enum class PaperFault : std::uint8_t {
  none,
  lost_answer,  // the order executes, the answer is lost: the event says unknown
  reject,       // the venue refuses (insufficient balance)
  rate_limit,   // 429 with Retry-After: nothing executes, the budget is blocked
  no_fill,      // the book moved away: the IOC expires unfilled
  server_error, // 5xx before the order was taken: the event says unknown, nothing executed
  late_accept,  // the answer is lost and the venue takes the order late_accept_ns later: until
                // then a query finds no such order, after it the order has executed
};

// Why a paper venue refuses a request. Each venue's exec adapter says it as the venue would (its
// code or error name, and message), so that a paper run's errors read and classify as its own.
enum class PaperRefusal : std::uint8_t {
  lot_size,              // price or quantity off the venue's grid
  notional,              // under its minimum order value
  insufficient_balance,
  duplicate,             // a client order id already used
  rate_limited,
  unknown_order,         // a query for an order it never took
  unknown_cancel,        // a cancel of one
};

class PaperVenue final : public VenueClient {
 public:
  PaperVenue(Venue venue, const RulesTable& rules, PaperParams params);

  void set_base(InstrumentId instrument, Decimal qty) noexcept;
  void set_quote(Decimal amount) noexcept;
  void inject(VenueOp op, PaperFault fault) noexcept { faults_[static_cast<std::size_t>(op)] = fault; }

  [[nodiscard]] Venue venue() const noexcept override { return venue_; }
  [[nodiscard]] bool place(const OrderRequest& order, std::span<const Level> book) noexcept override;
  [[nodiscard]] bool query(InstrumentId instrument, const ClientOrderId& id) noexcept override;
  [[nodiscard]] bool cancel(InstrumentId instrument, const ClientOrderId& id) noexcept override;
  void poll(std::int64_t now_ns) noexcept override;
  [[nodiscard]] bool next_event(VenueEvent& out) noexcept override;
  [[nodiscard]] const InstrumentRules& rules(InstrumentId instrument) const noexcept override {
    return rules_.at(venue_, instrument);
  }
  [[nodiscard]] RateBudget budget(std::int64_t now_ns) const noexcept override;
  [[nodiscard]] bool healthy() const noexcept override { return healthy_; }
  // A drill: the venue as exec sees it after transport errors (or after a probe answered).
  void set_healthy(bool on) noexcept { healthy_ = on; }
  [[nodiscard]] std::int64_t not_found_grace_ns() const noexcept override {
    return params_.not_found_grace_ns;
  }
  [[nodiscard]] Decimal free_base(InstrumentId instrument) const noexcept override {
    return Decimal::from_mantissa(base_[instrument]);
  }
  [[nodiscard]] Decimal free_quote() const noexcept override;

  [[nodiscard]] std::uint64_t orders() const noexcept { return orders_; }
  // The earliest time something is due: an order reaching the venue or an answer (INT64_MAX:
  // nothing pending). A backtest advances its clock to it.
  [[nodiscard]] std::int64_t next_due_ns() const noexcept;
  // Every round trip drawn, in order (a backtest reports their distribution).
  [[nodiscard]] std::uint64_t drawn() const noexcept { return drawn_; }

 private:
  struct Pending {
    std::int64_t due_ns = 0;
    VenueEvent event;
    // With a market: the order executes when it reaches the venue (arrive_ns), not when sent.
    bool deferred = false;
    std::int64_t arrive_ns = 0;
    OrderRequest order;
    PaperFault fault = PaperFault::none;
  };
  // What orders took from a book since it last changed, by instrument and side.
  struct Taken {
    std::uint64_t version = 0;
    std::size_t count = 0;
    std::array<Level, kBookDepth> levels{};  // price, quantity taken at it
  };
  struct Known {
    InstrumentId instrument = kNoInstrument;
    OrderStatus status;
    std::int64_t visible_from_ns = 0;  // a query before this finds nothing (late acceptance)
  };

  // The final state of an IOC that filled `filled`.
  void finish_state(const OrderRequest& order, std::int64_t filled, OrderStatus& out) const noexcept;
  // Fills `order` against `book`; with no levels, at its limit when `liquid`, else not at all.
  void execute(const OrderRequest& order, std::span<const Level> book, bool liquid,
               OrderStatus& out) noexcept;
  void refuse(OrderStatus& out, PaperRefusal why, Side side) const noexcept;
  bool enqueue(const VenueEvent& event, std::int64_t latency_ns) noexcept;
  [[nodiscard]] std::int64_t draw_latency(VenueOp op) noexcept;
  // Orders reaching the venue by now_ns_, in the order they arrive.
  void arrive() noexcept;
  // The market's levels for `o` less what earlier orders took since the book last changed, into
  // `out`; records what `o` takes once executed (take()).
  std::span<const Level> market_levels(const OrderRequest& o) noexcept;
  void take(const OrderRequest& o, std::span<const Level> levels, std::int64_t filled) noexcept;
  // Takes an order the venue received: executes it against `book` (or refuses it), remembers it
  // for queries, and masks the answer a fault loses.
  void accept(const OrderRequest& order, std::span<const Level> book, PaperFault fault,
              VenueEvent& ev) noexcept;
  [[nodiscard]] bool rate_limited() noexcept;
  [[nodiscard]] Known* find(const ClientOrderId& id) noexcept;
  [[nodiscard]] double uniform() noexcept;
  [[nodiscard]] PaperFault take_fault(VenueOp op) noexcept;

  Venue venue_;
  const adapters::PaperQuirks* quirks_ = nullptr;  // its row's in exec's venue registry
  RulesTable rules_;
  PaperParams params_;
  std::uint64_t rng_;
  std::int64_t now_ns_ = 0;
  std::int64_t blocked_until_ns_ = 0;
  std::array<std::int64_t, kMaxInstruments> base_{};
  Int128 quote_e16_ = 0;
  std::array<PaperFault, 4> faults_{};  // by VenueOp
  bool healthy_ = true;
  static constexpr std::size_t kPending = 64;
  std::array<Pending, kPending> pending_{};
  std::size_t pending_count_ = 0;
  static constexpr std::size_t kKnown = 512;
  std::array<Known, kKnown> known_{};
  // A hash of each known order's client id, so a lookup scans 4 KiB instead of every status.
  std::array<std::uint64_t, kKnown> known_hash_{};
  std::size_t known_next_ = 0;
  std::uint64_t orders_ = 0;
  std::uint64_t drawn_ = 0;
  std::array<std::array<Taken, 2>, kMaxInstruments> taken_{};  // by instrument, side
  std::array<Level, kBookDepth> scratch_levels_{};
  std::array<std::int64_t, 256> sent_at_{};  // order times, for the rate window
  std::size_t sent_next_ = 0;
};

}  // namespace xarb::exec
