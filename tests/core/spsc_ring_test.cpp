#include <cstdint>
#include <latch>
#include <thread>

#include <gtest/gtest.h>

#include <xarb/core/messages.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/core/wait.hpp>

#include "alloc_counter.hpp"

namespace xarb {
namespace {

// Fills every level of a snapshot from its sequence number, so that a torn read (a slot observed
// half-written) shows up as a level that does not match the sequence.
void stamp(BookSnapshot& s, std::uint64_t seq) {
  s.sequence = seq;
  s.bid_count = static_cast<std::uint8_t>(kBookDepth);
  s.ask_count = static_cast<std::uint8_t>(kBookDepth);
  for (std::size_t i = 0; i < kBookDepth; ++i) {
    const auto base = static_cast<std::int64_t>(seq * 64 + i);
    s.bids[i] = {Decimal::from_mantissa(base), Decimal::from_mantissa(-base)};
    s.asks[i] = {Decimal::from_mantissa(base + 32), Decimal::from_mantissa(~base)};
  }
}

bool intact(const BookSnapshot& s) {
  for (std::size_t i = 0; i < kBookDepth; ++i) {
    const auto base = static_cast<std::int64_t>(s.sequence * 64 + i);
    if (s.bids[i].price.mantissa() != base || s.bids[i].qty.mantissa() != -base ||
        s.asks[i].price.mantissa() != base + 32 || s.asks[i].qty.mantissa() != ~base) {
      return false;
    }
  }
  return true;
}

TEST(SpscRing, RoundsCapacityAndReportsFullAndEmpty) {
  SpscRing<std::uint64_t> ring(5);
  EXPECT_EQ(ring.capacity(), 8u);
  EXPECT_EQ(ring.front(), nullptr);
  for (std::uint64_t i = 0; i < 8; ++i) EXPECT_TRUE(ring.try_push(i));
  EXPECT_FALSE(ring.try_push(8));
  EXPECT_EQ(ring.try_claim(), nullptr);
  EXPECT_EQ(ring.size_approx(), 8u);
  EXPECT_EQ(ring.high_water(), 8u);
  std::uint64_t v = 0;
  for (std::uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(ring.try_pop(v));
    EXPECT_EQ(v, i);
  }
  EXPECT_FALSE(ring.try_pop(v));
  EXPECT_THROW(SpscRing<int>(0), std::invalid_argument);
}

TEST(SpscRing, ClaimWritesInPlaceAndPublishMakesItVisible) {
  SpscRing<BookSnapshot> ring(4);
  BookSnapshot* slot = ring.try_claim();
  ASSERT_NE(slot, nullptr);
  EXPECT_EQ(ring.try_claim(), slot);  // same slot until published
  stamp(*slot, 41);
  EXPECT_EQ(ring.front(), nullptr);  // not yet published
  ring.publish();
  const BookSnapshot* seen = ring.front();
  ASSERT_NE(seen, nullptr);
  EXPECT_EQ(seen, slot);  // the consumer reads the very slot: no copy
  EXPECT_TRUE(intact(*seen));
  ring.pop();
  EXPECT_EQ(ring.front(), nullptr);
}

TEST(SpscRing, NoAllocationAfterConstruction) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  SpscRing<BookSnapshot> ring(64);
  test::AllocationScope scope;
  for (std::uint64_t i = 0; i < 10'000; ++i) {
    BookSnapshot* slot = ring.try_claim();
    ASSERT_NE(slot, nullptr);
    stamp(*slot, i);
    ring.publish();
    ASSERT_NE(ring.front(), nullptr);
    ring.pop();
  }
  EXPECT_EQ(scope.count(), 0u);
}

// Millions of snapshots across two threads: every sequence arrives once, in order, untorn.
TEST(SpscRingConcurrency, NoLostDuplicatedOrTornMessages) {
  constexpr std::uint64_t kCount = 2'000'000;
  SpscRing<BookSnapshot> ring(1024);
  Doorbell bell;
  std::latch start(2);
  std::uint64_t full_events = 0;
  std::jthread producer([&ring, &bell, &start, &full_events] {
    start.arrive_and_wait();
    for (std::uint64_t seq = 0; seq < kCount;) {
      BookSnapshot* slot = ring.try_claim();
      if (slot == nullptr) {
        ++full_events;
        std::this_thread::yield();
        continue;
      }
      stamp(*slot, seq++);
      ring.publish();
      bell.ring();
    }
  });
  std::uint64_t expected = 0, torn = 0, out_of_order = 0;
  Idler idler(WaitStrategy::park, bell);
  start.arrive_and_wait();
  while (expected < kCount) {
    idler.begin();
    const BookSnapshot* s = ring.front();
    if (s == nullptr) {
      idler.idle();
      continue;
    }
    idler.busy();
    if (s->sequence != expected) ++out_of_order;
    if (!intact(*s)) ++torn;
    expected = s->sequence + 1;
    ring.pop();
  }
  producer.join();
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(expected, kCount);
  EXPECT_EQ(ring.front(), nullptr);
  EXPECT_LE(ring.high_water(), ring.capacity());
  RecordProperty("producer_saw_full", static_cast<int>(full_events));
}

}  // namespace
}  // namespace xarb
