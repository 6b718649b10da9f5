#pragma once

// Text helpers shared by the simulator's front ends: decimal text, query strings, the venues'
// error bodies, book levels as JSON.

#include <cstdint>
#include <charconv>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <vector>

#include <xarb/core/decimal.hpp>
#include <xarb/sim/exchange.hpp>

namespace xarb::sim::text {

inline constexpr std::int64_t kOne = Decimal::kOne;

// A venue clock time (ms since the epoch) as the KRW venues write `created_at`: ISO 8601 in
// Korea's time, "2026-12-07T21:46:26+09:00".
inline std::string kst_time(std::int64_t ms) {
  const std::time_t t = ms / 1000 + 9 * 3600;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
  return std::string(buf, n);
}

// ASCII lower case (header names, stream names).
inline std::string lower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// A mantissa as text with all 8 decimals ("43.50830000"), appended to `out`: the venues' number
// text. Every frame the market sends is made of these (80 in a 20-level Upbit book), so no printf,
// no temporary string, and the decimals two digits at a time. Same text as Decimal::to_chars(8).
inline void append_dec8(std::string& out, std::int64_t m) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  char buf[Decimal::kMaxChars];
  char* p = buf;
  const std::uint64_t mag = m < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(m)
                                  : static_cast<std::uint64_t>(m);
  if (m < 0) *p++ = '-';
  p = std::to_chars(p, buf + sizeof buf, mag / static_cast<std::uint64_t>(kOne)).ptr;
  *p++ = '.';
  auto frac = static_cast<std::uint32_t>(mag % static_cast<std::uint64_t>(kOne));
  for (int i = 3; i >= 0; --i) {
    std::memcpy(p + 2 * i, kPairs + 2 * (frac % 100), 2);
    frac /= 100;
  }
  out.append(buf, p + 8);
}

inline std::string dec8(std::int64_t m) {
  std::string out;
  append_dec8(out, m);
  return out;
}

// An integer as text, appended to `out`.
inline void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

inline std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A request's parameter; empty when absent.
inline std::string param(const std::map<std::string, std::string>& params, const char* key) {
  const auto it = params.find(key);
  return it == params.end() ? std::string() : it->second;
}

inline std::map<std::string, std::string> params_of(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t amp = text.find('&', pos);
    if (amp == std::string::npos) amp = text.size();
    const std::string part = text.substr(pos, amp - pos);
    const std::size_t eq = part.find('=');
    if (eq != std::string::npos) out[part.substr(0, eq)] = url_decode(part.substr(eq + 1));
    pos = amp + 1;
  }
  return out;
}

inline bool decimal(const std::string& s, std::int64_t& out) {
  Decimal d;
  if (Decimal::parse(s, d) != Errc::ok) return false;
  out = d.mantissa();
  return true;
}

inline HttpResult answer(int status, std::string body) {
  HttpResult r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// "a,b,c" -> {"a", "b", "c"}.
inline std::vector<std::string> split_csv(const std::string& csv) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= csv.size()) {
    std::size_t comma = csv.find(',', pos);
    if (comma == std::string::npos) comma = csv.size();
    out.push_back(csv.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

inline std::string levels(const BookSide& side, bool descending, std::size_t limit) {
  std::string out = "[";
  std::size_t n = 0;
  const auto add = [&](std::int64_t p, std::int64_t q) {
    out += n++ > 0 ? ",[\"" : "[\"";
    append_dec8(out, p);
    out += "\",\"";
    append_dec8(out, q);
    out += "\"]";
  };
  if (descending) {
    for (auto it = side.rbegin(); it != side.rend() && n < limit; ++it) add(it->first, it->second);
  } else {
    for (auto it = side.begin(); it != side.end() && n < limit; ++it) add(it->first, it->second);
  }
  return out + "]";
}

}  // namespace xarb::sim::text
