#pragma once

// Continuous reconciliation (live runs): when trading starts and every `risk.reconcile_every_s`
// after, the venues' balances are read on a connection of its own, off every hot thread, and
// compared with the ledger: the balances this run started from plus its journaled fills, net of
// every commission in the asset it was charged in. A difference is confirmed only when it is the
// same on three reads two seconds apart while no order is in flight (what an order in flight moved
// reaches the journal within that time); a confirmed one stops entries (REDUCING), is journaled and
// printed, and is reported until the run ends. The next start sees it again, until an operator
// accepts it, or records the transfer that explains it (`xarb ctl transfer`): a round that finds
// every balance explained again says so (unexplained() turns false), and REDUCING can then be
// cleared.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <xarb/app/config.hpp>
#include <xarb/app/report.hpp>
#include <xarb/core/ids.hpp>

namespace xarb::app {

class Reconciler {
 public:
  // `quiet(venue, asset)` says whether no order that can move that balance is in flight now.
  // `err` is written under `err_mu`.
  Reconciler(const Config& config, const SymbolMap& symbols, std::filesystem::path journal,
             std::uint64_t run_id, std::function<bool(Venue, const std::string&)> quiet,
             std::ostream& err, std::mutex& err_mu);
  ~Reconciler();
  Reconciler(const Reconciler&) = delete;
  Reconciler& operator=(const Reconciler&) = delete;

  void start();
  void stop();

  // The last round confirmed a difference (and none has found every balance explained since):
  // entries must stop.
  [[nodiscard]] bool unexplained() const noexcept { return unexplained_.load(); }
  // Asks for a round now rather than at the next period (an operator recorded a transfer).
  void recheck() noexcept { recheck_.store(true); }
  [[nodiscard]] std::uint64_t rounds() const noexcept { return rounds_.load(); }
  // Rounds that found every balance explained.
  [[nodiscard]] std::uint64_t explained_rounds() const noexcept { return explained_rounds_.load(); }
  // What the last round found, per venue and asset.
  [[nodiscard]] std::vector<BalanceReport> last() const;

  // One round: read, and when something differs, confirm. `settled`: the run has ended and
  // nothing new can reach the journal, one read is enough; a balance an unsettled order can
  // still move is not confirmed even then. False when a venue could not be read.
  bool round(bool settled = false);

 private:
  struct Impl;
  bool read(std::vector<BalanceReport>& out);
  // False when stopped; `wake`: a recheck() ends the wait early.
  bool sleep_for(std::chrono::milliseconds d, bool wake = false);
  void loop();

  std::unique_ptr<Impl> impl_;
  std::chrono::seconds every_;
  std::function<bool(Venue, const std::string&)> quiet_;
  std::ostream& err_;
  std::mutex& err_mu_;
  std::atomic<bool> unexplained_{false};
  std::atomic<std::uint64_t> rounds_{0};
  std::atomic<std::uint64_t> explained_rounds_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> recheck_{false};
  mutable std::mutex mu_;
  std::vector<BalanceReport> last_;
  std::jthread thread_;
};

}  // namespace xarb::app
