#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
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

struct HmacKey::Impl {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  bool ok = false;
};

HmacKey::HmacKey(std::string_view key, Hash hash) : impl_(new Impl) {
  impl_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  impl_->ctx = impl_->mac != nullptr ? EVP_MAC_CTX_new(impl_->mac) : nullptr;
  char digest[8];
  std::memcpy(digest, hash == Hash::sha256 ? "SHA256" : "SHA512", 7);
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
  impl_->ok = impl_->ctx != nullptr &&
              EVP_MAC_init(impl_->ctx, reinterpret_cast<const unsigned char*>(key.data()),
                           key.size(), params) == 1;
}

HmacKey::~HmacKey() {
  EVP_MAC_CTX_free(impl_->ctx);
  EVP_MAC_free(impl_->mac);
  delete impl_;
}

std::size_t HmacKey::sign(std::string_view data, std::span<unsigned char, 64> out) noexcept {
  if (!impl_->ok) return 0;
  // A null key re-initialises with the key already set (EVP_MAC_init(3)).
  std::size_t len = 0;
  if (EVP_MAC_init(impl_->ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(impl_->ctx, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1 ||
      EVP_MAC_final(impl_->ctx, out.data(), &len, out.size()) != 1) {
    return 0;
  }
  return len;
}

Hex256 HmacKey::sign_hex256(std::string_view data) noexcept {
  unsigned char mac[64];
  Hex256 out{};
  if (sign(data, mac) == 32) to_hex<32>(mac, out);
  return out;
}

struct Sha512::Impl {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
};

Sha512::Sha512() : impl_(new Impl) {
  impl_->md = EVP_MD_fetch(nullptr, "SHA512", nullptr);
  impl_->ctx = EVP_MD_CTX_new();
}

Sha512::~Sha512() {
  EVP_MD_CTX_free(impl_->ctx);
  EVP_MD_free(impl_->md);
  delete impl_;
}

Hex512 Sha512::hex(std::string_view data) noexcept {
  unsigned char digest[64];
  unsigned int len = 0;
  Hex512 out{};
  if (impl_->md == nullptr || impl_->ctx == nullptr ||
      EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) != 1 ||
      EVP_DigestUpdate(impl_->ctx, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(impl_->ctx, digest, &len) != 1 || len != 64) {
    return out;
  }
  to_hex<64>(digest, out);
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  const std::size_t pad = (4 - s.size() % 4) % 4;
  if (pad == 3) return false;
  s.append(pad, '=');
  out.assign(s.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(s.data()),
                                static_cast<int>(s.size()));
  if (n < 0) return false;
  out.resize(static_cast<std::size_t>(n) - pad);  // EVP_DecodeBlock counts the padding as zeros
  return true;
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

std::size_t hmac_jwt(std::string_view payload, HmacKey& key, JwtAlg alg,
                     std::span<char> out) noexcept {
  // base64url of {"alg":"HS256","typ":"JWT"} and {"alg":"HS512","typ":"JWT"}.
  constexpr std::string_view kHs256 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
  constexpr std::string_view kHs512 = "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9";
  std::size_t o = put(out, 0, alg == JwtAlg::hs256 ? kHs256 : kHs512);
  o = put(out, o, ".");
  if (o == kNoRoom) return 0;
  const std::size_t n = base64url(
      {reinterpret_cast<const unsigned char*>(payload.data()), payload.size()}, out.subspan(o));
  if (n == 0) return 0;
  o += n;
  unsigned char mac[64];
  const std::size_t mac_len = key.sign(std::string_view(out.data(), o), mac);
  if (mac_len == 0) return 0;
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
