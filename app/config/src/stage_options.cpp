#include <chrono>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include <xarb/app/stage_options.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::app {

bool parse_duration(const std::string& text, std::chrono::milliseconds& out) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  const std::string unit = text.substr(used);
  double ms = 0;
  if (unit.empty() || unit == "s")
    ms = value * 1000;
  else if (unit == "ms")
    ms = value;
  else if (unit == "m")
    ms = value * 60'000;
  else if (unit == "h")
    ms = value * 3'600'000;
  else
    return false;
  if (!(ms >= 0)) return false;
  out = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  return true;
}

feed::FeedOptions feed_options(const Config& c) {
  feed::FeedOptions o;
  for (feed::VenueEndpoint& e : o.endpoints) e.enabled = false;  // only the config's venues
  for (const Venue v : c.venues()) {
    const VenueConfig& vc = c.venue(v);
    o.endpoint(v) = {vc.ws_url,
                     vc.rest_url,
                     vc.ca_file,
                     true,
                     std::chrono::milliseconds(vc.connect_timeout_ms),
                     vc.book,
                     std::chrono::milliseconds(vc.ping_ms),
                     {}};
  }
  o.ws.watchdog = std::chrono::milliseconds(c.feed.watchdog_ms);
  o.ws.reconnect_min = std::chrono::milliseconds(c.feed.reconnect_min_ms);
  o.ws.reconnect_max = std::chrono::milliseconds(c.feed.reconnect_max_ms);
  return o;
}

bool load_credentials(const Config& config, Venue venue, exec::Credentials& out,
                      std::string& error) {
  const CredentialNames names = credential_env(venue);
  const char* key = std::getenv(std::string(names.key).c_str());
  const char* secret = std::getenv(std::string(names.secret).c_str());
  if (key != nullptr && secret != nullptr && *key != '\0' && *secret != '\0') {
    out = {key, secret};
    return true;
  }
  const VenueConfig& v = config.venue(venue);
  if (!v.key_file.empty()) {
    std::ifstream in(v.key_file);
    std::string line;
    std::vector<std::string> lines;
    while (lines.size() < 2 && std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) lines.push_back(line);
    }
    if (lines.size() == 2) {
      out = {lines[0], lines[1]};
      return true;
    }
    error = v.key_file + " must hold the key on its first line and the secret on its second";
    return false;
  }
  error = "no credentials for " + std::string(to_string(venue)) + ": set " +
          std::string(names.key) + " and " + std::string(names.secret) +
          ", or key_file in [venues." + std::string(to_string(venue)) + "]";
  return false;
}

exec::RestVenueOptions rest_options(const Config& config, Venue venue) {
  const VenueConfig& v = config.venue(venue);
  exec::RestVenueOptions o;
  o.venue = venue;
  o.rest_url = v.rest_url;
  o.ca_file = v.ca_file;
  o.connect_timeout = std::chrono::milliseconds(v.connect_timeout_ms);
  o.request_timeout = std::chrono::milliseconds(v.request_timeout_ms);
  o.recv_window_ms = v.recv_window_ms;
  o.private_stream = v.private_stream;
  o.ws_url = v.ws_url;
  o.private_ws_url = v.private_ws_url;
  o.order_entry = v.order_entry;
  std::string ignored;
  (void)load_credentials(config, venue, o.credentials, ignored);
  return o;
}

}  // namespace xarb::app
