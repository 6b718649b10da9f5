// Replay throughput: the 10-symbol Binance capture through CaptureReader, parsers and books,
// as `xarb replay --speed max` runs it (file read included; the page cache holds it).
#include <string>

#include <benchmark/benchmark.h>

#include <xarb/feed/replay.hpp>

#include "bench_support.hpp"

namespace xarb::bench {
namespace {

class NullSink : public feed::SnapshotSink {
 public:
  void on_snapshot(const BookSnapshot& s) noexcept override {
    benchmark::DoNotOptimize(s.sequence);
  }
};

void ReplayCapture(benchmark::State& state) {
  const std::string path =
      data_file("binance/2021-04-05_10sym_bookticker_depth_aggtrade.events.jsonl");
  SymbolMap symbols;
  std::string error;
  if (!feed::discover_symbols(path, symbols, error)) state.SkipWithError(error.c_str());
  std::uint64_t frames = 0;
  NullSink sink;
  for (auto _ : state) {
    feed::Replayer replayer(symbols, feed::FeedOptions{});
    auto reader = feed::CaptureReader::open(path, error);
    feed::CaptureEvent e;
    while (reader->next(e)) replayer.feed(e, sink);
    frames += replayer.stats().frames + replayer.stats().rest_snapshots;
  }
  state.counters["frames/s"] =
      benchmark::Counter(static_cast<double>(frames), benchmark::Counter::kIsRate);
}

BENCHMARK(ReplayCapture)->Name("ReplayTenSymbolCapture/xarb")->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace xarb::bench

int main(int argc, char** argv) { return xarb::bench::run_main(argc, argv); }
