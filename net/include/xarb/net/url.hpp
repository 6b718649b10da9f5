#pragma once

// An endpoint as configured: "wss://host[:port][/path[?query]]" or "https://...". Only TLS
// schemes are accepted; a venue is never spoken to in clear text.

#include <string>
#include <string_view>

namespace xarb::net {

struct Url {
  std::string host;          // "api.binance.com", "127.0.0.1", "::1" (brackets removed)
  std::string port = "443";
  std::string target = "/";  // path and query; "/" when the URL has none

  // "host" or "host:port" as the Host header wants it (the port only when not 443).
  [[nodiscard]] std::string host_header() const;
  // The path as a prefix for REST paths: "" for "/", "/prefix" for "/prefix/" (no trailing '/').
  [[nodiscard]] std::string path_prefix() const;
};

// Splits `text`, which must start with `scheme` ("wss://" or "https://"). False, with `error`
// saying why, for another scheme, no host, or a port that is not a number in 1..65535.
[[nodiscard]] bool parse_url(std::string_view text, std::string_view scheme, Url& out,
                             std::string& error);
// The same, for start-up: throws std::invalid_argument with the reason.
[[nodiscard]] Url parse_url(std::string_view text, std::string_view scheme);

}  // namespace xarb::net
