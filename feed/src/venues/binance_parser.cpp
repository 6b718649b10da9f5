#include <charconv>

#include <xarb/feed/venues/binance_parser.hpp>
#include <xarb/venues/registry.hpp>

#include "../json_input.hpp"

namespace xarb::feed {

using detail::od::json_type;
namespace od = detail::od;

namespace {

// What the combined-stream name says a payload is.
enum class StreamKind : std::uint8_t {
  unknown,
  diff_depth,
  partial_depth,
  book_ticker,
  trade,
  kline,
  ticker
};

StreamKind stream_kind(std::string_view suffix) noexcept {
  if (suffix == "bookTicker") return StreamKind::book_ticker;
  if (suffix == "depth" || suffix.starts_with("depth@")) return StreamKind::diff_depth;
  if (suffix.starts_with("depth")) return StreamKind::partial_depth;  // depth5, depth10@100ms
  if (suffix == "trade" || suffix == "aggTrade") return StreamKind::trade;
  if (suffix.starts_with("kline")) return StreamKind::kline;
  if (suffix.ends_with("icker")) return StreamKind::ticker;  // ticker, miniTicker, ticker_1h
  return StreamKind::unknown;
}

// Reads [["price","qty"], ...] into `out`; extra elements after the two are ignored.
DropReason read_levels(od::value value, Level* out, std::size_t& count) noexcept {
  od::array levels;
  if (auto ec = value.get_array().get(levels); ec != simdjson::SUCCESS) {
    return detail::from_error(ec);
  }
  count = 0;
  for (auto element : levels) {
    od::array pair;
    if (auto ec = element.get_array().get(pair); ec != simdjson::SUCCESS) {
      return detail::from_error(ec);
    }
    Level level;
    std::size_t i = 0;
    for (auto item : pair) {
      od::value v;
      if (auto ec = item.get(v); ec != simdjson::SUCCESS) return detail::from_error(ec);
      if (i < 2) {
        const DropReason r = detail::read_decimal(v, i == 0 ? level.price : level.qty);
        if (r != DropReason::none) return r;
      }
      ++i;
    }
    if (i < 2) return DropReason::missing_field;
    if (level.price.is_negative() || level.qty.is_negative()) return DropReason::bad_number;
    if (count == kMaxParsedLevels) return DropReason::too_many_levels;
    out[count++] = level;
  }
  return DropReason::none;
}

// Binance writes the combined-stream wrapper compactly with "stream" first; deciding from the
// text means the document is read once, front to back.
bool is_combined(std::string_view frame) noexcept {
  std::size_t i = 0;
  auto skip_space = [&] {
    while (i < frame.size() &&
           (frame[i] == ' ' || frame[i] == '\n' || frame[i] == '\r' || frame[i] == '\t'))
      ++i;
  };
  skip_space();
  if (i >= frame.size() || frame[i] != '{') return false;
  ++i;
  skip_space();
  return frame.substr(i).starts_with("\"stream\"");
}

}  // namespace

struct BinanceParser::Impl {
  Impl(const SymbolMap& s, std::size_t max_bytes) : symbols(s), input(max_bytes, max_bytes) {
    detail::allocate_or_die(parser, max_bytes);
  }

  ParsedFrame parse_frame(std::string_view frame) noexcept;
  ParsedFrame parse_payload(od::object payload, StreamKind hint, InstrumentId stream_instrument,
                            bool rest_snapshot, InstrumentId fallback = kNoInstrument) noexcept;
  ParsedFrame finish(ParsedFrame f) noexcept {
    stats.record(f);
    return f;
  }

  const SymbolMap& symbols;
  detail::JsonInput input;
  od::parser parser;
  detail::LevelArrays levels;
  InstrumentId raw_instrument = kNoInstrument;
  ParserStats stats;
};

ParsedFrame BinanceParser::Impl::parse_payload(od::object payload, StreamKind hint,
                                               InstrumentId stream_instrument, bool rest_snapshot,
                                               InstrumentId fallback) noexcept {
  std::string_view event_type, symbol, error_msg;
  bool has_event_type = false, has_symbol = false, has_first = false, has_last = false;
  bool has_update_id = false, has_bid_levels = false, has_ask_levels = false;
  bool has_best_bid = false, has_best_ask = false, has_code = false, has_result = false;
  std::uint64_t first_id = 0, last_id = 0, update_id = 0;
  std::int64_t event_ms = 0, code = 0;
  Level best_bid, best_ask;

  for (auto item : payload) {
    od::field field;
    std::string_view key;
    if (auto ec = detail::field_key(item, field, key); ec != simdjson::SUCCESS) {
      return detail::dropped(detail::from_error(ec));
    }
    od::value value = field.value();
    DropReason r = DropReason::none;
    if (key == "e") {
      r = detail::read_string(value, event_type);
      has_event_type = true;
      // Trades and klines are only counted: stop reading as soon as we know.
      if (r == DropReason::none && event_type != "depthUpdate") break;
    } else if (key == "E") {
      r = detail::read_int(value, event_ms);
    } else if (key == "s") {
      r = detail::read_string(value, symbol);
      has_symbol = true;
    } else if (key == "U") {
      r = detail::read_uint(value, first_id);
      has_first = true;
    } else if (key == "u") {
      r = detail::read_uint(value, last_id);
      has_last = true;
    } else if (key == "lastUpdateId") {
      r = detail::read_uint(value, update_id);
      has_update_id = true;
    } else if (key == "b" || key == "a" || key == "bids" || key == "asks") {
      const bool bid = key[0] == 'b';
      json_type type;
      if (auto ec = value.type().get(type); ec != simdjson::SUCCESS) {
        return detail::dropped(detail::from_error(ec));
      }
      if (type == json_type::array) {
        r = read_levels(value, bid ? levels.bids.get() : levels.asks.get(),
                        bid ? levels.bid_count : levels.ask_count);
        (bid ? has_bid_levels : has_ask_levels) = true;
      } else if (key.size() == 1) {  // bookTicker best price: "b":"25.35190000"
        r = detail::read_decimal(value, bid ? best_bid.price : best_ask.price);
        (bid ? has_best_bid : has_best_ask) = true;
      } else {
        r = DropReason::wrong_type;
      }
    } else if (key == "B" || key == "A") {
      r = detail::read_decimal(value, key == "B" ? best_bid.qty : best_ask.qty);
    } else if (key == "code") {
      r = detail::read_int(value, code);
      has_code = true;
    } else if (key == "msg") {
      r = detail::read_string(value, error_msg);
    } else if (key == "result") {
      has_result = true;
    }
    if (r != DropReason::none) return detail::dropped(r);
  }

  ParsedFrame f;
  // The combined-stream name already named the instrument; a raw stream names it in "s".
  auto resolve_symbol = [&]() -> bool {
    f.instrument = stream_instrument != kNoInstrument ? stream_instrument
                   : has_symbol                       ? symbols.find(venues::kBinance, symbol)
                                                      : fallback;
    return f.instrument != kNoInstrument;
  };

  if (has_event_type) {
    if (event_type == "depthUpdate") {
      if (!has_first || !has_last || !has_bid_levels || !has_ask_levels) {
        return detail::dropped(DropReason::missing_field);
      }
      if (first_id > last_id) return detail::dropped(DropReason::bad_number);
      if (!resolve_symbol()) return detail::dropped(DropReason::unknown_symbol);
      if (const DropReason r = detail::ms_to_ns(event_ms, f.exchange_ns); r != DropReason::none) {
        return detail::dropped(r);
      }
      f.kind = MsgKind::depth_diff;
      f.first_id = first_id;
      f.last_id = last_id;
      f.bids = {levels.bids.get(), levels.bid_count};
      f.asks = {levels.asks.get(), levels.ask_count};
      return f;
    }
    if (event_type == "trade" || event_type == "aggTrade")
      f.kind = MsgKind::trade;
    else if (event_type == "kline")
      f.kind = MsgKind::kline;
    else if (event_type.ends_with("icker"))
      f.kind = MsgKind::ticker;
    else
      return detail::dropped(DropReason::unknown_type);
    return f;
  }
  if (has_update_id && (has_bid_levels || has_ask_levels)) {
    if (!has_bid_levels || !has_ask_levels) return detail::dropped(DropReason::missing_field);
    if (!resolve_symbol()) return detail::dropped(DropReason::unknown_symbol);
    f.kind = rest_snapshot ? MsgKind::depth_snapshot : MsgKind::partial_depth;
    f.first_id = f.last_id = update_id;
    f.bids = {levels.bids.get(), levels.bid_count};
    f.asks = {levels.asks.get(), levels.ask_count};
    return f;
  }
  if (has_last && (has_best_bid || has_best_ask)) {
    if (!has_best_bid || !has_best_ask) return detail::dropped(DropReason::missing_field);
    if (best_bid.price.is_negative() || best_bid.qty.is_negative() ||
        best_ask.price.is_negative() || best_ask.qty.is_negative()) {
      return detail::dropped(DropReason::bad_number);  // found by binance_parser_fuzz
    }
    if (!resolve_symbol()) return detail::dropped(DropReason::unknown_symbol);
    levels.bids[0] = best_bid;
    levels.asks[0] = best_ask;
    f.kind = MsgKind::book_ticker;
    f.first_id = f.last_id = last_id;
    f.bids = {levels.bids.get(), 1};
    f.asks = {levels.asks.get(), 1};
    return f;
  }
  if (has_code) {
    f.kind = MsgKind::venue_error;
    char digits[24];
    const auto res = std::to_chars(digits, digits + sizeof digits, code);
    (void)f.error_name.assign(std::string_view(digits, static_cast<std::size_t>(res.ptr - digits)));
    (void)f.error_message.assign(error_msg);
    return f;
  }
  if (has_result) {
    f.kind = MsgKind::subscription;
    return f;
  }
  // Known stream kinds whose payload did not look like themselves are malformed, not unknown.
  return detail::dropped(hint == StreamKind::unknown ? DropReason::unknown_type
                                                     : DropReason::missing_field);
}

ParsedFrame BinanceParser::Impl::parse_frame(std::string_view frame) noexcept {
  if (!input.load(frame)) {
    const ParsedFrame f = detail::dropped(DropReason::oversized);
    stats.record(f);
    return f;
  }
  od::document doc;
  auto fail = [this](DropReason r) {
    const ParsedFrame f = detail::dropped(r);
    stats.record(f);
    return f;
  };
  if (auto ec = input.iterate(parser, doc); ec != simdjson::SUCCESS) {
    return fail(DropReason::malformed);
  }
  od::object root;
  if (const DropReason r = detail::root_object(doc, root); r != DropReason::none) return fail(r);
  if (!is_combined(frame)) {
    // Raw stream (/ws/<stream>): the root object is the payload; a payload naming its symbol
    // ("s") is looked up by it, partial depth (which names none) takes the connection's.
    return finish(parse_payload(root, StreamKind::unknown, kNoInstrument, false, raw_instrument));
  }
  // Combined stream: {"stream":"btcusdt@depth@100ms","data":{...}}.
  od::value stream_value;
  if (auto ec = root.find_field_unordered("stream").get(stream_value); ec != simdjson::SUCCESS) {
    return fail(detail::from_error(ec));
  }
  std::string_view stream;
  if (const DropReason r = detail::read_string(stream_value, stream); r != DropReason::none) {
    return fail(r);
  }
  const std::size_t at = stream.find('@');
  if (at == std::string_view::npos) return fail(DropReason::unknown_type);
  const StreamKind kind = stream_kind(stream.substr(at + 1));
  if (kind == StreamKind::trade || kind == StreamKind::kline || kind == StreamKind::ticker) {
    ParsedFrame f;
    f.kind = kind == StreamKind::trade   ? MsgKind::trade
             : kind == StreamKind::kline ? MsgKind::kline
                                         : MsgKind::ticker;
    return finish(f);  // counted, not parsed: the rest of the frame is not read
  }
  const InstrumentId instrument = symbols.find(venues::kBinance, stream.substr(0, at));
  od::object data;
  if (auto ec = root.find_field_unordered("data").get_object().get(data); ec != simdjson::SUCCESS) {
    return fail(ec == simdjson::NO_SUCH_FIELD ? DropReason::missing_field : detail::from_error(ec));
  }
  if (instrument == kNoInstrument && kind != StreamKind::unknown) {
    return fail(DropReason::unknown_symbol);
  }
  return finish(parse_payload(data, kind, instrument, false));
}

BinanceParser::BinanceParser(const SymbolMap& symbols, std::size_t max_message_bytes)
    : impl_(std::make_unique<Impl>(symbols, max_message_bytes)) {}
BinanceParser::~BinanceParser() = default;

ParsedFrame BinanceParser::parse(std::string_view frame) noexcept {
  return impl_->parse_frame(frame);
}

ParsedFrame BinanceParser::parse_depth_snapshot(std::string_view body,
                                                InstrumentId instrument) noexcept {
  Impl& m = *impl_;
  auto fail = [&m](DropReason r) {
    const ParsedFrame f = detail::dropped(r);
    m.stats.record(f);
    return f;
  };
  if (!m.input.load(body)) return fail(DropReason::oversized);
  od::document doc;
  if (m.input.iterate(m.parser, doc) != simdjson::SUCCESS) return fail(DropReason::malformed);
  od::object root;
  if (const DropReason r = detail::root_object(doc, root); r != DropReason::none) return fail(r);
  ParsedFrame f = m.parse_payload(root, StreamKind::partial_depth, instrument, true);
  if (f.kind != MsgKind::depth_snapshot && f.kind != MsgKind::venue_error &&
      f.kind != MsgKind::dropped) {
    f = detail::dropped(DropReason::unknown_type);
  }
  return m.finish(f);
}

void BinanceParser::set_raw_stream_instrument(InstrumentId instrument) noexcept {
  impl_->raw_instrument = instrument;
}

const ParserStats& BinanceParser::stats() const noexcept { return impl_->stats; }

}  // namespace xarb::feed
