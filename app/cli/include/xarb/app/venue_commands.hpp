#pragma once

// `xarb venue`: operator commands against the configured venues (live, or the simulator at the
// config's URLs): balances, open orders, placing / getting / cancelling one order, cancelling
// all. Output is plain text; errors carry the venue's own code and message. Secrets are read from
// the environment or the 0600 key file and never printed.

#include <iosfwd>
#include <string>
#include <vector>

#include <xarb/app/stage_options.hpp>

namespace xarb::app {

struct VenueCommand {
  std::string action;  // balances | open-orders | place | get | cancel | cancel-all
  std::vector<Venue> venues;
  std::string symbol;  // base asset ("BTC") for order actions
  std::string side;    // buy | sell
  std::string price;
  std::string qty;
  std::string tif = "ioc";  // ioc | fok | gtc
  std::string client_id;    // for get / cancel; generated for place when empty
};

// Runs one command; returns the exit code (0 ok, 1 venue or input error, 2 config error).
int run_venue_command(const std::string& config_path, const VenueCommand& command,
                      std::ostream& out, std::ostream& err);

}  // namespace xarb::app
