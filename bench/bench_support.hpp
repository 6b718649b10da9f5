#pragma once

// Shared by the benchmark executables: allocation counting through Google Benchmark's memory
// manager, real frames from data/, and a reporter that prints, after the usual table,
// the ratio of every "<name>/baseline" run to its "<name>/xarb" twin measured in the same run.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <xarb/core/ids.hpp>

namespace xarb::bench {

// All "ws" frames of a capture whose text contains `needle` (every frame when empty).
std::vector<std::string> capture_frames(const std::string& relative_path,
                                        const std::string& needle);
std::string read_text(const std::string& path);
std::string data_file(const std::string& relative_path);
std::string source_file(const std::string& relative_path);

// Runs the registered benchmarks with allocation counting and the ratio table.
int run_main(int argc, char** argv);

}  // namespace xarb::bench
