#include <filesystem>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include <xarb/sim/config.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::sim {
namespace {

struct Reader {
  const std::string& file;
  std::string& error;

  bool fail(const toml::node* n, const std::string& key, const std::string& message) {
    std::ostringstream o;
    o << file;
    if (n != nullptr) o << ":" << n->source().begin.line << ":" << n->source().begin.column;
    o << ": " << key << ": " << message;
    error = o.str();
    return false;
  }

  // Every key of `t` must be one of `known`.
  bool only(const toml::table& t, const std::string& where, std::set<std::string> known) {
    for (const auto& [k, v] : t) {
      if (!known.contains(std::string(k.str()))) {
        return fail(&v, where + std::string(k.str()), "unknown key");
      }
    }
    return true;
  }

  template <class T>
  bool number(const toml::table& t, const std::string& where, const char* key, T& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    if (const auto v = n->value<double>()) {
      out = static_cast<T>(*v);
      return true;
    }
    return fail(n, where + key, "must be a number");
  }

  bool decimal(const toml::table& t, const std::string& where, const char* key, Decimal& out) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return true;
    std::string text;
    if (const auto s = n->value<std::string>()) {
      text = *s;
    } else if (const auto v = n->value<double>()) {
      std::ostringstream o;
      o.precision(17);
      o << *v;
      text = o.str();
    } else {
      return fail(n, where + key, "must be a decimal (string or number)");
    }
    if (Decimal::parse(text, Rounding::down, out) != Errc::ok) {
      return fail(n, where + key, "\"" + text + "\" is not a decimal");
    }
    return true;
  }

  bool text(const toml::table& t, const std::string& where, const char* key, std::string& out,
            bool required = false) {
    const toml::node* n = t.get(key);
    if (n == nullptr) return !required || fail(nullptr, where + key, "is required");
    if (const auto s = n->value<std::string>()) {
      out = *s;
      return true;
    }
    return fail(n, where + key, "must be a string");
  }
};

}  // namespace

bool load_sim_options(const std::string& path, SimOptions& out, std::string& error) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream o;
    o << path << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
      << e.description();
    error = o.str();
    return false;
  }
  Reader r{path, error};
  if (!r.only(root, "", {"server", "market", "symbols", "fees", "limits", "faults", "accounts",
                          "probe"})) {
    return false;
  }
  if (const toml::table* s = root["server"].as_table()) {
    if (!r.only(*s, "server.",
                {"binance_port", "upbit_port", "bithumb_port", "cert_out", "ping_s"})) {
      return false;
    }
    double ping = 20.0;
    if (!r.number(*s, "server.", "binance_port", out.binance_port) ||
        !r.number(*s, "server.", "upbit_port", out.upbit_port) ||
        !r.number(*s, "server.", "bithumb_port", out.bithumb_port) ||
        !r.text(*s, "server.", "cert_out", out.cert_out) ||
        !r.number(*s, "server.", "ping_s", ping)) {
      return false;
    }
    out.binance_ping = std::chrono::milliseconds(static_cast<std::int64_t>(ping * 1000));
  }
  if (const toml::table* m = root["market"].as_table()) {
    if (!r.only(*m, "market.",
                {"seed", "updates_per_second", "levels", "premium_bps", "premium_reversion",
                 "premium_vol_bps", "jump_probability", "jump_bps", "price_vol", "fx", "fx_vol",
                 "spread_bps", "source", "replay_file", "replay_speed", "bithumb",
                 "bithumb_gap_bps", "bithumb_gap_vol_bps"})) {
      return false;
    }
    MarketParams& p = out.market;
    double seed = static_cast<double>(p.seed);
    if (!r.number(*m, "market.", "seed", seed) ||
        !r.number(*m, "market.", "updates_per_second", out.updates_per_second) ||
        !r.number(*m, "market.", "levels", p.levels) ||
        !r.number(*m, "market.", "premium_bps", p.premium_bps) ||
        !r.number(*m, "market.", "premium_reversion", p.premium_reversion) ||
        !r.number(*m, "market.", "premium_vol_bps", p.premium_vol_bps) ||
        !r.number(*m, "market.", "jump_probability", p.jump_probability) ||
        !r.number(*m, "market.", "jump_bps", p.jump_bps) ||
        !r.number(*m, "market.", "price_vol", p.price_vol) ||
        !r.number(*m, "market.", "fx", p.fx) || !r.number(*m, "market.", "fx_vol", p.fx_vol) ||
        !r.number(*m, "market.", "spread_bps", p.spread_bps) ||
        !r.number(*m, "market.", "bithumb_gap_bps", p.bithumb_gap_bps) ||
        !r.number(*m, "market.", "bithumb_gap_vol_bps", p.bithumb_gap_vol_bps)) {
      return false;
    }
    if (const toml::node* b = m->get("bithumb")) {
      const auto on = b->value<bool>();
      if (!on) return r.fail(b, "market.bithumb", "must be true or false");
      p.bithumb = *on;
    }
    p.seed = static_cast<std::uint64_t>(seed);
    std::string source = "synthetic";
    if (!r.text(*m, "market.", "source", source) ||
        !r.number(*m, "market.", "replay_speed", out.replay_speed)) {
      return false;
    }
    // replay_file: one capture or a list of them, relative to this file's folder.
    out.replay_files.clear();
    if (const toml::node* files = m->get("replay_file")) {
      const auto add = [&](const toml::node& n) {
        const auto f = n.value<std::string>();
        if (!f || f->empty()) return r.fail(&n, "market.replay_file", "must be a path or a list of paths");
        const std::filesystem::path file(*f);
        out.replay_files.push_back(
            file.is_absolute() ? *f
                               : (std::filesystem::path(path).parent_path() / file).lexically_normal().string());
        return true;
      };
      if (const toml::array* list = files->as_array()) {
        for (const toml::node& n : *list) {
          if (!add(n)) return false;
        }
      } else if (!add(*files)) {
        return false;
      }
    }
    if (source != "synthetic" && source != "replay") {
      return r.fail(m->get("source"), "market.source", "must be synthetic or replay");
    }
    if (source == "replay" && out.replay_files.empty()) {
      return r.fail(m->get("source"), "market.replay_file", "is required with source = \"replay\"");
    }
    for (const std::string& f : out.replay_files) {
      if (source == "replay" && !std::filesystem::is_regular_file(f)) {
        return r.fail(m->get("replay_file"), "market.replay_file", "no such file: " + f);
      }
    }
    if (source == "synthetic") out.replay_files.clear();
    if (p.levels < 1 || p.levels > 1000) return r.fail(m->get("levels"), "market.levels", "must be 1..1000");
    if (out.updates_per_second < 0) {
      return r.fail(m->get("updates_per_second"), "market.updates_per_second", "must be >= 0");
    }
  }
  const toml::array* symbols = root["symbols"].as_array();
  if (symbols == nullptr || symbols->empty()) {
    return r.fail(nullptr, "symbols", "at least one [[symbols]] is required");
  }
  out.symbols.clear();
  for (const toml::node& n : *symbols) {
    const toml::table* t = n.as_table();
    if (t == nullptr) return r.fail(&n, "symbols", "must be tables");
    if (!r.only(*t, "symbols.",
                {"base", "binance_symbol", "upbit_market", "bithumb_market", "price_usdt", "tick",
                 "step", "level_qty"})) {
      return false;
    }
    SymbolSpec s;
    if (!r.text(*t, "symbols.", "base", s.base, true)) return false;
    s.binance_symbol = s.base + "USDT";
    s.upbit_market = "KRW-" + s.base;
    s.bithumb_market = "KRW-" + s.base;
    if (!r.text(*t, "symbols.", "binance_symbol", s.binance_symbol) ||
        !r.text(*t, "symbols.", "upbit_market", s.upbit_market) ||
        !r.text(*t, "symbols.", "bithumb_market", s.bithumb_market) ||
        !r.number(*t, "symbols.", "price_usdt", s.price_usdt) ||
        !r.decimal(*t, "symbols.", "tick", s.binance_tick) ||
        !r.decimal(*t, "symbols.", "step", s.step) ||
        !r.number(*t, "symbols.", "level_qty", s.level_qty)) {
      return false;
    }
    if (!s.binance_tick.is_positive() || !s.step.is_positive() || !(s.price_usdt > 0)) {
      return r.fail(t, "symbols." + s.base, "price_usdt, tick and step must be positive");
    }
    out.symbols.push_back(s);
  }
  if (const toml::table* f = root["fees"].as_table()) {
    if (!r.only(*f, "fees.", {"binance_bps", "upbit_bps", "bithumb_bps", "bnb_usdt"}) ||
        !r.number(*f, "fees.", "binance_bps", out.binance_fee_bps) ||
        !r.number(*f, "fees.", "upbit_bps", out.upbit_fee_bps) ||
        !r.number(*f, "fees.", "bithumb_bps", out.bithumb_fee_bps) ||
        !r.decimal(*f, "fees.", "bnb_usdt", out.bnb_usdt)) {
      return false;
    }
    if (!out.bnb_usdt.is_positive()) return r.fail(f->get("bnb_usdt"), "fees.bnb_usdt", "must be positive");
  }
  if (const toml::table* l = root["limits"].as_table()) {
    if (!r.only(*l, "limits.",
                {"binance_weight_1m", "binance_orders_10s", "upbit_requests_per_second",
                 "upbit_default_per_second", "bithumb_orders_per_second",
                 "bithumb_default_per_second", "retry_after_s", "ban_s", "ban_after_requests"}) ||
        !r.number(*l, "limits.", "bithumb_orders_per_second",
                  out.limits.bithumb_orders_per_second) ||
        !r.number(*l, "limits.", "bithumb_default_per_second",
                  out.limits.bithumb_default_per_second) ||
        !r.number(*l, "limits.", "binance_weight_1m", out.limits.binance_weight_1m) ||
        !r.number(*l, "limits.", "binance_orders_10s", out.limits.binance_orders_10s) ||
        !r.number(*l, "limits.", "upbit_requests_per_second",
                  out.limits.upbit_requests_per_second) ||
        !r.number(*l, "limits.", "upbit_default_per_second", out.limits.upbit_default_per_second) ||
        !r.number(*l, "limits.", "retry_after_s", out.limits.retry_after_s) ||
        !r.number(*l, "limits.", "ban_s", out.limits.ban_s) ||
        !r.number(*l, "limits.", "ban_after_requests", out.limits.ban_after_requests)) {
      return false;
    }
  }
  if (const toml::table* p = root["probe"].as_table()) {
    if (!r.only(*p, "probe.", {"every_ms", "jump_bps", "hold_ms"}) ||
        !r.number(*p, "probe.", "every_ms", out.probe_every_ms) ||
        !r.number(*p, "probe.", "jump_bps", out.probe_jump_bps) ||
        !r.number(*p, "probe.", "hold_ms", out.probe_hold_ms)) {
      return false;
    }
    if (out.probe_every_ms < 0) return r.fail(p->get("every_ms"), "probe.every_ms", "must be >= 0");
    if (out.probe_every_ms > 0 && out.probe_hold_ms >= out.probe_every_ms) {
      return r.fail(p->get("hold_ms"), "probe.hold_ms", "must be shorter than probe.every_ms");
    }
  }
  if (const toml::table* f = root["faults"].as_table()) {
    FaultParams& p = out.faults;
    if (!r.only(*f, "faults.",
                {"reject_share", "partial_share", "error_5xx_share", "timeout_share",
                 "rest_delay_ms", "clock_skew_ms", "drop_ws_every_s", "drop_ws_probability",
                 "stall_feed_ms", "late_accept_share", "late_accept_ms", "slow_answer_share",
                 "slow_answer_ms", "omit_retry_after", "private_miss_share", "stall_private_ms"}) ||
        !r.number(*f, "faults.", "stall_private_ms", p.stall_private_ms) ||
        !r.number(*f, "faults.", "private_miss_share", p.private_miss_share) ||
        !r.number(*f, "faults.", "slow_answer_share", p.slow_answer_share) ||
        !r.number(*f, "faults.", "slow_answer_ms", p.slow_answer_ms) ||
        !r.number(*f, "faults.", "late_accept_share", p.late_accept_share) ||
        !r.number(*f, "faults.", "late_accept_ms", p.late_accept_ms) ||
        !r.number(*f, "faults.", "reject_share", p.reject_share) ||
        !r.number(*f, "faults.", "partial_share", p.partial_share) ||
        !r.number(*f, "faults.", "error_5xx_share", p.error_5xx_share) ||
        !r.number(*f, "faults.", "timeout_share", p.timeout_share) ||
        !r.number(*f, "faults.", "rest_delay_ms", p.rest_delay_ms) ||
        !r.number(*f, "faults.", "clock_skew_ms", p.clock_skew_ms) ||
        !r.number(*f, "faults.", "drop_ws_every_s", p.drop_ws_every_s) ||
        !r.number(*f, "faults.", "drop_ws_probability", p.drop_ws_probability) ||
        !r.number(*f, "faults.", "stall_feed_ms", p.stall_feed_ms)) {
      return false;
    }
    if (const toml::node* n = f->get("omit_retry_after")) {
      const auto on = n->value<bool>();
      if (!on) return r.fail(n, "faults.omit_retry_after", "must be true or false");
      p.omit_retry_after = *on;
    }
  }
  out.accounts.clear();
  if (const toml::array* accounts = root["accounts"].as_array()) {
    for (const toml::node& n : *accounts) {
      const toml::table* t = n.as_table();
      if (t == nullptr) return r.fail(&n, "accounts", "must be tables");
      if (!r.only(*t, "accounts.", {"venue", "key", "secret", "balances", "bnb_fees"})) {
        return false;
      }
      AccountSpec a;
      std::string venue;
      if (!r.text(*t, "accounts.", "venue", venue, true) ||
          !r.text(*t, "accounts.", "key", a.key, true) ||
          !r.text(*t, "accounts.", "secret", a.secret, true)) {
        return false;
      }
      const std::optional<Venue> id = venues::from_name(venue);
      if (!id) {
        return r.fail(t->get("venue"), "accounts.venue", "must be binance, upbit or bithumb");
      }
      a.venue = *id;
      if (const toml::node* b = t->get("bnb_fees")) {
        const auto on = b->value<bool>();
        if (!on) return r.fail(b, "accounts.bnb_fees", "must be true or false");
        if (*on && a.venue != venues::kBinance) {
          return r.fail(b, "accounts.bnb_fees", "is a Binance option");
        }
        a.bnb_fees = *on;
      }
      if (const toml::table* b = (*t)["balances"].as_table()) {
        for (const auto& [asset, v] : *b) {
          Decimal amount;
          if (!r.decimal(*b, "accounts.balances.", std::string(asset.str()).c_str(), amount)) return false;
          a.balances[std::string(asset.str())] = amount.mantissa();
        }
      }
      out.accounts.push_back(std::move(a));
    }
  }
  return true;
}

}  // namespace xarb::sim
