#pragma once

// Alerts: the watch's notices sent to Telegram (Bot API sendMessage), Slack (an incoming
// webhook) and a generic JSON webhook, from a thread of their own over the network layer
// (net::HttpsClient), so that a slow or unreachable channel never holds up the ops thread, let
// alone trading. Notices under the configured severity are not sent; the same notice (kind and
// key) again within the de-duplication window is dropped; each channel sends at most so many a
// minute (the rest wait); a failed send is retried with backoff (a 429's own retry-after is
// honoured), and what could not be sent (given up, a full queue, still queued at the end) comes
// back as an outcome that the ops thread journals. Tokens and webhook URLs are secrets: read from
// the environment or a 0600 file, never printed.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <xarb/app/config.hpp>
#include <xarb/net/url.hpp>

#include <xarb/app/ops_watch.hpp>

namespace xarb::app {

enum class ChannelKind : std::uint8_t { telegram, slack, webhook };
[[nodiscard]] constexpr const char* to_string(ChannelKind k) noexcept {
  return k == ChannelKind::telegram ? "telegram" : k == ChannelKind::slack ? "slack" : "webhook";
}

// One configured channel with its secrets resolved.
struct AlertChannel {
  ChannelKind kind = ChannelKind::webhook;
  net::Url url;         // where the request goes: the API host, or the webhook URL itself
  std::string path;     // the request target (Telegram: /bot<token>/sendMessage)
  std::string chat_id;  // Telegram
  std::string bearer;   // webhook: an Authorization: Bearer token, when set
};

// The channels [alerts] configures, secrets read from the environment or their 0600 files.
// False with `error` naming the channel and what is missing (never the secret itself).
[[nodiscard]] bool load_alert_channels(const AlertsConfig& config, std::vector<AlertChannel>& out,
                                       std::string& error);

// What happened to one notice on one channel.
struct AlertOutcome {
  ChannelKind channel = ChannelKind::webhook;
  NoticeKind kind = NoticeKind::started;
  Severity severity = Severity::info;
  std::string key;
  std::string text;
  std::int64_t wall_ns = 0;  // the notice's
  bool sent = false;
  int attempts = 0;
  std::string error;  // why it was not sent: the channel's own answer, or what failed
};

// The complete HTTP/1.1 request that sends `n` on `c` (run: the engine's run id).
[[nodiscard]] std::string alert_request(const AlertChannel& c, const Notice& n, std::uint64_t run);

struct AlerterStats {
  std::uint64_t posted = 0;      // notices handed over at or above the severity
  std::uint64_t sent = 0;        // deliveries (notice x channel) the channel accepted
  std::uint64_t unsent = 0;      // deliveries given up
  std::uint64_t duplicates = 0;  // notices dropped as repeats within the window
  std::uint64_t retries = 0;     // attempts beyond the first
};

class Alerter {
 public:
  // Starts the alerts thread. Throws std::runtime_error when the trust store cannot be loaded.
  Alerter(const AlertsConfig& config, std::vector<AlertChannel> channels, std::uint64_t run);
  ~Alerter();
  Alerter(const Alerter&) = delete;
  Alerter& operator=(const Alerter&) = delete;

  // Hands a notice over (the ops thread): filtered by severity and de-duplicated here, queued
  // for every channel. Never blocks on the network.
  void post(const Notice& n);
  // Moves the outcomes finished since the last call into `out` (the ops thread journals them).
  void take_outcomes(std::vector<AlertOutcome>& out);
  // Sends what is queued for up to `deadline`, then gives the rest up (their outcomes say so)
  // and stops the thread. Called once, at the end of the run; the destructor calls it too.
  void stop(std::chrono::milliseconds deadline);
  [[nodiscard]] AlerterStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace xarb::app
