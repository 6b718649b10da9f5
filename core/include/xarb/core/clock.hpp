#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace xarb::clock {

// Nanoseconds since the Unix epoch (CLOCK_REALTIME): for exchange-time comparisons and the journal.
// Never fails, does not allocate, any thread.
[[nodiscard]] std::int64_t wall_ns() noexcept;
// The same in milliseconds, the venues' timestamps.
[[nodiscard]] inline std::int64_t wall_ms() noexcept { return wall_ns() / 1'000'000; }

// Nanoseconds on std::chrono::steady_clock. Never fails, does not allocate, any thread.
[[nodiscard]] std::int64_t steady_ns() noexcept;

enum class MonoSource : std::uint8_t { steady, tsc };

[[nodiscard]] constexpr std::string_view to_string(MonoSource s) noexcept {
  return s == MonoSource::tsc ? "tsc" : "steady_clock";
}

struct MonoCalibration {
  MonoSource source = MonoSource::steady;
  double ticks_per_ns = 0.0;  // 0 when the source is steady_clock
  const char* reason = "";    // why the TSC was not used, when it was not
};

// Calibrates the fast monotonic clock against steady_clock over `window` (twice, and the two
// results must agree within 0.1 %). Uses the TSC only when the CPU reports an invariant TSC;
// otherwise, or if calibration disagrees, mono_ns() stays on steady_clock. Call once at start-up
// before any thread reads mono_ns(): it writes the shared state without synchronisation.
MonoCalibration calibrate_mono(std::chrono::nanoseconds window = std::chrono::milliseconds(10));

// The fast monotonic clock for stage timestamps, in nanoseconds on steady_clock's time line
// (so values from both sources can be compared). About 10 ns with the TSC. Never fails, does not
// allocate, any thread after calibrate_mono() returned (before it: steady_clock).
[[nodiscard]] std::int64_t mono_ns() noexcept;

[[nodiscard]] MonoSource mono_source() noexcept;

// A backtest's time, which its driver moves: a stage given one reads it for both clocks (mono
// and wall), so that its decisions and the times it journals are the recording's.
struct ManualClock {
  std::int64_t ns = 0;
};

}  // namespace xarb::clock
