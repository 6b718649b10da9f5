#pragma once

// Request signing for both venues (docs/venues.md): Binance's HMAC-SHA256 hex signature and Upbit's
// JWT (HS256 or HS512) with a SHA-512 query_hash. OpenSSL does the cryptography; everything is
// written into caller buffers, so signing an order does not allocate here (OpenSSL's own internal
// allocations are measured by the order benchmark).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace xarb::exec {

// Lowercase hex of HMAC-SHA256(key, data): 64 characters.
using Hex256 = std::array<char, 64>;
[[nodiscard]] Hex256 hmac_sha256_hex(std::string_view key, std::string_view data) noexcept;
// Raw HMAC-SHA256 / HMAC-SHA512 (32 / 64 bytes written to `out`).
void hmac_sha256(std::string_view key, std::string_view data, std::span<unsigned char, 32> out) noexcept;
void hmac_sha512(std::string_view key, std::string_view data, std::span<unsigned char, 64> out) noexcept;
// Lowercase hex of SHA-512(data): 128 characters.
using Hex512 = std::array<char, 128>;
[[nodiscard]] Hex512 sha512_hex(std::string_view data) noexcept;

// Unpadded base64url of `data` into `out`; returns the length written (4 * ceil(n / 3) at most),
// or 0 when `out` is too small.
[[nodiscard]] std::size_t base64url(std::span<const unsigned char> data, std::span<char> out) noexcept;

// Decodes unpadded base64url (as in JWTs); false when `text` is not base64url. Allocates (servers
// and tests use it, not the order path).
bool base64url_decode(std::string_view text, std::string& out);

// A keyed HMAC that signs many messages: the key is set up once (OpenSSL EVP_MAC), so signing
// does not allocate or redo the key schedule. Not copyable; one per thread.
class HmacKey {
 public:
  enum class Hash : std::uint8_t { sha256, sha512 };
  HmacKey(std::string_view key, Hash hash);
  ~HmacKey();
  HmacKey(const HmacKey&) = delete;
  HmacKey& operator=(const HmacKey&) = delete;

  // Writes the MAC (32 or 64 bytes) to `out`; returns its length, 0 on failure.
  std::size_t sign(std::string_view data, std::span<unsigned char, 64> out) noexcept;
  [[nodiscard]] Hex256 sign_hex256(std::string_view data) noexcept;

 private:
  struct Impl;
  Impl* impl_;
};

// SHA-512 with a reused context (no allocation per digest).
class Sha512 {
 public:
  Sha512();
  ~Sha512();
  Sha512(const Sha512&) = delete;
  Sha512& operator=(const Sha512&) = delete;
  [[nodiscard]] Hex512 hex(std::string_view data) noexcept;

 private:
  struct Impl;
  Impl* impl_;
};

// A UUID v4 in its 36-character text form, from OpenSSL's CSPRNG drawn in batches.
class UuidSource {
 public:
  using Text = std::array<char, 36>;
  [[nodiscard]] Text next() noexcept;

 private:
  std::array<unsigned char, 4096> pool_{};
  std::size_t used_ = sizeof(pool_);
  std::uint64_t counter_ = 0;
  bool fallback_ = false;
};

enum class JwtAlg : std::uint8_t { hs256, hs512 };

// A JWT signed with HMAC: base64url of the algorithm's header, ".", base64url of `payload` (the
// claims as JSON, as given), ".", base64url of the HMAC of what precedes (HS256: a Hash::sha256
// key, HS512: Hash::sha512). Returns the token's length in `out`, or 0 when it does not fit.
[[nodiscard]] std::size_t hmac_jwt(std::string_view payload, HmacKey& key, JwtAlg alg,
                                   std::span<char> out) noexcept;

// API credentials. The secret never leaves this struct except into the HMAC; printing it is not
// possible through any function here.
struct Credentials {
  std::string key;     // Binance API key / Upbit access key
  std::string secret;  // Binance secret / Upbit secret key

  [[nodiscard]] bool present() const noexcept { return !key.empty() && !secret.empty(); }
  // "vmPU...Eh8A": enough to tell keys apart in an operator's output, never the secret.
  [[nodiscard]] std::string redacted_key() const;
};

}  // namespace xarb::exec
