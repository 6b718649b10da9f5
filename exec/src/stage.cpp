#include <algorithm>

#include <xarb/core/clock.hpp>
#include <xarb/exec/stage.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {

std::size_t ExecStage::poll(std::int64_t now_ns, std::size_t budget) noexcept {
  std::size_t work = 0;
  while (work < budget) {
    const OrderIntent* in = intents_.front();
    if (in == nullptr || !executor_.submit(*in, now_ns)) break;
    intents_.pop();
    ++stats_.intents;
    ++work;
  }
  executor_.poll(now_ns);
  // Each report goes from the executor's queue straight into the claimed ring slot; while the
  // ring is full (the signal is behind) the reports wait in the executor's queue.
  for (;;) {
    ExecReport* slot = reports_.try_claim();
    if (slot == nullptr || !executor_.next_report(*slot)) break;
    if (latencies_ != nullptr) {
      const StageStamps& st = slot->stamps;
      if (const auto d = st.between(Stage::decided, Stage::exec_dequeued); d >= 0) {
        latencies_->intent_queue.record(d);
      }
      if (const auto d = st.between(Stage::exec_dequeued, Stage::order_written); d >= 0) {
        latencies_->exec.record(d);
      }
      if (const auto d = st.between(Stage::received, Stage::order_written); d >= 0) {
        latencies_->tick_to_order.record(d);
      }
      // The slowest leg's order written -> outcome known (a leg not sent has no latency).
      std::int64_t known = 0;
      for (const LegReport& leg : slot->legs) known = std::max(known, leg.latency_ns);
      if (!slot->status_only && !slot->settles && known > 0) latencies_->fill_known.record(known);
    }
    for (const Venue v : venues::kAll) {
      if (!executor_.has_venue(v)) continue;  // a venue this engine does not trade
      slot->venue_healthy[index(v)] = told_healthy_[index(v)] = executor_.venue_healthy(v);
    }
    if (ops_ != nullptr && producer_ != nullptr) {
      scratch_.wall_ns = manual_ != nullptr ? manual_->ns : clock::wall_ns();
      scratch_.body = *slot;
    }
    reports_.publish();  // the slot is the signal's from here on
    ++stats_.reports;
    ++work;
    if (ops_ != nullptr && producer_ != nullptr && !ops_->try_push(*producer_, scratch_)) {
      ++stats_.ops_dropped;
    }
  }
  // A venue's health changed with no report to carry it: a status-only report.
  bool changed = false;
  for (const Venue v : venues::kAll) {
    changed = changed ||
              (executor_.has_venue(v) && executor_.venue_healthy(v) != told_healthy_[index(v)]);
  }
  if (changed && executor_.pending_reports() == 0) {
    if (ExecReport* slot = reports_.try_claim(); slot != nullptr) {
      *slot = ExecReport{};
      slot->status_only = true;
      for (const Venue v : venues::kAll) {
        if (!executor_.has_venue(v)) continue;
        slot->venue_healthy[index(v)] = told_healthy_[index(v)] = executor_.venue_healthy(v);
      }
      reports_.publish();
      ++work;
    }
  }
  return work;
}

}  // namespace xarb::exec
