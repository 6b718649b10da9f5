#pragma once

// The keys `xarb ctl set` may change while positions are open: thresholds and limits the
// strategy reads at each decision (pairs, symbols, sizes, fees, books and FX are not among them).
// One table: `ctl set` checks against it, `xarb config check` lists it, the README's list is
// checked against it (tests/app/config_test.cpp).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include <xarb/app/config.hpp>

namespace xarb::app {

struct LiveKey {
  std::string_view key;  // "strategy.entry_bps"
  std::variant<std::int64_t, double> (*get)(const Config&);
};

[[nodiscard]] std::span<const LiveKey> live_keys();
[[nodiscard]] const LiveKey* find_live_key(std::string_view key);

// `key` (a dotted path: strategy.entry_bps, venues.binance.taker_fee_bps) set to `value` (TOML:
// 35, 0.5, "ewma") in `config`, read again through the config's own checks into `out`. False with
// `error` (the config's words) when the key or the value is refused. What `xarb sweep` varies.
[[nodiscard]] bool apply_setting(const Config& config, std::string_view key, std::string_view value,
                                 Config& out, std::string& error);

// "KEY=VALUE" applied to `running`: the running config with that one value changed, read again
// through the config's own checks, into `out`. False with `error` (the config's words, or which
// keys can change) when the key is not live-settable or the value is refused; `key` names it.
[[nodiscard]] bool apply_live_setting(const Config& running, const std::string& assignment,
                                      Config& out, std::string& key, std::string& error);

// The value of a live key as text ("35", "0.5").
[[nodiscard]] std::string live_value_text(const LiveKey& k, const Config& c);

}  // namespace xarb::app
