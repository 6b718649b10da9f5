#include <chrono>
#include <cmath>

#include <gtest/gtest.h>

#include <xarb/core/clock.hpp>

namespace xarb {
namespace {

TEST(Clock, WallClockIsUnixNanoseconds) {
  const auto sys = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_LT(std::llabs(clock::wall_ns() - sys), 1'000'000'000);
  EXPECT_GT(clock::wall_ns(), 1'700'000'000'000'000'000);  // after 2023
}

TEST(Clock, MonoIsCalibratedAgainstSteadyClockAndNeverGoesBack) {
  const clock::MonoCalibration cal = clock::calibrate_mono(std::chrono::milliseconds(5));
  EXPECT_EQ(cal.source, clock::mono_source());
  if (cal.source == clock::MonoSource::tsc) {
    EXPECT_GT(cal.ticks_per_ns, 0.1);
    EXPECT_LT(cal.ticks_per_ns, 10.0);
  } else {
    std::printf("mono clock falls back to steady_clock: %s\n", cal.reason);
  }
  // Both clocks share a time line: a mono reading lies between two steady readings, within the
  // calibration error (generous: this host is shared).
  const std::int64_t s0 = clock::steady_ns();
  const std::int64_t m = clock::mono_ns();
  const std::int64_t s1 = clock::steady_ns();
  EXPECT_GT(m, s0 - 2'000'000);
  EXPECT_LT(m, s1 + 2'000'000);

  std::int64_t previous = clock::mono_ns();
  for (int i = 0; i < 1'000'000; ++i) {
    const std::int64_t now = clock::mono_ns();
    ASSERT_GE(now, previous);
    previous = now;
  }
  // Over 30 ms of steady time, mono advances by the same amount within 2 % + 200 µs.
  const std::int64_t m0 = clock::mono_ns(), st0 = clock::steady_ns();
  while (clock::steady_ns() - st0 < 30'000'000) {
  }
  const std::int64_t m1 = clock::mono_ns(), st1 = clock::steady_ns();
  const double dm = static_cast<double>(m1 - m0), ds = static_cast<double>(st1 - st0);
  EXPECT_NEAR(dm, ds, ds * 0.02 + 200'000.0);
}

}  // namespace
}  // namespace xarb
