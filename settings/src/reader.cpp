#include <xarb/settings/reader.hpp>

namespace xarb::settings {

std::string Issue::to_string() const {
  // Appended piece by piece: g++ 12 at -O3 sees a false overlap (-Wrestrict) in "a" + string.
  std::string out = file;
  if (line > 0) {
    out.push_back(':');
    out.append(std::to_string(line));
    out.push_back(':');
    out.append(std::to_string(column));
  }
  out.append(": ");
  if (!key.empty()) out.append(key).append(": ");
  out.append(message);
  return out;
}

bool parse(std::string_view text, Context& ctx, toml::table& out) {
  try {
    out = toml::parse(text, ctx.file);
    return true;
  } catch (const toml::parse_error& e) {
    ctx.error(e.source(), "", "TOML syntax error: " + std::string(e.description()));
    return false;
  }
}

}  // namespace xarb::settings
