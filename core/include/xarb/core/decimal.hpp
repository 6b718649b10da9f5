#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <xarb/core/errc.hpp>

namespace xarb {

// Direction of every rounding in the project; never implicit. Toward negative infinity (`down`) or
// positive infinity (`up`). For orders: a buy price cap rounds down, a sell price floor rounds up,
// a quantity rounds down (see price_rounding() in ids.hpp).
enum class Rounding : std::uint8_t { down, up };

// 128-bit integers for products that can exceed int64 (notional = price x quantity).
__extension__ using Int128 = __int128;

struct FormatResult {
  char* end;  // one past the last character written; equals the `first` passed in on failure
  Errc ec;
};

// A fixed-point number: an int64 mantissa with kScale = 8 decimals. It holds every price and
// quantity both venues publish (magnitudes up to 92,233,720,368.54775807). All operations are
// constexpr, noexcept and allocation-free; any thread may call them.
class Decimal {
 public:
  static constexpr int kScale = 8;
  static constexpr std::int64_t kOne = 100'000'000;
  // Longest text to_chars() writes: "-92233720368.54775807".
  static constexpr std::size_t kMaxChars = 21;

  constexpr Decimal() noexcept = default;

  [[nodiscard]] static constexpr Decimal from_mantissa(std::int64_t mantissa) noexcept {
    Decimal d;
    d.m_ = mantissa;
    return d;
  }
  // Whole units. Fails with overflow when |units| > max_units().
  [[nodiscard]] static constexpr Errc from_units(std::int64_t units, Decimal& out) noexcept {
    std::int64_t m = 0;
    if (__builtin_mul_overflow(units, kOne, &m) || m == std::numeric_limits<std::int64_t>::min()) {
      return Errc::overflow;
    }
    out.m_ = m;
    return Errc::ok;
  }
  [[nodiscard]] static constexpr Decimal max() noexcept {
    return from_mantissa(std::numeric_limits<std::int64_t>::max());
  }
  [[nodiscard]] static constexpr std::int64_t max_units() noexcept {
    return std::numeric_limits<std::int64_t>::max() / kOne;
  }

  // Parses the number forms the venues send: "43.50830000", 150000000.0, 1.16539E8, 0E-8, -0.5,
  // 7. Grammar: '-'? digit+ ('.' digit+)? ([eE] [+-]? digit+)?, nothing else (no spaces, no '+'
  // sign, no leading '.'). Exact: fails with too_precise when a non-zero digit lies beyond 8
  // decimals, never rounds. On failure returns empty, invalid_number, too_precise or overflow
  // and leaves `out` unchanged. No allocation, no strtod.
  [[nodiscard]] static constexpr Errc parse(std::string_view text, Decimal& out) noexcept {
    return parse_impl(text, /*exact=*/true, Rounding::down, out);
  }
  // Same grammar; digits beyond 8 decimals are rounded in the given direction, which the caller
  // states. For fields that are not prices or quantities (ratios with 10 decimals, for instance).
  [[nodiscard]] static constexpr Errc parse(std::string_view text, Rounding rounding,
                                            Decimal& out) noexcept {
    return parse_impl(text, /*exact=*/false, rounding, out);
  }

  [[nodiscard]] constexpr std::int64_t mantissa() const noexcept { return m_; }
  [[nodiscard]] constexpr bool is_zero() const noexcept { return m_ == 0; }
  [[nodiscard]] constexpr bool is_negative() const noexcept { return m_ < 0; }
  [[nodiscard]] constexpr bool is_positive() const noexcept { return m_ > 0; }
  // Nearest double; for ratios and display only, never for an order.
  [[nodiscard]] constexpr double to_double() const noexcept {
    return static_cast<double>(m_) / static_cast<double>(kOne);
  }
  // Number of decimals needed to write this value exactly: 0.01 -> 2, 0.5 -> 1, 1000 -> 0.
  [[nodiscard]] constexpr int decimals() const noexcept {
    if (m_ == 0) return 0;
    int d = kScale;
    std::int64_t m = m_;
    while (d > 0 && m % 10 == 0) {
      m /= 10;
      --d;
    }
    return d;
  }

  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads the synthesized comparison.
  friend constexpr auto operator<=>(Decimal, Decimal) noexcept = default;
  friend constexpr bool operator==(Decimal, Decimal) noexcept = default;
  [[nodiscard]] constexpr Decimal operator-() const noexcept { return from_mantissa(-m_); }

  // Rounds to a multiple of `step` (a tick or lot size) in the stated direction. Fails with
  // invalid_argument when step <= 0, overflow when rounding up leaves the range.
  [[nodiscard]] constexpr Errc round_to_step(Decimal step, Rounding rounding,
                                             Decimal& out) const noexcept {
    if (step.m_ <= 0) return Errc::invalid_argument;
    std::int64_t q = m_ / step.m_;
    const std::int64_t r = m_ % step.m_;
    if (r != 0) {
      if (rounding == Rounding::down && m_ < 0) --q;
      if (rounding == Rounding::up && m_ > 0) ++q;
    }
    std::int64_t m = 0;
    if (__builtin_mul_overflow(q, step.m_, &m)) return Errc::overflow;
    out.m_ = m;
    return Errc::ok;
  }

  // Writes the value as text. decimals < 0: shortest exact form ("43.5083", "7", "-0.5").
  // decimals 0..8: exactly that many decimals ("43.50830000" for 8); fails with too_precise if the
  // value has more non-zero decimals than that (never rounds), buffer_too_small if the text does
  // not fit in [first, last). Never writes a terminating NUL.
  constexpr FormatResult to_chars(char* first, char* last, int decimals = -1) const noexcept {
    if (decimals > kScale) return {first, Errc::invalid_argument};
    const int needed = this->decimals();
    if (decimals >= 0 && needed > decimals) return {first, Errc::too_precise};
    const int shown = decimals < 0 ? needed : decimals;
    // Magnitude as unsigned so that INT64_MIN cannot appear (parse never produces it anyway).
    const std::uint64_t mag =
        m_ < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(m_) : static_cast<std::uint64_t>(m_);
    std::uint64_t int_part = mag / static_cast<std::uint64_t>(kOne);
    std::uint64_t frac_part = mag % static_cast<std::uint64_t>(kOne);
    char digits[20] = {};
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + int_part % 10);
      int_part /= 10;
    } while (int_part != 0);
    const auto shown_chars = static_cast<std::size_t>(shown);
    const std::size_t length =
        (m_ < 0 ? 1u : 0u) + static_cast<std::size_t>(n) + (shown_chars > 0 ? 1 + shown_chars : 0);
    if (static_cast<std::size_t>(last - first) < length) return {first, Errc::buffer_too_small};
    char* p = first;
    if (m_ < 0) *p++ = '-';
    while (n > 0) *p++ = digits[--n];
    if (shown > 0) {
      *p++ = '.';
      for (int i = 0; i < kScale - shown; ++i) frac_part /= 10;
      for (int i = shown - 1; i >= 0; --i) {
        p[i] = static_cast<char>('0' + frac_part % 10);
        frac_part /= 10;
      }
      p += shown;
    }
    return {p, Errc::ok};
  }

 private:
  static constexpr std::uint64_t pow10(int n) noexcept {
    std::uint64_t v = 1;
    for (int i = 0; i < n; ++i) v *= 10;
    return v;
  }
  static constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  // The shape of nearly every venue number: -?d{1,10}(.d{1,8})?. Exact and cannot overflow
  // (at most 9,999,999,999.99999999). Returns false, touching nothing, for anything else.
  static constexpr bool parse_plain(std::string_view s, Decimal& out) noexcept {
    std::size_t i = 0;
    const bool negative = !s.empty() && s[0] == '-';
    if (negative) ++i;
    const std::size_t int_start = i;
    std::int64_t int_part = 0;
    while (i < s.size() && is_digit(s[i]) && i - int_start < 10) {
      int_part = int_part * 10 + (s[i++] - '0');
    }
    if (i == int_start || (i < s.size() && is_digit(s[i]))) return false;
    std::int64_t frac = 0;
    int frac_digits = 0;
    if (i < s.size()) {
      if (s[i] != '.') return false;
      ++i;
      while (i < s.size() && is_digit(s[i]) && frac_digits < kScale) {
        frac = frac * 10 + (s[i++] - '0');
        ++frac_digits;
      }
      if (frac_digits == 0 || i != s.size()) return false;
    }
    const std::int64_t m =
        int_part * kOne + frac * static_cast<std::int64_t>(pow10(kScale - frac_digits));
    out.m_ = negative ? -m : m;
    return true;
  }

  static constexpr Errc parse_impl(std::string_view s, bool exact, Rounding rounding,
                                   Decimal& out) noexcept {
    if (parse_plain(s, out)) return Errc::ok;
    if (s.empty()) return Errc::empty;
    std::size_t i = 0;
    const bool negative = s[0] == '-';
    if (negative) ++i;
    if (i == s.size()) return Errc::invalid_number;

    // Significant digits: `sig` holds the first 19 of them without the trailing zeros, which are
    // counted in `zeros` until a non-zero digit follows. Digits past 19 only set `extra`: the
    // last of them is non-zero, so they make the value inexact or too large.
    std::uint64_t sig = 0;
    int sig_digits = 0;
    std::int64_t zeros = 0;
    std::int64_t extra = 0;
    std::int64_t frac_digits = 0;
    bool any_digit = false;
    auto take = [&](char c) {
      any_digit = true;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (d == 0) {
        if (sig_digits > 0) ++zeros;
        return;
      }
      if (extra == 0 && sig_digits + zeros + 1 <= 19) {
        sig = sig * pow10(static_cast<int>(zeros) + 1) + d;
        sig_digits += static_cast<int>(zeros) + 1;
      } else if (extra == 0) {
        // First spill: fill sig to exactly 19 digits (so sig >= 1e18), the rest is the tail.
        const int pad = 19 - sig_digits;  // <= zeros here
        sig *= pow10(pad);
        sig_digits = 19;
        extra = zeros - pad + 1;
      } else {
        extra += zeros + 1;
      }
      zeros = 0;
    };

    while (i < s.size() && is_digit(s[i])) take(s[i++]);
    if (!any_digit) return Errc::invalid_number;
    if (i < s.size() && s[i] == '.') {
      ++i;
      const std::size_t start = i;
      while (i < s.size() && is_digit(s[i])) {
        take(s[i++]);
        ++frac_digits;
      }
      if (i == start) return Errc::invalid_number;
    }
    std::int64_t exponent = 0;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      bool exp_negative = false;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) exp_negative = s[i++] == '-';
      const std::size_t start = i;
      while (i < s.size() && is_digit(s[i])) {
        // Clamp: any exponent beyond 100000 already means zero, overflow or too precise.
        if (exponent < 100000) exponent = exponent * 10 + (s[i] - '0');
        ++i;
      }
      if (i == start) return Errc::invalid_number;
      if (exp_negative) exponent = -exponent;
    }
    if (i != s.size()) return Errc::invalid_number;

    if (sig == 0) {  // every digit was zero: 0, 0.00000000, 0E-8
      out.m_ = 0;
      return Errc::ok;
    }
    // value = sig * 10^(zeros + extra + exponent - frac_digits), plus a non-zero tail when extra.
    const std::int64_t shift = zeros + extra + exponent - frac_digits + kScale;
    std::uint64_t q = 0;
    bool inexact = extra > 0;
    if (shift > 0) {
      if (extra > 0 || shift > 19) return Errc::overflow;
      if (__builtin_mul_overflow(sig, pow10(static_cast<int>(shift)), &q)) return Errc::overflow;
    } else {
      const std::int64_t d = -shift;
      if (d > 19) {
        q = 0;
        inexact = true;
      } else {
        const std::uint64_t p = pow10(static_cast<int>(d));
        q = sig / p;
        inexact = inexact || sig % p != 0;
      }
    }
    if (inexact) {
      if (exact) return Errc::too_precise;
      // Magnitude rounding that realises the signed direction.
      const bool away_from_zero = (rounding == Rounding::up) != negative;
      if (away_from_zero) ++q;
    }
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (q > kMax) return Errc::overflow;
    const auto m = static_cast<std::int64_t>(q);
    out.m_ = negative ? -m : m;
    return Errc::ok;
  }

  std::int64_t m_ = 0;
};

// Checked arithmetic: each returns overflow (and leaves `out` unchanged) instead of wrapping.
[[nodiscard]] constexpr Errc add(Decimal a, Decimal b, Decimal& out) noexcept {
  std::int64_t m = 0;
  if (__builtin_add_overflow(a.mantissa(), b.mantissa(), &m)) return Errc::overflow;
  out = Decimal::from_mantissa(m);
  return Errc::ok;
}
[[nodiscard]] constexpr Errc sub(Decimal a, Decimal b, Decimal& out) noexcept {
  std::int64_t m = 0;
  if (__builtin_sub_overflow(a.mantissa(), b.mantissa(), &m)) return Errc::overflow;
  out = Decimal::from_mantissa(m);
  return Errc::ok;
}

namespace detail {
// floor or ceil of n / d for d > 0, in 128 bits.
constexpr Int128 div_round(Int128 n, Int128 d, Rounding rounding) noexcept {
  Int128 q = n / d;
  const Int128 r = n % d;
  if (r != 0) {
    if (rounding == Rounding::down && n < 0) --q;
    if (rounding == Rounding::up && n > 0) ++q;
  }
  return q;
}
constexpr Errc narrow(Int128 m, Decimal& out) noexcept {
  if (m > std::numeric_limits<std::int64_t>::max() ||
      m < -std::numeric_limits<std::int64_t>::max()) {
    return Errc::overflow;
  }
  out = Decimal::from_mantissa(static_cast<std::int64_t>(m));
  return Errc::ok;
}
}  // namespace detail

// a * b rounded to 8 decimals in the stated direction; the product is formed in 128 bits.
[[nodiscard]] constexpr Errc mul(Decimal a, Decimal b, Rounding rounding, Decimal& out) noexcept {
  const Int128 p = static_cast<Int128>(a.mantissa()) * b.mantissa();
  return detail::narrow(detail::div_round(p, Decimal::kOne, rounding), out);
}
// a / b rounded to 8 decimals in the stated direction; invalid_argument when b is zero.
[[nodiscard]] constexpr Errc div(Decimal a, Decimal b, Rounding rounding, Decimal& out) noexcept {
  if (b.is_zero()) return Errc::invalid_argument;
  Int128 n = static_cast<Int128>(a.mantissa()) * Decimal::kOne;
  Int128 d = b.mantissa();
  if (d < 0) {
    n = -n;
    d = -d;
  }
  return detail::narrow(detail::div_round(n, d, rounding), out);
}
// Exact price * quantity in units of 1e-16: cannot overflow (|result| < 2^126).
[[nodiscard]] constexpr Int128 notional_e16(Decimal price, Decimal qty) noexcept {
  return static_cast<Int128>(price.mantissa()) * qty.mantissa();
}
// A value in units of 1e-16 (a sum of notional_e16) to 8 decimals in the stated direction.
[[nodiscard]] constexpr Errc from_e16(Int128 e16, Rounding rounding, Decimal& out) noexcept {
  return detail::narrow(detail::div_round(e16, Decimal::kOne, rounding), out);
}
// price * quantity as a double, for ratios and risk limits where 1e-15 relative error is fine.
[[nodiscard]] constexpr double notional(Decimal price, Decimal qty) noexcept {
  return price.to_double() * qty.to_double();
}

// Converts a double (a computed price, for instance) to the nearest representable value in the
// stated direction. Fails with invalid_argument for NaN or infinity, overflow out of range. The
// result is exact to the double's own precision; use it only on values that came from doubles.
[[nodiscard]] Errc from_double(double v, Rounding rounding, Decimal& out) noexcept;

// The shortest exact text of `d` ("0.01", "-3", "43.5083"): for logs, reports and the journal.
// Allocates.
[[nodiscard]] std::string to_string(Decimal d);

// Rounds `value` to `step` in the stated direction and writes it with exactly the step's number
// of decimals: the text an order carries ("43.51" for tick 0.01, "0.001" for step 0.001).
// Fails with invalid_argument (step <= 0), overflow or buffer_too_small; writes nothing then.
constexpr FormatResult format_to_step(Decimal value, Decimal step, Rounding rounding, char* first,
                                      char* last) noexcept {
  Decimal rounded;
  if (const Errc ec = value.round_to_step(step, rounding, rounded); ec != Errc::ok) {
    return {first, ec};
  }
  return rounded.to_chars(first, last, step.decimals());
}

}  // namespace xarb
