// How long after an entry's orders are written exec knows both legs' fills: Upbit (answered
// `wait` while the order works, as the real venue does) against Binance (filled in its answer),
// over TLS on 127.0.0.1 against xarb-sim in this process, with Upbit's fill learned two ways:
//   poll     no private stream: exec queries GET /v1/order, the first query 100 ms after the
//            answer (ExecParams::query_interval_ns), as before the streams
//   stream   Upbit's private websocket (myOrder) pushes the order's end; a query would go out
//            only 500 ms after the answer (stream_fallback_ns) if it had not come
// Each entry is one TwoLegExecutor::submit (both orders written) to its report (both fills
// known); the legs alternate direction so the balances stay put, with limits through the
// touch so every IOC fills. Not a Google Benchmark: a latency distribution per mode, p50/p99
// over the entries, each figure the median over the repetitions. The exec thread sleeps 20 us
// between polls (two cores: the simulator's I/O thread shares them), which bounds the
// resolution.
//
// Then Binance alone, one IOC order at a time: order written -> its answer read, over REST
// (HTTPS, a kept-alive connection) against the WebSocket API (order_entry = ws, on the
// connection that holds the user data stream).
//
//   fill_known_bench [--entries N] [--repetitions R] [--json FILE]
#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <xarb/core/clock.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "sim_accounts.hpp"

namespace xarb::bench {
namespace {

constexpr std::int64_t kMs = 1'000'000;

sim::SimOptions sim_options() {
  sim::SimOptions o;
  o.symbols = {test::sim_btc()};
  o.updates_per_second = 20.0;  // the books refill between entries
  test::sim_unlimited(o);
  // (int64 mantissas: at most 9.2e10 of an asset.)
  o.accounts = test::sim_accounts(100'000'000, 10'000'000'000, 100);
  return o;
}

struct Run {
  std::vector<std::int64_t> ns;  // submit -> report, per entry
  std::uint64_t queries = 0;
  std::uint64_t stream_ends = 0;
  std::uint64_t failed = 0;
};

std::int64_t percentile(std::vector<std::int64_t> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

// `v`'s adapter on the simulator, started (its private stream with `stream`).
std::unique_ptr<exec::RestVenue> start_venue(sim::Simulator& sim, const SymbolMap& symbols, Venue v,
                                             bool stream) {
  exec::RestVenueOptions o;
  o.venue = v;
  o.rest_url = sim.rest_url(v);
  o.ws_url = sim.ws_url(v);
  o.ca_file = sim.ca_file();
  o.private_stream = stream;
  // The venues' order budgets are the simulator's (lifted above): the client's own would
  // refuse entries at this pace.
  o.order_limit = 1'000'000;
  o.credentials = test::sim_credentials(v);
  auto venue = std::make_unique<exec::RestVenue>(symbols, o);
  std::string error;
  if (!venue->start(error)) {
    std::fprintf(stderr, "start: %s\n", error.c_str());
    std::exit(1);
  }
  return venue;
}

Run run(sim::Simulator& sim, const SymbolMap& symbols, bool stream, int entries, int rep) {
  auto binance = start_venue(sim, symbols, venues::kBinance, stream);
  auto upbit = start_venue(sim, symbols, venues::kUpbit, stream);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (stream && !upbit->streaming() && std::chrono::steady_clock::now() < until) {
    upbit->poll(clock::mono_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (stream && !upbit->streaming()) {
    std::fprintf(stderr, "Upbit's private stream did not come up\n");
    std::exit(1);
  }
  exec::ExecParams params;
  params.run_id = static_cast<std::uint64_t>(rep) * 2 + (stream ? 2 : 1);  // ids unique per run
  std::array<exec::VenueClient*, kMaxVenues> clients{};
  clients[index(venues::kBinance)] = binance.get();
  clients[index(venues::kUpbit)] = upbit.get();
  exec::TwoLegExecutor exec(clients, params);
  Run out;
  for (int i = 0; i < entries; ++i) {
    sim::SimBook ub, bb;
    sim.with_exchange([&](sim::Exchange&, sim::SyntheticMarket& m) {
      ub = m.book(venues::kUpbit, 0);
      bb = m.book(venues::kBinance, 0);
    });
    if (ub.bids.empty() || ub.asks.empty() || bb.bids.empty() || bb.asks.empty()) continue;
    const bool sell_upbit = i % 2 == 0;
    // Through the touch by 0.3 %: every IOC fills (exec rounds the limits to the ticks).
    const auto through = [](std::int64_t px, bool buy) {
      return Decimal::from_mantissa(buy ? px + px / 333 : px - px / 333);
    };
    OrderIntent in;
    in.intent_id = static_cast<std::uint64_t>(i) + 1;
    in.position_id = in.intent_id;
    in.deadline_ns = clock::mono_ns() + 10'000 * kMs;
    const Decimal qty = Decimal::from_mantissa(Decimal::kOne / 1000);  // 0.001 BTC
    in.leg(venues::kUpbit) = {
        venues::kUpbit,
        sell_upbit ? Side::sell : Side::buy,
        0,
        0,
        through(sell_upbit ? ub.bids.begin()->first : ub.asks.begin()->first, !sell_upbit),
        qty,
        {}};
    in.leg(venues::kBinance) = {
        venues::kBinance,
        sell_upbit ? Side::buy : Side::sell,
        0,
        0,
        through(sell_upbit ? bb.asks.begin()->first : bb.bids.begin()->first, sell_upbit),
        qty,
        {}};
    const std::int64_t t0 = clock::mono_ns();
    if (!exec.submit(in, t0)) {
      ++out.failed;
      continue;
    }
    ExecReport r;
    bool done = false;
    while (!done && clock::mono_ns() - t0 < 10'000 * kMs) {
      exec.poll(clock::mono_ns());
      done = exec.next_report(r);
      if (!done) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    const std::int64_t t1 = clock::mono_ns();
    if (!done || r.outcome != ExecOutcome::success) {
      if (out.failed++ == 0) {
        const LegReport& u = r.leg(venues::kUpbit);
        const LegReport& b = r.leg(venues::kBinance);
        std::fprintf(stderr,
                     "entry %d: %s, outcome %d, refusal %d; upbit %s %.*s; binance %s %.*s\n", i,
                     done ? "reported" : "no report", static_cast<int>(r.outcome),
                     static_cast<int>(r.refusal), to_string(u.state).data(),
                     static_cast<int>(u.error.message.view().size()), u.error.message.view().data(),
                     to_string(b.state).data(), static_cast<int>(b.error.message.view().size()),
                     b.error.message.view().data());
      }
      continue;
    }
    out.ns.push_back(t1 - t0);
  }
  out.queries = exec.stats().queries;
  out.stream_ends = exec.stats().stream_ends;
  return out;
}

// One Binance IOC order at a time, through the touch, alternating sides: order written -> its
// answer read (the venue's VenueEvent latency), over REST or the WebSocket API.
std::vector<std::int64_t> binance_answers(sim::Simulator& sim, const SymbolMap& symbols,
                                          exec::OrderEntry entry, int orders, int rep) {
  exec::RestVenueOptions o;
  o.venue = venues::kBinance;
  o.rest_url = sim.rest_url(venues::kBinance);
  o.ws_url = sim.ws_url(venues::kBinance);
  o.ca_file = sim.ca_file();
  o.credentials = test::kSimBinance;
  o.order_limit = 1'000'000;
  o.order_entry = entry;
  exec::RestVenue venue(symbols, o);
  std::string error;
  if (!venue.start(error)) {
    std::fprintf(stderr, "start: %s\n", error.c_str());
    std::exit(1);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!venue.streaming() && std::chrono::steady_clock::now() < until) {
    venue.poll(clock::mono_ns());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::vector<std::int64_t> out;
  for (int i = 0; i < orders; ++i) {
    sim::SimBook b;
    sim.with_exchange(
        [&](sim::Exchange&, sim::SyntheticMarket& m) { b = m.book(venues::kBinance, 0); });
    if (b.bids.empty() || b.asks.empty()) continue;
    const bool buy = i % 2 == 0;
    const std::int64_t touch = buy ? b.asks.begin()->first : b.bids.rbegin()->first;
    exec::OrderRequest order;
    char id[32];
    std::snprintf(id, sizeof id, "bw%d-%d-%d", static_cast<int>(entry), rep, i);
    order.client_id.assign(id);
    order.instrument = 0;
    order.side = buy ? Side::buy : Side::sell;
    // Through the touch by 0.3 %, on the 0.01 tick.
    const std::int64_t px = buy ? touch + touch / 333 : touch - touch / 333;
    order.price = Decimal::from_mantissa(px / 1'000'000 * 1'000'000);
    order.qty = Decimal::from_mantissa(Decimal::kOne / 1000);
    if (!venue.place(order, {})) continue;
    exec::VenueEvent ev;
    const std::int64_t t0 = clock::mono_ns();
    bool answered = false;
    while (!answered && clock::mono_ns() - t0 < 5'000 * kMs) {
      venue.poll(clock::mono_ns());
      while (venue.next_event(ev)) {
        if (ev.op == exec::VenueOp::place && ev.status.client_id == order.client_id)
          answered = true;
      }
      if (!answered) std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    if (answered && ev.status.state == OrderState::filled) out.push_back(ev.latency_ns);
  }
  return out;
}

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) {
  using namespace xarb;
  using namespace xarb::bench;
  int entries = 100, repetitions = 3;
  std::string json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--entries") == 0) entries = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--repetitions") == 0) repetitions = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--json") == 0) json_path = argv[i + 1];
  }
  sim::Simulator simulator(sim_options());
  simulator.start();
  SymbolMap symbols;
  (void)symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}});
  struct Mode {
    const char* name;
    bool stream;
    std::vector<std::int64_t> p50, p99;
    std::uint64_t queries = 0, stream_ends = 0, failed = 0, n = 0;
  };
  std::array<Mode, 2> modes{{{"poll", false, {}, {}}, {"stream", true, {}, {}}}};
  for (int rep = 0; rep < repetitions; ++rep) {
    for (Mode& m : modes) {
      const Run r = run(simulator, symbols, m.stream, entries, rep);
      m.p50.push_back(percentile(r.ns, 0.5));
      m.p99.push_back(percentile(r.ns, 0.99));
      m.queries += r.queries;
      m.stream_ends += r.stream_ends;
      m.failed += r.failed;
      m.n += r.ns.size();
    }
  }
  std::printf(
      "entry orders written -> both legs' fills known by exec (Upbit + Binance, loopback)\n");
  std::printf("%-8s %10s %10s %9s %9s %12s %7s\n", "mode", "p50 us", "p99 us", "entries", "queries",
              "stream ends", "failed");
  std::string json = "{";
  for (Mode& m : modes) {
    const double p50 = static_cast<double>(percentile(m.p50, 0.5)) / 1e3;
    const double p99 = static_cast<double>(percentile(m.p99, 0.5)) / 1e3;
    std::printf("%-8s %10.1f %10.1f %9llu %9llu %12llu %7llu\n", m.name, p50, p99,
                static_cast<unsigned long long>(m.n), static_cast<unsigned long long>(m.queries),
                static_cast<unsigned long long>(m.stream_ends),
                static_cast<unsigned long long>(m.failed));
    char buf[256];
    std::snprintf(
        buf, sizeof buf,
        R"(%s"%s":{"p50_us":%.1f,"p99_us":%.1f,"entries":%llu,"queries":%llu,"stream_ends":%llu,"failed":%llu})",
        json.size() > 1 ? "," : "", m.name, p50, p99, static_cast<unsigned long long>(m.n),
        static_cast<unsigned long long>(m.queries), static_cast<unsigned long long>(m.stream_ends),
        static_cast<unsigned long long>(m.failed));
    json += buf;
  }
  json += "}";
  const double ratio = static_cast<double>(percentile(modes[0].p50, 0.5)) /
                       std::max<double>(1.0, static_cast<double>(percentile(modes[1].p50, 0.5)));
  std::printf("poll / stream, p50: %.1fx (median of %d repetitions of %d entries)\n", ratio,
              repetitions, entries);
  // Binance: order written -> answer read, REST against the WebSocket API.
  std::vector<std::int64_t> rest50, rest99, ws50, ws99;
  std::size_t rest_n = 0, ws_n = 0;
  for (int rep = 0; rep < repetitions; ++rep) {
    const auto r = binance_answers(simulator, symbols, exec::OrderEntry::rest, entries, rep);
    const auto w = binance_answers(simulator, symbols, exec::OrderEntry::ws, entries, rep);
    rest50.push_back(percentile(r, 0.5));
    rest99.push_back(percentile(r, 0.99));
    ws50.push_back(percentile(w, 0.5));
    ws99.push_back(percentile(w, 0.99));
    rest_n += r.size();
    ws_n += w.size();
  }
  const auto us = [](const std::vector<std::int64_t>& v) {
    return static_cast<double>(percentile(v, 0.5)) / 1e3;
  };
  std::printf("\nBinance order written -> answer read (one at a time, loopback)\n");
  std::printf("%-8s %10s %10s %9s\n", "entry", "p50 us", "p99 us", "orders");
  std::printf("%-8s %10.1f %10.1f %9zu\n", "rest", us(rest50), us(rest99), rest_n);
  std::printf("%-8s %10.1f %10.1f %9zu\n", "ws", us(ws50), us(ws99), ws_n);
  std::printf("rest / ws, p50: %.2fx\n", us(rest50) / std::max(us(ws50), 0.001));
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      R"(,"binance_answer":{"rest":{"p50_us":%.1f,"p99_us":%.1f,"orders":%zu},"ws":{"p50_us":%.1f,"p99_us":%.1f,"orders":%zu}}})",
      us(rest50), us(rest99), rest_n, us(ws50), us(ws99), ws_n);
  json.pop_back();  // the closing brace
  json += buf;
  if (!json_path.empty()) std::ofstream(json_path) << json << '\n';
  simulator.stop();
  return 0;
}
