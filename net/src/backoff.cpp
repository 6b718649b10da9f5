#include <xarb/net/backoff.hpp>

#include <algorithm>

namespace xarb::net {

Backoff::Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max)
    : min_(min), max_(std::max(min, max)), rng_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
  std::int64_t delay = min_.count();
  for (unsigned i = 0; i < attempt_ && delay < max_.count(); ++i) delay *= 2;
  delay = std::min<std::int64_t>(delay, max_.count());
  ++attempt_;
  std::uniform_int_distribution<std::int64_t> jitter(0, delay / 2);
  return std::chrono::milliseconds(delay + jitter(rng_));
}

}  // namespace xarb::net
