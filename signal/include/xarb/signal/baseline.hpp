#pragma once

#include <cmath>
#include <cstdint>

namespace xarb::signal {

// Exponentially weighted moving average over irregularly spaced samples, with a half-life in
// time: a sample dt after the previous one gets the weight 1 - 2^(-dt / half_life). The first
// sample sets the value. No allocation, any thread (not shared).
class Ewma {
 public:
  Ewma() noexcept = default;
  explicit Ewma(std::int64_t half_life_ns) noexcept : half_life_ns_(half_life_ns) {}

  void update(double x, std::int64_t t_ns) noexcept {
    if (samples_ == 0 || half_life_ns_ <= 0) {
      value_ = x;
    } else if (t_ns > last_ns_) {
      const double w =
          1.0 - std::exp2(-static_cast<double>(t_ns - last_ns_) / static_cast<double>(half_life_ns_));
      value_ += w * (x - value_);
    }  // a sample at the same instant (or out of order) does not move the average
    if (samples_ == 0 || t_ns > last_ns_) last_ns_ = t_ns;
    ++samples_;
  }

  [[nodiscard]] double value() const noexcept { return value_; }
  [[nodiscard]] std::uint64_t samples() const noexcept { return samples_; }
  [[nodiscard]] bool ready() const noexcept { return samples_ > 0; }

 private:
  std::int64_t half_life_ns_ = 0;
  std::int64_t last_ns_ = 0;
  double value_ = 0.0;
  std::uint64_t samples_ = 0;
};

}  // namespace xarb::signal
