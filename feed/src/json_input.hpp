#pragma once

// Private to feed: helpers shared by the venue parsers. Included only by translation units built
// with exceptions off (SIMDJSON_EXCEPTIONS=0), so every simdjson error is a checked return value.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>

#include <simdjson.h>

#include <xarb/core/decimal.hpp>
#include <xarb/feed/parsed_frame.hpp>
#include <xarb/net/json.hpp>

namespace xarb::feed::detail {

namespace od = simdjson::ondemand;
using net::json::JsonInput;
using net::json::number_text;

// Sizes a parser's internal buffers once. Start-up only; out of memory here is fatal (this
// translation unit has no exceptions to report it with).
inline void allocate_or_die(od::parser& parser, std::size_t max_bytes) noexcept {
  if (parser.allocate(max_bytes) != simdjson::SUCCESS) {
    std::fputs("xarb: out of memory while allocating a JSON parser\n", stderr);
    std::abort();
  }
}

// Preallocated level arrays for one message.
struct LevelArrays {
  LevelArrays() : bids(new Level[kMaxParsedLevels]), asks(new Level[kMaxParsedLevels]) {}
  std::unique_ptr<Level[]> bids;
  std::unique_ptr<Level[]> asks;
  std::size_t bid_count = 0;
  std::size_t ask_count = 0;
};

// A price or quantity given as a JSON string ("43.50830000") or number (1.16539E8), read exactly.
inline DropReason read_decimal(od::value value, Decimal& out) noexcept {
  switch (net::json::read_decimal(value, out)) {
    case net::json::NumberStatus::ok: return DropReason::none;
    case net::json::NumberStatus::malformed: return DropReason::malformed;
    case net::json::NumberStatus::bad_number: return DropReason::bad_number;
    case net::json::NumberStatus::null:
    case net::json::NumberStatus::wrong_type: return DropReason::wrong_type;
  }
  return DropReason::malformed;
}

inline DropReason read_uint(od::value value, std::uint64_t& out) noexcept {
  const auto ec = value.get_uint64().get(out);
  if (ec == simdjson::SUCCESS) return DropReason::none;
  return ec == simdjson::INCORRECT_TYPE ? DropReason::wrong_type : DropReason::malformed;
}

inline DropReason read_int(od::value value, std::int64_t& out) noexcept {
  const auto ec = value.get_int64().get(out);
  if (ec == simdjson::SUCCESS) return DropReason::none;
  return ec == simdjson::INCORRECT_TYPE ? DropReason::wrong_type : DropReason::malformed;
}

inline DropReason read_string(od::value value, std::string_view& out) noexcept {
  const auto ec = value.get_string().get(out);
  if (ec == simdjson::SUCCESS) return DropReason::none;
  return ec == simdjson::INCORRECT_TYPE ? DropReason::wrong_type : DropReason::malformed;
}

// Milliseconds since the epoch to nanoseconds; absurd values (beyond year 2262) are rejected.
inline DropReason ms_to_ns(std::int64_t ms, std::int64_t& ns) noexcept {
  if (ms < 0 || ms > 9'000'000'000'000) return DropReason::bad_number;
  ns = ms * 1'000'000;
  return DropReason::none;
}

inline ParsedFrame dropped(DropReason reason) noexcept {
  ParsedFrame f;
  f.kind = MsgKind::dropped;
  f.drop = reason;
  return f;
}

// Maps a simdjson error met while walking a document to a drop reason.
inline DropReason from_error(simdjson::error_code ec) noexcept {
  return ec == simdjson::INCORRECT_TYPE ? DropReason::wrong_type : DropReason::malformed;
}

// The key of an object field, without copying or unescaping it. Fails (malformed) for a key that
// holds an escape: no key the engine reads has one.
inline simdjson::error_code field_key(simdjson::simdjson_result<od::field>& item, od::field& field,
                                      std::string_view& key) noexcept {
  if (auto ec = std::move(item).get(field); ec != simdjson::SUCCESS) return ec;
  const char* begin = field.key().raw();
  const char* end = begin;
  while (*end != '"') {
    if (*end == '\\') return simdjson::STRING_ERROR;
    ++end;
  }
  key = std::string_view(begin, static_cast<std::size_t>(end - begin));
  return simdjson::SUCCESS;
}

// The root object of a frame. An array root is the wrong type; anything else (plain text such as
// "PONG", a bare number) is not a frame at all. The type is checked before anything is consumed,
// because after a fatal error simdjson abandons the document and it may not be rewound.
inline DropReason root_object(od::document& doc, od::object& root) noexcept {
  od::json_type type;
  if (doc.type().get(type) != simdjson::SUCCESS) return DropReason::malformed;
  if (type == od::json_type::array) return DropReason::wrong_type;
  if (type != od::json_type::object) return DropReason::malformed;
  if (auto ec = doc.get_object().get(root); ec != simdjson::SUCCESS) return from_error(ec);
  return DropReason::none;
}

}  // namespace xarb::feed::detail
