// Binance's trading rules: the filters of an exchangeInfo answer (docs/venues.md).

#include <simdjson.h>

#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/net/json.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {
namespace {

// A decimal ("0.01000000"); false when absent or not a decimal.
bool get_decimal(simdjson::simdjson_result<simdjson::ondemand::value> v, Decimal& out) noexcept {
  simdjson::ondemand::value value;
  if (std::move(v).get(value) != simdjson::SUCCESS) return false;
  return net::json::read_decimal(value, out, /*exact=*/false) == net::json::NumberStatus::ok;
}

// One Binance symbol object: its filters.
bool read_binance_symbol(simdjson::ondemand::object symbol, const SymbolMap& symbols,
                         RulesTable& table, std::size_t& loaded) noexcept {
  std::string_view name;
  InstrumentId id = kNoInstrument;
  InstrumentRules r;
  for (auto field : symbol) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
    if (key == "symbol") {
      if (field.value().get_string().get(name) != simdjson::SUCCESS) return false;
      id = symbols.find(venues::kBinance, name);
    } else if (key == "filters") {
      simdjson::ondemand::array filters;
      if (field.value().get_array().get(filters) != simdjson::SUCCESS) return false;
      for (auto f : filters) {
        simdjson::ondemand::object filter;
        if (f.get_object().get(filter) != simdjson::SUCCESS) return false;
        std::string_view type;
        Decimal a, b, c;
        // Keys come in the venue's order; read them by name, whatever the order.
        for (auto kv : filter) {
          std::string_view k;
          if (kv.unescaped_key().get(k) != simdjson::SUCCESS) return false;
          if (k == "filterType") {
            if (kv.value().get_string().get(type) != simdjson::SUCCESS) return false;
          } else if (k == "minPrice" || k == "minQty" || k == "minNotional") {
            (void)get_decimal(kv.value(), a);
          } else if (k == "maxPrice" || k == "maxQty" || k == "maxNotional") {
            (void)get_decimal(kv.value(), b);
          } else if (k == "tickSize" || k == "stepSize") {
            (void)get_decimal(kv.value(), c);
          }
        }
        if (type == "PRICE_FILTER") {
          r.min_price = a;
          r.max_price = b;
          r.tick = c;
        } else if (type == "LOT_SIZE") {
          r.min_qty = a;
          r.max_qty = b;
          r.step = c;
        } else if (type == "MIN_NOTIONAL" || type == "NOTIONAL") {
          r.min_notional = a;
          if (type == "NOTIONAL") r.max_notional = b;
        }
      }
    }
  }
  if (id == kNoInstrument) return true;  // a symbol we do not trade
  if (!r.tick.is_positive() || !r.step.is_positive()) return false;
  r.loaded = true;
  table.at(venues::kBinance, id) = r;
  ++loaded;
  return true;
}

}  // namespace

std::size_t load_binance_rules(std::string_view body, const SymbolMap& symbols, RulesTable& table,
                               std::string& error) {
  simdjson::ondemand::parser parser;
  std::size_t loaded = 0;
  // A whole response: {"symbols":[...]}.
  {
    const simdjson::padded_string padded(body);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object root;
    simdjson::ondemand::array list;
    if (parser.iterate(padded).get(doc) == simdjson::SUCCESS &&
        doc.get_object().get(root) == simdjson::SUCCESS &&
        root.find_field_unordered("symbols").get_array().get(list) == simdjson::SUCCESS) {
      for (auto item : list) {
        simdjson::ondemand::object o;
        if (item.get_object().get(o) != simdjson::SUCCESS ||
            !read_binance_symbol(o, symbols, table, loaded)) {
          error = "exchangeInfo: unreadable symbol object";
          return loaded;
        }
      }
      return loaded;
    }
  }
  // Otherwise one document per line, as in the shared capture: symbol objects are read, others
  // (the rate limits line) skipped.
  std::size_t start = 0;
  bool any = false;
  while (start < body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    start = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    const simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object root;
    if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
        doc.get_object().get(root) != simdjson::SUCCESS) {
      error = "exchangeInfo: not a JSON object";
      return loaded;
    }
    std::string_view name;
    if (root.find_field_unordered("symbol").get_string().get(name) != simdjson::SUCCESS) {
      any = true;
      continue;
    }
    any = true;
    if (root.reset().error() != simdjson::SUCCESS ||
        !read_binance_symbol(root, symbols, table, loaded)) {
      error = "exchangeInfo: unreadable symbol object";
      return loaded;
    }
  }
  if (!any) error = "exchangeInfo: empty";
  return loaded;
}

}  // namespace xarb::exec
