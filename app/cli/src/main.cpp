// xarb: the command line. Each command group adds its subcommands here, with a callback that runs
// it through its cli/ file; the exit code is the callback's.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <xarb/app/config_commands.hpp>
#include <xarb/app/ctl_commands.hpp>
#include <xarb/app/feed_commands.hpp>
#include <xarb/app/journal_commands.hpp>
#include <xarb/app/backtest_command.hpp>
#include <xarb/app/replay_command.hpp>
#include <xarb/app/sweep_command.hpp>
#include <xarb/app/run_commands.hpp>
#include <xarb/app/venue_commands.hpp>
#include <xarb/venues/registry.hpp>

namespace {

namespace app = xarb::app;
constexpr int kExitBadInput = 2;

// A duration option's text as milliseconds; false (said on stderr) when it is not one.
bool duration(const std::string& option, const std::string& text, std::chrono::milliseconds& out) {
  if (app::parse_duration(text, out)) return true;
  std::cerr << option << " must look like 90, 90s, 5m, 1h or 250ms, not \"" << text << "\"\n";
  return false;
}

void add_config(CLI::App& root, int& rc) {
  CLI::App* config = root.add_subcommand("config", "Inspect configuration files");
  config->require_subcommand(1);
  static std::string path;
  CLI::App* check = config->add_subcommand(
      "check", "Validate a config file and print the effective configuration (secrets redacted)");
  check->add_option("file", path, "TOML config file")->required();
  check->callback([&rc] { rc = app::config_check(path, std::cout, std::cerr); });
}

void add_replay(CLI::App& root, int& rc) {
  static app::ReplayOptions options;
  static std::string speed = "max";
  app::ReplayOptions* o = &options;
  CLI::App* replay = root.add_subcommand(
      "replay", "Feed a recorded capture through the parsers and books, deterministically");
  replay
      ->add_option("--input", o->input,
                   "Capture file: JSONL events as xarb record writes them (data/README.md)")
      ->required();
  replay->add_option("--config", o->config,
                     "Take the symbols from this config (default: those the capture subscribes)");
  replay->add_option("--emit-books", o->emit_books,
                     "Write one JSONL line per top-of-book change to this file");
  replay->add_option("--speed", speed, "max (default) or a factor of the recorded speed (1)");
  replay->add_option("--book", o->books,
                     "VENUE=STREAM, once per venue: the stream its books are built from (one its "
                     "registry row lists; default: the config's, else its first)");
  replay->callback([&rc, o] {
    if (speed != "max") {
      try {
        o->speed = std::stod(speed);
      } catch (const std::exception&) {
        o->speed = -1;
      }
      if (!(o->speed > 0)) {
        std::cerr << "--speed must be max or a positive factor, not \"" << speed << "\"\n";
        rc = kExitBadInput;
        return;
      }
    }
    rc = app::run_replay(*o, std::cout, std::cerr);
  });
}

void add_feed(CLI::App& root, int& rc) {
  struct Args {
    std::string config, out, record_for = "60s", watch_for = "0";
  };
  static Args args;
  Args* a = &args;
  CLI::App* record = root.add_subcommand(
      "record",
      "Record raw frames from the configured venues as JSONL capture events (data/README.md)");
  record->add_option("--config", a->config, "TOML config file")->required();
  record->add_option("--out", a->out, "Output JSONL file")->required();
  record->add_option("--duration", a->record_for, "How long: 90, 90s, 5m, 1h (default 60s)");
  record->callback([&rc, a] {
    std::chrono::milliseconds d{};
    rc = duration("--duration", a->record_for, d)
             ? app::run_record(a->config, a->out, d, std::cout, std::cerr)
             : kExitBadInput;
  });
  CLI::App* watch = root.add_subcommand(
      "watch", "Show the live books, FX and premium per symbol in the terminal; no trading");
  watch->add_option("--config", a->config, "TOML config file")->required();
  watch->add_option("--duration", a->watch_for, "Stop after this long (default: until Ctrl-C)");
  watch->callback([&rc, a] {
    std::chrono::milliseconds d{};
    rc = duration("--duration", a->watch_for, d)
             ? app::run_watch(a->config, d, std::cout, std::cerr)
             : kExitBadInput;
  });
}

void add_backtest(CLI::App& root, int& rc) {
  static app::BacktestArgs args;
  app::BacktestArgs* a = &args;
  CLI::App* b = root.add_subcommand(
      "backtest",
      "Run the strategy, risk guard and executor over recordings against simulated venues "
      "(latency, book-walking fills, fees, rules, rate limits): deterministic");
  b->add_option("--config", a->config, "Config file (TOML): what to trade and how")->required();
  b->add_option("--capture", a->captures,
                "A recording (xarb record); repeat to merge several by receive time")
      ->required();
  b->add_option("--seed", a->seed, "Seed of the latency draws (1)");
  b->add_option("--latency", a->latency,
                "VENUE=MS: a constant round trip for a venue (default: the paper venue's)");
  b->add_option("--latency-from", a->latency_from,
                "Round trips measured live: the CSV of xarb journal latency");
  b->add_option("--out-dir", a->out_dir,
                "Where report.txt, report.json, trades.csv and backtest.sqlite go (backtest)");
  b->add_option("--journal", a->journal, "Journal the backtest here instead (backtests only)");
  b->add_option("--set", a->sets, "KEY=VALUE: run the config with this key changed (repeat)");
  b->add_option("--trade-from", a->trade_from_ns,
                "Trade from this receive time (epoch ns); before it books and baselines warm up");
  b->add_option("--trade-until", a->trade_until_ns,
                "Stop entries and close positions at this receive time (epoch ns)");
  b->add_flag("--quiet", a->quiet, "No report on the output (report.txt is still written)");
  b->add_flag("!--no-plots", a->plots, "Draw no plots");
  b->add_option("--compare-journal", a->compare_journal,
                "The journal of the live run that recorded the capture (xarb run --record): "
                "match entries and PnL, exit 1 when short of the targets");
  b->add_option("--compare-run", a->compare_run,
                "That journal's run (default: its latest run that is not a backtest)");
  b->add_option("--match-ms", a->match_ms, "Entries match when decided this close (50)");
  b->add_option("--min-match", a->min_match, "Least share of live entries matched, % (95)");
  b->add_option("--max-extra", a->max_extra, "Most entries the live run did not make (0)");
  b->add_option("--max-pnl-diff", a->max_pnl_diff,
                "Most realised PnL difference, % of the live PnL (5) ...");
  b->add_option("--pnl-floor-bps", a->pnl_floor_bps,
                "... or this many bps of the live traded notional, the larger (1)");
  b->callback([&rc, a] { rc = app::backtest_command(*a, std::cout, std::cerr); });
}

void add_sweep(CLI::App& root, int& rc) {
  static app::SweepArgs args;
  app::SweepArgs* a = &args;
  CLI::App* s = root.add_subcommand(
      "sweep", "Backtest every combination of config values over the same recordings: a table, "
               "a heat map for two keys, a walk-forward split");
  s->add_option("--config", a->config, "Config file (TOML): the base of every variant")
      ->required();
  s->add_option("--capture", a->captures, "A recording (repeat to merge several)")->required();
  s->add_option("--set", a->sets, "KEY=FROM:TO:STEP or KEY=A,B,C (repeat: every combination)")
      ->required();
  s->add_option("--threads", a->threads, "Variants run at once (default: every core)");
  s->add_option("--walk-forward", a->walk_forward,
                "Choose on this first share of the recording (0.5), report the choice on the rest");
  s->add_option("--out-dir", a->out_dir, "A folder per variant, the table and the heat map (sweep)");
  s->add_option("--emit-jobs", a->emit_jobs,
                "Write one xarb backtest command per variant to FILE instead (GNU parallel, Slurm)");
  s->add_option("--merge", a->merge, "Build the table from the emitted jobs' outputs in DIR");
  s->add_option("--seed", a->seed, "Seed of the latency draws (1)");
  s->add_option("--latency", a->latency, "VENUE=MS: a constant round trip for a venue");
  s->add_option("--latency-from", a->latency_from, "Round trips measured live (xarb journal latency)");
  s->callback([&rc, a] { rc = app::sweep_command(*a, std::cout, std::cerr); });
}

void add_venue(CLI::App& root, int& rc) {
  struct Args {
    app::VenueCommand cmd;
    std::string config, venue = "all";
  };
  static Args args;
  Args* a = &args;
  CLI::App* venue = root.add_subcommand(
      "venue", "Operator commands against the configured venues (live or the simulator)");
  venue->require_subcommand(1);
  const auto action = [&rc, a](CLI::App* c, const char* name) {
    c->add_option("--config", a->config, "TOML config file")->required();
    c->add_option("--venue", a->venue,
                  "a venue of the config, or all: every venue the config trades (default)");
    c->callback([&rc, a, name] {
      if (const auto named = xarb::venues::from_name(a->venue)) {
        a->cmd.venues = {*named};
      } else if (a->venue != "all" && a->venue != "both") {
        std::cerr << "--venue must be";
        for (const auto& v : xarb::venues::kRegistry) std::cerr << ' ' << v.name << ',';
        std::cerr << " or all, not \"" << a->venue << "\"\n";
        rc = kExitBadInput;
        return;
      }
      a->cmd.action = name;
      rc = app::run_venue_command(a->config, a->cmd, std::cout, std::cerr);
    });
  };
  action(venue->add_subcommand("balances", "Show free and locked balances"), "balances");
  action(venue->add_subcommand("open-orders", "List open orders"), "open-orders");
  action(venue->add_subcommand("cancel-all", "Cancel every open order"), "cancel-all");
  CLI::App* order = venue->add_subcommand("order", "Place, get or cancel one order");
  order->require_subcommand(1);
  CLI::App* place = order->add_subcommand("place", "Place one limit order");
  CLI::App* get = order->add_subcommand("get", "Show one order by its client id");
  CLI::App* cancel = order->add_subcommand("cancel", "Cancel one order by its client id");
  for (auto [c, name] :
       {std::pair{place, "place"}, std::pair{get, "get"}, std::pair{cancel, "cancel"}}) {
    action(c, name);
    c->add_option("--symbol", a->cmd.symbol, "Base asset of a configured symbol (BTC)")->required();
    c->add_option("--client-id", a->cmd.client_id,
                  c == place ? "Client order id (default: generated)" : "Client order id")
        ->required(c != place);
  }
  place->add_option("--side", a->cmd.side, "buy or sell")->required();
  place->add_option("--price", a->cmd.price, "Limit price, on the venue's tick")->required();
  place->add_option("--qty", a->cmd.qty, "Base quantity, on the venue's step")->required();
  place->add_option("--tif", a->cmd.tif, "ioc (default), fok or gtc");
}

void add_run(CLI::App& root, int& rc) {
  struct Args {
    app::RunOptions options;
    std::string config, run_for = "0", status_every = "10s", report_dir = ".";
  };
  static Args args;
  Args* a = &args;
  CLI::App* run = root.add_subcommand(
      "run", "Trade: feeds, strategy and execution (paper unless --live), until SIGINT/SIGTERM");
  run->add_option("--config", a->config, "Config file (TOML)")->required();
  run->add_option("--duration", a->run_for, "Stop after this long (90s, 5m, 1h; 0: never)");
  run->add_flag("--live", a->options.live,
                "Send real orders (needs mode = \"live\" in the config and the API keys)");
  run->add_flag("--flatten-on-exit", a->options.flatten_on_exit,
                "Close open positions before exiting");
  run->add_flag("--accept-balances", a->options.accept_balances,
                "Accept the venues' balances as they are (journaled); without it a difference "
                "from the journal keeps entries blocked (REDUCING)");
  run->add_flag("--share-journal", a->options.share_journal,
                "Accept a journal that holds runs of the other mode (paper/live); their "
                "positions stay apart");
  run->add_option("--report-dir", a->report_dir, "Where report.json and report.txt go");
  run->add_option("--record", a->options.record_path,
                  "Record the frames this run receives (and the venues' trading rules) to FILE, "
                  "for xarb backtest; written by the ops thread, off the hot path");
  run->add_option("--status-every", a->status_every, "Status line period (10s)");
  run->callback([&rc, a] {
    if (!duration("--duration", a->run_for, a->options.duration) ||
        !duration("--status-every", a->status_every, a->options.status_every)) {
      rc = kExitBadInput;
      return;
    }
    a->options.report_dir = a->report_dir;
    rc = app::run_command(a->config, a->options, std::cout, std::cerr);
  });
}

void add_ctl(CLI::App& root, int& rc) {
  struct Args {
    std::string config, socket, report_dir = ".";
    std::vector<std::string> words;
    bool json = false;
  };
  static Args args;
  Args* a = &args;
  const auto where = [a](CLI::App* c) {
    c->add_option("--config", a->config, "The running engine's config (its [control] socket)");
    c->add_option("--socket", a->socket, "The engine's control socket (default: ./xarb.sock)");
    c->add_option("--report-dir", a->report_dir,
                  "The run's --report-dir (its xarb.sock, its report.json)");
  };
  CLI::App* ctl = root.add_subcommand(
      "ctl",
      "Control a running engine: status | inventory | pause | resume | kill | flatten [SYMBOL] | "
      "clear-reducing | set KEY=VALUE | transfer VENUE ASSET AMOUNT");
  where(ctl);
  ctl->add_option("command", a->words, "The command and its argument")->required();
  ctl->callback([&rc, a] {
    rc = app::ctl_command(a->config, a->socket, a->report_dir, a->words, std::cout, std::cerr);
  });
  CLI::App* inventory = root.add_subcommand(
      "inventory",
      "Each venue's assets (held, locked, expected, difference, floor), how far each direction "
      "can still trade, and a rebalance plan: from the running engine, else the last report.json");
  where(inventory);
  inventory->add_flag("--json", a->json, "The inventory as JSON");
  inventory->callback([&rc, a] {
    rc = app::inventory_command(a->config, a->socket, a->report_dir, a->json, std::cout, std::cerr);
  });
}

void add_journal(CLI::App& root, int& rc) {
  struct Args {
    std::string config, path;
    bool all = false;
    std::size_t limit = 50;
    std::uint64_t run = 0;
  };
  static Args args;
  Args* a = &args;
  CLI::App* journal = root.add_subcommand("journal", "Read the journal of earlier runs");
  journal->require_subcommand(1);
  const auto action = [&rc, a](CLI::App* c, app::JournalAction what) {
    c->add_option("--config", a->config, "Config file naming the journal");
    c->add_option("--journal", a->path, "The journal file itself");
    c->callback([&rc, a, what] {
      if (a->config.empty() && a->path.empty()) {
        std::cerr << "journal: give --config or --journal\n";
        rc = kExitBadInput;
        return;
      }
      rc = app::journal_command(a->config, a->path, what, a->all, a->limit, std::cout, std::cerr,
                                a->run);
    });
    return c;
  };
  action(journal->add_subcommand("summary", "Runs, trades, PnL and winrate"),
         app::JournalAction::summary);
  action(journal->add_subcommand("trades", "The latest fills"), app::JournalAction::trades)
      ->add_option("--limit", a->limit, "How many fills (50)");
  action(journal->add_subcommand("positions", "Positions not closed (--all: every one)"),
         app::JournalAction::positions)
      ->add_flag("--all", a->all, "Closed positions too");
  action(journal->add_subcommand("balances",
                                 "The ledger of the latest live run: start, expected, held; "
                                 "confirmed and accepted differences"),
         app::JournalAction::balances);
  action(journal->add_subcommand("latency",
                                 "Each order's round trip in a run, as CSV (venue,action,"
                                 "latency_ns): the latency model of xarb backtest --latency-from"),
         app::JournalAction::latency)
      ->add_option("--run", a->run, "The run (default: the latest)");
  action(journal->add_subcommand(
             "migrate", "Bring an older journal's schema up to this xarb's (the one that writes)"),
         app::JournalAction::migrate);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App root{
      "xarb: a low-latency arbitrage engine for the price gaps between KRW and USDT venues"};
  root.set_version_flag("--version", std::string("xarb ") + XARB_VERSION);
  root.require_subcommand(1);
  int rc = 0;
  add_config(root, rc);
  add_replay(root, rc);
  add_backtest(root, rc);
  add_sweep(root, rc);
  add_feed(root, rc);
  add_venue(root, rc);
  add_run(root, rc);
  add_ctl(root, rc);
  add_journal(root, rc);
  try {
    root.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return root.exit(e);
  }
  return rc;
}
