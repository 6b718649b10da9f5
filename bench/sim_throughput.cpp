// How many market-data messages xarb-sim generates and delivers per second over TLS websockets
// on 127.0.0.1, against the rate it was asked for.
//
//   sim_throughput [--rates 10000,50000,...] [--seconds S] [--repetitions N] [--json FILE]
//
// For each requested rate (book updates per second) the simulator runs in this process with the
// market of configs/sim.toml (BTC and ETH, 20 levels; five books: two per venue and KRW-USDT)
// twice:
//   alone       no client: what the market and the frames' text cost (the baseline)
//   one client  one Binance connection (the combined stream: depth diff and bookTicker of both
//               symbols, so every Binance book update is two messages) and one Upbit connection
//               (SIMPLE orderbook of KRW-BTC, KRW-ETH and KRW-USDT), both read by one client
//               thread that counts frames and checks that every depth diff continues the last
//               (U == previous u + 1): nothing is lost on the way.
// The simulator never drops for a slow reader; it waits (its backpressure, reported in ms). The
// first second is warm-up; the next S seconds are measured; each figure is the median of N runs
// (gaps are summed). CPU: the share of one core the client thread and the rest of the process
// (the simulator's I/O thread) used while measured. Two threads in all: the simulator's
// I/O thread and the client's, so on a 2-core host the two share the machine.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include <sys/resource.h>
#include <vector>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <nlohmann/json.hpp>

#include <xarb/net/names.hpp>
#include <xarb/sim/config.hpp>
#include <xarb/sim/simulator.hpp>

namespace xarb::bench {
namespace {

using namespace xarb::net::names;  // asio, beast, http, websocket, ssl, tcp, error_code
using Ws = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

// configs/sim.toml's market (its faults are off), on any free ports, at `rate`.
sim::SimOptions options(double rate) {
  sim::SimOptions o;
  std::string error;
  if (!sim::load_sim_options(XARB_SOURCE_DIR "/configs/sim.toml", o, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  o.cert_out.clear();
  o.updates_per_second = rate;
  return o;
}

// One websocket of the client: reads frames until told to stop, counting them.
struct Reader {
  Reader(asio::io_context& io, ssl::context& tls) : ws(io, tls) {}
  Ws ws;
  beast::flat_buffer buffer;
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t gaps = 0;  // depth diffs that did not continue the previous one
  std::uint64_t last_u[2] = {0, 0};

  static std::uint64_t number_after(std::string_view text, std::string_view key) {
    const auto at = text.find(key);
    if (at == std::string_view::npos) return 0;
    std::uint64_t v = 0;
    const char* p = text.data() + at + key.size();
    std::from_chars(p, text.data() + text.size(), v);
    return v;
  }

  void check(std::string_view frame) {
    if (frame.find("depthUpdate") == std::string_view::npos) return;
    const int k = frame.find("\"s\":\"BTCUSDT\"") != std::string_view::npos ? 0 : 1;
    const std::uint64_t first = number_after(frame, "\"U\":");
    const std::uint64_t last = number_after(frame, "\"u\":");
    if (last_u[k] != 0 && first != last_u[k] + 1) ++gaps;
    last_u[k] = last;
  }

  void read() {
    ws.async_read(buffer, [this](beast::error_code ec, std::size_t n) {
      if (ec) return;
      ++messages;
      bytes += n;
      const auto data = buffer.cdata();
      check({static_cast<const char*>(data.data()), data.size()});
      buffer.consume(buffer.size());
      read();
    });
  }
};

void connect(Reader& r, unsigned short port, const std::string& target) {
  auto& tcp_layer = beast::get_lowest_layer(r.ws);
  tcp_layer.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  tcp_layer.socket().set_option(tcp::no_delay(true));
  SSL_set_tlsext_host_name(r.ws.next_layer().native_handle(), "127.0.0.1");
  r.ws.next_layer().handshake(ssl::stream_base::client);
  r.ws.handshake("127.0.0.1", target);
}

struct Result {
  double requested = 0;
  double generated_alone = 0;   // book updates/s with no client
  double generated = 0;         // book updates/s with the client
  double binance_msgs = 0;      // messages/s the client read
  double upbit_msgs = 0;
  double mbytes = 0;            // MB/s of frame payload
  std::uint64_t gaps = 0;
  std::uint64_t waited_ms = 0;  // the simulator's backpressure
  double client_cpu = 0;        // share of one core the client thread used
  double other_cpu = 0;         // the rest of the process: the simulator's I/O thread
  double alone_cpu = 0;         // the simulator's I/O thread with no client
};

double process_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double thread_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double generation_alone(double rate, double seconds, double& cpu) {
  sim::Simulator s(options(rate));
  s.start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto a = s.summary().book_updates;
  const double cpu_a = process_cpu_s();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const auto b = s.summary().book_updates;
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cpu = (process_cpu_s() - cpu_a) / dt;
  s.stop();
  return static_cast<double>(b - a) / dt;
}

Result with_client(double rate, double seconds) {
  Result r;
  r.requested = rate;
  sim::Simulator s(options(rate));
  s.start();
  asio::io_context io;
  ssl::context tls(ssl::context::tls_client);
  tls.load_verify_file(s.ca_file());
  tls.set_verify_mode(ssl::verify_peer);
  Reader binance(io, tls), upbit(io, tls);
  connect(binance, s.port(venues::kBinance),
          "/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/ethusdt@depth@100ms/"
          "ethusdt@bookTicker");
  connect(upbit, s.port(venues::kUpbit), "/websocket/v1");
  upbit.ws.binary(false);
  upbit.ws.write(asio::buffer(std::string(
      R"([{"ticket":"sim-throughput"},{"type":"orderbook","codes":["KRW-BTC","KRW-ETH","KRW-USDT"]},{"format":"SIMPLE"}])")));
  binance.read();
  upbit.read();
  std::thread client([&io] { io.run(); });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  // The counters at one moment. The client's belong to its thread: they are read there, in a
  // posted handler, while this thread waits.
  struct Counters {
    std::uint64_t binance = 0, upbit = 0, bytes = 0, updates = 0, waited_ms = 0;
    double client_cpu = 0, process_cpu = 0;
  };
  const auto snap = [&] {
    Counters c;
    std::atomic<bool> done{false};
    asio::post(io, [&] {
      c.binance = binance.messages;
      c.upbit = upbit.messages;
      c.bytes = binance.bytes + upbit.bytes;
      c.client_cpu = thread_cpu_s();
      done = true;
    });
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const sim::SimSummary sum = s.summary();
    c.updates = sum.book_updates;
    c.waited_ms = sum.backpressure_ticks;
    c.process_cpu = process_cpu_s();
    return c;
  };
  const Counters a = snap();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const Counters b = snap();
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  s.stop();
  io.stop();
  client.join();
  r.client_cpu = (b.client_cpu - a.client_cpu) / dt;
  r.other_cpu = (b.process_cpu - a.process_cpu) / dt - r.client_cpu;
  r.binance_msgs = static_cast<double>(b.binance - a.binance) / dt;
  r.upbit_msgs = static_cast<double>(b.upbit - a.upbit) / dt;
  r.mbytes = static_cast<double>(b.bytes - a.bytes) / dt / 1e6;
  r.generated = static_cast<double>(b.updates - a.updates) / dt;
  r.waited_ms = b.waited_ms - a.waited_ms;
  r.gaps = binance.gaps;
  return r;
}

// Each figure's median over the runs (on this machine one run can lose a fifth to a neighbour).
Result median(std::vector<Result> runs) {
  const auto mid = [&runs](auto field) {
    std::vector<std::remove_cvref_t<decltype(runs[0].*field)>> v;
    for (const Result& r : runs) v.push_back(r.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  Result out;
  out.requested = runs[0].requested;
  out.generated_alone = mid(&Result::generated_alone);
  out.generated = mid(&Result::generated);
  out.binance_msgs = mid(&Result::binance_msgs);
  out.upbit_msgs = mid(&Result::upbit_msgs);
  out.mbytes = mid(&Result::mbytes);
  out.waited_ms = mid(&Result::waited_ms);
  out.client_cpu = mid(&Result::client_cpu);
  out.other_cpu = mid(&Result::other_cpu);
  out.alone_cpu = mid(&Result::alone_cpu);
  for (const Result& r : runs) out.gaps += r.gaps;  // every gap counts
  return out;
}

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) {
  using namespace xarb::bench;
  std::vector<double> rates = {10'000, 25'000, 50'000, 75'000, 100'000};
  double seconds = 5.0;
  int repetitions = 3;
  std::string json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--rates") {
      rates.clear();
      const char* p = argv[i + 1];
      while (*p != '\0') {
        char* end = nullptr;
        const double r = std::strtod(p, &end);
        if (end == p || !(r > 0)) break;
        rates.push_back(r);
        p = *end == ',' ? end + 1 : end;
      }
    } else if (flag == "--seconds") {
      seconds = std::strtod(argv[i + 1], nullptr);
    } else if (flag == "--repetitions") {
      repetitions = std::max(1, std::atoi(argv[i + 1]));
    } else if (flag == "--json") {
      json_path = argv[i + 1];
    } else {
      rates.clear();
      break;
    }
  }
  if (rates.empty() || !(seconds > 0)) {
    std::fprintf(stderr,
                 "usage: sim_throughput [--rates R1,R2,..] [--seconds S] [--repetitions N] [--json FILE]\n");
    return 2;
  }
  std::printf("medians of %d runs of %.0f s each\n", repetitions, seconds);
  std::printf("%-10s %-16s %-16s %-28s %-7s %-5s %-11s %s\n", "requested", "generated alone",
              "with client", "delivered msgs/s (bn+ub)", "MB/s", "gaps", "sim waited",
              "CPU sim / client");
  nlohmann::json out = nlohmann::json::array();
  for (const double rate : rates) {
    std::vector<Result> runs;
    for (int k = 0; k < repetitions; ++k) {
      Result one = with_client(rate, seconds);
      one.generated_alone = generation_alone(rate, seconds, one.alone_cpu);
      runs.push_back(one);
    }
    const Result r = median(runs);
    std::printf("%-10.0f %-16s %-16s %-28s %-7.1f %-5llu %-11s %.0f%% / %.0f%% (alone %.0f%%)\n", rate,
                (std::to_string(static_cast<long>(r.generated_alone)) + " (" +
                 std::to_string(static_cast<int>(100 * r.generated_alone / rate)) + "%)")
                    .c_str(),
                (std::to_string(static_cast<long>(r.generated)) + " (" +
                 std::to_string(static_cast<int>(100 * r.generated / rate)) + "%)")
                    .c_str(),
                (std::to_string(static_cast<long>(r.binance_msgs + r.upbit_msgs)) + " (" +
                 std::to_string(static_cast<long>(r.binance_msgs)) + "+" +
                 std::to_string(static_cast<long>(r.upbit_msgs)) + ")")
                    .c_str(),
                r.mbytes, static_cast<unsigned long long>(r.gaps),
                (std::to_string(r.waited_ms) + " ms").c_str(), 100 * r.other_cpu,
                100 * r.client_cpu, 100 * r.alone_cpu);
    std::fflush(stdout);
    out.push_back({{"requested_per_s", r.requested},
                   {"generated_alone_per_s", r.generated_alone},
                   {"generated_per_s", r.generated},
                   {"delivered_binance_per_s", r.binance_msgs},
                   {"delivered_upbit_per_s", r.upbit_msgs},
                   {"delivered_per_s", r.binance_msgs + r.upbit_msgs},
                   {"payload_mb_per_s", r.mbytes},
                   {"depth_gaps", r.gaps},
                   {"sim_waited_ms", r.waited_ms},
                   {"sim_cpu", r.other_cpu},
                   {"client_cpu", r.client_cpu},
                   {"sim_alone_cpu", r.alone_cpu}});
  }
  if (!json_path.empty()) std::ofstream(json_path) << out.dump(2) << "\n";
  return 0;
}
