#include <xarb/feed/venues/upbit_parser.hpp>
#include <xarb/venues/registry.hpp>

#include "../json_input.hpp"

namespace xarb::feed {

namespace od = detail::od;

namespace {

// One orderbook unit: {"ap","bp","as","bs"} (SIMPLE) or {"ask_price",...} (DEFAULT).
DropReason read_unit(od::value value, Level& ask, Level& bid) noexcept {
  od::object unit;
  if (auto ec = value.get_object().get(unit); ec != simdjson::SUCCESS) {
    return detail::from_error(ec);
  }
  int seen = 0;
  for (auto item : unit) {
    od::field field;
    std::string_view key;
    if (auto ec = detail::field_key(item, field, key); ec != simdjson::SUCCESS) {
      return detail::from_error(ec);
    }
    od::value v = field.value();
    Decimal* target = nullptr;
    if (key == "ap" || key == "ask_price")
      target = &ask.price;
    else if (key == "bp" || key == "bid_price")
      target = &bid.price;
    else if (key == "as" || key == "ask_size")
      target = &ask.qty;
    else if (key == "bs" || key == "bid_size")
      target = &bid.qty;
    if (target == nullptr) continue;
    if (const DropReason r = detail::read_decimal(v, *target); r != DropReason::none) return r;
    if (target->is_negative()) return DropReason::bad_number;
    ++seen;
  }
  return seen == 4 ? DropReason::none : DropReason::missing_field;
}

}  // namespace

struct UpbitParser::Impl {
  Impl(const SymbolMap& s, std::size_t max_bytes, Venue v)
      : symbols(s), venue(v), input(max_bytes, max_bytes) {
    detail::allocate_or_die(parser, max_bytes);
  }
  ParsedFrame parse(std::string_view frame) noexcept;
  ParsedFrame parse_object(od::object root) noexcept;

  const SymbolMap& symbols;
  Venue venue;
  detail::JsonInput input;
  od::parser parser;
  detail::LevelArrays levels;
  ParserStats stats;
};

ParsedFrame UpbitParser::Impl::parse_object(od::object root) noexcept {
  std::string_view type, code, status;
  bool has_type = false, has_code = false, has_units = false, has_status = false;
  bool has_error = false;
  std::int64_t timestamp_ms = 0;
  ParsedFrame f;
  levels.bid_count = levels.ask_count = 0;

  for (auto item : root) {
    od::field field;
    std::string_view key;
    if (auto ec = detail::field_key(item, field, key); ec != simdjson::SUCCESS) {
      return detail::dropped(detail::from_error(ec));
    }
    od::value value = field.value();
    DropReason r = DropReason::none;
    if (key == "ty" || key == "type") {
      r = detail::read_string(value, type);
      has_type = true;
      if (r == DropReason::none && type != "orderbook") break;  // ticker, trade: counted only
    } else if (key == "cd" || key == "code") {
      r = detail::read_string(value, code);
      has_code = true;
    } else if (key == "tms" || key == "timestamp") {
      r = detail::read_int(value, timestamp_ms);
    } else if (key == "obu" || key == "orderbook_units") {
      od::array units;
      if (auto ec = value.get_array().get(units); ec != simdjson::SUCCESS) {
        return detail::dropped(detail::from_error(ec));
      }
      has_units = true;
      for (auto element : units) {
        od::value unit;
        if (auto ec = element.get(unit); ec != simdjson::SUCCESS) {
          return detail::dropped(detail::from_error(ec));
        }
        if (levels.ask_count == kMaxParsedLevels)
          return detail::dropped(DropReason::too_many_levels);
        r = read_unit(unit, levels.asks[levels.ask_count], levels.bids[levels.bid_count]);
        if (r != DropReason::none) return detail::dropped(r);
        ++levels.ask_count;
        ++levels.bid_count;
      }
    } else if (key == "status") {
      r = detail::read_string(value, status);
      has_status = true;
    } else if (key == "error") {
      od::object error;  // the venue's {"name","message"}
      if (auto ec = value.get_object().get(error); ec != simdjson::SUCCESS) {
        return detail::dropped(detail::from_error(ec));
      }
      for (auto error_item : error) {
        od::field error_field;
        std::string_view k, v;
        if (detail::field_key(error_item, error_field, k) != simdjson::SUCCESS) {
          return detail::dropped(DropReason::malformed);
        }
        od::value iv = error_field.value();
        if (iv.get_string().get(v) != simdjson::SUCCESS) continue;
        if (k == "name") (void)f.error_name.assign(v);
        if (k == "message") (void)f.error_message.assign(v);
      }
      has_error = true;
    }
    if (r != DropReason::none) return detail::dropped(r);
  }

  if (has_error) {
    f.kind = MsgKind::venue_error;
    return f;
  }
  if (has_status && !has_type) {
    f.kind = MsgKind::status;
    return f;
  }
  if (!has_type) return detail::dropped(DropReason::unknown_type);
  if (type == "trade") {
    f.kind = MsgKind::trade;
    return f;
  }
  if (type == "ticker") {
    f.kind = MsgKind::ticker;
    return f;
  }
  if (type != "orderbook") return detail::dropped(DropReason::unknown_type);
  if (!has_code || !has_units) return detail::dropped(DropReason::missing_field);
  f.instrument = symbols.find(venue, code);
  if (f.instrument == kNoInstrument) return detail::dropped(DropReason::unknown_symbol);
  // Bithumb: microseconds (any epoch time past 1e14 is not milliseconds: that is year 5138).
  if (venue == venues::kBithumb && timestamp_ms > 100'000'000'000'000) timestamp_ms /= 1'000;
  if (const DropReason r = detail::ms_to_ns(timestamp_ms, f.exchange_ns); r != DropReason::none) {
    return detail::dropped(r);
  }
  f.kind = MsgKind::orderbook;
  f.bids = {levels.bids.get(), levels.bid_count};
  f.asks = {levels.asks.get(), levels.ask_count};
  return f;
}

ParsedFrame UpbitParser::Impl::parse(std::string_view frame) noexcept {
  ParsedFrame f;
  od::document doc;
  od::object root;
  if (!input.load(frame)) {
    f = detail::dropped(DropReason::oversized);
  } else if (input.iterate(parser, doc) != simdjson::SUCCESS) {
    f = detail::dropped(DropReason::malformed);
  } else if (const DropReason r = detail::root_object(doc, root); r != DropReason::none) {
    f = detail::dropped(r);
  } else {
    f = parse_object(root);
  }
  stats.record(f);
  return f;
}

UpbitParser::UpbitParser(const SymbolMap& symbols, std::size_t max_message_bytes, Venue venue)
    : impl_(std::make_unique<Impl>(symbols, max_message_bytes, venue)) {}
UpbitParser::~UpbitParser() = default;

ParsedFrame UpbitParser::parse(std::string_view frame) noexcept { return impl_->parse(frame); }
const ParserStats& UpbitParser::stats() const noexcept { return impl_->stats; }

}  // namespace xarb::feed
