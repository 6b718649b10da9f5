#pragma once

// What exec says to a venue and what a venue answers, independent of the venue: an IOC limit
// order request, and the order's state as the venue reports it.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include <xarb/core/decimal.hpp>
#include <xarb/core/fixed_string.hpp>
#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>

namespace xarb::exec {

enum class TimeInForce : std::uint8_t { gtc, ioc, fok };

struct OrderRequest {
  ClientOrderId client_id;
  InstrumentId instrument = kNoInstrument;
  Side side = Side::buy;
  Decimal price;  // limit price, on the venue's tick
  Decimal qty;    // base quantity, on the venue's step
  TimeInForce tif = TimeInForce::ioc;
};

// Venue's order id: Binance's numeric orderId as text, or Upbit's uuid.
using VenueOrderId = FixedString<40>;

// An order as the venue last described it.
struct OrderStatus {
  ClientOrderId client_id;
  VenueOrderId venue_id;
  FixedString<24> symbol;  // the answer's symbol (Binance) or market (Upbit); empty when absent
  OrderState state = OrderState::unknown;
  std::optional<Side> side;  // as the venue's answer states it (absent when it does not)
  Decimal orig_qty;
  Decimal filled_qty;
  Int128 filled_notional_e16 = 0;  // exact sum of price x qty over the fills, quote currency
  Decimal fee_quote;               // commission charged in the quote currency
  Decimal fee_base;                // commission charged in the base asset (reduces what a buy got)
  Decimal fee_other;               // commission in a third asset (BNB), not converted
  bool fills_known = false;        // the fills were listed (else notional from a cumulative field)
  VenueError error;                // when the venue refused

  [[nodiscard]] bool final() const noexcept {
    return state == OrderState::filled || state == OrderState::canceled ||
           state == OrderState::rejected || state == OrderState::expired;
  }
  // Average fill price; zero without fills.
  [[nodiscard]] Decimal avg_price() const noexcept {
    if (!filled_qty.is_positive()) return Decimal{};
    return Decimal::from_mantissa(
        static_cast<std::int64_t>(filled_notional_e16 / filled_qty.mantissa()));
  }
};

// One message of a venue's private stream (its own orders and balances), as exec reads it.
struct StreamUpdate {
  enum class Kind : std::uint8_t {
    none,    // nothing for exec (a keep-alive answer, a subscription acknowledgement)
    order,   // `order`: one of the account's orders as it now stands
    assets,  // `assets`: balances the venue says changed
    error,   // `error`: the venue refused the connection or the subscription
    answer,  // `answer`: the answer to a request sent on the connection (order entry)
  };
  // The answer to a request sent on the stream's connection (order entry over a venue's
  // WebSocket API), as an HTTP answer states it: the request's tag, a status (5xx: the outcome
  // is unknown) and the order or error object; and the rate limits it states, as the REST
  // response headers that state the same (name, value).
  struct Answer {
    std::uint64_t tag = 0;
    int status = 0;
    std::string_view body;  // into the frame
    std::array<std::pair<std::string_view, std::string_view>, 4> limits{};
    std::size_t limit_count = 0;
  };
  struct Asset {
    FixedString<16> currency;
    Decimal balance;  // free
    Decimal locked;
  };
  static constexpr std::size_t kMaxAssets = 8;

  // The execution an order event reports, where the venue states commissions per execution
  // rather than in total (Binance's executionReport: l, L, n, N); zero quantity: none.
  struct Execution {
    Decimal qty;
    Decimal price;
    Decimal commission;
    FixedString<16> commission_asset;
  };

  Kind kind = Kind::none;
  // Cumulative as the venue states it on every event: executed quantity, funds, fees paid.
  OrderStatus order;
  Execution execution;
  Answer answer;
  // False when the order's fees cannot be known from the stream (an execution of it was not
  // seen: a gap or a reconnect); exec then takes the order from a query, not from this event.
  bool complete = true;
  std::array<Asset, kMaxAssets> assets{};
  std::size_t asset_count = 0;  // more than kMaxAssets in one message: the rest are dropped
  VenueError error;
};

// Rate-limit state a venue reported in its last response headers.
struct RateLimitState {
  std::int64_t used_weight_1m = -1;    // Binance X-MBX-USED-WEIGHT-1M
  std::int64_t order_count_10s = -1;   // Binance X-MBX-ORDER-COUNT-10S
  std::int64_t order_count_1d = -1;    // Binance X-MBX-ORDER-COUNT-1D
  std::int64_t remaining_sec = -1;     // Upbit Remaining-Req sec=
  FixedString<24> remaining_group;     // Upbit Remaining-Req group=
  std::int64_t retry_after_s = -1;     // Retry-After on a 429 / 418
};

// Sets `error.kind` from the venue's HTTP status, code or name, and message.
void classify(Venue venue, VenueError& error) noexcept;

// A text buffer requests are written into: fixed capacity, no allocation. Appends past the end
// set overflow() and are dropped.
template <std::size_t N>
class TextBuffer {
 public:
  TextBuffer& put(std::string_view s) noexcept {
    if (size_ + s.size() > N) {
      overflow_ = true;
      return *this;
    }
    for (char c : s) data_[size_++] = c;
    return *this;
  }
  TextBuffer& put(std::int64_t v) noexcept {
    char digits[24];
    int n = 0;
    const bool neg = v < 0;
    std::uint64_t m = neg ? std::uint64_t{0} - static_cast<std::uint64_t>(v)
                          : static_cast<std::uint64_t>(v);
    do {
      digits[n++] = static_cast<char>('0' + m % 10);
      m /= 10;
    } while (m != 0);
    if (neg) put("-");
    while (n > 0) put(std::string_view(&digits[--n], 1));
    return *this;
  }
  // The shortest exact text of a Decimal ("0.01", "140000000").
  TextBuffer& put(Decimal d) noexcept {
    char buf[Decimal::kMaxChars];
    const FormatResult r = d.to_chars(buf, buf + sizeof buf);
    if (r.ec != Errc::ok) {
      overflow_ = true;
      return *this;
    }
    return put(std::string_view(buf, static_cast<std::size_t>(r.end - buf)));
  }
  void clear() noexcept {
    size_ = 0;
    overflow_ = false;
  }
  [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] static constexpr std::size_t capacity() noexcept { return N; }
  [[nodiscard]] bool overflow() const noexcept { return overflow_; }
  // Drops everything after `n` characters.
  void truncate(std::size_t n) noexcept { size_ = std::min(size_, n); }

 private:
  char data_[N] = {};
  std::size_t size_ = 0;
  bool overflow_ = false;
};

// A request written whole into a fixed buffer: REST (a complete HTTP/1.1 message) and one
// WebSocket API request.
using HttpRequestText = TextBuffer<4096>;
using WsRequestText = TextBuffer<2048>;

}  // namespace xarb::exec
