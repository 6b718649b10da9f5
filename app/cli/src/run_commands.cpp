#include <atomic>
#include <ostream>

#include <xarb/app/config.hpp>
#include <xarb/app/run_commands.hpp>
#include <xarb/app/stop_signals.hpp>

namespace xarb::app {

int run_command(const std::string& config_path, RunOptions options, std::ostream& out,
                std::ostream& err) {
  const LoadResult loaded = load_config(config_path);
  if (!loaded.ok()) {
    for (const auto& issue : loaded.errors) err << issue.to_string() << '\n';
    return 2;
  }
  options.config_text = dump_config(loaded.config);
  // Every line out at once, also into a file or a pipe: an operator tails them while it runs.
  out.setf(std::ios::unitbuf);
  err.setf(std::ios::unitbuf);
  detail::install_stop_signals();
  const std::atomic<bool> never{false};
  const RunResult r = run_engine(loaded.config, options, never, out, err);
  detail::remove_stop_signals();
  return r.exit_code;
}

}  // namespace xarb::app
