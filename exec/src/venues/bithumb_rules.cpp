// Bithumb's KRW tick table (docs/venues.md).

#include <xarb/exec/venues/venue_rules.hpp>

namespace xarb::exec {
namespace {

constexpr std::int64_t kOne = Decimal::kOne;

constexpr TickBand kBithumbBands[] = {
    {0, kOne / 10'000},           {kOne, kOne / 1'000},
    {10 * kOne, kOne / 100},      {100 * kOne, kOne},
    {5'000 * kOne, 5 * kOne},     {10'000 * kOne, 10 * kOne},
    {50'000 * kOne, 50 * kOne},   {100'000 * kOne, 100 * kOne},
    {500'000 * kOne, 500 * kOne}, {1'000'000 * kOne, 1'000 * kOne},
};

}  // namespace

const TickTable kBithumbKrwTicks{kBithumbBands};

Decimal bithumb_krw_tick(Decimal price) noexcept { return kBithumbKrwTicks.at(price); }

}  // namespace xarb::exec
