#include <cstdint>

#include <xarb/signal/risk.hpp>

namespace xarb::signal {
namespace {

constexpr std::int64_t kHourNs = 3'600'000'000'000;
constexpr std::int64_t kDayNs = 24 * kHourNs;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

}  // namespace

void Inventory::set_base(Venue v, InstrumentId i, Decimal qty) noexcept {
  base_[index(v)][i] = qty.mantissa();
}

void Inventory::set_quote(Venue v, Decimal amount) noexcept {
  quote_e16_[index(v)] = static_cast<Int128>(amount.mantissa()) * Decimal::kOne;
}

void Inventory::apply_trade(Venue v, InstrumentId i, Side side, Decimal qty,
                            Decimal price) noexcept {
  const Int128 notional = static_cast<Int128>(price.mantissa()) * qty.mantissa();
  if (side == Side::buy) {
    base_[index(v)][i] += qty.mantissa();
    quote_e16_[index(v)] -= notional;
  } else {
    base_[index(v)][i] -= qty.mantissa();
    quote_e16_[index(v)] += notional;
  }
}

void Inventory::apply_fee(Venue v, Decimal fee) noexcept {
  quote_e16_[index(v)] -= static_cast<Int128>(fee.mantissa()) * Decimal::kOne;
}

void Inventory::apply_transfer(Venue v, InstrumentId i, Decimal qty) noexcept {
  if (i == kNoInstrument) {
    quote_e16_[index(v)] += static_cast<Int128>(qty.mantissa()) * Decimal::kOne;
  } else {
    base_[index(v)][i] += qty.mantissa();
  }
}

void Inventory::reserve(Venue v, InstrumentId i, std::int64_t base, Int128 quote_e16) noexcept {
  reserved_base_[index(v)][i] += base;
  reserved_quote_e16_[index(v)] += quote_e16;
}

void Inventory::release(Venue v, InstrumentId i, std::int64_t base, Int128 quote_e16) noexcept {
  reserved_base_[index(v)][i] -= base;
  reserved_quote_e16_[index(v)] -= quote_e16;
}

void RiskGuard::roll_day(std::int64_t wall_ns) noexcept {
  const std::int64_t day =
      floor_div(wall_ns - static_cast<std::int64_t>(params_.daily_reset_hour_utc) * kHourNs, kDayNs);
  if (day != day_) {
    day_ = day;
    daily_realized_krw_ = 0.0;
  }
}

RefusalReason RiskGuard::check_global(const Now& now) noexcept {
  roll_day(now.wall_ns);
  if (halted_ && now.mono_ns >= halted_until_ns_) {
    halted_ = false;
    consecutive_failures_ = 0;
  }
  if (params_.kill_switch) return RefusalReason::kill_switch;
  if (reducing_) return RefusalReason::reducing;
  if (halted_) return RefusalReason::halted;
  if (daily_realized_krw_ <= -static_cast<double>(params_.daily_loss_limit_krw)) {
    return RefusalReason::daily_loss;
  }
  return RefusalReason::none;
}

RefusalReason RiskGuard::check_notional(double notional_krw) const noexcept {
  if (notional_krw > static_cast<double>(params_.max_notional_krw)) {
    return RefusalReason::max_notional;
  }
  if (notional_krw < static_cast<double>(params_.min_notional_krw)) {
    return RefusalReason::min_notional;
  }
  return RefusalReason::none;
}

RefusalReason RiskGuard::check_exposure(double total_krw, double symbol_krw) const noexcept {
  if (total_krw > static_cast<double>(params_.max_total_exposure_krw)) {
    return RefusalReason::total_exposure;
  }
  if (symbol_krw > static_cast<double>(params_.max_symbol_exposure_krw)) {
    return RefusalReason::symbol_exposure;
  }
  return RefusalReason::none;
}

void RiskGuard::on_execution(bool failure, const Now& now) noexcept {
  if (!failure) {
    consecutive_failures_ = 0;
    return;
  }
  ++consecutive_failures_;
  if (params_.max_consecutive_failures > 0 &&
      consecutive_failures_ >= params_.max_consecutive_failures && !halted_) {
    halted_ = true;
    halted_until_ns_ = now.mono_ns + params_.halt_cooldown_ns;
    ++halts_;
  }
}

void RiskGuard::on_realized(double pnl_krw, const Now& now) noexcept {
  roll_day(now.wall_ns);
  daily_realized_krw_ += pnl_krw;
}

}  // namespace xarb::signal
