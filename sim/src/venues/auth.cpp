#include <simdjson.h>

#include <xarb/exec/signing.hpp>
#include <xarb/sim/venues/auth.hpp>

namespace xarb::sim {

bool binance_signature_valid(std::string_view params, std::string_view secret) {
  const auto at = params.rfind("&signature=");
  if (at == std::string_view::npos) return false;
  const exec::Hex256 want = exec::hmac_sha256_hex(secret, params.substr(0, at));
  return params.substr(at + 11) == std::string_view(want.data(), want.size());
}

UpbitAuth verify_upbit(std::string_view authorization, std::string_view query,
                       std::string_view body,
                       const std::function<std::string(std::string_view)>& secret_of) {
  UpbitAuth out;
  const auto fail = [&](const char* name) {
    out.error = name;
    return out;
  };
  if (!authorization.starts_with("Bearer ")) return fail("jwt_verification");
  const std::string_view token = authorization.substr(7);
  const auto d1 = token.find('.'), d2 = token.rfind('.');
  if (d1 == std::string_view::npos || d1 == d2) return fail("jwt_verification");
  std::string header, payload;
  if (!exec::base64url_decode(token.substr(0, d1), header) ||
      !exec::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), payload)) {
    return fail("jwt_verification");
  }
  simdjson::dom::parser hp, pp;
  simdjson::dom::element h, p;
  std::string_view alg, access, nonce;
  if (hp.parse(header).get(h) != simdjson::SUCCESS || h["alg"].get(alg) != simdjson::SUCCESS ||
      pp.parse(payload).get(p) != simdjson::SUCCESS) {
    return fail("jwt_verification");
  }
  if (p["access_key"].get(access) != simdjson::SUCCESS) return fail("jwt_verification");
  out.access_key = std::string(access);
  const std::string secret = secret_of(access);
  if (secret.empty()) return fail("invalid_access_key");
  unsigned char mac[64];
  std::size_t len = 0;
  const std::string_view input = token.substr(0, d2);
  if (alg == "HS256") {
    exec::hmac_sha256(secret, input, std::span<unsigned char, 32>(mac, 32));
    len = 32;
  } else if (alg == "HS512") {
    exec::hmac_sha512(secret, input, std::span<unsigned char, 64>(mac, 64));
    len = 64;
  } else {
    return fail("jwt_verification");
  }
  char sig[100];
  const std::size_t n = exec::base64url({mac, len}, sig);
  if (token.substr(d2 + 1) != std::string_view(sig, n)) return fail("jwt_verification");
  if (p["nonce"].get(nonce) != simdjson::SUCCESS || nonce.empty()) return fail("jwt_verification");
  out.nonce = std::string(nonce);
  std::int64_t timestamp = 0;
  if (p["timestamp"].get(timestamp) == simdjson::SUCCESS) out.timestamp_ms = timestamp;
  // The parameters as key=value&... in the order sent: the query string, or the JSON body.
  std::string params(query);
  if (!body.empty()) {
    simdjson::dom::parser bp;
    simdjson::dom::object fields;
    if (bp.parse(body).get(fields) != simdjson::SUCCESS) return fail("invalid_query_payload");
    params.clear();
    for (auto [k, v] : fields) {
      if (!params.empty()) params += "&";
      std::string_view sv;
      params += std::string(k) + "=" +
                (v.get(sv) == simdjson::SUCCESS ? std::string(sv) : simdjson::minify(v));
    }
  }
  std::string_view hash;
  const bool has_hash = p["query_hash"].get(hash) == simdjson::SUCCESS;
  if (params.empty()) {
    if (has_hash) return fail("invalid_query_payload");
    return out;
  }
  const exec::Hex512 want = exec::sha512_hex(params);
  if (!has_hash || hash != std::string_view(want.data(), want.size())) {
    return fail("invalid_query_payload");
  }
  return out;
}

}  // namespace xarb::sim
