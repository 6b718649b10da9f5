// The run report's three forms (text, report.json, Prometheus text) carry the same figures, and
// the /metrics server serves what the ops thread published.

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <xarb/app/metrics.hpp>
#include <xarb/app/report_fields.hpp>
#include <xarb/app/report_output.hpp>
#include <xarb/venues/registry.hpp>

#include <xarb/app/inventory.hpp>
#include "test_support.hpp"

namespace xarb::app {
namespace {

RunReport sample() {
  RunReport r;
  r.run_id = 42;
  r.mode = "live";
  r.duration_s = 60.5;
  r.traded = {venues::kBinance, venues::kUpbit};
  r.venues[index(venues::kBinance)].frames = 12'129;
  r.venues[index(venues::kUpbit)].frames = 18'189;
  r.venues[index(venues::kUpbit)].disconnects = 2;
  r.entries = 10;
  r.exits[static_cast<std::size_t>(ExitReason::take_profit)] = 2;
  r.exits[static_cast<std::size_t>(ExitReason::reversal)] = 6;
  r.blocked["max_open_symbol"] = 3'545;
  r.outcomes[static_cast<std::size_t>(ExecOutcome::success)] = 18;
  r.closed = 8;
  r.wins = 8;
  r.winrate = 1.0;
  r.realized_krw = test::d("1234567.89");
  r.unrealized_krw = test::d("-999.14254279");
  r.symbols.push_back({"BTC", 6, 6, 6, 0, 0, test::d("4633.96")});
  r.pairs.push_back({"upbit-binance", 6, 6, 6, 0, 0, test::d("1234567.89")});
  LatencyReport t2o{"tick_to_order", 18, 376'800, 2'118'300, 2'118'300, 2'118'300, 9'000'000, {}};
  for (const std::int64_t le : kLatencyBucketsNs) t2o.at_most.push_back(le >= 500'000 ? 17 : 0);
  r.latencies.push_back(t2o);
  r.queues.push_back({"books", 8192, 15, 0});
  r.threads.push_back({"hot", "feed+signal+exec", 1, "park", 3.12});
  r.peak_rss_kib = 21 * 1024;
  r.rss_kib = 21 * 1024;
  r.heap_in_use_bytes = 5'000'000;
  r.heap_held_bytes = 6'000'000;
  r.journal_memory_bytes = 150'000;
  r.dust.push_back({venues::kBinance, "BTC", Decimal::from_mantissa(9'000), 1});
  r.exec_settled = 1;
  r.exec_unsettled = 2;
  VenueReport& b = r.venues[index(venues::kBinance)];
  b.private_stream = true;
  b.stream_up = true;
  b.stream_order_ends = 7;
  b.stream_incomplete = 1;
  b.stream_requests = 5;
  b.stream_balance_mismatches = 1;
  b.stream_last_mismatch = "USDT: the venue holds 10, the fills say 9";
  r.venues[index(venues::kUpbit)].healthy = false;
  r.risk_mode = "reducing";
  r.journal_events = 120;
  r.journal_errors = 1;
  r.balances.push_back(
      {venues::kUpbit, "KRW", test::d("1000"), test::d("1234567.89"), test::d("1"), true});
  r.inventory = {
      {venues::kBinance, "USDT", test::d("500"), test::d("10.5"), test::d("500"), test::d("400"),
       false},
      {venues::kBinance, "BTC", test::d("0.18"), {}, test::d("0.18"), {}, false},
      {venues::kUpbit, "KRW", test::d("1000"), {}, test::d("1234567.89"), test::d("100000"), true},
      {venues::kUpbit, "BTC", test::d("0.02"), {}, test::d("0.02"), test::d("0.01"), false}};
  r.headroom = {{"upbit-binance", "BTC", "kimchi", true, test::d("0.00089"), 0, "binance USDT"},
                {"upbit-binance", "BTC", "reverse", true, test::d("0.18"), 18, "binance BTC"}};
  return r;
}

InventoryConfig fees(const char* binance_btc_fee) {
  InventoryConfig c;
  c.withdrawal_fee["binance"]["BTC"] = test::d(binance_btc_fee);
  return c;
}

TEST(Inventory, PlanMovesTheBaseFromTheRichVenueToThePoorOneWithItsFeeOnTop) {
  RunReport r = sample();
  // BTC: 0.2 between the two, 0.1 each is even; Upbit's 0.02 is under half of it.
  r.rebalance = plan_rebalance(r.inventory, r.headroom, fees("0.0002"));
  ASSERT_EQ(r.rebalance.moves.size(), 1u);
  const RebalanceMove& m = r.rebalance.moves[0];
  EXPECT_EQ(m.asset, "BTC");
  EXPECT_EQ(m.from, venues::kBinance);
  EXPECT_EQ(m.to, venues::kUpbit);
  EXPECT_EQ(m.amount, test::d("0.0798")) << "Binance keeps its 0.1 after the 0.0002 fee";
  EXPECT_EQ(m.fee, test::d("0.0002"));
  EXPECT_TRUE(m.fee_known);
  EXPECT_EQ(m.from_after, test::d("0.1"));
  EXPECT_EQ(m.to_after, test::d("0.0998"));
  // KRW and USDT: one venue each, nothing to move between; the starved kimchi direction is
  // bound by Binance's USDT, which only reverse entries bring back.
  ASSERT_EQ(r.rebalance.notes.size(), 1u);
  EXPECT_EQ(r.rebalance.notes[0],
            "kimchi BTC on upbit-binance has no room left: binance USDT is at its floor, and no "
            "transfer between these venues brings USDT; reverse entries refill it");

  // Text, report.json, and back.
  std::ostringstream text;
  print_inventory(text, r);
  EXPECT_NE(text.str().find("move 0.0798 BTC from binance to upbit, withdrawal fee 0.0002 BTC; "
                            "then binance 0.1, upbit 0.0998"),
            std::string::npos)
      << text.str();
  EXPECT_NE(
      text.str().find("upbit-binance   BTC   kimchi   0.00089 (0 entries), bound by binance USDT"),
      std::string::npos)
      << text.str();
  RunReport back;
  std::string error;
  ASSERT_TRUE(read_inventory(report_json(r), back, error)) << error;
  std::ostringstream again;
  print_inventory(again, back);
  EXPECT_EQ(again.str(), text.str());
  EXPECT_EQ(back.run_id, 42u);
  EXPECT_FALSE(read_inventory("{\"run_id\": 1}", back, error));
  EXPECT_NE(error.find("no \"inventory\""), std::string::npos) << error;
  EXPECT_FALSE(read_inventory("not json", back, error));
}

TEST(Inventory, PlanLeavesOutWhatTheFeeWouldEatAndSaysWhatNoMoveCanDo) {
  RunReport r = sample();
  // 0.001 is more than 1 % of 0.079.
  RebalancePlan p = plan_rebalance(r.inventory, {}, fees("0.001"));
  EXPECT_TRUE(p.moves.empty());
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0],
            "moving 0.079 BTC from binance to upbit is left out: its withdrawal fee (0.001 BTC) "
            "is more than inventory.max_fee_share of it");
  InventoryConfig generous = fees("0.001");
  generous.max_fee_share = 0.05;
  EXPECT_EQ(plan_rebalance(r.inventory, {}, generous).moves.size(), 1u);

  // No fee configured: planned, and said so.
  p = plan_rebalance(r.inventory, {}, InventoryConfig{});
  ASSERT_EQ(p.moves.size(), 1u);
  EXPECT_FALSE(p.moves[0].fee_known);
  EXPECT_EQ(p.moves[0].amount, test::d("0.08"));

  // A floor over the even split is the target: Upbit's 0.15 leaves Binance 0.05.
  r.inventory[3].floor = test::d("0.15");
  p = plan_rebalance(r.inventory, {}, fees("0.0002"));
  ASSERT_EQ(p.moves.size(), 1u);
  EXPECT_EQ(p.moves[0].amount, test::d("0.1298"));
  EXPECT_EQ(p.moves[0].from_after, test::d("0.05"));

  // Floors over what the venues hold together: nothing can lift both.
  r.inventory[1].floor = test::d("0.1");
  p = plan_rebalance(r.inventory, {}, fees("0.0002"));
  EXPECT_TRUE(p.moves.empty());
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0],
            "BTC: the venues hold 0.2 BTC together, less than their floors (0.25 BTC); no move "
            "lifts every one over its floor: add BTC");

  // Balanced enough: nothing to move.
  r = sample();
  r.inventory[3].expected = test::d("0.06");  // over half of the even 0.12
  EXPECT_TRUE(plan_rebalance(r.inventory, {}, fees("0.0002")).moves.empty());
}

TEST(Report, JsonCarriesTheFigures) {
  const nlohmann::json j = nlohmann::json::parse(report_json(sample()));
  EXPECT_EQ(j["run_id"], 42);
  EXPECT_EQ(j["venues"]["upbit"]["frames"], 18'189);
  EXPECT_EQ(j["venues"]["upbit"]["disconnects"], 2);
  EXPECT_EQ(j["exits"]["take_profit"], 2);
  EXPECT_EQ(j["exits"]["reversal"], 6);
  EXPECT_EQ(j["exits"]["stop_loss"], 0);
  EXPECT_EQ(j["blocked"]["max_open_symbol"], 3'545);
  EXPECT_EQ(j["outcomes"]["success"], 18);
  // Money as exact decimal strings, never binary floats.
  EXPECT_EQ(j["realized_pnl_krw"], "1234567.89");
  EXPECT_EQ(j["unrealized_pnl_krw"], "-999.14254279");
  EXPECT_EQ(j["symbols"][0]["realized_pnl_krw"], "4633.96");
  EXPECT_EQ(j["pairs"][0]["realized_pnl_krw"], "1234567.89");
  EXPECT_EQ(j["latency_ns"]["tick_to_order"]["p50"], 376'800);
  EXPECT_EQ(j["queues"]["books"]["high_water"], 15);
  EXPECT_EQ(j["symbols"][0]["symbol"], "BTC");
  EXPECT_DOUBLE_EQ(j["threads"][0]["cpu_s"].get<double>(), 3.12);
  EXPECT_EQ(j["dust"][0]["qty"], "0.00009") << "exact decimal text";
  EXPECT_EQ(j["dust"][0]["venue"], "binance");
  EXPECT_EQ(j["exec"]["settled"], 1);
  EXPECT_EQ(j["exec"]["unsettled"], 2);
  const auto& ps = j["venues"]["binance"]["private_stream"];
  EXPECT_EQ(ps["order_ends"], 7);
  EXPECT_EQ(ps["incomplete"], 1);
  EXPECT_EQ(ps["requests"], 5);
  EXPECT_EQ(ps["balance_mismatches"], 1);
  EXPECT_EQ(ps["last_mismatch"], "USDT: the venue holds 10, the fills say 9");
  EXPECT_FALSE(j["venues"]["upbit"].contains("private_stream"));
  EXPECT_EQ(j["venues"]["upbit"]["healthy"], false);
  EXPECT_EQ(j["venues"]["binance"]["healthy"], true);
  EXPECT_EQ(j["risk_mode"], "reducing");
  EXPECT_EQ(j["balances"][0]["difference"], "-1233567.89");
}

TEST(Report, TextAndStatusLineShowTheFigures) {
  std::ostringstream text, line;
  print_report(text, sample());
  print_status_line(line, sample());
  EXPECT_NE(text.str().find("take_profit 2 reversal 6"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("realised PnL 1234567.89 KRW, unrealised -999.15 KRW"),
            std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("max_open_symbol 3545"), std::string::npos);
  EXPECT_NE(text.str().find("binance BTC   0.00009  (1 positions)"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("1 settled later by their venue, 2 still unknown"), std::string::npos);
  EXPECT_NE(text.str().find("incomplete 1, requests sent on it 5, balance mismatches 1 (last: "
                            "USDT: the venue holds 10, the fills say 9)"),
            std::string::npos)
      << text.str();
  EXPECT_NE(line.str().find("entries 10 exits 8"), std::string::npos) << line.str();
  EXPECT_NE(line.str().find("tick-to-order p50 376.8 us"), std::string::npos) << line.str();
  EXPECT_EQ(line.str().back(), '\n');
}

TEST(Report, PrometheusText) {
  const std::string p = prometheus_text(sample());
  EXPECT_NE(p.find("# TYPE xarb_frames_total counter"), std::string::npos);
  // Inventory per venue and asset, headroom per direction, exact.
  EXPECT_NE(p.find("xarb_inventory_held{venue=\"upbit\",asset=\"KRW\"} 1000\n"), std::string::npos)
      << p;
  EXPECT_NE(p.find("xarb_inventory_difference{venue=\"upbit\",asset=\"KRW\"} -1233567.89\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_inventory_above_floor{venue=\"binance\",asset=\"USDT\"} 89.5\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_inventory_headroom_qty{pair=\"upbit-binance\",symbol=\"BTC\",direction="
                   "\"kimchi\"} 0.00089\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_inventory_headroom_entries{pair=\"upbit-binance\",symbol=\"BTC\","
                   "direction=\"reverse\"} 18\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_rebalance_moves 0\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_frames_total{venue=\"upbit\"} 18189\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_exits_total{reason=\"reversal\"} 6\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_latency_seconds{stage=\"tick_to_order\",quantile=\"0.5\"} 0.0003768\n"),
            std::string::npos)
      << p;
  // Exact, whatever the magnitude: not 1.23457e+06.
  EXPECT_NE(p.find("xarb_realized_pnl_krw 1234567.89\n"), std::string::npos) << p;
  EXPECT_NE(p.find("xarb_unrealized_pnl_krw -999.14254279\n"), std::string::npos) << p;
  EXPECT_NE(p.find("xarb_pair_realized_pnl_krw{pair=\"upbit-binance\"} 1234567.89\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_thread_cpu_seconds_total{thread=\"hot\"} 3.12\n"), std::string::npos);
  // The summary carries its _sum beside its _count.
  EXPECT_NE(p.find("xarb_latency_seconds_sum{stage=\"tick_to_order\"} 0.009\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_latency_seconds_count{stage=\"tick_to_order\"} 18\n"), std::string::npos);
  EXPECT_NE(p.find("quantile=\"1\"} 0.0021183\n"), std::string::npos);
  EXPECT_NE(p.find("# TYPE xarb_stage_latency_seconds histogram"), std::string::npos);
  EXPECT_NE(p.find("xarb_stage_latency_seconds_bucket{stage=\"tick_to_order\",le=\"0.0002\"} 0\n"),
            std::string::npos) << p;
  EXPECT_NE(p.find("xarb_stage_latency_seconds_bucket{stage=\"tick_to_order\",le=\"0.0005\"} 17\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_stage_latency_seconds_bucket{stage=\"tick_to_order\",le=\"+Inf\"} 18\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_stage_latency_seconds_sum{stage=\"tick_to_order\"} 0.009\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_resident_memory_bytes 22020096\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_heap_in_use_bytes 5000000\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_heap_held_bytes 6000000\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_journal_memory_bytes 150000\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_dust{venue=\"binance\",asset=\"BTC\"} 0.00009\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_orders_unsettled 2\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_risk_mode{mode=\"reducing\"} 1\n"), std::string::npos) << p;
  EXPECT_NE(p.find("xarb_risk_mode{mode=\"normal\"} 0\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_venue_healthy{venue=\"upbit\"} 0\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_venue_healthy{venue=\"binance\"} 1\n"), std::string::npos);
  EXPECT_NE(p.find("xarb_balance_unexplained{venue=\"upbit\",asset=\"KRW\"} 1\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_balance_difference{venue=\"upbit\",asset=\"KRW\"} -1233567.89\n"),
            std::string::npos);
  EXPECT_NE(p.find("xarb_journal_errors_total 1\n"), std::string::npos);
}

// Each field is one row of one table: every row with a JSON key is in report.json under that
// key, every row with a metric is one family on /metrics, no family twice, and the same count
// reads the same in both (the names that drifted apart now say what they count).
template <class Row>
void expect_written(const std::string& prefix, std::span<const ReportField<Row>> table,
                    const nlohmann::json& where, const std::string& metrics) {
  for (const ReportField<Row>& f : table) {
    if (!f.key.empty()) {
      EXPECT_TRUE(where.contains(std::string(f.key))) << f.key << " not in " << where.dump();
    }
    if (!f.metric.empty()) {
      const std::string family = "# TYPE xarb_" + prefix + std::string(f.metric) + ' ';
      EXPECT_NE(metrics.find(family), std::string::npos) << family;
    }
  }
}

TEST(Report, EveryFieldIsWrittenOnceFromItsTable) {
  const RunReport r = sample();
  const nlohmann::json j = nlohmann::json::parse(report_json(r));
  const std::string p = prometheus_text(r);
  expect_written("", venue_fields(), j["venues"]["binance"], p);
  expect_written("private_stream_", stream_fields(), j["venues"]["binance"]["private_stream"], p);
  expect_written("", run_fields(), j, p);
  expect_written("", exec_fields(), j["exec"], p);
  expect_written("", journal_fields(), j["journal"], p);
  expect_written("pair_", trade_fields(), j["pairs"][0], p);
  expect_written("balance_", balance_fields(), j["balances"][0], p);
  expect_written("inventory_", inventory_fields(), j["inventory"]["assets"][0], p);
  expect_written("", dust_fields(), j["dust"][0], p);
  expect_written("inventory_headroom_", headroom_fields(), j["inventory"]["headroom"][0], p);
  std::map<std::string, int> families;
  std::istringstream lines(p);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("# TYPE ")) ++families[line.substr(7, line.find(' ', 7) - 7)];
  }
  for (const auto& [name, n] : families) EXPECT_EQ(n, 1) << name << " is exposed " << n << " times";
  // A lost connection is a disconnect in the text, in report.json and on /metrics.
  EXPECT_EQ(j["venues"]["upbit"]["disconnects"], 2);
  EXPECT_NE(p.find("xarb_disconnects_total{venue=\"upbit\"} 2\n"), std::string::npos) << p;
  EXPECT_EQ(p.find("reconnects_total"), std::string::npos);
  EXPECT_EQ(j["venues"]["binance"]["private_stream"]["order_ends"], 7);
  EXPECT_NE(p.find("xarb_private_stream_order_ends_total{venue=\"binance\"} 7\n"),
            std::string::npos);
  EXPECT_EQ(j["balances"][0]["unexplained"], true);
  EXPECT_NE(p.find("xarb_balance_unexplained{venue=\"upbit\",asset=\"KRW\"} 1\n"),
            std::string::npos);
  std::ostringstream text;
  print_report(text, r);
  EXPECT_NE(text.str().find("disconnects 2"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("order ends pushed 7"), std::string::npos) << text.str();
}

std::string http_get(int port, const std::string& target) {
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket s(io);
  s.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  net::write(s, net::buffer(req));
  std::string out;
  boost::system::error_code ec;
  net::read(s, net::dynamic_buffer(out), ec);  // the server closes after one answer
  return out;
}

TEST(Metrics, ServesWhatWasPublished) {
  MetricsServer server("127.0.0.1", 0);
  ASSERT_GT(server.port(), 0);
  EXPECT_NE(http_get(server.port(), "/metrics").find("# no figures yet"), std::string::npos);
  server.publish(prometheus_text(sample()));
  const std::string a = http_get(server.port(), "/metrics");
  EXPECT_NE(a.find("HTTP/1.1 200 OK"), std::string::npos) << a;
  EXPECT_NE(a.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(a.find("xarb_frames_total{venue=\"binance\"} 12129"), std::string::npos);
  EXPECT_NE(http_get(server.port(), "/other").find("404"), std::string::npos);
}

// Prometheus' own linter (Debian's prometheus package, installed by scripts/install-deps) finds
// nothing to say about the text: names, types, HELP, units, histogram and summary series.
TEST(Metrics, PromtoolChecksTheTextClean) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not installed (scripts/install-deps installs it)";
  }
  const std::string dir = ::testing::TempDir();
  const std::string in = dir + "xarb-metrics.txt";
  const std::string out = dir + "xarb-promtool.txt";
  std::ofstream(in) << prometheus_text(sample());
  const int rc = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::stringstream said;
  said << std::ifstream(out).rdbuf();
  EXPECT_EQ(rc, 0) << said.str();
  EXPECT_EQ(said.str(), "");
}

TEST(Metrics, ABadAddressIsRefused) {
  EXPECT_THROW(MetricsServer("not-an-address", 0), std::runtime_error);
}

}  // namespace
}  // namespace xarb::app
