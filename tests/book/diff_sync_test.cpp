#include <vector>

#include <gtest/gtest.h>

#include <xarb/book/diff_sync.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::book {
namespace {

Decimal d(std::int64_t units) { return Decimal::from_mantissa(units * Decimal::kOne); }

struct Diff {
  std::uint64_t first, last;
  std::vector<Level> bids, asks;
  DepthDiff view() const { return {first, last, 0, bids, asks}; }
};

TEST(DiffSync, BuffersUntilTheSnapshotThenAppliesWhatFollowsIt) {
  DiffSyncBook b(venues::kBinance, 0);
  EXPECT_TRUE(b.needs_snapshot());
  const Diff e1{95, 99, {{d(10), d(1)}}, {}};    // before the snapshot: dropped
  const Diff e2{100, 104, {{d(11), d(2)}}, {}};  // straddles lastUpdateId + 1 = 101
  const Diff e3{105, 106, {}, {{d(20), d(3)}}};
  EXPECT_EQ(b.on_diff(e1.view()), SyncResult::buffered);
  EXPECT_EQ(b.on_diff(e2.view()), SyncResult::buffered);
  EXPECT_EQ(b.on_diff(e3.view()), SyncResult::buffered);
  const std::vector<Level> bids = {{d(9), d(5)}}, asks = {{d(21), d(5)}};
  EXPECT_EQ(b.on_snapshot({100, bids, asks}), SyncResult::applied);
  EXPECT_FALSE(b.needs_snapshot());
  EXPECT_EQ(b.last_update_id(), 106u);
  EXPECT_EQ(b.book().bids().best().price, d(11));  // e2 applied
  EXPECT_EQ(b.book().asks().best().price, d(20));  // e3 applied
  EXPECT_EQ(b.book().bids().size(), 2u);           // e1 (price 10) was not
  EXPECT_EQ(b.book().flags(), 0);
  EXPECT_EQ(b.buffered(), 0u);
}

TEST(DiffSync, SnapshotOlderThanTheBufferIsRefused) {
  DiffSyncBook b(venues::kBinance, 0);
  const Diff e{200, 205, {{d(1), d(1)}}, {}};
  EXPECT_EQ(b.on_diff(e.view()), SyncResult::buffered);
  EXPECT_EQ(b.on_snapshot({150, {}, {}}), SyncResult::snapshot_too_old);
  EXPECT_TRUE(b.needs_snapshot());
  EXPECT_EQ(b.on_snapshot({202, {}, {}}), SyncResult::applied);
  EXPECT_EQ(b.last_update_id(), 205u);
}

TEST(DiffSync, AGapMakesTheBookStaleUntilTheNextSnapshot) {
  DiffSyncBook b(venues::kBinance, 0);
  ASSERT_EQ(
      b.on_snapshot({100, std::vector<Level>{{d(9), d(1)}}, std::vector<Level>{{d(11), d(1)}}}),
      SyncResult::applied);
  EXPECT_EQ(b.on_diff(Diff{101, 102, {}, {}}.view()), SyncResult::applied);
  EXPECT_EQ(b.on_diff(Diff{101, 102, {}, {}}.view()), SyncResult::ignored_old);
  EXPECT_EQ(b.on_diff(Diff{104, 105, {}, {}}.view()), SyncResult::gap);  // 103 is missing
  EXPECT_TRUE(b.needs_snapshot());
  EXPECT_TRUE(b.book().flags() & book_flags::kStale);
  EXPECT_TRUE(b.book().flags() & book_flags::kResyncing);
  EXPECT_EQ(b.gaps(), 1u);
  EXPECT_EQ(b.on_diff(Diff{106, 107, {}, {}}.view()), SyncResult::buffered);
  const std::uint32_t generation = b.book().generation();
  EXPECT_EQ(b.on_snapshot({105, {}, {}}), SyncResult::applied);  // 104..105 superseded
  EXPECT_EQ(b.last_update_id(), 107u);
  EXPECT_EQ(b.book().flags(), 0);
  EXPECT_GT(b.book().generation(), generation);
}

TEST(DiffSync, AGapInsideTheBufferKeepsTheLaterEventsForTheNextSnapshot) {
  DiffSyncBook b(venues::kBinance, 0);
  EXPECT_EQ(b.on_diff(Diff{101, 102, {}, {}}.view()), SyncResult::buffered);
  EXPECT_EQ(b.on_diff(Diff{105, 106, {}, {}}.view()), SyncResult::buffered);  // 103-104 lost
  EXPECT_EQ(b.on_snapshot({100, {}, {}}), SyncResult::gap);
  EXPECT_TRUE(b.needs_snapshot());
  EXPECT_EQ(b.buffered(), 1u);
  EXPECT_EQ(b.on_snapshot({105, {}, {}}), SyncResult::applied);
  EXPECT_EQ(b.last_update_id(), 106u);
}

TEST(DiffSync, ACrossedBookIsDiscarded) {
  DiffSyncBook b(venues::kBinance, 0);
  ASSERT_EQ(
      b.on_snapshot({10, std::vector<Level>{{d(9), d(1)}}, std::vector<Level>{{d(11), d(1)}}}),
      SyncResult::applied);
  EXPECT_EQ(b.on_diff(Diff{11, 11, {{d(12), d(1)}}, {}}.view()), SyncResult::crossed);
  EXPECT_TRUE(b.needs_snapshot());
  EXPECT_TRUE(b.book().flags() & book_flags::kStale);
}

TEST(DiffSync, AnOlderSnapshotNeverMovesASyncedBookBackwards) {
  DiffSyncBook b(venues::kBinance, 0);
  ASSERT_EQ(b.on_snapshot({10, std::vector<Level>{{d(9), d(1)}}, {}}), SyncResult::applied);
  ASSERT_EQ(b.on_diff(Diff{11, 20, {{d(9), d(3)}}, {}}.view()), SyncResult::applied);
  EXPECT_EQ(b.on_snapshot({15, std::vector<Level>{{d(9), d(1)}}, {}}), SyncResult::ignored_old);
  EXPECT_EQ(b.book().bids().best().qty, d(3));
}

TEST(DiffSync, BufferOverflowKeepsTheNewestEvents) {
  DiffSyncBook b(venues::kBinance, 0);
  for (std::uint64_t i = 0; i < DiffSyncBook::kMaxBufferedEvents + 10; ++i) {
    ASSERT_EQ(b.on_diff(Diff{i + 1, i + 1, {}, {}}.view()), SyncResult::buffered);
  }
  EXPECT_EQ(b.buffer_overflows(), 1u);
  EXPECT_EQ(b.buffered(), 10u);
  const std::uint64_t last = DiffSyncBook::kMaxBufferedEvents + 10;
  EXPECT_EQ(b.on_snapshot({last - 5, {}, {}}), SyncResult::applied);
  EXPECT_EQ(b.last_update_id(), last);
}

}  // namespace
}  // namespace xarb::book
