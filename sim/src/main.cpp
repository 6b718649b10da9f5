// xarb-sim: Binance and Upbit on 127.0.0.1, for the engine's tests, the demo and the soak run.
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

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "xarb-sim: a local exchange simulator speaking Binance's, Upbit's and Bithumb's real "
      "protocols"};
  std::string config, cert_out;
  double duration_s = 0, rate = -1;
  int binance_port = -1, upbit_port = -1, bithumb_port = -1, probe_every_ms = -1;
  app.add_option("--config", config, "TOML file (configs/sim.toml)")->required();
  app.add_option("--cert-out", cert_out, "Write the TLS certificate (PEM) here, for clients' CA file");
  app.add_option("--binance-port", binance_port, "Port of the Binance front end (0: any)");
  app.add_option("--upbit-port", upbit_port, "Port of the Upbit front end (0: any)");
  app.add_option(
      "--bithumb-port", bithumb_port,
      "Port of the Bithumb front end (0: any); serves Bithumb as [market] bithumb = true does");
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
  if (binance_port >= 0) options.binance_port = static_cast<unsigned short>(binance_port);
  if (upbit_port >= 0) options.upbit_port = static_cast<unsigned short>(upbit_port);
  if (bithumb_port >= 0) {
    options.bithumb_port = static_cast<unsigned short>(bithumb_port);
    options.market.bithumb = true;  // a port asked for is a venue asked for
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
  std::cout << "binance " << sim.binance_ws_url() << " " << sim.binance_rest_url() << "\n"
            << "upbit   " << sim.upbit_ws_url() << " " << sim.upbit_rest_url() << "\n";
  if (options.market.bithumb) {
    std::cout << "bithumb " << sim.ws_url(xarb::venues::kBithumb) << " "
              << sim.rest_url(xarb::venues::kBithumb) << "\n";
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
