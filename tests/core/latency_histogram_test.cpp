#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/core/latency_histogram.hpp>

#include "alloc_counter.hpp"

namespace xarb {
namespace {

std::int64_t exact_percentile(const std::vector<std::int64_t>& sorted, double q) {
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

TEST(LatencyHistogram, BucketsCoverTheRangeContiguously) {
  EXPECT_EQ(LatencyHistogram::kBucketCount, 1024u);
  std::int64_t previous_upper = -1;
  for (std::size_t i = 0; i + 1 < LatencyHistogram::kBucketCount; ++i) {
    const std::int64_t upper = LatencyHistogram::bucket_upper(i);
    ASSERT_GT(upper, previous_upper) << i;
    ASSERT_EQ(LatencyHistogram::bucket_index(previous_upper + 1), i) << i;
    ASSERT_EQ(LatencyHistogram::bucket_index(upper), i) << i;
    previous_upper = upper;
  }
  EXPECT_EQ(LatencyHistogram::bucket_index(std::int64_t{1} << 40),
            LatencyHistogram::kBucketCount - 1);
}

TEST(LatencyHistogram, PercentilesMatchSortedReferenceWithinBucketPrecision) {
  std::mt19937_64 rng(42);
  // Latency-like: log-normal around 2 µs with a long tail, plus a few huge outliers.
  std::lognormal_distribution<double> dist(std::log(2000.0), 1.2);
  LatencyHistogram h;
  std::vector<std::int64_t> values;
  for (int i = 0; i < 200'000; ++i) {
    auto v = static_cast<std::int64_t>(dist(rng));
    if (i % 50'000 == 0) v = 3'000'000'000;  // 3 s
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (const double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    const std::int64_t exact = exact_percentile(values, q);
    const std::int64_t got = h.percentile(q);
    EXPECT_GE(got, exact) << "q=" << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1.0 + 1.0 / 32) + 1)
        << "q=" << q;
  }
  EXPECT_EQ(h.max(), values.back());
  EXPECT_EQ(h.min(), values.front());
  EXPECT_EQ(h.count(), values.size());
  double sum = 0;
  for (auto v : values) sum += static_cast<double>(v);
  EXPECT_NEAR(h.mean(), sum / static_cast<double>(values.size()), 1e-6 * h.mean());
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::int64_t v = 0; v < 64; ++v) h.record(v);
  EXPECT_EQ(h.percentile(0.5), 31);
  EXPECT_EQ(h.percentile(1.0), 63);
  h.record(-5);  // a clock that went backwards counts as zero
  EXPECT_EQ(h.min(), 0);
}

TEST(LatencyHistogram, MergeEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(9);
  std::uniform_int_distribution<std::int64_t> dist(0, 50'000'000);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 10'000; ++i) {
    const auto v = dist(rng);
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  LatencyHistogram merged = a;
  merged.merge(b);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_EQ(merged.min(), all.min());
  for (std::size_t i = 0; i < LatencyHistogram::kBucketCount; ++i) {
    ASSERT_EQ(merged.bucket_count_at(i), all.bucket_count_at(i));
  }
  for (const double q : {0.5, 0.99, 0.999}) EXPECT_EQ(merged.percentile(q), all.percentile(q));
}

TEST(LatencyHistogram, EmptyAndResetReportZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile(0.99), 0);
  EXPECT_EQ(h.min(), 0);
  h.record(100);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0);
}

TEST(LatencyHistogram, RecordDoesNotAllocate) {
  XARB_SKIP_WITHOUT_ALLOCATION_COUNTING();
  LatencyHistogram h;
  test::AllocationScope scope;
  for (std::int64_t i = 0; i < 100'000; ++i) h.record(i * 997);
  EXPECT_EQ(scope.count(), 0u);
}

// Cumulative counts at bucket edges: exact where a bound is an edge (1-2-5 microseconds are).
TEST(LatencyHistogram, CountAtMostIsCumulativeAndExactAtEdges) {
  LatencyHistogram h;
  for (std::int64_t v : {10, 63, 999, 1'000, 1'001, 4'999, 5'000, 20'000, 1'000'000}) h.record(v);
  EXPECT_EQ(h.count_at_most(0), 0u);
  EXPECT_EQ(h.count_at_most(63), 2u);
  EXPECT_EQ(h.count_at_most(1'023), 5u) << "1023 ends a bucket: 10, 63, 999, 1000, 1001";
  EXPECT_EQ(h.count_at_most(1'000'000'000), 9u);
  EXPECT_EQ(h.sum(), 10u + 63 + 999 + 1'000 + 1'001 + 4'999 + 5'000 + 20'000 + 1'000'000);
  // Never counts a sample above the bound.
  for (std::int64_t le : {1'000, 2'000, 5'000, 10'000, 20'000, 50'000}) {
    std::uint64_t truth = 0;
    for (std::int64_t v : {10, 63, 999, 1'000, 1'001, 4'999, 5'000, 20'000, 1'000'000}) {
      truth += v <= le ? 1 : 0;
    }
    EXPECT_LE(h.count_at_most(le), truth) << le;
  }
}

}  // namespace
}  // namespace xarb