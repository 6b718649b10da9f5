#pragma once

// What an operator must hear about, found on the ops thread: the watch compares each report
// snapshot with the last (risk mode, balances against the ledger, venue health, private streams,
// journal errors, a direction out of inventory) and reads the ops events that say it directly (a
// position gone BROKEN, the daily loss limit). Each finding is a Notice: the structured log writes
// every one, the alerts send them on.

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <xarb/app/config.hpp>
#include <xarb/app/report.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>

namespace xarb::app {

enum class NoticeKind : std::uint8_t {
  started,
  stopped,
  halted,
  resumed,  // out of HALTED
  reducing,
  reducing_cleared,
  broken,  // a position went BROKEN
  balance_difference,
  balance_explained,  // a difference is gone
  venue_unhealthy,
  venue_recovered,
  stream_down,  // a private stream down for longer than the threshold
  stream_recovered,
  journal_error,
  daily_loss,
  control,             // an operator's command and its effect
  inventory_floor,     // a direction can no longer take a whole entry: an asset at its floor
  inventory_restored,  // it can again
};
[[nodiscard]] const char* to_string(NoticeKind k) noexcept;

struct Notice {
  NoticeKind kind = NoticeKind::started;
  Severity severity = Severity::info;
  std::string key;   // what it is about, for de-duplication: "venue_unhealthy/upbit"
  std::string text;  // one line for a person
  std::vector<std::pair<std::string, std::string>> fields;  // venue, asset, position, ...
  std::int64_t wall_ns = 0;
};

class OpsWatch {
 public:
  OpsWatch(const SymbolMap& symbols, std::int64_t stream_down_after_ns) noexcept
      : symbols_(symbols), stream_down_after_ns_(stream_down_after_ns) {}

  // A report snapshot at `mono_ns`: appends a notice for each change since the last one. The
  // first snapshot is the baseline, except what is already wrong in it (REDUCING carried over, an
  // unexplained balance, a venue down).
  void observe(const RunReport& r, std::int64_t mono_ns, std::int64_t wall_ns,
               std::vector<Notice>& out);
  // An ops event: a position that went BROKEN, a refusal for the daily loss limit.
  void on_event(const OpsEvent& e, std::vector<Notice>& out);

 private:
  // observe()'s parts.
  void watch_risk(const RunReport& r, bool first, std::int64_t wall_ns, std::vector<Notice>& out);
  void watch_balances(const RunReport& r, std::int64_t wall_ns, std::vector<Notice>& out);
  void watch_inventory(const RunReport& r, std::int64_t wall_ns, std::vector<Notice>& out);
  void watch_venues(const RunReport& r, std::int64_t mono_ns, std::int64_t wall_ns,
                    std::vector<Notice>& out);
  void watch_journal(const RunReport& r, std::int64_t wall_ns, std::vector<Notice>& out);
  [[nodiscard]] std::string symbol(InstrumentId i) const;

  const SymbolMap& symbols_;
  std::int64_t stream_down_after_ns_;
  bool first_ = true;
  std::string risk_mode_ = "normal";
  std::uint64_t journal_errors_ = 0;
  std::uint64_t broken_ = 0;
  std::array<bool, kMaxVenues> healthy_{true, true, true, true};
  std::array<std::int64_t, kMaxVenues> stream_down_since_{};  // 0: up (or none)
  std::array<bool, kMaxVenues> stream_told_{};                // a stream_down notice went out
  std::vector<std::string> unexplained_;                      // "upbit/KRW"
  std::vector<std::string> starved_;  // "upbit-binance/BTC/kimchi": no whole entry left
  bool daily_loss_told_ = false;
};

}  // namespace xarb::app
