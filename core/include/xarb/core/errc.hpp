#pragma once

#include <cstdint>
#include <string_view>

namespace xarb {

// The one-byte error code of the hot path. Exceptions are used only at start-up and config load.
enum class Errc : std::uint8_t {
  ok = 0,
  // Number text
  empty,           // no characters, or only a sign
  invalid_number,  // characters that do not form a number
  too_precise,     // non-zero digits beyond Decimal::kScale decimals
  overflow,        // magnitude beyond what the type holds
  // Arguments
  invalid_argument,
  buffer_too_small,
  // Queues and hand-offs
  queue_full,
  queue_empty,
  // Lookups
  unknown_symbol,
  // Documents from a venue or a file
  malformed,  // not in the documented form
  // Time
  timeout,
  // Host facilities
  not_supported,
  system_error,
};

[[nodiscard]] constexpr std::string_view to_string(Errc e) noexcept {
  switch (e) {
    case Errc::ok:
      return "ok";
    case Errc::empty:
      return "empty";
    case Errc::invalid_number:
      return "invalid number";
    case Errc::too_precise:
      return "too many decimals";
    case Errc::overflow:
      return "overflow";
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::buffer_too_small:
      return "buffer too small";
    case Errc::queue_full:
      return "queue full";
    case Errc::queue_empty:
      return "queue empty";
    case Errc::malformed:
      return "malformed";
    case Errc::unknown_symbol:
      return "unknown symbol";
    case Errc::timeout:
      return "timeout";
    case Errc::not_supported:
      return "not supported";
    case Errc::system_error:
      return "system error";
  }
  return "unknown error";
}

}  // namespace xarb
