// The ops side's watch (what an operator must hear about, from report snapshots and ops events)
// and the structured log that writes every ops event and notice as a JSON line.

#include <xarb/app/ops_watch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/venues/registry.hpp>

#include <xarb/app/event_log.hpp>
#include "test_support.hpp"

namespace xarb::app {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;

SymbolMap btc_map() {
  SymbolMap symbols;
  EXPECT_EQ(symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}}),
            Errc::ok);
  return symbols;
}

// Position 42 (0.01 BTC, upbit-binance) going from one state to another.
PositionChange change(PositionState from, PositionState to) {
  PositionChange c;
  c.position_id = 42;
  c.instrument = 0;
  c.pair = {venues::kUpbit, venues::kBinance};
  c.from = from;
  c.to = to;
  c.qty = test::d("0.01");
  return c;
}

RunReport healthy_report() {
  RunReport r;
  r.run_id = 7;
  r.mode = "live";
  r.risk_mode = "normal";
  r.traded = {venues::kBinance, venues::kUpbit};
  for (const Venue v : r.traded) {
    r.venues[index(v)].private_stream = true;
    r.venues[index(v)].stream_up = true;
  }
  r.balances.push_back(
      {venues::kUpbit, "KRW", test::d("1000000"), test::d("1000000"), test::d("1"), false});
  return r;
}

std::vector<NoticeKind> kinds(const std::vector<Notice>& notices) {
  std::vector<NoticeKind> out;
  for (const Notice& n : notices) out.push_back(n.kind);
  return out;
}

TEST(OpsWatch, AHealthyRunSaysNothing) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  for (int k = 0; k < 5; ++k) watch.observe(healthy_report(), k * kSecond, 0, out);
  EXPECT_TRUE(out.empty());
}

TEST(OpsWatch, AnUnexplainedBalanceIsReducingWithItsWhyAndClearsOnce) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  watch.observe(healthy_report(), 0, 0, out);
  RunReport r = healthy_report();
  r.balances[0].held = test::d("999000");
  r.balances[0].unexplained = true;
  r.risk_mode = "reducing";
  watch.observe(r, kSecond, 0, out);
  ASSERT_EQ(kinds(out), (std::vector{NoticeKind::reducing, NoticeKind::balance_difference}));
  EXPECT_EQ(out[0].severity, Severity::page);
  EXPECT_NE(out[0].text.find("a balance differs from the ledger (upbit KRW: held 999000, "
                             "expected 1000000)"),
            std::string::npos)
      << out[0].text;
  EXPECT_EQ(out[1].key, "balance/upbit/KRW");
  EXPECT_NE(out[1].text.find("difference -1000"), std::string::npos) << out[1].text;
  // The same state again says nothing more.
  out.clear();
  watch.observe(r, 2 * kSecond, 0, out);
  EXPECT_TRUE(out.empty());
  // Cleared: the balance matches and an operator lifted REDUCING.
  watch.observe(healthy_report(), 3 * kSecond, 0, out);
  EXPECT_EQ(kinds(out), (std::vector{NoticeKind::reducing_cleared, NoticeKind::balance_explained}));
}

TEST(OpsWatch, ReducingCarriedOverFromAnEarlierRunIsToldAtTheStart) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  RunReport r = healthy_report();
  r.risk_mode = "reducing";
  watch.observe(r, 0, 0, out);
  ASSERT_EQ(kinds(out), (std::vector{NoticeKind::reducing}));
  EXPECT_NE(out[0].text.find("carried over from an earlier run"), std::string::npos);
}

TEST(OpsWatch, HaltedAndResumed) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  watch.observe(healthy_report(), 0, 0, out);
  RunReport r = healthy_report();
  r.risk_mode = "halted";
  watch.observe(r, kSecond, 0, out);
  watch.observe(healthy_report(), 2 * kSecond, 0, out);
  EXPECT_EQ(kinds(out), (std::vector{NoticeKind::halted, NoticeKind::resumed}));
  EXPECT_EQ(out[0].severity, Severity::warn);
}

TEST(OpsWatch, AVenueUnhealthyAndRecovered) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  watch.observe(healthy_report(), 0, 0, out);
  RunReport r = healthy_report();
  r.venues[index(venues::kBinance)].healthy = false;
  watch.observe(r, kSecond, 0, out);
  watch.observe(r, 2 * kSecond, 0, out);
  watch.observe(healthy_report(), 3 * kSecond, 0, out);
  ASSERT_EQ(kinds(out), (std::vector{NoticeKind::venue_unhealthy, NoticeKind::venue_recovered}));
  EXPECT_EQ(out[0].text, "binance is unhealthy: no new entries on it");
  EXPECT_EQ(out[0].fields.at(0), (std::pair<std::string, std::string>{"venue", "binance"}));
}

TEST(OpsWatch, ADirectionOutOfInventoryIsToldOnceAndItsReturn) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  RunReport r = healthy_report();
  r.headroom = {{"upbit-binance", "BTC", "kimchi", true, test::d("0.5"), 50, "upbit BTC"},
                {"upbit-binance", "BTC", "reverse", false, {}, 0, ""}};  // no books: not told
  watch.observe(r, 0, 0, out);
  EXPECT_TRUE(out.empty());
  r.headroom[0] = {"upbit-binance", "BTC", "kimchi", true, test::d("0.005"), 0, "upbit BTC"};
  watch.observe(r, kSecond, 0, out);
  watch.observe(r, 2 * kSecond, 0, out);  // still starved: once
  r.headroom[0].entries = 1;
  watch.observe(r, 3 * kSecond, 0, out);
  ASSERT_EQ(kinds(out), (std::vector{NoticeKind::inventory_floor, NoticeKind::inventory_restored}));
  EXPECT_EQ(out[0].severity, Severity::warn);
  EXPECT_EQ(out[0].key, "inventory/upbit-binance/BTC/kimchi");
  EXPECT_EQ(out[0].text,
            "kimchi BTC on upbit-binance cannot take another entry: upbit BTC is at its floor "
            "(room for 0.005 BTC); the other direction is preferred, and `xarb inventory` has "
            "the rebalance plan");
  EXPECT_EQ(out[1].key, out[0].key);
  EXPECT_EQ(out[1].severity, Severity::info);
}

TEST(OpsWatch, AStreamDownIsToldOncePastTheThresholdAndItsRecoveryOnlyThen) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 30 * kSecond);
  std::vector<Notice> out;
  watch.observe(healthy_report(), 0, 0, out);
  RunReport down = healthy_report();
  down.venues[index(venues::kUpbit)].stream_up = false;
  // A short drop (reconnected within the threshold) is no notice, nor is its recovery.
  watch.observe(down, kSecond, 0, out);
  watch.observe(down, 20 * kSecond, 0, out);
  watch.observe(healthy_report(), 21 * kSecond, 0, out);
  EXPECT_TRUE(out.empty());
  // A long one: told once, at 30 s.
  watch.observe(down, 100 * kSecond, 0, out);
  watch.observe(down, 129 * kSecond, 0, out);
  EXPECT_TRUE(out.empty());
  watch.observe(down, 130 * kSecond, 0, out);
  watch.observe(down, 200 * kSecond, 0, out);
  ASSERT_EQ(kinds(out), (std::vector{NoticeKind::stream_down}));
  EXPECT_EQ(out[0].text, "upbit's private stream has been down for 30 s: fills are polled");
  watch.observe(healthy_report(), 201 * kSecond, 0, out);
  EXPECT_EQ(kinds(out), (std::vector{NoticeKind::stream_down, NoticeKind::stream_recovered}));
}

TEST(OpsWatch, JournalErrorsAreTold) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  watch.observe(healthy_report(), 0, 0, out);
  RunReport r = healthy_report();
  r.journal_errors = 2;
  watch.observe(r, kSecond, 0, out);
  watch.observe(r, 2 * kSecond, 0, out);
  ASSERT_EQ(kinds(out), (std::vector{NoticeKind::journal_error}));
  EXPECT_EQ(out[0].severity, Severity::page);
}

TEST(OpsWatch, ABrokenPositionAndTheDailyLossLimitFromTheOpsEvents) {
  const SymbolMap symbols = btc_map();
  OpsWatch watch(symbols, 60 * kSecond);
  std::vector<Notice> out;
  PositionChange c = change(PositionState::opening, PositionState::broken);
  watch.on_event({123, c}, out);
  c.from = PositionState::broken;  // still broken: nothing new
  watch.on_event({124, c}, out);
  ASSERT_EQ(kinds(out), (std::vector{NoticeKind::broken}));
  EXPECT_EQ(out[0].key, "broken/42");
  EXPECT_EQ(out[0].wall_ns, 123);
  EXPECT_NE(out[0].text.find("position 42 (BTC, upbit-binance) went BROKEN"), std::string::npos)
      << out[0].text;

  RiskRefusal refusal;
  refusal.reason = RefusalReason::daily_loss;
  out.clear();
  watch.on_event({1, refusal}, out);
  watch.on_event({2, refusal}, out);  // the other direction, another symbol: the same limit
  EXPECT_EQ(kinds(out), (std::vector{NoticeKind::daily_loss}));
}

std::vector<nlohmann::json> read_lines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    out.push_back(nlohmann::json::parse(line));  // throws on a line that is not JSON
  }
  return out;
}

TEST(EventLog, EveryEventIsAJsonLineWithMoneyAsExactText) {
  const SymbolMap symbols = btc_map();
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "xarb-events";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::filesystem::path path = dir / "events.jsonl";
  {
    EventLog log(path, 1 << 20, 2, symbols, 7);
    log.run_started(1'796'000'000'123'456'789, "live", {venues::kBinance, venues::kUpbit});
    ExecReport x;
    x.intent_id = 5;
    x.position_id = 42;
    x.outcome = ExecOutcome::failed;
    x.legs[0].venue = venues::kUpbit;
    x.legs[0].instrument = 0;
    x.legs[0].side = Side::buy;
    x.legs[0].status = LegStatus::filled;
    x.legs[0].requested_qty = test::d("0.01");
    x.legs[0].filled_qty = test::d("0.01");
    x.legs[0].avg_price = test::d("143250000");
    x.legs[0].fee = test::d("716.25");
    x.legs[1].venue = venues::kBinance;
    x.legs[1].instrument = 0;
    x.legs[1].side = Side::sell;
    x.legs[1].status = LegStatus::failed;
    x.legs[1].requested_qty = test::d("0.01");
    x.legs[1].fee_base = test::d("0.00001");
    x.legs[1].error.http_status = 400;
    x.legs[1].error.code = -2010;
    x.legs[1].error.name.assign("insufficient balance");
    log.event({1'796'000'001'000'000'000, x});
    LogRecord rec;
    rec.level = LogLevel::warn;
    rec.text.assign("a \"quoted\" line\\with escapes");
    log.event({1'796'000'002'000'000'000, rec});
    Notice n;
    n.kind = NoticeKind::balance_difference;
    n.severity = Severity::page;
    n.key = "balance/upbit/KRW";
    n.text = "upbit KRW differs";
    n.fields = {{"venue", "upbit"}, {"difference", "-1000"}};
    n.wall_ns = 1'796'000'003'000'000'000;
    log.notice(n);
    RunReport r = healthy_report();
    r.realized_krw = test::d("1234567.89");
    log.run_stopped(1'796'000'004'000'000'000, r);
    PositionChange c = change(PositionState::closing, PositionState::closed);
    c.realized_krw = test::d("1234567.12345678");  // past a double's 15 digits once summed
    log.event({1'796'000'005'000'000'000, c});
  }
  const std::vector<nlohmann::json> lines = read_lines(path);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[5]["event"], "position");
  EXPECT_EQ(lines[5]["to"], "closed");
  EXPECT_EQ(lines[5]["realized_pnl_krw"], "1234567.12345678");
  EXPECT_EQ(lines[0]["event"], "run_started");
  EXPECT_EQ(lines[0]["ts"], "2026-11-30T00:53:20.123456Z");
  EXPECT_EQ(lines[0]["venues"], nlohmann::json::array({"binance", "upbit"}));
  const nlohmann::json& x = lines[1];
  EXPECT_EQ(x["event"], "exec_report");
  EXPECT_EQ(x["run"], 7);
  EXPECT_EQ(x["outcome"], "failed");
  EXPECT_EQ(x["legs"][0]["avg_price"], "143250000");
  EXPECT_EQ(x["legs"][0]["fee"], "716.25");
  EXPECT_EQ(x["legs"][0]["symbol"], "BTC");
  EXPECT_EQ(x["legs"][1]["fee_base"], "0.00001");
  EXPECT_EQ(x["legs"][1]["error"]["code"], -2010);
  EXPECT_EQ(x["legs"][1]["error"]["name"], "insufficient balance");
  EXPECT_EQ(lines[2]["level"], "warn");
  EXPECT_EQ(lines[2]["text"], "a \"quoted\" line\\with escapes");
  EXPECT_EQ(lines[3]["event"], "notice");
  EXPECT_EQ(lines[3]["severity"], "page");
  EXPECT_EQ(lines[3]["kind"], "balance_difference");
  EXPECT_EQ(lines[3]["difference"], "-1000");
  EXPECT_EQ(lines[4]["event"], "run_stopped");
  EXPECT_EQ(lines[4]["realized_pnl_krw"], "1234567.89");
}

TEST(EventLog, TheFileRotatesAtItsSize) {
  const SymbolMap symbols = btc_map();
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "xarb-rotate";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    EventLog log(dir / "events.jsonl", 4096, 2, symbols, 7);
    LogRecord rec;
    rec.text.assign(
        "a line of about a hundred characters, written until the file rotates twice over");
    for (int k = 0; k < 200; ++k) log.event({k, rec});
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "events.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(dir / "events.1.jsonl"));
  EXPECT_TRUE(std::filesystem::exists(dir / "events.2.jsonl"));
  EXPECT_FALSE(std::filesystem::exists(dir / "events.3.jsonl"));
  EXPECT_LE(std::filesystem::file_size(dir / "events.jsonl"), 4096u);
}

TEST(EventLog, AnUnwritablePathIsAClearError) {
  const SymbolMap symbols = btc_map();
  try {
    EventLog log("/proc/xarb-no-such-dir/events.jsonl", 4096, 2, symbols, 7);
    FAIL() << "opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("log: cannot open /proc/xarb-no-such-dir/events.jsonl"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace xarb::app
