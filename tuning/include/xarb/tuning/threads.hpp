#pragma once

// Thread layout and placement (docs/design.md: Threads and messages): which CPUs exist and are
// allowed, whether a layout of hot threads and the ops thread makes sense on them, pinning,
// naming, and the per-thread CPU time and process memory the run report shows. Start-up and
// reporting only: everything here may allocate and make system calls.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/core/wait.hpp>

namespace xarb::tuning {

// One thread of a layout. `cpu` -1: not pinned. `hot`: hosts pipeline stages (feed, signal,
// exec); the ops thread is not hot.
struct ThreadPlan {
  std::string name;
  int cpu = -1;
  WaitStrategy wait = WaitStrategy::park;  // resolved (not `automatic`)
  bool hot = true;
};

struct LayoutProblem {
  std::string thread;
  std::string message;
  bool fatal = true;  // false: a warning (the layout runs, but not as well as it could)
};

// The CPUs this process may run on (sched_getaffinity), ascending.
[[nodiscard]] std::vector<int> allowed_cpus();
// CPUs online on the host.
[[nodiscard]] unsigned online_cpus() noexcept;

// Checks a layout against the host: pinned CPUs exist and are allowed; a spinning hot thread has
// its CPU to itself (no other pinned thread on it); the ops thread is not on a hot thread's CPU;
// more spinning threads than allowed CPUs starve each other.
[[nodiscard]] std::vector<LayoutProblem> validate_layout(std::span<const ThreadPlan> threads,
                                                         std::span<const int> allowed,
                                                         unsigned online);

// The calling thread. Name: at most 15 characters are kept (the kernel's limit).
void name_current_thread(std::string_view name) noexcept;
// Pins the calling thread to `cpu`; false with the system's reason.
[[nodiscard]] bool pin_current_thread(int cpu, std::string& error);

// CPU time consumed by the calling thread, ns.
[[nodiscard]] std::int64_t current_thread_cpu_ns() noexcept;

// Resident set size of the process now and its peak, in KiB (0 when unknown).
[[nodiscard]] std::int64_t current_rss_kib() noexcept;
[[nodiscard]] std::int64_t peak_rss_kib() noexcept;

// The C heap (glibc's allocator, every arena): bytes handed out and not yet freed, and bytes the
// allocator holds from the system (in use + free chunks it keeps + large mmapped blocks). RSS
// that grows while `in_use` stays flat is the allocator keeping freed memory, not a leak. Walks
// every arena under its lock: call it from a cold thread, about once a second at most.
struct HeapUsage {
  std::int64_t in_use_bytes = 0;
  std::int64_t held_bytes = 0;
};
[[nodiscard]] HeapUsage heap_usage() noexcept;

}  // namespace xarb::tuning
