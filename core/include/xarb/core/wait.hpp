#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include <xarb/core/cache_line.hpp>
#include <xarb/core/errc.hpp>

namespace xarb {

// How a thread waits when a poll round found no work. `automatic` is resolved at start-up by
// resolve_wait(); the others are used as they are.
enum class WaitStrategy : std::uint8_t { spin, spin_then_park, park, automatic };

[[nodiscard]] constexpr std::string_view to_string(WaitStrategy w) noexcept {
  switch (w) {
    case WaitStrategy::spin:
      return "spin";
    case WaitStrategy::spin_then_park:
      return "spin_then_park";
    case WaitStrategy::park:
      return "park";
    case WaitStrategy::automatic:
      return "auto";
  }
  return "unknown";
}
// Parses "spin", "spin_then_park", "park", "auto". Fails with invalid_argument.
[[nodiscard]] Errc parse_wait_strategy(std::string_view text, WaitStrategy& out) noexcept;

// `automatic`: spin when every hot thread can own a core with one left for the ops thread and the
// system; spin_then_park when the hot threads exactly fill the cores; park otherwise (on 2 cores
// two spinning threads starve each other).
[[nodiscard]] WaitStrategy resolve_wait(WaitStrategy requested, unsigned available_cores,
                                        unsigned hot_threads) noexcept;

// Wakes a parked consumer. Producers call ring() after publishing; it costs one atomic add and,
// only when a consumer is asleep, one futex wake. The consumer reads epoch() before checking its
// queues and passes it to wait(), so a ring() in between is never missed.
class Doorbell {
 public:
  // Any thread. Does not allocate, never blocks.
  void ring() noexcept;
  // The consumer thread.
  [[nodiscard]] std::uint32_t epoch() const noexcept {
    return epoch_.load(std::memory_order_seq_cst);
  }
  // The consumer thread: sleeps until ring() after `seen` was read, or until timeout_ns elapsed,
  // or a spurious wake-up. Returns immediately when the epoch already moved.
  void wait(std::uint32_t seen, std::int64_t timeout_ns) noexcept;

 private:
  alignas(kFalseSharingRange) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> sleepers_{0};
};

// The consumer side of a wait strategy. Call begin() before a poll round, then idle() if the
// round found nothing, or busy() if it did work. The consumer thread only.
class Idler {
 public:
  // spin_ns: how long spin_then_park spins before parking; park_timeout_ns bounds one sleep so a
  // parked thread still polls its timers and sockets.
  Idler(WaitStrategy strategy, Doorbell& bell, std::int64_t spin_ns = 50'000,
        std::int64_t park_timeout_ns = 1'000'000) noexcept
      : strategy_(strategy), bell_(bell), spin_ns_(spin_ns), park_timeout_ns_(park_timeout_ns) {}

  void begin() noexcept { epoch_ = bell_.epoch(); }
  void busy() noexcept { idle_since_ = 0; }
  void idle() noexcept;
  [[nodiscard]] WaitStrategy strategy() const noexcept { return strategy_; }

 private:
  WaitStrategy strategy_;
  Doorbell& bell_;
  std::int64_t spin_ns_;
  std::int64_t park_timeout_ns_;
  std::uint32_t epoch_ = 0;
  std::int64_t idle_since_ = 0;
};

// One spin-loop hint (x86 PAUSE). Any thread.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace xarb
