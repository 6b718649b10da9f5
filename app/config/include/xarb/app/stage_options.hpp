#pragma once

// The config translated into each stage's options: the feed's endpoints and timers, a venue's
// REST and private-stream options with its credentials.

#include <chrono>
#include <string>

#include <xarb/app/config.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/feed/feed_stage.hpp>

namespace xarb::app {

// Parses "90", "90s", "5m", "1h", "250ms"; false when it is none of those.
[[nodiscard]] bool parse_duration(const std::string& text, std::chrono::milliseconds& out);

// The feed's options from the config: venue URLs and CA files, Binance book source, timers.
[[nodiscard]] feed::FeedOptions feed_options(const Config& config);

// Credentials of `venue`: the environment variables (credential_env) win over the key file,
// whose first two non-empty lines are the key and the secret. False with `error` (naming the
// variables and the file, never a value) when neither gives both.
bool load_credentials(const Config& config, Venue venue, exec::Credentials& out,
                      std::string& error);

// The REST venue options of `venue` from the config, credentials included when present.
[[nodiscard]] exec::RestVenueOptions rest_options(const Config& config, Venue venue);

}  // namespace xarb::app
