#include <xarb/app/alerts.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <tuple>

#include <xarb/core/clock.hpp>
#include <xarb/net/backoff.hpp>
#include <xarb/net/https_client.hpp>
#include <xarb/net/tls.hpp>
#include <xarb/tuning/threads.hpp>

#include <xarb/app/event_log.hpp>

namespace xarb::app {
namespace {

using nlohmann::json;

// The first non-empty lines of a secret file (at most `n`), trailing blanks cut.
std::vector<std::string> secret_lines(const std::string& path, std::size_t n) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (lines.size() < n && std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::string(v) : std::string();
}

// The secret of a channel: its environment variable, else the first line of its file.
bool secret(const AlertChannelConfig& c, const char* var, std::string& out, std::string& second) {
  out = env(var);
  if (!out.empty()) return true;
  if (c.secret_file.empty()) return false;
  const std::vector<std::string> lines = secret_lines(c.secret_file, 2);
  if (lines.empty()) return false;
  out = lines[0];
  if (lines.size() > 1) second = lines[1];
  return true;
}

constexpr const char* kSeverityTag[] = {"INFO", "WARN", "PAGE"};

std::string headline(const Notice& n, std::uint64_t run) {
  return std::string("[xarb ") + kSeverityTag[static_cast<int>(n.severity)] + "] run " +
         std::to_string(run) + ": " + n.text;
}

std::string http_post(const AlertChannel& c, const std::string& body) {
  std::string r = "POST " + c.path + " HTTP/1.1\r\nHost: " + c.url.host_header() +
                  "\r\nUser-Agent: xarb\r\nContent-Type: application/json\r\nAccept: "
                  "application/json\r\nContent-Length: " +
                  std::to_string(body.size()) + "\r\n";
  if (!c.bearer.empty()) r += "Authorization: Bearer " + c.bearer + "\r\n";
  return r + "\r\n" + body;
}

}  // namespace

bool load_alert_channels(const AlertsConfig& config, std::vector<AlertChannel>& out,
                         std::string& error) {
  out.clear();
  std::string url_error;
  if (config.telegram.enabled) {
    AlertChannel c;
    c.kind = ChannelKind::telegram;
    std::string token, unused;
    if (!secret(config.telegram, "XARB_TELEGRAM_BOT_TOKEN", token, unused)) {
      error = "alerts.telegram: no bot token: set XARB_TELEGRAM_BOT_TOKEN or secret_file";
      return false;
    }
    if (!net::parse_url(config.telegram.api_url, "https://", c.url, url_error)) {
      error = "alerts.telegram.api_url: " + url_error;
      return false;
    }
    c.path = c.url.path_prefix() + "/bot" + token + "/sendMessage";
    c.chat_id = config.telegram.chat_id;
    out.push_back(std::move(c));
  }
  for (const auto& [kind, cfg, var, name] :
       {std::tuple{ChannelKind::slack, &config.slack, "XARB_SLACK_WEBHOOK_URL", "slack"},
        std::tuple{ChannelKind::webhook, &config.webhook, "XARB_ALERT_WEBHOOK_URL", "webhook"}}) {
    if (!cfg->enabled) continue;
    AlertChannel c;
    c.kind = kind;
    std::string url, bearer;
    if (!secret(*cfg, var, url, bearer)) {
      error = std::string("alerts.") + name + ": no webhook URL: set " + var + " or secret_file";
      return false;
    }
    // The URL is the secret: its error says what is wrong with it, not what it is.
    if (!net::parse_url(url, "https://", c.url, url_error)) {
      error = std::string("alerts.") + name + ": the webhook URL is not an https:// URL";
      return false;
    }
    c.path = c.url.target;
    if (kind == ChannelKind::webhook) {
      const std::string token = env("XARB_ALERT_WEBHOOK_TOKEN");
      c.bearer = token.empty() ? bearer : token;
    }
    out.push_back(std::move(c));
  }
  return true;
}

std::string alert_request(const AlertChannel& c, const Notice& n, std::uint64_t run) {
  json body;
  switch (c.kind) {
    case ChannelKind::telegram:
      body = {
          {"chat_id", c.chat_id}, {"text", headline(n, run)}, {"disable_web_page_preview", true}};
      break;
    case ChannelKind::slack:
      body = {{"text", headline(n, run)}};
      break;
    case ChannelKind::webhook:
      body = {{"source", "xarb"},
              {"run", run},
              {"ts", iso_time(n.wall_ns)},
              {"kind", to_string(n.kind)},
              {"severity", to_string(n.severity)},
              {"key", n.key},
              {"text", n.text}};
      for (const auto& [k, v] : n.fields) body["fields"][k] = v;
      break;
  }
  return http_post(c, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

// ---------------------------------------------------------------------------------------------

struct Alerter::Impl {
  struct Delivery {
    Notice notice;
    std::size_t channel = 0;
    int attempts = 0;
    std::int64_t due_ns = 0;  // not before (backoff, retry-after)
    std::string last_error;
  };
  struct Channel {
    AlertChannel spec;
    std::unique_ptr<net::HttpsClient> client;
    std::deque<Delivery> queue;
    std::optional<Delivery> in_flight;
    std::deque<std::int64_t> sent_ns;  // the last minute's sends (the rate limit)
    net::Backoff backoff{std::chrono::seconds(1), std::chrono::seconds(60)};
    int retry_after_s = 0;  // the answer in flight's own (429)
  };
  static constexpr std::size_t kMaxQueued = 256;  // per channel; beyond it a notice is unsent

  AlertsConfig cfg;
  std::uint64_t run = 0;
  net::asio::io_context io{1};
  std::unique_ptr<net::ssl::context> tls;
  std::vector<Channel> channels;

  mutable std::mutex mu;
  std::condition_variable wake;
  std::deque<Notice> inbox;                         // from post(), guarded by mu
  std::vector<AlertOutcome> outcomes;               // guarded by mu
  AlerterStats stats;                               // guarded by mu
  std::map<std::string, std::int64_t> last_posted;  // kind/key -> mono ns (post(), under mu)
  bool stopping = false;                            // guarded by mu
  std::int64_t stop_by_ns = 0;                      // guarded by mu
  std::thread thread;

  void finish(Delivery& d, bool sent, std::string error) {
    AlertOutcome o;
    o.channel = channels[d.channel].spec.kind;
    o.kind = d.notice.kind;
    o.severity = d.notice.severity;
    o.key = d.notice.key;
    o.text = d.notice.text;
    o.wall_ns = d.notice.wall_ns;
    o.sent = sent;
    o.attempts = d.attempts;
    o.error = std::move(error);
    std::lock_guard lock(mu);
    (sent ? stats.sent : stats.unsent) += 1;
    outcomes.push_back(std::move(o));
  }

  // The channel's answer to the request in flight.
  void on_answer(Channel& ch, const net::HttpAnswer& a, std::int64_t now) {
    Delivery d = std::move(*ch.in_flight);
    ch.in_flight.reset();
    const bool ok = !a.transport_error && a.status >= 200 && a.status < 300 &&
                    (ch.spec.kind != ChannelKind::telegram ||
                     a.body.find("\"ok\":true") != std::string_view::npos);
    if (ok) {
      ch.backoff.reset();
      finish(d, true, {});
      return;
    }
    std::string why;
    if (a.transport_error) {
      why = "no answer (" + std::string(a.what) + ")";
    } else {
      // The channel's own words: Telegram's description, Slack's text, the webhook's body.
      std::string said(a.body.substr(0, 200));
      if (ch.spec.kind == ChannelKind::telegram) {
        const json j = json::parse(a.body, nullptr, false);
        if (j.is_object() && j.contains("description") && j["description"].is_string()) {
          said = j["description"].get<std::string>();
        }
        if (j.is_object() && j.contains("parameters") && j["parameters"].is_object() &&
            j["parameters"].contains("retry_after") &&
            j["parameters"]["retry_after"].is_number_integer()) {
          ch.retry_after_s = j["parameters"]["retry_after"].get<int>();
        }
      }
      why = "HTTP " + std::to_string(a.status) + (said.empty() ? "" : ": " + said);
    }
    // A refusal that will not change (a bad token, a bad payload, a gone channel) is not retried;
    // a throttle, a server error or no answer is.
    const bool retry = a.transport_error || a.status == 429 || a.status >= 500;
    if (!retry || d.attempts > cfg.retries) {
      finish(d, false, why);
      return;
    }
    {
      std::lock_guard lock(mu);
      ++stats.retries;
    }
    const std::int64_t wait_ns =
        ch.retry_after_s > 0
            ? std::int64_t{ch.retry_after_s} * 1'000'000'000
            : std::chrono::duration_cast<std::chrono::nanoseconds>(ch.backoff.next()).count();
    ch.retry_after_s = 0;
    d.due_ns = now + wait_ns;
    d.last_error = std::move(why);
    ch.queue.push_front(std::move(d));
  }

  // Starts the next due delivery on an idle channel, within its rate.
  void send_next(Channel& ch, std::int64_t now) {
    if (ch.in_flight || ch.queue.empty() || ch.queue.front().due_ns > now) return;
    while (!ch.sent_ns.empty() && now - ch.sent_ns.front() >= 60'000'000'000) {
      ch.sent_ns.pop_front();
    }
    if (ch.sent_ns.size() >= static_cast<std::size_t>(cfg.max_per_minute)) return;
    Delivery d = std::move(ch.queue.front());
    ch.queue.pop_front();
    ++d.attempts;
    const std::string request = alert_request(ch.spec, d.notice, run);
    if (!ch.client->submit(request, 1)) {
      finish(d, false, "the request is too long to send");
      return;
    }
    ch.sent_ns.push_back(now);
    ch.in_flight = std::move(d);
  }

  void give_up_all(const char* why) {
    for (Channel& ch : channels) {
      if (ch.in_flight) {
        finish(*ch.in_flight, false, why);
        ch.in_flight.reset();
      }
      for (Delivery& d : ch.queue) {
        finish(d, false, d.last_error.empty() ? std::string(why) : d.last_error + "; " + why);
      }
      ch.queue.clear();
    }
  }

  void loop() {
    for (;;) {
      std::deque<Notice> fresh;
      bool stop = false;
      std::int64_t stop_by = 0;
      {
        std::unique_lock lock(mu);
        const bool busy = std::any_of(channels.begin(), channels.end(), [](const Channel& c) {
          return c.in_flight.has_value() || !c.queue.empty();
        });
        wake.wait_for(lock, std::chrono::milliseconds(busy ? 5 : 50),
                      [&] { return !inbox.empty() || stopping; });
        fresh.swap(inbox);
        stop = stopping;
        stop_by = stop_by_ns;
      }
      for (Notice& n : fresh) {
        for (std::size_t k = 0; k < channels.size(); ++k) {
          Delivery d{n, k, 0, 0, {}};
          if (channels[k].queue.size() >= kMaxQueued) {
            finish(d, false, "the channel's queue is full");
            continue;
          }
          channels[k].queue.push_back(std::move(d));
        }
      }
      io.poll();
      io.restart();
      const std::int64_t now = clock::mono_ns();
      for (Channel& ch : channels) {
        ch.client->expire(now);
        net::HttpAnswer a;
        while (ch.client->next(a)) {
          if (ch.in_flight) on_answer(ch, a, now);
        }
        send_next(ch, now);
      }
      io.poll();
      io.restart();
      if (stop) {
        const bool idle = std::none_of(channels.begin(), channels.end(), [](const Channel& c) {
          return c.in_flight.has_value() || !c.queue.empty();
        });
        if (idle || now >= stop_by) {
          give_up_all("still queued when the run ended");
          return;
        }
      }
    }
  }
};

Alerter::Alerter(const AlertsConfig& config, std::vector<AlertChannel> channels, std::uint64_t run)
    : impl_(std::make_unique<Impl>()) {
  impl_->cfg = config;
  impl_->run = run;
  impl_->tls = net::make_client_tls(config.ca_file);
  net::HttpsClientOptions o;
  o.connect_timeout = std::chrono::milliseconds(config.timeout_ms);
  o.request_timeout = std::chrono::milliseconds(config.timeout_ms);
  o.max_body_bytes = 64 << 10;
  o.max_request_bytes = 16 << 10;
  for (AlertChannel& c : channels) {
    Impl::Channel ch;
    ch.spec = std::move(c);
    ch.client = std::make_unique<net::HttpsClient>(impl_->io, *impl_->tls, ch.spec.url, o,
                                                   net::HeaderSink{});
    impl_->channels.push_back(std::move(ch));
  }
  impl_->thread = std::thread([this] {
    tuning::name_current_thread("alerts");
    impl_->loop();
  });
}

Alerter::~Alerter() { stop(std::chrono::milliseconds(0)); }

void Alerter::post(const Notice& n) {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopping || n.severity < impl_->cfg.min_severity) return;
  const std::string dedup = std::string(to_string(n.kind)) + "/" + n.key;
  const std::int64_t now = clock::mono_ns();
  const auto it = impl_->last_posted.find(dedup);
  if (it != impl_->last_posted.end() && now - it->second < impl_->cfg.dedup_s * 1'000'000'000) {
    ++impl_->stats.duplicates;
    return;
  }
  impl_->last_posted[dedup] = now;
  ++impl_->stats.posted;
  impl_->inbox.push_back(n);
  impl_->wake.notify_one();
}

void Alerter::take_outcomes(std::vector<AlertOutcome>& out) {
  std::lock_guard lock(impl_->mu);
  for (AlertOutcome& o : impl_->outcomes) out.push_back(std::move(o));
  impl_->outcomes.clear();
}

void Alerter::stop(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->stopping) {
      impl_->stopping = true;
      impl_->stop_by_ns =
          clock::mono_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(deadline).count();
    }
    impl_->wake.notify_one();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

AlerterStats Alerter::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace xarb::app
