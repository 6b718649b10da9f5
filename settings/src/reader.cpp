#include <xarb/settings/reader.hpp>

namespace xarb::settings {

std::string Issue::to_string() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
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
