#pragma once

// The risk guard's state (docs/design.md: Risk guard) and the inventory it checks balances
// against. Owned by the signal thread: no locks, no allocation.

#include <array>
#include <cstdint>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/signal/params.hpp>

namespace xarb::signal {

// Balances per venue and asset, moved by every fill. Base assets are per instrument (BTC on
// Upbit, BTC on Binance); the quote asset is KRW on Upbit and USDT on Binance. Amounts set aside
// for intents in flight are `reserved` until their report arrives.
class Inventory {
 public:
  void set_base(Venue v, InstrumentId i, Decimal qty) noexcept;
  void set_quote(Venue v, Decimal amount) noexcept;

  // A trade of `qty` at `price` on `side`, and a fee in the quote currency.
  void apply_trade(Venue v, InstrumentId i, Side side, Decimal qty, Decimal price) noexcept;
  void apply_fee(Venue v, Decimal fee) noexcept;
  // A commission taken in the base asset: that much less is held.
  void apply_base_fee(Venue v, InstrumentId i, Decimal fee) noexcept {
    base_[index(v)][i] -= fee.mantissa();
  }

  // An operator moved `qty` of base asset `i` (kNoInstrument: of the venue's quote asset) in
  // (qty > 0) or out (qty < 0) of the venue: a deposit or a withdrawal made outside the engine.
  void apply_transfer(Venue v, InstrumentId i, Decimal qty) noexcept;

  void reserve(Venue v, InstrumentId i, std::int64_t base, Int128 quote_e16) noexcept;
  void release(Venue v, InstrumentId i, std::int64_t base, Int128 quote_e16) noexcept;

  [[nodiscard]] Decimal base(Venue v, InstrumentId i) const noexcept {
    return Decimal::from_mantissa(base_[index(v)][i]);
  }
  // Quote balance in units of the currency (KRW or USDT).
  [[nodiscard]] double quote(Venue v) const noexcept {
    return static_cast<double>(quote_e16_[index(v)]) * 1e-16;
  }
  [[nodiscard]] Int128 quote_e16(Venue v) const noexcept { return quote_e16_[index(v)]; }
  // What is left after reservations.
  [[nodiscard]] std::int64_t free_base(Venue v, InstrumentId i) const noexcept {
    return base_[index(v)][i] - reserved_base_[index(v)][i];
  }
  [[nodiscard]] Int128 free_quote_e16(Venue v) const noexcept {
    return quote_e16_[index(v)] - reserved_quote_e16_[index(v)];
  }
  // Set aside for intents in flight.
  [[nodiscard]] std::int64_t reserved_base(Venue v, InstrumentId i) const noexcept {
    return reserved_base_[index(v)][i];
  }
  [[nodiscard]] Int128 reserved_quote_e16(Venue v) const noexcept {
    return reserved_quote_e16_[index(v)];
  }

 private:
  std::array<std::array<std::int64_t, kMaxInstruments>, kMaxVenues> base_{};
  std::array<std::array<std::int64_t, kMaxInstruments>, kMaxVenues> reserved_base_{};
  std::array<Int128, kMaxVenues> quote_e16_{};
  std::array<Int128, kMaxVenues> reserved_quote_e16_{};
};

enum class RiskMode : std::uint8_t {
  normal,
  halted,    // circuit breaker: no entries until the cool-down ends
  reducing,  // exits only, until an operator clears it
};

[[nodiscard]] constexpr const char* to_string(RiskMode m) noexcept {
  return m == RiskMode::normal ? "normal" : m == RiskMode::halted ? "halted" : "reducing";
}

// The global tier and its transitions, plus the refusal counters of every tier.
class RiskGuard {
 public:
  explicit RiskGuard(const RiskParams& params) noexcept : params_(params) {}

  // Global tier for an entry at `now`: kill switch, halted, reducing, daily loss. Resumes from
  // HALTED once the cool-down has passed, and rolls the trading day at the reset hour.
  [[nodiscard]] RefusalReason check_global(const Now& now) noexcept;
  // Trade tier: notional of one entry in KRW.
  [[nodiscard]] RefusalReason check_notional(double notional_krw) const noexcept;
  // Exposure with the new entry included.
  [[nodiscard]] RefusalReason check_exposure(double total_krw, double symbol_krw) const noexcept;

  // An execution finished: failures (failed, rolled back, broken) in a row trip the breaker.
  void on_execution(bool failure, const Now& now) noexcept;
  // A position closed with this realised PnL; counts towards the trading day of `now`.
  void on_realized(double pnl_krw, const Now& now) noexcept;
  // A position became BROKEN: exits only until an operator calls set_reducing(false).
  void on_broken() noexcept { reducing_ = true; }

  void set_kill_switch(bool on) noexcept { params_.kill_switch = on; }
  // The money limits and the breaker's count, changed live (the kill switch stays as it is).
  void set_limits(const RiskParams& p) noexcept {
    params_.daily_loss_limit_krw = p.daily_loss_limit_krw;
    params_.max_total_exposure_krw = p.max_total_exposure_krw;
    params_.max_symbol_exposure_krw = p.max_symbol_exposure_krw;
    params_.max_notional_krw = p.max_notional_krw;
    params_.max_consecutive_failures = p.max_consecutive_failures;
  }
  void set_reducing(bool on) noexcept { reducing_ = on; }
  void set_venue_healthy(Venue v, bool healthy) noexcept { healthy_[index(v)] = healthy; }
  [[nodiscard]] bool venue_healthy(Venue v) const noexcept { return healthy_[index(v)]; }

  [[nodiscard]] RiskMode mode() const noexcept {
    return reducing_ ? RiskMode::reducing : halted_ ? RiskMode::halted : RiskMode::normal;
  }
  [[nodiscard]] bool kill_switch() const noexcept { return params_.kill_switch; }
  [[nodiscard]] double daily_realized_krw() const noexcept { return daily_realized_krw_; }
  [[nodiscard]] int consecutive_failures() const noexcept { return consecutive_failures_; }
  [[nodiscard]] std::uint64_t halts() const noexcept { return halts_; }
  [[nodiscard]] const RiskParams& params() const noexcept { return params_; }

  // Counts one refusal of an intent, by reason.
  void count(RefusalReason r) noexcept { ++refusals_[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::uint64_t refusals(RefusalReason r) const noexcept {
    return refusals_[static_cast<std::size_t>(r)];
  }

 private:
  void roll_day(std::int64_t wall_ns) noexcept;

  RiskParams params_;
  bool reducing_ = false;
  bool halted_ = false;
  std::int64_t halted_until_ns_ = 0;
  int consecutive_failures_ = 0;
  std::uint64_t halts_ = 0;
  std::int64_t day_ = INT64_MIN;
  double daily_realized_krw_ = 0.0;
  std::array<bool, kMaxVenues> healthy_{true, true, true, true};
  std::array<std::uint64_t, static_cast<std::size_t>(RefusalReason::count)> refusals_{};
};

}  // namespace xarb::signal
