#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <type_traits>

#include <xarb/core/cache_line.hpp>

namespace xarb {

// Single-producer single-consumer ring of trivially copyable messages. The producer writes each
// message in place into a preallocated slot (try_claim + publish), so a hand-off is one copy-free
// write plus one release store. Indices grow monotonically and are masked; each side caches the
// other's index and re-reads it only when the cached value says full or empty (rigtorp SPSCQueue).
//
// Exactly one thread may call the producer functions and one thread the consumer functions; it is
// undefined to call them from any other thread. Nothing allocates after construction.
template <class T>
class SpscRing {
  static_assert(std::is_trivially_copyable_v<T>, "ring slots are reused without destruction");

 public:
  // Allocates capacity slots, rounded up to a power of two. Throws std::invalid_argument for 0.
  explicit SpscRing(std::size_t capacity)
      : mask_(checked_capacity(capacity) - 1), slots_(std::make_unique<T[]>(mask_ + 1)) {}

  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer. Returns the next free slot to fill in place, or nullptr when the ring is full (the
  // caller counts the drop). Calling it again before publish() returns the same slot.
  [[nodiscard]] T* try_claim() noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head - tail_cache_ > mask_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head - tail_cache_ > mask_) return nullptr;
    }
    return &slots_[head & mask_];
  }

  // Producer. Makes the slot returned by the last successful try_claim() visible to the consumer.
  void publish() noexcept {
    const std::size_t head = head_.load(std::memory_order_relaxed) + 1;
    if (head - tail_cache_ > high_water_.load(std::memory_order_relaxed)) {
      // Cached tail overstates the depth; refresh before recording a new high-water mark.
      tail_cache_ = tail_.load(std::memory_order_acquire);
      const std::size_t depth = head - tail_cache_;
      if (depth > high_water_.load(std::memory_order_relaxed)) {
        high_water_.store(depth, std::memory_order_relaxed);
      }
    }
    head_.store(head, std::memory_order_release);
  }

  // Producer. Copies `value` into the ring; false when full (nothing written).
  [[nodiscard]] bool try_push(const T& value) noexcept {
    T* slot = try_claim();
    if (slot == nullptr) return false;
    *slot = value;
    publish();
    return true;
  }

  // Consumer. The oldest message, or nullptr when empty. Valid until pop().
  [[nodiscard]] const T* front() noexcept {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail == head_cache_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail == head_cache_) return nullptr;
    }
    return &slots_[tail & mask_];
  }

  // Consumer. Releases the slot returned by front(); only after front() returned non-null.
  void pop() noexcept {
    tail_.store(tail_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  // Consumer. Copies the oldest message out; false when empty.
  [[nodiscard]] bool try_pop(T& out) noexcept {
    const T* slot = front();
    if (slot == nullptr) return false;
    out = *slot;
    pop();
    return true;
  }

  // Any thread; exact only when both sides are quiescent.
  [[nodiscard]] std::size_t size_approx() const noexcept {
    return head_.load(std::memory_order_acquire) - tail_.load(std::memory_order_acquire);
  }
  [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
  // Deepest occupancy the producer has observed. Any thread.
  [[nodiscard]] std::size_t high_water() const noexcept {
    return high_water_.load(std::memory_order_relaxed);
  }

 private:
  static std::size_t checked_capacity(std::size_t capacity) {
    if (capacity == 0 || capacity > (std::size_t{1} << 40)) {
      throw std::invalid_argument("SpscRing capacity must be between 1 and 2^40");
    }
    return std::bit_ceil(capacity);
  }

  const std::size_t mask_;
  const std::unique_ptr<T[]> slots_;
  // Producer-written line(s).
  alignas(kFalseSharingRange) std::atomic<std::size_t> head_{0};
  std::size_t tail_cache_ = 0;
  std::atomic<std::size_t> high_water_{0};
  // Consumer-written line(s).
  alignas(kFalseSharingRange) std::atomic<std::size_t> tail_{0};
  std::size_t head_cache_ = 0;
  // Keeps the next object off the consumer's line.
  alignas(kFalseSharingRange) char end_pad_[1] = {};
};

}  // namespace xarb
