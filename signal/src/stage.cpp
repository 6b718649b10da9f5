#include <algorithm>

#include <xarb/core/clock.hpp>
#include <xarb/signal/stage.hpp>

namespace xarb::signal {
Now SignalStage::now() const noexcept {
  if (manual_ != nullptr) return {manual_->ns, manual_->ns};
  return {clock::mono_ns(), clock::wall_ns()};
}

SignalStage::SignalStage(Strategy& strategy, std::span<SpscRing<BookSnapshot>* const> book_rings,
                         SpscRing<ExecReport>& reports, SpscRing<OrderIntent>& intents,
                         OpsQueue* ops, OpsQueue::Producer* producer,
                         std::int64_t timer_period_ns) noexcept
    : strategy_(strategy),
      reports_(reports),
      intents_(intents),
      ops_(ops),
      producer_(producer),
      timer_period_ns_(timer_period_ns) {
  for (SpscRing<BookSnapshot>* r : book_rings) {
    if (r != nullptr && book_count_ < kMaxBookRings) books_[book_count_++] = r;
  }
}

void SignalStage::publish_telemetry() noexcept {
  SignalTelemetry t;
  t.strategy = strategy_.stats();
  t.stage = stats_;
  for (std::size_t k = 0; k < t.refusals.size(); ++k) {
    t.refusals[k] = strategy_.risk().refusals(static_cast<RefusalReason>(k));
  }
  t.risk_mode = strategy_.risk().mode();
  t.paused = strategy_.risk().kill_switch();
  t.open_positions = strategy_.open_positions();
  const PositionBook& book = strategy_.positions();
  for (std::size_t n = 0; n < book.size(); ++n) {
    const Position& p = book[n];
    if (p.instrument < kMaxInstruments) ++t.open_by_symbol[p.instrument];
    if (p.state == PositionState::broken || p.unknown_orders != 0) ++t.broken_open;
    if (const std::size_t k = strategy_.pair_index(p.pair); k < kMaxPairs) ++t.open_by_pair[k];
  }
  t.unrealized_krw = strategy_.unrealized_krw();
  const Inventory& inv = strategy_.inventory();
  const SymbolMap& symbols = strategy_.symbols();
  for (std::size_t v = 0; v < kMaxVenues; ++v) {
    const Venue venue{static_cast<std::uint8_t>(v)};
    t.quote_e16[v] = inv.quote_e16(venue);
    t.reserved_quote_e16[v] = inv.reserved_quote_e16(venue);
    for (const Instrument& s : symbols) {
      t.base[v][s.id] = inv.base(venue, s.id).mantissa();
      t.reserved_base[v][s.id] = inv.reserved_base(venue, s.id);
    }
  }
  for (std::size_t k = 0; k < strategy_.pairs().size(); ++k) {
    for (const Instrument& s : symbols) {
      if (s.is_fx) continue;
      for (const Direction d : {Direction::kimchi, Direction::reverse}) {
        t.headroom[k][s.id][static_cast<std::size_t>(d)] = strategy_.headroom(k, s.id, d);
      }
    }
  }
  published_.publish(t);
}

std::size_t SignalStage::poll(std::size_t budget) noexcept {
  std::size_t handled = 0;
  while (const ExecReport* r = reports_.front()) {
    strategy_.on_report(*r, now(), *this);
    reports_.pop();
    ++stats_.reports;
    ++handled;
  }
  // Round robin so that one busy feed cannot starve the others.
  std::size_t idle = 0;
  while (handled < budget && book_count_ > 0 && idle < book_count_) {
    SpscRing<BookSnapshot>& ring = *books_[next_ring_];
    next_ring_ = next_ring_ + 1 == book_count_ ? 0 : next_ring_ + 1;
    const BookSnapshot* s = ring.front();
    if (s == nullptr) {
      ++idle;
      continue;
    }
    idle = 0;
    const Now now = this->now();
    if (latencies_ != nullptr) {
      const StageStamps& st = s->stamps;
      if (const std::int64_t d = st.between(Stage::received, Stage::parsed); d >= 0) {
        latencies_->parse.record(d);
      }
      if (const std::int64_t d = st.between(Stage::parsed, Stage::applied); d >= 0) {
        latencies_->apply.record(d);
      }
      if (const std::int64_t a = st.get(Stage::applied); a != 0) {
        latencies_->book_queue.record(now.mono_ns - a);
      }
      if (const std::int64_t r = st.get(Stage::received); r != 0) {
        latencies_->tick_to_signal.record(now.mono_ns - r);
      }
    }
    taken_ns_ = now.mono_ns;
    strategy_.on_book(*s, now, *this);
    taken_ns_ = 0;
    ring.pop();
    ++stats_.books;
    ++handled;
  }
  const Now now = this->now();
  if (timer_period_ns_ > 0 && now.mono_ns >= next_timer_ns_) {
    next_timer_ns_ = now.mono_ns + timer_period_ns_;
    strategy_.on_timer(now, *this);
    ++stats_.timers;
  }
  return handled;
}

void SignalStage::publish_intent() noexcept {
  OrderIntent* slot = intents_.try_claim();
  if (slot != nullptr && latencies_ != nullptr) {
    const std::int64_t decided = slot->stamps.get(Stage::decided);
    if (taken_ns_ != 0 && decided != 0) latencies_->decide.record(decided - taken_ns_);
    if (const std::int64_t d = slot->stamps.between(Stage::received, Stage::decided); d >= 0) {
      latencies_->tick_to_decide.record(d);
    }
  }
  // The journal records every intent; copy it before exec may consume the slot.
  if (slot != nullptr && ops_ != nullptr) to_ops(*slot);
  intents_.publish();
}

template <class T>
void SignalStage::to_ops(const T& body) noexcept {
  if (ops_ == nullptr || producer_ == nullptr) return;
  scratch_.wall_ns = now().wall_ns;
  scratch_.body = body;
  if (!ops_->try_push(*producer_, scratch_)) ++stats_.ops_dropped;
}

void SignalStage::on_position(const PositionChange& change) noexcept { to_ops(change); }
void SignalStage::on_refusal(const RiskRefusal& refusal) noexcept { to_ops(refusal); }

}  // namespace xarb::signal
