#pragma once

// One interface for the three venues exec can hold: Binance REST, Upbit REST and the paper venue
// (docs/design.md: "Paper and live differ only in the venue object exec holds"). Requests
// are started without blocking; poll() drives them; completions come back as events. Single
// threaded: the exec thread owns its venues.

#include <cstdint>
#include <span>

#include <xarb/core/ids.hpp>
#include <xarb/core/messages.hpp>
#include <xarb/exec/orders.hpp>
#include <xarb/exec/rules.hpp>
#include <xarb/net/ws_client.hpp>

namespace xarb::exec {

// `update`: nothing was asked; the venue's private stream pushed the order's end, or a
// reconciliation after the stream reconnected found it.
enum class VenueOp : std::uint8_t { place, query, cancel, update };

// The end of one request. `status.state` is OrderState::unknown when the venue's answer did not
// settle the order (timeout, connection lost, 5xx): the order may or may not exist, and exec
// queries it by client id.
struct VenueEvent {
  VenueOp op = VenueOp::place;
  InstrumentId instrument = kNoInstrument;
  OrderStatus status;
  std::int64_t latency_ns = 0;  // request written -> answer parsed
};

// How many order requests may go out now, by the venue's own counters.
struct RateBudget {
  std::int64_t orders_available = 0;   // in the venue's current window
  std::int64_t orders_per_window = 0;  // the window's whole allowance
  std::int64_t blocked_until_ns = 0;   // after a 429: nothing before this (mono)
};

struct VenueAsset {
  Decimal free;  // what an order may use
};

// What a venue's private stream did.
struct StreamStats {
  net::WsStats ws;                   // connects, disconnects, keep-alives, the last error
  std::uint64_t orders = 0;          // myOrder (or executionReport) events read
  std::uint64_t fills = 0;           // of which: an order of this process ended (its fill known)
  std::uint64_t assets = 0;          // balance events read
  std::uint64_t malformed = 0;       // messages that could not be read (dropped)
  std::uint64_t errors = 0;          // the venue refused the connection or the subscription
  std::uint64_t reconciled = 0;      // orders queried after a (re)connect, before trusting it
  std::uint64_t balance_checks = 0;  // balances pushed that equal what the fills predicted
  std::uint64_t balance_mismatches = 0;  // ... that did not (last_mismatch says which)
  std::uint64_t events_dropped = 0;      // order ends the event queue had no room for (queried)
  // Order events whose order's fees the stream could not state (an execution of it was not
  // seen): left to the fallback query.
  std::uint64_t incomplete = 0;
  // Orders, queries and cancels sent on the connection (order_entry = ws).
  std::uint64_t requests = 0;
  FixedString<120> last_mismatch;
};

class VenueClient {
 public:
  virtual ~VenueClient() = default;
  [[nodiscard]] virtual Venue venue() const noexcept = 0;

  // Starts a request. False when it cannot start now (rate limited, too many in flight); nothing
  // was sent then. `book` are the levels the order expects to meet: only the paper venue uses
  // them.
  [[nodiscard]] virtual bool place(const OrderRequest& order, std::span<const Level> book) noexcept = 0;
  [[nodiscard]] virtual bool query(InstrumentId instrument, const ClientOrderId& id) noexcept = 0;
  [[nodiscard]] virtual bool cancel(InstrumentId instrument, const ClientOrderId& id) noexcept = 0;

  // Drives I/O and timers; `now_ns` is clock::mono_ns() (or a test's clock for the paper venue).
  virtual void poll(std::int64_t now_ns) noexcept = 0;
  // The next completed request, if any.
  [[nodiscard]] virtual bool next_event(VenueEvent& out) noexcept = 0;

  [[nodiscard]] virtual const InstrumentRules& rules(InstrumentId instrument) const noexcept = 0;
  [[nodiscard]] virtual RateBudget budget(std::int64_t now_ns) const noexcept = 0;
  [[nodiscard]] virtual bool healthy() const noexcept = 0;
  // How long after an order request was written a "no such order" answer can still be wrong:
  // until then the venue may yet accept the request (Binance: while its timestamp is inside
  // recvWindow; Upbit: a grace period). 0: "not found" is final at once.
  [[nodiscard]] virtual std::int64_t not_found_grace_ns() const noexcept { return 0; }
  // Free balances as last known: the base asset of an instrument, and the quote currency.
  [[nodiscard]] virtual Decimal free_base(InstrumentId instrument) const noexcept = 0;
  [[nodiscard]] virtual Decimal free_quote() const noexcept = 0;
  // Whether the venue pushes its orders' ends now (a private stream that is up, subscribed and
  // reconciled): exec then waits longer before asking.
  [[nodiscard]] virtual bool streaming() const noexcept { return false; }
  // The private stream's history; nullptr for a venue without one.
  [[nodiscard]] virtual const StreamStats* stream() const noexcept { return nullptr; }
};

}  // namespace xarb::exec
