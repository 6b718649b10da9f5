// xarb: the command line. Subcommands are added by the issues that deliver them.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <xarb/app/config.hpp>
#include <xarb/app/engine.hpp>
#include <xarb/app/feed_commands.hpp>
#include <xarb/app/replay_command.hpp>
#include <xarb/app/venue_commands.hpp>
#include <xarb/venues/registry.hpp>

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
  replay->add_option("--input", replay_options.input,
                     "Capture file: JSONL events as xarb record writes them (data/README.md)")
      ->required();
  replay->add_option("--config", replay_options.config,
                     "Take the symbols from this config (default: those the capture subscribes)");
  replay->add_option("--emit-books", replay_options.emit_books,
                     "Write one JSONL line per top-of-book change to this file");
  replay->add_option("--speed", speed, "max (default) or a factor of the recorded speed (1)");
  replay->add_option("--binance-book", replay_options.binance_book,
                     "Binance book source: diff_depth (default), partial_depth or book_ticker");

  std::string record_config, record_out, record_duration = "60s";
  CLI::App* record = app.add_subcommand(
      "record",
      "Record raw frames from the configured venues as JSONL capture events (data/README.md)");
  record->add_option("--config", record_config, "TOML config file")->required();
  record->add_option("--out", record_out, "Output JSONL file")->required();
  record->add_option("--duration", record_duration, "How long: 90, 90s, 5m, 1h (default 60s)");

  std::string watch_config, watch_duration = "0";
  CLI::App* watch = app.add_subcommand(
      "watch", "Show the live books, FX and premium per symbol in the terminal; no trading");
  watch->add_option("--config", watch_config, "TOML config file")->required();
  watch->add_option("--duration", watch_duration, "Stop after this long (default: until Ctrl-C)");

  // xarb venue ...: operator commands against the configured venues.
  xarb::app::VenueCommand venue_cmd;
  std::string venue_config, venue_name = "all";
  CLI::App* venue = app.add_subcommand(
      "venue", "Operator commands against the configured venues (live or the simulator)");
  venue->require_subcommand(1);
  const auto common = [&](CLI::App* c) {
    c->add_option("--config", venue_config, "TOML config file")->required();
    c->add_option("--venue", venue_name,
                  "binance, upbit, bithumb, or all: every venue the config trades (default; "
                  "\"both\" too, as before Bithumb)");
  };
  CLI::App* balances = venue->add_subcommand("balances", "Show free and locked balances");
  common(balances);
  CLI::App* open_orders = venue->add_subcommand("open-orders", "List open orders");
  common(open_orders);
  CLI::App* cancel_all = venue->add_subcommand("cancel-all", "Cancel every open order");
  common(cancel_all);
  CLI::App* order = venue->add_subcommand("order", "Place, get or cancel one order");
  order->require_subcommand(1);
  CLI::App* place = order->add_subcommand("place", "Place one limit order");
  CLI::App* get = order->add_subcommand("get", "Show one order by its client id");
  CLI::App* cancel = order->add_subcommand("cancel", "Cancel one order by its client id");
  for (CLI::App* c : {place, get, cancel}) {
    common(c);
    c->add_option("--symbol", venue_cmd.symbol, "Base asset of a configured symbol (BTC)")
        ->required();
    c->add_option("--client-id", venue_cmd.client_id,
                  c == place ? "Client order id (default: generated)" : "Client order id")
        ->required(c != place);
  }
  place->add_option("--side", venue_cmd.side, "buy or sell")->required();
  place->add_option("--price", venue_cmd.price, "Limit price, on the venue's tick")->required();
  place->add_option("--qty", venue_cmd.qty, "Base quantity, on the venue's step")->required();
  place->add_option("--tif", venue_cmd.tif, "ioc (default), fok or gtc");

  CLI::App* run = app.add_subcommand(
      "run", "Trade: feeds, strategy and execution (paper unless --live), until SIGINT/SIGTERM");
  std::string run_config;
  std::string run_duration = "0";
  std::string status_every = "10s";
  std::string run_report_dir = ".";
  xarb::app::RunOptions run_options;
  run->add_option("--config", run_config, "Config file (TOML)")->required();
  run->add_option("--duration", run_duration, "Stop after this long (90s, 5m, 1h; 0: never)");
  run->add_flag("--live", run_options.live,
                "Send real orders (needs mode = \"live\" in the config and the API keys)");
  run->add_flag("--flatten-on-exit", run_options.flatten_on_exit,
                "Close open positions before exiting");
  run->add_flag("--accept-balances", run_options.accept_balances,
                "Accept the venues' balances as they are (journaled); without it a difference "
                "from the journal keeps entries blocked (REDUCING)");
  run->add_flag("--share-journal", run_options.share_journal,
                "Accept a journal that holds runs of the other mode (paper/live); their "
                "positions stay apart");
  run->add_option("--report-dir", run_report_dir, "Where report.json and report.txt go");
  run->add_option("--status-every", status_every, "Status line period (10s)");

  CLI::App* ctl = app.add_subcommand(
      "ctl",
      "Control a running engine: status | inventory | pause | resume | kill | flatten [SYMBOL] | "
      "clear-reducing | set KEY=VALUE | transfer VENUE ASSET AMOUNT");
  std::string ctl_config, ctl_socket, ctl_report_dir = ".";
  std::vector<std::string> ctl_words;
  ctl->add_option("--config", ctl_config, "The running engine's config (its [control] socket)");
  ctl->add_option("--socket", ctl_socket, "The engine's control socket (default: ./xarb.sock)");
  ctl->add_option("--report-dir", ctl_report_dir, "The run's --report-dir (its xarb.sock)");
  ctl->add_option("command", ctl_words, "The command and its argument")->required();

  CLI::App* inventory = app.add_subcommand(
      "inventory",
      "Each venue's assets (held, locked, expected, difference, floor), how far each direction "
      "can still trade, and a rebalance plan: from the running engine, else the last report.json");
  bool inventory_json = false;
  inventory->add_option("--config", ctl_config,
                        "The running engine's config (its [control] socket)");
  inventory->add_option("--socket", ctl_socket,
                        "The engine's control socket (default: ./xarb.sock)");
  inventory->add_option("--report-dir", ctl_report_dir,
                        "The run's --report-dir (its xarb.sock, its report.json)");
  inventory->add_flag("--json", inventory_json, "The inventory as JSON");

  CLI::App* journal = app.add_subcommand("journal", "Read the journal of earlier runs");
  journal->require_subcommand(1);
  std::string journal_config, journal_path;
  bool journal_all = false;
  std::size_t journal_limit = 50;
  CLI::App* j_summary = journal->add_subcommand("summary", "Runs, trades, PnL and winrate");
  CLI::App* j_trades = journal->add_subcommand("trades", "The latest fills");
  CLI::App* j_positions = journal->add_subcommand("positions", "Positions not closed (--all: every one)");
  CLI::App* j_balances = journal->add_subcommand(
      "balances", "The ledger of the latest live run: start, expected, held; confirmed and accepted differences");
  for (CLI::App* c : {j_summary, j_trades, j_positions, j_balances}) {
    c->add_option("--config", journal_config, "Config file naming the journal");
    c->add_option("--journal", journal_path, "The journal file itself");
  }
  j_trades->add_option("--limit", journal_limit, "How many fills (50)");
  j_positions->add_flag("--all", journal_all, "Closed positions too");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (check->parsed()) return config_check(check_path);
  if (run->parsed()) {
    if (!xarb::app::parse_duration(run_duration, run_options.duration) ||
        !xarb::app::parse_duration(status_every, run_options.status_every)) {
      std::cerr << "--duration and --status-every look like 90, 90s, 5m, 1h or 250ms\n";
      return kExitConfigError;
    }
    run_options.report_dir = run_report_dir;
    return xarb::app::run_command(run_config, run_options, std::cout, std::cerr);
  }
  if (ctl->parsed()) {
    return xarb::app::ctl_command(ctl_config, ctl_socket, ctl_report_dir, ctl_words, std::cout,
                                  std::cerr);
  }
  if (inventory->parsed()) {
    return xarb::app::inventory_command(ctl_config, ctl_socket, ctl_report_dir, inventory_json,
                                        std::cout, std::cerr);
  }
  if (journal->parsed()) {
    if (journal_config.empty() && journal_path.empty()) {
      std::cerr << "journal: give --config or --journal\n";
      return kExitConfigError;
    }
    const std::string action = j_summary->parsed()   ? "summary"
                               : j_trades->parsed()  ? "trades"
                               : j_balances->parsed() ? "balances"
                                                      : "positions";
    return xarb::app::journal_command(journal_config, journal_path, action, journal_all,
                                      journal_limit, std::cout, std::cerr);
  }
  if (venue->parsed()) {
    if (const auto named = xarb::venues::from_name(venue_name)) {
      venue_cmd.venues = {*named};
    } else if (venue_name != "all" && venue_name != "both") {
      std::cerr << "--venue must be binance, upbit, bithumb or all, not \"" << venue_name << "\"\n";
      return kExitConfigError;
    }
    venue_cmd.action = balances->parsed()      ? "balances"
                       : open_orders->parsed() ? "open-orders"
                       : cancel_all->parsed()  ? "cancel-all"
                       : place->parsed()       ? "place"
                       : get->parsed()         ? "get"
                                               : "cancel";
    return xarb::app::run_venue_command(venue_config, venue_cmd, std::cout, std::cerr);
  }
  if (record->parsed() || watch->parsed()) {
    std::chrono::milliseconds duration{};
    const std::string& text = record->parsed() ? record_duration : watch_duration;
    if (!xarb::app::parse_duration(text, duration)) {
      std::cerr << "--duration must look like 90, 90s, 5m, 1h or 250ms, not \"" << text << "\"\n";
      return kExitConfigError;
    }
    return record->parsed()
               ? xarb::app::run_record(record_config, record_out, duration, std::cout, std::cerr)
               : xarb::app::run_watch(watch_config, duration, std::cout, std::cerr);
  }
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
