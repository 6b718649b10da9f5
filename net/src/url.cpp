#include <xarb/net/url.hpp>

#include <charconv>
#include <stdexcept>

namespace xarb::net {

std::string Url::host_header() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string h = v6 ? "[" + host + "]" : host;
  return port == "443" ? h : h + ":" + port;
}

std::string Url::path_prefix() const {
  std::string p = target.substr(0, target.find('?'));
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p;
}

bool parse_url(std::string_view text, std::string_view scheme, Url& out, std::string& error) {
  const auto fail = [&](std::string_view why) {
    error.assign(1, '"').append(text).append("\" ").append(why);
    return false;
  };
  if (!text.starts_with(scheme)) return fail(std::string("must start with ").append(scheme));
  std::string_view rest = text.substr(scheme.size());
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  Url u;
  if (slash == std::string_view::npos) {
    u.target = "/";
  } else {
    // "?query" alone means "/?query" (built by append: GCC 12 warns falsely on insert(0, ...)).
    u.target = rest[slash] == '?' ? "/" : "";
    u.target.append(rest.substr(slash));
  }
  std::string_view port;
  if (authority.starts_with('[')) {  // [v6 address][:port]
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("has an unclosed '['");
    u.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fail("has text after the address");
      port = after.substr(1);
      if (port.empty()) return fail("has an empty port");
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return fail("has an empty port");
    }
  }
  if (u.host.empty()) return fail("has no host");
  if (!port.empty()) {
    unsigned value = 0;
    const auto r = std::from_chars(port.data(), port.data() + port.size(), value);
    if (r.ec != std::errc{} || r.ptr != port.data() + port.size() || value == 0 || value > 65535) {
      return fail("has a port that is not a number in 1..65535");
    }
    u.port = std::string(port);
  }
  out = std::move(u);
  return true;
}

Url parse_url(std::string_view text, std::string_view scheme) {
  Url u;
  std::string error;
  if (!parse_url(text, scheme, u, error)) throw std::invalid_argument(error);
  return u;
}

}  // namespace xarb::net
