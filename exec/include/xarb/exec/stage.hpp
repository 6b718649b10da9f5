#pragma once

// The exec stage as a poll step: takes intents from the signal's ring into the executor, drives
// the venues, and writes reports in place into the ring back to the signal (and a copy to the
// ops queue for the journal). Bounded work per call.

#include <cstddef>
#include <cstdint>

#include <xarb/core/clock.hpp>
#include <xarb/core/latency_histogram.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/core/ops_queue.hpp>
#include <xarb/core/published.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/exec/executor.hpp>

namespace xarb::exec {

struct ExecStageStats {
  std::uint64_t intents = 0;
  std::uint64_t reports = 0;
  std::uint64_t ops_dropped = 0;
};

// What the stage publishes for other threads (the ops thread's report, /metrics and wind-down):
// the executor's and the stage's counts and what is still in flight.
// A venue's private stream as the telemetry shows it.
struct StreamTelemetry {
  bool present = false;    // the venue holds one
  bool streaming = false;  // up, subscribed and reconciled: it settles orders now
  StreamStats stats;
};

struct ExecTelemetry {
  ExecStats executor;
  ExecStageStats stage;
  std::uint64_t active = 0;     // intents in flight
  std::uint64_t unsettled = 0;  // orders whose outcome a venue has not yet told
  // By venue index: a bit per instrument with an order in flight or unsettled there.
  std::array<std::uint64_t, kMaxVenues> busy{};
  std::array<StreamTelemetry, kMaxVenues> streams{};  // by venue index
  std::array<bool, kMaxVenues> healthy{true, true, true, true};  // exec reaches it (by index)
};

class ExecStage {
 public:
  ExecStage(TwoLegExecutor& executor, SpscRing<OrderIntent>& intents,
            SpscRing<ExecReport>& reports, OpsQueue* ops, OpsQueue::Producer* producer) noexcept
      : executor_(executor), intents_(intents), reports_(reports), ops_(ops), producer_(producer) {}

  // Takes up to `budget` intents (while job slots are free), polls the venues at `now_ns`, and
  // hands finished reports on while the report ring has room, each with the venues' health; when
  // a venue's health changes it tells the signal with a status-only report (not journaled).
  // Returns the work done.
  std::size_t poll(std::int64_t now_ns, std::size_t budget = 16) noexcept;

  [[nodiscard]] const ExecStageStats& stats() const noexcept { return stats_; }
  // Copies the executor's and the stage's figures into the published telemetry: on the thread
  // hosting the stage (every 100 ms, never per message).
  void publish_telemetry() noexcept {
    ExecTelemetry t{executor_.stats(), stats_, executor_.active(), executor_.unsettled(), {}};
    for (std::size_t i = 0; i < kMaxVenues; ++i) {
      const Venue v = static_cast<Venue>(i);
      t.healthy[i] = executor_.venue_healthy(v);
      t.busy[i] = executor_.busy(v);
      if (const StreamStats* s = executor_.venue_stream(v); s != nullptr) {
        t.streams[i] = {true, executor_.venue_streaming(v), *s};
      }
    }
    published_.publish(t);
  }
  // The figures last published: any thread.
  [[nodiscard]] ExecTelemetry telemetry() const noexcept { return published_.read(); }
  // Records the intent hops of every report (intent_queue, exec, tick_to_order); null: none.
  void set_latencies(PipelineLatencies* latencies) noexcept { latencies_ = latencies; }
  // A backtest's clock: the ops events carry its time (poll's now_ns) instead of the system's.
  void set_clock(const clock::ManualClock* manual) noexcept { manual_ = manual; }

 private:
  TwoLegExecutor& executor_;
  SpscRing<OrderIntent>& intents_;
  SpscRing<ExecReport>& reports_;
  OpsQueue* ops_;
  OpsQueue::Producer* producer_;
  ExecStageStats stats_;
  Published<ExecTelemetry> published_;
  OpsEvent scratch_{};
  std::array<bool, kMaxVenues> told_healthy_{true, true, true,
                                             true};  // what the signal was last told
  PipelineLatencies* latencies_ = nullptr;
  const clock::ManualClock* manual_ = nullptr;
};

}  // namespace xarb::exec
