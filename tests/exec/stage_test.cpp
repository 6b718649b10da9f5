// The exec stage over real rings with paper venues: intents in, reports out in place, a copy of
// each report to the ops queue, and back-pressure when the report ring is full.

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/exec/paper_venue.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/exec/stage.hpp>
#include <xarb/venues/registry.hpp>

#include "test_support.hpp"

namespace xarb::exec {
namespace {

constexpr std::int64_t kMs = 1'000'000;

using ::xarb::test::d;

struct Fixture {
  Fixture() {
    EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
              Errc::ok);
    std::string error;
    (void)load_binance_rules(test::read_file(test::data_dir() /
                                             "binance/exchangeInfo_btcusdt_ethusdt_2021-10-12.jsonl"),
                             symbols, rules, error);
    load_upbit_default_rules(symbols, rules);
    PaperParams p;
    p.latency_ns = kMs;
    binance = std::make_unique<PaperVenue>(venues::kBinance, rules, p);
    upbit = std::make_unique<PaperVenue>(venues::kUpbit, rules, p);
    binance->set_base(0, d("1"));
    binance->set_quote(d("100000"));
    upbit->set_base(0, d("1"));
    upbit->set_quote(d("1000000000"));
    exec = std::make_unique<TwoLegExecutor>(
        std::array<VenueClient*, kMaxVenues>{binance.get(), upbit.get()}, ExecParams{});
  }
  OrderIntent intent(std::uint64_t id) const {
    OrderIntent in;
    in.intent_id = id;
    in.position_id = id;
    in.deadline_ns = 10'000 * kMs;
    LegIntent& u = in.leg(venues::kUpbit);
    u = {venues::kUpbit, Side::sell, 0, 1, Decimal::from_mantissa(14'062'965'000'000'000),
         d("0.01"),      {}};
    u.levels[0] = {d("140700000"), d("1")};
    LegIntent& b = in.leg(venues::kBinance);
    b = {venues::kBinance, Side::buy, 0, 1, d("100050"), d("0.01"), {}};
    b.levels[0] = {d("100000"), d("1")};
    return in;
  }
  SymbolMap symbols;
  RulesTable rules;
  std::unique_ptr<PaperVenue> binance, upbit;
  std::unique_ptr<TwoLegExecutor> exec;
};

TEST(ExecStage, IntentsInReportsOutAndToOps) {
  Fixture f;
  SpscRing<OrderIntent> intents(8);
  SpscRing<ExecReport> reports(8);
  OpsQueue ops(64, 2);
  OpsQueue::Producer producer(ops);
  ExecStage stage(*f.exec, intents, reports, &ops, &producer);
  for (std::uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(intents.try_push(f.intent(i)));
  std::int64_t now = 0;
  for (int i = 0; i < 10; ++i, now += kMs) stage.poll(now);
  EXPECT_EQ(stage.stats().intents, 3u);
  EXPECT_EQ(stage.stats().reports, 3u);
  ExecReport r;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    ASSERT_TRUE(reports.try_pop(r));
    EXPECT_EQ(r.outcome, ExecOutcome::success);
  }
  std::vector<OpsEvent> events(8);
  EXPECT_EQ(ops.try_pop_bulk(events.data(), events.size()), 3u);
  EXPECT_TRUE(std::holds_alternative<ExecReport>(events[0].body));
}

// The signal side learns each venue's health from exec: every report carries it, and a change with
// nothing else to report comes as a status-only report (not journaled).
TEST(ExecStage, AVenuesHealthReachesTheSignalSide) {
  Fixture f;
  SpscRing<OrderIntent> intents(8);
  SpscRing<ExecReport> reports(8);
  OpsQueue ops(64, 2);
  OpsQueue::Producer producer(ops);
  ExecStage stage(*f.exec, intents, reports, &ops, &producer);
  stage.poll(0);
  ExecReport r;
  EXPECT_FALSE(reports.try_pop(r)) << "nothing changed, nothing said";
  f.upbit->set_healthy(false);
  stage.poll(kMs);
  ASSERT_TRUE(reports.try_pop(r));
  EXPECT_TRUE(r.status_only);
  EXPECT_FALSE(r.venue_healthy[index(venues::kUpbit)]);
  EXPECT_TRUE(r.venue_healthy[index(venues::kBinance)]);
  stage.poll(2 * kMs);
  EXPECT_FALSE(reports.try_pop(r)) << "said once";
  // An intent's report carries the health as it is when the report goes out.
  f.upbit->set_healthy(true);
  ASSERT_TRUE(intents.try_push(f.intent(1)));
  std::int64_t now = 3 * kMs;
  for (int i = 0; i < 10; ++i, now += kMs) stage.poll(now);
  ASSERT_TRUE(reports.try_pop(r));
  if (r.status_only) {  // the recovery, told before the intent's report was ready
    EXPECT_TRUE(r.venue_healthy[index(venues::kUpbit)]);
    ASSERT_TRUE(reports.try_pop(r));
  }
  EXPECT_FALSE(r.status_only);
  EXPECT_EQ(r.intent_id, 1u);
  EXPECT_TRUE(r.venue_healthy[index(venues::kUpbit)]);
  std::vector<OpsEvent> events(8);
  EXPECT_EQ(ops.try_pop_bulk(events.data(), events.size()), 1u) << "only the intent's report";
}

TEST(ExecStage, AFullReportRingHoldsReportsBackWithoutLosingThem) {
  Fixture f;
  SpscRing<OrderIntent> intents(8);
  SpscRing<ExecReport> reports(1);
  ExecStage stage(*f.exec, intents, reports, nullptr, nullptr);
  for (std::uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(intents.try_push(f.intent(i)));
  std::int64_t now = 0;
  std::vector<std::uint64_t> seen;
  for (int i = 0; i < 20; ++i, now += kMs) {
    stage.poll(now);
    ExecReport r;
    if (i % 3 == 0 && reports.try_pop(r)) seen.push_back(r.intent_id);
  }
  ExecReport r;
  while (reports.try_pop(r)) seen.push_back(r.intent_id);
  stage.poll(now);
  while (reports.try_pop(r)) seen.push_back(r.intent_id);
  EXPECT_EQ(seen.size(), 3u);
}

}  // namespace
}  // namespace xarb::exec
