#include <algorithm>
#include <cstdlib>

#include <xarb/signal/position.hpp>
#include <xarb/venues/registry.hpp>

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
  const std::int64_t q = std::min(leg(venues::kUpbit).held(), leg(venues::kBinance).held());
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
  const std::int64_t fees = leg(venues::kUpbit).fee_base + leg(venues::kBinance).fee_base;
  return abs64(leg(venues::kUpbit).held() - leg(venues::kBinance).held()) <= dust + fees &&
         leg(venues::kUpbit).held() >= -leg(venues::kUpbit).fee_base &&
         leg(venues::kBinance).held() >= -leg(venues::kBinance).fee_base;
}

double Position::entry_notional_krw() const noexcept {
  return static_cast<double>(leg(venues::kUpbit).opened.notional_e16) / kE16;
}

Int128 Position::cash_krw_e16(Decimal fx) const noexcept {
  // USDT e16 x KRW/USDT e8 = KRW e24; back to e16 rounding half away from zero.
  const Int128 usdt = leg(venues::kBinance).cash_e16() * fx.mantissa();
  const Int128 half = Decimal::kOne / 2;
  const Int128 krw = (usdt >= 0 ? usdt + half : usdt - half) / Decimal::kOne;
  return leg(venues::kUpbit).cash_e16() + krw;
}

double Position::realized_krw() const noexcept { return static_cast<double>(realized_e16) / kE16; }

void Position::refresh() noexcept {
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    cash[v] = static_cast<double>(legs[v].cash_e16()) / kE16;
    held[v] = static_cast<double>(legs[v].held()) / static_cast<double>(Decimal::kOne);
  }
  entry_notional = entry_notional_krw();
}

Mark mark(const Position& p, double upbit_exit_vwap, double binance_exit_vwap, double fx,
          double upbit_fee_bps, double binance_fee_bps) noexcept {
  constexpr std::size_t u = index(venues::kUpbit), b = index(venues::kBinance);
  const double krw = p.cash[u] + close_value(p.legs[u].entry_side, p.held[u], upbit_exit_vwap,
                                             upbit_fee_bps);
  const double usdt = p.cash[b] + close_value(p.legs[b].entry_side, p.held[b],
                                              binance_exit_vwap, binance_fee_bps);
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

Position* PositionBook::open(InstrumentId instrument, Direction direction) noexcept {
  if (free_count_ == 0) return nullptr;
  const std::uint16_t slot = free_[--free_count_];
  order_[count_++] = slot;
  Position& p = slots_[slot];
  p = Position{};
  p.id = next_id_++;
  p.instrument = instrument;
  p.direction = direction;
  p.leg(venues::kUpbit).entry_side = entry_side(direction, venues::kUpbit);
  p.leg(venues::kBinance).entry_side = entry_side(direction, venues::kBinance);
  return &p;
}

Position* PositionBook::adopt(const Position& restored) noexcept {
  if (free_count_ == 0 || restored.id == 0 || find(restored.id) != nullptr) return nullptr;
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
