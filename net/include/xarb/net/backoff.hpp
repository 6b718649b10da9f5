#pragma once

// Reconnect and retry delays: doubling from `min` up to `max`, plus up to 50 % random jitter so
// that clients that lost the same venue at once do not all come back at once.

#include <chrono>
#include <cstdint>
#include <random>

namespace xarb::net {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max);

  // The delay before the next attempt; each call without a reset() doubles it.
  [[nodiscard]] std::chrono::milliseconds next();
  // Success: the next delay is `min` again.
  void reset() noexcept { attempt_ = 0; }
  [[nodiscard]] unsigned attempts() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds min_, max_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace xarb::net
