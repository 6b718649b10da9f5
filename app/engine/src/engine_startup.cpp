#include "engine_internal.hpp"

namespace xarb::app::engine_detail {

void set_paper_balances(const Config& config, Venue v, const SymbolMap& symbols,
                        exec::PaperVenue& venue) {
  const auto balance = [&](std::string_view asset, Decimal otherwise) {
    return find_amount(config.inventory.paper_balance, v, asset).value_or(otherwise);
  };
  for (const SymbolConfig& s : config.symbols) {
    const InstrumentId i = symbols.find_base(s.base);
    venue.set_base(i, balance(s.base, Decimal::from_mantissa(s.max_position_qty.mantissa() * 10)));
  }
  const bool krw = venues::quote_asset(v) == "KRW";
  venue.set_quote(balance(venues::quote_asset(v), Decimal::from_mantissa(
                                                      (krw ? 1'000'000'000 : 1'000'000) * Decimal::kOne)));
}

bool Engine::start_venues(std::string& error) {
  for (const Venue v : venues_) {
    exec::RestVenueOptions o = rest_options(cfg_, v);
    if (recording_) {  // start-up is single-threaded: the ops thread writes the rest later
      o.on_startup_answer = [this, v](std::string_view target, std::string_view body) {
        recording_->http(v, target, clock::wall_ns(), body);
      };
    }
    if (live_) {
      if (!o.credentials.present() && !load_credentials(cfg_, v, o.credentials, error)) {
        return false;
      }
    } else {
      o.credentials = {};  // paper: public endpoints only (trading rules)
    }
    // A venue that answers 5xx or not at all during start-up gets a few more tries (exchanges
    // have bad seconds); a refusal (bad key, unknown symbol) fails at once.
    std::string why;
    bool started = false;
    for (int attempt = 1; attempt <= 5 && !started; ++attempt) {
      rest_[index(v)] = std::make_unique<exec::RestVenue>(symbols_, o);
      why.clear();
      started = rest_[index(v)]->start(why);
      // 5xx, or no answer at all (the transport's "... failed", a timeout).
      const bool transient = why.find("HTTP 5") != std::string::npos ||
                             why.find(" failed") != std::string::npos ||
                             why.find("timed out") != std::string::npos;
      if (!started && (!transient || attempt == 5)) break;
      if (!started) {
        out_ << "start-up: " << to_string(v) << ": " << why << "; trying again\n";
        std::this_thread::sleep_for(std::chrono::milliseconds(250 * attempt));
      }
    }
    if (!started) {
      error = "start-up: " + std::string(to_string(v)) + ": " + why;
      return false;
    }
    out_ << "start-up: " << to_string(v) << " reachable, trading rules loaded";
    if (const auto offset = rest_[index(v)]->time_offset_ms()) {
      out_ << ", server time offset " << *offset << " ms";  // a venue that signs with its time
    }
    out_ << (live_ ? ", balances read" : "") << '\n';
  }
  std::array<exec::VenueClient*, kMaxVenues> clients{};
  if (live_) {
    for (const Venue v : venues_) clients[index(v)] = rest_[index(v)].get();
  } else {
    for (const Venue v : venues_) {
      exec::PaperParams p;
      p.fee_bps = cfg_.venue(v).taker_fee_bps;
      p.seed = run_id_ + index(v);
      auto venue = std::make_unique<exec::PaperVenue>(v, rest_[index(v)]->rules_table(), p);
      set_paper_balances(cfg_, v, symbols_, *venue);
      clients[index(v)] = venue.get();
      paper_[index(v)] = std::move(venue);
    }
  }
  exec::ExecParams xp;
  xp.run_id = run_id_;
  xp.hedge_reserve_ratio = cfg_.risk.hedge_reserve_ratio;
  executor_ = std::make_unique<exec::TwoLegExecutor>(clients, xp);
  return true;
}

// Positions the journal holds open from earlier runs come back before trading: intents whose
// outcome was never journaled are resolved by querying their client order ids (live), fills are
// folded in once (the journal's keys make a second insert a no-op), and what still does not add
// up is BROKEN, which blocks entries until an operator looks.
bool Engine::restore(std::string& error) {
  signal::StrategyParams params = strategy_params(cfg_, symbols_);
  params.first_position_id = journal_->max_position_id() + 1;
  params.risk.kill_switch = true;  // no entries until the start-up checks pass
  strategy_ = std::make_unique<signal::Strategy>(symbols_, params);

  const std::vector<UnresolvedIntent> unresolved = journal_->unresolved_intents(mode_name());
  const std::vector<std::uint64_t> unsearched =
      live_ ? journal_->unsearched_runs(run_id_, "live") : std::vector<std::uint64_t>{};
  wait_out_late_orders(unresolved, unsearched);
  const signal::Now now{clock::mono_ns(), clock::wall_ns()};
  const std::vector<std::uint64_t> unreconciled = resolve_intents(unresolved, unsearched, now);
  if (!restore_positions(unreconciled, now, error)) return false;
  if (live_) check_balances();
  seed_inventory();
  build_stages();
  return true;
}

// An order sent just before the previous run died may still be accepted by its venue (a
// request in flight, a late acceptance): "not found" means "not sent" only once the venues can
// no longer take it, so the orders are read after their grace period has run out. (A run that
// ended cleanly settled its orders, unless some stayed unknown.)
// Every earlier run that died without ending and was never searched counts, not just the last
// one: a run killed while it waited here searched nothing.
void Engine::wait_out_late_orders(const std::vector<UnresolvedIntent>& unresolved,
                                  const std::vector<std::uint64_t>& unsearched) {
  if (const std::uint64_t previous = live_ ? journal_->last_run_id(run_id_, "live") : 0;
      previous != 0 && (!unsearched.empty() || !unresolved.empty())) {
    std::int64_t grace = 0;
    for (const Venue v : venues_) {
      grace = std::max(grace, rest_[index(v)]->not_found_grace_ns());
    }
    std::int64_t last = journal_->last_activity_ns(previous);
    for (const std::uint64_t run : unsearched) {
      last = std::max(last, journal_->last_activity_ns(run));
    }
    const std::int64_t wait = last + grace - clock::wall_ns();
    if (last > 0 && wait > 0) {
      out_ << "restore: the previous run was active " << (clock::wall_ns() - last) / 1'000'000
           << " ms ago: waiting " << wait / 1'000'000
           << " ms before reading its orders (a venue may still accept one)\n";
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
  }
}

// The venues' word on each intent the journal left without an outcome: every order of it read
// back, its fills replacing the journal's. Returns the positions of the intents that could not be
// read (held BROKEN). Then the unjournaled window of each unsearched run is searched.
std::vector<std::uint64_t> Engine::resolve_intents(const std::vector<UnresolvedIntent>& unresolved,
                                                   const std::vector<std::uint64_t>& unsearched,
                                                   const signal::Now& now) {
  std::vector<std::uint64_t> unreconciled;
  for (const UnresolvedIntent& u : unresolved) {
    const InstrumentId instrument = symbols_.find_base(u.symbol);
    bool resolved = live_ && instrument != kNoInstrument;
    std::vector<JournalFill> found;
    for (const Venue v : venues_) {
      if (!resolved || !u.qty[index(v)].is_positive()) continue;
      VenueOrders orders;
      orders.first_side = u.sides[index(v)];
      resolved = read_orders(u.run_id, u.intent_id, v, instrument, orders);
      for (JournalFill& f :
           orders.fills(u.run_id, u.intent_id, u.position_id, v, u.symbol, now.wall_ns)) {
        found.push_back(std::move(f));
      }
    }
    if (resolved) {
      // Every order of the intent was read: the venues' word replaces what the journal had.
      journal_->resolve_intent(u.run_id, u.intent_id, found);
      for (const JournalFill& f : found) {
        out_ << "reconcile: intent " << u.intent_id << " of run " << u.run_id << ": "
             << to_string(f.venue) << ' ' << to_string(f.side) << ' ' << to_string(f.qty) << ' '
             << u.symbol << " at " << to_string(f.price) << " found on the venue\n";
      }
    }
    if (!resolved) unreconciled.push_back(u.position_id);
  }
  journal_->commit();
  for (const std::uint64_t run : unsearched) probe_unjournaled(run, now.wall_ns);
  return unreconciled;
}

// The journal's open positions back into the strategy: those of symbols or pairs the config no
// longer trades stay in the journal with entries blocked; flat ones close; those with an order
// unread are held BROKEN.
bool Engine::restore_positions(const std::vector<std::uint64_t>& unreconciled,
                               const signal::Now& now, std::string& error) {
  for (JournalPosition& jp : journal_->open_positions(symbols_, mode_name())) {
    signal::Position& p = jp.position;
    const bool unknown =
        std::find(unreconciled.begin(), unreconciled.end(), p.id) != unreconciled.end();
    if (p.instrument == kNoInstrument) {
      err_ << "restore: position " << p.id << " trades " << jp.symbol
           << ", which the config no longer lists: left in the journal, entries blocked\n";
      reduce_at_start("position " + std::to_string(p.id) + " trades " + jp.symbol +
                      ", which the config does not list (restart with a config that trades it)");
      continue;
    }
    if (strategy_->pair_index(p.pair) == strategy_->pairs().size()) {
      err_ << "restore: position " << p.id << " trades " << to_string(p.pair.first) << " against "
           << to_string(p.pair.second)
           << ", a pair this engine does not trade: left in the journal, entries blocked\n";
      reduce_at_start("position " + std::to_string(p.id) +
                      " trades a pair this config does "
                      "not (restart with a config that trades it)");
      continue;
    }
    if (p.flat() && !unknown) {
      // Nothing is held: it never traded (or was unwound); close it in the journal.
      PositionChange c = p.change(PositionState::closed);
      c.fx_rate = p.entry_fx;
      journal_->record(OpsEvent{now.wall_ns, c});
      continue;
    }
    if (unknown) {
      // Held as it is, neither leg closed on its own, until a venue settles the order.
      p.state = PositionState::broken;
      p.unknown_orders = 1;
      journal_->mark_broken(p.id, now.wall_ns,
                            live_ ? "an order's outcome could not be read back from the venue"
                                  : "an intent's outcome was lost with the paper venue");
    }
    const signal::Position* held = strategy_->restore(p, jp.opened_wall_ns, now);
    if (held == nullptr) {
      error = "restore: position " + std::to_string(p.id) + " cannot be held";
      return false;
    }
    if (held->state == PositionState::broken && !unknown) {
      journal_->mark_broken(p.id, now.wall_ns, "legs not hedged after restart");
    }
    ++restored_;
    out_ << "restore: position " << p.id << ' ' << jp.symbol << ' ' << to_string(p.direction)
         << " qty " << to_string(p.qty()) << ' ' << to_string(held->state) << '\n';
  }
  journal_->commit();
  if (restored_ == 0) out_ << "restore: no open positions in the journal\n";
  return true;
}

// Live: each venue's balances (bases, quote, BNB) must be what the previous run started with
// plus its journaled fills. A difference is a fill the journal never saw (the process died
// between sending an order and journaling its intent): entries stay blocked until an operator
// looks. (What the quote ledger's rounding leaves is not a difference: the held balance becomes
// the next baseline.)
void Engine::check_balances() {
  const std::uint64_t previous = journal_->last_run_id(run_id_, "live");
  for (const Venue v : venues_) {
    for (const std::string& asset : ledger_assets(symbols_, v)) {
      const InstrumentId id = symbols_.find_base(asset);
      const Decimal now_held =
          id != kNoInstrument ? rest_[index(v)]->free_base(id) : rest_[index(v)]->read_free(asset);
      BalanceReport b;
      b.held = now_held;
      Decimal& expected = b.expected;
      Decimal baseline = now_held;
      if (previous != 0 && journal_->expected_balance(previous, v, asset, expected, &b.tolerance) &&
          b.differs()) {
        if (opt_.accept_balances) {
          journal_->record_acceptance(run_id_, v, asset, expected, now_held, clock::wall_ns());
          out_ << "reconcile: " << to_string(v) << ' ' << asset << " holds " << to_string(now_held)
               << ", the journal expected " << to_string(expected)
               << ": accepted (--accept-balances), journaled\n";
        } else {
          err_ << "reconcile: " << to_string(v) << ' ' << asset << " holds " << to_string(now_held)
               << ", the journal explains " << to_string(expected)
               << ": entries blocked (REDUCING) at this start and every later one until "
                  "accepted with --accept-balances\n";
          strategy_->risk().set_reducing(true);
          startup_differences_.push_back(std::string(to_string(v)) + ' ' + asset + " held " +
                                         to_string(now_held) + " at start, the ledger explains " +
                                         to_string(expected));
          // The baseline stays what the journal explains, so the next start sees the same
          // difference until it is accepted.
          baseline = expected;
        }
      }
      journal_->record_balance(run_id_, v, asset, baseline);
    }
  }
  journal_->commit();
}

// The strategy's inventory starts from what the venues hold.
void Engine::seed_inventory() {
  for (const Venue v : venues_) {
    exec::VenueClient* c = live_ ? static_cast<exec::VenueClient*>(rest_[index(v)].get())
                                 : static_cast<exec::VenueClient*>(paper_[index(v)].get());
    for (const Instrument& s : symbols_) {
      if (!s.is_fx) strategy_->inventory().set_base(v, s.id, c->free_base(s.id));
    }
    strategy_->inventory().set_quote(v, c->free_quote());
  }
}

// The signal, exec and feed stages over the restored strategy.
void Engine::build_stages() {
  std::array<SpscRing<BookSnapshot>*, 1> rings = {&books_};
  signal_ = std::make_unique<signal::SignalStage>(*strategy_, rings, reports_, intents_, &ops_,
                                                  &signal_producer_);
  signal_->set_latencies(&latencies_);
  exec_ = std::make_unique<exec::ExecStage>(*executor_, intents_, reports_, &ops_, &exec_producer_);
  exec_->set_latencies(&latencies_);
  feed_ = std::make_unique<feed::FeedStage>(feed_options(cfg_), symbols_, books_, tap_.get());
}

// Every order the executor may have sent for an intent on one venue: the first, retries, unwinds;
// client ids numbered 0, 1, ... Sums what filled on the first order's side ([0]) and the other
// ([1]). Every attempt is asked for: one that never reached the venue (its request lost) does
// not mean the next one was not sent. An order of another symbol under the same id (Upbit finds
// orders by identifier alone) is not this symbol's. False when the venue could not answer.
bool Engine::read_orders(std::uint64_t run_id, std::uint64_t intent_id, Venue v, InstrumentId i,
                         VenueOrders& out, int attempts) {
  for (int attempt = 0; attempt < attempts; ++attempt) {
    const ClientOrderId id = exec::TwoLegExecutor::client_id(run_id, intent_id, v, attempt);
    exec::OrderStatus st;
    std::string why;
    bool answered = false;
    // Start-up is not in a hurry: a venue that says "too many requests" is waited for (its
    // Retry-After, or its window) and asked again, up to half a minute.
    for (int wait = 0; wait < 60; ++wait) {
      answered = rest_[index(v)]->get_blocking(i, id, st, why);
      if (answered || st.error.kind != VenueErrorKind::rate_limited) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    if (!answered) {
      if (st.error.kind == VenueErrorKind::unknown_order ||
          st.error.kind == VenueErrorKind::mismatch) {
        continue;  // not sent, or not this symbol's
      }
      err_ << "reconcile: " << to_string(v) << " order " << id.view() << ": " << why << '\n';
      return false;
    }
    out.any = true;
    if (!out.first_side && st.side) out.first_side = st.side;
    const std::size_t k = st.side && out.first_side && *st.side != *out.first_side ? 1 : 0;
    out.qty[k] += st.filled_qty.mantissa();
    out.notional[k] += st.filled_notional_e16;
    // Overflow: a fee past 92 billion is not one.
    (void)add(out.fee[k], st.fee_quote, out.fee[k]);
    (void)add(out.fee_base[k], st.fee_base, out.fee_base[k]);
    (void)add(out.fee_bnb[k], st.fee_other, out.fee_bnb[k]);
  }
  return true;
}

// The window a journal cannot close without blocking the hot path: an intent sent to the venues
// just before the process died, whose journal entry never committed. Intent ids are sequential,
// so the orders of the ids after the last journaled one are looked up on the venues; what they
// filled becomes a BROKEN position (entries blocked) that the strategy then closes. `run` is
// marked searched once every venue answered, so a later start searches it again otherwise.
void Engine::reduce_at_start(std::string why) {
  strategy_->risk().set_reducing(true);
  if (std::find(startup_causes_.begin(), startup_causes_.end(), why) == startup_causes_.end()) {
    startup_causes_.push_back(std::move(why));
  }
}

void Engine::probe_unjournaled(std::uint64_t run, std::int64_t wall_ns) {
  bool answered = true;
  // An intent id without orders does not end the search: exec may have refused that intent (or
  // the strategy's next one) and sent a later one before the process died. The search ends after
  // kGap ids in a row without orders.
  constexpr int kGap = 3;
  int empty = 0;
  for (std::uint64_t intent = journal_->max_intent_id(run) + 1; empty < kGap; ++intent) {
    bool found = false;
    for (const Instrument& s : symbols_) {
      if (s.is_fx) continue;
      // An intent's first orders first: a later attempt follows one that was answered (or
      // given up on after the venue's grace period), seconds during which a live process would
      // have journaled the intent.
      std::array<VenueOrders, kMaxVenues> first{};
      for (const Venue v : venues_) {
        if (!read_orders(run, intent, v, s.id, first[index(v)], 1)) {
          reduce_at_start(std::string(to_string(v)) +
                          " did not answer the search for orders of run " + std::to_string(run) +
                          " never journaled (restart to search again)");
          answered = false;
        }
      }
      if (std::none_of(first.begin(), first.end(), [](const VenueOrders& o) { return o.any; })) {
        continue;
      }
      std::array<VenueOrders, kMaxVenues> orders{};
      for (const Venue v : venues_) {
        if (!read_orders(run, intent, v, s.id, orders[index(v)])) {
          reduce_at_start(std::string(to_string(v)) +
                          " did not answer the search for orders of run " + std::to_string(run) +
                          " never journaled (restart to search again)");
          answered = false;
        }
      }
      found = true;
      const std::uint64_t position = journal_->max_position_id() + 1;
      // The intent's pair: the traded pair whose venues both have its orders, else one that
      // has them on a venue. Selling on its first venue or buying on its second opens the
      // kimchi direction.
      VenuePair pair;
      for (const bool both : {true, false}) {
        for (const signal::PairParams& pp : strategy_->pairs()) {
          const bool a = orders[index(pp.pair.first)].any, b = orders[index(pp.pair.second)].any;
          if (!pair.valid() && (both ? a && b : a || b)) pair = pp.pair;
        }
      }
      if (!pair.valid()) pair = strategy_->pairs()[0].pair;  // every venue is in a pair
      const std::optional<Side>& opening = orders[index(pair.first)].first_side;
      const bool kimchi =
          opening ? *opening == Side::sell
                  : orders[index(pair.second)].first_side.value_or(Side::buy) == Side::buy;
      const std::string symbol(s.base.view());
      journal_->record_recovered_position(position, run, symbol, pair,
                                          kimchi ? Direction::kimchi : Direction::reverse, wall_ns,
                                          "orders of intent " + std::to_string(intent) +
                                              " were never journaled; recovered from the venues");
      for (const Venue v : venues_) {
        for (const JournalFill& f :
             orders[index(v)].fills(run, intent, position, v, symbol, wall_ns)) {
          journal_->record_fill(f);
          err_ << "reconcile: intent " << intent << " of run " << run
               << " was never journaled: " << to_string(v) << ' ' << to_string(f.side) << ' '
               << to_string(f.qty) << ' ' << symbol << " at " << to_string(f.price)
               << " found on the venue; position " << position << " BROKEN\n";
        }
      }
      journal_->commit();
    }
    empty = found ? 0 : empty + 1;
  }
  if (answered) {
    journal_->mark_searched(run, wall_ns);
    journal_->commit();
  }
}

}  // namespace xarb::app::engine_detail
