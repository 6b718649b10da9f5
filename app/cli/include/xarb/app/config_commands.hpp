#pragma once

// `xarb config check FILE`: validates a config and prints the effective configuration, secrets
// redacted.

#include <iosfwd>
#include <string>

namespace xarb::app {

// 0 when the config is valid (printed on `out`); 2 with every problem, file, line and key, on
// `err` when it is not.
int config_check(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace xarb::app
