#pragma once

#include <cstddef>

namespace xarb {

// Data read together fits in one line of this size.
inline constexpr std::size_t kCacheLine = 64;
// Data written by different threads is kept this far apart: x86 prefetches lines in adjacent pairs,
// so 64 bytes apart still share traffic (folly lang/Align.h). Not
// std::hardware_destructive_interference_size, whose value g++ warns may change between versions.
inline constexpr std::size_t kFalseSharingRange = 128;

}  // namespace xarb
