#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace xarb::test {

// ../shared/data, as configured at build time.
inline std::filesystem::path shared_data() { return XARB_SHARED_DATA_DIR; }
inline std::filesystem::path source_dir() { return XARB_SOURCE_DIR; }

std::string read_file(const std::filesystem::path& path);

}  // namespace xarb::test
