#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <xarb/settings/reader.hpp>
#include <xarb/sim/config.hpp>
#include <xarb/venues/registry.hpp>

#include "venues/registry.hpp"

namespace xarb::sim {
namespace {

using settings::Context;
using settings::TableReader;

constexpr std::int64_t kMaxInt = std::numeric_limits<int>::max();
constexpr double kHuge = 1e12;

// Calls `fn(row, params, name)` for each venue the simulator has a row for; its keys are named
// after it ("binance_port").
template <class Fn>
void each_venue(SimOptions& out, Fn fn) {
  for (const venues::VenueInfo& v : venues::kRegistry) {
    if (const SimVenue* row = find_venue(v.id)) fn(*row, out.venues[index(v.id)], std::string(v.name));
  }
}

void read_server(TableReader& server, SimOptions& out) {
  each_venue(out, [&](const SimVenue&, SimVenueParams& p, const std::string& name) {
    server.integer(name + "_port", p.port, 0, 65'535);
  });
  server.string("cert_out", out.cert_out);
  double ping = 20.0;
  server.number("ping_s", ping, 0.0, 3'600.0, true);
  out.ping = std::chrono::milliseconds(static_cast<std::int64_t>(ping * 1000));
}

// replay_file: one capture or a list of them, relative to the config's folder.
void read_replay_files(Context& ctx, TableReader& market, SimOptions& out) {
  out.replay_files.clear();
  const toml::node* files = market.take("replay_file");
  if (files == nullptr) return;
  const auto add = [&](const toml::node& n) {
    const auto f = n.value<std::string>();
    if (!f || f->empty()) {
      ctx.error(n.source(), "market.replay_file", "must be a path or a list of paths");
      return;
    }
    const std::filesystem::path file(*f);
    out.replay_files.push_back(
        file.is_absolute() ? *f : (ctx.base_dir / file).lexically_normal().string());
  };
  if (const toml::array* list = files->as_array()) {
    for (const toml::node& n : *list) add(n);
  } else {
    add(*files);
  }
}

void read_market(Context& ctx, TableReader& market, SimOptions& out) {
  MarketParams& p = out.market;
  market.integer("seed", p.seed, 0, std::numeric_limits<std::int64_t>::max());
  market.number("updates_per_second", out.updates_per_second, 0.0, 1e7);
  market.integer("levels", p.levels, 1, 1'000);
  market.number("premium_bps", p.premium_bps, -kHuge, kHuge);
  market.number("premium_reversion", p.premium_reversion, 0.0, kHuge);
  market.number("premium_vol_bps", p.premium_vol_bps, 0.0, kHuge);
  market.number("jump_probability", p.jump_probability, 0.0, kHuge);
  market.number("jump_bps", p.jump_bps, -kHuge, kHuge);
  market.number("price_vol", p.price_vol, 0.0, kHuge);
  market.number("fx", p.fx, 0.0, kHuge, true);
  market.number("fx_vol", p.fx_vol, 0.0, kHuge);
  market.number("spread_bps", p.spread_bps, 0.0, kHuge);
  // A venue served or not ([market] bithumb = true); one with a gap of its own, its level and
  // noise.
  each_venue(out, [&](const SimVenue& row, SimVenueParams& v, const std::string& name) {
    market.boolean(name, v.served);
    if (!row.gap) return;
    market.number(name + "_gap_bps", v.gap_bps, -kHuge, kHuge);
    market.number(name + "_gap_vol_bps", v.gap_vol_bps, 0.0, kHuge);
  });
  market.number("replay_speed", out.replay_speed, 0.0, kHuge);
  std::string source = "synthetic";
  market.string("source", source);
  read_replay_files(ctx, market, out);
  if (source != "synthetic" && source != "replay") {
    ctx.error_at("market.source", "must be synthetic or replay");
  } else if (source == "replay" && out.replay_files.empty()) {
    ctx.error(ctx.where.count("market.source") != 0 ? ctx.where.at("market.source")
                                                    : toml::source_region{},
              "market.replay_file", "is required with source = \"replay\"");
  }
  for (const std::string& f : out.replay_files) {
    if (source == "replay" && !std::filesystem::is_regular_file(f)) {
      ctx.error_at("market.replay_file", "no such file: " + f);
    }
  }
  if (source == "synthetic") out.replay_files.clear();
}

void read_symbols(Context& ctx, TableReader& root, SimOptions& out) {
  out.symbols.clear();
  const toml::array* symbols = root.array("symbols", "an array of tables ([[symbols]])");
  if (symbols == nullptr || symbols->empty()) {
    if (!ctx.has_issue_under("symbols")) {
      ctx.error({}, "symbols", "at least one [[symbols]] is required");
    }
    return;
  }
  for (const toml::node& n : *symbols) {
    const toml::table* t = n.as_table();
    if (t == nullptr) {
      ctx.error(n.source(), "symbols", "must be tables");
      continue;
    }
    TableReader r(ctx, *t, "symbols");
    SymbolSpec s;
    r.string("base", s.base);
    if (s.base.empty() && !ctx.has_issue_under("symbols.base")) {
      ctx.error(t->source(), "symbols.base", "is required");
    }
    // Its market on each venue (binance_symbol = "BTCUSDT"); the venue's default name otherwise.
    for (const venues::VenueInfo& v : venues::kRegistry) {
      std::string& market = s.markets[index(v.id)];
      market = venues::default_market(v.id, s.base);
      r.string(std::string(v.defaults.market_key), market);
    }
    r.number("price_usdt", s.price_usdt, 0.0, kHuge, true);
    r.decimal("tick", s.tick);
    r.decimal("step", s.step);
    r.number("level_qty", s.level_qty, 0.0, kHuge, true);
    r.finish();
    out.symbols.push_back(s);
  }
}

void read_fees(TableReader& fees, SimOptions& out) {
  each_venue(out, [&](const SimVenue&, SimVenueParams& p, const std::string& name) {
    fees.number(name + "_bps", p.fee_bps, 0.0, 10'000.0);
  });
  fees.decimal("bnb_usdt", out.bnb_usdt);
}

// Each venue's two limits under the names its row gives them (binance_weight_1m,
// upbit_requests_per_second), then what the venues do past them.
void read_limits(TableReader& limits, SimOptions& out) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  each_venue(out, [&](const SimVenue& row, SimVenueParams& p, const std::string& name) {
    limits.integer(name + "_" + std::string(row.requests.key), p.request_limit, 1, kMax);
    limits.integer(name + "_" + std::string(row.orders.key), p.order_limit, 1, kMax);
  });
  LimitParams& l = out.limits;
  limits.integer("retry_after_s", l.retry_after_s, 0, kMax);
  limits.integer("ban_s", l.ban_s, 0, kMax);
  limits.integer("ban_after_requests", l.ban_after_requests, 1, kMax);
}

void read_probe(Context& ctx, TableReader& probe, SimOptions& out) {
  probe.integer("every_ms", out.probe_every_ms, 0, kMaxInt);
  probe.number("jump_bps", out.probe_jump_bps, -kHuge, kHuge);
  probe.integer("hold_ms", out.probe_hold_ms, 0, kMaxInt);
  if (out.probe_every_ms > 0 && out.probe_hold_ms >= out.probe_every_ms) {
    ctx.error_at("probe.hold_ms", "must be shorter than probe.every_ms");
  }
}

void read_faults(TableReader& faults, FaultParams& p) {
  for (auto [key, share] :
       {std::pair{"reject_share", &p.reject_share}, std::pair{"partial_share", &p.partial_share},
        std::pair{"error_5xx_share", &p.error_5xx_share},
        std::pair{"timeout_share", &p.timeout_share},
        std::pair{"late_accept_share", &p.late_accept_share},
        std::pair{"slow_answer_share", &p.slow_answer_share},
        std::pair{"private_miss_share", &p.private_miss_share}}) {
    faults.number(key, *share, 0.0, 1.0);
  }
  for (auto [key, ms] :
       {std::pair{"rest_delay_ms", &p.rest_delay_ms}, std::pair{"stall_feed_ms", &p.stall_feed_ms},
        std::pair{"late_accept_ms", &p.late_accept_ms},
        std::pair{"slow_answer_ms", &p.slow_answer_ms},
        std::pair{"stall_private_ms", &p.stall_private_ms}}) {
    faults.integer(key, *ms, 0, kMaxInt);
  }
  faults.integer("clock_skew_ms", p.clock_skew_ms, -86'400'000, 86'400'000);
  faults.number("drop_ws_every_s", p.drop_ws_every_s, 0.0, kHuge);
  faults.number("drop_ws_probability", p.drop_ws_probability, 0.0, 1.0);
  faults.boolean("omit_retry_after", p.omit_retry_after);
}

void read_account(Context& ctx, const toml::table& t, SimOptions& out) {
  TableReader r(ctx, t, "accounts");
  AccountSpec a;
  std::string venue;
  r.string("venue", venue);
  r.string("key", a.key);
  r.string("secret", a.secret);
  for (const auto& [key, value] :
       {std::pair{"venue", &venue}, std::pair{"key", &a.key}, std::pair{"secret", &a.secret}}) {
    if (value->empty() && !ctx.has_issue_under(std::string("accounts.") + key)) {
      ctx.error(t.source(), std::string("accounts.") + key, "is required");
    }
  }
  if (const std::optional<Venue> id = venues::from_name(venue)) {
    a.venue = *id;
  } else if (!venue.empty()) {
    std::string names;
    for (const auto& v : venues::kRegistry)
      names += (names.empty() ? "" : ", ") + std::string(v.name);
    ctx.error_at("accounts.venue", "must be one of " + names + ", not \"" + venue + "\"");
  }
  r.boolean("bnb_fees", a.bnb_fees);
  if (a.bnb_fees && venues::fee_asset(a.venue).empty()) {
    ctx.error_at("accounts.bnb_fees", "is an option of a venue with a fee asset (" +
                                          std::string(to_string(a.venue)) + " has none)");
  }
  if (const toml::table* b = r.table("balances")) {
    TableReader balances(ctx, *b, "accounts.balances");
    for (const auto& [asset, v] : *b) {
      Decimal amount;
      balances.decimal(asset.str(), amount, false);
      a.balances[std::string(asset.str())] = amount.mantissa();
    }
  }
  r.finish();
  out.accounts.push_back(std::move(a));
}

// Each section through its own TableReader: every key known, typed and in range, the rest told
// as unknown.
void read_root(Context& ctx, const toml::table& root_table, SimOptions& out) {
  TableReader root(ctx, root_table, "");
  const auto section = [&](const char* name, const auto& read) {
    if (const toml::table* t = root.table(name)) {
      TableReader r(ctx, *t, name);
      read(r);
      r.finish();
    }
  };
  section("server", [&](TableReader& r) { read_server(r, out); });
  section("market", [&](TableReader& r) { read_market(ctx, r, out); });
  read_symbols(ctx, root, out);
  section("fees", [&](TableReader& r) { read_fees(r, out); });
  section("limits", [&](TableReader& r) { read_limits(r, out); });
  section("probe", [&](TableReader& r) { read_probe(ctx, r, out); });
  section("faults", [&](TableReader& r) { read_faults(r, out.faults); });
  out.accounts.clear();
  if (const toml::array* accounts = root.array("accounts", "an array of tables ([[accounts]])")) {
    for (const toml::node& n : *accounts) {
      if (const toml::table* t = n.as_table()) {
        read_account(ctx, *t, out);
      } else {
        ctx.error(n.source(), "accounts", "must be tables");
      }
    }
  }
  root.finish();
}

}  // namespace

bool load_sim_options(const std::string& path, SimOptions& out, std::string& error) {
  Context ctx{path, std::filesystem::path(path).parent_path(), {}, {}};
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open the file";
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  toml::table root;
  if (settings::parse(text.str(), ctx, root)) read_root(ctx, root, out);
  error.clear();
  for (const settings::Issue& i : ctx.issues) {
    if (!error.empty()) error.push_back('\n');
    error.append(i.to_string());
  }
  return ctx.issues.empty();
}

}  // namespace xarb::sim
