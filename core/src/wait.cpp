#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <xarb/core/clock.hpp>
#include <xarb/core/wait.hpp>

namespace xarb {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

std::uint32_t* futex_word(std::atomic<std::uint32_t>& a) noexcept {
  return reinterpret_cast<std::uint32_t*>(&a);
}

}  // namespace

Errc parse_wait_strategy(std::string_view text, WaitStrategy& out) noexcept {
  for (const auto w : {WaitStrategy::spin, WaitStrategy::spin_then_park, WaitStrategy::park,
                       WaitStrategy::automatic}) {
    if (text == to_string(w)) {
      out = w;
      return Errc::ok;
    }
  }
  return Errc::invalid_argument;
}

WaitStrategy resolve_wait(WaitStrategy requested, unsigned available_cores,
                          unsigned hot_threads) noexcept {
  if (requested != WaitStrategy::automatic) return requested;
  if (available_cores > hot_threads) return WaitStrategy::spin;
  if (available_cores == hot_threads) return WaitStrategy::spin_then_park;
  return WaitStrategy::park;
}

void Doorbell::ring() noexcept {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  // Paired with wait(): either the sleeper is counted here, or its epoch check sees the add.
  if (sleepers_.load(std::memory_order_seq_cst) != 0) {
    ::syscall(SYS_futex, futex_word(epoch_), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
  }
}

void Doorbell::wait(std::uint32_t seen, std::int64_t timeout_ns) noexcept {
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  if (epoch_.load(std::memory_order_seq_cst) == seen) {
    timespec ts{};
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    // The kernel re-checks the word against `seen` atomically before sleeping.
    ::syscall(SYS_futex, futex_word(epoch_), FUTEX_WAIT_PRIVATE, seen, &ts, nullptr, 0);
  }
  sleepers_.fetch_sub(1, std::memory_order_seq_cst);
}

void Idler::idle() noexcept {
  switch (strategy_) {
    case WaitStrategy::spin:
    case WaitStrategy::automatic:  // resolved before use; spinning is the safe reading
      cpu_relax();
      return;
    case WaitStrategy::spin_then_park: {
      const std::int64_t now = clock::mono_ns();
      if (idle_since_ == 0) idle_since_ = now;
      if (now - idle_since_ < spin_ns_) {
        cpu_relax();
        return;
      }
      bell_.wait(epoch_, park_timeout_ns_);
      return;
    }
    case WaitStrategy::park:
      bell_.wait(epoch_, park_timeout_ns_);
      return;
  }
}

}  // namespace xarb
