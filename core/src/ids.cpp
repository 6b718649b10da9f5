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

Errc SymbolMap::add(std::string_view base, std::span<const VenueSymbol> symbols) noexcept {
  if (base.empty() || !fits(base) || find_base(base) != kNoInstrument) {
    return Errc::invalid_argument;
  }
  Instrument item;
  (void)item.base.assign(base);
  bool listed = false;
  for (const VenueSymbol& s : symbols) {
    // A venue without a market for this asset may be given an empty name: it is skipped.
    if (!valid(s.venue)) return Errc::invalid_argument;
    if (s.symbol.empty()) continue;
    if (!fits(s.symbol) || item.listed_on(s.venue) || find(s.venue, s.symbol) != kNoInstrument) {
      return Errc::invalid_argument;
    }
    (void)item.symbols[index(s.venue)].assign(s.symbol);
    listed = true;
  }
  if (!listed) return Errc::invalid_argument;
  return append(item);
}

Errc SymbolMap::add_fx(Venue venue, std::string_view market) noexcept {
  if (fx_ != kNoInstrument || !valid(venue) || market.empty() || !fits(market) ||
      find(venue, market) != kNoInstrument) {
    return Errc::invalid_argument;
  }
  Instrument item;
  (void)item.symbols[index(venue)].assign(market);
  item.is_fx = true;
  const Errc ec = append(item);
  if (ec == Errc::ok) fx_ = static_cast<InstrumentId>(size_ - 1);
  return ec;
}

InstrumentId SymbolMap::find(Venue venue, std::string_view symbol) const noexcept {
  if (symbol.empty() || !valid(venue)) return kNoInstrument;
  for (std::size_t i = 0; i < size_; ++i) {
    if (iequals(items_[i].symbols[index(venue)].view(), symbol)) {
      return static_cast<InstrumentId>(i);
    }
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
