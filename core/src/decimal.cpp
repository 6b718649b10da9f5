#include <cmath>

#include <xarb/core/decimal.hpp>

namespace xarb {

Errc from_double(double v, Rounding rounding, Decimal& out) noexcept {
  if (!std::isfinite(v)) return Errc::invalid_argument;
  const double scaled = v * static_cast<double>(Decimal::kOne);
  const double r = rounding == Rounding::down ? std::floor(scaled) : std::ceil(scaled);
  // 2^63 is exactly representable; anything at or beyond it does not fit.
  if (r >= 9223372036854775808.0 || r <= -9223372036854775808.0) return Errc::overflow;
  out = Decimal::from_mantissa(static_cast<std::int64_t>(r));
  return Errc::ok;
}

std::string to_string(Decimal d) {
  char buf[Decimal::kMaxChars];
  const FormatResult r = d.to_chars(buf, buf + sizeof buf);
  return std::string(buf, r.end);
}

}  // namespace xarb
