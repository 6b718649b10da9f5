#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace xarb {

// Log-linear histogram of durations in nanoseconds (HdrHistogram's layout with 5 sub-bucket bits):
// exact below 64 ns, then 32 buckets per power of two up to 2^36 ns (about 69 s); larger values
// land in the last bucket and are still reflected exactly in max(). A reported percentile is the
// upper edge of its bucket (never below the true value), at most 1/32 (3.1 %) above it.
//
// One thread records; any thread may read or merge at any time (counters are relaxed atomics
// written by load + store, which costs the writer the same as plain integers). No allocation.
class LatencyHistogram {
 public:
  static constexpr int kSubBits = 5;
  static constexpr std::int64_t kLinearLimit = std::int64_t{1} << (kSubBits + 1);  // 64
  static constexpr int kMaxExponent = 35;  // highest power of two with its own buckets
  static constexpr std::size_t kBucketCount =
      kLinearLimit + (kMaxExponent - kSubBits) * (std::size_t{1} << kSubBits);  // 1024

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram& other) noexcept { merge(other); }
  LatencyHistogram& operator=(const LatencyHistogram& other) noexcept {
    if (this != &other) {
      reset();
      merge(other);
    }
    return *this;
  }

  // The recording thread only. Negative durations (clock went backwards) count as 0.
  void record(std::int64_t ns) noexcept {
    if (ns < 0) ns = 0;
    bump(counts_[bucket_index(ns)], 1);
    bump(count_, 1);
    bump(sum_, static_cast<std::uint64_t>(ns));
    if (ns > max_.load(std::memory_order_relaxed)) max_.store(ns, std::memory_order_relaxed);
    if (ns < min_.load(std::memory_order_relaxed)) min_.store(ns, std::memory_order_relaxed);
  }

  // Adds another histogram's counts. The owner of *this only (it writes).
  void merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < kBucketCount; ++i) {
      const auto c = other.counts_[i].load(std::memory_order_relaxed);
      if (c != 0) bump(counts_[i], c);
    }
    bump(count_, other.count_.load(std::memory_order_relaxed));
    bump(sum_, other.sum_.load(std::memory_order_relaxed));
    max_.store(
        std::max(max_.load(std::memory_order_relaxed), other.max_.load(std::memory_order_relaxed)),
        std::memory_order_relaxed);
    min_.store(
        std::min(min_.load(std::memory_order_relaxed), other.min_.load(std::memory_order_relaxed)),
        std::memory_order_relaxed);
  }

  // The recording thread only.
  void reset() noexcept {
    for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
    count_.store(0, std::memory_order_relaxed);
    sum_.store(0, std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
    min_.store(std::numeric_limits<std::int64_t>::max(), std::memory_order_relaxed);
  }

  // The smallest recorded value v such that at least fraction q (0..1) of the samples are <= v,
  // to bucket precision and clamped to [min(), max()]. 0 when empty.
  [[nodiscard]] std::int64_t percentile(double q) const noexcept {
    const std::uint64_t n = count();
    if (n == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n));
    if (static_cast<double>(rank) < q * static_cast<double>(n)) ++rank;  // ceil
    rank = std::clamp<std::uint64_t>(rank, 1, n);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBucketCount; ++i) {
      seen += counts_[i].load(std::memory_order_relaxed);
      if (seen >= rank) return std::clamp(bucket_upper(i), min(), max());
    }
    return max();
  }

  [[nodiscard]] std::uint64_t count() const noexcept {
    return count_.load(std::memory_order_relaxed);
  }
  // Samples in the buckets that end at or below `ns`: every sample <= ns when `ns` is a bucket's
  // upper edge (a cumulative Prometheus bucket), at most 1/32 of ns short of it otherwise.
  [[nodiscard]] std::uint64_t count_at_most(std::int64_t ns) const noexcept {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < kBucketCount && bucket_upper(i) <= ns; ++i) {
      n += counts_[i].load(std::memory_order_relaxed);
    }
    return n;
  }
  [[nodiscard]] std::uint64_t sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t max() const noexcept { return max_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::int64_t min() const noexcept {
    return count() == 0 ? 0 : min_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] double mean() const noexcept {
    const std::uint64_t n = count();
    return n == 0
               ? 0.0
               : static_cast<double>(sum_.load(std::memory_order_relaxed)) / static_cast<double>(n);
  }
  [[nodiscard]] std::uint64_t bucket_count_at(std::size_t i) const noexcept {
    return counts_[i].load(std::memory_order_relaxed);
  }

  [[nodiscard]] static constexpr std::size_t bucket_index(std::int64_t ns) noexcept {
    if (ns < kLinearLimit) return static_cast<std::size_t>(ns);
    const int msb = static_cast<int>(std::bit_width(static_cast<std::uint64_t>(ns))) - 1;
    if (msb > kMaxExponent) return kBucketCount - 1;
    const int shift = msb - kSubBits;
    const auto sub = static_cast<std::size_t>((ns >> shift) & ((1 << kSubBits) - 1));
    return static_cast<std::size_t>(kLinearLimit) +
           static_cast<std::size_t>(msb - kSubBits - 1) * (std::size_t{1} << kSubBits) + sub;
  }
  // Largest value that maps to bucket i.
  [[nodiscard]] static constexpr std::int64_t bucket_upper(std::size_t i) noexcept {
    if (i < static_cast<std::size_t>(kLinearLimit)) return static_cast<std::int64_t>(i);
    const std::size_t k = i - static_cast<std::size_t>(kLinearLimit);
    const int msb = static_cast<int>(k >> kSubBits) + kSubBits + 1;
    const auto sub = static_cast<std::int64_t>(k & ((std::size_t{1} << kSubBits) - 1));
    const int shift = msb - kSubBits;
    if (i == kBucketCount - 1) return std::numeric_limits<std::int64_t>::max();
    return (((std::int64_t{1} << kSubBits) + sub + 1) << shift) - 1;
  }

 private:
  static void bump(std::atomic<std::uint64_t>& a, std::uint64_t by) noexcept {
    a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  std::array<std::atomic<std::uint64_t>, kBucketCount> counts_{};
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::int64_t> max_{0};
  std::atomic<std::int64_t> min_{std::numeric_limits<std::int64_t>::max()};
};

// The pipeline's latency histograms, one per hop (docs/design.md: every message carries stage
// timestamps). The signal stage records the book hops, the exec stage the intent hops; any thread
// may read them while they run.
struct PipelineLatencies {
  LatencyHistogram parse;           // received -> parsed (feed)
  LatencyHistogram apply;           // parsed -> applied and published (feed)
  LatencyHistogram book_queue;      // applied -> taken by the signal stage
  LatencyHistogram tick_to_signal;  // frame received -> its book taken by the signal stage
  LatencyHistogram decide;          // taken by the signal stage -> intent decided
  LatencyHistogram intent_queue;    // decided -> taken by exec
  LatencyHistogram exec;            // taken by exec -> order bytes written
  LatencyHistogram tick_to_order;   // frame received -> order bytes written
  LatencyHistogram tick_to_decide;  // frame received -> intent decided
  // An intent's orders written -> every leg's outcome known by exec (its fill from an answer, a
  // private stream or a query): how long the pair's hedge is unknown.
  LatencyHistogram fill_known;

  static constexpr std::size_t kCount = 10;
  struct Named {
    std::string_view name;
    const LatencyHistogram* histogram;
  };
  [[nodiscard]] std::array<Named, kCount> all() const noexcept {
    return {{{"parse", &parse},
             {"apply", &apply},
             {"book_queue", &book_queue},
             {"tick_to_signal", &tick_to_signal},
             {"decide", &decide},
             {"intent_queue", &intent_queue},
             {"exec", &exec},
             {"tick_to_decide", &tick_to_decide},
             {"tick_to_order", &tick_to_order},
             {"fill_known", &fill_known}}};
  }
};

}  // namespace xarb
