#include "alloc_counter.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <execinfo.h>
#include <new>
#include <string>
#include <unistd.h>

// ThreadSanitizer's runtime (clang's, linked statically) defines operator new and delete itself;
// under it the counting replacements are left out and the allocation tests skip themselves.
#if defined(__SANITIZE_THREAD__)
#define XARB_COUNTING_NEW 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XARB_COUNTING_NEW 0
#endif
#endif
#ifndef XARB_COUNTING_NEW
#define XARB_COUNTING_NEW 1
#endif

namespace {
std::atomic<std::uint64_t> g_total{0};
thread_local std::uint64_t t_count = 0;
thread_local int t_scopes = 0;       // AllocationScopes alive on this thread
thread_local bool t_tracing = false;  // inside the backtrace below (it may allocate itself)
// The call stack of the first allocation inside the innermost live scope, so that a test that
// finds one can say where it came from without a rerun.
constexpr int kFirstFrames = 24;
thread_local void* t_first[kFirstFrames];
thread_local int t_first_depth = 0;
thread_local std::size_t t_first_bytes = 0;

// XARB_ALLOC_BACKTRACE=1: every allocation inside an AllocationScope prints its call stack to
// stderr (symbolise with addr2line, or read the function names when the binary exports them).
void trace_allocation(std::size_t n) {
  static const bool enabled = std::getenv("XARB_ALLOC_BACKTRACE") != nullptr;
  if (t_scopes == 0 || t_tracing) return;
  if (t_first_depth == 0) {
    t_tracing = true;
    t_first_depth = ::backtrace(t_first, kFirstFrames);
    t_first_bytes = n;
    t_tracing = false;
  }
  if (!enabled) return;
  t_tracing = true;
  void* frames[32];
  const int depth = ::backtrace(frames, 32);
  char line[64];
  const int len = __builtin_snprintf(line, sizeof line, "allocation of %zu bytes in scope:\n", n);
  (void)!::write(2, line, static_cast<std::size_t>(len));
  ::backtrace_symbols_fd(frames, depth, 2);
  t_tracing = false;
}

void* counted_alloc(std::size_t n, std::size_t align) {
  g_total.fetch_add(1, std::memory_order_relaxed);
  ++t_count;
  trace_allocation(n);
  if (n == 0) n = 1;
  void* p = align > alignof(std::max_align_t)
                ? std::aligned_alloc(align, (n + align - 1) / align * align)
                : std::malloc(n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

#if XARB_COUNTING_NEW
void* operator new(std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return counted_alloc(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, alignof(std::max_align_t));
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(n, static_cast<std::size_t>(a));
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
#else
[[maybe_unused]] void* unused_counted_alloc = reinterpret_cast<void*>(&counted_alloc);
#endif

namespace xarb::test {

AllocationScope::AllocationScope() noexcept : start_(t_count) {
  ++t_scopes;
  t_first_depth = 0;
}
AllocationScope::~AllocationScope() { --t_scopes; }
std::uint64_t AllocationScope::count() const noexcept { return t_count - start_; }
std::string AllocationScope::first() const {
  if (t_first_depth == 0) return {};
  const int depth = t_first_depth;
  std::string out = "first allocation: " + std::to_string(t_first_bytes) + " bytes at\n";
  char** names = ::backtrace_symbols(t_first, depth);
  for (int k = 0; k < depth; ++k) {
    out += "  ";
    out += names != nullptr ? names[k] : "?";
    out += '\n';
  }
  std::free(names);
  return out;
}
std::uint64_t total_allocations() noexcept { return g_total.load(std::memory_order_relaxed); }
bool counting_enabled() noexcept { return XARB_COUNTING_NEW != 0; }

}  // namespace xarb::test
