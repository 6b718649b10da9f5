// xarb-sim: the venues of its registry on 127.0.0.1, for the engine's tests, the demo and the soak run.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>

#include <xarb/sim/config.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "venues/registry.hpp"

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "xarb-sim: a local exchange simulator speaking its venues' real protocols"};
  std::string config, cert_out;
  double duration_s = 0, rate = -1;
  int probe_every_ms = -1;
  app.add_option("--config", config, "TOML file (configs/sim.toml)")->required();
  app.add_option("--cert-out", cert_out, "Write the TLS certificate (PEM) here, for clients' CA file");
  // --<venue>-port for each venue the simulator serves: a port asked for is a venue asked for.
  std::array<int, xarb::kMaxVenues> ports;
  ports.fill(-1);
  for (const xarb::venues::VenueInfo& v : xarb::venues::kRegistry) {
    if (xarb::sim::find_venue(v.id) == nullptr) continue;
    const std::string name(v.name);
    app.add_option("--" + name + "-port", ports[xarb::index(v.id)],
                   "Port of the " + name + " front end (0: any); serves " + name +
                       " as [market] " + name + " = true does");
  }
  app.add_option("--rate", rate, "Book updates per second (overrides the config)");
  app.add_option("--probe-every-ms", probe_every_ms,
                 "Latency probe: jump the first symbol's premium this often (0: off; see [probe])");
  app.add_option("--duration", duration_s, "Stop after this many seconds (default: until Ctrl-C)");
  CLI11_PARSE(app, argc, argv);

  xarb::sim::SimOptions options;
  std::string error;
  if (!xarb::sim::load_sim_options(config, options, error)) {
    std::cerr << error << "\nnothing was started\n";
    return 2;
  }
  if (!cert_out.empty()) options.cert_out = cert_out;
  if (options.cert_out.empty()) options.cert_out = "xarb-sim-ca.pem";
  for (std::size_t v = 0; v < ports.size(); ++v) {
    if (ports[v] < 0) continue;
    options.venues[v].port = static_cast<unsigned short>(ports[v]);
    options.venues[v].served = true;
  }
  if (rate >= 0) options.updates_per_second = rate;
  if (probe_every_ms >= 0) options.probe_every_ms = probe_every_ms;

  xarb::sim::Simulator sim(options);
  try {
    sim.start();
  } catch (const std::exception& e) {
    std::cerr << "xarb-sim: " << e.what() << '\n';
    return 1;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  for (const xarb::venues::VenueInfo& v : xarb::venues::kRegistry) {
    if (sim.port(v.id) == 0) continue;
    std::string name(v.name);
    name.resize(std::max<std::size_t>(name.size(), 7), ' ');
    std::cout << name << " " << sim.ws_url(v.id) << " " << sim.rest_url(v.id) << "\n";
  }
  std::cout << "ca_file " << sim.ca_file() << "\n"
            << "ready" << std::endl;
  const auto start = std::chrono::steady_clock::now();
  while (!g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (duration_s > 0 &&
        std::chrono::steady_clock::now() - start > std::chrono::duration<double>(duration_s)) {
      break;
    }
  }
  const xarb::sim::SimSummary s = sim.summary();
  sim.stop();
  std::cout << s.text();
  return 0;
}
