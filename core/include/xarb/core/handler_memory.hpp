#pragma once

// Preallocated memory for a connection's asynchronous operations. Asio and Beast allocate each
// pending operation through its completion handler's associated allocator; without one they use
// a one-slot cache per thread, which misses whenever two operations are pending at once (a read
// on each socket, and a pong or a text PING being written). Handlers wrapped by with_memory()
// take their operation's memory from a few fixed slots instead; only an operation larger than a
// slot, or more of them at once than there are slots, goes to operator new.
// The asio "allocation" example's pattern; one thread owns a HandlerMemory. Header-only and
// independent of Asio (it only has to look like an allocator), shared by the feed's websockets
// and exec's HTTPS connections.

#include <array>
#include <cstddef>
#include <new>
#include <utility>

namespace xarb {

class HandlerMemory {
 public:
  static constexpr std::size_t kSlots = 6;
  static constexpr std::size_t kSlotBytes = 2048;

  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  void* allocate(std::size_t bytes) {
    if (bytes <= kSlotBytes) {
      for (std::size_t i = 0; i < kSlots; ++i) {
        if (!used_[i]) {
          used_[i] = true;
          return slots_[i].data();
        }
      }
    }
    return ::operator new(bytes);
  }

  void deallocate(void* p) noexcept {
    for (std::size_t i = 0; i < kSlots; ++i) {
      if (p == slots_[i].data()) {
        used_[i] = false;
        return;
      }
    }
    ::operator delete(p);
  }

 private:
  struct alignas(std::max_align_t) Slot : std::array<unsigned char, kSlotBytes> {};
  std::array<Slot, kSlots> slots_{};
  std::array<bool, kSlots> used_{};
};

template <class T>
class HandlerAllocator {
 public:
  using value_type = T;

  explicit HandlerAllocator(HandlerMemory& memory) noexcept : memory_(&memory) {}
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) { return static_cast<T*>(memory_->allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { memory_->deallocate(p); }

  template <class U>
  friend bool operator==(const HandlerAllocator& a, const HandlerAllocator<U>& b) noexcept {
    return a.memory_ == b.memory_;
  }

 private:
  template <class>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

template <class F>
class WithMemory {
 public:
  using allocator_type = HandlerAllocator<int>;

  WithMemory(HandlerMemory& memory, F f) : memory_(memory), f_(std::move(f)) {}
  [[nodiscard]] allocator_type get_allocator() const noexcept { return allocator_type(memory_); }

  template <class... Args>
  void operator()(Args&&... args) {
    f_(std::forward<Args>(args)...);
  }

 private:
  HandlerMemory& memory_;
  F f_;
};

// `f` as a completion handler whose operations take their memory from `memory`.
template <class F>
[[nodiscard]] WithMemory<F> with_memory(HandlerMemory& memory, F f) {
  return WithMemory<F>(memory, std::move(f));
}

}  // namespace xarb
