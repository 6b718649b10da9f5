#pragma once

#include <string>

#include <xarb/sim/simulator.hpp>

namespace xarb::sim {

// Reads an xarb-sim TOML file (configs/sim.toml documents every key) through the engine's own
// settings reader. False with `error` holding every problem found, one per line, each naming
// file:line:column, the key and the problem.
bool load_sim_options(const std::string& path, SimOptions& out, std::string& error);

}  // namespace xarb::sim
