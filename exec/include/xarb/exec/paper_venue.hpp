#pragma once

// The paper venue: fills IOC limit orders against the book levels an intent carries, after a
// configured latency, with adverse slippage, a partial-fill probability and fees, deterministic
// under a seed; keeps balances per asset; answers like the venue it stands for (its error codes
// and names), through the same interface as the live venues.

#include <array>
#include <cstdint>
#include <span>

#include <xarb/core/ids.hpp>
#include <xarb/exec/venue.hpp>

namespace xarb::exec {
namespace adapters {
struct PaperQuirks;
}

struct PaperParams {
  std::int64_t latency_ns = 300'000;  // request -> answer
  double slippage_bps = 0.0;          // every fill price moves this much against the order
  double partial_probability = 0.0;   // chance that an order fills only part of what it could
  double fee_bps = 10.0;              // in the quote currency
  std::uint64_t seed = 1;
  std::int64_t orders_per_window = 50;  // the rate budget it reports
  std::int64_t late_accept_ns = 2'000'000'000;  // PaperFault::late_accept: taken this much later
  std::int64_t not_found_grace_ns = 0;          // reported as not_found_grace_ns()
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

 private:
  struct Pending {
    std::int64_t due_ns = 0;
    VenueEvent event;
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
  bool enqueue(const VenueEvent& event) noexcept;
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
};

}  // namespace xarb::exec
