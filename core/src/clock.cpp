#include <cmath>
#include <time.h>

#include <xarb/core/clock.hpp>
#include <xarb/core/decimal.hpp>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace xarb::clock {
namespace {

struct TscState {
  bool enabled = false;
  std::uint64_t base_tsc = 0;
  std::int64_t base_ns = 0;
  std::uint64_t mult = 0;  // nanoseconds per tick, scaled by 2^32
};
TscState g_tsc;  // written only by calibrate_mono(), before readers start

#if defined(__x86_64__)
bool has_invariant_tsc() noexcept {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0x80000000u, &eax, &ebx, &ecx, &edx) == 0 || eax < 0x80000007u) return false;
  if (__get_cpuid(0x80000007u, &eax, &ebx, &ecx, &edx) == 0) return false;
  return (edx & (1u << 8)) != 0;
}
std::uint64_t read_tsc() noexcept { return __rdtsc(); }
#else
bool has_invariant_tsc() noexcept { return false; }
std::uint64_t read_tsc() noexcept { return 0; }
#endif

struct Sample {
  std::uint64_t tsc;
  std::int64_t ns;
};

// Reads steady_clock between two TSC reads and keeps the tightest of a few tries, so that the
// pairing error stays below the cost of one clock_gettime.
Sample paired_sample() noexcept {
  Sample best{};
  std::uint64_t best_width = ~std::uint64_t{0};
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t t0 = read_tsc();
    const std::int64_t ns = steady_ns();
    const std::uint64_t t1 = read_tsc();
    if (t1 - t0 < best_width) {
      best_width = t1 - t0;
      best = {t0 + (t1 - t0) / 2, ns};
    }
  }
  return best;
}

double measure_ticks_per_ns(std::chrono::nanoseconds window, Sample& end) noexcept {
  const Sample start = paired_sample();
  const std::int64_t until = start.ns + window.count();
  while (steady_ns() < until) {
  }
  end = paired_sample();
  return static_cast<double>(end.tsc - start.tsc) / static_cast<double>(end.ns - start.ns);
}

}  // namespace

std::int64_t wall_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t steady_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

MonoCalibration calibrate_mono(std::chrono::nanoseconds window) {
  g_tsc.enabled = false;
  if (!has_invariant_tsc()) return {MonoSource::steady, 0.0, "the CPU reports no invariant TSC"};
  Sample end{};
  const double first = measure_ticks_per_ns(window, end);
  const double second = measure_ticks_per_ns(window, end);
  if (!(first > 0.0) || std::fabs(first - second) > first * 1e-3) {
    return {MonoSource::steady, 0.0, "TSC calibration was not stable"};
  }
  const double ticks_per_ns = (first + second) / 2.0;
  g_tsc.base_tsc = end.tsc;
  g_tsc.base_ns = end.ns;
  g_tsc.mult = static_cast<std::uint64_t>(std::llround(4294967296.0 / ticks_per_ns));
  g_tsc.enabled = true;
  return {MonoSource::tsc, ticks_per_ns, ""};
}

std::int64_t mono_ns() noexcept {
  if (!g_tsc.enabled) return steady_ns();
  // Signed: another core's TSC may read a few ticks behind the calibration point.
  const auto dt = static_cast<std::int64_t>(read_tsc() - g_tsc.base_tsc);
  const Int128 scaled = static_cast<Int128>(dt) * static_cast<Int128>(g_tsc.mult);
  return g_tsc.base_ns + static_cast<std::int64_t>(scaled >> 32);
}

MonoSource mono_source() noexcept { return g_tsc.enabled ? MonoSource::tsc : MonoSource::steady; }

}  // namespace xarb::clock
