#pragma once

// The signal stage as a poll step (docs/design.md: Threads and messages): drains the exec report
// ring and the feeds' snapshot rings into the Strategy, writes intents in place into the ring to exec,
// and sends position changes and refusals to the ops queue. A thread hosting it calls poll() in
// its round robin; it does a bounded amount of work and returns.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include <xarb/core/clock.hpp>
#include <xarb/core/latency_histogram.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/core/ops_queue.hpp>
#include <xarb/core/published.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/signal/strategy.hpp>

namespace xarb::signal {

struct SignalStageStats {
  std::uint64_t books = 0;
  std::uint64_t reports = 0;
  std::uint64_t timers = 0;
  std::uint64_t ops_dropped = 0;  // events the ops queue had no room for
};

// What the stage publishes for other threads (the ops thread's report and /metrics): the
// strategy's and the stage's counts, the risk state, and what is open by symbol and by pair.
struct SignalTelemetry {
  StrategyStats strategy;
  SignalStageStats stage;
  std::array<std::uint64_t, static_cast<std::size_t>(RefusalReason::count)> refusals{};
  RiskMode risk_mode = RiskMode::normal;
  bool paused = false;  // the kill switch: no entries (an operator's pause, or the wind-down)
  std::uint64_t open_positions = 0;
  // Positions held BROKEN now (a residual not hedged, or an order whose outcome is unknown).
  std::uint64_t broken_open = 0;
  std::array<std::uint64_t, kMaxInstruments> open_by_symbol{};
  std::array<std::uint64_t, kMaxPairs> open_by_pair{};  // by pair index
  double unrealized_krw = 0.0;
  // The inventory as the strategy holds it (venues' balances at start plus fills and fees), what
  // intents in flight set aside, and each pair's headroom by instrument and direction.
  std::array<std::array<std::int64_t, kMaxInstruments>, kMaxVenues> base{};
  std::array<std::array<std::int64_t, kMaxInstruments>, kMaxVenues> reserved_base{};
  std::array<Int128, kMaxVenues> quote_e16{};
  std::array<Int128, kMaxVenues> reserved_quote_e16{};
  std::array<std::array<std::array<Strategy::Headroom, 2>, kMaxInstruments>, kMaxPairs> headroom{};
};

class SignalStage final : public SignalSink {
 public:
  static constexpr std::size_t kMaxBookRings = 8;

  // `ops` and `producer` may be null (no ops thread, as in a backtest). Rings beyond
  // kMaxBookRings are ignored. Does not take ownership of anything.
  SignalStage(Strategy& strategy, std::span<SpscRing<BookSnapshot>* const> book_rings,
              SpscRing<ExecReport>& reports, SpscRing<OrderIntent>& intents, OpsQueue* ops,
              OpsQueue::Producer* producer, std::int64_t timer_period_ns = 100'000'000) noexcept;

  // Handles reports first (so fills land before the next decision), then up to `budget` book
  // snapshots round robin over the rings, then the timer's exit checks when due. Reads the
  // clocks once per message. Returns the number of messages handled.
  std::size_t poll(std::size_t budget = 64) noexcept;

  [[nodiscard]] const SignalStageStats& stats() const noexcept { return stats_; }
  // Copies the strategy's and the stage's figures into the published telemetry: on the thread
  // hosting the stage (every 100 ms, never per message).
  void publish_telemetry() noexcept;
  // The figures last published: any thread.
  [[nodiscard]] SignalTelemetry telemetry() const noexcept { return published_.read(); }
  // Records the book hops (parse, apply, book_queue) and the decisions into `latencies`; null:
  // nothing recorded.
  void set_latencies(PipelineLatencies* latencies) noexcept { latencies_ = latencies; }
  // A backtest's clock, read instead of the system's; null: the system's.
  void set_clock(const clock::ManualClock* manual) noexcept { manual_ = manual; }

  // SignalSink: the exec ring and the ops queue.
  OrderIntent* claim_intent() noexcept override { return intents_.try_claim(); }
  void publish_intent() noexcept override;
  void on_position(const PositionChange& change) noexcept override;
  void on_refusal(const RiskRefusal& refusal) noexcept override;

 private:
  template <class T>
  void to_ops(const T& body) noexcept;
  [[nodiscard]] Now now() const noexcept;

  Strategy& strategy_;
  std::array<SpscRing<BookSnapshot>*, kMaxBookRings> books_{};
  std::size_t book_count_ = 0;
  std::size_t next_ring_ = 0;
  SpscRing<ExecReport>& reports_;
  SpscRing<OrderIntent>& intents_;
  OpsQueue* ops_;
  OpsQueue::Producer* producer_;
  std::int64_t timer_period_ns_;
  std::int64_t next_timer_ns_ = 0;
  SignalStageStats stats_;
  Published<SignalTelemetry> published_;
  OpsEvent scratch_{};
  PipelineLatencies* latencies_ = nullptr;
  std::int64_t taken_ns_ = 0;  // when the book being handled was taken from its ring
  const clock::ManualClock* manual_ = nullptr;
};

}  // namespace xarb::signal
