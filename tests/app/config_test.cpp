#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <xarb/app/config.hpp>
#include <xarb/app/live_keys.hpp>
#include <xarb/app/stage_options.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::app {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMinimal = R"([[symbols]]
base = "BTC"
trade_qty = "0.01"
)";

// `extra` first: in TOML, keys after [[symbols]] would belong to that table.
std::string cfg(std::string_view extra) { return std::string(extra) + std::string(kMinimal); }

LoadResult parse(std::string_view text) { return parse_config(text, "test.toml"); }

// All issues, one per line, as the CLI prints them.
std::string issues(const LoadResult& r) {
  std::string out;
  for (const auto& i : r.errors) out += i.to_string() + "\n";
  return out;
}

// The one issue a bad input must produce, with its exact text.
void expect_single_error(std::string_view text, const std::string& expected) {
  const LoadResult r = parse(text);
  ASSERT_EQ(r.errors.size(), 1u) << issues(r);
  EXPECT_EQ(r.errors[0].to_string(), expected);
}

fs::path temp_dir() {
  const fs::path dir =
      fs::temp_directory_path() / ("xarb_config_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(ConfigFiles, ShippedConfigsAreValid) {
  for (const char* name : {"configs/paper.toml", "configs/live.example.toml"}) {
    const LoadResult r = load_config(test::source_dir() / name);
    EXPECT_TRUE(r.ok()) << name << "\n" << issues(r);
  }
  const LoadResult paper = load_config(test::source_dir() / "configs/paper.toml");
  EXPECT_EQ(paper.config.mode, Mode::paper);
  ASSERT_EQ(paper.config.symbols.size(), 2u);
  EXPECT_EQ(paper.config.symbols[0].market(venues::kUpbit), "KRW-BTC");
  EXPECT_EQ(paper.config.symbols[0].market(venues::kBinance), "BTCUSDT");
  EXPECT_EQ(paper.config.symbols[0].trade_qty, Decimal::from_mantissa(200'000));  // 0.002
  EXPECT_EQ(paper.config.threads.hot.size(), 1u);
  EXPECT_EQ(paper.config.threads.hot[0].wait, WaitStrategy::park);
  // Relative paths in the file are relative to the file's directory.
  EXPECT_EQ(paper.config.journal.path,
            (test::source_dir() / "configs/xarb-paper.sqlite").lexically_normal().string());
  const LoadResult live = load_config(test::source_dir() / "configs/live.example.toml");
  EXPECT_EQ(live.config.mode, Mode::live);
  EXPECT_EQ(live.config.threads.ops_cpu, 0);
  EXPECT_EQ(live.config.threads.hot[0].cpu, 1);
}

TEST(ConfigFiles, ShippedConfigsHoldNoSecrets) {
  for (const char* name : {"configs/paper.toml", "configs/live.example.toml"}) {
    const std::string text = test::read_file(test::source_dir() / name);
    for (const char* word : {"api_key =", "secret =", "secret_key =", "access_key ="}) {
      EXPECT_EQ(text.find(word), std::string::npos) << name << " contains " << word;
    }
  }
}

TEST(ConfigDefaults, LiveInTheStructAndNowhereElse) {
  const LoadResult r = parse(kMinimal);
  ASSERT_TRUE(r.ok()) << issues(r);
  Config expected;
  SymbolConfig btc;
  btc.base = "BTC";
  btc.market(venues::kUpbit) = "KRW-BTC";
  btc.market(venues::kBinance) = "BTCUSDT";
  btc.trade_qty = Decimal::from_mantissa(1'000'000);
  btc.max_position_qty = Decimal::from_mantissa(5'000'000);  // 5 x trade_qty
  expected.symbols.push_back(btc);
  EXPECT_EQ(r.config, expected);
}

TEST(ConfigDump, ReadsBackToAnEqualConfig) {
  for (const char* name : {"configs/paper.toml", "configs/live.example.toml"}) {
    const LoadResult first = load_config(test::source_dir() / name);
    ASSERT_TRUE(first.ok()) << issues(first);
    const std::string dumped = dump_config(first.config);
    const LoadResult second = parse_config(dumped, "dump.toml");
    ASSERT_TRUE(second.ok()) << issues(second) << dumped;
    EXPECT_EQ(second.config, first.config) << dumped;
  }
}

TEST(ConfigLog, TheStructuredLogAndTheWatchAreConfigured) {
  const LoadResult d = parse(cfg(""));
  ASSERT_TRUE(d.ok()) << issues(d);
  EXPECT_TRUE(d.config.log.json);
  EXPECT_EQ(d.config.log.path, "") << "empty: events.jsonl in the report directory";
  const LoadResult r =
      parse(cfg("[log]\njson = false\npath = \"/var/log/xarb/events.jsonl\"\n"
                "max_mib = 16\nfiles = 3\n[alerts]\nstream_down_after_s = 90\n"));
  ASSERT_TRUE(r.ok()) << issues(r);
  EXPECT_FALSE(r.config.log.json);
  EXPECT_EQ(r.config.log.path, "/var/log/xarb/events.jsonl");
  EXPECT_EQ(r.config.log.max_mib, 16);
  EXPECT_EQ(r.config.log.files, 3);
  EXPECT_EQ(r.config.alerts.stream_down_after_s, 90);
}

TEST(ConfigAlerts, ChannelsAndTheirChecks) {
  const LoadResult r =
      parse(cfg("[alerts]\nmin_severity = \"page\"\nmax_per_minute = 5\n"
                "[alerts.telegram]\nchat_id = \"-100\"\n[alerts.slack]\n"));
  ASSERT_TRUE(r.ok()) << issues(r);
  EXPECT_EQ(r.config.alerts.min_severity, Severity::page);
  EXPECT_EQ(r.config.alerts.max_per_minute, 5);
  EXPECT_TRUE(r.config.alerts.telegram.enabled);
  EXPECT_EQ(r.config.alerts.telegram.api_url, "https://api.telegram.org");
  EXPECT_TRUE(r.config.alerts.slack.enabled);
  EXPECT_FALSE(r.config.alerts.webhook.enabled);
  const LoadResult again = parse_config(dump_config(r.config), "dump.toml");
  ASSERT_TRUE(again.ok()) << issues(again);
  EXPECT_EQ(again.config.alerts, r.config.alerts);

  expect_single_error(cfg("[alerts]\nmin_severity = \"loud\"\n"),
                      "test.toml:2:16: alerts.min_severity: \"loud\" is not one of \"info\", "
                      "\"warn\" or \"page\"");
  expect_single_error(
      cfg("[alerts.telegram]\n"),
      "test.toml: alerts.telegram.chat_id: is required: the chat the bot writes to");
  expect_single_error(cfg("[alerts.telegram]\nchat_id = \"1\"\napi_url = \"http://x\"\n"),
                      "test.toml:3:11: alerts.telegram.api_url: must start with https://");
  expect_single_error(cfg("[alerts.slack]\ntoken = \"xoxb\"\n"),
                      "test.toml:2:1: alerts.slack.token: unknown key; secrets are never read "
                      "from the config file: set the XARB_* environment variables or point "
                      "key_file at a 0600 file");
  // A secret file readable by others is refused, like a venue's key file.
  const fs::path dir = temp_dir();
  const fs::path secret = dir / "telegram.token";
  std::ofstream(secret) << "123:abc\n";
  fs::permissions(secret, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  const LoadResult loose =
      parse_config(cfg("[alerts.telegram]\nchat_id = \"1\"\nsecret_file = \"telegram.token\"\n"),
                   "test.toml", dir);
  ASSERT_EQ(loose.errors.size(), 1u) << issues(loose);
  EXPECT_NE(loose.errors[0].to_string().find("is readable by group or others; run chmod 600"),
            std::string::npos)
      << issues(loose);
}

TEST(ConfigInventory, FloorsFeesAndPaperBalancesByVenueAndAsset) {
  const LoadResult r = parse(cfg(R"([inventory]
prefer_bps = 12.5
rebalance_at = 0.4
[inventory.floor.upbit]
KRW = "2000000"
BTC = "0.02"
[inventory.floor.binance]
USDT = 500
[inventory.withdrawal_fee.binance]
BTC = "0.0002"
[inventory.paper_balance.upbit]
BTC = "0.1"
)"));
  ASSERT_TRUE(r.ok()) << issues(r);
  const InventoryConfig& inv = r.config.inventory;
  EXPECT_EQ(inv.prefer_bps, 12.5);
  EXPECT_EQ(inv.rebalance_at, 0.4);
  EXPECT_EQ(inv.max_fee_share, 0.01) << "the default";
  EXPECT_EQ(inv.floor.at("upbit").at("KRW"), test::d("2000000"));
  EXPECT_EQ(inv.floor.at("binance").at("USDT"), test::d("500"));
  EXPECT_EQ(inv.withdrawal_fee.at("binance").at("BTC"), test::d("0.0002"));
  EXPECT_EQ(inv.paper_balance.at("upbit").at("BTC"), test::d("0.1"));
  const LoadResult again = parse_config(dump_config(r.config), "dump.toml");
  ASSERT_TRUE(again.ok()) << issues(again);
  EXPECT_EQ(again.config.inventory, inv);

  // The strategy's floors: the quote in 1e-16 units, the base as a mantissa, by venue id.
  const SymbolMap symbols = build_symbol_map(r.config);
  const signal::StrategyParams p = strategy_params(r.config, symbols);
  EXPECT_EQ(p.inventory.prefer_bps, 12.5);
  EXPECT_TRUE(p.inventory.floor_quote_e16[index(venues::kUpbit)] ==
              static_cast<Int128>(2'000'000) * Decimal::kOne * Decimal::kOne);
  EXPECT_EQ(p.inventory.floor_base[index(venues::kUpbit)][symbols.find_base("BTC")],
            test::d("0.02").mantissa());
  EXPECT_EQ(p.inventory.floor_base[index(venues::kBinance)][symbols.find_base("BTC")], 0);

  expect_single_error(cfg("[inventory.floor.bithumb]\nKRW = \"1\"\n"),
                      "test.toml:1:1: inventory.floor.bithumb: \"bithumb\" is not a venue of this "
                      "config (binance, upbit)");
  expect_single_error(cfg("[inventory.floor.upbit]\nUSDT = \"1\"\n"),
                      "test.toml:2:8: inventory.floor.upbit.USDT: \"USDT\" is not an asset upbit "
                      "holds for this config (KRW, BTC)");
  expect_single_error(cfg("[inventory.withdrawal_fee.binance]\nBTC = \"-0.1\"\n"),
                      "test.toml:2:7: inventory.withdrawal_fee.binance.BTC: must not be negative, "
                      "got -0.1");
  expect_single_error(cfg("[inventory]\nprefer_bps = -1\n"),
                      "test.toml:2:14: inventory.prefer_bps: must be at least 0 and at most 1000, "
                      "got -1");
}

TEST(ConfigDump, NeverShowsCredentialValues) {
  ::setenv("XARB_BINANCE_API_KEY", "k3y-value-that-must-not-leak", 1);
  ::setenv("XARB_BINANCE_API_SECRET", "s3cret-value-that-must-not-leak", 1);
  ::unsetenv("XARB_UPBIT_ACCESS_KEY");
  const std::string dumped = dump_config(parse(kMinimal).config);
  ::unsetenv("XARB_BINANCE_API_KEY");
  ::unsetenv("XARB_BINANCE_API_SECRET");
  EXPECT_EQ(dumped.find("must-not-leak"), std::string::npos);
  EXPECT_NE(dumped.find("XARB_BINANCE_API_KEY is set"), std::string::npos);
  EXPECT_NE(dumped.find("XARB_UPBIT_ACCESS_KEY is not set"), std::string::npos);
}

TEST(ConfigErrors, SyntaxErrorGivesLineAndColumn) {
  const LoadResult r = parse("mode = \"paper\"\n[strategy\nentry_bps = 3\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_NE(r.errors[0].to_string().find("test.toml:2:"), std::string::npos);
  EXPECT_NE(r.errors[0].message.find("TOML syntax error"), std::string::npos);
}

TEST(ConfigErrors, UnknownKeySuggestsTheNearestKnownOne) {
  expect_single_error(cfg("[strategy]\nentry_pbs = 30\n"),
                      "test.toml:2:1: strategy.entry_pbs: unknown key (did you mean 'entry_bps'?)");
  expect_single_error(cfg("colour = 1\n"), "test.toml:1:1: colour: unknown key");
  expect_single_error(cfg("[venues.kraken]\nws_url = \"wss://x\"\n"),
                      "test.toml:1:9: venues.kraken: unknown key");
}

TEST(ConfigErrors, SecretsInTheFileAreRefusedWithoutEchoingThem) {
  const LoadResult r = parse(cfg("[venues.binance]\napi_secret = \"hunter2\"\n"));
  ASSERT_EQ(r.errors.size(), 1u) << issues(r);
  const std::string text = r.errors[0].to_string();
  EXPECT_NE(text.find("venues.binance.api_secret: unknown key; secrets are never read from the "
                      "config file"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos);
}

TEST(ConfigErrors, WrongTypesNameWhatWasExpected) {
  expect_single_error(cfg("[strategy]\nentry_bps = \"30\"\n"),
                      "test.toml:2:13: strategy.entry_bps: expected a number, got a string");
  expect_single_error(cfg("[strategy]\nkimchi = 1\n"),
                      "test.toml:2:10: strategy.kimchi: expected true or false, got an integer");
  expect_single_error(cfg("[strategy]\ntimeout_s = 1.5\n"),
                      "test.toml:2:13: strategy.timeout_s: expected an integer, got a "
                      "floating-point number");
  expect_single_error(cfg("fx = 3\n"), "test.toml:1:6: fx: expected a table, got an integer");
  expect_single_error("symbols = \"BTC\"\n",
                      "test.toml:1:11: symbols: expected an array of tables ([[symbols]]), got a "
                      "string");
}

TEST(ConfigErrors, OutOfRangeValuesSayTheRange) {
  expect_single_error(
      cfg("[risk]\ndaily_reset_hour_utc = 24\n"),
      "test.toml:2:24: risk.daily_reset_hour_utc: must be between 0 and 23, got 24");
  expect_single_error(cfg("[strategy]\nentry_bps = 0\n"),
                      "test.toml:2:13: strategy.entry_bps: must be greater than 0 and at most "
                      "10000, got 0");
  expect_single_error(cfg("[venues.upbit]\ntaker_fee_bps = -1\n"),
                      "test.toml:2:17: venues.upbit.taker_fee_bps: must be at least 0 and at most "
                      "100, got -1");
  expect_single_error(cfg("[metrics]\nport = 70000\n"),
                      "test.toml:2:8: metrics.port: must be between 0 and 65535, got 70000");
  expect_single_error(cfg("[log]\nmax_mib = 0\n"),
                      "test.toml:2:11: log.max_mib: must be between 1 and 4096, got 0");
  expect_single_error(
      cfg("[alerts]\nstream_down_after_s = 0\n"),
      "test.toml:2:23: alerts.stream_down_after_s: must be between 1 and 86400, got 0");
  expect_single_error(cfg("[log]\nformat = \"json\"\n"), "test.toml:2:1: log.format: unknown key");
  expect_single_error(cfg("[risk]\nmin_notional_krw = 1000\n"),
                      "test.toml:2:20: risk.min_notional_krw: must be between 5000 and "
                      "10000000000000, got 1000");
}

TEST(ConfigErrors, EnumsListTheirChoices) {
  expect_single_error(cfg("mode = \"real\"\n"),
                      "test.toml:1:8: mode: \"real\" is not one of \"paper\" or \"live\"");
  expect_single_error(cfg("[fx]\nside = \"last\"\n"),
                      "test.toml:2:8: fx.side: \"last\" is not one of \"mid\", \"bid\" or \"ask\"");
}

TEST(ConfigErrors, FeedSettingsAreChecked) {
  expect_single_error(
      cfg("[feed]\nreconnect_min_ms = 500\nreconnect_max_ms = 100\n"),
      "test.toml:3:20: feed.reconnect_max_ms: must be at least feed.reconnect_min_ms");
  const LoadResult r = parse(cfg("[feed]\nwatchdog_ms = 3000\n"));
  ASSERT_TRUE(r.ok()) << issues(r);
  EXPECT_EQ(r.config.feed.watchdog_ms, 3000);
}

// A venue's book stream and keep-alive are its own section's, checked against what its registry
// row lists; the [feed] keys an earlier version read them from say where they moved.
TEST(ConfigErrors, AVenuesBookStreamAndKeepAliveAreItsOwn) {
  expect_single_error(cfg("[venues.binance]\nbook = \"depth\"\n"),
                      "test.toml:2:8: venues.binance.book: \"depth\" is not one of \"diff_depth\", "
                      "\"partial_depth\", \"book_ticker\"");
  expect_single_error(cfg("[venues.upbit]\nbook = \"book_ticker\"\n"),
                      "test.toml:2:8: venues.upbit.book: \"book_ticker\" is not one of "
                      "\"orderbook\"");
  expect_single_error(cfg("[venues.binance]\nping_ms = 1000\n"),
                      "test.toml:2:1: venues.binance.ping_ms: unknown key");
  expect_single_error(cfg("[feed]\nbinance_book = \"book_ticker\"\n"),
                      "test.toml:2:16: feed.binance_book: moved: set [venues.binance] book instead");
  expect_single_error(cfg("[feed]\nupbit_ping_ms = 1000\n"),
                      "test.toml:2:17: feed.upbit_ping_ms: moved: set [venues.upbit] ping_ms instead");

  const LoadResult r = parse(
      cfg("[venues.binance]\nbook = \"book_ticker\"\n[venues.upbit]\nping_ms = 5000\n"));
  ASSERT_TRUE(r.ok()) << issues(r);
  const feed::FeedOptions f = feed_options(r.config);
  EXPECT_EQ(feed::book_stream(f, venues::kBinance), "book_ticker");
  EXPECT_EQ(feed::keepalive(f, venues::kUpbit), std::chrono::milliseconds(5000));
  // The rest from the registry: Upbit's one stream, Bithumb's keep-alive, Binance's lifetime.
  EXPECT_EQ(feed::book_stream(f, venues::kUpbit), "orderbook");
  EXPECT_EQ(feed::keepalive(f, venues::kBithumb), std::chrono::milliseconds(30'000));
  EXPECT_EQ(feed::keepalive(f, venues::kBinance), std::chrono::milliseconds(0));
  EXPECT_EQ(feed::lifetime(f, venues::kBinance), std::chrono::hours(23) + std::chrono::minutes(50));
}

TEST(ConfigErrors, DecimalsAreExactOrRejected) {
  expect_single_error("[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"0.123456789\"\n",
                      "test.toml:3:13: symbols[0].trade_qty: \"0.123456789\" is not a decimal "
                      "number the engine can hold (too many decimals; at most 8 decimals)");
  expect_single_error("[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"-1\"\n",
                      "test.toml:3:13: symbols[0].trade_qty: must be greater than 0, got -1");
  // A TOML float is read from its shortest text, so 0.001 stays 0.001.
  const LoadResult r = parse("[[symbols]]\nbase = \"BTC\"\ntrade_qty = 0.001\n");
  ASSERT_TRUE(r.ok()) << issues(r);
  EXPECT_EQ(r.config.symbols[0].trade_qty, Decimal::from_mantissa(100'000));
}

TEST(ConfigErrors, MissingSymbolsAndRequiredFields) {
  expect_single_error("mode = \"paper\"\n",
                      "test.toml: symbols: at least one [[symbols]] entry is required");
  expect_single_error("[[symbols]]\nbase = \"BTC\"\n",
                      "test.toml:1:1: symbols[0].trade_qty: is required (base units per entry, "
                      "such as \"0.01\")");
  expect_single_error(cfg("[[symbols]]\nbase = \"BTC\"\ntrade_qty = 1\n"),
                      "test.toml:4:1: symbols[1]: \"BTC\" repeats a symbol or market already "
                      "configured, or a name is longer than 23 characters");
  expect_single_error("[[symbols]]\nbase = \"BTC\"\ntrade_qty = 1\nmax_position_qty = \"0.5\"\n",
                      "test.toml:4:20: symbols[0].max_position_qty: must be at least trade_qty");
}

TEST(ConfigErrors, InconsistentCombinationsPointAtTheKey) {
  expect_single_error(cfg("[fx]\nsource = \"fixed\"\n"),
                      "test.toml:2:10: fx.source: source = \"fixed\" needs fx.fixed_rate (KRW per "
                      "USDT)");
  expect_single_error(cfg("[fx]\nfixed_rate = 1400\n"),
                      "test.toml:2:14: fx.fixed_rate: is read only with source = \"fixed\"; "
                      "remove it or set source");
  expect_single_error(cfg("mode = \"live\"\n[fx]\nsource = \"fixed\"\n"
                          "fixed_rate = 1400\n"),
                      "test.toml:3:10: fx.source: live mode needs the live rate: use source = "
                      "\"book\"");
  // Before the rate's venue was fx.venue, the source named it.
  expect_single_error(cfg("[fx]\nsource = \"upbit_book\"\n"),
                      "test.toml:2:10: fx.source: moved: set source = \"book\" and venue = "
                      "\"upbit\"");
  expect_single_error(cfg("mode = \"live\"\n[venues.upbit]\n"
                          "ws_url = \"ws://127.0.0.1:9000\"\n"),
                      "test.toml:3:10: venues.upbit.ws_url: must start with wss:// (TLS; point "
                      "ca_file at a local server's certificate to test against it)");
  expect_single_error(cfg("[venues.binance]\nrest_url = \"ftp://x\"\n"),
                      "test.toml:2:12: venues.binance.rest_url: must start with https:// (TLS; "
                      "point ca_file at a local server's certificate to test against it)");
  expect_single_error(cfg("[strategy]\nmax_open_per_symbol = 5\n"),
                      "test.toml:2:23: strategy.max_open_per_symbol: must not exceed "
                      "strategy.max_open_total (3)");
  expect_single_error(cfg("[strategy]\nexit_max_book_age_ms = 100\n"),
                      "test.toml:2:24: strategy.exit_max_book_age_ms: must be at least "
                      "strategy.max_book_age_ms: exits may not be stricter than entries");
  expect_single_error(cfg("[strategy]\nkimchi = false\nreverse = false\n"),
                      "test.toml:2:10: strategy.kimchi: both directions are disabled: enable "
                      "kimchi or reverse");
  expect_single_error(cfg("[risk]\nmin_notional_krw = 20000000\n"),
                      "test.toml:2:20: risk.min_notional_krw: must be below risk.max_notional_krw");
  // 64 symbols leave no room for the FX instrument.
  {
    std::string many;
    for (int k = 0; k < 64; ++k) {
      many += "[[symbols]]\nbase = \"S" + std::to_string(k) + "\"\ntrade_qty = \"1\"\n";
    }
    const LoadResult r = parse(many);
    EXPECT_NE(issues(r).find("symbols: 64 [[symbols]] entries: at most 63 (one more instrument is "
                             "the FX market)"),
              std::string::npos)
        << issues(r);
  }
  // Five times this (the default max_position_qty) does not fit: refused, not a limit of 0.
  expect_single_error("[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"20000000000\"\n",
                      "test.toml:3:13: symbols[0].trade_qty: too large: five times it (the "
                      "default max_position_qty) does not fit; set max_position_qty");
}

TEST(ConfigErrors, ThreadLayoutsMustHostEveryStageOnce) {
  expect_single_error(cfg("[[threads.hot]]\nname = \"md\"\nstages = [\"feed\", \"signal\"]\n"),
                      "test.toml:1:1: threads.hot: stage \"exec\" is not hosted by any thread");
  expect_single_error(cfg("[[threads.hot]]\nname = \"a\"\nstages = [\"feed\", \"signal\", "
                          "\"exec\"]\n[[threads.hot]]\nname = \"b\"\nstages = [\"exec\"]\n"),
                      "test.toml:4:1: threads.hot[1]: stage \"exec\" is hosted by both \"a\" and "
                      "\"b\"");
  expect_single_error(cfg("[[threads.hot]]\nname = \"a\"\nstages = [\"feed\"]\ncpu = 1\n"
                          "wait = \"spin\"\n[[threads.hot]]\nname = \"b\"\n"
                          "stages = [\"signal\", \"exec\"]\ncpu = 1\nwait = \"park\"\n"),
                      "test.toml:6:1: threads.hot[1]: shares CPU 1 with \"a\"; only threads with "
                      "wait = \"park\" may share a CPU");
  expect_single_error(cfg("[threads]\nops_cpu = 1\n[[threads.hot]]\n"
                          "stages = [\"feed\", \"signal\", \"exec\"]\n"
                          "cpu = 1\nwait = \"spin\"\n"),
                      "test.toml:3:1: threads.hot[0]: shares CPU 1 with the ops thread "
                      "(threads.ops_cpu); a hot thread that spins must have its CPU to itself");
  expect_single_error(cfg("[[threads.hot]]\nstages = [\"feed\", \"parse\"]\n"),
                      "test.toml:2:19: threads.hot[0].stages: each stage must be one of \"feed\", "
                      "\"signal\" or \"exec\"");
  // Parking threads may share a CPU.
  const LoadResult ok =
      parse(cfg("[[threads.hot]]\nname = \"a\"\nstages = [\"feed\"]\ncpu = 1\n"
                "wait = \"park\"\n[[threads.hot]]\nname = \"b\"\n"
                "stages = [\"signal\", \"exec\"]\ncpu = 1\nwait = \"park\"\n"));
  EXPECT_TRUE(ok.ok()) << issues(ok);
}

TEST(ConfigErrors, FilesAreCheckedBeforeAnythingConnects) {
  const fs::path dir = temp_dir();
  const fs::path key = dir / "binance.key";
  { std::ofstream(key) << "not a real key\n"; }
  ::chmod(key.c_str(), 0644);
  const std::string text =
      cfg("[venues.binance]\nkey_file = \"binance.key\"\n"
          "ca_file = \"missing-ca.pem\"\n");
  const LoadResult loose = parse_config(text, "test.toml", dir);
  ASSERT_EQ(loose.errors.size(), 2u) << issues(loose);
  EXPECT_EQ(loose.errors[0].to_string(),
            "test.toml:2:12: venues.binance.key_file: " + key.string() +
                " is readable by group or others; run chmod 600 on it");
  EXPECT_EQ(loose.errors[1].to_string(), "test.toml:3:11: venues.binance.ca_file: no such file: " +
                                             (dir / "missing-ca.pem").string());
  ::chmod(key.c_str(), 0600);
  const LoadResult tight =
      parse_config(cfg("[venues.binance]\nkey_file = \"binance.key\"\n"), "test.toml", dir);
  EXPECT_TRUE(tight.ok()) << issues(tight);
  EXPECT_EQ(tight.config.venue(venues::kBinance).key_file, key.string());
  fs::remove_all(dir);
}

TEST(ConfigErrors, EveryProblemIsReportedAtOnceInFileOrder) {
  const LoadResult r = parse(
      "mode = \"paper\"\n"
      "[strategy]\n"
      "entry_bps = -1\n"
      "bogus = true\n"
      "[[symbols]]\n"
      "base = \"ETH\"\n"
      "trade_qty = \"abc\"\n");
  // One error per cause: the bad trade_qty is not also reported as missing.
  ASSERT_EQ(r.errors.size(), 3u) << issues(r);
  EXPECT_EQ(r.errors[0].to_string(),
            "test.toml:3:13: strategy.entry_bps: must be greater than 0 and at most 10000, got -1");
  EXPECT_EQ(r.errors[1].to_string(), "test.toml:4:1: strategy.bogus: unknown key");
  EXPECT_EQ(r.errors[2].to_string(),
            "test.toml:7:13: symbols[0].trade_qty: \"abc\" is not a decimal number the engine can "
            "hold (invalid number; at most 8 decimals)");
}

TEST(ConfigFiles, UnreadableFileIsAnIssueNotACrash) {
  const LoadResult r = load_config("/nonexistent/xarb.toml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string(), "/nonexistent/xarb.toml: cannot open the file");
}

TEST(SymbolMapFromConfig, IncludesTheFxInstrument) {
  const LoadResult r = load_config(test::source_dir() / "configs/paper.toml");
  const SymbolMap map = build_symbol_map(r.config);
  EXPECT_EQ(map.size(), 3u);
  EXPECT_EQ(map.find(venues::kBinance, "ethusdt"), map.find(venues::kUpbit, "KRW-ETH"));
  EXPECT_EQ(map.fx(), map.find(venues::kUpbit, "KRW-USDT"));
}

// A third venue is one section: [venues.bithumb] makes Bithumb a venue the config trades, every
// symbol listed on it as KRW-<base> unless it says otherwise, with Bithumb's own defaults.
TEST(ConfigBithumb, ASectionMakesItAVenueWithItsDefaults) {
  const LoadResult plain = parse(cfg(""));
  ASSERT_TRUE(plain.ok()) << issues(plain);
  EXPECT_FALSE(plain.config.trades(venues::kBithumb));
  EXPECT_EQ(plain.config.venues(), (std::vector<Venue>{venues::kBinance, venues::kUpbit}));
  EXPECT_TRUE(plain.config.symbols[0].market(venues::kBithumb).empty());
  EXPECT_FALSE(build_symbol_map(plain.config)[0].listed_on(venues::kBithumb));

  const LoadResult r = parse(R"([venues.bithumb]
taker_fee_bps = 4.0

[[symbols]]
base = "BTC"
trade_qty = "0.01"

[[symbols]]
base = "XRP"
bithumb_market = "KRW-XRP2"
trade_qty = "100"
)");
  ASSERT_TRUE(r.ok()) << issues(r);
  const Config& c = r.config;
  ASSERT_TRUE(c.trades(venues::kBithumb));
  EXPECT_EQ(c.venues(), (std::vector<Venue>{venues::kBinance, venues::kUpbit, venues::kBithumb}));
  EXPECT_EQ(c.venue(venues::kBithumb).rest_url, "https://api.bithumb.com");
  EXPECT_EQ(c.venue(venues::kBithumb).ws_url, "wss://ws-api.bithumb.com/websocket/v1");
  EXPECT_EQ(c.venue(venues::kBithumb).taker_fee_bps, 4.0);
  EXPECT_EQ(venue_defaults(venues::kBithumb).taker_fee_bps, 25.0) << "Bithumb's base fee";
  EXPECT_EQ(c.symbols[0].market(venues::kBithumb), "KRW-BTC");
  EXPECT_EQ(c.symbols[1].market(venues::kBithumb), "KRW-XRP2");
  const SymbolMap map = build_symbol_map(c);
  EXPECT_EQ(map.find(venues::kBithumb, "KRW-BTC"), map.find(venues::kUpbit, "KRW-BTC"));
  EXPECT_EQ(map.find(venues::kBithumb, "KRW-XRP2"), map.find(venues::kBinance, "XRPUSDT"));
  EXPECT_EQ(rest_options(c, venues::kBithumb).rest_url, "https://api.bithumb.com");
  EXPECT_EQ(credential_env(venues::kBithumb).key, "XARB_BITHUMB_ACCESS_KEY");
  // The dump reads back to the same config, Bithumb included.
  const std::string dumped = dump_config(c);
  const LoadResult again = parse_config(dumped, "dump.toml");
  ASSERT_TRUE(again.ok()) << issues(again) << dumped;
  EXPECT_EQ(again.config, c) << dumped;

  expect_single_error(R"([[symbols]]
base = "BTC"
bithumb_market = "KRW-BTC"
trade_qty = "0.01"
)",
                      "test.toml:3:18: symbols[0].bithumb_market: names a market on bithumb, which "
                      "this config does not trade (no [venues.bithumb] section)");
  const LoadResult bad = parse(cfg("[venues.bithumb]\nrest_url = \"http://api.bithumb.com\"\n"));
  ASSERT_EQ(bad.errors.size(), 1u) << issues(bad);
  EXPECT_EQ(bad.errors[0].key, "venues.bithumb.rest_url");
}

// The venues make the pairs; [strategy] pairs picks some of them, by name, refused at its line
// when a name is not one of them or is listed twice.
// Binance's user data stream is on a host of its own (the WebSocket API's): its default. A file
// that points ws_url elsewhere (a simulator) takes the private stream there too, unless it names
// one: a simulator's market data never goes with the real venue's account stream.
TEST(ConfigPrivateStream, BinancesFollowsWsUrlUnlessNamed) {
  const std::string symbols = "\n[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"0.01\"\n";
  const LoadResult plain = parse(symbols);
  ASSERT_TRUE(plain.ok()) << issues(plain);
  EXPECT_EQ(plain.config.venue(venues::kBinance).private_ws_url, "wss://ws-api.binance.com:443/ws-api/v3");
  EXPECT_EQ(rest_options(plain.config, venues::kBinance).private_ws_url,
            "wss://ws-api.binance.com:443/ws-api/v3");
  EXPECT_TRUE(plain.config.venue(venues::kUpbit).private_ws_url.empty()) << "Upbit's is on ws_url's host";

  const LoadResult moved = parse(R"([venues.binance]
ws_url = "wss://127.0.0.1:9443"
rest_url = "https://127.0.0.1:9443"
)" + symbols);
  ASSERT_TRUE(moved.ok()) << issues(moved);
  EXPECT_TRUE(moved.config.venue(venues::kBinance).private_ws_url.empty());
  const LoadResult again = parse_config(dump_config(moved.config), "dump.toml");
  ASSERT_TRUE(again.ok()) << issues(again);
  EXPECT_EQ(again.config, moved.config);

  const LoadResult named = parse(R"([venues.binance]
ws_url = "wss://127.0.0.1:9443"
private_ws_url = "wss://127.0.0.1:9444/ws-api/v3"
)" + symbols);
  ASSERT_TRUE(named.ok()) << issues(named);
  EXPECT_EQ(named.config.venue(venues::kBinance).private_ws_url, "wss://127.0.0.1:9444/ws-api/v3");
}

TEST(ConfigPrivateStream, OrdersOverTheWebSocketApiOnlyWhereThereIsOne) {
  const std::string symbols = "\n[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"0.01\"\n";
  const LoadResult ws = parse("[venues.binance]\norder_entry = \"ws\"\n" + symbols);
  ASSERT_TRUE(ws.ok()) << issues(ws);
  EXPECT_EQ(ws.config.venue(venues::kBinance).order_entry, exec::OrderEntry::ws);
  EXPECT_EQ(rest_options(ws.config, venues::kBinance).order_entry, exec::OrderEntry::ws);
  const LoadResult again = parse_config(dump_config(ws.config), "dump.toml");
  ASSERT_TRUE(again.ok()) << issues(again);
  EXPECT_EQ(again.config, ws.config);
  const LoadResult upbit = parse("[venues.upbit]\norder_entry = \"ws\"\n" + symbols);
  ASSERT_FALSE(upbit.ok());
  EXPECT_NE(issues(upbit).find("venues.upbit.order_entry"), std::string::npos) << issues(upbit);
  const LoadResult no_stream =
      parse("[venues.binance]\norder_entry = \"ws\"\nprivate_stream = false\n" + symbols);
  EXPECT_FALSE(no_stream.ok());
  const LoadResult typo = parse("[venues.binance]\norder_entry = \"websocket\"\n" + symbols);
  EXPECT_FALSE(typo.ok());
}

TEST(ConfigPairs, TheVenuesMakeThePairsAndTheStrategyMayPickSome) {
  const LoadResult two = parse(cfg(""));
  ASSERT_TRUE(two.ok()) << issues(two);
  EXPECT_EQ(two.config.pairs(), (std::vector<VenuePair>{venues::kUpbitBinance}));
  const signal::StrategyParams two_params =
      strategy_params(two.config, build_symbol_map(two.config));
  EXPECT_EQ(two_params.pair_count, 1u);
  EXPECT_TRUE(two_params.pairs[0].fx);

  const std::string three = "[venues.bithumb]\ntaker_fee_bps = 4.0\n\n";
  const LoadResult all = parse(three + cfg(""));
  ASSERT_TRUE(all.ok()) << issues(all);
  const VenuePair bithumb_binance{venues::kBithumb, venues::kBinance};
  const VenuePair upbit_bithumb{venues::kUpbit, venues::kBithumb};
  EXPECT_EQ(all.config.pairs(),
            (std::vector<VenuePair>{venues::kUpbitBinance, bithumb_binance, upbit_bithumb}));
  const signal::StrategyParams p = strategy_params(all.config, build_symbol_map(all.config));
  ASSERT_EQ(p.pair_count, 3u);
  EXPECT_EQ(p.pairs[1].pair, bithumb_binance);
  EXPECT_EQ(p.pairs[1].fees.first_bps, 4.0);
  EXPECT_EQ(p.pairs[1].fees.second_bps, all.config.venue(venues::kBinance).taker_fee_bps);
  EXPECT_TRUE(p.pairs[1].fx);
  EXPECT_EQ(p.pairs[2].pair, upbit_bithumb);
  EXPECT_EQ(p.pairs[2].fees.first_bps, all.config.venue(venues::kUpbit).taker_fee_bps);
  EXPECT_EQ(p.pairs[2].fees.second_bps, 4.0);
  EXPECT_FALSE(p.pairs[2].fx) << "KRW against KRW";
  EXPECT_EQ(to_string(upbit_bithumb), "upbit-bithumb");

  const LoadResult some =
      parse(three + "[strategy]\npairs = [\"upbit-bithumb\", \"bithumb-binance\"]\n\n" + cfg(""));
  ASSERT_TRUE(some.ok()) << issues(some);
  EXPECT_EQ(some.config.pairs(), (std::vector<VenuePair>{bithumb_binance, upbit_bithumb}))
      << "in the venues' order";
  const std::string dumped = dump_config(some.config);
  const LoadResult again = parse_config(dumped, "dump.toml");
  ASSERT_TRUE(again.ok()) << issues(again) << dumped;
  EXPECT_EQ(again.config, some.config) << dumped;

  expect_single_error(
      three + "[strategy]\npairs = [\"upbit-binance\", \"binance-upbit\"]\n\n" + cfg(""),
      "test.toml:5:27: strategy.pairs[1]: \"binance-upbit\" is not a pair of this "
      "config's venues (upbit-binance, bithumb-binance, upbit-bithumb)");
  expect_single_error("[strategy]\npairs = [\"upbit-binance\", \"upbit-binance\"]\n\n" + cfg(""),
                      "test.toml:2:27: strategy.pairs[1]: \"upbit-binance\" is listed twice");
  expect_single_error("[strategy]\npairs = [\"upbit-bithumb\"]\n\n" + cfg(""),
                      "test.toml:2:10: strategy.pairs[0]: \"upbit-bithumb\" is not a pair of this "
                      "config's venues (upbit-binance)");
}

// Limits of a venue ([venues.X] max_exposure_krw) and of a pair ([risk.max_pair_exposure_krw],
// by pair name) reach the strategy; a pair the venues do not make is refused at its line.
TEST(ConfigPairs, VenuesAndPairsHaveExposureLimitsOfTheirOwn) {
  const std::string text =
      "[risk.max_pair_exposure_krw]\nupbit-bithumb = 3000000\n\n"
      "[venues.bithumb]\ntaker_fee_bps = 4.0\nmax_exposure_krw = 5000000\n\n" +
      cfg("");
  const LoadResult r = parse(text);
  ASSERT_TRUE(r.ok()) << issues(r);
  const signal::StrategyParams p = strategy_params(r.config, build_symbol_map(r.config));
  ASSERT_EQ(p.pair_count, 3u);
  EXPECT_EQ(p.pairs[2].pair, (VenuePair{venues::kUpbit, venues::kBithumb}));
  EXPECT_EQ(p.pairs[2].max_exposure_krw, 3'000'000);
  EXPECT_EQ(p.pairs[0].max_exposure_krw, 0) << "not listed: no limit of its own";
  EXPECT_EQ(p.risk.max_venue_exposure_krw[index(venues::kBithumb)], 5'000'000);
  EXPECT_EQ(p.risk.max_venue_exposure_krw[index(venues::kUpbit)], 0);
  const std::string dumped = dump_config(r.config);
  const LoadResult again = parse_config(dumped, "dump.toml");
  ASSERT_TRUE(again.ok()) << issues(again) << dumped;
  EXPECT_EQ(again.config, r.config) << dumped;

  const LoadResult bad =
      parse("[risk.max_pair_exposure_krw]\nbinance-upbit = 1000000\n\n" + cfg(""));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(issues(bad).find("test.toml:2:"), std::string::npos) << issues(bad);
  EXPECT_NE(issues(bad).find("risk.max_pair_exposure_krw.binance-upbit: \"binance-upbit\" is not "
                             "a pair of this config's venues (upbit-binance)"),
            std::string::npos)
      << issues(bad);
  const LoadResult zero = parse("[risk.max_pair_exposure_krw]\nupbit-binance = 0\n\n" + cfg(""));
  EXPECT_FALSE(zero.ok()) << "a listed pair's limit is positive";
}

// The CLI: exit codes and output streams of `xarb config check`.
int run(const std::string& command, std::string& out) {
  out.clear();
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ConfigCli, CheckPrintsTheEffectiveConfigOrTheErrors) {
  std::string out;
  const std::string xarb = XARB_BINARY;
  EXPECT_EQ(
      run(xarb + " config check " + (test::source_dir() / "configs/paper.toml").string(), out), 0)
      << out;
  EXPECT_NE(out.find("[[symbols]]"), std::string::npos) << out;
  EXPECT_NE(out.find("valid"), std::string::npos);
  EXPECT_NE(out.find("xarb ctl set changes these while it runs: strategy.entry_bps"),
            std::string::npos)
      << out;

  const fs::path dir = temp_dir();
  const fs::path bad = dir / "bad.toml";
  { std::ofstream(bad) << "[strategy]\nentry_bps = \"high\"\n"; }
  EXPECT_EQ(run(xarb + " config check " + bad.string(), out), 2) << out;
  EXPECT_NE(out.find(bad.string() + ":2:13: strategy.entry_bps: expected a number, got a string"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("2 errors; nothing was started"), std::string::npos) << out;
  fs::remove_all(dir);

  EXPECT_EQ(run(xarb + " config check", out), 106) << out;  // CLI11: required option missing
  EXPECT_EQ(run(xarb + " --version", out), 0);
  EXPECT_NE(out.find("xarb "), std::string::npos);
}

}  // namespace
}  // namespace xarb::app

namespace xarb::app {
namespace {

// Each default is written once, in the stage's parameter struct: a file that sets nothing gives
// the stages exactly their own defaults.
TEST(StrategyParams, AnUnsetSettingIsTheStagesOwnDefault) {
  const LoadResult r = parse_config(std::string(R"([[symbols]]
base = "BTC"
trade_qty = "0.01"
)"),
                                    "test.toml");
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  const signal::StrategyParams p = strategy_params(r.config, build_symbol_map(r.config));
  const signal::StrategyParams want;
  EXPECT_EQ(p.baseline, want.baseline);
  EXPECT_EQ(p.ewma_half_life_ns, want.ewma_half_life_ns);
  EXPECT_EQ(p.kimchi, want.kimchi);
  EXPECT_EQ(p.reverse, want.reverse);
  EXPECT_DOUBLE_EQ(p.entry_bps, want.entry_bps);
  EXPECT_DOUBLE_EQ(p.take_profit_bps, want.take_profit_bps);
  EXPECT_DOUBLE_EQ(p.stop_loss_bps, want.stop_loss_bps);
  EXPECT_DOUBLE_EQ(p.reversal_bps, want.reversal_bps);
  EXPECT_EQ(p.timeout_ns, want.timeout_ns);
  EXPECT_EQ(p.cooldown_ns, want.cooldown_ns);
  EXPECT_EQ(p.max_open_per_symbol, want.max_open_per_symbol);
  EXPECT_EQ(p.max_open_total, want.max_open_total);
  EXPECT_EQ(p.clips, want.clips);
  EXPECT_DOUBLE_EQ(p.min_depth_ratio, want.min_depth_ratio);
  EXPECT_DOUBLE_EQ(p.slippage_bps, want.slippage_bps);
  EXPECT_EQ(p.max_book_age_ns, want.max_book_age_ns);
  EXPECT_EQ(p.exit_max_book_age_ns, want.exit_max_book_age_ns);
  EXPECT_EQ(p.max_clock_skew_ns, want.max_clock_skew_ns);
  EXPECT_EQ(p.fx.side, want.fx.side);
  EXPECT_EQ(p.fx.max_age_ns, want.fx.max_age_ns);
  EXPECT_EQ(p.risk.kill_switch, want.risk.kill_switch);
  EXPECT_EQ(p.risk.daily_loss_limit_krw, want.risk.daily_loss_limit_krw);
  EXPECT_EQ(p.risk.daily_reset_hour_utc, want.risk.daily_reset_hour_utc);
  EXPECT_EQ(p.risk.max_total_exposure_krw, want.risk.max_total_exposure_krw);
  EXPECT_EQ(p.risk.max_symbol_exposure_krw, want.risk.max_symbol_exposure_krw);
  EXPECT_EQ(p.risk.max_notional_krw, want.risk.max_notional_krw);
  EXPECT_EQ(p.risk.min_notional_krw, want.risk.min_notional_krw);
  EXPECT_EQ(p.risk.max_consecutive_failures, want.risk.max_consecutive_failures);
  EXPECT_EQ(p.risk.halt_cooldown_ns, want.risk.halt_cooldown_ns);
  EXPECT_DOUBLE_EQ(r.config.risk.hedge_reserve_ratio, exec::ExecParams{}.hedge_reserve_ratio);

  const feed::FeedOptions f = feed_options(r.config);
  const feed::FeedOptions fw;
  EXPECT_EQ(feed::book_stream(f, venues::kBinance), feed::book_stream(fw, venues::kBinance));
  EXPECT_EQ(f.ws.watchdog, fw.ws.watchdog);
  EXPECT_EQ(f.ws.reconnect_min, fw.ws.reconnect_min);
  EXPECT_EQ(f.ws.reconnect_max, fw.ws.reconnect_max);
  EXPECT_EQ(feed::keepalive(f, venues::kUpbit), feed::keepalive(fw, venues::kUpbit));
  for (const Venue v : r.config.venues()) {
    const exec::RestVenueOptions o = rest_options(r.config, v);
    const exec::RestVenueOptions ow;
    EXPECT_EQ(o.connect_timeout, ow.connect_timeout) << to_string(v);
    EXPECT_EQ(o.request_timeout, ow.request_timeout) << to_string(v);
    EXPECT_EQ(o.recv_window_ms, ow.recv_window_ms) << to_string(v);
  }
}

TEST(StrategyParams, CarryTheConfigIntoTheSignalsUnits) {
  const LoadResult r = parse_config(std::string(R"([strategy]
baseline = "zero"
entry_bps = 42.5
timeout_s = 90
max_book_age_ms = 1500
clips = 2
[risk]
halt_cooldown_s = 60
daily_loss_limit_krw = 123456
[fx]
source = "fixed"
fixed_rate = "1385.5"
[[symbols]]
base = "ETH"
trade_qty = "0.2"
[[symbols]]
base = "BTC"
trade_qty = "0.01"
)"), "test.toml");
  ASSERT_TRUE(r.ok()) << r.errors.front().to_string();
  const SymbolMap symbols = build_symbol_map(r.config);
  const signal::StrategyParams p = strategy_params(r.config, symbols);
  EXPECT_EQ(p.baseline, signal::BaselineMode::zero);
  EXPECT_DOUBLE_EQ(p.entry_bps, 42.5);
  EXPECT_EQ(p.timeout_ns, 90'000'000'000);
  EXPECT_EQ(p.max_book_age_ns, 1'500'000'000);
  EXPECT_EQ(p.clips, 2);
  EXPECT_EQ(p.risk.halt_cooldown_ns, 60'000'000'000);
  EXPECT_EQ(p.risk.daily_loss_limit_krw, 123'456);
  EXPECT_TRUE(p.fx.fixed);
  EXPECT_EQ(p.fx.fixed_rate.mantissa(), 138'550'000'000);
  EXPECT_DOUBLE_EQ(p.pairs[0].fees.first_bps, 5.0);
  EXPECT_DOUBLE_EQ(p.pairs[0].fees.second_bps, 10.0);
  const InstrumentId btc = symbols.find_base("BTC");
  const InstrumentId eth = symbols.find_base("ETH");
  EXPECT_EQ(p.symbols[btc].trade_qty.mantissa(), 1'000'000);
  EXPECT_EQ(p.symbols[btc].max_position_qty.mantissa(), 5'000'000);  // 5 x trade_qty by default
  EXPECT_EQ(p.symbols[eth].trade_qty.mantissa(), 20'000'000);
}

// The live-settable keys are one table: `ctl set` checks against it, and the README's list of
// them is that table, no more and no less. Each key changes the config it is applied to.
TEST(LiveKeys, TheReadmeListsExactlyTheTable) {
  std::ifstream in(test::source_dir() / "README.md");
  std::string line, listed;
  while (std::getline(in, line)) {
    if (line.starts_with("| `set KEY=VALUE` |")) listed = line;
  }
  ASSERT_FALSE(listed.empty()) << "README.md has no row for `set KEY=VALUE`";
  std::set<std::string> readme;
  const std::regex key("`([a-z]+\\.[a-z_]+)`");
  for (auto it = std::sregex_iterator(listed.begin(), listed.end(), key);
       it != std::sregex_iterator(); ++it) {
    readme.insert((*it)[1]);
  }
  std::set<std::string> table;
  for (const LiveKey& k : live_keys()) table.insert(std::string(k.key));
  EXPECT_EQ(readme, table);
}

TEST(LiveKeys, EachKeyIsAppliedThroughTheConfigsOwnChecks) {
  const LoadResult base = load_config((test::source_dir() / "configs/paper.toml").string());
  ASSERT_TRUE(base.ok());
  // Every key reads back what it is set to (its current value, which the config accepts).
  for (const LiveKey& k : live_keys()) {
    const std::string value = live_value_text(k, base.config);
    Config next;
    std::string key, error;
    ASSERT_TRUE(apply_live_setting(base.config, std::string(k.key) + "=" + value, next, key, error))
        << k.key << ": " << error;
    EXPECT_EQ(key, k.key);
    EXPECT_EQ(live_value_text(k, next), value) << k.key;
  }
  Config next;
  std::string key, error;
  ASSERT_TRUE(apply_live_setting(base.config, "strategy.entry_bps = 35", next, key, error)) << error;
  EXPECT_DOUBLE_EQ(next.strategy.entry_bps, 35.0);
  EXPECT_EQ(live_value_text(*find_live_key("strategy.entry_bps"), next), "35.0");
  EXPECT_FALSE(apply_live_setting(base.config, "strategy.clips=3", next, key, error));
  EXPECT_NE(error.find("cannot be changed while the engine runs"), std::string::npos) << error;
  EXPECT_FALSE(apply_live_setting(base.config, "strategy.entry_bps=0", next, key, error));
  EXPECT_EQ(error, "strategy.entry_bps: must be greater than 0 and at most 10000, got 0");
  EXPECT_FALSE(apply_live_setting(base.config, "strategy.entry_bps=high", next, key, error));
  EXPECT_FALSE(apply_live_setting(base.config, "strategy.entry_bps", next, key, error));
}

// Venues come from the registry: any section [venues.<name>] of a registry row; binance and
// upbit are on by default and can be turned off, so that any two venues make a pair.
TEST(ConfigVenues, AnyTwoConfiguredVenuesMakeAPair) {
  const LoadResult krw = parse(cfg("[venues.binance]\nenabled = false\n[venues.bithumb]\n"));
  ASSERT_TRUE(krw.ok()) << issues(krw);
  EXPECT_EQ(krw.config.venues(), (std::vector<Venue>{venues::kUpbit, venues::kBithumb}));
  EXPECT_EQ(krw.config.pairs(), (std::vector<VenuePair>{{venues::kUpbit, venues::kBithumb}}));
  EXPECT_TRUE(krw.config.symbols[0].market(venues::kBinance).empty());
  EXPECT_EQ(krw.config.symbols[0].market(venues::kBithumb), "KRW-BTC");
  EXPECT_EQ(krw.config.fx_venue(), venues::kUpbit);
  const SymbolMap map = build_symbol_map(krw.config);
  EXPECT_FALSE(map[map.find_base("BTC")].listed_on(venues::kBinance));
  // The effective config reads back the same.
  const LoadResult again = parse(dump_config(krw.config));
  ASSERT_TRUE(again.ok()) << issues(again);
  EXPECT_EQ(again.config, krw.config);

  // One venue is no pair.
  const LoadResult one = parse(cfg("[venues.upbit]\nenabled = false\n"));
  ASSERT_FALSE(one.ok());
  EXPECT_NE(issues(one).find("venues: trades 1 venue(s): a pair needs two"), std::string::npos)
      << issues(one);
  // A market on a venue turned off, and the FX rate from a venue not traded, are refused.
  const LoadResult off = parse(
      "[venues.upbit]\nenabled = false\n[venues.bithumb]\n[fx]\nvenue = \"upbit\"\n"
      "[[symbols]]\nbase = \"BTC\"\ntrade_qty = \"0.01\"\nupbit_market = \"KRW-BTC\"\n");
  EXPECT_NE(issues(off).find("fx.venue: \"upbit\" is not a venue this config trades"),
            std::string::npos)
      << issues(off);
  EXPECT_NE(issues(off).find("symbols[0].upbit_market: names a market on upbit"), std::string::npos)
      << issues(off);
}

TEST(ConfigVenues, EachVenuesDefaultsAndKeysComeFromItsRegistryRow) {
  for (const venues::VenueInfo& v : venues::kRegistry) {
    const VenueConfig d = venue_defaults(v.id);
    EXPECT_EQ(d.ws_url, v.defaults.ws_url);
    EXPECT_EQ(d.taker_fee_bps, v.defaults.taker_fee_bps);
    EXPECT_EQ(d.enabled, v.defaults.on_by_default);
    EXPECT_EQ(credential_env(v.id).key, v.defaults.key_env);
    EXPECT_FALSE(credential_env(v.id).key.empty()) << v.name;
  }
  EXPECT_EQ(credential_env(venues::kBithumb).key, "XARB_BITHUMB_ACCESS_KEY");
  // A venue no row has gets no one's keys.
  EXPECT_TRUE(credential_env(kNoVenue).key.empty());
  // Each venue's own connect timeout reaches its websocket and snapshots.
  const LoadResult r = parse(cfg("[venues.upbit]\nconnect_timeout_ms = 1234\n"));
  ASSERT_TRUE(r.ok()) << issues(r);
  const feed::FeedOptions f = feed_options(r.config);
  EXPECT_EQ(f.endpoint(venues::kUpbit).connect_timeout, std::chrono::milliseconds(1234));
  EXPECT_EQ(f.endpoint(venues::kBinance).connect_timeout,
            std::chrono::milliseconds(r.config.venue(venues::kBinance).connect_timeout_ms));
}

}  // namespace
}  // namespace xarb::app
