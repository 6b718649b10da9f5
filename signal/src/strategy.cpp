#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

#include <xarb/core/clock.hpp>
#include <xarb/signal/strategy.hpp>

namespace xarb::signal {
namespace {

constexpr std::array<Direction, 2> kDirections = {Direction::kimchi, Direction::reverse};

constexpr std::size_t di(Direction d) noexcept { return static_cast<std::size_t>(d); }

// The levels an order on `side` trades against: a buy takes the asks, a sell hits the bids.
std::span<const Level> levels_for(const BookSnapshot& b, Side side) noexcept {
  return side == Side::buy ? std::span<const Level>(b.asks.data(), b.ask_count)
                           : std::span<const Level>(b.bids.data(), b.bid_count);
}

// The IOC limit: the worst level the walk reached, moved by the slippage cap in the order's
// direction (a VWAP-based limit would stop short of the levels the VWAP is made of). Integer
// arithmetic in 1/100 bps, rounded towards the less aggressive price; exec rounds to the tick.
Decimal limit_price(Decimal worst, Side side, double slippage_bps) noexcept {
  const auto centi_bps = static_cast<Int128>(std::llround(std::max(slippage_bps, 0.0) * 100.0));
  const auto delta = static_cast<std::int64_t>(worst.mantissa() * centi_bps / 1'000'000);
  return Decimal::from_mantissa(side == Side::buy ? worst.mantissa() + delta
                                                  : worst.mantissa() - delta);
}

void fill_leg(LegIntent& leg, Venue v, Side side, InstrumentId i, const BookSnapshot& book,
              Decimal qty, Decimal worst, double slippage_bps) noexcept {
  leg.venue = v;
  leg.side = side;
  leg.instrument = i;
  leg.quantity = qty;
  leg.limit_price = qty.is_positive() ? limit_price(worst, side, slippage_bps) : Decimal{};
  const std::span<const Level> levels = levels_for(book, side);
  leg.level_count = static_cast<std::uint8_t>(levels.size());
  std::copy(levels.begin(), levels.end(), leg.levels.begin());
  std::fill(leg.levels.begin() + static_cast<std::ptrdiff_t>(levels.size()), leg.levels.end(),
            Level{});
}

Decimal to_decimal(double v) noexcept {
  Decimal out;
  return from_double(v, Rounding::down, out) == Errc::ok ? out : Decimal{};
}

std::int64_t abs64(std::int64_t v) noexcept { return v < 0 ? -v : v; }

}  // namespace

Strategy::Strategy(const SymbolMap& symbols, const StrategyParams& params) noexcept
    : symbols_(symbols),
      params_(params),
      fx_(params.fx),
      risk_(params.risk),
      positions_(params.first_position_id) {
  for (auto& per_pair : baselines_) {
    for (auto& per_symbol : per_pair) {
      for (Ewma& e : per_symbol) e = Ewma(params_.ewma_half_life_ns);
    }
  }
  params_.clips = std::clamp(params_.clips, 1, 100);
  params_.pair_count = std::min(params_.pair_count, kMaxPairs);
}

std::size_t Strategy::pair_index(VenuePair pair) const noexcept {
  std::size_t k = 0;
  while (k < params_.pair_count && !(params_.pairs[k].pair == pair)) ++k;
  return k;
}

bool Strategy::needs_fx() const noexcept {
  return std::any_of(pairs().begin(), pairs().end(),
                     [](const PairParams& p) { return p.pair.valid() && p.fx; });
}

FxTracker::Quote Strategy::fx_quote(std::size_t k, std::int64_t mono_ns,
                                    std::int64_t max_age_ns) const noexcept {
  if (!params_.pairs[k].fx) return {1.0, RefusalReason::none};
  return max_age_ns > 0 ? fx_.quote(mono_ns, max_age_ns) : fx_.quote(mono_ns);
}

double Strategy::fx_last(std::size_t k) const noexcept {
  return params_.pairs[k].fx ? fx_.last() : 1.0;
}

// ---------------------------------------------------------------------------------------------
// Books

void Strategy::on_book(const BookSnapshot& snapshot, const Now& now, SignalSink& sink) noexcept {
  ++stats_.updates;
  const InstrumentId i = snapshot.instrument;
  if (i >= symbols_.size()) return;
  if (i == symbols_.fx()) {
    fx_.on_book(snapshot, now.mono_ns);
    for (std::size_t k = 0; k < params_.pair_count; ++k) {
      if (!params_.pairs[k].fx) continue;  // KRW against KRW: no rate involved
      for (const Instrument& s : symbols_) {
        if (!s.is_fx) evaluate(k, s.id, snapshot.stamps, now, true, sink);
      }
    }
    return;
  }
  const auto trades = [&](const PairParams& p) { return p.pair.contains(snapshot.venue); };
  if (std::none_of(pairs().begin(), pairs().end(), trades)) return;  // a venue not traded
  books_[i][index(snapshot.venue)] = snapshot;
  have_book_[i][index(snapshot.venue)] = true;
  for (std::size_t k = 0; k < params_.pair_count; ++k) {
    if (trades(params_.pairs[k])) evaluate(k, i, snapshot.stamps, now, true, sink);
  }
}

void Strategy::on_timer(const Now& now, SignalSink& sink) noexcept {
  // No frame triggered these checks: their intents carry no receive stamp, so tick-to-order
  // latencies count only decisions a market update caused.
  const StageStamps untriggered{};
  for (std::size_t k = 0; k < params_.pair_count; ++k) {
    for (const Instrument& s : symbols_) {
      if (!s.is_fx) evaluate(k, s.id, untriggered, now, false, sink);
    }
  }
}

const Position* Strategy::restore(const Position& position, std::int64_t opened_wall_ns,
                                  const Now& now) noexcept {
  if (position.instrument >= symbols_.size() || symbols_[position.instrument].is_fx) return nullptr;
  const std::size_t k = pair_index(position.pair);
  if (k == params_.pair_count) return nullptr;  // a pair this strategy does not trade
  Position* p = positions_.adopt(position);
  if (p == nullptr) return nullptr;
  p->opened_ns = p->created_ns = now.mono_ns - std::max<std::int64_t>(0, now.wall_ns - opened_wall_ns);
  p->exit_in_flight = false;
  p->pending_krw = 0.0;
  p->pending_qty = 0;
  p->clips_planned = p->clips_sent = p->clips_reported = 1;
  p->close_request = ExitReason::none;
  p->exposure_krw = p->entry_notional;
  if (p->state != PositionState::broken && p->hedged() && !p->flat()) {
    p->state = PositionState::open;
  } else {
    p->state = PositionState::broken;
    ++stats_.broken;
    ++stats_.symbols[p->instrument].broken;
    ++stats_.pairs[k].broken;
    risk_.on_broken();
  }
  return p;
}

RefusalReason Strategy::book_gate(std::size_t k, InstrumentId i, const Now& now,
                                  std::int64_t max_age_ns) const noexcept {
  const VenuePair pair = params_.pairs[k].pair;
  for (const Venue v : {pair.first, pair.second}) {
    const BookSnapshot& b = books_[i][index(v)];
    if (!b.tradable()) return RefusalReason::book_stale;
    const std::int64_t received = b.stamps.get(Stage::received);
    if (received != 0 && now.mono_ns - received > max_age_ns) return RefusalReason::book_age;
  }
  return RefusalReason::none;
}

double Strategy::edge_over_baseline(std::size_t k, InstrumentId i,
                                    const Premium& p) const noexcept {
  if (params_.baseline == BaselineMode::zero) return p.edge_bps();
  const Ewma& e = baselines_[k][i][di(p.direction)];
  return e.ready() ? p.edge_bps() - e.value() : -std::numeric_limits<double>::infinity();
}

void Strategy::evaluate(std::size_t k, InstrumentId i, const StageStamps& trigger, const Now& now,
                        bool entries, SignalSink& sink) noexcept {
  const PairParams& pp = params_.pairs[k];
  if (!pp.pair.valid()) return;  // nothing to trade across
  if (!have_book_[i][index(pp.pair.first)] || !have_book_[i][index(pp.pair.second)]) return;
  const BookSnapshot& u = books_[i][index(pp.pair.first)];
  const BookSnapshot& b = books_[i][index(pp.pair.second)];
  const SymbolParams& sp = params_.symbols[i];
  const double fx_last = this->fx_last(k);

  // Each direction's premium at the trade size: the entry signal, the baseline's sample and the
  // reversal measure of open positions.
  std::array<Premium, 2> edges{};
  if (sp.trade_qty.is_positive() && fx_last > 0.0) {
    for (const Direction d : kDirections) {
      edges[di(d)] = premium(u, b, fx_last, d, sp.trade_qty, pp.fees);
    }
  }

  run_exits(k, i, trigger, now, edges, sink);
  if (entries && sp.trade_qty.is_positive()) {
    if (fx_last > 0.0) {
      run_entries(k, i, trigger, now, edges, sink);
    } else {
      // No rate at all: no premium to trade on, and the report says why.
      for (const Direction d : kDirections) {
        if (d == Direction::kimchi ? params_.kimchi : params_.reverse) {
          refuse(k, i, d, RefusalReason::fx_missing, 0.0, sink);
        }
      }
    }
  }

  // The baseline learns only from usable data: tradable fresh books and a fresh FX rate.
  if (params_.baseline == BaselineMode::ewma &&
      fx_quote(k, now.mono_ns).refusal == RefusalReason::none &&
      book_gate(k, i, now, params_.max_book_age_ns) == RefusalReason::none) {
    for (const Direction d : kDirections) {
      if (edges[di(d)].valid) {
        baselines_[k][i][di(d)].update(edges[di(d)].edge_bps(), now.mono_ns);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Entries

// Money across every pair (total, the symbol's KRW and quantity, each venue's); pair k's money;
// the open positions a limit per symbol counts, of pair k only.
Strategy::Exposure Strategy::exposure(std::size_t k, InstrumentId i) const noexcept {
  Exposure e;
  for (std::size_t n = 0; n < positions_.size(); ++n) {
    const Position& p = positions_[n];
    const PositionLeg& up = p.first();
    const std::int64_t held = std::max({up.held(), p.second().held(), std::int64_t{0}});
    const double krw = p.pending_krw + static_cast<double>(held) /
                                           static_cast<double>(Decimal::kOne) *
                                           up.opened.avg_price();
    e.total_krw += krw;
    ++e.total_open;
    if (p.pair == params_.pairs[k].pair) e.pair_krw += krw;
    for (const Venue v : {p.pair.first, p.pair.second}) {
      if (valid(v)) e.venue_krw[index(v)] += krw;
    }
    if (p.instrument == i) {
      e.symbol_krw += krw;
      e.symbol_qty += held + p.pending_qty;
      if (p.pair == params_.pairs[k].pair) ++e.symbol_open;
    }
  }
  return e;
}

Strategy::Needs Strategy::needs(std::size_t k, const Premium& p, Decimal qty) const noexcept {
  Needs n;
  const PairParams& pp = params_.pairs[k];
  for (const Venue v : {pp.pair.first, pp.pair.second}) {
    const bool first = v == pp.pair.first;
    const Side side = entry_side(p.direction, first);
    if (side == Side::sell) {
      n.base[index(v)] = qty.mantissa();
    } else {
      const Decimal worst = first ? p.first_worst : p.second_worst;
      const double fee_bps = first ? pp.fees.first_bps : pp.fees.second_bps;
      const Int128 notional =
          static_cast<Int128>(limit_price(worst, side, params_.slippage_bps).mantissa()) *
          qty.mantissa();
      // Fee on top, rounded up to a whole 1e-16 unit.
      const auto fee_centi_bps = static_cast<Int128>(std::llround(fee_bps * 100.0));
      n.quote_e16[index(v)] = notional + (notional * fee_centi_bps + 999'999) / 1'000'000;
    }
  }
  return n;
}

RefusalReason Strategy::check_entry(std::size_t k, InstrumentId i, const Premium& p, Decimal qty,
                                    const Now& now, const FxTracker::Quote& fx, const Exposure& e,
                                    bool continuation) noexcept {
  const SymbolParams& sp = params_.symbols[i];
  const VenuePair pair = params_.pairs[k].pair;
  const double notional_krw = p.first_vwap * qty.to_double();
  // Global tier.
  if (const RefusalReason r = risk_.check_global(now); r != RefusalReason::none) return r;
  if (!continuation && e.total_open >= params_.max_open_total) return RefusalReason::max_open_total;
  if (const RefusalReason r = risk_.check_exposure(e.total_krw + notional_krw,
                                                   e.symbol_krw + notional_krw);
      r != RefusalReason::none) {
    return r;
  }
  // Venue and pair tier.
  if (!risk_.venue_healthy(pair.first) || !risk_.venue_healthy(pair.second)) {
    return RefusalReason::venue_unhealthy;
  }
  for (const Venue v : {pair.first, pair.second}) {
    const std::int64_t limit = risk_.params().max_venue_exposure_krw[index(v)];
    if (limit > 0 && e.venue_krw[index(v)] + notional_krw > static_cast<double>(limit)) {
      return RefusalReason::venue_exposure;
    }
  }
  if (const std::int64_t limit = params_.pairs[k].max_exposure_krw;
      limit > 0 && e.pair_krw + notional_krw > static_cast<double>(limit)) {
    return RefusalReason::pair_exposure;
  }
  if (risk_.params().check_balances) {
    const Needs n = needs(k, p, qty);
    for (const Venue v : {pair.first, pair.second}) {
      if (inventory_.free_base(v, i) < n.base[index(v)] ||
          inventory_.free_quote_e16(v) < n.quote_e16[index(v)]) {
        return RefusalReason::balance;
      }
    }
    // Only what the entry spends counts: the asset it receives there can only rise.
    const InventoryParams& floors = params_.inventory;
    for (const Venue v : {pair.first, pair.second}) {
      const std::int64_t base = n.base[index(v)];
      const Int128 quote = n.quote_e16[index(v)];
      if ((base > 0 && inventory_.free_base(v, i) - base < floors.floor_base[index(v)][i]) ||
          (quote > 0 && inventory_.free_quote_e16(v) - quote < floors.floor_quote_e16[index(v)])) {
        return RefusalReason::inventory_floor;
      }
    }
  }
  // Symbol tier.
  if (!continuation && e.symbol_open >= params_.max_open_per_symbol) {
    return RefusalReason::max_open_symbol;
  }
  if (sp.max_position_qty.is_positive() &&
      e.symbol_qty + qty.mantissa() > sp.max_position_qty.mantissa()) {
    return RefusalReason::symbol_exposure;
  }
  if (!continuation && exited_once_[k][i] &&
      now.mono_ns - last_exit_ns_[k][i] < params_.cooldown_ns) {
    return RefusalReason::cooldown;
  }
  if (!continuation && now.mono_ns < entry_after_ns_[k][i]) return RefusalReason::cooldown;
  // Trade tier: data, FX, clocks, depth, size.
  if (const RefusalReason r = book_gate(k, i, now, params_.max_book_age_ns);
      r != RefusalReason::none) {
    return r;
  }
  if (fx.refusal != RefusalReason::none) return fx.refusal;
  const BookSnapshot& u = books_[i][index(pair.first)];
  const BookSnapshot& b = books_[i][index(pair.second)];
  const std::int64_t eu = u.stamps.get(Stage::exchange);
  const std::int64_t eb = b.stamps.get(Stage::exchange);
  if (eu != 0 && eb != 0 && abs64(eu - eb) > params_.max_clock_skew_ns) {
    return RefusalReason::clock_skew;
  }
  const Decimal depth = std::min(side_depth(levels_for(u, entry_side(p.direction, true))),
                                 side_depth(levels_for(b, entry_side(p.direction, false))));
  if (!qty.is_positive() ||
      depth.to_double() < sp.trade_qty.to_double() * params_.min_depth_ratio) {
    return RefusalReason::depth;
  }
  return risk_.check_notional(notional_krw);
}

void Strategy::run_entries(std::size_t k, InstrumentId i, const StageStamps& trigger,
                           const Now& now, const std::array<Premium, 2>& edges,
                           SignalSink& sink) noexcept {
  const SymbolParams& sp = params_.symbols[i];
  const PairParams& pp = params_.pairs[k];
  const FxTracker::Quote fx = fx_quote(k, now.mono_ns);
  const Decimal clip = Decimal::from_mantissa(sp.trade_qty.mantissa() / params_.clips);
  // A direction that cannot take another clip for want of inventory (its floor, or none left)
  // makes the other one, which refills what it lacks, the preferred one: its threshold drops by
  // prefer_bps, never under a zero edge. Looked at only for an edge in the band it opens.
  const double preferred_bps = std::max(params_.entry_bps - params_.inventory.prefer_bps, 0.0);
  const bool may_prefer = params_.inventory.prefer_bps > 0.0 && risk_.params().check_balances;
  for (const Direction d : kDirections) {
    if (!(d == Direction::kimchi ? params_.kimchi : params_.reverse)) continue;
    const Premium& full = edges[di(d)];
    // A position of this symbol, pair and direction still sending its clips.
    Position* cont = nullptr;
    for (std::size_t n = 0; n < positions_.size(); ++n) {
      Position& p = positions_[n];
      if (p.instrument == i && p.pair == pp.pair && p.direction == d &&
          p.state == PositionState::opening && p.clips_sent < p.clips_planned) {
        cont = &p;
        break;
      }
    }
    const double rel = full.valid ? edge_over_baseline(k, i, full) : 0.0;
    const Direction other = d == Direction::kimchi ? Direction::reverse : Direction::kimchi;
    const double threshold =
        may_prefer && full.valid && rel < params_.entry_bps && rel >= preferred_bps &&
                !room_for(k, i, other, clip.mantissa()) && room_for(k, i, d, clip.mantissa())
            ? preferred_bps
            : params_.entry_bps;
    if (!full.valid || !(rel >= threshold)) {
      last_refusal_[k][i][di(d)] = RefusalReason::none;
      if (cont != nullptr) stop_clips(*cont, now, sink);  // the signal has gone
      continue;
    }
    if (cont != nullptr && cont->clips_reported != cont->clips_sent) continue;  // one at a time
    const Premium p =
        params_.clips == 1
            ? full
            : premium(books_[i][index(pp.pair.first)], books_[i][index(pp.pair.second)],
                      full.first_vwap > 0.0 ? fx_last(k) : 0.0, d, clip, pp.fees);
    // The size both books hold bounds the clip; check_entry decides whether that is enough.
    const Decimal qty = p.valid ? std::min(clip, p.qty) : Decimal{};
    const RefusalReason r =
        p.valid ? check_entry(k, i, p, qty, now, fx, exposure(k, i), cont != nullptr)
                : RefusalReason::depth;
    if (r != RefusalReason::none) {
      refuse(k, i, d, r, full.edge_bps(), sink);
      if (cont != nullptr) stop_clips(*cont, now, sink);
      continue;
    }
    if (send_entry(k, cont, i, p, qty, fx.rate, trigger, now, sink)) {
      last_refusal_[k][i][di(d)] = RefusalReason::none;
    }
  }
}

bool Strategy::room_for(std::size_t k, InstrumentId i, Direction d,
                        std::int64_t qty) const noexcept {
  // headroom(k, i, d).qty >= qty, without its divisions (on every update while prefer_bps is on).
  const PairParams& pp = params_.pairs[k];
  if (!have_book_[i][index(pp.pair.first)] || !have_book_[i][index(pp.pair.second)]) return true;
  const InventoryParams& floors = params_.inventory;
  for (const Venue v : {pp.pair.first, pp.pair.second}) {
    const bool first = v == pp.pair.first;
    if (entry_side(d, first) == Side::sell) {
      if (inventory_.free_base(v, i) - floors.floor_base[index(v)][i] < qty) return false;
      continue;
    }
    const BookSnapshot& book = books_[i][index(v)];
    if (book.ask_count == 0) return true;  // unknown: no preference either way
    const Decimal price = limit_price(book.asks[0].price, Side::buy, params_.slippage_bps);
    const auto fee_centi_bps =
        static_cast<Int128>(std::llround((first ? pp.fees.first_bps : pp.fees.second_bps) * 100.0));
    const Int128 spare = inventory_.free_quote_e16(v) - floors.floor_quote_e16[index(v)];
    if (spare * 1'000'000 <
        static_cast<Int128>(qty) * price.mantissa() * (1'000'000 + fee_centi_bps)) {
      return false;
    }
  }
  return true;
}

Strategy::Headroom Strategy::headroom(std::size_t k, InstrumentId i, Direction d) const noexcept {
  Headroom h;
  if (k >= params_.pair_count || i >= symbols_.size()) return h;
  const PairParams& pp = params_.pairs[k];
  if (!pp.pair.valid() || !have_book_[i][index(pp.pair.first)] ||
      !have_book_[i][index(pp.pair.second)]) {
    return h;
  }
  const InventoryParams& floors = params_.inventory;
  h.known = true;
  h.qty = std::numeric_limits<std::int64_t>::max();
  for (const Venue v : {pp.pair.first, pp.pair.second}) {
    const bool first = v == pp.pair.first;
    std::int64_t qty = 0;
    if (entry_side(d, first) == Side::sell) {
      qty = std::max<std::int64_t>(inventory_.free_base(v, i) - floors.floor_base[index(v)][i], 0);
    } else {
      const BookSnapshot& book = books_[i][index(v)];
      if (book.ask_count == 0) {
        h.known = false;
        return h;
      }
      const Decimal price = limit_price(book.asks[0].price, Side::buy, params_.slippage_bps);
      const auto fee_centi_bps = static_cast<Int128>(
          std::llround((first ? pp.fees.first_bps : pp.fees.second_bps) * 100.0));
      const Int128 spare = inventory_.free_quote_e16(v) - floors.floor_quote_e16[index(v)];
      const Int128 unit = static_cast<Int128>(price.mantissa()) * (1'000'000 + fee_centi_bps);
      const Int128 q = spare > 0 && unit > 0 ? spare * 1'000'000 / unit : 0;
      qty =
          static_cast<std::int64_t>(std::min<Int128>(q, std::numeric_limits<std::int64_t>::max()));
    }
    if (qty < h.qty) {
      h.qty = qty;
      h.venue = v;
      h.quote = entry_side(d, first) == Side::buy;
    }
  }
  return h;
}

void Strategy::stop_clips(Position& p, const Now& now, SignalSink& sink) noexcept {
  p.clips_planned = p.clips_sent;
  if (p.clips_reported == p.clips_sent) settle_entry(p, now, sink);
}

void Strategy::refuse(std::size_t k, InstrumentId i, Direction d, RefusalReason r, double edge_bps,
                      SignalSink& sink) noexcept {
  risk_.count(r);
  if (last_refusal_[k][i][di(d)] == r) return;
  last_refusal_[k][i][di(d)] = r;
  RiskRefusal event;
  event.reason = r;
  event.instrument = i;
  event.pair = params_.pairs[k].pair;
  event.direction = d;
  event.kind = IntentKind::entry;
  event.edge_bps = edge_bps;
  sink.on_refusal(event);
}

Strategy::InFlight* Strategy::free_in_flight() noexcept {
  for (InFlight& f : in_flight_) {
    if (f.intent_id == 0) return &f;
  }
  return nullptr;
}

Strategy::InFlight* Strategy::find_in_flight(std::uint64_t intent_id) noexcept {
  if (intent_id == 0) return nullptr;
  for (InFlight& f : in_flight_) {
    if (f.intent_id == intent_id) return &f;
  }
  return nullptr;
}

void Strategy::stamp(OrderIntent& intent, const Position& p, IntentKind kind, Decimal fx,
                     const StageStamps& trigger, const Now& now) noexcept {
  // A ring slot holds what the intent before it left there (its legs' venues, independent legs):
  // every intent starts from a clean one.
  intent = OrderIntent{};
  intent.intent_id = next_intent_id_++;
  intent.position_id = p.id;
  intent.kind = kind;
  intent.direction = p.direction;
  intent.fx_rate = fx;
  intent.deadline_ns = now.mono_ns + params_.exec_deadline_ns;
  intent.stamps = trigger;
  intent.stamps.set(Stage::decided, clock::mono_ns());
}

bool Strategy::send_entry(std::size_t k, Position* cont, InstrumentId i, const Premium& pr,
                          Decimal qty, double fx, const StageStamps& trigger, const Now& now,
                          SignalSink& sink) noexcept {
  const VenuePair pair = params_.pairs[k].pair;
  InFlight* f = free_in_flight();
  if (f == nullptr || (cont == nullptr && positions_.size() >= kMaxPositions)) {
    ++stats_.dropped;
    return false;
  }
  OrderIntent* intent = sink.claim_intent();
  if (intent == nullptr) {
    ++stats_.dropped;
    return false;
  }
  Position* p = cont;
  if (p == nullptr) {
    p = positions_.open(i, pr.direction, pair);  // a slot is free: checked above
    p->clips_planned = static_cast<std::uint8_t>(params_.clips);
    p->created_ns = now.mono_ns;
    p->entry_edge_bps = pr.edge_bps();
    p->entry_fx = to_decimal(fx);
    p->clip_qty = qty;
    transition(*p, PositionState::opening, sink);
  }
  stamp(*intent, *p, IntentKind::entry, to_decimal(fx), trigger, now);
  intent->exit_reason = ExitReason::none;
  intent->edge_bps = pr.edge_bps();
  for (const Venue v : {pair.first, pair.second}) {
    fill_leg(intent->leg(v), v, entry_side(pr.direction, v == pair.first), i, books_[i][index(v)],
             qty, v == pair.first ? pr.first_worst : pr.second_worst, params_.slippage_bps);
  }

  const Needs n = needs(k, pr, qty);
  *f = InFlight{};
  f->intent_id = intent->intent_id;
  f->position_id = p->id;
  f->instrument = i;
  f->kind = IntentKind::entry;
  f->fx = intent->fx_rate;
  f->notional_krw = pr.first_vwap * qty.to_double();
  f->qty = qty.mantissa();
  f->needs = n;
  for (const Venue v : {pair.first, pair.second}) {
    inventory_.reserve(v, i, n.base[index(v)], n.quote_e16[index(v)]);
  }
  p->pending_krw += f->notional_krw;
  p->pending_qty += f->qty;
  ++p->clips_sent;
  ++stats_.entries;
  ++stats_.symbols[i].entries;
  ++stats_.pairs[k].entries;
  sink.publish_intent();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Exits

void Strategy::run_exits(std::size_t k, InstrumentId i, const StageStamps& trigger, const Now& now,
                         const std::array<Premium, 2>& edges, SignalSink& sink) noexcept {
  ExitContext ctx;
  bool any = false;
  for (std::size_t n = 0; n < positions_.size(); ++n) {
    Position& p = positions_[n];
    if (p.instrument != i || !(p.pair == params_.pairs[k].pair)) continue;
    if (!any) {
      // Once per symbol, pair and update: the exit gate (its own staleness bound) and the rate.
      any = true;
      const FxTracker::Quote fx = fx_quote(k, now.mono_ns, params_.exit_max_book_age_ns);
      ctx.usable = book_gate(k, i, now, params_.exit_max_book_age_ns) == RefusalReason::none &&
                   fx.refusal == RefusalReason::none;
      ctx.fx = fx.rate;
    }
    try_exit(k, p, trigger, now, edges, ctx, sink);
  }
}

const Strategy::ExitContext::CachedWalk& Strategy::ExitContext::walk(const BookSnapshot& book, Venue v, Side side,
                                        std::int64_t qty) noexcept {
  // Positions of a symbol mostly hold the same size: one walk serves them all.
  CachedWalk& c = cache[index(v)];
  if (!c.valid || c.side != side || c.qty != qty) {
    c.walk = walk_book(levels_for(book, side), Decimal::from_mantissa(qty));
    c.vwap = c.walk.vwap();
    c.side = side;
    c.qty = qty;
    c.valid = true;
  }
  return c;
}

void Strategy::try_exit(std::size_t k, Position& p, const StageStamps& trigger, const Now& now,
                        const std::array<Premium, 2>& edges, ExitContext& ctx,
                        SignalSink& sink) noexcept {
  const PairParams& pp = params_.pairs[k];
  if (p.exit_in_flight) return;
  if (p.state != PositionState::open && p.state != PositionState::broken) return;
  // What one venue holds is not known: closing the other leg could unhedge it. Held, BROKEN
  // (entries stopped), until a restart asks the venue.
  if (p.outcome_unknown()) return;
  if (now.mono_ns < p.retry_after_ns) return;
  if (!ctx.usable) {
    ++stats_.exit_deferred;
    return;
  }
  const InstrumentId i = p.instrument;

  // Walk each venue's exit side for what it holds (an over-closed venue trades its entry side).
  std::array<const ExitContext::CachedWalk*, kMaxVenues> walks{};
  std::array<Side, kMaxVenues> sides{};
  for (const Venue v : {pp.pair.first, pp.pair.second}) {
    const PositionLeg& leg = p.leg(v);
    const std::int64_t held = leg.held();
    sides[index(v)] = held >= 0 ? opposite(leg.entry_side) : leg.entry_side;
    walks[index(v)] = &ctx.walk(books_[i][index(v)], v, sides[index(v)], abs64(held));
  }
  const Mark m = mark(p, walks[index(pp.pair.first)]->vwap, walks[index(pp.pair.second)]->vwap,
                      ctx.fx, pp.fees.first_bps, pp.fees.second_bps);
  p.last_mark_krw = m.pnl_krw;

  ExitReason reason = ExitReason::none;
  const Premium& edge = edges[di(p.direction)];
  if (p.state == PositionState::broken) {
    reason = ExitReason::unhedged;
  } else if (p.close_request != ExitReason::none) {
    reason = p.close_request;
  } else if (m.pnl_bps >= params_.take_profit_bps) {
    reason = ExitReason::take_profit;
  } else if (m.pnl_bps <= -params_.stop_loss_bps) {
    reason = ExitReason::stop_loss;
  } else if (edge.valid && edge_over_baseline(k, i, edge) <= params_.reversal_bps) {
    reason = ExitReason::reversal;
  } else if (now.mono_ns - p.opened_ns >= params_.timeout_ns) {
    reason = ExitReason::timeout;
  }
  if (reason == ExitReason::none) return;

  // A hedged position exits the same quantity on both venues: what both books can take, plus on
  // each venue what it holds beyond the other (the commission a venue took in the base asset:
  // each venue closes what it holds, so neither keeps a remainder). A leg written off as under
  // its venue's minimum is not sent again.
  const std::size_t u = index(pp.pair.first), b = index(pp.pair.second);
  std::array<Decimal, kMaxVenues> qty{};
  for (const Venue v : {pp.pair.first, pp.pair.second}) {
    qty[index(v)] =
        abs64(p.leg(v).held()) <= p.leg_dust[index(v)] ? Decimal{} : walks[index(v)]->walk.qty;
  }
  const bool independent = p.state == PositionState::broken || p.split_exit;
  if (!independent) {
    const std::int64_t common = std::min(qty[u].mantissa(), qty[b].mantissa());
    const std::int64_t least = std::min(abs64(p.legs[u].held()), abs64(p.legs[b].held()));
    for (const std::size_t v : {u, b}) {
      const std::int64_t extra = common > 0 ? abs64(p.legs[v].held()) - least : 0;
      qty[v] = Decimal::from_mantissa(std::min(qty[v].mantissa(), common + extra));
    }
  }
  if (qty[u].is_zero() && qty[b].is_zero()) {
    ++stats_.exit_deferred;
    return;
  }
  InFlight* f = free_in_flight();
  OrderIntent* intent = f != nullptr ? sink.claim_intent() : nullptr;
  if (intent == nullptr) {
    ++stats_.dropped;
    return;
  }
  stamp(*intent, p, IntentKind::exit, to_decimal(ctx.fx), trigger, now);
  intent->exit_reason = reason;
  intent->independent_legs = independent;
  intent->edge_bps = m.pnl_bps;
  for (const Venue v : {pp.pair.first, pp.pair.second}) {
    fill_leg(intent->leg(v), v, sides[index(v)], i, books_[i][index(v)], qty[index(v)],
             walks[index(v)]->walk.worst, params_.slippage_bps);
  }
  *f = InFlight{};
  f->intent_id = intent->intent_id;
  f->position_id = p.id;
  f->instrument = i;
  f->kind = IntentKind::exit;
  f->fx = intent->fx_rate;

  p.exit_in_flight = true;
  p.exit_reason = reason;
  transition(p, PositionState::closing, sink);
  ++stats_.exit_intents;
  ++stats_.exits[static_cast<std::size_t>(reason)];
  sink.publish_intent();
}

void Strategy::close_all(ExitReason reason) noexcept { close_instrument(kNoInstrument, reason); }

void Strategy::close_instrument(InstrumentId instrument, ExitReason reason) noexcept {
  for (std::size_t k = 0; k < positions_.size(); ++k) {
    Position& p = positions_[k];
    if (instrument != kNoInstrument && p.instrument != instrument) continue;
    p.close_request = reason;
    if (p.state == PositionState::opening) p.clips_planned = p.clips_sent;
  }
}

void Strategy::apply_live_params(const StrategyParams& p) noexcept {
  params_.entry_bps = p.entry_bps;
  params_.take_profit_bps = p.take_profit_bps;
  params_.stop_loss_bps = p.stop_loss_bps;
  params_.reversal_bps = p.reversal_bps;
  params_.timeout_ns = p.timeout_ns;
  params_.cooldown_ns = p.cooldown_ns;
  params_.max_open_per_symbol = p.max_open_per_symbol;
  params_.max_open_total = p.max_open_total;
  params_.min_depth_ratio = p.min_depth_ratio;
  params_.slippage_bps = p.slippage_bps;
  RiskParams& r = params_.risk;
  r.daily_loss_limit_krw = p.risk.daily_loss_limit_krw;
  r.max_total_exposure_krw = p.risk.max_total_exposure_krw;
  r.max_symbol_exposure_krw = p.risk.max_symbol_exposure_krw;
  r.max_notional_krw = p.risk.max_notional_krw;
  r.max_consecutive_failures = p.risk.max_consecutive_failures;
  risk_.set_limits(r);
  params_.inventory = p.inventory;
}

double Strategy::unrealized_krw() const noexcept {
  double total = 0.0;
  for (std::size_t k = 0; k < positions_.size(); ++k) total += positions_[k].last_mark_krw;
  return total;
}

// ---------------------------------------------------------------------------------------------
// Reports

void Strategy::apply_leg(Position& p, const LegReport& leg) noexcept {
  // An empty leg (no instrument) or one on a venue outside the position's pair books nothing.
  if (leg.instrument != p.instrument || !p.pair.contains(leg.venue)) return;
  PositionLeg& pl = p.leg(leg.venue);
  const auto book = [&](Side side, Decimal q, Decimal price) {
    if (!q.is_positive()) return;
    (side == pl.entry_side ? pl.opened : pl.closed).add(q, price);
    inventory_.apply_trade(leg.venue, p.instrument, side, q, price);
  };
  book(leg.side, leg.filled_qty, leg.avg_price);
  book(opposite(leg.side), leg.unwound_qty, leg.unwind_avg_price);
  if (!leg.fee.is_zero()) {
    pl.fees_e16 += static_cast<Int128>(leg.fee.mantissa()) * Decimal::kOne;
    inventory_.apply_fee(leg.venue, leg.fee);
  }
  if (leg.fee_base.is_positive()) {
    pl.fee_base += leg.fee_base.mantissa();
    inventory_.apply_base_fee(leg.venue, p.instrument, leg.fee_base);
  }
  pl.fee_bnb += std::max<std::int64_t>(leg.fee_bnb.mantissa(), 0);
}

void Strategy::on_report(const ExecReport& report, const Now& now, SignalSink& sink) noexcept {
  // Exec's word on each venue: an unhealthy one gets no entry decided for it (exec would refuse
  // it); exits go on.
  for (std::size_t k = 0; k < kMaxVenues; ++k) {
    risk_.set_venue_healthy(Venue{static_cast<std::uint8_t>(k)}, report.venue_healthy[k]);
  }
  if (report.status_only) return;
  if (report.settles) {
    on_settled(report, now, sink);
    return;
  }
  InFlight* f = find_in_flight(report.intent_id);
  if (f == nullptr) {
    ++stats_.unknown_reports;
    return;
  }
  const InFlight rec = *f;
  f->intent_id = 0;
  for (std::size_t v = 0; v < kMaxVenues; ++v) {  // what the entry reserved (exits reserve none)
    inventory_.release(Venue{static_cast<std::uint8_t>(v)}, rec.instrument, rec.needs.base[v],
                       rec.needs.quote_e16[v]);
  }
  if (static_cast<std::size_t>(report.outcome) < stats_.outcomes.size()) {
    ++stats_.outcomes[static_cast<std::size_t>(report.outcome)];
  }
  if (report.outcome == ExecOutcome::blocked && report.refusal != RefusalReason::none) {
    risk_.count(report.refusal);
  }
  Position* p = positions_.find(rec.position_id);
  if (p == nullptr) {
    ++stats_.unknown_reports;
    return;
  }
  for (const LegReport& leg : report.legs) {
    apply_leg(*p, leg);
    if (leg.state == OrderState::unknown && p->unknown_orders < 255) ++p->unknown_orders;
  }
  p->refresh();
  p->dust += std::max<std::int64_t>(report.dust_qty.mantissa(), 0);

  const bool filled_any = report.legs[0].filled_qty.is_positive() ||
                          report.legs[1].filled_qty.is_positive();
  const bool failure = report.outcome == ExecOutcome::failed ||
                       report.outcome == ExecOutcome::rolled_back || !p->hedged();
  if (report.outcome != ExecOutcome::blocked) risk_.on_execution(failure, now);

  if (rec.kind == IntentKind::entry) {
    p->pending_krw -= rec.notional_krw;
    p->pending_qty -= rec.qty;
    ++p->clips_reported;
    const bool good = (report.outcome == ExecOutcome::success ||
                       report.outcome == ExecOutcome::partial_hedged) &&
                      p->hedged();
    if (!good) p->clips_planned = p->clips_sent;
    if (p->clips_reported == p->clips_sent && p->clips_sent == p->clips_planned) {
      settle_entry(*p, now, sink);
    }
    return;
  }

  p->exit_in_flight = false;
  // A leg below its venue's minimum or step cannot be closed by any order: its residual is
  // written off for that venue only (and counted). What the other venue holds stays a position.
  bool all_too_small =
      report.outcome == ExecOutcome::blocked && (report.refusal == RefusalReason::min_notional ||
                                                 report.refusal == RefusalReason::trading_rules);
  bool split_now = false;
  if (all_too_small && !p->split_exit && p->first().held() != 0 && p->second().held() != 0) {
    // A pair exit refused as too small may be too small on one venue only (their minimums
    // differ): close the legs independently before writing anything off.
    p->split_exit = true;
    split_now = true;
    all_too_small = false;
    if (p->close_request == ExitReason::none) p->close_request = p->exit_reason;  // asked again
  }
  bool wrote_off = false;
  for (const Venue v : {p->pair.first, p->pair.second}) {
    if (!all_too_small && report.leg(v).status != LegStatus::below_minimum) continue;
    const std::int64_t held = p->leg(v).held();
    if (held == 0) continue;
    p->leg_dust[index(v)] = std::max(p->leg_dust[index(v)], held < 0 ? -held : held);
    wrote_off = true;
  }
  if (wrote_off) ++stats_.dust_writeoffs;
  if (p->outcome_unknown()) {
    break_position(*p, sink);
  } else if (p->flat()) {
    close(*p, rec.fx, now, sink);
  } else if (p->hedged()) {
    // An exit that filled nothing waits before it is tried again, except the leg-by-leg exit
    // that follows a pair exit exec refused as too small: that refusal reached no venue, and
    // waiting would only hold the residual longer (a second per position, as the pipeline
    // benchmark showed once Binance's commissions were taken in the base asset).
    if (!filled_any && !split_now) p->retry_after_ns = now.mono_ns + params_.exit_retry_ns;
    transition(*p, PositionState::open, sink);
  } else {
    p->retry_after_ns = now.mono_ns + params_.exit_retry_ns;
    break_position(*p, sink);
  }
}

// The venue settled an order an earlier report left unknown: its fills join the position. Once
// nothing is unknown the position is what it holds: closed if flat, OPEN if hedged, else BROKEN
// with its legs closed on their own (its exit was held while the order was unknown).
void Strategy::on_settled(const ExecReport& report, const Now& now, SignalSink& sink) noexcept {
  Position* p = positions_.find(report.position_id);
  if (p == nullptr) {
    ++stats_.unknown_reports;
    return;
  }
  for (const LegReport& leg : report.legs) apply_leg(*p, leg);
  p->refresh();
  if (p->unknown_orders > 0) --p->unknown_orders;
  ++stats_.settled;
  if (p->outcome_unknown() || p->exit_in_flight) return;
  if (p->state == PositionState::opening && p->clips_reported < p->clips_sent) return;
  if (p->flat()) {
    close(*p, p->entry_fx, now, sink);
  } else if (!p->hedged()) {
    break_position(*p, sink);
  } else if (p->state == PositionState::broken) {
    // Hedged after all: an open position again, exited on its own terms. (REDUCING, set when
    // it broke, stays until an operator clears it.)
    if (p->opened_ns == 0) p->opened_ns = now.mono_ns;
    transition(*p, PositionState::open, sink);
  }
}

void Strategy::settle_entry(Position& p, const Now& now, SignalSink& sink) noexcept {
  if (p.outcome_unknown()) {
    break_position(p, sink);
  } else if (p.flat()) {
    close(p, p.entry_fx, now, sink);
  } else if (p.hedged()) {
    p.opened_ns = now.mono_ns;
    ++stats_.opened;
    transition(p, PositionState::open, sink);
  } else {
    break_position(p, sink);
  }
}

void Strategy::break_position(Position& p, SignalSink& sink) noexcept {
  if (p.state == PositionState::broken) return;  // still broken: counted once
  ++stats_.broken;
  ++stats_.symbols[p.instrument].broken;
  if (const std::size_t k = pair_index(p.pair); k < params_.pair_count) ++stats_.pairs[k].broken;
  risk_.on_broken();
  transition(p, PositionState::broken, sink);
}

void Strategy::close(Position& p, Decimal decided_fx, const Now& now, SignalSink& sink) noexcept {
  // The second venue's leg converts at the rate when the close completes, else the one the exit
  // used (1 when the pair quotes one currency). Positions are only ever opened or restored on a
  // traded pair: k is one.
  const std::size_t k = std::min(pair_index(p.pair), kMaxPairs - 1);
  const double last = fx_last(k);
  p.close_fx = last > 0.0 ? to_decimal(last) : decided_fx;
  p.realized_e16 = p.cash_krw_e16(p.close_fx);
  p.closed_ns = now.mono_ns;
  p.last_mark_krw = 0.0;
  const bool traded = p.first().opened.qty != 0 || p.second().opened.qty != 0;
  const double pnl = p.realized_krw();
  if (traded) {
    ++stats_.closed;
    stats_.realized_e16 += p.realized_e16;
    for (TradeStats* s : {&stats_.symbols[p.instrument], &stats_.pairs[k]}) {
      ++s->closed;
      s->realized_e16 += p.realized_e16;
      if (pnl > 0.0) ++s->wins;
    }
    if (pnl > 0.0) ++stats_.wins;
    risk_.on_realized(pnl, now);
    last_exit_ns_[k][p.instrument] = now.mono_ns;
    exited_once_[k][p.instrument] = true;
  } else {
    // Refused or unfilled: the same entry on the next update would most likely meet the same
    // answer. Wait as long as after an exit that filled nothing.
    ++stats_.unfilled;
    entry_after_ns_[k][p.instrument] = now.mono_ns + params_.exit_retry_ns;
  }
  transition(p, PositionState::closed, sink);
  positions_.release(p);
}

void Strategy::transition(Position& p, PositionState to, SignalSink& sink) noexcept {
  PositionChange c = p.change(to);
  c.exit_reason = p.exit_reason;
  c.qty = p.qty();
  c.fx_rate = to == PositionState::closed ? p.close_fx : p.entry_fx;
  if (to == PositionState::closed &&
      from_e16(p.realized_e16, Rounding::down, c.realized_krw) != Errc::ok) {
    c.realized_krw = p.realized_e16 < 0 ? -Decimal::max() : Decimal::max();
  }
  p.state = to;
  sink.on_position(c);
}

}  // namespace xarb::signal
