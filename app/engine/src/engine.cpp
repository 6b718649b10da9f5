#include <sstream>

#include <xarb/app/engine.hpp>
#include <xarb/app/stop_signals.hpp>

#include "engine_internal.hpp"

namespace xarb::app {
namespace engine_detail {

// The hot threads' layout from the config, checked against this host's CPUs.
bool Engine::plan_threads(std::string& error) {
  const std::vector<int> allowed = tuning::allowed_cpus();
  layout_ = cfg_.threads.hot;
  std::vector<tuning::ThreadPlan> plan;
  for (const ThreadConfig& t : layout_) {
    const WaitStrategy w = resolve_wait(t.wait, static_cast<unsigned>(allowed.size()),
                                        static_cast<unsigned>(layout_.size()));
    waits_.push_back(w);
    plan.push_back({t.name, t.cpu, w, true});
  }
  plan.push_back({"ops", cfg_.threads.ops_cpu, WaitStrategy::park, false});
  if (layout_.empty() || layout_.size() > kMaxThreads - 1) {
    error = "[threads]: between 1 and 7 hot threads";
    return false;
  }
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    if (hosts(layout_[k], HotStage::feed)) feed_host_ = k;
    if (hosts(layout_[k], HotStage::signal)) signal_host_ = k;
    if (hosts(layout_[k], HotStage::exec)) exec_host_ = k;
  }
  bool fatal = false;
  for (const auto& p : tuning::validate_layout(plan, allowed, tuning::online_cpus())) {
    (p.fatal ? err_ : out_) << (p.fatal ? "error" : "warning") << ": [threads] " << p.thread << ": "
                            << p.message << '\n';
    fatal = fatal || p.fatal;
  }
  if (fatal) {
    error = "the thread layout does not fit this host";
    return false;
  }
  return true;
}

// The journal, refused when it holds runs of the other mode (unless shared), and this run begun.
bool Engine::open_journal(int& exit_code, std::string& error) {
  try {
    journal_ = std::make_unique<Journal>(cfg_.journal.path,
                                         static_cast<int>(cfg_.journal.busy_timeout_ms));
    // Paper and live never share positions: a paper run on a live journal would restore the live
    // positions and "close" them with paper fills, and the next live run would take the paper
    // run's positions for real ones. The easy slip is forgetting --live on a live config.
    const std::string_view other = live_ ? "paper" : "live";
    if (const std::uint64_t n = journal_->runs_of_mode(other); n != 0 && !opt_.share_journal) {
      exit_code = 2;
      error = "journal " + cfg_.journal.path + " holds " + std::to_string(n) + " " +
              std::string(other) + " run" + (n == 1 ? "" : "s") + "; a " + mode_name() +
              " run does not use it" + (live_ ? "" : " (did you mean --live?)") +
              ". Give each mode its own [journal] path, or pass --share-journal (the "
              "modes' positions stay apart)";
      return false;
    }
    open_event_log();
    journal_->begin_run(run_id_, clock::wall_ns(), mode_name(), opt_.config_text, symbols_);
  } catch (const std::exception& e) {
    exit_code = 1;
    error = e.what();
    return false;
  }
  return true;
}

// The running reconciliation of the venues' balances against the ledger (live).
void Engine::start_reconciler() {
  reconciler_ = std::make_unique<Reconciler>(
      cfg_, symbols_, cfg_.journal.path, run_id_,
      // An order no venue has settled yet may still move a balance: no difference in it is
      // confirmed while one is out. An order moves its instrument's base and the venue's
      // quote (and the asset its commissions may be paid in, Binance's BNB).
      [this](Venue v, const std::string& asset) {
        const std::uint64_t busy = exec_->telemetry().busy[index(v)];
        const InstrumentId id = symbols_.find_base(asset);
        const bool any_order_moves_it = id == kNoInstrument || symbols_[id].is_fx ||
                                        asset == venues::quote_asset(v) ||
                                        asset == venues::fee_asset(v);
        return any_order_moves_it ? busy == 0 : ((busy >> id) & 1U) == 0;
      },
      err_, out_mu_);
  reconciler_->start();
}

RunResult Engine::run() {
  RunResult result;
  live_ = opt_.live;
  if (opt_.live && cfg_.mode != Mode::live) {
    result.exit_code = 2;
    result.error = "--live needs mode = \"live\" in the config; it says \"" +
                   std::string(to_string(cfg_.mode)) + "\"";
    return result;
  }
  if (!opt_.live && cfg_.mode == Mode::live) {
    out_ << "config says mode = \"live\" but --live was not given: running in paper mode\n";
  }
  symbols_ = build_symbol_map(cfg_);
  run_id_ = static_cast<std::uint64_t>(clock::wall_ns() / 1'000'000);

  // Thread layout: validated before anything connects.
  if (std::string error; !plan_threads(error)) {
    result.exit_code = 2;
    result.error = error;
    return result;
  }
  if (!opt_.record_path.empty()) {
    recording_ = std::make_unique<RecordingWriter>();
    if (std::string why; !recording_->open(opt_.record_path, why)) {
      result.exit_code = 2;
      result.error = "--record: " + why;
      return result;
    }
    recording_->header(recording_header(cfg_, "xarb run"), cfg_);
    tap_ = std::make_unique<RecordingTap>(opt_.record_buffer_bytes);
  }
  if (!open_journal(result.exit_code, result.error)) return result;
  out_ << "run " << run_id_ << " (" << mode_name() << "), journal " << cfg_.journal.path << '\n';

  std::string error;
  if (!start_venues(error) || !restore(error)) {
    result.exit_code = 1;
    result.error = error;
    journal_->end_run(clock::wall_ns(), "{}");
    return result;
  }
  if (cfg_.metrics.port != 0) {
    try {
      metrics_ = std::make_unique<MetricsServer>(cfg_.metrics.bind, cfg_.metrics.port);
      out_ << "metrics: http://" << cfg_.metrics.bind << ':' << metrics_->port() << "/metrics\n";
    } catch (const std::exception& e) {
      result.exit_code = 1;
      result.error = e.what();
      journal_->end_run(clock::wall_ns(), "{}");
      return result;
    }
  }

  // Status answers what start-up found (REDUCING, restored positions) from its first command.
  publish_telemetry(feed_ != nullptr, signal_ != nullptr, exec_ != nullptr);
  try {
    open_control();
  } catch (const std::exception& e) {
    result.exit_code = 1;
    result.error = e.what();
    journal_->end_run(clock::wall_ns(), "{}");
    return result;
  }

  started_mono_ = clock::mono_ns();
  ops_thread_ = std::jthread([this] { ops_loop(); });
  if (!warm_up(error)) {
    result.exit_code = 1;
    result.error = error;
    {
      std::lock_guard lock(out_mu_);
      err_ << error << '\n';
    }
    phase_.store(2);
    ended_mono_.store(clock::mono_ns());
    finish(result);
    result.exit_code = 1;
    return result;
  }
  start_threads();
  if (live_ && cfg_.risk.reconcile_every_s > 0) start_reconciler();
  // The main thread waits for the end: the duration, a signal, or the caller's stop flag.
  const std::int64_t end_ns =
      opt_.duration.count() > 0
          ? clock::mono_ns() +
                std::chrono::duration_cast<std::chrono::nanoseconds>(opt_.duration).count()
          : INT64_MAX;
  while (!stop_.load() && !detail::stop_signalled() && !stop_requested_.load() &&
         clock::mono_ns() < end_ns) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  wind_down();
  finish(result);
  return result;
}

bool Engine::ready(std::string& missing) const {
  const std::int64_t now = clock::mono_ns();
  for (const Instrument& s : symbols_) {
    if (s.is_fx) continue;  // the FX book feeds the rate, checked below
    // The books the strategy trades on: its pairs' (a symbol a venue of a pair does not list
    // is not traded on that pair).
    for (const signal::PairParams& pp : strategy_->pairs()) {
      const VenuePair pair = pp.pair;
      if (!s.listed_on(pair.first) || !s.listed_on(pair.second)) continue;
      for (const Venue v : {pair.first, pair.second}) {
        if (!strategy_->have_book(s.id, v) || !strategy_->book(s.id, v).tradable()) {
          missing = std::string(to_string(v)) + " " + std::string(s.symbol(v)) + " book";
          return false;
        }
      }
    }
  }
  const auto q = strategy_->fx().quote(now);
  if (strategy_->needs_fx() && q.refusal != RefusalReason::none) {
    missing = "FX rate (" + std::string(to_string(q.refusal)) + ")";
    return false;
  }
  return true;
}

// Start-up on the main thread: the feeds connect and the books synchronise while every stage is
// polled in turn (the same poll steps the hot threads run later), entries still switched off.
bool Engine::warm_up(std::string& error) {
  feed_->start();
  const std::int64_t t0 = clock::mono_ns();
  const std::int64_t deadline =
      t0 + std::chrono::duration_cast<std::chrono::nanoseconds>(opt_.startup_timeout).count();
  std::string missing = "books";
  std::int64_t next_publish = 0;
  while (clock::mono_ns() < deadline) {
    if (stop_.load() || detail::stop_signalled() || stop_requested_.load()) {
      error = "stopped during start-up";
      return false;
    }
    feed_->run_for(std::chrono::milliseconds(2));
    signal_->poll(1024);
    exec_->poll(clock::mono_ns());
    // What status answers during start-up: the hot threads publish from the time they run.
    if (const std::int64_t now = clock::mono_ns(); now >= next_publish) {
      next_publish = now + kPublishEveryNs;
      publish_telemetry(true, true, true);
    }
    if (ready(missing)) {
      out_ << "start-up: books synchronised and FX " << strategy_->fx().last() << " KRW/USDT after "
           << (clock::mono_ns() - t0) / 1'000'000 << " ms\n";
      strategy_->risk().set_kill_switch(cfg_.risk.kill_switch);
      if (cfg_.risk.kill_switch) out_ << "start-up: kill switch on (config): exits only\n";
      return true;
    }
  }
  error = "start-up: no usable " + missing + " within " +
          std::to_string(opt_.startup_timeout.count()) + " ms";
  for (const Venue v : venues_) {
    const auto& s = feed_->stats(v);
    if (!s.last_error.empty())
      error += "; " + std::string(to_string(v)) + ": " + std::string(s.last_error.view());
  }
  return false;
}

void Engine::start_threads() {
  // A member, not a local: a thread may still be inside arrive_and_wait() after the last
  // arrival released this one.
  go_ = std::make_unique<std::latch>(static_cast<std::ptrdiff_t>(layout_.size()) + 1);
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    threads_.emplace_back([this, k] { host_loop(k, *go_); });
  }
  go_->arrive_and_wait();
  trading_.store(true);
  std::lock_guard lock(out_mu_);
  out_ << "trading: ";
  for (std::size_t k = 0; k < layout_.size(); ++k) {
    out_ << (k == 0 ? "" : ", ") << layout_[k].name << " [" << stages_text(layout_[k]) << "] cpu "
         << (layout_[k].cpu < 0 ? std::string("any") : std::to_string(layout_[k].cpu)) << ' '
         << to_string(waits_[k]);
  }
  out_ << '\n';
}

// One hot thread: its stages polled round robin, the wait strategy when a round finds nothing.
void Engine::host_loop(std::size_t k, std::latch& go) {
  const ThreadConfig& t = layout_[k];
  tuning::name_current_thread(t.name);
  if (t.cpu >= 0) {
    std::string why;
    if (!tuning::pin_current_thread(t.cpu, why)) {
      std::lock_guard lock(out_mu_);
      (live_ ? err_ : out_) << (live_ ? "error: " : "warning: ") << t.name << ": " << why << '\n';
      if (live_) phase_.store(2);
    }
  }
  const bool has_feed = hosts(t, HotStage::feed);
  const bool has_signal = hosts(t, HotStage::signal);
  const bool has_exec = hosts(t, HotStage::exec);
  const WaitStrategy wait = waits_[k];
  Doorbell& bell = bells_[k];
  // Threads whose input another thread produces are woken by its doorbell; sockets are polled
  // at least this often when parked.
  const bool cross_thread_input =
      (has_signal && (feed_host_ != k || exec_host_ != k)) || (has_exec && signal_host_ != k);
  bool entries_stopped = false;
  bool journal_unsafe = false;
  bool balance_unexplained = false;
  std::int64_t next_publish = 0;
  std::int64_t idle_since = 0;
  go.arrive_and_wait();

  while (phase_.load(std::memory_order_relaxed) < 2) {
    const std::uint32_t epoch = bell.epoch();
    std::size_t work = 0;
    if (has_feed) {
      const std::size_t n = feed_->poll();
      work += n;
      if (n != 0 && signal_host_ != k) bells_[signal_host_].ring();
    }
    if (has_signal) {
      // The journal cannot silently lose what reached a venue: a dropped ops event or a failed
      // write stops entries.
      if (!journal_unsafe &&
          (ops_.dropped() != 0 || journal_errors_.load(std::memory_order_relaxed) != 0)) {
        journal_unsafe = true;
        strategy_->risk().set_reducing(true);
      }
      // A venue holds what the ledger cannot explain: entries stop.
      if (!balance_unexplained && reconciler_ && reconciler_->unexplained()) {
        balance_unexplained = true;
        strategy_->risk().set_reducing(true);
      }
      apply_control(journal_unsafe, balance_unexplained);
      if (!entries_stopped && phase_.load(std::memory_order_relaxed) >= 1) {
        entries_stopped = true;
        strategy_->risk().set_kill_switch(true);
        if (flatten_at_end()) strategy_->close_all(ExitReason::flatten);
      }
      const std::size_t n = signal_->poll();
      work += n;
      if (n != 0 && exec_host_ != k) bells_[exec_host_].ring();
    }
    if (has_exec) {
      const std::size_t n = exec_->poll(clock::mono_ns());
      work += n;
      if (n != 0 && signal_host_ != k) bells_[signal_host_].ring();
    }
    const std::int64_t now = clock::mono_ns();
    if (now >= next_publish) {
      next_publish = now + kPublishEveryNs;
      publish_telemetry(has_feed, has_signal, has_exec);
      thread_cpu_ns_[k].store(static_cast<std::uint64_t>(tuning::current_thread_cpu_ns()),
                              std::memory_order_relaxed);
    }
    if (work != 0) {
      idle_since = 0;
      continue;
    }
    if (wait == WaitStrategy::spin) {
      cpu_relax();
      continue;
    }
    if (wait == WaitStrategy::spin_then_park) {
      if (idle_since == 0) idle_since = now;
      if (now - idle_since < 50'000) {
        cpu_relax();
        continue;
      }
    }
    // Park: on the feed's sockets when this thread owns them, else on the doorbell. Orders in
    // flight shorten the nap: their answers arrive on exec's sockets, which nothing rings for.
    const bool orders_out = has_exec && executor_->active() != 0;
    const std::int64_t nap = (orders_out || cross_thread_input) ? 100'000 : 1'000'000;
    if (has_feed) {
      feed_->wait(
          std::chrono::nanoseconds(cross_thread_input ? std::min<std::int64_t>(nap, 50'000) : nap));
    } else {
      bell.wait(epoch, nap);
    }
  }
  publish_telemetry(has_feed, has_signal, has_exec);
  thread_cpu_ns_[k].store(static_cast<std::uint64_t>(tuning::current_thread_cpu_ns()),
                          std::memory_order_relaxed);
}

// The named stages publish their figures. Called by the thread hosting them.
void Engine::publish_telemetry(bool with_feed, bool with_signal, bool with_exec) noexcept {
  if (with_feed) feed_->publish_telemetry();
  if (with_signal) signal_->publish_telemetry();
  if (with_exec) exec_->publish_telemetry();
}

void Engine::open_event_log() {
  watch_ = std::make_unique<OpsWatch>(symbols_, cfg_.alerts.stream_down_after_s * 1'000'000'000);
  std::vector<AlertChannel> channels;
  std::string error;
  if (!load_alert_channels(cfg_.alerts, channels, error)) throw std::runtime_error(error);
  if (!channels.empty()) {
    std::string names;
    for (const AlertChannel& c : channels)
      names += std::string(names.empty() ? "" : ", ") + to_string(c.kind);
    alerter_ = std::make_unique<Alerter>(cfg_.alerts, std::move(channels), run_id_);
    out_ << "alerts: " << names << " (" << to_string(cfg_.alerts.min_severity) << " and above)\n";
  }
  if (cfg_.log.json) {
    const std::filesystem::path path = cfg_.log.path.empty() ? opt_.report_dir / "events.jsonl"
                                                             : std::filesystem::path(cfg_.log.path);
    std::error_code ec;
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
    events_ =
        std::make_unique<EventLog>(path, static_cast<std::size_t>(cfg_.log.max_mib) * 1024 * 1024,
                                   static_cast<std::size_t>(cfg_.log.files), symbols_, run_id_);
    events_->run_started(clock::wall_ns(), mode_name(), venues_);
    out_ << "events: " << path.string() << '\n';
  }
  Notice n;
  n.kind = NoticeKind::started;
  n.key = "run";
  n.text = "run " + std::to_string(run_id_) + " (" + mode_name() + ") started";
  n.wall_ns = clock::wall_ns();
  notices_.push_back(std::move(n));
  tell(notices_);
}

void Engine::tell(std::vector<Notice>& notices) {
  for (const Notice& n : notices) {
    if (events_) events_->notice(n);
    if (alerter_) alerter_->post(n);
  }
  notices.clear();
}

void Engine::collect_alerts() {
  if (!alerter_) return;
  std::vector<AlertOutcome> done;
  alerter_->take_outcomes(done);
  for (const AlertOutcome& o : done) {
    const JournalAlert a{to_string(o.channel),
                         to_string(o.kind),
                         std::string(to_string(o.severity)),
                         o.key,
                         o.text,
                         o.sent,
                         o.attempts,
                         o.error,
                         o.wall_ns};
    journal_->record_alert(a);
    if (events_) events_->alert(a);
    if (!o.sent) {
      std::lock_guard lock(out_mu_);
      err_ << "alert not sent on " << a.channel << " after " << o.attempts << " attempts ("
           << o.error << "): " << o.text << '\n';
    }
  }
}

void Engine::watch(const RunReport& r, std::int64_t mono_ns) {
  if (!watch_) return;
  watch_->observe(r, mono_ns, clock::wall_ns(), notices_);
  tell(notices_);
  if (events_) events_->flush();
}

void Engine::handle(const OpsEvent& e) {
  journal_->record(e);
  if (events_) events_->event(e);
  if (watch_) {
    watch_->on_event(e, notices_);
    if (!notices_.empty()) tell(notices_);
  }
  if (const auto* r = std::get_if<ExecReport>(&e.body)) {
    for (const LegReport& leg : r->legs) {
      if (leg.status == LegStatus::not_sent) continue;
      ++tally_.orders[index(leg.venue)];
      if (leg.error.present()) ++tally_.order_errors[index(leg.venue)];
    }
  } else if (const auto* log = std::get_if<LogRecord>(&e.body)) {
    std::lock_guard lock(out_mu_);
    out_ << log->text.view() << '\n';
  }
}

void Engine::drain_ops() {
  std::array<OpsEvent, 64> batch;
  for (;;) {
    const std::size_t n = ops_.try_pop_bulk(batch.data(), batch.size());
    for (std::size_t i = 0; i < n; ++i) handle(batch[i]);
    if (n < batch.size()) break;
  }
  journal_->commit();
  journal_events_.store(journal_->events());
  const std::uint64_t errors = journal_->write_errors();
  if (errors != journal_errors_.load() || ops_.dropped() != ops_dropped_reported_) {
    // What reached a venue may now be missing from the journal: entries stop (the hot thread
    // that hosts signal sees journal_errors_ / ops_.dropped() and switches to REDUCING).
    std::lock_guard lock(out_mu_);
    err_ << "error: the journal lost events (" << errors
         << " write errors, last: " << journal_->last_error() << "; " << ops_.dropped()
         << " ops events dropped): entries stopped (REDUCING)\n";
    ops_dropped_reported_ = ops_.dropped();
  }
  journal_errors_.store(errors);
}

// The ops thread: journal, status lines, /metrics. Never on a hot core.
void Engine::ops_loop() {
  tuning::name_current_thread("ops");
  if (cfg_.threads.ops_cpu >= 0) {
    std::string why;
    if (!tuning::pin_current_thread(cfg_.threads.ops_cpu, why)) {
      std::lock_guard lock(out_mu_);
      out_ << "warning: ops: " << why << '\n';
    }
  }
  std::int64_t next_status = clock::mono_ns() + opt_.status_every.count() * 1'000'000;
  std::int64_t next_second = 0;
  while (!ops_stop_.load()) {
    drain_ops();
    if (tap_) {
      // The stop goes in between the frames received before it and those after.
      if (const std::int64_t at = stop_wall_ns_.load(); at != 0 && !stop_recorded_) {
        tap_->drain(*recording_, at);
        recording_->stopped(at, flatten_at_end());
        stop_recorded_ = true;
      }
      tap_->drain(*recording_);
    }
    serve_control();
    const std::int64_t now = clock::mono_ns();
    if (trading_.load() && now >= next_status) {
      next_status = now + opt_.status_every.count() * 1'000'000;
      const RunReport r = build_report();
      std::lock_guard lock(out_mu_);
      print_status_line(out_, r);
    }
    if (now >= next_second) {
      // Once a second: the watch's snapshot and /metrics, from one report.
      next_second = now + 1'000'000'000;
      const RunReport r = build_report();
      watch(r, now);
      collect_alerts();
      if (metrics_) metrics_->publish(prometheus_text(r));
      if (recording_) recording_->flush();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  drain_ops();
  ops_cpu_ns_ = tuning::current_thread_cpu_ns();
}

void Engine::wind_down() {
  std::unique_lock lock(out_mu_);
  out_ << "stopping: no new entries" << (flatten_at_end() ? ", closing open positions" : "")
       << ", draining the queues\n";
  lock.unlock();
  stop_wall_ns_.store(clock::wall_ns());
  phase_.store(1);
  const std::int64_t deadline =
      clock::mono_ns() +
      std::chrono::duration_cast<std::chrono::nanoseconds>(opt_.drain_timeout).count();
  int quiet = 0;
  while (clock::mono_ns() < deadline && quiet < 5) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // The counters lag by up to 100 ms; five quiet looks in a row settle it.
    const bool idle = exec_->telemetry().active == 0 && intents_.size_approx() == 0 &&
                      reports_.size_approx() == 0 &&
                      (!flatten_at_end() || signal_->telemetry().open_positions == 0);
    quiet = idle ? quiet + 1 : 0;
  }
  if (quiet < 5) {
    std::lock_guard relock(out_mu_);
    err_ << "stopping: still busy after " << opt_.drain_timeout.count()
         << " ms (orders in flight or positions open); the journal keeps them for the next run\n";
  }
  phase_.store(2);
  threads_.clear();  // joins
  ended_mono_.store(clock::mono_ns());
}

void Engine::finish(RunResult& result) {
  ops_stop_.store(true);
  if (ops_thread_.joinable()) ops_thread_.join();
  if (feed_) feed_->stop();
  if (tap_) {
    if (const std::int64_t at = stop_wall_ns_.load(); at != 0 && !stop_recorded_) {
      tap_->drain(*recording_, at);
      recording_->stopped(at, flatten_at_end());
    }
    tap_->drain(*recording_);
    recording_->flush();
    out_ << "recorded " << recording_->frames() << " frames to " << opt_.record_path;
    if (tap_->dropped() != 0) {
      out_ << " (" << tap_->dropped() << " left out: the recording buffer was full)";
    }
    out_ << '\n';
  }
  if (reconciler_) {
    // Everything is journaled: a last reconciliation for the report.
    reconciler_->stop();
    (void)reconciler_->round(true);
  }
  // Every thread has stopped: the stages' own counters are final and read directly.
  publish_telemetry(feed_ != nullptr, signal_ != nullptr, exec_ != nullptr);
  result.report = build_report();
  if (strategy_) {
    for (const Instrument& s : symbols_) {
      if (s.is_fx) continue;
      for (const Venue v : venues_) {
        result.inventory.push_back(
            {v, std::string(s.base.view()), strategy_->inventory().base(v, s.id)});
      }
    }
  }
  const std::string json = report_json(result.report);
  std::error_code ec;
  std::filesystem::create_directories(opt_.report_dir, ec);
  std::ofstream(opt_.report_dir / "report.json") << json;
  {
    std::ofstream txt(opt_.report_dir / "report.txt");
    print_report(txt, result.report);
  }
  // The ops thread has stopped: the last snapshot's notices and the end go out from here.
  watch(result.report, clock::mono_ns());
  {
    const RunReport& r = result.report;
    Notice n;
    n.kind = NoticeKind::stopped;
    n.severity = r.open_positions != 0 || r.broken != 0 || r.risk_mode != "normal" ? Severity::warn
                                                                                   : Severity::info;
    n.key = "run";
    std::ostringstream text;
    text << "run " << r.run_id << " (" << r.mode << ") stopped after "
         << static_cast<std::int64_t>(r.duration_s) << " s: entries " << r.entries << ", closed "
         << r.closed << ", open " << r.open_positions << ", broken " << r.broken
         << ", realised PnL " << to_string(r.realized_krw) << " KRW, risk mode " << r.risk_mode;
    n.text = text.str();
    n.wall_ns = clock::wall_ns();
    notices_.push_back(std::move(n));
    tell(notices_);
  }
  if (alerter_) {
    // The end's notice goes out too; what the channels have not taken by then is journaled.
    alerter_->stop(kAlertsDrain);
    collect_alerts();
  }
  if (events_) events_->run_stopped(clock::wall_ns(), result.report);
  journal_->end_run(clock::wall_ns(), json);
  print_report(out_, result.report);
  out_ << "report: " << (opt_.report_dir / "report.json").string() << ", journal "
       << cfg_.journal.path << '\n';
  if (result.report.journal_errors != 0) {
    err_ << "journal: " << result.report.journal_errors
         << " write errors, last: " << journal_->last_error() << '\n';
  }
}

}  // namespace engine_detail

using engine_detail::Engine;

RunResult run_engine(const Config& config, const RunOptions& options, const std::atomic<bool>& stop,
                     std::ostream& out, std::ostream& err) {
  try {
    Engine engine(config, options, stop, out, err);
    RunResult r = engine.run();
    if (!r.error.empty() && r.report.run_id == 0) err << r.error << '\n';
    return r;
  } catch (const std::exception& e) {
    RunResult r;
    r.exit_code = 1;
    r.error = e.what();
    err << r.error << '\n';
    return r;
  }
}

}  // namespace xarb::app
