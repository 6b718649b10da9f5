#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include <concurrentqueue/concurrentqueue.h>

#include <xarb/core/messages.hpp>

namespace xarb {

// The many-to-one queue from every thread to the ops thread (journal, metrics, logs): moodycamel's
// ConcurrentQueue, fully preallocated, used only through try_ operations. It does not order events
// across producers; each event carries its own timestamp.
class OpsQueue {
 public:
  struct Traits : moodycamel::ConcurrentQueueDefaultTraits {
    static constexpr std::size_t BLOCK_SIZE = 64;
  };
  using Queue = moodycamel::ConcurrentQueue<OpsEvent, Traits>;

  // A producer's handle. Create one per producing thread at start-up, before anything consumes
  // (this allocates), then use it only from that thread.
  //
  // moodycamel hands out the preallocated blocks to explicit producers on first use and never
  // takes them back: one producer in a burst could take them all and every other producer would
  // then fail forever (seen: the concurrency test hung when one of three producers filled the
  // pool before the others started). So the constructor claims this producer's share at once, by
  // filling its room with placeholders and taking them out again: the blocks stay with it.
  class Producer {
   public:
    explicit Producer(OpsQueue& q) : token_(q.queue_) {
      std::size_t claimed = 0;
      while (claimed < q.capacity_per_producer_ && q.queue_.try_enqueue(token_, OpsEvent{})) {
        ++claimed;
      }
      OpsEvent placeholder;
      for (std::size_t k = 0; k < claimed; ++k) {
        (void)q.queue_.try_dequeue_from_producer(token_, placeholder);
      }
    }

   private:
    friend class OpsQueue;
    moodycamel::ProducerToken token_;
  };

  // Preallocates room for `capacity_per_producer` events for each of `max_producers` producers.
  // Allocates here only.
  OpsQueue(std::size_t capacity_per_producer, std::size_t max_producers)
      : queue_(capacity_per_producer, max_producers, 0),
        capacity_per_producer_(capacity_per_producer) {}

  // Producer thread. Copies the event in; false when the producer's preallocated room is used up
  // (the event is counted in dropped() and lost). Does not allocate, never blocks.
  [[nodiscard]] bool try_push(Producer& p, const OpsEvent& event) noexcept {
    if (queue_.try_enqueue(p.token_, event)) return true;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  // Consumer (the ops thread). Moves up to `max` events into `out`; returns how many.
  [[nodiscard]] std::size_t try_pop_bulk(OpsEvent* out, std::size_t max) noexcept {
    return queue_.try_dequeue_bulk(out, max);
  }
  [[nodiscard]] bool try_pop(OpsEvent& out) noexcept { return queue_.try_dequeue(out); }

  [[nodiscard]] std::size_t size_approx() const noexcept { return queue_.size_approx(); }
  [[nodiscard]] std::uint64_t dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
  }

 private:
  Queue queue_;
  std::size_t capacity_per_producer_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace xarb
