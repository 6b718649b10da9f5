// Thread layout validation against a host: CPUs that exist and are allowed, spinning threads that
// would share a core, the ops thread on a hot core.

#include <cstring>
#include <memory>

#include <gtest/gtest.h>

#include <xarb/tuning/threads.hpp>

namespace xarb::tuning {
namespace {

std::vector<ThreadPlan> plan(std::initializer_list<ThreadPlan> t) { return t; }

bool mentions(const std::vector<LayoutProblem>& ps, std::string_view what, bool fatal) {
  for (const auto& p : ps) {
    if (p.message.find(what) != std::string::npos && p.fatal == fatal) return true;
  }
  return false;
}

TEST(Layout, OneParkedHotThreadAndOpsFitTwoCores) {
  const std::vector<int> allowed = {0, 1};
  const auto ps = validate_layout(plan({{"hot", 1, WaitStrategy::park, true},
                                        {"ops", 0, WaitStrategy::park, false}}),
                                  allowed, 2);
  EXPECT_TRUE(ps.empty());
}

TEST(Layout, CpusMustExistAndBeAllowed) {
  const std::vector<int> allowed = {0, 1, 2};
  const auto ps = validate_layout(plan({{"feed", 7, WaitStrategy::spin, true},
                                        {"exec", 3, WaitStrategy::spin, true}}),
                                  allowed, 4);
  EXPECT_TRUE(mentions(ps, "cpu 7 does not exist (4 online)", true));
  EXPECT_TRUE(mentions(ps, "cpu 3 is not in this process's affinity mask", true));
}

TEST(Layout, SpinningThreadsMayNotShareACore) {
  const std::vector<int> allowed = {0, 1, 2, 3};
  auto ps = validate_layout(plan({{"feed", 2, WaitStrategy::spin, true},
                                  {"signal", 2, WaitStrategy::park, true}}),
                            allowed, 4);
  EXPECT_TRUE(mentions(ps, "spins on cpu 2", true));
  // Parked threads may share a core: that is the 2-core layout's point.
  ps = validate_layout(plan({{"feed", 2, WaitStrategy::park, true},
                             {"signal", 2, WaitStrategy::park, true}}),
                       allowed, 4);
  EXPECT_TRUE(ps.empty());
}

TEST(Layout, OpsThreadNeverOnAHotCore) {
  const std::vector<int> allowed = {0, 1};
  const auto ps = validate_layout(plan({{"hot", 1, WaitStrategy::park, true},
                                        {"ops", 1, WaitStrategy::park, false}}),
                                  allowed, 2);
  EXPECT_TRUE(mentions(ps, "ops thread shares cpu 1", true));
}

TEST(Layout, MoreSpinnersThanCoresIsAWarning) {
  const std::vector<int> allowed = {0, 1};
  const auto ps = validate_layout(plan({{"a", -1, WaitStrategy::spin, true},
                                        {"b", -1, WaitStrategy::spin, true},
                                        {"c", -1, WaitStrategy::spin, true}}),
                                  allowed, 2);
  EXPECT_TRUE(mentions(ps, "3 spinning hot threads on 2 allowed cpus", false));
}

TEST(Host, AllowedCpusAndMemoryAreReadable) {
  EXPECT_FALSE(allowed_cpus().empty());
  EXPECT_GE(online_cpus(), 1u);
  EXPECT_GT(current_rss_kib(), 0);
  EXPECT_GE(peak_rss_kib(), current_rss_kib() / 2);
  std::string error;
  EXPECT_TRUE(pin_current_thread(allowed_cpus().front(), error)) << error;
  EXPECT_FALSE(pin_current_thread(-1, error));
  EXPECT_GT(current_thread_cpu_ns(), 0);
}

TEST(Host, HeapUsageFollowsAllocations) {
  constexpr std::int64_t kBlock = 8 << 20;
  const HeapUsage before = heap_usage();
  auto block = std::make_unique<char[]>(kBlock);
  std::memset(block.get(), 1, kBlock);
  const HeapUsage during = heap_usage();
  EXPECT_GE(during.in_use_bytes - before.in_use_bytes, kBlock);
  EXPECT_GE(during.held_bytes, during.in_use_bytes);
  block.reset();
  EXPECT_LT(heap_usage().in_use_bytes, during.in_use_bytes - kBlock / 2);
}

}  // namespace
}  // namespace xarb::tuning
