#include <atomic>
#include <latch>
#include <thread>

#include <gtest/gtest.h>

#include <xarb/core/clock.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/core/wait.hpp>

namespace xarb {
namespace {

TEST(WaitStrategy, ParsesAndResolvesFromAvailableCores) {
  WaitStrategy w{};
  ASSERT_EQ(parse_wait_strategy("spin_then_park", w), Errc::ok);
  EXPECT_EQ(w, WaitStrategy::spin_then_park);
  ASSERT_EQ(parse_wait_strategy("auto", w), Errc::ok);
  EXPECT_EQ(w, WaitStrategy::automatic);
  EXPECT_EQ(parse_wait_strategy("sleep", w), Errc::invalid_argument);
  // One hot thread on 2 cores leaves one for ops and the system: it may spin.
  EXPECT_EQ(resolve_wait(WaitStrategy::automatic, 2, 1), WaitStrategy::spin);
  EXPECT_EQ(resolve_wait(WaitStrategy::automatic, 2, 2), WaitStrategy::spin_then_park);
  EXPECT_EQ(resolve_wait(WaitStrategy::automatic, 2, 3), WaitStrategy::park);
  EXPECT_EQ(resolve_wait(WaitStrategy::park, 64, 1), WaitStrategy::park);
}

TEST(Doorbell, WaitReturnsAtOnceWhenRungSinceTheEpochWasRead) {
  Doorbell bell;
  const std::uint32_t seen = bell.epoch();
  bell.ring();
  const std::int64_t t0 = clock::steady_ns();
  bell.wait(seen, 10'000'000'000);  // would be 10 s if the ring were lost
  EXPECT_LT(clock::steady_ns() - t0, 5'000'000'000);
}

TEST(Doorbell, TimesOutWhenNobodyRings) {
  Doorbell bell;
  const std::int64_t t0 = clock::steady_ns();
  bell.wait(bell.epoch(), 2'000'000);
  EXPECT_GE(clock::steady_ns() - t0, 1'000'000);
}

// A parked consumer with a 10 s park timeout must see every one of many small bursts: a lost
// wake-up would stall it for 10 s, and the whole run is bounded well below that per burst.
class ParkedConsumer : public ::testing::TestWithParam<WaitStrategy> {};

TEST_P(ParkedConsumer, WakesForEveryPublishedMessage) {
  constexpr std::uint64_t kCount = 20'000;
  SpscRing<std::uint64_t> ring(64);
  Doorbell bell;
  std::latch start(2);
  std::jthread producer([&] {
    start.arrive_and_wait();
    for (std::uint64_t i = 0; i < kCount; ++i) {
      while (!ring.try_push(i)) std::this_thread::yield();
      bell.ring();
      if (i % 64 == 0) std::this_thread::yield();  // let the consumer fall asleep sometimes
    }
  });
  Idler idler(GetParam(), bell, /*spin_ns=*/20'000, /*park_timeout_ns=*/10'000'000'000);
  start.arrive_and_wait();
  const std::int64_t t0 = clock::steady_ns();
  std::uint64_t next = 0;
  while (next < kCount) {
    idler.begin();
    std::uint64_t v = 0;
    if (!ring.try_pop(v)) {
      idler.idle();
      continue;
    }
    idler.busy();
    ASSERT_EQ(v, next);
    ++next;
  }
  EXPECT_LT(clock::steady_ns() - t0, 60'000'000'000) << "wake-ups were lost";
}

INSTANTIATE_TEST_SUITE_P(Strategies, ParkedConsumer,
                         ::testing::Values(WaitStrategy::park, WaitStrategy::spin_then_park,
                                           WaitStrategy::spin),
                         [](const auto& param_info) {
                           return std::string(to_string(param_info.param));
                         });

}  // namespace
}  // namespace xarb
