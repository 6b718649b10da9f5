#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include <xarb/core/decimal.hpp>

namespace xarb::test {

// The recorded venue traffic and signing vectors (data/ in the project; XARB_DATA_DIR).
inline std::filesystem::path data_dir() { return XARB_DATA_DIR; }
inline std::filesystem::path source_dir() { return XARB_SOURCE_DIR; }

std::string read_file(const std::filesystem::path& path);

// A Decimal from exact text ("0.01"), failing the test when the text is not one.
inline Decimal d(std::string_view s) {
  Decimal v;
  EXPECT_EQ(Decimal::parse(s, v), Errc::ok) << s;
  return v;
}

}  // namespace xarb::test
