// Live control (`xarb ctl`): the socket, the commands the ops thread runs, and how the thread
// hosting signal applies them. Every command and its effect is journaled, logged as a notice and
// answered with the engine's state after it took effect.

#include <nlohmann/json.hpp>
#include <sstream>

#include <xarb/app/live_keys.hpp>
#include <xarb/settings/reader.hpp>

#include "engine_internal.hpp"

namespace xarb::app::engine_detail {
namespace {

using nlohmann::json;

// What a command that changes something is answered until the hot threads run.
constexpr const char* kStarting =
    "the engine is starting (restoring, books synchronising): try again once it trades";

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The live-settable keys' values, by section: {"strategy": {"entry_bps": 45, ...}, ...}.
json live_settings(const Config& c) {
  json j = json::object();
  for (const LiveKey& k : live_keys()) {
    const std::size_t dot = k.key.find('.');
    json& v = j[std::string(k.key.substr(0, dot))][std::string(k.key.substr(dot + 1))];
    std::visit([&](auto x) { v = x; }, k.get(c));
  }
  return j;
}

// What is wrong with a command's words, before anything is done; empty: nothing.
std::string command_error(const std::vector<std::string>& w) {
  const std::string command = w.empty() ? std::string() : w[0];
  std::string error;
  if (command == "status" || command == "inventory") {
    if (w.size() != 1) error = command + " takes no argument";
  } else if (command == "pause" || command == "resume" || command == "kill" ||
             command == "clear-reducing") {
    if (w.size() != 1) error = command + " takes no argument";
  } else if (command == "flatten") {
    if (w.size() > 2) error = "flatten takes at most one symbol";
  } else if (command == "set") {
    if (w.size() < 2) error = "set takes KEY=VALUE, as in set strategy.entry_bps=35";
  } else if (command == "transfer") {
    if (w.size() != 4) {
      error =
          "transfer takes VENUE ASSET AMOUNT (+ into the venue, - out of it), as in transfer " +
          std::string(to_string(venues::kLegacyPair.first)) + " ETH -0.5";
    }
  } else {
    error = "unknown command \"" + command +
            "\"; the commands: status, inventory, pause, resume, kill, flatten [SYMBOL], "
            "clear-reducing, set KEY=VALUE, transfer VENUE ASSET AMOUNT";
  }
  return error;
}

}  // namespace

void Engine::open_control() {
  live_cfg_ = cfg_;
  if (!cfg_.control.enabled) return;
  const std::string path =
      cfg_.control.socket.empty() ? (opt_.report_dir / "xarb.sock").string() : cfg_.control.socket;
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  // The socket's thread hands each line to the ops thread and waits for its answer.
  control_ = std::make_unique<ControlServer>(path, [this](const std::string& line) {
    ControlRequest request{line, {}};
    std::future<std::string> answer = request.answer.get_future();
    {
      std::lock_guard lock(control_mu_);
      control_inbox_.push_back(&request);
    }
    while (answer.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (!ops_stop_.load()) continue;
      // The ops thread is gone (the run ended): take the request back if it is still there.
      std::lock_guard lock(control_mu_);
      const auto it = std::find(control_inbox_.begin(), control_inbox_.end(), &request);
      if (it != control_inbox_.end()) {
        control_inbox_.erase(it);
        return std::string(R"({"ok":false,"error":"the run has ended"})");
      }
      break;  // taken just now: its answer is on its way
    }
    return answer.get();
  });
  out_ << "control: " << path << " (xarb ctl --socket " << path << " status)\n";
}

// The ops thread: answers what the socket brought.
void Engine::serve_control() {
  for (;;) {
    ControlRequest* r = nullptr;
    {
      std::lock_guard lock(control_mu_);
      if (control_inbox_.empty()) return;
      r = control_inbox_.front();
      control_inbox_.pop_front();
    }
    r->answer.set_value(control(r->line));
  }
}

// Either the command is applied, or it never will be: one given up on is taken back (the thread
// hosting signal skips it), so a refused transfer or pause does not happen later behind the
// operator's back, and a retry does not apply it twice.
bool Engine::send_control(ControlCommand& c, std::string& error) {
  if (!trading_.load()) {
    error = kStarting;
    return false;
  }
  c.seq = ++control_seq_;
  if (!control_ring_.try_push(c)) {
    control_taken_.store(c.seq);  // never queued: nothing can take it
    error = "the control queue is full; try again";
    return false;
  }
  if (signal_host_ < bells_.size()) bells_[signal_host_].ring();
  // The thread hosting signal applies it within a poll round (it parks for at most 1 ms).
  const std::int64_t until = clock::mono_ns() + 2'000'000'000;
  while (control_applied_.load(std::memory_order_acquire) < c.seq) {
    if (clock::mono_ns() > until || phase_.load() >= 2) {
      std::uint64_t before = c.seq - 1;
      if (control_taken_.compare_exchange_strong(before, c.seq)) {
        error = "the strategy did not take the command within 2 s: nothing changed";
        return false;
      }
      // Taken just now: its effect is a moment away.
      while (control_applied_.load(std::memory_order_acquire) < c.seq) std::this_thread::yield();
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The thread hosting signal: applies the operators' commands between two polls.
void Engine::apply_control(bool& journal_unsafe, bool& balance_unexplained) {
  ControlCommand c;
  std::uint64_t applied = 0;
  while (control_ring_.try_pop(c)) {
    std::uint64_t before = c.seq - 1;
    if (!control_taken_.compare_exchange_strong(before, c.seq)) continue;  // given up on
    applied = c.seq;
    signal::RiskGuard& risk = strategy_->risk();
    switch (c.kind) {
      case ControlKind::pause:
        risk.set_kill_switch(true);
        break;
      case ControlKind::resume:
        if (phase_.load(std::memory_order_relaxed) == 0) risk.set_kill_switch(false);
        break;
      case ControlKind::flatten:
        strategy_->close_instrument(c.instrument, ExitReason::flatten);
        break;
      case ControlKind::clear_reducing:
        risk.set_reducing(false);
        // Their causes were checked gone by the ops thread: should one come back, it is seen.
        journal_unsafe = false;
        balance_unexplained = false;
        break;
      case ControlKind::set_params:
        strategy_->apply_live_params(c.params);
        break;
      case ControlKind::transfer:
        strategy_->inventory().apply_transfer(c.venue, c.instrument, c.qty);
        break;
    }
  }
  if (applied == 0) return;
  // The new state is published before the command counts as applied: the operator's answer,
  // built as soon as it is, shows it.
  signal_->publish_telemetry();
  control_applied_.store(applied, std::memory_order_release);
}

std::string Engine::control_state(bool with_inventory) const {
  // The report's own figures (as report.json has them: money as exact text), and what only
  // control knows: paused, stopping, the live settings.
  const json report = json::parse(report_json(build_report()));
  const signal::SignalTelemetry s = signal_ ? signal_->telemetry() : signal::SignalTelemetry{};
  json j = {{"paused", s.paused},
            {"starting", !trading_.load()},
            {"stopping", phase_.load() >= 1 || stop_requested_.load()},
            {"settings", live_settings(live_cfg_)}};
  for (const char* key :
       {"run_id", "mode", "risk_mode", "duration_s", "entries", "open_positions", "closed",
        "broken", "realized_pnl_krw", "unrealized_pnl_krw", "journal", "balances", "venues"}) {
    if (report.contains(key)) j[key] = report[key];
  }
  if (with_inventory && report.contains("inventory")) j["inventory"] = report["inventory"];
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// An operator moved an asset into (+) or out of (-) a venue: a deposit or a withdrawal the engine
// did not make (a rebalance, a top-up). Without it the reconciliation sees a balance the ledger
// cannot explain and stops entries. The ledger adds it (a `transfers` row), the strategy's
// inventory and the private stream's prediction move by it, and the balances are compared again
// at once. Nothing is sent to a venue.
std::string Engine::transfer(const std::vector<std::string>& w, std::string& error) {
  if (!live_) {
    error = "transfer is for live runs: a paper run's balances are its own";
    return {};
  }
  const std::optional<Venue> found = venues::from_name(w[1]);
  if (!found || std::find(venues_.begin(), venues_.end(), *found) == venues_.end()) {
    error = "unknown venue \"" + w[1] + "\"; this run trades on:";
    for (const Venue x : venues_) error.append(" ").append(to_string(x));
    return {};
  }
  const Venue v = *found;
  std::string asset = w[2];
  std::transform(asset.begin(), asset.end(), asset.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  const std::vector<std::string> assets = ledger_assets(symbols_, v);
  if (std::find(assets.begin(), assets.end(), asset) == assets.end()) {
    error = "the ledger keeps no " + w[2] + " on " + std::string(to_string(v)) + "; it keeps:";
    for (const std::string& a : assets) error += " " + a;
    return {};
  }
  std::string_view amount = w[3];
  if (amount.starts_with('+')) amount.remove_prefix(1);
  Decimal qty;
  if (Decimal::parse(amount, qty) != Errc::ok || qty.mantissa() == 0) {
    error = "\"" + w[3] +
            "\" is not an amount: a non-zero number with at most 8 decimals, + into the venue, - "
            "out of it";
    return {};
  }
  Decimal expected, after;
  if (!journal_->expected_balance(run_id_, v, asset, expected)) {
    error =
        "the ledger has no " + asset + " balance on " + std::string(to_string(v)) + " for this run";
    return {};
  }
  if (add(expected, qty, after) != Errc::ok || after.mantissa() < 0) {
    error = "the ledger explains " + to_string(expected) + " " + asset + " on " +
            std::string(to_string(v)) + ": " + to_string(qty) + " would leave less than nothing";
    return {};
  }
  // The strategy first: a command it does not take changes nothing. (BNB on Binance, when no
  // symbol trades it, is the ledger's alone.)
  ControlCommand c;
  c.kind = ControlKind::transfer;
  c.venue = v;
  c.qty = qty;
  const bool quote = asset == venues::quote_asset(v);
  const InstrumentId id = quote ? kNoInstrument : symbols_.find_base(asset);
  c.instrument = id;
  const bool tracked = quote || (id != kNoInstrument && !symbols_[id].is_fx);
  if (tracked && !send_control(c, error)) return {};
  try {
    journal_->record_transfer({run_id_, v, asset, qty, clock::wall_ns()});
    journal_->commit();
  } catch (const std::exception& e) {
    error = std::string(e.what()) + ": nothing recorded";
    if (tracked) {
      c.qty = Decimal::from_mantissa(-qty.mantissa());  // the strategy's inventory put back
      std::string ignored;
      if (!send_control(c, ignored)) error += " (the strategy's inventory could not be put back)";
    }
    return {};
  }
  // The private stream's balance check predicts from the fills too: it moves by the same.
  if (tracked && rest_[index(v)]) rest_[index(v)]->note_transfer(id, qty);
  if (reconciler_) reconciler_->recheck();
  return std::string(to_string(v)) + ' ' + asset + ' ' + (qty.mantissa() > 0 ? "+" : "") +
         to_string(qty) + " recorded (" + (qty.mantissa() > 0 ? "in" : "out") +
         "): the ledger now explains " + to_string(after) +
         "; nothing was sent to the venue; the balances are compared again now";
}

// Every cause that holds REDUCING now, each with what lifts it. Clear-reducing lifts nothing
// while one holds.
std::vector<std::string> Engine::reducing_causes() const {
  std::vector<std::string> causes;
  if (journal_errors_.load() != 0 || ops_.dropped() != 0) {
    causes.emplace_back("the journal lost events this run; it cannot be trusted until a restart");
  }
  for (const std::string& c : startup_causes_) causes.push_back(c);
  // A difference start-up found stays until an operator accepts it (--accept-balances) or a
  // reconciliation round after it finds every balance explained (a transfer recorded).
  if (!startup_differences_.empty() && (!reconciler_ || reconciler_->explained_rounds() == 0)) {
    for (const std::string& d : startup_differences_) {
      causes.push_back(d +
                       " (not accepted: restart with --accept-balances once understood, or "
                       "record the transfer that explains it with xarb ctl transfer)");
    }
  }
  if (reconciler_ && reconciler_->unexplained()) {
    causes.emplace_back(
        "a venue's balance differs from the ledger (xarb venue balances, xarb journal "
        "balances): record the transfer behind it, or restart with --accept-balances");
  }
  const signal::SignalTelemetry s = signal_->telemetry();
  if (s.broken_open != 0) {
    causes.push_back(std::to_string(s.broken_open) + " BROKEN position" +
                     (s.broken_open == 1 ? "" : "s") +
                     " held (a residual not hedged or an order's outcome unknown): they close "
                     "first (xarb ctl flatten)");
  }
  const exec::ExecTelemetry x = exec_->telemetry();
  if (x.unsettled != 0) {
    causes.push_back(std::to_string(x.unsettled) + " order" + (x.unsettled == 1 ? "" : "s") +
                     " whose outcome no venue has told yet");
  }
  return causes;
}

// The ops thread: one command line in, one line of JSON out.
// `flatten [SYMBOL]`: the effect, or empty with `error`.
std::string Engine::flatten_command(const std::vector<std::string>& w, std::string& error) {
  ControlCommand c;
  c.kind = ControlKind::flatten;
  if (w.size() == 2) {
    c.instrument = symbols_.find_base(w[1]);
    if (c.instrument == kNoInstrument || symbols_[c.instrument].is_fx) {
      error = "unknown symbol \"" + w[1] + "\"; traded:";
      for (const Instrument& i : symbols_) {
        if (!i.is_fx) error.append(" ").append(i.base.view());
      }
    }
  }
  if (error.empty() && send_control(c, error)) {
    return std::string("closing the open positions") + (w.size() == 2 ? " of " + w[1] : "") +
           " (entries continue unless paused)";
  }
  return {};
}

// `clear-reducing`: lifted only when no cause of REDUCING holds; else every cause, with what
// lifts it.
std::string Engine::clear_reducing(std::string& error) {
  ControlCommand c;
  const signal::SignalTelemetry s = signal_->telemetry();
  const std::vector<std::string> causes = reducing_causes();
  if (!trading_.load()) {
    error = kStarting;
  } else if (s.risk_mode != signal::RiskMode::reducing) {
    error =
        "the engine is not REDUCING (it is " + std::string(signal::to_string(s.risk_mode)) + ")";
  } else if (!causes.empty()) {
    error = "REDUCING stays: " + std::to_string(causes.size()) +
            (causes.size() == 1 ? " cause still holds:" : " causes still hold:");
    for (std::size_t k = 0; k < causes.size(); ++k) {
      error += (k == 0 ? " " : "; ") + std::to_string(k + 1) + ") " + causes[k];
    }
  } else {
    c.kind = ControlKind::clear_reducing;
    if (send_control(c, error)) return "REDUCING cleared: entries allowed again";
  }
  return {};
}

// `set KEY=VALUE`: a live-settable key, through the config's own checks.
std::string Engine::set_live(const std::vector<std::string>& w, std::string& error) {
  ControlCommand c;
  std::string assignment;
  for (std::size_t k = 1; k < w.size(); ++k) assignment += w[k];
  Config next;
  std::string key;
  if (apply_live_setting(live_cfg_, assignment, next, key, error)) {
    c.kind = ControlKind::set_params;
    c.params = strategy_params(next, symbols_);
    if (send_control(c, error)) {
      const LiveKey& k = *find_live_key(key);
      std::string effect =
          key + ": " + live_value_text(k, live_cfg_) + " -> " + live_value_text(k, next);
      live_cfg_ = next;
      return effect;
    }
  }
  return {};
}

// A command that asked for a change, and what it did: journaled and told as a notice.
void Engine::tell_control(const std::string& line, const std::string& command, bool ok,
                          const std::string& what) {
  journal_->record_control({line, ok, what, clock::wall_ns()});
  journal_->commit();
  Notice n;
  n.kind = NoticeKind::control;
  n.severity = command == "kill" && ok ? Severity::warn : Severity::info;
  n.key = "control/" + command;
  n.text = "operator: " + line + (ok ? " -> " : " refused: ") + what;
  n.fields = {{"command", line}, {"ok", ok ? "true" : "false"}};
  n.wall_ns = clock::wall_ns();
  notices_.push_back(std::move(n));
  tell(notices_);
}

std::string Engine::control(const std::string& line) {
  const std::vector<std::string> w = words(line);
  const std::string command = w.empty() ? std::string() : w[0];
  const bool reads = command == "status" || command == "inventory";  // asks for no change
  std::string effect = reads ? "none" : "", error = command_error(w);
  ControlCommand c;
  const bool stopping = phase_.load() >= 1 || stop_requested_.load();
  if (error.empty() && stopping && !reads) {
    error = "the run is stopping: only status and inventory are answered";
  }
  if (error.empty() && command == "pause") {
    c.kind = ControlKind::pause;
    if (send_control(c, error))
      effect = "entries paused; open positions are still watched and exit";
  } else if (error.empty() && command == "resume") {
    c.kind = ControlKind::resume;
    if (send_control(c, error)) effect = "entries resumed";
  } else if (error.empty() && command == "flatten") {
    effect = flatten_command(w, error);
  } else if (error.empty() && command == "clear-reducing") {
    effect = clear_reducing(error);
  } else if (error.empty() && command == "kill" && !trading_.load()) {
    // During start-up nothing trades yet: the run stops before it does.
    stop_requested_.store(true);
    effect = "start-up stopped: the run ends before trading";
  } else if (error.empty() && command == "kill") {
    c.kind = ControlKind::pause;
    ControlCommand flat;
    flat.kind = ControlKind::flatten;
    if (send_control(c, error) && send_control(flat, error)) {
      flatten_on_stop_.store(true);
      stop_requested_.store(true);
      effect = "entries stopped, closing every position, then the run ends";
    }
  } else if (error.empty() && command == "transfer") {
    effect = transfer(w, error);
  } else if (error.empty() && command == "set") {
    effect = set_live(w, error);
  }
  const bool ok = error.empty();
  json answer = {{"ok", ok}, {"command", settings::trim(line)}};
  if (ok) {
    answer["effect"] = effect;
  } else {
    answer["error"] = error;
  }
  answer["state"] = json::parse(control_state(command == "inventory" && ok));
  // Every command that asks for a change, and what it did, is journaled and told.
  if (!reads) tell_control(settings::trim(line), command, ok, ok ? effect : error);
  return answer.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace xarb::app::engine_detail
