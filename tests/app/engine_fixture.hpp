#pragma once

// The fixture of the engine's end-to-end tests: xarb-sim on loopback (TLS websockets, signed
// REST), the engine run live against it with a config written here, and the checks of the
// journal, the report and the inventory against the simulator's balances.

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/app/config.hpp>
#include <xarb/app/engine.hpp>
#include <xarb/app/journal.hpp>
#include <xarb/app/stage_options.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/sim/config.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::app {
namespace {  // each test file's own: the fixture is compiled into every one that includes it

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline sim::SimOptions sim_options(std::uint64_t seed) {
  sim::SimOptions o;
  std::string error;
  EXPECT_TRUE(sim::load_sim_options(std::string(XARB_SOURCE_DIR) + "/configs/sim.toml", o, error))
      << error;
  o.market.seed = seed;
  o.venues[index(venues::kUpbit)].order_limit = 30;
  return o;
}

// Net base quantity each venue's fills moved, per (venue, asset), from the journal.
inline std::map<std::pair<Venue, std::string>, std::int64_t> journal_base(
    Journal& j, std::uint64_t paper_run = 0) {
  std::map<std::pair<Venue, std::string>, std::int64_t> net;
  for (const JournalFill& f : j.fills()) {
    if (paper_run != 0 && f.run_id == paper_run) continue;  // paper fills moved nothing
    // Net of the commission taken in the base asset (Binance buys), which was never received.
    net[{f.venue, f.symbol}] +=
        (f.side == Side::buy ? f.qty.mantissa() : -f.qty.mantissa()) - f.fee_base.mantissa();
    net[{f.venue, "BNB"}] -= f.fee_bnb.mantissa();
  }
  // What operators recorded moving in and out (xarb ctl transfer).
  for (const JournalTransfer& t : j.transfers()) {
    if (paper_run != 0 && t.run_id == paper_run) continue;
    net[{t.venue, t.asset}] += t.qty.mantissa();
  }
  return net;
}

// What a test changes of the config the fixture writes (the demo's strategy, with a lower entry
// bar so that every run of a few seconds trades).
struct EngineSettings {
  std::string mode = "live";
  bool bithumb = false;  // a third venue: three pairs
  std::string baseline = "ewma";
  double entry_bps = 30;
  double take_profit_bps = 10;
  double stop_loss_bps = 70;
  double reversal_bps = 0;
  int timeout_s = 10;
  int cooldown_s = 2;
  int reconcile_every_s = -1;       // -1: the default
  int journal_busy_timeout_ms = 0;  // 0: the default
  // One hot thread with every stage, or one per stage ("feed", "signal", "exec").
  std::vector<std::string> hot_threads = {"hot"};
  std::string extra;  // more TOML, appended
};

class EngineTest : public ::testing::Test {
 protected:
  void hot_path(bool live);  // engine_hot_path_test.cpp
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("xarb-engine-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    setenv("XARB_BINANCE_API_KEY", "sim-binance-key-0000000000000000", 1);
    setenv("XARB_BINANCE_API_SECRET", "sim-binance-secret-000000000000000", 1);
    setenv("XARB_UPBIT_ACCESS_KEY", "sim-upbit-access-key-00000000000", 1);
    setenv("XARB_UPBIT_SECRET_KEY", "sim-upbit-secret-key-00000000000", 1);
  }
  void TearDown() override {
    for (const pid_t pid : children_) {
      if (waitpid(pid, nullptr, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
    if (sim_) sim_->stop();
    // XARB_KEEP_TEST_FILES=1 keeps the journal and the reports for a look after a failure.
    if (std::getenv("XARB_KEEP_TEST_FILES") == nullptr) fs::remove_all(dir_);
  }

  void start_sim(sim::SimOptions o) {
    o.cert_out = (dir_ / "ca.pem").string();
    start_balances_ = o.accounts;
    sim_ = std::make_unique<sim::Simulator>(o);
    sim_->start();
  }

  // This test's config, written here: the simulator's venues, this test's journal, the demo's
  // strategy with `s`'s changes.
  std::string config_text(const EngineSettings& s = {}) const {
    std::ostringstream t;
    const std::string ca = (dir_ / "ca.pem").string();
    t << "mode = \"" << s.mode << "\"\n";
    const auto venue = [&](Venue v, double fee_bps) {
      t << "\n[venues." << to_string(v) << "]\nws_url = \"" << sim_->ws_url(v)
        << "\"\nrest_url = \"" << sim_->rest_url(v) << "\"\nca_file = \"" << ca
        << "\"\ntaker_fee_bps = " << fee_bps << '\n';
    };
    venue(venues::kBinance, 10.0);
    venue(venues::kUpbit, 5.0);
    if (s.bithumb) venue(venues::kBithumb, 4.0);
    t << R"(
[[symbols]]
base = "BTC"
trade_qty = "0.01"
max_position_qty = "0.05"

[[symbols]]
base = "ETH"
trade_qty = "0.2"
max_position_qty = "1"

[strategy]
ewma_half_life_s = 20
max_open_per_symbol = 2
max_open_total = 4
max_book_age_ms = 2000
)";
    t << "baseline = \"" << s.baseline << "\"\nentry_bps = " << s.entry_bps
      << "\ntake_profit_bps = " << s.take_profit_bps << "\nstop_loss_bps = " << s.stop_loss_bps
      << "\nreversal_bps = " << s.reversal_bps << "\ntimeout_s = " << s.timeout_s
      << "\ncooldown_s = " << s.cooldown_s << '\n';
    t << R"(
[risk]
daily_loss_limit_krw = 2000000
max_notional_krw = 20000000
max_symbol_exposure_krw = 50000000
max_total_exposure_krw = 100000000
)";
    if (s.reconcile_every_s >= 0) t << "reconcile_every_s = " << s.reconcile_every_s << '\n';
    for (const std::string& name : s.hot_threads) {
      t << "\n[[threads.hot]]\nname = \"" << name << "\"\nstages = [";
      if (name == "hot") {
        t << "\"feed\", \"signal\", \"exec\"";
      } else {
        t << '"' << name << '"';
      }
      t << "]\nwait = \"park\"\n";
    }
    t << "\n[journal]\npath = \"" << (dir_ / "journal.sqlite").string() << "\"\n";
    if (s.journal_busy_timeout_ms > 0) {
      t << "busy_timeout_ms = " << s.journal_busy_timeout_ms << '\n';
    }
    t << "\n[metrics]\nbind = \"127.0.0.1\"\nport = 0\n" << s.extra;
    return t.str();
  }

  LoadResult parsed(const EngineSettings& s = {}) const {
    LoadResult r = parse_config(config_text(s), "engine_test.toml", dir_);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
    return r;
  }

  Config config(const EngineSettings& s = {}) const { return parsed(s).config; }

  // The config, with the venues' balances reconciled every `seconds` (0: not while running).
  LoadResult reconciling_every(int seconds) const {
    EngineSettings s;
    s.reconcile_every_s = seconds;
    return parsed(s);
  }

  // Runs the engine live for at least `at_least`, then, when `enough` is given, on until the
  // journal's totals satisfy it (read every 250 ms from a connection of the test's own), at
  // most 60 s more. What a run achieves in a fixed time depends on how fast this machine is;
  // the property a test asserts does not, so the run lasts until the property had its chance.
  RunResult run(const Config& c, std::chrono::milliseconds at_least, bool flatten,
                const std::function<bool(const JournalTotals&)>& enough = {},
                const std::string& record = {}) {
    RunOptions o;
    o.live = true;
    o.record_path = record;
    o.duration = enough ? at_least + 60s : at_least;
    o.flatten_on_exit = flatten;
    o.report_dir = dir_;
    o.status_every = 5s;
    // Under the simulator's faults a flatten can need a few lost answers' grace periods (up to
    // 10 s each) before every order is settled: the drain may take that long.
    o.drain_timeout = 60s;
    std::atomic<bool> stop{false};
    // A run that does not end fails the test at once (with its output so far) instead of
    // holding the suite until ctest's timeout.
    std::atomic<bool> done{false};
    std::thread guard([&] {
      const auto start = std::chrono::steady_clock::now();
      const auto limit = start + o.duration + 90s;
      while (!done.load()) {
        const auto now = std::chrono::steady_clock::now();
        if (now > limit) {
          std::fprintf(stderr, "xarb run did not stop within its duration + 90 s\n");
          std::abort();
        }
        if (enough && !stop.load() && now >= start + at_least &&
            fs::exists(dir_ / "journal.sqlite")) {
          try {
            Journal j(dir_ / "journal.sqlite");
            if (enough(j.totals())) stop.store(true);
          } catch (const std::exception&) {
          }
        }
        std::this_thread::sleep_for(250ms);
      }
    });
    RunResult r = run_engine(c, o, stop, std::cout, std::cerr);
    done.store(true);
    guard.join();
    return r;
  }

  // What a run killed between sending an intent and journaling it leaves behind: `intent`'s first
  // Binance order (0.01 BTC bought at the simulator's price) under `run`'s client id, and no
  // journal row that names it.
  void buy_without_journaling(const Config& c, const SymbolMap& symbols, const sim::SimOptions& so,
                              std::uint64_t run, std::uint64_t intent) {
    exec::RestVenueOptions ro = rest_options(c, venues::kBinance);
    for (const sim::AccountSpec& a : so.accounts) {
      if (a.venue == venues::kBinance) ro.credentials = {a.key, a.secret};
    }
    {
      exec::RestVenue venue(symbols, ro);
      std::string error;
      ASSERT_TRUE(venue.start(error)) << error;
      double mid = 0.0;
      sim_->with_exchange([&](sim::Exchange&, sim::SyntheticMarket& m) { mid = m.mid_usdt(0); });
      exec::OrderRequest o;
      o.instrument = symbols.find_base("BTC");
      o.side = Side::buy;
      o.qty = test::d("0.01");
      o.price = Decimal::from_mantissa(std::llround(mid * 1.01 * 100.0) * 1'000'000);
      o.client_id = exec::TwoLegExecutor::client_id(run, intent, venues::kBinance, 0);
      ASSERT_TRUE(venue.place(o, {}));
      exec::VenueEvent ev;
      bool answered = false;
      for (int k = 0; k < 5'000 && !answered; ++k) {
        venue.poll(clock::mono_ns());
        answered = venue.next_event(ev);
        if (!answered) std::this_thread::sleep_for(1ms);
      }
      ASSERT_TRUE(answered);
      ASSERT_EQ(ev.status.filled_qty, test::d("0.01")) << "the dead run's order executed";
    }
  }

  // A simulator and the demo's config, and a journal whose run `dead_run` (killed 30 s ago) sent
  // intent 2's Binance order (0.01 BTC bought) without journaling it.
  static constexpr std::uint64_t kDeadRun = 1'700'000'000'000;
  LoadResult start_after_an_unjournaled_buy(std::uint64_t dead_run) {
    const sim::SimOptions so = sim_options(9);
    start_sim(so);
    LoadResult c = parse_config(config_text(), "engine_test.toml", dir_);
    EXPECT_TRUE(c.ok()) << c.errors[0].to_string();
    const SymbolMap symbols = build_symbol_map(c.config);
    {
      Journal j(dir_ / "journal.sqlite");
      j.begin_run(dead_run, clock::wall_ns() - 30'000'000'000, "live", "", symbols);
    }
    buy_without_journaling(c.config, symbols, so, dead_run, 2);
    return c;
  }

  // The simulator's balances now, as a live run records them when it starts.
  // A live run begun in the journal at `started_ns`, with the simulator's balances as its start.
  void begin_live_run(const SymbolMap& symbols, std::uint64_t run,
                      std::int64_t started_ns = clock::wall_ns()) {
    Journal j(dir_ / "journal.sqlite");
    j.begin_run(run, started_ns, "live", "", symbols);
    record_start_balances(j, run);
  }

  void record_start_balances(Journal& j, std::uint64_t run) {
    for (const sim::AccountSpec& a : sim_->summary().accounts) {
      const char* key = std::getenv(a.venue == venues::kBinance ? "XARB_BINANCE_API_KEY"
                                                                : "XARB_UPBIT_ACCESS_KEY");
      if (a.venue != venues::kBinance && a.venue != venues::kUpbit) continue;
      if (key == nullptr || a.key != key) continue;
      for (const auto& [asset, units] : a.balances) {
        j.record_balance(run, a.venue, asset, Decimal::from_mantissa(units));
      }
    }
    j.commit();
  }

  // At least one position opened and closed.
  static bool closed_one(const JournalTotals& t) { return t.closed > 0; }

  // The simulator's base balance changes equal the journal's fills, venue by venue.
  // `paper_run`: a paper run on the same journal, whose fills are left out.
  void expect_balances_match_journal(std::uint64_t paper_run = 0) {
    const sim::SimSummary s = sim_->summary();
    Journal j(dir_ / "journal.sqlite");
    const auto net = journal_base(j, paper_run);
    for (const sim::AccountSpec& end : s.accounts) {
      for (const sim::AccountSpec& start : start_balances_) {
        if (start.venue != end.venue || start.key != end.key) continue;
        for (const std::string asset : {"BTC", "ETH", "BNB"}) {
          const auto it = net.find({end.venue, asset});
          const std::int64_t moved = it == net.end() ? 0 : it->second;
          const auto at = [](const sim::AccountSpec& a, const std::string& k) {
            const auto f = a.balances.find(k);
            return f == a.balances.end() ? std::int64_t{0} : f->second;
          };
          EXPECT_EQ(at(end, asset) - at(start, asset), moved)
              << to_string(end.venue) << ' ' << asset << ": the simulator's balance moved by what "
              << "the journal's fills say, no more, no less";
        }
      }
    }
  }

  // The engine's inventory at the end is what the simulator's accounts hold, to the satoshi.
  void expect_inventory_matches_simulator(const RunResult& r) {
    const sim::SimSummary s = sim_->summary();
    ASSERT_FALSE(r.inventory.empty());
    for (const HeldAsset& h : r.inventory) {
      for (const sim::AccountSpec& a : s.accounts) {
        if (a.venue != h.venue) continue;
        const auto it = a.balances.find(h.asset);
        EXPECT_EQ(h.qty.mantissa(), it == a.balances.end() ? 0 : it->second)
            << to_string(h.venue) << ' ' << h.asset;
      }
    }
  }

  // `xarb run --live` as a child process, its output in `log`. The child is killed when the test
  // ends, whatever happened (a failed assertion must not leave an engine running).
  pid_t spawn(const fs::path& cfg, const std::string& duration, bool flatten, const fs::path& log) {
    const pid_t pid = fork();
    if (pid == 0) {
      FILE* f = std::freopen(log.c_str(), "w", stdout);
      (void)f;
      (void)dup2(fileno(stdout), 2);
      std::vector<std::string> args = {
          XARB_BINARY, "run",          "--config",    cfg.string(),     "--live", "--duration",
          duration,    "--report-dir", dir_.string(), "--status-every", "2s"};
      if (flatten) args.emplace_back("--flatten-on-exit");
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(XARB_BINARY, argv.data());
      _exit(127);
    }
    children_.push_back(pid);
    return pid;
  }

  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
  std::vector<pid_t> children_;
  std::unique_ptr<sim::Simulator> sim_;
  std::vector<sim::AccountSpec> start_balances_;
};

}  // namespace
}  // namespace xarb::app
