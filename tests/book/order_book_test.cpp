#include <functional>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/book/order_book.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::book {
namespace {

Decimal px(std::int64_t m) { return Decimal::from_mantissa(m); }

TEST(BookSide, KeepsPriceOrderBestFirst) {
  BookSide bids(Side::buy), asks(Side::sell);
  for (std::int64_t p : {100, 103, 101, 102}) {
    ASSERT_TRUE(bids.set(px(p), px(1)));
    ASSERT_TRUE(asks.set(px(p + 10), px(1)));
  }
  ASSERT_EQ(bids.size(), 4u);
  EXPECT_EQ(bids.level(0).price, px(103));
  EXPECT_EQ(bids.level(3).price, px(100));
  EXPECT_EQ(asks.level(0).price, px(110));
  EXPECT_EQ(asks.level(3).price, px(113));
  ASSERT_TRUE(bids.set(px(103), px(0)));  // remove the best
  EXPECT_EQ(bids.best().price, px(102));
  ASSERT_TRUE(bids.set(px(102), px(7)));  // update in place
  EXPECT_EQ(bids.best().qty, px(7));
  EXPECT_EQ(bids.size(), 3u);
  ASSERT_TRUE(bids.set(px(999), px(0)));  // removing an absent level is fine
  EXPECT_EQ(bids.size(), 3u);
}

TEST(BookSide, WhenFullDropsTheWorstLevelNeverTheTop) {
  BookSide bids(Side::buy);
  for (std::size_t i = 0; i < kMaxLevels; ++i) {
    ASSERT_TRUE(bids.set(px(static_cast<std::int64_t>(1000 + i)), px(1)));
  }
  EXPECT_FALSE(bids.set(px(1), px(1)));  // worse than everything kept: not kept
  EXPECT_EQ(bids.level(kMaxLevels - 1).price, px(1000));
  EXPECT_FALSE(bids.set(px(1'000'000), px(5)));  // better: kept, the worst (1000) goes
  EXPECT_EQ(bids.size(), kMaxLevels);
  EXPECT_EQ(bids.best().price, px(1'000'000));
  EXPECT_EQ(bids.level(kMaxLevels - 1).price, px(1001));
}

TEST(L2Book, ReplaceSkipsZeroPaddingAndFlagsCrossedBooks) {
  L2Book book(venues::kUpbit, 0);
  EXPECT_TRUE(book.flags() & book_flags::kStale);
  const std::vector<Level> bids = {{px(99), px(1)}, {px(0), px(0)}, {px(98), px(2)}};
  const std::vector<Level> asks = {{px(101), px(1)}, {px(102), px(0)}};
  book.replace(bids, asks, 7, 123);
  EXPECT_EQ(book.flags(), 0);
  EXPECT_EQ(book.bids().size(), 2u);
  EXPECT_EQ(book.asks().size(), 1u);
  BookSnapshot s;
  book.publish(s);
  EXPECT_TRUE(s.tradable());
  EXPECT_EQ(s.sequence, 7u);
  EXPECT_EQ(s.bid_count, 2);
  EXPECT_EQ(s.bids[1].price, px(98));
  EXPECT_EQ(s.bids[2].price, px(0));  // unused levels are zero
  EXPECT_EQ(s.stamps.get(Stage::exchange), 123);
  const std::vector<Level> crossed_asks = {{px(99), px(1)}};
  book.replace(bids, crossed_asks, 8, 124);
  EXPECT_TRUE(book.crossed());
  book.publish(s);
  EXPECT_FALSE(s.tradable());
}

// Random update streams against a std::map book: the top levels always agree.
TEST(L2Book, RandomStreamsMatchAMapReference) {
  std::mt19937_64 rng(1234);
  std::uniform_int_distribution<std::int64_t> price(900, 1100);
  std::uniform_int_distribution<std::int64_t> qty(0, 5);  // 0 removes
  L2Book book(venues::kBinance, 0);
  std::map<std::int64_t, std::int64_t, std::greater<>> ref_bids;
  std::map<std::int64_t, std::int64_t> ref_asks;
  book.replace({}, {}, 0, 0);
  for (int step = 0; step < 200'000; ++step) {
    const bool bid = rng() % 2 == 0;
    // Bids below 1000, asks above, so the book never crosses.
    const std::int64_t p = bid ? price(rng) % 1000 : 1000 + price(rng) % 100 + 1;
    const std::int64_t q = qty(rng);
    const Level l{px(p), px(q)};
    book.apply(bid ? std::span<const Level>(&l, 1) : std::span<const Level>(),
               bid ? std::span<const Level>() : std::span<const Level>(&l, 1), 0, 0);
    if (bid) {
      if (q == 0)
        ref_bids.erase(p);
      else
        ref_bids[p] = q;
    } else {
      if (q == 0)
        ref_asks.erase(p);
      else
        ref_asks[p] = q;
    }
    ASSERT_EQ(book.bids().size(), ref_bids.size());
    ASSERT_EQ(book.asks().size(), ref_asks.size());
    std::size_t i = 0;
    for (auto it = ref_bids.begin(); it != ref_bids.end() && i < 10; ++it, ++i) {
      ASSERT_EQ(book.bids().level(i).price, px(it->first));
      ASSERT_EQ(book.bids().level(i).qty, px(it->second));
    }
    i = 0;
    for (auto it = ref_asks.begin(); it != ref_asks.end() && i < 10; ++it, ++i) {
      ASSERT_EQ(book.asks().level(i).price, px(it->first));
      ASSERT_EQ(book.asks().level(i).qty, px(it->second));
    }
  }
}

}  // namespace
}  // namespace xarb::book
