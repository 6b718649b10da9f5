// libFuzzer target: any bytes as a venue's REST answer. The first byte picks what reads it
// (Binance, Upbit or Bithumb; an order, an error body, the server time, balances, open orders, or a
// rate-limit header as "name:value"); the rest is the body. Nothing from the network may crash
// the engine, and an order it accepts must not carry negative quantities or a negative notional
// (exec would count a negative fill).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/exec/binance_api.hpp>
#include <xarb/exec/upbit_api.hpp>

namespace {

void check(const xarb::exec::OrderStatus& s) {
  if (s.orig_qty.mantissa() < 0 || s.filled_qty.mantissa() < 0 || s.filled_notional_e16 < 0) {
    std::abort();
  }
  (void)s.avg_price();
}

// A list answer: one name (symbol or market) per order, every order sane.
void check(const std::vector<xarb::exec::OrderStatus>& orders, const std::vector<std::string>& names) {
  if (orders.size() != names.size()) std::abort();
  for (const auto& o : orders) check(o);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static xarb::exec::BinanceParser binance;
  static xarb::exec::UpbitParser upbit;
  static xarb::exec::UpbitParser bithumb(xarb::exec::KrwDialect::bithumb);
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  xarb::exec::OrderStatus s;
  xarb::VenueError e;
  switch (data[0] % 13) {
    case 0:
      if (binance.parse_order(body, "BTC", "USDT", s) == xarb::Errc::ok) check(s);
      break;
    case 1:
      (void)binance.parse_error(body, e);
      break;
    case 2: {
      std::int64_t ms = 0;
      (void)binance.parse_server_time(body, ms);
      break;
    }
    case 3: {
      std::vector<xarb::exec::Balance> balances;
      (void)binance.parse_account(body, balances);
      break;
    }
    case 4: {
      std::vector<xarb::exec::OrderStatus> orders;
      std::vector<std::string> symbols;
      if (binance.parse_open_orders(body, orders, symbols) == xarb::Errc::ok) check(orders, symbols);
      break;
    }
    case 5:
      if (upbit.parse_order(body, s) == xarb::Errc::ok) check(s);
      break;
    case 6:
      (void)upbit.parse_error(body, e);
      break;
    case 7: {
      std::vector<xarb::exec::UpbitAccount> accounts;
      (void)upbit.parse_accounts(body, accounts);
      break;
    }
    case 8: {
      std::vector<xarb::exec::OrderStatus> orders;
      std::vector<std::string> markets;
      if (upbit.parse_orders(body, orders, markets) == xarb::Errc::ok) check(orders, markets);
      break;
    }
    case 10:
      if (bithumb.parse_order(body, s) == xarb::Errc::ok) check(s);
      break;
    case 11:
      (void)bithumb.parse_error(body, e);
      break;
    case 12: {
      std::vector<xarb::exec::OrderStatus> orders;
      std::vector<std::string> markets;
      if (bithumb.parse_orders(body, orders, markets) == xarb::Errc::ok) check(orders, markets);
      break;
    }
    default: {
      const auto colon = body.find(':');
      if (colon == std::string_view::npos) break;
      xarb::exec::RateLimitState state;
      xarb::exec::binance_header(body.substr(0, colon), body.substr(colon + 1), state);
      xarb::exec::upbit_header(body.substr(0, colon), body.substr(colon + 1), state);
      break;
    }
  }
  return 0;
}
