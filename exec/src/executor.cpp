#include <algorithm>
#include <cmath>

#include <xarb/core/clock.hpp>
#include <xarb/exec/executor.hpp>
#include <xarb/venues/registry.hpp>

namespace xarb::exec {
namespace {


std::int64_t abs64(std::int64_t v) noexcept { return v < 0 ? -v : v; }

// `price` moved by `bps` in the direction that makes an order on `side` more willing to trade.
Decimal worse(Decimal price, Side side, double bps) noexcept {
  const auto centi = static_cast<Int128>(std::llround(std::max(bps, 0.0) * 100.0));
  const auto delta = static_cast<std::int64_t>(price.mantissa() * centi / 1'000'000);
  return Decimal::from_mantissa(side == Side::buy ? price.mantissa() + delta
                                                  : price.mantissa() - delta);
}

LegStatus leg_status(std::int64_t filled, std::int64_t target, OrderState last,
                     bool error) noexcept {
  if (target == 0) return LegStatus::not_sent;
  if (filled >= target) return LegStatus::filled;
  if (filled > 0) return LegStatus::partially_filled;
  if (error || last == OrderState::rejected) return LegStatus::failed;
  if (last == OrderState::canceled || last == OrderState::expired) return LegStatus::canceled;
  return last == OrderState::unknown ? LegStatus::failed : LegStatus::accepted;
}

void put36(char*& p, std::uint64_t v) noexcept {
  char digits[16];
  int n = 0;
  do {
    const auto d = static_cast<int>(v % 36);
    digits[n++] = static_cast<char>(d < 10 ? '0' + d : 'a' + d - 10);
    v /= 36;
  } while (v != 0 && n < 16);
  while (n > 0) *p++ = digits[--n];
}

}  // namespace

ClientOrderId TwoLegExecutor::client_id(std::uint64_t run_id, std::uint64_t intent_id, Venue venue,
                                        int attempt) noexcept {
  char buf[40];
  char* p = buf;
  *p++ = 'x';
  put36(p, run_id);
  *p++ = '-';
  put36(p, intent_id);
  *p++ = '-';
  // The registry's letter; a venue id it has no row for gets its digit: ids stay unique per venue.
  const venues::VenueInfo* info = venues::info(venue);
  *p++ = info != nullptr ? info->code : static_cast<char>('0' + index(venue) % 10);
  put36(p, static_cast<std::uint64_t>(attempt));
  ClientOrderId id;
  id.assign(std::string_view(buf, static_cast<std::size_t>(p - buf)));
  return id;
}

std::int64_t TwoLegExecutor::hedge_reserve(const RateBudget& b) const noexcept {
  if (params_.hedge_reserve_ratio <= 0.0) return 0;
  const auto share = static_cast<std::int64_t>(
      std::ceil(params_.hedge_reserve_ratio * static_cast<double>(b.orders_per_window)));
  return std::max<std::int64_t>(share, 1);
}

TwoLegExecutor::TwoLegExecutor(std::array<VenueClient*, kMaxVenues> venues,
                               const ExecParams& params) noexcept
    : venues_(venues), params_(params) {
  params_.max_retries = std::clamp(params_.max_retries, 0, kMaxAttempts - 1);
  params_.max_unwinds = std::clamp(params_.max_unwinds, 0, kMaxAttempts - 1 - params_.max_retries);
}

std::size_t TwoLegExecutor::active() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(jobs_.begin(), jobs_.end(), [](const Job& j) { return j.active; }));
}

std::size_t TwoLegExecutor::unsettled() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(watches_.begin(), watches_.end(), [](const Watch& w) { return w.active; }));
}

std::uint64_t TwoLegExecutor::busy(Venue v) const noexcept {
  static_assert(kMaxInstruments <= 64, "one bit per instrument");
  std::uint64_t mask = 0;
  for (const Job& j : jobs_) {
    if (!j.active || !j.intent.has_leg(v)) continue;
    if (const InstrumentId i = j.intent.leg(v).instrument; i < kMaxInstruments) {
      mask |= std::uint64_t{1} << i;
    }
  }
  for (const Watch& w : watches_) {
    if (w.active && w.venue == v && w.instrument < kMaxInstruments) {
      mask |= std::uint64_t{1} << w.instrument;
    }
  }
  return mask;
}

ExecReport& TwoLegExecutor::new_report() noexcept {
  // At most one report per job and per watch is pending, and the queue has that many slots; a
  // full queue (which cannot happen) overwrites the newest rather than write out of bounds.
  if (report_count_ < kReports) ++report_count_;
  ExecReport& r = reports_[(report_head_ + report_count_ - 1) % kReports];
  r = ExecReport{};
  return r;
}

bool TwoLegExecutor::next_report(ExecReport& out) noexcept {
  if (report_count_ == 0) return false;
  out = reports_[report_head_];
  report_head_ = (report_head_ + 1) % kReports;
  --report_count_;
  return true;
}

bool TwoLegExecutor::below_minimum(Venue v, InstrumentId i, std::int64_t qty,
                                   Decimal price) const noexcept {
  const InstrumentRules& r = venues_[index(v)]->rules(i);
  const Decimal q = round_qty(r, Decimal::from_mantissa(qty));
  if (!q.is_positive() || q < r.min_qty) return true;
  return notional_e16(price, q) < static_cast<Int128>(r.min_notional.mantissa()) * Decimal::kOne;
}

// ---------------------------------------------------------------------------------------------
// Before sending

// Quantities onto each venue's step; a hedged pair trades the same quantity on both, so the
// coarser step wins. An exit's legs may differ by the base-asset commission one venue took (each
// closes what it holds): that difference rides on top of the common quantity, on the leg's own
// step (job.offset).
std::array<Decimal, kMaxVenues> TwoLegExecutor::leg_quantities(Job& job) const noexcept {
  const OrderIntent& in = job.intent;
  const LegIntent& l0 = in.legs[0];
  const LegIntent& l1 = in.legs[1];
  std::array<Decimal, kMaxVenues> qty{};
  const auto rounded = [&](Venue v, Decimal q) {
    return round_qty(venues_[index(v)]->rules(in.leg(v).instrument), q);
  };
  for (const Venue v : job.venues) {
    const LegIntent& l = in.leg(v);
    if (l.quantity.is_positive()) qty[index(v)] = rounded(v, l.quantity);
  }
  job.offset = {};
  if (job.hedged) {
    const Decimal base = std::min(l0.quantity, l1.quantity);
    const Decimal common = std::min(rounded(l0.venue, base), rounded(l1.venue, base));
    for (const Venue v : job.venues) {
      const std::int64_t extra = in.leg(v).quantity.mantissa() - base.mantissa();
      qty[index(v)] = extra > 0 ? rounded(v, Decimal::from_mantissa(common.mantissa() + extra))
                                : common;
      job.offset[index(v)] = qty[index(v)].mantissa() - common.mantissa();
    }
  }
  return qty;
}

// Whether the venue takes this leg now. An unhealthy venue takes no entries; an exit is still
// tried (and retried): it must never be starved by the same fault that made the position worth
// closing. Then the rate budget (an entry leaves the hedge reserve) and the balance it spends.
RefusalReason TwoLegExecutor::can_send(IntentKind kind, const LegIntent& l, VenueClient& venue,
                                       Decimal price, Decimal qty,
                                       std::int64_t now_ns) const noexcept {
  if (kind == IntentKind::entry && !venue.healthy()) return RefusalReason::venue_unhealthy;
  const RateBudget b = venue.budget(now_ns);
  const std::int64_t reserve = kind == IntentKind::entry ? hedge_reserve(b) : 0;
  if (b.blocked_until_ns > now_ns || b.orders_available < 1 + reserve) {
    return RefusalReason::rate_limit;
  }
  if (l.side == Side::sell) return venue.free_base(l.instrument) < qty ? RefusalReason::balance
                                                                      : RefusalReason::none;
  const Int128 need = notional_e16(price, qty);
  const auto fee = static_cast<Int128>(std::llround(params_.fee_estimate_bps * 100.0));
  const Int128 with_fee = need + need * fee / 1'000'000;
  return static_cast<Int128>(venue.free_quote().mantissa()) * Decimal::kOne < with_fee
             ? RefusalReason::balance
             : RefusalReason::none;
}

RefusalReason TwoLegExecutor::prepare(Job& job, std::int64_t now_ns) noexcept {
  const OrderIntent& in = job.intent;
  // Both legs start clean before any check can return: a refusal on the first venue must not
  // leave the second with what the slot's previous job traded (its report would repeat it).
  job.legs = {};
  job.venues = {in.legs[0].venue, in.legs[1].venue};
  // The intent's two legs are on two venues this executor has a client for, or nothing is sent.
  if (!VenuePair{job.venues[0], job.venues[1]}.valid()) {
    job.venues = {kNoVenue, kNoVenue};
    return RefusalReason::venue_unhealthy;
  }
  for (const Venue v : job.venues) {
    job.legs[index(v)].intent = in.leg(v);
    if (venues_[index(v)] == nullptr) return RefusalReason::venue_unhealthy;
  }
  job.hedged = !in.independent_legs && in.legs[0].quantity.is_positive() &&
               in.legs[1].quantity.is_positive();
  const std::array<Decimal, kMaxVenues> qty = leg_quantities(job);
  // Independent legs (a BROKEN position's residuals): one too small for its venue does not stop
  // the other, which may hold a tradable quantity; it is reported below_minimum.
  RefusalReason too_small = RefusalReason::none;
  const auto small = [&](Venue v, RefusalReason r) {
    if (job.hedged) return r;
    job.legs[index(v)].below_minimum = true;
    if (too_small == RefusalReason::none) too_small = r;
    return RefusalReason::none;
  };
  for (const Venue v : job.venues) {
    const LegIntent& l = in.leg(v);
    LegJob& leg = job.legs[index(v)];
    if (!l.quantity.is_positive()) continue;
    VenueClient& venue = *venues_[index(v)];
    const InstrumentRules& rules = venue.rules(l.instrument);
    if (!rules.loaded) return RefusalReason::trading_rules;
    if (!qty[index(v)].is_positive()) {
      if (const RefusalReason r = small(v, RefusalReason::min_notional); r != RefusalReason::none) {
        return r;
      }
      continue;
    }
    Decimal price;
    if (round_price(rules, l.side, l.limit_price, price) != Errc::ok) {
      return RefusalReason::trading_rules;
    }
    RefusalReason violation = RefusalReason::none;
    switch (check_order(rules, price, qty[index(v)])) {
      case RuleViolation::none:
        break;
      case RuleViolation::qty_min:
      case RuleViolation::notional_min:
        violation = RefusalReason::min_notional;
        break;
      default:
        violation = RefusalReason::trading_rules;
        break;
    }
    if (violation != RefusalReason::none) {
      if (const RefusalReason r = small(v, violation); r != RefusalReason::none) return r;
      continue;
    }
    if (const RefusalReason r = can_send(in.kind, l, venue, price, qty[index(v)], now_ns);
        r != RefusalReason::none) {
      return r;
    }
    leg.target = qty[index(v)];
    leg.order.instrument = l.instrument;
    leg.order.side = l.side;
    leg.order.price = price;
    leg.order.qty = qty[index(v)];
    leg.order.tif = TimeInForce::ioc;
  }
  // Nothing left to send: every leg was too small.
  if (too_small != RefusalReason::none &&
      std::none_of(job.legs.begin(), job.legs.end(),
                   [](const LegJob& l) { return l.target.is_positive(); })) {
    return too_small;
  }
  return RefusalReason::none;
}

bool TwoLegExecutor::submit(const OrderIntent& intent, std::int64_t now_ns) noexcept {
  Job* job = nullptr;
  for (Job& j : jobs_) {
    if (!j.active) {
      job = &j;
      break;
    }
  }
  if (job == nullptr) {
    ++stats_.busy;
    return false;
  }
  ++stats_.intents;
  for (VenueClient* v : venues_) {
    if (v != nullptr) v->poll(now_ns);  // venues see the time the checks use
  }
  job->active = true;
  job->intent = intent;
  job->intent.stamps.set(Stage::exec_dequeued, clock::mono_ns());
  job->deadline_ns = intent.deadline_ns > 0 ? intent.deadline_ns : now_ns + 2'000'000'000;
  job->dust = 0;
  if (const RefusalReason r = prepare(*job, now_ns); r != RefusalReason::none) {
    finish(*job, ExecOutcome::blocked, r);
    return true;
  }
  // Both legs at once: each request is written before either answer is read.
  for (const Venue v : job->venues) {
    if (job->legs[index(v)].target.is_positive()) send(*job, v, now_ns);
  }
  job->intent.stamps.set(Stage::order_written, clock::mono_ns());
  return true;
}

void TwoLegExecutor::send(Job& job, Venue v, std::int64_t now_ns) noexcept {
  LegJob& leg = job.legs[index(v)];
  leg.order.client_id = client_id(params_.run_id, job.intent.intent_id, v, leg.attempts);
  // The paper venue fills primaries and retries against the levels the intent carried; an
  // unwind trades the other side of the book, which the intent did not carry.
  const std::span<const Level> book =
      leg.role == OrderRole::unwind
          ? std::span<const Level>{}
          : std::span<const Level>(leg.intent.levels.data(), leg.intent.level_count);
  if (!venues_[index(v)]->place(leg.order, book)) {
    leg.phase = LegPhase::sending;  // the venue cannot take it now: next poll
    return;
  }
  if (leg.attempts == 0) {
    leg.first_id = leg.order.client_id;
    leg.first_sent_ns = now_ns;
  }
  leg.last_sent_ns = now_ns;
  ++leg.attempts;
  ++stats_.orders;
  leg.phase = LegPhase::waiting;
}

// ---------------------------------------------------------------------------------------------
// Answers

TwoLegExecutor::Job* TwoLegExecutor::find_job(const ClientOrderId& id, Venue& venue) noexcept {
  for (Job& j : jobs_) {
    if (!j.active) continue;
    for (const Venue v : j.venues) {
      if (j.legs[index(v)].order.client_id == id) {
        venue = v;
        return &j;
      }
    }
  }
  return nullptr;
}

void TwoLegExecutor::apply(LegJob& leg, const OrderStatus& s) noexcept {
  leg.last_state = s.state;
  if (s.error.present()) leg.error = s.error;
  const std::int64_t q = s.filled_qty.mantissa();
  if (q <= 0) return;
  // Each commission stays in the asset it was charged in: a base-asset one is not held (the
  // position and the ledger count it there), not a quote cost.
  leg.fee_quote_e16 += static_cast<Int128>(s.fee_quote.mantissa()) * Decimal::kOne;
  leg.fee_base += s.fee_base.mantissa();
  leg.fee_bnb += s.fee_other.mantissa();
  if (leg.role == OrderRole::unwind) {
    leg.unwound += q;
    leg.unwound_notional += s.filled_notional_e16;
  } else {
    leg.filled += q;
    leg.filled_notional += s.filled_notional_e16;
  }
}

TwoLegExecutor::Reading TwoLegExecutor::read_answer(const VenueEvent& ev, Venue v,
                                                    std::int64_t sent_ns,
                                                    std::int64_t now_ns) const noexcept {
  const OrderStatus& s = ev.status;
  const bool not_found = s.error.kind == VenueErrorKind::unknown_order;
  // The lost request never became an order, and it can no longer become one: nothing traded.
  // (Sooner, "not found" may only mean the venue has not taken it yet: asked again.)
  if (ev.op == VenueOp::query && not_found &&
      now_ns - sent_ns >= venues_[index(v)]->not_found_grace_ns()) {
    return Reading::never_placed;
  }
  // A query or cancel the venue refused (429, a bad request...) says nothing about the order,
  // which may well have filled: ask again later, as for a lost answer.
  if ((ev.op != VenueOp::place && s.state == OrderState::rejected && s.error.present()) ||
      (ev.op == VenueOp::query && not_found)) {
    return Reading::request_failed;
  }
  return s.state == OrderState::unknown || !s.final() ? Reading::not_final : Reading::final;
}

void TwoLegExecutor::on_event(const VenueEvent& ev, std::int64_t now_ns) noexcept {
  Venue v = kNoVenue;
  Job* job = find_job(ev.status.client_id, v);
  if (job == nullptr) {
    for (Watch& w : watches_) {
      // Its query's answer, or its end pushed by the venue's stream.
      const bool pushed_end = ev.op == VenueOp::update && ev.status.final();
      if (w.active && (w.waiting || pushed_end) && w.id == ev.status.client_id) {
        on_watch_event(w, ev, now_ns);
        return;
      }
    }
    return;  // an answer for an intent already reported
  }
  LegJob& leg = job->legs[index(v)];
  const OrderStatus& s = ev.status;
  if (ev.op == VenueOp::update) {
    // Pushed by the venue (or found by its reconciliation): only an end settles the leg, and
    // it does so whether an answer or a query is still awaited (theirs are then ignored).
    if (!s.final() || (leg.phase != LegPhase::waiting && leg.phase != LegPhase::querying)) return;
    ++stats_.stream_ends;
    apply(leg, s);
    leg.phase = LegPhase::idle;
    leg.done_ns = now_ns;
    return;
  }
  if (leg.phase != LegPhase::waiting) return;
  const Reading reading = read_answer(ev, v, leg.last_sent_ns, now_ns);
  if (reading == Reading::never_placed) {
    leg.last_state = OrderState::rejected;
    leg.phase = LegPhase::idle;
    leg.done_ns = now_ns;
    return;
  }
  if (reading != Reading::final) {
    // Lost answer, or the order is still working: ask the venue (never assume).
    if (leg.queries >= params_.max_queries) {
      // Not known, and not assumed: the job reports the leg unknown (its position BROKEN, held)
      // and the order stays watched until its venue settles it.
      watch(*job, v, leg, now_ns);
      leg.unresolved = true;
      leg.last_state = OrderState::unknown;
      leg.phase = LegPhase::idle;
      leg.done_ns = now_ns;
      return;
    }
    if (reading == Reading::not_final &&
        (s.state == OrderState::partially_filled || s.state == OrderState::acked)) {
      leg.last_state = s.state;
    }
    leg.query_interval_ns = leg.query_interval_ns == 0
                                ? params_.query_interval_ns
                                : std::min(2 * leg.query_interval_ns, params_.max_query_interval_ns);
    leg.next_query_ns = now_ns + leg.query_interval_ns;
    // A working order on a venue that pushes its orders' ends: the stream tells first.
    leg.stream_expected = reading == Reading::not_final && s.state != OrderState::unknown &&
                          venues_[index(v)]->streaming();
    if (leg.stream_expected) {
      leg.next_query_ns = now_ns + std::max(params_.stream_fallback_ns, leg.query_interval_ns);
    }
    leg.phase = LegPhase::querying;
    return;
  }
  apply(leg, s);
  leg.phase = LegPhase::idle;
  leg.done_ns = now_ns;
}

// ---------------------------------------------------------------------------------------------
// Progress

void TwoLegExecutor::poll(std::int64_t now_ns) noexcept {
  for (VenueClient* v : venues_) {
    if (v != nullptr) v->poll(now_ns);
  }
  VenueEvent ev;
  for (VenueClient* v : venues_) {
    while (v != nullptr && v->next_event(ev)) on_event(ev, now_ns);
  }
  for (Job& job : jobs_) {
    if (!job.active) continue;
    for (const Venue v : job.venues) {
      LegJob& leg = job.legs[index(v)];
      if (leg.phase == LegPhase::sending) {
        send(job, v, now_ns);
      } else if (leg.phase == LegPhase::querying &&
                 (now_ns >= leg.next_query_ns ||
                  (leg.stream_expected && !venues_[index(v)]->streaming()))) {
        // (The stream went down while its end was awaited: ask now.)
        if (venues_[index(v)]->query(leg.order.instrument, leg.order.client_id)) {
          ++leg.queries;
          ++stats_.queries;
          leg.phase = LegPhase::waiting;
        }
      }
    }
    advance(job, now_ns);
  }
  for (Watch& w : watches_) {
    if (!w.active || w.waiting || now_ns < w.next_query_ns) continue;
    if (venues_[index(w.venue)]->query(w.instrument, w.id)) {
      ++stats_.queries;
      w.waiting = true;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Orders no venue has settled

void TwoLegExecutor::watch(const Job& job, Venue v, const LegJob& leg, std::int64_t now_ns) noexcept {
  for (Watch& w : watches_) {
    if (w.active) continue;
    w = Watch{};
    w.active = true;
    w.venue = v;
    w.unwind = leg.role == OrderRole::unwind;
    w.leg_side = leg.intent.side;
    w.kind = job.intent.kind;
    w.instrument = leg.order.instrument;
    w.intent_id = job.intent.intent_id;
    w.position_id = job.intent.position_id;
    w.id = leg.order.client_id;
    w.qty = leg.order.qty;
    w.sent_ns = leg.last_sent_ns;
    w.interval_ns = std::max<std::int64_t>(params_.settle_interval_ns, 1);
    w.next_query_ns = now_ns + w.interval_ns;
    return;
  }
  ++stats_.unwatched;  // the journal keeps it unknown: the next start asks
}

void TwoLegExecutor::on_watch_event(Watch& w, const VenueEvent& ev, std::int64_t now_ns) noexcept {
  w.waiting = false;
  const Reading reading = read_answer(ev, w.venue, w.sent_ns, now_ns);
  if (reading == Reading::never_placed) {
    OrderStatus none;
    none.client_id = w.id;
    none.state = OrderState::rejected;  // never became an order: nothing traded
    settle(w, none, now_ns);
    return;
  }
  if (reading != Reading::final) {
    w.interval_ns = std::min(2 * w.interval_ns, std::max(params_.max_settle_interval_ns,
                                                         params_.settle_interval_ns));
    w.next_query_ns = now_ns + w.interval_ns;
    return;
  }
  settle(w, ev.status, now_ns);
}

void TwoLegExecutor::settle(Watch& w, const OrderStatus& s, std::int64_t now_ns) noexcept {
  ExecReport& r = new_report();
  r.intent_id = w.intent_id;
  r.position_id = w.position_id;
  r.kind = w.kind;
  r.settles = true;
  LegReport& lr = r.leg(w.venue);  // the other leg stays empty
  lr.side = w.leg_side;
  lr.instrument = w.instrument;
  lr.state = s.state;
  lr.client_order_id = w.id;
  lr.error = s.error;
  lr.latency_ns = now_ns - w.sent_ns;
  const std::int64_t q = std::max<std::int64_t>(s.filled_qty.mantissa(), 0);
  // The venue's word on the side wins over what the job thought it sent.
  const bool unwind = s.side ? *s.side != w.leg_side : w.unwind;
  if (q > 0) {
    const Decimal avg = Decimal::from_mantissa(static_cast<std::int64_t>(s.filled_notional_e16 / q));
    (unwind ? lr.unwound_qty : lr.filled_qty) = Decimal::from_mantissa(q);
    (unwind ? lr.unwind_avg_price : lr.avg_price) = avg;
    lr.fee = s.fee_quote;
    lr.fee_base = s.fee_base;
    lr.fee_bnb = s.fee_other;
  }
  lr.requested_qty = unwind ? Decimal{} : w.qty;
  lr.status = q >= w.qty.mantissa() ? LegStatus::filled
              : q > 0               ? LegStatus::partially_filled
              : s.state == OrderState::rejected ? LegStatus::failed
                                                : LegStatus::canceled;
  w.active = false;
  ++stats_.settled;
}

// Independent legs (closing what a BROKEN position holds), or a venue that never said what
// happened (`unresolved`): report what is known; the signal sees any mismatch.
void TwoLegExecutor::finish_unhedged(Job& job, bool unresolved) noexcept {
  bool all = true, any = false;
  for (const LegJob& leg : job.legs) {
    all = all && (leg.target.is_zero() || leg.filled - leg.unwound >= leg.target.mantissa());
    any = any || leg.filled > 0;
  }
  // A leg that traded all it could leaves what its step cut off (19.98 asked, 19 sold on a step
  // of 1): no order on that venue can trade it, it is dust, not a one-legged position.
  for (const Venue v : job.venues) {
    const LegJob& leg = job.legs[index(v)];
    const std::int64_t rest = job.intent.leg(v).quantity.mantissa() - leg.target.mantissa();
    if (unresolved || !leg.target.is_positive() || rest <= 0 ||
        leg.filled - leg.unwound < leg.target.mantissa() ||
        !below_minimum(v, leg.order.instrument, rest, leg.order.price)) {
      continue;
    }
    dust_.add(v, leg.order.instrument, rest);
    job.dust += rest;
  }
  finish(job, all && any && !unresolved ? ExecOutcome::success : ExecOutcome::failed,
         RefusalReason::none);
}

void TwoLegExecutor::advance(Job& job, std::int64_t now_ns) noexcept {
  for (const LegJob& leg : job.legs) {
    if (leg.phase != LegPhase::idle) return;  // something is still out
  }
  const bool unresolved =
      std::any_of(job.legs.begin(), job.legs.end(), [](const LegJob& l) { return l.unresolved; });
  if (!job.hedged || unresolved) return finish_unhedged(job, unresolved);
  const Venue v0 = job.venues[0], v1 = job.venues[1];
  LegJob& j0 = job.legs[index(v0)];
  LegJob& j1 = job.legs[index(v1)];
  const std::int64_t held0 = j0.filled - j0.unwound - job.offset[index(v0)];
  const std::int64_t held1 = j1.filled - j1.unwound - job.offset[index(v1)];
  const bool retried = j0.retries + j1.retries > 0;
  const bool unwound = j0.unwinds + j1.unwinds > 0;
  const bool none_held = j0.filled == j0.unwound && j1.filled == j1.unwound;
  if (held0 == held1 || none_held) {
    if (none_held) {
      finish(job, unwound ? ExecOutcome::rolled_back : ExecOutcome::failed, RefusalReason::none);
    } else {
      finish(job,
             unwound ? ExecOutcome::rolled_back
                     : (retried ? ExecOutcome::partial_hedged : ExecOutcome::success),
             RefusalReason::none);
    }
    return;
  }
  const Venue short_v = held0 < held1 ? v0 : v1;
  const Venue long_v = short_v == v0 ? v1 : v0;
  LegJob& s = job.legs[index(short_v)];
  LegJob& l = job.legs[index(long_v)];
  const std::int64_t gap = abs64(held0 - held1);
  // Below both venues' minimums: nothing can trade it. The dust ledger keeps it.
  const Decimal l_avg = l.filled > 0 ? Decimal::from_mantissa(static_cast<std::int64_t>(
                                           l.filled_notional / l.filled))
                                     : l.order.price;
  if (below_minimum(short_v, s.order.instrument, gap, s.order.price) &&
      below_minimum(long_v, l.order.instrument, gap, l_avg)) {
    dust_.add(long_v, l.order.instrument, gap);
    job.dust += gap;
    finish(job,
           unwound   ? ExecOutcome::rolled_back
           : retried ? ExecOutcome::partial_hedged
                     : ExecOutcome::success,
           RefusalReason::none);
    return;
  }
  // A venue that answered 429 gets nothing until its Retry-After has passed.
  const bool short_blocked = venues_[index(short_v)]->budget(now_ns).blocked_until_ns > now_ns;
  const bool long_blocked = venues_[index(long_v)]->budget(now_ns).blocked_until_ns > now_ns;
  // 1. Complete the short leg at a capped worse price, within the deadline.
  if (now_ns < job.deadline_ns && s.retries < params_.max_retries && !unwound && !short_blocked &&
      !below_minimum(short_v, s.order.instrument, gap, s.order.price)) {
    Decimal price;
    const InstrumentRules& rules = venues_[index(short_v)]->rules(s.order.instrument);
    const Decimal capped =
        worse(s.intent.limit_price, s.order.side, params_.retry_slippage_bps * (s.retries + 1));
    if (round_price(rules, s.order.side, capped, price) == Errc::ok) {
      s.role = OrderRole::retry;
      s.order.price = price;
      s.order.qty = round_qty(rules, Decimal::from_mantissa(gap));
      ++s.retries;
      ++stats_.retries;
      send(job, short_v, now_ns);
      return;
    }
  }
  // 2. Otherwise unwind the excess of the long leg, giving up at most the unwind slippage; if
  // that venue is blocked, wait for it rather than leave the excess.
  if (l.unwinds < params_.max_unwinds && long_blocked) return;
  if (l.unwinds < params_.max_unwinds &&
      !below_minimum(long_v, l.order.instrument, gap, l_avg)) {
    const InstrumentRules& rules = venues_[index(long_v)]->rules(l.order.instrument);
    const Side side = opposite(l.intent.side);
    Decimal price;
    if (round_price(rules, side, worse(l_avg, side, params_.unwind_slippage_bps * (l.unwinds + 1)),
                    price) == Errc::ok) {
      l.role = OrderRole::unwind;
      l.order.side = side;
      l.order.price = price;
      l.order.qty = round_qty(rules, Decimal::from_mantissa(gap));
      ++l.unwinds;
      ++stats_.unwinds;
      send(job, long_v, now_ns);
      return;
    }
  }
  // 3. Nothing more to try: report the mismatch; the position is BROKEN in the signal.
  finish(job, ExecOutcome::failed, RefusalReason::none);
}

void TwoLegExecutor::finish(Job& job, ExecOutcome outcome, RefusalReason refusal) noexcept {
  ExecReport& r = new_report();
  r.intent_id = job.intent.intent_id;
  r.position_id = job.intent.position_id;
  r.kind = job.intent.kind;
  r.outcome = outcome;
  r.refusal = refusal;
  r.dust_qty = Decimal::from_mantissa(job.dust);
  r.stamps = job.intent.stamps;
  for (const Venue v : job.venues) {
    if (v == kNoVenue) continue;  // refused before its legs were read
    const LegJob& leg = job.legs[index(v)];
    LegReport& lr = r.leg(v);
    lr.venue = v;
    lr.side = leg.intent.side;
    lr.instrument = leg.intent.instrument;
    lr.requested_qty = leg.target;
    lr.filled_qty = Decimal::from_mantissa(leg.filled);
    lr.avg_price = leg.filled > 0 ? Decimal::from_mantissa(static_cast<std::int64_t>(
                                        leg.filled_notional / leg.filled))
                                  : Decimal{};
    lr.unwound_qty = Decimal::from_mantissa(leg.unwound);
    lr.unwind_avg_price = leg.unwound > 0 ? Decimal::from_mantissa(static_cast<std::int64_t>(
                                                leg.unwound_notional / leg.unwound))
                                          : Decimal{};
    // Fees to 1e-8, rounded up: never report less than was charged.
    lr.fee = Decimal::from_mantissa(
        static_cast<std::int64_t>((leg.fee_quote_e16 + Decimal::kOne - 1) / Decimal::kOne));
    lr.fee_base = Decimal::from_mantissa(leg.fee_base);
    lr.fee_bnb = Decimal::from_mantissa(leg.fee_bnb);
    lr.state = leg.last_state;
    lr.status = leg.below_minimum                ? LegStatus::below_minimum
                : refusal != RefusalReason::none ? LegStatus::not_sent
                                                 : leg_status(leg.filled, leg.target.mantissa(),
                                                              leg.last_state,
                                                              leg.error.present() || leg.unresolved);
    lr.latency_ns = leg.first_sent_ns > 0 ? leg.done_ns - leg.first_sent_ns : 0;
    lr.client_order_id = leg.first_id;
    lr.error = leg.error;
  }
  ++stats_.outcomes[static_cast<std::size_t>(outcome)];
  if (outcome == ExecOutcome::blocked) ++stats_.blocked[static_cast<std::size_t>(refusal)];
  job.active = false;
}

}  // namespace xarb::exec
