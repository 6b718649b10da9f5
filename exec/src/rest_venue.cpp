#include <algorithm>

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
};

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
  };
  // Orders placed from here: their side, and how much of their fill the balances include.
  struct Applied {
    ClientOrderId id;
    Side side = Side::buy;
    std::int64_t qty = 0;
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
  std::size_t applied_next = 0;
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
        p = Pending{true, next_tag++, op, instrument, id, clock::wall_ms(), {}, 0, {}};
        return &p;
      }
    }
    return nullptr;
  }

  bool send(Op op, InstrumentId instrument, const ClientOrderId& id) noexcept {
    // After a 429 nothing goes out until Retry-After has passed: continuing is what gets an IP
    // banned (418).
    const std::int64_t now = clock::mono_ns();
    const bool blocked =
        blocked_until_ns > now || (op == Op::place && orders_blocked_until_ns > now);
    if (blocked && op != Op::upkeep) return false;
    Pending* p = track(op, instrument, id);
    if (p == nullptr) return false;
    if (!lane(op).submit(scratch.view(), p->tag)) {
      p->used = false;
      return false;
    }
    return true;
  }

  void push_event(const VenueEvent& e) noexcept {
    if (event_count == kEvents) return;  // cannot happen: bounded by kPending
    events[(event_head + event_count) % kEvents] = e;
    ++event_count;
  }

  Applied* order_record(const ClientOrderId& id) noexcept {
    for (Applied& x : applied) {
      if (!x.id.empty() && x.id == id) return &x;
    }
    return nullptr;
  }
  void remember(const ClientOrderId& id, Side side) noexcept {
    applied[applied_next] = Applied{id, side, 0};
    applied_next = (applied_next + 1) % kApplied;
  }

  // Moves the balances by what an answer adds to the fill already applied for that order.
  void apply_fills(const Pending& p, const OrderStatus& s) noexcept {
    if (p.instrument >= kMaxInstruments || !s.filled_qty.is_positive()) return;
    Applied* a = order_record(s.client_id);
    if (a == nullptr) return;  // not an order of this process (an operator's query)
    const std::int64_t delta = s.filled_qty.mantissa() - a->qty;
    if (delta <= 0) return;
    a->qty = s.filled_qty.mantissa();
    const Int128 notional = s.filled_notional_e16 * delta / s.filled_qty.mantissa();
    const auto notional_m = static_cast<std::int64_t>(notional / Decimal::kOne);
    const bool buy = a->side == Side::buy;
    base[p.instrument] += buy ? delta : -delta;
    quote += buy ? -notional_m : notional_m;
    // Commission is charged on each fill; the share of this delta.
    quote -= static_cast<std::int64_t>(static_cast<Int128>(s.fee_quote.mantissa()) * delta /
                                       s.filled_qty.mantissa());
    base[p.instrument] -= static_cast<std::int64_t>(static_cast<Int128>(s.fee_base.mantissa()) *
                                                    delta / s.filled_qty.mantissa());
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
    if (req.op != Op::place && req.op != Op::query && req.op != Op::cancel) return;
    VenueEvent ev;
    ev.op = req.op == Op::place   ? VenueOp::place
            : req.op == Op::query ? VenueOp::query
                                  : VenueOp::cancel;
    ev.instrument = req.instrument;
    ev.latency_ns = a.latency_ns;
    OrderStatus& s = ev.status;
    s.client_id = req.id;
    if (a.transport_error || a.status >= 500) {
      // No answer, or the venue does not know: the order may exist. Exec queries it.
      s.state = OrderState::unknown;
      s.error.http_status = a.status;
      s.error.message.assign(a.transport_error ? a.what : std::string_view("server error"));
      classify(options.venue, s.error);
      push_event(ev);
      return;
    }
    note_rate_limit(req, a);
    if (a.status / 100 != 2) {
      s.state = OrderState::rejected;
      s.error.http_status = a.status;
      (void)venue->parse_error(a.body, s.error);
      venue->on_rejected(s.error);
      push_event(ev);
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
      apply_fills(req, s);
    }
    push_event(ev);
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
      apply_fills(req, s);
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
}

RestVenue::~RestVenue() = default;

bool RestVenue::start(std::string& error) {
  Impl& m = *impl_;
  const std::string where = std::string(to_string(m.options.venue)) + " " + m.options.rest_url;
  m.order_lane->connect();
  m.query_lane->connect();
  const adapters::Roundtrip roundtrip = [&m](int& status, std::string& body, std::string& e) {
    return m.roundtrip(Op::start, body, status, e);
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
  if (!m.venue->place(order, m.symbol(order.instrument), m.scratch)) {
    error = "the order does not fit the request buffer";
    return false;
  }
  m.remember(order.client_id, order.side);
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
  if (!m.venue->place(order, m.symbol(order.instrument), m.scratch) ||
      !m.send(Op::place, order.instrument, order.client_id)) {
    return false;
  }
  m.remember(order.client_id, order.side);
  return true;
}

bool RestVenue::query(InstrumentId instrument, const ClientOrderId& id) noexcept {
  Impl& m = *impl_;
  if (instrument >= m.symbols.size()) return false;
  return m.venue->query(m.symbol(instrument), id, m.scratch) && m.send(Op::query, instrument, id);
}

bool RestVenue::cancel(InstrumentId instrument, const ClientOrderId& id) noexcept {
  Impl& m = *impl_;
  if (instrument >= m.symbols.size()) return false;
  return m.venue->cancel(m.symbol(instrument), id, m.scratch) && m.send(Op::cancel, instrument, id);
}

void RestVenue::poll(std::int64_t now_ns) noexcept {
  Impl& m = *impl_;
  m.now_ns = now_ns;
  if (m.venue->upkeep(now_ns, m.scratch) && !m.send(Op::upkeep, kNoInstrument, ClientOrderId{})) {
    m.venue->upkeep_not_sent();  // tried again at the next poll
  }
  m.probe(now_ns);
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

std::int64_t RestVenue::not_found_grace_ns() const noexcept {
  return impl_->venue->not_found_grace_ns();
}

Decimal RestVenue::free_base(InstrumentId instrument) const noexcept {
  return Decimal::from_mantissa(impl_->base[instrument]);
}

Decimal RestVenue::free_quote() const noexcept { return Decimal::from_mantissa(impl_->quote); }

std::int64_t RestVenue::time_offset_ms() const noexcept { return impl_->venue->time_offset_ms(); }

Decimal RestVenue::read_free(std::string_view asset) const {
  for (const AssetBalance& b : impl_->balances) {
    if (b.asset == asset) return b.free;
  }
  return Decimal{};
}
const RateLimitState& RestVenue::rate_limits() const noexcept { return impl_->rate; }
RulesTable& RestVenue::rules_table() noexcept { return impl_->rules; }

}  // namespace xarb::exec
