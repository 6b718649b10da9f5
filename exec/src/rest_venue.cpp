#include <algorithm>
#include <optional>

#include <xarb/core/clock.hpp>
#include <xarb/exec/rest_venue.hpp>
#include <xarb/net/https_client.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {
namespace {

enum class Op : std::uint8_t {
  place,
  query,
  cancel,
  time,
  exchange_info,
  instruments,
  account,
  open_orders,
  trades,  // GET /api/v3/myTrades: the commissions of an order answer that had no fills
};

constexpr std::int64_t kSecondNs = 1'000'000'000;

std::int64_t wall_ms() noexcept { return clock::wall_ns() / 1'000'000; }

}  // namespace

struct RestVenue::Impl {
  struct Pending {
    bool used = false;
    std::uint64_t tag = 0;
    Op op = Op::place;
    InstrumentId instrument = kNoInstrument;
    ClientOrderId id;
    std::int64_t sent_wall_ms = 0;
    // Op::trades: the order answer waiting for its commissions, and what asked for it.
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

  const SymbolMap& symbols;
  RestVenueOptions options;
  net::Url endpoint;
  net::asio::io_context io{1};
  std::unique_ptr<net::ssl::context> tls;
  // Two kept-alive connections: orders go out on their own, so that an order never waits behind
  // a query, a cancel, a time sync or a balance read in flight on the same venue.
  std::unique_ptr<net::HttpsClient> order_lane;
  std::unique_ptr<net::HttpsClient> query_lane;
  std::optional<BinanceApi> binance;
  std::optional<UpbitApi> upbit;
  BinanceParser binance_parser;
  UpbitParser upbit_parser;
  RulesTable rules;
  RateLimitState rate;
  std::int64_t rate_seen_ns = 0;         // when the last order-count header arrived
  std::int64_t order_remaining_sec = -1;  // Upbit: Remaining-Req sec= of the "order" group
  std::int64_t offset_ms = 0;
  std::int64_t next_sync_ns = 0;
  std::int64_t now_ns = 0;
  std::int64_t blocked_until_ns = 0;
  // Upbit limits per group: a 429 on an order blocks orders (the "order" group) only; queries,
  // cancels and balances (the "default" group) go on, and the reverse.
  std::int64_t orders_blocked_until_ns = 0;
  int transport_errors = 0;
  // An unhealthy venue (three transport errors in a row) is probed with a cheap public request
  // every second until it answers: nothing else may be sent to it, so without the probe it
  // would stay unhealthy for good.
  std::int64_t next_probe_ns = 0;
  std::string probe_markets;  // Upbit: the first market, for GET /v1/orderbook/instruments
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

  [[nodiscard]] bool is_binance() const noexcept { return options.venue == venues::kBinance; }
  [[nodiscard]] net::HttpsClient& lane(Op op) noexcept {
    return op == Op::place ? *order_lane : *query_lane;
  }
  [[nodiscard]] std::string_view quote_asset() const noexcept {
    return venues::quote_asset(options.venue);
  }

  Pending* track(Op op, InstrumentId instrument, const ClientOrderId& id) noexcept {
    for (Pending& p : pending) {
      if (!p.used) {
        p = Pending{true, next_tag++, op, instrument, id, wall_ms(), {}, 0, {}};
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
    if (blocked && op != Op::time) return false;
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
    if (req.op == Op::time) {
      std::int64_t server = 0;
      if (!a.transport_error && a.status / 100 == 2 &&
          binance_parser.parse_server_time(a.body, server) == Errc::ok) {
        // The server read its clock about halfway through the round trip.
        offset_ms = server - (req.sent_wall_ms + wall_ms()) / 2;
      }
      return;
    }
    if (req.op == Op::trades) {
      note_rate_limit(req, a);
      on_trades(req, a);
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
      if (is_binance()) {
        (void)binance_parser.parse_error(a.body, s.error);
        if (s.error.code == -1021) next_sync_ns = 0;  // timestamp outside recvWindow: resync
      } else {
        (void)upbit_parser.parse_error(a.body, s.error);
      }
      classify(options.venue, s.error);
      push_event(ev);
      return;
    }
    const ClientOrderId asked = s.client_id;
    const Errc e = is_binance() ? binance_parser.parse_order(
                                      a.body, symbols[req.instrument].base.view(), quote_asset(), s)
                                : upbit_parser.parse_order(a.body, s);
    // An order is (venue, symbol, client id): an answer about another symbol (Upbit looks orders
    // up by identifier alone) or another id is never a fill of the order asked about.
    const std::string_view want =
        req.instrument < symbols.size()
            ? (is_binance() ? symbols[req.instrument].symbol(venues::kBinance)
                            : symbols[req.instrument].symbol(venues::kUpbit))
            : std::string_view{};
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
      s.state = OrderState::unknown;  // an answer we cannot read: ask again
      s.error.http_status = a.status;
      s.error.message.assign("unreadable answer");
    } else {
      if (s.client_id.empty()) s.client_id = asked;
      // Upbit lists paid_fee. Binance's GET and DELETE answers list no fills, hence no
      // commission, nor the asset it was charged in (the base on a buy, the quote on a sell,
      // or BNB): the order's trades say, and the answer waits for them.
      if (!s.fills_known && is_binance() && s.filled_qty.is_positive()) {
        ask_trades(req, ev);
        return;
      }
      apply_fills(req, s);
    }
    push_event(ev);
  }

  // A 429 or 418 blocks what it applies to: honour Retry-After; 418 (a ban) likewise, with a
  // longer default. Without it: Binance's limits are per IP over a minute; Upbit's per group and
  // per second, so its own window.
  void note_rate_limit(const Pending& req, const net::HttpAnswer& a) noexcept {
    if (a.transport_error || (a.status != 429 && a.status != 418)) return;
    const std::int64_t wait_ns = rate.retry_after_s > 0 ? rate.retry_after_s * kSecondNs
                                 : a.status == 418      ? 120 * kSecondNs
                                 : is_binance()         ? 60 * kSecondNs
                                                        : kSecondNs;
    std::int64_t& until =
        !is_binance() && req.op == Op::place ? orders_blocked_until_ns : blocked_until_ns;
    until = std::max(until, clock::mono_ns() + wait_ns);
    rate.retry_after_s = -1;
  }

  // Asks for the trades of the order `ev` describes; without them its commissions are unknown,
  // and so is the order (exec asks again).
  void ask_trades(const Pending& req, VenueEvent& ev) noexcept {
    const std::int64_t now = clock::mono_ns();
    Pending* p = nullptr;
    if (req.instrument < symbols.size() && blocked_until_ns <= now &&
        binance->my_trades(symbols[req.instrument].symbol(venues::kBinance),
                           ev.status.venue_id.view(), wall_ms() + offset_ms, scratch)) {
      p = track(Op::trades, req.instrument, req.id);
    }
    if (p != nullptr && lane(Op::trades).submit(scratch.view(), p->tag)) {
      p->origin = ev.op;
      p->latency_ns = ev.latency_ns;
      p->status = ev.status;
      return;
    }
    if (p != nullptr) p->used = false;
    commissions_unknown(ev.status, 0, "its trades could not be asked for");
    push_event(ev);
  }

  void on_trades(const Pending& req, const net::HttpAnswer& a) noexcept {
    VenueEvent ev;
    ev.op = req.origin;
    ev.instrument = req.instrument;
    ev.latency_ns = req.latency_ns + a.latency_ns;
    ev.status = req.status;
    OrderStatus& s = ev.status;
    if (a.transport_error || a.status / 100 != 2 ||
        binance_parser.parse_trades(a.body, symbols[req.instrument].base.view(), quote_asset(),
                                    s) != Errc::ok) {
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
      if (x.used && (x.op == Op::time || x.op == Op::instruments)) return;  // one at a time
    }
    next_probe_ns = now + kSecondNs;
    if (is_binance()) {
      if (binance->server_time(scratch)) (void)send(Op::time, kNoInstrument, ClientOrderId{});
    } else if (!probe_markets.empty() && upbit->instruments(probe_markets, scratch)) {
      (void)send(Op::instruments, kNoInstrument, ClientOrderId{});
    }
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

  std::string venue_error(int status, const std::string& body) {
    VenueError e;
    const bool parsed =
        is_binance() ? binance_parser.parse_error(body, e) : upbit_parser.parse_error(body, e);
    std::string out("HTTP ");
    out.append(std::to_string(status));
    if (parsed) {
      if (e.code != 0) out.append(" code ").append(std::to_string(e.code));
      if (!e.name.empty()) out.append(" ").append(e.name.view());
      if (!e.message.empty()) out.append(": ").append(e.message.view());
    } else if (!body.empty()) {
      out.append(": ").append(body, 0, std::min<std::size_t>(body.size(), 200));
    }
    return out;
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
    // A Binance answer without fills waits for its trades (the commissions): wait for them too.
    for (const Pending& x : pending) {
      if (x.used && x.op == Op::trades && x.id == id) {
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
      error = venue_error(out.error.http_status, awaited_body);
      return false;
    }
    return true;
  }
};

RestVenue::RestVenue(const SymbolMap& symbols, RestVenueOptions options)
    : impl_(std::make_unique<Impl>(symbols, std::move(options))) {
  Impl& m = *impl_;
  std::string url_error;
  if (!net::parse_url(m.options.rest_url, "https://", m.endpoint, url_error)) {
    throw std::invalid_argument(url_error);
  }
  m.tls = net::make_client_tls(m.options.ca_file);
  const net::HeaderSink headers = [&m](std::string_view name, std::string_view value) {
    // Counts belong to their windows: remember when each was seen (budget() expires them).
    if (m.is_binance()) {
      binance_header(name, value, m.rate);
      m.rate_seen_ns = clock::mono_ns();
    } else {
      upbit_header(name, value, m.rate);
      if (m.rate.remaining_group.view() == "order") {
        m.order_remaining_sec = m.rate.remaining_sec;
        m.rate_seen_ns = clock::mono_ns();
      }
    }
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
  if (m.is_binance()) {
    m.binance.emplace(m.options.credentials, m.endpoint, m.options.recv_window_ms);
  } else {
    m.upbit.emplace(m.options.credentials, m.endpoint);
  }
}

RestVenue::~RestVenue() = default;

bool RestVenue::start(std::string& error) {
  Impl& m = *impl_;
  const std::string where = std::string(to_string(m.options.venue)) + " " + m.options.rest_url;
  m.order_lane->connect();
  m.query_lane->connect();
  std::string body;
  int status = 0;
  if (m.is_binance()) {
    if (!m.binance->server_time(m.scratch) || !m.roundtrip(Op::time, body, status, error)) {
      error = where + ": server time: " + error;
      return false;
    }
    if (status / 100 != 2) {
      error = where + ": server time: " + m.venue_error(status, body);
      return false;
    }
    m.next_sync_ns = clock::mono_ns() + m.options.time_sync_interval_ns;
    std::string list = "[";
    for (const Instrument& i : m.symbols) {
      if (i.symbol(venues::kBinance).empty()) continue;
      if (list.size() > 1) list += ',';
      list += '"';
      list += i.symbol(venues::kBinance);
      list += '"';
    }
    list += "]";
    if (!m.binance->exchange_info(list, m.scratch) ||
        !m.roundtrip(Op::exchange_info, body, status, error)) {
      error = where + ": exchangeInfo: " + error;
      return false;
    }
    if (status / 100 != 2) {
      error = where + ": exchangeInfo: " + m.venue_error(status, body);
      return false;
    }
    std::string parse_error;
    load_binance_rules(body, m.symbols, m.rules, parse_error);
    for (const Instrument& i : m.symbols) {
      if (!i.symbol(venues::kBinance).empty() && !m.rules.at(venues::kBinance, i.id).loaded) {
        error = where + ": exchangeInfo has no trading rules for " +
                std::string(i.symbol(venues::kBinance)) +
                (parse_error.empty() ? "" : " (" + parse_error + ")");
        return false;
      }
    }
  } else {
    load_upbit_default_rules(m.symbols, m.rules);
    std::string markets;
    for (const Instrument& i : m.symbols) {
      if (i.symbol(venues::kUpbit).empty()) continue;
      if (!markets.empty()) markets += ",";
      markets += std::string(i.symbol(venues::kUpbit));
      if (m.probe_markets.empty()) m.probe_markets = std::string(i.symbol(venues::kUpbit));
    }
    // The instruments endpoint is newer than the table; when it does not answer, the table is
    // the fallback (docs/venues.md).
    if (m.upbit->instruments(markets, m.scratch) &&
        m.roundtrip(Op::instruments, body, status, error) && status / 100 == 2) {
      std::string parse_error;
      (void)load_upbit_instruments(body, m.symbols, m.rules, parse_error);
    }
    error.clear();
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
  const bool written = m.is_binance() ? m.binance->account(wall_ms() + m.offset_ms, m.scratch)
                                      : m.upbit->accounts(m.scratch);
  if (!written || !m.roundtrip(Op::account, body, status, error)) return false;
  if (status / 100 != 2) {
    error = m.venue_error(status, body);
    return false;
  }
  out.clear();
  if (m.is_binance()) {
    std::vector<Balance> list;
    if (m.binance_parser.parse_account(body, list) != Errc::ok) {
      error = "unreadable account answer";
      return false;
    }
    for (const Balance& b : list) out.push_back({b.asset, b.free, b.locked});
  } else {
    std::vector<UpbitAccount> list;
    if (m.upbit_parser.parse_accounts(body, list) != Errc::ok) {
      error = "unreadable accounts answer";
      return false;
    }
    for (const UpbitAccount& a : list) out.push_back({a.currency, a.balance, a.locked});
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
  const bool written = m.is_binance()
                           ? m.binance->open_orders("", wall_ms() + m.offset_ms, m.scratch)
                           : m.upbit->open_orders("", m.scratch);
  if (!written || !m.roundtrip(Op::open_orders, body, status, error)) return false;
  if (status / 100 != 2) {
    error = m.venue_error(status, body);
    return false;
  }
  std::vector<OrderStatus> orders;
  std::vector<std::string> names;
  const Errc e = m.is_binance() ? m.binance_parser.parse_open_orders(body, orders, names)
                                : m.upbit_parser.parse_orders(body, orders, names);
  if (e != Errc::ok) {
    error = "unreadable open orders answer";
    return false;
  }
  out.clear();
  for (std::size_t i = 0; i < orders.size(); ++i) out.push_back({names[i], orders[i]});
  return true;
}

bool RestVenue::place_blocking(const OrderRequest& order, OrderStatus& out, std::string& error) {
  Impl& m = *impl_;
  const Instrument& i = m.symbols[order.instrument];
  const bool written = m.is_binance()
                           ? m.binance->new_order(order, i.symbol(venues::kBinance),
                                                  wall_ms() + m.offset_ms, m.scratch)
                           : m.upbit->new_order(order, i.symbol(venues::kUpbit), m.scratch);
  if (!written) {
    error = "the order does not fit the request buffer";
    return false;
  }
  m.remember(order.client_id, order.side);
  return m.order_call(Op::place, order.instrument, order.client_id, out, error);
}

bool RestVenue::get_blocking(InstrumentId instrument, const ClientOrderId& id, OrderStatus& out,
                             std::string& error) {
  Impl& m = *impl_;
  const bool written = m.is_binance()
                           ? m.binance->query_order(m.symbols[instrument].symbol(venues::kBinance),
                                                    id.view(), wall_ms() + m.offset_ms, m.scratch)
                           : m.upbit->get_order(id.view(), m.scratch);
  if (!written) {
    error = "request too long";
    return false;
  }
  return m.order_call(Op::query, instrument, id, out, error);
}

bool RestVenue::cancel_blocking(InstrumentId instrument, const ClientOrderId& id, OrderStatus& out,
                                std::string& error) {
  Impl& m = *impl_;
  const bool written = m.is_binance()
                           ? m.binance->cancel_order(m.symbols[instrument].symbol(venues::kBinance),
                                                     id.view(), wall_ms() + m.offset_ms, m.scratch)
                           : m.upbit->cancel_order(id.view(), m.scratch);
  if (!written) {
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
  const Instrument& i = m.symbols[order.instrument];
  const bool written = m.is_binance()
                           ? m.binance->new_order(order, i.symbol(venues::kBinance),
                                                  wall_ms() + m.offset_ms, m.scratch)
                           : m.upbit->new_order(order, i.symbol(venues::kUpbit), m.scratch);
  if (!written || !m.send(Op::place, order.instrument, order.client_id)) return false;
  m.remember(order.client_id, order.side);
  return true;
}

bool RestVenue::query(InstrumentId instrument, const ClientOrderId& id) noexcept {
  Impl& m = *impl_;
  if (instrument >= m.symbols.size()) return false;
  const bool written = m.is_binance()
                           ? m.binance->query_order(m.symbols[instrument].symbol(venues::kBinance),
                                                    id.view(), wall_ms() + m.offset_ms, m.scratch)
                           : m.upbit->get_order(id.view(), m.scratch);
  return written && m.send(Op::query, instrument, id);
}

bool RestVenue::cancel(InstrumentId instrument, const ClientOrderId& id) noexcept {
  Impl& m = *impl_;
  if (instrument >= m.symbols.size()) return false;
  const bool written = m.is_binance()
                           ? m.binance->cancel_order(m.symbols[instrument].symbol(venues::kBinance),
                                                     id.view(), wall_ms() + m.offset_ms, m.scratch)
                           : m.upbit->cancel_order(id.view(), m.scratch);
  return written && m.send(Op::cancel, instrument, id);
}

void RestVenue::poll(std::int64_t now_ns) noexcept {
  Impl& m = *impl_;
  m.now_ns = now_ns;
  if (m.is_binance() && now_ns >= m.next_sync_ns && m.next_sync_ns >= 0) {
    // Refresh the server-time offset periodically and after a -1021.
    if (m.binance->server_time(m.scratch) && m.send(Op::time, kNoInstrument, ClientOrderId{})) {
      m.next_sync_ns = now_ns + m.options.time_sync_interval_ns;
    }
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
  // A count describes the window it was sent in: 10 s on Binance, 1 s on Upbit. Once that has
  // passed with no newer header, the whole budget is back.
  const std::int64_t age = now_ns - m.rate_seen_ns;
  if (m.is_binance()) {
    const bool current = m.rate_seen_ns != 0 && age < 10 * kSecondNs;
    b.orders_per_window = m.options.orders_per_10s;
    b.orders_available =
        m.options.orders_per_10s -
        (current ? std::max<std::int64_t>(m.rate.order_count_10s, 0) : std::int64_t{0});
  } else {
    const bool current = m.rate_seen_ns != 0 && age < kSecondNs && m.order_remaining_sec >= 0;
    b.orders_per_window = m.options.upbit_orders_per_second;
    b.orders_available = current ? m.order_remaining_sec : m.options.upbit_orders_per_second;
  }
  return b;
}

bool RestVenue::healthy() const noexcept { return impl_->transport_errors < 3; }

std::int64_t RestVenue::not_found_grace_ns() const noexcept {
  const RestVenueOptions& o = impl_->options;
  return o.venue == venues::kBinance ? (o.recv_window_ms + 1'000) * 1'000'000
                                     : o.upbit_not_found_grace_ms * 1'000'000;
}

Decimal RestVenue::free_base(InstrumentId instrument) const noexcept {
  return Decimal::from_mantissa(impl_->base[instrument]);
}

Decimal RestVenue::free_quote() const noexcept { return Decimal::from_mantissa(impl_->quote); }

std::int64_t RestVenue::time_offset_ms() const noexcept { return impl_->offset_ms; }

Decimal RestVenue::read_free(std::string_view asset) const {
  for (const AssetBalance& b : impl_->balances) {
    if (b.asset == asset) return b.free;
  }
  return Decimal{};
}
const RateLimitState& RestVenue::rate_limits() const noexcept { return impl_->rate; }
RulesTable& RestVenue::rules_table() noexcept { return impl_->rules; }

}  // namespace xarb::exec
