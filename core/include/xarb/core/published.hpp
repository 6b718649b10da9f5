#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include <xarb/core/cache_line.hpp>

namespace xarb {

// One value that one thread publishes and any thread reads whole: a stage's statistics, which
// its hot thread copies in every 100 ms and the ops thread reads for the report and /metrics.
// A sequence lock: the writer never waits; a reader retries while a publish is under way, so it
// never sees half of one publish and half of another. The value is held as relaxed atomic words,
// so a read racing a write is defined behaviour (and clean under ThreadSanitizer).
//
// publish(): one writer thread at a time (the thread hosting the stage). read(): any thread.
template <class T>
class Published {
  static_assert(std::is_trivially_copyable_v<T>, "published by copying its bytes");
  static_assert(std::is_default_constructible_v<T>);
  static constexpr std::size_t kWords =
      (sizeof(T) + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t);

 public:
  Published() noexcept { publish(T{}); }

  void publish(const T& value) noexcept {
    std::array<std::uint64_t, kWords> words{};
    std::memcpy(words.data(), &value, sizeof(T));
    const std::uint64_t s = seq_.load(std::memory_order_relaxed);
    seq_.store(s + 1, std::memory_order_relaxed);  // odd: a publish is under way
    std::atomic_thread_fence(std::memory_order_release);
    for (std::size_t i = 0; i < kWords; ++i) words_[i].store(words[i], std::memory_order_relaxed);
    seq_.store(s + 2, std::memory_order_release);
  }

  [[nodiscard]] T read() const noexcept {
    std::array<std::uint64_t, kWords> words{};
    for (;;) {
      const std::uint64_t before = seq_.load(std::memory_order_acquire);
      if ((before & 1) != 0) continue;
      for (std::size_t i = 0; i < kWords; ++i) words[i] = words_[i].load(std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (seq_.load(std::memory_order_relaxed) == before) break;
    }
    T value;
    std::memcpy(static_cast<void*>(&value), words.data(), sizeof(T));  // trivially copyable
    return value;
  }

  // How many publishes so far (the one the constructor makes included).
  [[nodiscard]] std::uint64_t count() const noexcept {
    return seq_.load(std::memory_order_acquire) / 2;
  }

 private:
  alignas(kFalseSharingRange) std::atomic<std::uint64_t> seq_{0};
  std::array<std::atomic<std::uint64_t>, kWords> words_{};
};

}  // namespace xarb
