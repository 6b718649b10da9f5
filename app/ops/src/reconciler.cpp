#include <xarb/app/reconciler.hpp>

#include <algorithm>
#include <memory>

#include <xarb/app/journal.hpp>
#include <xarb/app/stage_options.hpp>
#include <xarb/core/clock.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

struct Reconciler::Impl {
  const Config& config;
  const SymbolMap& symbols;
  std::filesystem::path journal_path;
  std::uint64_t run_id = 0;
  std::unique_ptr<Journal> journal;  // a connection of its own (the ops thread owns the other)
  std::array<std::unique_ptr<exec::RestVenue>, kMaxVenues> venues;
  std::vector<BalanceReport> reported;  // confirmed differences already printed
};

Reconciler::Reconciler(const Config& config, const SymbolMap& symbols,
                       std::filesystem::path journal, std::uint64_t run_id,
                       std::function<bool(Venue, const std::string&)> quiet, std::ostream& err, std::mutex& err_mu)
    : impl_(std::make_unique<Impl>(Impl{config, symbols, std::move(journal), run_id, {}, {}, {}})),
      every_(config.risk.reconcile_every_s),
      quiet_(std::move(quiet)),
      err_(err),
      err_mu_(err_mu) {}

Reconciler::~Reconciler() { stop(); }

void Reconciler::start() {
  if (every_.count() <= 0 || thread_.joinable()) return;
  thread_ = std::jthread([this] { loop(); });
}

void Reconciler::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

std::vector<BalanceReport> Reconciler::last() const {
  std::lock_guard lock(mu_);
  return last_;
}

bool Reconciler::sleep_for(std::chrono::milliseconds d, bool wake) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop_.load() && std::chrono::steady_clock::now() < until) {
    if (wake && recheck_.exchange(false)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !stop_.load();
}

void Reconciler::loop() {
  // The first round at once: its connections, parsers and journal connection are made while the
  // engine warms up, not in the middle of a run (where they would read as memory growth), and
  // the report has a reconciliation from the start.
  (void)round();
  while (sleep_for(every_, /*wake=*/true)) (void)round();
}

// Every traded base asset on both venues, and the BNB Binance may charge commissions in: what
// the venue holds free against what the ledger explains.
bool Reconciler::read(std::vector<BalanceReport>& out) {
  Impl& m = *impl_;
  out.clear();
  try {
    if (!m.journal) m.journal = std::make_unique<Journal>(m.journal_path);
  } catch (const std::exception&) {
    return false;
  }
  for (const Venue v : m.config.venues()) {
    std::string error;
    if (!m.venues[index(v)]) {
      exec::RestVenueOptions o = rest_options(m.config, v);
      o.private_stream = false;  // the engine's own holds the one private connection
      auto venue = std::make_unique<exec::RestVenue>(m.symbols, o);
      if (!venue->start(error)) return false;
      m.venues[index(v)] = std::move(venue);
    }
    std::vector<exec::AssetBalance> balances;
    if (!m.venues[index(v)]->read_balances(balances, error)) return false;
    for (const std::string& asset : ledger_assets(m.symbols, v)) {
      BalanceReport b;
      b.venue = v;
      b.asset = asset;
      b.held = m.venues[index(v)]->read_free(asset);
      if (!m.journal->expected_balance(m.run_id, v, asset, b.expected, &b.tolerance)) {
        continue;  // not tracked
      }
      out.push_back(std::move(b));
    }
  }
  return true;
}

bool Reconciler::round(bool settled) {
  Impl& m = *impl_;
  std::vector<BalanceReport> now;
  if (!read(now)) return false;
  const auto differs = [](const std::vector<BalanceReport>& r) {
    return std::any_of(r.begin(), r.end(),
                       [](const BalanceReport& b) { return b.differs(); });
  };
  // Each (venue, asset) is confirmed on its own: a difference while an order that can move that
  // balance is in flight, or one that changes between reads, is an order the journal has not
  // seen yet: read again. The same difference on three reads, each taken while no such order is
  // out, confirms it. (The difference, not the balances: while the engine trades, fills move the
  // held and the expected figures alike. And an order on another venue or asset, even one left
  // unsettled for a minute, does not hold up confirming this one.)
  std::vector<int> same(now.size(), 0);
  const auto count = [&](const BalanceReport& b, const BalanceReport* before, int was) {
    if (!b.differs() || !quiet_(b.venue, b.asset)) return 0;
    if (settled) return 3;
    if (before == nullptr) return 1;
    return before->differs() && before->difference() == b.difference() ? was + 1 : 1;
  };
  for (std::size_t k = 0; k < now.size(); ++k) same[k] = count(now[k], nullptr, 0);
  const auto pending = [&] {
    for (std::size_t k = 0; k < now.size(); ++k) {
      if (now[k].differs() && same[k] < 3) return true;
    }
    return false;
  };
  // Settled (the run has ended): one read. A difference on a balance that an unsettled order can
  // still move is left unconfirmed: that order's outcome, not a loss, may explain it, and the next
  // start's reconciliation reads it again once the journal knows the outcome.
  for (int attempt = 0; !settled && pending() && attempt < 10; ++attempt) {
    if (!sleep_for(std::chrono::milliseconds(2000))) return false;
    std::vector<BalanceReport> again;
    if (!read(again)) return false;
    std::vector<int> next(again.size(), 0);
    for (std::size_t k = 0; k < again.size(); ++k) {
      const BalanceReport* before = nullptr;
      int was = 0;
      for (std::size_t j = 0; j < now.size(); ++j) {
        if (now[j].venue == again[k].venue && now[j].asset == again[k].asset) {
          before = &now[j];
          was = same[j];
        }
      }
      next[k] = count(again[k], before, was);
    }
    now = std::move(again);
    same = std::move(next);
  }
  if (!differs(now)) {
    // Every balance is explained (an operator recorded the transfer behind a difference, or it
    // went away): a confirmed difference no longer holds entries; REDUCING stays until cleared.
    unexplained_.store(false);
    ++explained_rounds_;
  }
  if (std::any_of(same.begin(), same.end(), [](int n) { return n >= 3; })) {
    // Entries stop before anything else can see the difference (the journal row, a test or an
    // operator watching it): the hot thread reads this flag on its next turn.
    unexplained_.store(true);
    for (std::size_t k = 0; k < now.size(); ++k) {
      BalanceReport& b = now[k];
      if (same[k] < 3) continue;
      b.unexplained = true;
      // The same difference is reported once, whatever trading moved both figures by since.
      const bool known = std::any_of(m.reported.begin(), m.reported.end(), [&](const BalanceReport& r) {
        return r.venue == b.venue && r.asset == b.asset && r.difference() == b.difference();
      });
      if (known) continue;
      m.reported.push_back(b);
      m.journal->record_reconciliation(m.run_id, b.venue, b.asset, b.expected, b.held,
                                       clock::wall_ns());
      std::lock_guard lock(err_mu_);
      err_ << "reconcile: " << to_string(b.venue) << ' ' << b.asset << " holds "
           << to_string(b.held) << ", the ledger explains " << to_string(b.expected)
           << " (difference " << to_string(b.difference())
           << "): entries stopped (REDUCING), journaled\n";
    }
  }
  ++rounds_;
  std::lock_guard lock(mu_);
  last_ = std::move(now);
  return true;
}

}  // namespace xarb::app
