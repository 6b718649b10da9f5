#include <algorithm>
#include <chrono>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <xarb/exec/signing.hpp>

namespace xarb::exec {
namespace {

constexpr char kHex[] = "0123456789abcdef";

template <std::size_t N>
void to_hex(const unsigned char* bytes, std::array<char, 2 * N>& out) noexcept {
  for (std::size_t i = 0; i < N; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xF];
  }
}

void hmac(const EVP_MD* md, std::string_view key, std::string_view data, unsigned char* out) noexcept {
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
}

// Appends `text` to out[pos..], returning the new position or npos when it does not fit.
constexpr std::size_t kNoRoom = static_cast<std::size_t>(-1);
std::size_t put(std::span<char> out, std::size_t pos, std::string_view text) noexcept {
  if (pos == kNoRoom || pos + text.size() > out.size()) return kNoRoom;
  std::memcpy(out.data() + pos, text.data(), text.size());
  return pos + text.size();
}

}  // namespace

Hex256 hmac_sha256_hex(std::string_view key, std::string_view data) noexcept {
  unsigned char mac[32];
  hmac(EVP_sha256(), key, data, mac);
  Hex256 out;
  to_hex<32>(mac, out);
  return out;
}

void hmac_sha256(std::string_view key, std::string_view data,
                 std::span<unsigned char, 32> out) noexcept {
  hmac(EVP_sha256(), key, data, out.data());
}

void hmac_sha512(std::string_view key, std::string_view data,
                 std::span<unsigned char, 64> out) noexcept {
  hmac(EVP_sha512(), key, data, out.data());
}

Hex512 sha512_hex(std::string_view data) noexcept {
  unsigned char digest[64];
  SHA512(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  Hex512 out;
  to_hex<64>(digest, out);
  return out;
}

std::size_t base64url(std::span<const unsigned char> data, std::span<char> out) noexcept {
  const std::size_t padded = 4 * ((data.size() + 2) / 3);
  if (out.size() < padded + 1) return 0;  // EVP_EncodeBlock writes a terminating NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data.data(),
                                static_cast<int>(data.size()));
  auto len = static_cast<std::size_t>(n);
  while (len > 0 && out[len - 1] == '=') --len;
  for (std::size_t i = 0; i < len; ++i) {
    if (out[i] == '+') out[i] = '-';
    if (out[i] == '/') out[i] = '_';
  }
  return len;
}

UuidSource::Text UuidSource::next() noexcept {
  unsigned char b[16];
  if (used_ + 16 > pool_.size()) {
    fallback_ = RAND_bytes(pool_.data(), static_cast<int>(pool_.size())) != 1;
    used_ = 0;
  }
  std::memcpy(b, pool_.data() + used_, 16);
  used_ += 16;
  if (fallback_) {
    // The CSPRNG failed (it does not on a working system). Nonces must be unique, not secret:
    // a counter and the clock keep them so.
    const std::uint64_t c = ++counter_;
    const auto t = static_cast<std::uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    std::memcpy(b, &c, 8);
    std::memcpy(b + 8, &t, 8);
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  Text out;
  std::size_t o = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 0xF];
  }
  return out;
}

std::size_t upbit_jwt(std::string_view access_key, std::string_view secret_key,
                      std::string_view nonce, std::string_view query, JwtAlg alg,
                      std::span<char> out) noexcept {
  // base64url of {"alg":"HS256","typ":"JWT"} and {"alg":"HS512","typ":"JWT"}.
  constexpr std::string_view kHs256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
  constexpr std::string_view kHs512 = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9";
  std::array<char, 512> payload{};
  std::size_t p = 0;
  const std::span<char> pay(payload);
  p = put(pay, p, R"({"access_key":")");
  p = put(pay, p, access_key);
  p = put(pay, p, R"(","nonce":")");
  p = put(pay, p, nonce);
  if (!query.empty()) {
    const Hex512 hash = sha512_hex(query);
    p = put(pay, p, R"(","query_hash":")");
    p = put(pay, p, std::string_view(hash.data(), hash.size()));
    p = put(pay, p, R"(","query_hash_alg":"SHA512)");
  }
  p = put(pay, p, R"("})");
  if (p == kNoRoom) return 0;

  std::size_t o = put(out, 0, alg == JwtAlg::hs256 ? kHs256 : kHs512);
  o = put(out, o, ".");
  if (o == kNoRoom) return 0;
  const std::size_t n = base64url(
      {reinterpret_cast<const unsigned char*>(payload.data()), p}, out.subspan(o));
  if (n == 0) return 0;
  o += n;
  const std::string_view signing_input(out.data(), o);
  unsigned char mac[64];
  std::size_t mac_len = 32;
  if (alg == JwtAlg::hs256) {
    hmac(EVP_sha256(), secret_key, signing_input, mac);
  } else {
    hmac(EVP_sha512(), secret_key, signing_input, mac);
    mac_len = 64;
  }
  o = put(out, o, ".");
  if (o == kNoRoom) return 0;
  const std::size_t s = base64url({mac, mac_len}, out.subspan(o));
  if (s == 0) return 0;
  return o + s;
}

std::string Credentials::redacted_key() const {
  if (key.size() < 12) return "****";
  return key.substr(0, 4) + "..." + key.substr(key.size() - 4);
}

}  // namespace xarb::exec
