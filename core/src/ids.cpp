#include <xarb/core/ids.hpp>

namespace xarb {
namespace {

constexpr char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size() || a.empty() || lower(a[0]) != lower(b[0])) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool fits(std::string_view s) noexcept { return s.size() <= SymbolText::kCapacity; }

}  // namespace

Errc SymbolMap::append(Instrument item) noexcept {
  if (size_ == kMaxInstruments) return Errc::invalid_argument;
  item.id = static_cast<InstrumentId>(size_);
  items_[size_++] = item;
  return Errc::ok;
}

Errc SymbolMap::add(std::string_view base, std::string_view upbit_market,
                    std::string_view binance_symbol) noexcept {
  // A pair needs at least one venue; replaying a one-venue capture uses one-sided instruments.
  if (base.empty() || (upbit_market.empty() && binance_symbol.empty())) {
    return Errc::invalid_argument;
  }
  if (!fits(base) || !fits(upbit_market) || !fits(binance_symbol)) return Errc::invalid_argument;
  if (find_base(base) != kNoInstrument ||
      (!upbit_market.empty() && find_upbit(upbit_market) != kNoInstrument) ||
      (!binance_symbol.empty() && find_binance(binance_symbol) != kNoInstrument)) {
    return Errc::invalid_argument;
  }
  Instrument item;
  (void)item.base.assign(base);
  (void)item.upbit_market.assign(upbit_market);
  (void)item.binance_symbol.assign(binance_symbol);
  return append(item);
}

Errc SymbolMap::add_fx(std::string_view upbit_market) noexcept {
  if (fx_ != kNoInstrument || upbit_market.empty() || !fits(upbit_market)) {
    return Errc::invalid_argument;
  }
  if (find_upbit(upbit_market) != kNoInstrument) return Errc::invalid_argument;
  Instrument item;
  (void)item.upbit_market.assign(upbit_market);
  item.is_fx = true;
  const Errc ec = append(item);
  if (ec == Errc::ok) fx_ = static_cast<InstrumentId>(size_ - 1);
  return ec;
}

InstrumentId SymbolMap::find_upbit(std::string_view market) const noexcept {
  if (market.empty()) return kNoInstrument;
  for (std::size_t i = 0; i < size_; ++i) {
    if (items_[i].upbit_market.view() == market) return static_cast<InstrumentId>(i);
  }
  return kNoInstrument;
}

InstrumentId SymbolMap::find_binance(std::string_view symbol) const noexcept {
  if (symbol.empty()) return kNoInstrument;
  for (std::size_t i = 0; i < size_; ++i) {
    if (iequals(items_[i].binance_symbol.view(), symbol)) return static_cast<InstrumentId>(i);
  }
  return kNoInstrument;
}

InstrumentId SymbolMap::find_base(std::string_view base) const noexcept {
  if (base.empty()) return kNoInstrument;
  for (std::size_t i = 0; i < size_; ++i) {
    if (items_[i].base.view() == base) return static_cast<InstrumentId>(i);
  }
  return kNoInstrument;
}

}  // namespace xarb
