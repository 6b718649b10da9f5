#pragma once

// A live venue over kept-alive HTTPS (Beast + OpenSSL, peer verified), behind the VenueClient
// interface the executor uses; what differs between venues is its adapter
// (exec/src/venues/<venue>.cpp). Start-up is blocking (connect and warm the
// connection, load trading rules, read the server time offset and balances); trading is
// non-blocking and driven by poll(). All URLs and CA files come from the caller (the config), so
// tests and the simulator point them at 127.0.0.1.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <xarb/core/ids.hpp>
#include <xarb/exec/orders.hpp>
#include <xarb/exec/signing.hpp>
#include <xarb/exec/venue.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {

// Where orders, queries and cancels go: REST, or the venue's WebSocket API on the private
// stream's connection (Binance), with REST whenever that connection is down.
enum class OrderEntry : std::uint8_t { rest, ws };

struct RestVenueOptions {
  Venue venue = kNoVenue;
  std::string rest_url;  // https://api.binance.com, https://api.upbit.com
  std::string ca_file;   // empty: the system trust store
  Credentials credentials;
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{2000};
  // A kept-alive connection idle this long is replaced, before the venue's idle timeout closes
  // it under the next order (whose outcome would then be unknown).
  std::chrono::milliseconds connection_max_idle{30'000};
  std::int64_t recv_window_ms = 5000;
  // How often a venue that signs with its server's time reads that time again.
  std::int64_t time_sync_interval_ns = 60'000'000'000;
  // Orders per the venue's rate window (its adapter knows the window); 0: the venue's documented
  // limit, which its adapter holds (docs/venues.md). Benchmarks raise it out of the way.
  std::int64_t order_limit = 0;
  // Where a request carries no validity window of its own, "order_not_found" for an order whose
  // answer was lost is final only this long after the request was written (a venue with a
  // window, such as a recvWindow, bounds it by that instead).
  std::int64_t not_found_grace_ms = 10'000;
  // The private stream (own orders and balances, pushed), where the venue's adapter has one:
  // while it is up an order's fill is taken from it, and a query goes out only when its end has
  // not come stream_fallback after the order's answer. Its URL is private_ws_url, or else the
  // adapter's path on ws_url's host (the venue's public websocket).
  bool private_stream = true;
  std::string ws_url;
  std::string private_ws_url;
  OrderEntry order_entry = OrderEntry::rest;
  // Told each answer start() read (server time, trading rules): its request target and body.
  // `xarb record` keeps them, so that a backtest loads the rules the venue gave then.
  std::function<void(std::string_view target, std::string_view body)> on_startup_answer;
};

struct AssetBalance {
  std::string asset;
  Decimal free;
  Decimal locked;
};

struct OpenOrder {
  std::string symbol;  // the venue's symbol or market
  OrderStatus status;
};

// Start-up's answers from elsewhere than the network (a recording's): the body recorded for a
// request target, matched by its path. False when there is none.
using RecordedAnswer = std::function<bool(std::string_view target, std::string& body)>;

// The trading rules start() would load for `options.venue`, read through `answer` instead of
// the venue: the same adapter and loaders. False with `error` naming what was missing.
[[nodiscard]] bool load_recorded_rules(const SymbolMap& symbols, const RestVenueOptions& options,
                                       const RecordedAnswer& answer, RulesTable& rules,
                                       std::string& error);

// The target of an HTTP request's text ("/api/v3/time" of "GET /api/v3/time HTTP/1.1...").
[[nodiscard]] std::string_view request_target(std::string_view request) noexcept;

class RestVenue final : public VenueClient {
 public:
  RestVenue(const SymbolMap& symbols, RestVenueOptions options);
  ~RestVenue() override;
  RestVenue(const RestVenue&) = delete;
  RestVenue& operator=(const RestVenue&) = delete;

  // Blocking start-up, in order: connect, server time (Binance), trading rules, balances (when
  // credentials are present). False with `error` naming the step and the venue's answer.
  [[nodiscard]] bool start(std::string& error);

  // Blocking operator calls (the `xarb venue` commands); the error carries the venue's own code
  // and message.
  [[nodiscard]] bool read_balances(std::vector<AssetBalance>& out, std::string& error);
  [[nodiscard]] bool read_open_orders(std::vector<OpenOrder>& out, std::string& error);
  [[nodiscard]] bool place_blocking(const OrderRequest& order, OrderStatus& out,
                                    std::string& error);
  [[nodiscard]] bool get_blocking(InstrumentId instrument, const ClientOrderId& id,
                                  OrderStatus& out, std::string& error);
  [[nodiscard]] bool cancel_blocking(InstrumentId instrument, const ClientOrderId& id,
                                     OrderStatus& out, std::string& error);

  // VenueClient
  [[nodiscard]] Venue venue() const noexcept override;
  [[nodiscard]] bool place(const OrderRequest& order, std::span<const Level> book) noexcept override;
  [[nodiscard]] bool query(InstrumentId instrument, const ClientOrderId& id) noexcept override;
  [[nodiscard]] bool cancel(InstrumentId instrument, const ClientOrderId& id) noexcept override;
  void poll(std::int64_t now_ns) noexcept override;
  [[nodiscard]] bool next_event(VenueEvent& out) noexcept override;
  [[nodiscard]] const InstrumentRules& rules(InstrumentId instrument) const noexcept override;
  [[nodiscard]] RateBudget budget(std::int64_t now_ns) const noexcept override;
  [[nodiscard]] bool healthy() const noexcept override;
  [[nodiscard]] std::int64_t not_found_grace_ns() const noexcept override;
  [[nodiscard]] Decimal free_base(InstrumentId instrument) const noexcept override;
  [[nodiscard]] Decimal free_quote() const noexcept override;
  [[nodiscard]] bool streaming() const noexcept override;
  [[nodiscard]] const StreamStats* stream() const noexcept override;

  // An operator moved `qty` of `instrument`'s base (kNoInstrument: of the quote asset) in (> 0)
  // or out (< 0) of the account, outside the engine. Callable from any thread: the venue's own
  // takes it into what its fills predict before the next balance check on the private stream.
  void note_transfer(InstrumentId instrument, Decimal qty) noexcept;

  // The private stream's URL (empty: none) and history.
  [[nodiscard]] const std::string& private_stream_url() const noexcept;
  // Requests sent on the private stream's connection (order_entry = ws), and answered there.
  [[nodiscard]] std::uint64_t stream_requests() const noexcept;
  [[nodiscard]] const StreamStats& stream_stats() const noexcept;

  // What the last read_balances() found free of `asset` (zero when it was not listed): for the
  // assets no instrument trades, such as the BNB Binance charges commissions in.
  [[nodiscard]] Decimal read_free(std::string_view asset) const;
  // The offset of the venue's clock from ours, for a venue that signs with its server's time.
  [[nodiscard]] std::optional<std::int64_t> time_offset_ms() const noexcept;
  [[nodiscard]] const RateLimitState& rate_limits() const noexcept;
  [[nodiscard]] RulesTable& rules_table() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace xarb::exec
