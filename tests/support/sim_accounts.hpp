#pragma once

// The simulator's market and accounts as exec's tests and benchmarks trade them: one BTC market
// listed on the three venues, and one account per venue under the keys below. Header-only: the
// benchmarks include it too.

#include <cstdint>
#include <vector>

#include <xarb/core/decimal.hpp>
#include <xarb/exec/signing.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::test {

inline const exec::Credentials kSimBinance{"bkey-0123456789", "bsecret"};
inline const exec::Credentials kSimUpbit{"ukey-0123456789", "usecret"};
inline const exec::Credentials kSimBithumb{"hkey-0123456789", "hsecret"};

// The credentials of `v`'s account.
inline const exec::Credentials& sim_credentials(Venue v) {
  return v == venues::kUpbit ? kSimUpbit : v == venues::kBithumb ? kSimBithumb : kSimBinance;
}

// BTC at `price_usdt`, listed as BTCUSDT on Binance and KRW-BTC on Upbit and Bithumb.
inline sim::SymbolSpec sim_btc(double price_usdt = 60'000.0) {
  sim::SymbolSpec btc;
  btc.base = "BTC";
  btc.markets[index(venues::kBinance)] = "BTCUSDT";
  btc.markets[index(venues::kUpbit)] = "KRW-BTC";
  btc.markets[index(venues::kBithumb)] = "KRW-BTC";
  btc.price_usdt = price_usdt;
  return btc;
}

// One account per venue: `usdt` on Binance, `krw` on Upbit and on Bithumb, and `btc` on each
// (whole units).
inline std::vector<sim::AccountSpec> sim_accounts(std::int64_t usdt, std::int64_t krw,
                                                  std::int64_t btc) {
  const auto account = [&](Venue v, const char* quote, std::int64_t amount) {
    const exec::Credentials& c = sim_credentials(v);
    return sim::AccountSpec{
        v, c.key, c.secret, {{quote, amount * Decimal::kOne}, {"BTC", btc * Decimal::kOne}}};
  };
  return {account(venues::kBinance, "USDT", usdt), account(venues::kUpbit, "KRW", krw),
          account(venues::kBithumb, "KRW", krw)};
}

// The venues' rate limits lifted: they do not pace a benchmark.
inline void sim_unlimited(sim::SimOptions& o) {
  for (sim::SimVenueParams& v : o.venues) {
    v.request_limit = 1'000'000'000;
    v.order_limit = 1'000'000'000;
  }
}

}  // namespace xarb::test
