#pragma once

#include <cstdint>
#include <string>

namespace xarb::test {

// Global operator new/delete replacements (alloc_counter.cpp, linked into the test binaries that
// need them) count allocations made by the current thread while a scope is active.
class AllocationScope {
 public:
  AllocationScope() noexcept;
  ~AllocationScope();
  AllocationScope(const AllocationScope&) = delete;
  AllocationScope& operator=(const AllocationScope&) = delete;
  [[nodiscard]] std::uint64_t count() const noexcept;
  // Where the first allocation in this scope came from: its call stack, one frame a line (names
  // where the binary exports its symbols), or empty when there was none. Allocates.
  [[nodiscard]] std::string first() const;

 private:
  std::uint64_t start_;
};

// Allocations by any thread since the process started.
std::uint64_t total_allocations() noexcept;

// False under ThreadSanitizer, whose runtime owns operator new; the ci preset counts.
bool counting_enabled() noexcept;

}  // namespace xarb::test

#define XARB_SKIP_WITHOUT_ALLOCATION_COUNTING()                                       \
  do {                                                                                \
    if (!::xarb::test::counting_enabled()) {                                          \
      GTEST_SKIP() << "operator new belongs to the sanitizer runtime in this build; " \
                      "allocations are counted in the ci preset";                     \
    }                                                                                 \
  } while (false)
