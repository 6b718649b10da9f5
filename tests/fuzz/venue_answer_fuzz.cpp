// libFuzzer target: any bytes as a venue's REST answer or private stream message. The first byte
// picks what reads it (Binance, Upbit or Bithumb; an order, an error body, the server time,
// balances, open orders, a private stream message, an order's trades, the trading rules of
// exchangeInfo or of Upbit's orderbook/instruments, or a rate-limit header as "name:value"); the
// rest is the body. Nothing from the network may crash
// the engine, and an order it accepts must not carry negative quantities or a negative notional
// (exec would count a negative fill).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/exec/venues/binance_api.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/venues/registry.hpp>

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

const xarb::SymbolMap& symbols() {
  static const xarb::SymbolMap map = [] {
    xarb::SymbolMap m;
    (void)m.add("BTC", {{xarb::venues::kUpbit, "KRW-BTC"}, {xarb::venues::kBinance, "BTCUSDT"}});
    (void)m.add_fx(xarb::venues::kUpbit, "KRW-USDT");
    return m;
  }();
  return map;
}

// Rules a loader accepted price and check orders without crashing, whatever they say.
void use(const xarb::exec::RulesTable& table, xarb::Venue v) {
  for (const xarb::Instrument& i : symbols()) {
    const xarb::exec::InstrumentRules& r = table.at(v, i.id);
    for (const std::int64_t price : {std::int64_t{1}, std::int64_t{499'999'999'999},
                                     std::int64_t{140'000'000} * xarb::Decimal::kOne}) {
      xarb::Decimal out;
      for (const xarb::Side side : {xarb::Side::buy, xarb::Side::sell}) {
        if (xarb::exec::round_price(r, side, xarb::Decimal::from_mantissa(price), out) ==
            xarb::Errc::ok) {
          if (!out.is_positive()) std::abort();
          (void)xarb::exec::check_order(r, out, xarb::exec::round_qty(r, xarb::Decimal::from_mantissa(price)));
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static xarb::exec::BinanceParser binance;
  static xarb::exec::UpbitParser upbit;
  static xarb::exec::UpbitParser bithumb(xarb::exec::UpbitDialect::bithumb);
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  xarb::exec::OrderStatus s;
  xarb::VenueError e;
  switch (data[0] % 20) {
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
    case 13:
    case 14:
    case 15: {
      // A private stream message: an order it states is sane.
      static xarb::exec::BinanceExecutions sums;
      xarb::exec::StreamUpdate u;
      const int which = data[0] % 20;
      const xarb::Errc r = which == 13   ? binance.parse_stream(body, u)
                           : which == 14 ? upbit.parse_stream(body, u)
                                         : bithumb.parse_stream(body, u);
      if (r != xarb::Errc::ok) break;
      if (u.kind == xarb::exec::StreamUpdate::Kind::order) {
        if (which == 13) sums.apply(u, "BTC", "USDT");
        check(u.order);
        if (u.execution.qty.mantissa() < 0 || u.execution.price.mantissa() < 0) std::abort();
      }
      // An answer's body is a part of the message.
      if (u.answer.body.size() > body.size()) std::abort();
      if (u.asset_count > xarb::exec::StreamUpdate::kMaxAssets) std::abort();
      break;
    }
    case 17: {
      // An order's trades (GET /api/v3/myTrades): taken only when they are all of the order.
      s.venue_id.assign("28");
      s.filled_qty = xarb::Decimal::from_mantissa(2'000'000);
      if (binance.parse_trades(body, "BTC", "USDT", s) == xarb::Errc::ok) {
        check(s);
        if (!s.fills_known) std::abort();
      }
      break;
    }
    case 18: {
      xarb::exec::RulesTable table;
      std::string error;
      (void)xarb::exec::load_binance_rules(body, symbols(), table, error);
      use(table, xarb::venues::kBinance);
      break;
    }
    case 19: {
      xarb::exec::RulesTable table;
      std::string error;
      xarb::exec::load_upbit_default_rules(symbols(), table);
      (void)xarb::exec::load_upbit_instruments(body, symbols(), table, error);
      use(table, xarb::venues::kUpbit);
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
