#include <cstring>
#include <type_traits>
#include <utility>

#include <gtest/gtest.h>

#include <xarb/core/messages.hpp>

namespace xarb {
namespace {

// Two venue ids: core knows venues by id only.
constexpr Venue kUsdtVenue{0};
constexpr Venue kKrwVenue{1};

template <class T>
void expect_message_layout(std::size_t lines) {
  EXPECT_TRUE(std::is_trivially_copyable_v<T>);
  EXPECT_TRUE(std::is_standard_layout_v<T>);
  EXPECT_EQ(alignof(T), kCacheLine);
  EXPECT_EQ(sizeof(T) % kCacheLine, 0u);
  EXPECT_LE(sizeof(T), lines * kCacheLine);
}

TEST(Messages, LayoutsArePinned) {
  expect_message_layout<BookSnapshot>(7);
  EXPECT_EQ(sizeof(BookSnapshot), 448u);
  expect_message_layout<OrderIntent>(8);
  expect_message_layout<ExecReport>(8);
  EXPECT_LE(sizeof(OpsEvent), 10 * kCacheLine);
  EXPECT_TRUE(std::is_trivially_copyable_v<OpsEvent>);
  // The header (stamps + sequence) of a snapshot is the first cache line.
  EXPECT_EQ(offsetof(BookSnapshot, stamps), 0u);
  EXPECT_EQ(offsetof(BookSnapshot, sequence), 56u);
  EXPECT_EQ(offsetof(BookSnapshot, asks) - offsetof(BookSnapshot, bids),
            kBookDepth * sizeof(Level));
}

TEST(Messages, SurviveAByteCopy) {
  BookSnapshot a;
  a.venue = kKrwVenue;
  a.instrument = 3;
  a.sequence = 99;
  a.bid_count = 1;
  a.ask_count = 1;
  a.bids[0] = {Decimal::from_mantissa(158'201'000'00000000), Decimal::from_mantissa(12345)};
  a.asks[0] = {Decimal::from_mantissa(158'202'000'00000000), Decimal::from_mantissa(777)};
  a.stamps.set(Stage::received, 1000);
  a.stamps.set(Stage::applied, 1750);
  alignas(BookSnapshot) unsigned char raw[sizeof(BookSnapshot)];
  std::memcpy(raw, &a, sizeof a);
  BookSnapshot b;
  std::memcpy(&b, raw, sizeof b);
  EXPECT_EQ(b.bids[0], a.bids[0]);
  EXPECT_EQ(b.asks[0], a.asks[0]);
  EXPECT_EQ(b.stamps.between(Stage::received, Stage::applied), 750);
  EXPECT_EQ(b.stamps.between(Stage::received, Stage::decided), -1);
  EXPECT_TRUE(b.tradable());
  b.flags = book_flags::kResyncing;
  EXPECT_FALSE(b.tradable());
}

TEST(Messages, LegsAreFoundByVenue) {
  // Any two venue ids make a pair, whatever their order or value.
  constexpr Venue kThird{3};
  OrderIntent intent;
  EXPECT_FALSE(intent.has_leg(kThird));
  intent.leg(kThird).side = Side::sell;  // the first leg asked for takes the first slot
  intent.leg(kUsdtVenue).side = Side::buy;
  EXPECT_EQ(intent.legs[0].venue, kThird);
  EXPECT_EQ(intent.legs[1].venue, kUsdtVenue);
  EXPECT_EQ(intent.leg(kThird).side, Side::sell);
  EXPECT_EQ(intent.leg(kUsdtVenue).side, Side::buy);
  EXPECT_TRUE(intent.has_leg(kThird));
  EXPECT_FALSE(intent.has_leg(kKrwVenue));

  // Read through a const intent, a venue outside the pair is an empty leg, not the other one.
  intent.leg(kThird).quantity = Decimal::from_mantissa(5);
  const OrderIntent& read = intent;
  EXPECT_EQ(read.leg(kThird).quantity.mantissa(), 5);
  EXPECT_TRUE(read.leg(kKrwVenue).quantity.is_zero());
  EXPECT_EQ(read.leg(kKrwVenue).venue, kNoVenue);
  EXPECT_TRUE(read.leg(kNoVenue).quantity.is_zero());

  // Copied into a ring slot, the legs keep their venues.
  const OrderIntent copy = intent;
  EXPECT_EQ(copy.leg(kThird).quantity.mantissa(), 5);

  ExecReport report;
  report.leg(kUsdtVenue).error.code = -2010;
  report.leg(kKrwVenue).filled_qty = Decimal::from_mantissa(7);
  EXPECT_TRUE(report.leg(kUsdtVenue).error.present());
  EXPECT_FALSE(report.leg(kKrwVenue).error.present());
  EXPECT_EQ(std::as_const(report).leg(kKrwVenue).filled_qty.mantissa(), 7);
  EXPECT_TRUE(std::as_const(report).leg(kThird).filled_qty.is_zero());
}

TEST(MessagesDeathTest, TakingALegForAThirdVenueStops) {
  // Trading on the wrong venue is worse than stopping: the third venue has no leg to take.
  OrderIntent intent;
  intent.leg(kKrwVenue).side = Side::sell;
  intent.leg(kUsdtVenue).side = Side::buy;
  EXPECT_DEATH((void)intent.leg(Venue{2}), "");
}

TEST(Messages, OpsEventCarriesEachBody) {
  OpsEvent e;
  PositionChange change;
  change.position_id = 7;
  change.to = PositionState::open;
  e.body = change;
  ASSERT_TRUE(std::holds_alternative<PositionChange>(e.body));
  EXPECT_EQ(std::get<PositionChange>(e.body).position_id, 7u);
  RiskRefusal refusal;
  refusal.reason = RefusalReason::fx_stale;
  e.body = refusal;
  EXPECT_EQ(to_string(std::get<RiskRefusal>(e.body).reason), "fx_stale");
}

TEST(Messages, EveryEnumHasAName) {
  for (int i = 0; i < static_cast<int>(RefusalReason::count); ++i) {
    EXPECT_NE(to_string(static_cast<RefusalReason>(i)), "unknown") << i;
  }
  for (int i = 0; i < static_cast<int>(Stage::count); ++i) {
    EXPECT_NE(to_string(static_cast<Stage>(i)), "unknown") << i;
  }
  EXPECT_EQ(to_string(ExitReason::take_profit), "take_profit");
  EXPECT_EQ(to_string(ExecOutcome::partial_hedged), "partial_hedged");
  EXPECT_EQ(to_string(OrderState::unknown), "unknown");
  EXPECT_EQ(to_string(PositionState::broken), "broken");
  EXPECT_EQ(to_string(Direction::reverse), "reverse");
}

}  // namespace
}  // namespace xarb
