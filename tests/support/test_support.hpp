#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <xarb/core/decimal.hpp>

namespace xarb::test {

// ../shared/data, as configured at build time.
inline std::filesystem::path shared_data() { return XARB_SHARED_DATA_DIR; }
inline std::filesystem::path source_dir() { return XARB_SOURCE_DIR; }

std::string read_file(const std::filesystem::path& path);

// A Decimal from exact text ("0.01"), failing the test when the text is not one.
inline Decimal d(std::string_view s) {
  Decimal v;
  EXPECT_EQ(Decimal::parse(s, v), Errc::ok) << s;
  return v;
}

}  // namespace xarb::test
