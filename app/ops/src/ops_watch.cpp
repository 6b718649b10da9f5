#include <algorithm>

#include <xarb/app/config.hpp>
#include <xarb/app/ops_watch.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

const char* to_string(NoticeKind k) noexcept {
  switch (k) {
    case NoticeKind::started:
      return "started";
    case NoticeKind::stopped:
      return "stopped";
    case NoticeKind::halted:
      return "halted";
    case NoticeKind::resumed:
      return "resumed";
    case NoticeKind::reducing:
      return "reducing";
    case NoticeKind::reducing_cleared:
      return "reducing_cleared";
    case NoticeKind::broken:
      return "broken";
    case NoticeKind::balance_difference:
      return "balance_difference";
    case NoticeKind::balance_explained:
      return "balance_explained";
    case NoticeKind::venue_unhealthy:
      return "venue_unhealthy";
    case NoticeKind::venue_recovered:
      return "venue_recovered";
    case NoticeKind::stream_down:
      return "stream_down";
    case NoticeKind::stream_recovered:
      return "stream_recovered";
    case NoticeKind::journal_error:
      return "journal_error";
    case NoticeKind::daily_loss:
      return "daily_loss";
    case NoticeKind::control:
      return "control";
    case NoticeKind::inventory_floor:
      return "inventory_floor";
    case NoticeKind::inventory_restored:
      return "inventory_restored";
  }
  return "unknown";
}

namespace {

Notice notice(NoticeKind kind, Severity severity, std::string key, std::string text,
              std::int64_t wall_ns) {
  Notice n;
  n.kind = kind;
  n.severity = severity;
  n.key = std::move(key);
  n.text = std::move(text);
  n.wall_ns = wall_ns;
  return n;
}

// Why the engine is REDUCING, as the report shows it: the first cause found, in the order the
// engine would have acted on them.
std::string reducing_why(const RunReport& r, std::uint64_t broken_before) {
  for (const BalanceReport& b : r.balances) {
    if (b.unexplained) {
      return "a balance differs from the ledger (" + std::string(to_string(b.venue)) + " " +
             b.asset + ": held " + to_string(b.held) + ", expected " + to_string(b.expected) + ")";
    }
  }
  if (r.journal_errors > 0) return "the journal failed to write";
  if (r.broken > broken_before || r.broken > 0) return "a position went BROKEN";
  return "carried over from an earlier run (clear it once checked)";
}

}  // namespace

std::string OpsWatch::symbol(InstrumentId i) const {
  return i < symbols_.size() ? std::string(symbols_[i].base.view()) : std::string("?");
}

void OpsWatch::observe(const RunReport& r, std::int64_t mono_ns, std::int64_t wall_ns,
                       std::vector<Notice>& out) {
  const bool first = std::exchange(first_, false);
  watch_risk(r, first, wall_ns, out);
  watch_balances(r, wall_ns, out);
  watch_inventory(r, wall_ns, out);
  watch_venues(r, mono_ns, wall_ns, out);
  watch_journal(r, wall_ns, out);
}

// Risk mode: REDUCING, HALTED and their end.
void OpsWatch::watch_risk(const RunReport& r, bool first, std::int64_t wall_ns,
                          std::vector<Notice>& out) {
  if (r.risk_mode != risk_mode_ && !(first && r.risk_mode == "normal")) {
    if (r.risk_mode == "reducing") {
      Notice n =
          notice(NoticeKind::reducing, Severity::page, "risk/reducing",
                 "REDUCING (exits only until an operator clears it): " + reducing_why(r, broken_),
                 wall_ns);
      n.fields.emplace_back("why", reducing_why(r, broken_));
      out.push_back(std::move(n));
    } else if (r.risk_mode == "halted") {
      out.push_back(notice(NoticeKind::halted, Severity::warn, "risk/halted",
                           "HALTED: the circuit breaker tripped (failed executions in a row); no "
                           "entries until its cool-down ends",
                           wall_ns));
    } else if (risk_mode_ == "reducing") {
      out.push_back(notice(NoticeKind::reducing_cleared, Severity::info, "risk/reducing",
                           "REDUCING cleared: entries allowed again", wall_ns));
    } else {
      out.push_back(notice(NoticeKind::resumed, Severity::info, "risk/halted",
                           "resumed from HALTED: entries allowed again", wall_ns));
    }
  }
  risk_mode_ = r.risk_mode;
  broken_ = r.broken;
  if (r.entries > 0 && risk_mode_ == "normal") daily_loss_told_ = false;
}

// Balances against the ledger: a difference confirmed, and its end.
void OpsWatch::watch_balances(const RunReport& r, std::int64_t wall_ns, std::vector<Notice>& out) {
  std::vector<std::string> now_unexplained;
  for (const BalanceReport& b : r.balances) {
    if (!b.unexplained) continue;
    std::string key = std::string(to_string(b.venue)) + "/" + b.asset;
    if (std::find(unexplained_.begin(), unexplained_.end(), key) == unexplained_.end()) {
      Notice n = notice(NoticeKind::balance_difference, Severity::page, "balance/" + key,
                        std::string(to_string(b.venue)) + " " + b.asset +
                            " differs from the ledger: held " + to_string(b.held) + ", expected " +
                            to_string(b.expected) + ", difference " + to_string(b.difference()) +
                            " (entries stopped)",
                        wall_ns);
      n.fields = {{"venue", std::string(to_string(b.venue))},
                  {"asset", b.asset},
                  {"held", to_string(b.held)},
                  {"expected", to_string(b.expected)},
                  {"difference", to_string(b.difference())}};
      out.push_back(std::move(n));
    }
    now_unexplained.push_back(std::move(key));
  }
  for (const std::string& key : unexplained_) {
    if (std::find(now_unexplained.begin(), now_unexplained.end(), key) == now_unexplained.end()) {
      out.push_back(notice(NoticeKind::balance_explained, Severity::info, "balance/" + key,
                           key + ": the balance matches the ledger again", wall_ns));
    }
  }
  unexplained_ = std::move(now_unexplained);
}

// Inventory: a direction that can no longer take a whole entry, and its return.
void OpsWatch::watch_inventory(const RunReport& r, std::int64_t wall_ns, std::vector<Notice>& out) {
  std::vector<std::string> now_starved;
  for (const HeadroomReport& h : r.headroom) {
    if (!h.known || h.entries > 0) continue;
    std::string key = h.pair + "/" + h.symbol + "/" + h.direction;
    if (std::find(starved_.begin(), starved_.end(), key) == starved_.end()) {
      Notice n = notice(NoticeKind::inventory_floor, Severity::warn, "inventory/" + key,
                        h.direction + " " + h.symbol + " on " + h.pair +
                            " cannot take another entry: " + h.bound_by +
                            " is at its floor (room for " + to_string(h.qty) + " " + h.symbol +
                            "); the other direction is preferred, and `xarb inventory` has the "
                            "rebalance plan",
                        wall_ns);
      n.fields = {{"pair", h.pair},
                  {"symbol", h.symbol},
                  {"direction", h.direction},
                  {"bound_by", h.bound_by},
                  {"qty", to_string(h.qty)}};
      out.push_back(std::move(n));
    }
    now_starved.push_back(std::move(key));
  }
  for (const std::string& key : starved_) {
    if (std::find(now_starved.begin(), now_starved.end(), key) == now_starved.end()) {
      out.push_back(notice(NoticeKind::inventory_restored, Severity::info, "inventory/" + key,
                           key + ": room for a whole entry again", wall_ns));
    }
  }
  starved_ = std::move(now_starved);
}

// Each venue's health and private stream.
void OpsWatch::watch_venues(const RunReport& r, std::int64_t mono_ns, std::int64_t wall_ns,
                            std::vector<Notice>& out) {
  for (const Venue v : r.traded) {
    const VenueReport& s = r.venues[index(v)];
    const std::string name(to_string(v));
    // Health (exec can reach the venue).
    if (s.healthy != healthy_[index(v)]) {
      Notice n = s.healthy ? notice(NoticeKind::venue_recovered, Severity::info, "venue/" + name,
                                    name + " is reachable again", wall_ns)
                           : notice(NoticeKind::venue_unhealthy, Severity::warn, "venue/" + name,
                                    name + " is unhealthy: no new entries on it", wall_ns);
      n.fields.emplace_back("venue", name);
      out.push_back(std::move(n));
      healthy_[index(v)] = s.healthy;
    }
    // The private stream, once down for longer than the threshold.
    if (!s.private_stream) continue;
    std::int64_t& since = stream_down_since_[index(v)];
    if (!s.stream_up) {
      if (since == 0) since = mono_ns;
      if (!stream_told_[index(v)] && mono_ns - since >= stream_down_after_ns_) {
        stream_told_[index(v)] = true;
        Notice n =
            notice(NoticeKind::stream_down, Severity::warn, "stream/" + name,
                   name + "'s private stream has been down for " +
                       std::to_string((mono_ns - since) / 1'000'000'000) + " s: fills are polled",
                   wall_ns);
        n.fields.emplace_back("venue", name);
        out.push_back(std::move(n));
      }
    } else {
      if (stream_told_[index(v)]) {
        Notice n = notice(NoticeKind::stream_recovered, Severity::info, "stream/" + name,
                          name + "'s private stream is up again", wall_ns);
        n.fields.emplace_back("venue", name);
        out.push_back(std::move(n));
      }
      since = 0;
      stream_told_[index(v)] = false;
    }
  }
}

// The journal: writes that failed.
void OpsWatch::watch_journal(const RunReport& r, std::int64_t wall_ns, std::vector<Notice>& out) {
  if (r.journal_errors > journal_errors_) {
    out.push_back(notice(NoticeKind::journal_error, Severity::page, "journal",
                         "the journal failed to write (" + std::to_string(r.journal_errors) +
                             " errors): entries stopped",
                         wall_ns));
  }
  journal_errors_ = r.journal_errors;
}

void OpsWatch::on_event(const OpsEvent& e, std::vector<Notice>& out) {
  if (const auto* p = std::get_if<PositionChange>(&e.body)) {
    if (p->to != PositionState::broken || p->from == PositionState::broken) return;
    Notice n =
        notice(NoticeKind::broken, Severity::page, "broken/" + std::to_string(p->position_id),
               "position " + std::to_string(p->position_id) + " (" + symbol(p->instrument) + ", " +
                   to_string(p->pair) +
                   ") went BROKEN: a leg is not hedged; the engine unwinds or asks the "
                   "venue",
               e.wall_ns);
    n.fields = {{"position", std::to_string(p->position_id)},
                {"symbol", symbol(p->instrument)},
                {"pair", to_string(p->pair)},
                {"qty", to_string(p->qty)}};
    out.push_back(std::move(n));
  } else if (const auto* refusal = std::get_if<RiskRefusal>(&e.body)) {
    if (refusal->reason != RefusalReason::daily_loss || daily_loss_told_) return;
    daily_loss_told_ = true;
    out.push_back(notice(NoticeKind::daily_loss, Severity::page, "daily_loss",
                         "the daily loss limit is reached: entries refused until the trading day "
                         "rolls over",
                         e.wall_ns));
  }
}

}  // namespace xarb::app
