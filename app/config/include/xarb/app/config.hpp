#pragma once

// The engine's configuration: one TOML file loaded into one Config. The default of every setting
// is written once: a setting a stage's parameter struct also has (signal::StrategyParams,
// feed::FeedOptions, exec::RestVenueOptions) takes that struct's default, the others are the
// member initializers below. The loader only overrides what the file says.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <xarb/core/decimal.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/wait.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/feed/book_keeper.hpp>
#include <xarb/feed/feed_stage.hpp>
#include <xarb/settings/issue.hpp>
#include <xarb/signal/params.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

enum class Mode : std::uint8_t { paper, live };
enum class FxSource : std::uint8_t { book, fixed };
// The signal's own enums, so that the config and the strategy name them once.
using FxSide = signal::FxSide;
using Baseline = signal::BaselineMode;
enum class HotStage : std::uint8_t { feed, signal, exec };

// The stages' own defaults, in the config's units.
namespace defaults {
inline constexpr signal::StrategyParams kStrategy{};
[[nodiscard]] inline const feed::FeedOptions& feed() {
  static const feed::FeedOptions options;
  return options;
}
[[nodiscard]] inline const exec::RestVenueOptions& rest() {
  static const exec::RestVenueOptions options;
  return options;
}
[[nodiscard]] constexpr std::int64_t ms(std::int64_t ns) noexcept { return ns / 1'000'000; }
[[nodiscard]] constexpr std::int64_t s(std::int64_t ns) noexcept { return ns / 1'000'000'000; }
}  // namespace defaults

struct VenueConfig {
  std::string ws_url;
  std::string rest_url;
  std::string ca_file;   // PEM bundle to verify the venue; empty: the system trust store
  std::string key_file;  // 0600 file with the API key and secret; environment variables win
  double taker_fee_bps = 0.0;
  std::int64_t connect_timeout_ms = defaults::rest().connect_timeout.count();
  std::int64_t request_timeout_ms = defaults::rest().request_timeout.count();
  std::int64_t recv_window_ms = defaults::rest().recv_window_ms;  // Binance signed requests only
  // Open notional (KRW) of the positions with a leg on this venue; 0: no limit of its own.
  std::int64_t max_exposure_krw = 0;
  // Live: fills pushed by the venue's private stream (where the venue has one); false: every
  // working order is settled by queries. Its URL: private_ws_url, or the venue's private path
  // on ws_url's host. Binance's is on a host of its own (the WebSocket API's), its default;
  // a file that points ws_url elsewhere (a simulator) moves it there too unless it names one.
  bool private_stream = defaults::rest().private_stream;
  std::string private_ws_url{};  // (an initializer: the designated defaults below may omit it)
  // Live: orders, queries and cancels over REST, or over the venue's WebSocket API on the
  // private stream's connection (Binance; REST whenever that connection is down).
  exec::OrderEntry order_entry = exec::OrderEntry::rest;
  // Its market data: the stream its books are built from, one of its registry row's books
  // (the first by default), and the text keep-alive of its websocket (venues that need one).
  std::string book{};
  std::int64_t ping_ms = 0;
  // Traded: a venue the registry turns on by default unless its section says enabled = false,
  // any other when the file has its section.
  bool enabled = false;
  friend bool operator==(const VenueConfig&, const VenueConfig&) = default;
};

// A venue's section before the file says anything: its registry row's URLs and fee.
[[nodiscard]] VenueConfig venue_defaults(Venue v);

struct SymbolConfig {
  std::string base;  // "BTC"
  // Its market on each traded venue, by index(Venue), under the key its registry row names
  // (upbit_market, binance_symbol, ...); default the row's prefix + base + suffix ("KRW-BTC",
  // "BTCUSDT"). Empty on a venue the config does not trade.
  std::array<std::string, kMaxVenues> markets{};
  Decimal trade_qty;         // base units per entry (required)
  Decimal max_position_qty;  // total open base units; default 5 x trade_qty
  [[nodiscard]] const std::string& market(Venue v) const { return markets[index(v)]; }
  [[nodiscard]] std::string& market(Venue v) { return markets[index(v)]; }
  friend bool operator==(const SymbolConfig&, const SymbolConfig&) = default;
};

struct FxConfig {
  FxSource source = FxSource::book;  // the FX venue's book of `market`, or a fixed rate
  std::string venue;  // whose book gives the rate; empty: the first KRW venue traded
  std::string market = "KRW-USDT";
  FxSide side = defaults::kStrategy.fx.side;
  Decimal fixed_rate;  // KRW per USDT, only with source = "fixed"
  std::int64_t max_age_ms = defaults::ms(defaults::kStrategy.fx.max_age_ns);
  friend bool operator==(const FxConfig&, const FxConfig&) = default;
};

struct StrategyConfig {
  static constexpr const signal::StrategyParams& kDefaults = defaults::kStrategy;
  Baseline baseline = kDefaults.baseline;
  double ewma_half_life_s = static_cast<double>(kDefaults.ewma_half_life_ns) / 1e9;
  bool kimchi = kDefaults.kimchi;                      // sell on Upbit, buy on Binance
  bool reverse = kDefaults.reverse;                    // buy on Upbit, sell on Binance
  double entry_bps = kDefaults.entry_bps;              // net edge over the baseline needed to enter
  double take_profit_bps = kDefaults.take_profit_bps;  // pair PnL, bps of notional
  double stop_loss_bps = kDefaults.stop_loss_bps;
  double reversal_bps = kDefaults.reversal_bps;  // exit when the premium crosses back through it
  std::int64_t timeout_s = defaults::s(kDefaults.timeout_ns);
  std::int64_t cooldown_s = defaults::s(kDefaults.cooldown_ns);
  int max_open_per_symbol = kDefaults.max_open_per_symbol;
  int max_open_total = kDefaults.max_open_total;
  int clips = kDefaults.clips;  // split an entry into this many orders
  // Executable depth needed, as a multiple of the trade size.
  double min_depth_ratio = kDefaults.min_depth_ratio;
  double slippage_bps = kDefaults.slippage_bps;  // limit price beyond the VWAP
  std::int64_t max_book_age_ms = defaults::ms(kDefaults.max_book_age_ns);
  std::int64_t exit_max_book_age_ms = defaults::ms(kDefaults.exit_max_book_age_ns);
  std::int64_t max_clock_skew_ms = defaults::ms(kDefaults.max_clock_skew_ns);
  // The pairs traded, by name ("upbit-bithumb"); empty: every pair of the configured venues.
  std::vector<std::string> pairs;
  friend bool operator==(const StrategyConfig&, const StrategyConfig&) = default;
};

// Money limits are whole won (KRW has no smaller unit in trading).
struct RiskConfig {
  static constexpr const signal::RiskParams& kDefaults = defaults::kStrategy.risk;
  bool kill_switch = kDefaults.kill_switch;
  std::int64_t daily_loss_limit_krw = kDefaults.daily_loss_limit_krw;
  int daily_reset_hour_utc = kDefaults.daily_reset_hour_utc;  // midnight in Seoul
  std::int64_t max_total_exposure_krw = kDefaults.max_total_exposure_krw;
  std::int64_t max_symbol_exposure_krw = kDefaults.max_symbol_exposure_krw;
  std::int64_t max_notional_krw = kDefaults.max_notional_krw;
  std::int64_t min_notional_krw = kDefaults.min_notional_krw;
  int max_consecutive_failures = kDefaults.max_consecutive_failures;
  std::int64_t halt_cooldown_s = defaults::s(kDefaults.halt_cooldown_ns);
  // Share of each venue's rate budget kept for hedges.
  double hedge_reserve_ratio = exec::ExecParams{}.hedge_reserve_ratio;
  // Live: every this often the venues' balances are read and compared with the ledger; a
  // difference that persists (orders in flight settle within seconds) stops entries. 0: never.
  std::int64_t reconcile_every_s = 30;
  // [risk.max_pair_exposure_krw]: a pair's open notional (KRW) by pair name ("upbit-bithumb");
  // a pair not listed has no limit of its own.
  std::map<std::string, std::int64_t> max_pair_exposure_krw;
  friend bool operator==(const RiskConfig&, const RiskConfig&) = default;
};

struct ThreadConfig {
  std::string name;
  std::vector<HotStage> stages;
  int cpu = -1;  // -1: not pinned
  WaitStrategy wait = WaitStrategy::automatic;
  friend bool operator==(const ThreadConfig&, const ThreadConfig&) = default;
};

struct ThreadsConfig {
  // One hot thread hosting every stage: the right layout on 2 cores (docs/design.md).
  std::vector<ThreadConfig> hot = {
      {"hot", {HotStage::feed, HotStage::signal, HotStage::exec}, -1, WaitStrategy::automatic}};
  int ops_cpu = -1;
  friend bool operator==(const ThreadsConfig&, const ThreadsConfig&) = default;
};

struct FeedConfig {
  std::int64_t watchdog_ms = defaults::feed().ws.watchdog.count();
  std::int64_t reconnect_min_ms = defaults::feed().ws.reconnect_min.count();
  std::int64_t reconnect_max_ms = defaults::feed().ws.reconnect_max.count();
  friend bool operator==(const FeedConfig&, const FeedConfig&) = default;
};

struct JournalConfig {
  std::string path = "xarb-journal.sqlite";
  // How long a write waits for a lock another process holds on the journal before it fails
  // (a failed write stops entries).
  std::int64_t busy_timeout_ms = 2'000;
  friend bool operator==(const JournalConfig&, const JournalConfig&) = default;
};

struct MetricsConfig {
  std::string bind = "127.0.0.1";
  int port = 0;  // 0: no /metrics endpoint
  friend bool operator==(const MetricsConfig&, const MetricsConfig&) = default;
};

// The structured log of `xarb run`: JSON lines of every ops event and notice (spdlog).
struct LogConfig {
  bool json = true;
  std::string path;           // empty: events.jsonl in the run's report directory (--report-dir)
  std::int64_t max_mib = 64;  // the file is rotated at this size
  std::int64_t files = 5;     // rotated files kept beside it (events.jsonl.1, ...)
  friend bool operator==(const LogConfig&, const LogConfig&) = default;
};

// Live control (`xarb ctl`): a Unix socket, mode 0600.
struct ControlConfig {
  bool enabled = true;
  std::string socket;  // empty: xarb.sock in the run's report directory (--report-dir)
  friend bool operator==(const ControlConfig&, const ControlConfig&) = default;
};

// Amounts by venue name ("upbit"), then asset ("BTC", "KRW", "USDT").
using VenueAssetAmounts = std::map<std::string, std::map<std::string, Decimal>>;

// The amount `amounts` lists for `venue` and `asset`, or nullopt.
[[nodiscard]] std::optional<Decimal> find_amount(const VenueAssetAmounts& amounts, Venue venue,
                                                 std::string_view asset);

// Inventory per venue and asset (`xarb inventory`, docs/design.md: Operating it).
struct InventoryConfig {
  // [inventory.floor.<venue>]: an entry that would leave less than this of an asset it spends
  // there is refused (inventory_floor). An asset not listed has no floor (0).
  VenueAssetAmounts floor;
  // Entry threshold relief (bps) for the direction that refills what the other one lacks, while
  // that one cannot take another clip; the threshold never drops under a zero edge.
  double prefer_bps = 0.0;
  // [inventory.withdrawal_fee.<venue>]: what the venue charges to send an asset out, for the
  // rebalance plan. An asset not listed is planned with no fee, and the plan says so.
  VenueAssetAmounts withdrawal_fee;
  // The plan tops up a venue holding less than this share of its even split of an asset (or
  // under its floor).
  double rebalance_at = 0.5;
  // A move whose withdrawal fee is more than this share of it is left out of the plan.
  double max_fee_share = 0.01;
  // [inventory.paper_balance.<venue>]: what a paper run starts with (default: ten times each
  // symbol's max_position_qty, 1,000,000,000 KRW, 1,000,000 USDT).
  VenueAssetAmounts paper_balance;
  friend bool operator==(const InventoryConfig&, const InventoryConfig&) = default;
};

// How much a notice of the ops side matters: info (told in the log), warn (degraded, look
// soon), page (money may be at risk now).
enum class Severity : std::uint8_t { info, warn, page };
[[nodiscard]] std::string_view to_string(Severity s) noexcept;

// One alert channel: its section present turns it on. Secrets never come from the file: the
// Telegram bot token from XARB_TELEGRAM_BOT_TOKEN, the Slack webhook URL from
// XARB_SLACK_WEBHOOK_URL, the generic webhook's URL from XARB_ALERT_WEBHOOK_URL (and an optional
// bearer token from XARB_ALERT_WEBHOOK_TOKEN), or each from `secret_file` (mode 0600; the
// secret on its first line, the webhook's bearer token on its second).
struct AlertChannelConfig {
  bool enabled = false;
  std::string api_url;  // Telegram: the Bot API's base URL
  std::string chat_id;  // Telegram: where messages go
  std::string secret_file;
  friend bool operator==(const AlertChannelConfig&, const AlertChannelConfig&) = default;
};

// What the ops side tells an operator about, and where.
struct AlertsConfig {
  std::int64_t stream_down_after_s = 60;  // a private stream down this long is a notice
  Severity min_severity = Severity::warn;  // notices under it are logged, not sent
  std::int64_t dedup_s = 300;        // the same notice (kind and key) again within it: dropped
  std::int64_t max_per_minute = 20;  // per channel; the rest wait their turn
  std::int64_t retries = 5;          // attempts after the first, with backoff (1 s doubling)
  std::int64_t timeout_ms = 5'000;   // connect, and request written -> answer read
  std::string ca_file;               // trust store for the channels (empty: the system's)
  AlertChannelConfig telegram{
      .enabled = false, .api_url = "https://api.telegram.org", .chat_id = {}, .secret_file = {}};
  AlertChannelConfig slack;
  AlertChannelConfig webhook;
  friend bool operator==(const AlertsConfig&, const AlertsConfig&) = default;
};

struct Config {
  Mode mode = Mode::paper;
  // [venues.<name>], by index(Venue): every row of the registry, those enabled traded.
  std::array<VenueConfig, kMaxVenues> venue_sections = [] {
    std::array<VenueConfig, kMaxVenues> all{};
    for (const venues::VenueInfo& v : venues::kRegistry) all[index(v.id)] = venue_defaults(v.id);
    return all;
  }();
  std::vector<SymbolConfig> symbols;
  FxConfig fx;
  StrategyConfig strategy;
  RiskConfig risk;
  FeedConfig feed;
  ThreadsConfig threads;
  JournalConfig journal;
  MetricsConfig metrics;
  LogConfig log;
  AlertsConfig alerts;
  ControlConfig control;
  InventoryConfig inventory;
  friend bool operator==(const Config&, const Config&) = default;

  // The venues this config trades, in id order, and each one's section.
  [[nodiscard]] std::vector<Venue> venues() const;
  [[nodiscard]] bool trades(Venue v) const noexcept {
    return valid(v) && venue_sections[index(v)].enabled;
  }
  [[nodiscard]] const VenueConfig& venue(Venue v) const { return venue_sections.at(index(v)); }
  // The venue whose book gives the FX rate: fx.venue, else the first KRW venue traded
  // (kNoVenue: none).
  [[nodiscard]] Venue fx_venue() const noexcept;
  [[nodiscard]] VenueConfig& venue(Venue v) { return venue_sections.at(index(v)); }
  // The pairs its venues make, each symbol traded on every pair whose venues both list it: every
  // KRW venue against every venue quoted in another currency (priced through the FX rate), first
  // in venue id order, then the KRW venues against each other (no FX). With Bithumb:
  // upbit-binance, bithumb-binance, upbit-bithumb.
  [[nodiscard]] std::vector<VenuePair> venue_pairs() const;
  // The pairs it trades: venue_pairs(), or those of them [strategy] pairs names.
  [[nodiscard]] std::vector<VenuePair> pairs() const;
};

// "upbit-binance": a pair as config, report and metrics name it.
[[nodiscard]] std::string to_string(VenuePair pair);

// One problem found in a config file, located by file, line, column and dotted key.
using ConfigIssue = settings::Issue;

struct LoadResult {
  Config config;
  std::vector<ConfigIssue> errors;  // every problem found, in file order; empty means valid

  [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

// Reads and validates a config file. Never throws for bad input: every syntax error, unknown
// key, wrong type, out-of-range value and inconsistent combination is returned as an issue.
// Relative paths inside the file (ca_file, key_file, journal.path) are taken relative to the
// file's directory. Start-up only; allocates.
[[nodiscard]] LoadResult load_config(const std::filesystem::path& path);

// Same, from text; `source_name` names it in issues and `base_dir` anchors relative paths.
[[nodiscard]] LoadResult parse_config(std::string_view text, std::string_view source_name,
                                      const std::filesystem::path& base_dir = {});

// The effective config as TOML that load_config() reads back to an equal Config, with a header
// comment saying which credentials are set in the environment (their values are never written).
[[nodiscard]] std::string dump_config(const Config& config);

// The symbol map of the configured pairs plus the FX instrument.
[[nodiscard]] SymbolMap build_symbol_map(const Config& config);

// The signal stage's parameters from a validated config; `symbols` from build_symbol_map.
[[nodiscard]] signal::StrategyParams strategy_params(const Config& config, const SymbolMap& symbols);

// Environment variables that hold each venue's credentials.
struct CredentialNames {
  std::string_view key;
  std::string_view secret;
};
// From the venue's registry row; empty names for a venue no row has.
[[nodiscard]] constexpr CredentialNames credential_env(Venue v) noexcept {
  const venues::VenueInfo* i = venues::info(v);
  if (i == nullptr) return {};
  return {i->defaults.key_env, i->defaults.secret_env};
}

[[nodiscard]] std::string_view to_string(Mode m) noexcept;
[[nodiscard]] std::string_view to_string(FxSource s) noexcept;
[[nodiscard]] std::string_view to_string(FxSide s) noexcept;
[[nodiscard]] std::string_view to_string(Baseline b) noexcept;
[[nodiscard]] std::string_view to_string(HotStage s) noexcept;

}  // namespace xarb::app
