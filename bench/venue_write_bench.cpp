// What exec spends handing one order to a venue: RestVenue::place (build, sign, and write the
// request over its kept-alive TLS connection) against xarb-sim in this process, on 127.0.0.1.
// Only place() is timed; the answer is read with the timer paused. The orders are IOC far from
// the book (nothing fills) and the simulator's limits are lifted. Compare with exec_order_bench,
// which builds and signs without writing: the difference is TLS and the socket.
#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include <xarb/exec/rest_venue.hpp>
#include <xarb/sim/simulator.hpp>
#include <xarb/venues/registry.hpp>

#include "alloc_counter.hpp"
#include "bench_support.hpp"
#include "sim_accounts.hpp"

namespace xarb::bench {
namespace {

sim::SimOptions sim_options() {
  sim::SimOptions o;
  o.symbols = {test::sim_btc()};
  o.updates_per_second = 0.0;  // a still market: only the orders move
  test::sim_unlimited(o);
  o.accounts = test::sim_accounts(1'000'000'000, 1'000'000'000, 0);
  return o;
}

void Place(benchmark::State& state, Venue venue) {
  static sim::Simulator* simulator = [] {
    auto* s = new sim::Simulator(sim_options());  // lives for the process
    s->start();
    return s;
  }();
  SymbolMap symbols;
  (void)symbols.add("BTC", {{venues::kUpbit, "KRW-BTC"}, {venues::kBinance, "BTCUSDT"}});
  exec::RestVenueOptions o;
  o.venue = venue;
  o.rest_url = simulator->rest_url(venue);
  o.ca_file = simulator->ca_file();
  o.credentials = test::sim_credentials(venue);
  exec::RestVenue rest(symbols, o);
  std::string error;
  if (!rest.start(error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  exec::OrderRequest order;
  order.instrument = 0;
  order.side = Side::buy;
  order.tif = exec::TimeInForce::ioc;
  // A buy at a tenth of the price: on the tick, above the minimum notional, never filled.
  (void)Decimal::parse(venue == venues::kBinance ? "6000.00" : "8600000", order.price);
  (void)Decimal::parse("0.01", order.qty);
  std::uint64_t n = 0;
  exec::VenueEvent ev;
  std::uint64_t allocations = 0;
  std::uint64_t answers = 0;
  std::array<char, 32> id{'v', 'w', '-'};
  for (auto _ : state) {
    const auto end = std::to_chars(id.data() + 3, id.data() + id.size(), ++n).ptr;
    order.client_id.assign(std::string_view(id.data(), static_cast<std::size_t>(end - id.data())));
    bool placed = false;
    {
      const test::AllocationScope scope;  // this thread's allocations inside place()
      placed = rest.place(order, {});
      allocations += scope.count();
    }
    if (!placed) {
      state.SkipWithError("the venue did not take the order");
      break;
    }
    state.PauseTiming();
    bool answered = false;
    while (!answered) {
      rest.poll(0);
      while (rest.next_event(ev)) answered = true;
    }
    ++answers;
    state.ResumeTiming();
  }
  state.counters["allocs/msg"] =
      static_cast<double>(allocations) / static_cast<double>(std::max<std::uint64_t>(answers, 1));
}

BENCHMARK_CAPTURE(Place, binance, venues::kBinance)
    ->Name("PlaceOverTlsBinance/xarb")
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(2000);
BENCHMARK_CAPTURE(Place, upbit, venues::kUpbit)
    ->Name("PlaceOverTlsUpbit/xarb")
    ->Unit(benchmark::kMicrosecond)
    ->Iterations(2000);

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) { return xarb::bench::run_main(argc, argv); }
