#pragma once

// `xarb ctl` and `xarb inventory`: a running engine asked over its control socket (--socket, the
// config's [control] socket, or xarb.sock in the run's report directory).

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

namespace xarb::app {

// Sends the command words as one line and prints the engine's JSON answer. Returns 0 when the
// engine did it, 1 when it refused, 2 for a bad config, 3 when no engine answered.
int ctl_command(const std::string& config_path, const std::string& socket,
                const std::filesystem::path& report_dir, const std::vector<std::string>& words,
                std::ostream& out, std::ostream& err);

// The inventory of the running engine, else of the report.json its last run left in report_dir;
// as text or (as_json) the report's inventory object.
int inventory_command(const std::string& config_path, const std::string& socket,
                      const std::filesystem::path& report_dir, bool as_json, std::ostream& out,
                      std::ostream& err);

}  // namespace xarb::app
