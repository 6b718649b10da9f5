#include <ostream>

#include <xarb/app/config.hpp>
#include <xarb/app/config_commands.hpp>
#include <xarb/app/live_keys.hpp>

namespace xarb::app {

int config_check(const std::string& path, std::ostream& out, std::ostream& err) {
  const LoadResult result = load_config(path);
  if (!result.ok()) {
    for (const auto& issue : result.errors) err << issue.to_string() << '\n';
    err << path << ": " << result.errors.size()
        << (result.errors.size() == 1 ? " error" : " errors") << "; nothing was started\n";
    return 2;
  }
  out << dump_config(result.config);
  err << path << ": valid; xarb ctl set changes these while it runs:";
  for (const LiveKey& k : live_keys()) err << ' ' << k.key;
  err << '\n';
  return 0;
}

}  // namespace xarb::app
