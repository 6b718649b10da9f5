#pragma once

// Request authentication as the venues do it, for the simulator (and the in-test stand-ins):
// Binance's HMAC-SHA256 over query + body, Upbit's JWT with its query_hash.

#include <functional>
#include <string>
#include <string_view>

namespace xarb::sim {

// True when `params` (query string followed directly by the body) ends with
// "&signature=<hex HMAC-SHA256 of everything before it>".
[[nodiscard]] bool binance_signature_valid(std::string_view params, std::string_view secret);

struct UpbitAuth {
  std::string error;       // empty: valid; else Upbit's error name (jwt_verification, ...)
  std::string access_key;  // as in the token
  std::string nonce;
  std::int64_t timestamp_ms = -1;  // the "timestamp" claim (Bithumb's); -1 when absent
};

// Verifies "Bearer <jwt>" for a request with this query string and body: the HS256 / HS512
// signature with the secret `secret_of(access_key)` returns (empty: no such key), and the
// query_hash over the parameters as key=value&... in the order sent (the JSON body's fields for
// a body). Nonce reuse is the caller's to check (it keeps the nonces).
[[nodiscard]] UpbitAuth verify_upbit(std::string_view authorization, std::string_view query,
                                     std::string_view body,
                                     const std::function<std::string(std::string_view)>& secret_of);

}  // namespace xarb::sim
