// Upbit REST as an adapter (docs/venues.md): JWT-signed requests, orders looked up by their
// identifier, the KRW tick table (or /v1/orderbook/instruments when it answers), limits per
// group and per second from Remaining-Req.

#include <xarb/core/clock.hpp>
#include <xarb/exec/venues/upbit_api.hpp>
#include <xarb/exec/venues/venue_rules.hpp>
#include <xarb/venues/registry.hpp>

#include "upbit_venue.hpp"

namespace xarb::exec::adapters {
namespace {

constexpr std::int64_t kSecondNs = 1'000'000'000;

class Upbit final : public UpbitProtocolVenue {
 public:
  Upbit(const RestVenueOptions& o, const net::Url& endpoint)
      : UpbitProtocolVenue(venues::kUpbit, UpbitDialect::upbit, o, endpoint) {}

  bool probe(HttpRequestText& out) noexcept override {
    return !probe_market_.empty() && api_.instruments(probe_market_, out);
  }
  std::string_view private_stream_path() const noexcept override { return "/websocket/v1/private"; }

  // The table's rules, then the instruments endpoint's ticks over them when it answers: it is
  // newer than the table, which stays the fallback (docs/venues.md).
  bool start(const SymbolMap& symbols, RulesTable& rules, HttpRequestText& scratch,
             const Roundtrip& roundtrip, std::string& error) override {
    load_upbit_default_rules(symbols, rules);
    pick_probe_market(symbols);
    std::string markets;
    for (const Instrument& i : symbols) {
      if (!i.listed_on(venues::kUpbit)) continue;
      if (!markets.empty()) markets += ",";
      markets += i.symbol(venues::kUpbit);
    }
    std::string body;
    int status = 0;
    if (!markets.empty() && api_.instruments(markets, scratch) && roundtrip(status, body, error) &&
        status / 100 == 2) {
      std::string parse_error;
      (void)load_upbit_instruments(body, symbols, rules, parse_error);
    }
    error.clear();
    return true;
  }

  void on_header(std::string_view name, std::string_view value,
                 RateLimitState& rate) noexcept override {
    upbit_header(name, value, rate);
    if (rate.remaining_group.view() == "order") {
      order_remaining_sec_ = rate.remaining_sec;
      rate_seen_ns_ = clock::mono_ns();
    }
  }
  // Remaining-Req of the "order" group counts this second: once it has passed with no newer
  // header, the whole budget is back.
  void order_budget(std::int64_t now_ns, const RateLimitState& rate,
                    RateBudget& out) const noexcept override {
    (void)rate;
    const bool current =
        rate_seen_ns_ != 0 && now_ns - rate_seen_ns_ < kSecondNs && order_remaining_sec_ >= 0;
    // The venue's count when it is this second's, and never more than this process has left.
    // The "order" group: 8 a second (docs/venues.md).
    const std::int64_t limit =
        options_.order_limit > 0 ? options_.order_limit : kUpbitOrders.orders;
    out.orders_per_window = limit;
    const std::int64_t unsent = unsent_this_second(now_ns, limit);
    out.orders_available = current ? std::min(order_remaining_sec_, unsent) : unsent;
  }

 private:
  std::int64_t order_remaining_sec_ = -1;
  std::int64_t rate_seen_ns_ = 0;
};

}  // namespace

std::unique_ptr<RestAdapter> make_upbit(const RestVenueOptions& options, const net::Url& endpoint) {
  return std::make_unique<Upbit>(options, endpoint);
}

// Its error names, per side where it has one (docs/venues.md).
void upbit_paper_refusal(PaperRefusal why, Side side, VenueError& out) noexcept {
  const bool buy = side == Side::buy;
  std::string_view name;
  switch (why) {
    case PaperRefusal::lot_size:
      name = buy ? "invalid_price_bid" : "invalid_price_ask";
      break;
    case PaperRefusal::notional:
      name = buy ? "under_min_total_bid" : "under_min_total_ask";
      break;
    case PaperRefusal::insufficient_balance:
      name = buy ? "insufficient_funds_bid" : "insufficient_funds_ask";
      break;
    case PaperRefusal::duplicate:
      name = "duplicate_identifier";
      break;
    case PaperRefusal::rate_limited:
      name = "too_many_requests";
      break;
    case PaperRefusal::unknown_order:
    case PaperRefusal::unknown_cancel:
      name = "order_not_found";
      break;
  }
  out.name.assign(name);
  out.message.assign(name);
}

VenueErrorKind upbit_error_kind(const VenueError& e) noexcept {
  const std::string_view n = e.name.view();
  if (n.starts_with("insufficient_funds")) return VenueErrorKind::insufficient_balance;
  if (n.starts_with("under_min_total") || n.starts_with("invalid_price") ||
      n.starts_with("invalid_volume") || n == "validation_error" || n.starts_with("over_max")) {
    return VenueErrorKind::filter_failure;
  }
  if (n == "jwt_verification" || n == "invalid_access_key" || n == "expired_access_key" ||
      n == "invalid_query_payload" || n == "nonce_used" || n == "no_authorization_ip") {
    return VenueErrorKind::auth;
  }
  if (n == "order_not_found") return VenueErrorKind::unknown_order;
  if (n == "duplicate_identifier" || contains(n, "identifier")) return VenueErrorKind::duplicate;
  if (n == "too_many_requests") return VenueErrorKind::rate_limited;
  return VenueErrorKind::other;
}

}  // namespace xarb::exec::adapters
