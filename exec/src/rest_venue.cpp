#include <algorithm>
#include <atomic>
#include <cstdio>
#include <limits>

#include <xarb/core/clock.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/net/https_client.hpp>
#include <xarb/venues/registry.hpp>

#include "venues/adapter.hpp"

namespace xarb::exec {
namespace {

enum class Op : std::uint8_t {
  place,
  query,
  cancel,
  upkeep,  // the adapter's periodic request (Binance's server time)
  probe,   // the health probe of an unhealthy venue
  start,   // start-up's requests (trading rules)
  account,
  open_orders,
  follow_up,  // the commissions of an order answer that did not list them (Binance's myTrades)
  reconcile,  // an order in flight when the private stream (re)connected
};

// Orders older than this when the stream reconnects are not reconciled by it: exec has long
// settled them by queries.
constexpr std::int64_t kReconcileWindowNs = 300'000'000'000;
// How far behind an order's answer its private stream may be before its end there is taken as
// lost (a balance check waits that long for it).
constexpr std::int64_t kStreamLagNs = 10'000'000'000;

constexpr std::int64_t kSecondNs = 1'000'000'000;

}  // namespace

struct RestVenue::Impl {
  struct Pending {
    bool used = false;
    std::uint64_t tag = 0;
    Op op = Op::place;
    InstrumentId instrument = kNoInstrument;
    ClientOrderId id;
    std::int64_t sent_wall_ms = 0;
    // Op::follow_up: the order answer waiting for its commissions, and what asked for it.
    VenueOp origin = VenueOp::query;
    std::int64_t latency_ns = 0;
    OrderStatus status;
    // Sent on the private stream's connection (order_entry = ws): when, for its timeout.
    bool on_stream = false;
    std::int64_t sent_ns = 0;
  };
  // Orders placed from here: their side, and how much of their fill the balances include.
  struct Applied {
    ClientOrderId id;
    Side side = Side::buy;
    std::int64_t qty = 0;        // filled, as applied to the balances
    std::int64_t notional = 0;   // what those fills cost (quote mantissa, truncated once)
    std::int64_t fee_quote = 0;  // commissions applied, in the quote ...
    std::int64_t fee_base = 0;   // ... and in the base asset
    InstrumentId instrument = kNoInstrument;
    std::int64_t placed_ns = 0;  // mono
    bool ended = false;          // a final state was seen (from any answer or the stream)
    bool pushed_end = false;     // ... on the private stream: its balances include the order
  };
  // The private stream's connection calls back here.
  struct Stream final : net::WsHandler {
    explicit Stream(Impl& m) : impl(m) {}
    std::string authorization() override { return impl.venue->stream_authorization(); }
    void on_open(net::WsClient& client) override { impl.on_stream_open(client); }
    void on_frame(std::string_view frame, std::int64_t recv_ns) override {
      impl.on_stream_frame(frame, recv_ns);
    }
    void on_close() override {
      impl.subscribed = false;
      impl.stream_closed();
    }
    Impl& impl;
  };

  Impl(const SymbolMap& s, RestVenueOptions o) : symbols(s), options(std::move(o)) {}

  [[nodiscard]] std::string_view symbol(InstrumentId i) const noexcept {
    return i < symbols.size() ? symbols[i].symbol(options.venue) : std::string_view{};
  }

  const SymbolMap& symbols;
  RestVenueOptions options;
  net::Url endpoint;
  // Declared before the connections: their teardown may still deliver headers to it.
  std::unique_ptr<adapters::RestAdapter> venue;
  net::asio::io_context io{1};
  std::unique_ptr<net::ssl::context> tls;
  // Two kept-alive connections: orders go out on their own, so that an order never waits behind
  // a query, a cancel, a time sync or a balance read in flight on the same venue.
  std::unique_ptr<net::HttpsClient> order_lane;
  std::unique_ptr<net::HttpsClient> query_lane;
  // The private stream: its URL (empty: none), connection and state.
  std::string stream_url;
  Stream stream_handler{*this};
  StreamStats stream_stats;
  std::unique_ptr<net::WsClient> stream;
  StreamUpdate update;
  bool subscribed = false;
  std::uint64_t stream_ticket = 0;
  int reconciling = 0;  // reconciliation queries in flight
  WsRequestText ws_scratch;  // a request for the stream's connection (order_entry = ws)
  std::string answer_body;   // an answer read on it (reserved: no allocation)
  RulesTable rules;
  RateLimitState rate;
  std::int64_t now_ns = 0;
  std::int64_t blocked_until_ns = 0;
  // Venues that limit per group (adapter blocks_by_group()): a 429 on an order blocks orders
  // only, a 429 on anything else blocks the rest.
  std::int64_t orders_blocked_until_ns = 0;
  int transport_errors = 0;
  // An unhealthy venue (three transport errors in a row) is probed with a cheap public request
  // every second until it answers: nothing else may be sent to it, so without the probe it
  // would stay unhealthy for good.
  std::int64_t next_probe_ns = 0;
  std::array<std::int64_t, kMaxInstruments> base{};
  std::int64_t quote = 0;
  // Operators' transfers (note_transfer, any thread) not yet taken into base and quote.
  std::array<std::atomic<std::int64_t>, kMaxInstruments> moved_base{};
  std::atomic<std::int64_t> moved_quote{0};
  std::atomic<bool> moved{false};
  std::vector<AssetBalance> balances;  // as the last read_balances() found them
  HttpRequestText scratch;
  std::uint64_t next_tag = 1;
  static constexpr std::size_t kPending = 32;
  std::array<Pending, kPending> pending{};
  static constexpr std::size_t kEvents = 64;
  std::array<VenueEvent, kEvents> events{};
  std::size_t event_head = 0;
  std::size_t event_count = 0;
  static constexpr std::size_t kApplied = 128;
  std::array<Applied, kApplied> applied{};
  // Blocking calls: the answer of the awaited tag, copied out.
  std::uint64_t awaited = 0;
  bool awaited_done = false;
  net::HttpAnswer awaited_answer;
  std::string awaited_body;

  [[nodiscard]] net::HttpsClient& lane(Op op) noexcept {
    return op == Op::place ? *order_lane : *query_lane;
  }
  [[nodiscard]] std::string_view quote_asset() const noexcept {
    return venues::quote_asset(options.venue);
  }

  Pending* track(Op op, InstrumentId instrument, const ClientOrderId& id) noexcept {
    for (Pending& p : pending) {
      if (!p.used) {
        p = Pending{true, next_tag++, op, instrument, id, clock::wall_ms(), {}, 0, {}, false, 0};
        return &p;
      }
    }
    return nullptr;
  }

  // After a 429 nothing goes out until Retry-After has passed: continuing is what gets an IP
  // banned (418).
  [[nodiscard]] bool blocked(Op op) const noexcept {
    const std::int64_t now = clock::mono_ns();
    return op != Op::upkeep &&
           (blocked_until_ns > now || (op == Op::place && orders_blocked_until_ns > now));
  }

  bool send(Op op, InstrumentId instrument, const ClientOrderId& id) noexcept {
    if (blocked(op)) return false;
    Pending* p = track(op, instrument, id);
    if (p == nullptr) return false;
    if (!lane(op).submit(scratch.view(), p->tag)) {
      p->used = false;
      return false;
    }
    return true;
  }

  // Orders, queries and cancels go on the private stream's connection (the venue's WebSocket
  // API) when so configured and it is open; else over REST.
  [[nodiscard]] bool stream_entry() const noexcept {
    return options.order_entry == OrderEntry::ws && stream && stream->connected() &&
           venue->has_stream_orders();
  }

  // Sends the request `write` puts in ws_scratch for a new tag on the stream's connection.
  template <typename Write>
  bool send_stream(Op op, InstrumentId instrument, const ClientOrderId& id, Write write) noexcept {
    if (!stream_entry() || blocked(op)) return false;
    Pending* p = track(op, instrument, id);
    if (p == nullptr) return false;
    if (!write(p->tag, ws_scratch) || !stream->send(ws_scratch.view())) {
      p->used = false;
      return false;
    }
    p->on_stream = true;
    p->sent_ns = clock::mono_ns();
    ++stream_stats.requests;
    return true;
  }

  // Requests sent on the stream's connection get no answer once it is gone, nor past the
  // timeout: their outcome is unknown (exec queries them, over REST while it is down).
  void fail_stream_requests(std::int64_t older_than_ns, std::string_view what) noexcept {
    for (Pending& x : pending) {
      if (!x.used || !x.on_stream || x.sent_ns > older_than_ns) continue;
      net::HttpAnswer a;
      a.tag = x.tag;
      a.transport_error = true;
      a.what = what;
      a.latency_ns = clock::mono_ns() - x.sent_ns;
      on_answer(a);
    }
  }
  void stream_closed() noexcept {
    fail_stream_requests(std::numeric_limits<std::int64_t>::max(), "websocket closed");
  }

  void push_event(const VenueEvent& e) noexcept {
    if (Applied* a = order_record(e.status.client_id); a != nullptr) {
      // A final state ends it; so does "not found" past the venue's grace, as exec reads it:
      // the request never became an order and never will.
      if (e.status.final() ||
          (e.op == VenueOp::query && e.status.error.kind == VenueErrorKind::unknown_order &&
           clock::mono_ns() - a->placed_ns >= venue->not_found_grace_ns())) {
        a->ended = true;
      }
    }
    if (event_count == kEvents) return;  // cannot happen: bounded by kPending
    events[(event_head + event_count) % kEvents] = e;
    ++event_count;
  }

  // An order of this process that may still be working: placed recently and not seen to end.
  // (One lost for longer than the window is exec's to settle by its queries.)
  static bool in_flight(const Applied& a, std::int64_t now) noexcept {
    return !a.id.empty() && !a.ended && now - a.placed_ns <= kReconcileWindowNs;
  }
  // An order whose end an answer or a query told, and the stream not yet: balances it pushes
  // now may predate the order (Binance answers a fill before it pushes the balances of an
  // earlier one). Past kStreamLagNs the stream is taken to have passed it (its end was lost).
  static bool ahead_of_stream(const Applied& a, std::int64_t now) noexcept {
    return !a.id.empty() && a.ended && !a.pushed_end && now - a.placed_ns <= kStreamLagNs;
  }

  Applied* order_record(const ClientOrderId& id) noexcept {
    for (Applied& x : applied) {
      if (!x.id.empty() && x.id == id) return &x;
    }
    return nullptr;
  }
  // A record for a new order: a free one, else the oldest whose order has ended (one whose
  // balances the stream has passed first: reusing one it has not costs the balance check a
  // false mismatch, never money). Null while every record holds an order that may still fill
  // (working, or its outcome unknown): its fills must reach the balances when it settles, so no
  // such record is overwritten and the new order waits (place() refuses it for now).
  Applied* free_record(std::int64_t now) noexcept {
    Applied* passed = nullptr;
    Applied* ended = nullptr;
    for (Applied& a : applied) {
      if (a.id.empty()) return &a;
      if (!a.ended) continue;
      Applied*& best = ahead_of_stream(a, now) ? ended : passed;
      if (best == nullptr || a.placed_ns < best->placed_ns) best = &a;
    }
    return passed != nullptr ? passed : ended;
  }
  void remember(Applied& slot, const OrderRequest& o, std::int64_t now) noexcept {
    slot = Applied{o.client_id, o.side, 0, 0, 0, 0, o.instrument, now, false, false};
  }

  // Operators' transfers noted since the last call move base and quote (the venue's thread).
  void take_transfers() noexcept {
    if (!moved.exchange(false, std::memory_order_acquire)) return;
    for (std::size_t i = 0; i < kMaxInstruments; ++i) {
      base[i] += moved_base[i].exchange(0, std::memory_order_relaxed);
    }
    quote += moved_quote.exchange(0, std::memory_order_relaxed);
  }

  // Moves the balances by what an answer adds to the fill already applied for that order.
  // Every answer and stream event states the order's fill so far (quantity, what it cost, the
  // commissions): the balances move by what it adds to what was applied. The quote is moved by
  // the cumulative notional truncated once, so that fills applied in steps (the stream's
  // executions, at different prices) sum to what one answer with all of them would have moved.
  void apply_fills(InstrumentId instrument, const OrderStatus& s) noexcept {
    if (instrument >= kMaxInstruments) return;
    Applied* a = order_record(s.client_id);
    if (a == nullptr) return;  // not an order of this process (an operator's query)
    if (s.final()) a->ended = true;
    if (!s.filled_qty.is_positive()) return;
    const std::int64_t delta = s.filled_qty.mantissa() - a->qty;
    if (delta <= 0) return;
    a->qty = s.filled_qty.mantissa();
    const auto notional_m = static_cast<std::int64_t>(s.filled_notional_e16 / Decimal::kOne);
    const std::int64_t notional_delta = notional_m - a->notional;
    const std::int64_t fee_quote_delta = s.fee_quote.mantissa() - a->fee_quote;
    const std::int64_t fee_base_delta = s.fee_base.mantissa() - a->fee_base;
    a->notional = notional_m;
    a->fee_quote = s.fee_quote.mantissa();
    a->fee_base = s.fee_base.mantissa();
    const bool buy = a->side == Side::buy;
    base[instrument] += (buy ? delta : -delta) - fee_base_delta;
    quote += (buy ? -notional_delta : notional_delta) - fee_quote_delta;
  }

  // An answer's event, to exec. A reconciliation query (Op::reconcile) reaches exec as the
  // order's update only when the venue described the order: "not found" (an order accepted
  // late), a refusal or no answer says nothing of how it ended, and exec's own queries settle it.
  void deliver(const Pending& req, const VenueEvent& ev) noexcept {
    if (req.op == Op::reconcile &&
        (ev.status.state == OrderState::unknown || ev.status.error.present())) {
      return;
    }
    push_event(ev);
  }

  void on_answer(const net::HttpAnswer& a) noexcept {
    if (a.tag == awaited && awaited != 0) {
      awaited_answer = a;
      awaited_body.assign(a.body);
      awaited_answer.body = awaited_body;
      awaited_done = true;
    }
    Pending* p = nullptr;
    for (Pending& x : pending) {
      if (x.used && x.tag == a.tag) p = &x;
    }
    if (p == nullptr) return;
    const Pending req = *p;
    p->used = false;
    transport_errors = a.transport_error ? transport_errors + 1 : 0;
    if (req.op == Op::upkeep || req.op == Op::probe) {
      venue->on_upkeep(a, req.sent_wall_ms);
      return;
    }
    if (req.op == Op::follow_up) {
      note_rate_limit(req, a);
      on_follow_up(req, a);
      return;
    }
    if (req.op == Op::reconcile) --reconciling;
    if (req.op != Op::place && req.op != Op::query && req.op != Op::cancel &&
        req.op != Op::reconcile) {
      return;
    }
    VenueEvent ev;
    ev.op = req.op == Op::place       ? VenueOp::place
            : req.op == Op::query     ? VenueOp::query
            : req.op == Op::reconcile ? VenueOp::update
                                      : VenueOp::cancel;
    ev.instrument = req.instrument;
    ev.latency_ns = a.latency_ns;
    OrderStatus& s = ev.status;
    s.client_id = req.id;
    if (a.transport_error || a.status >= 500) {
      // No answer, or the venue does not know: the order may exist. Exec queries it.
      s.state = OrderState::unknown;
      s.error.http_status = a.status;
      // The venue's own error where it sent one (Binance's -1007 over its WebSocket API).
      if (a.transport_error || !venue->parse_error(a.body, s.error)) {
        s.error.message.assign(a.transport_error ? a.what : std::string_view("server error"));
      }
      classify(options.venue, s.error);
      deliver(req, ev);
      return;
    }
    note_rate_limit(req, a);
    if (a.status / 100 != 2) {
      s.state = OrderState::rejected;
      s.error.http_status = a.status;
      (void)venue->parse_error(a.body, s.error);
      venue->on_rejected(s.error);
      deliver(req, ev);
      return;
    }
    const ClientOrderId asked = s.client_id;
    const Errc e = req.instrument < symbols.size()
                       ? venue->parse_order(a.body, symbols[req.instrument], s)
                       : Errc::invalid_argument;
    // An order is (venue, symbol, client id): an answer about another symbol (Upbit looks orders
    // up by identifier alone) or another id is never a fill of the order asked about.
    const std::string_view want = symbol(req.instrument);
    const bool other_symbol = e == Errc::ok && !s.symbol.empty() && s.symbol.view() != want;
    const bool other_id =
        e == Errc::ok && !s.client_id.empty() && !asked.empty() && s.client_id != asked;
    if (other_symbol || other_id) {
      s = OrderStatus{};
      s.client_id = asked;
      s.state = OrderState::unknown;
      s.error.http_status = a.status;
      s.error.kind = VenueErrorKind::mismatch;
      s.error.message.assign(other_symbol ? "the answer is for another symbol"
                                          : "the answer is for another client id");
    } else if (e != Errc::ok) {
      s = OrderStatus{};
      s.client_id = asked;
      s.error.http_status = a.status;
      if (venue->parse_error(a.body, s.error)) {
        // A refusal sent with a 2xx status (Bithumb may): as refused as with a 4xx.
        s.state = OrderState::rejected;
        venue->on_rejected(s.error);
      } else {
        s.state = OrderState::unknown;  // an answer we cannot read: ask again
        s.error.message.assign("unreadable answer");
      }
    } else {
      if (s.client_id.empty()) s.client_id = asked;
      // An answer that does not settle its commissions waits for the request that does.
      if (venue->follow_up(s, want, scratch)) {
        ask_follow_up(req, ev);
        return;
      }
      apply_fills(req.instrument, s);
    }
    deliver(req, ev);
  }

  // The stream is open: subscribe, then query every order of the last minutes that has not
  // ended (its end may have been pushed while the stream was down); the stream is trusted
  // again once they have answered.
  void on_stream_open(net::WsClient& client) noexcept {
    if (!client.send(venue->stream_subscription(++stream_ticket))) {
      client.restart("the subscription could not be written");
      return;
    }
    subscribed = true;
    const std::int64_t now = clock::mono_ns();
    for (const Applied& a : applied) {
      if (!in_flight(a, now)) continue;
      if (venue->query(symbol(a.instrument), a.id, scratch) &&
          send(Op::reconcile, a.instrument, a.id)) {
        ++reconciling;
        ++stream_stats.reconciled;
      }
    }
  }

  void on_stream_frame(std::string_view frame, std::int64_t recv_ns) noexcept {
    if (venue->parse_stream(frame, update) != Errc::ok) {
      ++stream_stats.malformed;
      return;
    }
    switch (update.kind) {
      case StreamUpdate::Kind::none:
        return;
      case StreamUpdate::Kind::error:
        // A refused token or subscription: the venue closes it anyway; reconnect with a fresh
        // token after the backoff (growing while it is refused), the reason in the stats.
        ++stream_stats.errors;
        subscribed = false;
        stream->restart(
            "the venue refused the private stream: " + std::string(update.error.name.view()) + " " +
            std::string(update.error.message.view()));
        return;
      case StreamUpdate::Kind::assets:
        ++stream_stats.assets;
        check_balances();
        return;
      case StreamUpdate::Kind::order:
        on_stream_order();
        return;
      case StreamUpdate::Kind::answer:
        on_stream_answer(recv_ns);
        return;
    }
  }

  // The answer to an order request sent on the connection: handled as its REST answer would be,
  // with the rate limits it states.
  void on_stream_answer(std::int64_t recv_ns) noexcept {
    const StreamUpdate::Answer& ans = update.answer;
    for (std::size_t i = 0; i < ans.limit_count; ++i) {
      venue->on_header(ans.limits[i].first, ans.limits[i].second, rate);
    }
    for (const Pending& x : pending) {
      if (!x.used || !x.on_stream || x.tag != ans.tag) continue;
      // The body points into the stream parser's input, which parsing the answer would reuse.
      answer_body.assign(ans.body);
      net::HttpAnswer a;
      a.tag = ans.tag;
      a.status = ans.status;
      a.body = answer_body;
      a.latency_ns = recv_ns - x.sent_ns;
      on_answer(a);
      return;
    }
  }

  // An order event: the fills it adds move the balances; its end reaches exec as an update.
  void on_stream_order() noexcept {
    ++stream_stats.orders;
    OrderStatus& s = update.order;
    const InstrumentId instrument = symbols.find(options.venue, s.symbol.view());
    if (instrument == kNoInstrument || s.client_id.empty()) return;  // not one of ours
    Applied* a = order_record(s.client_id);
    if (a == nullptr) return;  // an order of another process or of an operator
    if (s.final()) a->pushed_end = true;
    if (!update.complete) {
      ++stream_stats.incomplete;  // what it cost is not all known here: a query settles it
      return;
    }
    const bool was_ended = a->ended;
    apply_fills(instrument, s);
    if (!s.final() || was_ended) return;  // exec waits for the end only
    ++stream_stats.fills;
    VenueEvent ev;
    ev.op = VenueOp::update;
    ev.instrument = instrument;
    ev.status = s;
    if (event_count == kEvents) {
      ++stream_stats.events_dropped;  // exec's fallback query settles it
      return;
    }
    push_event(ev);
  }

  // myAsset: with no order of this process working here, what the venue holds free must be
  // what the fills predicted.
  void check_balances() noexcept {
    take_transfers();
    const std::int64_t now = clock::mono_ns();
    for (const Applied& a : applied) {
      if (in_flight(a, now) || ahead_of_stream(a, now)) return;  // the balances are moving
    }
    for (std::size_t i = 0; i < update.asset_count; ++i) {
      const StreamUpdate::Asset& x = update.assets[i];
      const std::string_view currency = x.currency.view();
      std::int64_t expected = 0;
      if (currency == quote_asset()) {
        expected = quote;
      } else if (const InstrumentId id = symbols.find_base(currency); id != kNoInstrument) {
        expected = base[id];
      } else {
        continue;  // an asset this process does not trade
      }
      if (x.balance.mantissa() == expected) {
        ++stream_stats.balance_checks;
        continue;
      }
      ++stream_stats.balance_mismatches;
      char text[120];
      char held[Decimal::kMaxChars], want[Decimal::kMaxChars];
      const FormatResult h = x.balance.to_chars(held, held + sizeof held);
      const FormatResult w = Decimal::from_mantissa(expected).to_chars(want, want + sizeof want);
      const int n =
          std::snprintf(text, sizeof text, "%.*s: the venue holds %.*s, the fills say %.*s",
                        static_cast<int>(currency.size()), currency.data(),
                        static_cast<int>(h.end - held), held, static_cast<int>(w.end - want), want);
      const std::size_t len = n > 0 ? std::min(static_cast<std::size_t>(n), sizeof text - 1) : 0;
      stream_stats.last_mismatch.assign(std::string_view(text, len));
    }
  }

  // A 429 or 418 blocks what it applies to: honour Retry-After; 418 (a ban) likewise, with a
  // longer default. Without it, the venue's own window.
  void note_rate_limit(const Pending& req, const net::HttpAnswer& a) noexcept {
    if (a.transport_error || (a.status != 429 && a.status != 418)) return;
    const std::int64_t wait_ns = rate.retry_after_s > 0 ? rate.retry_after_s * kSecondNs
                                 : a.status == 418      ? 120 * kSecondNs
                                                        : venue->default_block_ns();
    std::int64_t& until = venue->blocks_by_group() && req.op == Op::place ? orders_blocked_until_ns
                                                                          : blocked_until_ns;
    until = std::max(until, clock::mono_ns() + wait_ns);
    rate.retry_after_s = -1;
  }

  // Sends the follow-up written into scratch for the order `ev` describes; without its answer
  // the order's commissions are unknown, and so is the order (exec asks again).
  void ask_follow_up(const Pending& req, VenueEvent& ev) noexcept {
    Pending* p = nullptr;
    if (blocked_until_ns <= clock::mono_ns()) p = track(Op::follow_up, req.instrument, req.id);
    if (p != nullptr && lane(Op::follow_up).submit(scratch.view(), p->tag)) {
      p->origin = ev.op;
      p->latency_ns = ev.latency_ns;
      p->status = ev.status;
      return;
    }
    if (p != nullptr) p->used = false;
    commissions_unknown(ev.status, 0, "its trades could not be asked for");
    push_event(ev);
  }

  void on_follow_up(const Pending& req, const net::HttpAnswer& a) noexcept {
    VenueEvent ev;
    ev.op = req.origin;
    ev.instrument = req.instrument;
    ev.latency_ns = req.latency_ns + a.latency_ns;
    ev.status = req.status;
    OrderStatus& s = ev.status;
    if (a.transport_error || a.status / 100 != 2 ||
        venue->parse_follow_up(a.body, symbols[req.instrument], s) != Errc::ok) {
      commissions_unknown(s, a.status, a.transport_error ? a.what : "trades unreadable");
    } else {
      apply_fills(req.instrument, s);
    }
    push_event(ev);
  }

  static void commissions_unknown(OrderStatus& s, int http_status, std::string_view why) noexcept {
    const ClientOrderId id = s.client_id;
    s = OrderStatus{};
    s.client_id = id;
    s.state = OrderState::unknown;
    s.error.http_status = http_status;
    s.error.message.assign(why);
  }

  // Sends the health probe of an unhealthy venue, at most one a second and one at a time.
  void probe(std::int64_t now) noexcept {
    if (transport_errors < 3 || now < next_probe_ns) return;
    for (const Pending& x : pending) {
      if (x.used && x.op == Op::probe) return;  // one at a time
    }
    next_probe_ns = now + kSecondNs;
    if (venue->probe(scratch)) (void)send(Op::probe, kNoInstrument, ClientOrderId{});
  }

  // An io_context that ran out of work stops; restart it before running it again.
  void run_ready() noexcept {
    if (io.stopped()) io.restart();
    io.poll();
  }

  // Expires what is overdue on both connections and handles every answer they hold.
  void collect(std::int64_t now) noexcept {
    fail_stream_requests(now - std::chrono::nanoseconds(options.request_timeout).count(),
                         "no answer on the websocket within the timeout");
    net::HttpAnswer a;
    for (net::HttpsClient* c : {order_lane.get(), query_lane.get()}) {
      c->expire(now);
      while (c->next(a)) on_answer(a);
    }
  }

  void drive() noexcept {
    run_ready();
    collect(now_ns);
  }

  // Runs the connection until the answer of `tag` has been handled, or the timeouts pass.
  void wait_for(std::uint64_t tag) {
    awaited = tag;
    awaited_done = false;
    const auto deadline =
        std::chrono::steady_clock::now() + options.connect_timeout + options.request_timeout;
    while (!awaited_done && std::chrono::steady_clock::now() < deadline) {
      if (io.stopped()) io.restart();
      io.run_for(std::chrono::milliseconds(5));
      collect(clock::mono_ns());
    }
    awaited = 0;
  }

  // Sends scratch and waits for its answer (start-up and operator calls).
  bool roundtrip(Op op, std::string& body, int& status, std::string& error) {
    Pending* p = track(op, kNoInstrument, ClientOrderId{});
    if (p == nullptr || !lane(op).submit(scratch.view(), p->tag)) {
      error = "request queue full";
      return false;
    }
    wait_for(p->tag);
    if (!awaited_done) {
      error = "no answer within the timeouts";
      return false;
    }
    if (awaited_answer.transport_error) {
      error = std::string(awaited_answer.what) + " failed";
      return false;
    }
    status = awaited_answer.status;
    body = awaited_body;
    return true;
  }

  // A blocking order call: writes scratch already; waits; parses.
  bool order_call(Op op, InstrumentId instrument, const ClientOrderId& id, OrderStatus& out,
                  std::string& error) {
    // A blocking call honours a 429's block as the polled ones do: continuing is what gets a
    // ban. The caller learns it was rate limited and when it may ask again.
    const std::int64_t now = clock::mono_ns();
    const std::int64_t until = std::max(blocked_until_ns, op == Op::place ? orders_blocked_until_ns
                                                                          : std::int64_t{0});
    if (until > now) {
      out = OrderStatus{};
      out.client_id = id;
      out.state = OrderState::unknown;
      out.error.kind = VenueErrorKind::rate_limited;
      out.error.http_status = 429;
      error = "rate limited for " + std::to_string((until - now) / 1'000'000) + " ms more";
      return false;
    }
    Pending* p = track(op, instrument, id);
    if (p == nullptr || !lane(op).submit(scratch.view(), p->tag)) {
      error = "request queue full";
      return false;
    }
    wait_for(p->tag);
    // An answer without its commissions waits for its follow-up: wait for that too.
    for (const Pending& x : pending) {
      if (x.used && x.op == Op::follow_up && x.id == id) {
        wait_for(x.tag);
        break;
      }
    }
    VenueEvent ev;
    bool found = false;
    while (event_count > 0) {
      ev = events[event_head];
      event_head = (event_head + 1) % kEvents;
      --event_count;
      if (ev.status.client_id == id) found = true;
    }
    if (!found) {
      error = awaited_done ? "unreadable answer" : "no answer within the timeouts";
      return false;
    }
    out = ev.status;
    if (out.state == OrderState::unknown) {
      error = "outcome unknown (" + std::string(out.error.message.view()) +
              "): query the order by its client id";
      return false;
    }
    if (out.state == OrderState::rejected && out.error.present()) {
      error = venue->describe(out.error.http_status, awaited_body);
      return false;
    }
    return true;
  }
};

std::string_view request_target(std::string_view request) noexcept {
  const std::size_t from = request.find(' ');
  if (from == std::string_view::npos) return {};
  const std::size_t to = request.find(' ', from + 1);
  return request.substr(from + 1, to == std::string_view::npos ? to : to - from - 1);
}

bool load_recorded_rules(const SymbolMap& symbols, const RestVenueOptions& options,
                         const RecordedAnswer& answer, RulesTable& rules, std::string& error) {
  const adapters::ExecVenue* row = adapters::find(options.venue);
  net::Url endpoint;
  if (row == nullptr || !net::parse_url(options.rest_url, "https://", endpoint, error)) {
    if (row == nullptr) error = "no REST adapter for venue " + std::string(to_string(options.venue));
    return false;
  }
  const std::unique_ptr<adapters::RestAdapter> adapter = row->make_rest(options, endpoint);
  HttpRequestText scratch;
  const adapters::Roundtrip roundtrip = [&](int& status, std::string& body, std::string& e) {
    const std::string_view target = request_target(scratch.view());
    if (!answer(target, body)) {
      e = "the recording holds no answer to " + std::string(target.substr(0, target.find('?')));
      return false;
    }
    status = 200;
    return true;
  };
  return adapter->start(symbols, rules, scratch, roundtrip, error);
}

RestVenue::RestVenue(const SymbolMap& symbols, RestVenueOptions options)
    : impl_(std::make_unique<Impl>(symbols, std::move(options))) {
  Impl& m = *impl_;
  const adapters::ExecVenue* exec_venue = adapters::find(m.options.venue);
  if (exec_venue == nullptr) {
    throw std::invalid_argument(std::string("no REST adapter for venue ") +
                                std::string(to_string(m.options.venue)));
  }
  std::string url_error;
  if (!net::parse_url(m.options.rest_url, "https://", m.endpoint, url_error)) {
    throw std::invalid_argument(url_error);
  }
  m.venue = exec_venue->make_rest(m.options, m.endpoint);
  m.tls = net::make_client_tls(m.options.ca_file);
  m.answer_body.reserve(64 * 1024);
  const net::HeaderSink headers = [&m](std::string_view name, std::string_view value) {
    m.venue->on_header(name, value, m.rate);
  };
  net::HttpsClientOptions lane_options;
  lane_options.connect_timeout = m.options.connect_timeout;
  lane_options.request_timeout = m.options.request_timeout;
  lane_options.max_request_bytes = HttpRequestText::capacity();
  lane_options.max_idle = m.options.connection_max_idle;
  m.order_lane =
      std::make_unique<net::HttpsClient>(m.io, *m.tls, m.endpoint, lane_options, headers);
  m.query_lane =
      std::make_unique<net::HttpsClient>(m.io, *m.tls, m.endpoint, lane_options, headers);
  // The private stream: where the adapter has one, it is wanted and there are keys to open it.
  const std::string_view path = m.venue->private_stream_path();
  if (m.options.private_stream && !path.empty() && m.options.credentials.present() &&
      (!m.options.private_ws_url.empty() || !m.options.ws_url.empty())) {
    net::Url url;
    if (!m.options.private_ws_url.empty()) {
      url = net::parse_url(m.options.private_ws_url, "wss://");
    } else {
      url = net::parse_url(m.options.ws_url, "wss://");
      url.target = std::string(path);  // on the public websocket's host
    }
    m.stream_url = "wss://" + url.host_header() + url.target;
    net::WsClientOptions ws_options;
    ws_options.connect_timeout = m.options.connect_timeout;
    m.venue->tune_stream(ws_options);
    m.stream = std::make_unique<net::WsClient>(m.io, *m.tls, std::move(url), ws_options,
                                               m.stream_handler, m.stream_stats.ws);
  }
}

RestVenue::~RestVenue() = default;

bool RestVenue::start(std::string& error) {
  Impl& m = *impl_;
  const std::string where = std::string(to_string(m.options.venue)) + " " + m.options.rest_url;
  m.order_lane->connect();
  m.query_lane->connect();
  const adapters::Roundtrip roundtrip = [&m](int& status, std::string& body, std::string& e) {
    if (!m.roundtrip(Op::start, body, status, e)) return false;
    if (status == 200 && m.options.on_startup_answer) {
      m.options.on_startup_answer(request_target(m.scratch.view()), body);
    }
    return true;
  };
  if (!m.venue->start(m.symbols, m.rules, m.scratch, roundtrip, error)) {
    error = where + ": " + error;
    return false;
  }
  if (m.options.credentials.present()) {
    std::vector<AssetBalance> balances;
    if (!read_balances(balances, error)) {
      error = where + ": balances: " + error;
      return false;
    }
  }
  // The private stream connects in the background (poll() drives it); until it is up, orders
  // are settled by queries.
  if (m.stream) m.stream->start();
  return true;
}

bool RestVenue::read_balances(std::vector<AssetBalance>& out, std::string& error) {
  Impl& m = *impl_;
  std::string body;
  int status = 0;
  if (!m.venue->balances(m.scratch) || !m.roundtrip(Op::account, body, status, error)) {
    return false;
  }
  if (status / 100 != 2) {
    error = m.venue->describe(status, body);
    return false;
  }
  out.clear();
  if (m.venue->parse_balances(body, out) != Errc::ok) {
    error = "unreadable balances answer";
    return false;
  }
  m.base.fill(0);
  m.quote = 0;
  m.balances = out;
  for (const AssetBalance& b : out) {
    if (b.asset == m.quote_asset()) m.quote = b.free.mantissa();
    const InstrumentId id = m.symbols.find_base(b.asset);
    if (id != kNoInstrument) m.base[id] = b.free.mantissa();
  }
  return true;
}

bool RestVenue::read_open_orders(std::vector<OpenOrder>& out, std::string& error) {
  Impl& m = *impl_;
  std::string body;
  int status = 0;
  if (!m.venue->open_orders(m.scratch) || !m.roundtrip(Op::open_orders, body, status, error)) {
    return false;
  }
  if (status / 100 != 2) {
    error = m.venue->describe(status, body);
    return false;
  }
  out.clear();
  if (m.venue->parse_open_orders(body, out) != Errc::ok) {
    error = "unreadable open orders answer";
    return false;
  }
  return true;
}

bool RestVenue::place_blocking(const OrderRequest& order, OrderStatus& out, std::string& error) {
  Impl& m = *impl_;
  const std::int64_t now = clock::mono_ns();
  auto* record = m.free_record(now);
  if (record == nullptr) {
    error = "every order record holds an order that may still fill";
    return false;
  }
  if (!m.venue->place(order, m.symbol(order.instrument), m.scratch)) {
    error = "the order does not fit the request buffer";
    return false;
  }
  m.remember(*record, order, now);
  return m.order_call(Op::place, order.instrument, order.client_id, out, error);
}

bool RestVenue::get_blocking(InstrumentId instrument, const ClientOrderId& id, OrderStatus& out,
                             std::string& error) {
  Impl& m = *impl_;
  if (!m.venue->query(m.symbol(instrument), id, m.scratch)) {
    error = "request too long";
    return false;
  }
  return m.order_call(Op::query, instrument, id, out, error);
}

bool RestVenue::cancel_blocking(InstrumentId instrument, const ClientOrderId& id, OrderStatus& out,
                                std::string& error) {
  Impl& m = *impl_;
  if (!m.venue->cancel(m.symbol(instrument), id, m.scratch)) {
    error = "request too long";
    return false;
  }
  return m.order_call(Op::cancel, instrument, id, out, error);
}

Venue RestVenue::venue() const noexcept { return impl_->options.venue; }

bool RestVenue::place(const OrderRequest& order, std::span<const Level> book) noexcept {
  (void)book;
  Impl& m = *impl_;
  if (order.instrument >= m.symbols.size()) return false;
  const std::int64_t now = clock::mono_ns();
  auto* record = m.free_record(now);
  if (record == nullptr) return false;  // tried again at the next poll
  const std::string_view symbol = m.symbol(order.instrument);
  const bool sent = m.send_stream(Op::place, order.instrument, order.client_id,
                                  [&](std::uint64_t tag, WsRequestText& out) {
                                    return m.venue->stream_place(order, symbol, tag, out);
                                  }) ||
                    (m.venue->place(order, symbol, m.scratch) &&
                     m.send(Op::place, order.instrument, order.client_id));
  if (!sent) return false;
  m.remember(*record, order, now);
  return true;
}

bool RestVenue::query(InstrumentId instrument, const ClientOrderId& id) noexcept {
  Impl& m = *impl_;
  if (instrument >= m.symbols.size()) return false;
  const std::string_view symbol = m.symbol(instrument);
  return m.send_stream(Op::query, instrument, id, [&](std::uint64_t tag, WsRequestText& out) {
    return m.venue->stream_query(symbol, id, tag, out);
  }) || (m.venue->query(symbol, id, m.scratch) && m.send(Op::query, instrument, id));
}

bool RestVenue::cancel(InstrumentId instrument, const ClientOrderId& id) noexcept {
  Impl& m = *impl_;
  if (instrument >= m.symbols.size()) return false;
  const std::string_view symbol = m.symbol(instrument);
  return m.send_stream(Op::cancel, instrument, id, [&](std::uint64_t tag, WsRequestText& out) {
    return m.venue->stream_cancel(symbol, id, tag, out);
  }) || (m.venue->cancel(symbol, id, m.scratch) && m.send(Op::cancel, instrument, id));
}

void RestVenue::poll(std::int64_t now_ns) noexcept {
  Impl& m = *impl_;
  m.now_ns = now_ns;
  if (m.venue->upkeep(now_ns, m.scratch) && !m.send(Op::upkeep, kNoInstrument, ClientOrderId{})) {
    m.venue->upkeep_not_sent();  // tried again at the next poll
  }
  m.probe(now_ns);
  m.take_transfers();
  m.drive();
}

bool RestVenue::next_event(VenueEvent& out) noexcept {
  Impl& m = *impl_;
  if (m.event_count == 0) return false;
  out = m.events[m.event_head];
  m.event_head = (m.event_head + 1) % Impl::kEvents;
  --m.event_count;
  return true;
}

const InstrumentRules& RestVenue::rules(InstrumentId instrument) const noexcept {
  return impl_->rules.at(impl_->options.venue, instrument);
}

RateBudget RestVenue::budget(std::int64_t now_ns) const noexcept {
  const Impl& m = *impl_;
  RateBudget b;
  // What blocks an order: the venue-wide block, or its order group's.
  const std::int64_t until = std::max(m.blocked_until_ns, m.orders_blocked_until_ns);
  b.blocked_until_ns = until > now_ns ? until : 0;
  m.venue->order_budget(now_ns, m.rate, b);
  return b;
}

bool RestVenue::healthy() const noexcept { return impl_->transport_errors < 3; }

bool RestVenue::streaming() const noexcept {
  const Impl& m = *impl_;
  return m.stream && m.stream->connected() && m.subscribed && m.reconciling == 0;
}

const StreamStats* RestVenue::stream() const noexcept {
  return impl_->stream ? &impl_->stream_stats : nullptr;
}

const std::string& RestVenue::private_stream_url() const noexcept { return impl_->stream_url; }
std::uint64_t RestVenue::stream_requests() const noexcept { return impl_->stream_stats.requests; }
const StreamStats& RestVenue::stream_stats() const noexcept { return impl_->stream_stats; }

std::int64_t RestVenue::not_found_grace_ns() const noexcept {
  return impl_->venue->not_found_grace_ns();
}

Decimal RestVenue::free_base(InstrumentId instrument) const noexcept {
  return Decimal::from_mantissa(impl_->base[instrument]);
}

Decimal RestVenue::free_quote() const noexcept { return Decimal::from_mantissa(impl_->quote); }

void RestVenue::note_transfer(InstrumentId instrument, Decimal qty) noexcept {
  if (instrument == kNoInstrument) {
    impl_->moved_quote.fetch_add(qty.mantissa(), std::memory_order_relaxed);
  } else if (instrument < kMaxInstruments) {
    impl_->moved_base[instrument].fetch_add(qty.mantissa(), std::memory_order_relaxed);
  }
  impl_->moved.store(true, std::memory_order_release);
}

std::optional<std::int64_t> RestVenue::time_offset_ms() const noexcept {
  return impl_->venue->time_offset_ms();
}

Decimal RestVenue::read_free(std::string_view asset) const {
  for (const AssetBalance& b : impl_->balances) {
    if (b.asset == asset) return b.free;
  }
  return Decimal{};
}
const RateLimitState& RestVenue::rate_limits() const noexcept { return impl_->rate; }
RulesTable& RestVenue::rules_table() noexcept { return impl_->rules; }

}  // namespace xarb::exec
