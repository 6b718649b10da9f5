#pragma once

// JSON input for the venues' messages and answers: a reused padded input buffer, and numbers read
// as Decimal from their raw text (exactly, never through a double). Include only from sources
// built with xarb_json_sources (exceptions off: every simdjson error is a checked return value).

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

#include <simdjson.h>

#include <xarb/core/decimal.hpp>

namespace xarb::net::json {

namespace od = simdjson::ondemand;

// A reusable input buffer with simdjson's padding. It holds `reserve_bytes` from the start and
// grows (rarely, by reallocating) up to `max_bytes`; a longer text is refused.
class JsonInput {
 public:
  JsonInput(std::size_t reserve_bytes, std::size_t max_bytes)
      // Not value-initialised: pages are touched only as large messages arrive.
      : capacity_(std::min(reserve_bytes, max_bytes)),
        max_(max_bytes),
        data_(new char[capacity_ + simdjson::SIMDJSON_PADDING]) {}

  // Copies `text` in; false (nothing copied) when it exceeds the maximum size.
  [[nodiscard]] bool load(std::string_view text) noexcept {
    if (text.size() > max_) return false;
    if (text.size() > capacity_) {
      const std::size_t grown = std::min(max_, std::max(text.size(), 2 * capacity_));
      std::unique_ptr<char[]> bigger(new (std::nothrow) char[grown + simdjson::SIMDJSON_PADDING]);
      if (!bigger) return false;
      data_ = std::move(bigger);
      capacity_ = grown;
    }
    std::memcpy(data_.get(), text.data(), text.size());
    std::memset(data_.get() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    size_ = text.size();
    return true;
  }

  // Starts a document over the loaded text. The parser grows to fit when it is smaller than the
  // text (sized up front by owners that must not allocate while running).
  [[nodiscard]] simdjson::error_code iterate(od::parser& parser, od::document& doc) noexcept {
    if (parser.capacity() < size_) {
      if (const auto e = parser.allocate(std::min(max_, 2 * size_)); e != simdjson::SUCCESS) {
        return e;
      }
    }
    return parser.iterate(data_.get(), size_, size_ + simdjson::SIMDJSON_PADDING).get(doc);
  }
  // load() then iterate().
  [[nodiscard]] simdjson::error_code start(std::string_view text, od::parser& parser,
                                           od::document& doc) noexcept {
    if (!load(text)) return simdjson::CAPACITY;
    return iterate(parser, doc);
  }

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t max_size() const noexcept { return max_; }

 private:
  std::size_t capacity_;
  std::size_t max_;
  std::size_t size_ = 0;
  std::unique_ptr<char[]> data_;
};

enum class NumberStatus : std::uint8_t {
  ok,
  null,        // the value is JSON null (out is zero)
  wrong_type,  // an object, array, true or false
  malformed,   // not a JSON value (an unterminated string, ...)
  bad_number,  // a string or number that is not a decimal Decimal can hold
};

// The characters of a number token, without the whitespace simdjson may leave after it.
[[nodiscard]] inline std::string_view number_text(std::string_view token) noexcept {
  std::size_t n = 0;
  while (n < token.size()) {
    const char c = token[n];
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
      ++n;
    } else {
      break;
    }
  }
  return token.substr(0, n);
}

// A decimal given as a JSON string ("43.50830000") or number (1.16539E8), read from the raw
// token: no type query and no unescaping (a number never needs it; a string holding an escape is
// not a number and fails to parse). `exact`: more than 8 decimals is an error; otherwise they
// are rounded down.
[[nodiscard]] inline NumberStatus read_decimal(od::value value, Decimal& out,
                                               bool exact = true) noexcept {
  std::string_view token = value.raw_json_token();
  if (token.empty()) return NumberStatus::malformed;
  if (token[0] == '"') {
    const std::size_t close = token.find('"', 1);
    if (close == std::string_view::npos) return NumberStatus::malformed;
    token = token.substr(1, close - 1);
  } else if (token[0] == '-' || (token[0] >= '0' && token[0] <= '9')) {
    token = number_text(token);
  } else if (token.starts_with("null")) {
    out = Decimal{};
    return NumberStatus::null;
  } else {
    return NumberStatus::wrong_type;
  }
  const Errc ec = exact ? Decimal::parse(token, out) : Decimal::parse(token, Rounding::down, out);
  return ec == Errc::ok ? NumberStatus::ok : NumberStatus::bad_number;
}

// An amount in a venue's answer (a quantity, price, fee or balance): a decimal >= 0, digits past
// the 8th decimal rounded down. A negative one would count as a negative fill: the answer is
// malformed. `null_is_zero`: JSON null reads as zero (Upbit's absent amounts).
[[nodiscard]] inline bool read_amount(od::value value, Decimal& out,
                                      bool null_is_zero = false) noexcept {
  const NumberStatus s = read_decimal(value, out, /*exact=*/false);
  if (s == NumberStatus::null) return null_is_zero;
  return s == NumberStatus::ok && out.mantissa() >= 0;
}

}  // namespace xarb::net::json
