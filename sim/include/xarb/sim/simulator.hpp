#pragma once

// xarb-sim: the venues of its registry (sim/src/venues/) on 127.0.0.1 over TLS, each on a port of
// its own, speaking their real protocols: public and private websockets and the REST API of
// exchange.hpp. One I/O thread runs everything; the market advances on a timer at the configured
// rate.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <xarb/sim/exchange.hpp>
#include <xarb/sim/market.hpp>

namespace xarb::sim {

struct SimOptions {
  std::vector<SymbolSpec> symbols;
  MarketParams market;
  std::vector<AccountSpec> accounts;
  SimVenues venues = default_sim_venues();  // which are served, where, and what they charge
  Decimal bnb_usdt = Decimal::from_mantissa(600 * Decimal::kOne);  // for fees paid in BNB
  LimitParams limits;
  FaultParams faults;
  double updates_per_second = 200.0;  // book updates the market makes (each reaches every
                                      // subscribed stream)
  std::chrono::milliseconds ping{20'000};  // how often a venue that pings its connections does
  std::string cert_out;  // where to write the certificate (PEM), for clients' CA file
  // Market source: empty = synthetic; else captures (replay.hpp) whose frames drive the books of
  // the venues they were recorded on, side by side, at `replay_speed` x recorded speed. A book no
  // capture drives follows the model.
  std::vector<std::string> replay_files;
  double replay_speed = 1.0;
  // Latency probe: every probe_every_ms the first symbol's premium on the first KRW venue served
  // jumps by probe_jump_bps (a kimchi entry for any strategy watching), and falls back
  // probe_hold_ms later. The simulator stamps when the jumped frame is handed to the socket and
  // when the next entry order (a sell on that KRW venue or a buy on the USDT venue, on that
  // symbol) has been read: the engine's frame-to-order latency over loopback, on the
  // simulator's clock. 0: off.
  int probe_every_ms = 0;
  double probe_jump_bps = 400.0;
  int probe_hold_ms = 300;
};

// What the probe saw (GET /sim/probes; ?reset=1 starts a new series).
struct ProbeStats {
  std::uint64_t sent = 0;      // jumps published
  std::uint64_t answered = 0;  // jumps an entry order followed before they were taken back
  std::vector<std::int64_t> latencies_ns;  // frame handed to the socket -> order request read

  [[nodiscard]] std::string json() const;
};

struct SimSummary {
  std::uint64_t book_updates = 0;
  std::uint64_t ws_messages = 0;
  std::uint64_t ws_connections = 0;
  std::uint64_t ws_dropped = 0;  // connections closed by a fault
  std::uint64_t private_missed = 0;      // private stream events not sent (a fault)
  std::uint64_t backpressure_ticks = 0;  // 1 ms ticks the market waited for a slow client
  std::uint64_t http_requests = 0;
  bool replaying = false;            // the market source is a replay
  std::uint64_t replay_applied = 0;  // capture events applied to a book
  std::uint64_t replay_skipped = 0;  // book events for a simulated market that could not apply
  bool replay_finished = false;      // every capture played to its end
  ExchangeStats exchange;
  std::vector<AccountSpec> accounts;  // balances at the end
  ProbeStats probes;

  [[nodiscard]] std::string text() const;
};

class Simulator {
 public:
  explicit Simulator(SimOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Binds each served venue's port, writes the certificate and starts the I/O thread. Throws on
  // failure.
  void start();
  void stop();

  // A venue's front end; port 0 when it is not served.
  [[nodiscard]] unsigned short port(Venue v) const noexcept;
  [[nodiscard]] std::string ws_url(Venue v) const;
  [[nodiscard]] std::string rest_url(Venue v) const;
  [[nodiscard]] const std::string& ca_file() const noexcept;

  // Runs `fn` on the I/O thread and waits for it (tests reading or changing the state).
  void with_exchange(const std::function<void(Exchange&, SyntheticMarket&)>& fn);
  // Changes how many book updates per second the market makes (0 pauses it).
  void set_rate(double updates_per_second);
  // Closes every websocket now (a fault drill).
  void drop_websockets();
  [[nodiscard]] SimSummary summary();

  struct Impl;  // the I/O thread's state (simulator.cpp)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace xarb::sim
