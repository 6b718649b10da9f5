#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>

#include "alloc_counter.hpp"

namespace xarb {
namespace {

Decimal d(std::string_view text) {
  Decimal out;
  const Errc ec = Decimal::parse(text, out);
  EXPECT_EQ(ec, Errc::ok) << text;
  return out;
}

std::string str(Decimal v, int decimals = -1) {
  char buf[Decimal::kMaxChars];
  const FormatResult r = v.to_chars(buf, buf + sizeof buf, decimals);
  EXPECT_EQ(r.ec, Errc::ok);
  return std::string(buf, r.end);
}

struct ParseCase {
  std::string_view text;
  std::int64_t mantissa;
};

class DecimalParse : public ::testing::TestWithParam<ParseCase> {};

TEST_P(DecimalParse, GivesExactMantissa) {
  Decimal out = Decimal::from_mantissa(-12345);  // must be overwritten
  ASSERT_EQ(Decimal::parse(GetParam().text, out), Errc::ok) << GetParam().text;
  EXPECT_EQ(out.mantissa(), GetParam().mantissa) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    VenueForms, DecimalParse,
    ::testing::Values(
        ParseCase{"43.50830000", 4'350'830'000},           // Binance string
        ParseCase{"150000000.0", 15'000'000'000'000'000},  // Upbit float
        ParseCase{"1.16539E8", 11'653'900'000'000'000},    // Upbit exponent form
        ParseCase{"0E-8", 0}, ParseCase{"-0.5", -50'000'000}, ParseCase{"7", 700'000'000},
        ParseCase{"0.00000000", 0}, ParseCase{"0", 0}, ParseCase{"-0", 0},
        ParseCase{"0.00000001", 1}, ParseCase{"1e-8", 1}, ParseCase{"1E+2", 10'000'000'000},
        ParseCase{"2.2E-7", 22}, ParseCase{"9E-8", 9},
        ParseCase{"158219000.00000000", 15'821'900'000'000'000},
        ParseCase{"0.000000010000000000000000", 1},  // trailing zeros beyond 8 decimals are exact
        ParseCase{"007.50", 750'000'000}, ParseCase{"12.5e-1", 125'000'000},
        ParseCase{"0.0000000000000000000000000001e28", 100'000'000},
        ParseCase{"1000000000000000000000e-21", 100'000'000},
        ParseCase{"92233720368.54775807", std::numeric_limits<std::int64_t>::max()},
        ParseCase{"-92233720368.54775807", -std::numeric_limits<std::int64_t>::max()},
        ParseCase{"922337203685477580.7e-7", std::numeric_limits<std::int64_t>::max()},
        ParseCase{"0e999999999999", 0}));

struct RejectCase {
  std::string_view text;
  Errc expected;
};

class DecimalReject : public ::testing::TestWithParam<RejectCase> {};

TEST_P(DecimalReject, FailsWithErrcAndLeavesOutputAlone) {
  Decimal out = Decimal::from_mantissa(777);
  EXPECT_EQ(Decimal::parse(GetParam().text, out), GetParam().expected) << GetParam().text;
  EXPECT_EQ(out.mantissa(), 777);
}

INSTANTIATE_TEST_SUITE_P(
    BadText, DecimalReject,
    ::testing::Values(
        RejectCase{"", Errc::empty}, RejectCase{"-", Errc::invalid_number},
        RejectCase{"abc", Errc::invalid_number}, RejectCase{"1.2.3", Errc::invalid_number},
        RejectCase{"1e", Errc::invalid_number}, RejectCase{"1e+", Errc::invalid_number},
        RejectCase{"1.", Errc::invalid_number}, RejectCase{".5", Errc::invalid_number},
        RejectCase{"+1", Errc::invalid_number}, RejectCase{" 1", Errc::invalid_number},
        RejectCase{"1 ", Errc::invalid_number}, RejectCase{"0x10", Errc::invalid_number},
        RejectCase{"NaN", Errc::invalid_number}, RejectCase{"inf", Errc::invalid_number},
        RejectCase{"--1", Errc::invalid_number}, RejectCase{"1e5.0", Errc::invalid_number},
        RejectCase{"\"1\"", Errc::invalid_number}, RejectCase{"1,5", Errc::invalid_number},
        RejectCase{std::string_view("1\0", 2), Errc::invalid_number},
        // more than 8 decimals that are not zeros: never silently rounded
        RejectCase{"1.123456789", Errc::too_precise}, RejectCase{"0.000000001", Errc::too_precise},
        RejectCase{"1E-9", Errc::too_precise}, RejectCase{"0.0000063211", Errc::too_precise},
        RejectCase{"1234567890.1234567891", Errc::too_precise},
        RejectCase{"1e-999999999999", Errc::too_precise},
        // beyond the int64 mantissa
        RejectCase{"92233720368.54775808", Errc::overflow},
        RejectCase{"-92233720368.54775808", Errc::overflow},
        RejectCase{"95088751392.90992", Errc::overflow}, RejectCase{"1e11", Errc::overflow},
        RejectCase{"123456789012345678901234567890", Errc::overflow},
        RejectCase{"1e999999999999", Errc::overflow},
        RejectCase{"12345678901234567890123.5", Errc::overflow}));

TEST(DecimalParse, RoundsOnlyWhenTheCallerSaysHow) {
  Decimal v;
  ASSERT_EQ(Decimal::parse("0.0000063211", Rounding::down, v), Errc::ok);
  EXPECT_EQ(v.mantissa(), 632);
  ASSERT_EQ(Decimal::parse("0.0000063211", Rounding::up, v), Errc::ok);
  EXPECT_EQ(v.mantissa(), 633);
  ASSERT_EQ(Decimal::parse("-0.0000063211", Rounding::down, v), Errc::ok);
  EXPECT_EQ(v.mantissa(), -633);
  ASSERT_EQ(Decimal::parse("-0.0000063211", Rounding::up, v), Errc::ok);
  EXPECT_EQ(v.mantissa(), -632);
  ASSERT_EQ(Decimal::parse("1e-30", Rounding::up, v), Errc::ok);
  EXPECT_EQ(v.mantissa(), 1);
  ASSERT_EQ(Decimal::parse("1e-30", Rounding::down, v), Errc::ok);
  EXPECT_EQ(v.mantissa(), 0);
  // Exact input is unaffected by the rounding direction.
  ASSERT_EQ(Decimal::parse("43.5083", Rounding::up, v), Errc::ok);
  EXPECT_EQ(v.mantissa(), 4'350'830'000);
  // Rounding up past the maximum is still an overflow, not a wrap.
  EXPECT_EQ(Decimal::parse("92233720368.547758071", Rounding::up, v), Errc::overflow);
  EXPECT_EQ(Decimal::parse("92233720368.547758071", Rounding::down, v), Errc::ok);
  EXPECT_EQ(v, Decimal::max());
}

TEST(DecimalParse, IsUsableAtCompileTime) {
  constexpr auto parsed = [] {
    Decimal v;
    return Decimal::parse("1.16539E8", v) == Errc::ok ? v.mantissa() : -1;
  }();
  static_assert(parsed == 11'653'900'000'000'000);
  SUCCEED();
}

TEST(DecimalFormat, WritesShortestAndFixedForms) {
  EXPECT_EQ(str(d("43.50830000")), "43.5083");
  EXPECT_EQ(str(d("43.50830000"), 8), "43.50830000");
  EXPECT_EQ(str(d("7")), "7");
  EXPECT_EQ(str(d("7"), 2), "7.00");
  EXPECT_EQ(str(d("-0.5")), "-0.5");
  EXPECT_EQ(str(d("0")), "0");
  EXPECT_EQ(str(d("0.00000001")), "0.00000001");
  EXPECT_EQ(str(Decimal::max()), "92233720368.54775807");
  EXPECT_EQ(str(-Decimal::max()), "-92233720368.54775807");
}

TEST(DecimalFormat, RefusesToDropDigitsOrOverrunTheBuffer) {
  char buf[32];
  EXPECT_EQ(d("43.5083").to_chars(buf, buf + 32, 2).ec, Errc::too_precise);
  EXPECT_EQ(d("43.5083").to_chars(buf, buf + 32, 9).ec, Errc::invalid_argument);
  const FormatResult r = d("43.5083").to_chars(buf, buf + 6);
  EXPECT_EQ(r.ec, Errc::buffer_too_small);
  EXPECT_EQ(r.end, buf);
  EXPECT_EQ(d("43.5083").to_chars(buf, buf + 7).ec, Errc::ok);  // exactly 7 characters
}

TEST(DecimalFormat, DecimalsOfAStep) {
  EXPECT_EQ(d("0.01").decimals(), 2);
  EXPECT_EQ(d("0.00001000").decimals(), 5);
  EXPECT_EQ(d("0.5").decimals(), 1);
  EXPECT_EQ(d("1000").decimals(), 0);
  EXPECT_EQ(d("0.00000001").decimals(), 8);
  EXPECT_EQ(d("0").decimals(), 0);
}

std::string order_text(std::string_view value, std::string_view step, Rounding r) {
  char buf[32];
  const FormatResult res = format_to_step(d(value), d(step), r, buf, buf + sizeof buf);
  EXPECT_EQ(res.ec, Errc::ok);
  return std::string(buf, res.end);
}

TEST(DecimalRounding, OrderPricesNeverBecomeMoreAggressive) {
  // A buy cap rounds down, a sell floor rounds up (Binance BTCUSDT tick 0.01).
  EXPECT_EQ(order_text("43251.237", "0.01", price_rounding(Side::buy)), "43251.23");
  EXPECT_EQ(order_text("43251.231", "0.01", price_rounding(Side::sell)), "43251.24");
  EXPECT_EQ(order_text("43251.23", "0.01", Rounding::up), "43251.23");  // already on tick
  // Upbit KRW ticks: 1,000 above 2,000,000 KRW; KRW-USDT 0.5.
  EXPECT_EQ(order_text("158201500", "1000", Rounding::down), "158201000");
  EXPECT_EQ(order_text("158201500", "1000", Rounding::up), "158202000");
  EXPECT_EQ(order_text("1391.3", "0.5", Rounding::down), "1391.0");
  EXPECT_EQ(order_text("1391.3", "0.5", Rounding::up), "1391.5");
  // Quantities round down to the lot step (Binance BTCUSDT step 0.00001).
  EXPECT_EQ(order_text("0.0123456", "0.00001", Rounding::down), "0.01234");
  EXPECT_EQ(order_text("0.000009", "0.00001", Rounding::down), "0.00000");
}

TEST(DecimalRounding, DirectionsHoldForNegativeValues) {
  Decimal out;
  ASSERT_EQ(d("-1.25").round_to_step(d("0.1"), Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("-1.3"));
  ASSERT_EQ(d("-1.25").round_to_step(d("0.1"), Rounding::up, out), Errc::ok);
  EXPECT_EQ(out, d("-1.2"));
}

TEST(DecimalRounding, RejectsBadStepsAndOverflow) {
  Decimal out;
  EXPECT_EQ(d("1").round_to_step(d("0"), Rounding::down, out), Errc::invalid_argument);
  EXPECT_EQ(d("1").round_to_step(d("-0.1"), Rounding::down, out), Errc::invalid_argument);
  EXPECT_EQ(Decimal::max().round_to_step(d("1000"), Rounding::up, out), Errc::overflow);
  EXPECT_EQ(Decimal::max().round_to_step(d("1000"), Rounding::down, out), Errc::ok);
  char buf[4];
  EXPECT_EQ(format_to_step(d("12345"), d("1"), Rounding::down, buf, buf + 4).ec,
            Errc::buffer_too_small);
}

TEST(DecimalArithmetic, MultiplicationUses128BitsAndRoundsAsAsked) {
  Decimal out;
  // 158,201,000 KRW x 0.01234567 BTC = 1,953,097.33967 KRW (checked with Python's decimal).
  ASSERT_EQ(mul(d("158201000"), d("0.01234567"), Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("1953097.33967"));
  // 0.12345678 x 0.12345678 = 0.0152415765279684: the 16-decimal product rounds both ways.
  ASSERT_EQ(mul(d("0.12345678"), d("0.12345678"), Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("0.01524157"));
  ASSERT_EQ(mul(d("0.12345678"), d("0.12345678"), Rounding::up, out), Errc::ok);
  EXPECT_EQ(out, d("0.01524158"));
  ASSERT_EQ(mul(d("0.00000001"), d("0.5"), Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("0"));
  ASSERT_EQ(mul(d("0.00000001"), d("0.5"), Rounding::up, out), Errc::ok);
  EXPECT_EQ(out, d("0.00000001"));
  ASSERT_EQ(mul(d("-0.00000001"), d("0.5"), Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("-0.00000001"));
  EXPECT_EQ(mul(d("92233720368"), d("2"), Rounding::down, out), Errc::overflow);
  // Notional beyond int64 at 1e-16 scale is still exact in 128 bits.
  EXPECT_EQ(notional_e16(Decimal::max(), Decimal::max()),
            static_cast<Int128>(std::numeric_limits<std::int64_t>::max()) *
                std::numeric_limits<std::int64_t>::max());
  EXPECT_DOUBLE_EQ(notional(d("158201000"), d("0.5")), 79'100'500.0);
  // Back from 1e-16 units: 1234567.89 KRW plus 1e-16, each way; out of range is an overflow.
  const Int128 pnl = notional_e16(d("1234567.89"), d("1")) + 1;
  ASSERT_EQ(from_e16(pnl, Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("1234567.89"));
  ASSERT_EQ(from_e16(pnl, Rounding::up, out), Errc::ok);
  EXPECT_EQ(out, d("1234567.89000001"));
  ASSERT_EQ(from_e16(-pnl, Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("-1234567.89000001"));
  EXPECT_EQ(from_e16(notional_e16(Decimal::max(), d("2")), Rounding::down, out), Errc::overflow);
}

TEST(DecimalArithmetic, DivisionAndCheckedAddSub) {
  Decimal out;
  // 10000 / 43251.23 = 0.2312072974... (checked with Python's decimal)
  ASSERT_EQ(div(d("10000"), d("43251.23"), Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("0.23120729"));
  ASSERT_EQ(div(d("10000"), d("43251.23"), Rounding::up, out), Errc::ok);
  EXPECT_EQ(out, d("0.2312073"));
  ASSERT_EQ(div(d("1"), d("-3"), Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("-0.33333334"));
  EXPECT_EQ(div(d("1"), d("0"), Rounding::down, out), Errc::invalid_argument);
  EXPECT_EQ(div(Decimal::max(), d("0.5"), Rounding::down, out), Errc::overflow);
  ASSERT_EQ(add(d("0.1"), d("0.2"), out), Errc::ok);
  EXPECT_EQ(out, d("0.3"));
  EXPECT_EQ(add(Decimal::max(), d("0.00000001"), out), Errc::overflow);
  ASSERT_EQ(sub(d("0.1"), d("0.3"), out), Errc::ok);
  EXPECT_EQ(out, d("-0.2"));
  EXPECT_EQ(sub(-Decimal::max(), d("1"), out), Errc::overflow);
  Decimal units;
  EXPECT_EQ(Decimal::from_units(Decimal::max_units() + 1, units), Errc::overflow);
  ASSERT_EQ(Decimal::from_units(-7, units), Errc::ok);
  EXPECT_EQ(units, d("-7"));
}

TEST(DecimalArithmetic, FromDoubleRoundsInTheStatedDirection) {
  Decimal out;
  ASSERT_EQ(from_double(1391.123456789, Rounding::down, out), Errc::ok);
  EXPECT_EQ(out, d("1391.12345678"));
  ASSERT_EQ(from_double(1391.123456789, Rounding::up, out), Errc::ok);
  EXPECT_EQ(out, d("1391.12345679"));
  EXPECT_EQ(from_double(std::nan(""), Rounding::down, out), Errc::invalid_argument);
  EXPECT_EQ(from_double(1e300, Rounding::down, out), Errc::overflow);
  EXPECT_EQ(from_double(-1e11, Rounding::down, out), Errc::overflow);
}

// Random values written in every form the venues use must parse back to the same mantissa, and
// agree with a long double reading of the same text.
TEST(DecimalRandomised, MatchesLongDoubleReferenceUnderFixedSeed) {
  std::mt19937_64 rng(20261121);
  std::uniform_int_distribution<std::int64_t> mantissa_dist(
      -std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::max());
  std::uniform_int_distribution<int> small(0, 9);
  std::uniform_int_distribution<int> digits_dist(1, 18);
  int checked = 0;
  for (int i = 0; i < 200'000; ++i) {
    // Mix full-range mantissas with short ones, which are what prices look like.
    std::int64_t m = mantissa_dist(rng);
    if (i % 2 == 0) {
      const int digits = digits_dist(rng);
      std::int64_t bound = 1;
      for (int k = 0; k < digits; ++k) bound *= 10;
      m %= bound;
    }
    const Decimal v = Decimal::from_mantissa(m);
    std::string text = str(v, small(rng) < 5 ? -1 : 8);
    const int form = small(rng);
    if (form < 3) {
      // Exponent form: move the point k digits left and write E<k> ("1.16539E8" style).
      const int k = small(rng);
      const std::size_t sign = text[0] == '-' ? 1 : 0;
      std::string digits = text.substr(sign);
      const auto point = digits.find('.');
      std::size_t int_len = point == std::string::npos ? digits.size() : point;
      if (point != std::string::npos) digits.erase(point, 1);
      if (int_len < static_cast<std::size_t>(k) + 1) {
        const std::size_t pad = static_cast<std::size_t>(k) + 1 - int_len;
        digits.insert(digits.begin(), pad, '0');
        int_len += pad;
      }
      const std::size_t pos = int_len - static_cast<std::size_t>(k);
      // Appended piece by piece: g++ 12 -O3 warns (-Wrestrict, a false positive) on the
      // same expression written with operator+.
      std::string scientific(sign ? "-" : "");
      scientific.append(digits, 0, pos);
      if (pos < digits.size()) scientific.append(".").append(digits, pos);
      scientific.append(form == 0 ? "E" : "e").append(std::to_string(k));
      text = std::move(scientific);
    } else if (form == 3) {
      text += "0000";  // trailing zeros past 8 decimals are exact
      if (text.find('.') == std::string::npos) text.insert(text.size() - 4, ".");
    }
    Decimal parsed;
    ASSERT_EQ(Decimal::parse(text, parsed), Errc::ok) << text;
    ASSERT_EQ(parsed.mantissa(), m) << text;
    const long double ref = std::strtold(text.c_str(), nullptr);
    const long double got = static_cast<long double>(parsed.mantissa()) / 1e8L;
    ASSERT_LE(std::fabs(got - ref), std::fabs(ref) * 1e-17L + 1e-18L) << text;
    ++checked;
    // One more non-zero decimal makes it too precise; rounding it toward zero gives v back and
    // away from zero gives the next value: an exact reference, where long double runs out of bits.
    if (m != 0 && m != std::numeric_limits<std::int64_t>::max() &&
        m != -std::numeric_limits<std::int64_t>::max()) {
      const std::string longer = str(v, 8) + std::to_string(1 + small(rng) % 9);
      Decimal rounded;
      ASSERT_EQ(Decimal::parse(longer, rounded), Errc::too_precise) << longer;
      const Rounding toward_zero = m > 0 ? Rounding::down : Rounding::up;
      const Rounding away = m > 0 ? Rounding::up : Rounding::down;
      ASSERT_EQ(Decimal::parse(longer, toward_zero, rounded), Errc::ok) << longer;
      ASSERT_EQ(rounded.mantissa(), m) << longer;
      ASSERT_EQ(Decimal::parse(longer, away, rounded), Errc::ok) << longer;
      ASSERT_EQ(rounded.mantissa(), m > 0 ? m + 1 : m - 1) << longer;
    }
  }
  EXPECT_GT(checked, 150'000);
}

TEST(DecimalRandomised, RoundToStepMatchesIntegerReference) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> value(-1'000'000'000'000'000, 1'000'000'000'000'000);
  std::uniform_int_distribution<std::int64_t> step(1, 100'000'000'000);
  for (int i = 0; i < 100'000; ++i) {
    const Decimal v = Decimal::from_mantissa(value(rng));
    const Decimal s = Decimal::from_mantissa(step(rng));
    Decimal lo, hi;
    ASSERT_EQ(v.round_to_step(s, Rounding::down, lo), Errc::ok);
    ASSERT_EQ(v.round_to_step(s, Rounding::up, hi), Errc::ok);
    ASSERT_EQ(lo.mantissa() % s.mantissa(), 0);
    ASSERT_EQ(hi.mantissa() % s.mantissa(), 0);
    ASSERT_LE(lo, v);
    ASSERT_GE(hi, v);
    ASSERT_LT(v.mantissa() - lo.mantissa(), s.mantissa());
    ASSERT_LT(hi.mantissa() - v.mantissa(), s.mantissa());
  }
}

TEST(DecimalAllocation, ParseAndFormatDoNotAllocate) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  const std::string_view inputs[] = {"43.50830000", "1.16539E8", "0E-8", "garbage", "1e999"};
  char buf[32];
  test::AllocationScope scope;
  std::uint64_t sink = 0;  // unsigned: wraps by design
  for (int i = 0; i < 1000; ++i) {
    for (auto text : inputs) {
      Decimal v;
      if (Decimal::parse(text, v) == Errc::ok) {
        sink += static_cast<std::uint64_t>(v.mantissa());
        sink += static_cast<std::uint64_t>(v.to_chars(buf, buf + sizeof buf).end - buf);
      }
    }
  }
  EXPECT_EQ(scope.count(), 0u);
  EXPECT_NE(sink, 0);
}

}  // namespace
}  // namespace xarb
