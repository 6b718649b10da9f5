#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

#include <gtest/gtest.h>

#include <xarb/core/published.hpp>

#include "alloc_counter.hpp"

namespace xarb {
namespace {

// A stage's statistics in miniature: many words, each written from one counter, so that a read
// mixing two publishes shows up as words that disagree.
struct Figures {
  std::uint64_t sequence = 0;
  std::array<std::uint64_t, 300> counts{};
  double realized = 0.0;
  std::uint8_t mode = 0;  // leaves padding at the end
};

Figures figures(std::uint64_t n) {
  Figures f;
  f.sequence = n;
  for (std::size_t i = 0; i < f.counts.size(); ++i) f.counts[i] = n * 1000 + i;
  f.realized = static_cast<double>(n) * 0.5;
  f.mode = static_cast<std::uint8_t>(n % 3);
  return f;
}

bool whole(const Figures& f) {
  for (std::size_t i = 0; i < f.counts.size(); ++i) {
    if (f.counts[i] != f.sequence * 1000 + i) return false;
  }
  return f.realized == static_cast<double>(f.sequence) * 0.5 && f.mode == f.sequence % 3;
}

TEST(Published, StartsAtTheDefaultValueAndReadsBackWhatWasPublished) {
  Published<Figures> p;
  EXPECT_EQ(p.read().sequence, 0u);
  EXPECT_EQ(p.read().counts[299], 0u);
  EXPECT_EQ(p.count(), 1u);
  p.publish(figures(7));
  const Figures f = p.read();
  EXPECT_EQ(f.sequence, 7u);
  EXPECT_TRUE(whole(f));
  EXPECT_EQ(p.count(), 2u);
}

TEST(Published, PublishingAndReadingAllocateNothing) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  Published<Figures> p;
  const Figures f = figures(3);
  test::AllocationScope scope;
  for (int i = 0; i < 1000; ++i) {
    p.publish(f);
    EXPECT_EQ(p.read().sequence, 3u);
  }
  EXPECT_EQ(scope.count(), 0u);
}

// The ops thread reads while the hot thread publishes: every read is one whole publish, and
// the publishes it sees never go backwards.
TEST(Published, AReaderNeverSeesHalfOfOnePublishAndHalfOfAnother) {
  Published<Figures> p;
  p.publish(figures(0));
  constexpr std::uint64_t kPublishes = 200'000;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (std::uint64_t n = 1; n <= kPublishes; ++n) p.publish(figures(n));
    done.store(true);
  });
  std::uint64_t reads = 0, torn = 0, backwards = 0, last = 0, distinct = 0;
  while (!done.load()) {
    const Figures f = p.read();
    ++reads;
    if (!whole(f)) ++torn;
    if (f.sequence < last) ++backwards;
    if (f.sequence != last) ++distinct;
    last = f.sequence;
  }
  writer.join();
  EXPECT_EQ(torn, 0u) << "of " << reads << " reads";
  EXPECT_EQ(backwards, 0u);
  EXPECT_GT(distinct, 1u) << "the reads overlapped the publishes";
  EXPECT_EQ(p.read().sequence, kPublishes);
  EXPECT_EQ(p.count(), kPublishes + 2);
}

}  // namespace
}  // namespace xarb
