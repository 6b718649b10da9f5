// A fourth venue, added as a fixture: krwcopy is Upbit's protocol under another name and id, made
// of its own files (feed/src/venues/krwcopy.cpp, exec/src/venues/krwcopy.cpp,
// sim/src/venues/krwcopy.cpp) and one row in each registry. Configured as [venues.krwcopy] beside
// Binance and Upbit, it is fed, traded against Binance through the FX rate and against Upbit,
// reconciled and reported like any venue, against xarb-sim serving it on a port of its own.

#include "engine_fixture.hpp"

namespace xarb::app {
namespace {

constexpr Venue kKrwCopy = *venues::from_name("krwcopy");

TEST_F(EngineTest, AFourthVenueMadeOfItsOwnFilesAndRegistryRowsTrades) {
  sim::SimOptions so = sim_options(7);
  so.venues[index(kKrwCopy)].served = true;
  so.accounts.push_back({kKrwCopy, "sim-krwcopy-access-key-000000000",
                         "sim-krwcopy-secret-key-000000000",
                         {{"KRW", 200'000'000 * Decimal::kOne},
                          {"BTC", 2 * Decimal::kOne},
                          {"ETH", 20 * Decimal::kOne}}});
  start_sim(so);
  setenv("XARB_KRWCOPY_ACCESS_KEY", "sim-krwcopy-access-key-000000000", 1);
  setenv("XARB_KRWCOPY_SECRET_KEY", "sim-krwcopy-secret-key-000000000", 1);
  EngineSettings s;
  s.extra = "\n[venues.krwcopy]\nws_url = \"" + sim_->ws_url(kKrwCopy) + "\"\nrest_url = \"" +
            sim_->rest_url(kKrwCopy) + "\"\nca_file = \"" + (dir_ / "ca.pem").string() +
            "\"\ntaker_fee_bps = 5\n";
  const LoadResult loaded = parsed(s);
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  const Config& c = loaded.config;
  ASSERT_EQ(c.venues().size(), 3u);
  const VenuePair copy_binance{kKrwCopy, venues::kBinance};
  const std::vector<VenuePair> pairs = c.pairs();
  ASSERT_NE(std::find(pairs.begin(), pairs.end(), copy_binance), pairs.end());

  // Until the krwcopy-binance pair has closed a position.
  const RunResult r = run(c, 5s, /*flatten=*/true, [&](const JournalTotals&) {
    Journal j(dir_ / "journal.sqlite");
    for (const JournalPairTotals& p : j.pair_totals()) {
      if (p.pair == "krwcopy-binance" && p.closed > 0) return true;
    }
    return false;
  });
  unsetenv("XARB_KRWCOPY_ACCESS_KEY");
  unsetenv("XARB_KRWCOPY_SECRET_KEY");
  ASSERT_EQ(r.exit_code, 0) << r.error;
  const RunReport& rep = r.report;
  EXPECT_GT(rep.venues[index(kKrwCopy)].frames, 100u) << "its books were fed";
  EXPECT_GT(rep.venues[index(kKrwCopy)].orders, 0u);
  const auto it = std::find_if(rep.pairs.begin(), rep.pairs.end(),
                               [](const TradeReport& p) { return p.name == "krwcopy-binance"; });
  ASSERT_NE(it, rep.pairs.end());
  EXPECT_GT(it->closed, 0u);
  EXPECT_EQ(it->open, 0u) << "flattened";
  EXPECT_EQ(rep.broken, 0u);
  // Its balances moved by exactly the journal's fills, and the engine's reconciliation read them.
  expect_balances_match_journal();
  bool reconciled = false;
  for (const BalanceReport& b : rep.balances) {
    EXPECT_FALSE(b.differs()) << to_string(b.venue) << ' ' << b.asset;
    reconciled = reconciled || b.venue == kKrwCopy;
  }
  EXPECT_TRUE(reconciled) << "krwcopy's balances were read";
}

}  // namespace
}  // namespace xarb::app
