// Alerts against a local HTTPS receiver that answers as Telegram's Bot API, a Slack incoming
// webhook and a generic JSON webhook do: each request's method, path (the bot token, the
// webhook's secret path), headers and JSON body are checked, and refused with the API's own error
// when wrong. Then what a sender must do: the severity filter, de-duplication, the rate limit,
// retries with backoff and a 429's retry-after, giving up with the channel's own words, never
// blocking the caller, and reading secrets from the environment or a 0600 file only.

#include <xarb/app/alerts.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <xarb/app/journal.hpp>
#include <xarb/core/clock.hpp>

#include "tls_test_server.hpp"

namespace xarb::app {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kToken = "123456:telegram-test-token";
constexpr const char* kChat = "-1001234567890";
constexpr const char* kSlackPath = "/services/T000/B000/slack-test-secret";
constexpr const char* kHookPath = "/hooks/xarb";
constexpr const char* kBearer = "webhook-test-bearer";

// What the receiver saw, and how it should answer next.
struct Receiver {
  std::mutex mu;
  std::vector<test::HttpExchange> telegram, slack, webhook;
  std::vector<std::string> refusals;  // why a request was refused (its format)
  int telegram_throttle = 0;          // answer this many with 429 retry_after 1
  int slack_errors = 0;               // answer this many with 500
  bool hang = false;                  // answer nothing for 3 s

  test::HttpReply handle(const test::HttpExchange& x) {
    if (hang) return {200, "", {}, 3'000, true};
    std::lock_guard lock(mu);
    const json body = json::parse(x.body, nullptr, false);
    const bool json_type = x.header("content-type").starts_with("application/json");
    if (x.path().starts_with("/bot")) {
      // Telegram: POST /bot<token>/sendMessage, JSON {chat_id, text}.
      if (x.path() != std::string("/bot") + kToken + "/sendMessage") {
        refusals.push_back("telegram path " + x.path());
        return {401, R"({"ok":false,"error_code":401,"description":"Unauthorized"})", {}};
      }
      if (x.method != "POST" || !json_type || !body.is_object() || !body.contains("text") ||
          !body["text"].is_string() || body["text"].get<std::string>().empty() ||
          body["text"].get<std::string>().size() > 4096) {
        refusals.push_back("telegram body " + x.body);
        return {
            400,
            R"({"ok":false,"error_code":400,"description":"Bad Request: message text is empty"})",
            {}};
      }
      if (!body.contains("chat_id") || body["chat_id"] != kChat) {
        refusals.push_back("telegram chat " + x.body);
        return {400,
                R"({"ok":false,"error_code":400,"description":"Bad Request: chat not found"})",
                {}};
      }
      telegram.push_back(x);
      if (telegram_throttle > 0) {
        --telegram_throttle;
        return {
            429,
            R"({"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}})",
            {}};
      }
      return {200,
              R"({"ok":true,"result":{"message_id":)" + std::to_string(telegram.size()) + "}}",
              {}};
    }
    if (x.path().starts_with("/services/")) {
      // A Slack incoming webhook: POST to its secret URL, JSON {text}; "ok" in plain text.
      if (x.path() != kSlackPath) return {404, "no_service", {}};
      if (x.method != "POST" || !json_type || !body.is_object() || !body.contains("text") ||
          !body["text"].is_string() || body["text"].get<std::string>().empty()) {
        refusals.push_back("slack body " + x.body);
        return {400, "invalid_payload", {}};
      }
      slack.push_back(x);
      if (slack_errors > 0) {
        --slack_errors;
        return {500, "rollup_error", {}};
      }
      return {200, "ok", {}};
    }
    if (x.path() == kHookPath) {
      if (x.header("authorization") != std::string("Bearer ") + kBearer) {
        refusals.push_back("webhook auth " + x.header("authorization"));
        return {403, R"({"error":"forbidden"})", {}};
      }
      for (const char* field : {"source", "run", "ts", "kind", "severity", "key", "text"}) {
        if (!body.is_object() || !body.contains(field)) {
          refusals.push_back(std::string("webhook field ") + field);
          return {422, R"({"error":"missing field"})", {}};
        }
      }
      webhook.push_back(x);
      return {204, "", {}};
    }
    refusals.push_back("unknown " + x.path());
    return {404, "not found", {}};
  }
};

struct Fixture {
  Receiver receiver;
  test::TlsTestServer server{nullptr,
                             [this](const test::HttpExchange& x) { return receiver.handle(x); }};

  AlertsConfig config(Severity min = Severity::warn) const {
    AlertsConfig c;
    c.min_severity = min;
    c.ca_file = server.ca_file();
    c.timeout_ms = 1'000;
    return c;
  }
  [[nodiscard]] std::vector<AlertChannel> channels(bool telegram = true, bool slack = true,
                                                   bool webhook = true) const {
    std::vector<AlertChannel> out;
    const net::Url base = net::parse_url(server.https_url(), "https://");
    if (telegram)
      out.push_back(
          {ChannelKind::telegram, base, std::string("/bot") + kToken + "/sendMessage", kChat, ""});
    if (slack) out.push_back({ChannelKind::slack, base, kSlackPath, "", ""});
    if (webhook) out.push_back({ChannelKind::webhook, base, kHookPath, "", kBearer});
    return out;
  }
};

Notice page(std::string key, std::string text = "upbit KRW differs from the ledger") {
  Notice n;
  n.kind = NoticeKind::balance_difference;
  n.severity = Severity::page;
  n.key = std::move(key);
  n.text = std::move(text);
  n.fields = {{"venue", "upbit"}, {"asset", "KRW"}, {"difference", "-1000"}};
  n.wall_ns = 1'796'000'000'000'000'000;
  return n;
}

// Collects outcomes until `n` have come (or 10 s pass).
std::vector<AlertOutcome> wait_outcomes(Alerter& a, std::size_t n,
                                        std::chrono::milliseconds timeout = 10s) {
  std::vector<AlertOutcome> out;
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n && std::chrono::steady_clock::now() < until) {
    a.take_outcomes(out);
    std::this_thread::sleep_for(10ms);
  }
  return out;
}

TEST(Alerts, EachChannelGetsTheRequestItsApiWants) {
  Fixture f;
  Alerter alerter(f.config(), f.channels(), 7);
  alerter.post(page("balance/upbit/KRW"));
  const std::vector<AlertOutcome> out = wait_outcomes(alerter, 3);
  ASSERT_EQ(out.size(), 3u);
  for (const AlertOutcome& o : out) {
    EXPECT_TRUE(o.sent) << to_string(o.channel) << ": " << o.error;
    EXPECT_EQ(o.attempts, 1);
  }
  std::lock_guard lock(f.receiver.mu);
  EXPECT_TRUE(f.receiver.refusals.empty()) << f.receiver.refusals.front();
  ASSERT_EQ(f.receiver.telegram.size(), 1u);
  const json t = json::parse(f.receiver.telegram[0].body);
  EXPECT_EQ(t["text"], "[xarb PAGE] run 7: upbit KRW differs from the ledger");
  EXPECT_EQ(t["chat_id"], kChat);
  ASSERT_EQ(f.receiver.slack.size(), 1u);
  EXPECT_EQ(json::parse(f.receiver.slack[0].body)["text"],
            "[xarb PAGE] run 7: upbit KRW differs from the ledger");
  ASSERT_EQ(f.receiver.webhook.size(), 1u);
  const json w = json::parse(f.receiver.webhook[0].body);
  EXPECT_EQ(w["source"], "xarb");
  EXPECT_EQ(w["run"], 7);
  EXPECT_EQ(w["kind"], "balance_difference");
  EXPECT_EQ(w["severity"], "page");
  EXPECT_EQ(w["key"], "balance/upbit/KRW");
  EXPECT_EQ(w["ts"], "2026-11-30T00:53:20.000000Z");
  EXPECT_EQ(w["fields"]["difference"], "-1000") << "money as exact text";
  EXPECT_EQ(alerter.stats().sent, 3u);
}

TEST(Alerts, UnderTheSeverityOrARepeatIsNotSent) {
  Fixture f;
  Alerter alerter(f.config(Severity::warn), f.channels(false, false, true), 7);
  Notice info = page("run");
  info.kind = NoticeKind::started;
  info.severity = Severity::info;
  alerter.post(info);
  alerter.post(page("balance/upbit/KRW"));
  alerter.post(page("balance/upbit/KRW"));  // the same kind and key within the window
  alerter.post(page("balance/binance/USDT", "binance USDT differs"));
  const std::vector<AlertOutcome> out = wait_outcomes(alerter, 2);
  std::this_thread::sleep_for(200ms);
  std::vector<AlertOutcome> more;
  alerter.take_outcomes(more);
  EXPECT_EQ(out.size() + more.size(), 2u);
  const AlerterStats s = alerter.stats();
  EXPECT_EQ(s.posted, 2u);
  EXPECT_EQ(s.duplicates, 1u);
  std::lock_guard lock(f.receiver.mu);
  ASSERT_EQ(f.receiver.webhook.size(), 2u);
  EXPECT_EQ(json::parse(f.receiver.webhook[1].body)["key"], "balance/binance/USDT");
}

TEST(Alerts, ThrottledAndFailingChannelsAreRetriedAsTheyAsk) {
  Fixture f;
  f.receiver.telegram_throttle = 1;  // 429, retry after 1 s
  f.receiver.slack_errors = 2;       // 500 twice: backoff 1 s, then 2 s
  AlertsConfig c = f.config();
  c.retries = 3;
  Alerter alerter(c, f.channels(true, true, false), 7);
  const auto t0 = std::chrono::steady_clock::now();
  alerter.post(page("broken/42", "position 42 went BROKEN"));
  const std::vector<AlertOutcome> out = wait_outcomes(alerter, 2);
  ASSERT_EQ(out.size(), 2u);
  for (const AlertOutcome& o : out) {
    EXPECT_TRUE(o.sent) << to_string(o.channel) << ": " << o.error;
    EXPECT_EQ(o.attempts, o.channel == ChannelKind::telegram ? 2 : 3) << to_string(o.channel);
  }
  // Telegram's own retry_after was waited out before the second attempt.
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(alerter.stats().retries, 3u);
  std::lock_guard lock(f.receiver.mu);
  EXPECT_EQ(f.receiver.telegram.size(), 2u);
  EXPECT_EQ(f.receiver.slack.size(), 3u);
}

TEST(Alerts, ARefusalIsNotRetriedAndSaysTheChannelsOwnWords) {
  Fixture f;
  std::vector<AlertChannel> channels = f.channels(true, false, true);
  channels[0].path = "/botWRONG-TOKEN/sendMessage";
  channels[1].bearer = "wrong";
  Alerter alerter(f.config(), channels, 7);
  alerter.post(page("journal", "the journal failed to write"));
  std::vector<AlertOutcome> out = wait_outcomes(alerter, 2);
  ASSERT_EQ(out.size(), 2u);
  std::sort(out.begin(), out.end(),
            [](const AlertOutcome& a, const AlertOutcome& b) { return a.channel < b.channel; });
  EXPECT_FALSE(out[0].sent);
  EXPECT_EQ(out[0].attempts, 1);
  EXPECT_EQ(out[0].error, "HTTP 401: Unauthorized");
  EXPECT_EQ(out[0].error.find("WRONG-TOKEN"), std::string::npos) << "no secret in an error";
  EXPECT_FALSE(out[1].sent);
  EXPECT_EQ(out[1].error, R"(HTTP 403: {"error":"forbidden"})");
  EXPECT_EQ(alerter.stats().unsent, 2u);
}

TEST(Alerts, AnUnreachableChannelNeverBlocksThePosterAndIsGivenUp) {
  Fixture f;
  f.receiver.hang = true;  // accepts, then says nothing
  AlertsConfig c = f.config();
  c.retries = 1;
  c.timeout_ms = 300;
  Alerter alerter(c, f.channels(false, false, true), 7);
  const std::int64_t t0 = clock::mono_ns();
  for (int k = 0; k < 50; ++k) alerter.post(page("venue/" + std::to_string(k)));
  // Posting is a queue push: it returned long before one request could time out.
  EXPECT_LT(clock::mono_ns() - t0, 300'000'000);
  const std::vector<AlertOutcome> first = wait_outcomes(alerter, 1, 5s);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(first[0].sent);
  EXPECT_EQ(first[0].attempts, 2);
  EXPECT_NE(first[0].error.find("no answer"), std::string::npos) << first[0].error;
  // The end gives up what is still queued, each with an outcome.
  alerter.stop(0ms);
  std::vector<AlertOutcome> rest;
  alerter.take_outcomes(rest);
  EXPECT_EQ(first.size() + rest.size(), 50u);
  for (const AlertOutcome& o : rest) EXPECT_FALSE(o.sent);
}

TEST(Alerts, EachChannelSendsAtMostItsRatePerMinute) {
  Fixture f;
  AlertsConfig c = f.config();
  c.max_per_minute = 2;
  Alerter alerter(c, f.channels(false, true, false), 7);
  for (int k = 0; k < 5; ++k) alerter.post(page("venue/" + std::to_string(k)));
  const std::vector<AlertOutcome> sent = wait_outcomes(alerter, 2);
  EXPECT_EQ(sent.size(), 2u);
  std::this_thread::sleep_for(500ms);
  {
    std::lock_guard lock(f.receiver.mu);
    EXPECT_EQ(f.receiver.slack.size(), 2u) << "the other three wait for the minute to pass";
  }
  alerter.stop(0ms);
  std::vector<AlertOutcome> rest;
  alerter.take_outcomes(rest);
  ASSERT_EQ(rest.size(), 3u);
  for (const AlertOutcome& o : rest) {
    EXPECT_FALSE(o.sent);
    EXPECT_EQ(o.error, "still queued when the run ended");
  }
}

TEST(Alerts, SecretsComeFromTheEnvironmentOrA0600File) {
  AlertsConfig c;
  c.telegram.enabled = true;
  c.telegram.chat_id = kChat;
  ::unsetenv("XARB_TELEGRAM_BOT_TOKEN");
  std::vector<AlertChannel> out;
  std::string error;
  EXPECT_FALSE(load_alert_channels(c, out, error));
  EXPECT_EQ(error, "alerts.telegram: no bot token: set XARB_TELEGRAM_BOT_TOKEN or secret_file");

  ::setenv("XARB_TELEGRAM_BOT_TOKEN", kToken, 1);
  ASSERT_TRUE(load_alert_channels(c, out, error)) << error;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].url.host, "api.telegram.org");
  EXPECT_EQ(out[0].path, std::string("/bot") + kToken + "/sendMessage");
  ::unsetenv("XARB_TELEGRAM_BOT_TOKEN");

  // The generic webhook from a file: its URL on the first line, a bearer token on the second.
  const std::filesystem::path file =
      std::filesystem::path(::testing::TempDir()) / "xarb-webhook.secret";
  std::ofstream(file) << "https://hooks.example.net:8443/a/b?sig=secret-sig\n" << kBearer << "\n";
  ::chmod(file.c_str(), 0600);
  AlertsConfig w;
  w.webhook.enabled = true;
  w.webhook.secret_file = file.string();
  ::unsetenv("XARB_ALERT_WEBHOOK_URL");
  ::unsetenv("XARB_ALERT_WEBHOOK_TOKEN");
  ASSERT_TRUE(load_alert_channels(w, out, error)) << error;
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].url.host, "hooks.example.net");
  EXPECT_EQ(out[0].url.port, "8443");
  EXPECT_EQ(out[0].path, "/a/b?sig=secret-sig");
  EXPECT_EQ(out[0].bearer, kBearer);

  // A URL that is not https is refused without repeating it (the URL is the secret).
  ::setenv("XARB_SLACK_WEBHOOK_URL", "http://hooks.slack.com/services/T/B/secret-in-url", 1);
  AlertsConfig s;
  s.slack.enabled = true;
  EXPECT_FALSE(load_alert_channels(s, out, error));
  EXPECT_EQ(error, "alerts.slack: the webhook URL is not an https:// URL");
  ::unsetenv("XARB_SLACK_WEBHOOK_URL");
}

TEST(Alerts, TheJournalKeepsWhatBecameOfEachAlert) {
  const std::filesystem::path path =
      std::filesystem::path(::testing::TempDir()) / "xarb-alerts-journal.sqlite";
  std::filesystem::remove(path);
  Journal j(path.string());
  SymbolMap symbols;
  j.begin_run(9, 1, "live", "", symbols);
  j.record_alert({"telegram", "broken", "page", "broken/42", "position 42 went BROKEN", false, 6,
                  "HTTP 502: Bad Gateway", 123});
  j.record_alert(
      {"slack", "broken", "page", "broken/42", "position 42 went BROKEN", true, 1, "", 123});
  j.commit();
  const std::vector<JournalAlert> a = j.alerts(9);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].channel, "telegram");
  EXPECT_FALSE(a[0].sent);
  EXPECT_EQ(a[0].attempts, 6);
  EXPECT_EQ(a[0].error, "HTTP 502: Bad Gateway");
  EXPECT_TRUE(a[1].sent);
  EXPECT_EQ(a[1].wall_ns, 123);
}

}  // namespace
}  // namespace xarb::app
