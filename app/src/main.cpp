// xarb: the command line. Subcommands are added by the issues that deliver them.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include <xarb/app/config.hpp>
#include <xarb/app/replay_command.hpp>

namespace {

constexpr int kExitConfigError = 2;

int config_check(const std::string& path) {
  const xarb::app::LoadResult result = xarb::app::load_config(path);
  if (!result.ok()) {
    for (const auto& issue : result.errors) std::cerr << issue.to_string() << '\n';
    std::cerr << path << ": " << result.errors.size()
              << (result.errors.size() == 1 ? " error" : " errors") << "; nothing was started\n";
    return kExitConfigError;
  }
  std::cout << xarb::app::dump_config(result.config);
  std::cerr << path << ": valid\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "xarb: a low-latency arbitrage engine for the Upbit (KRW) / Binance (USDT) price gap"};
  app.set_version_flag("--version", std::string("xarb ") + XARB_VERSION);
  app.require_subcommand(1);

  CLI::App* config = app.add_subcommand("config", "Inspect configuration files");
  config->require_subcommand(1);
  std::string check_path;
  CLI::App* check = config->add_subcommand(
      "check", "Validate a config file and print the effective configuration (secrets redacted)");
  check->add_option("file", check_path, "TOML config file")->required();

  xarb::app::ReplayOptions replay_options;
  std::string speed = "max";
  CLI::App* replay = app.add_subcommand(
      "replay", "Feed a recorded capture through the parsers and books, deterministically");
  replay->add_option("--input", replay_options.input, "Capture in the shared/data JSONL format")
      ->required();
  replay->add_option("--config", replay_options.config,
                     "Take the symbols from this config (default: those the capture subscribes)");
  replay->add_option("--emit-books", replay_options.emit_books,
                     "Write one JSONL line per top-of-book change to this file");
  replay->add_option("--speed", speed, "max (default) or a factor of the recorded speed (1)");
  replay->add_option("--binance-book", replay_options.binance_book,
                     "Binance book source: diff_depth (default), partial_depth or book_ticker");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (check->parsed()) return config_check(check_path);
  if (replay->parsed()) {
    if (speed != "max") {
      try {
        replay_options.speed = std::stod(speed);
      } catch (const std::exception&) {
        replay_options.speed = -1;
      }
      if (!(replay_options.speed > 0)) {
        std::cerr << "--speed must be max or a positive factor, not \"" << speed << "\"\n";
        return kExitConfigError;
      }
    }
    return xarb::app::run_replay(replay_options, std::cout, std::cerr);
  }
  return 0;
}
