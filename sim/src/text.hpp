#pragma once

// Text helpers shared by the simulator's front ends: decimal text, query strings, the venues'
// error bodies, book levels as JSON.

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <xarb/core/decimal.hpp>
#include <xarb/sim/exchange.hpp>

namespace xarb::sim::text {

inline constexpr std::int64_t kOne = Decimal::kOne;

inline std::string dec8(std::int64_t m) {
  char buf[40];
  const std::int64_t a = m < 0 ? -m : m;
  std::snprintf(buf, sizeof buf, "%s%lld.%08lld", m < 0 ? "-" : "", static_cast<long long>(a / kOne),
                static_cast<long long>(a % kOne));
  return buf;
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

inline HttpResult binance_error(int status, int code, const std::string& msg) {
  return answer(status, R"({"code":)" + std::to_string(code) + R"(,"msg":")" + msg + R"("})");
}

inline HttpResult upbit_error(int status, const std::string& name, const std::string& msg) {
  return answer(status, R"({"error":{"name":")" + name + R"(","message":")" + msg + R"("}})");
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
    if (n++ > 0) out += ",";
    out += "[\"" + dec8(p) + "\",\"" + dec8(q) + "\"]";
  };
  if (descending) {
    for (auto it = side.rbegin(); it != side.rend() && n < limit; ++it) add(it->first, it->second);
  } else {
    for (auto it = side.begin(); it != side.end() && n < limit; ++it) add(it->first, it->second);
  }
  return out + "]";
}

}  // namespace xarb::sim::text
