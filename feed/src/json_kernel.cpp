#include <xarb/feed/parsed_frame.hpp>

#include "json_input.hpp"

namespace xarb::feed {

// Compiled with the parsers' flags, so it names the kernel they use.
std::string_view json_kernel() noexcept { return simdjson::builtin_implementation()->name(); }

}  // namespace xarb::feed
