#include <xarb/tuning/threads.hpp>

#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// The sanitizer runtimes' allocator statistics (sanitizer/allocator_interface.h, which g++ 12
// does not ship; the runtime exports them for both compilers).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
extern "C" std::size_t __sanitizer_get_heap_size();
#endif
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <map>

namespace xarb::tuning {

std::vector<int> allowed_cpus() {
  std::vector<int> out;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return out;
  for (std::size_t c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) out.push_back(static_cast<int>(c));
  }
  return out;
}

unsigned online_cpus() noexcept {
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1U;
}

std::vector<LayoutProblem> validate_layout(std::span<const ThreadPlan> threads,
                                           std::span<const int> allowed, unsigned online) {
  std::vector<LayoutProblem> problems;
  std::map<int, std::vector<const ThreadPlan*>> by_cpu;
  std::size_t spinning = 0;
  for (const ThreadPlan& t : threads) {
    const bool spins = t.wait == WaitStrategy::spin || t.wait == WaitStrategy::spin_then_park;
    if (t.hot && spins) ++spinning;
    if (t.cpu < 0) continue;
    if (static_cast<unsigned>(t.cpu) >= online) {
      problems.push_back({t.name, "cpu " + std::to_string(t.cpu) + " does not exist (" +
                                      std::to_string(online) + " online)"});
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), t.cpu) == allowed.end()) {
      problems.push_back(
          {t.name, "cpu " + std::to_string(t.cpu) + " is not in this process's affinity mask"});
      continue;
    }
    by_cpu[t.cpu].push_back(&t);
  }
  for (const auto& [cpu, on] : by_cpu) {
    if (on.size() < 2) continue;
    for (const ThreadPlan* t : on) {
      if (!t->hot) {
        problems.push_back({t->name, "the ops thread shares cpu " + std::to_string(cpu) +
                                         " with a hot thread; give it a core of its own"});
      } else if (t->wait == WaitStrategy::spin) {
        problems.push_back({t->name, "spins on cpu " + std::to_string(cpu) +
                                         ", which another thread is pinned to: it would starve "
                                         "it (use park or one thread per core)"});
      }
    }
  }
  if (spinning > allowed.size()) {
    problems.push_back({"layout",
                        std::to_string(spinning) + " spinning hot threads on " +
                            std::to_string(allowed.size()) +
                            " allowed cpus: they starve each other; use park or fewer threads",
                        false});
  }
  return problems;
}

void name_current_thread(std::string_view name) noexcept {
  char buf[16] = {};
  const std::size_t n = std::min<std::size_t>(name.size(), sizeof(buf) - 1);
  std::memcpy(buf, name.data(), n);
  pthread_setname_np(pthread_self(), buf);
}

bool pin_current_thread(int cpu, std::string& error) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (cpu < 0 || cpu >= CPU_SETSIZE) {
    error = "cpu " + std::to_string(cpu) + " is out of range";
    return false;
  }
  CPU_SET(static_cast<std::size_t>(cpu), &set);
  const int rc = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
  if (rc != 0) {
    error = "cannot pin to cpu " + std::to_string(cpu) + ": " + std::strerror(rc);
    return false;
  }
  return true;
}

std::int64_t current_thread_cpu_ns() noexcept {
  timespec ts{};
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t current_rss_kib() noexcept {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

std::int64_t peak_rss_kib() noexcept {
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return u.ru_maxrss;  // KiB on Linux
}

HeapUsage heap_usage() noexcept {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizer's allocator has replaced glibc's: ask it.
  return {static_cast<std::int64_t>(__sanitizer_get_current_allocated_bytes()),
          static_cast<std::int64_t>(__sanitizer_get_heap_size())};
#endif
  const struct mallinfo2 m = ::mallinfo2();
  return {static_cast<std::int64_t>(m.uordblks + m.hblkhd),
          static_cast<std::int64_t>(m.arena + m.hblkhd)};
}

}  // namespace xarb::tuning
