// Signing against the published vectors in data/vectors: Binance's documented HMAC
// example, RFC 7515 A.1, RFC 4231 case 2, FIPS 180-2 SHA-512("abc"), and the shape of Upbit's
// documented JWT.

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <simdjson.h>

#include <xarb/exec/signing.hpp>
#include <xarb/exec/venues/upbit_api.hpp>

#include "test_support.hpp"

namespace xarb::exec {
namespace {

std::string text(const auto& arr) { return std::string(arr.data(), arr.size()); }

std::string unbase64url(std::string_view s) {
  std::string out;
  EXPECT_TRUE(base64url_decode(s, out)) << s;
  return out;
}

std::string b64url(std::string_view data) {
  std::vector<char> out(data.size() * 2 + 8);
  const std::size_t n = base64url(
      {reinterpret_cast<const unsigned char*>(data.data()), data.size()}, out);
  return std::string(out.data(), n);
}

simdjson::dom::element load(simdjson::dom::parser& parser, const char* name) {
  return parser.load((test::data_dir() / "vectors" / name).string());
}

TEST(Signing, BinanceDocumentedHmacExample) {
  simdjson::dom::parser parser;
  const auto doc = load(parser, "binance_hmac_basic.json");
  const std::string secret(doc["secretKey"].get_string().value());
  for (const auto v : doc["vectors"].get_array()) {
    const std::string payload(v["payload"].get_string().value());
    EXPECT_EQ(text(hmac_sha256_hex(secret, payload)), v["expected"].get_string().value());
  }
}

TEST(Signing, Rfc4231TestCase2AndFipsSha512) {
  simdjson::dom::parser parser;
  const auto doc = load(parser, "jwt_hmac_sha_standard.json");
  for (const auto v : doc["vectors"].get_array()) {
    const std::string_view id = v["id"].get_string().value();
    if (id == "rfc4231_tc2") {
      const std::string key(v["key_utf8"].get_string().value());
      const std::string data(v["data_utf8"].get_string().value());
      EXPECT_EQ(text(hmac_sha256_hex(key, data)), v["expected_hmac_sha256_hex"].get_string().value());
      std::array<unsigned char, 64> mac{};
      hmac_sha512(key, data, mac);
      std::string hex;
      for (unsigned char c : mac) {
        hex += "0123456789abcdef"[c >> 4];
        hex += "0123456789abcdef"[c & 15];
      }
      EXPECT_EQ(hex, v["expected_hmac_sha512_hex"].get_string().value());
    } else if (id == "fips180_sha512_abc") {
      EXPECT_EQ(text(sha512_hex(v["data_utf8"].get_string().value())),
                v["expected_sha512_hex"].get_string().value());
    }
  }
}

TEST(Signing, Rfc7515AppendixA1Hs256) {
  simdjson::dom::parser parser;
  const auto doc = load(parser, "jwt_hmac_sha_standard.json");
  for (const auto v : doc["vectors"].get_array()) {
    if (v["id"].get_string().value() != "rfc7515_A1_HS256_JWS") continue;
    const std::string key = unbase64url(std::string(v["key_jwk_k_base64url"].get_string().value()));
    const std::string header(v["protected_header_utf8"].get_string().value());
    const std::string payload(v["payload_utf8"].get_string().value());
    const std::string input = b64url(header) + "." + b64url(payload);
    EXPECT_EQ(input, v["signing_input"].get_string().value());
    std::array<unsigned char, 32> mac{};
    hmac_sha256(key, input, mac);
    std::array<char, 64> sig{};
    const std::size_t n = base64url(mac, sig);
    EXPECT_EQ(std::string(sig.data(), n), v["expected_signature_base64url"].get_string().value());
  }
}

TEST(Signing, UpbitJwtHasTheDocumentedShape) {
  simdjson::dom::parser parser;
  const auto doc = load(parser, "jwt_hmac_sha_standard.json");
  for (const auto v : doc["vectors"].get_array()) {
    if (v["id"].get_string().value() != "upbit_docs_jwt_structure_example") continue;
    // Our base64url of Upbit's decoded header and payload gives Upbit's encoded text exactly.
    EXPECT_EQ(b64url(v["header_decoded"].get_string().value()),
              v["header_base64url"].get_string().value());
    EXPECT_EQ(b64url(v["payload_decoded"].get_string().value()),
              v["payload_base64url"].get_string().value());
  }
  // Our token for the documented access key and nonce, with a query: same header, the same
  // payload fields in the same order, the query_hash being SHA-512 of the query.
  const std::string access = "a7Xd92LmQW3vBtRzYpMj5CxNKeT1HuVs0fFgJcAw";
  const std::string nonce = "b2f1e3f8-2dc1-4d6f-a838-c74c49b0e39a";
  const std::string query = "market=KRW-BTC&side=bid&volume=0.01&price=100000000&ord_type=limit";
  std::array<char, 1024> out{};
  const std::size_t n = upbit_jwt(access, "secret", nonce, query, JwtAlg::hs512, out);
  ASSERT_GT(n, 0u);
  const std::string token(out.data(), n);
  const auto dot1 = token.find('.'), dot2 = token.rfind('.');
  EXPECT_EQ(token.substr(0, dot1), "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9");
  EXPECT_EQ(unbase64url(token.substr(dot1 + 1, dot2 - dot1 - 1)),
            R"({"access_key":")" + access + R"(","nonce":")" + nonce + R"(","query_hash":")" +
                text(sha512_hex(query)) + R"(","query_hash_alg":"SHA512"})");
  // The signature is HMAC-SHA512 over header.payload.
  std::array<unsigned char, 64> mac{};
  hmac_sha512("secret", token.substr(0, dot2), mac);
  std::array<char, 100> sig{};
  EXPECT_EQ(token.substr(dot2 + 1), std::string(sig.data(), base64url(mac, sig)));

  // Without parameters: no query_hash; HS256 header.
  const std::size_t m = upbit_jwt(access, "secret", nonce, "", JwtAlg::hs256, out);
  const std::string plain(out.data(), m);
  EXPECT_EQ(plain.substr(0, plain.find('.')), b64url(R"({"alg":"HS256","typ":"JWT"})"));
  EXPECT_EQ(unbase64url(plain.substr(plain.find('.') + 1, plain.rfind('.') - plain.find('.') - 1)),
            R"({"access_key":")" + access + R"(","nonce":")" + nonce + R"("})");
  // Too small a buffer: 0, never a truncated token.
  std::array<char, 64> tiny{};
  EXPECT_EQ(upbit_jwt(access, "secret", nonce, query, JwtAlg::hs256, tiny), 0u);
}

TEST(Signing, Base64urlRoundTripsAndRejectsOtherAlphabets) {
  for (const std::string text : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
    std::string decoded;
    ASSERT_TRUE(base64url_decode(b64url(text), decoded)) << text;
    EXPECT_EQ(decoded, text);
  }
  std::string out;
  EXPECT_FALSE(base64url_decode("ab+c", out)) << "standard base64's alphabet";
  EXPECT_FALSE(base64url_decode("abcde", out)) << "impossible length";
}

TEST(Signing, UuidNoncesAreVersion4AndUnique) {
  UuidSource source;
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) {
    const std::string u = text(source.next());
    ASSERT_EQ(u.size(), 36u);
    EXPECT_EQ(u[8], '-');
    EXPECT_EQ(u[14], '4');
    EXPECT_TRUE(u[19] == '8' || u[19] == '9' || u[19] == 'a' || u[19] == 'b') << u;
    EXPECT_TRUE(seen.insert(u).second) << u;
  }
}

TEST(Signing, RedactedKeyNeverShowsTheSecret) {
  const Credentials c{"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A", "s3cr3t"};
  EXPECT_EQ(c.redacted_key(), "vmPU...Eh8A");
  EXPECT_EQ((Credentials{"short", "x"}).redacted_key(), "****");
}

}  // namespace
}  // namespace xarb::exec
