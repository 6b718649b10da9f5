#include <algorithm>
#include <cmath>

#include <xarb/exec/paper_venue.hpp>
#include <xarb/venues/registry.hpp>

#include "venues/adapter.hpp"

namespace xarb::exec {
namespace {

// Price moved against the order by `bps`, kept within its limit.
Decimal adverse(Decimal price, Side side, double bps, Decimal limit) noexcept {
  if (bps <= 0.0) return price;
  const auto centi = static_cast<Int128>(std::llround(bps * 100.0));
  const auto delta = static_cast<std::int64_t>(price.mantissa() * centi / 1'000'000);
  const Decimal moved =
      Decimal::from_mantissa(side == Side::buy ? price.mantissa() + delta : price.mantissa() - delta);
  return side == Side::buy ? std::min(moved, limit) : std::max(moved, limit);
}

// A fee of `bps` on a notional (1e-16 units), rounded up to 1e-8.
std::int64_t fee_of(Int128 notional_e16, double bps) noexcept {
  const auto centi = static_cast<Int128>(std::llround(bps * 100.0));
  const Int128 denom = static_cast<Int128>(1'000'000) * Decimal::kOne;
  return static_cast<std::int64_t>((notional_e16 * centi + denom - 1) / denom);
}

}  // namespace

PaperVenue::PaperVenue(Venue venue, const RulesTable& rules, PaperParams params)
    : venue_(venue), rules_(rules), params_(params), rng_(params.seed) {
  static constexpr adapters::PaperQuirks kNone{};
  const adapters::ExecVenue* row = adapters::find(venue);
  quirks_ = row != nullptr ? &row->paper : &kNone;
  if (params_.venue_order_limit && quirks_->orders.window_ns > 0) {
    params_.orders_per_window = quirks_->orders.orders;
    params_.order_window_ns = quirks_->orders.window_ns;
  }
}

void PaperVenue::set_base(InstrumentId instrument, Decimal qty) noexcept {
  if (instrument < kMaxInstruments) base_[instrument] = qty.mantissa();
}

void PaperVenue::set_quote(Decimal amount) noexcept {
  quote_e16_ = static_cast<Int128>(amount.mantissa()) * Decimal::kOne;
}

Decimal PaperVenue::free_quote() const noexcept {
  return Decimal::from_mantissa(static_cast<std::int64_t>(quote_e16_ / Decimal::kOne));
}

double PaperVenue::uniform() noexcept {
  std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

PaperFault PaperVenue::take_fault(VenueOp op) noexcept {
  PaperFault& f = faults_[static_cast<std::size_t>(op)];
  const PaperFault out = f;
  f = PaperFault::none;
  return out;
}

RateBudget PaperVenue::budget(std::int64_t now_ns) const noexcept {
  RateBudget b;
  b.blocked_until_ns = blocked_until_ns_ > now_ns ? blocked_until_ns_ : 0;
  b.orders_available = params_.orders_per_window;
  b.orders_per_window = params_.orders_per_window;
  if (params_.order_window_ns > 0) {
    for (const std::int64_t t : sent_at_) {
      b.orders_available -= t != 0 && t > now_ns - params_.order_window_ns ? 1 : 0;
    }
  }
  return b;
}

bool PaperVenue::rate_limited() noexcept {
  if (params_.order_window_ns <= 0) return false;
  if (budget(now_ns_).orders_available <= 0) return true;
  sent_at_[sent_next_++ % sent_at_.size()] = now_ns_;
  return false;
}

std::int64_t PaperVenue::draw_latency(VenueOp op) noexcept {
  const auto k = static_cast<std::size_t>(op);
  if (k >= params_.latency_samples.size() || params_.latency_samples[k].empty()) {
    return params_.latency_ns;
  }
  const std::span<const std::int64_t> s = params_.latency_samples[k];
  ++drawn_;
  const auto at = static_cast<std::size_t>(uniform() * static_cast<double>(s.size()));
  return s[std::min(at, s.size() - 1)];
}

bool PaperVenue::enqueue(const VenueEvent& event, std::int64_t latency_ns) noexcept {
  if (pending_count_ == kPending) return false;
  Pending& p = pending_[pending_count_++];
  p = Pending{};
  p.due_ns = now_ns_ + latency_ns;
  p.event = event;
  p.event.latency_ns = latency_ns;
  return true;
}

std::int64_t PaperVenue::next_due_ns() const noexcept {
  std::int64_t t = INT64_MAX;
  for (std::size_t i = 0; i < pending_count_; ++i) {
    t = std::min(t, pending_[i].deferred ? pending_[i].arrive_ns : pending_[i].due_ns);
  }
  return t;
}

std::span<const Level> PaperVenue::market_levels(const OrderRequest& o) noexcept {
  const std::span<const Level> book = params_.market->levels(venue_, o.instrument, o.side);
  Taken& t = taken_[o.instrument][o.side == Side::buy ? 0 : 1];
  if (const std::uint64_t v = params_.market->version(venue_, o.instrument); v != t.version) {
    t.version = v;
    t.count = 0;
  }
  std::size_t n = 0;
  for (const Level& l : book) {
    if (n == scratch_levels_.size()) break;
    std::int64_t left = l.qty.mantissa();
    for (std::size_t k = 0; k < t.count; ++k) {
      if (t.levels[k].price == l.price) left -= t.levels[k].qty.mantissa();
    }
    if (left > 0) scratch_levels_[n++] = {l.price, Decimal::from_mantissa(left)};
  }
  return {scratch_levels_.data(), n};
}

void PaperVenue::take(const OrderRequest& o, std::span<const Level> levels,
                      std::int64_t filled) noexcept {
  Taken& t = taken_[o.instrument][o.side == Side::buy ? 0 : 1];
  for (const Level& l : levels) {
    if (filled <= 0) break;
    const std::int64_t q = std::min(filled, l.qty.mantissa());
    filled -= q;
    std::size_t k = 0;
    while (k < t.count && t.levels[k].price != l.price) ++k;
    if (k == t.count) {
      if (t.count == t.levels.size()) break;
      t.levels[t.count++] = {l.price, Decimal{}};
    }
    t.levels[k].qty = Decimal::from_mantissa(t.levels[k].qty.mantissa() + q);
  }
}

namespace {

// FNV-1a of a client id: the key of the known-order index.
std::uint64_t id_hash(const ClientOrderId& id) noexcept {
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : id.view()) {
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  }
  return h;
}

}  // namespace

PaperVenue::Known* PaperVenue::find(const ClientOrderId& id) noexcept {
  const std::uint64_t h = id_hash(id);
  for (std::size_t i = 0; i < kKnown; ++i) {
    if (known_hash_[i] != h) continue;
    Known& k = known_[i];
    if (k.instrument != kNoInstrument && k.status.client_id == id) return &k;
  }
  return nullptr;
}

void PaperVenue::refuse(OrderStatus& out, PaperRefusal why, Side side) const noexcept {
  out.state = OrderState::rejected;
  out.error.http_status = 400;
  if (quirks_->refusal != nullptr) quirks_->refusal(why, side, out.error);
  classify(venue_, out.error);
}

void PaperVenue::execute(const OrderRequest& o, std::span<const Level> book, bool liquid,
                         OrderStatus& out) noexcept {
  out.client_id = o.client_id;
  out.orig_qty = o.qty;
  const InstrumentRules& r = rules_.at(venue_, o.instrument);
  const bool buy = o.side == Side::buy;
  if (const RuleViolation v = check_order(r, o.price, o.qty); v != RuleViolation::none) {
    refuse(out, v == RuleViolation::notional_min ? PaperRefusal::notional : PaperRefusal::lot_size,
           o.side);
    return;
  }
  const Int128 worst_cost = notional_e16(o.price, o.qty);
  // The fee in 1e-16 units: a fee above 922 KRW overflows int64 there.
  const Int128 worst_fee = static_cast<Int128>(fee_of(worst_cost, params_.fee_bps)) * Decimal::kOne;
  const bool enough = buy ? quote_e16_ >= worst_cost + worst_fee
                          : base_[o.instrument] >= o.qty.mantissa();
  if (!enough) {
    refuse(out, PaperRefusal::insufficient_balance, o.side);
    return;
  }
  // Walk the levels within the limit. Without levels (an unwind or a retry the intent carried
  // no book for), the order meets liquidity at its limit.
  std::int64_t left = o.qty.mantissa();
  Int128 notional = 0;
  if (!liquid) book = {};
  if (book.empty() && liquid) {
    notional = notional_e16(o.price, o.qty);
    left = 0;
  }
  for (const Level& l : book) {
    if (left == 0 || !l.qty.is_positive()) break;
    if (buy ? l.price > o.price : l.price < o.price) break;
    const Decimal px = adverse(l.price, o.side, params_.slippage_bps, o.price);
    const std::int64_t take = std::min(left, l.qty.mantissa());
    notional += static_cast<Int128>(px.mantissa()) * take;
    left -= take;
  }
  std::int64_t filled = o.qty.mantissa() - left;
  if (filled > 0 && params_.partial_probability > 0.0 && uniform() < params_.partial_probability) {
    const double share = 0.1 + 0.8 * uniform();
    const Decimal part = round_qty(r, Decimal::from_mantissa(static_cast<std::int64_t>(
                                          static_cast<double>(filled) * share)));
    if (part.mantissa() < filled) {
      notional = notional * part.mantissa() / filled;  // the same average price
      filled = part.mantissa();
    }
  }
  out.filled_qty = Decimal::from_mantissa(filled);
  out.filled_notional_e16 = notional;
  out.fills_known = true;
  // As the venue charges it: some take a buy's commission from the base asset it bought (Binance,
  // whose account has no BNB here); everything else pays in the quote.
  if (buy && quirks_->buy_fee_in_base) {
    const std::int64_t fee = fee_of(static_cast<Int128>(filled) * Decimal::kOne, params_.fee_bps);
    out.fee_base = Decimal::from_mantissa(fee);
    base_[o.instrument] += filled - fee;
    quote_e16_ -= notional;
    return finish_state(o, filled, out);
  }
  const std::int64_t fee = fee_of(notional, params_.fee_bps);
  out.fee_quote = Decimal::from_mantissa(fee);
  if (buy) {
    base_[o.instrument] += filled;
    quote_e16_ -= notional + static_cast<Int128>(fee) * Decimal::kOne;
  } else {
    base_[o.instrument] -= filled;
    quote_e16_ += notional - static_cast<Int128>(fee) * Decimal::kOne;
  }
  finish_state(o, filled, out);
}

void PaperVenue::finish_state(const OrderRequest& o, std::int64_t filled,
                              OrderStatus& out) const noexcept {
  // An IOC ends filled, or with the rest ended as the venue ends it (EXPIRED on Binance, cancel
  // on Upbit).
  out.state = filled == o.qty.mantissa() ? OrderState::filled : quirks_->ioc_rest;
}

bool PaperVenue::place(const OrderRequest& order, std::span<const Level> book) noexcept {
  if (pending_count_ == kPending || order.instrument >= kMaxInstruments) return false;
  VenueEvent ev;
  ev.op = VenueOp::place;
  ev.instrument = order.instrument;
  ev.status.client_id = order.client_id;
  const PaperFault fault = take_fault(VenueOp::place);
  const std::int64_t latency = draw_latency(VenueOp::place);
  ++orders_;
  if (fault == PaperFault::rate_limit || now_ns_ < blocked_until_ns_ || rate_limited()) {
    blocked_until_ns_ = std::max(blocked_until_ns_, now_ns_ + params_.rate_block_ns);
    ev.status.state = OrderState::rejected;
    ev.status.error.http_status = 429;
    ev.status.error.code = -1003;
    ev.status.error.name.assign("too_many_requests");
    ev.status.error.message.assign("Too many requests; current request has limited.");
    classify(venue_, ev.status.error);
    return enqueue(ev, latency);
  }
  if (fault == PaperFault::server_error) {
    ev.status.state = OrderState::unknown;
    ev.status.error.http_status = 503;
    return enqueue(ev, latency);
  }
  if (find(order.client_id) != nullptr) {
    // A client id is used once, ever: the first order stands.
    refuse(ev.status, PaperRefusal::duplicate, order.side);
    return enqueue(ev, latency);
  }
  if (params_.market != nullptr) {
    // It executes when it reaches the venue, against the book as it stands then.
    if (!enqueue(ev, latency)) return false;
    Pending& p = pending_[pending_count_ - 1];
    p.deferred = true;
    p.arrive_ns = now_ns_ + static_cast<std::int64_t>(static_cast<double>(latency) *
                                                      std::clamp(params_.arrival_share, 0.0, 1.0));
    p.order = order;
    p.fault = fault;
    return true;
  }
  accept(order, book, fault, ev);
  return enqueue(ev, latency);
}

void PaperVenue::accept(const OrderRequest& order, std::span<const Level> book, PaperFault fault,
                        VenueEvent& ev) noexcept {
  if (fault == PaperFault::reject) {
    refuse(ev.status, PaperRefusal::insufficient_balance, order.side);
  } else {
    execute(order, book, fault != PaperFault::no_fill, ev.status);
  }
  Known& k = known_[known_next_];
  known_hash_[known_next_] = id_hash(order.client_id);
  known_next_ = (known_next_ + 1) % kKnown;
  k.instrument = order.instrument;
  k.status = ev.status;
  k.visible_from_ns = fault == PaperFault::late_accept ? now_ns_ + params_.late_accept_ns : 0;
  if (fault == PaperFault::lost_answer || fault == PaperFault::late_accept) {
    ev.status.state = OrderState::unknown;
    ev.status.filled_qty = Decimal{};
    ev.status.filled_notional_e16 = 0;
    ev.status.fee_quote = Decimal{};
    ev.status.error = VenueError{};
    ev.status.error.http_status = 504;
  }
}

void PaperVenue::arrive() noexcept {
  for (;;) {
    // The earliest order due at the venue, in the order sent when due together.
    std::size_t best = pending_count_;
    for (std::size_t i = 0; i < pending_count_; ++i) {
      const Pending& p = pending_[i];
      if (p.deferred && p.arrive_ns <= now_ns_ &&
          (best == pending_count_ || p.arrive_ns < pending_[best].arrive_ns)) {
        best = i;
      }
    }
    if (best == pending_count_) return;
    Pending& p = pending_[best];
    p.deferred = false;
    const std::span<const Level> levels = market_levels(p.order);
    // An empty book meets nothing: the IOC expires unfilled.
    accept(p.order, levels, levels.empty() ? PaperFault::no_fill : p.fault, p.event);
    if (p.event.status.filled_qty.is_positive()) {
      take(p.order, levels, p.event.status.filled_qty.mantissa());
    }
  }
}

bool PaperVenue::query(InstrumentId instrument, const ClientOrderId& id) noexcept {
  VenueEvent ev;
  ev.op = VenueOp::query;
  ev.instrument = instrument;
  const PaperFault fault = take_fault(VenueOp::query);
  const std::int64_t latency = draw_latency(VenueOp::query);
  if (fault == PaperFault::lost_answer) {
    ev.status.client_id = id;
    ev.status.state = OrderState::unknown;
    ev.status.error.http_status = 504;
    return enqueue(ev, latency);
  }
  if (fault == PaperFault::rate_limit) {
    // The query is refused; the order itself is untouched.
    ev.status.client_id = id;
    refuse(ev.status, PaperRefusal::rate_limited, Side::buy);
    ev.status.error.http_status = 429;
    return enqueue(ev, latency);
  }
  // An order is found by (symbol, client id), and only once the venue has taken it.
  if (const Known* k = find(id);
      k != nullptr && k->instrument == instrument && k->visible_from_ns <= now_ns_) {
    ev.status = k->status;
  } else {
    ev.status.client_id = id;
    refuse(ev.status, PaperRefusal::unknown_order, Side::buy);
    ev.status.error.http_status = 404;
  }
  return enqueue(ev, latency);
}

bool PaperVenue::cancel(InstrumentId instrument, const ClientOrderId& id) noexcept {
  // IOC orders are final when answered: cancelling one finds nothing to cancel.
  VenueEvent ev;
  ev.op = VenueOp::cancel;
  ev.instrument = instrument;
  const std::int64_t latency = draw_latency(VenueOp::cancel);
  if (const Known* k = find(id); k != nullptr && !k->status.final()) {
    ev.status = k->status;
    ev.status.state = OrderState::canceled;
  } else {
    ev.status.client_id = id;
    refuse(ev.status, PaperRefusal::unknown_cancel, Side::buy);
    ev.status.error.http_status = 400;
  }
  return enqueue(ev, latency);
}

void PaperVenue::poll(std::int64_t now_ns) noexcept {
  now_ns_ = now_ns;
  arrive();
}

bool PaperVenue::next_event(VenueEvent& out) noexcept {
  // The earliest due answer, in the order sent when due together.
  std::size_t best = pending_count_;
  for (std::size_t i = 0; i < pending_count_; ++i) {
    if (!pending_[i].deferred && pending_[i].due_ns <= now_ns_ && (best == pending_count_ || pending_[i].due_ns < pending_[best].due_ns)) {
      best = i;
    }
  }
  if (best == pending_count_) return false;
  out = pending_[best].event;
  std::move(pending_.begin() + static_cast<std::ptrdiff_t>(best) + 1,
            pending_.begin() + static_cast<std::ptrdiff_t>(pending_count_),
            pending_.begin() + static_cast<std::ptrdiff_t>(best));
  --pending_count_;
  return true;
}

}  // namespace xarb::exec
