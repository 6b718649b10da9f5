#pragma once

#include <cstdint>

#include <xarb/core/messages.hpp>
#include <xarb/signal/params.hpp>
#include <xarb/signal/premium.hpp>

namespace xarb::signal {

// The KRW per USDT rate and its age: from Upbit's KRW-USDT book or fixed by config. A missing or
// stale rate is reported as such, never replaced by a default.
class FxTracker {
 public:
  explicit FxTracker(const FxParams& params) noexcept : params_(params) {}

  // A KRW-USDT book update. An untradable book clears the rate (it is missing until the next
  // usable book), since its levels no longer say what a dollar costs.
  void on_book(const BookSnapshot& book, std::int64_t now_mono_ns) noexcept {
    if (params_.fixed) return;
    rate_ = fx_rate(book, params_.side);
    const std::int64_t received = book.stamps.get(Stage::received);
    updated_ns_ = received != 0 ? received : now_mono_ns;
  }

  struct Quote {
    double rate = 0.0;                            // KRW per USDT; 0 unless usable
    RefusalReason refusal = RefusalReason::none;  // fx_missing or fx_stale
  };

  // The rate to decide with at `now`, if it is no older than `max_age_ns`.
  [[nodiscard]] Quote quote(std::int64_t now_mono_ns, std::int64_t max_age_ns) const noexcept {
    if (params_.fixed) {
      const double r = params_.fixed_rate.to_double();
      return r > 0.0 ? Quote{r, RefusalReason::none} : Quote{0.0, RefusalReason::fx_missing};
    }
    if (!(rate_ > 0.0)) return {0.0, RefusalReason::fx_missing};
    if (now_mono_ns - updated_ns_ > max_age_ns) return {0.0, RefusalReason::fx_stale};
    return {rate_, RefusalReason::none};
  }
  [[nodiscard]] Quote quote(std::int64_t now_mono_ns) const noexcept {
    return quote(now_mono_ns, params_.max_age_ns);
  }

  // The last rate seen, whatever its age (0 when none): for marking and reporting only.
  [[nodiscard]] double last() const noexcept {
    return params_.fixed ? params_.fixed_rate.to_double() : rate_;
  }
  [[nodiscard]] std::int64_t updated_ns() const noexcept { return updated_ns_; }

 private:
  FxParams params_;
  double rate_ = 0.0;
  std::int64_t updated_ns_ = 0;
};

}  // namespace xarb::signal
