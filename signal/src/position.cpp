#include <algorithm>
#include <cstdlib>

#include <xarb/signal/position.hpp>

namespace xarb::signal {
namespace {

constexpr double kE16 = 1e16;

std::int64_t abs64(std::int64_t v) noexcept { return v < 0 ? -v : v; }

// Quote flow of trading `held` base units back at `vwap` with a fee: what closing earns (a long
// sells) or costs (a short buys back).
double close_value(Side entry, double held, double vwap, double fee_bps) noexcept {
  const double fee = fee_bps * 1e-4;
  return entry == Side::buy ? held * vwap * (1.0 - fee) : -held * vwap * (1.0 + fee);
}

}  // namespace

Decimal Position::qty() const noexcept {
  const std::int64_t q = std::min(first().held(), second().held());
  return Decimal::from_mantissa(std::max<std::int64_t>(q, 0));
}

// A leg traded the same quantity out as in, and the venue took a commission in the base asset:
// it holds that commission less than before the position. The ledger counts it; no order could
// buy back a satoshi's commission, so the leg is flat up to it.
bool Position::flat() const noexcept {
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    if (abs64(legs[v].held()) > std::max({dust, leg_dust[v], legs[v].fee_base})) return false;
  }
  return true;
}

bool Position::hedged() const noexcept {
  const std::int64_t fees = first().fee_base + second().fee_base;
  return abs64(first().held() - second().held()) <= dust + fees &&
         first().held() >= -first().fee_base && second().held() >= -second().fee_base;
}

double Position::entry_notional_krw() const noexcept {
  return static_cast<double>(first().opened.notional_e16) / kE16;
}

Int128 Position::cash_krw_e16(Decimal fx) const noexcept {
  // USDT e16 x KRW/USDT e8 = KRW e24; back to e16 rounding half away from zero.
  const Int128 usdt = second().cash_e16() * fx.mantissa();
  const Int128 half = Decimal::kOne / 2;
  const Int128 krw = (usdt >= 0 ? usdt + half : usdt - half) / Decimal::kOne;
  return first().cash_e16() + krw;
}

double Position::realized_krw() const noexcept { return static_cast<double>(realized_e16) / kE16; }

void Position::refresh() noexcept {
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    cash[v] = static_cast<double>(legs[v].cash_e16()) / kE16;
    held[v] = static_cast<double>(legs[v].held()) / static_cast<double>(Decimal::kOne);
  }
  entry_notional = entry_notional_krw();
}

Mark mark(const Position& p, double first_exit_vwap, double second_exit_vwap, double fx,
          double first_fee_bps, double second_fee_bps) noexcept {
  const std::size_t f = index(p.pair.first), s = index(p.pair.second);
  const double krw =
      p.cash[f] + close_value(p.legs[f].entry_side, p.held[f], first_exit_vwap, first_fee_bps);
  const double usdt =
      p.cash[s] + close_value(p.legs[s].entry_side, p.held[s], second_exit_vwap, second_fee_bps);
  Mark m;
  m.pnl_krw = krw + usdt * fx;
  m.pnl_bps = p.entry_notional > 0.0 ? m.pnl_krw / p.entry_notional * 1e4 : 0.0;
  return m;
}

PositionBook::PositionBook(std::uint64_t first_id) noexcept : next_id_(first_id) {
  for (std::size_t i = 0; i < kMaxPositions; ++i) {
    free_[i] = static_cast<std::uint16_t>(kMaxPositions - 1 - i);  // hand out slot 0 first
  }
}

Position* PositionBook::open(InstrumentId instrument, Direction direction,
                             VenuePair pair) noexcept {
  if (free_count_ == 0 || !pair.valid()) return nullptr;
  const std::uint16_t slot = free_[--free_count_];
  order_[count_++] = slot;
  Position& p = slots_[slot];
  p = Position{};
  p.id = next_id_++;
  p.instrument = instrument;
  p.pair = pair;
  p.direction = direction;
  p.first().entry_side = entry_side(direction, true);
  p.second().entry_side = entry_side(direction, false);
  return &p;
}

Position* PositionBook::adopt(const Position& restored) noexcept {
  if (free_count_ == 0 || restored.id == 0 || !restored.pair.valid() ||
      find(restored.id) != nullptr) {
    return nullptr;
  }
  const std::uint16_t slot = free_[--free_count_];
  order_[count_++] = slot;
  Position& p = slots_[slot];
  p = restored;
  p.refresh();
  next_id_ = std::max(next_id_, restored.id + 1);
  return &p;
}

void PositionBook::release(Position& p) noexcept {
  const auto slot = static_cast<std::uint16_t>(&p - slots_.data());
  for (std::size_t i = 0; i < count_; ++i) {
    if (order_[i] != slot) continue;
    // Keep the order of the others (oldest first) for deterministic iteration.
    std::copy(order_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
              order_.begin() + static_cast<std::ptrdiff_t>(count_),
              order_.begin() + static_cast<std::ptrdiff_t>(i));
    --count_;
    free_[free_count_++] = slot;
    return;
  }
}

Position* PositionBook::find(std::uint64_t id) noexcept {
  for (std::size_t i = 0; i < count_; ++i) {
    if (slots_[order_[i]].id == id) return &slots_[order_[i]];
  }
  return nullptr;
}

}  // namespace xarb::signal
