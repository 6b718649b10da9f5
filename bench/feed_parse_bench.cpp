// Parse + book apply per message type, against nlohmann::json doing the same work (parse,
// extract the levels as doubles, apply them to a std::map book) in the same run.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <xarb/book/order_book.hpp>
#include <xarb/feed/binance_parser.hpp>
#include <xarb/feed/upbit_parser.hpp>

#include "alloc_counter.hpp"
#include "bench_support.hpp"

namespace xarb::bench {
namespace {

const char* kBinance = "binance/2021-04-05_10sym_bookticker_depth_aggtrade.events.jsonl";
const char* kUpbit = "upbit/2021-04-05_simple_orderbook_trade.events.jsonl";

struct MapBook {
  std::map<double, double, std::greater<>> bids;
  std::map<double, double> asks;
  template <class Side>
  static void set(Side& side, double p, double q) {
    if (q == 0)
      side.erase(p);
    else
      side[p] = q;
  }
};

SymbolMap binance_symbols(const std::vector<std::string>& frames) {
  SymbolMap m;
  for (const auto& f : frames) {
    const auto at = f.find("\"stream\":\"");
    const auto end = f.find('@', at);
    std::string sym = f.substr(at + 10, end - at - 10);
    for (char& c : sym) c = static_cast<char>(std::toupper(c));
    if (m.find_binance(sym) == kNoInstrument) (void)m.add(sym, "", sym);
  }
  return m;
}

SymbolMap upbit_symbols(const std::vector<std::string>& frames) {
  SymbolMap m;
  for (const auto& f : frames) {
    const auto at = f.find("\"cd\":\"");
    const std::string code = f.substr(at + 6, f.find('"', at + 6) - at - 6);
    if (m.find_upbit(code) == kNoInstrument) (void)m.add(code, code, "");
  }
  return m;
}

std::vector<book::L2Book> make_books(const SymbolMap& symbols, Venue venue) {
  std::vector<book::L2Book> books;
  books.reserve(symbols.size());
  for (std::size_t i = 0; i < symbols.size(); ++i)
    books.emplace_back(venue, static_cast<InstrumentId>(i));
  return books;
}

// Rate and in-loop allocations per message (the harness's own bookkeeping is excluded).
void rate(benchmark::State& state, std::uint64_t allocations_before) {
  const auto allocations = static_cast<double>(test::total_allocations() - allocations_before);
  state.counters["msgs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["allocs/msg"] = allocations / static_cast<double>(state.iterations());
}

// --- Binance bookTicker ------------------------------------------------------------------------

void BinanceBookTicker_xarb(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "@bookTicker");
  static const SymbolMap symbols = binance_symbols(frames);
  static feed::BinanceParser parser(symbols);  // set-up outside the measured loop, once
  static std::vector<book::L2Book> books = make_books(symbols, Venue::binance);
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const feed::ParsedFrame f = parser.parse(frames[i]);
    books[f.instrument].replace(f.bids, f.asks, f.last_id, 0);
    benchmark::DoNotOptimize(books[f.instrument].bids().size());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

void BinanceBookTicker_baseline(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "@bookTicker");
  static std::map<std::string, MapBook> books;
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const nlohmann::json j = nlohmann::json::parse(frames[i]);
    const auto& d = j["data"];
    MapBook& b = books[d["s"].get<std::string>()];
    b.bids.clear();
    b.asks.clear();
    b.bids[std::stod(d["b"].get<std::string>())] = std::stod(d["B"].get<std::string>());
    b.asks[std::stod(d["a"].get<std::string>())] = std::stod(d["A"].get<std::string>());
    benchmark::DoNotOptimize(b.bids.size());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

// --- Binance depthUpdate -----------------------------------------------------------------------

void BinanceDepthUpdate_xarb(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "\"depthUpdate\"");
  static const SymbolMap symbols = binance_symbols(frames);
  static feed::BinanceParser parser(symbols);  // set-up outside the measured loop, once
  static std::vector<book::L2Book> books = make_books(symbols, Venue::binance);
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const feed::ParsedFrame f = parser.parse(frames[i]);
    books[f.instrument].apply(f.bids, f.asks, f.last_id, f.exchange_ns);
    benchmark::DoNotOptimize(books[f.instrument].bids().size());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

void BinanceDepthUpdate_baseline(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "\"depthUpdate\"");
  static std::map<std::string, MapBook> books;
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const nlohmann::json j = nlohmann::json::parse(frames[i]);
    const auto& d = j["data"];
    MapBook& b = books[d["s"].get<std::string>()];
    for (const auto& l : d["b"])
      MapBook::set(b.bids, std::stod(l[0].get<std::string>()), std::stod(l[1].get<std::string>()));
    for (const auto& l : d["a"])
      MapBook::set(b.asks, std::stod(l[0].get<std::string>()), std::stod(l[1].get<std::string>()));
    benchmark::DoNotOptimize(b.bids.size());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

// --- Upbit orderbook ---------------------------------------------------------------------------

template <bool kDefault>
void UpbitOrderbook_xarb(benchmark::State& state) {
  static const auto frames = kDefault ? std::vector<std::string>{read_text(source_file(
                                            "tests/data/upbit/ws_orderbook_default.json"))}
                                      : capture_frames(kUpbit, "\"ty\":\"orderbook\"");
  static const SymbolMap symbols = [] {
    SymbolMap m = upbit_symbols(frames);
    if (m.find_upbit("KRW-BTC") == kNoInstrument) (void)m.add("KRW-BTC", "KRW-BTC", "");
    return m;
  }();
  static feed::UpbitParser parser(symbols);
  static std::vector<book::L2Book> books = make_books(symbols, Venue::upbit);
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const feed::ParsedFrame f = parser.parse(frames[i]);
    books[f.instrument].replace(f.bids, f.asks, 1, f.exchange_ns);
    benchmark::DoNotOptimize(books[f.instrument].asks().size());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

template <bool kDefault>
void UpbitOrderbook_baseline(benchmark::State& state) {
  static const auto frames = kDefault ? std::vector<std::string>{read_text(source_file(
                                            "tests/data/upbit/ws_orderbook_default.json"))}
                                      : capture_frames(kUpbit, "\"ty\":\"orderbook\"");
  static std::map<std::string, MapBook> books;
  std::size_t i = 0;
  const char* units = kDefault ? "orderbook_units" : "obu";
  const char* code = kDefault ? "code" : "cd";
  const char *ap = kDefault ? "ask_price" : "ap", *bp = kDefault ? "bid_price" : "bp";
  const char *as = kDefault ? "ask_size" : "as", *bs = kDefault ? "bid_size" : "bs";
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const nlohmann::json j = nlohmann::json::parse(frames[i]);
    MapBook& b = books[j[code].get<std::string>()];
    b.bids.clear();
    b.asks.clear();
    for (const auto& u : j[units]) {
      MapBook::set(b.asks, u[ap].get<double>(), u[as].get<double>());
      MapBook::set(b.bids, u[bp].get<double>(), u[bs].get<double>());
    }
    benchmark::DoNotOptimize(b.asks.size());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

BENCHMARK(BinanceBookTicker_xarb)->Name("BinanceBookTicker/xarb")->Unit(benchmark::kNanosecond);
BENCHMARK(BinanceBookTicker_baseline)
    ->Name("BinanceBookTicker/baseline")
    ->Unit(benchmark::kNanosecond);
BENCHMARK(BinanceDepthUpdate_xarb)->Name("BinanceDepthUpdate/xarb")->Unit(benchmark::kNanosecond);
BENCHMARK(BinanceDepthUpdate_baseline)
    ->Name("BinanceDepthUpdate/baseline")
    ->Unit(benchmark::kNanosecond);
BENCHMARK(UpbitOrderbook_xarb<false>)
    ->Name("UpbitOrderbookSimple15/xarb")
    ->Unit(benchmark::kNanosecond);
BENCHMARK(UpbitOrderbook_baseline<false>)
    ->Name("UpbitOrderbookSimple15/baseline")
    ->Unit(benchmark::kNanosecond);
BENCHMARK(UpbitOrderbook_xarb<true>)
    ->Name("UpbitOrderbookDefault30/xarb")
    ->Unit(benchmark::kNanosecond);
BENCHMARK(UpbitOrderbook_baseline<true>)
    ->Name("UpbitOrderbookDefault30/baseline")
    ->Unit(benchmark::kNanosecond);

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) { return xarb::bench::run_main(argc, argv); }
