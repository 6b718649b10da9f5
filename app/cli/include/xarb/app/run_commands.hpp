#pragma once

// `xarb run`: loads the config and runs the engine until SIGINT/SIGTERM or the duration.

#include <iosfwd>
#include <string>

#include <xarb/app/engine.hpp>

namespace xarb::app {

// Returns the exit code: 0 ok, 1 start-up or run failure, 2 bad config.
int run_command(const std::string& config_path, RunOptions options, std::ostream& out,
                std::ostream& err);

}  // namespace xarb::app
