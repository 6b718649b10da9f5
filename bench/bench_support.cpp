#include "bench_support.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <xarb/feed/capture.hpp>

#include "alloc_counter.hpp"

namespace xarb::bench {

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string data_file(const std::string& relative_path) {
  return std::string(XARB_DATA_DIR) + "/" + relative_path;
}
std::string source_file(const std::string& relative_path) {
  return std::string(XARB_SOURCE_DIR) + "/" + relative_path;
}

std::vector<std::string> capture_frames(const std::string& relative_path,
                                        const std::string& needle) {
  std::string error;
  auto reader = feed::CaptureReader::open(data_file(relative_path), error);
  if (!reader) throw std::runtime_error(error);
  std::vector<std::string> frames;
  feed::CaptureEvent e;
  while (reader->next(e)) {
    if (e.kind == feed::CaptureKind::ws &&
        (needle.empty() || e.msg.find(needle) != std::string_view::npos)) {
      frames.emplace_back(e.msg);
    }
  }
  if (frames.empty()) throw std::runtime_error("no frames with " + needle + " in " + relative_path);
  return frames;
}

namespace {

class CountingMemoryManager : public benchmark::MemoryManager {
 public:
  void Start() override { start_ = test::total_allocations(); }
  void Stop(Result* result) override { Stop(*result); }
  void Stop(Result& result) override {
    result.num_allocs = static_cast<std::int64_t>(test::total_allocations() - start_);
    result.max_bytes_used = 0;
  }

 private:
  std::uint64_t start_ = 0;
};

// The console table, then "name: xarb X ns, baseline Y ns, Z times faster" per pair.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred) continue;
      // With --benchmark_repetitions the median stands for the benchmark; else the one run.
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (r.run_type != Run::RT_Iteration && !median) continue;
      if (r.run_type == Run::RT_Iteration && r.repetitions > 1) continue;
      std::string name = r.run_name.function_name;
      const auto slash = name.find('/');
      if (slash == std::string::npos) continue;
      const std::string base = name.substr(0, slash);
      const std::string kind = name.substr(slash + 1, name.find('/', slash + 1) - slash - 1);
      times_[base][kind] = r.GetAdjustedRealTime();
      unit_ = benchmark::GetTimeUnitString(r.time_unit);
      const auto counted = r.counters.find("allocs/msg");
      if (counted != r.counters.end() && kind == "xarb") allocs_[base] = counted->second.value;
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf(
        "\nSame-run comparison (time per message; allocations per message in the timed loop):\n");
    for (const auto& [name, kinds] : times_) {
      const auto x = kinds.find("xarb");
      const auto b = kinds.find("baseline");
      if (x == kinds.end()) continue;
      std::printf("  %-28s xarb %12.1f %s", name.c_str(), x->second, unit_.c_str());
      if (b != kinds.end()) {
        std::printf("   baseline %9.1f %s   %5.1fx faster", b->second, unit_.c_str(),
                    b->second / x->second);
      }
      const auto a = allocs_.find(name);
      if (a != allocs_.end()) std::printf("   allocs/msg %.2f", a->second);
      std::printf("\n");
      // Other contenders of the same benchmark (another library, another wait strategy).
      for (const auto& [kind, t] : kinds) {
        if (kind == "xarb" || kind == "baseline") continue;
        std::printf("  %-28s %-16s %9.1f %s   xarb is %.2fx as fast\n", "", kind.c_str(), t,
                    unit_.c_str(), t / x->second);
      }
    }
  }

 private:
  std::map<std::string, std::map<std::string, double>> times_;
  std::map<std::string, double> allocs_;
  std::string unit_ = "ns";
};

}  // namespace

int run_main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  CountingMemoryManager memory;
  benchmark::RegisterMemoryManager(&memory);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::RegisterMemoryManager(nullptr);
  benchmark::Shutdown();
  return 0;
}

}  // namespace xarb::bench
