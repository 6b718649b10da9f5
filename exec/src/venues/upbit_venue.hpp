#pragma once

// What the KRW venues' adapters share: Bithumb's JWT API follows Upbit's, so both write their
// requests with UpbitApi and read their answers with UpbitParser in their own dialect. Each
// adapter (upbit.cpp, bithumb.cpp) adds its start-up, probe, rate limits and error kinds.

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <xarb/core/clock.hpp>
#include <xarb/exec/venues/upbit_api.hpp>

#include "adapter.hpp"

namespace xarb::exec::adapters {

class UpbitProtocolVenue : public RestAdapter {
 public:
  UpbitProtocolVenue(Venue venue, UpbitDialect dialect, const RestVenueOptions& o, const net::Url& endpoint)
      : options_(o),
        api_(o.credentials, endpoint, JwtAlg::hs256, dialect),
        parser_(dialect),
        venue_(venue) {}

  bool place(const OrderRequest& order, std::string_view symbol,
             HttpRequestText& out) noexcept override {
    if (!api_.new_order(order, symbol, out)) return false;
    sent_.note(clock::mono_ns());
    return true;
  }
  // By client id alone (RestVenue checks the answer's market).
  bool query(std::string_view symbol, const ClientOrderId& id,
             HttpRequestText& out) noexcept override {
    (void)symbol;
    return api_.get_order(id.view(), out);
  }
  bool cancel(std::string_view symbol, const ClientOrderId& id,
              HttpRequestText& out) noexcept override {
    (void)symbol;
    return api_.cancel_order(id.view(), out);
  }
  bool balances(HttpRequestText& out) noexcept override { return api_.accounts(out); }
  bool open_orders(HttpRequestText& out) noexcept override { return api_.open_orders("", out); }

  // paid_fee is in KRW.
  Errc parse_order(std::string_view body, const Instrument& instrument,
                   OrderStatus& out) noexcept override {
    (void)instrument;
    return parser_.parse_order(body, out);
  }
  bool parse_error(std::string_view body, VenueError& out) noexcept override {
    const bool parsed = parser_.parse_error(body, out);
    classify(venue_, out);
    return parsed;
  }
  Errc parse_balances(std::string_view body, std::vector<AssetBalance>& out) override {
    std::vector<UpbitAccount> list;
    const Errc e = parser_.parse_accounts(body, list);
    for (const UpbitAccount& a : list) out.push_back({a.currency, a.balance, a.locked});
    return e;
  }
  Errc parse_open_orders(std::string_view body, std::vector<OpenOrder>& out) override {
    std::vector<OrderStatus> orders;
    std::vector<std::string> names;
    const Errc e = parser_.parse_orders(body, orders, names);
    append_open_orders(orders, names, out);
    return e;
  }

  // myOrder and myAsset on one connection (the venues may refuse a second private one), in
  // the DEFAULT format; PING every 10 s (both close a connection idle for 120 s) is answered
  // {"status":"UP"}, so a connection silent for 25 s is lost: frames otherwise come only on
  // events.
  std::string stream_authorization() override { return api_.stream_authorization(); }
  std::string stream_subscription(std::uint64_t ticket) override {
    return "[{\"ticket\":\"xarb-private-" + std::to_string(ticket) +
           "\"},{\"type\":\"myOrder\"},{\"type\":\"myAsset\"}]";
  }
  void tune_stream(net::WsClientOptions& o) const noexcept override {
    o.keepalive_text = "PING";
    o.keepalive_interval = std::chrono::seconds(10);
    o.watchdog = std::chrono::seconds(25);
  }
  Errc parse_stream(std::string_view frame, StreamUpdate& out) noexcept override {
    const Errc e = parser_.parse_stream(frame, out);
    if (out.kind == StreamUpdate::Kind::error) classify(venue_, out.error);
    return e;
  }

  // Per group and per second: a 429 on an order blocks orders only; the rest goes on, and the
  // reverse.
  std::int64_t default_block_ns() const noexcept override { return 1'000'000'000; }
  bool blocks_by_group() const noexcept override { return true; }
  std::int64_t not_found_grace_ns() const noexcept override {
    return options_.not_found_grace_ms * 1'000'000;
  }

 protected:
  // Picks the health probe's market: the first of `symbols` this venue lists (none: no probe).
  void pick_probe_market(const SymbolMap& symbols) {
    probe_market_.clear();
    for (const Instrument& i : symbols) {
      if (i.listed_on(venue_)) {
        probe_market_ = std::string(i.symbol(venue_));
        return;
      }
    }
  }

  // The orders this process may still send in the venue's one-second window: `per_second` less
  // those it wrote in the last second. What keeps a burst under the limit before any 429, and
  // before a header could say so (Bithumb documents none; Upbit's Remaining-Req comes with the
  // answer, after the next order may already be out).
  [[nodiscard]] std::int64_t unsent_this_second(std::int64_t now_ns,
                                                std::int64_t per_second) const noexcept {
    return std::max<std::int64_t>(per_second - sent_.after(now_ns - 1'000'000'000), 0);
  }

  const RestVenueOptions& options_;
  UpbitApi api_;
  UpbitParser parser_;
  Venue venue_;
  std::string probe_market_;

 private:
  SentOrders sent_;
};

}  // namespace xarb::exec::adapters
