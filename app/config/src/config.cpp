#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <utility>

#include <xarb/settings/reader.hpp>

#include <xarb/app/config.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {
namespace {

namespace fs = std::filesystem;
using settings::Choice;
using settings::Context;
using settings::TableReader;
using settings::list_of;
using settings::name_of;
using settings::number_text;
using settings::type_name;

constexpr std::array<Choice<exec::OrderEntry>, 2> kOrderEntries = {
    {{"rest", exec::OrderEntry::rest}, {"ws", exec::OrderEntry::ws}}};
constexpr std::array<Choice<Mode>, 2> kModes = {{{"paper", Mode::paper}, {"live", Mode::live}}};
constexpr std::array<Choice<Severity>, 3> kSeverities = {
    {{"info", Severity::info}, {"warn", Severity::warn}, {"page", Severity::page}}};
constexpr std::array<Choice<FxSource>, 2> kFxSources = {
    {{"book", FxSource::book}, {"fixed", FxSource::fixed}}};
constexpr std::array<Choice<FxSide>, 3> kFxSides = {
    {{"mid", FxSide::mid}, {"bid", FxSide::bid}, {"ask", FxSide::ask}}};
constexpr std::array<Choice<Baseline>, 2> kBaselines = {
    {{"zero", Baseline::zero}, {"ewma", Baseline::ewma}}};
constexpr std::array<Choice<HotStage>, 3> kStages = {
    {{"feed", HotStage::feed}, {"signal", HotStage::signal}, {"exec", HotStage::exec}}};
constexpr std::array<Choice<WaitStrategy>, 4> kWaits = {
    {{"spin", WaitStrategy::spin},
     {"spin_then_park", WaitStrategy::spin_then_park},
     {"park", WaitStrategy::park},
     {"auto", WaitStrategy::automatic}}};

// A symbol into the map with its market on every venue the config lists it on.
Errc add_symbol(SymbolMap& map, const SymbolConfig& s) {
  std::array<VenueSymbol, venues::kRegistry.size()> markets{};
  for (std::size_t k = 0; k < markets.size(); ++k) {
    const Venue v = venues::kRegistry[k].id;
    markets[k] = {v, s.market(v)};
  }
  return map.add(s.base, markets);
}

bool has_scheme(std::string_view url, std::initializer_list<std::string_view> schemes) {
  return std::any_of(schemes.begin(), schemes.end(), [&](std::string_view s) {
    return url.starts_with(s) && url.size() > s.size();
  });
}

// Ten trillion won: far above any limit, far below what int64 and double hold exactly.
constexpr std::int64_t kMaxKrw = 10'000'000'000'000;
constexpr std::int64_t kWeekSeconds = std::int64_t{7} * 86'400;

// A file holding secrets: it must exist and be readable by its owner only.
void check_secret_file(Context& ctx, const std::string& key, const std::string& path) {
  if (path.empty()) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    ctx.error_at(key, "no such file: " + path);
  } else if ((st.st_mode & 077) != 0) {
    ctx.error_at(key, path + " is readable by group or others; run chmod 600 on it");
  }
}

void read_alerts(Context& ctx, TableReader& root, AlertsConfig& a) {
  const toml::table* t = root.table("alerts");
  if (t == nullptr) return;
  TableReader r(ctx, *t, "alerts");
  r.integer("stream_down_after_s", a.stream_down_after_s, 1, 86'400);
  r.choice("min_severity", a.min_severity, kSeverities);
  r.integer("dedup_s", a.dedup_s, 0, 86'400);
  r.integer("max_per_minute", a.max_per_minute, 1, 600);
  r.integer("retries", a.retries, 0, 20);
  r.integer("timeout_ms", a.timeout_ms, 100, 60'000);
  r.file_path("ca_file", a.ca_file);
  if (!a.ca_file.empty() && !fs::is_regular_file(a.ca_file)) {
    ctx.error_at("alerts.ca_file", "no such file: " + a.ca_file);
  }
  for (const auto& [name, ch] : {std::pair{"telegram", &a.telegram}, std::pair{"slack", &a.slack},
                                 std::pair{"webhook", &a.webhook}}) {
    const toml::table* ct = r.table(name);
    if (ct == nullptr) continue;
    ch->enabled = true;
    TableReader cr(ctx, *ct, r.path(name));
    if (ch == &a.telegram) {
      cr.string("api_url", ch->api_url);
      cr.string("chat_id", ch->chat_id);
      if (!has_scheme(ch->api_url, {"https://"})) {
        ctx.error_at("alerts.telegram.api_url", "must start with https://");
      }
      if (ch->chat_id.empty() && !ctx.has_issue_under("alerts.telegram")) {
        ctx.error_at("alerts.telegram.chat_id", "is required: the chat the bot writes to");
      }
    }
    cr.file_path("secret_file", ch->secret_file);
    cr.finish();
  }
  r.finish();
}

// [inventory.<name>]: a table per venue of amounts per asset, none negative.
void read_amounts(Context& ctx, TableReader& parent, std::string_view name,
                  VenueAssetAmounts& out) {
  const toml::table* t = parent.table(name);
  if (t == nullptr) return;
  TableReader vr(ctx, *t, parent.path(name));
  for (const auto& [venue_key, venue_node] : *t) {
    const std::string venue(venue_key.str());
    const toml::table* assets = vr.table(venue);
    if (assets == nullptr) continue;
    TableReader ar(ctx, *assets, vr.path(venue));
    for (const auto& [asset_key, node] : *assets) {
      const std::string asset(asset_key.str());
      Decimal amount;
      ar.decimal(asset, amount, false);
      if (amount.is_negative()) {
        ctx.error(node.source(), ar.path(asset), "must not be negative, got " + to_string(amount));
        continue;
      }
      out[venue][asset] = amount;
    }
    ar.finish();
  }
  vr.finish();
}

void read_inventory(Context& ctx, TableReader& root, InventoryConfig& inv) {
  const toml::table* t = root.table("inventory");
  if (t == nullptr) return;
  TableReader r(ctx, *t, "inventory");
  read_amounts(ctx, r, "floor", inv.floor);
  r.number("prefer_bps", inv.prefer_bps, 0.0, 1'000.0);
  read_amounts(ctx, r, "withdrawal_fee", inv.withdrawal_fee);
  r.number("rebalance_at", inv.rebalance_at, 0.0, 1.0);
  r.number("max_fee_share", inv.max_fee_share, 0.0, 1.0);
  read_amounts(ctx, r, "paper_balance", inv.paper_balance);
  r.finish();
}

void read_venue(Context& ctx, TableReader& parent, std::string_view name, VenueConfig& v) {
  const toml::table* t = parent.table(name);
  if (t == nullptr) return;
  TableReader r(ctx, *t, parent.path(name));
  v.enabled = true;  // a section names a venue to trade, unless it says otherwise
  r.boolean("enabled", v.enabled);
  const std::string default_ws_url = v.ws_url;
  r.string("ws_url", v.ws_url);
  r.string("rest_url", v.rest_url);
  r.file_path("ca_file", v.ca_file);
  r.file_path("key_file", v.key_file);
  r.number("taker_fee_bps", v.taker_fee_bps, 0.0, 100.0);
  r.integer("connect_timeout_ms", v.connect_timeout_ms, 1, 60'000);
  r.integer("request_timeout_ms", v.request_timeout_ms, 1, 60'000);
  r.integer("recv_window_ms", v.recv_window_ms, 1, 60'000);
  r.integer("max_exposure_krw", v.max_exposure_krw, 0, kMaxKrw);
  r.boolean("private_stream", v.private_stream);
  // A venue whose private stream has a host of its own: with ws_url pointed elsewhere (a
  // simulator, a proxy) it follows ws_url's host unless the file names it. Never the real
  // venue's by default beside a simulator's market data.
  if (v.ws_url != default_ws_url && !t->contains("private_ws_url")) v.private_ws_url.clear();
  r.string("private_ws_url", v.private_ws_url);
  r.choice("order_entry", v.order_entry, kOrderEntries);
  if (const venues::VenueInfo* row = venues::info(venues::from_name(name).value_or(kNoVenue))) {
    r.one_of("book", v.book, row->defaults.books);
    // A venue that pings its clients itself needs no keep-alive: the key is unknown there.
    if (row->defaults.ping_ms > 0) r.integer("ping_ms", v.ping_ms, 100, 110'000);  // idle close ~120 s
  }
  r.finish();
}

void read_symbols(Context& ctx, TableReader& root, Config& c) {
  const toml::array* arr = root.array("symbols", "an array of tables ([[symbols]])");
  if (arr == nullptr) return;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& node = (*arr)[i];
    const std::string prefix = "symbols[" + std::to_string(i) + "]";
    if (!node.is_table()) {
      ctx.error(node.source(), prefix, "expected a table ([[symbols]]), got " + type_name(node));
      continue;
    }
    SymbolConfig s;
    TableReader r(ctx, *node.as_table(), prefix);
    r.string("base", s.base);
    for (const venues::VenueInfo& v : venues::kRegistry) {
      r.string(v.defaults.market_key, s.market(v.id));
      if (!s.market(v.id).empty() && !c.trades(v.id)) {
        ctx.error_at(prefix + "." + std::string(v.defaults.market_key),
                     "names a market on " + std::string(v.name) + ", which this config does not "
                     "trade (no [venues." + std::string(v.name) + "] section)");
      }
    }
    r.decimal("trade_qty", s.trade_qty);
    r.decimal("max_position_qty", s.max_position_qty);
    r.finish();
    ctx.where[prefix] = node.source();
    if (s.base.empty()) {
      ctx.error(node.source(), prefix + ".base", "is required (the asset, such as \"BTC\")");
    }
    if (s.trade_qty.is_zero() && !ctx.where.contains(prefix + ".trade_qty")) {
      ctx.error(node.source(), prefix + ".trade_qty",
                "is required (base units per entry, such as \"0.01\")");
    }
    for (const venues::VenueInfo& v : venues::kRegistry) {
      if (s.market(v.id).empty() && c.trades(v.id)) {
        s.market(v.id) = venues::default_market(v.id, s.base);
      }
    }
    if (s.max_position_qty.is_zero()) {
      // The default is five entries' worth; a trade_qty too large for that is refused rather
      // than left with a limit of 0.
      if (mul(s.trade_qty, Decimal::from_mantissa(5 * Decimal::kOne), Rounding::down,
              s.max_position_qty) != Errc::ok) {
        s.max_position_qty = Decimal{};
        ctx.error_at(prefix + ".trade_qty",
                     "too large: five times it (the default max_position_qty) does not fit; "
                     "set max_position_qty");
      }
    } else if (s.max_position_qty < s.trade_qty) {
      ctx.error_at(prefix + ".max_position_qty", "must be at least trade_qty");
    }
    c.symbols.push_back(std::move(s));
  }
}

void read_threads(Context& ctx, TableReader& root, ThreadsConfig& t) {
  const toml::table* table = root.table("threads");
  if (table == nullptr) return;
  TableReader r(ctx, *table, "threads");
  r.integer("ops_cpu", t.ops_cpu, -1, 1023);
  if (const toml::array* arr = r.array("hot", "an array of tables ([[threads.hot]])")) {
    t.hot.clear();
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& node = (*arr)[i];
      const std::string prefix = "threads.hot[" + std::to_string(i) + "]";
      if (!node.is_table()) {
        ctx.error(node.source(), prefix,
                  "expected a table ([[threads.hot]]), got " + type_name(node));
        continue;
      }
      ThreadConfig th;
      TableReader tr(ctx, *node.as_table(), prefix);
      tr.string("name", th.name);
      tr.integer("cpu", th.cpu, -1, 1023);
      tr.choice("wait", th.wait, kWaits);
      if (const toml::array* stages = tr.array("stages", "an array of stage names")) {
        for (const toml::node& s : *stages) {
          const auto name = s.value<std::string>();
          const auto* found = std::find_if(kStages.begin(), kStages.end(), [&](const auto& c) {
            return s.is_string() && name && c.name == *name;
          });
          if (found == kStages.end()) {
            ctx.error(s.source(), prefix + ".stages",
                      "each stage must be one of " + list_of(kStages));
          } else {
            th.stages.push_back(found->value);
          }
        }
      }
      tr.finish();
      ctx.where[prefix] = node.source();
      if (th.name.empty()) th.name = "hot" + std::to_string(i);
      t.hot.push_back(std::move(th));
    }
  }
  r.finish();
}

// Each venue traded: TLS URLs, its order entry, its files; the alert channels' files.
void check_venues(Context& ctx, const Config& c) {
  for (const Venue id : c.venues()) {
    const std::string name = "venues." + std::string(to_string(id));
    const VenueConfig* v = &c.venue(id);
    // TLS always: the local simulator serves TLS too, with a CA file to verify it.
    if (!has_scheme(v->ws_url, {"wss://"})) {
      ctx.error_at(name + ".ws_url",
                   "must start with wss:// (TLS; point ca_file at a local "
                   "server's certificate to test against it)");
    }
    if (!v->private_ws_url.empty() && !has_scheme(v->private_ws_url, {"wss://"})) {
      ctx.error_at(name + ".private_ws_url", "must start with wss:// (TLS)");
    }
    const venues::VenueInfo* row = venues::info(id);  // every traded venue has its row
    if (v->order_entry == exec::OrderEntry::ws && (row == nullptr || !row->defaults.ws_order_entry)) {
      ctx.error_at(name + ".order_entry",
                   "\"ws\" needs a WebSocket API that takes orders; " + std::string(to_string(id)) +
                       " has none");
    }
    if (v->order_entry == exec::OrderEntry::ws && !v->private_stream) {
      ctx.error_at(name + ".order_entry",
                   "\"ws\" sends orders on the private stream's connection: private_stream must "
                   "be true");
    }
    if (!has_scheme(v->rest_url, {"https://"})) {
      ctx.error_at(name + ".rest_url",
                   "must start with https:// (TLS; point ca_file at a local "
                   "server's certificate to test against it)");
    }
    if (!v->ca_file.empty() && !fs::is_regular_file(v->ca_file)) {
      ctx.error_at(name + ".ca_file", "no such file: " + v->ca_file);
    }
    check_secret_file(ctx, name + ".key_file", v->key_file);
  }
  for (const auto& [name, ch] : {std::pair{"alerts.telegram", &c.alerts.telegram},
                                 std::pair{"alerts.slack", &c.alerts.slack},
                                 std::pair{"alerts.webhook", &c.alerts.webhook}}) {
    if (ch->enabled) check_secret_file(ctx, std::string(name) + ".secret_file", ch->secret_file);
  }
}

// The symbols: at least one, within the instrument slots, each market unique and not the FX market.
void check_symbols(Context& ctx, const Config& c) {
  if (c.symbols.empty() && !ctx.has_issue_under("symbols")) {
    ctx.error_at("symbols", "at least one [[symbols]] entry is required");
  }
  // The FX instrument takes one of the kMaxInstruments slots.
  if (c.symbols.size() > kMaxInstruments - 1) {
    ctx.error_at("symbols", std::to_string(c.symbols.size()) + " [[symbols]] entries: at most " +
                                std::to_string(kMaxInstruments - 1) +
                                " (one more instrument is the FX market)");
  }
  SymbolMap map;
  for (std::size_t i = 0; i < c.symbols.size() && i < kMaxInstruments - 1; ++i) {
    const SymbolConfig& s = c.symbols[i];
    if (s.base.empty()) continue;
    if (add_symbol(map, s) != Errc::ok) {
      ctx.error_at("symbols[" + std::to_string(i) + "]",
                   "\"" + s.base +
                       "\" repeats a symbol or market already configured, or a "
                       "name is longer than " +
                       std::to_string(SymbolText::kCapacity) + " characters");
    }
    if (c.trades(c.fx_venue()) && s.market(c.fx_venue()) == c.fx.market) {
      ctx.error_at("symbols[" + std::to_string(i) + "]",
                   "market " + c.fx.market + " is the FX instrument (fx.market)");
    }
  }
}

// Two venues at least, and an FX rate that can be had.
void check_fx(Context& ctx, const Config& c) {
  if (c.venues().size() < 2 && !ctx.has_issue_under("venues")) {
    std::string on;  // the venues traded without a section of their own
    for (const venues::VenueInfo& v : venues::kRegistry) {
      if (v.defaults.on_by_default) on += (on.empty() ? "" : " and ") + std::string(v.name);
    }
    ctx.error_at("venues", "trades " + std::to_string(c.venues().size()) +
                               " venue(s): a pair needs two ([venues.<name>] sections; " + on +
                               " are on unless enabled = false)");
  }
  if (!c.fx.venue.empty() && !c.trades(c.fx_venue())) {
    ctx.error_at("fx.venue", "\"" + c.fx.venue + "\" is not a venue this config trades");
  } else if (c.fx_venue() == kNoVenue && c.fx.source == FxSource::book) {
    ctx.error_at("fx.source", "no KRW venue is traded to read the rate from; set fx.venue or "
                              "source = \"fixed\"");
  }
  if (c.fx.source == FxSource::fixed && c.fx.fixed_rate.is_zero()) {
    ctx.error_at("fx.source", "source = \"fixed\" needs fx.fixed_rate (KRW per USDT)");
  }
  if (c.fx.source == FxSource::book && !c.fx.fixed_rate.is_zero()) {
    ctx.error_at("fx.fixed_rate", "is read only with source = \"fixed\"; remove it or set source");
  }
  if (c.mode == Mode::live && c.fx.source == FxSource::fixed) {
    ctx.error_at("fx.source", "live mode needs the live rate: use source = \"book\"");
  }
}

// The strategy's and the risk limits' keys against each other.
void check_strategy(Context& ctx, const Config& c) {
  const StrategyConfig& st = c.strategy;
  if (!st.kimchi && !st.reverse) {
    ctx.error_at("strategy.kimchi", "both directions are disabled: enable kimchi or reverse");
  }
  if (st.max_open_per_symbol > st.max_open_total) {
    ctx.error_at("strategy.max_open_per_symbol", "must not exceed strategy.max_open_total (" +
                                                     std::to_string(st.max_open_total) + ")");
  }
  if (!st.pairs.empty()) {
    const std::vector<VenuePair> made = c.venue_pairs();
    std::string names;
    for (const VenuePair p : made) names += (names.empty() ? "" : ", ") + to_string(p);
    for (std::size_t k = 0; k < st.pairs.size(); ++k) {
      const std::string key = "strategy.pairs[" + std::to_string(k) + "]";
      const bool known = std::any_of(made.begin(), made.end(),
                                     [&](VenuePair p) { return to_string(p) == st.pairs[k]; });
      if (!known) {
        ctx.error_at(
            key, "\"" + st.pairs[k] + "\" is not a pair of this config's venues (" + names + ")");
      } else if (std::find(st.pairs.begin(), st.pairs.begin() + static_cast<std::ptrdiff_t>(k),
                           st.pairs[k]) != st.pairs.begin() + static_cast<std::ptrdiff_t>(k)) {
        ctx.error_at(key, "\"" + st.pairs[k] + "\" is listed twice");
      }
    }
  }
  if (st.exit_max_book_age_ms < st.max_book_age_ms) {
    ctx.error_at("strategy.exit_max_book_age_ms",
                 "must be at least strategy.max_book_age_ms: exits may not be stricter than "
                 "entries");
  }

  const RiskConfig& rk = c.risk;
  if (rk.min_notional_krw >= rk.max_notional_krw) {
    ctx.error_at("risk.min_notional_krw", "must be below risk.max_notional_krw");
  }
  if (rk.max_notional_krw > rk.max_symbol_exposure_krw) {
    ctx.error_at("risk.max_notional_krw", "must not exceed risk.max_symbol_exposure_krw");
  }
  if (rk.max_symbol_exposure_krw > rk.max_total_exposure_krw) {
    ctx.error_at("risk.max_symbol_exposure_krw", "must not exceed risk.max_total_exposure_krw");
  }
  // A pair limit names a pair this config makes.
  if (!rk.max_pair_exposure_krw.empty()) {
    const std::vector<VenuePair> made = c.venue_pairs();
    std::string names;
    for (const VenuePair p : made) names += (names.empty() ? "" : ", ") + to_string(p);
    for (const auto& [name, limit] : rk.max_pair_exposure_krw) {
      const bool known =
          std::any_of(made.begin(), made.end(), [&](VenuePair p) { return to_string(p) == name; });
      if (!known) {
        ctx.error_at("risk.max_pair_exposure_krw." + name,
                     "\"" + name + "\" is not a pair of this config's venues (" + names + ")");
      }
    }
  }
}

// Inventory tables name this config's venues and the assets each holds: its quote asset and
// the symbols' bases.
void check_inventory(Context& ctx, const Config& c) {
  for (const auto& [section, amounts] :
       {std::pair{"inventory.floor", &c.inventory.floor},
        std::pair{"inventory.withdrawal_fee", &c.inventory.withdrawal_fee},
        std::pair{"inventory.paper_balance", &c.inventory.paper_balance}}) {
    const std::vector<Venue> traded = c.venues();
    std::string venue_names;
    for (const Venue v : traded)
      venue_names += (venue_names.empty() ? "" : ", ") + std::string(xarb::to_string(v));
    for (const auto& [venue, assets] : *amounts) {
      const std::string key = std::string(section) + "." + venue;
      const auto v = std::find_if(traded.begin(), traded.end(),
                                  [&](Venue x) { return xarb::to_string(x) == venue; });
      if (v == traded.end()) {
        ctx.error_at(key, "\"" + venue + "\" is not a venue of this config (" + venue_names + ")");
        continue;
      }
      std::string asset_names(venues::quote_asset(*v));
      for (const SymbolConfig& sc : c.symbols) asset_names += ", " + sc.base;
      for (const auto& [asset, amount] : assets) {
        const bool held = asset == venues::quote_asset(*v) ||
                          std::any_of(c.symbols.begin(), c.symbols.end(),
                                      [&](const SymbolConfig& sc) { return sc.base == asset; });
        if (!held) {
          ctx.error_at(key + "." + asset, "\"" + asset + "\" is not an asset " + venue +
                                              " holds for this config (" + asset_names + ")");
        }
      }
    }
  }
}

// Threads: every stage hosted exactly once; a CPU shared only by parking threads.
void check_threads(Context& ctx, const Config& c) {
  std::map<HotStage, std::string> host;
  std::set<std::string> names;
  for (std::size_t i = 0; i < c.threads.hot.size(); ++i) {
    const ThreadConfig& th = c.threads.hot[i];
    const std::string key = "threads.hot[" + std::to_string(i) + "]";
    if (!names.insert(th.name).second) {
      ctx.error_at(key, "thread name \"" + th.name + "\" is used twice");
    }
    if (th.stages.empty()) ctx.error_at(key, "hosts no stage; list at least one in stages");
    for (const HotStage s : th.stages) {
      const auto [it, inserted] = host.emplace(s, th.name);
      if (!inserted) {
        ctx.error_at(key, "stage \"" + std::string(to_string(s)) + "\" is hosted by both \"" +
                              it->second + "\" and \"" + th.name + "\"");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      const ThreadConfig& other = c.threads.hot[j];
      if (th.cpu >= 0 && th.cpu == other.cpu &&
          (th.wait != WaitStrategy::park || other.wait != WaitStrategy::park)) {
        ctx.error_at(key, "shares CPU " + std::to_string(th.cpu) + " with \"" + other.name +
                              "\"; only threads with wait = \"park\" may share a CPU");
      }
    }
    if (th.cpu >= 0 && th.cpu == c.threads.ops_cpu && th.wait != WaitStrategy::park) {
      ctx.error_at(key, "shares CPU " + std::to_string(th.cpu) +
                            " with the ops thread (threads.ops_cpu); a hot thread that spins "
                            "must have its CPU to itself");
    }
  }
  for (const auto& [name, stage] : kStages) {
    if (!host.contains(stage) && !ctx.has_issue_under("threads.hot")) {
      ctx.error_at("threads.hot",
                   "stage \"" + std::string(name) + "\" is not hosted by any thread");
    }
  }
}

// Checks that involve several keys, after every key was read.
void cross_check(Context& ctx, const Config& c) {
  check_venues(ctx, c);
  check_symbols(ctx, c);
  check_fx(ctx, c);
  check_strategy(ctx, c);
  check_inventory(ctx, c);
  check_threads(ctx, c);
}

void read_strategy(Context& ctx, TableReader& r, StrategyConfig& out) {
  if (const toml::table* t = r.table("strategy")) {
    StrategyConfig& s = out;
    TableReader sr(ctx, *t, "strategy");
    sr.choice("baseline", s.baseline, kBaselines);
    sr.number("ewma_half_life_s", s.ewma_half_life_s, 0.0, 86'400.0 * 30, true);
    sr.boolean("kimchi", s.kimchi);
    sr.boolean("reverse", s.reverse);
    sr.number("entry_bps", s.entry_bps, 0.0, 10'000.0, true);
    sr.number("take_profit_bps", s.take_profit_bps, 0.0, 10'000.0, true);
    sr.number("stop_loss_bps", s.stop_loss_bps, 0.0, 10'000.0, true);
    sr.number("reversal_bps", s.reversal_bps, -10'000.0, 10'000.0);
    sr.integer("timeout_s", s.timeout_s, 1, kWeekSeconds);
    sr.integer("cooldown_s", s.cooldown_s, 0, 86'400);
    sr.integer("max_open_per_symbol", s.max_open_per_symbol, 1, 1'000);
    sr.integer("max_open_total", s.max_open_total, 1, 10'000);
    sr.integer("clips", s.clips, 1, 100);
    sr.number("min_depth_ratio", s.min_depth_ratio, 0.0, 100.0, true);
    sr.number("slippage_bps", s.slippage_bps, 0.0, 1'000.0);
    sr.integer("max_book_age_ms", s.max_book_age_ms, 1, 3'600'000);
    sr.integer("exit_max_book_age_ms", s.exit_max_book_age_ms, 1, 3'600'000);
    sr.integer("max_clock_skew_ms", s.max_clock_skew_ms, 1, 3'600'000);
    if (const toml::array* pairs = sr.array("pairs", "an array of pair names")) {
      for (const toml::node& p : *pairs) {
        const std::string key = "strategy.pairs[" + std::to_string(s.pairs.size()) + "]";
        ctx.where[key] = p.source();
        const auto name = p.value<std::string>();
        if (!p.is_string() || !name) {
          ctx.error(p.source(), key,
                    "must be a pair name such as \"" + to_string(venues::kLegacyPair) + "\"");
          continue;
        }
        s.pairs.push_back(*name);
      }
    }
    sr.finish();
  }
}

void read_risk(Context& ctx, TableReader& r, RiskConfig& out) {
  if (const toml::table* t = r.table("risk")) {
    RiskConfig& k = out;
    TableReader kr(ctx, *t, "risk");
    kr.boolean("kill_switch", k.kill_switch);
    kr.integer("daily_loss_limit_krw", k.daily_loss_limit_krw, 1, kMaxKrw);
    kr.integer("daily_reset_hour_utc", k.daily_reset_hour_utc, 0, 23);
    kr.integer("max_total_exposure_krw", k.max_total_exposure_krw, 1, kMaxKrw);
    kr.integer("max_symbol_exposure_krw", k.max_symbol_exposure_krw, 1, kMaxKrw);
    kr.integer("max_notional_krw", k.max_notional_krw, 1, kMaxKrw);
    kr.integer("min_notional_krw", k.min_notional_krw, 5'000, kMaxKrw);  // Upbit's KRW minimum
    kr.integer("max_consecutive_failures", k.max_consecutive_failures, 1, 1'000);
    kr.integer("halt_cooldown_s", k.halt_cooldown_s, 0, kWeekSeconds);
    kr.number("hedge_reserve_ratio", k.hedge_reserve_ratio, 0.0, 0.9);
    kr.integer("reconcile_every_s", k.reconcile_every_s, 0, kWeekSeconds);
    if (const toml::table* pt = kr.table("max_pair_exposure_krw")) {
      TableReader pr(ctx, *pt, "risk.max_pair_exposure_krw");
      for (const auto& [key, node] : *pt) {
        const std::string name(key.str());
        std::int64_t limit = 0;
        pr.integer(name, limit, 1, kMaxKrw);
        k.max_pair_exposure_krw[name] = limit;
      }
      pr.finish();
    }
    kr.finish();
  }
}

void read_root(Context& ctx, const toml::table& root, Config& c) {
  TableReader r(ctx, root, "");
  r.choice("mode", c.mode, kModes);
  if (const toml::table* venues = r.table("venues")) {
    TableReader vr(ctx, *venues, "venues");
    for (const venues::VenueInfo& v : venues::kRegistry) {
      read_venue(ctx, vr, v.name, c.venue(v.id));
    }
    vr.finish();
  }
  read_symbols(ctx, r, c);
  if (const toml::table* t = r.table("fx")) {
    TableReader fr(ctx, *t, "fx");
    // "<venue>_book" named the venue in the source; it is `venue` now.
    const toml::node* source = t->get("source");
    const std::string legacy = source != nullptr ? source->value_or(std::string()) : std::string();
    const std::size_t book = legacy.rfind("_book");
    if (book != std::string::npos && book + 5 == legacy.size() &&
        venues::from_name(legacy.substr(0, book))) {
      ctx.error(fr.take("source")->source(), "fx.source",
                "moved: set source = \"book\" and venue = \"" + legacy.substr(0, book) + "\"");
    } else {
      fr.choice("source", c.fx.source, kFxSources);
    }
    fr.string("venue", c.fx.venue);
    fr.string("market", c.fx.market);
    fr.choice("side", c.fx.side, kFxSides);
    fr.decimal("fixed_rate", c.fx.fixed_rate);
    fr.integer("max_age_ms", c.fx.max_age_ms, 1, 3'600'000);
    fr.finish();
  }
  read_strategy(ctx, r, c.strategy);
  read_risk(ctx, r, c.risk);
  if (const toml::table* t = r.table("feed")) {
    TableReader fr(ctx, *t, "feed");
    fr.integer("watchdog_ms", c.feed.watchdog_ms, 100, 600'000);
    fr.integer("reconnect_min_ms", c.feed.reconnect_min_ms, 1, 600'000);
    fr.integer("reconnect_max_ms", c.feed.reconnect_max_ms, 1, 3'600'000);
    // A venue's book stream and keep-alive were [feed] <venue>_book and <venue>_ping_ms.
    for (const venues::VenueInfo& v : venues::kRegistry) {
      const std::string section = "[venues." + std::string(v.name) + "]";
      fr.moved(std::string(v.name) + "_book", section + " book");
      fr.moved(std::string(v.name) + "_ping_ms", section + " ping_ms");
    }
    fr.finish();
    if (c.feed.reconnect_max_ms < c.feed.reconnect_min_ms) {
      ctx.error_at("feed.reconnect_max_ms", "must be at least feed.reconnect_min_ms");
    }
  }
  read_threads(ctx, r, c.threads);
  if (const toml::table* t = r.table("journal")) {
    TableReader jr(ctx, *t, "journal");
    jr.file_path("path", c.journal.path);
    jr.integer("busy_timeout_ms", c.journal.busy_timeout_ms, 1, 60'000);
    jr.finish();
    if (c.journal.path.empty()) ctx.error_at("journal.path", "must not be empty");
  }
  if (const toml::table* t = r.table("metrics")) {
    TableReader mr(ctx, *t, "metrics");
    mr.string("bind", c.metrics.bind);
    mr.integer("port", c.metrics.port, 0, 65'535);
    mr.finish();
  }
  if (const toml::table* t = r.table("log")) {
    TableReader lr(ctx, *t, "log");
    lr.boolean("json", c.log.json);
    lr.file_path("path", c.log.path);
    lr.integer("max_mib", c.log.max_mib, 1, 4'096);
    lr.integer("files", c.log.files, 1, 100);
    lr.finish();
  }
  read_alerts(ctx, r, c.alerts);
  read_inventory(ctx, r, c.inventory);
  if (const toml::table* t = r.table("control")) {
    TableReader cr(ctx, *t, "control");
    cr.boolean("enabled", c.control.enabled);
    cr.file_path("socket", c.control.socket);
    cr.finish();
  }
  r.finish();
}

}  // namespace

VenueConfig venue_defaults(Venue id) {
  VenueConfig v;
  const venues::VenueInfo* i = venues::info(id);
  if (i == nullptr) return v;
  v.ws_url = i->defaults.ws_url;
  v.rest_url = i->defaults.rest_url;
  v.private_ws_url = i->defaults.private_ws_url;
  v.taker_fee_bps = i->defaults.taker_fee_bps;
  v.enabled = i->defaults.on_by_default;
  v.book = i->defaults.books[0];
  v.ping_ms = i->defaults.ping_ms;
  return v;
}

Venue Config::fx_venue() const noexcept {
  if (!fx.venue.empty()) return venues::from_name(fx.venue).value_or(kNoVenue);
  for (const Venue v : venues()) {
    if (venues::quote_asset(v) == "KRW") return v;
  }
  return kNoVenue;
}

std::vector<Venue> Config::venues() const {
  std::vector<Venue> out;
  for (const venues::VenueInfo& v : venues::kRegistry) {
    if (trades(v.id)) out.push_back(v.id);
  }
  return out;
}

std::vector<VenuePair> Config::pairs() const {
  std::vector<VenuePair> out = venue_pairs();
  if (strategy.pairs.empty()) return out;
  std::erase_if(out, [&](VenuePair p) {
    return std::find(strategy.pairs.begin(), strategy.pairs.end(), to_string(p)) ==
           strategy.pairs.end();
  });
  return out;
}

std::vector<VenuePair> Config::venue_pairs() const {
  const std::vector<Venue> all = venues();
  const auto krw = [](Venue v) { return venues::quote_asset(v) == "KRW"; };
  std::vector<VenuePair> out;
  // A KRW venue against each venue quoted in another currency (through the FX rate) ...
  for (const Venue k : all) {
    if (!krw(k)) continue;
    for (const Venue o : all) {
      if (!krw(o)) out.push_back({k, o});
    }
  }
  // ... then the KRW venues against each other (no FX).
  for (std::size_t a = 0; a < all.size(); ++a) {
    for (std::size_t b = a + 1; b < all.size(); ++b) {
      if (krw(all[a]) && krw(all[b])) out.push_back({all[a], all[b]});
    }
  }
  return out;
}

std::string to_string(VenuePair pair) {
  return std::string(to_string(pair.first)) + "-" + std::string(to_string(pair.second));
}



LoadResult parse_config(std::string_view text, std::string_view source_name,
                        const fs::path& base_dir) {
  Context ctx{std::string(source_name), base_dir, {}, {}};
  LoadResult result;
  toml::table root;
  if (!settings::parse(text, ctx, root)) {
    result.errors = std::move(ctx.issues);
    return result;
  }
  read_root(ctx, root, result.config);
  cross_check(ctx, result.config);
  std::stable_sort(ctx.issues.begin(), ctx.issues.end(), [](const auto& a, const auto& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  result.errors = std::move(ctx.issues);
  return result;
}

LoadResult load_config(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back({path.string(), 0, 0, "", "cannot open the file"});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const fs::path base = fs::absolute(path).parent_path();
  return parse_config(text.str(), path.string(), base);
}

SymbolMap build_symbol_map(const Config& config) {
  SymbolMap map;
  for (const SymbolConfig& s : config.symbols) {
    (void)add_symbol(map, s);  // validated at load
  }
  (void)map.add_fx(config.fx_venue(), config.fx.market);
  return map;
}

std::optional<Decimal> find_amount(const VenueAssetAmounts& amounts, Venue venue,
                                   std::string_view asset) {
  const auto v = amounts.find(std::string(xarb::to_string(venue)));
  if (v == amounts.end()) return std::nullopt;
  const auto it = v->second.find(std::string(asset));
  return it == v->second.end() ? std::nullopt : std::optional<Decimal>(it->second);
}

signal::StrategyParams strategy_params(const Config& config, const SymbolMap& symbols) {
  constexpr std::int64_t kMs = 1'000'000;
  constexpr std::int64_t kS = 1'000'000'000;
  const StrategyConfig& st = config.strategy;
  const RiskConfig& rk = config.risk;
  signal::StrategyParams p;
  const std::vector<VenuePair> pairs = config.pairs();
  p.pair_count = std::min(pairs.size(), p.pairs.size());
  for (std::size_t k = 0; k < p.pair_count; ++k) {
    signal::PairParams& pp = p.pairs[k];
    pp.pair = pairs[k];
    pp.fees = {config.venue(pairs[k].first).taker_fee_bps,
               config.venue(pairs[k].second).taker_fee_bps};
    pp.fx = venues::quote_asset(pairs[k].first) != venues::quote_asset(pairs[k].second);
    if (const auto it = rk.max_pair_exposure_krw.find(to_string(pairs[k]));
        it != rk.max_pair_exposure_krw.end()) {
      pp.max_exposure_krw = it->second;
    }
  }
  for (const Venue v : config.venues()) {
    p.risk.max_venue_exposure_krw[index(v)] = config.venue(v).max_exposure_krw;
  }
  p.fx.fixed = config.fx.source == FxSource::fixed;
  p.fx.fixed_rate = config.fx.fixed_rate;
  p.fx.side = config.fx.side;
  p.fx.max_age_ns = config.fx.max_age_ms * kMs;
  p.baseline = st.baseline;
  p.ewma_half_life_ns = static_cast<std::int64_t>(st.ewma_half_life_s * 1e9);
  p.kimchi = st.kimchi;
  p.reverse = st.reverse;
  p.entry_bps = st.entry_bps;
  p.take_profit_bps = st.take_profit_bps;
  p.stop_loss_bps = st.stop_loss_bps;
  p.reversal_bps = st.reversal_bps;
  p.timeout_ns = st.timeout_s * kS;
  p.cooldown_ns = st.cooldown_s * kS;
  p.max_open_per_symbol = st.max_open_per_symbol;
  p.max_open_total = st.max_open_total;
  p.clips = st.clips;
  p.min_depth_ratio = st.min_depth_ratio;
  p.slippage_bps = st.slippage_bps;
  p.max_book_age_ns = st.max_book_age_ms * kMs;
  p.exit_max_book_age_ns = st.exit_max_book_age_ms * kMs;
  p.max_clock_skew_ns = st.max_clock_skew_ms * kMs;
  p.risk.kill_switch = rk.kill_switch;
  p.risk.daily_loss_limit_krw = rk.daily_loss_limit_krw;
  p.risk.daily_reset_hour_utc = rk.daily_reset_hour_utc;
  p.risk.max_total_exposure_krw = rk.max_total_exposure_krw;
  p.risk.max_symbol_exposure_krw = rk.max_symbol_exposure_krw;
  p.risk.max_notional_krw = rk.max_notional_krw;
  p.risk.min_notional_krw = rk.min_notional_krw;
  p.risk.max_consecutive_failures = rk.max_consecutive_failures;
  p.risk.halt_cooldown_ns = rk.halt_cooldown_s * kS;
  for (const SymbolConfig& s : config.symbols) {
    const InstrumentId id = symbols.find_base(s.base);
    if (id == kNoInstrument) continue;
    p.symbols[id].trade_qty = s.trade_qty;
    p.symbols[id].max_position_qty = s.max_position_qty;
  }
  p.inventory.prefer_bps = config.inventory.prefer_bps;
  for (const Venue v : config.venues()) {
    const auto floors = config.inventory.floor.find(std::string(xarb::to_string(v)));
    if (floors == config.inventory.floor.end()) continue;
    for (const auto& [asset, amount] : floors->second) {
      if (asset == venues::quote_asset(v)) {
        p.inventory.floor_quote_e16[index(v)] =
            static_cast<Int128>(amount.mantissa()) * Decimal::kOne;
      } else if (const InstrumentId id = symbols.find_base(asset); id != kNoInstrument) {
        p.inventory.floor_base[index(v)][id] = amount.mantissa();
      }
    }
  }
  return p;
}

namespace {

toml::table venue_table(const VenueConfig& v) {
  toml::table t{{"ws_url", v.ws_url},
                {"rest_url", v.rest_url},
                {"ca_file", v.ca_file},
                {"key_file", v.key_file},
                {"taker_fee_bps", v.taker_fee_bps},
                {"connect_timeout_ms", v.connect_timeout_ms},
                {"request_timeout_ms", v.request_timeout_ms},
                {"recv_window_ms", v.recv_window_ms},
                {"max_exposure_krw", v.max_exposure_krw},
                {"private_stream", v.private_stream},
                {"private_ws_url", v.private_ws_url},
                {"order_entry", v.order_entry == exec::OrderEntry::ws ? "ws" : "rest"},
                {"book", v.book},
                {"ping_ms", v.ping_ms},
                {"enabled", v.enabled}};
  // Empty paths mean "not set": leave them out so the dump reads back the same.
  if (v.ca_file.empty()) t.erase("ca_file");
  if (v.key_file.empty()) t.erase("key_file");
  if (v.private_ws_url.empty()) t.erase("private_ws_url");
  if (v.ping_ms == 0) t.erase("ping_ms");  // a venue that needs none has no such key
  return t;
}

std::string credential_status(Venue v) {
  const CredentialNames names = credential_env(v);
  auto status = [](std::string_view var) {
    // Start-up only, before any thread that could call setenv exists.
    const char* value = std::getenv(std::string(var).c_str());  // NOLINT(concurrency-mt-unsafe)
    return std::string(var) + (value != nullptr && *value != '\0' ? " is set" : " is not set");
  };
  return "# " + std::string(xarb::to_string(v)) + " credentials: " + status(names.key) + ", " +
         status(names.secret) + " (values are never shown)\n";
}

// The effective config's sections, one function each (dump_config puts them together).
void insert_venues_and_symbols(toml::table& root, const Config& c) {
  toml::table venues;
  for (const venues::VenueInfo& v : venues::kRegistry) {
    const VenueConfig& section = c.venue(v.id);
    // A venue on by default and turned off says so; one off by default is left out.
    if (section.enabled || v.defaults.on_by_default) venues.insert(v.name, venue_table(section));
  }
  root.insert("venues", std::move(venues));
  toml::array symbols;
  for (const SymbolConfig& s : c.symbols) {
    toml::table t{{"base", s.base},
                  {"trade_qty", to_string(s.trade_qty)},
                  {"max_position_qty", to_string(s.max_position_qty)}};
    for (const venues::VenueInfo& v : venues::kRegistry) {
      if (c.trades(v.id)) t.insert(v.defaults.market_key, s.market(v.id));
    }
    symbols.push_back(std::move(t));
  }
  root.insert("symbols", std::move(symbols));
}

void insert_strategy(toml::table& root, const StrategyConfig& s) {
  root.insert("strategy", toml::table{{"baseline", std::string(to_string(s.baseline))},
                                      {"ewma_half_life_s", s.ewma_half_life_s},
                                      {"kimchi", s.kimchi},
                                      {"reverse", s.reverse},
                                      {"entry_bps", s.entry_bps},
                                      {"take_profit_bps", s.take_profit_bps},
                                      {"stop_loss_bps", s.stop_loss_bps},
                                      {"reversal_bps", s.reversal_bps},
                                      {"timeout_s", s.timeout_s},
                                      {"cooldown_s", s.cooldown_s},
                                      {"max_open_per_symbol", s.max_open_per_symbol},
                                      {"max_open_total", s.max_open_total},
                                      {"clips", s.clips},
                                      {"min_depth_ratio", s.min_depth_ratio},
                                      {"slippage_bps", s.slippage_bps},
                                      {"max_book_age_ms", s.max_book_age_ms},
                                      {"exit_max_book_age_ms", s.exit_max_book_age_ms},
                                      {"max_clock_skew_ms", s.max_clock_skew_ms}});
  if (!s.pairs.empty()) {
    toml::array pairs;
    for (const std::string& p : s.pairs) pairs.push_back(p);
    root["strategy"].as_table()->insert("pairs", std::move(pairs));
  }
}

void insert_risk(toml::table& root, const RiskConfig& k) {
  root.insert("risk", toml::table{{"kill_switch", k.kill_switch},
                                  {"daily_loss_limit_krw", k.daily_loss_limit_krw},
                                  {"daily_reset_hour_utc", k.daily_reset_hour_utc},
                                  {"max_total_exposure_krw", k.max_total_exposure_krw},
                                  {"max_symbol_exposure_krw", k.max_symbol_exposure_krw},
                                  {"max_notional_krw", k.max_notional_krw},
                                  {"min_notional_krw", k.min_notional_krw},
                                  {"max_consecutive_failures", k.max_consecutive_failures},
                                  {"halt_cooldown_s", k.halt_cooldown_s},
                                  {"hedge_reserve_ratio", k.hedge_reserve_ratio},
                                  {"reconcile_every_s", k.reconcile_every_s}});
  if (!k.max_pair_exposure_krw.empty()) {
    toml::table pairs;
    for (const auto& [name, limit] : k.max_pair_exposure_krw) pairs.insert(name, limit);
    root["risk"].as_table()->insert("max_pair_exposure_krw", std::move(pairs));
  }
}

void insert_alerts(toml::table& root, const AlertsConfig& a) {
  toml::table alerts{{"stream_down_after_s", a.stream_down_after_s},
                     {"min_severity", std::string(name_of(kSeverities, a.min_severity))},
                     {"dedup_s", a.dedup_s},
                     {"max_per_minute", a.max_per_minute},
                     {"retries", a.retries},
                     {"timeout_ms", a.timeout_ms}};
  if (!a.ca_file.empty()) alerts.insert("ca_file", a.ca_file);
  for (const auto& [name, ch] :
       {std::pair{"telegram", &a.telegram}, std::pair{"slack", &a.slack},
        std::pair{"webhook", &a.webhook}}) {
    if (!ch->enabled) continue;
    toml::table t;
    if (ch == &a.telegram) {
      t.insert("api_url", ch->api_url);
      t.insert("chat_id", ch->chat_id);
    }
    if (!ch->secret_file.empty()) t.insert("secret_file", ch->secret_file);
    alerts.insert(name, std::move(t));
  }
  root.insert("alerts", std::move(alerts));
}

void insert_inventory(toml::table& root, const InventoryConfig& inv) {
  toml::table inventory{{"prefer_bps", inv.prefer_bps},
                        {"rebalance_at", inv.rebalance_at},
                        {"max_fee_share", inv.max_fee_share}};
  for (const auto& [name, amounts] : {std::pair{"floor", &inv.floor},
                                      std::pair{"withdrawal_fee", &inv.withdrawal_fee},
                                      std::pair{"paper_balance", &inv.paper_balance}}) {
    if (amounts->empty()) continue;
    toml::table by_venue;
    for (const auto& [venue, assets] : *amounts) {
      toml::table t;
      for (const auto& [asset, amount] : assets) t.insert(asset, to_string(amount));
      by_venue.insert(venue, std::move(t));
    }
    inventory.insert(name, std::move(by_venue));
  }
  root.insert("inventory", std::move(inventory));
}

}  // namespace


std::string dump_config(const Config& c) {
  toml::table root;
  root.insert("mode", std::string(to_string(c.mode)));
  insert_venues_and_symbols(root, c);
  toml::table fx{{"source", std::string(to_string(c.fx.source))},
                 {"market", c.fx.market},
                 {"side", std::string(to_string(c.fx.side))},
                 {"max_age_ms", c.fx.max_age_ms}};
  if (c.fx.source == FxSource::fixed) fx.insert("fixed_rate", to_string(c.fx.fixed_rate));
  if (!c.fx.venue.empty()) fx.insert("venue", c.fx.venue);
  root.insert("fx", std::move(fx));
  insert_strategy(root, c.strategy);
  insert_risk(root, c.risk);
  toml::array hot;
  for (const ThreadConfig& th : c.threads.hot) {
    toml::array stages;
    for (const HotStage st : th.stages) stages.push_back(std::string(to_string(st)));
    hot.push_back(toml::table{{"name", th.name},
                              {"stages", std::move(stages)},
                              {"cpu", th.cpu},
                              {"wait", std::string(name_of(kWaits, th.wait))}});
  }
  root.insert("feed",
              toml::table{{"watchdog_ms", c.feed.watchdog_ms},
                          {"reconnect_min_ms", c.feed.reconnect_min_ms},
                          {"reconnect_max_ms", c.feed.reconnect_max_ms}});
  root.insert("threads", toml::table{{"ops_cpu", c.threads.ops_cpu}, {"hot", std::move(hot)}});
  root.insert("journal", toml::table{{"path", c.journal.path},
                                     {"busy_timeout_ms", c.journal.busy_timeout_ms}});
  root.insert("metrics", toml::table{{"bind", c.metrics.bind}, {"port", c.metrics.port}});
  root.insert("log", toml::table{{"json", c.log.json},
                                 {"path", c.log.path},
                                 {"max_mib", c.log.max_mib},
                                 {"files", c.log.files}});
  insert_alerts(root, c.alerts);
  root.insert("control", toml::table{{"enabled", c.control.enabled}, {"socket", c.control.socket}});
  insert_inventory(root, c.inventory);

  std::ostringstream out;
  out << "# Effective xarb configuration: defaults plus what the file set.\n";
  for (const Venue v : c.venues()) out << credential_status(v);
  out << "# pairs traded:";
  for (const VenuePair p : c.pairs()) out << ' ' << to_string(p);
  out << "\n\n"
      << toml::toml_formatter{root, toml::toml_formatter::default_flags |
                                        toml::format_flags::relaxed_float_precision}
      << "\n";
  return out.str();
}

std::string_view to_string(Mode m) noexcept { return name_of(kModes, m); }
std::string_view to_string(Severity s) noexcept { return name_of(kSeverities, s); }
std::string_view to_string(FxSource s) noexcept { return name_of(kFxSources, s); }
std::string_view to_string(FxSide s) noexcept { return name_of(kFxSides, s); }
std::string_view to_string(Baseline b) noexcept { return name_of(kBaselines, b); }
std::string_view to_string(HotStage s) noexcept { return name_of(kStages, s); }

}  // namespace xarb::app
