// xarb: the command line. Subcommands are added by the issues that deliver them.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include <xarb/app/config.hpp>

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (check->parsed()) return config_check(check_path);
  return 0;
}
