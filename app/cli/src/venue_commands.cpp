#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <ostream>

#include <xarb/app/venue_commands.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

std::string_view state_text(OrderState s) { return to_string(s); }

void print_order(std::ostream& out, Venue v, std::string_view symbol, const exec::OrderStatus& s) {
  out << to_string(v) << "  " << symbol << "  " << s.client_id.view() << "  " << state_text(s.state)
      << "  filled " << to_string(s.filled_qty) << " of " << to_string(s.orig_qty);
  if (s.filled_qty.is_positive()) out << " at " << to_string(s.avg_price());
  if (s.fee_quote.is_positive()) out << "  fee " << to_string(s.fee_quote);
  if (!s.venue_id.empty()) out << "  venue id " << s.venue_id.view();
  out << '\n';
}

bool parse_decimal(const std::string& text, const char* what, Decimal& out, std::ostream& err) {
  if (Decimal::parse(text, out) != Errc::ok || !out.is_positive()) {
    err << "--" << what << " \"" << text
        << "\" is not a positive decimal with at most 8 decimals\n";
    return false;
  }
  return true;
}

}  // namespace

namespace {

// `balances`: what the venue holds, free and locked.
int venue_balances(exec::RestVenue& venue, Venue v, std::ostream& out, std::ostream& err) {
  std::vector<exec::AssetBalance> balances;
  std::string error;
  if (!venue.read_balances(balances, error)) {
    err << to_string(v) << ": " << error << '\n';
    return 1;
  }
  out << to_string(v) << " balances\n";
  for (const auto& b : balances) {
    if (b.free.is_zero() && b.locked.is_zero()) continue;
    out << "  " << std::left << std::setw(8) << b.asset << " free " << to_string(b.free)
        << "  locked " << to_string(b.locked) << '\n';
  }
  return 0;
}

// `open-orders`, and `cancel-all` (each order cancelled on its own market on the venue).
int open_orders(exec::RestVenue& venue, Venue v, const SymbolMap& symbols, bool cancel,
                std::ostream& out, std::ostream& err) {
  std::vector<exec::OpenOrder> orders;
  std::string error;
  if (!venue.read_open_orders(orders, error)) {
    err << to_string(v) << ": " << error << '\n';
    return 1;
  }
  if (orders.empty()) out << to_string(v) << ": no open orders\n";
  int rc = 0;
  for (const auto& o : orders) {
    print_order(out, v, o.symbol, o.status);
    if (!cancel) continue;
    const InstrumentId id = symbols.find(v, o.symbol);
    exec::OrderStatus result;
    if (id == kNoInstrument || !venue.cancel_blocking(id, o.status.client_id, result, error)) {
      err << to_string(v) << ": cancel " << o.status.client_id.view() << ": "
          << (id == kNoInstrument ? "not a configured symbol" : error) << '\n';
      rc = 1;
    } else {
      out << "  cancelled\n";
    }
  }
  return rc;
}

// `order place`: one limit order, checked against the venue's rules before it is sent.
int place(exec::RestVenue& venue, Venue v, const SymbolMap& symbols, InstrumentId instrument,
          const VenueCommand& cmd, std::ostream& out, std::ostream& err) {
  exec::OrderRequest order;
  order.instrument = instrument;
  if (cmd.side != "buy" && cmd.side != "sell") {
    err << "--side must be buy or sell\n";
    return 1;
  }
  order.side = cmd.side == "buy" ? Side::buy : Side::sell;
  if (!parse_decimal(cmd.price, "price", order.price, err) ||
      !parse_decimal(cmd.qty, "qty", order.qty, err)) {
    return 1;
  }
  order.tif = cmd.tif == "gtc"   ? exec::TimeInForce::gtc
              : cmd.tif == "fok" ? exec::TimeInForce::fok
                                 : exec::TimeInForce::ioc;
  const std::string market(symbols[instrument].symbol(v));
  if (const exec::RuleViolation bad =
          exec::check_order(venue.rules(instrument), order.price, order.qty);
      bad != exec::RuleViolation::none) {
    err << to_string(v) << " " << market << ": " << exec::to_string(bad) << "; nothing was sent\n";
    return 1;
  }
  if (cmd.client_id.empty()) {
    const auto ms = static_cast<std::uint64_t>(clock::wall_ns() / 1'000'000);
    order.client_id = exec::TwoLegExecutor::client_id(ms, 0, v, 0);
  } else if (!order.client_id.assign(cmd.client_id)) {
    err << "--client-id is longer than 36 characters\n";
    return 1;
  }
  exec::OrderStatus result;
  std::string error;
  if (!venue.place_blocking(order, result, error)) {
    err << to_string(v) << ": place " << order.client_id.view() << ": " << error << '\n';
    return 1;
  }
  print_order(out, v, market, result);
  return 0;
}

// `order get` and `order cancel`, by client id.
int get_or_cancel(exec::RestVenue& venue, Venue v, const SymbolMap& symbols,
                  InstrumentId instrument, const VenueCommand& cmd, std::ostream& out,
                  std::ostream& err) {
  ClientOrderId id;
  if (cmd.client_id.empty() || !id.assign(cmd.client_id)) {
    err << "--client-id is required (at most 36 characters)\n";
    return 1;
  }
  exec::OrderStatus result;
  std::string error;
  const bool ok = cmd.action == "get" ? venue.get_blocking(instrument, id, result, error)
                                      : venue.cancel_blocking(instrument, id, result, error);
  if (!ok) {
    err << to_string(v) << ": " << cmd.action << " " << cmd.client_id << ": " << error << '\n';
    return 1;
  }
  print_order(out, v, symbols[instrument].symbol(v), result);
  return 0;
}

// The venue's REST client with its credentials, started; null (said on `err`) when it cannot be.
std::unique_ptr<exec::RestVenue> start_venue(const Config& config, const SymbolMap& symbols,
                                             Venue v, std::ostream& err) {
  exec::RestVenueOptions options = rest_options(config, v);
  options.private_stream = false;  // an operator's call: the answers say everything
  std::string error;
  if (!options.credentials.present() && !load_credentials(config, v, options.credentials, error)) {
    err << error << '\n';
    return nullptr;
  }
  std::unique_ptr<exec::RestVenue> venue;
  try {
    venue = std::make_unique<exec::RestVenue>(symbols, options);
  } catch (const std::exception& e) {
    err << to_string(v) << ": " << e.what() << '\n';
    return nullptr;
  }
  if (!venue->start(error)) {
    err << error << '\n';
    return nullptr;
  }
  return venue;
}

}  // namespace

int run_venue_command(const std::string& config_path, const VenueCommand& cmd, std::ostream& out,
                      std::ostream& err) {
  const LoadResult loaded = load_config(config_path);
  if (!loaded.ok()) {
    for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
    return 2;
  }
  const Config& config = loaded.config;
  const SymbolMap symbols = build_symbol_map(config);
  const std::vector<Venue> venues = cmd.venues.empty() ? config.venues() : cmd.venues;
  for (const Venue v : venues) {
    if (!config.trades(v)) {
      err << config_path << ": no [venues." << to_string(v) << "] section: " << to_string(v)
          << " is not traded by this config\n";
      return 2;
    }
  }
  const bool order_action = cmd.action == "place" || cmd.action == "get" || cmd.action == "cancel";
  if (order_action && venues.size() != 1) {
    err << "venue order " << cmd.action << ": name one --venue\n";
    return 1;
  }
  const InstrumentId instrument = order_action ? symbols.find_base(cmd.symbol) : kNoInstrument;
  if (order_action && instrument == kNoInstrument) {
    err << "--symbol " << cmd.symbol << " is not among the config's [[symbols]]\n";
    return 1;
  }
  int rc = 0;
  for (const Venue v : venues) {
    const std::unique_ptr<exec::RestVenue> venue = start_venue(config, symbols, v, err);
    if (!venue) {
      rc = 1;
      continue;
    }
    if (cmd.action == "balances") {
      rc |= venue_balances(*venue, v, out, err);
    } else if (cmd.action == "open-orders" || cmd.action == "cancel-all") {
      rc |= open_orders(*venue, v, symbols, cmd.action == "cancel-all", out, err);
    } else if (cmd.action == "place") {
      return place(*venue, v, symbols, instrument, cmd, out, err);
    } else if (cmd.action == "get" || cmd.action == "cancel") {
      return get_or_cancel(*venue, v, symbols, instrument, cmd, out, err);
    } else {
      err << "unknown venue action \"" << cmd.action << "\"\n";
      return 1;
    }
  }
  return rc;
}

}  // namespace xarb::app
