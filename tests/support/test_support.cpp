#include "test_support.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace xarb::test {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace xarb::test
