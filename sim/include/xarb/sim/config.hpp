#pragma once

#include <string>

#include <xarb/sim/simulator.hpp>

namespace xarb::sim {

// Reads an xarb-sim TOML file (configs/sim.toml documents every key). False with `error` naming
// file:line:column, the key and the problem, for the first problem found.
bool load_sim_options(const std::string& path, SimOptions& out, std::string& error);

}  // namespace xarb::sim
