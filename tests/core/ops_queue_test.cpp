#include <array>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/core/ops_queue.hpp>

#include "alloc_counter.hpp"

namespace xarb {
namespace {

OpsEvent tracked(std::uint64_t producer, std::uint64_t seq) {
  OpsEvent e;
  e.wall_ns = static_cast<std::int64_t>(seq);
  PositionChange p;
  p.position_id = (producer << 48) | seq;
  p.qty = Decimal::from_mantissa(static_cast<std::int64_t>(seq * 3 + producer));
  p.realized_krw = Decimal::from_mantissa(static_cast<std::int64_t>(seq));
  e.body = p;
  return e;
}

TEST(OpsQueue, PreallocatedRoomIsUsedWithoutAllocatingThenPushFailsAndCounts) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  constexpr std::size_t kCapacity = 1024;
  OpsQueue queue(kCapacity, 2);
  OpsQueue::Producer producer(queue);  // allocates: start-up
  std::size_t accepted = 0;
  {
    test::AllocationScope scope;
    for (std::uint64_t i = 0; i < 4 * kCapacity; ++i) {
      if (queue.try_push(producer, tracked(0, i))) ++accepted;
    }
    EXPECT_EQ(scope.count(), 0u) << "try_push allocated";
  }
  EXPECT_GE(accepted, kCapacity);
  EXPECT_LT(accepted, 4 * kCapacity);
  EXPECT_EQ(queue.dropped(), 4 * kCapacity - accepted);
  // Drain and refill: blocks are reused, still without allocation.
  std::vector<OpsEvent> out(accepted);
  test::AllocationScope scope;
  std::size_t popped = 0;
  while (popped < accepted) popped += queue.try_pop_bulk(out.data(), out.size());
  for (std::uint64_t i = 0; i < kCapacity; ++i)
    ASSERT_TRUE(queue.try_push(producer, tracked(0, i)));
  EXPECT_EQ(scope.count(), 0u);
}

// Several producers, one consumer, a million events: none lost, none duplicated, per-producer order
// kept (moodycamel orders within a producer only), none torn.
TEST(OpsQueueConcurrency, NoLostDuplicatedOrTornEvents) {
  constexpr std::size_t kProducers = 3;
  constexpr std::uint64_t kPerProducer = 350'000;
  OpsQueue queue(4096, kProducers);
  std::vector<std::unique_ptr<OpsQueue::Producer>> tokens;
  for (std::size_t p = 0; p < kProducers; ++p)
    tokens.push_back(std::make_unique<OpsQueue::Producer>(queue));
  std::latch start(kProducers + 1);
  std::vector<std::jthread> threads;
  for (std::size_t p = 0; p < kProducers; ++p) {
    threads.emplace_back([&queue, &start, token = tokens[p].get(), p] {
      start.arrive_and_wait();
      for (std::uint64_t seq = 0; seq < kPerProducer;) {
        if (queue.try_push(*token, tracked(p, seq))) {
          ++seq;
        } else {
          std::this_thread::yield();  // full: the test retries so it can account for every event
        }
      }
    });
  }
  std::array<std::uint64_t, kProducers> next{};
  std::uint64_t received = 0, bad = 0;
  std::vector<OpsEvent> batch(256);
  start.arrive_and_wait();
  while (received < kProducers * kPerProducer) {
    const std::size_t n = queue.try_pop_bulk(batch.data(), batch.size());
    if (n == 0) {
      std::this_thread::yield();
      continue;
    }
    for (std::size_t i = 0; i < n; ++i) {
      const auto* p = std::get_if<PositionChange>(&batch[i].body);
      if (p == nullptr) {
        ++bad;
        continue;
      }
      const std::uint64_t producer = p->position_id >> 48;
      const std::uint64_t seq = p->position_id & ((std::uint64_t{1} << 48) - 1);
      if (producer >= kProducers || seq != next[producer] ||
          p->qty.mantissa() != static_cast<std::int64_t>(seq * 3 + producer) ||
          p->realized_krw.mantissa() != static_cast<std::int64_t>(seq) ||
          batch[i].wall_ns != static_cast<std::int64_t>(seq)) {
        ++bad;
      }
      if (producer < kProducers) next[producer] = seq + 1;
    }
    received += n;
  }
  threads.clear();
  EXPECT_EQ(bad, 0u);
  for (std::size_t p = 0; p < kProducers; ++p) EXPECT_EQ(next[p], kPerProducer);
  OpsEvent extra;
  EXPECT_FALSE(queue.try_pop(extra));
}

}  // namespace
}  // namespace xarb
