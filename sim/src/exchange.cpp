#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>

#include <simdjson.h>

#include <xarb/core/clock.hpp>
#include <xarb/exec/signing.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/sim/exchange.hpp>
#include <xarb/venues/registry.hpp>

#include "text.hpp"
#include "venues/registry.hpp"
#include "venues/rest_front.hpp"

namespace xarb::sim {
using namespace text;  // NOLINT(google-build-using-namespace)

Exchange::Exchange(SyntheticMarket& market, std::vector<AccountSpec> accounts,
                   const SimVenues& venues, LimitParams limits, FaultParams faults,
                   std::uint64_t seed)
    : market_(market),
      accounts_(std::move(accounts)),
      venues_(venues),
      limits_(limits),
      faults_(faults),
      rng_(seed ^ 0x5EED5EEDULL) {
  for (const Venue v : venues::kAll) rest_[index(v)] = make_rest_front(v, *this);
}

Exchange::~Exchange() = default;

std::pair<std::int64_t, std::string> Exchange::commission(const SimOrder& o, const Trade& t) const {
  if (t.fee_bnb > 0) return {t.fee_bnb, std::string(venues::fee_asset(o.venue))};
  if (t.fee_base > 0) return {t.fee_base, base_of(o.symbol)};
  return {t.fee, std::string(venues::quote_asset(o.venue))};
}

std::string Exchange::stream_account(Venue v, const HttpRequest& upgrade) {
  return valid(v) && rest_[index(v)] ? rest_[index(v)]->stream_account(upgrade) : std::string();
}

std::int64_t Exchange::now_ms() const { return clock::wall_ms() + faults_.clock_skew_ms; }

std::vector<PrivateEvent> Exchange::take_private() {
  std::vector<PrivateEvent> due, later;
  const std::int64_t now = now_ms();
  for (PrivateEvent& e : private_) (e.time_ms > now ? later : due).push_back(std::move(e));
  private_ = std::move(later);
  return due;
}

int Exchange::find_symbol(Venue v, const std::string& name) const {
  const auto& specs = market_.specs();
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (market_.market_name(v, i) == name && !name.empty()) {
      return static_cast<int>(i);
    }
  }
  const SimVenue* row = find_venue(v);
  if (row != nullptr && !row->fx_market.empty() && name == row->fx_market) {
    return static_cast<int>(specs.size());
  }
  return -1;
}

// A USDT market's rules are the symbol's (a tick, a step, 10 USDT at least); a KRW market's are
// its venue's price-unit table and minimum total, its FX market's the FX table.
exec::InstrumentRules Exchange::rules(Venue v, std::size_t symbol) const {
  exec::InstrumentRules r;
  r.loaded = true;
  const SimVenue* row = find_venue(v);
  if (row == nullptr || row->krw_ticks == nullptr) {
    const SymbolSpec& s = market_.specs()[symbol];
    r.tick = s.tick;
    r.step = s.step;
    r.min_qty = s.step;
    r.max_qty = Decimal::from_mantissa(9'000 * kOne);
    r.min_price = s.tick;
    r.max_price = Decimal::from_mantissa(1'000'000 * kOne);
    r.min_notional = Decimal::from_mantissa(10 * kOne);
  } else {
    r.step = Decimal::from_mantissa(1);
    r.min_notional = Decimal::from_mantissa(row->min_order_krw * kOne);
    r.krw_table = symbol == market_.specs().size() && row->fx_ticks != nullptr ? row->fx_ticks
                                                                               : row->krw_ticks;
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Limits

bool Exchange::admit(Venue v, const std::string& key, int weight, bool order, HttpResult& error) {
  const SimVenue& row = *find_venue(v);
  const SimVenueParams& p = venues_[index(v)];
  Limiter& l = limiters_[std::string(to_string(v)) + ":" + key];
  const std::int64_t now = clock::wall_ms();
  if (now < l.blocked_until_ms) {
    // Still sending after a 429: a venue that bans does (Binance: 418); the others keep
    // answering 429.
    ++stats_.banned;
    const bool ban = row.bans && (l.banned || ++l.while_blocked >= limits_.ban_after_requests);
    if (ban && !l.banned) {
      l.banned = true;
      l.blocked_until_ms = now + limits_.ban_s * 1000;
    }
    const std::int64_t wait = (l.blocked_until_ms - now + 999) / 1000;
    error = row.refuse(ban ? Refusal::banned : Refusal::too_many, l.blocked_until_ms);
    if (!faults_.omit_retry_after) error.headers.emplace_back("Retry-After", std::to_string(wait));
    return false;
  }
  l.banned = false;
  l.while_blocked = 0;
  const auto prune = [now](std::vector<std::int64_t>& times, std::int64_t window) {
    times.erase(std::remove_if(times.begin(), times.end(),
                               [&](std::int64_t t) { return t <= now - window; }),
                times.end());
  };
  prune(l.weight_times, row.requests.window_ms);
  prune(l.order_times, row.orders.window_ms);
  const auto over_by = [](const std::vector<std::int64_t>& times, std::int64_t add,
                          std::int64_t limit) {
    return static_cast<std::int64_t>(times.size()) + add > limit;
  };
  const bool counts_request = row.weighted || !order;
  const bool over = (counts_request && over_by(l.weight_times, row.weighted ? weight : 1,
                                               p.request_limit)) ||
                    (order && over_by(l.order_times, 1, p.order_limit));
  if (over) {
    ++stats_.rate_limited;
    l.blocked_until_ms = now + limits_.retry_after_s * 1000;
    error = row.refuse(Refusal::too_many, 0);
    if (!faults_.omit_retry_after) {
      error.headers.emplace_back("Retry-After", std::to_string(limits_.retry_after_s));
    }
    return false;
  }
  if (counts_request) {
    l.weight_times.insert(l.weight_times.end(), static_cast<std::size_t>(row.weighted ? weight : 1),
                          now);
  }
  if (order) l.order_times.push_back(now);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Matching

namespace {

// Whether the levels within the order's limit hold all it asks (its quantity, or its quote
// amount for a buy by amount).
bool fok_fills(const SimOrder& o, const BookSide& side,
               const std::function<bool(std::int64_t)>& within) {
  std::int64_t avail = 0;
  Int128 cost = 0;
  const auto count = [&](std::int64_t p, std::int64_t q) {
    if (!within(p)) return false;
    avail += q;
    cost += static_cast<Int128>(p) * q;
    return true;
  };
  if (o.buy) {
    for (auto it = side.begin(); it != side.end() && count(it->first, it->second);) ++it;
  } else {
    for (auto it = side.rbegin(); it != side.rend() && count(it->first, it->second);) ++it;
  }
  const bool by_quote = o.qty == 0 && o.quote_qty > 0;
  return by_quote ? cost >= static_cast<Int128>(o.quote_qty) * kOne : avail >= o.qty;
}

}  // namespace

// One trade of `take` at `price` and its commission, in the asset the venue charges it in
// (docs/venues.md): the KRW venues in KRW; a venue with a fee asset (Binance: BNB) in it at a
// quarter off when the account pays fees in it and holds enough, else in what the trade brought
// in (the base on a buy, the quote on a sell). Fees in whole 1e-8 units, rounded up, in integers: no floating-point residue in
// balances.
Trade Exchange::charged(const SimOrder& o, const AccountSpec& account, std::int64_t price,
                        std::int64_t take) const {
  const auto fee_centi_bps = static_cast<Int128>(std::llround(venues_[index(o.venue)].fee_bps * 100.0));
  const Int128 fee_denominator = static_cast<Int128>(1'000'000) * kOne;
  const Int128 notional = static_cast<Int128>(price) * take;
  Trade t{price, take, 0, 0, 0, next_trade_id_};
  const Int128 fee_e16 = notional * fee_centi_bps / 1'000'000;  // quote, 1e-16 units
  const auto bnb_fee = static_cast<std::int64_t>((fee_e16 * 3 / 4 + bnb_usdt_ - 1) / bnb_usdt_);
  const std::string_view fee_asset = venues::fee_asset(o.venue);
  const auto bnb_held = account.balances.find(std::string(fee_asset));
  if (!fee_asset.empty() && account.bnb_fees && bnb_held != account.balances.end() &&
      bnb_held->second - o.fee_bnb >= bnb_fee) {
    t.fee_bnb = bnb_fee;
  } else if (find_venue(o.venue)->buy_fee_in_base && o.buy) {
    t.fee_base = static_cast<std::int64_t>(
        (static_cast<Int128>(take) * fee_centi_bps + 1'000'000 - 1) / 1'000'000);
  } else {
    t.fee = static_cast<std::int64_t>((notional * fee_centi_bps + fee_denominator - 1) /
                                      fee_denominator);
  }
  return t;
}

void Exchange::match(SimOrder& o, AccountSpec& account, Touched& touched) {
  const bool fx = o.symbol == market_.specs().size();
  SimBook& book = fx ? market_.fx_book() : market_.book(o.venue, o.symbol);
  const std::string base = fx ? "USDT" : market_.specs()[o.symbol].base;
  const std::string quote(venues::quote_asset(o.venue));
  const bool market_order = o.type == "MARKET" || o.type == "market" || o.type == "price" ||
                            o.type == "best";
  // What the levels can give within the limit.
  BookSide& side = o.buy ? book.asks : book.bids;
  const auto within = [&](std::int64_t p) {
    return market_order || (o.buy ? p <= o.price : p >= o.price);
  };
  std::int64_t want = o.qty;
  Int128 quote_left = static_cast<Int128>(o.quote_qty) * kOne;  // Upbit "price" buys by KRW
  const bool by_quote = o.qty == 0 && o.quote_qty > 0;
  // FOK: all or nothing, decided before touching the book.
  if ((o.tif == "FOK" || o.tif == "fok") && !fok_fills(o, side, within)) {
    o.status = "EXPIRED";
    return;
  }
  // A faulted order fills only part of what it could.
  if (!by_quote && faults_.partial_share > 0.0 && roll() < faults_.partial_share) {
    want = std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(want) * (0.2 + 0.6 * roll())));
    const exec::InstrumentRules r = rules(o.venue, o.symbol);
    if (r.step.mantissa() > 1) want = std::max(r.step.mantissa(), want / r.step.mantissa() * r.step.mantissa());
    ++stats_.faults;
  }
  std::int64_t filled = 0;
  while ((by_quote ? quote_left > 0 : filled < want) && !side.empty()) {
    auto it = o.buy ? side.begin() : std::prev(side.end());
    if (!within(it->first)) break;
    std::int64_t take = by_quote ? static_cast<std::int64_t>(std::min<Int128>(
                                       it->second, quote_left / it->first))
                                 : std::min(it->second, want - filled);
    if (take <= 0) break;
    const Int128 notional = static_cast<Int128>(it->first) * take;
    const Trade t = charged(o, account, it->first, take);
    o.trades.push_back(t);
    add_trade({o.venue, o.symbol, it->first, take, o.buy, now_ms(), 0});
    o.notional_e16 += notional;
    o.fee += t.fee;
    o.fee_base += t.fee_base;
    o.fee_bnb += t.fee_bnb;
    filled += take;
    quote_left -= notional;
    it->second -= take;
    if (it->second == 0) side.erase(it);
  }
  o.executed = filled;
  if (filled > 0) {
    ++book.update_id;
    touched.emplace_back(o.venue, o.symbol);
    const auto quote_m = static_cast<std::int64_t>(o.notional_e16 / kOne);
    std::int64_t& b = account.balances[base];
    std::int64_t& q = account.balances[quote];
    if (o.buy) {
      b += filled - o.fee_base;
      q -= quote_m + o.fee;
    } else {
      b -= filled;
      q += quote_m - o.fee;
    }
    if (o.fee_bnb > 0) account.balances[std::string(venues::fee_asset(o.venue))] -= o.fee_bnb;
  }
  const bool complete = by_quote ? quote_left < static_cast<Int128>(kOne) * kOne / 1000 : filled == o.qty;
  if (complete && filled > 0) {
    o.status = "FILLED";
  } else if (o.tif == "GTC" || (o.tif.empty() && o.type == "limit")) {
    // Rests (not matched again): good-till-cancel, or a plain "limit" with no time in force
    // (Upbit's protocol; Binance's LIMIT always carries one).
    o.status = filled > 0 ? "PARTIALLY_FILLED" : "NEW";
  } else {
    o.status = "EXPIRED";
  }
}

void Exchange::lose_answer(SimOrder& stored, HttpResult& res) {
  if (faults_.timeout_share > 0.0 && roll() < faults_.timeout_share) {
    ++stats_.faults;
    res.drop = true;  // executed, the answer never comes
  } else if (faults_.late_accept_share > 0.0 && roll() < faults_.late_accept_share) {
    ++stats_.faults;
    res.drop = true;
    stored.visible_from_ms = now_ms() + faults_.late_accept_ms;
  } else if (faults_.slow_answer_share > 0.0 && roll() < faults_.slow_answer_share) {
    ++stats_.faults;
    res.delay_ms += faults_.slow_answer_ms;
  }
}

// ---------------------------------------------------------------------------------------------
// Dispatch

HttpResult Exchange::handle(Venue v, const HttpRequest& r, Touched& touched) {
  ++stats_.requests;
  HttpResult result;
  const SimVenue* front = find_venue(v);
  if (front == nullptr || !rest_[index(v)]) {
    result = answer(404, R"({"error":"not found"})");
  } else if (faults_.error_5xx_share > 0.0 && roll() < faults_.error_5xx_share) {
    ++stats_.faults;
    result = front->refuse(Refusal::unavailable, 0);
  } else {
    result = rest_[index(v)]->handle(r, touched);
  }
  result.delay_ms += faults_.rest_delay_ms;
  return result;
}

}  // namespace xarb::sim
