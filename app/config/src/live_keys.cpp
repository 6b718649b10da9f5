#include <algorithm>
#include <array>
#include <sstream>

#include <xarb/app/live_keys.hpp>
#include <xarb/settings/reader.hpp>

namespace xarb::app {
namespace {

using Value = std::variant<std::int64_t, double>;

const std::array kLiveKeys = {
    LiveKey{"strategy.entry_bps", [](const Config& c) { return Value(c.strategy.entry_bps); }},
    LiveKey{"strategy.take_profit_bps",
            [](const Config& c) { return Value(c.strategy.take_profit_bps); }},
    LiveKey{"strategy.stop_loss_bps",
            [](const Config& c) { return Value(c.strategy.stop_loss_bps); }},
    LiveKey{"strategy.reversal_bps",
            [](const Config& c) { return Value(c.strategy.reversal_bps); }},
    LiveKey{"strategy.timeout_s", [](const Config& c) { return Value(c.strategy.timeout_s); }},
    LiveKey{"strategy.cooldown_s", [](const Config& c) { return Value(c.strategy.cooldown_s); }},
    LiveKey{"strategy.max_open_per_symbol",
            [](const Config& c) { return Value(std::int64_t{c.strategy.max_open_per_symbol}); }},
    LiveKey{"strategy.max_open_total",
            [](const Config& c) { return Value(std::int64_t{c.strategy.max_open_total}); }},
    LiveKey{"strategy.min_depth_ratio",
            [](const Config& c) { return Value(c.strategy.min_depth_ratio); }},
    LiveKey{"strategy.slippage_bps",
            [](const Config& c) { return Value(c.strategy.slippage_bps); }},
    LiveKey{"risk.daily_loss_limit_krw",
            [](const Config& c) { return Value(c.risk.daily_loss_limit_krw); }},
    LiveKey{"risk.max_total_exposure_krw",
            [](const Config& c) { return Value(c.risk.max_total_exposure_krw); }},
    LiveKey{"risk.max_symbol_exposure_krw",
            [](const Config& c) { return Value(c.risk.max_symbol_exposure_krw); }},
    LiveKey{"risk.max_notional_krw",
            [](const Config& c) { return Value(c.risk.max_notional_krw); }},
    LiveKey{"risk.max_consecutive_failures",
            [](const Config& c) { return Value(std::int64_t{c.risk.max_consecutive_failures}); }},
    LiveKey{"inventory.prefer_bps", [](const Config& c) { return Value(c.inventory.prefer_bps); }},
};

}  // namespace

std::span<const LiveKey> live_keys() { return kLiveKeys; }

const LiveKey* find_live_key(std::string_view key) {
  for (const LiveKey& k : kLiveKeys) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::string live_value_text(const LiveKey& k, const Config& c) {
  return std::visit(
      [](auto v) {
        if constexpr (std::is_same_v<decltype(v), double>) {
          std::string s = settings::number_text(v);
          // A double reads as one: 7.5, 0.0, 35.0.
          if (s.find_first_of(".eE") == std::string::npos) s += ".0";
          return s;
        } else {
          return std::to_string(v);
        }
      },
      k.get(c));
}

bool apply_live_setting(const Config& running, const std::string& assignment, Config& out,
                        std::string& key, std::string& error) {
  const std::size_t eq = assignment.find('=');
  if (eq == std::string::npos) {
    error = "set takes KEY=VALUE, as in set strategy.entry_bps=35";
    return false;
  }
  key = settings::trim(std::string_view(assignment).substr(0, eq));
  const std::string value = settings::trim(std::string_view(assignment).substr(eq + 1));
  if (find_live_key(key) == nullptr) {
    error = key + " cannot be changed while the engine runs; these can:";
    for (const LiveKey& k : kLiveKeys) error.append(" ").append(k.key);
    return false;
  }
  return apply_setting(running, key, value, out, error);
}

bool apply_setting(const Config& config, std::string_view key, std::string_view value,
                   Config& out, std::string& error) {
  try {
    toml::table root = toml::parse(dump_config(config));
    const toml::table parsed = toml::parse("v = " + std::string(value));
    // Down the dotted path, making the tables it names.
    toml::table* section = &root;
    std::string_view rest = key;
    for (std::size_t dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
      const std::string name(rest.substr(0, dot));
      if (section->get(name) == nullptr) section->insert(name, toml::table{});
      section = section->get(name)->as_table();
      if (section == nullptr) {
        error = std::string(key) + ": " + name + " is not a table";
        return false;
      }
      rest.remove_prefix(dot + 1);
    }
    section->insert_or_assign(std::string(rest), *parsed.get("v"));
    std::ostringstream text;
    text << root;
    const LoadResult r = parse_config(text.str(), "set");
    if (!r.ok()) {
      error = r.errors[0].key + ": " + r.errors[0].message;
      return false;
    }
    out = r.config;
  } catch (const toml::parse_error&) {
    error = std::string(key) + ": \"" + std::string(value) +
            "\" is not a value (a number, as in 35 or 0.5, or a quoted string)";
    return false;
  }
  return true;
}

}  // namespace xarb::app
