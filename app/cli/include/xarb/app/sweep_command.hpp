#pragma once

// `xarb sweep`: backtests of a config's variants over the same recordings. In process, the
// variants run on every core; beyond one machine, --emit-jobs writes one self-contained
// `xarb backtest` command per variant for an existing batch runner (GNU parallel, a Slurm job
// array) and --merge gathers their outputs into the same table.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace xarb::app {

struct SweepArgs {
  std::string config;
  std::vector<std::string> captures;
  // KEY=FROM:TO:STEP (numbers, both ends included) or KEY=A,B,C; the variants are every
  // combination.
  std::vector<std::string> sets;
  std::size_t threads = 0;  // 0: every core
  // The in-sample share of the recording (0 < share < 1): each variant is run on the first part
  // and on the rest, the best in sample is chosen, and its result out of sample reported.
  double walk_forward = 0.0;
  std::string out_dir = "sweep";  // a folder per variant (v001, or v001-in and v001-out)
  std::string emit_jobs;          // write the commands to this file instead of running them
  std::string merge;              // read the outputs of emitted jobs from this folder
  std::uint64_t seed = 1;
  std::vector<std::string> latency;
  std::string latency_from;
  std::string xarb;  // the xarb an emitted job runs (default: this process's own executable)
};

// Returns the exit code: 0 ok, 2 bad input (a key, a range, a capture), 1 a variant failed.
int sweep_command(const SweepArgs& args, std::ostream& out, std::ostream& err);

}  // namespace xarb::app
