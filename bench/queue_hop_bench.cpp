// One hop between two threads, as the feed hands a book to the signal stage: a BookSnapshot
// (7 cache lines) written by one thread and read by another.
//
// QueueHop/*: ping-pong. The timed thread sends a snapshot through one queue, an echo thread sends
// it back through a second queue of the same kind, and one iteration is that round trip; a hop is
// half of it (the "ns/hop" counter). Kinds:
//   xarb             our SpscRing (claim in place, publish), both sides spinning
//   moodycamel_rwq   moodycamel::ReaderWriterQueue (SPSC), both sides spinning
//   moodycamel_cq    moodycamel::ConcurrentQueue (MPMC), both sides spinning
//   xarb_park        our SpscRing with the park wait strategy (Doorbell futex wake per hop)
//   baseline         a mutex + condition variable queue; the consumer sleeps on the condition
// QueueHop64B/*: the same with a one-cache-line message.
// QueueThroughput/*: one producer streams 4,096 snapshots to a spinning consumer per iteration.
//
// Every queue is preallocated, so the counters also show 0 allocations per message for all of
// them but the baseline's wake-ups (none either: it is a fixed ring under a mutex).
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <concurrentqueue/concurrentqueue.h>
#include <readerwriterqueue/readerwriterqueue.h>

#include <xarb/core/messages.hpp>
#include <xarb/core/spsc_ring.hpp>
#include <xarb/core/wait.hpp>
#include <xarb/venues/registry.hpp>

#include "alloc_counter.hpp"
#include "bench_support.hpp"

namespace xarb::bench {
namespace {

constexpr std::size_t kCapacity = 1024;

BookSnapshot sample_book() {
  BookSnapshot s;
  s.venue = venues::kBinance;
  s.instrument = 3;
  for (int k = 0; k < 10; ++k) {
    s.bids[s.bid_count++] = {Decimal::from_mantissa(9'000'000'000'000 - k * 1'000'000),
                             Decimal::from_mantissa(5'000'000 + k)};
    s.asks[s.ask_count++] = {Decimal::from_mantissa(9'000'001'000'000 + k * 1'000'000),
                             Decimal::from_mantissa(5'000'000 + k)};
  }
  return s;
}

// --- the queues behind one interface: push(book) and pop(book) from their own thread ------------

template <class T>
struct XarbSpin {
  SpscRing<T> ring{kCapacity};
  bool push(const T& b) noexcept { return ring.try_push(b); }
  bool pop(T& b) noexcept { return ring.try_pop(b); }
  void wait_empty() noexcept { cpu_relax(); }
};

// The engine's park strategy: the producer rings a doorbell after publishing; an idle consumer
// sleeps on it (futex) until rung.
template <class T>
struct XarbPark {
  SpscRing<T> ring{kCapacity};
  Doorbell bell;
  std::uint32_t seen = 0;
  bool push(const T& b) noexcept {
    if (!ring.try_push(b)) return false;
    bell.ring();
    return true;
  }
  bool pop(T& b) noexcept {
    seen = bell.epoch();
    return ring.try_pop(b);
  }
  void wait_empty() noexcept { bell.wait(seen, 1'000'000); }
};

template <class T>
struct RwqSpin {
  moodycamel::ReaderWriterQueue<T> q{kCapacity};
  bool push(const T& b) noexcept { return q.try_enqueue(b); }
  bool pop(T& b) noexcept { return q.try_dequeue(b); }
  void wait_empty() noexcept { cpu_relax(); }
};

template <class T>
struct CqSpin {
  moodycamel::ConcurrentQueue<T> q{kCapacity};
  moodycamel::ProducerToken token{q};
  bool push(const T& b) noexcept { return q.try_enqueue(token, b); }
  bool pop(T& b) noexcept { return q.try_dequeue(b); }
  void wait_empty() noexcept { cpu_relax(); }
};

// The baseline: a fixed ring under a mutex; an empty consumer sleeps on a condition variable.
template <class T>
struct MutexCv {
  std::mutex m;
  std::condition_variable cv;
  std::vector<T> slots = std::vector<T>(kCapacity);
  std::size_t head = 0;
  std::size_t tail = 0;
  bool push(const T& b) {
    {
      std::lock_guard lock(m);
      if (head - tail == kCapacity) return false;
      slots[head++ % kCapacity] = b;
    }
    cv.notify_one();
    return true;
  }
  bool pop(T& b) {
    std::unique_lock lock(m);
    if (head == tail) return false;
    b = slots[tail++ % kCapacity];
    return true;
  }
  void wait_empty() {
    std::unique_lock lock(m);
    cv.wait_for(lock, std::chrono::milliseconds(1), [&] { return head != tail; });
  }
};

template <class Q, class T>
void receive(Q& q, T& out) {
  while (!q.pop(out)) q.wait_empty();
}

// One cache line: a sequence number and padding, the smallest message a stage could pass.
struct alignas(64) Tick {
  std::uint64_t sequence = 0;
  std::array<char, 56> pad{};
};

template <class T>
T sample();
template <>
BookSnapshot sample<BookSnapshot>() {
  return sample_book();
}
template <>
Tick sample<Tick>() {
  return Tick{};
}

template <template <class> class Queue, class T>
void QueueHop(benchmark::State& state) {
  using Q = Queue<T>;
  auto there = std::make_unique<Q>();
  auto back = std::make_unique<Q>();
  std::atomic<bool> stop{false};
  std::jthread echo([&] {
    T b;
    while (true) {
      while (!there->pop(b)) {
        if (stop.load(std::memory_order_relaxed)) return;
        there->wait_empty();
      }
      while (!back->push(b)) cpu_relax();
    }
  });
  T out = sample<T>();
  T in;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    ++out.sequence;
    while (!there->push(out)) cpu_relax();
    receive(*back, in);
    if (in.sequence != out.sequence) state.SkipWithError("echo out of order");
  }
  const auto allocations = static_cast<double>(test::total_allocations() - allocations_before);
  stop.store(true);
  (void)there->push(out);  // wakes a parked echo thread
  echo.join();
  state.counters["ns/hop"] = benchmark::Counter(
      2.0 * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["allocs/msg"] = allocations / (2.0 * static_cast<double>(state.iterations()));
}

template <template <class> class Queue>
void QueueThroughput(benchmark::State& state) {
  using Q = Queue<BookSnapshot>;
  constexpr std::int64_t kBatch = 4096;
  auto q = std::make_unique<Q>();
  std::atomic<std::int64_t> received{0};
  std::atomic<bool> stop{false};
  std::jthread consumer([&] {
    BookSnapshot b;
    while (!stop.load(std::memory_order_relaxed)) {
      if (q->pop(b)) {
        received.fetch_add(1, std::memory_order_release);
      } else {
        cpu_relax();
      }
    }
  });
  BookSnapshot out = sample_book();
  std::int64_t sent = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    for (std::int64_t i = 0; i < kBatch; ++i) {
      ++out.sequence;
      while (!q->push(out)) cpu_relax();
    }
    sent += kBatch;
    while (received.load(std::memory_order_acquire) != sent) cpu_relax();
  }
  const auto allocations = static_cast<double>(test::total_allocations() - allocations_before);
  stop.store(true);
  consumer.join();
  state.SetItemsProcessed(sent);
  state.counters["allocs/msg"] = allocations / static_cast<double>(sent);
}

BENCHMARK(QueueHop<XarbSpin, BookSnapshot>)->Name("QueueHop/xarb")->UseRealTime();
BENCHMARK(QueueHop<RwqSpin, BookSnapshot>)->Name("QueueHop/moodycamel_rwq")->UseRealTime();
BENCHMARK(QueueHop<CqSpin, BookSnapshot>)->Name("QueueHop/moodycamel_cq")->UseRealTime();
BENCHMARK(QueueHop<XarbPark, BookSnapshot>)->Name("QueueHop/xarb_park")->UseRealTime();
BENCHMARK(QueueHop<MutexCv, BookSnapshot>)->Name("QueueHop/baseline")->UseRealTime();
BENCHMARK(QueueHop<XarbSpin, Tick>)->Name("QueueHop64B/xarb")->UseRealTime();
BENCHMARK(QueueHop<RwqSpin, Tick>)->Name("QueueHop64B/moodycamel_rwq")->UseRealTime();
BENCHMARK(QueueHop<MutexCv, Tick>)->Name("QueueHop64B/baseline")->UseRealTime();
BENCHMARK(QueueThroughput<XarbSpin>)->Name("QueueThroughput/xarb")->UseRealTime();
BENCHMARK(QueueThroughput<RwqSpin>)->Name("QueueThroughput/moodycamel_rwq")->UseRealTime();
BENCHMARK(QueueThroughput<CqSpin>)->Name("QueueThroughput/moodycamel_cq")->UseRealTime();
BENCHMARK(QueueThroughput<MutexCv>)->Name("QueueThroughput/baseline")->UseRealTime();

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) { return xarb::bench::run_main(argc, argv); }
