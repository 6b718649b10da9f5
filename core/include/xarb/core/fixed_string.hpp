#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace xarb {

// A string of at most N - 1 characters stored inline, so that messages holding one stay trivially
// copyable. assign() truncates and reports it; no allocation; any thread.
template <std::size_t N>
struct FixedString {
  static_assert(N >= 2 && N <= 256, "length is kept in one byte");
  static constexpr std::size_t kCapacity = N - 1;

  char data[kCapacity] = {};
  std::uint8_t size = 0;

  // Returns false (and keeps the first kCapacity characters) when text is longer than kCapacity.
  constexpr bool assign(std::string_view text) noexcept {
    const std::size_t n = std::min(text.size(), kCapacity);
    std::copy_n(text.data(), n, data);
    size = static_cast<std::uint8_t>(n);
    return n == text.size();
  }
  // Like assign, but a cut never splits a UTF-8 character (venue messages may be Korean).
  constexpr bool assign_utf8(std::string_view text) noexcept {
    if (text.size() <= kCapacity) return assign(text);
    std::size_t n = kCapacity;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    assign(text.substr(0, n));
    return false;
  }
  [[nodiscard]] constexpr std::string_view view() const noexcept { return {data, size}; }
  [[nodiscard]] constexpr bool empty() const noexcept { return size == 0; }
  friend constexpr bool operator==(const FixedString& a, const FixedString& b) noexcept {
    return a.view() == b.view();
  }
};

}  // namespace xarb
