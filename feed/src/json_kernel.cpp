#include <xarb/feed/parsed_frame.hpp>

#include "json_input.hpp"

namespace xarb::feed {

// Compiled with the parsers' flags, so the macro names the kernel their on-demand code uses
// (simdjson::builtin_implementation() would name the shared library's instead).
std::string_view json_kernel() noexcept {
  return SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION);
}

}  // namespace xarb::feed
