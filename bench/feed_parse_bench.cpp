// Parse + book apply per message type, against nlohmann::json doing the same work (parse,
// extract the levels as doubles, apply them to a std::map book) in the same run; then each half
// alone: *Parse (the parser, no book) and *Apply (levels parsed beforehand, applied to the book;
// the baseline applies the same levels as doubles to the std::map book).
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <xarb/book/order_book.hpp>
#include <xarb/feed/venues/binance_parser.hpp>
#include <xarb/feed/venues/upbit_parser.hpp>
#include <xarb/venues/registry.hpp>

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
    if (m.find(venues::kBinance, sym) == kNoInstrument) (void)m.add(sym, {{venues::kBinance, sym}});
  }
  return m;
}

SymbolMap upbit_symbols(const std::vector<std::string>& frames) {
  SymbolMap m;
  for (const auto& f : frames) {
    const auto at = f.find("\"cd\":\"");
    const std::string code = f.substr(at + 6, f.find('"', at + 6) - at - 6);
    if (m.find(venues::kUpbit, code) == kNoInstrument) (void)m.add(code, {{venues::kUpbit, code}});
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
  static std::vector<book::L2Book> books = make_books(symbols, venues::kBinance);
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
  static std::vector<book::L2Book> books = make_books(symbols, venues::kBinance);
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
    if (m.find(venues::kUpbit, "KRW-BTC") == kNoInstrument) {
      (void)m.add("KRW-BTC", {{venues::kUpbit, "KRW-BTC"}});
    }
    return m;
  }();
  static feed::UpbitParser parser(symbols);
  static std::vector<book::L2Book> books = make_books(symbols, venues::kUpbit);
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

// --- Each half alone --------------------------------------------------------------------------

// The levels of every frame, parsed once, kept for the apply benchmarks.
struct Parsed {
  InstrumentId instrument;
  std::uint64_t first_id, last_id;
  std::int64_t exchange_ns;
  std::vector<Level> bids, asks;
  std::vector<std::pair<double, double>> bids_d, asks_d;
};

template <class Parser>
std::vector<Parsed> parse_all(Parser& parser, const std::vector<std::string>& frames) {
  std::vector<Parsed> out;
  for (const std::string& text : frames) {
    const feed::ParsedFrame f = parser.parse(text);
    Parsed p{f.instrument, f.first_id, f.last_id, f.exchange_ns, {f.bids.begin(), f.bids.end()},
             {f.asks.begin(), f.asks.end()}, {}, {}};
    for (const Level& l : p.bids) p.bids_d.emplace_back(l.price.to_double(), l.qty.to_double());
    for (const Level& l : p.asks) p.asks_d.emplace_back(l.price.to_double(), l.qty.to_double());
    out.push_back(std::move(p));
  }
  return out;
}

const std::vector<std::string>& upbit_default_frames() {
  static const std::vector<std::string> frames{
      read_text(source_file("tests/data/upbit/ws_orderbook_default.json"))};
  return frames;
}
const SymbolMap& upbit_default_symbols() {
  static const SymbolMap m = [] {
    SymbolMap s;
    (void)s.add("KRW-BTC", {{venues::kUpbit, "KRW-BTC"}});
    return s;
  }();
  return m;
}

void BinanceDepthParse_xarb(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "\"depthUpdate\"");
  static const SymbolMap symbols = binance_symbols(frames);
  static feed::BinanceParser parser(symbols);
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    benchmark::DoNotOptimize(parser.parse(frames[i]).bids.size());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

void BinanceDepthParse_baseline(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "\"depthUpdate\"");
  std::vector<std::pair<double, double>> levels;
  levels.reserve(4096);
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const nlohmann::json j = nlohmann::json::parse(frames[i]);
    levels.clear();
    for (const char* side : {"b", "a"}) {
      for (const auto& l : j["data"][side])
        levels.emplace_back(std::stod(l[0].get<std::string>()), std::stod(l[1].get<std::string>()));
    }
    benchmark::DoNotOptimize(levels.data());
    if (++i == frames.size()) i = 0;
  }
  rate(state, allocations_before);
}

void BinanceDepthApply_xarb(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "\"depthUpdate\"");
  static const SymbolMap symbols = binance_symbols(frames);
  static feed::BinanceParser parser(symbols);
  static const std::vector<Parsed> parsed = parse_all(parser, frames);
  static std::vector<book::L2Book> books = make_books(symbols, venues::kBinance);
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const Parsed& p = parsed[i];
    books[p.instrument].apply(p.bids, p.asks, p.last_id, p.exchange_ns);
    benchmark::DoNotOptimize(books[p.instrument].bids().size());
    if (++i == parsed.size()) i = 0;
  }
  rate(state, allocations_before);
}

void BinanceDepthApply_baseline(benchmark::State& state) {
  static const auto frames = capture_frames(kBinance, "\"depthUpdate\"");
  static const SymbolMap symbols = binance_symbols(frames);
  static feed::BinanceParser parser(symbols);
  static const std::vector<Parsed> parsed = parse_all(parser, frames);
  static std::vector<MapBook> books(symbols.size());
  std::size_t i = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const Parsed& p = parsed[i];
    MapBook& b = books[p.instrument];
    for (const auto& [price, qty] : p.bids_d) MapBook::set(b.bids, price, qty);
    for (const auto& [price, qty] : p.asks_d) MapBook::set(b.asks, price, qty);
    benchmark::DoNotOptimize(b.bids.size());
    if (++i == parsed.size()) i = 0;
  }
  rate(state, allocations_before);
}

void UpbitDefaultParse_xarb(benchmark::State& state) {
  static feed::UpbitParser parser(upbit_default_symbols());
  const std::string& frame = upbit_default_frames()[0];
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) benchmark::DoNotOptimize(parser.parse(frame).asks.size());
  rate(state, allocations_before);
}

void UpbitDefaultParse_baseline(benchmark::State& state) {
  const std::string& frame = upbit_default_frames()[0];
  std::vector<std::pair<double, double>> levels;
  levels.reserve(64);
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    const nlohmann::json j = nlohmann::json::parse(frame);
    levels.clear();
    for (const auto& u : j["orderbook_units"]) {
      levels.emplace_back(u["ask_price"].get<double>(), u["ask_size"].get<double>());
      levels.emplace_back(u["bid_price"].get<double>(), u["bid_size"].get<double>());
    }
    benchmark::DoNotOptimize(levels.data());
  }
  rate(state, allocations_before);
}

void UpbitDefaultApply_xarb(benchmark::State& state) {
  static feed::UpbitParser parser(upbit_default_symbols());
  static const std::vector<Parsed> parsed = parse_all(parser, upbit_default_frames());
  book::L2Book book(venues::kUpbit, 0);
  const Parsed& p = parsed[0];
  std::uint64_t seq = 0;
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    book.replace(p.bids, p.asks, ++seq, p.exchange_ns);
    benchmark::DoNotOptimize(book.asks().size());
  }
  rate(state, allocations_before);
}

void UpbitDefaultApply_baseline(benchmark::State& state) {
  static feed::UpbitParser parser(upbit_default_symbols());
  static const std::vector<Parsed> parsed = parse_all(parser, upbit_default_frames());
  MapBook book;
  const Parsed& p = parsed[0];
  const std::uint64_t allocations_before = test::total_allocations();
  for (auto _ : state) {
    book.bids.clear();
    book.asks.clear();
    for (const auto& [price, qty] : p.bids_d) MapBook::set(book.bids, price, qty);
    for (const auto& [price, qty] : p.asks_d) MapBook::set(book.asks, price, qty);
    benchmark::DoNotOptimize(book.asks.size());
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
BENCHMARK(BinanceDepthParse_xarb)->Name("BinanceDepthParseOnly/xarb");
BENCHMARK(BinanceDepthParse_baseline)->Name("BinanceDepthParseOnly/baseline");
BENCHMARK(BinanceDepthApply_xarb)->Name("BinanceDepthApplyOnly/xarb");
BENCHMARK(BinanceDepthApply_baseline)->Name("BinanceDepthApplyOnly/baseline");
BENCHMARK(UpbitDefaultParse_xarb)->Name("UpbitDefault30ParseOnly/xarb");
BENCHMARK(UpbitDefaultParse_baseline)->Name("UpbitDefault30ParseOnly/baseline");
BENCHMARK(UpbitDefaultApply_xarb)->Name("UpbitDefault30ApplyOnly/xarb");
BENCHMARK(UpbitDefaultApply_baseline)->Name("UpbitDefault30ApplyOnly/baseline");

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) { return xarb::bench::run_main(argc, argv); }
